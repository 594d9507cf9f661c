/** otpauth:// URI properties (fast-check): parse(build(x)) = x, and the parser only ever throws OtpkitError, fast. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OtpkitError } from '../src/errors.js';
import {
  buildOtpauthURI,
  normalizeOtpauthParams,
  parseOtpauthURI,
  type OtpauthParams,
  type OtpauthParamsInput,
} from '../src/uri.js';

const RUNS = { numRuns: 1000 };

/** The characters that break naive URI code: every reserved delimiter, '%', '+', space. */
const SPECIAL = [' ', '%', '&', '=', '?', '#', '/', '+', '@', '!', '$', "'", '(', ')', '*', ',', ';', '[', ']', '~', '.', '-', '_', '"', '<', '>', '\\', '^', '`', '{', '|', '}'];
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069:]|\p{Cs}/u;

/** One "character" of a name: specials, ASCII, any Unicode code point (astral included), or %XX-looking text. */
const nameUnit = fc.oneof(
  fc.constantFrom(...SPECIAL),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.constantFrom('%3A', '%253A', '%20', '%2B', '%', 'ë', '例', '🔑', '\u00A0', '\u200D'),
);

/** An issuer/account the builder accepts: non-empty, no ':', controls, bidi controls, lone surrogates, outer whitespace. */
const name = fc
  .array(nameUnit, { minLength: 1, maxLength: 12 })
  .map((a) => a.join(''))
  .filter((s) => s.length > 0 && !FORBIDDEN.test(s) && !/^\s|\s$/u.test(s));

const paramValue = fc
  .string({ unit: fc.oneof(fc.constantFrom(...SPECIAL), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 10 })
  .filter((s) => !/[\u0000-\u001f\u007f-\u009f]|\p{Cs}/u.test(s));

const KNOWN = new Set(['secret', 'issuer', 'algorithm', 'digits', 'period', 'counter', 'image']);
const extraKey = fc.stringMatching(/^[A-Za-z0-9_.-]{1,10}$/).filter((k) => !KNOWN.has(k.toLowerCase()));

const common = {
  secret: fc.uint8Array({ minLength: 16, maxLength: 64 }),
  account: name,
  issuer: fc.option(name, { nil: undefined }),
  algorithm: fc.option(fc.constantFrom('SHA1', 'SHA256', 'SHA512') as fc.Arbitrary<'SHA1' | 'SHA256' | 'SHA512'>, { nil: undefined }),
  digits: fc.option(fc.constantFrom(6, 7, 8), { nil: undefined }),
  image: fc.option(paramValue.filter((s) => s.length > 0), { nil: undefined }),
  extra: fc.option(fc.dictionary(extraKey, paramValue, { maxKeys: 3 }), { nil: undefined }),
};

/** Any input the builder accepts (optional fields sometimes absent). */
const validInput: fc.Arbitrary<OtpauthParamsInput> = fc.oneof(
  fc.record(
    { type: fc.constant('totp' as const), ...common, period: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }) },
    { requiredKeys: ['type', 'secret', 'account'] },
  ),
  fc.record(
    {
      type: fc.constant('hotp' as const),
      ...common,
      counter: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.nat(), fc.constantFrom(0, 0n, 2n ** 64n - 1n)),
    },
    { requiredKeys: ['type', 'secret', 'account', 'counter'] },
  ),
);

/** parse that reports the outcome: the result, or the OtpkitError; anything else fails the property. */
function tryParse(s: string): OtpauthParams | OtpkitError {
  try {
    return parseOtpauthURI(s, { allowInsecureShortSecret: true });
  } catch (e) {
    if (e instanceof OtpkitError) return e;
    throw new Error(`parseOtpauthURI threw a non-OtpkitError for ${JSON.stringify(s)}: ${String(e)}`);
  }
}

