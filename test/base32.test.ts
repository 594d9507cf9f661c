/**
 * base32 unit tests: the strict decoder's refusals, the loose path, the ignoreTrailingBits import
 * path (against vectors/base32-trailing-bits.json), and robustness.
 *
 * Deterministic: "random" data comes from a seeded PRNG, so every run tests the same inputs.
 */
import { describe, expect, it } from 'vitest';
import trailing from '../vectors/base32-trailing-bits.json' with { type: 'json' };
import { decodeBase32, encodeBase32, OtpkitError, type OtpkitErrorCode } from '../src/index.js';
import { fromHex, toHex } from './fixtures/hex.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `n` bytes from a seeded xorshift32 PRNG (plain Uint8Array). */
function seededBytes(n: number, seed: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Runs `fn`, expects an OtpkitError with `code`, and returns it. */
function expectOtpkitError(fn: () => unknown, code: OtpkitErrorCode): OtpkitError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(OtpkitError);
  const err = caught as OtpkitError;
  expect(err.code).toBe(code);
  expect(err.name).toBe('OtpkitError');
  return err;
}

describe('strict decoder rejects', () => {
  const rows: Array<[label: string, input: string, code: OtpkitErrorCode]> = [
    ['non-zero trailing bits', 'MZXW6YR=', 'ERR_BASE32_NONCANONICAL'],
    ['non-zero trailing bits, unpadded', 'MZXW6YR', 'ERR_BASE32_NONCANONICAL'],
    ['"MZ" (RFC 4648 §10 note)', 'MZ', 'ERR_BASE32_NONCANONICAL'],
    ['too much padding', 'MZXW6YQ==', 'ERR_BASE32_PADDING'],
    ['too little padding', 'MY=====', 'ERR_BASE32_PADDING'],
    ['padding on a full block', 'MZXW6YTB========', 'ERR_BASE32_PADDING'],
    ['padding only', '========', 'ERR_BASE32_PADDING'],
    ['single =', '=', 'ERR_BASE32_PADDING'],
    ['length 1', 'M', 'ERR_BASE32_LENGTH'],
    ['length 3', 'MZX', 'ERR_BASE32_LENGTH'],
    ['length 6', 'MZXW6Y', 'ERR_BASE32_LENGTH'],
    ['length 9', 'MZXW6YTBO', 'ERR_BASE32_LENGTH'],
    ['length 1 padded', 'M=======', 'ERR_BASE32_LENGTH'],
    ['= inside the body', 'MZ=XW6YQ', 'ERR_BASE32_PADDING'],
    ['= at the start', '=MZXW6YQ', 'ERR_BASE32_PADDING'],
    ['data after padding', 'MY======MY======', 'ERR_BASE32_PADDING'],
    ['digit 1', 'MZXW6Y1=', 'ERR_BASE32_CHAR'],
    ['digit 0', 'MZXW0YQ=', 'ERR_BASE32_CHAR'],
    ['digit 8', 'MZXW8YQ=', 'ERR_BASE32_CHAR'],
    ['digit 9', 'MZXW9YQ=', 'ERR_BASE32_CHAR'],
    ['lower case', 'mzxw6yq=', 'ERR_BASE32_CHAR'],
    ['one lower-case letter', 'MZXw6YQ=', 'ERR_BASE32_CHAR'],
    ['spaces', 'GEZD GNBV GY3T QOJQ', 'ERR_BASE32_CHAR'],
    ['hyphens', 'GEZD-GNBV-GY3T-QOJQ', 'ERR_BASE32_CHAR'],
    ['trailing space', 'MZXW6YQ ', 'ERR_BASE32_CHAR'],
    ['NUL', 'MZXW\u00006YQ', 'ERR_BASE32_CHAR'],
    ['NUL only', '\u0000', 'ERR_BASE32_CHAR'],
    ['newline', 'MZXW6YTB\nOI', 'ERR_BASE32_CHAR'],
    ['trailing newline', 'MZXW6YTB\n', 'ERR_BASE32_CHAR'],
    ['Cyrillic А homoglyph', 'MZXW6Y\u0410=', 'ERR_BASE32_CHAR'],
    ['full-width A', 'MZXW6Y\uFF21=', 'ERR_BASE32_CHAR'],
    ['lone surrogate', 'MZXW6Y\uD800=', 'ERR_BASE32_CHAR'],
    ['character after padding that is not base32', 'MY======\u0000', 'ERR_BASE32_CHAR'],
    ['base32hex', 'CPNMUOJ1', 'ERR_BASE32_CHAR'],
    ['base32hex padded', 'CPNMUOG=', 'ERR_BASE32_NONCANONICAL'],
    ['base64 characters', 'Zm9vYg==', 'ERR_BASE32_CHAR'],
  ];
  for (const [label, input, code] of rows) {
    it(`${label}: ${JSON.stringify(input)} → ${code}`, () => {
      const err = expectOtpkitError(() => decodeBase32(input), code);
      // Messages give positions and counts, never the text itself.
      if (input.length >= 4) expect(err.message).not.toContain(input);
    });
  }

  it('error messages never echo a secret-like input', () => {
    const secret = encodeBase32(seededBytes(20, 1));
    for (const bad of [
      secret + '1',
      secret.toLowerCase(),
      secret.slice(0, 31) + '=',
      `${secret}\u0000`,
    ]) {
      try {
        decodeBase32(bad);
        expect.unreachable();
      } catch (e) {
        expect((e as Error).message).not.toContain(secret.slice(0, 8));
        expect((e as Error).message.toUpperCase()).not.toContain(secret.slice(8, 16));
      }
    }
  });

  it('CPNMUOG= is "foob" in base32hex but never decodes as such', () => {
    expect(() => decodeBase32('CPNMUOG=')).toThrow(OtpkitError);
    expect(decodeBase32('MZXW6YQ=')).toEqual(ascii('foob'));
  });
});

