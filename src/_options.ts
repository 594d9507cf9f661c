/**
 * The options every HOTP and TOTP function takes, validated and defaulted by one resolver, so that
 * generation, verification and the store-backed verifier check them in the same order and throw
 * the same errors: algorithm (RFC 6238 §1.2), digits (RFC 4226 §5.3), allowInsecureShortSecret,
 * then for TOTP the time-step size X and T0 (RFC 6238 §4.1) and the current time.
 * @module
 * @internal
 */
import { aalgorithm, abool, adigits, aint, asecret, atime, MAX_TIME_MS } from './_assert.js';
import { prepareKey, type PreparedKey } from './_hmac.js';
import { rangeError } from './errors.js';
import type { HashAlgorithm, OtpOptions } from './hotp.js';
import type { TimeOptions } from './totp.js';

/** @internal Option keys of OtpOptions, for unknown-key rejection. */
export const OTP_KEYS: readonly string[] = ['algorithm', 'digits', 'allowInsecureShortSecret'];
/** @internal Option keys of TimeOptions. */
export const TIME_KEYS: readonly string[] = ['period', 't0', 'now'];

/**
 * @internal The option keys a function accepts, for aoptions' unknown-key check. Callers mark
 * the call `@__PURE__`, so that a bundle drops the sets of the functions it does not use.
 */
export function keySet(...lists: readonly (readonly string[])[]): ReadonlySet<string> {
  return new Set(lists.flat());
}

/** @internal The validated, defaulted form of OtpOptions. */
export interface ResolvedOtp {
  readonly algorithm: HashAlgorithm;
  readonly digits: number;
  readonly allowShort: boolean;
}

/** @internal The validated, defaulted form of OtpOptions and TimeOptions, with the time step. */
export interface ResolvedOptions extends ResolvedOtp {
  readonly period: number;
  readonly t0: number;
  /** The current Unix time in whole seconds. */
  readonly seconds: number;
  /** T = floor((seconds − t0) / period) (RFC 6238 §4.2): a non-negative safe integer. */
  readonly step: number;
}

/**
 * What resolveOptions returns: one record for every call instead of a new object per call (this
 * runs on every code generated or checked). Safe because every caller is synchronous and reads
 * the fields before it can reach another resolveOptions call.
 */
const resolved: { -readonly [K in keyof ResolvedOptions]: ResolvedOptions[K] } = {
  algorithm: 'SHA1',
  digits: 6,
  allowShort: false,
  period: 30,
  t0: 0,
  seconds: 0,
  step: 0,
};

/**
 * @internal Validates and defaults the options, in this order: algorithm, digits,
 * allowInsecureShortSecret and, when `time` is set, period, t0, now, then t0 ≤ now. Without
 * `time`, the time fields of the result are meaningless. The result is shared scratch, valid until
 * the next call: copy what must outlive the caller's synchronous part.
 */
export function resolveOptions(
  o: Partial<OtpOptions & TimeOptions>,
  time: boolean,
): ResolvedOptions {
  const r = resolved;
  r.algorithm = o.algorithm === undefined ? 'SHA1' : aalgorithm(o.algorithm);
  r.digits = o.digits === undefined ? 6 : adigits(o.digits);
  r.allowShort =
    o.allowInsecureShortSecret === undefined
      ? false
      : abool(o.allowInsecureShortSecret, 'allowInsecureShortSecret');
  if (time) {
    // RFC 6238 §5.2 recommends X = 30 s; NIST SP 800-63B wants a clock-based OTP to change at
    // least every 2 minutes.
    const period = (r.period =
      o.period === undefined ? 30 : aint(o.period, 'period', 1, 120, 'ERR_OPTION_PERIOD'));
    const t0 = (r.t0 =
      o.t0 === undefined ? 0 : aint(o.t0, 't0', 0, MAX_TIME_MS / 1000, 'ERR_OPTION_T0'));
    // Math.floor of these quotients is exact: for positive integers with a + b < 2^53, a / b lies
    // at least 1 / b below the next integer, more than half an ulp there, so rounding never reaches it.
    const seconds = (r.seconds = Math.floor(
      atime(o.now === undefined ? Date.now() : o.now) / 1000,
    ));
    // A t0 after now would make T negative, and T is the unsigned HOTP counter (RFC 4226 §5.1).
    if (t0 > seconds)
      throw rangeError('ERR_OPTION_T0', `"t0" (${t0} s) lies after "now" (${seconds} s)`);
    r.step = Math.floor((seconds - t0) / period);
  }
  return r;
}

/** @internal Validates a secret against resolved options and precomputes its HMAC states. */
export function prepareSecret(secret: unknown, r: ResolvedOtp): PreparedKey {
  return prepareKey(r.algorithm, asecret(secret, r.allowShort));
}
