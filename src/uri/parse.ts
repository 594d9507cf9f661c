/**
 * Parsing otpauth:// enrollment URIs (the Google Authenticator Key Uri Format) strictly: a URI
 * comes from a QR code, so every defect is an `OtpkitError` naming the field, never a guess.
 * {@link parseOtpauthURI} runs the steps below in order; each step is one function.
 * @module
 */
import {
  abool,
  aint,
  ALGORITHMS,
  aoptions,
  kind,
  MAX_SECRET_BYTES,
  MIN_INSECURE_SECRET_BYTES,
  MIN_SECRET_BYTES,
  secretLengthProblem,
} from '../_assert.js';
import { MAX_COUNTER } from '../_bytes.js';
import { decodeBase32 } from '../base32.js';
import { OtpkitError, typeError, type OtpkitErrorCode } from '../errors.js';
import type { HashAlgorithm } from '../hotp.js';
import {
  DEFAULT_MAX_URI_LENGTH,
  KNOWN_PARAMS,
  LONE_SURROGATE,
  nameProblem,
  paramNameKind,
  valueProblem,
} from './_rules.js';
import { freezeParams, type OtpauthParams } from './params.js';

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

const MAX_MAX_LENGTH = 65536;
const OPTION_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'allowInsecureShortSecret',
  'maxLength',
  'ignoreTrailingBits',
]);

/** Strict UTF-8: malformed sequences throw; a leading BOM is kept, not silently dropped. */
const UTF8 = /* @__PURE__ */ new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function fail(code: OtpkitErrorCode, message: string, cause?: unknown): never {
  throw cause === undefined
    ? new OtpkitError(code, message)
    : new OtpkitError(code, message, { cause });
}

/** A short, printable rendering of a non-secret value for a message. */
function show(v: string): string {
  return JSON.stringify(v.length > 16 ? `${v.slice(0, 16)}…` : v);
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
        if (!/^[0-9A-Fa-f]{2}$/.test(hex))
          fail('ERR_URI_ENCODING', `malformed percent-escape in the ${where} at index ${i}`);
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
  const p = nameProblem(v);
  // Whitespace at either end is trimmed here, not refused.
  if (p !== undefined && p.kind !== 'padded') fail('ERR_URI_LABEL', `the ${title} ${p.says}`);
  const t = v.trim();
  if (t.length === 0) fail('ERR_URI_LABEL', `the ${title} is empty (only whitespace)`);
  return t;
}

interface Options {
  readonly allowShort: boolean;
  readonly maxLength: number;
  readonly ignoreTrailingBits: boolean;
}

function parseOptions(options: unknown): Options {
  const o = aoptions<ParseOtpauthURIOptions>(options, OPTION_KEYS);
  return {
    allowShort:
      o.allowInsecureShortSecret === undefined
        ? false
        : abool(o.allowInsecureShortSecret, 'allowInsecureShortSecret'),
    maxLength:
      o.maxLength === undefined
        ? DEFAULT_MAX_URI_LENGTH
        : aint(o.maxLength, 'maxLength', 1, MAX_MAX_LENGTH, 'ERR_OPTION_INVALID'),
    ignoreTrailingBits:
      o.ignoreTrailingBits === undefined
        ? false
        : abool(o.ignoreTrailingBits, 'ignoreTrailingBits'),
  };
}

// ---------------------------------------------------------------------------------------------
// The steps, in order.

/** 1. Size first: nothing is decoded or scanned before the cap. */
function checkSize(uri: string, maxLength: number): void {
  if (uri.length > maxLength)
    fail('ERR_URI_TOO_LONG', `the URI is ${uri.length} characters; at most ${maxLength} allowed`);
}

