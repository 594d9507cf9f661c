/**
 * Argument assertions shared by every public function. Misuse throws a `TypeError` (wrong type)
 * or `RangeError` (out of range) that quotes the argument's name and carries a stable `code`.
 * Messages describe the argument, never its secret content.
 * @module
 * @internal
 */
import { rangeError, typeError, type OtpkitErrorCode } from './errors.js';
import type { HashAlgorithm } from './_hmac.js';

/** @internal Smallest secret accepted by default: RFC 4226 §4 R6 (128 bits). */
export const MIN_SECRET_BYTES = 16;
/** @internal Smallest secret accepted behind `allowInsecureShortSecret` (the 80-bit legacy keys). */
export const MIN_INSECURE_SECRET_BYTES = 10;
/** @internal Largest secret accepted: far above any HMAC block size, small enough to bound work. */
export const MAX_SECRET_BYTES = 256;

/** @internal The HMAC algorithm names, exactly as written (options, URIs after upper-casing). */
export const ALGORITHMS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'SHA1',
  'SHA256',
  'SHA512',
]);

/** @internal Describes a value's type for a message without printing its content. */
export function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'Uint8Array';
  return typeof v;
}

/**
 * @internal Rejects option keys that are not in `allowed` (a typo such as `windw` must not
 * silently fall back to the default) and non-object options.
 */
export function aoptions<T extends object>(
  options: unknown,
  allowed: ReadonlySet<string>,
  title = 'options',
): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected an object, got ${kind(options)}`);
  // A Date, Map or boxed Number has no own keys and would silently mean "all defaults".
  const proto = Object.getPrototypeOf(options);
  if (proto !== Object.prototype && proto !== null)
    throw typeError(
      'ERR_OPTION_TYPE',
      `"${title}" expected a plain object, got ${(options as object).constructor?.name ?? 'object'}`,
    );
  for (const key in options) {
    if (!allowed.has(key))
      throw rangeError('ERR_OPTION_UNKNOWN', `"${title}" has unknown option "${key}"`);
  }
  return options as Partial<T>;
}

/** @internal An integer option in `min..max`. */
export function aint(
  n: unknown,
  title: string,
  min: number,
  max: number,
  code: OtpkitErrorCode,
): number {
  if (typeof n !== 'number')
    throw typeError(code, `"${title}" expected integer ${min}..${max}, got ${kind(n)}`);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw rangeError(code, `"${title}" expected integer ${min}..${max}, got ${n}`);
  return n;
}

/** @internal A boolean option. */
export function abool(v: unknown, title: string): boolean {
  if (typeof v !== 'boolean')
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected boolean, got ${kind(v)}`);
  return v;
}

/** @internal The HMAC algorithm name: exactly 'SHA1', 'SHA256' or 'SHA512' (RFC 6238 §1.2; no MD5). */
export function aalgorithm(v: unknown, title = 'algorithm'): HashAlgorithm {
  if (typeof v !== 'string')
    throw typeError(
      'ERR_OPTION_ALGORITHM',
      `"${title}" expected 'SHA1' | 'SHA256' | 'SHA512', got ${kind(v)}`,
    );
  if (!ALGORITHMS.has(v))
    throw rangeError(
      'ERR_OPTION_ALGORITHM',
      `"${title}" expected 'SHA1' | 'SHA256' | 'SHA512', got '${v.length > 16 ? `${v.slice(0, 16)}…` : v}'`,
    );
  return v as HashAlgorithm;
}

/**
 * @internal A shared secret: a `Uint8Array` of 16..256 bytes, or 10..15 bytes when the caller
 * opted into `allowInsecureShortSecret` (RFC 4226 §4 R6 requires at least 128 bits).
 */
export function asecret(secret: unknown, allowShort: boolean, title = 'secret'): Uint8Array {
  if (!(secret instanceof Uint8Array)) {
    const hint = typeof secret === 'string' ? ' (decode base32 text with decodeBase32 first)' : '';
    throw typeError(
      'ERR_SECRET_TYPE',
      `"${title}" expected Uint8Array, got ${kind(secret)}${hint}`,
    );
  }
  const n = secret.length;
  if (n === 0) throw rangeError('ERR_SECRET_EMPTY', `"${title}" is empty`);
  if (n > MAX_SECRET_BYTES)
    throw rangeError(
      'ERR_SECRET_TOO_LONG',
      `"${title}" is ${n} bytes; at most ${MAX_SECRET_BYTES} allowed`,
    );
  if (n < MIN_SECRET_BYTES) {
    if (!allowShort)
      throw rangeError(
        'ERR_SECRET_TOO_SHORT',
        `"${title}" is ${n} bytes; at least ${MIN_SECRET_BYTES} (128 bits, RFC 4226 R6) required. ` +
          `To accept a legacy ${MIN_INSECURE_SECRET_BYTES}..${MIN_SECRET_BYTES - 1}-byte secret, pass { allowInsecureShortSecret: true }`,
      );
    if (n < MIN_INSECURE_SECRET_BYTES)
      throw rangeError(
        'ERR_SECRET_TOO_SHORT',
        `"${title}" is ${n} bytes; even with allowInsecureShortSecret at least ${MIN_INSECURE_SECRET_BYTES} are required`,
      );
  }
  return secret;
}

