/**
 * HOTP: RFC 4226 HMAC-based one-time passwords (generation; verification lives in verify.ts).
 *
 * `HOTP(K, C) = Truncate(HMAC-H(K, C))` with C the 8-byte big-endian counter (§5.1–5.3). Counters
 * are unsigned 64-bit: a safe-integer `number` or a `bigint` up to 2^64−1.
 * @module
 */
import { aalgorithm, abool, adigits, aoptions, asecret } from './_assert.js';
import { acounter, splitBigint } from './_bytes.js';
import { prepareKey, truncatedHmac, type HashAlgorithm, type PreparedKey } from './_hmac.js';

export type { HashAlgorithm } from './_hmac.js';

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

/** @internal The validated, defaulted form of {@link OtpOptions}. */
export interface ResolvedOtp {
  readonly algorithm: HashAlgorithm;
  readonly digits: number;
  readonly allowShort: boolean;
}

/** @internal Option keys of OtpOptions, for unknown-key rejection. */
export const OTP_KEYS: readonly string[] = ['algorithm', 'digits', 'allowInsecureShortSecret'];
const HOTP_KEYS: ReadonlySet<string> = new Set(OTP_KEYS);

/** @internal Validates and defaults the shared options. */
export function resolveOtp(o: Partial<OtpOptions>): ResolvedOtp {
  return {
    algorithm: o.algorithm === undefined ? 'SHA1' : aalgorithm(o.algorithm),
    digits: o.digits === undefined ? 6 : adigits(o.digits),
    allowShort: o.allowInsecureShortSecret === undefined ? false : abool(o.allowInsecureShortSecret, 'allowInsecureShortSecret'),
  };
}

/** @internal 10^digits for digits 0..8. */
export const POW10: readonly number[] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/** @internal Formats a truncated value as `digits` decimal digits with leading zeros (RFC 4226 §5.3 step 3). */
export function formatCode(value: number, digits: number): string {
  return String(value % (POW10[digits] as number)).padStart(digits, '0');
}

/** @internal The code for one counter, given as 32-bit halves, with a prepared key. */
export function codeAt(key: PreparedKey, hi: number, lo: number, digits: number): string {
  return formatCode(truncatedHmac(key, hi, lo), digits);
}

/** @internal Validates a secret and precomputes its HMAC states. */
export function prepareSecret(secret: unknown, r: ResolvedOtp): PreparedKey {
  return prepareKey(r.algorithm, asecret(secret, r.allowShort));
}

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
export function generateHOTP(secret: Uint8Array, counter: number | bigint, options?: HOTPOptions): string {
  const r = resolveOtp(aoptions<HOTPOptions>(options, HOTP_KEYS));
  const c = acounter(counter);
  const key = prepareSecret(secret, r);
  const [hi, lo] = splitBigint(c);
  return codeAt(key, hi, lo, r.digits);
}