/** 2. Scheme (case-insensitive, RFC 3986 §3.1), and what no part of the URI may contain. */
function checkScheme(uri: string): void {
  if (!/^otpauth:\/\//i.test(uri)) {
    const migration = /^otpauth-migration:/i.test(uri);
    fail(
      'ERR_URI_SCHEME',
      migration
        ? 'otpauth-migration:// (Google Authenticator export) is not an otpauth:// URI; it needs a separate importer'
        : 'not an otpauth:// URI',
    );
  }
  if (LONE_SURROGATE.test(uri))
    fail('ERR_URI_ENCODING', 'the URI contains an unpaired UTF-16 surrogate');
  if (uri.indexOf('#') >= 0)
    fail('ERR_URI_ENCODING', 'the URI contains a raw "#" (a fragment); percent-encode it as %23');
}

/**
 * 3. Type: the authority component, case-insensitive (RFC 3986 §3.2.2), returned in lower case
 * with the index where it ends in `rest` (the URI after `otpauth://`).
 */
function parseType(rest: string): { type: 'totp' | 'hotp'; end: number } {
  let end = 0;
  while (end < rest.length && rest[end] !== '/' && rest[end] !== '?') end++;
  const typeRaw = rest.slice(0, end);
  const type = typeRaw.replace(/[A-Z]+/g, (m) => m.toLowerCase()); // ASCII only, like asciiUpper
  if (type !== 'totp' && type !== 'hotp')
    fail(
      'ERR_URI_TYPE',
      /^[A-Za-z0-9-]{1,16}$/.test(typeRaw)
        ? `unknown type ${show(typeRaw)}; expected totp or hotp`
        : 'invalid type; expected totp or hotp',
    );
  return { type, end };
}

/**
 * 4. Label: `accountname / issuer (":" / "%3A") *"%20" accountname` (Key Uri Format ABNF).
 * Separators are found in the *encoded* text at escape boundaries, so `%253A` (an escaped `%`
 * followed by `3A`) is data, while `:`, `%3A` and `%3a` are all separators; more than one is an
 * error, since neither part may contain a colon and the split would be ambiguous.
 */
function parseLabel(raw: string): { issuer: string | undefined; account: string } {
  let sepAt = -1;
  let sepLen = 0;
  for (let i = 0; i < raw.length;) {
    const escaped = raw.charCodeAt(i) === 0x25;
    const unit = escaped ? raw.slice(i, i + 3) : (raw[i] as string);
    if (escaped && !/^%[0-9A-Fa-f]{2}$/.test(unit))
      fail('ERR_URI_ENCODING', `malformed percent-escape in the label at index ${i}`);
    if (unit === ':' || unit === '%3A' || unit === '%3a') {
      if (sepAt >= 0)
        fail(
          'ERR_URI_LABEL',
          'the label has more than one ":" (or %3A); issuer and account may not contain a colon',
        );
      sepAt = i;
      sepLen = unit.length;
    }
    i += unit.length;
  }
  if (sepAt < 0)
    return {
      issuer: undefined,
      account: checkName(pctDecode(raw, false, 'label'), 'account name'),
    };
  const issuer = checkName(pctDecode(raw.slice(0, sepAt), false, 'label'), 'label issuer');
  // Optional `%20`s after the separator (or raw spaces some generators leave): checkName trims them.
  return {
    issuer,
    account: checkName(pctDecode(raw.slice(sepAt + sepLen), false, 'label'), 'account name'),
  };
}

