/**
 * Recovery (backup) codes: generation, normalisation and salted scrypt hashing, as pure
 * synchronous primitives (plus async twins of the slow parts). The store-backed layer (issue,
 * redeem with throttling and atomic single use, regenerate, events) lives in `verifier.ts`.
 *
 * **Codes.** Each code is `ceil(bits / 5)` characters of Crockford base32
 * (`0123456789ABCDEFGHJKMNPQRSTVWXYZ`) drawn from `crypto.getRandomValues`: by default 10 codes of
 * 80 bits (16 characters, shown as `K7QM-4X2P-9D3R-TB8W`), never under 64 bits (REQUIREMENTS #33,
 * NIST SP 800-63B-4 §4.2.1.1).
 *
 * **Hashes.** Codes are stored only as scrypt (RFC 7914) hashes in a self-describing string
 * `$otpkit-scrypt$v=1$ln=13,r=8,p=1,len=16$<salt>$<hash>` (base64url, 16-byte salt, 32-byte hash)
 * so the parameters can be raised later ({@link recoveryHashNeedsRehash}). The codes carry fewer
 * than 112 bits, so NIST SP 800-63B §5.1.2.2 asks for a salted KDF, not a plain hash
 * (REQUIREMENTS #34). `len` is the code length, so a code of the wrong length is rejected
 * without hashing (REQUIREMENTS R2).
 *
 * **Design trade-off: one salt per set, not per code** (REQUIREMENTS §(g) 5 settles #34's
 * "per-code salt" this way). {@link hashRecoveryCodeSet} draws ONE random 128-bit salt for the
 * whole set (and a random 128-bit id per code), so redeeming a code costs one scrypt per attempt
 * whatever the number of codes: {@link matchRecoveryCode} hashes the input once and compares it
 * with every hash of the set. With per-code salts a redemption attempt would cost one scrypt per
 * unused code (10× the CPU for a default set), and since an attacker chooses how many attempts to
 * send, that is a denial-of-service lever on the server.
 * The price: an attacker who steals the table tests each guess against the whole set with one
 * scrypt instead of one per code, i.e. about 2^80 / 10 ≈ 2^76.7 scrypt evaluations to expect one
 * hit in a default set instead of 2^80 — still far out of reach, which is why the scrypt cost
 * can stay moderate. Salts still differ between sets, and every user has their own set, so
 * precomputed tables and attacks across users gain nothing: that is the purpose of NIST's
 * "salt of at least 32 bits" (we use 128), which a per-set salt meets. Codes within a set are
 * distinct, so no two stored hashes are equal.
 * (The other option §(g) 5 names, a public code id that selects the record, would allow a
 * per-code salt at one scrypt per attempt, but it makes codes longer for the same entropy.)
 *
 * **Modulo bias** cannot occur: the alphabet has 32 = 2^5 symbols and every character is the low
 * five bits of one random byte (256 is a multiple of 32), so each symbol has probability exactly
 * 1/32 and no rejection sampling is needed (REQUIREMENTS #33). Ids are hex of random bytes.
 * @module
 */
import { aint, aoptions, kind } from './_assert.js';
import { constantTimeEqualBytes } from './_bytes.js';
import { scryptAsync, scryptSync } from './_scrypt.js';
import { OtpkitError, rangeError, typeError } from './errors.js';
import { randomBytes } from './secret.js';
import type { StoredRecoveryCode } from './store/types.js';

/** The Crockford base32 alphabet: digits and upper-case letters without I, L, O and U. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Entropy bounds in bits: NIST SP 800-63B-4 §4.2.1.1 floor of 64; 160 is ample. */
const MIN_BITS = 64;
const MAX_BITS = 160;
const DEFAULT_BITS = 80;
const DEFAULT_COUNT = 10;
const MAX_COUNT = 100;
const DEFAULT_GROUP_SIZE = 4;
const MAX_GROUP_SIZE = 8;
/** Code lengths in characters: ceil(64 / 5) = 13 .. ceil(160 / 5) = 32. */
const MIN_CHARS = /* @__PURE__ */ charsFor(MIN_BITS);
const MAX_CHARS = /* @__PURE__ */ charsFor(MAX_BITS);

