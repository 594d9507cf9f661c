/** otpauth:// URIs: every row of vectors/uri.json, label and encoding edge cases, and builder misuse. */
import { describe, expect, it } from 'vitest';
import uriVectors from '../vectors/uri.json' with { type: 'json' };
import { asecret, secretLengthProblem } from '../src/_assert.js';
import { OtpkitError } from '../src/errors.js';
import { encodeBase32 } from '../src/base32.js';
import { buildOtpauthURI, normalizeOtpauthParams } from '../src/uri/build.js';
import type { OtpauthParams, OtpauthParamsInput } from '../src/uri/params.js';
import { parseOtpauthURI, type ParseOtpauthURIOptions } from '../src/uri/parse.js';
import { COUNTER_ROWS, SECRET_ROWS, UNKNOWN_KEYS, WRONG_TYPES } from './fixtures/bad-inputs.js';
import { fromHex, toHex } from './fixtures/hex.js';
import { otpkitError, thrownCode } from './_helpers.js';

const SECRET = new TextEncoder().encode('12345678901234567890');
const B32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** Runs `fn` and returns the misuse error it throws, checking its class and code. */
function misuse(fn: () => unknown, cls: typeof TypeError | typeof RangeError, code: string): Error {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    expect(e).not.toBeInstanceOf(OtpkitError);
    expect((e as { code?: unknown }).code).toBe(code);
    return e as Error;
  }
  throw new Error(`expected a ${cls.name} ${code}, nothing was thrown`);
}

interface Expected {
  type: string;
  secretHex: string;
  account: string;
  issuer?: string;
  algorithm: string;
  digits: number;
  period?: number;
  counter?: string;
  image?: string;
  extra?: Record<string, string>;
}

function toExpectedShape(e: Expected): Record<string, unknown> {
  const { secretHex, counter, ...rest } = e;
  return {
    ...rest,
    secret: fromHex(secretHex),
    ...(counter === undefined ? {} : { counter: BigInt(counter) }),
  };
}

describe('vectors/uri.json: valid URIs', () => {
  it('covers both KUF wiki examples', () => {
    const uris = uriVectors.valid.map((v) => v.uri);
    expect(uris).toContain(
      'otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example',
    );
    expect(uris).toContain(
      'otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30',
    );
  });

  for (const v of uriVectors.valid) {
    it(v.name, () => {
      const options = ('options' in v ? v.options : undefined) as
        ParseOtpauthURIOptions | undefined;
      const p = parseOtpauthURI(v.uri, options);
      expect({ ...p }).toEqual(toExpectedShape(v.expected as Expected));
      expect(toHex(p.secret)).toBe(v.expected.secretHex);
      expect(Object.isFrozen(p)).toBe(true);
      if (p.extra !== undefined) expect(Object.isFrozen(p.extra)).toBe(true);
      // Ours re-emits an equivalent URI that parses to the same data.
      const again = parseOtpauthURI(buildOtpauthURI(p, options), options);
      expect(again).toEqual(p);
    });
  }
});

/** The kinds of bad URI the parser tells apart; vectors/uri.json has at least one of each. */
const URI_REJECTION_GROUPS = [
  'scheme',
  'type',
  'secret missing',
  'secret not base32',
  'secret too short',
  'secret too long',
  'counter missing',
  'counter out of range',
  'issuer mismatch',
  'label separator',
  'empty label part',
  'parameter value',
  'parameter of the other type',
  'duplicate parameter',
  'percent-encoding',
  'control or bidi character',
  'too long',
  'not an otpauth URI',
];

