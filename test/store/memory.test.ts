import { describe, expect, it } from 'vitest';
import { storeContract } from '../../src/testing.js';
import { createMemoryStore } from '../../src/store/memory.js';

describe('memory store: the store contract', () => {
  const store = createMemoryStore();
  for (const c of storeContract(() => store)) it(c.name, c.run, c.timeoutMs);
});

describe('memory store', () => {
  it('says it is not distributed-safe', () => {
    expect(createMemoryStore().distributedSafe).toBe(false);
  });

  it('forgets everything on clear()', async () => {
    const s = createMemoryStore();
    await s.claimTotpStep('u', 'c', 5);
    await s.recordFailure('u', 'c', 1);
    s.clear();
    expect(await s.getState('u', 'c', 'c')).toEqual({ failures: 0, lastFailureAt: 0, drift: 0, hotpCounter: null, lastStep: null });
  });
});
