/** QR codes (ISO/IEC 18004) for otpauth:// enrollment URIs: encoder, SVG and terminal renderers. @module */

import { OtpkitError, rangeError, typeError } from './errors.js';

/** QR error-correction level: recovers about 7% (L), 15% (M), 25% (Q) or 30% (H) of the symbol. */
export type QRErrorCorrection = 'L' | 'M' | 'Q' | 'H';

/** Options for {@link createQRCode}. */
export interface QRCodeOptions {
  /** Error-correction level. @defaultValue 'M' */
  readonly ecc?: QRErrorCorrection;
  /** Force a minimum version 1..40 (the smallest version that fits is used otherwise). @defaultValue 1 */
  readonly minVersion?: number;
}

/** An encoded QR symbol: a square matrix of modules, without the quiet zone. */
export interface QRCode {
  /** Version 1..40. */
  readonly version: number;
  /** Modules per side: `version * 4 + 17`. */
  readonly size: number;
  /** Error-correction level used. */
  readonly ecc: QRErrorCorrection;
  /** Row-major, `size * size`, 1 = dark. */
  readonly modules: Uint8Array;
}

/** Options for {@link renderQRCodeSVG}. */
export interface QRSvgOptions extends QRCodeOptions {
  /** Quiet zone in modules, 0..100. @defaultValue 4 */
  readonly margin?: number;
  /** Module size in px for the `width`/`height` attributes, 1..100. @defaultValue 4 */
  readonly scale?: number;
  /** Fill colour of dark modules (any SVG colour). @defaultValue '#000' */
  readonly dark?: string;
  /** Background colour (`'none'` for transparent). @defaultValue '#fff' */
  readonly light?: string;
}

/** Options for {@link renderQRCodeText}. */
export interface QRTextOptions extends QRCodeOptions {
  /** Quiet zone in modules, 0..100 (ISO/IEC 18004 asks for at least 4). @defaultValue 4 */
  readonly margin?: number;
  /**
   * Colour every line black on white with ANSI SGR escape codes (`ESC[30;47m` … `ESC[0m`), quiet
   * zone included, so the code scans whatever the terminal's own colours are. For writing to a
   * terminal; leave it off for files, logs and HTML. @defaultValue false
   */
  readonly ansi?: boolean;
  /**
   * Plain text only: draw the light modules and the quiet zone instead of the dark modules, for a
   * light-on-dark terminal that cannot show colours. Refused with `ansi: true`, whose colours are
   * explicit. @defaultValue false
   */
  readonly invert?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Tables (ISO/IEC 18004:2015 Table 9). Levels are numbered L=0, M=1, Q=2, H=3. Each table is
// 160 characters, one per (level, version) at index `level * 40 + version - 1`, holding the
// value + 32 as a character code (kept as strings for size; test/qr.test.ts checks every entry).

const LEVELS = 'LMQH';
/** Error-correction codewords per block. */
const ECC_PER_BLOCK =
  "'*/4:248>248:>68<><<<<>>:<>>>>>>>>>>>>>>*0:280266:>6688<<::::<<<<<<<<<<<<<<<<<<<-62:282648<:84>8<<:><>>>><>>>>>>>>>>>>>>1<606<::8<8<688><<:<>8>>>>>>>>>>>>>>>>>>";
/** Number of error-correction blocks. */
const BLOCKS =
  '!!!!!""""$$$$$&&&&\'(())*,,,-./0123345689!!!""$$$%%%())**+-.01124579:<=?ACEFHKMOQ!!""$$&&(((*,0,10254779;=BBCFHKMPSUX[^ad!!"$$$%&((++002035999B>@CEHJMPSVY\\_bfjmq';
const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

/** Codewords (data + error correction) in a symbol of version `v`. */
function rawCodewords(v: number): number {
  let bits = (16 * v + 128) * v + 64;
  if (v > 1) {
    const n = ((v / 7) | 0) + 2;
    bits -= (25 * n - 10) * n - 55 + (v > 6 ? 36 : 0);
  }
  return bits >> 3;
}

/** Centre coordinates of the alignment patterns (both axes). */
function alignmentPositions(v: number): number[] {
  if (v === 1) return [];
  const n = ((v / 7) | 0) + 2;
  const step = v === 32 ? 26 : Math.ceil((v * 4 + 4) / (n * 2 - 2)) * 2;
  const out = [6];
  for (let p = v * 4 + 10; out.length < n; p -= step) out.splice(1, 0, p);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reed–Solomon over GF(256), primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D).

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++) {
  EXP[i] = EXP[i + 255] = x;
  LOG[x] = i;
  x = (x << 1) ^ (x & 128 ? 0x11d : 0);
}

