import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { hmac } from '@noble/hashes/hmac';
import { sha1 } from '@noble/hashes/sha1';
import { sha256, sha512 } from '@noble/hashes/sha2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HMAC_LENGTH,
  hmacCounter,
  prepareKey,
  truncatedHmac,
  truncatedHmacOnce,
} from '../src/_hmac.js';
import type { HashAlgorithm } from '../src/hotp.js';

const ALGORITHMS: readonly HashAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];
const NODE_NAME = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' } as const;
const NOBLE = { SHA1: sha1, SHA256: sha256, SHA512: sha512 } as const;

function counterBytes(hi: number, lo: number): Uint8Array {
  const m = new Uint8Array(8);
  const view = new DataView(m.buffer);
  view.setUint32(0, hi);
  view.setUint32(4, lo);
  return m;
}

function nodeHmac(algorithm: HashAlgorithm, key: Uint8Array, hi: number, lo: number): Uint8Array {
  return new Uint8Array(
    createHmac(NODE_NAME[algorithm], key).update(counterBytes(hi, lo)).digest(),
  );
}

/** RFC 4226 §5.3 dynamic truncation, written independently over bytes. */
function truncate(mac: Uint8Array): number {
  const off = mac[mac.length - 1]! & 0x0f;
  return ((mac[off]! & 0x7f) << 24) | (mac[off + 1]! << 16) | (mac[off + 2]! << 8) | mac[off + 3]!;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const u32 = fc.oneof(
  fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff),
  fc.integer({ min: 0, max: 0xffffffff }),
);
// Lengths straddling both block sizes (64 and 128) and the hashed-key boundary exactly.
const keyArb = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 200 }),
  fc
    .constantFrom(0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 200)
    .chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
);

