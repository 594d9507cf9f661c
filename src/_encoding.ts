/**
 * The byte ↔ text encodings otpkit uses, on one radix-2 core in the style of scure-base: bytes are
 * read as a bit string and cut into k-bit digits (k = 4, 5 or 6), each written as one symbol of an
 * alphabet. Alphabets: base32 (RFC 4648 §6), Crockford base32 symbols, base64url (RFC 4648 §5) and
 * hex (RFC 4648 §8, lower case).
 *
 * The core is strict and canonical: encoding fills the last digit with zero bits and writes no `=`
 * padding; decoding refuses a character outside the alphabet, a length no byte string encodes to,
 * and non-zero pad bits (RFC 4648 §3.5), so each byte string has exactly one accepted text. It
 * reports a refusal as a number rather than throwing, so each caller words its own error (base32.ts
 * keeps its error codes and messages; stored data yields `null`). Policy (padding, case, separators)
 * belongs to the callers.
 * @module
 * @internal
 */

/** @internal An alphabet of 2^k symbols, and its decoding table. */
export interface Alphabet {
  /** Bits per symbol. */
  readonly bits: number;
  /** The symbols, in digit order. */
  readonly chars: string;
  /** Char code (0..127) → digit value, or -1 for characters outside the alphabet. */
  readonly digits: Int8Array;
}

function alphabet(chars: string): Alphabet {
  const digits = new Int8Array(128).fill(-1);
  for (let i = 0; i < chars.length; i++) digits[chars.charCodeAt(i)] = i;
  return { bits: Math.log2(chars.length), chars, digits };
}

/** @internal RFC 4648 §6 base32: `A–Z2–7`. */
export const BASE32: Alphabet = /* @__PURE__ */ alphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567');
/** @internal Crockford base32: digits and upper-case letters without I, L, O and U. */
export const CROCKFORD: Alphabet = /* @__PURE__ */ alphabet('0123456789ABCDEFGHJKMNPQRSTVWXYZ');
/** @internal RFC 4648 §5 base64url: the URL- and filename-safe alphabet (`-` and `_`). */
export const BASE64URL: Alphabet = /* @__PURE__ */ alphabet(
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
);
/** @internal RFC 4648 §8 base16, in lower case (as `Number#toString(16)` writes it). */
export const HEX: Alphabet = /* @__PURE__ */ alphabet('0123456789abcdef');

/** @internal {@link fromDigits} result: the text has non-zero pad bits (RFC 4648 §3.5). */
export const NONZERO_PAD_BITS = -1;
/** @internal {@link fromDigits} result: no byte string encodes to this many digits. */
export const IMPOSSIBLE_LENGTH = -2;

/**
 * @internal Encodes bytes as digits of `a`, the last one filled with zero bits; no `=` padding.
 */
export function toDigits(a: Alphabet, bytes: Uint8Array): string {
  const k = a.bits;
  const chars = a.chars;
  const mask = (1 << k) - 1;
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < bytes.length; i++) {
    buffer = ((buffer << 8) | (bytes[i] as number)) & 0xffff; // at most 8 + k − 1 live bits
    bits += 8;
    while (bits >= k) {
      bits -= k;
      out += chars[(buffer >>> bits) & mask];
    }
  }
  if (bits > 0) out += chars[(buffer << (k - bits)) & mask];
  return out;
}

/**
 * @internal Decodes the first `end` characters of `text` as digits of `a`, in one pass.
 *
 * @returns the bytes; or the index (≥ 0) of the first character outside the alphabet; or
 *   {@link IMPOSSIBLE_LENGTH} when the digits leave a whole digit's worth of bits over (an encoder
 *   never writes such a digit: base32 lengths ≡ 1, 3, 6 mod 8, base64 ≡ 1 mod 4, odd hex); or,
 *   unless `allowPadBits`, {@link NONZERO_PAD_BITS}. Checked in that order.
 */
export function fromDigits(
  a: Alphabet,
  text: string,
  end: number,
  allowPadBits: boolean,
): Uint8Array | number {
  const k = a.bits;
  const digits = a.digits;
  const out = new Uint8Array(Math.floor((end * k) / 8));
  let buffer = 0;
  let bits = 0;
  let j = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? (digits[c] as number) : -1;
    if (v < 0) return i;
    buffer = ((buffer << k) | v) & 0xffff; // at most 7 + k live bits
    bits += k;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (buffer >>> bits) & 0xff;
    }
  }
  if (bits >= k) return IMPOSSIBLE_LENGTH;
  if (!allowPadBits && (buffer & ((1 << bits) - 1)) !== 0) return NONZERO_PAD_BITS;
  return out;
}

/**
 * @internal One Crockford symbol per byte, from its low five bits. Not a radix conversion: it is
 * how recovery codes are drawn, 256 being a multiple of 32 so that random bytes give uniform
 * symbols.
 */
export function crockfordSymbols(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += CROCKFORD.chars[(bytes[i] as number) & 31];
  return s;
}

/** @internal Lower-case hex of `bytes`, two digits per byte. */
export function hex(bytes: Uint8Array): string {
  return toDigits(HEX, bytes);
}

/** @internal Unpadded base64url (RFC 4648 §5) of `bytes`. */
export function encodeBase64url(bytes: Uint8Array): string {
  return toDigits(BASE64URL, bytes);
}

/**
 * @internal Decodes canonical unpadded base64url: only the text {@link encodeBase64url} writes.
 * @returns the bytes, or `null` for any other text (no `=`, no `+`/`/`, zero pad bits).
 */
export function decodeBase64url(text: string): Uint8Array | null {
  const r = fromDigits(BASE64URL, text, text.length, false);
  return typeof r === 'number' ? null : r;
}