function mul(a: number, b: number): number {
  return a && b ? EXP[LOG[a]! + LOG[b]!]! : 0;
}

/** Generator polynomial of degree `d` (leading 1 omitted), highest power first. */
function generator(d: number): Uint8Array {
  const g = new Uint8Array(d);
  g[d - 1] = 1;
  for (let i = 0, root = 1; i < d; i++, root = mul(root, 2)) {
    for (let j = 0; j < d; j++) g[j] = mul(g[j]!, root) ^ (j + 1 < d ? g[j + 1]! : 0);
  }
  return g;
}

/** Error-correction codewords: remainder of `data * x^d` divided by the generator. */
function remainder(data: Uint8Array, g: Uint8Array): Uint8Array {
  const d = g.length;
  const r = new Uint8Array(d);
  for (const b of data) {
    const f = b ^ r[0]!;
    r.copyWithin(0, 1);
    r[d - 1] = 0;
    for (let i = 0; i < d; i++) r[i]! ^= mul(g[i]!, f);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Option validation.

function describe(v: unknown): string {
  return typeof v === 'string'
    ? JSON.stringify(v.length > 32 ? v.slice(0, 32) + '…' : v)
    : typeof v === 'number' || v === null
      ? String(v)
      : typeof v;
}

function readOptions(o: unknown, keys: readonly string[]): Record<string, unknown> {
  if (o === undefined) return {};
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw typeError('ERR_OPTION_TYPE', `options expected an object, got ${describe(o)}`);
  }
  for (const k of Object.keys(o)) {
    if (!keys.includes(k))
      throw rangeError(
        'ERR_OPTION_UNKNOWN',
        `unknown option ${describe(k)}, expected one of ${keys.join(', ')}`,
      );
  }
  return o as Record<string, unknown>;
}

function integer(
  o: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = o[name];
  if (v === undefined) return fallback;
  const msg = `"${name}" expected an integer ${min}..${max}, got ${describe(v)}`;
  if (typeof v !== 'number') throw typeError('ERR_OPTION_TYPE', msg);
  if (!Number.isInteger(v) || v < min || v > max) throw rangeError('ERR_OPTION_INVALID', msg);
  return v;
}

function colour(o: Record<string, unknown>, name: string, fallback: string): string {
  const v = o[name];
  if (v === undefined) return fallback;
  const msg = `"${name}" expected a colour without < > " ' &, got ${describe(v)}`;
  if (typeof v !== 'string') throw typeError('ERR_OPTION_TYPE', msg);
  if (!v || /[<>"'&]/.test(v)) throw rangeError('ERR_OPTION_INVALID', msg);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Encoder.

function maskBit(m: number, x: number, y: number): boolean {
  switch (m) {
    case 0:
      return (x + y) % 2 === 0;
    case 1:
      return y % 2 === 0;
    case 2:
      return x % 3 === 0;
    case 3:
      return (x + y) % 3 === 0;
    case 4:
      return (((x / 3) | 0) + ((y / 2) | 0)) % 2 === 0;
    case 5:
      return ((x * y) % 2) + ((x * y) % 3) === 0;
    case 6:
      return (((x * y) % 2) + ((x * y) % 3)) % 2 === 0;
    default:
      return (((x + y) % 2) + ((x * y) % 3)) % 2 === 0;
  }
}

/** ISO/IEC 18004 §7.8.3 penalty score (N1 = 3, N2 = 3, N3 = 40, N4 = 10). */
function penalty(m: Uint8Array, n: number): number {
  let score = 0;
  let dark = 0;
  for (let i = 0; i < n; i++) {
    for (let horizontal = 0; horizontal < 2; horizontal++) {
      // Runs of 5+ same-colour modules; 1:1:3:1:1 finder-like patterns with 4 light modules
      // on either side (outside the symbol counts as light).
      let run = 0;
      let prev = -1;
      let window = 0;
      for (let j = 0; j < n + 4; j++) {
        const c = j < n ? m[horizontal ? i * n + j : j * n + i]! : 0;
        if (j < n) {
          if (c === prev) run++;
          else {
            if (run >= 5) score += run - 2;
            run = 1;
            prev = c;
          }
        }
        window = ((window << 1) | c) & 0x7ff;
        if (window === 0x5d0 || window === 0x05d) score += 40;
      }
      if (run >= 5) score += run - 2;
    }
    for (let j = 0; j < n; j++) {
      const c = m[i * n + j]!;
      dark += c;
      if (
        i + 1 < n &&
        j + 1 < n &&
        c === m[i * n + j + 1] &&
        c === m[(i + 1) * n + j] &&
        c === m[(i + 1) * n + j + 1]
      )
        score += 3;
    }
  }
  return score + Math.floor(Math.abs(dark * 20 - n * n * 10) / (n * n)) * 10;
}

function encode(text: unknown, o: Record<string, unknown>): QRCode {
  if (typeof text !== 'string')
    throw typeError('ERR_OPTION_TYPE', `text expected a string, got ${describe(text)}`);
  const ecc = o['ecc'] ?? 'M';
  if (typeof ecc !== 'string')
    throw typeError(
      'ERR_OPTION_TYPE',
      `"ecc" expected 'L' | 'M' | 'Q' | 'H', got ${describe(ecc)}`,
    );
  const level = ecc.length === 1 ? LEVELS.indexOf(ecc) : -1;
  if (level < 0)
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"ecc" expected 'L' | 'M' | 'Q' | 'H', got ${describe(ecc)}`,
    );
  let version = integer(o, 'minVersion', 1, 1, 40);

  // Segment: alphanumeric mode when the whole text fits it, otherwise UTF-8 bytes (no ECI).
  const alnum = /^[0-9A-Z $%*+./:-]*$/.test(text);
  const bytes = alnum ? new Uint8Array(0) : new TextEncoder().encode(text);
  const count = alnum ? text.length : bytes.length;
  const payload = alnum ? 11 * (count >> 1) + 6 * (count & 1) : 8 * count;
  const countBits = (v: number): number =>
    alnum ? (v < 10 ? 9 : v < 27 ? 11 : 13) : v < 10 ? 8 : 16;
  const ecLen = (v: number): number => ECC_PER_BLOCK.charCodeAt(level * 40 + v - 1) - 32;
  const blocks = (v: number): number => BLOCKS.charCodeAt(level * 40 + v - 1) - 32;
  const capacity = (v: number): number => rawCodewords(v) - ecLen(v) * blocks(v);
  while (4 + countBits(version) + payload > capacity(version) * 8) {
    if (++version > 40) {
      throw new OtpkitError(
        'ERR_QR_TOO_LONG',
        `text of ${count} ${alnum ? 'characters' : 'bytes'} does not fit a version 40 QR code at error-correction level ${ecc}`,
      );
    }
  }

  // Bit stream: mode, count, payload, terminator, pad to bytes, pad codewords.
  const dataLen = capacity(version);
  const data = new Uint8Array(dataLen);
  let bitLen = 0;
  const put = (value: number, n: number): void => {
    for (let i = n - 1; i >= 0; i--, bitLen++)
      data[bitLen >> 3]! |= ((value >>> i) & 1) << (7 - (bitLen & 7));
  };
  put(alnum ? 2 : 4, 4);
  put(count, countBits(version));
  if (alnum) {
    for (let i = 0; i + 1 < count; i += 2)
      put(ALPHANUMERIC.indexOf(text[i]!) * 45 + ALPHANUMERIC.indexOf(text[i + 1]!), 11);
    if (count & 1) put(ALPHANUMERIC.indexOf(text[count - 1]!), 6);
  } else {
    for (const b of bytes) put(b, 8);
  }
  for (let i = (bitLen + 11) >> 3, pad = 0xec; i < dataLen; i++, pad ^= 0xfd) data[i] = pad; // terminator is zeros

  // Split into blocks, add error correction, interleave.
  const numBlocks = blocks(version);
  const ec = ecLen(version);
  const gen = generator(ec);
  const raw = rawCodewords(version);
  const shortBlocks = numBlocks - (raw % numBlocks);
  const shortLen = ((raw / numBlocks) | 0) - ec;
  const dataBlocks: Uint8Array[] = [];
  const ecBlocks: Uint8Array[] = [];
  for (let b = 0, at = 0; b < numBlocks; b++) {
    const block = data.subarray(at, (at += shortLen + (b < shortBlocks ? 0 : 1)));
    dataBlocks.push(block);
    ecBlocks.push(remainder(block, gen));
  }
  const codewords: number[] = [];
  for (let i = 0; i <= shortLen; i++)
    for (const block of dataBlocks) if (i < block.length) codewords.push(block[i]!);
  for (let i = 0; i < ec; i++) for (const block of ecBlocks) codewords.push(block[i]!);

  // Function patterns.
  const size = version * 4 + 17;
  const modules = new Uint8Array(size * size);
  const reserved = new Uint8Array(size * size);
  const set = (x: number, y: number, dark: boolean | number): void => {
    modules[y * size + x] = dark ? 1 : 0;
    reserved[y * size + x] = 1;
  };
  for (let i = 0; i < size; i++) {
    set(6, i, i % 2 === 0);
    set(i, 6, i % 2 === 0);
  }
  // Square patterns of concentric rings around (cx, cy); ring d is light when bit d of `light` is set.
  const square = (cx: number, cy: number, r: number, light: number): void => {
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x >= 0 && y >= 0 && x < size && y < size)
          set(x, y, (~light >> Math.max(Math.abs(dx), Math.abs(dy))) & 1);
      }
    }
  };
  const align = alignmentPositions(version);
  const last = align.length - 1;
  align.forEach((cy, i) =>
    align.forEach((cx, j) => (i || (j && j < last)) && (i < last || j) && square(cx, cy, 2, 0b10)),
  );
  square(3, 3, 4, 0b10100); // finder patterns with their separators
  square(size - 4, 3, 4, 0b10100);
  square(3, size - 4, 4, 0b10100);
  const drawFormat = (mask: number): void => {
    const value = ((level ^ 1) << 3) | mask; // L=01, M=00, Q=11, H=10
    let rem = value;
    for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
    const bits = ((value << 10) | rem) ^ 0x5412;
    const bit = (i: number): number => (bits >>> i) & 1;
    for (let i = 0; i < 6; i++) set(8, i, bit(i));
    set(8, 7, bit(6));
    set(8, 8, bit(7));
    set(7, 8, bit(8));
    for (let i = 9; i < 15; i++) set(14 - i, 8, bit(i));
    for (let i = 0; i < 8; i++) set(size - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i++) set(8, size - 15 + i, bit(i));
    set(8, size - 8, 1); // the dark module
  };
  drawFormat(0); // reserve the format areas
  if (version > 6) {
    let rem = version;
    for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
    const bits = (version << 12) | rem;
    for (let i = 0; i < 18; i++) {
      const bit = (bits >>> i) & 1;
      set(size - 11 + (i % 3), (i / 3) | 0, bit);
      set((i / 3) | 0, size - 11 + (i % 3), bit);
    }
  }

  // Data in the zigzag order: column pairs right to left, alternating upward and downward.
  let k = 0;
  for (let right = size - 1; right > 0; right -= 2) {
    if (right === 6) right = 5;
    const upward = ((right + 1) & 2) === 0;
    for (let v = 0; v < size; v++) {
      const y = upward ? size - 1 - v : v;
      for (let x = right; x > right - 2; x--) {
        if (reserved[y * size + x]) continue;
        const cw = codewords[k >> 3];
        modules[y * size + x] = cw === undefined ? 0 : (cw >>> (7 - (k & 7))) & 1; // remainder bits are 0
        k++;
      }
    }
  }

  // Try every mask; keep the lowest penalty (ties: the lowest mask number).
  const applyMask = (mask: number): void => {
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        if (!reserved[y * size + x] && maskBit(mask, x, y)) modules[y * size + x]! ^= 1;
  };
  let best = 0;
  let bestScore = Infinity;
  for (let mask = 0; mask < 8; mask++) {
    applyMask(mask);
    drawFormat(mask);
    const score = penalty(modules, size);
    if (score < bestScore) {
      best = mask;
      bestScore = score;
    }
    applyMask(mask);
  }
  applyMask(best);
  drawFormat(best);
  return { version, size, ecc: ecc as QRErrorCorrection, modules };
}

// ---------------------------------------------------------------------------------------------
// Public API.

/**
 * Encodes `text` (typically an otpauth:// URI) as a QR code: alphanumeric mode when the whole
 * text fits it, otherwise UTF-8 bytes; the smallest version that fits at the chosen
 * error-correction level; the mask with the lowest ISO/IEC 18004 penalty score.
 *
 * @param text - the text to encode; it never appears in error messages.
 * @param options - `ecc` (default `'M'`) and `minVersion` (default 1).
 * @returns the version, size, error-correction level and the row-major module matrix (1 = dark), without quiet zone.
 * @throws OtpkitError `ERR_QR_TOO_LONG` if the text does not fit version 40 at the chosen level
 *   (2953 bytes at `'L'`, 2331 at `'M'`).
 * @throws TypeError `ERR_OPTION_TYPE` if `text` is not a string or an option has the wrong type.
 * @throws RangeError `ERR_OPTION_INVALID` for an out-of-range option, `ERR_OPTION_UNKNOWN` for an unknown option key.
 *
 * @example
 * ```ts
 * import { createQRCode } from 'otpkit/qr';
 * const qr = createQRCode('otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME');
 * console.log(qr.version, qr.size); // 4 33
 * const dark = qr.modules[0 * qr.size + 0]; // 1: top-left finder pattern
 * ```
 */
export function createQRCode(text: string, options?: QRCodeOptions): QRCode {
  return encode(text, readOptions(options, ['ecc', 'minVersion']));
}

/**
 * Renders `text` as a standalone SVG QR code: a `viewBox` in module units, a background
 * `<rect>` and one `<path>` holding every dark module as run-length rectangles, with
 * `shape-rendering="crispEdges"`. Safe to inline in HTML: colours are validated.
 *
 * @param text - the text to encode (typically an otpauth:// URI).
 * @param options - {@link QRCodeOptions} plus `margin` (quiet zone in modules, default 4),
 *   `scale` (px per module for `width`/`height`, default 4), `dark` (default `'#000'`) and `light` (default `'#fff'`).
 * @returns the `<svg>…</svg>` markup.
 * @throws OtpkitError `ERR_QR_TOO_LONG` if the text does not fit version 40.
 * @throws TypeError `ERR_OPTION_TYPE` if `text` is not a string or an option has the wrong type.
 * @throws RangeError `ERR_OPTION_INVALID` for an out-of-range option or a colour containing `<`, `>`, `"`, `'` or `&`;
 *   `ERR_OPTION_UNKNOWN` for an unknown option key.
 *
 * @example
 * ```ts
 * import { renderQRCodeSVG } from 'otpkit/qr';
 * const svg = renderQRCodeSVG('otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME', { scale: 6 });
 * console.log(svg.startsWith('<svg')); // true
 * ```
 */
export function renderQRCodeSVG(text: string, options?: QRSvgOptions): string {
  const o = readOptions(options, ['ecc', 'minVersion', 'margin', 'scale', 'dark', 'light']);
  const margin = integer(o, 'margin', 4, 0, 100);
  const scale = integer(o, 'scale', 4, 1, 100);
  const dark = colour(o, 'dark', '#000');
  const light = colour(o, 'light', '#fff');
  const { size, modules } = encode(text, o);
  const dim = size + 2 * margin;
  let d = '';
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!modules[y * size + x]) continue;
      let w = 1;
      while (x + w < size && modules[y * size + x + w]) w++;
      d += `M${x + margin} ${y + margin}h${w}v1h-${w}z`;
      x += w;
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${dim * scale}" height="${dim * scale}" viewBox="0 0 ${dim} ${dim}" shape-rendering="crispEdges">` +
    `<rect width="${dim}" height="${dim}" fill="${light}"/><path fill="${dark}" d="${d}"/></svg>`
  );
}

/** SGR "black foreground, white background" (ECMA-48 §8.3.117): dark modules are ink, light ones paper. */
const ANSI_BLACK_ON_WHITE = '\x1b[30;47m';
/** SGR 0, at the end of every line: the colours must not leak into the next line or the shell prompt. */
const ANSI_RESET = '\x1b[0m';

/**
 * Renders `text` as a QR code for a terminal, with Unicode half blocks (`▀ ▄ █` and space):
 * two module rows per line, so modules are roughly square in a normal terminal font.
 *
 * - `ansi: true`: each line is wrapped in ANSI colours, black on white, quiet zone included, and
 *   reset at its end (as `qrencode -t ANSIUTF8` does). This scans on light and dark terminals alike;
 *   use it whenever the text goes to a terminal.
 * - plain (the default): no escape codes. The dark modules are drawn in the terminal's text colour
 *   and the rest is left to its background, so it scans only where text is dark on a light
 *   background (many phone scanners do not read a light-on-dark code). `invert: true` draws the
 *   light modules and the quiet zone instead, for a light-on-dark terminal without colours.
 *
 * @param text - the text to encode (typically an otpauth:// URI).
 * @param options - {@link QRCodeOptions} plus `margin` (quiet zone in modules, default 4), `ansi`
 *   (default false) and `invert` (default false; plain text only).
 * @returns the lines joined with `'\n'` (no trailing newline).
 * @throws OtpkitError `ERR_QR_TOO_LONG` if the text does not fit version 40.
 * @throws TypeError `ERR_OPTION_TYPE` if `text` is not a string or an option has the wrong type.
 * @throws RangeError `ERR_OPTION_INVALID` for an out-of-range option or `invert` with `ansi`,
 *   `ERR_OPTION_UNKNOWN` for an unknown option key.
 * @see ISO/IEC 18004 (quiet zone of 4 modules); ECMA-48 §8.3.117 (SGR colours)
 *
 * @example
 * ```ts
 * import { renderQRCodeText } from 'otpkit/qr';
 * const uri = 'otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME';
 * console.log(renderQRCodeText(uri, { ansi: process.stdout.isTTY === true }));
 * ```
 */
export function renderQRCodeText(text: string, options?: QRTextOptions): string {
  const o = readOptions(options, ['ecc', 'minVersion', 'margin', 'ansi', 'invert']);
  const margin = integer(o, 'margin', 4, 0, 100);
  const ansi = o['ansi'] ?? false;
  if (typeof ansi !== 'boolean')
    throw typeError('ERR_OPTION_TYPE', `"ansi" expected a boolean, got ${describe(ansi)}`);
  const invert = o['invert'] ?? false;
  if (typeof invert !== 'boolean')
    throw typeError('ERR_OPTION_TYPE', `"invert" expected a boolean, got ${describe(invert)}`);
  if (ansi && invert)
    throw rangeError(
      'ERR_OPTION_INVALID',
      '"invert" applies to plain text only: with "ansi" the colours are explicit',
    );
  const { size, modules } = encode(text, o);
  const n = size + 2 * margin;
  // Whether the half at (x, y) is drawn in the foreground colour. Plain text never draws the half
  // row below the last one (the terminal's background shows there); with colours it is paper,
  // one more half row of quiet zone.
  const drawn = (x: number, y: number): boolean => {
    if (y >= n) return false;
    x -= margin;
    y -= margin;
    return (x >= 0 && y >= 0 && x < size && y < size && modules[y * size + x] === 1) !== invert;
  };
  const lines: string[] = [];
  for (let y = 0; y < n; y += 2) {
    let line = '';
    for (let x = 0; x < n; x++)
      line += drawn(x, y) ? (drawn(x, y + 1) ? '█' : '▀') : drawn(x, y + 1) ? '▄' : ' ';
    lines.push(ansi ? ANSI_BLACK_ON_WHITE + line + ANSI_RESET : line);
  }
  return lines.join('\n');
}
