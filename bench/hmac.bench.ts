/**
 * HMAC over the 8-byte counter message: otpkit's prepared-key hot path, its one-shot path and its
 * key preparation, against node:crypto and @noble/hashes doing the same HMAC.
 * Run with `npx vitest bench --run bench/hmac.bench.ts`.
 */
import { createHmac } from 'node:crypto';
import { hmac } from '@noble/hashes/hmac';
import { sha1 } from '@noble/hashes/sha1';
import { sha256, sha512 } from '@noble/hashes/sha2';
import { bench, describe } from 'vitest';
import { prepareKey, truncatedHmac, truncatedHmacOnce } from '../src/_hmac.js';
import type { HashAlgorithm } from '../src/hotp.js';

const CASES = [
  { algorithm: 'SHA1', node: 'sha1', noble: sha1, keyLength: 20 },
  { algorithm: 'SHA256', node: 'sha256', noble: sha256, keyLength: 32 },
  { algorithm: 'SHA512', node: 'sha512', noble: sha512, keyLength: 64 },
] as const satisfies readonly {
  algorithm: HashAlgorithm;
  node: string;
  noble: unknown;
  keyLength: number;
}[];

// Vary the counter so nothing can be hoisted; keep a sink so results are observably used.
let sink = 0;

for (const { algorithm, node, noble, keyLength } of CASES) {
  const key = new Uint8Array(keyLength).map((_, i) => (i * 31 + 7) & 0xff);
  const prepared = prepareKey(algorithm, key);
  const msg = new Uint8Array(8);
  let counter = 0;

  describe(`HMAC-${algorithm} over an 8-byte counter`, () => {
    bench('otpkit truncatedHmac (prepared key)', () => {
      sink ^= truncatedHmac(prepared, 0, counter++ >>> 0);
    });
    bench('otpkit prepareKey + truncatedHmac', () => {
      sink ^= truncatedHmac(prepareKey(algorithm, key), 0, counter++ >>> 0);
    });
    bench('otpkit truncatedHmacOnce (one-shot, as generation runs it)', () => {
      sink ^= truncatedHmacOnce(algorithm, key, 0, counter++ >>> 0);
    });
    bench('node:crypto createHmac().update().digest()', () => {
      msg[7] = counter++;
      sink ^= createHmac(node, key).update(msg).digest()[0]!;
    });
    bench('@noble/hashes hmac()', () => {
      msg[7] = counter++;
      sink ^= hmac(noble, key, msg)[0]!;
    });
  });
}

export { sink };
