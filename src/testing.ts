/**
 * The store contract suite: the checks every `OtpStore` adapter must pass, shipped so that
 * third-party adapters can run them (REQUIREMENTS §(d) D.3.12). Framework-agnostic: it returns
 * named async cases that throw on failure; register them with your test runner.
 *
 * ```ts
 * import { storeContract } from 'otpkit/testing';
 * for (const c of storeContract(() => createMyStore())) it(c.name, c.run, c.timeoutMs);
 * ```
 * @module
 */
import { generateTOTP } from './totp.js';
import { generateHOTP } from './hotp.js';
import { OtpkitError } from './errors.js';
import { createVerifier, type Verifier, type VerifierOptions } from './verifier.js';
import type { OtpStore, RecoveryCodeSet, StoredRecoveryCode } from './store/types.js';

/** One contract check. */
export interface StoreContractCase {
  /** What it checks. */
  readonly name: string;
  /** Runs the check; rejects with an `Error` describing the violation. */
  readonly run: () => Promise<void>;
  /** A generous time limit for the check, in ms. */
  readonly timeoutMs: number;
}

/** Options of {@link storeContract}. */
export interface StoreContractOptions {
  /** Parallel callers in the race checks. @defaultValue 50 */
  readonly concurrency?: number | undefined;
  /** Concurrent failures counted in the counter check. @defaultValue 100 */
  readonly failures?: number | undefined;
  /** A prefix for the user ids the cases create, so runs never collide in a shared server. @defaultValue random */
  readonly userPrefix?: string | undefined;
}

class ContractViolation extends Error {
  override name = 'ContractViolation';
}

function check(cond: boolean, message: string): void {
  if (!cond) throw new ContractViolation(message);
}

function eq(actual: unknown, expected: unknown, what: string): void {
  check(Object.is(actual, expected), `${what}: expected ${String(expected)}, got ${String(actual)}`);
}

const SECRET = new Uint8Array(20).map((_, i) => i * 7 + 1);
const T = Date.UTC(2030, 0, 1);

/** Methods of OtpStore that fault injection wraps. */
const METHODS = [
  'getState',
  'claimTotpStep',
  'compareAndSetHotpCounter',
  'recordFailure',
  'resetFailures',
  'setDrift',
  'getRecoveryCodeSet',
  'consumeRecoveryCode',
  'replaceRecoveryCodes',
] as const;

/**
 * Wraps a store so that one method misbehaves: `'throw'` rejects, `'hang'` never settles,
 * `'garbage'` resolves malformed data. Used by the fault cases; handy for your own tests.
 *
 * @param store - the store to wrap.
 * @param method - the method that misbehaves.
 * @param mode - how it misbehaves.
 * @returns a store that delegates every other call.
 * @example
 * ```ts
 * const broken = faultyStore(createMemoryStore(), 'claimTotpStep', 'hang');
 * ```
 */
export function faultyStore(store: OtpStore, method: (typeof METHODS)[number], mode: 'throw' | 'hang' | 'garbage'): OtpStore {
  const wrapped = Object.create(null) as Record<string, unknown>;
  for (const m of METHODS) {
    const real = (store[m] as (...a: unknown[]) => Promise<unknown>).bind(store);
    wrapped[m] =
      m !== method
        ? real
        : async (...args: unknown[]): Promise<unknown> => {
            if (mode === 'throw') throw new Error('injected storage failure');
            if (mode === 'hang') return new Promise(() => {});
            await real(...args);
            return m === 'getState' ? { failures: 'abc', lastFailureAt: -1, drift: 0, hotpCounter: -5n, lastStep: null } : 'garbage';
          };
  }
  wrapped.distributedSafe = store.distributedSafe;
  return wrapped as unknown as OtpStore;
}

/**
 * Builds the contract cases for a store factory.
 *
 * @param make - creates (or returns) the store under test; called once per case.
 * @param options - {@link StoreContractOptions}.
 * @returns the cases: atomic step claims (50 concurrent → one winner; s then s−1 loses), HOTP
 *   compare-and-set races, exact failure counts under 100 concurrent increments, recovery-code
 *   single use and atomic replacement, isolation between users, and fault injection (throws,
 *   hangs and malformed results at every method never give `ok: true`).
 * @example
 * ```ts
 * for (const c of storeContract(() => createMemoryStore())) it(c.name, c.run, c.timeoutMs);
 * ```
 */
