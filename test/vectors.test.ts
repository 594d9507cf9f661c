/** Known-answer tests: every row of vectors/*.json against otpkit and against node:crypto. */
import { describe, expect, it } from 'vitest';
import rfc4226 from '../vectors/rfc4226.json' with { type: 'json' };
import rfc6238 from '../vectors/rfc6238.json' with { type: 'json' };
import base32 from '../vectors/base32.json' with { type: 'json' };
import {
  decodeBase32,
  encodeBase32,
  generateHOTP,
  generateTOTP,
  timeStep,
  verifyTOTP,
} from '../src/index.js';
import {
  fromHex,
  refHmac,
  refHOTP,
  refTruncate,
  toHex,
  type RefAlgorithm,
} from './fixtures/reference-hotp.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('RFC 4226 Appendix D', () => {
  const secret = fromHex(rfc4226.secretHex);

  it('the secret is the ASCII seed and its base32 form decodes to it', () => {
    expect(secret).toEqual(ascii(rfc4226.secretAscii));
    expect(decodeBase32(rfc4226.secretBase32)).toEqual(secret);
    expect(encodeBase32(secret)).toBe(rfc4226.secretBase32);
  });

  it('has all 10 counts', () => {
    expect(rfc4226.vectors.map((v) => v.count)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  for (const v of rfc4226.vectors) {
    it(`count ${v.count}: HMAC, truncation and HOTP ${v.hotp}`, () => {
      // The vector itself, re-checked against node:crypto.
      const mac = refHmac('SHA1', secret, v.count);
      expect(toHex(mac)).toBe(v.hmacHex);
      const trunc = refTruncate(mac);
      expect(trunc).toBe(v.truncatedDec);
      expect(trunc.toString(16).padStart(8, '0')).toBe(v.truncatedHex);
      expect(String(trunc % 1e6).padStart(6, '0')).toBe(v.hotp);
      // otpkit, as number and bigint counters.
      expect(generateHOTP(secret, v.count)).toBe(v.hotp);
      expect(generateHOTP(secret, BigInt(v.count))).toBe(v.hotp);
      expect(generateHOTP(secret, v.count, { digits: 8 })).toBe(
        String(v.truncatedDec % 1e8).padStart(8, '0'),
      );
      expect(generateHOTP(secret, v.count, { digits: 7 })).toBe(
        String(v.truncatedDec % 1e7).padStart(7, '0'),
      );
    });
  }

  it('§5.4 example: offset 0xa, DBC 0x50ef7f19, HOTP 872921', () => {
    const ex = rfc4226.section54Example;
    const mac = fromHex(ex.hmacHex);
    expect((mac[mac.length - 1] as number) & 0xf).toBe(ex.offset);
    const dbc = refTruncate(mac);
    expect(dbc).toBe(ex.dbcDec);
    expect(dbc.toString(16)).toBe(ex.dbcHex);
    expect(String(dbc % 10 ** ex.digits).padStart(ex.digits, '0')).toBe(ex.hotp);
  });
});

describe('RFC 6238 Appendix B (Erratum 2866 seeds)', () => {
  it('has 18 rows, 6 per algorithm', () => {
    expect(rfc6238.vectors).toHaveLength(18);
    for (const a of ['SHA1', 'SHA256', 'SHA512'])
      expect(rfc6238.vectors.filter((v) => v.algorithm === a)).toHaveLength(6);
  });

  it('seed hex, ASCII, base32 and length agree', () => {
    for (const s of Object.values(rfc6238.seeds)) {
      const bytes = fromHex(s.hex);
      expect(bytes).toHaveLength(s.length);
      expect(bytes).toEqual(ascii(s.ascii));
      expect(decodeBase32(s.base32)).toEqual(bytes);
      expect(encodeBase32(bytes, { padding: true })).toBe(s.base32);
    }
  });

  for (const v of rfc6238.vectors) {
    const algorithm = v.algorithm as RefAlgorithm;
    it(`${v.algorithm} at ${v.time} s (${v.utc}): T=${v.tHex}, ${v.code}`, () => {
      const secret = fromHex(v.secretHex);
      expect(secret).toEqual(fromHex(rfc6238.seeds[algorithm].hex));
      const ms = v.time * 1000;
      // T
      expect(timeStep(ms)).toBe(parseInt(v.tHex, 16));
      expect(timeStep(ms).toString(16).toUpperCase().padStart(16, '0')).toBe(v.tHex);
      expect(new Date(ms).toISOString().replace('T', ' ').slice(0, 19)).toBe(v.utc);
      // Re-check the row against node:crypto.
      expect(refHOTP(algorithm, secret, BigInt('0x' + v.tHex), 8)).toBe(v.code);
      // otpkit: 8 digits, the 6-digit suffix, 7 digits, and as HOTP at T.
      expect(generateTOTP(secret, { algorithm, digits: 8, now: ms })).toBe(v.code);
      expect(generateTOTP(secret, { algorithm, now: ms })).toBe(v.code.slice(2));
      expect(generateTOTP(secret, { algorithm, digits: 7, now: ms })).toBe(v.code.slice(1));
      expect(generateTOTP(secret, { algorithm, digits: 8, now: new Date(ms) })).toBe(v.code);
      expect(generateHOTP(secret, BigInt('0x' + v.tHex), { algorithm, digits: 8 })).toBe(v.code);
      expect(verifyTOTP(secret, v.code, { algorithm, digits: 8, now: ms, window: 0 })).toEqual({
        ok: true,
        delta: 0,
        step: parseInt(v.tHex, 16),
      });
    });
  }

  it('T=1 with SHA1 equals HOTP count 1 of RFC 4226 (287082)', () => {
    const secret = fromHex(rfc6238.seeds.SHA1.hex);
    expect(generateTOTP(secret, { now: 59_000 })).toBe('287082');
    expect(rfc4226.vectors[1]?.hotp).toBe('287082');
  });

  describe('negative table: the 20-byte seed used for SHA256/SHA512', () => {
    it('has 12 rows', () => expect(rfc6238.negative).toHaveLength(12));
    for (const v of rfc6238.negative) {
      const algorithm = v.algorithm as RefAlgorithm;
      it(`${v.algorithm} at ${v.time}: ${v.code} only with the 20-byte key`, () => {
        const ms = v.time * 1000;
        const wrongKey = fromHex(v.secretHex);
        expect(wrongKey).toHaveLength(20);
        expect(refHOTP(algorithm, wrongKey, BigInt('0x' + v.tHex), 8)).toBe(v.code);
        // Deliberately given the 20-byte key, otpkit reproduces the bug's values...
        expect(generateTOTP(wrongKey, { algorithm, digits: 8, now: ms })).toBe(v.code);
        // ...and with the right seed it does not.
        const right = fromHex(rfc6238.seeds[algorithm].hex);
        expect(generateTOTP(right, { algorithm, digits: 8, now: ms })).not.toBe(v.code);
        expect(verifyTOTP(right, v.code, { algorithm, digits: 8, now: ms, window: 0 })).toEqual({
          ok: false,
          reason: 'invalid',
        });
      });
    }
  });
});

describe('RFC 4648 §10 base32', () => {
  for (const v of base32.vectors) {
    it(`"${v.ascii}" ⇄ ${v.padded || '""'} / ${v.unpadded || '""'}`, () => {
      const bytes = fromHex(v.hex);
      expect(bytes).toEqual(ascii(v.ascii));
      expect(encodeBase32(bytes, { padding: true })).toBe(v.padded);
      expect(encodeBase32(bytes)).toBe(v.unpadded);
      expect(encodeBase32(bytes, { padding: false })).toBe(v.unpadded);
      expect(decodeBase32(v.padded)).toEqual(bytes);
      expect(decodeBase32(v.unpadded)).toEqual(bytes);
      expect(Buffer.from(decodeBase32(v.padded)).toString('latin1')).toBe(v.ascii);
    });
  }

  it('Key-URI wiki example JBSWY3DPEHPK3PXP', () => {
    const k = base32.keyUriExample;
    const bytes = decodeBase32(k.base32);
    expect(toHex(bytes)).toBe(k.hex);
    expect(bytes).toHaveLength(10);
    expect(new TextDecoder().decode(bytes.subarray(0, 6))).toBe('Hello!');
    expect(encodeBase32(bytes)).toBe(k.base32);
  });

  for (const s of base32.nonCanonical) {
    it(`${s} is rejected as non-canonical`, () => {
      expect(() => decodeBase32(s)).toThrow(
        expect.objectContaining({ code: 'ERR_BASE32_NONCANONICAL' }),
      );
    });
  }
});
