/**
 * Pure, synchronous verification of HOTP and TOTP codes (no storage): strict token syntax,
 * constant-time comparison of every candidate with no early exit, capped windows.
 *
 * Replay protection and throttling need state: use the store-backed verifier
 * (`createVerifier`) for logins. These functions are its building blocks.
 * @module
 */
import { aint, aoptions, kind } from './_assert.js';
import { acounter, MAX_COUNTER, splitBigint, TWO_32 } from './_bytes.js';
import { POW10, truncatedHmac, type PreparedKey } from './_hmac.js';
import {
  keySet,
  OTP_KEYS,
  prepareSecret,
  resolveOptions,
  TIME_KEYS,
  type ResolvedOtp,
} from './_options.js';
import { typeError } from './errors.js';
import type { OtpOptions } from './hotp.js';
import type { TimeOptions } from './totp.js';

/**
 * The hard cap on the TOTP window each way. RFC 6238 §5.2 recommends at most one step for network
 * delay; wider windows absorb clock drift (§6), and every step accepted widens what a guess can hit.
 */
export const MAX_WINDOW = 10;
/** The hard cap on the HOTP look-ahead (RFC 4226 §7.4: as low as possible). */
export const MAX_LOOK_AHEAD = 100;
/** The hard cap on the HOTP resynchronisation range (RFC 4226 §7.4, App. E.4). */
export const MAX_RESYNC_LOOK_AHEAD = 1000;

/** Why a code was not accepted. `malformed`: not exactly `digits` ASCII digits; `invalid`: wrong code. */
export type VerifyFailureReason = 'malformed' | 'invalid';

/** A TOTP window: steps accepted before and after the current one, each 0–10. */
export type TOTPWindow =
  number | { readonly past?: number | undefined; readonly future?: number | undefined };

/** Options of {@link verifyTOTP}. */
export interface VerifyTOTPOptions extends OtpOptions, TimeOptions {
  /**
   * Steps accepted around now: a number (both ways) or `{ past, future }`, each 0–10.
   * A ±1 window accepts a 30 s code for up to 90 s; `{ past: 1, future: 0 }` is the strict profile
   * (ASVS 5.0 6.5.5).
   * @defaultValue 1
   */
  readonly window?: TOTPWindow | undefined;
}

/** Result of {@link verifyTOTP}. */
export type VerifyTOTPResult =
  | {
      readonly ok: true;
      /** Matched step minus the current step (negative: the client clock is behind). */
      readonly delta: number;
      /** The matched time step: the value replay protection records. */
      readonly step: number;
    }
  | { readonly ok: false; readonly reason: VerifyFailureReason };

/** Options of {@link verifyHOTP}. */
export interface VerifyHOTPOptions extends OtpOptions {
  /** The next expected counter (the stored one). Required. */
  readonly counter: number | bigint;
  /** How many counters from `counter` on are tried, 1–100 (RFC 4226 §7.4). Never a past counter. @defaultValue 10 */
  readonly lookAhead?: number | undefined;
}

/** Result of {@link verifyHOTP} and {@link resyncHOTP}. */
export type VerifyHOTPResult =
  | {
      readonly ok: true;
      /** The counter that matched. */
      readonly counter: bigint;
      /** The counter to store for the next verification (matched + 1). */
      readonly next: bigint;
    }
  | { readonly ok: false; readonly reason: VerifyFailureReason };

/** Options of {@link resyncHOTP}. */
export interface ResyncHOTPOptions extends OtpOptions {
  /** The stored counter. Required. */
  readonly counter: number | bigint;
  /** How far ahead to search for the pair, 1–1000. @defaultValue 100 */
  readonly lookAhead?: number | undefined;
}

const TOTP_VERIFY_KEYS: ReadonlySet<string> = /* @__PURE__ */ keySet(OTP_KEYS, TIME_KEYS, [
  'window',
]);
const HOTP_VERIFY_KEYS: ReadonlySet<string> = /* @__PURE__ */ keySet(OTP_KEYS, [
  'counter',
  'lookAhead',
]);

const MALFORMED = Object.freeze({ ok: false, reason: 'malformed' } as const);
const INVALID = Object.freeze({ ok: false, reason: 'invalid' } as const);

