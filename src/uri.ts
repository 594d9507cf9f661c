/** otpauth:// URIs (Google Authenticator Key Uri Format): build, strict parse. @module */
import {
  aalgorithm,
  abool,
  adigits,
  aint,
  aoptions,
  asecret,
  kind,
  MAX_SECRET_BYTES,
  MIN_INSECURE_SECRET_BYTES,
  MIN_SECRET_BYTES,
} from './_assert.js';
import { acounter, MAX_COUNTER } from './_bytes.js';
import type { HashAlgorithm } from './_hmac.js';
import { decodeBase32, encodeBase32 } from './base32.js';
import { OtpkitError, rangeError, typeError, type OtpkitErrorCode } from './errors.js';

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

/** Options of {@link buildOtpauthURI}. */
export interface BuildOtpauthURIOptions {
  /** Emit `algorithm`, `digits` and `period` even when they have their default values. @defaultValue false */
  readonly explicitDefaults?: boolean | undefined;
  /** Allow 10..15-byte secrets (the 80-bit legacy keys). Never for new enrollments. @defaultValue false */
  readonly allowInsecureShortSecret?: boolean | undefined;
}

/** Options of {@link parseOtpauthURI}. */
export interface ParseOtpauthURIOptions {
  /** Accept secrets of 10..15 bytes (e.g. the Key Uri Format wiki's 80-bit example). @defaultValue false */
  readonly allowInsecureShortSecret?: boolean | undefined;
  /** Longest URI accepted, in UTF-16 code units, checked before anything is decoded; 1..65536. @defaultValue 2048 */
  readonly maxLength?: number | undefined;
  /**
   * Accept a secret whose base32 has non-zero trailing pad bits (RFC 4648 §3.5), such as
   * `JBSWY3DPEHPK3PX`, and drop those bits, as pyotp, oathtool and otpauth do: for importing
   * enrollments other tools made; the same option as {@link decodeBase32}'s. @defaultValue false
   */
  readonly ignoreTrailingBits?: boolean | undefined;
}

/** @internal Default and builder URI length cap: 2 KiB, far above any real enrollment URI. */
export const DEFAULT_MAX_URI_LENGTH = 2048;
const MAX_MAX_LENGTH = 65536;

/** The parameters the Key Uri Format defines, plus `image`. Names are case-sensitive (KUF). */
const KNOWN_PARAMS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'secret',
  'issuer',
  'algorithm',
  'digits',
  'period',
  'counter',
  'image',
]);
const PARAM_NAME = /^[A-Za-z0-9_.-]+$/;
const ALGORITHMS: ReadonlySet<string> = /* @__PURE__ */ new Set(['SHA1', 'SHA256', 'SHA512']);

/**
 * Characters never allowed in an issuer or account name: C0/C1 controls and DEL (line breaks and
 * NULs forge extra "lines" in app UIs and logs), and the Unicode bidi controls (LRM/RLM, ALM,
 * LRE..RLO, LRI..PDI: "Trojan Source"-style reordering can make `Evil` display as another name),
 * plus the line/paragraph separators.
 */
