/**
 * Base32: the RFC 4648 §6 codec (alphabet `A–Z2–7`) used for TOTP/HOTP secrets.
 *
 * The decoder is strict by default, so that one key has exactly one text form and no typo ever
 * yields a different key: it accepts canonical upper-case text, with or without correct `=`
 * padding, and rejects everything else with an `OtpkitError` whose `code` says why. The `loose`
 * option is the explicit human-input path (RFC 4648 §3.3 lets a referring spec say so; these
 * docs are that spec): people retype secrets by hand, in lower case, in the groups of four that
 * sites and Google display, so it upper-cases and drops ASCII spaces and hyphens, and nothing
 * more. It never maps `0`/`1`/`8` to letters. The `ignoreTrailingBits` option is the explicit
 * import path for text other encoders wrote with non-zero pad bits (RFC 4648 §3.5 lets a decoder
 * accept or reject them): it drops those bits, as pyotp, oathtool and otpauth do.
 * @module
 */
import { OtpkitError, typeError } from './errors.js';
import { aoptions, abool, kind } from './_assert.js';
import { BASE32, fromDigits, toDigits } from './_encoding.js';

/** Padding count allowed for each unpadded length mod 8 (RFC 4648 §6: 1, 3, 4 or 6 `=`). */
const PADS_FOR_REMAINDER = [0, -1, 6, -1, 4, 3, -1, 1];

/** Options of {@link encodeBase32}. */
export interface EncodeBase32Options {
  /** Append `=` padding to a multiple of 8 characters (RFC 4648 §3.2). otpauth URIs omit it. @defaultValue false */
  readonly padding?: boolean | undefined;
}

/** Options of {@link decodeBase32}. */
export interface DecodeBase32Options {
  /** Accept what people type: lower case, ASCII spaces and hyphens. Nothing else is relaxed. @defaultValue false */
  readonly loose?: boolean | undefined;
  /**
   * Accept non-zero trailing pad bits (RFC 4648 §3.5) and drop them, so text such as
   * `JBSWY3DPEHPK3PX` decodes to the bytes pyotp, oathtool and otpauth give it. Only for importing
   * secrets another tool wrote; lengths ≡ 1, 3 or 6 (mod 8) stay refused. @defaultValue false
   */
  readonly ignoreTrailingBits?: boolean | undefined;
}

const ENCODE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['padding']);
const DECODE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['loose', 'ignoreTrailingBits']);

/**
 * Encodes bytes as RFC 4648 base32, upper case, with zero pad bits (canonical, §3.5).
 *
 * @param bytes - the data, typically a secret from {@link generateSecret}.
 * @param options - {@link EncodeBase32Options}.
 * @returns the base32 text, unpadded unless `padding: true`.
 * @throws TypeError if `bytes` is not a `Uint8Array` or an option has the wrong type.
 * @throws RangeError on an unknown option.
 * @example
 * ```ts
 * encodeBase32(new TextEncoder().encode('foobar')); // 'MZXW6YTBOI'
 * encodeBase32(new TextEncoder().encode('foobar'), { padding: true }); // 'MZXW6YTBOI======'
 * ```
 * @see RFC 4648 §6
 */
export function encodeBase32(bytes: Uint8Array, options?: EncodeBase32Options): string {
  if (!(bytes instanceof Uint8Array))
    throw typeError('ERR_OPTION_TYPE', `"bytes" expected Uint8Array, got ${kind(bytes)}`);
  const opts = aoptions<EncodeBase32Options>(options, ENCODE_KEYS);
  const padding = opts.padding === undefined ? false : abool(opts.padding, 'padding');
  let out = toDigits(BASE32, bytes);
  if (padding && out.length % 8 !== 0) out += '='.repeat(8 - (out.length % 8));
  return out;
}

