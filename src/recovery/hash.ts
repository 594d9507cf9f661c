/**
 * Recovery-code hashes: scrypt (RFC 7914) in one self-describing string,
 * `$otpkit-scrypt$v=1$ln=13,r=8,p=1,len=16$<salt>$<hash>` (unpadded base64url, 16-byte salt,
 * 32-byte hash), so the parameters can be raised later ({@link recoveryHashNeedsRehash}). The codes
 * carry fewer than 112 bits, so NIST SP 800-63B §5.1.2.2 asks for a salted KDF, not a plain hash.
 * `len` is the code length, so a code of the wrong length is refused without hashing. This file
 * holds the parameter bounds, the format, and checking one code against one hash.
 * @module
 */
import { aint, aoptions, kind } from '../_assert.js';
import { constantTimeEqualBytes } from '../_bytes.js';
import { decodeBase64url, encodeBase64url } from '../_encoding.js';
import { scryptAsync, scryptSync, type ScryptParams } from '../_scrypt.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';
import { randomBytes } from '../secret.js';
import { acode, canonicalize, codeForHashing, MAX_CHARS, MIN_CHARS } from './codes.js';

/**
 * Default scrypt cost: N = 2^13 (8 MiB), r = 8, p = 1, about 50 ms per redemption attempt and
 * under 100 ms even on a saturated machine, where logN 14 would exceed it; 80-bit random codes need
 * no more. The measurements: docs/security-model.md §3.2.
 */
const DEFAULTS: ScryptParams = { logN: 13, r: 8, p: 1 };
/**
 * The bounds of each parameter, for options and for parsed hashes alike, and of the total cost
 * r · p · 2^logN (64× the default): a tampered hash string can never make us run scrypt for
 * minutes or allocate gigabytes (memory is 128 · r · 2^logN bytes ≤ 512 MiB).
 */
const BOUNDS: { readonly [K in keyof ScryptParams]: readonly [min: number, max: number] } = {
  logN: [10, 20],
  r: [1, 32],
  p: [1, 16],
};
const MAX_COST_LOG2 = 22;
/** @internal Salt length: one random 128-bit salt per hash, or per set. */
export const SALT_BYTES = 16;
const HASH_BYTES = 32;
const PREFIX = '$otpkit-scrypt$v=1$';
/** Longer than any well-formed hash string (≈ 110 characters); checked before parsing. */
const MAX_HASH_STRING = 256;
const HASH_RE =
  /^\$otpkit-scrypt\$v=1\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2}),len=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

const HASH_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['logN', 'r', 'p']);
const HASH_SALT_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['logN', 'r', 'p', 'salt']);

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

/** @internal A parsed hash string. */
export interface ParsedHash extends ScryptParams {
  readonly len: number;
  readonly salt: Uint8Array;
  readonly saltText: string;
  readonly hash: Uint8Array;
}

const withinCost = (p: ScryptParams): boolean => p.r * p.p * 2 ** p.logN <= 2 ** MAX_COST_LOG2;

/** @internal Validates `logN`, `r`, `p`, defaults filled in (misuse → RangeError/TypeError `ERR_OPTION_RECOVERY`). */
export function scryptParams(o: Partial<RecoveryHashOptions>): ScryptParams {
  const param = (name: keyof ScryptParams): number => {
    const [min, max] = BOUNDS[name];
    return o[name] === undefined ? DEFAULTS[name] : aint(o[name], name, min, max, 'ERR_OPTION_RECOVERY');
  };
  const params = { logN: param('logN'), r: param('r'), p: param('p') };
  if (!withinCost(params))
    throw rangeError(
      'ERR_OPTION_RECOVERY',
      `scrypt cost r·p·2^logN expected at most 2^${MAX_COST_LOG2}, got ${params.r}·${params.p}·2^${params.logN}`,
    );
  return params;
}

/** @internal {@link scryptParams} of an options argument that may hold nothing else (unknown key → `ERR_OPTION_UNKNOWN`). */
export function hashOptions(options: unknown): ScryptParams {
  return scryptParams(aoptions<RecoveryHashOptions>(options, HASH_KEYS));
}

/** The ASCII bytes of a canonical code: the scrypt password. */
function passwordBytes(code: string): Uint8Array {
  const out = new Uint8Array(code.length);
  for (let i = 0; i < code.length; i++) out[i] = code.charCodeAt(i);
  return out;
}

/** @internal The scrypt hash of a canonical code, computed synchronously. */
export function deriveSync(code: string, salt: Uint8Array, params: ScryptParams): Uint8Array {
  return scryptSync(passwordBytes(code), salt, params, HASH_BYTES);
}

