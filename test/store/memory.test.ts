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
