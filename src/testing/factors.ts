/**
 * The `FactorStore` contract suite: the registry of enrolled factors, concurrency included.
 * @module
 */
import type { FactorRecord, FactorStore } from '../store/types.js';
import { check, eq, ids, suite, type ContractCase } from './_check.js';

/** Options of {@link factorStoreContract}. */
export interface FactorStoreContractOptions {
  /** Parallel callers in the race checks. @defaultValue 50 */
  readonly concurrency?: number | undefined;
  /** A prefix for the user ids the cases create. @defaultValue random */
  readonly userPrefix?: string | undefined;
}

const T = Date.UTC(2030, 0, 1);
const LIMITS = { maxPending: 3, maxConfirmed: 2 } as const;

/**
 * Builds the `FactorStore` contract cases for a store factory.
 *
 * @param make - creates (or returns) the store under test; called once per case.
 * @param options - {@link FactorStoreContractOptions}.
 * @returns the cases: records kept field for field, pending and confirmed limits, dead pending
 *   factors dropped, confirmation (expired, already confirmed, another user's, over the limit),
 *   rename, removal, compare-and-set re-sealing, scanning every factor once, and races: 50
 *   concurrent confirmations of one enrollment → one; concurrent confirmations of different
 *   enrollments never exceed the limit.
 * @example
 * ```ts
 * for (const c of factorStoreContract(() => createMemoryStore())) it(c.name, c.run, c.timeoutMs);
 * ```
 */
