/** HMAC-SHA-1/256/512 specialised for the 8-byte HOTP counter message (RFC 2104, FIPS 180-4). @module @internal */
import { rangeError } from './errors.js';

/** A hash function HOTP/TOTP may be keyed with (RFC 6238 §1.2). */
export type HashAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

/** A key with its HMAC inner and outer chaining states precomputed. Opaque to callers. */
export interface PreparedKey {
  readonly algorithm: HashAlgorithm;
}

/** HMAC output length in bytes: 20, 32, 64. */
export const HMAC_LENGTH: Readonly<Record<HashAlgorithm, number>> = Object.freeze({
  SHA1: 20,
  SHA256: 32,
  SHA512: 64,
});

// ---------------------------------------------------------------------------------------------
// Constants (FIPS 180-4). Int32Array wraps the values above 2^31 to their signed 32-bit form,
// which is what the `| 0` arithmetic below works in.
// ---------------------------------------------------------------------------------------------

/** §5.3.1: SHA-1 initial hash value. */
const IV1 = new Int32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);

/** §5.3.3: first 32 bits of the fractional parts of the square roots of the first 8 primes. */
const IV256 = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** §4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K256 = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/**
 * §5.3.5: first 64 bits of the fractional parts of the square roots of the first 8 primes,
 * laid out as a chaining value is held here: the 8 high halves, then the 8 low halves.
 */
const IV512 = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  0xf3bcc908, 0x84caa73b, 0xfe94f82b, 0x5f1d36f1, 0xade682d1, 0x2b3e6c1f, 0xfb41bd6b, 0x137e2179,
]);

/** §4.2.3: first 64 bits of the fractional parts of the cube roots of the first 80 primes, as (hi, lo) pairs. */
const K512 = new Int32Array([
  0x428a2f98, 0xd728ae22, 0x71374491, 0x23ef65cd, 0xb5c0fbcf, 0xec4d3b2f, 0xe9b5dba5, 0x8189dbbc,
  0x3956c25b, 0xf348b538, 0x59f111f1, 0xb605d019, 0x923f82a4, 0xaf194f9b, 0xab1c5ed5, 0xda6d8118,
  0xd807aa98, 0xa3030242, 0x12835b01, 0x45706fbe, 0x243185be, 0x4ee4b28c, 0x550c7dc3, 0xd5ffb4e2,
  0x72be5d74, 0xf27b896f, 0x80deb1fe, 0x3b1696b1, 0x9bdc06a7, 0x25c71235, 0xc19bf174, 0xcf692694,
  0xe49b69c1, 0x9ef14ad2, 0xefbe4786, 0x384f25e3, 0x0fc19dc6, 0x8b8cd5b5, 0x240ca1cc, 0x77ac9c65,
  0x2de92c6f, 0x592b0275, 0x4a7484aa, 0x6ea6e483, 0x5cb0a9dc, 0xbd41fbd4, 0x76f988da, 0x831153b5,
  0x983e5152, 0xee66dfab, 0xa831c66d, 0x2db43210, 0xb00327c8, 0x98fb213f, 0xbf597fc7, 0xbeef0ee4,
  0xc6e00bf3, 0x3da88fc2, 0xd5a79147, 0x930aa725, 0x06ca6351, 0xe003826f, 0x14292967, 0x0a0e6e70,
  0x27b70a85, 0x46d22ffc, 0x2e1b2138, 0x5c26c926, 0x4d2c6dfc, 0x5ac42aed, 0x53380d13, 0x9d95b3df,
  0x650a7354, 0x8baf63de, 0x766a0abb, 0x3c77b2a8, 0x81c2c92e, 0x47edaee6, 0x92722c85, 0x1482353b,
  0xa2bfe8a1, 0x4cf10364, 0xa81a664b, 0xbc423001, 0xc24b8b70, 0xd0f89791, 0xc76c51a3, 0x0654be30,
  0xd192e819, 0xd6ef5218, 0xd6990624, 0x5565a910, 0xf40e3585, 0x5771202a, 0x106aa070, 0x32bbd1b8,
  0x19a4c116, 0xb8d2d0c8, 0x1e376c08, 0x5141ab53, 0x2748774c, 0xdf8eeb99, 0x34b0bcb5, 0xe19b48a8,
  0x391c0cb3, 0xc5c95a63, 0x4ed8aa4a, 0xe3418acb, 0x5b9cca4f, 0x7763e373, 0x682e6ff3, 0xd6b2b8a3,
  0x748f82ee, 0x5defb2fc, 0x78a5636f, 0x43172f60, 0x84c87814, 0xa1f0ab72, 0x8cc70208, 0x1a6439ec,
  0x90befffa, 0x23631e28, 0xa4506ceb, 0xde82bde9, 0xbef9a3f7, 0xb2c67915, 0xc67178f2, 0xe372532b,
  0xca273ece, 0xea26619c, 0xd186b8c7, 0x21c0c207, 0xeada7dd6, 0xcde0eb1e, 0xf57d4f7f, 0xee6ed178,
  0x06f067aa, 0x72176fba, 0x0a637dc5, 0xa2c898a6, 0x113f9804, 0xbef90dae, 0x1b710b35, 0x131c471b,
  0x28db77f5, 0x23047d84, 0x32caab7b, 0x40c72493, 0x3c9ebe0a, 0x15c9bebc, 0x431d67c4, 0x9c100d4c,
  0x4cc5d4be, 0xcb3e42b6, 0x597f299c, 0xfc657e2a, 0x5fcb6fab, 0x3ad6faec, 0x6c44198c, 0x4a475817,
]);

