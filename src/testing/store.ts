/**
 * The `OtpStore` contract suite: every rule of the hot verification state, checked against a
 * real adapter, concurrency included. Framework-agnostic: it returns named async cases that
 * throw on failure; register them with your test runner.
 * @module
 */
import { delayAfter, gateOpen } from '../_throttle.js';
import type {
  AttemptPolicy,
  ChallengeRecord,
  DeviceRecord,
  DeviceRotation,
  OtpStore,
  RecoveryCodeSet,
  SettleAttempt,
  TotpAttempt,
} from '../store/types.js';
import { check, eq, ids, suite, type ContractCase } from './_check.js';
import { MAX_COUNTER } from '../_bytes.js';

/** Options of {@link storeContract}. */
export interface StoreContractOptions {
  /** Parallel callers in the race checks. @defaultValue 50 */
  readonly concurrency?: number | undefined;
  /** Concurrent failures counted in the counter check. @defaultValue 100 */
  readonly failures?: number | undefined;
  /** A prefix for the user ids the cases create, so runs never collide in a shared server. @defaultValue random */
  readonly userPrefix?: string | undefined;
}

const T = Date.UTC(2030, 0, 1);
const STEP = Math.floor(T / 30_000);
const P: AttemptPolicy = {
  freeFailures: 3,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxFailures: 10,
};
const MAX = MAX_COUNTER;

/**
 * Builds the `OtpStore` contract cases for a store factory.
 *
 * @param make - creates (or returns) the store under test; called once per case.
 * @param options - {@link StoreContractOptions}.
 * @returns the cases: the throttle rule against its reference at every failure count, fused TOTP
 *   attempts (window, drift, replay, ties, the ±10 cap), two-phase attempts (TOTP, HOTP, recovery
 *   codes, challenges, step-up tokens), compare-and-set of recovery-code sets, challenge caps and
 *   expiry, erasure, and races: 50 concurrent claims of one step, of one code, of one challenge
 *   and of one set → exactly one winner; 100 concurrent failures → exactly 100 counted.
 * @example
 * ```ts
 * for (const c of storeContract(() => createMemoryStore())) it(c.name, c.run, c.timeoutMs);
 * ```
 */
