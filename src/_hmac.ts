/** HMAC-SHA-1/256/512 specialised for the 8-byte HOTP counter message (RFC 2104, FIPS 180-4). @module @internal */
import { rangeError } from './errors.js';
import { iv256, iv512, sha256Compress, sha512Compress } from './_sha2.js';

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

// SHA-256/512 constants and initial values live in _sha2.ts (derived at first use).

// ---------------------------------------------------------------------------------------------
// Module scratch. JS is single-threaded and nothing here re-enters while a buffer is live, so one
// set serves every call; every user writes all 16 block words before compressing.
// ---------------------------------------------------------------------------------------------

/** The SHA-1 / SHA-256 message block; the compression functions only read it. */
const W = new Int32Array(16);
/** The SHA-512 message block: high and low halves of each 64-bit word. */
const WH = new Int32Array(16);
const WL = new Int32Array(16);
/** Final HMAC digest words of the last call (SHA-512: 8 high halves, then 8 low halves). */
const D = new Int32Array(16);
/** The chaining states of a one-shot HMAC (generation); wiped before truncatedHmacOnce returns. */
const S = new Int32Array(32);

// ---------------------------------------------------------------------------------------------
// Compression functions. Each reads the chaining value at s[o..] and the message block already in
// W (SHA-512: WH/WL), and writes chaining value + working variables to the output. They never
// write the block buffer except as that output, and read all of `s` before writing, so the output
// may alias either.
// ---------------------------------------------------------------------------------------------

/**
 * FIPS 180-4 §6.1.2 steps 1–4, straight-line. Instead of shifting a..e each round, a round stores
 * its new `a` in the variable holding the spec's `e` (dead after the round) and rotates the spec's
 * `b` in place, so the names cycle and line up again every 5 rounds. The schedule is the 16-word
 * ring of §6.1.3's alternative method, in locals w0..w15 (W[t] overwrites W[t−16]). Measured about
 * twice as fast as an 80-word Int32Array schedule with round loops.
 */