export function factorStoreContract(
  make: () => FactorStore | Promise<FactorStore>,
  options?: FactorStoreContractOptions,
): ContractCase[] {
  const n = options?.concurrency ?? 50;
  const uid = ids(options?.userPrefix);
  const { cases, add } = suite();
  let seq = 0;
  const factor = (userId: string, extra: Partial<FactorRecord> = {}): FactorRecord => {
    const id = `f${++seq}`;
    return {
      userId,
      id,
      type: 'totp',
      label: `Phone ${seq}`,
      status: 'pending',
      sealedSecret: `otpkit-sealed:v1:k1:${id}:sealed`,
      hint: null,
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
      createdAt: T + seq,
      confirmedAt: null,
      expiresAt: T + 600_000,
      ...extra,
    };
  };
  const confirmed = (userId: string, extra: Partial<FactorRecord> = {}): FactorRecord =>
    factor(userId, { status: 'confirmed', confirmedAt: T, expiresAt: null, ...extra });

  add('keeps a factor field for field and lists a user’s factors oldest first', async () => {
    const s = await make();
    const u = uid();
    const a = factor(u, {
      type: 'hotp',
      algorithm: 'SHA512',
      digits: 8,
      period: 60,
      label: 'Clé ✓ 🔑',
    });
    const b = confirmed(u);
    eq(await s.addFactor(a, LIMITS, T), 'added', 'pending');
    eq(await s.addFactor(b, LIMITS, T), 'added', 'confirmed');
    eq(await s.listFactors(u), [a, b], 'listed');
    eq(await s.listFactors(uid()), [], 'another user');
  });

  add(
    'limits: live pending and confirmed factors, with dead pending ones dropped first',
    async () => {
      const s = await make();
      const u = uid();
      for (let i = 0; i < LIMITS.maxPending; i++)
        eq(await s.addFactor(factor(u), LIMITS, T), 'added', `pending ${i}`);
      eq(await s.addFactor(factor(u), LIMITS, T), 'limit', 'one pending too many');
      for (let i = 0; i < LIMITS.maxConfirmed; i++)
        eq(await s.addFactor(confirmed(u), LIMITS, T), 'added', `confirmed ${i}`);
      eq(await s.addFactor(confirmed(u), LIMITS, T), 'limit', 'one confirmed too many');
      // Later, the pending ones are dead: they are dropped and no longer count.
      const later = T + 600_000;
      eq(
        await s.addFactor(factor(u, { expiresAt: later + 600_000 }), LIMITS, later),
        'added',
        'after the pending ones died',
      );
      eq(
        (await s.listFactors(u)).filter((f) => f.status === 'pending').length,
        1,
        'dead pending factors are gone',
      );
    },
  );

  add('confirmFactor: pending and live only, within the limit, the user’s own', async () => {
    const s = await make();
    const u = uid();
    const a = factor(u);
    const b = factor(u, { expiresAt: T + 10 });
    const c = factor(u);
    const d = factor(u);
    for (const f of [a, b]) await s.addFactor(f, LIMITS, T);
    eq(await s.confirmFactor(u, a.id, T + 5, 2), 'confirmed', 'confirmed');
    const listed = (await s.listFactors(u)).find((f) => f.id === a.id);
    eq(
      [listed?.status, listed?.confirmedAt, listed?.expiresAt],
      ['confirmed', T + 5, null],
      'stored',
    );
    eq(await s.confirmFactor(u, a.id, T + 5, 2), 'not-found', 'already confirmed');
    eq(await s.confirmFactor(uid(), b.id, T + 5, 2), 'not-found', "another user's factor");
    eq(await s.confirmFactor(u, 'nope', T + 5, 2), 'not-found', 'unknown');
    eq(await s.confirmFactor(u, b.id, T + 10, 2), 'expired', 'expired at expiresAt');
    await s.addFactor(c, LIMITS, T + 20);
    await s.addFactor(d, LIMITS, T + 20);
    eq(await s.confirmFactor(u, c.id, T + 20, 2), 'confirmed', 'the second');
    eq(await s.confirmFactor(u, d.id, T + 20, 2), 'limit', 'over the limit');
  });

  add(`${n} concurrent confirmations of one enrollment: exactly one`, async () => {
    const s = await make();
    const u = uid();
    const f = factor(u);
    await s.addFactor(f, LIMITS, T);
    const results = await Promise.all(
      Array.from({ length: n }, () => s.confirmFactor(u, f.id, T, 10)),
    );
    eq(results.filter((r) => r === 'confirmed').length, 1, 'winners');
  });

  add('concurrent confirmations of different enrollments never exceed the limit', async () => {
    const s = await make();
    const u = uid();
    const fs = [factor(u), factor(u), factor(u)];
    for (const f of fs) await s.addFactor(f, { maxPending: 10, maxConfirmed: 10 }, T);
    const results = await Promise.all(fs.map((f) => s.confirmFactor(u, f.id, T, 1)));
    eq(results.filter((r) => r === 'confirmed').length, 1, 'confirmed with a limit of 1');
    eq((await s.listFactors(u)).filter((f) => f.status === 'confirmed').length, 1, 'stored');
  });

  add('rename, remove one, remove all, re-seal by compare-and-set', async () => {
    const s = await make();
    const u = uid();
    const a = confirmed(u);
    const b = confirmed(u);
    await s.addFactor(a, LIMITS, T);
    await s.addFactor(b, LIMITS, T);
    eq(await s.renameFactor(u, a.id, 'Work phone'), true, 'renamed');
    eq(await s.renameFactor(uid(), a.id, 'x'), false, "another user's factor");
    eq((await s.listFactors(u)).find((f) => f.id === a.id)?.label, 'Work phone', 'new label');
    eq(
      await s.resealFactor(u, a.id, 'not it', 'otpkit-sealed:v1:k2:x:y'),
      false,
      'a stale expectation',
    );
    eq(await s.resealFactor(u, a.id, a.sealedSecret, 'otpkit-sealed:v1:k2:x:y'), true, 're-sealed');
    eq(
      (await s.listFactors(u)).find((f) => f.id === a.id)?.sealedSecret,
      'otpkit-sealed:v1:k2:x:y',
      'new sealed secret',
    );
    eq(await s.removeFactor(u, a.id), true, 'removed');
    eq(await s.removeFactor(u, a.id), false, 'removed twice');
    eq(
      (await s.listFactors(u)).map((f) => f.id),
      [b.id],
      'the other one is left',
    );
    eq(await s.removeFactors(u), 1, 'removed all');
    eq(await s.listFactors(u), [], 'nothing left');
  });

  add('scanFactors visits every factor exactly once, page by page', async () => {
    const s = await make();
    const users = [uid(), uid(), uid()];
    const all = new Set<string>();
    for (const u of users)
      for (let i = 0; i < 4; i++) {
        const f = i % 2 === 0 ? factor(u) : confirmed(u);
        await s.addFactor(f, { maxPending: 10, maxConfirmed: 10 }, T);
        all.add(`${u}\u0000${f.id}`);
      }
    const seen: string[] = [];
    let after: { userId: string; id: string } | null = null;
    for (let page = 0; page < 1000; page++) {
      const got: readonly FactorRecord[] = await s.scanFactors(after, 5);
      check(got.length <= 5, 'a page holds at most `limit` factors');
      if (got.length === 0) break;
      for (const f of got) seen.push(`${f.userId}\u0000${f.id}`);
      const last = got[got.length - 1] as FactorRecord;
      after = { userId: last.userId, id: last.id };
    }
    const mine = seen.filter((k) => all.has(k));
    eq(mine.length, all.size, 'every factor of these users');
    eq(new Set(seen).size, seen.length, 'none twice');
  });

  return cases;
}
