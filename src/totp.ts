/**
 * TOTP: RFC 6238 time-based one-time passwords (generation and the time step).
 *
 * `TOTP = HOTP(K, T)` with `T = floor((unixTime − T0) / X)` (§4.2). Times are handled as exact
 * integers well past 2038 and 2106 up to the year 9999; nothing passes through 32-bit operators.
 * @module
 */
import { aoptions, asecret } from './_assert.js';
import { TWO_32 } from './_bytes.js';
import { formatCode, truncatedHmacOnce } from './_hmac.js';
import { keySet, OTP_KEYS, resolveOptions, TIME_KEYS } from './_options.js';
import type { OtpOptions } from './hotp.js';

/** Time options shared by TOTP generation and verification. */
export interface TimeOptions {
  /** Time-step size X in seconds, 1–120 (RFC 6238 §5.2 recommends 30; NIST caps nonces at 2 minutes). @defaultValue 30 */
  readonly period?: number | undefined;
  /** Unix time T0 in seconds at which counting starts (RFC 6238 §4.1). @defaultValue 0 */
  readonly t0?: number | undefined;
  /** The current time: milliseconds since the epoch, or a `Date`. Use the server clock, never a client's. @defaultValue Date.now() */
  readonly now?: number | Date | undefined;
}

/** Options of {@link generateTOTP}. */
export interface TOTPOptions extends OtpOptions, TimeOptions {}

/** @internal Still imported from here by test/verifier.test.ts; the list lives in _options.ts. */
export { TIME_KEYS } from './_options.js';

const TOTP_KEYS: ReadonlySet<string> = /* @__PURE__ */ keySet(OTP_KEYS, TIME_KEYS);

/**
 * The RFC 6238 time step `T = floor((unixSeconds − t0) / period)` for a time in milliseconds.
 *
 * @param now - milliseconds since the epoch, or a `Date`.
 * @param period - the step size in seconds. @defaultValue 30
 * @param t0 - the start of counting in Unix seconds. @defaultValue 0
 * @returns the step, an exact non-negative integer.
 * @throws TypeError / RangeError on invalid times, periods, or a `t0` after `now`.
 * @example
 * ```ts
 * timeStep(59_000); // 1
 * timeStep(20_000_000_000_000); // 666666666 (0x27BC86AA, RFC 6238 Appendix B)
 * ```
 * @see RFC 6238 §4.2
 */
export function timeStep(now: number | Date, period = 30, t0 = 0): number {
  return resolveOptions({ now, period, t0 }, true).step;
}

/**
 * Generates the TOTP code for the current (or given) time.
 *
 * @param secret - the shared secret, 16–256 bytes (10–15 with `allowInsecureShortSecret`).
 * @param options - {@link TOTPOptions}: algorithm, digits, period, t0, now.
 * @returns the code as a string of `digits` decimal digits, with leading zeros.
 * @throws TypeError on a wrong type (secret, invalid `Date`, `NaN` time, `'30'` period, …).
 * @throws RangeError on out-of-range values (digits not 6–8, period not 1–120, negative time,
 *   `t0` after `now`, unknown algorithm or option, secret shorter than 16 bytes).
 * @example
 * ```ts
 * const secret = generateSecret();
 * const code = generateTOTP(secret); // e.g. '492039'
 * generateTOTP(new TextEncoder().encode('12345678901234567890'), { now: 59_000, digits: 8 }); // '94287082'
 * ```
 * @see RFC 6238 §4
 */
export function generateTOTP(secret: Uint8Array, options?: TOTPOptions): string {
  const { algorithm, digits, allowShort, step } = resolveOptions(
    aoptions<TOTPOptions>(options, TOTP_KEYS),
    true,
  );
  // The step is a non-negative safe integer: its 32-bit halves are exact float math.
  const hi = Math.floor(step / TWO_32);
  return formatCode(
    truncatedHmacOnce(algorithm, asecret(secret, allowShort), hi, step - hi * TWO_32),
    digits,
  );
}