describe('strict decoder accepts', () => {
  it('the empty string as zero bytes', () => {
    expect(decodeBase32('')).toEqual(new Uint8Array(0));
  });
  it('padded and unpadded canonical text', () => {
    expect(decodeBase32('MZXW6YQ=')).toEqual(ascii('foob'));
    expect(decodeBase32('MZXW6YQ')).toEqual(ascii('foob'));
    expect(decodeBase32('MY======')).toEqual(ascii('f'));
    expect(decodeBase32('MY')).toEqual(ascii('f'));
  });
  it('returns a plain Uint8Array', () => {
    const out = decodeBase32('MZXW6YTBOI');
    expect(out).toBeInstanceOf(Uint8Array);
    expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
  });
  it('decodes every alphabet character in every position of a block', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    for (let pos = 0; pos < 8; pos++) {
      for (let v = 0; v < 32; v++) {
        const chars = Array.from({ length: 8 }, () => 'A');
        chars[pos] = alphabet[v] as string;
        const text = chars.join('');
        const bytes = decodeBase32(text);
        expect(bytes).toHaveLength(5);
        expect(encodeBase32(bytes)).toBe(text);
      }
    }
  });
});

describe('loose decoder: lower case, ASCII spaces and hyphens, and nothing more', () => {
  const foobar = ascii('foobar');
  it.each([
    ['mzxw6ytboi'],
    ['MzXw6YtBoI'],
    ['mzxw 6ytb oi'],
    ['MZXW-6YTB-OI'],
    ['  mzxw 6ytb-oi  '],
    ['mzxw6ytboi======'],
    ['mzxw 6ytb oi== ===='],
    ['- - MZXW6YTBOI - -'],
  ])('accepts %j', (input) => {
    expect(decodeBase32(input, { loose: true })).toEqual(foobar);
  });

  it('accepts grouped Google-style secrets', () => {
    const key = seededBytes(20, 2);
    const grouped = encodeBase32(key)
      .toLowerCase()
      .replace(/(.{4})/g, '$1 ')
      .trim();
    expect(decodeBase32(grouped, { loose: true })).toEqual(new Uint8Array(key));
    expect(() => decodeBase32(grouped)).toThrow(OtpkitError);
  });

  it.each([
    ['0 (never mapped to O)', 'MZXW0YTBOI'],
    ['1 (never mapped to I or L)', 'MZXW1YTBOI'],
    ['8 (never mapped to B)', 'MZXW8YTBOI'],
    ['9', 'MZXW9YTBOI'],
    ['tab', 'MZXW\t6YTBOI'],
    ['newline', 'MZXW\n6YTBOI'],
    ['carriage return', 'MZXW\r6YTBOI'],
    ['underscore', 'MZXW_6YTBOI'],
    ['dot', 'MZXW.6YTBOI'],
    ['NBSP', 'MZXW\u00A06YTBOI'],
    ['en dash', 'MZXW\u20136YTBOI'],
    ['NUL', 'MZXW\u00006YTBOI'],
    ['Cyrillic а', 'MZXW6YTBO\u0430'],
    ['full-width ｍ', '\uFF4DZXW6YTBOI'],
    ['German ß (upper-cases to SS)', 'MZXW6YTB\u00DF'],
    ['dotless ı (upper-cases to I)', 'MZXW6YTBO\u0131'],
    ['long s ſ (upper-cases to S)', 'MZXW6YTB\u017FA'],
    ['ligature ﬀ (upper-cases to FF)', 'MZXW6YTB\uFB00'],
    ['Kelvin sign', 'MZXW6YTB\u212AA'],
  ])('rejects %s with ERR_BASE32_CHAR', (_name, input) => {
    expectOtpkitError(() => decodeBase32(input, { loose: true }), 'ERR_BASE32_CHAR');
  });

  it('still rejects non-canonical, padding and length errors', () => {
    expectOtpkitError(() => decodeBase32('mzxw6yr=', { loose: true }), 'ERR_BASE32_NONCANONICAL');
    expectOtpkitError(() => decodeBase32('mzxw6yq==', { loose: true }), 'ERR_BASE32_PADDING');
    expectOtpkitError(() => decodeBase32('mz=xw6yq', { loose: true }), 'ERR_BASE32_PADDING');
    expectOtpkitError(() => decodeBase32('mzx', { loose: true }), 'ERR_BASE32_LENGTH');
  });

  it('loose: false is the strict decoder', () => {
    expectOtpkitError(() => decodeBase32('mzxw6ytboi', { loose: false }), 'ERR_BASE32_CHAR');
  });
});