/**
 * Default scrypt cost: N = 2^13 (8 MiB), r = 8, p = 1. Measured with @noble/hashes 1.8 on the
 * build machine (Node 20, 2 vCPUs, shared with other jobs), one hash, sync / async:
 * logN 12 ≈ 20–35 / 22–47 ms; logN 13 ≈ 40–69 / 48–71 ms; logN 14 ≈ 83–89 / 91–112 ms;
 * logN 15 ≈ 170–250 / 215–285 ms; logN 16 ≈ 380–430 / 380–440 ms (load average ≈ 1); with the
 * machine saturated (load ≈ 7) about 1.5–2× more: logN 13 ≈ 70–90 ms, logN 14 ≈ 90–125 ms.
 * logN 13 keeps one redemption attempt at about 50 ms, under 100 ms even under load; logN 14
 * would exceed 100 ms there. 80-bit random codes need no more (see the module header).
 */
const DEFAULT_LOG_N = 13;
const DEFAULT_R = 8;
const DEFAULT_P = 1;
/**
 * Upper bound on r · p · 2^logN (64× the default) for options and for parsed hashes, so a
 * tampered hash string can never make us run scrypt for minutes or allocate gigabytes
 * (memory is 128 · r · 2^logN bytes ≤ 512 MiB).
 */
const MAX_COST = 2 ** 22;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const ID_BYTES = 16;
const PREFIX = '$otpkit-scrypt$v=1$';
/** Longer than any well-formed hash string (≈ 110 characters); checked before parsing. */
const MAX_HASH_STRING = 256;

const GENERATE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['count', 'bits', 'groupSize']);
const NORMALIZE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['bits']);
const HASH_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['logN', 'r', 'p']);
const HASH_SALT_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['logN', 'r', 'p', 'salt']);

/** Options of {@link generateRecoveryCodes}. */
export interface GenerateRecoveryCodesOptions {
  /** How many codes, 1–100. @defaultValue 10 */
  readonly count?: number | undefined;
  /**
   * Minimum entropy per code in bits, 64–160 (NIST floor: 64). Each character carries 5 bits, so a
   * code has `ceil(bits / 5)` characters and `5 · ceil(bits / 5)` bits (64 → 13 characters, 65 bits).
   * @defaultValue 80 (16 characters)
   */
  readonly bits?: number | undefined;
  /** Characters per hyphen-separated group when displayed: 0 (no grouping) or 2–8. @defaultValue 4 */
  readonly groupSize?: number | undefined;
}

/** Options of {@link normalizeRecoveryCode}. */
export interface NormalizeRecoveryCodeOptions {
  /**
   * The entropy the codes were generated with (64–160); sets the expected length `ceil(bits / 5)`.
   * @defaultValue 80
   */
  readonly bits?: number | undefined;
}

/** scrypt parameters for recovery-code hashes (RFC 7914). Limits: r · p · 2^logN ≤ 2^22. */
export interface RecoveryHashOptions {
  /**
   * CPU/memory cost N = 2^logN, 10–20. Measured (noble, Node 20, one hash, sync): logN 12 ≈ 20–35 ms,
   * 13 ≈ 40–70 ms, 14 ≈ 85–110 ms, 15 ≈ 170–285 ms, 16 ≈ 380–440 ms.
   * @defaultValue 13 (N = 8192, 8 MiB, about 50 ms per redemption attempt)
   */
  readonly logN?: number | undefined;
  /** Block size, 1–32. @defaultValue 8 */
  readonly r?: number | undefined;
  /** Parallelisation, 1–16. @defaultValue 1 */
  readonly p?: number | undefined;
}

/** Validated scrypt parameters. */
interface Params {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** A parsed hash string. */
interface ParsedHash extends Params {
  readonly len: number;
  readonly salt: Uint8Array;
  readonly saltText: string;
  readonly hash: Uint8Array;
}

function charsFor(bits: number): number {
  return Math.ceil(bits / 5);
}

function abits(v: unknown): number {
  return v === undefined
    ? DEFAULT_BITS
    : aint(v, 'bits', MIN_BITS, MAX_BITS, 'ERR_OPTION_RECOVERY');
}

/** Validates `logN`, `r`, `p` from options (misuse → RangeError/TypeError `ERR_OPTION_RECOVERY`). */
function hashParams(o: Partial<RecoveryHashOptions>): Params {
  const logN =
    o.logN === undefined ? DEFAULT_LOG_N : aint(o.logN, 'logN', 10, 20, 'ERR_OPTION_RECOVERY');
  const r = o.r === undefined ? DEFAULT_R : aint(o.r, 'r', 1, 32, 'ERR_OPTION_RECOVERY');
  const p = o.p === undefined ? DEFAULT_P : aint(o.p, 'p', 1, 16, 'ERR_OPTION_RECOVERY');
  if (r * p * 2 ** logN > MAX_COST)
    throw rangeError(
      'ERR_OPTION_RECOVERY',
      `scrypt cost r·p·2^logN expected at most 2^22, got ${r}·${p}·2^${logN}`,
    );
  return { logN, r, p };
}

// ---------------------------------------------------------------------------------------------
// base64url without padding (RFC 4648 §5); no Buffer/atob so the module runs in browsers.

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function encodeB64url(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let n = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    n += 8;
    while (n >= 6) {
      n -= 6;
      out += B64[(acc >>> n) & 63];
    }
    acc &= (1 << n) - 1;
  }
  if (n > 0) out += B64[(acc << (6 - n)) & 63];
  return out;
}

