/**
 * Compact SHA-256 and SHA-512 compression functions (FIPS 180-4 §6.2.2, §6.4.2) with round loops.
 * SHA-1, the default and the hot path, is straight-line in _sha1.ts; these two keep the core
 * bundle small (an app that only verifies SHA-1 codes still ships all three algorithms).
 * @module
 * @internal
 */

/**
 * The SHA-2 constants, derived instead of stored (random-looking constants do not compress, and
 * the core bundle must stay small): §4.2.3's K are the first 64 bits of the fractional parts of
 * the cube roots of the first 80 primes, §5.3.5's IV the same of the square roots of the first 8;
 * SHA-256 uses the high 32 bits of the first 64 K and of the IV (§4.2.2, §5.3.3). Computed once,
 * exactly, with BigInt integer roots; the tests compare every hash with node:crypto.
 */
let K256: Int32Array | undefined;
/** K512 as (hi, lo) pairs. */
let K512: Int32Array | undefined;
let IV256: Int32Array | undefined;
/** IV512: 8 high halves, then 8 low halves. */
let IV512: Int32Array | undefined;

/** floor(n^(1/k)) for k = 2 or 3, by Newton's method from above. */
function iroot(n: bigint, k: bigint): bigint {
  let x = BigInt(Math.ceil(Number(n) ** (1 / Number(k)))) + (1n << 32n);
  for (;;) {
    const y = ((k - 1n) * x + n / x ** (k - 1n)) / k;
    if (y >= x) break;
    x = y;
  }
  while (x ** k > n) x--;
  while ((x + 1n) ** k <= n) x++;
  return x;
}

function init(): void {
  if (K512 !== undefined) return;
  const primes: bigint[] = [];
  for (let c = 2n; primes.length < 80; c++) if (primes.every((q) => c % q !== 0n)) primes.push(c);
  K512 = new Int32Array(160);
  K256 = new Int32Array(64);
  IV512 = new Int32Array(16);
  IV256 = new Int32Array(8);
  primes.forEach((q, i) => {
    const k = BigInt.asUintN(64, iroot(q << 192n, 3n));
    K512![2 * i] = Number(k >> 32n) | 0;
    K512![2 * i + 1] = Number(k & 0xffff_ffffn) | 0;
    if (i < 64) K256![i] = K512![2 * i]!;
    if (i < 8) {
      const v = BigInt.asUintN(64, iroot(q << 128n, 2n));
      IV512![i] = IV256![i] = Number(v >> 32n) | 0;
      IV512![8 + i] = Number(v & 0xffff_ffffn) | 0;
    }
  });
}

/** @internal The SHA-256 initial hash value (§5.3.3). */
export function iv256(): Int32Array {
  init();
  return IV256!;
}

/** @internal The SHA-512 initial hash value (§5.3.5): 8 high halves, then 8 low halves. */
export function iv512(): Int32Array {
  init();
  return IV512!;
}

/** The 64-word SHA-256 schedule (§6.2.2 step 1). */
const W64 = /* @__PURE__ */ new Int32Array(64);
/** The 80-word SHA-512 schedule, high and low halves. */
const WH80 = /* @__PURE__ */ new Int32Array(80);
const WL80 = /* @__PURE__ */ new Int32Array(80);

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

/**
 * @internal SHA-256 compression of the 16-word block `m` into the chaining value s[o..o+8),
 * written (chaining value + working variables, step 4) to out[p..p+8). Reads all of `s` first,
 * so `out` may alias it.
 */