/**
 * @internal Parses a token that must be exactly `digits` ASCII digits into its
 * integer value, or returns -1. O(1) for any length: the length check comes first. Never trims,
 * never NFKC-normalises, never uses Number()/parseInt (which accept '', ' 1', '0x1E240', '1e5').
 */
export function parseToken(token: unknown, digits: number): number {
  if (typeof token !== 'string')
    throw typeError(
      'ERR_TOKEN_TYPE',
      `"token" expected a string of ${digits} digits, got ${kind(token)}`,
    );
  if (token.length !== digits) return -1;
  let v = 0;
  let bad = 0;
  for (let i = 0; i < digits; i++) {
    const d = token.charCodeAt(i) - 48;
    bad |= d | (9 - d); // negative iff d is outside 0..9
    v = v * 10 + d;
  }
  return bad < 0 ? -1 : v;
}

/** @internal Validates a window option into `[past, future]`. */
export function awindow(w: unknown): [past: number, future: number] {
  if (w === undefined) return [1, 1];
  if (typeof w === 'number') {
    const n = aint(w, 'window', 0, MAX_WINDOW, 'ERR_OPTION_WINDOW');
    return [n, n];
  }
  if (typeof w !== 'object' || w === null || Array.isArray(w))
    throw typeError(
      'ERR_OPTION_WINDOW',
      `"window" expected a number or { past, future }, got ${kind(w)}`,
    );
  const o = aoptions<{ past: number; future: number }>(w, WINDOW_KEYS, 'window');
  return [
    o.past === undefined ? 1 : aint(o.past, 'window.past', 0, MAX_WINDOW, 'ERR_OPTION_WINDOW'),
    o.future === undefined
      ? 1
      : aint(o.future, 'window.future', 0, MAX_WINDOW, 'ERR_OPTION_WINDOW'),
  ];
}
const WINDOW_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['past', 'future']);

/** @internal Everything a TOTP verification needs, validated once (shared with the store-backed verifier). */
export interface PreparedTOTP {
  readonly key: PreparedKey;
  readonly otp: ResolvedOtp;
  readonly step: number;
  readonly past: number;
  readonly future: number;
  readonly period: number;
}

/**
 * @internal Validates options and secret for a TOTP verification, in this order: the options of
 * resolveOptions, the window, the secret. The one preparation behind verifyTOTP and the
 * store-backed verifier, so both accept and reject exactly the same inputs.
 */
export function prepareVerifyTOTP(secret: unknown, options: unknown): PreparedTOTP {
  const o = aoptions<VerifyTOTPOptions>(options, TOTP_VERIFY_KEYS);
  const { algorithm, digits, allowShort, step, period } = resolveOptions(o, true);
  const otp: ResolvedOtp = { algorithm, digits, allowShort };
  const [past, future] = awindow(o.window);
  return { key: prepareSecret(secret, otp), otp, step, past, future, period };
}

/**
 * @internal Scans deltas `lo..hi` around the prepared step (each clamped to the cap and to
 * step ≥ 0), computing and comparing every candidate with no early exit. Returns the matching
 * delta of smallest |delta| (past before future on a tie), or NaN. Allocation-free: the 32-bit
 * halves of each candidate step are exact float math (a step is a non-negative safe integer).
 */
export function scanTOTP(p: PreparedTOTP, value: number, lo: number, hi: number): number {
  const { key, step } = p;
  const mod = POW10[p.otp.digits]!;
  let best = NaN;
  let bestAbs = Infinity;
  const last = Math.min(hi, MAX_WINDOW);
  for (let d = Math.max(lo, -MAX_WINDOW, -step); d <= last; d++) {
    const c = step + d;
    const h = Math.floor(c / TWO_32);
    const hit = truncatedHmac(key, h, c - h * TWO_32) % mod === value; // integer compare: constant time
    const abs = d < 0 ? -d : d;
    // Strict < with ascending d keeps the past delta on a tie.
    if (hit && abs < bestAbs) {
      best = d + 0; // + 0 turns a -0 start (lo = -0 for past 0, or step 0) into 0
      bestAbs = abs;
    }
  }
  return best;
}

