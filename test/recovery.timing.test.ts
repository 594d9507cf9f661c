/**
 * A redemption attempt that passes the throttle costs the same whatever the user has: one hash of
 * the same parameters for a user with codes of any length, or with none, whatever was typed. Hashes
 * are counted on both backends (@noble/hashes and Node's thread-pool scrypt), so the proof does not
 * depend on which one a runtime uses.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { scrypt } from '@noble/hashes/scrypt';
import { createVerifier } from '../src/index.js';

vi.mock('@noble/hashes/scrypt', async (importOriginal) => {
  const real = await importOriginal<typeof import('@noble/hashes/scrypt')>();
  return { ...real, scrypt: vi.fn(real.scrypt) };
});

const nodeCrypto = process.getBuiltinModule('node:crypto') as typeof import('node:crypto');
const T = Date.UTC(2031, 5, 1);
let nodeScrypt: { mock: { calls: unknown[][] }; mockClear(): void };

beforeEach(() => {
  nodeScrypt = vi.spyOn(nodeCrypto, 'scrypt');
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Every scrypt evaluation since the last reset, with its cost N. */
function hashes(): number[] {
  const noble = vi.mocked(scrypt).mock.calls.map((c) => (c[2] as { N: number }).N);
  const node = nodeScrypt.mock.calls.map((c: unknown[]) => (c[3] as { N: number }).N);
  return [...noble, ...node];
}
function reset(): void {
  vi.mocked(scrypt).mockClear();
  nodeScrypt.mockClear();
}

describe('recovery-code redemption: no timing oracle', () => {
  it('one hash of the same cost for users with 64-bit codes, 80-bit codes or none, whatever is typed', async () => {
    const v = createVerifier({
      now: () => T,
      recoveryHash: { logN: 10 },
      throttle: { freeFailures: 100 },
    });
    await v.issueRecoveryCodes({ userId: 'short', bits: 64 });
    await v.issueRecoveryCodes({ userId: 'long' });
    // A 16-character and a 13-character well-formed guess, garbage, and nothing.
    const guesses = ['K7QM-4X2P-9D3R-TB8W', 'K7QM-4X2P-9D3R-T', 'not a code', ''];
    for (const userId of ['short', 'long', 'nobody'])
      for (const code of guesses) {
        reset();
        expect(await v.redeemRecoveryCode({ userId, code })).toEqual({
          ok: false,
          reason: 'invalid',
        });
        expect(hashes(), `${userId} / ${JSON.stringify(code)}`).toEqual([1024]);
      }
  });

  it('a throttled attempt costs no hash at all, for every user alike', async () => {
    const v = createVerifier({
      now: () => T,
      recoveryHash: { logN: 10 },
      throttle: { freeFailures: 1, baseDelayMs: 60_000 },
    });
    await v.issueRecoveryCodes({ userId: 'has' });
    for (const userId of ['has', 'none']) {
      await v.redeemRecoveryCode({ userId, code: 'K7QM-4X2P-9D3R-TB8W' });
      reset();
      expect(await v.redeemRecoveryCode({ userId, code: 'K7QM-4X2P-9D3R-TB8W' })).toMatchObject({
        reason: 'throttled',
      });
      expect(hashes()).toEqual([]);
    }
  });
});