export function storeContract(make: () => OtpStore | Promise<OtpStore>, options?: StoreContractOptions): StoreContractCase[] {
  const n = options?.concurrency ?? 50;
  const nFailures = options?.failures ?? 100;
  const prefix = options?.userPrefix ?? `contract-${Math.random().toString(36).slice(2, 10)}`;
  let seq = 0;
  const uid = (): string => `${prefix}-${++seq}`;
  const cases: StoreContractCase[] = [];
  const add = (name: string, run: () => Promise<void>, timeoutMs = 30_000): void => {
    cases.push({ name, run, timeoutMs });
  };
  const verifierOn = (store: OtpStore, extra?: VerifierOptions): Verifier =>
    createVerifier({ store, storeTimeoutMs: 300, now: () => T, ...extra });

  add('reads defaults for an unknown user', async () => {
    const s = await make();
    const st = await s.getState(uid(), 'default', 'default');
    eq(st.failures, 0, 'failures');
    eq(st.lastFailureAt, 0, 'lastFailureAt');
    eq(st.drift, 0, 'drift');
    eq(st.hotpCounter, null, 'hotpCounter');
    eq(st.lastStep, null, 'lastStep');
    eq(await s.getRecoveryCodeSet(uid()), null, 'recovery-code set');
  });

  add('claims a TOTP step only if greater than the last one', async () => {
    const s = await make();
    const u = uid();
    eq(await s.claimTotpStep(u, 'c', 100), true, 'first claim of 100');
    eq(await s.claimTotpStep(u, 'c', 100), false, 'second claim of 100');
    eq(await s.claimTotpStep(u, 'c', 99), false, 'claim of 99 after 100');
    eq(await s.claimTotpStep(u, 'c', 101), true, 'claim of 101');
    eq(await s.claimTotpStep(u, 'other', 100), true, 'another credential is independent');
    eq(await s.claimTotpStep(uid(), 'c', 100), true, 'another user is independent');
    eq((await s.getState(u, 'c', 'c')).lastStep, 101, 'lastStep');
    // Steps far beyond 2^32 (year 9999 with period 1) are kept exactly.
    eq(await s.claimTotpStep(u, 'c', 253402300799), true, 'claim of a year-9999 step');
    eq((await s.getState(u, 'c', 'c')).lastStep, 253402300799, 'year-9999 lastStep');
  });

  add(`${n} concurrent claims of one step: exactly one wins`, async () => {
    const s = await make();
    const u = uid();
    const results = await Promise.all(Array.from({ length: n }, () => s.claimTotpStep(u, 'c', 5000)));
    eq(results.filter(Boolean).length, 1, 'winners');
  });

  add('compare-and-sets an HOTP counter', async () => {
    const s = await make();
    const u = uid();
    eq(await s.compareAndSetHotpCounter(u, 'c', 1n, 2n), false, 'CAS from 1 when none stored');
    eq(await s.compareAndSetHotpCounter(u, 'c', null, 5n), true, 'CAS from none');
    eq(await s.compareAndSetHotpCounter(u, 'c', null, 6n), false, 'CAS from none when 5 stored');
    eq(await s.compareAndSetHotpCounter(u, 'c', 4n, 6n), false, 'CAS from 4 when 5 stored');
    eq(await s.compareAndSetHotpCounter(u, 'c', 5n, 6n), true, 'CAS from 5');
    eq((await s.getState(u, 'c', 'c')).hotpCounter, 6n, 'stored counter');
    const max = (1n << 64n) - 1n;
    eq(await s.compareAndSetHotpCounter(u, 'c', 6n, max), true, 'CAS to 2^64-1');
    eq((await s.getState(u, 'c', 'c')).hotpCounter, max, 'counter 2^64-1 without overflow');
    eq(await s.compareAndSetHotpCounter(u, 'c', max - 1n, 7n), false, 'CAS from 2^64-2');
  });

  add(`${n} concurrent HOTP compare-and-sets: exactly one advance`, async () => {
    const s = await make();
    const u = uid();
    await s.compareAndSetHotpCounter(u, 'c', null, 10n);
    const results = await Promise.all(Array.from({ length: n }, (_, i) => s.compareAndSetHotpCounter(u, 'c', 10n, 11n + BigInt(i))));
    eq(results.filter(Boolean).length, 1, 'winners');
  });

  add(`${nFailures} concurrent failures: the count is exactly ${nFailures}`, async () => {
    const s = await make();
    const u = uid();
    const counts = await Promise.all(Array.from({ length: nFailures }, () => s.recordFailure(u, 'c', T)));
    eq(new Set(counts).size, nFailures, 'distinct counts returned');
    eq(Math.max(...counts), nFailures, 'largest count returned');
    const st = await s.getState(u, 'c', 'c');
    eq(st.failures, nFailures, 'stored failures');
    eq(st.lastFailureAt, T, 'lastFailureAt');
    eq((await s.getState(u, 'c', 'other')).failures, 0, 'another scope is independent');
    await s.resetFailures(u, 'c');
    eq((await s.getState(u, 'c', 'c')).failures, 0, 'failures after reset');
  });

  add('remembers drift', async () => {
    const s = await make();
    const u = uid();
    await s.setDrift(u, 'c', -3);
    eq((await s.getState(u, 'c', 'c')).drift, -3, 'drift');
    await s.setDrift(u, 'c', 2);
    eq((await s.getState(u, 'c', 'c')).drift, 2, 'drift overwritten');
  });

  const codes = (tag: string, k: number): StoredRecoveryCode[] =>
    Array.from({ length: k }, (_, i) => ({ id: `${tag}-${i}-${Math.random().toString(36).slice(2)}`, hash: `$test$${tag}$${i}` }));
  let setSeq = 0;
  const set = (tag: string, k: number, issuedAt = T): RecoveryCodeSet => ({
    setId: `${prefix.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}-${tag}-${++setSeq}`,
    issuedAt,
    total: k,
    codes: codes(tag, k),
  });
  const listed = async (s: OtpStore, u: string): Promise<readonly StoredRecoveryCode[]> => (await s.getRecoveryCodeSet(u))?.codes ?? [];

  add('consumes a recovery code once; replacing the set invalidates every old code', async () => {
    const s = await make();
    const a = uid();
    const b = uid();
    const set1 = set('one', 10, T - 1000);
    eq(await s.replaceRecoveryCodes(a, set1, null), true, 'first set stored');
    const read = await s.getRecoveryCodeSet(a);
    eq(read?.setId, set1.setId, 'set id');
    eq(read?.issuedAt, T - 1000, 'issuedAt');
    eq(read?.total, 10, 'total');
    eq(read?.codes.length, 10, 'stored codes');
    const first = set1.codes[0] as StoredRecoveryCode;
    eq(await s.consumeRecoveryCode(b, first.id), false, "consuming another user's code");
    eq(await s.consumeRecoveryCode(a, first.id), true, 'first consumption');
    eq(await s.consumeRecoveryCode(a, first.id), false, 'second consumption');
    eq((await listed(s, a)).length, 9, 'remaining codes');
    eq((await s.getRecoveryCodeSet(a))?.total, 10, 'total is kept after a consumption');
    await s.recordFailure(a, 'recovery', T);
    const set2 = set('two', 10);
    eq(await s.replaceRecoveryCodes(a, set2, set1.setId), true, 'replacement of the current set');
    const after = await listed(s, a);
    eq(after.length, 10, 'codes after replacement');
    check(after.every((c) => set2.codes.some((d) => d.id === c.id && d.hash === c.hash)), 'only the new set is listed');
    eq(await s.consumeRecoveryCode(a, (set1.codes[1] as StoredRecoveryCode).id), false, 'consuming a replaced code');
    eq((await s.getState(a, 'recovery', 'recovery')).failures, 1, 'replacement keeps failure counts');
  });

  add('replaces a set only from the set the caller read', async () => {
    const s = await make();
    const u = uid();
    const one = set('cas1', 2);
    eq(await s.replaceRecoveryCodes(u, one, 'no-such-set'), false, 'replacement of a set that does not exist');
    eq(await s.getRecoveryCodeSet(u), null, 'nothing stored by a lost replacement');
    eq(await s.replaceRecoveryCodes(u, one, null), true, 'first set');
    eq(await s.replaceRecoveryCodes(u, set('cas2', 2), null), false, '"no set" expected while one exists');
    eq(await s.replaceRecoveryCodes(u, set('cas3', 2), 'stale-set'), false, 'a stale expected set');
    eq((await s.getRecoveryCodeSet(u))?.setId, one.setId, 'the first set is still current');
    const spent = set('cas4', 1);
    eq(await s.replaceRecoveryCodes(u, spent, one.setId), true, 'replacement');
    eq(await s.consumeRecoveryCode(u, (spent.codes[0] as StoredRecoveryCode).id), true, 'last code used');
    const empty = await s.getRecoveryCodeSet(u);
    eq(empty?.setId, spent.setId, 'a set with no unused code is still the current set');
    eq(empty?.codes.length, 0, 'no unused code');
  });

  add(`${n} concurrent replacements of one set: exactly one wins`, async () => {
    const s = await make();
    const u = uid();
    const base = set('base', 3);
    await s.replaceRecoveryCodes(u, base, null);
    const candidates = Array.from({ length: n }, (_, i) => set(`r${i}`, 3));
    const results = await Promise.all(candidates.map((c) => s.replaceRecoveryCodes(u, c, base.setId)));
    eq(results.filter(Boolean).length, 1, 'winners');
    const winner = candidates[results.indexOf(true)] as RecoveryCodeSet;
    const current = await s.getRecoveryCodeSet(u);
    eq(current?.setId, winner.setId, 'the winner is the current set');
    check(
      (current?.codes ?? []).every((c) => winner.codes.some((d) => d.id === c.id)) && current?.codes.length === 3,
      "exactly the winner's codes are stored",
    );
    const fresh = Array.from({ length: n }, (_, i) => set(`f${i}`, 1));
    const first = await Promise.all(fresh.map((c) => s.replaceRecoveryCodes(uid(), c, null)));
    check(first.every(Boolean), 'first sets of different users never conflict');
    const u2 = uid();
    const firstRace = await Promise.all(fresh.map((c) => s.replaceRecoveryCodes(u2, c, null)));
    eq(firstRace.filter(Boolean).length, 1, 'winners among concurrent first sets of one user');
  });

  add(`${n} concurrent redemptions of one recovery code: exactly one succeeds`, async () => {
    const s = await make();
    const u = uid();
    const race = set('race', 3);
    await s.replaceRecoveryCodes(u, race, null);
    const id = (race.codes[2] as StoredRecoveryCode).id;
    const results = await Promise.all(Array.from({ length: n }, () => s.consumeRecoveryCode(u, id)));
    eq(results.filter(Boolean).length, 1, 'winners');
  });

  add('replacement racing redemption never lets old and new codes both work', async () => {
    const s = await make();
    const u = uid();
    const oldSet = set('old', 10);
    const newSet = set('new', 10);
    await s.replaceRecoveryCodes(u, oldSet, null);
    const [, ...results] = await Promise.all([
      s.replaceRecoveryCodes(u, newSet, oldSet.setId),
      ...oldSet.codes.map((c) => s.consumeRecoveryCode(u, c.id)),
    ]);
    const after = await listed(s, u);
    eq(after.length, 10, 'the new set is whole after the race');
    check(after.every((c) => newSet.codes.some((d) => d.id === c.id)), 'no old code survives the replacement');
    for (const c of oldSet.codes) eq(await s.consumeRecoveryCode(u, c.id), false, 'old code after replacement');
    check(results.every((r) => typeof r === 'boolean'), 'consume resolves booleans');
  });

  add('concurrent regenerations through the verifier: exactly one returns codes, and they work', async () => {
    const s = await make();
    const v = verifierOn(s, { recoveryHash: { logN: 10 } });
    const u = uid();
    await v.issueRecoveryCodes({ userId: u, count: 2 });
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => v.regenerateRecoveryCodes({ userId: u, count: 2 })));
    const won = outcomes.filter((o): o is PromiseFulfilledResult<string[]> => o.status === 'fulfilled');
    eq(won.length, 1, 'regenerations that returned codes');
    for (const o of outcomes)
      if (o.status === 'rejected')
        check(o.reason instanceof OtpkitError && o.reason.code === 'ERR_CONFLICT', `a losing regeneration threw ${String(o.reason)}`);
    const [code] = (won[0] as PromiseFulfilledResult<string[]>).value;
    const r = await v.redeemRecoveryCode({ userId: u, code: code as string, now: T });
    eq(r.ok, true, 'a code of the returned set works');
  });

  add('end to end: replay refused, throttled, then locked', async () => {
    const s = await make();
    const v = verifierOn(s, { throttle: { freeFailures: 2, baseDelayMs: 1000, maxFailures: 5 } });
    const u = uid();
    const token = generateTOTP(SECRET, { now: T });
    const ok = await v.verifyTOTP({ userId: u, secret: SECRET, token, now: T });
    eq(ok.ok, true, 'first use');
    const again = await v.verifyTOTP({ userId: u, secret: SECRET, token, now: T });
    eq(again.ok ? 'ok' : again.reason, 'replayed', 'second use');
    const older = generateTOTP(SECRET, { now: T - 30_000 });
    const old = await v.verifyTOTP({ userId: u, secret: SECRET, token: older, now: T });
    eq(old.ok ? 'ok' : old.reason, 'replayed', 'older in-window code after a newer one');
    const u2 = uid();
    let t = T;
    const reasons: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await v.verifyTOTP({ userId: u2, secret: SECRET, token: 'abcdef', now: t });
      reasons.push(r.ok ? 'ok' : r.reason);
      t += 3_600_000;
    }
    eq(reasons.join(','), 'malformed,malformed,malformed,malformed,malformed,locked,locked,locked', 'reasons');
    const good = await v.verifyTOTP({ userId: u2, secret: SECRET, token: generateTOTP(SECRET, { now: t }), now: t });
    eq(good.ok ? 'ok' : good.reason, 'locked', 'a correct code while locked');
    const h = await v.verifyHOTP({ userId: uid(), secret: SECRET, token: generateHOTP(SECRET, 3) });
    eq(h.ok && h.next, 4n, 'HOTP next counter');
  });

  for (const method of METHODS) {
    for (const mode of ['throw', 'hang', 'garbage'] as const) {
      add(`fails closed when ${method} ${mode === 'garbage' ? 'returns malformed data' : `${mode}s`}`, async () => {
        const base = await make();
        const seed = verifierOn(base);
        let hits = 0;
        const counted: OtpStore = new Proxy(faultyStore(base, method, mode), {
          get(target, prop, receiver): unknown {
            if (prop === method) hits++;
            return Reflect.get(target, prop, receiver);
          },
        });
        const broken = verifierOn(counted);
        // Each attempt has its own user, so one attempt's failure count never throttles the next.
        const attempts: Array<(u: string) => Promise<{ ok: boolean }>> = [
          // One step ahead, so a success also learns drift (reaching setDrift).
          (u) => broken.verifyTOTP({ userId: u, secret: SECRET, token: generateTOTP(SECRET, { now: T + 30_000 }), now: T }),
          (u) => broken.verifyTOTP({ userId: u, secret: SECRET, token: '000000', now: T }),
          (u) => broken.verifyHOTP({ userId: u, secret: SECRET, token: generateHOTP(SECRET, 0) }),
          async (u) => {
            // Seed recovery codes through the healthy store so redemption reaches every call.
            const [code] = await seed.issueRecoveryCodes({ userId: u, count: 2 });
            hits = 0;
            return broken.redeemRecoveryCode({ userId: u, code: code as string, now: T });
          },
          async (u) => {
            await broken.issueRecoveryCodes({ userId: u, count: 1 });
            return { ok: false };
          },
        ];
        let reached = 0;
        for (const attempt of attempts) {
          hits = 0;
          let outcome: { ok: boolean } | Error;
          try {
            outcome = await attempt(uid());
          } catch (e) {
            check(e instanceof OtpkitError && e.code.startsWith('ERR_STORE'), `${method} ${mode}: threw ${String(e)} instead of a storage OtpkitError`);
            outcome = e as Error;
          }
          if (hits === 0) continue; // this attempt never reached the faulty method
          reached++;
          // A fault in any call the attempt made must surface as a storage error: never ok: true,
          // never a plain "wrong code".
          check(outcome instanceof OtpkitError, `${method} ${mode}: an attempt that hit the fault returned ${JSON.stringify(outcome)} instead of throwing`);
        }
        check(reached > 0, `${method} ${mode}: no attempt reached the faulty method`);
      });
    }
  }

  return cases;
}