export function sha256Compress(
  m: Int32Array,
  s: Int32Array,
  o: number,
  out: Int32Array,
  p: number,
): void {
  init();
  const w = W64;
  const K = K256!;
  for (let t = 0; t < 16; t++) w[t] = m[t]!;
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]!;
    const y = w[t - 2]!;
    w[t] =
      ((rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10)) +
        w[t - 7]! +
        (rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3)) +
        w[t - 16]!) |
      0;
  }
  let a = s[o]!,
    b = s[o + 1]!,
    c = s[o + 2]!,
    d = s[o + 3]!,
    e = s[o + 4]!,
    f = s[o + 5]!,
    g = s[o + 6]!,
    h = s[o + 7]!;
  for (let t = 0; t < 64; t++) {
    // Ch(e,f,g) = g ^ (e & (f ^ g)); Maj(a,b,c) = (a & b) | (c & (a | b)): identities of §4.1.2's forms.
    const t1 =
      (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + (g ^ (e & (f ^ g))) + K[t]! + w[t]!) | 0;
    const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) | (c & (a | b)))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  const s0 = s[o]!,
    s1 = s[o + 1]!,
    s2 = s[o + 2]!,
    s3 = s[o + 3]!,
    s4 = s[o + 4]!,
    s5 = s[o + 5]!,
    s6 = s[o + 6]!,
    s7 = s[o + 7]!;
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
 * @internal SHA-512 compression (§6.4.2) on 64-bit words held as (hi, lo) int32 pairs. The block
 * is mh/ml; the chaining value at s[o..o+16) is 8 high halves then 8 low halves; the result goes
 * to oh[ph..ph+8) and ol[pl..pl+8). A 64-bit sum adds the low halves as unsigned floats (exact)
 * and carries floor(sum / 2^32) into the high halves. Reads all of `s` first.
 */