/** @internal The scrypt hash of a canonical code, off the event loop where the runtime allows. */
export function deriveAsync(code: string, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array> {
  return scryptAsync(passwordBytes(code), salt, params, HASH_BYTES);
}

/** @internal The hash string of a derived hash. */
export function formatHash(params: ScryptParams, len: number, salt: Uint8Array, hash: Uint8Array): string {
  return `${PREFIX}ln=${params.logN},r=${params.r},p=${params.p},len=${len}$${encodeBase64url(salt)}$${encodeBase64url(hash)}`;
}

/** @internal The error for a defective stored hash string. */
export function corrupt(why: string): OtpkitError {
  return new OtpkitError('ERR_RECOVERY_HASH', `stored recovery-code hash is malformed: ${why}`);
}

/** @internal Strictly parses a hash string (stored data: any defect → OtpkitError `ERR_RECOVERY_HASH`). */
export function parseHash(hashed: string): ParsedHash {
  if (hashed.length > MAX_HASH_STRING) throw corrupt('too long');
  if (!hashed.startsWith(PREFIX)) throw corrupt('unknown algorithm or version');
  const m = HASH_RE.exec(hashed);
  if (m === null) throw corrupt('bad syntax');
  const [ln = '', r = '', p = '', len = '', saltText = '', hashText = ''] = m.slice(1);
  const num = (s: string): number => (s.length > 1 && s.startsWith('0') ? Number.NaN : Number(s));
  const params = { logN: num(ln), r: num(r), p: num(p) };
  const n = num(len);
  const inBounds = (name: keyof ScryptParams): boolean => params[name] >= BOUNDS[name][0] && params[name] <= BOUNDS[name][1];
  if (!(inBounds('logN') && inBounds('r') && inBounds('p'))) throw corrupt('scrypt parameters out of range');
  if (!withinCost(params)) throw corrupt('scrypt cost out of range');
  if (!(n >= MIN_CHARS && n <= MAX_CHARS)) throw corrupt('code length out of range');
  const salt = decodeBase64url(saltText);
  if (salt === null || salt.length !== SALT_BYTES) throw corrupt('bad salt encoding');
  const hash = decodeBase64url(hashText);
  if (hash === null || hash.length !== HASH_BYTES) throw corrupt('bad hash encoding');
  return { ...params, len: n, salt, saltText, hash };
}

/** @internal A stored-hash argument: a string, else TypeError `ERR_RECOVERY_HASH`. */
function ahashed(hashed: unknown): string {
  if (typeof hashed !== 'string') throw typeError('ERR_RECOVERY_HASH', `"hashed" expected string, got ${kind(hashed)}`);
  return hashed;
}

function asalt(v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw typeError('ERR_OPTION_RECOVERY', `"salt" expected Uint8Array, got ${kind(v)}`);
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
 * @see RFC 7914 (scrypt); NIST SP 800-63B §5.1.2.2
 */
export function hashRecoveryCode(
  code: string,
  options?: RecoveryHashOptions & { readonly salt?: Uint8Array | undefined },
): string {
  const c = codeForHashing(code, 'code');
  const o = aoptions<RecoveryHashOptions & { readonly salt?: Uint8Array | undefined }>(options, HASH_SALT_KEYS);
  const params = scryptParams(o);
  const salt = o.salt === undefined ? randomBytes(SALT_BYTES) : asalt(o.salt);
  return formatHash(params, c.length, salt, deriveSync(c, salt, params));
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
 * @see RFC 7914 (scrypt); NIST SP 800-63B §5.1.2.2
 */
export function verifyRecoveryCode(code: string, hashed: string): boolean {
  acode(code, 'code');
  const h = parseHash(ahashed(hashed));
  const c = canonicalize(code, h.len, h.len);
  if (c === null) return false;
  return constantTimeEqualBytes(deriveSync(c, h.salt, h), h.hash);
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
 * @see the PHC string format (https://github.com/P-H-C/phc-string-format), which `$<id>$…` follows
 */
export function recoveryHashNeedsRehash(hashed: string, options?: RecoveryHashOptions): boolean {
  ahashed(hashed);
  const want = hashOptions(options);
  if (!hashed.startsWith(PREFIX)) {
    // Another scheme (PHC-style `$id$…`) or another version of ours is migrated; anything else,
    // including our own identifier without a version, is corrupt data.
    if (hashed.length <= MAX_HASH_STRING && /^\$[a-z0-9-]{1,32}\$[\x21-\x7e]+$/.test(hashed)) {
      if (!hashed.startsWith('$otpkit-scrypt$') || /^\$otpkit-scrypt\$v=[1-9][0-9]{0,3}\$/.test(hashed)) return true;
    }
    throw corrupt('unknown format');
  }
  const h = parseHash(hashed);
  return h.logN < want.logN || h.r < want.r || h.p < want.p;
}
