/** base32 properties (fast-check): round-trips, parity with a slow reference, typed errors only. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase32, encodeBase32, OtpkitError } from '../src/index.js';
import { slowDecodeBase32, slowEncodeBase32 } from './fixtures/slow-base32.js';

const RUNS = { numRuns: 1000 };
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
  fc.string({ unit: fc.constantFrom(...ALPHABET, '=', 'a', 'z', '0', '1', '8', ' ', '-', '\u0000'), maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...ALPHABET, '='), maxLength: 24 }),
  // A valid encoding with one character changed, dropped or inserted.
  fc
    .tuple(validText, fc.nat(), fc.string({ unit: 'binary', minLength: 0, maxLength: 2 }), fc.nat({ max: 2 }))
    .map(([{ text }, at, ins, del]) => {
      const i = text.length === 0 ? 0 : at % text.length;
      return text.slice(0, i) + ins + text.slice(i + del);
    }),
);

/** decode that reports the outcome: bytes, or the OtpkitError; anything else is a failure. */
function tryDecode(s: string, loose = false): Uint8Array | OtpkitError {
  try {
    return decodeBase32(s, { loose });
  } catch (e) {
    if (e instanceof OtpkitError) return e;
    throw new Error(`decodeBase32 threw a non-OtpkitError for ${JSON.stringify(s)}: ${String(e)}`);
  }
}

describe('base32 properties', () => {
  it('decode(encode(b)) == b, unpadded', () => {
    fc.assert(fc.property(bytes, (b) => {
          expect(decodeBase32(encodeBase32(b))).toEqual(b);
        }), RUNS);
  });

  it('decode(encode(b, padded)) == b', () => {
    fc.assert(fc.property(bytes, (b) => {
          expect(decodeBase32(encodeBase32(b, { padding: true }))).toEqual(b);
        }), RUNS);
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
        if (r instanceof OtpkitError) expect(r.code).toMatch(/^ERR_BASE32_(CHAR|PADDING|LENGTH|NONCANONICAL)$/);
        else expect(r).toBeInstanceOf(Uint8Array);
      }),
      { numRuns: 3000 },
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
      { numRuns: 3000 },
    );
  });

  it('never returns a wrong key: any accepted text is exactly the encoding of the result', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const r = tryDecode(s);
        if (r instanceof OtpkitError) return;
        expect(encodeBase32(r, { padding: s.includes('=') })).toBe(s);
      }),
      { numRuns: 3000 },
    );
  });

  it('loose decode: accepted text is the encoding after removing spaces/hyphens, upper-casing ASCII, dropping =', () => {
    const looseish = fc.oneof(
      anyString,
      fc
        .tuple(validText, fc.array(fc.tuple(fc.nat(), fc.constantFrom(' ', '-', '  ')), { maxLength: 4 }), fc.boolean())
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
      { numRuns: 3000 },
    );
  });

  it('loose decode never accepts a character outside A–Z, a–z, 2–7, space, hyphen and =', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const r = tryDecode(s, true);
        if (!(r instanceof OtpkitError)) expect(s).toMatch(/^[A-Za-z2-7 =-]*$/);
      }),
      { numRuns: 3000 },
    );
  });
});
