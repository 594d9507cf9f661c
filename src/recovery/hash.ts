/**
 * Recovery-code hashes. The default profile is scrypt (RFC 7914) in one self-describing string,
 * `$otpkit-scrypt$v=1$ln=13,r=8,p=1,len=16$<salt>$<hash>` (unpadded base64url, 16-byte salt,
 * 32-byte hash), so the parameters can be raised later ({@link recoveryHashNeedsRehash}): codes of
 * fewer than 112 bits need a salted KDF (NIST SP 800-63B §5.1.2.2). With a `pepper` the
 * high-entropy profile of pepper.ts applies instead. `len` is the code length, so a code of the
 * wrong length is refused without hashing. This file holds the options, the formats, and checking
 * one code against one hash.
 * @module
 */
import { aint, aoptions, kind } from '../_assert.js';
import { constantTimeEqualBytes } from '../_bytes.js';
import { decodeBase64url, encodeBase64url } from '../_encoding.js';
import { scryptAsync, scryptSync, type ScryptParams } from '../_scrypt.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';
import { randomBytes } from '../secret.js';
import { acode, canonicalize, codeForHashing, MAX_CHARS, MIN_CHARS } from './codes.js';
import {
  apepper,
  formatPepperHash,
  parsePepperHash,
  pepperDigest,
  pepperKey,
  PEPPER_MIN_CHARS,
  PEPPER_PREFIX,
  type ParsedPepperHash,
  type Pepper,
  type RecoveryPepper,
} from './pepper.js';

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

const HASH_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['logN', 'r', 'p', 'pepper']);
const HASH_SALT_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'logN',
  'r',
  'p',
  'pepper',
  'salt',
]);

/**
 * How recovery codes are hashed: scrypt (RFC 7914; the default; limits r · p · 2^logN ≤ 2^22), or,
 * with `pepper`, HMAC-SHA-256 under a server-side key for codes of at least 112 bits.
 */
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
  /**
   * The high-entropy profile: hash with HMAC-SHA-256 under these server-side keys instead of
   * scrypt. Only for codes of at least 112 bits (`bits: 112` or more; 120 is the flow's default
   * with a pepper), which NIST SP 800-63B §5.1.2.2 lets an approved one-way function protect; a
   * redemption then costs microseconds instead of one scrypt. Exclusive with `logN`, `r`, `p`.
   * Keep the keys outside the database (a secret manager, an environment variable): with the
   * database alone the hashes cannot be tested, and without the keys no code can be redeemed.
   */
  readonly pepper?: RecoveryPepper | undefined;
}

/** @internal The validated hashing profile: scrypt parameters, or a pepper. */
export type HashProfile =
  | { readonly kind: 'scrypt'; readonly params: ScryptParams }
  | { readonly kind: 'hmac'; readonly pepper: Pepper };

/** @internal A parsed stored hash of either profile. */
export type ParsedStored =
  ({ readonly kind: 'scrypt' } & ParsedHash) | ({ readonly kind: 'hmac' } & ParsedPepperHash);

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
    return o[name] === undefined
      ? DEFAULTS[name]
      : aint(o[name], name, min, max, 'ERR_OPTION_RECOVERY');
  };
  const params = { logN: param('logN'), r: param('r'), p: param('p') };
  if (!withinCost(params))
    throw rangeError(
      'ERR_OPTION_RECOVERY',
      `scrypt cost r·p·2^logN expected at most 2^${MAX_COST_LOG2}, got ${params.r}·${params.p}·2^${params.logN}`,
    );
  return params;
}

/** @internal The profile of an options object (already checked for unknown keys). */
function profileOf(o: RecoveryHashOptions): HashProfile {
  if (o.pepper === undefined) return { kind: 'scrypt', params: scryptParams(o) };
  if (o.logN !== undefined || o.r !== undefined || o.p !== undefined)
    throw rangeError(
      'ERR_OPTION_RECOVERY',
      '"pepper" and the scrypt parameters "logN", "r", "p" are exclusive',
    );
  return { kind: 'hmac', pepper: apepper(o.pepper) };
}

/** @internal The profile of an options argument that may hold nothing else (unknown key → `ERR_OPTION_UNKNOWN`). */
export function hashOptions(options: unknown): HashProfile {
  return profileOf(aoptions<RecoveryHashOptions>(options, HASH_KEYS));
}

/**
 * @internal Validates hashing options once, for a layer that keeps them: a frozen copy (so later
 * changes to the caller's object do not apply) and whether it is the pepper profile.
 */
export function keptHashOptions(options: unknown): {
  readonly options: RecoveryHashOptions;
  readonly peppered: boolean;
} {
  const profile = hashOptions(options);
  if (profile.kind === 'scrypt')
    return { options: Object.freeze({ ...profile.params }), peppered: false };
  const { current, keys } = profile.pepper;
  const pepper = Object.freeze({ current, keys: Object.freeze(Object.fromEntries(keys)) });
  return { options: Object.freeze({ pepper }), peppered: true };
}

