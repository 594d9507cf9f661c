/** HOTP generation (RFC 4226) boundaries, and secret generation (RFC 4226 §4 R6, §7.5; RFC 6238 §5.1). */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeBase32, generateHOTP, generateSecret, type HashAlgorithm } from '../src/index.js';
import { fromHex, refHOTP } from './fixtures/reference-hotp.js';
import { codeOf, thrown } from './_helpers.js';

const RFC_SEED = new TextEncoder().encode('12345678901234567890');
const MAX_U64 = 2n ** 64n - 1n;
const ALGS: HashAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];

describe('generateHOTP counters', () => {
  it('counter 0 as number and bigint', () => {
    expect(generateHOTP(RFC_SEED, 0)).toBe('755224');
    expect(generateHOTP(RFC_SEED, 0n)).toBe('755224');
    expect(generateHOTP(RFC_SEED, -0)).toBe('755224');
  });

  it('counter 2^64−1 as bigint matches node:crypto for every algorithm and digit count', () => {
    for (const algorithm of ALGS)
      for (const digits of [6, 7, 8])
        expect(generateHOTP(RFC_SEED, MAX_U64, { algorithm, digits })).toBe(
          refHOTP(algorithm, RFC_SEED, MAX_U64, digits),
        );
  });

  it('counter 2^53−1 as number equals the bigint form and node:crypto', () => {
    const n = Number.MAX_SAFE_INTEGER;
    expect(generateHOTP(RFC_SEED, n)).toBe(generateHOTP(RFC_SEED, BigInt(n)));
    expect(generateHOTP(RFC_SEED, n, { digits: 8 })).toBe(refHOTP('SHA1', RFC_SEED, BigInt(n), 8));
  });

  it('counter 2^53 as number throws TypeError ERR_COUNTER_TYPE and suggests bigint; as bigint it works', () => {
    const e = thrown(() => generateHOTP(RFC_SEED, 2 ** 53));
    expect(e).toBeInstanceOf(TypeError);
    expect(codeOf(e)).toBe('ERR_COUNTER_TYPE');
    expect((e as Error).message).toMatch(/"counter"/);
    expect((e as Error).message).toMatch(/bigint/);
    expect(generateHOTP(RFC_SEED, 2n ** 53n)).toBe(refHOTP('SHA1', RFC_SEED, 2n ** 53n, 6));
  });

  it('2^64 is out of range; 2^64−1 is not', () => {
    const e = thrown(() => generateHOTP(RFC_SEED, 2n ** 64n));
    expect(e).toBeInstanceOf(RangeError);
    expect(codeOf(e)).toBe('ERR_COUNTER_RANGE');
    expect(() => generateHOTP(RFC_SEED, MAX_U64)).not.toThrow();
  });

  it('32-bit edges (2^31−1, 2^31, 2^32−1, 2^32, 2^32+1) are never truncated', () => {
    const edges = [2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 48 + 7];
    const codes = new Set<string>();
    for (const c of edges) {
      const ours = generateHOTP(RFC_SEED, c, { digits: 8 });
      expect(ours).toBe(refHOTP('SHA1', RFC_SEED, c, 8));
      expect(generateHOTP(RFC_SEED, BigInt(c), { digits: 8 })).toBe(ours);
      codes.add(ours);
    }
    // 2^32 must not alias 0, nor 2^32+1 alias 1 (a 32-bit truncation bug).
    expect(generateHOTP(RFC_SEED, 2 ** 32)).not.toBe(generateHOTP(RFC_SEED, 0));
    expect(generateHOTP(RFC_SEED, 2n ** 63n)).toBe(refHOTP('SHA1', RFC_SEED, 2n ** 63n, 6));
    expect(generateHOTP(RFC_SEED, 2n ** 63n)).not.toBe(generateHOTP(RFC_SEED, 0));
  });

  it('the high counter half is honoured for values past 2^53', () => {
    for (const c of [2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n + 1n, 0xdead_beef_cafe_f00dn])
      expect(generateHOTP(RFC_SEED, c, { digits: 8, algorithm: 'SHA256' })).toBe(
        refHOTP('SHA256', RFC_SEED, c, 8),
      );
  });
});

describe('generateHOTP digits', () => {
  it('6, 7 and 8 digits are suffixes of the same truncated value', () => {
    for (let c = 0; c < 50; c++) {
      const d8 = generateHOTP(RFC_SEED, c, { digits: 8 });
      expect(d8).toMatch(/^\d{8}$/);
      expect(generateHOTP(RFC_SEED, c, { digits: 7 })).toBe(d8.slice(1));
      expect(generateHOTP(RFC_SEED, c)).toBe(d8.slice(2));
    }
  });

  it('keeps leading zeros: 07081804 (RFC 6238 T=0x23523EC)', () => {
    expect(generateHOTP(RFC_SEED, 0x23523ec, { digits: 8 })).toBe('07081804');
    expect(generateHOTP(RFC_SEED, 0x23523ec, { digits: 7 })).toBe('7081804');
    expect(generateHOTP(RFC_SEED, 0x23523ec)).toBe('081804');
  });

  it('keeps leading zeros for 6, 7 and 8 digits (searched against node:crypto)', () => {
    for (const digits of [6, 7, 8]) {
      let found = 0;
      for (let c = 0; c < 400 && found < 3; c++) {
        const ref = refHOTP('SHA1', RFC_SEED, c, digits);
        if (!ref.startsWith('0')) continue;
        found++;
        const ours = generateHOTP(RFC_SEED, c, { digits });
        expect(ours).toBe(ref);
        expect(ours).toHaveLength(digits);
      }
      expect(found).toBeGreaterThan(0);
    }
  });
});