/** 2^32: turns the float sum of unsigned low halves into its carry. */
const TWO_32 = 0x1_0000_0000;

// ---------------------------------------------------------------------------------------------
// Module scratch. JS is single-threaded and no function here re-enters another while a buffer is
// live, so one set serves every call; each call writes all 16 block words before reading any.
// ---------------------------------------------------------------------------------------------

/** SHA-1 (80 words) / SHA-256 (64 words) message schedule; W[0..15] is the block. */
const W = new Int32Array(80);
/** SHA-512 message schedule, high and low halves of each 64-bit word. */
const WH = new Int32Array(80);
const WL = new Int32Array(80);
/** Final HMAC digest words of the last call (SHA-512: 8 high halves, then 8 low halves). */
const D = new Int32Array(16);
/** K0 of RFC 2104 step 1–2 (the key, hashed if longer than a block, zero-padded) as big-endian words. */
const K0 = new Int32Array(32);

// ---------------------------------------------------------------------------------------------
// Compression functions. Each reads the chaining value at s[o..], the block already in the
// schedule buffer, and writes chaining value + working variables to the output (which may alias
// `s`: every read of `s` happens before the first write).
// ---------------------------------------------------------------------------------------------

/** FIPS 180-4 §6.1.2 steps 1–4. */
function sha1Block(s: Int32Array, o: number, out: Int32Array, p: number): void {
  const w = W;
  for (let t = 16; t < 80; t++) {
    const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
    w[t] = (x << 1) | (x >>> 31);
  }
  const s0 = s[o]!, s1 = s[o + 1]!, s2 = s[o + 2]!, s3 = s[o + 3]!, s4 = s[o + 4]!;
  let a = s0, b = s1, c = s2, d = s3, e = s4;
  let t = 0;
  // §4.1.1: f is Ch for rounds 0–19, Parity for 20–39 and 60–79, Maj for 40–59; §4.2.1 K per group.
  for (; t < 20; t++) {
    const T = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[t]!) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = T;
  }
  for (; t < 40; t++) {
    const T = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[t]!) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = T;
  }
  for (; t < 60; t++) {
    const T = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e - 0x70e44324 + w[t]!) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = T;
  }
  for (; t < 80; t++) {
    const T = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e - 0x359d3e2a + w[t]!) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = T;
  }
  out[p] = (s0 + a) | 0;
  out[p + 1] = (s1 + b) | 0;
  out[p + 2] = (s2 + c) | 0;
  out[p + 3] = (s3 + d) | 0;
  out[p + 4] = (s4 + e) | 0;
}

