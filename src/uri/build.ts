/**
 * Building otpauth:// enrollment URIs (the Google Authenticator Key Uri Format), from input
 * validated as misuse: a bad field throws `TypeError` / `RangeError`.
 * @module
 */
import { aalgorithm, abool, adigits, aint, aoptions, asecret, kind } from '../_assert.js';
import { acounter } from '../_bytes.js';
import { encodeBase32 } from '../base32.js';
import { rangeError, typeError } from '../errors.js';
import {
  DEFAULT_MAX_URI_LENGTH,
  KNOWN_PARAMS,
  nameProblem,
  paramNameKind,
  valueProblem,
} from './_rules.js';
import { freezeParams, type OtpauthParams, type OtpauthParamsInput } from './params.js';

/** Options of {@link buildOtpauthURI}. */
export interface BuildOtpauthURIOptions {
  /** Emit `algorithm`, `digits` and `period` even when they have their default values. @defaultValue false */
  readonly explicitDefaults?: boolean | undefined;
  /** Allow 10..15-byte secrets (the 80-bit legacy keys). Never for new enrollments. @defaultValue false */
  readonly allowInsecureShortSecret?: boolean | undefined;
}

/** The fields of {@link OtpauthParamsInput}: the URI's own parameters, plus the type, account and extras. */
const PARAM_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  ...KNOWN_PARAMS,
  'type',
  'account',
  'extra',
]);
const OPTION_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'explicitDefaults',
  'allowInsecureShortSecret',
]);

/** An issuer or account name (misuse: TypeError / RangeError `ERR_URI_LABEL`). */
function aname(v: unknown, title: 'issuer' | 'account'): string {
  if (typeof v !== 'string')
    throw typeError('ERR_URI_LABEL', `"${title}" expected string, got ${kind(v)}`);
  // Callers trim: the parser drops whitespace at either end, so a padded name could not round-trip.
  const p = nameProblem(v);
  if (p !== undefined)
    throw rangeError(
      'ERR_URI_LABEL',
      `"${title}" ${p.says}${p.kind === 'empty' && title === 'issuer' ? ' (omit it instead)' : ''}`,
    );
  return v;
}

/** A free-form parameter value (image, extra; misuse: TypeError / RangeError `ERR_URI_PARAM`). */
function avalue(v: unknown, title: string, allowEmpty: boolean): string {
  if (typeof v !== 'string')
    throw typeError('ERR_URI_PARAM', `"${title}" expected string, got ${kind(v)}`);
  const p = valueProblem(v, allowEmpty);
  if (p !== undefined) throw rangeError('ERR_URI_PARAM', `"${title}" ${p.says}`);
  return v;
}

/** The `extra` parameters: a plain object of string values under new, well-formed names. */
function aextra(x: unknown): Readonly<Record<string, string>> | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x))
    throw typeError('ERR_URI_PARAM', `"extra" expected an object, got ${kind(x)}`);
  const entries: [string, string][] = [];
  for (const key of Object.keys(x)) {
    const k = paramNameKind(key);
    if (k === 'malformed')
      throw rangeError('ERR_URI_PARAM', `"extra" key must match /^[A-Za-z0-9_.-]+$/`);
    if (k !== 'extra')
      throw rangeError(
        'ERR_URI_PARAM',
        `"extra" key "${key}" collides with a known parameter; use the field instead`,
      );
    entries.push([key, avalue((x as Record<string, unknown>)[key], `extra.${key}`, true)]);
  }
  return entries.length > 0 ? Object.freeze(Object.fromEntries(entries)) : undefined;
}

/**
 * @internal Validates and normalises builder input into the exact shape {@link parseOtpauthURI}
 * returns (frozen, defaults filled in), so `parse(build(x))` deep-equals `normalize(x)`.
 */
export function normalizeOtpauthParams(params: unknown, allowShort: boolean): OtpauthParams {
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    throw typeError('ERR_OPTION_TYPE', `"params" expected an object, got ${kind(params)}`);
  const p = aoptions<OtpauthParamsInput>(params, PARAM_KEYS, 'params');
  const type = p.type;
  if (type !== 'totp' && type !== 'hotp') {
    if (typeof type !== 'string')
      throw typeError('ERR_URI_TYPE', `"type" expected 'totp' | 'hotp', got ${kind(type)}`);
    throw rangeError('ERR_URI_TYPE', `"type" expected 'totp' | 'hotp'`);
  }
  const secret = asecret(p.secret, allowShort);
  const account = aname(p.account, 'account');
  const issuer = p.issuer === undefined ? undefined : aname(p.issuer, 'issuer');
  const algorithm = p.algorithm === undefined ? 'SHA1' : aalgorithm(p.algorithm);
  const digits = p.digits === undefined ? 6 : adigits(p.digits);
  let period: number | undefined;
  let counter: bigint | undefined;
  if (type === 'totp') {
    if (p.counter !== undefined)
      throw rangeError('ERR_URI_PARAM', '"counter" applies to hotp only');
    period = p.period === undefined ? 30 : aint(p.period, 'period', 1, 120, 'ERR_OPTION_PERIOD');
  } else {
    if (p.period !== undefined) throw rangeError('ERR_URI_PARAM', '"period" applies to totp only');
    if (p.counter === undefined)
      throw typeError('ERR_URI_COUNTER_MISSING', '"counter" is required for hotp');
    counter = acounter(p.counter);
  }
  const image = p.image === undefined ? undefined : avalue(p.image, 'image', false);
  const extra = p.extra === undefined ? undefined : aextra(p.extra);
  return freezeParams(
    type,
    new Uint8Array(secret),
    account,
    issuer,
    algorithm,
    digits,
    period,
    counter,
    image,
    extra,
  );
}

