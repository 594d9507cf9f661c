/**
 * HMAC-SHA-1/256/512 specialised for the 8-byte HOTP counter message (RFC 2104): key preparation,
 * the per-counter hot path (two compressions, no allocation) and RFC 4226 §5.3 dynamic truncation.
 * The compression functions are FIPS 180-4's, in _sha1.ts (generated) and _sha2.ts.
 * @module
 * @internal
 */
import { ALGORITHMS } from './_assert.js';
import { rangeError } from './errors.js';
import type { HashAlgorithm } from './hotp.js';
import { IV1, sha1Compress } from './_sha1.js';
import { iv256, iv512, sha256Compress, sha512Compress } from './_sha2.js';

/** @internal The public type lives in hotp.ts; re-exported for internal modules that import it from here. */
export type { HashAlgorithm } from './hotp.js';

/** A key with its HMAC inner and outer chaining states precomputed. Opaque to callers. */
export interface PreparedKey {
  readonly algorithm: HashAlgorithm;
}

/** HMAC output length in bytes: 20, 32, 64. */
export const HMAC_LENGTH: Readonly<Record<HashAlgorithm, number>> = /* @__PURE__ */ Object.freeze({
  SHA1: 20,
  SHA256: 32,
  SHA512: 64,
});

// ---------------------------------------------------------------------------------------------
// Module scratch. JS is single-threaded and nothing here re-enters while a buffer is live, so one
// set serves every call; every user writes all 16 block words before compressing.
// ---------------------------------------------------------------------------------------------

/** The SHA-1 / SHA-256 message block; the compression functions only read it. */
const W = /* @__PURE__ */ new Int32Array(16);
/** The SHA-512 message block: high and low halves of each 64-bit word. */
const WH = /* @__PURE__ */ new Int32Array(16);
const WL = /* @__PURE__ */ new Int32Array(16);
/** Final HMAC digest words of the last call (SHA-512: 8 high halves, then 8 low halves). */
const D = /* @__PURE__ */ new Int32Array(16);
/** The chaining states of a one-shot HMAC (generation); wiped before truncatedHmacOnce returns. */
const S = /* @__PURE__ */ new Int32Array(32);

/**
 * Sets all 16 words of a block to x. Written out: on this path a 16-iteration typed-array loop
 * costs about three times as much as the 16 statements, and Int32Array#fill more still.
 */
function fill16(w: Int32Array, x: number): void {
  w[0] = x;
  w[1] = x;
  w[2] = x;
  w[3] = x;
  w[4] = x;
  w[5] = x;
  w[6] = x;
  w[7] = x;
  w[8] = x;
  w[9] = x;
  w[10] = x;
  w[11] = x;
  w[12] = x;
  w[13] = x;
  w[14] = x;
  w[15] = x;
}

/** XORs x into all 16 words of a block (written out, as fill16). */
function xor16(w: Int32Array, x: number): void {
  w[0]! ^= x;
  w[1]! ^= x;
  w[2]! ^= x;
  w[3]! ^= x;
  w[4]! ^= x;
  w[5]! ^= x;
  w[6]! ^= x;
  w[7]! ^= x;
  w[8]! ^= x;
  w[9]! ^= x;
  w[10]! ^= x;
  w[11]! ^= x;
  w[12]! ^= x;
  w[13]! ^= x;
  w[14]! ^= x;
  w[15]! ^= x;
}

/**
 * Compresses the block in W (SHA-512: WH and WL) into the chaining value at s[o..], writing the
 * result to out[p..] (SHA-512: the 8 high halves at p, the 8 low halves at p + 8).
 */
function compress(
  algorithm: HashAlgorithm,
  s: Int32Array,
  o: number,
  out: Int32Array,
  p: number,
): void {
  if (algorithm === 'SHA1') sha1Compress(W, s, o, out, p);
  else if (algorithm === 'SHA256') sha256Compress(W, s, o, out, p);
  else sha512Compress(WH, WL, s, o, out, p, out, p + 8);
}

// ---------------------------------------------------------------------------------------------
// Key preparation (RFC 2104 §2 steps 1–3 and the first block of steps 4 and 7): once per
// verification, but once per code generated, so it is kept lean too.
// ---------------------------------------------------------------------------------------------