function sha1Block(s: Int32Array, o: number, out: Int32Array, p: number): void {
  const m = W;
  let w0 = m[0]!, w1 = m[1]!, w2 = m[2]!, w3 = m[3]!, w4 = m[4]!, w5 = m[5]!, w6 = m[6]!, w7 = m[7]!;
  let w8 = m[8]!, w9 = m[9]!, w10 = m[10]!, w11 = m[11]!, w12 = m[12]!, w13 = m[13]!, w14 = m[14]!, w15 = m[15]!;
  const s0 = s[o]!, s1 = s[o + 1]!, s2 = s[o + 2]!, s3 = s[o + 3]!, s4 = s[o + 4]!;
  let a = s0, b = s1, c = s2, d = s3, e = s4, x = 0;
  // §4.1.1 Ch(b,c,d) = d ^ (b & (c ^ d)) and Maj(b,c,d) = (b & c) | (d & (b | c)) are the usual
  // identities for the spec's forms; §4.2.1 K, with the two above 2^31 written as their int32 values.
  // Each sum is written e + K + W + ROTL5(a) + f(b,c,d), not in the spec's order: the adds run left
  // to right, so the terms that do not depend on the previous round's result go first and only two
  // adds follow ROTL5(a) (about 12% faster per block than the spec's order; addition mod 2^32 is
  // associative and commutative, so the value is the same).
  // Rounds 0–19: Ch.
  e = (e + 0x5a827999 + w0 + ((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d)))) | 0; b = (b << 30) | (b >>> 2);
  d = (d + 0x5a827999 + w1 + ((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c)))) | 0; a = (a << 30) | (a >>> 2);
  c = (c + 0x5a827999 + w2 + ((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b)))) | 0; e = (e << 30) | (e >>> 2);
  b = (b + 0x5a827999 + w3 + ((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a)))) | 0; d = (d << 30) | (d >>> 2);
  a = (a + 0x5a827999 + w4 + ((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e)))) | 0; c = (c << 30) | (c >>> 2);
  e = (e + 0x5a827999 + w5 + ((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d)))) | 0; b = (b << 30) | (b >>> 2);
  d = (d + 0x5a827999 + w6 + ((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c)))) | 0; a = (a << 30) | (a >>> 2);
  c = (c + 0x5a827999 + w7 + ((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b)))) | 0; e = (e << 30) | (e >>> 2);
  b = (b + 0x5a827999 + w8 + ((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a)))) | 0; d = (d << 30) | (d >>> 2);
  a = (a + 0x5a827999 + w9 + ((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e)))) | 0; c = (c << 30) | (c >>> 2);
  e = (e + 0x5a827999 + w10 + ((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d)))) | 0; b = (b << 30) | (b >>> 2);
  d = (d + 0x5a827999 + w11 + ((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c)))) | 0; a = (a << 30) | (a >>> 2);
  c = (c + 0x5a827999 + w12 + ((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b)))) | 0; e = (e << 30) | (e >>> 2);
  b = (b + 0x5a827999 + w13 + ((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a)))) | 0; d = (d << 30) | (d >>> 2);
  a = (a + 0x5a827999 + w14 + ((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e)))) | 0; c = (c << 30) | (c >>> 2);
  e = (e + 0x5a827999 + w15 + ((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d)))) | 0; b = (b << 30) | (b >>> 2);
  x = w13 ^ w8 ^ w2 ^ w0; w0 = (x << 1) | (x >>> 31);
  d = (d + 0x5a827999 + w0 + ((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c)))) | 0; a = (a << 30) | (a >>> 2);
  x = w14 ^ w9 ^ w3 ^ w1; w1 = (x << 1) | (x >>> 31);
  c = (c + 0x5a827999 + w1 + ((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b)))) | 0; e = (e << 30) | (e >>> 2);
  x = w15 ^ w10 ^ w4 ^ w2; w2 = (x << 1) | (x >>> 31);
  b = (b + 0x5a827999 + w2 + ((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a)))) | 0; d = (d << 30) | (d >>> 2);
  x = w0 ^ w11 ^ w5 ^ w3; w3 = (x << 1) | (x >>> 31);
  a = (a + 0x5a827999 + w3 + ((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e)))) | 0; c = (c << 30) | (c >>> 2);
  // Rounds 20–39: Parity.
  x = w1 ^ w12 ^ w6 ^ w4; w4 = (x << 1) | (x >>> 31);
  e = (e + 0x6ed9eba1 + w4 + ((a << 5) | (a >>> 27)) + (b ^ c ^ d)) | 0; b = (b << 30) | (b >>> 2);
  x = w2 ^ w13 ^ w7 ^ w5; w5 = (x << 1) | (x >>> 31);
  d = (d + 0x6ed9eba1 + w5 + ((e << 5) | (e >>> 27)) + (a ^ b ^ c)) | 0; a = (a << 30) | (a >>> 2);
  x = w3 ^ w14 ^ w8 ^ w6; w6 = (x << 1) | (x >>> 31);
  c = (c + 0x6ed9eba1 + w6 + ((d << 5) | (d >>> 27)) + (e ^ a ^ b)) | 0; e = (e << 30) | (e >>> 2);
  x = w4 ^ w15 ^ w9 ^ w7; w7 = (x << 1) | (x >>> 31);
  b = (b + 0x6ed9eba1 + w7 + ((c << 5) | (c >>> 27)) + (d ^ e ^ a)) | 0; d = (d << 30) | (d >>> 2);
  x = w5 ^ w0 ^ w10 ^ w8; w8 = (x << 1) | (x >>> 31);
  a = (a + 0x6ed9eba1 + w8 + ((b << 5) | (b >>> 27)) + (c ^ d ^ e)) | 0; c = (c << 30) | (c >>> 2);
  x = w6 ^ w1 ^ w11 ^ w9; w9 = (x << 1) | (x >>> 31);
  e = (e + 0x6ed9eba1 + w9 + ((a << 5) | (a >>> 27)) + (b ^ c ^ d)) | 0; b = (b << 30) | (b >>> 2);
  x = w7 ^ w2 ^ w12 ^ w10; w10 = (x << 1) | (x >>> 31);
  d = (d + 0x6ed9eba1 + w10 + ((e << 5) | (e >>> 27)) + (a ^ b ^ c)) | 0; a = (a << 30) | (a >>> 2);
  x = w8 ^ w3 ^ w13 ^ w11; w11 = (x << 1) | (x >>> 31);
  c = (c + 0x6ed9eba1 + w11 + ((d << 5) | (d >>> 27)) + (e ^ a ^ b)) | 0; e = (e << 30) | (e >>> 2);
  x = w9 ^ w4 ^ w14 ^ w12; w12 = (x << 1) | (x >>> 31);
  b = (b + 0x6ed9eba1 + w12 + ((c << 5) | (c >>> 27)) + (d ^ e ^ a)) | 0; d = (d << 30) | (d >>> 2);
  x = w10 ^ w5 ^ w15 ^ w13; w13 = (x << 1) | (x >>> 31);
  a = (a + 0x6ed9eba1 + w13 + ((b << 5) | (b >>> 27)) + (c ^ d ^ e)) | 0; c = (c << 30) | (c >>> 2);
  x = w11 ^ w6 ^ w0 ^ w14; w14 = (x << 1) | (x >>> 31);
  e = (e + 0x6ed9eba1 + w14 + ((a << 5) | (a >>> 27)) + (b ^ c ^ d)) | 0; b = (b << 30) | (b >>> 2);
  x = w12 ^ w7 ^ w1 ^ w15; w15 = (x << 1) | (x >>> 31);
  d = (d + 0x6ed9eba1 + w15 + ((e << 5) | (e >>> 27)) + (a ^ b ^ c)) | 0; a = (a << 30) | (a >>> 2);
  x = w13 ^ w8 ^ w2 ^ w0; w0 = (x << 1) | (x >>> 31);
  c = (c + 0x6ed9eba1 + w0 + ((d << 5) | (d >>> 27)) + (e ^ a ^ b)) | 0; e = (e << 30) | (e >>> 2);
  x = w14 ^ w9 ^ w3 ^ w1; w1 = (x << 1) | (x >>> 31);
  b = (b + 0x6ed9eba1 + w1 + ((c << 5) | (c >>> 27)) + (d ^ e ^ a)) | 0; d = (d << 30) | (d >>> 2);
  x = w15 ^ w10 ^ w4 ^ w2; w2 = (x << 1) | (x >>> 31);
  a = (a + 0x6ed9eba1 + w2 + ((b << 5) | (b >>> 27)) + (c ^ d ^ e)) | 0; c = (c << 30) | (c >>> 2);
  x = w0 ^ w11 ^ w5 ^ w3; w3 = (x << 1) | (x >>> 31);
  e = (e + 0x6ed9eba1 + w3 + ((a << 5) | (a >>> 27)) + (b ^ c ^ d)) | 0; b = (b << 30) | (b >>> 2);
  x = w1 ^ w12 ^ w6 ^ w4; w4 = (x << 1) | (x >>> 31);
  d = (d + 0x6ed9eba1 + w4 + ((e << 5) | (e >>> 27)) + (a ^ b ^ c)) | 0; a = (a << 30) | (a >>> 2);
  x = w2 ^ w13 ^ w7 ^ w5; w5 = (x << 1) | (x >>> 31);
  c = (c + 0x6ed9eba1 + w5 + ((d << 5) | (d >>> 27)) + (e ^ a ^ b)) | 0; e = (e << 30) | (e >>> 2);
  x = w3 ^ w14 ^ w8 ^ w6; w6 = (x << 1) | (x >>> 31);
  b = (b + 0x6ed9eba1 + w6 + ((c << 5) | (c >>> 27)) + (d ^ e ^ a)) | 0; d = (d << 30) | (d >>> 2);
  x = w4 ^ w15 ^ w9 ^ w7; w7 = (x << 1) | (x >>> 31);
  a = (a + 0x6ed9eba1 + w7 + ((b << 5) | (b >>> 27)) + (c ^ d ^ e)) | 0; c = (c << 30) | (c >>> 2);
  // Rounds 40–59: Maj.
  x = w5 ^ w0 ^ w10 ^ w8; w8 = (x << 1) | (x >>> 31);
  e = (e - 0x70e44324 + w8 + ((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c)))) | 0; b = (b << 30) | (b >>> 2);
  x = w6 ^ w1 ^ w11 ^ w9; w9 = (x << 1) | (x >>> 31);
  d = (d - 0x70e44324 + w9 + ((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b)))) | 0; a = (a << 30) | (a >>> 2);
  x = w7 ^ w2 ^ w12 ^ w10; w10 = (x << 1) | (x >>> 31);
  c = (c - 0x70e44324 + w10 + ((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a)))) | 0; e = (e << 30) | (e >>> 2);
  x = w8 ^ w3 ^ w13 ^ w11; w11 = (x << 1) | (x >>> 31);
  b = (b - 0x70e44324 + w11 + ((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e)))) | 0; d = (d << 30) | (d >>> 2);
  x = w9 ^ w4 ^ w14 ^ w12; w12 = (x << 1) | (x >>> 31);
  a = (a - 0x70e44324 + w12 + ((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d)))) | 0; c = (c << 30) | (c >>> 2);
  x = w10 ^ w5 ^ w15 ^ w13; w13 = (x << 1) | (x >>> 31);
  e = (e - 0x70e44324 + w13 + ((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c)))) | 0; b = (b << 30) | (b >>> 2);
  x = w11 ^ w6 ^ w0 ^ w14; w14 = (x << 1) | (x >>> 31);
  d = (d - 0x70e44324 + w14 + ((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b)))) | 0; a = (a << 30) | (a >>> 2);
  x = w12 ^ w7 ^ w1 ^ w15; w15 = (x << 1) | (x >>> 31);
  c = (c - 0x70e44324 + w15 + ((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a)))) | 0; e = (e << 30) | (e >>> 2);
  x = w13 ^ w8 ^ w2 ^ w0; w0 = (x << 1) | (x >>> 31);
  b = (b - 0x70e44324 + w0 + ((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e)))) | 0; d = (d << 30) | (d >>> 2);
  x = w14 ^ w9 ^ w3 ^ w1; w1 = (x << 1) | (x >>> 31);
  a = (a - 0x70e44324 + w1 + ((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d)))) | 0; c = (c << 30) | (c >>> 2);
  x = w15 ^ w10 ^ w4 ^ w2; w2 = (x << 1) | (x >>> 31);
  e = (e - 0x70e44324 + w2 + ((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c)))) | 0; b = (b << 30) | (b >>> 2);
  x = w0 ^ w11 ^ w5 ^ w3; w3 = (x << 1) | (x >>> 31);
  d = (d - 0x70e44324 + w3 + ((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b)))) | 0; a = (a << 30) | (a >>> 2);
  x = w1 ^ w12 ^ w6 ^ w4; w4 = (x << 1) | (x >>> 31);
  c = (c - 0x70e44324 + w4 + ((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a)))) | 0; e = (e << 30) | (e >>> 2);
  x = w2 ^ w13 ^ w7 ^ w5; w5 = (x << 1) | (x >>> 31);
  b = (b - 0x70e44324 + w5 + ((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e)))) | 0; d = (d << 30) | (d >>> 2);
  x = w3 ^ w14 ^ w8 ^ w6; w6 = (x << 1) | (x >>> 31);
  a = (a - 0x70e44324 + w6 + ((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d)))) | 0; c = (c << 30) | (c >>> 2);
  x = w4 ^ w15 ^ w9 ^ w7; w7 = (x << 1) | (x >>> 31);
  e = (e - 0x70e44324 + w7 + ((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c)))) | 0; b = (b << 30) | (b >>> 2);
  x = w5 ^ w0 ^ w10 ^ w8; w8 = (x << 1) | (x >>> 31);
  d = (d - 0x70e44324 + w8 + ((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b)))) | 0; a = (a << 30) | (a >>> 2);
  x = w6 ^ w1 ^ w11 ^ w9; w9 = (x << 1) | (x >>> 31);
  c = (c - 0x70e44324 + w9 + ((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a)))) | 0; e = (e << 30) | (e >>> 2);
  x = w7 ^ w2 ^ w12 ^ w10; w10 = (x << 1) | (x >>> 31);
  b = (b - 0x70e44324 + w10 + ((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e)))) | 0; d = (d << 30) | (d >>> 2);
  x = w8 ^ w3 ^ w13 ^ w11; w11 = (x << 1) | (x >>> 31);
  a = (a - 0x70e44324 + w11 + ((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d)))) | 0; c = (c << 30) | (c >>> 2);
  // Rounds 60–79: Parity.
  x = w9 ^ w4 ^ w14 ^ w12; w12 = (x << 1) | (x >>> 31);
  e = (e - 0x359d3e2a + w12 + ((a << 5) | (a >>> 27)) + (b ^ c ^ d)) | 0; b = (b << 30) | (b >>> 2);
  x = w10 ^ w5 ^ w15 ^ w13; w13 = (x << 1) | (x >>> 31);
  d = (d - 0x359d3e2a + w13 + ((e << 5) | (e >>> 27)) + (a ^ b ^ c)) | 0; a = (a << 30) | (a >>> 2);
  x = w11 ^ w6 ^ w0 ^ w14; w14 = (x << 1) | (x >>> 31);
  c = (c - 0x359d3e2a + w14 + ((d << 5) | (d >>> 27)) + (e ^ a ^ b)) | 0; e = (e << 30) | (e >>> 2);
  x = w12 ^ w7 ^ w1 ^ w15; w15 = (x << 1) | (x >>> 31);
  b = (b - 0x359d3e2a + w15 + ((c << 5) | (c >>> 27)) + (d ^ e ^ a)) | 0; d = (d << 30) | (d >>> 2);
  x = w13 ^ w8 ^ w2 ^ w0; w0 = (x << 1) | (x >>> 31);
  a = (a - 0x359d3e2a + w0 + ((b << 5) | (b >>> 27)) + (c ^ d ^ e)) | 0; c = (c << 30) | (c >>> 2);
  x = w14 ^ w9 ^ w3 ^ w1; w1 = (x << 1) | (x >>> 31);
  e = (e - 0x359d3e2a + w1 + ((a << 5) | (a >>> 27)) + (b ^ c ^ d)) | 0; b = (b << 30) | (b >>> 2);
  x = w15 ^ w10 ^ w4 ^ w2; w2 = (x << 1) | (x >>> 31);
  d = (d - 0x359d3e2a + w2 + ((e << 5) | (e >>> 27)) + (a ^ b ^ c)) | 0; a = (a << 30) | (a >>> 2);
  x = w0 ^ w11 ^ w5 ^ w3; w3 = (x << 1) | (x >>> 31);
  c = (c - 0x359d3e2a + w3 + ((d << 5) | (d >>> 27)) + (e ^ a ^ b)) | 0; e = (e << 30) | (e >>> 2);
  x = w1 ^ w12 ^ w6 ^ w4; w4 = (x << 1) | (x >>> 31);
  b = (b - 0x359d3e2a + w4 + ((c << 5) | (c >>> 27)) + (d ^ e ^ a)) | 0; d = (d << 30) | (d >>> 2);
  x = w2 ^ w13 ^ w7 ^ w5; w5 = (x << 1) | (x >>> 31);
  a = (a - 0x359d3e2a + w5 + ((b << 5) | (b >>> 27)) + (c ^ d ^ e)) | 0; c = (c << 30) | (c >>> 2);
  x = w3 ^ w14 ^ w8 ^ w6; w6 = (x << 1) | (x >>> 31);
  e = (e - 0x359d3e2a + w6 + ((a << 5) | (a >>> 27)) + (b ^ c ^ d)) | 0; b = (b << 30) | (b >>> 2);
  x = w4 ^ w15 ^ w9 ^ w7; w7 = (x << 1) | (x >>> 31);
  d = (d - 0x359d3e2a + w7 + ((e << 5) | (e >>> 27)) + (a ^ b ^ c)) | 0; a = (a << 30) | (a >>> 2);
  x = w5 ^ w0 ^ w10 ^ w8; w8 = (x << 1) | (x >>> 31);
  c = (c - 0x359d3e2a + w8 + ((d << 5) | (d >>> 27)) + (e ^ a ^ b)) | 0; e = (e << 30) | (e >>> 2);
  x = w6 ^ w1 ^ w11 ^ w9; w9 = (x << 1) | (x >>> 31);
  b = (b - 0x359d3e2a + w9 + ((c << 5) | (c >>> 27)) + (d ^ e ^ a)) | 0; d = (d << 30) | (d >>> 2);
  x = w7 ^ w2 ^ w12 ^ w10; w10 = (x << 1) | (x >>> 31);
  a = (a - 0x359d3e2a + w10 + ((b << 5) | (b >>> 27)) + (c ^ d ^ e)) | 0; c = (c << 30) | (c >>> 2);
  x = w8 ^ w3 ^ w13 ^ w11; w11 = (x << 1) | (x >>> 31);
  e = (e - 0x359d3e2a + w11 + ((a << 5) | (a >>> 27)) + (b ^ c ^ d)) | 0; b = (b << 30) | (b >>> 2);
  x = w9 ^ w4 ^ w14 ^ w12; w12 = (x << 1) | (x >>> 31);
  d = (d - 0x359d3e2a + w12 + ((e << 5) | (e >>> 27)) + (a ^ b ^ c)) | 0; a = (a << 30) | (a >>> 2);
  x = w10 ^ w5 ^ w15 ^ w13; w13 = (x << 1) | (x >>> 31);
  c = (c - 0x359d3e2a + w13 + ((d << 5) | (d >>> 27)) + (e ^ a ^ b)) | 0; e = (e << 30) | (e >>> 2);
  x = w11 ^ w6 ^ w0 ^ w14; w14 = (x << 1) | (x >>> 31);
  b = (b - 0x359d3e2a + w14 + ((c << 5) | (c >>> 27)) + (d ^ e ^ a)) | 0; d = (d << 30) | (d >>> 2);
  x = w12 ^ w7 ^ w1 ^ w15; w15 = (x << 1) | (x >>> 31);
  a = (a - 0x359d3e2a + w15 + ((b << 5) | (b >>> 27)) + (c ^ d ^ e)) | 0; c = (c << 30) | (c >>> 2);
  out[p] = (s0 + a) | 0;
  out[p + 1] = (s1 + b) | 0;
  out[p + 2] = (s2 + c) | 0;
  out[p + 3] = (s3 + d) | 0;
  out[p + 4] = (s4 + e) | 0;
}