const FORBIDDEN_NAME_CHAR = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
/** Controls are rejected in every other decoded value too (image, extra parameters). */
const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/u;
/** A UTF-16 surrogate not part of a pair: not a character, and not encodable as UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;

const BUILD_PARAM_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'type',
  'secret',
  'account',
  'issuer',
  'algorithm',
  'digits',
  'period',
  'counter',
  'image',
  'extra',
]);
const BUILD_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['explicitDefaults', 'allowInsecureShortSecret']);
const PARSE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['allowInsecureShortSecret', 'maxLength', 'ignoreTrailingBits']);

/** Strict UTF-8: malformed sequences throw; a leading BOM is kept, not silently dropped. */
const UTF8 = /* @__PURE__ */ new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Describes the first forbidden character of `s` without printing the (possibly personal) text. */
function forbiddenAt(s: string, re: RegExp): string | undefined {
  const m = re.exec(s);
  if (m === null) return undefined;
  const cp = (m[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
  return `U+${cp} at index ${m.index}`;
}

// ---------------------------------------------------------------------------------------------
// Builder
// ---------------------------------------------------------------------------------------------

/** Validates an issuer or account name for the builder (misuse: TypeError / RangeError). */
function aname(v: unknown, title: 'issuer' | 'account'): string {
  if (typeof v !== 'string') throw typeError('ERR_URI_LABEL', `"${title}" expected string, got ${kind(v)}`);
  if (v.length === 0)
    throw rangeError('ERR_URI_LABEL', `"${title}" is empty${title === 'issuer' ? ' (omit it instead)' : ''}`);
  const colon = v.indexOf(':');
  if (colon >= 0)
    throw rangeError('ERR_URI_LABEL', `"${title}" contains ':' at index ${colon}; the Key Uri Format forbids it`);
  if (LONE_SURROGATE.test(v)) throw rangeError('ERR_URI_LABEL', `"${title}" contains an unpaired UTF-16 surrogate`);
  const bad = forbiddenAt(v, FORBIDDEN_NAME_CHAR);
  if (bad !== undefined) throw rangeError('ERR_URI_LABEL', `"${title}" contains a control or bidi character (${bad})`);
  // Leading spaces after the label's ':' are dropped by every parser (KUF ABNF `*"%20"`), and
  // parseOtpauthURI trims both names, so a padded name could not round-trip; trailing ones are
  // invisible. Callers trim. (`\s` is the set String#trim removes, so parse and build agree.)
  if (/^\s|\s$/u.test(v)) throw rangeError('ERR_URI_LABEL', `"${title}" has leading or trailing whitespace`);
  return v;
}

/** Validates a free-form parameter value (image, extra) for the builder. */
function avalue(v: unknown, title: string, allowEmpty: boolean): string {
  if (typeof v !== 'string') throw typeError('ERR_URI_PARAM', `"${title}" expected string, got ${kind(v)}`);
  if (!allowEmpty && v.length === 0) throw rangeError('ERR_URI_PARAM', `"${title}" is empty`);
  if (LONE_SURROGATE.test(v)) throw rangeError('ERR_URI_PARAM', `"${title}" contains an unpaired UTF-16 surrogate`);
  const bad = forbiddenAt(v, CONTROL_CHAR);
  if (bad !== undefined) throw rangeError('ERR_URI_PARAM', `"${title}" contains a control character (${bad})`);
  return v;
}

/**
 * @internal Validates and normalises builder input into the exact shape {@link parseOtpauthURI}
 * returns (frozen, defaults filled in), so `parse(build(x))` deep-equals `normalize(x)`.
 */
export function normalizeOtpauthParams(params: unknown, allowShort: boolean): OtpauthParams {
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    throw typeError('ERR_OPTION_TYPE', `"params" expected an object, got ${kind(params)}`);
  const p = aoptions<OtpauthParamsInput>(params, BUILD_PARAM_KEYS, 'params');
  const type = p.type;
  if (type !== 'totp' && type !== 'hotp') {
    if (typeof type !== 'string') throw typeError('ERR_URI_TYPE', `"type" expected 'totp' | 'hotp', got ${kind(type)}`);
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
    if (p.counter !== undefined) throw rangeError('ERR_URI_PARAM', '"counter" applies to hotp only');
    period = p.period === undefined ? 30 : aint(p.period, 'period', 1, 120, 'ERR_OPTION_PERIOD');
  } else {
    if (p.period !== undefined) throw rangeError('ERR_URI_PARAM', '"period" applies to totp only');
    if (p.counter === undefined) throw typeError('ERR_URI_COUNTER_MISSING', '"counter" is required for hotp');
    counter = acounter(p.counter);
  }
  const image = p.image === undefined ? undefined : avalue(p.image, 'image', false);
  let extra: Readonly<Record<string, string>> | undefined;
  if (p.extra !== undefined) {
    const x: unknown = p.extra;
    if (typeof x !== 'object' || x === null || Array.isArray(x))
      throw typeError('ERR_URI_PARAM', `"extra" expected an object, got ${kind(x)}`);
    const entries: [string, string][] = [];
    for (const key of Object.keys(x)) {
      if (!PARAM_NAME.test(key))
        throw rangeError('ERR_URI_PARAM', `"extra" key must match /^[A-Za-z0-9_.-]+$/`);
      if (KNOWN_PARAMS.has(key.toLowerCase()))
        throw rangeError('ERR_URI_PARAM', `"extra" key "${key}" collides with a known parameter; use the field instead`);
      entries.push([key, avalue((x as Record<string, unknown>)[key], `extra.${key}`, true)]);
    }
    if (entries.length > 0) extra = Object.freeze(Object.fromEntries(entries));
  }
  return freezeParams(type, new Uint8Array(secret), account, issuer, algorithm, digits, period, counter, image, extra);
}

function freezeParams(
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
  // Optional fields are omitted, not set to undefined, so results compare equal however made.
  // The secret is a fresh copy; typed arrays cannot be frozen.
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

/**
 * RFC 3986 percent-encoding of UTF-8: only the unreserved characters `A–Z a–z 0–9 - . _ ~` stay
 * literal (§2.3); a space becomes `%20`, never `+`.
 */
function pctEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
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
export function buildOtpauthURI(params: OtpauthParamsInput, options?: BuildOtpauthURIOptions): string {
  const o = aoptions<BuildOtpauthURIOptions>(options, BUILD_KEYS);
  const explicit = o.explicitDefaults === undefined ? false : abool(o.explicitDefaults, 'explicitDefaults');
  const allowShort =
    o.allowInsecureShortSecret === undefined ? false : abool(o.allowInsecureShortSecret, 'allowInsecureShortSecret');
  const p = normalizeOtpauthParams(params, allowShort);
  const label = p.issuer === undefined ? pctEncode(p.account) : `${pctEncode(p.issuer)}:${pctEncode(p.account)}`;
  let uri = `otpauth://${p.type}/${label}?secret=${encodeBase32(p.secret)}`;
  if (p.issuer !== undefined) uri += `&issuer=${pctEncode(p.issuer)}`;
  if (explicit || p.algorithm !== 'SHA1') uri += `&algorithm=${p.algorithm}`;
  if (explicit || p.digits !== 6) uri += `&digits=${p.digits}`;
  if (p.type === 'totp') {
    if (explicit || p.period !== 30) uri += `&period=${p.period}`;
  } else uri += `&counter=${p.counter}`;
  if (p.image !== undefined) uri += `&image=${pctEncode(p.image)}`;
  if (p.extra !== undefined) for (const [k, v] of Object.entries(p.extra)) uri += `&${k}=${pctEncode(v)}`;
  if (uri.length > DEFAULT_MAX_URI_LENGTH)
    throw rangeError(
      'ERR_URI_TOO_LONG',
      `the URI would be ${uri.length} characters; at most ${DEFAULT_MAX_URI_LENGTH} (shorten the names or extra parameters)`,
    );
  return uri;
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

function fail(code: OtpkitErrorCode, message: string, cause?: unknown): never {
  throw cause === undefined ? new OtpkitError(code, message) : new OtpkitError(code, message, { cause });
}

/**
 * Strict percent-decoding (RFC 3986 §2.1) of one URI component as UTF-8. A `%` must start a
 * two-hex-digit escape; consecutive escapes must form valid UTF-8 (no overlongs, no encoded
 * surrogates). With `plusIsSpace`, `+` decodes to a space (the query, see {@link parseOtpauthURI}).
 */
function pctDecode(s: string, plusIsSpace: boolean, where: string): string {
  if (s.indexOf('%') < 0 && !(plusIsSpace && s.indexOf('+') >= 0)) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const bytes: number[] = [];
      while (i < s.length && s.charCodeAt(i) === 0x25) {
        const hex = s.slice(i + 1, i + 3);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) fail('ERR_URI_ENCODING', `malformed percent-escape in the ${where} at index ${i}`);
        bytes.push(parseInt(hex, 16));
        i += 3;
      }
      try {
        out += UTF8.decode(new Uint8Array(bytes));
      } catch (e) {
        fail('ERR_URI_ENCODING', `percent-escapes in the ${where} are not valid UTF-8`, e);
      }
    } else {
      out += plusIsSpace && c === 0x2b ? ' ' : s[i];
      i++;
    }
  }
  return out;
}

/**
 * Checks a decoded issuer or account name and returns it trimmed; every problem is
 * `ERR_URI_LABEL`. Controls are checked first, so a tab or line break at either end is refused,
 * not trimmed away. Then the whitespace `String#trim` removes (space, NBSP, U+2000–U+200A,
 * U+3000, BOM, …) goes, as Google Authenticator trims the label
 * (`AuthenticatorActivity.validateAndGetUserInPath`), so every parsed name is one
 * {@link buildOtpauthURI} accepts; a name that is empty after trimming is refused, as there.
 */
function checkName(v: string, title: string): string {
  if (v.indexOf(':') >= 0) fail('ERR_URI_LABEL', `the ${title} contains ':'; the Key Uri Format forbids it`);
  const bad = forbiddenAt(v, FORBIDDEN_NAME_CHAR);
  if (bad !== undefined) fail('ERR_URI_LABEL', `the ${title} contains a control or bidi character (${bad})`);
  const t = v.trim();
  if (t.length === 0) fail('ERR_URI_LABEL', `the ${title} is empty${v.length === 0 ? '' : ' (only whitespace)'}`);
  return t;
}

/**
 * Splits and decodes the label: `accountname / issuer (":" / "%3A") *"%20" accountname` (KUF ABNF).
 * Separators are found in the *encoded* text at escape boundaries, so `%253A` (an escaped `%`
 * followed by `3A`) is data, while `:`, `%3A` and `%3a` are all separators; more than one is an
 * error, since neither part may contain a colon and the split would be ambiguous.
 */
function parseLabel(raw: string): { issuer: string | undefined; account: string } {
  let sepAt = -1;
  let sepLen = 0;
  for (let i = 0; i < raw.length; ) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) fail('ERR_URI_ENCODING', `malformed percent-escape in the label at index ${i}`);
      if (hex === '3A' || hex === '3a') {
        if (sepAt >= 0) fail('ERR_URI_LABEL', 'the label has more than one ":" (or %3A); issuer and account may not contain a colon');
        sepAt = i;
        sepLen = 3;
      }
      i += 3;
    } else {
      if (c === 0x3a) {
        if (sepAt >= 0) fail('ERR_URI_LABEL', 'the label has more than one ":" (or %3A); issuer and account may not contain a colon');
        sepAt = i;
        sepLen = 1;
      }
      i++;
    }
  }
  if (sepAt < 0) return { issuer: undefined, account: checkName(pctDecode(raw, false, 'label'), 'account name') };
  const issuer = checkName(pctDecode(raw.slice(0, sepAt), false, 'label'), 'label issuer');
  // KUF: optional `%20`s after the separator (or raw spaces some generators leave): checkName trims them.
  return { issuer, account: checkName(pctDecode(raw.slice(sepAt + sepLen), false, 'label'), 'account name') };
}