/** Bytes per hash block (B of RFC 2104). */
function blockBytes(algorithm: HashAlgorithm): number {
  return algorithm === 'SHA512' ? 128 : 64;
}

/** The chaining-value length in 32-bit words: 5, 8, 16 (SHA-512: 8 high halves, then 8 low). */
function stateWords(algorithm: HashAlgorithm): number {
  return algorithm === 'SHA1' ? 5 : algorithm === 'SHA256' ? 8 : 16;
}

/** Big-endian word k of a digest as the compression functions write it (SHA-512: 8 high halves, then 8 low). */
function digestWord(algorithm: HashAlgorithm, d: Int32Array, k: number): number {
  return algorithm === 'SHA512' ? d[(k >> 1) + ((k & 1) << 3)]! : d[k]!;
}

/** The digest in d as HMAC_LENGTH[algorithm] big-endian bytes. */
function digestBytes(algorithm: HashAlgorithm, d: Int32Array): Uint8Array {
  const out = new Uint8Array(HMAC_LENGTH[algorithm]);
  for (let i = 0; i < out.length; i++)
    out[i] = digestWord(algorithm, d, i >> 2) >>> (24 - ((i & 3) << 3));
  return out;
}

/**
 * Loads `bytes` (at most one block) as the message block, as big-endian words zero-padded to the
 * block, every word XORed with `pad`. Word i goes to W[i] (SHA-1/256) or, for SHA-512, to
 * WH[i/2] (even i) and WL[i/2] (odd i). This runs on every generation, so it matters.
 */
function loadBlock(algorithm: HashAlgorithm, bytes: Uint8Array, pad: number): void {
  const sha512 = algorithm === 'SHA512';
  // The padding first, then the key's words over it.
  if (sha512) fill16(WL, pad);
  fill16(sha512 ? WH : W, pad);
  const n = bytes.length;
  for (let i = 0, b = 0; b < n; i++, b += 4) {
    let w = bytes[b]! << 24;
    if (b + 4 <= n) w |= (bytes[b + 1]! << 16) | (bytes[b + 2]! << 8) | bytes[b + 3]!;
    else for (let k = 1, shift = 16; b + k < n; k++, shift -= 8) w |= bytes[b + k]! << shift;
    if (!sha512) W[i] = w ^ pad;
    else if ((i & 1) === 0) WH[i >> 1] = w ^ pad;
    else WL[i >> 1] = w ^ pad;
  }
}

/**
 * RFC 2104 step 1 for keys longer than B: K0 = H(key), a plain FIPS 180-4 hash. The message is
 * padded per §5.1 (0x80, zeros, the bit length big-endian in the last 8 or 16 bytes) and fed block
 * by block through the same compression functions. Cold path: allocates, then wipes its copies.
 */
function hashKey(algorithm: HashAlgorithm, key: Uint8Array): Uint8Array {
  const n = key.length;
  const B = blockBytes(algorithm);
  const lengthBytes = algorithm === 'SHA512' ? 16 : 8;
  const m = new Uint8Array(Math.ceil((n + 1 + lengthBytes) / B) * B);
  m.set(key);
  m[n] = 0x80;
  // n·8 < 2^64 for any real array, so only the last 8 length bytes can be non-zero.
  const bits = n * 8;
  const view = new DataView(m.buffer);
  view.setUint32(m.length - 8, Math.floor(bits / 0x1_0000_0000));
  view.setUint32(m.length - 4, bits >>> 0);
  const H = new Int32Array(16);
  H.set(algorithm === 'SHA1' ? IV1 : algorithm === 'SHA256' ? iv256() : iv512());
  for (let off = 0; off < m.length; off += B) {
    loadBlock(algorithm, m.subarray(off, off + B), 0);
    compress(algorithm, H, 0, H, 0);
  }
  const digest = digestBytes(algorithm, H);
  m.fill(0);
  H.fill(0);
  return digest;
}

/**
 * The concrete PreparedKey. The chaining states sit in a private field: JSON.stringify, spreading,
 * Object.keys and structured logging never see them, and only this module can read them.
 */
