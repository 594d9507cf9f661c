/**
 * Code generation and verification: fixed, labelled cases with a node:crypto baseline
 * that does the same work the obvious way (createHmac per call, then RFC 4226 truncation).
 * Run with `npx vitest bench --run bench/generate.bench.ts`.
 */
import { createHmac } from 'node:crypto';
import { bench, describe } from 'vitest';
import {
  decodeBase32,
  encodeBase32,
  generateTOTP,
  verifyTOTP,
  type HashAlgorithm,
} from '../src/index.js';

const NOW = 1_700_000_000_000;
const NODE_NAME = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' } as const;
const KEY_LENGTH = { SHA1: 20, SHA256: 32, SHA512: 64 } as const;
const keyFor = (n: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);

/** The node:crypto baseline: a straightforward TOTP on createHmac. */
function nodeTOTP(node: string, key: Uint8Array, now: number, digits: number): string {
  const step = Math.floor(now / 30_000);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac(node, key).update(msg).digest();
  const offset = (mac[mac.length - 1] as number) & 0xf;
  const v = mac.readUInt32BE(offset) & 0x7fff_ffff;
  return String(v % 10 ** digits).padStart(digits, '0');
}

// Results flow into a sink so nothing is dead code.
let sink = 0;
let tick = 0;

/** SHA-1/256/512 × 6/8 digits. */
const CASES: ReadonlyArray<{ algorithm: HashAlgorithm; digits: number }> = (
  ['SHA1', 'SHA256', 'SHA512'] as const
).flatMap((algorithm) => [6, 8].map((digits) => ({ algorithm, digits })));

for (const { algorithm, digits } of CASES) {
  const key = keyFor(KEY_LENGTH[algorithm]);
  describe(`generateTOTP ${algorithm}, ${digits} digits`, () => {
    bench('otpkit generateTOTP', () => {
      sink ^= generateTOTP(key, { algorithm, digits, now: NOW + (tick++ & 1023) * 30_000 }).length;
    });
    bench('baseline: node:crypto createHmac + truncate', () => {
      sink ^= nodeTOTP(NODE_NAME[algorithm], key, NOW + (tick++ & 1023) * 30_000, digits).length;
    });
  });
}

describe('verifyTOTP SHA1, window 1 vs 10 (every step is computed: no early exit)', () => {
  const key = keyFor(20);
  const token = generateTOTP(key, { now: NOW });
  bench('window 1 (3 steps)', () => {
    sink ^= verifyTOTP(key, token, { now: NOW, window: 1 }).ok ? 1 : 0;
  });
  bench('window 10 (21 steps)', () => {
    sink ^= verifyTOTP(key, token, { now: NOW, window: 10 }).ok ? 1 : 0;
  });
});

for (const n of [20, 64]) {
  const text = encodeBase32(keyFor(n));
  describe(`decodeBase32, ${n}-byte secret (${text.length} chars)`, () => {
    bench('otpkit decodeBase32 (strict)', () => {
      sink ^= decodeBase32(text).length;
    });
    bench('otpkit decodeBase32 (loose)', () => {
      sink ^= decodeBase32(text, { loose: true }).length;
    });
  });
}

export { sink };
