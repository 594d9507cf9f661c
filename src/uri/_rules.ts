/**
 * The rules an otpauth:// enrollment's names and parameters follow, written once for both
 * directions. Each rule returns what is wrong instead of throwing, so the builder reports it as
 * misuse (TypeError / RangeError) and the parser as an `OtpkitError`, with the same words.
 * @module
 * @internal
 */

/** @internal Default parser cap and builder output cap: 2 KiB, far above any real enrollment URI. */
export const DEFAULT_MAX_URI_LENGTH = 2048;

/** @internal The parameters the Key Uri Format defines, plus `image`. Names are case-sensitive. */
export const KNOWN_PARAMS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'secret',
  'issuer',
  'algorithm',
  'digits',
  'period',
  'counter',
  'image',
]);
/** The form of every parameter name. */
const PARAM_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Characters never allowed in an issuer or account name: C0/C1 controls and DEL (line breaks and
 * NULs forge extra "lines" in app UIs and logs), and the Unicode bidi controls (LRM/RLM, ALM,
 * LRE..RLO, LRI..PDI: "Trojan Source"-style reordering can make `Evil` display as another name),
 * plus the line/paragraph separators.
 */
export const FORBIDDEN_NAME_CHAR: RegExp =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
/** Controls are rejected in every other value too (image, extra parameters). */
const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/u;
/** @internal A UTF-16 surrogate not part of a pair: not a character, and not encodable as UTF-8. */
export const LONE_SURROGATE: RegExp = /\p{Cs}/u;

/** Describes the first match of `re` in `s` without printing the (possibly personal) text. */
function forbiddenAt(s: string, re: RegExp): string | undefined {
  const m = re.exec(s);
  if (m === null) return undefined;
  const cp = (m[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
  return `U+${cp} at index ${m.index}`;
}

/**
 * @internal A broken rule: which one, and what to say about it after naming the field (`"account"`
 * for the builder, `the account name` for the parser), e.g. `contains ':' at index 3; the Key Uri
 * Format forbids it`. Never the text itself, which may be personal.
 */
export interface Problem<K extends string> {
  readonly kind: K;
  readonly says: string;
}

/**
 * @internal The name rule (issuer, account): non-empty, no `:` (the label's separator, so the Key
 * Uri Format forbids it in both parts), no unpaired surrogate, no control or bidi character, and
 * no whitespace at either end (`\s` is what `String#trim` removes; the parser trims, so a padded
 * name could not round-trip). Checked in that order.
 */
export function nameProblem(
  v: string,
): Problem<'empty' | 'colon' | 'surrogate' | 'control' | 'padded'> | undefined {
  if (v.length === 0) return { kind: 'empty', says: 'is empty' };
  const colon = v.indexOf(':');
  if (colon >= 0)
    return { kind: 'colon', says: `contains ':' at index ${colon}; the Key Uri Format forbids it` };
  if (LONE_SURROGATE.test(v))
    return { kind: 'surrogate', says: 'contains an unpaired UTF-16 surrogate' };
  const at = forbiddenAt(v, FORBIDDEN_NAME_CHAR);
  if (at !== undefined)
    return { kind: 'control', says: `contains a control or bidi character (${at})` };
  if (/^\s|\s$/u.test(v)) return { kind: 'padded', says: 'has leading or trailing whitespace' };
  return undefined;
}

/**
 * @internal The value rule (`image`, extra parameters): non-empty unless `allowEmpty`, no
 * unpaired surrogate, no control character.
 */
export function valueProblem(
  v: string,
  allowEmpty: boolean,
): Problem<'empty' | 'surrogate' | 'control'> | undefined {
  if (!allowEmpty && v.length === 0) return { kind: 'empty', says: 'is empty' };
  if (LONE_SURROGATE.test(v))
    return { kind: 'surrogate', says: 'contains an unpaired UTF-16 surrogate' };
  const at = forbiddenAt(v, CONTROL_CHAR);
  return at === undefined
    ? undefined
    : { kind: 'control', says: `contains a control character (${at})` };
}

/**
 * @internal Classifies a parameter name: `'malformed'` (not `[A-Za-z0-9_.-]+`), `'known'` (a Key
 * Uri Format name), `'case-variant'` (a known name in other case, such as `Issuer`: apps that
 * match names case-insensitively would read it as the known one), or `'extra'`.
 */
export function paramNameKind(name: string): 'malformed' | 'known' | 'case-variant' | 'extra' {
  if (!PARAM_NAME.test(name)) return 'malformed';
  const lower = name.toLowerCase();
  if (!KNOWN_PARAMS.has(lower)) return 'extra';
  return lower === name ? 'known' : 'case-variant';
}
