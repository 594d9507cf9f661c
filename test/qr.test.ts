import fc from 'fast-check';
import jsQRModule from 'jsqr';
import { describe, expect, it } from 'vitest';
import { OtpkitError } from '../src/errors.js';
import { createQRCode, renderQRCodeSVG, renderQRCodeText } from '../src/qr.js';
import type { QRCode, QRErrorCorrection } from '../src/qr.js';

// jsqr ships CommonJS with an ESM-style `export default` declaration: under NodeNext the default
// import is typed as the whole module, and at run time module.exports carries `.default` too.
const jsQR = jsQRModule.default;

const URI =
  'otpauth://totp/ACME%20Co:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60';
const LEVELS: readonly QRErrorCorrection[] = ['L', 'M', 'Q', 'H'];

/** Rasterises a square module grid (1 = dark) with `margin` light modules around it into RGBA pixels and decodes it with jsQR. */
function decodeGrid(
  grid: ArrayLike<number>,
  n: number,
  px = 4,
  margin = 4,
): { data: string; version: number } | null {
  const w = (n + 2 * margin) * px;
  const img = new Uint8ClampedArray(w * w * 4).fill(255);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      if (!grid[y * n + x]) continue;
      for (let dy = 0; dy < px; dy++) {
        const row = ((y + margin) * px + dy) * w;
        for (let dx = 0; dx < px; dx++)
          img.fill(0, (row + (x + margin) * px + dx) * 4, (row + (x + margin) * px + dx) * 4 + 3);
      }
    }
  }
  const result = jsQR(img, w, w, { inversionAttempts: 'dontInvert' });
  return result && { data: result.data, version: result.version };
}

function decode(qr: QRCode, px = 4): string | undefined {
  const result = decodeGrid(qr.modules, qr.size, px);
  if (result) expect(result.version).toBe(qr.version);
  return result?.data;
}

/** Deterministic printable-ASCII filler (lower case, so it is never alphanumeric mode). */
function filler(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(33 + ((i * 7919) % 94)).toLowerCase();
  return s;
}

/**
 * Byte-mode capacity per version 1..40 for each level (ISO/IEC 18004:2015 Table 7).
 */
const BYTE_CAPACITY: Record<QRErrorCorrection, readonly number[]> = {
  L: [
    17, 32, 53, 78, 106, 134, 154, 192, 230, 271, 321, 367, 425, 458, 520, 586, 644, 718, 792, 858,
    929, 1003, 1091, 1171, 1273, 1367, 1465, 1528, 1628, 1732, 1840, 1952, 2068, 2188, 2303, 2431,
    2563, 2699, 2809, 2953,
  ],
  M: [
    14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
    711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989,
    2099, 2213, 2331,
  ],
  Q: [
    11, 20, 32, 46, 60, 74, 86, 108, 130, 151, 177, 203, 241, 258, 292, 322, 364, 394, 442, 482,
    509, 565, 611, 661, 715, 751, 805, 868, 908, 982, 1030, 1112, 1168, 1228, 1283, 1351, 1423,
    1499, 1579, 1663,
  ],
  H: [
    7, 14, 24, 34, 44, 58, 64, 84, 98, 119, 137, 155, 177, 194, 220, 250, 280, 310, 338, 382, 403,
    439, 461, 511, 535, 593, 625, 658, 698, 742, 790, 842, 898, 958, 983, 1051, 1093, 1139, 1219,
    1273,
  ],
};

/** Alignment pattern centres (ISO/IEC 18004:2015 Annex E, Table E.1). */
const ALIGNMENT: Record<number, readonly number[]> = {
  2: [6, 18],
  7: [6, 22, 38],
  14: [6, 26, 46, 66],
  23: [6, 30, 54, 78, 102],
  32: [6, 34, 60, 86, 112, 138],
  36: [6, 24, 50, 76, 102, 128, 154],
  40: [6, 30, 58, 86, 114, 142, 170],
};

/** The 15-bit format strings, MSB first, per level and mask 0..7 (ISO/IEC 18004:2015 Annex C, Table C.1). */
const FORMAT: Record<QRErrorCorrection, readonly string[]> = {
  L: [
    '111011111000100',
    '111001011110011',
    '111110110101010',
    '111100010011101',
    '110011000101111',
    '110001100011000',
    '110110001000001',
    '110100101110110',
  ],
  M: [
    '101010000010010',
    '101000100100101',
    '101111001111100',
    '101101101001011',
    '100010111111001',
    '100000011001110',
    '100111110010111',
    '100101010100000',
  ],
  Q: [
    '011010101011111',
    '011000001101000',
    '011111100110001',
    '011101000000110',
    '010010010110100',
    '010000110000011',
    '010111011011010',
    '010101111101101',
  ],
  H: [
    '001011010001001',
    '001001110111110',
    '001110011100111',
    '001100111010000',
    '000011101100010',
    '000001001010101',
    '000110100001100',
    '000100000111011',
  ],
};

