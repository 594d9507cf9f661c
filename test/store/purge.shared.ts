/**
 * `purgeExpired` of the stores whose rows do not expire by themselves (PostgreSQL, SQLite, D1):
 * it removes what nothing will read again, never anything live, in bounded batches.
 * Each store's test file runs these cases on a fresh, empty store.
 */
import { expect } from 'vitest';
import type {
  ChallengeRecord,
  DeviceRecord,
  FactorRecord,
  FactorStore,
  OtpStore,
  PurgeableStore,
  PurgeExpiredOptions,
  TotpAttempt,
} from '../../src/store/types.js';
import { attempt, challenge, device, factor, hex, LIMITS, OPEN, RULE } from './records.js';

export type Purgeable = OtpStore & FactorStore & PurgeableStore;
export interface PurgeTarget {
  readonly store: Purgeable;
  /** Every row of every table of the store (SQL stores), to check the counts it reports. */
  readonly rows?: () => Promise<number>;
  /** A throttle bucket at zero is among the rows (PostgreSQL keeps one after a success). */
  readonly zeroThrottleRows: boolean;
}

const MIN = 60_000;
const DAY = 86_400_000;
/** Half past midnight: a send a minute ago is in the current one-hour window. */
const P = Date.UTC(2031, 5, 1, 0, 30);
const STEP = Math.floor(P / 30_000);

const expiring = (userId: string, createdAt: number, expiresAt: number): ChallengeRecord =>
  challenge(userId, { scope: 'otp', createdAt, expiresAt });
const trusted = (userId: string, id: string, tokenHash: string, expiresAt: number): DeviceRecord =>
  device(userId, id, { tokenHash, createdAt: expiresAt - 30 * DAY, expiresAt });
const pending = (userId: string, id: string, createdAt: number): FactorRecord =>
  factor(userId, id, { createdAt, expiresAt: createdAt + 10 * MIN });
/** A wrong code (no candidate) at `now`, on the bucket the other records use. */
const wrong = (userId: string, now: number): TotpAttempt =>
  attempt(userId, { now, policy: OPEN, step: Math.floor(now / 30_000), candidates: [] });

/** Of each kind: one record that died long ago (`dead`), and one that is live at P (`live`). */
async function populate(s: Purgeable): Promise<{ liveChallenge: string; graceChallenge: string }> {
  // dead: expired 10 minutes or more before P, a bucket back at zero, a quota unused for 3 days.
  // (The grace one first: a store drops a user's challenges already dead when it creates one.)
  const grace = expiring('dead', P - 6 * MIN, P - MIN); // expired, but within the grace period
  await s.createChallenge(grace, 5);
  await s.createChallenge(expiring('dead', P - 15 * MIN, P - 10 * MIN), 5);
  expect((await s.attemptTotp(wrong('dead', P - 40 * MIN))).status).toBe('invalid');
  const won = await s.settleAttempt({
    userId: 'dead',
    scope: 'otp',
    now: P - 30 * MIN,
    claim: { kind: 'totp', credentialId: 'c', step: STEP - 60, drift: 0, create: true },
    stepUp: { hash: hex(900), expiresAt: P - 20 * MIN },
  });
  expect(won.status).toBe('ok');
  await s.createDevice(trusted('dead', 'd-dead', hex(901), P - 10 * MIN), 5);
  expect(await s.addFactor(pending('dead', 'f-dead', P - 30 * MIN), LIMITS, P - 30 * MIN)).toBe(
    'added',
  );
  expect(await s.reserveSend({ kind: 'user', userId: 'dead' }, RULE, P - 3 * DAY)).toEqual({
    ok: true,
  });
  // live at P: a challenge, a step-up token, a device, an enrollment, two failures, a send.
  const live = expiring('live', P - MIN, P + 5 * MIN);
  await s.createChallenge(live, 5);
  expect(
    (
      await s.settleAttempt({
        userId: 'live',
        scope: 'otp',
        now: P - MIN,
        claim: { kind: 'totp', credentialId: 'c', step: STEP - 2, drift: 0, create: true },
        stepUp: { hash: hex(902), expiresAt: P + 5 * MIN },
      })
    ).status,
  ).toBe('ok');
  for (let i = 0; i < 2; i++)
    expect((await s.attemptTotp(wrong('live', P - MIN))).status).toBe('invalid');
  await s.createDevice(trusted('live', 'd-live', hex(903), P + DAY), 5);
  expect(await s.addFactor(pending('live', 'f-live', P - 5 * MIN), LIMITS, P - 5 * MIN)).toBe(
    'added',
  );
  expect(await s.reserveSend({ kind: 'user', userId: 'live' }, RULE, P - MIN)).toEqual({
    ok: true,
  });
  return { liveChallenge: live.hash, graceChallenge: grace.hash };
}