/** Splits the query into raw (still encoded) values by name, rejecting malformed and duplicate names. */
function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  if (query === '') return params;
  for (const seg of query.split('&')) {
    if (seg === '') continue; // `&&` or a trailing `&` from naive concatenation: nothing to misread
    const eq = seg.indexOf('=');
    const name = eq < 0 ? seg : seg.slice(0, eq);
    // Names are matched raw (never percent-decoded), so `secr%65t` cannot smuggle a second secret.
    if (!PARAM_NAME.test(name)) fail('ERR_URI_PARAM', 'a parameter name is empty or not of the form [A-Za-z0-9_.-]+');
    if (eq < 0) fail('ERR_URI_PARAM', `parameter "${name}" has no "=" value`);
    if (params.has(name)) fail('ERR_URI_DUPLICATE_PARAM', `parameter "${name}" appears more than once`);
    // KUF names are case-sensitive; a case variant of a known name is rejected rather than kept as
    // an unknown one, because case-insensitive apps would read `Issuer=Evil` as the issuer.
    const lower = name.toLowerCase();
    if (lower !== name && KNOWN_PARAMS.has(lower))
      fail('ERR_URI_PARAM', `parameter names are case-sensitive: "${name}" must be written "${lower}"`);
    params.set(name, seg.slice(eq + 1));
  }
  return params;
}