/** Reads both copies of the format string, MSB first. */
function readFormat(modules: Uint8Array, size: number): { first: string; second: string } {
  const at = (x: number, y: number): number => modules[y * size + x]!;
  let first = '';
  for (const x of [0, 1, 2, 3, 4, 5, 7, 8]) first += at(x, 8); // row 8, left to right, skipping the timing column
  for (const y of [7, 5, 4, 3, 2, 1, 0]) first += at(8, y); // column 8, bottom to top
  let second = '';
  for (let y = size - 1; y >= size - 7; y--) second += at(8, y);
  for (let x = size - 8; x < size; x++) second += at(x, 8);
  return { first, second };
}

const MASKS: readonly ((i: number, j: number) => boolean)[] = [
  (i, j) => (i + j) % 2 === 0,
  (i) => i % 2 === 0,
  (_i, j) => j % 3 === 0,
  (i, j) => (i + j) % 3 === 0,
  (i, j) => (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0,
  (i, j) => ((i * j) % 2) + ((i * j) % 3) === 0,
  (i, j) => (((i * j) % 2) + ((i * j) % 3)) % 2 === 0,
  (i, j) => (((i * j) % 3) + ((i + j) % 2)) % 2 === 0,
];

/** Function modules of a version-1 symbol: finders with separators and format areas, timing patterns. */
function isFunctionV1(x: number, y: number): boolean {
  return x === 6 || y === 6 || (x < 9 && y < 9) || (x >= 13 && y < 9) || (x < 9 && y >= 13);
}

/** A copy of a version-1 symbol with the data area's mask `from` replaced by mask `to` (mask i = row, j = column). */
function remask(qr: QRCode, from: number, to: number): Uint8Array {
  const out = qr.modules.slice();
  for (let y = 0; y < 21; y++) {
    for (let x = 0; x < 21; x++) {
      if (!isFunctionV1(x, y))
        out[y * 21 + x]! ^= (MASKS[from]!(y, x) ? 1 : 0) ^ (MASKS[to]!(y, x) ? 1 : 0);
    }
  }
  return out;
}

/** Unmasks a version-1 symbol and reads its 26 codewords in placement order (a minimal decoder). */
function readVersion1Codewords(qr: QRCode): number[] {
  expect(qr.size).toBe(21);
  const mask = FORMAT[qr.ecc].indexOf(readFormat(qr.modules, 21).first);
  expect(mask).toBeGreaterThanOrEqual(0);
  const bits: number[] = [];
  for (let right = 20, upward = true; right > 0; right -= 2, upward = !upward) {
    if (right === 6) right = 5;
    for (let k = 0; k < 21; k++) {
      const y = upward ? 20 - k : k;
      for (const x of [right, right - 1]) {
        if (!isFunctionV1(x, y)) bits.push(qr.modules[y * 21 + x]! ^ (MASKS[mask]!(y, x) ? 1 : 0));
      }
    }
  }
  const codewords: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8)
    codewords.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  return codewords;
}

function expectCode(fn: () => unknown, type: new (...args: never[]) => Error, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    expect((e as { code?: string }).code).toBe(code);
    return;
  }
  expect.fail('expected a throw');
}

describe('createQRCode: round trips through jsQR', () => {
  it('encodes a typical otpauth URI', () => {
    const qr = createQRCode(URI);
    expect(qr.ecc).toBe('M');
    expect(qr.size).toBe(qr.version * 4 + 17);
    expect(qr.modules).toHaveLength(qr.size * qr.size);
    expect(qr.modules.every((m) => m === 0 || m === 1)).toBe(true);
    expect(decode(qr)).toBe(URI);
  });

  it.each(LEVELS)('encodes at level %s', (ecc) => {
    const qr = createQRCode(URI, { ecc });
    expect(qr.ecc).toBe(ecc);
    expect(decode(qr)).toBe(URI);
  });

  it('higher levels never pick a smaller version', () => {
    const versions = LEVELS.map((ecc) => createQRCode(URI, { ecc }).version);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
  });

  it.each(['Zoë 🔐', 'Ελληνικά 日本語 — ✓', 'a\u0000b\nc'])('encodes UTF-8 text %j', (text) => {
    expect(decode(createQRCode(text))).toBe(text);
  });

  it('encodes the empty string', () => {
    const qr = createQRCode('');
    expect(qr.version).toBe(1);
    expect(decode(qr)).toBe('');
  });

  it('uses alphanumeric mode when the whole text fits it', () => {
    const text = 'OTPAUTH://TOTP/ACME:ALICE?SECRET=JBSWY3DPEHPK3PXP';
    expect(decode(createQRCode(text))).toBe(text);
    // Alphanumeric capacity of 1-M is 20 characters, byte capacity 14.
    expect(createQRCode('A'.repeat(20)).version).toBe(1);
    expect(createQRCode('A'.repeat(21)).version).toBe(2);
    expect(decode(createQRCode('0123456789 $%*+-./:'))).toBe('0123456789 $%*+-./:');
  });

  it('forces a minimum version', () => {
    const qr = createQRCode('hi', { minVersion: 10, ecc: 'H' });
    expect(qr.version).toBe(10);
    expect(qr.size).toBe(57);
    expect(decode(qr)).toBe('hi');
  });

  // Every version filled to capacity, cycling through the levels. Version 23 is skipped:
  // jsQR 1.4.0 has the wrong alignment centre for it (74 instead of 78, cozmo/jsQR#251)
  // and cannot read any correct version-23 symbol; its layout is checked structurally below.
  const sweep = Array.from({ length: 40 }, (_, i) => i + 1).filter((v) => v !== 23);
  it.each(sweep)('decodes version %i filled to capacity', (version) => {
    const ecc = LEVELS[version % 4]!;
    const text = filler(BYTE_CAPACITY[ecc][version - 1]!);
    const qr = createQRCode(text, { ecc });
    expect(qr.version).toBe(version);
    expect(decode(qr, version > 30 ? 4 : 3)).toBe(text);
  });

  it('round-trips random printable ASCII (property)', () => {
    const printable = fc
      .array(fc.integer({ min: 0x20, max: 0x7e }), { maxLength: 300 })
      .map((codes) => String.fromCharCode(...codes));
    fc.assert(
      fc.property(printable, fc.constantFrom(...LEVELS), (text, ecc) => {
        expect(decode(createQRCode(text, { ecc }))).toBe(text);
      }),
      { numRuns: 50 },
    );
  });
});