/** FIPS 180-4 §6.2.2 steps 1–4 (σ/Σ per §4.1.2). */
function sha256Block(s: Int32Array, o: number, out: Int32Array, p: number): void {
  const w = W;
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]!, y = w[t - 2]!;
    const g0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const g1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (g1 + w[t - 7]! + g0 + w[t - 16]!) | 0;
  }
  const s0 = s[o]!, s1 = s[o + 1]!, s2 = s[o + 2]!, s3 = s[o + 3]!;
  const s4 = s[o + 4]!, s5 = s[o + 5]!, s6 = s[o + 6]!, s7 = s[o + 7]!;
  let a = s0, b = s1, c = s2, d = s3, e = s4, f = s5, g = s6, h = s7;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const T1 = (h + S1 + ((e & f) ^ (~e & g)) + K256[t]! + w[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const T2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g; g = f; f = e; e = (d + T1) | 0; d = c; c = b; b = a; a = (T1 + T2) | 0;
  }
  out[p] = (s0 + a) | 0;
  out[p + 1] = (s1 + b) | 0;
  out[p + 2] = (s2 + c) | 0;
  out[p + 3] = (s3 + d) | 0;
  out[p + 4] = (s4 + e) | 0;
  out[p + 5] = (s5 + f) | 0;
  out[p + 6] = (s6 + g) | 0;
  out[p + 7] = (s7 + h) | 0;
}

/**
 * FIPS 180-4 §6.4.2 steps 1–4 on 64-bit words held as (hi, lo) int32 pairs. A 64-bit sum is the
 * float sum of the unsigned low halves (exact: at most 5 terms < 2^35) whose quotient by 2^32 is
 * the carry into the sum of the high halves. Rotations by n ≥ 32 swap the halves and rotate by n−32.
 * The chaining value at s[o..] is 8 high halves then 8 low halves; the result goes to oh[ph..], ol[pl..].
 */
function sha512Block(s: Int32Array, o: number, oh: Int32Array, ph: number, ol: Int32Array, pl: number): void {
  const wh = WH, wl = WL;
  for (let t = 16; t < 80; t++) {
    // σ0 = ROTR1 ^ ROTR8 ^ SHR7 of W[t-15]; σ1 = ROTR19 ^ ROTR61 ^ SHR6 of W[t-2].
    let xh = wh[t - 15]!, xl = wl[t - 15]!;
    const g0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7);
    const g0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25));
    xh = wh[t - 2]!; xl = wl[t - 2]!;
    const g1h = ((xh >>> 19) | (xl << 13)) ^ ((xl >>> 29) | (xh << 3)) ^ (xh >>> 6);
    const g1l = ((xl >>> 19) | (xh << 13)) ^ ((xh >>> 29) | (xl << 3)) ^ ((xl >>> 6) | (xh << 26));
    const lo = (g1l >>> 0) + (wl[t - 7]! >>> 0) + (g0l >>> 0) + (wl[t - 16]! >>> 0);
    wh[t] = (g1h + wh[t - 7]! + g0h + wh[t - 16]! + ((lo / TWO_32) | 0)) | 0;
    wl[t] = lo | 0;
  }
  const h0 = s[o]!, h1 = s[o + 1]!, h2 = s[o + 2]!, h3 = s[o + 3]!;
  const h4 = s[o + 4]!, h5 = s[o + 5]!, h6 = s[o + 6]!, h7 = s[o + 7]!;
  const l0 = s[o + 8]!, l1 = s[o + 9]!, l2 = s[o + 10]!, l3 = s[o + 11]!;
  const l4 = s[o + 12]!, l5 = s[o + 13]!, l6 = s[o + 14]!, l7 = s[o + 15]!;
  let ah = h0, bh = h1, ch = h2, dh = h3, eh = h4, fh = h5, gh = h6, hh = h7;
  let al = l0, bl = l1, cl = l2, dl = l3, el = l4, fl = l5, gl = l6, hl = l7;
  for (let t = 0; t < 80; t++) {
    // T1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t], Σ1 = ROTR14 ^ ROTR18 ^ ROTR41.
    const S1h = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23));
    const S1l = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23));
    const chooseH = (eh & fh) ^ (~eh & gh);
    const chooseL = (el & fl) ^ (~el & gl);
    const t1l = (hl >>> 0) + (S1l >>> 0) + (chooseL >>> 0) + (K512[2 * t + 1]! >>> 0) + (wl[t]! >>> 0);
    const T1h = (hh + S1h + chooseH + K512[2 * t]! + wh[t]! + ((t1l / TWO_32) | 0)) | 0;
    const T1l = t1l | 0;
    // T2 = Σ0(a) + Maj(a, b, c), Σ0 = ROTR28 ^ ROTR34 ^ ROTR39.
    const S0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25));
    const S0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25));
    const majH = (ah & bh) ^ (ah & ch) ^ (bh & ch);
    const majL = (al & bl) ^ (al & cl) ^ (bl & cl);
    const t2l = (S0l >>> 0) + (majL >>> 0);
    const T2h = (S0h + majH + ((t2l / TWO_32) | 0)) | 0;
    const T2l = t2l | 0;
    hh = gh; hl = gl;
    gh = fh; gl = fl;
    fh = eh; fl = el;
    const el2 = (dl >>> 0) + (T1l >>> 0);
    eh = (dh + T1h + ((el2 / TWO_32) | 0)) | 0; el = el2 | 0;
    dh = ch; dl = cl;
    ch = bh; cl = bl;
    bh = ah; bl = al;
    const al2 = (T1l >>> 0) + (T2l >>> 0);
    ah = (T1h + T2h + ((al2 / TWO_32) | 0)) | 0; al = al2 | 0;
  }
  // §6.4.2 step 4: H(i) = H(i-1) + working variables, all reads of `s` done above.
  let x: number;
  x = (l0 >>> 0) + (al >>> 0); oh[ph] = (h0 + ah + ((x / TWO_32) | 0)) | 0; ol[pl] = x | 0;
  x = (l1 >>> 0) + (bl >>> 0); oh[ph + 1] = (h1 + bh + ((x / TWO_32) | 0)) | 0; ol[pl + 1] = x | 0;
  x = (l2 >>> 0) + (cl >>> 0); oh[ph + 2] = (h2 + ch + ((x / TWO_32) | 0)) | 0; ol[pl + 2] = x | 0;
  x = (l3 >>> 0) + (dl >>> 0); oh[ph + 3] = (h3 + dh + ((x / TWO_32) | 0)) | 0; ol[pl + 3] = x | 0;
  x = (l4 >>> 0) + (el >>> 0); oh[ph + 4] = (h4 + eh + ((x / TWO_32) | 0)) | 0; ol[pl + 4] = x | 0;
  x = (l5 >>> 0) + (fl >>> 0); oh[ph + 5] = (h5 + fh + ((x / TWO_32) | 0)) | 0; ol[pl + 5] = x | 0;
  x = (l6 >>> 0) + (gl >>> 0); oh[ph + 6] = (h6 + gh + ((x / TWO_32) | 0)) | 0; ol[pl + 6] = x | 0;
  x = (l7 >>> 0) + (hl >>> 0); oh[ph + 7] = (h7 + hh + ((x / TWO_32) | 0)) | 0; ol[pl + 7] = x | 0;
}