/**
 * Verifies a TOTP code against the current (or given) time, with no state.
 *
 * This alone does not stop replays or guessing: a login must use the store-backed verifier,
 * which wraps this with replay protection, throttling and drift learning.
 *
 * @param secret - the shared secret, 16–256 bytes.
 * @param token - the code as typed: exactly `digits` ASCII digits, never trimmed or coerced.
 * @param options - {@link VerifyTOTPOptions}: window, algorithm, digits, period, t0, now.
 * @returns `{ ok: true, delta, step }`, or `{ ok: false, reason }` with `'malformed'` (checked
 *   before any HMAC work) or `'invalid'`.
 * @throws TypeError if `token` is not a string, or on any wrong option type.
 * @throws RangeError on out-of-range options (window > 10, digits, period, …) or a short secret.
 * @example
 * ```ts
 * const secret = generateSecret();
 * const result = verifyTOTP(secret, generateTOTP(secret)); // { ok: true, delta: 0, step: … }
 * verifyTOTP(secret, '12 3456'); // { ok: false, reason: 'malformed' }
 * ```
 * @see RFC 6238 §5.2, §6
 */
export function verifyTOTP(
  secret: Uint8Array,
  token: string,
  options?: VerifyTOTPOptions,
): VerifyTOTPResult {
  const p = prepareVerifyTOTP(secret, options);
  const value = parseToken(token, p.otp.digits);
  if (value < 0) return MALFORMED;
  const delta = scanTOTP(p, value, -p.past, p.future);
  if (Number.isNaN(delta)) return INVALID;
  return { ok: true, delta, step: p.step + delta };
}

/** @internal Validated HOTP verification inputs. */
export interface PreparedHOTP {
  readonly key: PreparedKey;
  readonly otp: ResolvedOtp;
  readonly counter: bigint;
  readonly lookAhead: number;
}

/** @internal Validates HOTP verification options (shared with the store-backed verifier). */
export function prepareVerifyHOTP(
  secret: unknown,
  options: unknown,
  maxLookAhead: number = MAX_LOOK_AHEAD,
  defaultLookAhead: number = 10,
): PreparedHOTP {
  if (options === undefined) throw typeError('ERR_COUNTER_TYPE', '"options.counter" is required');
  const o = aoptions<VerifyHOTPOptions>(options, HOTP_VERIFY_KEYS);
  const { algorithm, digits, allowShort } = resolveOptions(o, false);
  const otp: ResolvedOtp = { algorithm, digits, allowShort };
  const counter = acounter(o.counter, 'counter');
  const lookAhead =
    o.lookAhead === undefined
      ? defaultLookAhead
      : aint(o.lookAhead, 'lookAhead', 1, maxLookAhead, 'ERR_OPTION_LOOKAHEAD');
  return { key: prepareSecret(secret, otp), otp, counter, lookAhead };
}

/**
 * @internal Scans counters `counter .. counter+lookAhead−1`, stopping below 2^64−1 so that `next`
 * never wraps (the counter is unsigned 64-bit, RFC 4226 §5.1); every candidate is computed. Returns the smallest matching
 * counter for which `match` holds, or -1n.
 */
function scanHOTP(p: PreparedHOTP, match: (c: bigint) => boolean): bigint {
  let found = -1n;
  const last = p.counter + BigInt(p.lookAhead - 1);
  const end = last < MAX_COUNTER ? last : MAX_COUNTER - 1n;
  for (let c = p.counter; c <= end; c++) {
    if (match(c) && found < 0n) found = c;
  }
  return found;
}

function codeValue(p: PreparedHOTP, c: bigint): number {
  const [h, l] = splitBigint(c);
  return truncatedHmac(p.key, h, l) % POW10[p.otp.digits]!;
}

