/**
 * Errors: one `OtpkitError` class with a stable `code` for operational and domain failures,
 * and built-in `TypeError` / `RangeError` (also carrying a `code`) for programmer misuse.
 *
 * A user's wrong, malformed, replayed or throttled code is never an error: verification
 * returns it as a result. No message built here ever contains secret material or a code.
 * @module
 */

/** Every stable error code otpkit uses, on `OtpkitError` and on the `TypeError`/`RangeError` it throws for misuse. */
export type OtpkitErrorCode =
  // base32 (RFC 4648 §6)
  | 'ERR_BASE32_CHAR'
  | 'ERR_BASE32_PADDING'
  | 'ERR_BASE32_LENGTH'
  | 'ERR_BASE32_NONCANONICAL'
  // secrets
  | 'ERR_SECRET_TYPE'
  | 'ERR_SECRET_EMPTY'
  | 'ERR_SECRET_TOO_SHORT'
  | 'ERR_SECRET_TOO_LONG'
  | 'ERR_SECRET_SEALED'
  // counters and times
  | 'ERR_COUNTER_TYPE'
  | 'ERR_COUNTER_RANGE'
  | 'ERR_TIME_TYPE'
  | 'ERR_TIME_RANGE'
  // options
  | 'ERR_OPTION_TYPE'
  | 'ERR_OPTION_UNKNOWN'
  | 'ERR_OPTION_DIGITS'
  | 'ERR_OPTION_PERIOD'
  | 'ERR_OPTION_ALGORITHM'
  | 'ERR_OPTION_WINDOW'
  | 'ERR_OPTION_T0'
  | 'ERR_OPTION_LOOKAHEAD'
  | 'ERR_OPTION_RECOVERY'
  | 'ERR_OPTION_INVALID'
  // tokens and user input
  | 'ERR_TOKEN_TYPE'
  | 'ERR_RECOVERY_TYPE'
  | 'ERR_RECOVERY_HASH'
  // otpauth:// URIs (Key Uri Format)
  | 'ERR_URI_TOO_LONG'
  | 'ERR_URI_SCHEME'
  | 'ERR_URI_TYPE'
  | 'ERR_URI_LABEL'
  | 'ERR_URI_ENCODING'
  | 'ERR_URI_SECRET_MISSING'
  | 'ERR_URI_SECRET'
  | 'ERR_URI_COUNTER_MISSING'
  | 'ERR_URI_COUNTER'
  | 'ERR_URI_ISSUER_MISMATCH'
  | 'ERR_URI_PARAM'
  | 'ERR_URI_DUPLICATE_PARAM'
  // QR codes
  | 'ERR_QR_TOO_LONG'
  // storage (fail closed)
  | 'ERR_STORE'
  | 'ERR_STORE_TIMEOUT'
  | 'ERR_STORE_CORRUPT'
  // a concurrent change won the race (e.g. two regenerations of one user's recovery codes)
  | 'ERR_CONFLICT'
  // the app's delivery hook could not send an email/SMS code (no live code was left behind)
  | 'ERR_DELIVERY';

/**
 * The brand the constructor puts on every `OtpkitError`, under a registered symbol. The ESM and
 * CommonJS builds (and any second copy of otpkit in the process) each define their own class, so
 * the prototype chain alone would make `instanceof` false for an error thrown by the other one
 * (Node.js "dual package hazard"); the registered symbol is the same in every copy.
 */
const BRAND: unique symbol = /* @__PURE__ */ Symbol.for('otpkit.OtpkitError');

/**
 * An operational or domain failure: an unparseable URI or base32 string, a storage outage,
 * a corrupt stored record. `code` is stable across releases; `message` is for humans.
 *
 * `e instanceof OtpkitError` holds for errors from either build of otpkit (ESM `import` or
 * CommonJS `require`, also mixed in one process): it checks the prototype chain, then the brand
 * `Symbol.for('otpkit.OtpkitError')` that the constructor sets (non-enumerable, so a spread or
 * `structuredClone` copy does not carry it). A plain object with a `code` is never an
 * `OtpkitError`. `instanceof` a subclass checks the prototype chain only.
 *
 * @example
 * ```ts
 * try { decodeBase32('MZXW6YR='); }
 * catch (e) { if (e instanceof OtpkitError && e.code === 'ERR_BASE32_NONCANONICAL') { ... } }
 * ```
 */
export class OtpkitError extends Error {
  /** Stable machine-readable code. */
  readonly code: OtpkitErrorCode;

  /**
   * @param code - the stable code.
   * @param message - a human message; never includes secrets or codes.
   * @param options - `cause`, the underlying error (for example the storage client's).
   */
  constructor(code: OtpkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OtpkitError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * `instanceof`: the prototype chain, or, for `OtpkitError` itself, the brand of an error made
   * by another copy of the class.
   * @param value - the left operand of `instanceof`.
   * @returns whether `value` is an `OtpkitError` (or an instance of the subclass).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      super[Symbol.hasInstance](value) ||
      (this === OtpkitError && (value as { [BRAND]?: unknown } | null)?.[BRAND] === true)
    );
  }
}

/** A misuse error (`TypeError` or `RangeError`) that also carries a stable `code`. */
export type OtpkitMisuseError = (TypeError | RangeError) & { readonly code: OtpkitErrorCode };

/** @internal Builds a `TypeError` carrying `code`. */
export function typeError(code: OtpkitErrorCode, message: string): OtpkitMisuseError {
  return Object.assign(new TypeError(message), { code });
}

/** @internal Builds a `RangeError` carrying `code`. */
export function rangeError(code: OtpkitErrorCode, message: string): OtpkitMisuseError {
  return Object.assign(new RangeError(message), { code });
}