// ---------------------------------------------------------------------------------------------
// Cold path: key preparation (RFC 2104 §2 steps 1–3 and the first block of steps 4 and 7).
// ---------------------------------------------------------------------------------------------

/** Bytes per hash block (B of RFC 2104). */
function blockBytes(algorithm: HashAlgorithm): number {
  return algorithm === 'SHA512' ? 128 : 64;
}

/** Words of 32 bits in the precomputed state: inner chaining value, then outer. */
function stateWords(algorithm: HashAlgorithm): number {
  return algorithm === 'SHA1' ? 10 : algorithm === 'SHA256' ? 16 : 32;
}

/** Loads K0 ^ pad (pad repeated in every byte) as one block into the schedule buffer. */
function loadPaddedKey(algorithm: HashAlgorithm, pad: number): void {
  if (algorithm === 'SHA512') {
    for (let j = 0; j < 16; j++) {
      WH[j] = K0[2 * j]! ^ pad;
      WL[j] = K0[2 * j + 1]! ^ pad;
    }
  } else {
    for (let j = 0; j < 16; j++) W[j] = K0[j]! ^ pad;
  }
}

/** Compresses the loaded block into IV, writing the chaining value to out[p..]. */
function compressFromIv(algorithm: HashAlgorithm, out: Int32Array, p: number): void {
  if (algorithm === 'SHA1') sha1Block(IV1, 0, out, p);
  else if (algorithm === 'SHA256') sha256Block(IV256, 0, out, p);
  else sha512Block(IV512, 0, out, p, out, p + 8);
}

/**
 * RFC 2104 step 1 for keys longer than B: K0 = H(key). A full Merkle–Damgård hash over the
 * message padded per FIPS 180-4 §5.1 (0x80, zeros, then the bit length in the last 8 or 16 bytes),
 * fed block by block through the same compression functions. Leaves H(key) in K0[0..].
 */