/** 5. Parameters: the raw (still encoded) values by name, rejecting malformed and duplicate names. */
function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  if (query === '') return params;
  for (const seg of query.split('&')) {
    if (seg === '') continue; // `&&` or a trailing `&` from naive concatenation: nothing to misread
    const eq = seg.indexOf('=');
    const name = eq < 0 ? seg : seg.slice(0, eq);
    // Names are matched raw (never percent-decoded), so `secr%65t` cannot smuggle a second secret.
    const k = paramNameKind(name);
    if (k === 'malformed')
      fail('ERR_URI_PARAM', 'a parameter name is empty or not of the form [A-Za-z0-9_.-]+');
    if (eq < 0) fail('ERR_URI_PARAM', `parameter "${name}" has no "=" value`);
    if (params.has(name))
      fail('ERR_URI_DUPLICATE_PARAM', `parameter "${name}" appears more than once`);
    // Names are case-sensitive; a case variant of a known name is rejected rather than kept as an
    // unknown one, because case-insensitive apps would read `Issuer=Evil` as the issuer.
    if (k === 'case-variant')
      fail(
        'ERR_URI_PARAM',
        `parameter names are case-sensitive: "${name}" must be written "${name.toLowerCase()}"`,
      );
    params.set(name, seg.slice(eq + 1));
  }
  return params;
}

/** A parameter's decoded value, or undefined if absent. */
type Values = (name: string) => string | undefined;

/** 6. Secret: lenient base32 (case, spaces, hyphens, optional padding), then the shared length rule. */
function parseSecret(
  text: string | undefined,
  allowShort: boolean,
  ignoreTrailingBits: boolean,
): Uint8Array {
  if (text === undefined) fail('ERR_URI_SECRET_MISSING', 'the "secret" parameter is missing');
  if (text === '') fail('ERR_URI_SECRET_MISSING', 'the "secret" parameter is empty');
  let secret: Uint8Array;
  try {
    secret = decodeBase32(text, { loose: true, ignoreTrailingBits });
  } catch (e) {
    if (e instanceof OtpkitError)
      fail('ERR_URI_SECRET', `the "secret" parameter is not valid base32 (${e.code})`, e);
    throw e;
  }
  const n = secret.length;
  switch (secretLengthProblem(n, allowShort)) {
    case undefined:
      return secret;
    case 'ERR_SECRET_EMPTY':
      fail('ERR_URI_SECRET', 'the "secret" parameter decodes to no bytes');
    case 'ERR_SECRET_TOO_LONG':
      fail('ERR_SECRET_TOO_LONG', `the secret is ${n} bytes; at most ${MAX_SECRET_BYTES} allowed`);
    case 'ERR_SECRET_TOO_SHORT':
      fail(
        'ERR_SECRET_TOO_SHORT',
        allowShort
          ? `the secret is ${n * 8} bits; even with allowInsecureShortSecret at least ${MIN_INSECURE_SECRET_BYTES * 8} are required`
          : `the secret is ${n * 8} bits; at least ${MIN_SECRET_BYTES * 8} (RFC 4226 R6) required. ` +
              `To accept a legacy ${MIN_INSECURE_SECRET_BYTES}..${MIN_SECRET_BYTES - 1}-byte secret, pass { allowInsecureShortSecret: true }`,
      );
  }
}

/** ASCII-only upper-casing: `String#toUpperCase` maps `ſ` (U+017F) to `S`, which must stay invalid. */
function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** 7a. Algorithm: case-insensitive (`sha256` → `SHA256`), default SHA1. */
function parseAlgorithm(text: string | undefined): HashAlgorithm {
  if (text === undefined) return 'SHA1';
  const a = asciiUpper(text);
  if (!ALGORITHMS.has(a))
    fail('ERR_URI_PARAM', `unsupported "algorithm" ${show(text)}; expected SHA1, SHA256 or SHA512`);
  return a as HashAlgorithm;
}

/** 7b. Digits: 6, 7 or 8, default 6. */
function parseDigits(text: string | undefined): number {
  if (text === undefined) return 6;
  if (!/^[678]$/.test(text))
    fail('ERR_URI_PARAM', `invalid "digits" ${show(text)}; expected 6, 7 or 8`);
  return Number(text);
}