/**
 * RFC 3986 percent-encoding of UTF-8: only the unreserved characters `A–Z a–z 0–9 - . _ ~` stay
 * literal (§2.3); a space becomes `%20`, never `+`.
 */
function pctEncode(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Builds an `otpauth://` enrollment URI (the Key Uri Format QR-code payload).
 *
 * Output: `otpauth://{type}/{issuer}:{account}?secret=…&issuer=…[&algorithm=…][&digits=…][&period=…|&counter=…][&image=…][&extra…]`.
 * The label is `issuer:account` (just `account` without issuer), each part RFC 3986
 * percent-encoded as UTF-8 with a literal `:` between; the issuer is repeated as the `issuer`
 * parameter, as the Key Uri Format recommends. The secret is unpadded base32. `algorithm`,
 * `digits` and `period` are omitted at their defaults (SHA1, 6, 30) unless `explicitDefaults`;
 * `counter` is always present for hotp, `period` never is. Non-default values are valid but
 * several authenticator apps ignore them: see {@link checkAuthenticatorCompatibility}.
 *
 * @param params - the enrollment, {@link OtpauthParamsInput}.
 * @param options - {@link BuildOtpauthURIOptions}.
 * @returns the URI; at most 2048 characters, so it always parses back with the default limit.
 * @throws TypeError on a wrong type (secret not a `Uint8Array`, account not a string, hotp without `counter`, …).
 * @throws RangeError on a bad value: empty account or issuer, `:`, control or bidi characters or
 *   leading/trailing whitespace in them, secret under 16 (or 10) or over 256 bytes, digits not 6–8,
 *   period not 1–120, counter out of 0..2^64−1, `counter` on totp or `period` on hotp, an `extra`
 *   key that is malformed or collides with a known parameter, an unknown field or option, or a
 *   result longer than 2048 characters (code `ERR_URI_TOO_LONG`).
 * @example
 * ```ts
 * const secret = generateSecret();
 * buildOtpauthURI({ type: 'totp', secret, issuer: 'ACME Co', account: 'alice@example.com' });
 * // 'otpauth://totp/ACME%20Co:alice%40example.com?secret=<base32>&issuer=ACME%20Co'
 * buildOtpauthURI({ type: 'hotp', secret, account: 'bob', counter: 0, digits: 8 });
 * // 'otpauth://hotp/bob?secret=<base32>&digits=8&counter=0'
 * ```
 * @see https://github.com/google/google-authenticator/wiki/Key-Uri-Format
 * @see RFC 3986 §2.1, §2.3
 */
export function buildOtpauthURI(
  params: OtpauthParamsInput,
  options?: BuildOtpauthURIOptions,
): string {
  const o = aoptions<BuildOtpauthURIOptions>(options, OPTION_KEYS);
  const explicit =
    o.explicitDefaults === undefined ? false : abool(o.explicitDefaults, 'explicitDefaults');
  const allowShort =
    o.allowInsecureShortSecret === undefined
      ? false
      : abool(o.allowInsecureShortSecret, 'allowInsecureShortSecret');
  const p = normalizeOtpauthParams(params, allowShort);
  const label =
    p.issuer === undefined
      ? pctEncode(p.account)
      : `${pctEncode(p.issuer)}:${pctEncode(p.account)}`;
  let uri = `otpauth://${p.type}/${label}?secret=${encodeBase32(p.secret)}`;
  if (p.issuer !== undefined) uri += `&issuer=${pctEncode(p.issuer)}`;
  if (explicit || p.algorithm !== 'SHA1') uri += `&algorithm=${p.algorithm}`;
  if (explicit || p.digits !== 6) uri += `&digits=${p.digits}`;
  if (p.type === 'totp') {
    if (explicit || p.period !== 30) uri += `&period=${p.period}`;
  } else uri += `&counter=${p.counter}`;
  if (p.image !== undefined) uri += `&image=${pctEncode(p.image)}`;
  if (p.extra !== undefined)
    for (const [k, v] of Object.entries(p.extra)) uri += `&${k}=${pctEncode(v)}`;
  if (uri.length > DEFAULT_MAX_URI_LENGTH)
    throw rangeError(
      'ERR_URI_TOO_LONG',
      `the URI would be ${uri.length} characters; at most ${DEFAULT_MAX_URI_LENGTH} (shorten the names or extra parameters)`,
    );
  return uri;
}