/** FIPS 180-4 §6.2.2 on the block in W (round loops: see _sha2.ts for why these two are compact). */
function sha256Block(s: Int32Array, o: number, out: Int32Array, p: number): void {
  sha256Compress(W, s, o, out, p);
}

/** FIPS 180-4 §6.4.2 on the block in WH/WL; chaining value 8 high halves then 8 low halves. */
function sha512Block(s: Int32Array, o: number, oh: Int32Array, ph: number, ol: Int32Array, pl: number): void {
  sha512Compress(WH, WL, s, o, oh, ph, ol, pl);
}

// ---------------------------------------------------------------------------------------------
// Cold path: key preparation (RFC 2104 §2 steps 1–3 and the first block of steps 4 and 7).
// ---------------------------------------------------------------------------------------------

/** Bytes per hash block (B of RFC 2104). */
function blockBytes(algorithm: HashAlgorithm): number {
  return algorithm === 'SHA512' ? 128 : 64;
}

/** Big-endian word at bytes[i..i+3], reading zeros past the end (RFC 2104 step 1's zero padding). */
function wordAt(bytes: Uint8Array, i: number): number {
  if (i >= bytes.length) return 0;
  if (i + 4 <= bytes.length) return (bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!;
  let w = 0;
  for (let k = i; k < i + 4; k++) w = (w << 8) | (k < bytes.length ? bytes[k]! : 0);
  return w;
}

/** Loads the block at bytes[off..off+B) (zero-extended), every word XORed with `pad`, as the next message block. */
function loadBlock(algorithm: HashAlgorithm, bytes: Uint8Array, off: number, pad: number): void {
  if (algorithm === 'SHA512') {
    for (let j = 0; j < 16; j++) {
      WH[j] = wordAt(bytes, off + 8 * j) ^ pad;
      WL[j] = wordAt(bytes, off + 8 * j + 4) ^ pad;
    }
  } else {
    for (let j = 0; j < 16; j++) W[j] = wordAt(bytes, off + 4 * j) ^ pad;
  }
}

/** Compresses the loaded block into the chaining value s[o..], writing the result to out[p..]. */
function compress(algorithm: HashAlgorithm, s: Int32Array, o: number, out: Int32Array, p: number): void {
  if (algorithm === 'SHA1') sha1Block(s, o, out, p);
  else if (algorithm === 'SHA256') sha256Block(s, o, out, p);
  else sha512Block(s, o, out, p, out, p + 8);
}

/** Big-endian word k of a digest held as sha*Block writes it (SHA-512: 8 high halves, then 8 low). */
function digestWord(algorithm: HashAlgorithm, d: Int32Array, k: number): number {
  return algorithm === 'SHA512' ? d[(k >> 1) + ((k & 1) << 3)]! : d[k]!;
}

/** The digest in d as HMAC_LENGTH[algorithm] big-endian bytes. */
function digestBytes(algorithm: HashAlgorithm, d: Int32Array): Uint8Array {
  const out = new Uint8Array(HMAC_LENGTH[algorithm]);
  for (let i = 0; i < out.length; i++) out[i] = digestWord(algorithm, d, i >> 2) >>> (24 - ((i & 3) << 3));
  return out;
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
    loadBlock(algorithm, m, off, 0);
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

/** IPAD ^ OPAD: turns a loaded K0 ^ ipad block into K0 ^ opad in place. */
const IPAD_TO_OPAD = IPAD ^ OPAD;

/**
 * Loads K0 ^ ipad as the message block (RFC 2104 steps 1–2): K0 (at most one block) as big-endian
 * words, zero-padded to the block. Word i goes to W[i] (SHA-1/256) or, for SHA-512, to WH[i/2]
 * (even i) and WL[i/2] (odd i). One pass over the bytes with no per-word calls: this runs on every
 * generation, so it matters.
 */
function loadKeyBlock(sha512: boolean, k0: Uint8Array, pad: number): void {
  const n = k0.length;
  const whole = n >> 2;
  if (!sha512) {
    const w = W;
    let i = 0;
    for (; i < whole; i++) {
      const b = i << 2;
      w[i] = ((k0[b]! << 24) | (k0[b + 1]! << 16) | (k0[b + 2]! << 8) | k0[b + 3]!) ^ pad;
    }
    if (i < 16) {
      let t = 0;
      for (let b = i << 2, shift = 24; b < n; b++, shift -= 8) t |= k0[b]! << shift;
      w[i++] = t ^ pad;
      for (; i < 16; i++) w[i] = pad;
    }
    return;
  }
  for (let i = 0; i < 32; i++) {
    let w = 0;
    if (i < whole) {
      const b = i << 2;
      w = (k0[b]! << 24) | (k0[b + 1]! << 16) | (k0[b + 2]! << 8) | k0[b + 3]!;
    } else if (i === whole) {
      for (let b = i << 2, shift = 24; b < n; b++, shift -= 8) w |= k0[b]! << shift;
    }
    if ((i & 1) === 0) WH[i >> 1] = w ^ pad;
    else WL[i >> 1] = w ^ pad;
  }
}

/**
 * Writes the inner and outer chaining states of `key` to state[0..] (RFC 2104 steps 2–4 and 5–7:
 * each starts with the single block K0 ^ ipad / K0 ^ opad, compressed once here), in the layout
 * hmacIntoD reads: 5+5 (SHA-1), 8+8 (SHA-256) or 16+16 (SHA-512) words. Leaves no key-equivalent
 * material in module scratch, except that with `keepBlock` the block buffer still holds K0 ^ opad:
 * only for a caller that overwrites all of it next (hmacIntoD does). `algorithm` must already be valid.
 */
function keyStates(algorithm: HashAlgorithm, key: Uint8Array, state: Int32Array, keepBlock: boolean): void {
  // Step 1: K0 is the key, or H(key) if longer than B; loadKeyBlock supplies the zero padding to B.
  const k0 = key.length > blockBytes(algorithm) ? hashKey(algorithm, key) : key;
  // The compressions only read the block, so K0 ^ opad is derived from K0 ^ ipad in place.
  // (Loops, not fill(): for 16 words they are several times cheaper than the builtin call.)
  if (algorithm === 'SHA512') {
    const wh = WH, wl = WL;
    loadKeyBlock(true, k0, IPAD);
    sha512Block(iv512(), 0, state, 0, state, 8);
    for (let j = 0; j < 16; j++) { wh[j] = wh[j]! ^ IPAD_TO_OPAD; wl[j] = wl[j]! ^ IPAD_TO_OPAD; }
    sha512Block(iv512(), 0, state, 16, state, 24);
    if (!keepBlock) for (let j = 0; j < 16; j++) wh[j] = wl[j] = 0;
  } else {
    const w = W;
    loadKeyBlock(false, k0, IPAD);
    if (algorithm === 'SHA1') sha1Block(IV1, 0, state, 0);
    else sha256Block(iv256(), 0, state, 0);
    for (let j = 0; j < 16; j++) w[j] = w[j]! ^ IPAD_TO_OPAD;
    if (algorithm === 'SHA1') sha1Block(IV1, 0, state, 5);
    else sha256Block(iv256(), 0, state, 8);
    if (!keepBlock) for (let j = 0; j < 16; j++) w[j] = 0;
  }
  if (k0 !== key) k0.fill(0);
}

/** Throws unless `algorithm` is one of the three this module implements. */
function checkAlgorithm(algorithm: HashAlgorithm): void {
  if (algorithm !== 'SHA1' && algorithm !== 'SHA256' && algorithm !== 'SHA512')
    throw rangeError('ERR_OPTION_ALGORITHM', `"algorithm" expected SHA1, SHA256 or SHA512`);
}

/** Precompute the HMAC states of `key` (any length, including 0 and > block size). Pure; does not retain `key`. */
export function prepareKey(algorithm: HashAlgorithm, key: Uint8Array): PreparedKey {
  checkAlgorithm(algorithm);
  const state = new Int32Array(algorithm === 'SHA1' ? 10 : algorithm === 'SHA256' ? 16 : 32);
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

/** RFC 4226 §5.3 dynamic truncation of the digest in D (see truncatedHmac). */
function truncateD(algorithm: HashAlgorithm): number {
  // The offset is the low nibble of the digest's last byte: word 4 (SHA-1), 7 (SHA-256) or 15 (SHA-512).
  const last = algorithm === 'SHA1' ? 4 : algorithm === 'SHA256' ? 7 : 15;
  const offset = digestWord(algorithm, D, last) & 0x0f;
  // The 4 bytes at `offset` straddle at most two big-endian words.
  const k = offset >> 2;
  const shift = (offset & 3) << 3;
  const first = digestWord(algorithm, D, k);
  const word = shift === 0 ? first : (first << shift) | (digestWord(algorithm, D, k + 1) >>> (32 - shift));
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
export function truncatedHmacOnce(algorithm: HashAlgorithm, key: Uint8Array, counterHi: number, counterLo: number): number {
  checkAlgorithm(algorithm);
  const s = S;
  // hmacIntoD overwrites the whole block buffer first, so keyStates need not wipe it.
  keyStates(algorithm, key, s, true);
  hmacIntoD(algorithm, s, counterHi | 0, counterLo | 0);
  const n = algorithm === 'SHA1' ? 10 : algorithm === 'SHA256' ? 16 : 32;
  for (let j = 0; j < n; j++) s[j] = 0;
  return truncateD(algorithm);
}

/** The full HMAC bytes over the same 8-byte counter message (allocates; for tests and diagnostics). */
export function hmacCounter(key: PreparedKey, counterHi: number, counterLo: number): Uint8Array {
  hmacIntoD(key.algorithm, Prepared.stateOf(key), counterHi | 0, counterLo | 0);
  return digestBytes(key.algorithm, D);
}