describe('createQRCode: known answers', () => {
  it('byte mode, level M: 14 bytes fit version 1, 15 need version 2', () => {
    expect(createQRCode('a'.repeat(14)).version).toBe(1);
    expect(createQRCode('a'.repeat(14)).size).toBe(21);
    expect(createQRCode('a'.repeat(15)).version).toBe(2);
    expect(createQRCode('a'.repeat(15)).size).toBe(25);
    // multi-byte characters count as their UTF-8 length: 7 × 'é' = 14 bytes
    expect(createQRCode('é'.repeat(7)).version).toBe(1);
    expect(createQRCode('é'.repeat(7) + 'a').version).toBe(2);
  });

  it('picks the smallest version for every level and version (ISO Table 7)', () => {
    for (const ecc of LEVELS) {
      BYTE_CAPACITY[ecc].forEach((capacity, i) => {
        expect(createQRCode('a'.repeat(capacity), { ecc }).version, `${ecc} ${capacity}`).toBe(
          i + 1,
        );
        if (i < 39)
          expect(
            createQRCode('a'.repeat(capacity + 1), { ecc }).version,
            `${ecc} ${capacity + 1}`,
          ).toBe(i + 2);
      });
    }
  });

  it('version 40-L holds 2953 bytes; 2954 throw ERR_QR_TOO_LONG without echoing the text', () => {
    const qr = createQRCode('a'.repeat(2953), { ecc: 'L' });
    expect(qr.version).toBe(40);
    expect(qr.size).toBe(177);
    const secret = 'JBSWY3DPEHPK3PXP';
    const long = `otpauth://totp/x?secret=${secret}&`.padEnd(2954, 'z');
    let error: unknown;
    try {
      createQRCode(long, { ecc: 'L' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OtpkitError);
    expect((error as OtpkitError).code).toBe('ERR_QR_TOO_LONG');
    expect((error as OtpkitError).message).not.toContain(secret);
    expect((error as OtpkitError).message).not.toContain('otpauth');
    expectCode(() => createQRCode('a'.repeat(2332)), OtpkitError, 'ERR_QR_TOO_LONG');
    expectCode(() => createQRCode('a'.repeat(1274), { ecc: 'H' }), OtpkitError, 'ERR_QR_TOO_LONG');
    expectCode(
      () => renderQRCodeSVG('a'.repeat(2954), { ecc: 'L' }),
      OtpkitError,
      'ERR_QR_TOO_LONG',
    );
    expectCode(
      () => renderQRCodeText('a'.repeat(2954), { ecc: 'L' }),
      OtpkitError,
      'ERR_QR_TOO_LONG',
    );
  });

  it('decodes version 40 and a version ≥ 35 at level M', () => {
    const v40 = filler(2331);
    expect(decode(createQRCode(v40), 4)).toBe(v40);
    const text = filler(BYTE_CAPACITY.M[35]!); // version 36
    const qr = createQRCode(text);
    expect(qr.version).toBe(36);
    expect(decode(qr, 5)).toBe(text);
  });

  it.each(Object.entries(ALIGNMENT))(
    'places the alignment patterns of version %s (Table E.1)',
    (v, centres) => {
      const { size, modules } = createQRCode('x', { minVersion: Number(v) });
      const at = (x: number, y: number): number => modules[y * size + x]!;
      const last = centres.length - 1;
      centres.forEach((cy, i) =>
        centres.forEach((cx, j) => {
          if ((i === 0 && (j === 0 || j === last)) || (i === last && j === 0)) return; // finder corners
          for (let dy = -2; dy <= 2; dy++) {
            for (let dx = -2; dx <= 2; dx++)
              expect(at(cx + dx, cy + dy), `${cx},${cy}`).toBe(
                Math.max(Math.abs(dx), Math.abs(dy)) === 1 ? 0 : 1,
              );
          }
        }),
      );
    },
  );

  it('draws finder, timing, dark module and version information', () => {
    for (const [version, info] of [
      [7, 0x07c94],
      [40, 0x28c69],
    ] as const) {
      const { size, modules } = createQRCode('x', { minVersion: version });
      const at = (x: number, y: number): number => modules[y * size + x]!;
      for (const [ox, oy] of [
        [0, 0],
        [size - 7, 0],
        [0, size - 7],
      ] as const) {
        for (let y = 0; y < 7; y++) {
          for (let x = 0; x < 7; x++) {
            const d = Math.max(Math.abs(x - 3), Math.abs(y - 3));
            expect(at(ox + x, oy + y)).toBe(d === 2 ? 0 : 1);
          }
        }
      }
      for (let i = 8; i < size - 8; i++) {
        expect(at(i, 6)).toBe(i % 2 === 0 ? 1 : 0);
        expect(at(6, i)).toBe(i % 2 === 0 ? 1 : 0);
      }
      expect(at(8, size - 8)).toBe(1);
      for (let i = 0; i < 18; i++) {
        const bit = (info >>> i) & 1;
        expect(at(size - 11 + (i % 3), Math.floor(i / 3))).toBe(bit);
        expect(at(Math.floor(i / 3), size - 11 + (i % 3))).toBe(bit);
      }
    }
  });

  it('writes valid format information in both copies (ISO Table C.1)', () => {
    for (const ecc of LEVELS) {
      for (const text of [URI, 'Zoë 🔐', '', 'HELLO WORLD', filler(500)]) {
        const { size, ecc: level, modules } = createQRCode(text, { ecc });
        const format = readFormat(modules, size);
        expect(FORMAT[level], `${ecc} ${text.length}`).toContain(format.first);
        expect(format.second).toBe(format.first);
      }
    }
  });

  it('produces the published codewords for "HELLO WORLD" at 1-M', () => {
    // Thonky's QR Code Tutorial worked example: alphanumeric mode, data then error correction.
    const qr = createQRCode('HELLO WORLD', { ecc: 'M' });
    expect(qr.version).toBe(1);
    expect(readVersion1Codewords(qr)).toEqual([
      32,
      91,
      11,
      120,
      209,
      114,
      220,
      77,
      67,
      64,
      236,
      17,
      236,
      17,
      236,
      17, // data + pad codewords
      196,
      35,
      39,
      119,
      235,
      215,
      231,
      226,
      93,
      23, // error correction
    ]);
  });

  it('lays out byte mode, terminator and pad codewords', () => {
    // 0100 | 00000101 | 'h' 'e' 'l' 'l' 'o' | 0000 terminator | 0xEC 0x11 …
    const qr = createQRCode('hello');
    expect(qr.version).toBe(1);
    expect(readVersion1Codewords(qr).slice(0, 16)).toEqual([
      0x40, 0x56, 0x86, 0x56, 0xc6, 0xc6, 0xf0, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11,
      0xec,
    ]);
  });

  it('chooses the mask with the lowest penalty score', () => {
    // Independent penalty: N1 runs of 5+ (3 + extra), N2 2×2 blocks (3), N3 1011101 with 4 light
    // modules on a side, outside the symbol counting as light (40 each), N4 dark proportion (10 per 5%).
    const penalty = (m: Uint8Array, n: number): number => {
      let score = 0;
      const lines: string[] = [];
      for (let i = 0; i < n; i++) {
        let row = '';
        let col = '';
        for (let j = 0; j < n; j++) {
          row += m[i * n + j];
          col += m[j * n + i];
        }
        lines.push(row, col);
      }
      for (const line of lines) {
        for (const run of line.match(/0{5,}|1{5,}/g) ?? []) score += run.length - 2;
        const padded = `0000${line}0000`;
        for (let k = 0; k + 11 <= padded.length; k++) {
          const w = padded.slice(k, k + 11);
          if (w === '00001011101' || w === '10111010000') score += 40;
        }
      }
      for (let y = 0; y + 1 < n; y++) {
        for (let x = 0; x + 1 < n; x++) {
          const c = m[y * n + x];
          if (c === m[y * n + x + 1] && c === m[(y + 1) * n + x] && c === m[(y + 1) * n + x + 1])
            score += 3;
        }
      }
      const dark = m.reduce((a, b) => a + b, 0);
      return score + Math.floor(Math.abs((dark * 100) / (n * n) - 50) / 5) * 10;
    };
    for (const ecc of LEVELS) {
      for (const text of ['hello', 'HELLO WORLD', 'Zoë', '', 'otpauth://x']) {
        const qr = createQRCode(text, { ecc });
        if (qr.version !== 1) continue;
        const { size, modules } = qr;
        const chosen = FORMAT[ecc].indexOf(readFormat(modules, size).first);
        const scores = FORMAT[ecc].map((format, mask) => {
          const variant = remask(qr, chosen, mask);
          // write this mask's format string in both copies
          const set = (x: number, y: number, k: number): void =>
            void (variant[y * size + x] = Number(format[k]));
          [0, 1, 2, 3, 4, 5, 7, 8].forEach((x, k) => set(x, 8, k));
          [7, 5, 4, 3, 2, 1, 0].forEach((y, k) => set(8, y, k + 8));
          for (let k = 0; k < 7; k++) set(8, size - 1 - k, k);
          for (let k = 7; k < 15; k++) set(size - 15 + k, 8, k);
          return penalty(variant, size);
        });
        expect(scores[chosen], `${ecc} ${JSON.stringify(text)} ${scores.join(',')}`).toBe(
          Math.min(...scores),
        );
        expect(scores.indexOf(Math.min(...scores))).toBe(chosen);
      }
    }
  });

  it('is deterministic', () => {
    expect(createQRCode(URI)).toEqual(createQRCode(URI));
  });
});

describe('renderQRCodeSVG', () => {
  /** Parses the run-length path back into a (size + 2 * margin)² grid. */
  function parseSvg(svg: string): { grid: Uint8Array; dim: number } {
    const viewBox = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
    expect(viewBox).not.toBeNull();
    const dim = Number(viewBox![1]);
    expect(Number(viewBox![2])).toBe(dim);
    const paths = [...svg.matchAll(/<path [^>]*d="([^"]*)"/g)];
    expect(paths).toHaveLength(1);
    const d = paths[0]![1]!;
    const grid = new Uint8Array(dim * dim);
    const run = /M(\d+) (\d+)h(\d+)v1h-(\d+)z/y;
    let m: RegExpExecArray | null;
    let end = 0;
    while ((m = run.exec(d))) {
      end = run.lastIndex;
      const [x, y, w, back] = m.slice(1).map(Number) as [number, number, number, number];
      expect(back).toBe(w);
      for (let i = 0; i < w; i++) grid[y * dim + x + i] = 1;
    }
    expect(end).toBe(d.length); // nothing but runs
    return { grid, dim };
  }

  it('is a standalone SVG whose path decodes to the input', () => {
    const svg = renderQRCodeSVG(URI);
    const qr = createQRCode(URI);
    const dim = qr.size + 8;
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" [^>]*>.*<\/svg>$/s);
    expect(svg).toContain(`viewBox="0 0 ${dim} ${dim}"`);
    expect(svg).toContain(`width="${dim * 4}" height="${dim * 4}"`);
    expect(svg).toContain('shape-rendering="crispEdges"');
    expect(svg).toContain('fill="#000"');
    expect(svg).toContain('fill="#fff"');
    const parsed = parseSvg(svg);
    expect(parsed.dim).toBe(dim);
    // exactly the module matrix inside a 4-module quiet zone
    for (let y = 0; y < dim; y++) {
      for (let x = 0; x < dim; x++) {
        const inside = x >= 4 && y >= 4 && x < dim - 4 && y < dim - 4;
        expect(parsed.grid[y * dim + x]).toBe(inside ? qr.modules[(y - 4) * qr.size + x - 4] : 0);
      }
    }
    expect(decodeGrid(parsed.grid, parsed.dim, 4, 0)?.data).toBe(URI);
  });

  it('honours margin, scale, colours and ecc', () => {
    const svg = renderQRCodeSVG('Zoë 🔐', {
      margin: 1,
      scale: 10,
      dark: 'rgb(10, 20, 30)',
      light: 'none',
      ecc: 'H',
      minVersion: 3,
    });
    expect(svg).toContain('viewBox="0 0 31 31"');
    expect(svg).toContain('width="310" height="310"');
    expect(svg).toContain('fill="rgb(10, 20, 30)"');
    expect(svg).toContain('fill="none"');
    const { grid, dim } = parseSvg(svg);
    expect(decodeGrid(grid, dim, 4, 3)?.data).toBe('Zoë 🔐');
    expect(parseSvg(renderQRCodeSVG('', { margin: 0 })).dim).toBe(21);
  });

  it('rejects colours that could inject markup', () => {
    for (const bad of [
      '"/><script>alert(1)</script>',
      '#000"',
      "red' onload='x",
      'a&b',
      '<',
      '>',
      '',
    ]) {
      expectCode(() => renderQRCodeSVG('x', { dark: bad }), RangeError, 'ERR_OPTION_INVALID');
      expectCode(() => renderQRCodeSVG('x', { light: bad }), RangeError, 'ERR_OPTION_INVALID');
    }
    expectCode(
      () => renderQRCodeSVG('x', { dark: 0 as unknown as string }),
      TypeError,
      'ERR_OPTION_TYPE',
    );
  });
});

describe('renderQRCodeText', () => {
  /** Maps half blocks back to an n × n grid of drawn modules. */
  function parseText(text: string): { drawn: Uint8Array; n: number } {
    const lines = text.split('\n');
    const n = lines[0]!.length;
    expect(lines).toHaveLength(Math.ceil(n / 2));
    const drawn = new Uint8Array(n * n);
    lines.forEach((line, row) => {
      expect(line).toHaveLength(n);
      expect(line).toMatch(/^[ ▀▄█]*$/);
      [...line].forEach((ch, x) => {
        drawn[2 * row * n + x] = ch === '▀' || ch === '█' ? 1 : 0;
        if (2 * row + 1 < n) drawn[(2 * row + 1) * n + x] = ch === '▄' || ch === '█' ? 1 : 0;
        else expect(ch === '▄' || ch === '█').toBe(false); // nothing drawn below the last row
      });
    });
    return { drawn, n };
  }

  it('draws two module rows per line inside a 4-module quiet zone and decodes to the input', () => {
    const qr = createQRCode(URI);
    const text = renderQRCodeText(URI);
    expect(text).not.toContain('\x1b'); // plain text by default
    const { drawn, n } = parseText(text);
    expect(n).toBe(qr.size + 8);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const inside = x >= 4 && y >= 4 && x < n - 4 && y < n - 4;
        expect(drawn[y * n + x]).toBe(inside ? qr.modules[(y - 4) * qr.size + x - 4] : 0);
      }
    }
    expect(decodeGrid(drawn, n)?.data).toBe(URI);
    expect(parseText(renderQRCodeText(URI, { margin: 2 })).n).toBe(qr.size + 4);
  });

  it('inverts for light-on-dark terminals', () => {
    const { drawn, n } = parseText(
      renderQRCodeText('Zoë 🔐', { invert: true, margin: 4, ecc: 'Q' }),
    );
    const qr = createQRCode('Zoë 🔐', { ecc: 'Q' });
    expect(n).toBe(qr.size + 8);
    expect(drawn.slice(0, n).every((m) => m === 1)).toBe(true); // the quiet zone is drawn
    const dark = drawn.map((m) => 1 - m);
    expect(decodeGrid(dark, n, 4, 0)?.data).toBe('Zoë 🔐');
  });

  it('supports margin 0', () => {
    const { drawn, n } = parseText(renderQRCodeText('hello', { margin: 0 }));
    expect(n).toBe(21);
    expect(decodeGrid(drawn, n)?.data).toBe('hello');
  });
});