/**
 * @internal A canonical code the profile may hash: with a pepper, at least 23 characters
 * (115 bits), else RangeError `ERR_OPTION_RECOVERY`.
 */
export function fitsProfile(code: string, profile: HashProfile, title: string): string {
  if (profile.kind === 'hmac' && code.length < PEPPER_MIN_CHARS)
    throw rangeError(
      'ERR_OPTION_RECOVERY',
      `"${title}" has ${code.length * 5} bits; hashing with a pepper needs codes of at least 112 bits (${PEPPER_MIN_CHARS} characters)`,
    );
  return code;
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
export function deriveAsync(
  code: string,
  salt: Uint8Array,
  params: ScryptParams,
): Promise<Uint8Array> {
  return scryptAsync(passwordBytes(code), salt, params, HASH_BYTES);
}

/** @internal The hash string of a derived hash. */
export function formatHash(
  params: ScryptParams,
  len: number,
  salt: Uint8Array,
  hash: Uint8Array,
): string {
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
  const inBounds = (name: keyof ScryptParams): boolean =>
    params[name] >= BOUNDS[name][0] && params[name] <= BOUNDS[name][1];
  if (!(inBounds('logN') && inBounds('r') && inBounds('p')))
    throw corrupt('scrypt parameters out of range');
  if (!withinCost(params)) throw corrupt('scrypt cost out of range');
  if (!(n >= MIN_CHARS && n <= MAX_CHARS)) throw corrupt('code length out of range');
  const salt = decodeBase64url(saltText);
  if (salt === null || salt.length !== SALT_BYTES) throw corrupt('bad salt encoding');
  const hash = decodeBase64url(hashText);
  if (hash === null || hash.length !== HASH_BYTES) throw corrupt('bad hash encoding');
  return { ...params, len: n, salt, saltText, hash };
}

/**
 * @internal Parses a stored hash of either profile (stored data: any defect → OtpkitError
 * `ERR_RECOVERY_HASH`).
 */
export function parseStored(hashed: string): ParsedStored {
  if (hashed.length > MAX_HASH_STRING) throw corrupt('too long');
  if (hashed.startsWith(PEPPER_PREFIX))
    return { kind: 'hmac', ...parsePepperHash(hashed, corrupt) };
  return { kind: 'scrypt', ...parseHash(hashed) };
}

/** @internal Whether `code` (canonical) is the code of one parsed hash; the pepper is needed for `hmac`. */
function matchesParsed(code: string, h: ParsedStored, pepper: Pepper | undefined): boolean {
  if (h.kind === 'hmac')
    return constantTimeEqualBytes(pepperDigest(code, pepperKey(pepper, h.keyId)), h.digest);
  return constantTimeEqualBytes(deriveSync(code, h.salt, h), h.hash);
}

/** @internal A stored-hash argument: a string, else TypeError `ERR_RECOVERY_HASH`. */
function ahashed(hashed: unknown): string {
  if (typeof hashed !== 'string')
    throw typeError('ERR_RECOVERY_HASH', `"hashed" expected string, got ${kind(hashed)}`);
  return hashed;
}

function asalt(v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array))
    throw typeError('ERR_OPTION_RECOVERY', `"salt" expected Uint8Array, got ${kind(v)}`);
  if (v.length !== SALT_BYTES)
    throw rangeError('ERR_OPTION_RECOVERY', `"salt" expected ${SALT_BYTES} bytes, got ${v.length}`);
  return v;
}

const VERIFY_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['pepper']);

