import { describe, expect, it } from 'vitest';
import { factorStoreContract, storeContract } from '../../src/testing.js';
import { createMemoryStore } from '../../src/store/memory.js';

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