// ---------------------------------------------------------------------------------------------
// A terminal, as far as a QR code is concerned: SGR colours (ECMA-48 §8.3.117) over a palette
// whose default foreground and background apply wherever no colour was set.

type RGB = readonly [number, number, number];

interface Palette {
  readonly name: string;
  /** Default foreground (text) and background, used where no SGR colour is in effect. */
  readonly fg: RGB;
  readonly bg: RGB;
  /** ANSI colours 0..15 (SGR 30–37/40–47 pick 0..7, 90–97/100–107 pick 8..15). */
  readonly ansi: readonly RGB[];
}

/** xterm's 16 colours. */
const XTERM: readonly RGB[] = [
  [0, 0, 0],
  [205, 0, 0],
  [0, 205, 0],
  [205, 205, 0],
  [0, 0, 238],
  [205, 0, 205],
  [0, 205, 205],
  [229, 229, 229],
  [127, 127, 127],
  [255, 0, 0],
  [0, 255, 0],
  [255, 255, 0],
  [92, 92, 255],
  [255, 0, 255],
  [0, 255, 255],
  [255, 255, 255],
];
/** Solarized's 16 colours: "black" and "white" are tinted and less far apart. */
const SOLARIZED: readonly RGB[] = [
  [7, 54, 66],
  [220, 50, 47],
  [133, 153, 0],
  [181, 137, 0],
  [38, 139, 210],
  [211, 54, 130],
  [42, 161, 152],
  [238, 232, 213],
  [0, 43, 54],
  [203, 75, 22],
  [88, 110, 117],
  [101, 123, 131],
  [131, 148, 150],
  [108, 113, 196],
  [147, 161, 161],
  [253, 246, 227],
];
const LIGHT: Palette = {
  name: 'light (xterm: black on white)',
  fg: [0, 0, 0],
  bg: [255, 255, 255],
  ansi: XTERM,
};
const DARK: Palette = {
  name: 'dark (VS Code Dark+: light grey on #1e1e1e)',
  fg: [204, 204, 204],
  bg: [30, 30, 30],
  ansi: XTERM,
};
const SOLARIZED_DARK: Palette = {
  name: 'Solarized dark',
  fg: [131, 148, 150],
  bg: [0, 43, 54],
  ansi: SOLARIZED,
};
const SOLARIZED_LIGHT: Palette = {
  name: 'Solarized light',
  fg: [101, 123, 131],
  bg: [253, 246, 227],
  ansi: SOLARIZED,
};

