/**
 * TOTP: RFC 6238 time-based one-time passwords (generation and the time-step math).
 *
 * `TOTP = HOTP(K, T)` with `T = floor((unixTime − T0) / X)` (§4.2). Times are handled as exact
 * integers well past 2038 and 2106 up to the year 9999; nothing passes through 32-bit operators.
 * @module
 */
import { aint, aoptions, asecret, atime, MAX_TIME_MS } from './_assert.js';
import { TWO_32 } from './_bytes.js';
import { truncatedHmacOnce } from './_hmac.js';
import { rangeError } from './errors.js';
import {
  formatCode,
  optAlgorithm,
  optAllowShort,
  optDigits,
  OTP_KEYS,
  type OtpOptions,
  type ResolvedOtp,
} from './hotp.js';

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

/** @internal Option keys of TimeOptions. */
export const TIME_KEYS: readonly string[] = ['period', 't0', 'now'];
const TOTP_KEYS: ReadonlySet<string> = new Set([...OTP_KEYS, ...TIME_KEYS]);

/** @internal The validated time settings. */
export interface ResolvedTime {
  readonly period: number;
  readonly t0: number;
  /** Unix time in whole seconds. */
  readonly seconds: number;
}

/** @internal Validates `now` (ms or Date, {@link atime}; default `Date.now()`) and returns whole Unix seconds. */
export function anow(now: unknown): number {
  return Math.floor(atime(now === undefined ? Date.now() : now) / 1000);
}

/** @internal The `period` option, validated and defaulted. */
export function optPeriod(o: Partial<TimeOptions>): number {
  return o.period === undefined ? 30 : aint(o.period, 'period', 1, 120, 'ERR_OPTION_PERIOD');
}

/** @internal The `t0` option, validated and defaulted. */
export function optT0(o: Partial<TimeOptions>): number {
  return o.t0 === undefined ? 0 : aint(o.t0, 't0', 0, MAX_TIME_MS / 1000, 'ERR_OPTION_T0');
}

/** @internal Throws unless t0 lies at or before now (REQUIREMENTS A.6). */
export function checkT0(t0: number, seconds: number): void {
  if (t0 > seconds) throw rangeError('ERR_OPTION_T0', `"t0" (${t0} s) lies after "now" (${seconds} s)`);
}

/**
 * @internal Validates period, t0 and now, in that order (t0 may not lie after now: REQUIREMENTS
 * A.6). The hot paths call optPeriod, optT0, anow and checkT0 directly, in the same order.
 */
export function resolveTime(o: Partial<TimeOptions>): ResolvedTime {
  const period = optPeriod(o);
  const t0 = optT0(o);
  const seconds = anow(o.now);
  checkT0(t0, seconds);
  return { period, t0, seconds };
}

/** @internal Floor division of non-negative safe integers, exact (no floating rounding). */
function floorDiv(a: number, b: number): number {
  return (a - (a % b)) / b;
}

/** @internal The RFC 6238 step of validated settings: floor((seconds − t0) / period). */
export function stepAt(seconds: number, t0: number, period: number): number {
  return floorDiv(seconds - t0, period);
}

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
  const t = resolveTime({ now, period, t0 });
  return floorDiv(t.seconds - t.t0, t.period);
}

/** @internal Step of resolved time settings. */
export function stepOf(t: ResolvedTime): number {
  return stepAt(t.seconds, t.t0, t.period);
}

/** @internal Validates every TOTP option at once (shared by generation and verification). */
export function resolveTOTP(o: Partial<TOTPOptions>): ResolvedOtp & ResolvedTime {
  // resolveOtp then resolveTime, into one literal (V8's object spread here cost ~5x the HMAC itself).
  const algorithm = optAlgorithm(o);
  const digits = optDigits(o);
  const allowShort = optAllowShort(o);
  const period = optPeriod(o);
  const t0 = optT0(o);
  const seconds = anow(o.now);
  checkT0(t0, seconds);
  return { algorithm, digits, allowShort, period, t0, seconds };
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
  const o = aoptions<TOTPOptions>(options, TOTP_KEYS);
  // resolveTOTP's checks in resolveTOTP's order, as plain locals: no per-call objects.
  const algorithm = optAlgorithm(o);
  const digits = optDigits(o);
  const allowShort = optAllowShort(o);
  const period = optPeriod(o);
  const t0 = optT0(o);
  const seconds = anow(o.now);
  checkT0(t0, seconds);
  const step = stepAt(seconds, t0, period);
  // The step is a non-negative safe integer: its 32-bit halves are exact float math.
  const hi = Math.floor(step / TWO_32);
  return formatCode(truncatedHmacOnce(algorithm, asecret(secret, allowShort), hi, step - hi * TWO_32), digits);
}