/**
 * Decodes RFC 4648 base32 text, strictly by default.
 *
 * Strict mode accepts exactly the canonical upper-case form, unpadded or with correct padding.
 * It rejects, with an `OtpkitError`:
 * - `ERR_BASE32_CHAR`: a character outside `A–Z2–7` (lower case, spaces, `0`/`1`/`8`/`9`, NUL, homoglyphs);
 * - `ERR_BASE32_PADDING`: `=` inside the text, or the wrong number of `=`;
 * - `ERR_BASE32_LENGTH`: an unpadded length ≡ 1, 3 or 6 (mod 8), which no byte string produces;
 * - `ERR_BASE32_NONCANONICAL`: non-zero trailing pad bits (§3.5), so one key has one encoding.
 *
 * `ignoreTrailingBits: true` accepts the last case and drops the pad bits (for example
 * `JBSWY3DPEHPK3PX`, 75 bits, decodes to 9 bytes, the 3 extra bits ignored), the bytes pyotp
 * (Python's `base64.b32decode` after padding), oathtool (liboath) and otpauth
 * (hectorm) all return; otplib v13 (`@scure/base`) rejects such text as otpkit does by default.
 * Re-encoding the result gives the canonical text, which differs from the input. The lengths ≡ 1,
 * 3 or 6 (mod 8) stay `ERR_BASE32_LENGTH` even then: pyotp and oathtool reject them too, and the
 * peers that accept them disagree on what they mean.
 *
 * @param text - the base32 text.
 * @param options - {@link DecodeBase32Options}; `loose: true` first upper-cases and removes ASCII
 *   spaces and hyphens; `ignoreTrailingBits: true` accepts and drops non-zero pad bits.
 * @returns the decoded bytes; never a silently shortened or altered key (the bits
 *   `ignoreTrailingBits` drops belong to no byte).
 * @throws OtpkitError with one of the codes above; the message gives a position, never the text.
 * @throws TypeError if `text` is not a string or an option has the wrong type.
 * @throws RangeError on an unknown option.
 * @example
 * ```ts
 * decodeBase32('MZXW6YTBOI'); // bytes of 'foobar'
 * decodeBase32('mzxw 6ytb oi', { loose: true }); // the same bytes
 * decodeBase32('MZXW6YR='); // throws OtpkitError ERR_BASE32_NONCANONICAL
 * decodeBase32('MZXW6YR=', { ignoreTrailingBits: true }); // bytes of 'foob', as decodeBase32('MZXW6YQ=')
 * ```
 * @see RFC 4648 §3.3, §3.5, §6, §12
 */
export function decodeBase32(text: string, options?: DecodeBase32Options): Uint8Array {
  if (typeof text !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"text" expected string, got ${kind(text)}`);
  const opts = aoptions<DecodeBase32Options>(options, DECODE_KEYS);
  const loose = opts.loose === undefined ? false : abool(opts.loose, 'loose');
  const lax =
    opts.ignoreTrailingBits === undefined
      ? false
      : abool(opts.ignoreTrailingBits, 'ignoreTrailingBits');
  // Loose input: only case, ASCII spaces and hyphens are forgiven (the groups sites display).
  // ASCII-only upper-casing: String#toUpperCase maps 'ß'→'SS', 'ı'→'I', 'ſ'→'S', which must stay invalid.
  const s = loose ? text.replace(/[ -]/g, '').replace(/[a-z]+/g, (m) => m.toUpperCase()) : text;
  let end = s.indexOf('=');
  if (end === -1) end = s.length;
  else {
    for (let i = end; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c !== 61) {
        // A character after padding: say "padding" only if it would otherwise be valid.
        if (c < 128 && (BASE32.digits[c] as number) >= 0)
          throw new OtpkitError(
            'ERR_BASE32_PADDING',
            `base32 "=" padding at index ${end} is followed by data`,
          );
        throw new OtpkitError('ERR_BASE32_CHAR', `invalid base32 character at index ${i}`);
      }
    }
  }
  // One pass converts the data and finds its first bad character, reported first; then the length
  // and the padding count; non-zero pad bits last.
  const out = fromDigits(BASE32, s, end, lax);
  if (typeof out === 'number' && out >= 0)
    throw new OtpkitError('ERR_BASE32_CHAR', `invalid base32 character at index ${out}`);
  const rem = end % 8;
  const pads = s.length - end;
  if ((PADS_FOR_REMAINDER[rem] as number) < 0)
    throw new OtpkitError(
      'ERR_BASE32_LENGTH',
      `base32 length ${end} is not a possible encoding (≡ ${rem} mod 8)`,
    );
  if (pads !== 0 && pads !== PADS_FOR_REMAINDER[rem])
    throw new OtpkitError(
      'ERR_BASE32_PADDING',
      `base32 has ${pads} "=" where ${PADS_FOR_REMAINDER[rem]} are required`,
    );
  // The lengths fromDigits calls impossible are exactly those refused above, so only pad bits remain.
  if (typeof out === 'number')
    throw new OtpkitError(
      'ERR_BASE32_NONCANONICAL',
      'base32 has non-zero trailing bits (non-canonical encoding)',
    );
  return out;
}