/**
 * Shows `text` on a terminal with `palette` and photographs it: each character cell is `px` pixels
 * wide and 2 × `px` high, a half block inks its upper or lower half in the current foreground and
 * the rest is the current background. Around the text (`border` cells) is the terminal's own
 * background, as on a screen. SGR state carries over line ends, as it does in a terminal.
 * Anything but SGR sequences and `▀ ▄ █ space` is refused so the test sees exactly what is emitted.
 */
function photograph(
  text: string,
  palette: Palette,
  px = 4,
  border = 4,
): { data: Uint8ClampedArray; width: number; height: number } {
  let fg: RGB | undefined;
  let bg: RGB | undefined;
  let reverse = false;
  const sgr = (param: number): void => {
    if (param === 0) [fg, bg, reverse] = [undefined, undefined, false];
    else if (param === 7) reverse = true;
    else if (param === 27) reverse = false;
    else if (param >= 30 && param <= 37) fg = palette.ansi[param - 30];
    else if (param === 39) fg = undefined;
    else if (param >= 40 && param <= 47) bg = palette.ansi[param - 40];
    else if (param === 49) bg = undefined;
    else if (param >= 90 && param <= 97) fg = palette.ansi[param - 90 + 8];
    else if (param >= 100 && param <= 107) bg = palette.ansi[param - 100 + 8];
    else throw new Error(`SGR ${param} is not modelled`);
  };
  const rows: RGB[][] = [];
  for (const line of text.split('\n')) {
    const upper: RGB[] = [];
    const lower: RGB[] = [];
    for (let i = 0; i < line.length;) {
      if (line[i] === '\x1b') {
        const m = /^\x1b\[([0-9;]*)m/.exec(line.slice(i));
        if (m === null) throw new Error(`unexpected escape sequence at column ${i}`);
        for (const p of m[1]!.split(';')) sgr(p === '' ? 0 : Number(p));
        i += m[0].length;
        continue;
      }
      const ch = line[i++]!;
      if (!'▀▄█ '.includes(ch)) throw new Error(`unexpected character ${JSON.stringify(ch)}`);
      let ink = fg ?? palette.fg;
      let paper = bg ?? palette.bg;
      if (reverse) [ink, paper] = [paper, ink];
      upper.push(ch === '▀' || ch === '█' ? ink : paper);
      lower.push(ch === '▄' || ch === '█' ? ink : paper);
    }
    rows.push(upper, lower);
  }
  const cols = Math.max(...rows.map((r) => r.length));
  const width = (cols + 2 * border) * px;
  const height = (rows.length + 4 * border) * px;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const rgb =
        rows[Math.floor(y / px) - 2 * border]?.[Math.floor(x / px) - border] ?? palette.bg;
      data.set([rgb[0], rgb[1], rgb[2], 255], (y * width + x) * 4);
    }
  }
  return { data, width, height };
}