describe('vectors/uri.json: bad URIs', () => {
  it('has bad URIs in every group of rejection the parser distinguishes', () => {
    const groups = new Set(uriVectors.invalid.map((v) => v.group));
    for (const g of URI_REJECTION_GROUPS) expect(groups.has(g), g).toBe(true);
    expect(groups.size).toBe(URI_REJECTION_GROUPS.length);
  });

  for (const v of uriVectors.invalid) {
    it(`${v.name} → ${v.code}`, () => {
      const options = ('options' in v ? v.options : undefined) as
        ParseOtpauthURIOptions | undefined;
      const e = otpkitError(() => parseOtpauthURI(v.uri, options));
      expect(e.code).toBe(v.code);
      if ('causeCode' in v) {
        expect(e.cause).toBeInstanceOf(OtpkitError);
        expect((e.cause as OtpkitError).code).toBe(v.causeCode);
      }
      // The message never repeats the URI or its secret.
      const secret = /[?&]secret=([^&#]*)/.exec(v.uri)?.[1];
      if (secret !== undefined && secret.length >= 8) expect(e.message).not.toContain(secret);
      expect(e.message).not.toContain(v.uri);
    });
  }
});

describe('label', () => {
  const parse = (label: string, query = `secret=${B32}`): OtpauthParams =>
    parseOtpauthURI(`otpauth://totp/${label}?${query}`);

  it('splits on ":", "%3A" and "%3a" alike', () => {
    for (const sep of [':', '%3A', '%3a']) {
      expect(parse(`ACME${sep}alice`)).toMatchObject({ issuer: 'ACME', account: 'alice' });
    }
  });

  it('drops %20s and spaces after the separator (KUF ABNF `*"%20"`)', () => {
    expect(parse('ACME:%20alice')).toMatchObject({ issuer: 'ACME', account: 'alice' });
    expect(parse('ACME%3A%20%20alice')).toMatchObject({ issuer: 'ACME', account: 'alice' });
    expect(parse('ACME: %20 alice')).toMatchObject({ issuer: 'ACME', account: 'alice' });
  });

  it('trims whitespace at both ends of both names, as Google Authenticator trims the label', () => {
    expect(parse('ACME%20:alice%20smith')).toMatchObject({
      issuer: 'ACME',
      account: 'alice smith',
    });
    // Without an issuer the label is all account (KUF: `label = accountname / …`).
    expect(parse('%20alice')).toMatchObject({ account: 'alice' });
    expect(parse('alice%20%20')).toMatchObject({ account: 'alice' });
    expect(parse('%20%20Bank%20%20:%20%20alice%20%20')).toMatchObject({
      issuer: 'Bank',
      account: 'alice',
    });
    // Every kind of whitespace String#trim removes, encoded or raw: NBSP, U+2000..U+200A, U+3000, BOM.
    expect(parse('%C2%A0alice%E3%80%80')).toMatchObject({ account: 'alice' });
    expect(parse('%E2%80%8Aalice%E2%80%80')).toMatchObject({ account: 'alice' });
    expect(parse('\u3000Zo\u00EB\u00A0:\u00A0alice')).toMatchObject({
      issuer: 'Zoë',
      account: 'alice',
    });
    // Inner whitespace is data.
    expect(parse('a%C2%A0b:c%20%20d')).toMatchObject({ issuer: 'a\u00A0b', account: 'c  d' });
    // The issuer parameter is trimmed too, then compared with the (trimmed) label prefix.
    expect(parse('ACME%20:alice', `secret=${B32}&issuer=%20ACME`)).toMatchObject({
      issuer: 'ACME',
    });
    expect(parse('alice', `secret=${B32}&issuer=ACME+`)).toMatchObject({
      issuer: 'ACME',
      account: 'alice',
    });
    expect(otpkitError(() => parse('ACME:alice', `secret=${B32}&issuer=%20ACMF`)).code).toBe(
      'ERR_URI_ISSUER_MISMATCH',
    );
  });

  it('refuses an account or issuer that is empty after trimming (ERR_URI_LABEL)', () => {
    const labels = [
      '%20%20%20%20',
      '%20',
      ' ',
      'ACME:%20%20',
      '%20%20:alice',
      '%C2%A0',
      '%E3%80%80%20',
      '%EF%BB%BF',
      ':alice',
      'ACME:',
    ];
    for (const label of labels)
      expect(otpkitError(() => parse(label)).code, label).toBe('ERR_URI_LABEL');
    for (const issuer of ['', '%20', '+', '%20+%20', '%C2%A0', '%E3%80%80']) {
      const e = otpkitError(() => parse('alice', `secret=${B32}&issuer=${issuer}`));
      expect(e.code, issuer).toBe('ERR_URI_LABEL');
      expect(e.message).toContain('issuer');
      expect(
        otpkitError(() => parse('ACME:alice', `secret=${B32}&issuer=${issuer}`)).code,
        issuer,
      ).toBe('ERR_URI_LABEL');
    }
    expect(
      otpkitError(() => parseOtpauthURI(`otpauth://totp/%20%20%20%20?secret=${B32}`)).message,
    ).toBe('the account name is empty (only whitespace)');
  });

  it('still refuses a control character at either end instead of trimming it away', () => {
    for (const label of [
      '%09alice',
      'alice%0A',
      'alice%0D%0A',
      'ACME%0B:alice',
      '%0Calice',
      'alice\t',
    ]) {
      expect(otpkitError(() => parse(label)).code, label).toBe('ERR_URI_LABEL');
    }
    expect(otpkitError(() => parse('alice', `secret=${B32}&issuer=ACME%0A`)).code).toBe(
      'ERR_URI_LABEL',
    );
  });

  it('gives only names the builder accepts, and the builder reproduces them', () => {
    const labels = [
      '%20alice',
      'ACME%20:%20alice%20',
      '%C2%A0Zo%C3%AB%20Bank%E3%80%80:%EF%BB%BFbob',
      'a%C2%A0b:c%20%20d',
      '%E2%80%AF%E2%81%9Fx',
      ' raw spaces : kept inside ',
    ];
    for (const label of labels) {
      const p = parse(label);
      const uri = buildOtpauthURI(p);
      expect(parseOtpauthURI(uri), label).toEqual(p);
      expect(buildOtpauthURI(parseOtpauthURI(uri))).toBe(uri);
    }
  });

  it('treats %253A as the text "%3A" (an escaped "%"), not as a separator', () => {
    expect(parse('A%253AB:alice')).toMatchObject({ issuer: 'A%3AB', account: 'alice' });
    expect(parse('alice%253A')).toMatchObject({ account: 'alice%3A' });
    expect(parse('%25:%25')).toMatchObject({ issuer: '%', account: '%' });
  });

  it('rejects a second separator in any spelling', () => {
    for (const label of ['A:B:C', 'A%3AB%3AC', 'A:B%3aC', 'A%3a:C', '::a']) {
      expect(otpkitError(() => parse(label)).code, label).toBe('ERR_URI_LABEL');
    }
  });

  it('keeps "+" literal in the label (RFC 3986)', () => {
    expect(parse('A+B:x+y')).toMatchObject({ issuer: 'A+B', account: 'x+y' });
  });

  it('decodes UTF-8, including 4-byte characters', () => {
    const p = parse(
      'Zo%C3%AB%20Bank:%C3%BCn%C3%AFcode%40%E4%BE%8B%E3%81%88.jp',
      `secret=${B32}&issuer=Zo%C3%AB%20Bank`,
    );
    expect(p).toMatchObject({ issuer: 'Zoë Bank', account: 'ünïcode@例え.jp' });
    expect(parse('%F0%9F%94%91:x')).toMatchObject({ issuer: '🔑' });
    // Raw (unencoded) non-ASCII, as some QR generators emit it, is taken literally.
    expect(parse('Zoë:ü')).toMatchObject({ issuer: 'Zoë', account: 'ü' });
  });

  it('keeps a BOM inside a name (the UTF-8 decoder never drops it); at either end it is trimmed as whitespace', () => {
    expect(parse('a%EF%BB%BFb')).toMatchObject({ account: 'a\uFEFFb' });
    expect(parse('a:%EF%BB%BFb%EF%BB%BFc')).toMatchObject({ account: 'b\uFEFFc' });
    expect(parse('%EF%BB%BFa')).toMatchObject({ account: 'a' });
  });

  it('rejects every bidi control and line separator', () => {
    const bidi = [
      0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066,
      0x2067, 0x2068, 0x2069,
    ];
    for (const cp of bidi) {
      const enc = encodeURIComponent(String.fromCodePoint(cp));
      expect(otpkitError(() => parse(`A:b${enc}`)).code, cp.toString(16)).toBe('ERR_URI_LABEL');
      expect(otpkitError(() => parse(`A${enc}:b`)).code, cp.toString(16)).toBe('ERR_URI_LABEL');
      expect(
        otpkitError(() => parse('b', `secret=${B32}&issuer=A${enc}`)).code,
        cp.toString(16),
      ).toBe('ERR_URI_LABEL');
    }
  });

  it('rejects C0, DEL and C1 controls, raw or encoded', () => {
    for (let cp = 0; cp <= 0x9f; cp++) {
      if (cp > 0x1f && cp < 0x7f) continue;
      const ch = String.fromCharCode(cp);
      expect(otpkitError(() => parse(`A:b${ch}`)).code).toBe('ERR_URI_LABEL');
      expect(otpkitError(() => parse(`A:b${encodeURIComponent(ch)}`)).code).toBe('ERR_URI_LABEL');
    }
  });

  it('rejects an unpaired surrogate anywhere (ERR_URI_ENCODING)', () => {
    expect(otpkitError(() => parse('A:b\uD800')).code).toBe('ERR_URI_ENCODING');
    expect(otpkitError(() => parse('A:b', `secret=${B32}&x=\uDC00`)).code).toBe('ERR_URI_ENCODING');
  });
});

describe('query', () => {
  const base = `otpauth://totp/ACME%20Co:alice?secret=${B32}`;

  it('decodes "+" as a space, and %2B as a plus', () => {
    expect(parseOtpauthURI(`${base}&issuer=ACME+Co`).issuer).toBe('ACME Co');
    expect(parseOtpauthURI(`otpauth://totp/A%2BB:alice?secret=${B32}&issuer=A%2BB`).issuer).toBe(
      'A+B',
    );
    expect(parseOtpauthURI(`${base}&note=a+b%2Bc`).extra).toEqual({ note: 'a b+c' });
  });

  it('reports issuer mismatch when "+" would be read literally', () => {
    expect(
      otpkitError(() => parseOtpauthURI(`otpauth://totp/A+B:alice?secret=${B32}&issuer=A+B`)).code,
    ).toBe('ERR_URI_ISSUER_MISMATCH');
  });

  it('accepts parameters in any order and ignores empty segments', () => {
    const p = parseOtpauthURI(`otpauth://hotp/alice?&counter=3&&digits=8&secret=${B32}&`);
    expect(p).toMatchObject({ type: 'hotp', counter: 3n, digits: 8 });
  });

  it('keeps __proto__ and constructor parameters as plain data', () => {
    const p = parseOtpauthURI(`${base}&__proto__=x&constructor=y`);
    expect(Object.getPrototypeOf(p.extra)).toBe(Object.prototype);
    expect(Object.keys(p.extra ?? {})).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(p.extra, '__proto__')?.value).toBe('x');
  });

  it('normalises algorithm case but never through Unicode case mapping', () => {
    expect(parseOtpauthURI(`${base}&algorithm=Sha256`).algorithm).toBe('SHA256');
    expect(otpkitError(() => parseOtpauthURI(`${base}&algorithm=%C5%BFHA1`)).code).toBe(
      'ERR_URI_PARAM',
    );
  });

  it('gives a totp result its default period and a hotp result its counter', () => {
    expect(parseOtpauthURI(base).period).toBe(30);
    expect(parseOtpauthURI(base)).not.toHaveProperty('counter');
    const h = parseOtpauthURI(`otpauth://hotp/a?secret=${B32}&counter=0`);
    expect(h.counter).toBe(0n);
    expect(h).not.toHaveProperty('period');
  });

  it('wraps the base32 error as the cause of ERR_URI_SECRET', () => {
    const e = otpkitError(() => parseOtpauthURI('otpauth://totp/a?secret=MZXW6YR%3D'));
    expect(e.code).toBe('ERR_URI_SECRET');
    expect((e.cause as OtpkitError).code).toBe('ERR_BASE32_NONCANONICAL');
  });

  it('ignoreTrailingBits: accepts a secret with non-zero pad bits and drops them (RFC 4648 §3.5)', () => {
    // 16 bytes = 26 base32 characters, 2 pad bits; 'B' (00001) sets one, which strict decoding refuses.
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17 + 3);
    const canonical = encodeBase32(bytes);
    expect(canonical).toHaveLength(26);
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(canonical.at(-1) as string);
    expect(last & 3).toBe(0);
    const padded =
      canonical.slice(0, -1) + ('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[last | 3] as string);
    const uri = `otpauth://totp/ACME:alice?secret=${padded}&issuer=ACME`;
    const e = otpkitError(() => parseOtpauthURI(uri));
    expect(e.code).toBe('ERR_URI_SECRET');
    expect((e.cause as OtpkitError).code).toBe('ERR_BASE32_NONCANONICAL');
    expect(e.message).not.toContain(padded);
    expect(otpkitError(() => parseOtpauthURI(uri, { ignoreTrailingBits: false })).code).toBe(
      'ERR_URI_SECRET',
    );
    const p = parseOtpauthURI(uri, { ignoreTrailingBits: true });
    expect(p.secret).toEqual(bytes);
    // Lower case and padding, as the loose secret path always allows.
    expect(
      parseOtpauthURI(`otpauth://totp/a?secret=${padded.toLowerCase()}%3D%3D%3D%3D%3D%3D`, {
        ignoreTrailingBits: true,
      }).secret,
    ).toEqual(bytes);
    // The builder re-emits the canonical text, which parses strictly to the same bytes.
    const rebuilt = buildOtpauthURI(p);
    expect(rebuilt).toContain(`secret=${canonical}&`);
    expect(parseOtpauthURI(rebuilt)).toEqual(p);
  });

  it('ignoreTrailingBits still refuses the lengths no encoder produces (≡ 1, 3, 6 mod 8) and short secrets', () => {
    for (const secret of [`${B32}A`, `${B32}AAA`, `${B32}AAAAAA`]) {
      const e = otpkitError(() =>
        parseOtpauthURI(`otpauth://totp/a?secret=${secret}`, { ignoreTrailingBits: true }),
      );
      expect(e.code).toBe('ERR_URI_SECRET');
      expect((e.cause as OtpkitError).code).toBe('ERR_BASE32_LENGTH');
    }
    // JBSWY3DPEHPK3PX (the wiki example, one character short) is 9 bytes: below even the legacy minimum.
    const opts = { ignoreTrailingBits: true, allowInsecureShortSecret: true };
    expect(
      otpkitError(() => parseOtpauthURI('otpauth://totp/a?secret=JBSWY3DPEHPK3PX', opts)).code,
    ).toBe('ERR_SECRET_TOO_SHORT');
  });

  it('ignoreTrailingBits must be a boolean', () => {
    misuse(
      () => parseOtpauthURI(`otpauth://totp/a?secret=${B32}`, { ignoreTrailingBits: 1 } as never),
      TypeError,
      'ERR_OPTION_TYPE',
    );
  });

  it('names the opt-in when the secret is short, and accepts it with the opt-in', () => {
    const uri = 'otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example';
    const e = otpkitError(() => parseOtpauthURI(uri));
    expect(e.code).toBe('ERR_SECRET_TOO_SHORT');
    expect(e.message).toContain('allowInsecureShortSecret');
    expect(e.message).not.toContain('JBSWY3DPEHPK3PXP');
    expect(parseOtpauthURI(uri, { allowInsecureShortSecret: true }).secret).toHaveLength(10);
  });

  it('refuses exactly the secret lengths the builder refuses, with the same code', () => {
    for (const allowInsecureShortSecret of [false, true]) {
      for (let n = 1; n <= 300; n++) {
        const secret = new Uint8Array(n).fill(n);
        const built = thrownCode(() =>
          buildOtpauthURI({ type: 'totp', secret, account: 'a' }, { allowInsecureShortSecret }),
        );
        const parsed = thrownCode(() =>
          parseOtpauthURI(`otpauth://totp/a?secret=${encodeBase32(secret)}`, {
            allowInsecureShortSecret,
          }),
        );
        expect(parsed, `${n} bytes, allowInsecureShortSecret: ${allowInsecureShortSecret}`).toBe(
          built,
        );
        // The parser's verdict and the secret-length rule of every other function are the same rule.
        expect(secretLengthProblem(n, allowInsecureShortSecret)).toBe(
          thrownCode(() => asecret(secret, allowInsecureShortSecret)),
        );
      }
      expect(secretLengthProblem(0, allowInsecureShortSecret)).toBe(
        thrownCode(() => asecret(new Uint8Array(0), allowInsecureShortSecret)),
      );
    }
  });
});

describe('result', () => {
  it('is frozen plain data, with frozen extra, and a private copy of the secret', () => {
    const p = parseOtpauthURI(`otpauth://totp/A:b?secret=${B32}&color=red`);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.extra)).toBe(true);
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    expect(() => {
      (p as { account: string }).account = 'x';
    }).toThrow(TypeError);
    expect(p.secret).toBeInstanceOf(Uint8Array);
    const input: OtpauthParamsInput = {
      type: 'totp',
      secret: new Uint8Array(SECRET),
      account: 'a',
    };
    const n = normalizeOtpauthParams(input, false);
    input.secret[0] = 0;
    expect(n.secret[0]).toBe(SECRET[0]);
  });
});