/** The cases, each on a fresh store from `make`. */
export function purgeCases(
  make: () => Promise<PurgeTarget>,
): { readonly name: string; readonly run: () => Promise<void> }[] {
  return [
    {
      name: 'purgeExpired removes what died more than 5 minutes ago, and nothing live',
      run: async () => {
        const { store: s, rows, zeroThrottleRows } = await make();
        const { liveChallenge } = await populate(s);
        const before = await rows?.();
        const r = await s.purgeExpired({ now: P });
        expect(r).toEqual({
          challenges: 1,
          stepUps: 1,
          devices: 1,
          pendingFactors: 1,
          throttles: zeroThrottleRows ? 1 : 0,
          sendQuotas: 1,
          done: true,
        });
        const removed =
          r.challenges + r.stepUps + r.devices + r.pendingFactors + r.throttles + r.sendQuotas;
        if (before !== undefined) expect(await rows?.()).toBe(before - removed);
        // The dead enrollment is gone from the registry; everything live still works.
        expect((await s.listFactors('dead')).map((f) => f.id)).toEqual([]);
        expect(await s.consumeStepUp('live', hex(902), P)).toBe(true);
        expect((await s.listDevices('live', 'trusted', P)).map((d) => d.id)).toEqual(['d-live']);
        expect((await s.rotateDevice('live', 'trusted', hex(903), hex(904), P, null)).status).toBe(
          'rotated',
        );
        expect(await s.confirmFactor('live', 'f-live', P, 5)).toBe('confirmed');
        expect(await s.getThrottle('live', 'otp')).toEqual({ failures: 2, lastFailureAt: P - MIN });
        // The live send still counts: a rule of one per hour refuses the next.
        expect(
          (await s.reserveSend({ kind: 'user', userId: 'live' }, { ...RULE, limit: 1 }, P)).ok,
        ).toBe(false);
        const begun = await s.beginAttempt({
          userId: 'live',
          challengeHash: liveChallenge,
          now: P,
          policy: OPEN,
          credentialIds: [],
          recoverySet: false,
        });
        expect(begun.status).toBe('admitted');
        // Run again: nothing more is due.
        expect(await s.purgeExpired({ now: P })).toEqual({
          challenges: 0,
          stepUps: 0,
          devices: 0,
          pendingFactors: 0,
          throttles: 0,
          sendQuotas: 0,
          done: true,
        });
      },
    },
    {
      name: 'purgeExpired leaves a record expired less than 5 minutes ago, and takes it once the grace is over',
      run: async () => {
        const { store: s } = await make();
        const { graceChallenge } = await populate(s);
        await s.purgeExpired({ now: P });
        // Still there at P + 3 min (it expired at P - 1 min): a code on it is refused as dead, not unknown.
        expect((await s.purgeExpired({ now: P + 3 * MIN })).challenges).toBe(0);
        const r = await s.purgeExpired({ now: P + 4 * MIN });
        expect(r.challenges).toBe(1);
        expect(
          (
            await s.beginAttempt({
              userId: 'dead',
              challengeHash: graceChallenge,
              now: P - 2 * MIN,
              policy: OPEN,
              credentialIds: [],
              recoverySet: false,
            })
          ).status,
        ).toBe('no-challenge');
      },
    },
    {
      name: 'purgeExpired works in batches: done is false while a kind filled its batch',
      run: async () => {
        const { store: s } = await make();
        for (let i = 0; i < 5; i++)
          await s.createChallenge(expiring(`u${i}`, P - 20 * MIN, P - 10 * MIN), 5);
        const first = await s.purgeExpired({ now: P, batchSize: 2 });
        expect([first.challenges, first.done]).toEqual([2, false]);
        expect((await s.purgeExpired({ now: P, batchSize: 2 })).challenges).toBe(2);
        const last = await s.purgeExpired({ now: P, batchSize: 2 });
        expect([last.challenges, last.done]).toEqual([1, true]);
      },
    },
    {
      name: 'purgeExpired keeps send quotas younger than sendQuotaMaxAgeMs',
      run: async () => {
        const { store: s } = await make();
        await s.reserveSend({ kind: 'app' }, RULE, P - 3 * DAY);
        await s.reserveSend({ kind: 'destination', hash: hex(5) }, RULE, P - 12 * 3_600_000);
        expect((await s.purgeExpired({ now: P, sendQuotaMaxAgeMs: 4 * DAY })).sendQuotas).toBe(0);
        expect((await s.purgeExpired({ now: P })).sendQuotas).toBe(1); // default: 2 days
        expect((await s.purgeExpired({ now: P, sendQuotaMaxAgeMs: 3_600_000 })).sendQuotas).toBe(1);
      },
    },
    {
      name: 'purgeExpired refuses bad options as misuse, removing nothing',
      run: async () => {
        const { store: s } = await make();
        await s.createChallenge(expiring('u', P - 20 * MIN, P - 10 * MIN), 5);
        const bad: [unknown, typeof TypeError | typeof RangeError, RegExp][] = [
          [{ now: Number.NaN }, TypeError, /"now"/],
          [{ now: '2031-06-01' }, TypeError, /"now"/],
          [{ now: -1 }, RangeError, /"now"/],
          [{ batchSize: 0 }, RangeError, /"batchSize"/],
          [{ batchSize: 1.5 }, RangeError, /"batchSize"/],
          [{ batchSize: '10' }, TypeError, /"batchSize"/],
          [{ sendQuotaMaxAgeMs: 60_000 }, RangeError, /"sendQuotaMaxAgeMs"/],
          [{ olderThan: 1 }, RangeError, /olderThan/],
          [null, TypeError, /options/],
        ];
        for (const [options, type, message] of bad) {
          const e: unknown = await s.purgeExpired(options as PurgeExpiredOptions).then(
            () => null,
            (x: unknown) => x,
          );
          expect(e, JSON.stringify(options)).toBeInstanceOf(type);
          expect((e as Error).message).toMatch(message);
        }
        expect((await s.purgeExpired({ now: P })).challenges).toBe(1);
      },
    },
  ];
}
