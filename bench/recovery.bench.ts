/**
 * Recovery codes: the cost of one redemption attempt (one scrypt, whatever the set size), of
 * issuing a set, and of scrypt itself at logN 12..16 (the figures behind the default logN 13).
 */
import { scrypt, scryptAsync } from '@noble/hashes/scrypt';
import { bench, describe } from 'vitest';
import { generateRecoveryCodes } from '../src/recovery/codes.js';
import {
  hashRecoveryCodeSet,
  hashRecoveryCodeSetAsync,
  matchRecoveryCode,
  matchRecoveryCodeAsync,
} from '../src/recovery/set.js';

// Slow cases: a few iterations are enough and keep `npm run bench` short.
const SLOW = { iterations: 5, time: 0, warmupIterations: 1, warmupTime: 0 } as const;

let sink = 0;

const codes = generateRecoveryCodes();
const stored = hashRecoveryCodeSet(codes); // default parameters: logN 13, r 8, p 1
const wrong = generateRecoveryCodes({ count: 1 })[0]!;

describe('redemption attempt: matchRecoveryCode against a 10-code set (defaults)', () => {
  bench(
    'right code (sync)',
    () => {
      sink ^= matchRecoveryCode(codes[7]!, stored)?.length ?? 0;
    },
    SLOW,
  );
  bench(
    'wrong code (sync)',
    () => {
      sink ^= matchRecoveryCode(wrong, stored)?.length ?? 0;
    },
    SLOW,
  );
  bench(
    'right code (async)',
    async () => {
      sink ^= (await matchRecoveryCodeAsync(codes[7]!, stored))?.length ?? 0;
    },
    SLOW,
  );
  bench('malformed code (rejected before hashing)', () => {
    sink ^= matchRecoveryCode('K7QM-4X2P-9D3R-TB8U', stored)?.length ?? 0;
  });
});

describe('issuing a set', () => {
  bench('generateRecoveryCodes() — 10 × 80 bits', () => {
    sink ^= generateRecoveryCodes().length;
  });
  bench(
    'hashRecoveryCodeSet(10 codes) at the defaults (10 scrypts)',
    () => {
      sink ^= hashRecoveryCodeSet(codes).length;
    },
    { ...SLOW, iterations: 3 },
  );
  bench(
    'hashRecoveryCodeSetAsync(10 codes) at the defaults',
    async () => {
      sink ^= (await hashRecoveryCodeSetAsync(codes)).length;
    },
    { ...SLOW, iterations: 3 },
  );
});

describe('scrypt (noble) cost by logN, r = 8, p = 1, 32-byte output: one hash', () => {
  const pw = new TextEncoder().encode('K7QM4X2P9D3RTB8W');
  const salt = new Uint8Array(16).fill(7);
  for (const logN of [12, 13, 14, 15, 16]) {
    const opts = { N: 2 ** logN, r: 8, p: 1, dkLen: 32 };
    const o = logN >= 15 ? { ...SLOW, iterations: 3 } : SLOW;
    bench(
      `logN ${logN} sync`,
      () => {
        sink ^= scrypt(pw, salt, opts)[0]!;
      },
      o,
    );
    bench(
      `logN ${logN} async`,
      async () => {
        sink ^= (await scryptAsync(pw, salt, opts))[0]!;
      },
      o,
    );
  }
});

export { sink };