describe('size cap', () => {
  it('checks the length before anything else', () => {
    // Over the cap, even an otherwise invalid URI (wrong scheme, bad escapes) reports the size.
    expect(otpkitError(() => parseOtpauthURI(`https://%ZZ${'x'.repeat(3000)}`)).code).toBe(
      'ERR_URI_TOO_LONG',
    );
    const ok = `otpauth://totp/A:b?secret=${B32}&x=`;
    expect(parseOtpauthURI(ok + 'a'.repeat(2048 - ok.length)).extra?.x).toHaveLength(
      2048 - ok.length,
    );
    expect(otpkitError(() => parseOtpauthURI(ok + 'a'.repeat(2049 - ok.length))).code).toBe(
      'ERR_URI_TOO_LONG',
    );
  });

  it('maxLength raises or lowers the cap, within 1..65536', () => {
    const long = `otpauth://totp/A:b?secret=${B32}&x=${'a'.repeat(5000)}`;
    expect(parseOtpauthURI(long, { maxLength: 8192 }).extra?.x).toHaveLength(5000);
    misuse(() => parseOtpauthURI(long, { maxLength: 0 }), RangeError, 'ERR_OPTION_INVALID');
    misuse(() => parseOtpauthURI(long, { maxLength: 65537 }), RangeError, 'ERR_OPTION_INVALID');
    misuse(
      () => parseOtpauthURI(long, { maxLength: '4096' as unknown as number }),
      TypeError,
      'ERR_OPTION_INVALID',
    );
  });

  it('a parsed URI with raw characters can rebuild over the builder cap (documented)', () => {
    // Raw '例' is one UTF-16 unit; the builder writes it as %E4%BE%8B (9).
    const uri = `otpauth://totp/${'例'.repeat(300)}?secret=${B32}`;
    expect(uri.length).toBeLessThanOrEqual(2048);
    const p = parseOtpauthURI(uri);
    misuse(() => buildOtpauthURI(p), RangeError, 'ERR_URI_TOO_LONG');
  });

  it('rejects a 1 MB string quickly', () => {
    const big = `otpauth://totp/A:b?secret=${'A'.repeat(1 << 20)}`;
    const t = performance.now();
    expect(otpkitError(() => parseOtpauthURI(big)).code).toBe('ERR_URI_TOO_LONG');
    expect(performance.now() - t).toBeLessThan(50);
  });
});