/** Decodes canonical unpadded base64url to exactly `length` bytes, or null. */
function decodeB64url(text: string, length: number): Uint8Array | null {
  if (text.length !== Math.ceil((length * 8) / 6)) return null;
  const out = new Uint8Array(length);
  let acc = 0;
  let n = 0;
  let j = 0;
  for (let i = 0; i < text.length; i++) {
    const v = B64.indexOf(text[i] as string);
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffff;
    n += 6;
    if (n >= 8) {
      n -= 8;
      if (j < length) out[j++] = (acc >>> n) & 0xff;
    }
  }
  // Leftover bits must be zero, so every byte string has exactly one accepted spelling.
  if ((acc & ((1 << n) - 1)) !== 0) return null;
  return out;
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/** Crockford decoding for char codes < 128: the canonical symbol, '' for a separator, undefined to reject. */
const DECODE: readonly (string | undefined)[] = /* @__PURE__ */ (() => {
  const t: (string | undefined)[] = new Array<string | undefined>(128).fill(undefined);
  for (const c of ALPHABET) {
    t[c.charCodeAt(0)] = c;
    t[c.toLowerCase().charCodeAt(0)] = c;
  }
  // Crockford's confusables: O reads as zero, I and L as one (U stays invalid).
  for (const [from, to] of [
    ['O', '0'],
    ['I', '1'],
    ['L', '1'],
  ] as const) {
    t[from.charCodeAt(0)] = to;
    t[from.toLowerCase().charCodeAt(0)] = to;
  }
  t[0x20] = ''; // ASCII space
  t[0x2d] = ''; // hyphen-minus
  return t;
})();

/**
 * Canonicalises `input` to a code of `minLen..maxLen` characters, or null. The raw length is
 * checked first, so a huge string costs O(1) (REQUIREMENTS R8): a code of `maxLen` characters
 * leaves room for three separators per character plus 16 more.
 */
function canonicalize(input: string, minLen: number, maxLen: number): string | null {
  if (input.length > 4 * maxLen + 16) return null;
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const cc = input.charCodeAt(i);
    // Only ASCII is case-folded: no locale or Unicode tables (e.g. 'ı' or a full-width 'Ａ' is rejected).
    const c = cc < 128 ? DECODE[cc] : undefined;
    if (c === undefined) return null;
    out += c;
    if (out.length > maxLen) return null;
  }
  return out.length >= minLen ? out : null;
}

function acode(code: unknown, title = 'code'): string {
  if (typeof code !== 'string')
    throw typeError('ERR_RECOVERY_TYPE', `"${title}" expected string, got ${kind(code)}`);
  return code;
}

/**
 * Normalises a recovery code as a user typed it to its canonical form: ASCII upper case, ASCII
 * spaces and hyphens dropped, Crockford confusables mapped (`O`→`0`, `I`/`L`→`1`), then an exact
 * length and charset check. Deterministic and idempotent; never throws on a string.
 *
 * @param input - the code as typed, e.g. `'k7qm-4x2p 9d3r-tb8w'`.
 * @param options - {@link NormalizeRecoveryCodeOptions}.
 * @returns the canonical code (no separators), or `null` if the input is not a well-formed code
 *   of `ceil(bits / 5)` characters (including any input longer than `4 · length + 16`, rejected
 *   before looking at its content). A malformed code is a result, not an error.
 * @throws TypeError `ERR_RECOVERY_TYPE` if `input` is not a string.
 * @throws RangeError `ERR_OPTION_RECOVERY` if `bits` is not an integer 64..160;
 *   `ERR_OPTION_UNKNOWN` on an unknown option.
 * @example
 * ```ts
 * normalizeRecoveryCode('k7qm-4x2p 9d3r-tb8w'); // 'K7QM4X2P9D3RTB8W'
 * normalizeRecoveryCode('K7QM-4X2P-9D3R-TBOW'); // 'K7QM4X2P9D3RTB0W' (O read as zero)
 * normalizeRecoveryCode('K7QM-4X2P'); // null (too short)
 * ```
 * @see REQUIREMENTS #38; Crockford base32 (https://www.crockford.com/base32.html)
 */