class Prepared implements PreparedKey {
  readonly algorithm: HashAlgorithm;
  /** Inner then outer chaining value (RFC 2104 steps 4 and 7 after their first block). */
  readonly #state: Int32Array;

  constructor(algorithm: HashAlgorithm, state: Int32Array) {
    this.algorithm = algorithm;
    this.#state = state;
  }

  /** The states of `key`, which must come from prepareKey. */
  static stateOf(key: PreparedKey): Int32Array {
    return (key as Prepared).#state;
  }

  /** Key-equivalent material must not reach logs or serialised objects. */
  toJSON(): string {
    return '[PreparedKey]';
  }

  toString(): string {
    return '[PreparedKey]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[PreparedKey]';
  }
}

/** RFC 2104 ipad and opad, as 32-bit words. */
const IPAD = 0x36363636;
const OPAD = 0x5c5c5c5c;

/**
 * Writes the inner and outer chaining states of `key` to state[0..] (RFC 2104 steps 2–4 and 5–7:
 * each starts with the single block K0 ^ ipad / K0 ^ opad, compressed once here), in the layout
 * hmacIntoD reads: 5+5 (SHA-1), 8+8 (SHA-256) or 16+16 (SHA-512) words. Leaves no key-equivalent
 * material in module scratch, except that with `keepBlock` the block buffer still holds K0 ^ opad:
 * only for a caller that overwrites all of it next (hmacIntoD does). `algorithm` must already be valid.
 */
function keyStates(
  algorithm: HashAlgorithm,
  key: Uint8Array,
  state: Int32Array,
  keepBlock: boolean,
): void {
  // Step 1: K0 is the key, or H(key) if longer than B; loadBlock supplies the zero padding to B.
  const k0 = key.length > blockBytes(algorithm) ? hashKey(algorithm, key) : key;
  const iv = algorithm === 'SHA1' ? IV1 : algorithm === 'SHA256' ? iv256() : iv512();
  loadBlock(algorithm, k0, IPAD);
  compress(algorithm, iv, 0, state, 0);
  // The compressions only read the block, so K0 ^ opad is derived from K0 ^ ipad in place.
  const sha512 = algorithm === 'SHA512';
  if (sha512) xor16(WL, IPAD ^ OPAD);
  xor16(sha512 ? WH : W, IPAD ^ OPAD);
  compress(algorithm, iv, 0, state, stateWords(algorithm));
  if (!keepBlock) {
    if (sha512) fill16(WL, 0);
    fill16(sha512 ? WH : W, 0);
  }
  if (k0 !== key) k0.fill(0);
}

/** Throws unless `algorithm` is one of the three this module implements (callers validate first: a guard). */
function checkAlgorithm(algorithm: HashAlgorithm): void {
  if (!ALGORITHMS.has(algorithm))
    throw rangeError('ERR_OPTION_ALGORITHM', `"algorithm" expected SHA1, SHA256 or SHA512`);
}

/** Precompute the HMAC states of `key` (any length, including 0 and > block size). Pure; does not retain `key`. */
export function prepareKey(algorithm: HashAlgorithm, key: Uint8Array): PreparedKey {
  checkAlgorithm(algorithm);
  const state = new Int32Array(2 * stateWords(algorithm));
  keyStates(algorithm, key, state, false);
  return new Prepared(algorithm, state);
}

// ---------------------------------------------------------------------------------------------
// Hot path: two compressions per counter, no allocation.
// ---------------------------------------------------------------------------------------------

/**
 * Runs HMAC over the 8-byte big-endian counter, leaving the digest words in D.
 * Inner block: counter, 0x80 pad, bit length of (B + 8) bytes. Outer block: inner digest, 0x80 pad,
 * bit length of (B + L) bytes (FIPS 180-4 §5.1 padding of a message that started with one key block).
 */