/** What a phone scanner reads off the terminal: jsQR, without trying the reversed (light-on-dark) reading. */
function scan(text: string, palette: Palette): string | undefined {
  const { data, width, height } = photograph(text, palette);
  return jsQR(data, width, height, { inversionAttempts: 'dontInvert' })?.data;
}

const PALETTES: readonly Palette[] = [LIGHT, DARK, SOLARIZED_DARK, SOLARIZED_LIGHT];
const TERMINAL_URIS: readonly string[] = [
  URI,
  'otpauth://totp/ACME:alice@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=ACME', // odd module count: a half row is left
  'otpauth://hotp/Zo%C3%AB?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=42',
];

describe('renderQRCodeText on a terminal (rasterised and scanned)', () => {
  it('the photograph is faithful: a plain code on a light terminal scans, and the test can fail', () => {
    expect(scan(renderQRCodeText(URI), LIGHT)).toBe(URI);
    expect(scan(renderQRCodeText(URI), DARK)).toBeUndefined();
  });

  it.each(PALETTES.map((p) => [p.name, p] as const))(
    'ansi: true scans on a %s terminal',
    (_name, palette) => {
      for (const uri of TERMINAL_URIS)
        expect(scan(renderQRCodeText(uri, { ansi: true }), palette), uri).toBe(uri);
    },
  );

  it('without colours only one palette works: plain needs a light terminal, invert a dark one', () => {
    for (const uri of TERMINAL_URIS) {
      // The previous default (plain, 2-module margin) and the plain form today.
      for (const plain of [renderQRCodeText(uri, { margin: 2 }), renderQRCodeText(uri)]) {
        expect(scan(plain, LIGHT), uri).toBe(uri);
        expect(scan(plain, DARK), uri).toBeUndefined();
        expect(scan(plain, SOLARIZED_DARK), uri).toBeUndefined();
      }
      const inverted = renderQRCodeText(uri, { invert: true });
      expect(scan(inverted, DARK), uri).toBe(uri);
      expect(scan(inverted, LIGHT), uri).toBeUndefined();
    }
  });

  it('ansi: true sets black on white at the start of every line and resets at its end', () => {
    const text = renderQRCodeText(URI, { ansi: true });
    const lines = text.split('\n');
    const plain = renderQRCodeText(URI).split('\n');
    expect(lines).toHaveLength(plain.length);
    lines.forEach((line, i) => {
      expect(line.startsWith('\x1b[30;47m')).toBe(true);
      expect(line.endsWith('\x1b[0m')).toBe(true);
      // the same half blocks as plain text, colours only around them
      expect(line.slice('\x1b[30;47m'.length, -'\x1b[0m'.length)).toBe(plain[i]);
    });
  });

  it('ansi: true paints a quiet zone of at least 4 modules (the margin), on any background', () => {
    const qr = createQRCode(URI);
    for (const margin of [4, 6]) {
      const { data, width } = photograph(renderQRCodeText(URI, { ansi: true, margin }), DARK, 1, 0);
      // the photograph with px = 1 and no border: one pixel per module, rows 0..n-1
      const n = qr.size + 2 * margin;
      const white = DARK.ansi[7]!;
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) {
          const quiet = x < margin || y < margin || x >= n - margin || y >= n - margin;
          if (!quiet) continue;
          const i = (y * width + x) * 4;
          expect([data[i], data[i + 1], data[i + 2]], `${x},${y}`).toEqual([...white]);
        }
      }
    }
    expect(scan(renderQRCodeText(URI, { ansi: true, margin: 0 }), DARK)).toBeUndefined(); // no quiet zone: does not scan on dark
  });
});