export function normalizeRecoveryCode(
  input: string,
  options?: NormalizeRecoveryCodeOptions,
): string | null {
  acode(input, 'input');
  const o = aoptions<NormalizeRecoveryCodeOptions>(options, NORMALIZE_KEYS);
  const len = charsFor(abits(o.bits));
  return canonicalize(input, len, len);
}

// ---------------------------------------------------------------------------------------------
// Generation

/** One canonical code of `len` characters: each is the low 5 bits of one CSPRNG byte (no bias). */
function randomCode(len: number): string {
  const bytes = randomBytes(len);
  let s = '';
  for (const b of bytes) s += ALPHABET[b & 31];
  return s;
}

function group(code: string, size: number): string {
  if (size === 0) return code;
  const parts: string[] = [];
  for (let i = 0; i < code.length; i += size) parts.push(code.slice(i, i + size));
  return parts.join('-');
}

/**
 * Generates a fresh set of distinct random recovery codes in display form.
 *
 * Characters come from `crypto.getRandomValues` (never `Math.random`), one byte per character
 * reduced to its low five bits: the alphabet has 32 = 2^5 symbols and 256 is a multiple of 32,
 * so every symbol has probability exactly 1/32 and no modulo bias is possible (hence no
 * rejection sampling). A code that repeats one already in the set is redrawn.
 *
 * @param options - {@link GenerateRecoveryCodesOptions}.
 * @returns `count` distinct codes, e.g. `'K7QM-4X2P-9D3R-TB8W'`. Show them to the user once and
 *   store only {@link hashRecoveryCodeSet}'s output.
 * @throws RangeError `ERR_OPTION_RECOVERY` if `count` is not 1..100, `bits` not 64..160, or
 *   `groupSize` not 0 or 2..8 (TypeError with the same code for a non-number);
 *   `ERR_OPTION_UNKNOWN` on an unknown option.
 * @throws OtpkitError `ERR_OPTION_INVALID` if the platform has no CSPRNG, or it keeps repeating.
 * @example
 * ```ts
 * const codes = generateRecoveryCodes(); // 10 × 'XXXX-XXXX-XXXX-XXXX'
 * const records = hashRecoveryCodeSet(codes); // store these
 * ```
 * @see REQUIREMENTS #33; NIST SP 800-63B-4 §4.2.1.1
 */
export function generateRecoveryCodes(options?: GenerateRecoveryCodesOptions): string[] {
  const o = aoptions<GenerateRecoveryCodesOptions>(options, GENERATE_KEYS);
  const count =
    o.count === undefined
      ? DEFAULT_COUNT
      : aint(o.count, 'count', 1, MAX_COUNT, 'ERR_OPTION_RECOVERY');
  const len = charsFor(abits(o.bits));
  const size =
    o.groupSize === undefined
      ? DEFAULT_GROUP_SIZE
      : aint(o.groupSize, 'groupSize', 0, MAX_GROUP_SIZE, 'ERR_OPTION_RECOVERY');
  if (size === 1) throw rangeError('ERR_OPTION_RECOVERY', '"groupSize" expected 0 or 2..8, got 1');
  const seen = new Set<string>();
  // A collision has probability < 100² / 2^65; bounding redraws turns a broken RNG into an
  // error instead of a hang.
  for (let draws = 0; seen.size < count; draws++) {
    if (draws >= 2 * count + 10)
      throw new OtpkitError('ERR_OPTION_INVALID', 'the CSPRNG keeps returning repeated values');
    seen.add(randomCode(len));
  }
  return [...seen].map((c) => group(c, size));
}

// ---------------------------------------------------------------------------------------------
// Hashing

function passwordBytes(code: string): Uint8Array {
  // The canonical code is ASCII, so one byte per character.
  const out = new Uint8Array(code.length);
  for (let i = 0; i < code.length; i++) out[i] = code.charCodeAt(i);
  return out;
}


function format(params: Params, len: number, salt: Uint8Array, hash: Uint8Array): string {
  return `${PREFIX}ln=${params.logN},r=${params.r},p=${params.p},len=${len}$${encodeB64url(salt)}$${encodeB64url(hash)}`;
}

/** Canonicalises a code handed to a hashing function by the programmer; malformed → RangeError. */
function codeForHashing(code: unknown, title: string): string {
  const c = canonicalize(acode(code, title), MIN_CHARS, MAX_CHARS);
  if (c === null)
    throw rangeError(
      'ERR_OPTION_RECOVERY',
      `"${title}" is not a recovery code (${MIN_CHARS}..${MAX_CHARS} Crockford base32 characters)`,
    );
  return c;
}

const HASH_RE =
  /^\$otpkit-scrypt\$v=1\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2}),len=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