/** ASCII-only upper-casing: `String#toUpperCase` maps `ſ` (U+017F) to `S`, which must stay invalid. */
function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** A short, printable rendering of a non-secret value for a message. */
function show(v: string): string {
  return JSON.stringify(v.length > 16 ? `${v.slice(0, 16)}…` : v);
}

/**
 * Parses an `otpauth://` URI strictly. Every rejection is an `OtpkitError` whose `code` names
 * the field; no message contains the secret or the URI.
 *
 * Decisions beyond the Key Uri Format (KUF):
 * - **Length** is checked first (`ERR_URI_TOO_LONG`, default 2048 UTF-16 code units).
 * - **Scheme and type** are case-insensitive (RFC 3986 §3.1 and §3.2.2: the scheme and the
 *   host, where KUF puts the type, are case-insensitive; QR alphanumeric mode upper-cases
 *   everything). The type is returned in lower case. `otpauth-migration://` (Google
 *   Authenticator export) is `ERR_URI_SCHEME`: it needs a separate importer.
 * - **Label:** split on the one `:` / `%3A` / `%3a` found in the encoded label (so `%253A` is the
 *   literal text `%3A`, not a separator); more than one is `ERR_URI_LABEL`. `%20`s or spaces
 *   after it are dropped (KUF ABNF `*"%20"`). In the label `+` is a literal plus (RFC 3986). A raw
 *   `/` is accepted (Python's `quote()`, used by pyotp, leaves it).
 * - **Query:** `+` decodes to a space, as in `application/x-www-form-urlencoded`, which many
 *   generators use for the query (Go's `url.Values`, PHP's `http_build_query`, Java's
 *   `URLEncoder`) and which Android's `Uri.getQueryParameter` applies: reading `issuer=ACME+Co`
 *   as `ACME+Co` would make it mismatch the label's `ACME%20Co`. A literal plus is `%2B`, as
 *   every RFC 3986 encoder (and {@link buildOtpauthURI}) writes it.
 * - **Percent-decoding** is strict UTF-8 (`ERR_URI_ENCODING`); a raw `#` (a fragment) or an
 *   unpaired surrogate is also `ERR_URI_ENCODING`. Other raw characters (spaces, non-ASCII) are
 *   taken literally, as scanned QR codes often contain them.
 * - **Names:** control characters, bidi controls or `:` in the issuer or account are
 *   `ERR_URI_LABEL`. Leading and trailing whitespace (what `String#trim` removes: spaces, NBSP,
 *   U+2000–U+200A, U+3000, BOM, …) is removed from both names, the label prefix and the `issuer`
 *   parameter alike, as Google Authenticator trims the label; a name that is empty after that
 *   (`otpauth://totp/%20%20?…`, `issuer=%20`) is `ERR_URI_LABEL`. So every name parsed is one
 *   {@link buildOtpauthURI} accepts, and `parse(build(parse(uri)))` equals `parse(uri)`. An
 *   `issuer` parameter different from the (trimmed) label prefix is `ERR_URI_ISSUER_MISMATCH` (a
 *   QR code must not say "Bank" in one place and "Evil" in the other).
 * - **Parameters:** names are case-sensitive and matched undecoded; a duplicate is
 *   `ERR_URI_DUPLICATE_PARAM`; a case variant of a known name (`Secret`) is `ERR_URI_PARAM`.
 *   `algorithm` is case-insensitive (`sha256` → `SHA256`); `digits` is 6, 7 or 8; `period` is
 *   1–120 and totp-only; `counter` is `/^[0-9]{1,20}$/`, at most 2^64−1, and hotp-only.
 * - **Secret:** decoded with the lenient base32 path (case, spaces, hyphens, optional padding);
 *   bad base32 is `ERR_URI_SECRET` with the base32 error as `cause`; fewer than 16 bytes is
 *   `ERR_SECRET_TOO_SHORT` unless `allowInsecureShortSecret` (never fewer than 10). Non-zero
 *   trailing pad bits (RFC 4648 §3.5) are `ERR_URI_SECRET` (cause `ERR_BASE32_NONCANONICAL`)
 *   unless `ignoreTrailingBits`, which drops them and yields the bytes pyotp and oathtool use.
 *
 * The parser accepts raw (unencoded) characters that the builder percent-encodes, so a URI near
 * the length cap can rebuild to more than 2048 characters, which {@link buildOtpauthURI} refuses.
 *
 * @param uri - the URI, e.g. decoded from a QR code.
 * @param options - {@link ParseOtpauthURIOptions}.
 * @returns frozen plain data: a totp result always has `period`, a hotp result always has `counter`
 *   (a `bigint`); `issuer`, `image` and `extra` (frozen, unknown parameters) only when present.
 * @throws OtpkitError `ERR_URI_TOO_LONG`, `ERR_URI_SCHEME`, `ERR_URI_TYPE`, `ERR_URI_LABEL`,
 *   `ERR_URI_ENCODING`, `ERR_URI_PARAM`, `ERR_URI_DUPLICATE_PARAM`, `ERR_URI_SECRET_MISSING`,
 *   `ERR_URI_SECRET`, `ERR_SECRET_TOO_SHORT`, `ERR_SECRET_TOO_LONG`, `ERR_URI_COUNTER_MISSING`,
 *   `ERR_URI_COUNTER` or `ERR_URI_ISSUER_MISMATCH`.
 * @throws TypeError if `uri` is not a string or an option has the wrong type.
 * @throws RangeError on an unknown option or a `maxLength` outside 1..65536.
 * @example
 * ```ts
 * const p = parseOtpauthURI(
 *   'otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co',
 * );
 * // { type: 'totp', secret: Uint8Array(20), account: 'john.doe@email.com', issuer: 'ACME Co',
 * //   algorithm: 'SHA1', digits: 6, period: 30 }
 * parseOtpauthURI('otpauth://totp/Bank:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Evil');
 * // throws OtpkitError ERR_URI_ISSUER_MISMATCH
 * ```
 * @see https://github.com/google/google-authenticator/wiki/Key-Uri-Format
 * @see RFC 3986 §2.1, §3.1, §3.2.2
 */