/** 7c. Period (totp only, 1–120, default 30) or counter (hotp only, required, 0..2^64−1). */
function parseMoving(type: 'totp' | 'hotp', value: Values): { period?: number; counter?: bigint } {
  const periodText = value('period');
  const counterText = value('counter');
  if (type === 'totp') {
    if (counterText !== undefined)
      fail('ERR_URI_PARAM', 'the "counter" parameter applies to hotp only');
    if (periodText === undefined) return { period: 30 };
    if (!/^[1-9][0-9]{0,2}$/.test(periodText) || Number(periodText) > 120)
      fail('ERR_URI_PARAM', `invalid "period" ${show(periodText)}; expected 1 to 120 seconds`);
    return { period: Number(periodText) };
  }
  if (periodText !== undefined)
    fail('ERR_URI_PARAM', 'the "period" parameter applies to totp only');
  if (counterText === undefined)
    fail('ERR_URI_COUNTER_MISSING', 'the "counter" parameter is required for hotp');
  if (!/^[0-9]{1,20}$/.test(counterText) || BigInt(counterText) > MAX_COUNTER)
    fail(
      'ERR_URI_COUNTER',
      `invalid "counter" ${show(counterText)}; expected a decimal integer 0..2^64-1`,
    );
  return { counter: BigInt(counterText) };
}

/** 8. Issuer: the `issuer` parameter, trimmed, must equal the label prefix when both are given. */
function parseIssuer(
  labelIssuer: string | undefined,
  text: string | undefined,
): string | undefined {
  if (text === undefined) return labelIssuer;
  const issuer = checkName(text, 'issuer parameter');
  if (labelIssuer !== undefined && labelIssuer !== issuer)
    fail(
      'ERR_URI_ISSUER_MISMATCH',
      'the "issuer" parameter differs from the issuer prefix of the label',
    );
  return issuer;
}

/** 9a. Image: kept verbatim, but neither empty nor with control characters. */
function parseImage(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const p = valueProblem(text, false);
  if (p !== undefined) fail('ERR_URI_PARAM', `the "image" parameter ${p.says}`);
  return text;
}

/** 9b. Every other parameter, kept verbatim in a frozen object, but without control characters. */
function parseExtra(
  names: Iterable<string>,
  value: Values,
): Readonly<Record<string, string>> | undefined {
  const entries: [string, string][] = [];
  for (const name of names) {
    if (KNOWN_PARAMS.has(name)) continue;
    const v = value(name) as string;
    const p = valueProblem(v, true);
    if (p !== undefined) fail('ERR_URI_PARAM', `parameter "${name}" ${p.says}`);
    entries.push([name, v]);
  }
  // Object.fromEntries defines own properties, so a `__proto__` parameter stays plain data.
  return entries.length === 0 ? undefined : Object.freeze(Object.fromEntries(entries));
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
  if (typeof uri !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"uri" expected string, got ${kind(uri)}`);
  const o = parseOptions(options);
  checkSize(uri, o.maxLength);
  checkScheme(uri);
  const rest = uri.slice('otpauth://'.length);
  const { type, end } = parseType(rest);
  if (rest[end] !== '/') fail('ERR_URI_LABEL', 'the label (account name) is missing');
  const q = rest.indexOf('?', end);
  const label = parseLabel(q < 0 ? rest.slice(end + 1) : rest.slice(end + 1, q));
  const params = parseQuery(q < 0 ? '' : rest.slice(q + 1));
  const value: Values = (name) => {
    const raw = params.get(name);
    return raw === undefined ? undefined : pctDecode(raw, true, `"${name}" parameter`);
  };
  const secret = parseSecret(value('secret'), o.allowShort, o.ignoreTrailingBits);
  const algorithm = parseAlgorithm(value('algorithm'));
  const digits = parseDigits(value('digits'));
  const { period, counter } = parseMoving(type, value);
  const issuer = parseIssuer(label.issuer, value('issuer'));
  const image = parseImage(value('image'));
  const extra = parseExtra(params.keys(), value);
  return freezeParams(
    type,
    secret,
    label.account,
    issuer,
    algorithm,
    digits,
    period,
    counter,
    image,
    extra,
  );
}