function corrupt(why: string): OtpkitError {
  return new OtpkitError('ERR_RECOVERY_HASH', `stored recovery-code hash is malformed: ${why}`);
}

/** Strictly parses a hash string (stored data: any defect → OtpkitError `ERR_RECOVERY_HASH`). */
function parseHash(hashed: string): ParsedHash {
  if (hashed.length > MAX_HASH_STRING) throw corrupt('too long');
  if (!hashed.startsWith(PREFIX)) throw corrupt('unknown algorithm or version');
  const m = HASH_RE.exec(hashed);
  if (m === null) throw corrupt('bad syntax');
  const [ln = '', r = '', p = '', len = '', saltText = '', hashText = ''] = m.slice(1);
  const num = (s: string): number => (s.length > 1 && s.startsWith('0') ? Number.NaN : Number(s));
  const params = { logN: num(ln), r: num(r), p: num(p) };
  const n = num(len);
  // Bounds: a tampered hash must not make us compute scrypt with N = 2^40.
  if (!(
    params.logN >= 10 &&
    params.logN <= 20 &&
    params.r >= 1 &&
    params.r <= 32 &&
    params.p >= 1 &&
    params.p <= 16
  ))
    throw corrupt('scrypt parameters out of range');
  if (params.r * params.p * 2 ** params.logN > MAX_COST) throw corrupt('scrypt cost out of range');
  if (!(n >= MIN_CHARS && n <= MAX_CHARS)) throw corrupt('code length out of range');
  const salt = decodeB64url(saltText, SALT_BYTES);
  if (salt === null) throw corrupt('bad salt encoding');
  const hash = decodeB64url(hashText, HASH_BYTES);
  if (hash === null) throw corrupt('bad hash encoding');
  return { ...params, len: n, salt, saltText, hash };
}

function asalt(v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array))
    throw typeError('ERR_OPTION_RECOVERY', `"salt" expected Uint8Array, got ${kind(v)}`);
  if (v.length !== SALT_BYTES)
    throw rangeError('ERR_OPTION_RECOVERY', `"salt" expected ${SALT_BYTES} bytes, got ${v.length}`);
  return v;
}

/**
 * Hashes one recovery code with scrypt and a random 128-bit salt, into a self-describing string.
 * For a whole set prefer {@link hashRecoveryCodeSet} (one salt per set: one scrypt per redemption).
 *
 * @param code - a recovery code, in any form {@link normalizeRecoveryCode} accepts (64..160 bits).
 * @param options - scrypt parameters ({@link RecoveryHashOptions}) and `salt`, exactly 16 bytes
 *   (default: fresh from `crypto.getRandomValues`; pass one only for reproducible tests).
 * @returns `$otpkit-scrypt$v=1$ln=<logN>,r=<r>,p=<p>,len=<code length>$<salt>$<hash>`
 *   (base64url, 32-byte scrypt output).
 * @throws TypeError `ERR_RECOVERY_TYPE` if `code` is not a string.
 * @throws RangeError `ERR_OPTION_RECOVERY` if `code` is not a recovery code, or on a bad scrypt
 *   parameter or salt; `ERR_OPTION_UNKNOWN` on an unknown option.
 * @example
 * ```ts
 * const hashed = hashRecoveryCode('K7QM-4X2P-9D3R-TB8W');
 * verifyRecoveryCode('k7qm 4x2p 9d3r tb8w', hashed); // true
 * ```
 * @see REQUIREMENTS #34; RFC 7914 (scrypt); NIST SP 800-63B §5.1.2.2
 */
export function hashRecoveryCode(
  code: string,
  options?: RecoveryHashOptions & { readonly salt?: Uint8Array | undefined },
): string {
  const c = codeForHashing(code, 'code');
  const o = aoptions<RecoveryHashOptions & { readonly salt?: Uint8Array | undefined }>(
    options,
    HASH_SALT_KEYS,
  );
  const params = hashParams(o);
  const salt = o.salt === undefined ? randomBytes(SALT_BYTES) : asalt(o.salt);
  return format(params, c.length, salt, scryptSync(passwordBytes(c), salt, params, HASH_BYTES));
}

