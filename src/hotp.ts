/**
 * HOTP: RFC 4226 HMAC-based one-time passwords (generation; verification lives in verify.ts).
 *
 * `HOTP(K, C) = Truncate(HMAC-H(K, C))` with C the 8-byte big-endian counter (§5.1–5.3). Counters
 * are unsigned 64-bit: a safe-integer `number` or a `bigint` up to 2^64−1.
 * @module
 */
import { aoptions, asecret } from './_assert.js';
import { acounter, TWO_32 } from './_bytes.js';
import { formatCode, truncatedHmacOnce } from './_hmac.js';
import { keySet, OTP_KEYS, resolveOptions } from './_options.js';

/** A hash function HOTP/TOTP may be keyed with (RFC 6238 §1.2). */
export type HashAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

/** Options shared by HOTP and TOTP generation and verification. */
export interface OtpOptions {
  /** HMAC hash (RFC 6238 §1.2). @defaultValue 'SHA1' */
  readonly algorithm?: HashAlgorithm | undefined;
  /** Code length, 6, 7 or 8 (RFC 4226 §5.3). @defaultValue 6 */
  readonly digits?: number | undefined;
  /**
   * Accept a secret of 10 to 15 bytes (the common 80-bit legacy keys) for authenticator-side
   * interop. Below 128 bits RFC 4226 R6 is violated: never use it for new enrollments.
   * @defaultValue false
   */
  readonly allowInsecureShortSecret?: boolean | undefined;
}

/** Options of {@link generateHOTP}. */
export interface HOTPOptions extends OtpOptions {}

/** @internal Still imported from here by test/verifier.test.ts; the list lives in _options.ts. */
export { OTP_KEYS } from './_options.js';

const HOTP_KEYS: ReadonlySet<string> = /* @__PURE__ */ keySet(OTP_KEYS);

/**
 * Generates the HOTP code for `counter`.
 *
 * @param secret - the shared secret, 16–256 bytes (10–15 with `allowInsecureShortSecret`).
 * @param counter - the moving factor: a safe-integer `number` or a `bigint`, 0..2^64−1.
 * @param options - {@link HOTPOptions}.
 * @returns the code as a string of `digits` decimal digits, with leading zeros.
 * @throws TypeError on a wrong type (secret not a `Uint8Array`, counter `1.5`, `NaN`, `2**53`, `'5'`, …).
 * @throws RangeError on an out-of-range value (negative counter, counter ≥ 2^64, digits not 6–8,
 *   unknown algorithm, unknown option, secret shorter than 16 bytes or longer than 256).
 * @example
 * ```ts
 * const secret = new TextEncoder().encode('12345678901234567890');
 * generateHOTP(secret, 0); // '755224' (RFC 4226 Appendix D)
 * generateHOTP(secret, 2n ** 64n - 1n, { digits: 8, algorithm: 'SHA256' });
 * ```
 * @see RFC 4226 §5
 */
export function generateHOTP(
  secret: Uint8Array,
  counter: number | bigint,
  options?: HOTPOptions,
): string {
  const o = aoptions<HOTPOptions>(options, HOTP_KEYS);
  const { algorithm, digits, allowShort } = resolveOptions(o, false);
  const c = acounter(counter);
  // A validated number counter is a non-negative safe integer: its halves are exact float math.
  const hi = typeof counter === 'number' ? Math.floor(counter / TWO_32) : Number(c >> 32n);
  const lo = typeof counter === 'number' ? counter - hi * TWO_32 : Number(c & 0xffff_ffffn);
  return formatCode(truncatedHmacOnce(algorithm, asecret(secret, allowShort), hi, lo), digits);
}
