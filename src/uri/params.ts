/**
 * One otpauth:// enrollment as plain data: the shape {@link parseOtpauthURI} returns and
 * {@link buildOtpauthURI} emits, and the one function that makes it, so the two directions
 * always agree on it.
 * @module
 */
import type { HashAlgorithm } from '../hotp.js';

/**
 * One enrollment, as {@link parseOtpauthURI} returns it and {@link buildOtpauthURI} accepts it.
 * Plain data: no methods, no classes.
 */
export interface OtpauthParams {
  /** `totp` (RFC 6238) or `hotp` (RFC 4226). */
  readonly type: 'totp' | 'hotp';
  /** The shared secret (the URI carries it as unpadded base32). */
  readonly secret: Uint8Array;
  /** The account name, e.g. the user's e-mail address. Never empty, no `:`, no leading/trailing whitespace. */
  readonly account: string;
  /** The provider or service, e.g. `ACME Co`. Same rules as `account`. */
  readonly issuer?: string | undefined;
  /** The HMAC hash. */
  readonly algorithm: HashAlgorithm;
  /** Code length, 6 to 8. */
  readonly digits: number;
  /** TOTP only: the time step in seconds, 1 to 120. A parsed TOTP URI always has it (default 30). */
  readonly period?: number | undefined;
  /** HOTP only: the counter, 0 to 2^64−1. A parsed HOTP URI always has it. */
  readonly counter?: bigint | undefined;
  /** The `image` parameter (a logo URL some apps such as FreeOTP display), kept verbatim. */
  readonly image?: string | undefined;
  /** Any other parameters, kept on parse and emitted on build (e.g. `color`). */
  readonly extra?: Readonly<Record<string, string>> | undefined;
}

/**
 * What {@link buildOtpauthURI} accepts: {@link OtpauthParams} with the defaults optional and the
 * counter as a safe-integer `number` or a `bigint`.
 */
export interface OtpauthParamsInput {
  /** `totp` or `hotp`. */
  readonly type: 'totp' | 'hotp';
  /** The shared secret, 16–256 bytes (10–15 with `allowInsecureShortSecret`). */
  readonly secret: Uint8Array;
  /** The account name: non-empty, no `:`, no control or bidi characters, no leading/trailing whitespace. */
  readonly account: string;
  /** The provider or service; same rules as `account`. Emitted as label prefix and `issuer` parameter. */
  readonly issuer?: string | undefined;
  /** The HMAC hash. @defaultValue 'SHA1' */
  readonly algorithm?: HashAlgorithm | undefined;
  /** Code length, 6, 7 or 8. @defaultValue 6 */
  readonly digits?: number | undefined;
  /** TOTP only: the time step in seconds, 1–120. @defaultValue 30 */
  readonly period?: number | undefined;
  /** HOTP only, and required there: the counter, 0..2^64−1. */
  readonly counter?: number | bigint | undefined;
  /** The `image` parameter (a logo URL). */
  readonly image?: string | undefined;
  /** Further parameters; names must match `/^[A-Za-z0-9_.-]+$/` and not collide with the known ones. */
  readonly extra?: Readonly<Record<string, string>> | undefined;
}

/**
 * @internal Makes the frozen result from validated fields. Optional fields are omitted, not set to
 * undefined, so results compare equal however made. The secret must be a private copy (typed
 * arrays cannot be frozen).
 */
export function freezeParams(
  type: 'totp' | 'hotp',
  secret: Uint8Array,
  account: string,
  issuer: string | undefined,
  algorithm: HashAlgorithm,
  digits: number,
  period: number | undefined,
  counter: bigint | undefined,
  image: string | undefined,
  extra: Readonly<Record<string, string>> | undefined,
): OtpauthParams {
  return Object.freeze({
    type,
    secret,
    account,
    ...(issuer === undefined ? {} : { issuer }),
    algorithm,
    digits,
    ...(period === undefined ? {} : { period }),
    ...(counter === undefined ? {} : { counter }),
    ...(image === undefined ? {} : { image }),
    ...(extra === undefined ? {} : { extra }),
  });
}