/**
 * Checks a recovery code against one stored hash: normalises the code (a malformed code or one
 * of the wrong length returns `false` without hashing), recomputes scrypt with the stored salt
 * and parameters, and compares in constant time.
 *
 * @param code - the code as the user typed it.
 * @param hashed - a string from {@link hashRecoveryCode} or {@link hashRecoveryCodeSet}.
 * @returns `true` if `code` is the hashed code.
 * @throws TypeError `ERR_RECOVERY_TYPE` if `code` is not a string; `ERR_RECOVERY_HASH` if
 *   `hashed` is not a string.
 * @throws OtpkitError `ERR_RECOVERY_HASH` if `hashed` is malformed, of another algorithm or
 *   version, or has out-of-range parameters (stored data: a tampered hash cannot make us
 *   compute scrypt beyond r·p·2^logN = 2^22).
 * @example
 * ```ts
 * const hashed = hashRecoveryCode('K7QM-4X2P-9D3R-TB8W');
 * verifyRecoveryCode('K7QM-4X2P-9D3R-TB8W', hashed); // true
 * verifyRecoveryCode('K7QM-4X2P-9D3R-TB8X', hashed); // false
 * ```
 * @see REQUIREMENTS #34, #38
 */
export function verifyRecoveryCode(code: string, hashed: string): boolean {
  acode(code, 'code');
  if (typeof hashed !== 'string')
    throw typeError('ERR_RECOVERY_HASH', `"hashed" expected string, got ${kind(hashed)}`);
  const h = parseHash(hashed);
  const c = canonicalize(code, h.len, h.len);
  if (c === null) return false;
  return constantTimeEqualBytes(scryptSync(passwordBytes(c), h.salt, h, HASH_BYTES), h.hash);
}

/**
 * Tells whether a stored hash was made with weaker scrypt parameters than `options` (any of
 * logN, r or p lower), or with another algorithm or version, so the set should be regenerated
 * with the current parameters (recovery codes are single use: they cannot be rehashed on login).
 *
 * @param hashed - a stored hash string.
 * @param options - the current parameters ({@link RecoveryHashOptions}; default logN 13, r 8, p 1).
 * @returns `true` if the hash should be replaced.
 * @throws TypeError `ERR_RECOVERY_HASH` if `hashed` is not a string.
 * @throws OtpkitError `ERR_RECOVERY_HASH` if `hashed` is neither a well-formed
 *   `$otpkit-scrypt$v=1$` hash nor a `$<algorithm>$…` string of another scheme.
 * @throws RangeError `ERR_OPTION_RECOVERY` on a bad parameter; `ERR_OPTION_UNKNOWN` on an unknown option.
 * @example
 * ```ts
 * const old = hashRecoveryCode('K7QM-4X2P-9D3R-TB8W', { logN: 12 });
 * recoveryHashNeedsRehash(old); // true: default logN is 13
 * ```
 * @see REQUIREMENTS #34 ("store the algorithm and its parameters with each hash")
 */
export function recoveryHashNeedsRehash(hashed: string, options?: RecoveryHashOptions): boolean {
  if (typeof hashed !== 'string')
    throw typeError('ERR_RECOVERY_HASH', `"hashed" expected string, got ${kind(hashed)}`);
  const want = hashParams(aoptions<RecoveryHashOptions>(options, HASH_KEYS));
  if (!hashed.startsWith(PREFIX)) {
    // Another scheme (PHC-style `$id$…`) or another version of ours is migrated; anything else,
    // including our own identifier without a version, is corrupt data.
    if (hashed.length <= MAX_HASH_STRING && /^\$[a-z0-9-]{1,32}\$[\x21-\x7e]+$/.test(hashed)) {
      if (
        !hashed.startsWith('$otpkit-scrypt$') ||
        /^\$otpkit-scrypt\$v=[1-9][0-9]{0,3}\$/.test(hashed)
      )
        return true;
    }
    throw corrupt('unknown format');
  }
  const h = parseHash(hashed);
  return h.logN < want.logN || h.r < want.r || h.p < want.p;
}

function newId(): string {
  return toHex(randomBytes(ID_BYTES));
}

function prepareSet(codes: unknown, options: unknown): { canon: string[]; params: Params } {
  if (!Array.isArray(codes))
    throw typeError('ERR_RECOVERY_TYPE', `"codes" expected array, got ${kind(codes)}`);
  if (codes.length < 1 || codes.length > MAX_COUNT)
    throw rangeError(
      'ERR_OPTION_RECOVERY',
      `"codes" expected 1..${MAX_COUNT} codes, got ${codes.length}`,
    );
  const params = hashParams(aoptions<RecoveryHashOptions>(options, HASH_KEYS));
  const canon = codes.map((c: unknown, i) => codeForHashing(c, `codes[${i}]`));
  // Equal codes would share one hash under the set's salt and could be redeemed twice.
  if (new Set(canon).size !== canon.length)
    throw rangeError('ERR_OPTION_RECOVERY', '"codes" contains duplicates');
  return { canon, params };
}