describe('generateHOTP secrets', () => {
  it('16- and 256-byte secrets, and keys longer than the hash block size, match node:crypto', () => {
    for (const algorithm of ALGS)
      for (const len of [16, 20, 32, 63, 64, 65, 127, 128, 129, 200, 256]) {
        const key = new Uint8Array(randomBytes(len));
        for (const c of [0, 1, 2 ** 40, MAX_U64])
          expect(generateHOTP(key, c, { algorithm, digits: 8 })).toBe(
            refHOTP(algorithm, key, c, 8),
          );
      }
  });

  it('accepts a subarray view at a non-zero byte offset and does not mutate the secret', () => {
    const buf = new Uint8Array(40);
    buf.set(RFC_SEED, 7);
    const view = buf.subarray(7, 27);
    const before = buf.slice();
    expect(generateHOTP(view, 1)).toBe('287082');
    expect(buf).toEqual(before);
  });

  it('a Buffer works like a Uint8Array', () => {
    expect(generateHOTP(Buffer.from('12345678901234567890'), 3)).toBe('969429');
  });

  it('with allowInsecureShortSecret a 10-byte key (JBSWY3DPEHPK3PXP) works and matches node:crypto', () => {
    const key = fromHex('48656c6c6f21deadbeef');
    expect(encodeBase32(key)).toBe('JBSWY3DPEHPK3PXP');
    for (const c of [0, 1, 42])
      expect(generateHOTP(key, c, { allowInsecureShortSecret: true })).toBe(
        refHOTP('SHA1', key, c, 6),
      );
    expect(() => generateHOTP(key, 0)).toThrow(
      expect.objectContaining({ code: 'ERR_SECRET_TOO_SHORT' }),
    );
    expect(() => generateHOTP(key, 0, { allowInsecureShortSecret: false })).toThrow(RangeError);
  });
});

describe('generateSecret', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('defaults to the HMAC output length: 20/32/64 bytes', () => {
    expect(generateSecret()).toHaveLength(20);
    expect(generateSecret({})).toHaveLength(20);
    expect(generateSecret({ algorithm: 'SHA1' })).toHaveLength(20);
    expect(generateSecret({ algorithm: 'SHA256' })).toHaveLength(32);
    expect(generateSecret({ algorithm: 'SHA512' })).toHaveLength(64);
  });

  it('returns a plain Uint8Array usable with generateHOTP', () => {
    for (const algorithm of ALGS) {
      const s = generateSecret({ algorithm });
      expect(Object.getPrototypeOf(s)).toBe(Uint8Array.prototype);
      expect(generateHOTP(s, 0, { algorithm })).toBe(refHOTP(algorithm, s, 0, 6));
    }
  });

  it('length 16..256 is honoured', () => {
    for (const length of [16, 17, 20, 32, 64, 100, 128, 255, 256])
      expect(generateSecret({ length })).toHaveLength(length);
    expect(generateSecret({ algorithm: 'SHA512', length: 16 })).toHaveLength(16);
  });

  it.each([15, 257, 0, -1, 16.5, Number.NaN, Infinity, 1e9])(
    'length %s is rejected with RangeError',
    (length) => {
      const e = thrown(() => generateSecret({ length }));
      expect(e).toBeInstanceOf(RangeError);
      expect((e as Error).message).toMatch(/"length"/);
    },
  );

  it.each([['20'], [null], [20n], [{}]])(
    'length %s (wrong type) is rejected with TypeError',
    (length) => {
      const e = thrown(() => generateSecret({ length } as never));
      expect(e).toBeInstanceOf(TypeError);
      expect((e as Error).message).toMatch(/"length"/);
    },
  );

  it('differs across calls', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(encodeBase32(generateSecret()));
    expect(seen.size).toBe(200);
  });

  it('is not constant within a secret (sanity: not all bytes equal)', () => {
    const s = generateSecret({ length: 256 });
    expect(new Set(s).size).toBeGreaterThan(100);
  });

  it('draws from globalThis.crypto.getRandomValues', () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const s = generateSecret({ algorithm: 'SHA256' });
    expect(spy).toHaveBeenCalled();
    const filled = spy.mock.calls.map((c) => c[0] as Uint8Array);
    expect(filled.reduce((n, a) => n + a.byteLength, 0)).toBe(32);
    expect(s).toHaveLength(32);
  });

  it('returns exactly the bytes getRandomValues produced (no Math.random mixing)', () => {
    const mathSpy = vi.spyOn(Math, 'random');
    vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(
      <T extends ArrayBufferView | null>(a: T): T => {
        const u = a as unknown as Uint8Array;
        for (let i = 0; i < u.length; i++) u[i] = (i * 7 + 3) & 0xff;
        return a;
      },
    );
    const s = generateSecret({ length: 20 });
    expect(Array.from(s)).toEqual(Array.from({ length: 20 }, (_, i) => (i * 7 + 3) & 0xff));
    expect(mathSpy).not.toHaveBeenCalled();
  });

  it('rejects an unknown algorithm or option', () => {
    expect(() => generateSecret({ algorithm: 'MD5' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_OPTION_ALGORITHM' }),
    );
    expect(() => generateSecret({ lenght: 20 } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_OPTION_UNKNOWN' }),
    );
  });
});
