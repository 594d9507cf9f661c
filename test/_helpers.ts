/**
 * The few helpers the test files share. Runtime-independent (no Node APIs), so the files that
 * use them also run in Bun, Deno and workerd (test/runtimes/).
 */
import { expect } from 'vitest';
import { OtpkitError } from '../src/errors.js';
import { heldReads } from '../src/testing/_check.js';

/** What `fn` throws; fails the test if it returns. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

/** The `code` property of a thrown value. */
export const codeOf = (e: unknown): unknown => (e as { code?: unknown } | null | undefined)?.code;

/** The `code` of what `fn` throws, or undefined if it returns. */
export function thrownCode(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (e) {
    return codeOf(e);
  }
}

/** The OtpkitError `fn` throws; fails the test if it throws anything else or nothing. */
export function otpkitError(fn: () => unknown): OtpkitError {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(OtpkitError);
  return e as OtpkitError;
}

/**
 * Asserts the misuse contract on one call: it throws exactly `type` (not a subclass posing as
 * it) with `code`, and the message names `arg` when given but never repeats the code.
 */
export function expectMisuse(
  fn: () => unknown,
  type: typeof TypeError | typeof RangeError,
  code: string,
  arg?: string,
): Error {
  const e = thrown(fn) as Error;
  expect(e).toBeInstanceOf(type);
  expect(e.constructor.name).toBe(type.name);
  expect(codeOf(e)).toBe(code);
  if (arg !== undefined) expect(e.message).toContain(arg);
  expect(e.message).not.toContain(code);
  return e;
}

/** mulberry32: a small seeded PRNG, so a failing sequence can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Three concurrent `regenerateRecoveryCodes` through a verifier on `store`, every one reading the
 * current set before any of them writes (heldReads): exactly
 * one is stored and returns codes that work; the other two throw `ERR_CONFLICT` and show none.
 */
export async function expectOneRegenerationWins(
  store: import('../src/store/types.js').OtpStore,
  createVerifier: typeof import('../src/verifier/verifier.js').createVerifier,
  userId: string,
): Promise<void> {
  const racing = heldReads(store, 'getRecoveryCodeSet', 3);
  const verifier = createVerifier({ store: racing.store, recoveryHash: { logN: 10 } });
  const first = await verifier.issueRecoveryCodes({ userId, count: 4 });
  racing.arm();
  const results = await Promise.allSettled(
    [0, 1, 2].map(() => verifier.regenerateRecoveryCodes({ userId, count: 4 })),
  );
  racing.disarm();
  const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  expect(won).toHaveLength(1);
  expect(lost.map(codeOf)).toEqual(['ERR_CONFLICT', 'ERR_CONFLICT']);
  for (const e of lost) expect(String((e as Error).message)).not.toMatch(/[0-9A-Z]{4}-[0-9A-Z]{4}/);
  const codes = won[0] as string[];
  expect(await verifier.remainingRecoveryCodes(userId)).toBe(4);
  expect((await verifier.redeemRecoveryCode({ userId, code: codes[0] as string })).ok).toBe(true);
  expect((await verifier.redeemRecoveryCode({ userId, code: first[0] as string })).ok).toBe(false);
}