describe('parse misuse', () => {
  for (const w of WRONG_TYPES.filter((x) => typeof x.value !== 'string')) {
    it(`uri ${w.label} → TypeError`, () => {
      misuse(() => parseOtpauthURI(w.value as string), TypeError, 'ERR_OPTION_TYPE');
    });
  }
  it('rejects unknown options', () => {
    for (const k of UNKNOWN_KEYS) {
      if (k === 'constructor') continue;
      misuse(
        () =>
          parseOtpauthURI(`otpauth://totp/a?secret=${B32}`, { [k]: 1 } as ParseOtpauthURIOptions),
        RangeError,
        'ERR_OPTION_UNKNOWN',
      );
    }
  });
});

describe('buildOtpauthURI', () => {
  const totp = (
    over: Partial<Record<keyof OtpauthParamsInput, unknown>> = {},
  ): OtpauthParamsInput =>
    ({
      type: 'totp',
      secret: SECRET,
      issuer: 'ACME Co',
      account: 'alice@example.com',
      ...over,
    }) as OtpauthParamsInput;

  it('emits the KUF layout with defaults omitted', () => {
    expect(buildOtpauthURI(totp())).toBe(
      `otpauth://totp/ACME%20Co:alice%40example.com?secret=${B32}&issuer=ACME%20Co`,
    );
  });

  it('emits defaults with explicitDefaults, in a fixed order', () => {
    expect(buildOtpauthURI(totp(), { explicitDefaults: true })).toBe(
      `otpauth://totp/ACME%20Co:alice%40example.com?secret=${B32}&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30`,
    );
  });

  it('emits hotp with its counter always and never a period', () => {
    const uri = buildOtpauthURI(
      { type: 'hotp', secret: SECRET, account: 'bob', counter: 0 },
      { explicitDefaults: true },
    );
    expect(uri).toBe(`otpauth://hotp/bob?secret=${B32}&algorithm=SHA1&digits=6&counter=0`);
    expect(
      buildOtpauthURI({ type: 'hotp', secret: SECRET, account: 'bob', counter: 2n ** 64n - 1n }),
    ).toBe(`otpauth://hotp/bob?secret=${B32}&counter=18446744073709551615`);
  });

  it('percent-encodes everything but the unreserved characters; space is %20, never +', () => {
    const uri = buildOtpauthURI(totp({ issuer: "A b+c!'()*~", account: 'x/y?z#w&v=u%t' }));
    expect(uri).toBe(
      `otpauth://totp/A%20b%2Bc%21%27%28%29%2A~:x%2Fy%3Fz%23w%26v%3Du%25t?secret=${B32}&issuer=A%20b%2Bc%21%27%28%29%2A~`,
    );
    expect(parseOtpauthURI(uri)).toMatchObject({ issuer: "A b+c!'()*~", account: 'x/y?z#w&v=u%t' });
  });

  it('encodes UTF-8 names', () => {
    const uri = buildOtpauthURI(totp({ issuer: 'Zoë Bank', account: 'ünïcode@例え.jp' }));
    expect(uri).toContain('/Zo%C3%AB%20Bank:%C3%BCn%C3%AFcode%40%E4%BE%8B%E3%81%88.jp?');
    expect(parseOtpauthURI(uri)).toMatchObject({ issuer: 'Zoë Bank', account: 'ünïcode@例え.jp' });
  });

  it('emits unpadded base32, image and extra parameters', () => {
    const uri = buildOtpauthURI(
      totp({
        secret: new Uint8Array(16).fill(1),
        image: 'https://x.example/a b.png',
        extra: { color: 'red', 'a.b_c-d': '' },
      }),
    );
    expect(uri).toContain(`secret=${encodeBase32(new Uint8Array(16).fill(1))}&`);
    expect(uri).not.toMatch(/secret=[A-Z2-7]*(=|%3D)/);
    expect(uri.endsWith('&image=https%3A%2F%2Fx.example%2Fa%20b.png&color=red&a.b_c-d=')).toBe(
      true,
    );
  });

  it('round-trips to the normalised input', () => {
    const input = totp({
      algorithm: 'SHA512',
      digits: 8,
      period: 60,
      image: 'i',
      extra: { k: 'v' },
    });
    expect(parseOtpauthURI(buildOtpauthURI(input))).toEqual(normalizeOtpauthParams(input, false));
  });

  it('rejects names that cannot be represented (RangeError ERR_URI_LABEL, naming the field)', () => {
    const cases: [string, string][] = [
      ['issuer', 'A:B'],
      ['account', 'a:b'],
      ['account', ''],
      ['issuer', ''],
      ['account', 'a\nb'],
      ['account', 'a\u0000'],
      ['issuer', 'Bank\u202Egnp.exe'],
      ['account', '\u2066x'],
      ['account', 'x\u200F'],
      ['account', ' alice'],
      ['issuer', 'ACME '],
      ['account', 'a\uD800'],
      ['account', 'a\u0085'],
    ];
    for (const [field, value] of cases) {
      const e = misuse(
        () => buildOtpauthURI(totp({ [field]: value })),
        RangeError,
        'ERR_URI_LABEL',
      );
      expect(e.message, `${field}=${JSON.stringify(value)}`).toContain(`"${field}"`);
    }
    for (const w of WRONG_TYPES.filter(
      (x) => typeof x.value !== 'string' && x.value !== undefined,
    )) {
      misuse(() => buildOtpauthURI(totp({ account: w.value })), TypeError, 'ERR_URI_LABEL');
      misuse(() => buildOtpauthURI(totp({ issuer: w.value })), TypeError, 'ERR_URI_LABEL');
    }
    misuse(() => buildOtpauthURI(totp({ account: undefined })), TypeError, 'ERR_URI_LABEL');
  });

  it('validates the secret like every other API (S rows)', () => {
    for (const row of SECRET_ROWS) {
      misuse(
        () => buildOtpauthURI(totp({ secret: row.value })),
        row.error === 'TypeError' ? TypeError : RangeError,
        row.code,
      );
    }
    misuse(
      () => buildOtpauthURI(totp({ secret: new Uint8Array(10) })),
      RangeError,
      'ERR_SECRET_TOO_SHORT',
    );
    expect(
      buildOtpauthURI(totp({ secret: new Uint8Array(10) }), { allowInsecureShortSecret: true }),
    ).toContain('secret=AAAAAAAAAAAAAAAA&');
    misuse(
      () =>
        buildOtpauthURI(totp({ secret: new Uint8Array(9) }), { allowInsecureShortSecret: true }),
      RangeError,
      'ERR_SECRET_TOO_SHORT',
    );
  });

  it('validates type, digits, algorithm, period and counter', () => {
    misuse(() => buildOtpauthURI(totp({ type: 'TOTP' })), RangeError, 'ERR_URI_TYPE');
    misuse(() => buildOtpauthURI(totp({ type: 1 })), TypeError, 'ERR_URI_TYPE');
    for (const d of [5, 9, 10, 0, 6.5])
      misuse(() => buildOtpauthURI(totp({ digits: d })), RangeError, 'ERR_OPTION_DIGITS');
    misuse(() => buildOtpauthURI(totp({ digits: '6' })), TypeError, 'ERR_OPTION_DIGITS');
    for (const a of ['MD5', 'sha1', 'SHA-256', ''])
      misuse(() => buildOtpauthURI(totp({ algorithm: a })), RangeError, 'ERR_OPTION_ALGORITHM');
    for (const p of [0, -30, 30.5, Number.NaN, 121])
      misuse(() => buildOtpauthURI(totp({ period: p })), RangeError, 'ERR_OPTION_PERIOD');
    misuse(() => buildOtpauthURI(totp({ period: '30' })), TypeError, 'ERR_OPTION_PERIOD');
    const hotp = (counter: unknown): OtpauthParamsInput =>
      ({ type: 'hotp', secret: SECRET, account: 'a', counter }) as OtpauthParamsInput;
    for (const row of COUNTER_ROWS) {
      if (row.value === undefined) continue;
      misuse(
        () => buildOtpauthURI(hotp(row.value)),
        row.error === 'TypeError' ? TypeError : RangeError,
        row.code,
      );
    }
    misuse(() => buildOtpauthURI(hotp(undefined)), TypeError, 'ERR_URI_COUNTER_MISSING');
  });

  it('rejects counter on totp and period on hotp', () => {
    misuse(() => buildOtpauthURI(totp({ counter: 0 })), RangeError, 'ERR_URI_PARAM');
    misuse(
      () => buildOtpauthURI({ type: 'hotp', secret: SECRET, account: 'a', counter: 0, period: 30 }),
      RangeError,
      'ERR_URI_PARAM',
    );
  });

  it('rejects malformed or colliding extra keys, and bad image/extra values', () => {
    for (const k of [
      'secret',
      'Secret',
      'ISSUER',
      'period',
      'counter',
      'image',
      'a b',
      'a&b',
      'a=b',
      '',
      'ü',
    ]) {
      misuse(() => buildOtpauthURI(totp({ extra: { [k]: 'x' } })), RangeError, 'ERR_URI_PARAM');
    }
    misuse(() => buildOtpauthURI(totp({ extra: { a: 1 } })), TypeError, 'ERR_URI_PARAM');
    misuse(() => buildOtpauthURI(totp({ extra: { a: 'x\n' } })), RangeError, 'ERR_URI_PARAM');
    misuse(() => buildOtpauthURI(totp({ extra: ['x'] })), TypeError, 'ERR_URI_PARAM');
    misuse(() => buildOtpauthURI(totp({ extra: 'a=b' })), TypeError, 'ERR_URI_PARAM');
    misuse(() => buildOtpauthURI(totp({ image: '' })), RangeError, 'ERR_URI_PARAM');
    misuse(() => buildOtpauthURI(totp({ image: 5 })), TypeError, 'ERR_URI_PARAM');
    misuse(() => buildOtpauthURI(totp({ image: 'a\u0000' })), RangeError, 'ERR_URI_PARAM');
  });

  it('rejects unknown fields and options', () => {
    misuse(() => buildOtpauthURI(totp({ label: 'x' } as never)), RangeError, 'ERR_OPTION_UNKNOWN');
    misuse(
      () => buildOtpauthURI(totp(), { explicitDefault: true } as never),
      RangeError,
      'ERR_OPTION_UNKNOWN',
    );
    misuse(
      () => buildOtpauthURI(totp(), { explicitDefaults: 1 } as never),
      TypeError,
      'ERR_OPTION_TYPE',
    );
    misuse(() => buildOtpauthURI(null as never), TypeError, 'ERR_OPTION_TYPE');
    misuse(() => buildOtpauthURI('otpauth://totp/a' as never), TypeError, 'ERR_OPTION_TYPE');
  });

  it('refuses to build a URI over 2048 characters', () => {
    const e = misuse(
      () => buildOtpauthURI(totp({ account: '例'.repeat(300) })),
      RangeError,
      'ERR_URI_TOO_LONG',
    );
    expect(e.message).not.toContain(B32);
    expect(buildOtpauthURI(totp({ account: '例'.repeat(150) })).length).toBeLessThanOrEqual(2048);
  });

  it('never puts the secret in an error message', () => {
    const e = misuse(() => buildOtpauthURI(totp({ account: 'a:b' })), RangeError, 'ERR_URI_LABEL');
    expect(e.message).not.toContain(B32);
  });
});