/**
 * @internal {@link asecret}'s length rule as a verdict instead of a throw, for callers that report
 * a refusal their own way (a parsed URI, the CLI): 1..256 bytes, and at least 16 unless
 * `allowShort` (then at least 10). asecret keeps its own copy of these comparisons because it is
 * on the `verifyTOTP` path, where one more function costs bundle bytes; test/uri.test.ts checks
 * that the two agree for every length.
 * @returns the code of the refusal, or `undefined` if `n` bytes are accepted. A too-short secret
 *   is `ERR_SECRET_TOO_SHORT` either way; `allowShort` tells which floor it missed.
 */
export function secretLengthProblem(
  n: number,
  allowShort: boolean,
): 'ERR_SECRET_EMPTY' | 'ERR_SECRET_TOO_LONG' | 'ERR_SECRET_TOO_SHORT' | undefined {
  if (n === 0) return 'ERR_SECRET_EMPTY';
  if (n > MAX_SECRET_BYTES) return 'ERR_SECRET_TOO_LONG';
  if (n < (allowShort ? MIN_INSECURE_SECRET_BYTES : MIN_SECRET_BYTES))
    return 'ERR_SECRET_TOO_SHORT';
  return undefined;
}

/** @internal The longest identifier (user, credential, factor id, scope), in UTF-16 code units. */
export const MAX_ID = 256;
/** NUL, or a UTF-16 surrogate that is not half of a pair. */
const UNSTORABLE_ID = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * @internal An identifier a caller hands to a store: a string of 1..256 UTF-16 code units without
 * NUL or lone surrogates. Every store must keep distinct ids distinct, and UTF-8 stores turn lone
 * surrogates into U+FFFD and refuse NUL, so those are refused before any store sees them.
 */
export function aid(v: unknown, title: string): string {
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(v)}`);
  if (v.length === 0 || v.length > MAX_ID)
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"${title}" expected 1..${MAX_ID} characters, got ${v.length}`,
    );
  if (UNSTORABLE_ID.test(v))
    throw rangeError('ERR_OPTION_INVALID', `"${title}" contains NUL or a lone surrogate`);
  return v;
}

/** @internal A key identifier (sealing keys, recovery peppers): 1..64 characters of `[A-Za-z0-9_.-]`. */
export const KEY_ID: RegExp = /^[A-Za-z0-9_.-]{1,64}$/;
/** @internal The longest key identifier. */
export const MAX_KEY_ID = 64;

/** @internal The latest instant a `Date` can represent, in ms (year 275760). */
export const MAX_TIME_MS = 8.64e15;

/**
 * @internal A point in time given by a caller: milliseconds since the epoch or a `Date`, finite,
 * 0..{@link MAX_TIME_MS}, floored to whole milliseconds. Every `now` of every function goes
 * through here, so `now` means the same thing, with the same type, everywhere.
 */
export function atime(v: unknown, title = 'now'): number {
  // The number test first: `instanceof` is the slower check, and no number is a Date.
  const ms = typeof v === 'number' ? v : v instanceof Date ? v.getTime() : Number.NaN;
  if (!Number.isFinite(ms))
    throw typeError(
      'ERR_TIME_TYPE',
      `"${title}" expected finite ms or a valid Date, got ${typeof v === 'number' ? v : kind(v)}`,
    );
  if (ms < 0 || ms > MAX_TIME_MS)
    throw rangeError('ERR_TIME_RANGE', `"${title}" expected 0..${MAX_TIME_MS} ms, got ${ms}`);
  return Math.floor(ms);
}

/** @internal Code length: 6, 7 or 8 digits (RFC 4226 §5.3 requires at least 6). */
export function adigits(v: unknown): number {
  return aint(v, 'digits', 6, 8, 'ERR_OPTION_DIGITS');
}