/**
 * Hashes a whole set for storage: ONE random 128-bit salt shared by the set and one random
 * 128-bit hex id per code, so redeeming costs one scrypt per attempt whatever the number of
 * codes (REQUIREMENTS §(g) 5; the trade-off is in the module header). Issuing costs one scrypt
 * per code (about 0.5 s for 10 codes at the defaults); {@link hashRecoveryCodeSetAsync} does the
 * same without blocking the event loop.
 *
 * @param codes - 1..100 distinct codes, in any form {@link normalizeRecoveryCode} accepts.
 * @param options - scrypt parameters ({@link RecoveryHashOptions}).
 * @returns one `{ id, hash }` record per code, in order. Store these, never the codes.
 * @throws TypeError `ERR_RECOVERY_TYPE` if `codes` is not an array of strings.
 * @throws RangeError `ERR_OPTION_RECOVERY` if the set is empty, over 100, holds a non-code or a
 *   duplicate, or on a bad scrypt parameter; `ERR_OPTION_UNKNOWN` on an unknown option.
 * @example
 * ```ts
 * const codes = generateRecoveryCodes();
 * const records = hashRecoveryCodeSet(codes);
 * matchRecoveryCode(codes[3]!, records) === records[3]!.id; // true
 * ```
 * @see REQUIREMENTS #34, §(g) 5
 */
export function hashRecoveryCodeSet(
  codes: readonly string[],
  options?: RecoveryHashOptions,
): StoredRecoveryCode[] {
  const { canon, params } = prepareSet(codes, options);
  const salt = randomBytes(SALT_BYTES);
  return canon.map((c) => ({
    id: newId(),
    hash: format(params, c.length, salt, scryptSync(passwordBytes(c), salt, params, HASH_BYTES)),
  }));
}

/**
 * Async twin of {@link hashRecoveryCodeSet} (yields to the event loop between codes): same
 * arguments, validation and output format.
 *
 * @param codes - 1..100 distinct codes, in any form {@link normalizeRecoveryCode} accepts.
 * @param options - scrypt parameters ({@link RecoveryHashOptions}).
 * @returns a promise of one `{ id, hash }` record per code, in order.
 * @throws TypeError `ERR_RECOVERY_TYPE` (as a rejection) if `codes` is not an array of strings.
 * @throws RangeError `ERR_OPTION_RECOVERY` / `ERR_OPTION_UNKNOWN` (as a rejection), as {@link hashRecoveryCodeSet}.
 * @example
 * ```ts
 * const records = await hashRecoveryCodeSetAsync(generateRecoveryCodes());
 * ```
 * @see REQUIREMENTS #34, §(g) 5
 */
export async function hashRecoveryCodeSetAsync(
  codes: readonly string[],
  options?: RecoveryHashOptions,
): Promise<StoredRecoveryCode[]> {
  const { canon, params } = prepareSet(codes, options);
  const salt = randomBytes(SALT_BYTES);
  const hashes = await Promise.all(canon.map((c) => scryptAsync(passwordBytes(c), salt, params, HASH_BYTES)));
  return canon.map((c, i) => ({ id: newId(), hash: format(params, c.length, salt, hashes[i] as Uint8Array) }));
}

// ---------------------------------------------------------------------------------------------
// Matching

/** Records sharing one (parameters, length, salt): one scrypt evaluation covers all of them. */
interface Group {
  readonly h: ParsedHash;
  readonly members: { readonly id: string; readonly hash: Uint8Array }[];
}

/** One scrypt evaluation of a match and the records it is compared with (none for the stand-in). */
interface MatchJob {
  readonly password: Uint8Array;
  readonly salt: Uint8Array;
  readonly params: Params;
  readonly group: Group | undefined;
}

/** A fixed random salt for the stand-in hash, drawn once per process. */
let standInSalt: Uint8Array | undefined;
/** A well-formed code that is never compared with anything: the stand-in hash's input. */
const STAND_IN = '0000000000000000';

/**
 * Validates and groups stored records, then lists the scrypt evaluations a match needs: one per
 * group whose code length fits the canonical input, or, when none fits (a malformed input, a
 * length that differs from the stored codes', a user with no codes), ONE stand-in evaluation with
 * the parameters of the first group, or `fallback` without records. Every attempt therefore costs
 * at least one hash of the same parameters, whatever the user has and whatever was typed: timing
 * says nothing about whether a user has codes or of what length.
 */
