/**
 * Recovery-code properties (fast-check): generate → hash → verify, distinctness, and the
 * normalisation invariants (every accepted typing of a code gives its one canonical form).
 * scrypt runs at logN 10 to keep properties fast.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateRecoveryCodes, normalizeRecoveryCode } from '../src/recovery/codes.js';
import { verifyRecoveryCode } from '../src/recovery/hash.js';
import { hashRecoveryCodeSet, matchRecoveryCode } from '../src/recovery/set.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const FAST = { logN: 10 } as const;
const RUNS = { numRuns: 500 };
/** Properties that run scrypt: few runs, each with several hashes. */
const SLOW_RUNS = { numRuns: 8 };

const bitsArb = fc.integer({ min: 64, max: 160 });
const groupSizeArb = fc.oneof(fc.constant(0), fc.integer({ min: 2, max: 8 }));

/** A canonical code of `len` characters. */
const canonOf = (len: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: len, maxLength: len });
const canon16 = canonOf(16);

/** Every spelling a user may type for one canonical character. */
function spellings(c: string): string[] {
  if (c === '0') return ['0', 'O', 'o'];
  if (c === '1') return ['1', 'I', 'i', 'L', 'l'];
  return [c, c.toLowerCase()];
}

/** A canonical code and one way of typing it: case, confusables, and up to 2 separators around each character. */
const typed = canon16.chain((canon) =>
  fc
    .tuple(
      ...[...canon].map((c) =>
        fc
          .tuple(
            fc.constantFrom(...spellings(c)),
            fc.string({ unit: fc.constantFrom(' ', '-'), maxLength: 2 }),
          )
          .map(([ch, sep]) => sep + ch),
      ),
    )
    .map((parts) => ({ canon, typed: parts.join('') })),
);

/** Near-codes: characters a code may contain, their confusables, U, separators and a few strangers. */
const nearChars = [
  ...ALPHABET,
  ...ALPHABET.toLowerCase(),
  'O',
  'o',
  'I',
  'i',
  'L',
  'l',
  'U',
  'u',
  ' ',
  '-',
  '_',
  '\t',
  'ı',
  'Ｋ',
];
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary-ascii', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom(...nearChars), maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...nearChars), minLength: 13, maxLength: 20 }),
  typed.map((t) => t.typed), // well-formed, so the non-null branch is exercised too
);
/** ASCII-only strings that are often codes. */
const asciiString = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(...nearChars.filter((c) => c.charCodeAt(0) < 128)),
    minLength: 10,
    maxLength: 30,
  }),
  typed.map((t) => t.typed),
);

const asciiUpper = (s: string): string => s.replace(/[a-z]/g, (c) => c.toUpperCase());
const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

