/**
 * base32 properties (fast-check): round-trips, parity with a slow reference, typed errors only,
 * and the ignoreTrailingBits path. Every property runs with a fixed seed (reproducible runs).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase32, encodeBase32, OtpkitError } from '../src/index.js';
import { slowDecodeBase32, slowEncodeBase32 } from './fixtures/slow-base32.js';

const RUNS = { numRuns: 1000, seed: 0xba5e32 };
const MANY = { numRuns: 3000, seed: 0xba5e32 };
const bytes = fc.uint8Array({ minLength: 0, maxLength: 80 });
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Strictly valid base32: the encoding of random bytes, padded or not. */
const validText = fc
  .tuple(bytes, fc.boolean())
  .map(([b, padding]) => ({ text: encodeBase32(b, { padding }), padding }));

/** Arbitrary strings in many shapes: full UTF-16 (lone surrogates), graphemes, ASCII, near-base32. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'grapheme-composite', maxLength: 20 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(...ALPHABET, '=', 'a', 'z', '0', '1', '8', ' ', '-', '\u0000'),
    maxLength: 40,
  }),
  fc.string({ unit: fc.constantFrom(...ALPHABET, '='), maxLength: 24 }),
  // A valid encoding with one character changed, dropped or inserted.
  fc
    .tuple(
      validText,
      fc.nat(),
      fc.string({ unit: 'binary', minLength: 0, maxLength: 2 }),
      fc.nat({ max: 2 }),
    )
    .map(([{ text }, at, ins, del]) => {
      const i = text.length === 0 ? 0 : at % text.length;
      return text.slice(0, i) + ins + text.slice(i + del);
    }),
);

/** decode that reports the outcome: bytes, or the OtpkitError; anything else is a failure. */
function tryDecode(s: string, loose = false, ignoreTrailingBits = false): Uint8Array | OtpkitError {
  try {
    return decodeBase32(s, { loose, ignoreTrailingBits });
  } catch (e) {
    if (e instanceof OtpkitError) return e;
    throw new Error(`decodeBase32 threw a non-OtpkitError for ${JSON.stringify(s)}: ${String(e)}`);
  }
}

describe('base32 properties', () => {
  it('decode(encode(b)) == b, unpadded', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        expect(decodeBase32(encodeBase32(b))).toEqual(b);
      }),
      RUNS,
    );
  });

  it('decode(encode(b, padded)) == b', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        expect(decodeBase32(encodeBase32(b, { padding: true }))).toEqual(b);
      }),
      RUNS,
    );
  });

  it('padded and unpadded encodings differ only by trailing =', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const padded = encodeBase32(b, { padding: true });
        expect(padded.length % 8).toBe(0);
        expect(padded.replace(/=+$/, '')).toBe(encodeBase32(b));
      }),
      RUNS,
    );
  });

  it('encode(decode(s)) == s for every strictly valid s', () => {
    fc.assert(
      fc.property(validText, ({ text, padding }) => {
        expect(encodeBase32(decodeBase32(text), { padding })).toBe(text);
      }),
      RUNS,
    );
  });

  it('encode equals the slow bit-by-bit reference', () => {
    fc.assert(
      fc.property(bytes, fc.boolean(), (b, padding) => {
        expect(encodeBase32(b, { padding })).toBe(slowEncodeBase32(b, padding));
      }),
      RUNS,
    );
  });

  it('strict decode on arbitrary strings returns bytes or throws OtpkitError, nothing else', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const r = tryDecode(s);
        if (r instanceof OtpkitError)
          expect(r.code).toMatch(/^ERR_BASE32_(CHAR|PADDING|LENGTH|NONCANONICAL)$/);
        else expect(r).toBeInstanceOf(Uint8Array);
      }),
      MANY,
    );
  });

  it('strict decode agrees with the slow reference decoder (accept/reject and bytes)', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const r = tryDecode(s);
        const ref = slowDecodeBase32(s);
        if (ref === null) expect(r).toBeInstanceOf(OtpkitError);
        else expect(r).toEqual(ref);
      }),
      MANY,
    );
  });

  it('never returns a wrong key: any accepted text is exactly the encoding of the result', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const r = tryDecode(s);
        if (r instanceof OtpkitError) return;
        expect(encodeBase32(r, { padding: s.includes('=') })).toBe(s);
      }),
      MANY,
    );
  });

  it('loose decode: accepted text is the encoding after removing spaces/hyphens, upper-casing ASCII, dropping =', () => {
    const looseish = fc.oneof(
      anyString,
      fc
        .tuple(
          validText,
          fc.array(fc.tuple(fc.nat(), fc.constantFrom(' ', '-', '  ')), { maxLength: 4 }),
          fc.boolean(),
        )
        .map(([{ text }, seps, lower]) => {
          let t = lower ? text.toLowerCase() : text;
          for (const [at, sep] of seps) {
            const i = t.length === 0 ? 0 : at % (t.length + 1);
            t = t.slice(0, i) + sep + t.slice(i);
          }
          return t;
        }),
    );
    fc.assert(
      fc.property(looseish, (s) => {
        const r = tryDecode(s, true);
        if (r instanceof OtpkitError) return;
        const normalised = s.replace(/[ -]/g, '').replace(/=+$/, '');
        // Only ASCII letters may differ in case; every other character is unchanged.
        expect(normalised).toMatch(/^[A-Za-z2-7]*$/);
        expect(encodeBase32(r)).toBe(normalised.toUpperCase());
      }),
      MANY,
    );
  });

  it('loose decode never accepts a character outside A–Z, a–z, 2–7, space, hyphen and =', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const r = tryDecode(s, true);
        if (!(r instanceof OtpkitError)) expect(s).toMatch(/^[A-Za-z2-7 =-]*$/);
      }),
      MANY,
    );
  });
});

