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

/**
 * On a real store, a bad per-call `now` is misuse, thrown before the store is read or anything
 * counted (never an `ERR_STORE*`), even while the account is backing off; a fractional `now` is
 * floored, so nothing stored is corrupted and later calls still work.
 */
export async function expectPerCallNowValidated(
  store: import('../src/store/types.js').OtpStore,
  createVerifier: typeof import('../src/verifier/verifier.js').createVerifier,
  generateTOTP: typeof import('../src/totp.js').generateTOTP,
  userId: string,
): Promise<void> {
  const T = 1_700_000_000_000;
  const secret = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
  const throttle = { freeFailures: 0, baseDelayMs: 60_000 };
  const v = createVerifier({ store, now: () => T, throttle, recoveryHash: { logN: 10 } });
  await v.issueRecoveryCodes({ userId, count: 2 });
  const code = 'K7QM-4X2P-9D3R-TB8W';
  expect(await v.redeemRecoveryCode({ userId, code })).toEqual({ ok: false, reason: 'invalid' });
  const token = generateTOTP(secret, { now: T });
  const bad: [unknown, typeof TypeError][] = [
    [Number.NaN, TypeError],
    ['123', TypeError],
    [Number.POSITIVE_INFINITY, TypeError],
    [-1, RangeError],
  ];
  for (const [now, type] of bad) {
    const calls = [
      v.redeemRecoveryCode({ userId, code, now } as never),
      v.verifyTOTP({ userId, secret, token, now } as never),
      v.throttleStatus(userId, 'recovery', { now } as never),
    ];
    for (const call of calls) {
      const e = await call.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(type);
      expect(codeOf(e)).toBe(type === TypeError ? 'ERR_TIME_TYPE' : 'ERR_TIME_RANGE');
    }
  }
  // Nothing was counted: still the one failure, still backing off.
  expect(await v.throttleStatus(userId, 'recovery')).toEqual({
    failures: 1,
    locked: false,
    retryAfterMs: 60_000,
  });
  expect(await v.verifyTOTP({ userId, secret, token, now: T + 0.5 })).toMatchObject({ ok: true });
  expect(await v.verifyTOTP({ userId, secret, token, now: T + 1.5 })).toEqual({
    ok: false,
    reason: 'replayed',
  });
  // The replay counted one failure, stored at a whole millisecond and read back as one.
  const otp = await v.throttleStatus(userId, 'otp', { now: T + 1.75 });
  expect(otp.failures).toBe(1);
  expect(Number.isInteger(otp.retryAfterMs)).toBe(true);
}