export function storeContract(
  make: () => OtpStore | Promise<OtpStore>,
  options?: StoreContractOptions,
): ContractCase[] {
  const n = options?.concurrency ?? 50;
  const nFailures = options?.failures ?? 100;
  const uid = ids(options?.userPrefix);
  const { cases, add } = suite();

  const totp = (userId: string, extra: Partial<TotpAttempt> = {}): TotpAttempt => ({
    userId,
    credentialId: 'c',
    scope: 'otp',
    now: T,
    policy: P,
    step: STEP,
    candidates: [0],
    past: 1,
    future: 1,
    centreOnDrift: true,
    maxDrift: 10,
    ...extra,
  });
  const fail = (s: OtpStore, userId: string, now: number, policy: AttemptPolicy = P) =>
    s.attemptTotp(totp(userId, { candidates: [], now, policy }));
  let setSeq = 0;
  const set = (tag: string, k: number, issuedAt = T): RecoveryCodeSet => ({
    setId: `s${++setSeq}-${tag}`.replace(/[^A-Za-z0-9_-]/g, '_'),
    issuedAt,
    total: k,
    codes: Array.from({ length: k }, (_, i) => ({ id: `${tag}-${i}`, hash: `$test$${tag}$${i}` })),
  });
  // 64 hex digits, unique per run and per call: token hashes look like the SHA-256 hex they are.
  const run = Math.random().toString(16).slice(2, 10).padEnd(8, '0');
  let hexSeq = 0;
  const hex64 = (): string => `${run}${(++hexSeq).toString(16).padStart(8, '0')}`.repeat(4);
  const challenge = (userId: string, extra: Partial<ChallengeRecord> = {}): ChallengeRecord => ({
    hash: hex64(),
    userId,
    scope: 'otp',
    recoveryScope: 'recovery',
    createdAt: T,
    expiresAt: T + 300_000,
    attempts: 0,
    maxAttempts: 5,
    credentialIds: ['c'],
    payload: '{"v":1}',
    oob: null,
    ...extra,
  });
  const settleTotp = (
    userId: string,
    step: number,
    extra: Partial<SettleAttempt> = {},
  ): SettleAttempt => ({
    userId,
    scope: 'otp',
    now: T,
    claim: { kind: 'totp', credentialId: 'c', step, drift: 0, create: true },
    ...extra,
  });

  add('reads nothing for an unknown user', async () => {
    const s = await make();
    const u = uid();
    eq(await s.getThrottle(u, 'otp'), { failures: 0, lastFailureAt: 0 }, 'throttle');
    eq(await s.getCredentials(u, ['c', 'd']), { c: null, d: null }, 'credentials');
    eq(await s.getRecoveryCodeSet(u), null, 'recovery-code set');
    eq(await s.consumeStepUp(u, 'f'.repeat(64), T), false, 'step-up token');
    const begun = await s.beginAttempt({
      userId: u,
      challengeHash: 'e'.repeat(64),
      now: T,
      policy: P,
      credentialIds: [],
      recoverySet: false,
    });
    eq(begun, { status: 'no-challenge' }, 'unknown challenge');
  });

  add(
    'attemptTotp: accepts a step once, refuses it and older steps as replayed, counts every failure',
    async () => {
      const s = await make();
      const u = uid();
      eq(await s.attemptTotp(totp(u)), { status: 'ok', delta: 0 }, 'first use');
      eq(await s.attemptTotp(totp(u)), { status: 'replayed', failures: 1 }, 'same step again');
      eq(
        await s.attemptTotp(totp(u, { candidates: [-1] })),
        { status: 'replayed', failures: 2 },
        'an older step',
      );
      eq(
        await s.attemptTotp(totp(u, { candidates: [] })),
        { status: 'invalid', failures: 3 },
        'no candidate',
      );
      eq(await s.getThrottle(u, 'otp'), { failures: 3, lastFailureAt: T }, 'counted');
      eq(
        await s.attemptTotp(totp(u, { candidates: [1] })),
        { status: 'closed', failures: 3, lastFailureAt: T },
        'a delay is owed',
      );
      const later = T + P.baseDelayMs;
      eq(
        await s.attemptTotp(totp(u, { candidates: [1], now: later })),
        { status: 'ok', delta: 1 },
        'a newer step once the delay passed',
      );
      eq(await s.getThrottle(u, 'otp'), { failures: 0, lastFailureAt: 0 }, 'reset by the success');
      const c = (await s.getCredentials(u, ['c'])).c;
      eq(
        [c?.lastStep, c?.drift, c?.lastUsedAt, c?.hotpCounter],
        [STEP + 1, 1, later, null],
        'stored state',
      );
      eq(
        await s.attemptTotp(totp(u, { credentialId: 'other' })),
        { status: 'ok', delta: 0 },
        'another credential',
      );
      eq(await s.attemptTotp(totp(uid())), { status: 'ok', delta: 0 }, 'another user');
      eq(
        await s.attemptTotp(totp(u, { scope: 'other', candidates: [] })),
        { status: 'invalid', failures: 1 },
        'another bucket',
      );
    },
  );

  add(
    'attemptTotp: picks the smallest |delta| inside the window centred on the drift, clamped to ±10',
    async () => {
      const s = await make();
      const u = uid();
      eq(
        await s.attemptTotp(totp(u, { candidates: [-1, 1] })),
        { status: 'ok', delta: -1 },
        'a tie keeps the past step',
      );
      eq(
        await s.attemptTotp(
          totp(u, { step: STEP + 10, candidates: [-2, 1, 2], centreOnDrift: false }),
        ),
        { status: 'ok', delta: 1 },
        'outside the window is ignored',
      );
      const v = uid();
      eq(
        await s.attemptTotp(totp(v, { candidates: [3] })),
        { status: 'invalid', failures: 1 },
        'beyond the window',
      );
      eq(
        await s.attemptTotp(totp(v, { candidates: [3], future: 3 })),
        { status: 'ok', delta: 3 },
        'a wider future',
      );
      eq((await s.getCredentials(v, ['c'])).c?.drift, 3, 'drift learned');
      // Centred on drift 3: steps +2..+4 are accepted, 0 is not.
      eq(
        await s.attemptTotp(totp(v, { step: STEP + 10, candidates: [0] })),
        { status: 'invalid', failures: 1 },
        'far from the drift',
      );
      eq(
        await s.attemptTotp(totp(v, { step: STEP + 10, candidates: [0, 4] })),
        { status: 'ok', delta: 4 },
        'near the drift',
      );
      eq(
        await s.attemptTotp(totp(v, { step: STEP + 20, candidates: [0], centreOnDrift: false })),
        { status: 'ok', delta: 0 },
        'centred on 0 for a new device',
      );
      eq((await s.getCredentials(v, ['c'])).c?.drift, 0, 'drift re-learned');
      const w = uid();
      eq(
        await s.attemptTotp(totp(w, { candidates: [5], future: 10, maxDrift: 2 })),
        { status: 'ok', delta: 5 },
        'matched',
      );
      eq((await s.getCredentials(w, ['c'])).c?.drift, 2, 'drift clamped to maxDrift');
      eq(
        await s.attemptTotp(
          totp(w, { step: STEP + 30, candidates: [0], maxDrift: null, centreOnDrift: false }),
        ),
        { status: 'ok', delta: 0 },
        'matched',
      );
      eq((await s.getCredentials(w, ['c'])).c?.drift, 0, 'no drift without learning');
      const x = uid();
      await s.attemptTotp(totp(x, { candidates: [8], future: 10 }));
      eq(
        await s.attemptTotp(totp(x, { step: STEP + 40, candidates: [10], past: 10, future: 10 })),
        { status: 'ok', delta: 10 },
        'the cap is inclusive',
      );
      eq(
        await s.attemptTotp(totp(uid(), { step: 1, candidates: [-1], past: 1 })),
        { status: 'ok', delta: -1 },
        'step 0 is a step',
      );
      eq(
        await s.attemptTotp(totp(uid(), { step: 253_402_300_799, candidates: [0] })),
        { status: 'ok', delta: 0 },
        'a year-9999 step',
      );
    },
  );

  add(
    'the throttle follows the reference rule at every failure count, and a refusal counts nothing',
    async () => {
      const s = await make();
      for (const policy of [
        P,
        { freeFailures: 0, baseDelayMs: 500, maxDelayMs: 4000, maxFailures: 8 },
        { freeFailures: 2, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 5 },
      ]) {
        const u = uid();
        let failures = 0;
        let last = 0;
        let now = T;
        for (let k = 0; k < 40; k++) {
          // Probe just before and at the moment the delay ends, then jump past it.
          const owed = delayAfter(policy, failures);
          const times = owed > 0 ? [last + owed - 1, last + owed] : [now];
          for (const t of times) {
            const at = Math.max(t, now);
            const r = await fail(s, u, at, policy);
            if (gateOpen(policy, failures, last, at)) {
              failures += 1;
              last = at;
              eq(
                r,
                { status: 'invalid', failures },
                `policy ${JSON.stringify(policy)}, failure ${failures}`,
              );
            } else
              eq(
                r,
                { status: 'closed', failures, lastFailureAt: last },
                `policy ${JSON.stringify(policy)}, refused at ${failures}`,
              );
            now = at;
          }
          if (failures >= policy.maxFailures) break;
        }
        eq(failures, policy.maxFailures, 'reached the lock');
        const r = await s.attemptTotp(totp(u, { now: now + 86_400_000 * 365, policy }));
        eq(r.status, 'closed', 'a correct code a year later while locked');
        await s.resetThrottle(u, 'otp');
        eq(
          (await s.attemptTotp(totp(u, { now: now + 1, policy }))).status,
          'ok',
          'after the reset',
        );
      }
    },
  );

  add(
    'a lastFailureAt from a clock ahead of ours never opens the gate early nor holds it longer than the delay',
    async () => {
      const s = await make();
      const u = uid();
      for (let i = 0; i < 3; i++) await fail(s, u, T + 3_600_000); // another server, an hour ahead
      const r = await fail(s, u, T);
      eq(r, { status: 'closed', failures: 3, lastFailureAt: T + 3_600_000 }, 'still owed a delay');
      const v = uid();
      await fail(s, v, T + 3_600_000);
      eq(
        await fail(s, v, T),
        { status: 'invalid', failures: 2 },
        'no delay owed: open despite the skew',
      );
    },
  );

  add(`${n} concurrent attempts with one valid code: exactly one ok`, async () => {
    const s = await make();
    const u = uid();
    const open: AttemptPolicy = {
      freeFailures: 100,
      baseDelayMs: 1000,
      maxDelayMs: 1000,
      maxFailures: 100,
    };
    const results = await Promise.all(
      Array.from({ length: n }, () => s.attemptTotp(totp(u, { policy: open }))),
    );
    eq(results.filter((r) => r.status === 'ok').length, 1, 'winners');
    eq(results.filter((r) => r.status === 'replayed').length, n - 1, 'replays');
    const v = uid();
    const guarded = await Promise.all(
      Array.from({ length: n }, () => s.attemptTotp(totp(v, { candidates: [] }))),
    );
    eq(
      guarded.filter((r) => r.status === 'invalid').length,
      P.freeFailures,
      'a burst of guesses: only the free ones are evaluated',
    );
  });

  add(`${nFailures} concurrent failures: exactly ${nFailures} counted`, async () => {
    const s = await make();
    const u = uid();
    const open: AttemptPolicy = {
      freeFailures: nFailures,
      baseDelayMs: 0,
      maxDelayMs: 0,
      maxFailures: nFailures,
    };
    const results = await Promise.all(Array.from({ length: nFailures }, () => fail(s, u, T, open)));
    const counts = results.map((r) => (r.status === 'invalid' ? r.failures : -1));
    eq(new Set(counts).size, nFailures, 'distinct counts');
    eq(Math.min(...counts), 1, 'smallest count');
    eq(Math.max(...counts), nFailures, 'largest count');
    eq(await s.getThrottle(u, 'otp'), { failures: nFailures, lastFailureAt: T }, 'stored');
    eq((await fail(s, u, T + 1, open)).status, 'closed', 'locked at maxFailures');
  });

  add('beginAttempt and settleAttempt: TOTP and HOTP claims, created or required', async () => {
    const s = await make();
    const u = uid();
    const b = await s.beginAttempt({
      userId: u,
      scope: 'otp',
      now: T,
      policy: P,
      credentialIds: ['c', 'h'],
      recoverySet: false,
    });
    eq(
      b,
      {
        status: 'admitted',
        userId: u,
        failures: 1,
        challenge: null,
        credentials: { c: null, h: null },
        recoverySet: null,
      },
      'admitted',
    );
    eq(
      await s.settleAttempt(
        settleTotp(u, STEP, {
          claim: { kind: 'totp', credentialId: 'c', step: STEP, drift: -2, create: false },
        }),
      ),
      { status: 'replayed' },
      'no credential to claim on',
    );
    eq(
      await s.getThrottle(u, 'otp'),
      { failures: 1, lastFailureAt: T },
      'a lost claim changes nothing',
    );
    eq(
      await s.settleAttempt(
        settleTotp(u, STEP, {
          claim: { kind: 'totp', credentialId: 'c', step: STEP, drift: -2, create: true },
        }),
      ),
      { status: 'ok', remaining: null },
      'created',
    );
    eq(await s.getThrottle(u, 'otp'), { failures: 0, lastFailureAt: 0 }, 'reset');
    eq(await s.settleAttempt(settleTotp(u, STEP)), { status: 'replayed' }, 'same step');
    eq(
      await s.settleAttempt(
        settleTotp(u, STEP + 1, {
          claim: { kind: 'totp', credentialId: 'c', step: STEP + 1, drift: 1, create: false },
        }),
      ),
      { status: 'ok', remaining: null },
      'a newer step on an existing credential',
    );
    const c = (await s.getCredentials(u, ['c'])).c;
    eq([c?.lastStep, c?.drift, c?.lastUsedAt], [STEP + 1, 1, T], 'stored');
    const hotp = (expected: bigint | null, next: bigint, create = true): SettleAttempt => ({
      userId: u,
      scope: 'otp',
      now: T,
      claim: { kind: 'hotp', credentialId: 'h', expected, next, create },
    });
    eq(await s.settleAttempt(hotp(1n, 2n)), { status: 'replayed' }, 'expected 1 when none stored');
    eq(await s.settleAttempt(hotp(null, 5n)), { status: 'ok', remaining: null }, 'from none');
    eq(await s.settleAttempt(hotp(null, 6n)), { status: 'replayed' }, 'from none when 5 is stored');
    eq(await s.settleAttempt(hotp(5n, MAX, false)), { status: 'ok', remaining: null }, 'to 2^64-1');
    eq((await s.getCredentials(u, ['h'])).h?.hotpCounter, MAX, '2^64-1 kept exactly');
    eq(await s.settleAttempt(hotp(MAX - 1n, 7n)), { status: 'replayed' }, 'from 2^64-2');
    const closedUser = uid();
    for (let i = 0; i < 3; i++) await fail(s, closedUser, T);
    const refused = await s.beginAttempt({
      userId: closedUser,
      scope: 'otp',
      now: T,
      policy: P,
      credentialIds: ['c'],
      recoverySet: true,
    });
    eq(
      refused,
      { status: 'closed', userId: closedUser, failures: 3, lastFailureAt: T },
      'closed: nothing returned, nothing counted',
    );
  });

  add(
    `${n} concurrent settlements of one TOTP step and of one HOTP counter: exactly one each`,
    async () => {
      const s = await make();
      const u = uid();
      const a = await Promise.all(
        Array.from({ length: n }, () => s.settleAttempt(settleTotp(u, STEP))),
      );
      eq(a.filter((r) => r.status === 'ok').length, 1, 'TOTP winners');
      const b = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          s.settleAttempt({
            userId: u,
            scope: 'otp',
            now: T,
            claim: {
              kind: 'hotp',
              credentialId: 'h',
              expected: null,
              next: BigInt(i + 1),
              create: true,
            },
          }),
        ),
      );
      eq(b.filter((r) => r.status === 'ok').length, 1, 'HOTP winners');
    },
  );

  add(
    'recovery codes: compare-and-set of the set, single use, remaining count (also from createChallenge), the set returned to an attempt',
    async () => {
      const s = await make();
      const u = uid();
      const counted = async () => (await s.createChallenge(challenge(u), 10)).recoveryCodes;
      eq(await counted(), 0, 'a new challenge: no codes yet');
      const one = set('one', 3, T - 5);
      eq(await s.replaceRecoveryCodes(u, one, 'nope'), false, 'from a set that does not exist');
      eq(await s.replaceRecoveryCodes(u, one, null), true, 'first set');
      eq(await counted(), 3, 'a new challenge: three codes');
      eq(await s.replaceRecoveryCodes(u, set('x', 1), null), false, '"none" while one exists');
      eq(await s.getRecoveryCodeSet(u), one, 'read back exactly');
      const b = await s.beginAttempt({
        userId: u,
        scope: 'recovery',
        now: T,
        policy: P,
        credentialIds: [],
        recoverySet: true,
      });
      eq(b.status === 'admitted' ? b.recoverySet : b, one, 'returned to an attempt');
      const claim = (setId: string, codeId: string): SettleAttempt => ({
        userId: u,
        scope: 'recovery',
        now: T,
        claim: { kind: 'recovery', setId, codeId },
      });
      eq(await s.settleAttempt(claim(one.setId, 'one-1')), { status: 'ok', remaining: 2 }, 'used');
      eq(await counted(), 2, 'a new challenge: two codes left');
      eq(
        await s.getThrottle(u, 'recovery'),
        { failures: 0, lastFailureAt: 0 },
        'reset by the success',
      );
      eq(await s.settleAttempt(claim(one.setId, 'one-1')), { status: 'replayed' }, 'used twice');
      eq(
        await s.settleAttempt(claim('other', 'one-2')),
        { status: 'replayed' },
        'a code of another set id',
      );
      eq(
        await s.settleAttempt({ ...claim(one.setId, 'one-2'), userId: uid() }),
        { status: 'replayed' },
        "another user's code",
      );
      eq((await s.getRecoveryCodeSet(u))?.total, 3, 'total kept');
      await fail(s, u, T, P);
      const two = set('two', 2);
      eq(await s.replaceRecoveryCodes(u, two, one.setId), true, 'replaced');
      eq(
        await s.settleAttempt(claim(one.setId, 'one-2')),
        { status: 'replayed' },
        'a replaced code',
      );
      eq(
        await s.getThrottle(u, 'otp'),
        { failures: 1, lastFailureAt: T },
        'replacing never touches a bucket',
      );
      eq(await counted(), 2, 'a new challenge: the new set');
      eq(await s.replaceRecoveryCodes(u, null, two.setId), true, 'removed');
      eq(await s.getRecoveryCodeSet(u), null, 'no set');
      eq(await counted(), 0, 'a new challenge: no set');
    },
  );

  add(
    `${n} concurrent uses of one recovery code, and ${n} concurrent replacements of one set: exactly one each`,
    async () => {
      const s = await make();
      const u = uid();
      const base = set('race', 3);
      await s.replaceRecoveryCodes(u, base, null);
      const uses = await Promise.all(
        Array.from({ length: n }, () =>
          s.settleAttempt({
            userId: u,
            scope: 'recovery',
            now: T,
            claim: { kind: 'recovery', setId: base.setId, codeId: 'race-2' },
          }),
        ),
      );
      eq(uses.filter((r) => r.status === 'ok').length, 1, 'uses');
      const candidates = Array.from({ length: n }, (_, i) => set(`r${i}`, 2));
      const replaced = await Promise.all(
        candidates.map((c) => s.replaceRecoveryCodes(u, c, base.setId)),
      );
      eq(replaced.filter(Boolean).length, 1, 'replacements');
      eq(
        (await s.getRecoveryCodeSet(u))?.setId,
        candidates[replaced.indexOf(true)]?.setId,
        'the winner is current',
      );
      const v = uid();
      const firsts = await Promise.all(candidates.map((c) => s.replaceRecoveryCodes(v, c, null)));
      eq(firsts.filter(Boolean).length, 1, 'first sets of one user');
    },
  );

  add(
    'a replacement racing uses of the old set never lets old and new codes both work',
    async () => {
      const s = await make();
      const u = uid();
      const old = set('old', 10);
      const neu = set('new', 10);
      await s.replaceRecoveryCodes(u, old, null);
      await Promise.all([
        s.replaceRecoveryCodes(u, neu, old.setId),
        ...old.codes.map((c) =>
          s.settleAttempt({
            userId: u,
            scope: 'recovery',
            now: T,
            claim: { kind: 'recovery', setId: old.setId, codeId: c.id },
          }),
        ),
      ]);
      eq((await s.getRecoveryCodeSet(u))?.codes.length, 10, 'the new set is whole');
      for (const c of old.codes)
        eq(
          (
            await s.settleAttempt({
              userId: u,
              scope: 'recovery',
              now: T,
              claim: { kind: 'recovery', setId: old.setId, codeId: c.id },
            })
          ).status,
          'replayed',
          'an old code',
        );
    },
  );

  add(
    'challenges: found by hash and user, bound to their user, counted, capped, expiring and single use',
    async () => {
      const s = await make();
      const u = uid();
      const ch = challenge(u, { credentialIds: ['c', 'd'] });
      await s.createChallenge(ch, 10);
      const begin = (userId: string, now = T, recoverySet = false) =>
        s.beginAttempt({
          userId,
          challengeHash: ch.hash,
          now,
          policy: P,
          credentialIds: [],
          recoverySet,
        });
      eq(await begin(uid()), { status: 'no-challenge' }, "another user's challenge");
      const first = await begin(u);
      check(first.status === 'admitted', `admitted: ${first.status}`);
      if (first.status === 'admitted') {
        eq(first.userId, u, 'its user');
        eq(first.challenge, { ...ch, attempts: 1 }, 'the challenge, one attempt counted');
        eq(first.credentials, { c: null, d: null }, "the challenge's credentials");
      }
      const rec = await begin(u, T, true);
      eq(
        rec.status === 'admitted' ? [rec.failures, rec.recoverySet] : rec,
        [1, null],
        'a recovery attempt counts in the recovery bucket',
      );
      eq(await s.getThrottle(u, 'otp'), { failures: 1, lastFailureAt: T }, 'the OTP bucket');
      await s.resetThrottle(u, null);
      eq(
        [await s.getThrottle(u, 'otp'), await s.getThrottle(u, 'recovery')],
        [
          { failures: 0, lastFailureAt: 0 },
          { failures: 0, lastFailureAt: 0 },
        ],
        'every bucket reset',
      );
      for (let i = 0; i < 3; i++) eq((await begin(u)).status, 'admitted', `attempt ${i + 3}`);
      eq(await begin(u), { status: 'exhausted', userId: u }, 'no attempt left after 5');
      await s.resetThrottle(u, null);
      const other = challenge(u);
      await s.createChallenge(other, 10);
      eq(
        await s.settleAttempt(settleTotp(u, STEP, { challengeHash: other.hash, userId: uid() })),
        { status: 'no-challenge' },
        'settled as another user',
      );
      eq(
        await s.settleAttempt(settleTotp(u, STEP, { challengeHash: other.hash })),
        { status: 'ok', remaining: null },
        'settled',
      );
      eq(
        await s.settleAttempt(settleTotp(u, STEP + 1, { challengeHash: other.hash })),
        { status: 'no-challenge' },
        'never twice',
      );
      const kept = challenge(u);
      await s.createChallenge(kept, 10);
      eq(
        await s.settleAttempt(settleTotp(u, STEP, { challengeHash: kept.hash })),
        { status: 'replayed' },
        'a lost claim',
      );
      eq(
        (
          await s.beginAttempt({
            userId: u,
            challengeHash: kept.hash,
            now: T,
            policy: P,
            credentialIds: [],
            recoverySet: false,
          })
        ).status,
        'admitted',
        'leaves the challenge live',
      );
      await s.resetThrottle(u, null);
      eq(
        (
          await s.beginAttempt({
            userId: u,
            challengeHash: kept.hash,
            now: kept.expiresAt,
            policy: P,
            credentialIds: [],
            recoverySet: false,
          })
        ).status,
        'no-challenge',
        'expired at expiresAt',
      );
      const dead = challenge(u);
      await s.createChallenge(dead, 10);
      eq(
        await s.settleAttempt(
          settleTotp(u, STEP + 50, { challengeHash: dead.hash, now: dead.expiresAt }),
        ),
        { status: 'no-challenge' },
        'settled at expiresAt',
      );
      const last = challenge(u);
      await s.createChallenge(last, 10);
      await s.deleteChallenges(u);
      eq(
        (
          await s.beginAttempt({
            userId: u,
            challengeHash: last.hash,
            now: T,
            policy: P,
            credentialIds: [],
            recoverySet: false,
          })
        ).status,
        'no-challenge',
        'deleted',
      );
    },
  );

  add(
    'a user holds at most maxLive challenges: the oldest live and every dead one give way',
    async () => {
      const s = await make();
      const u = uid();
      const made: ChallengeRecord[] = [];
      for (let i = 0; i < 5; i++) {
        const c = challenge(u, { createdAt: T + i, expiresAt: T + 1000 + i });
        made.push(c);
        await s.createChallenge(c, 3);
      }
      const live = async (c: ChallengeRecord) =>
        (
          await s.beginAttempt({
            userId: u,
            challengeHash: c.hash,
            now: T + 10,
            policy: { ...P, freeFailures: 100, maxFailures: 100 },
            credentialIds: [],
            recoverySet: false,
          })
        ).status;
      eq(
        await Promise.all(made.map(live)),
        ['no-challenge', 'no-challenge', 'admitted', 'admitted', 'admitted'],
        'the three newest',
      );
    },
  );

  add(
    `${n} concurrent settlements of one challenge with different valid claims: exactly one`,
    async () => {
      const s = await make();
      const u = uid();
      const ch = challenge(u);
      await s.createChallenge(ch, 10);
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          s.settleAttempt(settleTotp(u, STEP + i, { challengeHash: ch.hash })),
        ),
      );
      eq(results.filter((r) => r.status === 'ok').length, 1, 'winners');
    },
  );

  add(
    'step-up tokens: stored by a success, used once, before they expire, by their user',
    async () => {
      const s = await make();
      const u = uid();
      const [a, b, c] = [hex64(), hex64(), hex64()];
      await s.settleAttempt(settleTotp(u, STEP, { stepUp: { hash: a, expiresAt: T + 1000 } }));
      await s.settleAttempt(settleTotp(u, STEP + 1, { stepUp: { hash: b, expiresAt: T + 1000 } }));
      eq(await s.consumeStepUp(uid(), a, T), false, "another user's token");
      eq(await s.consumeStepUp(u, a, T), true, 'used');
      eq(await s.consumeStepUp(u, a, T), false, 'used twice');
      eq(await s.consumeStepUp(u, b, T + 1000), false, 'expired');
      const lost = await s.settleAttempt(
        settleTotp(u, STEP, { stepUp: { hash: c, expiresAt: T + 1000 } }),
      );
      eq(lost.status, 'replayed', 'a lost claim');
      eq(await s.consumeStepUp(u, c, T), false, 'stores no token');
    },
  );

  add(
    'initCredential creates replay state only where none exists, and never touches a bucket',
    async () => {
      const s = await make();
      const u = uid();
      await fail(s, u, T);
      eq(await s.initCredential(u, 'c', STEP + 5, null), true, 'created');
      eq(await s.initCredential(u, 'c', 1, null), false, 'not twice');
      eq(await s.initCredential(u, 'h', null, 41n), true, 'an HOTP credential');
      const got = await s.getCredentials(u, ['c', 'h']);
      eq(
        [got.c?.lastStep, got.c?.drift, got.c?.lastUsedAt, got.h?.hotpCounter],
        [STEP + 5, 0, null, 41n],
        'stored',
      );
      eq(await s.getThrottle(u, 'otp'), { failures: 1, lastFailureAt: T }, 'bucket untouched');
      eq(
        (await s.attemptTotp(totp(u, { candidates: [5], future: 5 }))).status,
        'replayed',
        'the imported last step is not accepted again',
      );
      await s.deleteCredentials(u, ['c', 'h']);
      eq(await s.getCredentials(u, ['c', 'h']), { c: null, h: null }, 'deleted');
      eq(
        await s.settleAttempt(
          settleTotp(u, STEP + 9, {
            claim: { kind: 'totp', credentialId: 'c', step: STEP + 9, drift: 0, create: false },
          }),
        ),
        { status: 'replayed' },
        'a deleted credential never claims',
      );
    },
  );

  add(
    'eraseUser leaves nothing readable of the user, and nothing of another user is touched',
    async () => {
      const s = await make();
      const u = uid();
      const keep = uid();
      const tokens = new Map([
        [u, hex64()],
        [keep, hex64()],
      ]);
      for (const x of [u, keep]) {
        await s.attemptTotp(totp(x));
        await fail(s, x, T);
        await s.replaceRecoveryCodes(x, set(`e${x.length}`, 2), null);
        await s.createChallenge(challenge(x), 10);
        await s.settleAttempt(
          settleTotp(x, STEP + 1, {
            stepUp: { hash: tokens.get(x) as string, expiresAt: T + 9000 },
          }),
        );
        await s.initCredential(x, 'h', null, 3n);
      }
      await s.eraseUser(u);
      eq(await s.getThrottle(u, 'otp'), { failures: 0, lastFailureAt: 0 }, 'throttle');
      eq(await s.getCredentials(u, ['c', 'h']), { c: null, h: null }, 'credentials');
      eq(await s.getRecoveryCodeSet(u), null, 'recovery codes');
      eq(await s.consumeStepUp(u, tokens.get(u) as string, T), false, 'step-up token');
      eq(
        (await s.getCredentials(keep, ['c'])).c?.lastStep,
        STEP + 1,
        'the other user keeps theirs',
      );
      eq((await s.getRecoveryCodeSet(keep))?.codes.length, 2, 'the other user keeps their codes');
    },
  );

  const device = (userId: string, extra: Partial<DeviceRecord> = {}): DeviceRecord => ({
    userId,
    id: `d${hex64().slice(0, 16)}`,
    kind: 'trusted',
    tokenHash: hex64(),
    previousHash: null,
    label: 'Firefox on Linux',
    createdAt: T,
    lastUsedAt: null,
    expiresAt: T + 30 * 86_400_000,
    ...extra,
  });

  add(
    `devices: ${n} parallel uses of one token: exactly one rotation, the rest are replays`,
    async () => {
      const s = await make();
      const u = uid();
      const d = device(u);
      await s.createDevice(d, 5);
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          s.rotateDevice(u, 'trusted', d.tokenHash, hex64(), T + 5 + i, null),
        ),
      );
      const rotated = results.filter((r) => r.status === 'rotated');
      eq(rotated.length, 1, 'one rotation');
      check(
        results.every(
          (r) => r.status === 'rotated' || (r.status === 'replayed' && r.deviceId === d.id),
        ),
        'every other use is a replay of that device',
      );
      const now = (await s.listDevices(u, 'trusted', T + 10 + n))[0];
      const winner = rotated[0] as Extract<DeviceRotation, { status: 'rotated' }>;
      eq(now?.tokenHash, winner.device.tokenHash, 'the stored token is the one handed out');
    },
  );

  add(
    'devices: a token rotates on use, a rotated-away token is a replay, strangers and the dead are unknown',
    async () => {
      const s = await make();
      const u = uid();
      const d = device(u);
      await s.createDevice(d, 5);
      eq(await s.listDevices(u, 'trusted', T), [d], 'listed');
      eq(await s.listDevices(u, 'known', T), [], 'another kind');
      const next = hex64();
      const r = await s.rotateDevice(u, 'trusted', d.tokenHash, next, T + 5, T + 99_999);
      eq(
        r,
        {
          status: 'rotated',
          device: {
            ...d,
            tokenHash: next,
            previousHash: d.tokenHash,
            lastUsedAt: T + 5,
            expiresAt: T + 99_999,
          },
        },
        'rotated',
      );
      eq(
        await s.rotateDevice(u, 'trusted', d.tokenHash, hex64(), T + 6, null),
        { status: 'replayed', deviceId: d.id },
        'the old token again',
      );
      eq(
        await s.rotateDevice(u, 'trusted', hex64(), hex64(), T + 6, null),
        { status: 'unknown' },
        'a stranger',
      );
      eq(
        await s.rotateDevice(uid(), 'trusted', next, hex64(), T + 6, null),
        { status: 'unknown' },
        "another user's token",
      );
      eq(
        await s.rotateDevice(u, 'known', next, hex64(), T + 6, null),
        { status: 'unknown' },
        'another kind',
      );
      eq(
        await s.rotateDevice(u, 'trusted', next, hex64(), T + 99_999, null),
        { status: 'unknown' },
        'expired',
      );
      eq(await s.listDevices(u, 'trusted', T + 99_999), [], 'a dead device is not listed');
      const kept = hex64();
      eq(
        (await s.rotateDevice(u, 'trusted', next, kept, T + 7, null)).status,
        'rotated',
        'rotated again while live',
      );
      eq(
        (await s.listDevices(u, 'trusted', T + 8))[0]?.expiresAt,
        T + 99_999,
        '`null` keeps the expiry',
      );
    },
  );

  add(
    "devices: createChallenge rotates a known-device token in the same call and gives the challenge that device's buckets",
    async () => {
      const s = await make();
      const u = uid();
      const known = device(u, { kind: 'known', expiresAt: T + 1_000 });
      const trusted = device(u);
      await s.createDevice(known, 5);
      await s.createDevice(trusted, 5);
      const begin = async (hash: string, recovery: boolean) => {
        const b = await s.beginAttempt({
          userId: u,
          challengeHash: hash,
          now: T + 2,
          policy: P,
          credentialIds: [],
          recoverySet: recovery,
        });
        return b.status === 'admitted' ? b.challenge : b;
      };
      // Rotated: the device's new token and expiry, the challenge in the device's buckets.
      const next = hex64();
      const ch = challenge(u, { createdAt: T + 1 });
      const r = await s.createChallenge(ch, 10, {
        tokenHash: known.tokenHash,
        newHash: next,
        expiresAt: T + 50_000,
      });
      eq(
        r,
        {
          recoveryCodes: 0,
          device: {
            status: 'rotated',
            device: {
              ...known,
              tokenHash: next,
              previousHash: known.tokenHash,
              lastUsedAt: T + 1,
              expiresAt: T + 50_000,
            },
          },
        },
        'rotated with the challenge',
      );
      const stored = await begin(ch.hash, false);
      eq(
        stored === null || 'status' in stored ? stored : [stored.scope, stored.recoveryScope],
        [`${ch.scope}:device:${known.id}`, `${ch.recoveryScope}:device:${known.id}`],
        "the challenge counts in the device's buckets",
      );
      // Replayed, unknown, another kind: the challenge keeps the buckets it was given.
      const cases: [string, string, unknown][] = [
        ['the rotated-away token', known.tokenHash, { status: 'replayed', deviceId: known.id }],
        ['a stranger', hex64(), { status: 'unknown' }],
        ["a trusted device's token", trusted.tokenHash, { status: 'unknown' }],
      ];
      for (const [what, token, outcome] of cases) {
        const c = challenge(u, { createdAt: T + 1 });
        const got = await s.createChallenge(c, 10, {
          tokenHash: token,
          newHash: hex64(),
          expiresAt: T + 60_000,
        });
        eq(got, { recoveryCodes: 0, device: outcome }, what);
        const b = await begin(c.hash, true);
        eq(
          b === null || 'status' in b ? b : [b.scope, b.recoveryScope],
          [c.scope, c.recoveryScope],
          `${what}: the challenge's own buckets`,
        );
      }
      eq(
        (await s.listDevices(u, 'known', T + 2))[0]?.tokenHash,
        next,
        'nothing but the first rotated the device',
      );
      eq(
        (await s.createChallenge(challenge(u, { createdAt: T + 1 }), 10)).device,
        null,
        'no device given: none',
      );
      // A dead known device is unknown, and nothing changes.
      const late = challenge(u, { createdAt: T + 60_000 });
      eq(
        (
          await s.createChallenge(late, 10, {
            tokenHash: next,
            newHash: hex64(),
            expiresAt: T + 99_999,
          })
        ).device,
        { status: 'unknown' },
        'an expired device',
      );
    },
  );

  add(
    'devices: settleAttempt stores a device with a success, as createDevice would, and never with a lost claim',
    async () => {
      const s = await make();
      const u = uid();
      const known = (createdAt: number): DeviceRecord =>
        device(u, { kind: 'known', label: '', createdAt, lastUsedAt: createdAt });
      const old = known(T);
      await s.createDevice(old, 2);
      await s.createDevice(known(T + 1), 2);
      const first = known(T + 2);
      eq(
        await s.settleAttempt(settleTotp(u, 100, { device: { record: first, maxPerUser: 2 } })),
        { status: 'ok', remaining: null },
        'won',
      );
      const listed = await s.listDevices(u, 'known', T + 3);
      eq(listed.length, 2, 'at most maxPerUser of the kind');
      eq(listed.at(-1), first, 'the device, stored as given');
      eq(
        listed.some((d) => d.id === old.id),
        false,
        'the oldest gave way',
      );
      eq(
        await s.settleAttempt(
          settleTotp(u, 100, { device: { record: known(T + 4), maxPerUser: 2 } }),
        ),
        { status: 'replayed' },
        'the same step again',
      );
      const ch = challenge(u);
      await s.createChallenge(ch, 10);
      eq(
        await s.settleAttempt(
          settleTotp(u, 101, {
            challengeHash: hex64(),
            device: { record: known(T + 5), maxPerUser: 2 },
          }),
        ),
        { status: 'no-challenge' },
        'an unknown challenge',
      );
      eq(
        (await s.listDevices(u, 'known', T + 6)).map((d) => d.id),
        listed.map((d) => d.id),
        'nothing stored by a lost claim',
      );
      eq(await s.listDevices(u, 'trusted', T + 6), [], 'another kind untouched');
    },
  );

  add('devices: at most maxPerUser per kind; revoke one or all', async () => {
    const s = await make();
    const u = uid();
    const made: DeviceRecord[] = [];
    for (let i = 0; i < 4; i++) {
      const d = device(u, { createdAt: T + i });
      made.push(d);
      await s.createDevice(d, 3);
    }
    await s.createDevice(device(u, { kind: 'known', createdAt: T + 9 }), 3);
    eq(
      (await s.listDevices(u, 'trusted', T + 10)).map((d) => d.id),
      made.slice(1).map((d) => d.id),
      'the three newest trusted devices',
    );
    eq(await s.revokeDevices(u, 'trusted', (made[2] as DeviceRecord).id), 1, 'one revoked');
    eq(await s.revokeDevices(u, 'trusted', null), 2, 'the rest revoked');
    eq((await s.listDevices(u, 'known', T + 10)).length, 1, 'another kind untouched');
    eq(
      await s.rotateDevice(
        u,
        'trusted',
        (made[3] as DeviceRecord).tokenHash,
        hex64(),
        T + 10,
        null,
      ),
      { status: 'unknown' },
      'a revoked token',
    );
  });

  add(`${n} concurrent uses of one device token: exactly one rotation`, async () => {
    const s = await make();
    const u = uid();
    const d = device(u);
    await s.createDevice(d, 5);
    const results = await Promise.all(
      Array.from({ length: n }, () =>
        s.rotateDevice(u, 'trusted', d.tokenHash, hex64(), T + 1, null),
      ),
    );
    eq(results.filter((r) => r.status === 'rotated').length, 1, 'rotations');
    check(
      results.every((r) => r.status !== 'unknown'),
      'the others see a replay',
    );
  });

  add(
    'out-of-band codes: one live code per challenge, claimed once, before it expires',
    async () => {
      const s = await make();
      const u = uid();
      const ch = challenge(u);
      await s.createChallenge(ch, 10);
      const code = { factorId: 'email-1', codeHash: hex64(), expiresAt: T + 600_000 };
      eq(await s.setChallengeCode(uid(), ch.hash, code, T), false, "another user's challenge");
      eq(await s.setChallengeCode(u, hex64(), code, T), false, 'an unknown challenge');
      eq(await s.setChallengeCode(u, ch.hash, code, T), true, 'set');
      const b = await s.beginAttempt({
        userId: u,
        challengeHash: ch.hash,
        now: T,
        policy: P,
        credentialIds: [],
        recoverySet: false,
      });
      eq(b.status === 'admitted' ? b.challenge?.oob : b, code, 'returned with the challenge');
      const newer = { ...code, codeHash: hex64() };
      eq(await s.setChallengeCode(u, ch.hash, newer, T), true, 'replaced by a resend');
      eq(
        await s.setChallengeCode(u, ch.hash, null, T, code.codeHash),
        false,
        'clearing an older code never clears the newer one',
      );
      const oob = (codeHash: string, now = T): SettleAttempt => ({
        userId: u,
        scope: 'otp',
        now,
        claim: { kind: 'oob', codeHash },
        challengeHash: ch.hash,
      });
      eq(await s.settleAttempt(oob(code.codeHash)), { status: 'replayed' }, 'the replaced code');
      eq(
        await s.settleAttempt(oob(newer.codeHash, newer.expiresAt)),
        { status: 'no-challenge' },
        'the challenge is dead by then',
      );
      const ch2 = challenge(u, { expiresAt: T + 900_000 });
      await s.createChallenge(ch2, 10);
      await s.setChallengeCode(u, ch2.hash, newer, T);
      eq(
        await s.settleAttempt({ ...oob(newer.codeHash, newer.expiresAt), challengeHash: ch2.hash }),
        { status: 'replayed' },
        'an expired code',
      );
      await s.setChallengeCode(u, ch2.hash, { ...newer, expiresAt: T + 800_000 }, T);
      eq(
        await s.settleAttempt({ ...oob(newer.codeHash), challengeHash: ch2.hash }),
        { status: 'ok', remaining: null },
        'claimed',
      );
      eq(
        await s.settleAttempt({ ...oob(newer.codeHash), challengeHash: ch2.hash }),
        { status: 'no-challenge' },
        'once',
      );
      const ch3 = challenge(u);
      await s.createChallenge(ch3, 10);
      eq(
        await s.settleAttempt({ ...oob(hex64()), challengeHash: ch3.hash }),
        { status: 'replayed' },
        'no code was sent',
      );
      eq(await s.setChallengeCode(u, ch3.hash, code, T), true, 'set');
      eq(
        await s.setChallengeCode(u, ch3.hash, null, T, code.codeHash),
        true,
        'cleared: delivery failed',
      );
      eq(
        await s.settleAttempt({ ...oob(code.codeHash), challengeHash: ch3.hash }),
        { status: 'replayed' },
        'a cleared code',
      );
    },
  );

  add(
    'send quotas: a limit per fixed window, a cooldown between sends, a refusal counts nothing, a release takes one back',
    async () => {
      const s = await make();
      const u = uid();
      const rule = { limit: 3, windowMs: 3_600_000, cooldownMs: 60_000 };
      const bucket = { kind: 'user', userId: u } as const;
      const start = Math.ceil(T / rule.windowMs) * rule.windowMs;
      eq(await s.reserveSend(bucket, rule, start), { ok: true }, 'first');
      eq(
        await s.reserveSend(bucket, rule, start + 59_999),
        { ok: false, retryAfterMs: 1 },
        'cooldown',
      );
      eq(await s.reserveSend(bucket, rule, start + 60_000), { ok: true }, 'after the cooldown');
      await s.releaseSend(bucket, rule, start + 60_000);
      eq(
        await s.reserveSend(bucket, rule, start + 120_000),
        { ok: true },
        'the released send is free again',
      );
      eq(await s.reserveSend(bucket, rule, start + 180_000), { ok: true }, 'third');
      eq(
        await s.reserveSend(bucket, rule, start + 240_000),
        { ok: false, retryAfterMs: rule.windowMs - 240_000 },
        'the limit: wait for the next window',
      );
      eq(await s.reserveSend(bucket, rule, start + rule.windowMs), { ok: true }, 'a new window');
      const other = { kind: 'destination', hash: hex64() } as const;
      eq(await s.reserveSend(other, rule, start), { ok: true }, 'buckets are independent');
      eq(
        await s.reserveSend({ kind: 'user', userId: uid() }, rule, start + 1),
        { ok: true },
        'another user',
      );
    },
  );

  add(`${n} concurrent sends against a limit of 10: exactly 10 counted`, async () => {
    const s = await make();
    const rule = { limit: 10, windowMs: 3_600_000, cooldownMs: 0 };
    const bucket = { kind: 'destination', hash: hex64() } as const;
    const results = await Promise.all(
      Array.from({ length: n }, () => s.reserveSend(bucket, rule, T)),
    );
    eq(results.filter((r) => r.ok).length, 10, 'sends allowed');
  });

  add('eraseUser also removes devices and the user send quota', async () => {
    const s = await make();
    const u = uid();
    const d = device(u);
    await s.createDevice(d, 5);
    const rule = { limit: 1, windowMs: 3_600_000, cooldownMs: 3_600_000 };
    await s.reserveSend({ kind: 'user', userId: u }, rule, T);
    await s.eraseUser(u);
    eq(await s.listDevices(u, 'trusted', T), [], 'devices');
    eq(
      await s.rotateDevice(u, 'trusted', d.tokenHash, hex64(), T, null),
      { status: 'unknown' },
      'token',
    );
    eq(await s.reserveSend({ kind: 'user', userId: u }, rule, T + 1), { ok: true }, 'quota');
  });

  return cases;
}