describe('_hmac against node:crypto and @noble/hashes', () => {
  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: hmacCounter and truncatedHmac match for random keys and counters`, () => {
      fc.assert(
        fc.property(keyArb, u32, u32, (key, hi, lo) => {
          const prepared = prepareKey(algorithm, key);
          const expected = nodeHmac(algorithm, key, hi, lo);
          const got = hmacCounter(prepared, hi, lo);
          expect(got.length).toBe(HMAC_LENGTH[algorithm]);
          expect(hex(got)).toBe(hex(expected));
          expect(hex(got)).toBe(hex(hmac(NOBLE[algorithm], key, counterBytes(hi, lo))));
          const t = truncatedHmac(prepared, hi, lo);
          expect(t).toBe(truncate(expected));
          expect(t).toBeGreaterThanOrEqual(0);
          expect(Number.isInteger(t)).toBe(true);
          // The one-shot form (generation) gives the same value without a PreparedKey.
          expect(truncatedHmacOnce(algorithm, key, hi, lo)).toBe(t);
        }),
        { numRuns: 1500 },
      );
    });
  }

  it("hashes very long keys (many blocks) and leaves the caller's key untouched", () => {
    for (const algorithm of ALGORITHMS) {
      for (const n of [255, 256, 1000, 4096]) {
        const key = new Uint8Array(n).map((_, i) => (i * 131 + n) & 0xff);
        const copy = key.slice();
        const prepared = prepareKey(algorithm, key);
        expect(key).toEqual(copy);
        expect(hex(hmacCounter(prepared, 0x01020304, 0xfffffffe))).toBe(
          hex(nodeHmac(algorithm, key, 0x01020304, 0xfffffffe)),
        );
      }
    }
  });

  it('HMAC_LENGTH is 20/32/64', () => {
    expect(HMAC_LENGTH).toEqual({ SHA1: 20, SHA256: 32, SHA512: 64 });
  });

  it('rejects an unknown algorithm', () => {
    expect(() => prepareKey('MD5' as HashAlgorithm, new Uint8Array(20))).toThrow(RangeError);
    expect(() => truncatedHmacOnce('MD5' as HashAlgorithm, new Uint8Array(20), 0, 0)).toThrow(
      RangeError,
    );
  });

  it('does not depend on the key buffer after preparation', () => {
    const key = new Uint8Array(20).fill(7);
    const prepared = prepareKey('SHA1', key);
    const before = hex(hmacCounter(prepared, 0, 42));
    key.fill(0);
    expect(hex(hmacCounter(prepared, 0, 42))).toBe(before);
  });
});

describe('RFC 4226 Appendix D', () => {
  const secret = new TextEncoder().encode('12345678901234567890');
  const hmacs = [
    'cc93cf18508d94934c64b65d8ba7667fb7cde4b0',
    '75a48a19d4cbe100644e8ac1397eea747a2d33ab',
    '0bacb7fa082fef30782211938bc1c5e70416ff44',
    '66c28227d03a2d5529262ff016a1e6ef76557ece',
    'a904c900a64b35909874b33e61c5938a8e15ed1c',
    'a37e783d7b7233c083d4f62926c7a25f238d0316',
    'bc9cd28561042c83f219324d3c607256c03272ae',
    'a4fb960c0bc06e1eabb804e5b397cdc4b45596fa',
    '1b3c89f65e6c9e883012052823443f048b4332db',
    '1637409809a679dc698207310c8c7fc07290d9e5',
  ];
  const truncated = [
    1284755224, 1094287082, 137359152, 1726969429, 1640338314, 868254676, 1918287922, 82162583,
    673399871, 645520489,
  ];
  const key = prepareKey('SHA1', secret);
  for (let c = 0; c < 10; c++) {
    it(`counter ${c}`, () => {
      expect(hex(hmacCounter(key, 0, c))).toBe(hmacs[c]);
      expect(truncatedHmac(key, 0, c)).toBe(truncated[c]);
      expect(truncatedHmac(key, 0, c) % 1_000_000).toBe(truncated[c]! % 1_000_000);
    });
  }
});

describe('scratch state does not leak between calls', () => {
  it('interleaved counters and interleaved keys of different algorithms', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...ALGORITHMS), fc.uint8Array({ maxLength: 150 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(fc.tuple(fc.nat(), u32, u32), { minLength: 1, maxLength: 30 }),
        (keys, calls) => {
          const prepared = keys.map(([a, k]) => prepareKey(a, k));
          for (const [pick, hi, lo] of calls) {
            const i = pick % keys.length;
            const [algorithm, raw] = keys[i]!;
            const expected = nodeHmac(algorithm, raw, hi, lo);
            // Alternate the two entry points so each runs right after the other on a different key.
            if (pick & 1) {
              expect(truncatedHmac(prepared[i]!, hi, lo)).toBe(truncate(expected));
              expect(hex(hmacCounter(prepared[i]!, hi, lo))).toBe(hex(expected));
            } else {
              expect(hex(hmacCounter(prepared[i]!, hi, lo))).toBe(hex(expected));
              expect(truncatedHmac(prepared[i]!, hi, lo)).toBe(truncate(expected));
            }
            // Preparing another key, or a one-shot HMAC on one, in between must not disturb prepared ones.
            if (pick % 3 === 0) prepareKey(algorithm, raw);
            if (pick % 5 === 0)
              expect(truncatedHmacOnce(algorithm, raw, lo, hi)).toBe(
                truncate(nodeHmac(algorithm, raw, lo, hi)),
              );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the same counter twice in a row, and after other counters, gives the same value', () => {
    for (const algorithm of ALGORITHMS) {
      const key = prepareKey(
        algorithm,
        new Uint8Array(32).map((_, i) => i * 7 + 1),
      );
      const first = hex(hmacCounter(key, 1, 2));
      truncatedHmac(key, 0xffffffff, 0xffffffff);
      hmacCounter(key, 0, 0);
      expect(hex(hmacCounter(key, 1, 2))).toBe(first);
      expect(hex(hmacCounter(key, 1, 2))).toBe(first);
    }
  });
});

describe('PreparedKey does not leak its states', () => {
  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: JSON.stringify, String, inspect and enumeration show nothing`, () => {
      const raw = new Uint8Array(20).fill(0xab);
      const key = prepareKey(algorithm, raw);
      // Exact equality: nothing derived from the key (the states, in any encoding) can appear.
      expect(JSON.stringify(key)).toBe('"[PreparedKey]"');
      expect(JSON.stringify({ key })).toBe('{"key":"[PreparedKey]"}');
      expect(String(key)).toBe('[PreparedKey]');
      expect(`${key}`).toBe('[PreparedKey]');
      expect(inspect(key)).toBe('[PreparedKey]');
      expect(inspect({ key }, { showHidden: true, depth: 5 })).toBe('{ key: [PreparedKey] }');
      // Even bypassing the custom inspector, the private state field is not printed.
      const bare = inspect(key, { customInspect: false, showHidden: true, depth: 5 });
      expect(bare).not.toMatch(/Int32Array|state/);
      expect(bare).not.toMatch(/-?\d{6,}/);
      // Nothing but the algorithm is reachable as a property.
      expect(Object.keys(key)).toEqual(['algorithm']);
      expect(Object.getOwnPropertyNames(key)).toEqual(['algorithm']);
      expect(Object.getOwnPropertySymbols(key)).toEqual([]);
      expect({ ...key }).toEqual({ algorithm });
      expect(structuredClone(key)).toEqual({ algorithm });
    });
  }
});
