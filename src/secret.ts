/**
 * Shared secrets: generation from the platform CSPRNG (RFC 4226 §7.5, RFC 6238 §5.1).
 * @module
 */
import { aalgorithm, aint, aoptions, MAX_SECRET_BYTES, MIN_SECRET_BYTES } from './_assert.js';
import { HMAC_LENGTH } from './_hmac.js';
import type { HashAlgorithm } from './hotp.js';
import { OtpkitError } from './errors.js';

/** Options of {@link generateSecret}. */
export interface GenerateSecretOptions {
  /** The HMAC algorithm the secret is for; sets the default length. @defaultValue 'SHA1' */
  readonly algorithm?: HashAlgorithm | undefined;
  /** Length in bytes, 16–256. @defaultValue the HMAC output length: 20 (SHA1), 32 (SHA256), 64 (SHA512) */
  readonly length?: number | undefined;
}

const KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['algorithm', 'length']);

/**
 * @internal Fills `n` bytes from `globalThis.crypto.getRandomValues` (never `Math.random`),
 * failing loudly where no CSPRNG exists.
 */
export function randomBytes(n: number): Uint8Array {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (c === undefined || typeof c.getRandomValues !== 'function')
    throw new OtpkitError(
      'ERR_OPTION_INVALID',
      'no CSPRNG: globalThis.crypto.getRandomValues is unavailable',
    );
  const out = new Uint8Array(n);
  // getRandomValues fills at most 65536 bytes a call.
  for (let i = 0; i < n; i += 65536) c.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

/**
 * Generates a new random shared secret.
 *
 * @param options - {@link GenerateSecretOptions}.
 * @returns fresh random bytes; by default as long as the HMAC output (RFC 6238 §5.1), never under 16.
 * @throws RangeError if `length` is not an integer 16..256, or on an unknown option or algorithm.
 * @throws OtpkitError `ERR_OPTION_INVALID` if the platform has no `crypto.getRandomValues`.
 * @example
 * ```ts
 * const secret = generateSecret(); // 20 bytes for SHA1
 * encodeBase32(secret); // show it to the user or put it in an otpauth:// URI
 * ```
 * @see RFC 4226 §4 R6, RFC 6238 §5.1
 */
export function generateSecret(options?: GenerateSecretOptions): Uint8Array {
  const o = aoptions<GenerateSecretOptions>(options, KEYS);
  const algorithm = o.algorithm === undefined ? 'SHA1' : aalgorithm(o.algorithm);
  const length =
    o.length === undefined
      ? HMAC_LENGTH[algorithm]
      : aint(o.length, 'length', MIN_SECRET_BYTES, MAX_SECRET_BYTES, 'ERR_OPTION_INVALID');
  return randomBytes(length);
}
