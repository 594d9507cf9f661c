/**
 * otpauth:// URI properties (fast-check): parse(build(x)) = x; whatever parse accepts, build
 * accepts and reproduces; and the parser only ever throws OtpkitError, fast. Every property runs
 * with a fixed seed, so a run is reproducible.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBase32 } from '../src/base32.js';
import { OtpkitError } from '../src/errors.js';
import { buildOtpauthURI, normalizeOtpauthParams } from '../src/uri/build.js';
import type { OtpauthParams, OtpauthParamsInput } from '../src/uri/params.js';
import { parseOtpauthURI } from '../src/uri/parse.js';

const RUNS = { numRuns: 1000, seed: 0x0a7e1 };

/** The characters that break naive URI code: every reserved delimiter, '%', '+', space. */
const SPECIAL = [
  ' ',
  '%',
  '&',
  '=',
  '?',
  '#',
  '/',
  '+',
  '@',
  '!',
  '$',
  "'",
  '(',
  ')',
  '*',
  ',',
  ';',
  '[',
  ']',
  '~',
  '.',
  '-',
  '_',
  '"',
  '<',
  '>',
  '\\',
  '^',
  '`',
  '{',
  '|',
  '}',
];
const FORBIDDEN =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069:]|\p{Cs}/u;

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
  .string({
    unit: fc.oneof(
      fc.constantFrom(...SPECIAL),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 10,
  })
  .filter((s) => !/[\u0000-\u001f\u007f-\u009f]|\p{Cs}/u.test(s));

const KNOWN = new Set(['secret', 'issuer', 'algorithm', 'digits', 'period', 'counter', 'image']);
const extraKey = fc
  .stringMatching(/^[A-Za-z0-9_.-]{1,10}$/)
  .filter((k) => !KNOWN.has(k.toLowerCase()));

const common = {
  secret: fc.uint8Array({ minLength: 16, maxLength: 64 }),
  account: name,
  issuer: fc.option(name, { nil: undefined }),
  algorithm: fc.option(
    fc.constantFrom('SHA1', 'SHA256', 'SHA512') as fc.Arbitrary<'SHA1' | 'SHA256' | 'SHA512'>,
    { nil: undefined },
  ),
  digits: fc.option(fc.constantFrom(6, 7, 8), { nil: undefined }),
  image: fc.option(
    paramValue.filter((s) => s.length > 0),
    { nil: undefined },
  ),
  extra: fc.option(fc.dictionary(extraKey, paramValue, { maxKeys: 3 }), { nil: undefined }),
};

/** Any input the builder accepts (optional fields sometimes absent). */
const validInput: fc.Arbitrary<OtpauthParamsInput> = fc.oneof(
  fc.record(
    {
      type: fc.constant('totp' as const),
      ...common,
      period: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
    },
    { requiredKeys: ['type', 'secret', 'account'] },
  ),
  fc.record(
    {
      type: fc.constant('hotp' as const),
      ...common,
      counter: fc.oneof(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.nat(),
        fc.constantFrom(0, 0n, 2n ** 64n - 1n),
      ),
    },
    { requiredKeys: ['type', 'secret', 'account', 'counter'] },
  ),
);

/** parse that reports the outcome: the result, or the OtpkitError; anything else fails the property. */
function tryParse(s: string, ignoreTrailingBits = false): OtpauthParams | OtpkitError {
  try {
    return parseOtpauthURI(s, { allowInsecureShortSecret: true, ignoreTrailingBits });
  } catch (e) {
    if (e instanceof OtpkitError) return e;
    throw new Error(
      `parseOtpauthURI threw a non-OtpkitError for ${JSON.stringify(s)}: ${String(e)}`,
    );
  }
}

/**
 * What `fn` returns and the milliseconds it takes, timed again (up to three times in all) while over `boundMs`: a parse
 * that is slow by design is slow every time, while a preemption or a GC pause on a loaded machine
 * does not come back for the same input. (In workerd the clock does not move while code runs, so
 * there it reads 0.)
 */
function timed<T>(fn: () => T, boundMs: number): { ms: number; value: T } {
  let ms = Infinity;
  let value!: T;
  for (let i = 0; i < 3 && ms >= boundMs; i++) {
    const t = performance.now();
    value = fn();
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, value };
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
        expect(parts).toEqual(
          input.issuer === undefined ? [input.account] : [input.issuer, input.account],
        );
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

describe('whatever parse accepts, build accepts and reproduces', () => {
  const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  /** Whitespace String#trim removes, encoded and raw: space, NBSP, U+2000, U+200A, U+202F, U+205F, U+3000, BOM. */
  const WS = [
    ' ',
    '%20',
    '%C2%A0',
    '%E2%80%80',
    '%E2%80%8A',
    '%E2%80%AF',
    '%E2%81%9F',
    '%E3%80%80',
    '%EF%BB%BF',
    '\u00A0',
    '\u3000',
    '\uFEFF',
  ];
  const ws = fc.array(fc.constantFrom(...WS), { maxLength: 3 }).map((a) => a.join(''));
  /**
   * A name as some generator might write it: builder-valid text (`core`), percent-encoded or raw
   * (only the delimiters escaped), padded with whitespace; or whitespace alone (`core` empty).
   */
  const written = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(ws, name, fc.boolean(), ws).map(([pre, core, raw, post]) => ({
        core,
        text:
          pre +
          (raw ? core.replace(/[%?#&+]/g, encodeURIComponent) : encodeURIComponent(core)) +
          post,
      })),
    },
    { weight: 1, arbitrary: ws.map((text) => ({ core: '', text })) },
  );
  /** Random bytes as base32, with random (often non-zero) pad bits in the last character. */
  const secret = fc
    .tuple(fc.uint8Array({ minLength: 10, maxLength: 40 }), fc.nat({ max: 15 }))
    .map(([bytes, noise]) => {
      const text = encodeBase32(bytes);
      const padBits = (5 - ((8 * bytes.length) % 5)) % 5;
      const last = ALPHA.indexOf(text.at(-1) as string) | (noise & ((1 << padBits) - 1));
      return { bytes, text: text.slice(0, -1) + (ALPHA[last] as string) };
    });
  const enrollment = fc.record({
    issuer: fc.option(written, { nil: undefined }),
    account: written,
    issuerIn: fc.constantFrom('label', 'both', 'parameter'),
    sep: fc.constantFrom(':', '%3A', '%3a', ':%20', ': '),
    secret,
  });

  it('names are trimmed, blank ones refused, and every accepted URI rebuilds to the same data', () => {
    fc.assert(
      fc.property(enrollment, ({ issuer, account, issuerIn, sep, secret: sec }) => {
        const inLabel = issuer !== undefined && issuerIn !== 'parameter';
        const label = inLabel ? `${issuer.text}${sep}${account.text}` : account.text;
        const query = issuer !== undefined && issuerIn !== 'label' ? `&issuer=${issuer.text}` : '';
        const uri = `otpauth://totp/${label}?secret=${sec.text}${query}`;
        const r = tryParse(uri, true);
        if (account.core === '' || issuer?.core === '') {
          expect(r, uri).toBeInstanceOf(OtpkitError);
          expect((r as OtpkitError).code).toBe('ERR_URI_LABEL');
          return;
        }
        if (r instanceof OtpkitError) throw new Error(`${uri} was refused: ${r.code} ${r.message}`);
        expect(r.account).toBe(account.core);
        expect(r.issuer).toBe(issuer?.core);
        expect(r.secret).toEqual(sec.bytes);
        const built = buildOtpauthURI(r, { allowInsecureShortSecret: true });
        const again = parseOtpauthURI(built, { allowInsecureShortSecret: true });
        expect(again).toEqual(r);
        expect(buildOtpauthURI(again, { allowInsecureShortSecret: true })).toBe(built);
      }),
      { numRuns: 3000, seed: 0x7e1 },
    );
  });
});

describe('the parser never throws anything but OtpkitError, in bounded time', () => {
  const PREFIXES = [
    '',
    'otpauth://',
    'otpauth://totp/',
    'otpauth://hotp/',
    'OTPAUTH://TOTP/A:b?',
    'otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&',
  ];
  const tail = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.string({
      unit: fc.constantFrom(
        ...SPECIAL,
        ':',
        '%',
        '3',
        'A',
        'a',
        'F',
        'E',
        '0',
        'secret',
        'issuer',
        'counter',
        'period',
        'digits',
        'algorithm',
        'GEZDGNBV',
        '%3A',
        '%C3',
        '%A9',
        '%E2%80%AE',
        '\n',
        '\u0000',
        '\uD800',
      ),
      maxLength: 40,
    }),
  );
  const arbitraryUri = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.tuple(fc.constantFrom(...PREFIXES), tail).map(([p, t]) => p + t),
    // A valid URI with a few characters changed, dropped or inserted.
    fc
      .tuple(
        validInput,
        fc.array(
          fc.tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 3 }), fc.nat({ max: 3 })),
          { maxLength: 3 },
        ),
      )
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
        const { ms, value: r } = timed(() => tryParse(s), 200);
        expect(ms).toBeLessThan(200);
        if (r instanceof OtpkitError) {
          // Codes are URI codes (or the secret-length ones); messages never echo the input.
          expect(r.code).toMatch(/^ERR_(URI_|SECRET_TOO_(SHORT|LONG)$)/);
          if (s.length > 30) expect(r.message).not.toContain(s);
        } else {
          expect(Object.isFrozen(r)).toBe(true);
          // Whatever parses, the builder accepts, and it parses back to the same data.
          expect(
            parseOtpauthURI(buildOtpauthURI(r, { allowInsecureShortSecret: true }), {
              allowInsecureShortSecret: true,
            }),
          ).toEqual(r);
        }
      }),
      { numRuns: 3000, seed: 0x5eed },
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
      expect(timed(() => tryParse(s), 100).ms, s.slice(0, 40)).toBeLessThan(100);
    }
  });
});