/**
 * Hashes one recovery code into a self-describing string: with scrypt and a random 128-bit salt,
 * or, given a `pepper`, with HMAC-SHA-256 under its current key. For a whole set prefer
 * {@link hashRecoveryCodeSet} (one salt per set: one scrypt per redemption).
 *
 * @param code - a recovery code, in any form {@link normalizeRecoveryCode} accepts (64..160 bits;
 *   with a pepper at least 112).
 * @param options - {@link RecoveryHashOptions}, and `salt`, exactly 16 bytes (scrypt only;
 *   default: fresh from `crypto.getRandomValues`; pass one only for reproducible tests).
 * @returns `$otpkit-scrypt$v=1$ln=<logN>,r=<r>,p=<p>,len=<code length>$<salt>$<hash>`
 *   (base64url, 32-byte scrypt output), or `$otpkit-hmac$v=1$k=<key id>,len=<code length>$<digest>`.
 * @throws TypeError `ERR_RECOVERY_TYPE` if `code` is not a string.
 * @throws RangeError `ERR_OPTION_RECOVERY` if `code` is not a recovery code (or under 112 bits
 *   with a pepper), or on a bad scrypt parameter, salt or pepper; `ERR_OPTION_UNKNOWN` on an
 *   unknown option.
 * @example
 * ```ts
 * const hashed = hashRecoveryCode('K7QM-4X2P-9D3R-TB8W');
 * verifyRecoveryCode('k7qm 4x2p 9d3r tb8w', hashed); // true
 * ```
 * @see RFC 7914 (scrypt); RFC 2104 (HMAC); NIST SP 800-63B §5.1.2.2
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
  const profile = profileOf(o);
  fitsProfile(c, profile, 'code');
  if (profile.kind === 'hmac') {
    if (o.salt !== undefined)
      throw rangeError('ERR_OPTION_RECOVERY', '"salt" does not apply with "pepper"');
    const { current, keys } = profile.pepper;
    return formatPepperHash(current, c.length, pepperDigest(c, keys.get(current) as Uint8Array));
  }
  const salt = o.salt === undefined ? randomBytes(SALT_BYTES) : asalt(o.salt);
  return formatHash(profile.params, c.length, salt, deriveSync(c, salt, profile.params));
}

/**
 * Checks a recovery code against one stored hash: normalises the code (a malformed code or one
 * of the wrong length returns `false` without hashing), recomputes scrypt with the stored salt
 * and parameters (or the HMAC with the stored key id's pepper), and compares in constant time.
 *
 * @param code - the code as the user typed it.
 * @param hashed - a string from {@link hashRecoveryCode} or {@link hashRecoveryCodeSet}.
 * @param options - `pepper`, needed for `$otpkit-hmac$` hashes.
 * @returns `true` if `code` is the hashed code.
 * @throws TypeError `ERR_RECOVERY_TYPE` if `code` is not a string; `ERR_RECOVERY_HASH` if
 *   `hashed` is not a string.
 * @throws OtpkitError `ERR_RECOVERY_HASH` if `hashed` is malformed, of another algorithm or
 *   version, has out-of-range parameters (stored data: a tampered hash cannot make us compute
 *   scrypt beyond r·p·2^logN = 2^22), or names a pepper key that is not configured.
 * @throws RangeError `ERR_OPTION_RECOVERY` on a bad pepper; `ERR_OPTION_UNKNOWN` on an unknown option.
 * @example
 * ```ts
 * const hashed = hashRecoveryCode('K7QM-4X2P-9D3R-TB8W');
 * verifyRecoveryCode('K7QM-4X2P-9D3R-TB8W', hashed); // true
 * verifyRecoveryCode('K7QM-4X2P-9D3R-TB8X', hashed); // false
 * ```
 * @see RFC 7914 (scrypt); RFC 2104 (HMAC); NIST SP 800-63B §5.1.2.2
 */
export function verifyRecoveryCode(
  code: string,
  hashed: string,
  options?: { readonly pepper?: RecoveryPepper | undefined },
): boolean {
  acode(code, 'code');
  const o = aoptions<{ pepper?: unknown }>(options, VERIFY_KEYS);
  const pepper = o.pepper === undefined ? undefined : apepper(o.pepper);
  const h = parseStored(ahashed(hashed));
  const c = canonicalize(code, h.len, h.len);
  if (h.kind === 'hmac') pepperKey(pepper, h.keyId); // a missing key is an error even for a malformed code
  if (c === null) return false;
  return matchesParsed(c, h, pepper);
}

/**
 * Tells whether a stored hash was made otherwise than `options` now say, so the set should be
 * regenerated (recovery codes are single use: they cannot be rehashed on login): scrypt with any
 * of logN, r or p lower; another profile (scrypt vs pepper); a pepper key other than `current`;
 * or another algorithm or version.
 *
 * @param hashed - a stored hash string.
 * @param options - the current settings ({@link RecoveryHashOptions}; default scrypt logN 13, r 8, p 1).
 * @returns `true` if the hash should be replaced.
 * @throws TypeError `ERR_RECOVERY_HASH` if `hashed` is not a string.
 * @throws OtpkitError `ERR_RECOVERY_HASH` if `hashed` is neither a well-formed hash of ours nor a
 *   `$<algorithm>$…` string of another scheme.
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
  if (!hashed.startsWith(PREFIX) && !hashed.startsWith(PEPPER_PREFIX)) {
    // Another scheme (PHC-style `$id$…`) or another version of ours is migrated; anything else,
    // including our own identifiers without a version, is corrupt data.
    if (hashed.length <= MAX_HASH_STRING && /^\$[a-z0-9-]{1,32}\$[\x21-\x7e]+$/.test(hashed)) {
      if (
        !/^\$otpkit-(scrypt|hmac)\$/.test(hashed) ||
        /^\$otpkit-(scrypt|hmac)\$v=[1-9][0-9]{0,3}\$/.test(hashed)
      )
        return true;
    }
    throw corrupt('unknown format');
  }
  const h = parseStored(hashed);
  if (h.kind !== want.kind) return true;
  if (h.kind === 'hmac') return want.kind === 'hmac' && h.keyId !== want.pepper.current;
  const p = (want as { params: ScryptParams }).params;
  return h.logN < p.logN || h.r < p.r || h.p < p.p;
}