function hashKeyIntoK0(algorithm: HashAlgorithm, key: Uint8Array): void {
  const n = key.length;
  const B = blockBytes(algorithm);
  const lengthBytes = algorithm === 'SHA512' ? 16 : 8;
  const total = Math.ceil((n + 1 + lengthBytes) / B) * B;
  // Bit length n·8 as two 32-bit halves (only the last 8 length bytes can be non-zero for n < 2^53/8).
  const bitsHi = Math.floor(n / 0x2000_0000);
  const bitsLo = (n * 8) >>> 0;
  const byteAt = (i: number): number => {
    if (i < n) return key[i]!;
    if (i === n) return 0x80;
    if (i >= total - 4) return (bitsLo >>> ((total - 1 - i) * 8)) & 0xff;
    if (i >= total - 8) return (bitsHi >>> ((total - 5 - i) * 8)) & 0xff;
    return 0;
  };
  const H = new Int32Array(16);
  H.set(algorithm === 'SHA1' ? IV1 : algorithm === 'SHA256' ? IV256 : IV512);
  for (let off = 0; off < total; off += B) {
    for (let j = 0; j < B / 4; j++) {
      const i = off + 4 * j;
      const word = (byteAt(i) << 24) | (byteAt(i + 1) << 16) | (byteAt(i + 2) << 8) | byteAt(i + 3);
      if (algorithm === 'SHA512') {
        if (j & 1) WL[j >> 1] = word;
        else WH[j >> 1] = word;
      } else {
        W[j] = word;
      }
    }
    if (algorithm === 'SHA1') sha1Block(H, 0, H, 0);
    else if (algorithm === 'SHA256') sha256Block(H, 0, H, 0);
    else sha512Block(H, 0, H, 0, H, 8);
  }
  K0.fill(0);
  if (algorithm === 'SHA512') {
    // Back to big-endian byte order: (hi, lo) of each 64-bit word in turn.
    for (let j = 0; j < 8; j++) {
      K0[2 * j] = H[j]!;
      K0[2 * j + 1] = H[8 + j]!;
    }
  } else {
    K0.set(H.subarray(0, algorithm === 'SHA1' ? 5 : 8));
  }
  H.fill(0);
}

/** The concrete PreparedKey: chaining states in a non-enumerable field, never printed. */
class Prepared implements PreparedKey {
  readonly algorithm: HashAlgorithm;
  /** Inner then outer chaining value (RFC 2104 steps 4 and 7 after their first block). */
  declare readonly state: Int32Array;

