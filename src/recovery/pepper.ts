/**
 * The high-entropy profile of recovery codes: codes of at least 112 bits, stored as
 * HMAC-SHA-256 under a server-side key (the "pepper"), in one self-describing string
 * `$otpkit-hmac$v=1$k=<key id>,len=<code length>$<digest>` (unpadded base64url, 32 bytes).
 * NIST SP 800-63B §5.1.2.2 (SP 800-63B-4 §3.1.2.2) asks for a salted, costly KDF only for
 * look-up secrets under 112 bits; above, an approved one-way function is enough, so a redemption costs one HMAC (microseconds)
 * instead of one scrypt (tens of milliseconds, far over an edge runtime's CPU budget). The code
 * id is derived from the digest, so a store can find the code by an indexed lookup. When to
 * choose which profile: docs/security-model.md §3.17.
 * @module
 */
import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { KEY_ID, kind } from '../_assert.js';
import { decodeBase64url, encodeBase64url, hex } from '../_encoding.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';

/** Server-side HMAC keys of recovery-code hashes by id: new hashes use `current`; any listed key matches. */
export interface RecoveryPepper {
  /** The id of the key new hashes are made with (1..64 characters of `[A-Za-z0-9_.-]`). */
  readonly current: string;
  /** Keys by id, each at least 32 random bytes. Keep retired keys until their codes are replaced. */
  readonly keys: Readonly<Record<string, Uint8Array>>;
}

/** @internal A validated pepper. */
export interface Pepper {
  readonly current: string;
  readonly keys: ReadonlyMap<string, Uint8Array>;
}

/** @internal A parsed `$otpkit-hmac$` string. */
export interface ParsedPepperHash {
  readonly keyId: string;
  readonly len: number;
  readonly digest: Uint8Array;
}

/** The NIST threshold above which a keyed one-way function suffices, in bits. */
export const PEPPER_MIN_BITS = 112;
/** @internal The shortest code the profile hashes: ceil(112 / 5) = 23 characters (115 bits). */
export const PEPPER_MIN_CHARS = 23;
/** @internal The default entropy of codes in this profile: 120 bits, 24 characters, six groups of four. */
export const PEPPER_DEFAULT_BITS = 120;
const MIN_KEY_BYTES = 32;
const DIGEST_BYTES = 32;
/** @internal The prefix of every hash string of this profile. */
export const PEPPER_PREFIX = '$otpkit-hmac$v=1$';
const PEPPER_RE = /^\$otpkit-hmac\$v=1\$k=([A-Za-z0-9_.-]{1,64}),len=(\d{2})\$([A-Za-z0-9_-]{43})$/;
/** Domain separation: the pepper may be a key the app uses elsewhere, this input is ours alone. */
const DOMAIN = 'otpkit-recovery:v1:';

/** @internal Validates a `pepper` option (misuse → TypeError/RangeError `ERR_OPTION_RECOVERY`). */
export function apepper(v: unknown): Pepper {
  const o = v as { current?: unknown; keys?: unknown } | null;
  if (typeof o !== 'object' || o === null)
    throw typeError('ERR_OPTION_RECOVERY', `"pepper" expected { current, keys }, got ${kind(v)}`);
  for (const k of Object.keys(o))
    if (k !== 'current' && k !== 'keys')
      throw rangeError('ERR_OPTION_RECOVERY', `"pepper" has an unknown key "${k}"`);
  if (typeof o.current !== 'string' || !KEY_ID.test(o.current))
    throw rangeError(
      'ERR_OPTION_RECOVERY',
      '"pepper.current" expected 1..64 characters of [A-Za-z0-9_.-]',
    );
  if (typeof o.keys !== 'object' || o.keys === null)
    throw typeError(
      'ERR_OPTION_RECOVERY',
      `"pepper.keys" expected an object of keys, got ${kind(o.keys)}`,
    );
  const keys = new Map<string, Uint8Array>();
  for (const [id, key] of Object.entries(o.keys as Record<string, unknown>)) {
    if (!KEY_ID.test(id))
      throw rangeError(
        'ERR_OPTION_RECOVERY',
        '"pepper.keys" has an id that is not 1..64 characters of [A-Za-z0-9_.-]',
      );
    if (!(key instanceof Uint8Array))
      throw typeError(
        'ERR_OPTION_RECOVERY',
        `"pepper.keys.${id}" expected Uint8Array, got ${kind(key)}`,
      );
    if (key.length < MIN_KEY_BYTES)
      throw rangeError(
        'ERR_OPTION_RECOVERY',
        `"pepper.keys.${id}" expected at least ${MIN_KEY_BYTES} bytes, got ${key.length}`,
      );
    keys.set(id, key.slice());
  }
  if (!keys.has(o.current))
    throw rangeError('ERR_OPTION_RECOVERY', '"pepper.current" names no key of "pepper.keys"');
  return { current: o.current, keys };
}

/** @internal HMAC-SHA-256 of a canonical code under one key. */
export function pepperDigest(code: string, key: Uint8Array): Uint8Array {
  const msg = new Uint8Array(DOMAIN.length + code.length);
  const text = DOMAIN + code;
  for (let i = 0; i < text.length; i++) msg[i] = text.charCodeAt(i);
  return hmac(sha256, key, msg);
}

/** @internal The code id of a digest: its first 16 bytes in hex, the key a store can index. */
export function pepperId(digest: Uint8Array): string {
  return hex(digest.subarray(0, 16));
}

/** @internal The hash string of a digest. */
export function formatPepperHash(keyId: string, len: number, digest: Uint8Array): string {
  return `${PEPPER_PREFIX}k=${keyId},len=${len}$${encodeBase64url(digest)}`;
}

/** @internal Strictly parses a hash string of this profile; `corrupt` builds the stored-data error. */
export function parsePepperHash(
  hashed: string,
  corrupt: (why: string) => OtpkitError,
): ParsedPepperHash {
  const m = PEPPER_RE.exec(hashed);
  if (m === null) throw corrupt('bad syntax');
  const [keyId = '', lenText = '', digestText = ''] = m.slice(1);
  const len = Number(lenText);
  if (lenText.startsWith('0') || len < PEPPER_MIN_CHARS || len > 32)
    throw corrupt('code length out of range');
  const digest = decodeBase64url(digestText);
  if (digest === null || digest.length !== DIGEST_BYTES) throw corrupt('bad digest encoding');
  return { keyId, len, digest };
}

/** @internal The key a stored hash was made with; a key no longer configured → OtpkitError `ERR_RECOVERY_HASH`. */
export function pepperKey(pepper: Pepper | undefined, keyId: string): Uint8Array {
  const key = pepper?.keys.get(keyId);
  if (key === undefined)
    throw new OtpkitError(
      'ERR_RECOVERY_HASH',
      `recovery-code hash uses pepper key "${keyId}", which is not configured`,
    );
  return key;
}
