import { describe, expect, it } from 'vitest';
import { factorStoreContract, storeContract } from '../../src/testing.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { stepUpSettle } from './records.js';

describe('memory store: the OtpStore contract', () => {
  const store = createMemoryStore();
  for (const c of storeContract(() => store)) it(c.name, c.run, c.timeoutMs);
});

describe('memory store: the FactorStore contract', () => {
  const store = createMemoryStore();
  for (const c of factorStoreContract(() => store)) it(c.name, c.run, c.timeoutMs);
});

describe('memory store', () => {
  it('says it is not distributed-safe', () => {
    expect(createMemoryStore().distributedSafe).toBe(false);
  });

  it('a success drops the step-up tokens that expired more than 5 minutes before it, and keeps the rest', async () => {
    const s = createMemoryStore();
    const T = Date.UTC(2031, 0, 1);
    const hash = (n: number): string => n.toString(16).padStart(64, '0');
    // A won TOTP claim at `now` storing step-up token `n` (valid for 1 s); then only the tokens remain.
    const signIn = async (now: number, n: number): Promise<void> => {
      const r = await s.settleAttempt(stepUpSettle('u', now, hash(n), now + 1000));
      expect(r.status).toBe('ok');
      await s.deleteCredentials('u', ['c']);
    };
    await signIn(T, 1);
    expect(s.holds('u')).toBe(true);
    // 4 min 59 s after token 1 expired: it stays (another server's clock may still be behind).
    await signIn(T + 1000 + 299_000, 2);
    expect(await s.consumeStepUp('u', hash(2), T + 1000 + 299_000)).toBe(true);
    expect(s.holds('u')).toBe(true);
    // More than 5 minutes after: gone with the next success.
    await signIn(T + 1000 + 300_001, 3);
    expect(await s.consumeStepUp('u', hash(3), T + 1000 + 300_001)).toBe(true);
    expect(s.holds('u')).toBe(false);
  });

  it('send quotas long over are swept once the quota map doubles; live ones are kept', async () => {
    const s = createMemoryStore();
    const T = Date.UTC(2031, 0, 1);
    const rule = { limit: 1, windowMs: 60_000, cooldownMs: 0 };
    // A user who has only a send quota left (holds() sees it through the user's entry).
    const send = async (userId: string, now: number) => {
      await s.initCredential(userId, 'c', null, null);
      const r = await s.reserveSend({ kind: 'user', userId }, rule, now);
      await s.deleteCredentials(userId, ['c']);
      return r;
    };
    for (let i = 0; i < 1024; i++) expect(await send(`old${i}`, T)).toEqual({ ok: true });
    expect(s.holds('old0')).toBe(true);
    // The next day: a live quota among 1,024 dead ones; the 1,025th quota sweeps the dead.
    expect(await send('live', T + 86_400_000)).toEqual({ ok: true });
    expect(s.holds('old0')).toBe(false);
    expect(s.holds('old1023')).toBe(false);
    expect(s.holds('live')).toBe(true);
    expect(await send('live', T + 86_400_000)).toMatchObject({ ok: false });
  });

  it('forgets everything on clear(), and says whether it holds anything of a user', async () => {
    const s = createMemoryStore();
    expect(s.holds('u')).toBe(false);
    await s.initCredential('u', 'c', 5, null);
    expect(s.holds('u')).toBe(true);
    s.clear();
    expect(s.holds('u')).toBe(false);
    expect(await s.getCredentials('u', ['c'])).toEqual({ c: null });
  });
});