/**
 * Verifies an HOTP code by looking ahead from the stored counter (never behind it).
 *
 * Store `next` atomically on success (the store-backed verifier does this with a compare-and-set).
 *
 * @param secret - the shared secret, 16–256 bytes.
 * @param token - the code as typed: exactly `digits` ASCII digits.
 * @param options - {@link VerifyHOTPOptions}; `counter` is required.
 * @returns `{ ok: true, counter, next }` (the matched counter and the one to store) or `{ ok: false, reason }`.
 * @throws TypeError if `token` is not a string, `counter` is missing or of the wrong type.
 * @throws RangeError on `lookAhead` outside 1–100, a negative counter, or other bad options.
 * @example
 * ```ts
 * const secret = new TextEncoder().encode('12345678901234567890');
 * verifyHOTP(secret, '969429', { counter: 0 }); // { ok: true, counter: 3n, next: 4n }
 * ```
 * @see RFC 4226 §7.2, §7.4, Appendix A.3
 */
export function verifyHOTP(
  secret: Uint8Array,
  token: string,
  options: VerifyHOTPOptions,
): VerifyHOTPResult {
  const p = prepareVerifyHOTP(secret, options);
  const value = parseToken(token, p.otp.digits);
  if (value < 0) return MALFORMED;
  return hotpResult(scanHOTP(p, (c) => codeValue(p, c) === value));
}

/** @internal Builds the HOTP result from a matched counter (-1n: none). */
export function hotpResult(found: bigint): VerifyHOTPResult {
  return found < 0n ? INVALID : { ok: true, counter: found, next: found + 1n };
}

/** @internal Scans for a single HOTP token (shared with the store-backed verifier). */
export function scanHOTPToken(p: PreparedHOTP, value: number): bigint {
  return scanHOTP(p, (c) => codeValue(p, c) === value);
}

/**
 * Resynchronises an HOTP counter from two consecutive codes over a larger range
 * (RFC 4226 §7.4: "the server MAY require the user to send a sequence of (say, 2, 3) HOTP values").
 *
 * @param secret - the shared secret.
 * @param first - the first code shown by the token.
 * @param second - the code shown right after it.
 * @param options - {@link ResyncHOTPOptions}; `counter` is the stored counter, `lookAhead` up to 1000 (default 100).
 * @returns `{ ok: true, counter, next }` where `counter` matched `second` and `next` is the counter
 *   to store, or `{ ok: false, reason }`.
 * @throws TypeError / RangeError as {@link verifyHOTP}.
 * @example
 * ```ts
 * const secret = new TextEncoder().encode('12345678901234567890');
 * resyncHOTP(secret, '399871', '520489', { counter: 0 }); // { ok: true, counter: 9n, next: 10n }
 * ```
 * @see RFC 4226 §7.4, Appendix E.4
 */
export function resyncHOTP(
  secret: Uint8Array,
  first: string,
  second: string,
  options: ResyncHOTPOptions,
): VerifyHOTPResult {
  const p = prepareVerifyHOTP(secret, options, MAX_RESYNC_LOOK_AHEAD, 100);
  const a = parseToken(first, p.otp.digits);
  const b = parseToken(second, p.otp.digits);
  if (a < 0 || b < 0) return MALFORMED;
  // Both codes are computed for every candidate (no early exit on the first code); the second
  // counter must leave room for `next` below 2^64.
  const found = scanHOTP(p, (c) => {
    const hitA = codeValue(p, c) === a;
    const hitB = c + 1n < MAX_COUNTER && codeValue(p, c + 1n) === b;
    return hitA && hitB;
  });
  return found < 0n ? INVALID : { ok: true, counter: found + 1n, next: found + 2n };
}

/**
 * Strips ASCII spaces and hyphens from a code typed into a UI (`'123 456'`, `'123-456'`).
 *
 * Verification itself never normalises (a replay cache keyed on raw input that verification
 * normalised was CVE-2025-6014); call this explicitly, before verifying, if your UI wants it.
 *
 * @param input - the raw text from the form field.
 * @returns the text without ASCII spaces and `-`; nothing else is changed.
 * @throws TypeError if `input` is not a string.
 * @example
 * ```ts
 * normalizeToken('123 456'); // '123456'
 * normalizeToken(' 12-34 56 '); // '123456'
 * ```
 */
export function normalizeToken(input: string): string {
  if (typeof input !== 'string')
    throw typeError('ERR_TOKEN_TYPE', `"input" expected string, got ${kind(input)}`);
  return input.replace(/[ -]/g, '');
}