  constructor(algorithm: HashAlgorithm, state: Int32Array) {
    this.algorithm = algorithm;
    Object.defineProperty(this, 'state', { value: state, enumerable: false, writable: false, configurable: false });
    Object.freeze(this);
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

/** Precompute the HMAC states of `key` (any length, including 0 and > block size). Pure; does not retain `key`. */
export function prepareKey(algorithm: HashAlgorithm, key: Uint8Array): PreparedKey {
  if (algorithm !== 'SHA1' && algorithm !== 'SHA256' && algorithm !== 'SHA512')
    throw rangeError('ERR_OPTION_ALGORITHM', `"algorithm" expected SHA1, SHA256 or SHA512`);
  const n = key.length;
  if (n > blockBytes(algorithm)) {
    hashKeyIntoK0(algorithm, key);
  } else {
    // RFC 2104 step 1: a key of at most B bytes is zero-padded to B bytes.
    K0.fill(0);
    for (let i = 0; i < n; i++) K0[i >> 2]! |= key[i]! << (24 - ((i & 3) << 3));
  }
  const state = new Int32Array(stateWords(algorithm));
  const half = state.length >> 1;
  // Steps 2–4 and 5–7 begin with one block of K0 ^ ipad / K0 ^ opad: compress it once, here.
  loadPaddedKey(algorithm, 0x36363636);
  compressFromIv(algorithm, state, 0);
  loadPaddedKey(algorithm, 0x5c5c5c5c);
  compressFromIv(algorithm, state, half);
  // Leave no key-equivalent material in module scratch.
  K0.fill(0);
  if (algorithm === 'SHA512') {
    WH.fill(0);
    WL.fill(0);
  } else {
    W.fill(0);
  }
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
function hmacIntoD(key: PreparedKey, hi: number, lo: number): void {
  const s = (key as Prepared).state;
  const algorithm = key.algorithm;
  if (algorithm === 'SHA1') {
    const w = W;
    w[0] = hi; w[1] = lo; w[2] = 0x80000000 | 0;
    w[3] = 0; w[4] = 0; w[5] = 0; w[6] = 0; w[7] = 0; w[8] = 0;
    w[9] = 0; w[10] = 0; w[11] = 0; w[12] = 0; w[13] = 0; w[14] = 0;
    w[15] = (64 + 8) * 8;
    sha1Block(s, 0, w, 0);
    w[5] = 0x80000000 | 0;
    w[6] = 0; w[7] = 0; w[8] = 0; w[9] = 0; w[10] = 0; w[11] = 0; w[12] = 0; w[13] = 0; w[14] = 0;
    w[15] = (64 + 20) * 8;
    sha1Block(s, 5, D, 0);
  } else if (algorithm === 'SHA256') {
    const w = W;
    w[0] = hi; w[1] = lo; w[2] = 0x80000000 | 0;
    w[3] = 0; w[4] = 0; w[5] = 0; w[6] = 0; w[7] = 0; w[8] = 0;
    w[9] = 0; w[10] = 0; w[11] = 0; w[12] = 0; w[13] = 0; w[14] = 0;
    w[15] = (64 + 8) * 8;
    sha256Block(s, 0, w, 0);
    w[8] = 0x80000000 | 0;
    w[9] = 0; w[10] = 0; w[11] = 0; w[12] = 0; w[13] = 0; w[14] = 0;
    w[15] = (64 + 32) * 8;
    sha256Block(s, 8, D, 0);
  } else {
    const wh = WH, wl = WL;
    wh[0] = hi; wl[0] = lo; wh[1] = 0x80000000 | 0; wl[1] = 0;
    for (let j = 2; j < 15; j++) { wh[j] = 0; wl[j] = 0; }
    wh[15] = 0; wl[15] = (128 + 8) * 8;
    sha512Block(s, 0, wh, 0, wl, 0);
    wh[8] = 0x80000000 | 0; wl[8] = 0;
    for (let j = 9; j < 15; j++) { wh[j] = 0; wl[j] = 0; }
    wh[15] = 0; wl[15] = (128 + 64) * 8;
    sha512Block(s, 16, D, 0, D, 8);
  }
}

/** Big-endian digest word k (0-based) of the digest in D. */
function digestWord(algorithm: HashAlgorithm, k: number): number {
  return algorithm === 'SHA512' ? D[(k >> 1) + ((k & 1) << 3)]! : D[k]!;
}

/**
 * HOTP dynamic truncation (RFC 4226 §5.3) of HMAC(key, counter) where counter = hi * 2^32 + lo as 8 bytes big-endian:
 * offset = last byte of the HMAC & 0x0f (the LAST byte of the full 20/32/64-byte HMAC, as in RFC 6238's reference code),
 * returns the 31-bit value ((b[off]&0x7f)<<24 | b[off+1]<<16 | b[off+2]<<8 | b[off+3]) as a non-negative number. No allocation.
 */
export function truncatedHmac(key: PreparedKey, counterHi: number, counterLo: number): number {
  hmacIntoD(key, counterHi | 0, counterLo | 0);
  const algorithm = key.algorithm;
  const offset = digestWord(algorithm, (HMAC_LENGTH[algorithm] >> 2) - 1) & 0x0f;
  // The 4 bytes at `offset` straddle at most two big-endian words.
  const k = offset >> 2;
  const shift = (offset & 3) << 3;
  const first = digestWord(algorithm, k);
  const word = shift === 0 ? first : (first << shift) | (digestWord(algorithm, k + 1) >>> (32 - shift));
  return word & 0x7fffffff;
}

/** The full HMAC bytes over the same 8-byte counter message (allocates; for tests and diagnostics). */
export function hmacCounter(key: PreparedKey, counterHi: number, counterLo: number): Uint8Array {
  hmacIntoD(key, counterHi | 0, counterLo | 0);
  const algorithm = key.algorithm;
  const out = new Uint8Array(HMAC_LENGTH[algorithm]);
  for (let i = 0; i < out.length; i++) {
    out[i] = digestWord(algorithm, i >> 2) >>> (24 - ((i & 3) << 3));
  }
  return out;
}
