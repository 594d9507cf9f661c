/**
 * TOTP verification across algorithms and code lengths: SHA-1/256/512 × 6/8 digits, window ±1
 * (3 steps) against ±10 (21 steps), with a node:crypto baseline that does the same work the
 * obvious way (createHmac per step, timingSafeEqual on every step, no early exit).
 * Run with `npx vitest bench --run bench/verify.bench.ts`.
 *
 * Tokens: a wrong token (well-formed, matching no step within ±10) is the brute-force path and
 * the cost of every failed guess; a correct one costs otpkit the same, since every step is
 * computed and compared whatever the outcome.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { bench, describe } from 'vitest';
import { generateTOTP, verifyTOTP, type HashAlgorithm } from '../src/index.js';

const NOW = 1_700_000_000_000;
const STEP = Math.floor(NOW / 30_000);
const NODE_NAME = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' } as const;
const KEY_LENGTH = { SHA1: 20, SHA256: 32, SHA512: 64 } as const;
const keyFor = (n: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);

/** The node:crypto baseline: every step of ±window, each compared in constant time. */
function nodeVerify(
  node: string,
  key: Uint8Array,
  token: string,
  window: number,
  digits: number,
): boolean {
  const want = Buffer.from(token);
  const msg = Buffer.alloc(8);
  let found = false;
  for (let d = -window; d <= window; d++) {
    msg.writeBigUInt64BE(BigInt(STEP + d));
    const mac = createHmac(node, key).update(msg).digest();
    const v = mac.readUInt32BE((mac[mac.length - 1] as number) & 0xf) & 0x7fff_ffff;
    const hit = timingSafeEqual(Buffer.from(String(v % 10 ** digits).padStart(digits, '0')), want);
    found = found || hit;
  }
  return found;
}

/** A well-formed token that no step within ±10 produces. */
function wrongToken(key: Uint8Array, algorithm: HashAlgorithm, digits: number): string {
  const codes = new Set<string>();
  for (let d = -10; d <= 10; d++)
    codes.add(generateTOTP(key, { algorithm, digits, now: NOW + d * 30_000 }));
  let n = 0;
  while (codes.has(String(n).padStart(digits, '0'))) n++;
  return String(n).padStart(digits, '0');
}

// Results flow into a sink so nothing is dead code.
let sink = 0;

/** SHA-1/256/512 × 6/8 digits. */
const CASES: ReadonlyArray<{ algorithm: HashAlgorithm; digits: number }> = (
  ['SHA1', 'SHA256', 'SHA512'] as const
).flatMap((algorithm) => [6, 8].map((digits) => ({ algorithm, digits })));

for (const { algorithm, digits } of CASES) {
  const key = keyFor(KEY_LENGTH[algorithm]);
  const node = NODE_NAME[algorithm];
  const good = generateTOTP(key, { algorithm, digits, now: NOW });
  const wrong = wrongToken(key, algorithm, digits);
  for (const w of [1, 10]) {
    if (
      !verifyTOTP(key, good, { algorithm, digits, now: NOW, window: w }).ok ||
      !nodeVerify(node, key, good, w, digits)
    )
      throw new Error(`${algorithm}/${digits}: the correct token is rejected (window ${w})`);
    if (
      verifyTOTP(key, wrong, { algorithm, digits, now: NOW, window: w }).ok ||
      nodeVerify(node, key, wrong, w, digits)
    )
      throw new Error(`${algorithm}/${digits}: the wrong token is accepted (window ${w})`);
  }

  describe(`verifyTOTP ${algorithm}, ${digits} digits: window ±1 (3 steps) vs ±10 (21 steps)`, () => {
    bench('otpkit, wrong token, window 1', () => {
      sink ^= verifyTOTP(key, wrong, { algorithm, digits, now: NOW, window: 1 }).ok ? 1 : 0;
    });
    bench('otpkit, correct token, window 1', () => {
      sink ^= verifyTOTP(key, good, { algorithm, digits, now: NOW, window: 1 }).ok ? 1 : 0;
    });
    bench('otpkit, wrong token, window 10', () => {
      sink ^= verifyTOTP(key, wrong, { algorithm, digits, now: NOW, window: 10 }).ok ? 1 : 0;
    });
    bench('baseline: node:crypto, wrong token, window 1', () => {
      sink ^= nodeVerify(node, key, wrong, 1, digits) ? 1 : 0;
    });
    bench('baseline: node:crypto, wrong token, window 10', () => {
      sink ^= nodeVerify(node, key, wrong, 10, digits) ? 1 : 0;
    });
  });
}

export { sink };