export function sha512Compress(
  mh: Int32Array,
  ml: Int32Array,
  s: Int32Array,
  o: number,
  oh: Int32Array,
  ph: number,
  ol: Int32Array,
  pl: number,
): void {
  init();
  const K = K512!;
  const wh = WH80;
  const wl = WL80;
  for (let t = 0; t < 16; t++) {
    wh[t] = mh[t]!;
    wl[t] = ml[t]!;
  }
  for (let t = 16; t < 80; t++) {
    // σ0 = ROTR1 ^ ROTR8 ^ SHR7 of W[t−15]; σ1 = ROTR19 ^ ROTR61 ^ SHR6 of W[t−2] (§4.1.3).
    const xh = wh[t - 15]!,
      xl = wl[t - 15]!,
      yh = wh[t - 2]!,
      yl = wl[t - 2]!;
    const s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7);
    const s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25));
    const s1h = ((yh >>> 19) | (yl << 13)) ^ ((yl >>> 29) | (yh << 3)) ^ (yh >>> 6);
    const s1l = ((yl >>> 19) | (yh << 13)) ^ ((yh >>> 29) | (yl << 3)) ^ ((yl >>> 6) | (yh << 26));
    const u = (s1l >>> 0) + (wl[t - 7]! >>> 0) + (s0l >>> 0) + (wl[t - 16]! >>> 0);
    wh[t] = (s1h + wh[t - 7]! + s0h + wh[t - 16]! + ((u / 0x1_0000_0000) | 0)) | 0;
    wl[t] = u | 0;
  }
  let ah = s[o]!,
    bh = s[o + 1]!,
    ch = s[o + 2]!,
    dh = s[o + 3]!,
    eh = s[o + 4]!,
    fh = s[o + 5]!,
    gh = s[o + 6]!,
    hh = s[o + 7]!;
  let al = s[o + 8]!,
    bl = s[o + 9]!,
    cl = s[o + 10]!,
    dl = s[o + 11]!,
    el = s[o + 12]!,
    fl = s[o + 13]!,
    gl = s[o + 14]!,
    hl = s[o + 15]!;
  for (let t = 0; t < 80; t++) {
    // Σ1 = ROTR14 ^ ROTR18 ^ ROTR41 of e; Σ0 = ROTR28 ^ ROTR34 ^ ROTR39 of a (§4.1.3).
    const S1h = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23));
    const S1l = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23));
    const chh = gh ^ (eh & (fh ^ gh));
    const chl = gl ^ (el & (fl ^ gl));
    const u1 = (hl >>> 0) + (S1l >>> 0) + (chl >>> 0) + (K[2 * t + 1]! >>> 0) + (wl[t]! >>> 0);
    const t1h = (hh + S1h + chh + K[2 * t]! + wh[t]! + ((u1 / 0x1_0000_0000) | 0)) | 0;
    const t1l = u1 | 0;
    const S0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25));
    const S0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25));
    const mjh = (ah & bh) | (ch & (ah | bh));
    const mjl = (al & bl) | (cl & (al | bl));
    const u2 = (S0l >>> 0) + (mjl >>> 0);
    const t2h = (S0h + mjh + ((u2 / 0x1_0000_0000) | 0)) | 0;
    const t2l = u2 | 0;
    hh = gh;
    hl = gl;
    gh = fh;
    gl = fl;
    fh = eh;
    fl = el;
    const u3 = (dl >>> 0) + (t1l >>> 0);
    eh = (dh + t1h + ((u3 / 0x1_0000_0000) | 0)) | 0;
    el = u3 | 0;
    dh = ch;
    dl = cl;
    ch = bh;
    cl = bl;
    bh = ah;
    bl = al;
    const u4 = (t1l >>> 0) + (t2l >>> 0);
    ah = (t1h + t2h + ((u4 / 0x1_0000_0000) | 0)) | 0;
    al = u4 | 0;
  }
  // Step 4 without allocating; every word of s is read before any output is written, so the
  // output may alias s at any offset.
  const s0 = s[o]!,
    s1 = s[o + 1]!,
    s2 = s[o + 2]!,
    s3 = s[o + 3]!,
    s4 = s[o + 4]!,
    s5 = s[o + 5]!,
    s6 = s[o + 6]!,
    s7 = s[o + 7]!;
  const r0 = s[o + 8]!,
    r1 = s[o + 9]!,
    r2 = s[o + 10]!,
    r3 = s[o + 11]!,
    r4 = s[o + 12]!,
    r5 = s[o + 13]!,
    r6 = s[o + 14]!,
    r7 = s[o + 15]!;
  let u = (r0 >>> 0) + (al >>> 0);
  oh[ph] = (s0 + ah + ((u / 0x1_0000_0000) | 0)) | 0;
  ol[pl] = u | 0;
  u = (r1 >>> 0) + (bl >>> 0);
  oh[ph + 1] = (s1 + bh + ((u / 0x1_0000_0000) | 0)) | 0;
  ol[pl + 1] = u | 0;
  u = (r2 >>> 0) + (cl >>> 0);
  oh[ph + 2] = (s2 + ch + ((u / 0x1_0000_0000) | 0)) | 0;
  ol[pl + 2] = u | 0;
  u = (r3 >>> 0) + (dl >>> 0);
  oh[ph + 3] = (s3 + dh + ((u / 0x1_0000_0000) | 0)) | 0;
  ol[pl + 3] = u | 0;
  u = (r4 >>> 0) + (el >>> 0);
  oh[ph + 4] = (s4 + eh + ((u / 0x1_0000_0000) | 0)) | 0;
  ol[pl + 4] = u | 0;
  u = (r5 >>> 0) + (fl >>> 0);
  oh[ph + 5] = (s5 + fh + ((u / 0x1_0000_0000) | 0)) | 0;
  ol[pl + 5] = u | 0;
  u = (r6 >>> 0) + (gl >>> 0);
  oh[ph + 6] = (s6 + gh + ((u / 0x1_0000_0000) | 0)) | 0;
  ol[pl + 6] = u | 0;
  u = (r7 >>> 0) + (hl >>> 0);
  oh[ph + 7] = (s7 + hh + ((u / 0x1_0000_0000) | 0)) | 0;
  ol[pl + 7] = u | 0;
}