describe('parse(build(x)) equals x', () => {
  it('for arbitrary valid params (unicode, spaces, %, &, =, ?, #, /, + in names)', () => {
    fc.assert(
      fc.property(validInput, fc.boolean(), (input, explicitDefaults) => {
        const uri = buildOtpauthURI(input, { explicitDefaults });
        const p = parseOtpauthURI(uri);
        expect(p).toEqual(normalizeOtpauthParams(input, false));
        // …and equals the input field by field, defaults aside.
        expect(p.secret).toEqual(input.secret);
        expect(p.account).toBe(input.account);
        expect(p.issuer).toBe(input.issuer);
        expect(p.algorithm).toBe(input.algorithm ?? 'SHA1');
        expect(p.digits).toBe(input.digits ?? 6);
        if (input.type === 'totp') expect(p.period).toBe(input.period ?? 30);
        else expect(p.counter).toBe(BigInt(input.counter as number | bigint));
        expect(Object.isFrozen(p)).toBe(true);
      }),
      RUNS,
    );
  });

  it('emits only RFC 3986 characters, a literal ":" only as the label separator, never "+" or "#"', () => {
    fc.assert(
      fc.property(validInput, (input) => {
        const uri = buildOtpauthURI(input);
        expect(uri).toMatch(/^otpauth:\/\/[ht]otp\/[A-Za-z0-9\-._~%:]+\?[A-Za-z0-9\-._~%&=]+$/);
        const label = uri.slice(15, uri.indexOf('?'));
        expect(label.split(':')).toHaveLength(input.issuer === undefined ? 1 : 2);
        // The label parts are plain RFC 3986 components: decodeURIComponent agrees with us.
        const parts = label.split(':').map(decodeURIComponent);
        expect(parts).toEqual(input.issuer === undefined ? [input.account] : [input.issuer, input.account]);
        expect(uri.length).toBeLessThanOrEqual(2048);
      }),
      RUNS,
    );
  });

  it('build(parse(build(x))) is a fixed point', () => {
    fc.assert(
      fc.property(validInput, (input) => {
        const uri = buildOtpauthURI(input);
        expect(buildOtpauthURI(parseOtpauthURI(uri))).toBe(uri);
      }),
      RUNS,
    );
  });
});

describe('the parser never throws anything but OtpkitError, in bounded time', () => {
  const PREFIXES = ['', 'otpauth://', 'otpauth://totp/', 'otpauth://hotp/', 'OTPAUTH://TOTP/A:b?', 'otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&'];
  const tail = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.string({
      unit: fc.constantFrom(...SPECIAL, ':', '%', '3', 'A', 'a', 'F', 'E', '0', 'secret', 'issuer', 'counter', 'period', 'digits', 'algorithm', 'GEZDGNBV', '%3A', '%C3', '%A9', '%E2%80%AE', '\n', '\u0000', '\uD800'),
      maxLength: 40,
    }),
  );
  const arbitraryUri = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.tuple(fc.constantFrom(...PREFIXES), tail).map(([p, t]) => p + t),
    // A valid URI with a few characters changed, dropped or inserted.
    fc
      .tuple(validInput, fc.array(fc.tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 3 }), fc.nat({ max: 3 })), { maxLength: 3 }))
      .map(([input, edits]) =>
        edits.reduce((s, [at, ins, del]) => {
          const i = at % (s.length + 1);
          return s.slice(0, i) + ins + s.slice(i + del);
        }, buildOtpauthURI(input)),
      ),
  );

  it('on arbitrary and mutated strings', () => {
    fc.assert(
      fc.property(arbitraryUri, (s) => {
        const t = performance.now();
        const r = tryParse(s);
        expect(performance.now() - t).toBeLessThan(200);
        if (r instanceof OtpkitError) {
          // Codes are URI codes (or the secret-length ones); messages never echo the input.
          expect(r.code).toMatch(/^ERR_(URI_|SECRET_TOO_(SHORT|LONG)$)/);
          if (s.length > 30) expect(r.message).not.toContain(s);
        } else {
          expect(Object.isFrozen(r)).toBe(true);
          // Whatever parses rebuilds and parses back to the same data, unless it has names the
          // (stricter) builder refuses: outer whitespace, which the parser keeps as given.
          const padded = (v: string | undefined): boolean => v !== undefined && /^\s|\s$/u.test(v);
          if (padded(r.account) || padded(r.issuer)) return;
          expect(parseOtpauthURI(buildOtpauthURI(r, { allowInsecureShortSecret: true }), { allowInsecureShortSecret: true })).toEqual(r);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('on adversarial inputs at the size cap', () => {
    const head = 'otpauth://totp/';
    const worst = [
      head + '%E4%BE%8B'.repeat(225),
      head + '%'.repeat(2033),
      head + 'a:' + '%20'.repeat(675),
      `${head}a?` + '&'.repeat(2030),
      `${head}a?secret=` + 'A'.repeat(2025),
      `${head}a?` + 'x=1&'.repeat(507),
      `${head}a?` + Array.from({ length: 290 }, (_, i) => `k${i}=%41`).join('&'),
      `${head}a?secret=` + '%20'.repeat(675),
      head + '%3A'.repeat(677),
    ].map((s) => s.slice(0, 2048));
    for (const s of worst) {
      const t = performance.now();
      tryParse(s);
      expect(performance.now() - t, s.slice(0, 40)).toBeLessThan(100);
    }
  });
});