export function parseOtpauthURI(uri: string, options?: ParseOtpauthURIOptions): OtpauthParams {
  if (typeof uri !== 'string') throw typeError('ERR_OPTION_TYPE', `"uri" expected string, got ${kind(uri)}`);
  const o = aoptions<ParseOtpauthURIOptions>(options, PARSE_KEYS);
  const allowShort =
    o.allowInsecureShortSecret === undefined ? false : abool(o.allowInsecureShortSecret, 'allowInsecureShortSecret');
  const maxLength =
    o.maxLength === undefined
      ? DEFAULT_MAX_URI_LENGTH
      : aint(o.maxLength, 'maxLength', 1, MAX_MAX_LENGTH, 'ERR_OPTION_INVALID');
  const ignoreTrailingBits =
    o.ignoreTrailingBits === undefined ? false : abool(o.ignoreTrailingBits, 'ignoreTrailingBits');

  // 1. Size first: nothing is decoded or scanned before the cap.
  if (uri.length > maxLength) fail('ERR_URI_TOO_LONG', `the URI is ${uri.length} characters; at most ${maxLength} allowed`);

  // 2. Scheme.
  if (!/^otpauth:\/\//i.test(uri)) {
    const migration = /^otpauth-migration:/i.test(uri);
    fail(
      'ERR_URI_SCHEME',
      migration
        ? 'otpauth-migration:// (Google Authenticator export) is not an otpauth:// URI; it needs a separate importer'
        : 'not an otpauth:// URI',
    );
  }
  if (LONE_SURROGATE.test(uri)) fail('ERR_URI_ENCODING', 'the URI contains an unpaired UTF-16 surrogate');
  if (uri.indexOf('#') >= 0) fail('ERR_URI_ENCODING', 'the URI contains a raw "#" (a fragment); percent-encode it as %23');

  // 3. Type (the authority component).
  const rest = uri.slice('otpauth://'.length);
  let end = 0;
  while (end < rest.length && rest[end] !== '/' && rest[end] !== '?') end++;
  const typeRaw = rest.slice(0, end);
  const type = typeRaw.replace(/[A-Z]+/g, (m) => m.toLowerCase()); // ASCII only, like asciiUpper
  if (type !== 'totp' && type !== 'hotp')
    fail(
      'ERR_URI_TYPE',
      /^[A-Za-z0-9-]{1,16}$/.test(typeRaw) ? `unknown type ${show(typeRaw)}; expected totp or hotp` : 'invalid type; expected totp or hotp',
    );

  // 4. Label.
  if (rest[end] !== '/') fail('ERR_URI_LABEL', 'the label (account name) is missing');
  const q = rest.indexOf('?', end);
  const { issuer: labelIssuer, account } = parseLabel(q < 0 ? rest.slice(end + 1) : rest.slice(end + 1, q));

  // 5. Parameters.
  const params = parseQuery(q < 0 ? '' : rest.slice(q + 1));
  const value = (name: string): string | undefined => {
    const raw = params.get(name);
    return raw === undefined ? undefined : pctDecode(raw, true, `"${name}" parameter`);
  };

  const secretText = value('secret');
  if (secretText === undefined) fail('ERR_URI_SECRET_MISSING', 'the "secret" parameter is missing');
  if (secretText === '') fail('ERR_URI_SECRET_MISSING', 'the "secret" parameter is empty');
  let secret: Uint8Array;
  try {
    secret = decodeBase32(secretText, { loose: true, ignoreTrailingBits });
  } catch (e) {
    if (e instanceof OtpkitError) fail('ERR_URI_SECRET', `the "secret" parameter is not valid base32 (${e.code})`, e);
    throw e;
  }
  if (secret.length === 0) fail('ERR_URI_SECRET', 'the "secret" parameter decodes to no bytes');
  if (secret.length > MAX_SECRET_BYTES)
    fail('ERR_SECRET_TOO_LONG', `the secret is ${secret.length} bytes; at most ${MAX_SECRET_BYTES} allowed`);
  if (secret.length < MIN_SECRET_BYTES) {
    if (!allowShort)
      fail(
        'ERR_SECRET_TOO_SHORT',
        `the secret is ${secret.length * 8} bits; at least ${MIN_SECRET_BYTES * 8} (RFC 4226 R6) required. ` +
          `To accept a legacy ${MIN_INSECURE_SECRET_BYTES}..${MIN_SECRET_BYTES - 1}-byte secret, pass { allowInsecureShortSecret: true }`,
      );
    if (secret.length < MIN_INSECURE_SECRET_BYTES)
      fail(
        'ERR_SECRET_TOO_SHORT',
        `the secret is ${secret.length * 8} bits; even with allowInsecureShortSecret at least ${MIN_INSECURE_SECRET_BYTES * 8} are required`,
      );
  }

  let algorithm: HashAlgorithm = 'SHA1';
  const algorithmText = value('algorithm');
  if (algorithmText !== undefined) {
    const a = asciiUpper(algorithmText);
    if (!ALGORITHMS.has(a)) fail('ERR_URI_PARAM', `unsupported "algorithm" ${show(algorithmText)}; expected SHA1, SHA256 or SHA512`);
    algorithm = a as HashAlgorithm;
  }

  let digits = 6;
  const digitsText = value('digits');
  if (digitsText !== undefined) {
    if (!/^[678]$/.test(digitsText)) fail('ERR_URI_PARAM', `invalid "digits" ${show(digitsText)}; expected 6, 7 or 8`);
    digits = Number(digitsText);
  }

  let period: number | undefined;
  let counter: bigint | undefined;
  const periodText = value('period');
  const counterText = value('counter');
  if (type === 'totp') {
    if (counterText !== undefined) fail('ERR_URI_PARAM', 'the "counter" parameter applies to hotp only');
    period = 30;
    if (periodText !== undefined) {
      if (!/^[1-9][0-9]{0,2}$/.test(periodText) || Number(periodText) > 120)
        fail('ERR_URI_PARAM', `invalid "period" ${show(periodText)}; expected 1 to 120 seconds`);
      period = Number(periodText);
    }
  } else {
    if (periodText !== undefined) fail('ERR_URI_PARAM', 'the "period" parameter applies to totp only');
    if (counterText === undefined) fail('ERR_URI_COUNTER_MISSING', 'the "counter" parameter is required for hotp');
    if (!/^[0-9]{1,20}$/.test(counterText) || BigInt(counterText) > MAX_COUNTER)
      fail('ERR_URI_COUNTER', `invalid "counter" ${show(counterText)}; expected a decimal integer 0..2^64-1`);
    counter = BigInt(counterText);
  }

  let issuer = labelIssuer;
  const issuerText = value('issuer');
  if (issuerText !== undefined) {
    const issuerParam = checkName(issuerText, 'issuer parameter');
    if (labelIssuer !== undefined && labelIssuer !== issuerParam)
      fail('ERR_URI_ISSUER_MISMATCH', 'the "issuer" parameter differs from the issuer prefix of the label');
    issuer = issuerParam;
  }

  let image: string | undefined;
  const imageText = value('image');
  if (imageText !== undefined) {
    if (imageText === '') fail('ERR_URI_PARAM', 'the "image" parameter is empty');
    const bad = forbiddenAt(imageText, CONTROL_CHAR);
    if (bad !== undefined) fail('ERR_URI_PARAM', `the "image" parameter contains a control character (${bad})`);
    image = imageText;
  }

  const entries: [string, string][] = [];
  for (const name of params.keys()) {
    if (KNOWN_PARAMS.has(name)) continue;
    const v = value(name) as string;
    const bad = forbiddenAt(v, CONTROL_CHAR);
    if (bad !== undefined) fail('ERR_URI_PARAM', `parameter "${name}" contains a control character (${bad})`);
    entries.push([name, v]);
  }
  // Object.fromEntries defines own properties, so a `__proto__` parameter stays plain data.
  const extra = entries.length === 0 ? undefined : Object.freeze(Object.fromEntries(entries));

  return freezeParams(type, secret, account, issuer, algorithm, digits, period, counter, image, extra);
}