describe('generation and hashing', () => {
  it('no two codes in a generated set are equal, and all are well-formed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        bitsArb,
        groupSizeArb,
        (count, bits, groupSize) => {
          const codes = generateRecoveryCodes({ count, bits, groupSize });
          expect(codes).toHaveLength(count);
          const canon = codes.map((c) => normalizeRecoveryCode(c, { bits }));
          expect(new Set(canon).size).toBe(count);
          for (const c of canon)
            expect(c).toMatch(new RegExp(`^[${ALPHABET}]{${Math.ceil(bits / 5)}}$`));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('every generated code verifies against its own hash and against no other code of its set', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        bitsArb,
        groupSizeArb,
        (count, bits, groupSize) => {
          const codes = generateRecoveryCodes({ count, bits, groupSize });
          const stored = hashRecoveryCodeSet(codes, FAST);
          codes.forEach((code, i) => {
            stored.forEach((rec, j) => expect(verifyRecoveryCode(code, rec.hash)).toBe(i === j));
            expect(matchRecoveryCode(code, stored)).toBe(stored[i]!.id);
          });
        },
      ),
      SLOW_RUNS,
    );
  });

  it('the same holds for adversarially close sets (codes one character apart)', () => {
    const closeSet = fc
      .tuple(
        canon16,
        fc.nat({ max: 15 }),
        fc.uniqueArray(fc.constantFrom(...ALPHABET), { minLength: 2, maxLength: 3 }),
      )
      .map(([base, at, chars]) => chars.map((ch) => base.slice(0, at) + ch + base.slice(at + 1)));
    fc.assert(
      fc.property(closeSet, (codes) => {
        const stored = hashRecoveryCodeSet(codes, FAST);
        codes.forEach((code, i) => {
          stored.forEach((rec, j) => expect(verifyRecoveryCode(code, rec.hash)).toBe(i === j));
          expect(matchRecoveryCode(code, stored)).toBe(stored[i]!.id);
        });
      }),
      SLOW_RUNS,
    );
  });

  it('a code verifies in every accepted typing', () => {
    fc.assert(
      fc.property(typed, (t) => {
        const [rec] = hashRecoveryCodeSet([t.canon], FAST);
        expect(verifyRecoveryCode(t.typed, rec!.hash)).toBe(true);
        expect(matchRecoveryCode(t.typed, [rec!])).toBe(rec!.id);
      }),
      SLOW_RUNS,
    );
  });
});

describe('normalizeRecoveryCode', () => {
  it('maps every typing (case, spaces/hyphens, O→0, I/L→1) to the canonical code', () => {
    fc.assert(
      fc.property(typed, ({ canon, typed: t }) => {
        expect(normalizeRecoveryCode(t)).toBe(canon);
      }),
      RUNS,
    );
  });

  it('is idempotent and returns only canonical codes of the expected length', () => {
    fc.assert(
      fc.property(anyString, fc.option(bitsArb, { nil: undefined }), (s, bits) => {
        const once = normalizeRecoveryCode(s, { bits });
        if (once === null) return;
        expect(once).toMatch(new RegExp(`^[${ALPHABET}]{${Math.ceil((bits ?? 80) / 5)}}$`));
        expect(normalizeRecoveryCode(once, { bits })).toBe(once);
      }),
      RUNS,
    );
  });

  it('never throws on a string: the result is a string or null', () => {
    fc.assert(
      fc.property(anyString, fc.option(bitsArb, { nil: undefined }), (s, bits) => {
        const r = normalizeRecoveryCode(s, { bits });
        expect(r === null || typeof r === 'string').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('is invariant under ASCII case changes', () => {
    fc.assert(
      fc.property(asciiString, (s) => {
        const r = normalizeRecoveryCode(s);
        expect(normalizeRecoveryCode(asciiUpper(s))).toBe(r);
        expect(normalizeRecoveryCode(asciiLower(s))).toBe(r);
      }),
      RUNS,
    );
  });

  it('is invariant under inserted spaces and hyphens (within the length cap)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...nearChars), maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(' ', '-')), { maxLength: 20 }),
        (s, inserts) => {
          let t = s;
          for (const [at, sep] of inserts) {
            const i = at % (t.length + 1);
            t = t.slice(0, i) + sep + t.slice(i);
          }
          expect(t.length).toBeLessThanOrEqual(4 * 16 + 16);
          expect(normalizeRecoveryCode(t)).toBe(normalizeRecoveryCode(s));
        },
      ),
      RUNS,
    );
  });

  it('is invariant under O→0 and I/L→1 substitutions', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...nearChars), maxLength: 30 }),
        fc.infiniteStream(fc.nat()),
        (s, picks) => {
          const it = picks[Symbol.iterator]();
          const pick = (options: string[]): string =>
            options[(it.next().value as number) % options.length]!;
          const swapped = [...s]
            .map((c) => (c === '0' || c === '1' ? pick(spellings(c)) : c))
            .join('');
          expect(normalizeRecoveryCode(swapped)).toBe(normalizeRecoveryCode(s));
        },
      ),
      RUNS,
    );
  });
});