/** Clears the pad bits of the last character before any '=' (a reference for ignoreTrailingBits). */
function zeroPadBits(s: string): string {
  const end = s.indexOf('=') < 0 ? s.length : s.indexOf('=');
  const padBits = (5 * end) % 8;
  const v = ALPHABET.indexOf(s[end - 1] ?? '');
  if (end === 0 || padBits === 0 || padBits >= 5 || v < 0) return s;
  return s.slice(0, end - 1) + (ALPHABET[v & ~((1 << padBits) - 1)] as string) + s.slice(end);
}

describe('ignoreTrailingBits properties', () => {
  it('decodes exactly what the strict reference decodes once the pad bits are cleared', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const r = tryDecode(s, false, true);
        const ref = slowDecodeBase32(zeroPadBits(s));
        if (ref === null) expect(r).toBeInstanceOf(OtpkitError);
        else expect(r).toEqual(ref);
        if (r instanceof OtpkitError) expect(r.code).not.toBe('ERR_BASE32_NONCANONICAL');
      }),
      MANY,
    );
  });

  it('never changes what strict decoding accepts', () => {
    fc.assert(
      fc.property(anyString, fc.boolean(), (s, loose) => {
        const strict = tryDecode(s, loose);
        const lax = tryDecode(s, loose, true);
        if (!(strict instanceof OtpkitError)) expect(lax).toEqual(strict);
        else if (strict.code !== 'ERR_BASE32_NONCANONICAL')
          expect((lax as OtpkitError).code).toBe(strict.code);
      }),
      MANY,
    );
  });

  it('any pad bits on any encoding decode to the original bytes, which re-encode canonically', () => {
    fc.assert(
      fc.property(bytes, fc.nat({ max: 15 }), fc.boolean(), (b, noise, padding) => {
        const text = encodeBase32(b);
        const padBits = (5 - ((8 * b.length) % 5)) % 5;
        const last = ALPHABET.indexOf(text.at(-1) ?? 'A') | (noise & ((1 << padBits) - 1));
        const noisy = text.length === 0 ? text : text.slice(0, -1) + (ALPHABET[last] as string);
        const padded = padding ? noisy + '='.repeat((8 - (noisy.length % 8)) % 8) : noisy;
        expect(decodeBase32(padded, { ignoreTrailingBits: true })).toEqual(b);
        expect(encodeBase32(decodeBase32(padded, { ignoreTrailingBits: true }))).toBe(text);
      }),
      RUNS,
    );
  });
});