describe("ignoreTrailingBits: non-zero pad bits (RFC 4648 §3.5), for importing other tools' secrets", () => {
  const lax = { ignoreTrailingBits: true } as const;

  it('decodes every vendored row to the bytes pyotp and oathtool agree on', () => {
    expect(trailing.accepted.length).toBeGreaterThanOrEqual(20);
    for (const row of trailing.accepted) {
      expectOtpkitError(() => decodeBase32(row.base32), 'ERR_BASE32_NONCANONICAL');
      const bytes = decodeBase32(row.base32, lax);
      expect(toHex(bytes), row.base32).toBe(row.hex);
      // The canonical text is what encodeBase32 gives, and it decodes strictly to the same bytes.
      expect(encodeBase32(bytes)).toBe(row.canonical);
      expect(decodeBase32(row.canonical)).toEqual(fromHex(row.hex));
      expect(decodeBase32(row.base32.toLowerCase(), { ...lax, loose: true })).toEqual(bytes);
    }
  });

  it('JBSWY3DPEHPK3PX: 75 bits, 9 bytes, the last 3 bits dropped', () => {
    expectOtpkitError(() => decodeBase32('JBSWY3DPEHPK3PX'), 'ERR_BASE32_NONCANONICAL');
    expect(toHex(decodeBase32('JBSWY3DPEHPK3PX', lax))).toBe('48656c6c6f21deadbe');
    expect(decodeBase32('MZXW6YR=', lax)).toEqual(ascii('foob'));
    expect(decodeBase32('MZ', lax)).toEqual(ascii('f'));
  });

  it('every pad-bit pattern of every length class decodes to the canonical bytes', () => {
    // Unpadded length mod 8 → number of pad bits: 2 → 2, 4 → 4, 5 → 1, 7 → 3.
    for (const [n, padBits] of [
      [1, 2],
      [2, 4],
      [3, 1],
      [4, 3],
      [6, 2],
      [16, 2],
      [20, 0],
    ] as const) {
      const bytes = seededBytes(n, n + 10);
      const canonical = encodeBase32(bytes);
      const last = ALPHABET.indexOf(canonical.at(-1) as string);
      expect(last & ((1 << padBits) - 1)).toBe(0);
      for (let bits = 0; bits < 1 << padBits; bits++) {
        const text = canonical.slice(0, -1) + (ALPHABET[last | bits] as string);
        expect(decodeBase32(text, lax)).toEqual(bytes);
        expect(decodeBase32(text + '='.repeat((8 - (text.length % 8)) % 8), lax)).toEqual(bytes);
        if (bits !== 0) expectOtpkitError(() => decodeBase32(text), 'ERR_BASE32_NONCANONICAL');
      }
    }
  });

  it('still refuses the lengths both peers refuse (≡ 1, 3, 6 mod 8), and everything else strict refuses', () => {
    expect(trailing.refused.length).toBeGreaterThanOrEqual(5);
    for (const row of trailing.refused) {
      expect([1, 3, 6]).toContain(row.lengthMod8);
      expectOtpkitError(() => decodeBase32(row.base32, lax), 'ERR_BASE32_LENGTH');
      expectOtpkitError(
        () => decodeBase32(row.base32.toLowerCase(), { ...lax, loose: true }),
        'ERR_BASE32_LENGTH',
      );
    }
    expectOtpkitError(() => decodeBase32('MZXW6YQ==', lax), 'ERR_BASE32_PADDING');
    expectOtpkitError(() => decodeBase32('MZ=XW6YQ', lax), 'ERR_BASE32_PADDING');
    expectOtpkitError(() => decodeBase32('MZXW1YQ=', lax), 'ERR_BASE32_CHAR');
    expectOtpkitError(() => decodeBase32('mzxw6yr=', lax), 'ERR_BASE32_CHAR');
  });

  it('ignoreTrailingBits: false is the strict decoder; a non-boolean is misuse', () => {
    expectOtpkitError(
      () => decodeBase32('MZXW6YR=', { ignoreTrailingBits: false }),
      'ERR_BASE32_NONCANONICAL',
    );
    expect(() => decodeBase32('MY', { ignoreTrailingBits: 1 } as never)).toThrow(TypeError);
    expect(() => decodeBase32('MY', { ignoreTrailingBits: 'yes' } as never)).toThrow(
      /"ignoreTrailingBits"/,
    );
    expect(() => decodeBase32('MY', { ignoreTrailingbits: true } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_OPTION_UNKNOWN' }),
    );
  });
});

describe('encoder', () => {
  it('is unpadded by default and padded on request', () => {
    expect(encodeBase32(ascii('f'))).toBe('MY');
    expect(encodeBase32(ascii('f'), { padding: true })).toBe('MY======');
    expect(encodeBase32(new Uint8Array(0), { padding: true })).toBe('');
  });
  it('emits no line feeds for long input', () => {
    const out = encodeBase32(new Uint8Array(10_000));
    expect(out).toMatch(/^A+$/);
    expect(out).toHaveLength(16_000);
  });
  it('only emits A–Z2–7 and =', () => {
    expect(encodeBase32(seededBytes(999, 3), { padding: true })).toMatch(/^[A-Z2-7]{1599}=$/);
  });
  it('accepts a subarray view (byteOffset ≠ 0)', () => {
    const buf = ascii('xxfoobarxx');
    expect(encodeBase32(buf.subarray(2, 8))).toBe('MZXW6YTBOI');
  });
});

describe('misuse', () => {
  it.each([[123], [null], [undefined], [{}], [['MZXW6YQ=']], [ascii('MZXW6YQ=')]])(
    'decodeBase32(%j) throws TypeError',
    (v) => {
      expect(() => decodeBase32(v as unknown as string)).toThrow(TypeError);
      expect(() => decodeBase32(v as unknown as string)).toThrow(/"text"/);
    },
  );
  it.each([['MZXW6YQ='], [123], [null], [[1, 2, 3]], [new ArrayBuffer(4)]])(
    'encodeBase32(%j) throws TypeError',
    (v) => {
      expect(() => encodeBase32(v as unknown as Uint8Array)).toThrow(TypeError);
      expect(() => encodeBase32(v as unknown as Uint8Array)).toThrow(/"bytes"/);
    },
  );
  it('rejects unknown and mistyped options', () => {
    expect(() => decodeBase32('MY', { lose: true } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_OPTION_UNKNOWN' }),
    );
    expect(() => decodeBase32('MY', { loose: 'yes' } as never)).toThrow(TypeError);
    expect(() => encodeBase32(ascii('f'), { pad: true } as never)).toThrow(RangeError);
    expect(() => encodeBase32(ascii('f'), { padding: 1 } as never)).toThrow(TypeError);
    expect(() => decodeBase32('MY', 'loose' as never)).toThrow(TypeError);
  });
});

describe('robustness ([RFC4648] §12: never crash)', () => {
  it('NUL bytes in every position', () => {
    const valid = 'MZXW6YTBOI======';
    for (let i = 0; i <= valid.length; i++) {
      const s = valid.slice(0, i) + '\u0000' + valid.slice(i);
      expectOtpkitError(() => decodeBase32(s), 'ERR_BASE32_CHAR');
      expectOtpkitError(() => decodeBase32(s, { loose: true }), 'ERR_BASE32_CHAR');
    }
  });

  it('1 MB random strings throw only OtpkitError, quickly', () => {
    const n = 1 << 20;
    const rnd = seededBytes(n * 2, 4);
    const units = new Uint16Array(rnd.buffer, rnd.byteOffset, n);
    let s = '';
    for (let i = 0; i < n; i += 8192) s += String.fromCharCode(...units.subarray(i, i + 8192));
    const asciiOnly = Array.from(seededBytes(n, 5), (b) => String.fromCharCode(b & 0x7f)).join('');
    const start = performance.now();
    for (const input of [s, asciiOnly]) {
      for (const loose of [false, true]) {
        expect(() => decodeBase32(input, { loose })).toThrow(OtpkitError);
      }
    }
    expect(performance.now() - start).toBeLessThan(5000);
  });

  it('1 MB of valid base32 decodes exactly', () => {
    const bytes = seededBytes(655_360, 6);
    const text = encodeBase32(bytes);
    expect(text.length).toBe(1_048_576);
    // A plain loop (no Buffer, which a Worker without Node.js compatibility lacks): a deep
    // toEqual over 655 360 elements takes seconds.
    const same = (a: Uint8Array, b: Uint8Array): boolean =>
      a.length === b.length && a.every((x, i) => x === b[i]);
    expect(same(decodeBase32(text), bytes)).toBe(true);
    expect(same(decodeBase32(text.toLowerCase(), { loose: true }), bytes)).toBe(true);
  });

  it('1 MB of padding or of a repeated valid character', () => {
    expectOtpkitError(() => decodeBase32('='.repeat(1 << 20)), 'ERR_BASE32_PADDING');
    const zeros = decodeBase32('A'.repeat(1 << 20));
    expect(zeros.length).toBe(655_360);
    expect(zeros.every((b) => b === 0)).toBe(true);
    expectOtpkitError(() => decodeBase32('B'.repeat((1 << 20) + 2)), 'ERR_BASE32_NONCANONICAL');
  });
});