function planMatch(code: unknown, stored: unknown, fallback: Params): MatchJob[] {
  acode(code, 'code');
  if (!Array.isArray(stored))
    throw typeError('ERR_OPTION_TYPE', `"stored" expected array, got ${kind(stored)}`);
  // Parse every record before looking at the code, so corrupt storage always surfaces (fail closed).
  const groups = new Map<string, Group>();
  for (const rec of stored as unknown[]) {
    const r = rec as { id?: unknown; hash?: unknown } | null;
    if (typeof r !== 'object' || r === null || typeof r.id !== 'string' || typeof r.hash !== 'string')
      throw corrupt('record is not { id: string, hash: string }');
    const h = parseHash(r.hash);
    const key = `${h.logN},${h.r},${h.p},${h.len},${h.saltText}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { h, members: [] }));
    g.members.push({ id: r.id, hash: h.hash });
  }
  const c = canonicalize(code as string, MIN_CHARS, MAX_CHARS);
  const jobs: MatchJob[] = [];
  for (const g of groups.values())
    if (c !== null && c.length === g.h.len) jobs.push({ password: passwordBytes(c), salt: g.h.salt, params: g.h, group: g });
  if (jobs.length === 0) {
    const first = groups.values().next().value as Group | undefined;
    standInSalt ??= randomBytes(SALT_BYTES);
    jobs.push({ password: passwordBytes(STAND_IN), salt: standInSalt, params: first?.h ?? fallback, group: undefined });
  }
  return jobs;
}

/**
 * Compares every derived hash with every record of its group in constant time, with no early
 * exit; returns the id of the (last) matching record, or null.
 */
function settleMatch(jobs: readonly MatchJob[], derived: readonly Uint8Array[]): string | null {
  let found: string | null = null;
  jobs.forEach((job, i) => {
    for (const m of job.group?.members ?? []) {
      const hit = constantTimeEqualBytes(derived[i] as Uint8Array, m.hash);
      if (hit) found = m.id; // no break: the time does not depend on which record matched
    }
  });
  return found;
}

/**
 * @internal Finds which stored code `code` is. Computes scrypt once per distinct (parameters,
 * salt) group whose length fits (normally one group per set), and at least once in every case
 * (see {@link planMatch}), then compares in constant time with no early exit.
 *
 * @param code - the code as the user typed it.
 * @param stored - the user's unused records (from {@link hashRecoveryCodeSet}).
 * @param options - the scrypt parameters of the stand-in hash when there are no records.
 * @returns the matching record's `id`, or `null` if none matches.
 * @throws TypeError `ERR_RECOVERY_TYPE` if `code` is not a string; `ERR_OPTION_TYPE` if `stored`
 *   is not an array.
 * @throws OtpkitError `ERR_RECOVERY_HASH` if a record is malformed (checked before the code).
 * @example
 * ```ts
 * const records = hashRecoveryCodeSet(['K7QM-4X2P-9D3R-TB8W', '0000-1111-2222-3333']);
 * matchRecoveryCode('k7qm4x2p9d3rtb8w', records); // records[0].id
 * matchRecoveryCode('K7QM-4X2P-9D3R-TB8X', records); // null
 * ```
 */
export function matchRecoveryCode(
  code: string,
  stored: readonly StoredRecoveryCode[],
  options?: RecoveryHashOptions,
): string | null {
  const jobs = planMatch(code, stored, hashParams(aoptions<RecoveryHashOptions>(options, HASH_KEYS)));
  return settleMatch(jobs, jobs.map((j) => scryptSync(j.password, j.salt, j.params, HASH_BYTES)));
}

/**
 * @internal Async form of {@link matchRecoveryCode} for the store-backed layer: the same plan and
 * comparison, with the hashes computed off the event loop where the runtime allows.
 *
 * @param code - the code as the user typed it.
 * @param stored - the user's unused records.
 * @param options - the scrypt parameters of the stand-in hash when there are no records.
 * @returns a promise of the matching record's `id`, or `null`.
 * @throws TypeError `ERR_RECOVERY_TYPE` / `ERR_OPTION_TYPE` (as a rejection), as {@link matchRecoveryCode}.
 * @throws OtpkitError `ERR_RECOVERY_HASH` (as a rejection) if a record is malformed.
 * @example
 * ```ts
 * const id = await matchRecoveryCodeAsync(input, set.codes);
 * ```
 */
export async function matchRecoveryCodeAsync(
  code: string,
  stored: readonly StoredRecoveryCode[],
  options?: RecoveryHashOptions,
): Promise<string | null> {
  const jobs = planMatch(code, stored, hashParams(aoptions<RecoveryHashOptions>(options, HASH_KEYS)));
  const derived: Uint8Array[] = [];
  for (const j of jobs) derived.push(await scryptAsync(j.password, j.salt, j.params, HASH_BYTES));
  return settleMatch(jobs, derived);
}