function hmacIntoD(algorithm: HashAlgorithm, s: Int32Array, hi: number, lo: number): void {
  if (algorithm === 'SHA512') {
    fill16(WH, 0);
    fill16(WL, 0);
    WH[0] = hi;
    WL[0] = lo;
    WH[1] = 0x80000000 | 0;
    WL[15] = (128 + 8) * 8;
    sha512Compress(WH, WL, s, 0, WH, 0, WL, 0);
    // The inner digest now fills words 0..7; words 9..14 are still zero.
    WH[8] = 0x80000000 | 0;
    WL[15] = (128 + 64) * 8;
    sha512Compress(WH, WL, s, 16, D, 0, D, 8);
  } else {
    const L = stateWords(algorithm);
    fill16(W, 0);
    W[0] = hi;
    W[1] = lo;
    W[2] = 0x80000000 | 0;
    W[15] = (64 + 8) * 8;
    compress(algorithm, s, 0, W, 0);
    // The inner digest now fills words 0..L−1; words L+1..14 are still zero.
    W[L] = 0x80000000 | 0;
    W[15] = (64 + 4 * L) * 8;
    compress(algorithm, s, L, D, 0);
  }
}

/** RFC 4226 §5.3 dynamic truncation of the digest in D (see truncatedHmac). */
function truncateD(algorithm: HashAlgorithm): number {
  // The offset is the low nibble of the digest's last byte: word 4 (SHA-1), 7 (SHA-256) or 15 (SHA-512).
  const offset = digestWord(algorithm, D, stateWords(algorithm) - 1) & 0x0f;
  // The 4 bytes at `offset` straddle at most two big-endian words.
  const k = offset >> 2;
  const shift = (offset & 3) << 3;
  const first = digestWord(algorithm, D, k);
  const word =
    shift === 0 ? first : (first << shift) | (digestWord(algorithm, D, k + 1) >>> (32 - shift));
  return word & 0x7fffffff;
}

/**
 * HOTP dynamic truncation (RFC 4226 §5.3) of HMAC(key, counter) where counter = hi * 2^32 + lo as 8 bytes big-endian:
 * offset = last byte of the HMAC & 0x0f (the LAST byte of the full 20/32/64-byte HMAC, as in RFC 6238's reference code),
 * returns the 31-bit value ((b[off]&0x7f)<<24 | b[off+1]<<16 | b[off+2]<<8 | b[off+3]) as a non-negative number. No allocation.
 */
export function truncatedHmac(key: PreparedKey, counterHi: number, counterLo: number): number {
  const algorithm = key.algorithm;
  hmacIntoD(algorithm, Prepared.stateOf(key), counterHi | 0, counterLo | 0);
  return truncateD(algorithm);
}

/**
 * The same value as `truncatedHmac(prepareKey(algorithm, key), hi, lo)` for a single counter
 * (generation), without allocating a PreparedKey: the states live in module scratch only for the
 * duration of the call and are wiped before it returns.
 */
export function truncatedHmacOnce(
  algorithm: HashAlgorithm,
  key: Uint8Array,
  counterHi: number,
  counterLo: number,
): number {
  checkAlgorithm(algorithm);
  // hmacIntoD overwrites the whole block buffer first, so keyStates need not wipe it.
  keyStates(algorithm, key, S, true);
  hmacIntoD(algorithm, S, counterHi | 0, counterLo | 0);
  fill16(S, 0);
  if (algorithm === 'SHA512') S.fill(0, 16);
  return truncateD(algorithm);
}

/** @internal 10^digits for digits 0..8: a truncated value modulo 10^digits is the code (RFC 4226 §5.3 step 3). */
export const POW10: readonly number[] = [
  1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
];

/** @internal Formats a truncated value as `digits` decimal digits with leading zeros (RFC 4226 §5.3 step 3). */
export function formatCode(value: number, digits: number): string {
  const code = String(value % POW10[digits]!);
  // padStart costs a builtin call even with nothing to add, and only one code in ten needs it.
  return code.length < digits ? code.padStart(digits, '0') : code;
}

/** The full HMAC bytes over the same 8-byte counter message (allocates; for tests and diagnostics). */
export function hmacCounter(key: PreparedKey, counterHi: number, counterLo: number): Uint8Array {
  hmacIntoD(key.algorithm, Prepared.stateOf(key), counterHi | 0, counterLo | 0);
  return digestBytes(key.algorithm, D);
}
