/**
 * Lockout that an attacker cannot use against the real user: 48 hours of simulated time (the
 * clock is injected, nothing sleeps). An attacker who knows the password retries from a browser
 * of their own as soon as the throttle lets them; the real user signs in with a valid code every
 * 60 seconds. With the known-device token of their browser, the real user succeeds on every
 * attempt; without it (every browser sharing the account's bucket, as before known devices), the
 * attacker's guesses lock them out. Either way the attacker's evaluated guesses stay within the
 * same bound (at most 100 before the hard lock).
 */
import { describe, expect, it } from 'vitest';
import {
  createMemoryStore,
  createTwoFactor,
  decodeBase32,
  generateTOTP,
  type VerificationResult,
} from '../src/index.js';

const T0 = Date.UTC(2031, 0, 1);
const HOURS = 48;
const USER_EVERY_MS = 60_000;

interface Outcome {
  readonly userAttempts: number;
  readonly userSuccesses: number;
  readonly attackerEvaluated: number;
  readonly attackerAttempts: number;
  readonly lockedAfterMs: number | null;
}

async function simulate(userHasKnownDevice: boolean): Promise<Outcome> {
  let now = T0;
  const tf = createTwoFactor({
    store: createMemoryStore(),
    issuer: 'ACME',
    keys: { current: 'k', keys: { k: new Uint8Array(32).fill(3) } },
    now: () => now,
    recoveryCodes: { hash: { logN: 10 } },
  });
  const b = await tf.beginEnrollment({ userId: 'victim', account: 'victim@example.com' });
  if (!b.ok) throw new Error('begin');
  const secret = decodeBase32(b.manualKey.replace(/ /g, ''));
  await tf.confirmEnrollment({
    userId: 'victim',
    factorId: b.factorId,
    code: generateTOTP(secret, { now }),
  });
  now += 30_000;
  // The real user's browser signs in once and keeps the known-device token it is given.
  const first = await tf.startChallenge({ userId: 'victim' });
  if (!first.required) throw new Error('start');
  const r = await tf.verifyChallenge({
    challengeId: first.challengeId,
    code: generateTOTP(secret, { now }),
    userId: 'victim',
  });
  if (!r.ok) throw new Error('first sign-in');
  let cookie: string | undefined = userHasKnownDevice ? r.knownDeviceToken : undefined;

  const end = now + HOURS * 3_600_000;
  let nextUser = now + USER_EVERY_MS;
  let nextAttacker = now + 1;
  const out = {
    userAttempts: 0,
    userSuccesses: 0,
    attackerEvaluated: 0,
    attackerAttempts: 0,
    lockedAfterMs: null as number | null,
  };
  const start = now;
  while (Math.min(nextUser, nextAttacker) < end) {
    if (nextAttacker <= nextUser) {
      now = nextAttacker;
      out.attackerAttempts++;
      const st = await tf.startChallenge({ userId: 'victim' });
      if (!st.required) throw new Error('attacker start');
      const real = generateTOTP(secret, { now });
      const guess = real === '000000' ? '000001' : '000000';
      const v: VerificationResult = await tf.verifyChallenge({
        challengeId: st.challengeId,
        code: guess,
        userId: 'victim',
      });
      if (v.ok) throw new Error('a wrong guess succeeded');
      if (v.reason === 'invalid') out.attackerEvaluated++;
      if (v.reason === 'locked') {
        out.lockedAfterMs ??= now - start;
        nextAttacker = end; // locked for good: nothing left to try
      } else nextAttacker = now + (v.reason === 'throttled' ? v.retryAfterMs : 1);
    } else {
      now = nextUser;
      out.userAttempts++;
      const st = await tf.startChallenge({
        userId: 'victim',
        ...(cookie === undefined ? {} : { knownDeviceToken: cookie }),
      });
      if (!st.required) throw new Error('user start');
      if (cookie !== undefined) cookie = st.knownDeviceToken ?? cookie;
      const v = await tf.verifyChallenge({
        challengeId: st.challengeId,
        code: generateTOTP(secret, { now }),
        userId: 'victim',
      });
      if (v.ok) out.userSuccesses++;
      nextUser = now + USER_EVERY_MS;
    }
  }
  return out;
}

describe('lockout an attacker cannot use against the real user (48 h simulation)', () => {
  it(
    'the real user on a known device succeeds on every attempt; the attacker gets at most 100 evaluated guesses',
    { timeout: 120_000 },
    async () => {
      const known = await simulate(true);
      const shared = await simulate(false);
      console.log(
        `[lockout] known device: ${known.userSuccesses}/${known.userAttempts} sign-ins; ` +
          `shared bucket (no known-device token): ${shared.userSuccesses}/${shared.userAttempts}; ` +
          `attacker: ${known.attackerEvaluated} guesses evaluated in ${known.attackerAttempts} attempts, locked after ${((known.lockedAfterMs ?? 0) / 3_600_000).toFixed(1)} h`,
      );
      expect(known.userAttempts).toBe((HOURS * 3_600_000) / USER_EVERY_MS - 1);
      expect(known.userSuccesses).toBe(known.userAttempts);
      // Without the token the user shares the attacker's bucket: throttled, then locked for good.
      expect(shared.userSuccesses).toBeLessThan(shared.userAttempts / 100);
      expect(shared.lockedAfterMs).not.toBeNull();
      // The attacker's budget is the same bound in both worlds: at most 100 guesses, then the lock.
      for (const o of [known, shared]) {
        expect(o.attackerEvaluated).toBeLessThanOrEqual(100);
        expect(o.attackerEvaluated).toBeGreaterThan(50);
        expect(o.lockedAfterMs).not.toBeNull();
      }
    },
  );
});