describe('misuse', () => {
  const fns = [createQRCode, renderQRCodeSVG, renderQRCodeText] as const;

  it.each(fns.map((fn) => [fn.name, fn] as const))(
    '%s validates text and shared options',
    (_name, fn) => {
      const call = fn as (text: unknown, options?: unknown) => unknown;
      expectCode(() => call(42), TypeError, 'ERR_OPTION_TYPE');
      expectCode(() => call(undefined), TypeError, 'ERR_OPTION_TYPE');
      expectCode(() => call(new String('x')), TypeError, 'ERR_OPTION_TYPE');
      expectCode(() => call('x', null), TypeError, 'ERR_OPTION_TYPE');
      expectCode(() => call('x', 'M'), TypeError, 'ERR_OPTION_TYPE');
      expectCode(() => call('x', ['M']), TypeError, 'ERR_OPTION_TYPE');
      expectCode(() => call('x', { ecc: 'X' }), RangeError, 'ERR_OPTION_INVALID');
      expectCode(() => call('x', { ecc: 'm' }), RangeError, 'ERR_OPTION_INVALID');
      expectCode(() => call('x', { ecc: 'LM' }), RangeError, 'ERR_OPTION_INVALID');
      expectCode(() => call('x', { ecc: '' }), RangeError, 'ERR_OPTION_INVALID');
      expectCode(() => call('x', { ecc: 1 }), TypeError, 'ERR_OPTION_TYPE');
      expectCode(() => call('x', { minVersion: 0 }), RangeError, 'ERR_OPTION_INVALID');
      expectCode(() => call('x', { minVersion: 41 }), RangeError, 'ERR_OPTION_INVALID');
      expectCode(() => call('x', { minVersion: 2.5 }), RangeError, 'ERR_OPTION_INVALID');
      expectCode(() => call('x', { minVersion: Number.NaN }), RangeError, 'ERR_OPTION_INVALID');
      expectCode(() => call('x', { minVersion: '2' }), TypeError, 'ERR_OPTION_TYPE');
      expectCode(() => call('x', { eccLevel: 'M' }), RangeError, 'ERR_OPTION_UNKNOWN');
      expect(() => call('x', { ecc: undefined, minVersion: undefined })).not.toThrow();
    },
  );

  it('names the option and the value in messages', () => {
    expect(() => createQRCode('x', { ecc: 'X' as QRErrorCorrection })).toThrow(
      `"ecc" expected 'L' | 'M' | 'Q' | 'H', got "X"`,
    );
    expect(() => createQRCode('x', { minVersion: 41 })).toThrow('"minVersion"');
    expect(() => createQRCode('x', { colour: 1 } as never)).toThrow('"colour"');
  });

  it('rejects options of the other renderer', () => {
    expectCode(() => createQRCode('x', { margin: 2 } as never), RangeError, 'ERR_OPTION_UNKNOWN');
    expectCode(
      () => renderQRCodeText('x', { scale: 2 } as never),
      RangeError,
      'ERR_OPTION_UNKNOWN',
    );
    expectCode(
      () => renderQRCodeSVG('x', { invert: true } as never),
      RangeError,
      'ERR_OPTION_UNKNOWN',
    );
  });

  it('validates renderer options', () => {
    expectCode(() => renderQRCodeSVG('x', { margin: -1 }), RangeError, 'ERR_OPTION_INVALID');
    expectCode(() => renderQRCodeSVG('x', { margin: 1.5 }), RangeError, 'ERR_OPTION_INVALID');
    expectCode(() => renderQRCodeSVG('x', { scale: 0 }), RangeError, 'ERR_OPTION_INVALID');
    expectCode(() => renderQRCodeSVG('x', { scale: Infinity }), RangeError, 'ERR_OPTION_INVALID');
    expectCode(
      () => renderQRCodeSVG('x', { scale: '4' as unknown as number }),
      TypeError,
      'ERR_OPTION_TYPE',
    );
    expectCode(() => renderQRCodeText('x', { margin: 101 }), RangeError, 'ERR_OPTION_INVALID');
    expectCode(
      () => renderQRCodeText('x', { invert: 'yes' as unknown as boolean }),
      TypeError,
      'ERR_OPTION_TYPE',
    );
    expectCode(
      () => renderQRCodeText('x', { invert: 1 as unknown as boolean }),
      TypeError,
      'ERR_OPTION_TYPE',
    );
    expectCode(
      () => renderQRCodeText('x', { ansi: 'yes' as unknown as boolean }),
      TypeError,
      'ERR_OPTION_TYPE',
    );
    expectCode(
      () => renderQRCodeText('x', { ansi: true, invert: true }),
      RangeError,
      'ERR_OPTION_INVALID',
    );
    expect(() => renderQRCodeText('x', { ansi: false, invert: true })).not.toThrow();
    expectCode(
      () => renderQRCodeSVG('x', { ansi: true } as never),
      RangeError,
      'ERR_OPTION_UNKNOWN',
    );
  });
});
