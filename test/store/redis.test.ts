/**
 * The Redis store against the real server of OTPKIT_REDIS_URL (started by .ci/run): the full
 * store contract with an ioredis and with a node-redis client, NOSCRIPT recovery, injective key
 * escaping, no TTLs, tampered data (→ ERR_STORE_CORRUPT, never ok: true), and exact failure
 * counting under 100 concurrent wrong codes. Keys live under a per-run prefix, removed at the end.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtpkitError } from '../../src/errors.js';
import { createRedisStore, type RedisClientLike, type RedisStore } from '../../src/store/redis.js';
import { storeContract } from '../../src/testing.js';
import { generateHOTP } from '../../src/hotp.js';
import { generateTOTP } from '../../src/totp.js';
import { createVerifier, OTP_SCOPE, type Verifier } from '../../src/verifier.js';
import { describeWithEnv } from './_servers.js';
const S = (codes: { id: string; hash: string }[], setId = 's1') => ({ setId, issuedAt: 0, total: codes.length, codes });

const SECRET = new Uint8Array(20).map((_, i) => i * 11 + 3);
const T = Date.UTC(2031, 0, 1, 12, 0, 0);
const RUN = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/** Every key under `prefix` (SCAN, never KEYS in a shared server). */
async function keysOf(raw: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== '0');
  return out;
}

async function dropPrefix(raw: Redis, prefix: string): Promise<void> {
  const keys = await keysOf(raw, prefix);
  for (let i = 0; i < keys.length; i += 500) await raw.del(...keys.slice(i, i + 500));
}

/** Resolves the promise's rejection, failing if it resolved (and showing what it resolved). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    const v = await p;
    return new Error(`expected a rejection, got ${JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))}`);
  } catch (e) {
    return e;
  }
}

describe('createRedisStore: arguments (no server needed)', () => {
  const client = { call: async (): Promise<unknown> => null };
  it('is distributed-safe and exposes its prefix', () => {
    const s = createRedisStore({ client });
    expect(s.distributedSafe).toBe(true);
    expect(s.prefix).toBe('otpkit:');
  });
  it('rejects clients without call/sendCommand, braces in the prefix, unknown options', () => {
    expect(() => createRedisStore({ client: {} as unknown as RedisClientLike })).toThrow(TypeError);
    expect(() => createRedisStore({ client, prefix: 'a{b}:' })).toThrow(RangeError);
    expect(() => createRedisStore({ client, prefix: 5 as unknown as string })).toThrow(TypeError);
    expect(() => createRedisStore({ client, prefx: 'x' } as unknown as { client: RedisClientLike })).toThrow(RangeError);
    expect(() => createRedisStore({ client, waitForReplicas: { replicas: 0, timeoutMs: 10 } })).toThrow(RangeError);
  });
  it('rejects invalid ids and values before sending anything', async () => {
    let sent = 0;
    const s = createRedisStore({ client: { call: async () => (sent++, null) } });
    await expect(s.claimTotpStep('', 'c', 1)).rejects.toThrow(RangeError);
    await expect(s.claimTotpStep('u'.repeat(257), 'c', 1)).rejects.toThrow(RangeError);
    await expect(s.claimTotpStep('u', 'c', -1)).rejects.toThrow(RangeError);
    await expect(s.claimTotpStep('u', 'c', 1.5)).rejects.toThrow(RangeError);
    await expect(s.compareAndSetHotpCounter('u', 'c', null, 1n << 64n)).rejects.toThrow(RangeError);
    await expect(s.setDrift('u', 'c', 11)).rejects.toThrow(RangeError);
    await expect(s.replaceRecoveryCodes('u', S([{ id: 'a', hash: 'h' }, { id: 'a', hash: 'h' }]), null)).rejects.toThrow(RangeError);
    expect(sent).toBe(0);
  });
});

describeWithEnv('OTPKIT_REDIS_URL', 'Redis store (real server)', (url) => {
  let raw: Redis;
  beforeAll(async () => {
    raw = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await raw.connect();
  });
  afterAll(async () => {
    await dropPrefix(raw, `otpkit-test:${RUN}:`);
    await raw.quit();
  });

  const flavours: Array<{ name: string; connect: () => Promise<{ client: RedisClientLike; close: () => Promise<void> }> }> = [
    {
      name: 'ioredis',
      connect: async () => {
        const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
        await c.connect();
        return { client: c, close: async () => void (await c.quit()) };
      },
    },
    {
      name: 'node-redis',
      connect: async () => {
        const c = createClient({ url });
        c.on('error', () => {});
        await c.connect();
        return { client: c, close: async () => void (await c.close()) };
      },
    },
  ];

  for (const flavour of flavours) {
    describe(`store contract with ${flavour.name}`, () => {
      const prefix = `otpkit-test:${RUN}:${flavour.name}:`;
      let store: RedisStore;
      let close: () => Promise<void>;
      beforeAll(async () => {
        const c = await flavour.connect();
        close = c.close;
        store = createRedisStore({ client: c.client, prefix });
      });
      afterAll(async () => close());
      for (const c of storeContract(() => store, { userPrefix: `contract-${flavour.name}` })) it(c.name, c.run, c.timeoutMs);

      it('recovers from a flushed script cache (NOSCRIPT → EVAL)', async () => {
        await raw.script('FLUSH');
        expect(await store.claimTotpStep('noscript', 'c', 1)).toBe(true);
        expect(await store.claimTotpStep('noscript', 'c', 1)).toBe(false);
      });
    });
  }

  describe('Redis-specific behaviour (ioredis)', () => {
    const prefix = `otpkit-test:${RUN}:specific:`;
    let store: RedisStore;
    let verifier: Verifier;
    beforeAll(() => {
      store = createRedisStore({ client: raw, prefix });
      verifier = createVerifier({ store, now: () => T, recoveryHash: { logN: 10 } });
    });

    it('keeps the state of ids that differ only in a lone surrogate apart', async () => {
      const weird = 'a{b}c:d}{ é😀 \uD800%0041';
      const twin = 'a{b}c:d}{ é😀 \uD801%0041'; // UTF-8 would turn both surrogates into U+FFFD
      // The verifier refuses lone surrogates; the store itself must still keep such ids apart.
      expect(await store.claimTotpStep(weird, 'app:1', 7)).toBe(true);
      expect(await store.claimTotpStep(twin, 'app:1', 7)).toBe(true);
      await store.setDrift(weird, 'app:1', 1);
      expect((await store.getState(twin, 'app:1', 'app:1')).drift).toBe(0);
      expect((await store.getState(weird, 'app:1', 'app:1')).drift).toBe(1);
    });

    it('escapes credential ids and scopes injectively (":" and "%" included)', async () => {
      const u = 'escapes';
      expect(await store.claimTotpStep(u, 'a:b', 10)).toBe(true);
      expect(await store.claimTotpStep(u, 'a%003ab', 10)).toBe(true);
      expect(await store.claimTotpStep(u, 'a', 10)).toBe(true);
      expect(await store.claimTotpStep(u, 'recovery', 10)).toBe(true);
      await store.recordFailure(u, 'a:b', T);
      expect((await store.getState(u, 'x', 'a%003ab')).failures).toBe(0);
      expect((await store.getState(u, 'x', 'a:b')).failures).toBe(1);
      await store.replaceRecoveryCodes(u, S([{ id: 'id:with:colons', hash: 'h' }]), null);
      expect((await store.getState(u, 'recovery', 'recovery')).lastStep).toBe(10);
      expect((await store.getRecoveryCodeSet(u))?.codes).toEqual([{ id: 'id:with:colons', hash: 'h' }]);
      expect(await store.consumeRecoveryCode(u, 'id:with:colons')).toBe(true);
      // The user tag of 'a' and 'a}' or 'a:cred:x' never overlap.
      expect(await store.claimTotpStep('a}', 'c', 1)).toBe(true);
      expect(await store.claimTotpStep('a', 'c', 1)).toBe(true);
      expect(await store.claimTotpStep('a:cred:c', 'c', 1)).toBe(true);
    });

    it('never sets a TTL on replay, counter, throttle or recovery state', async () => {
      const u = 'ttl';
      await store.claimTotpStep(u, 'c', 1);
      await store.recordFailure(u, 'c', T);
      await store.replaceRecoveryCodes(u, S([{ id: 'i', hash: 'h' }]), null);
      const keys = (await keysOf(raw, prefix)).filter((k) => k.includes('{ttl}'));
      expect(keys.length).toBe(4);
      for (const k of keys) expect(await raw.pttl(k)).toBe(-1);
    });

    type Tamper = { name: string; apply: (u: string) => Promise<unknown>; attempt: (u: string) => Promise<{ ok: boolean }> };
    const cred = (u: string): string => `${prefix}{${escapeForTest(u)}}:cred:default`;
    const fail = (u: string, scope = OTP_SCOPE): string => `${prefix}{${escapeForTest(u)}}:fail:${scope}`;
    const rec = (u: string): string => `${prefix}{${escapeForTest(u)}}:recovery`;
    const totp = (u: string) => verifier.verifyTOTP({ userId: u, secret: SECRET, token: generateTOTP(SECRET, { now: T }) });
    const hotp = (u: string) => verifier.verifyHOTP({ userId: u, secret: SECRET, token: generateHOTP(SECRET, 0) });
    const tampers: Tamper[] = [
      ...['abc', '-1', '1.5', '1e3', '007', ' 5', '', '9007199254740993', '99999999999999999999'].map(
        (v): Tamper => ({ name: `lastStep ${JSON.stringify(v)}`, apply: (u) => raw.hset(cred(u), 'lastStep', v), attempt: totp }),
      ),
      ...['-5', '18446744073709551616', '1e3', '0x10', '01', 'abc', '3.0'].map(
        (v): Tamper => ({ name: `hotpCounter ${JSON.stringify(v)}`, apply: (u) => raw.hset(cred(u), 'hotpCounter', v), attempt: hotp }),
      ),
      ...['11', '-11', '1.0', '-0', '+1', 'x'].map(
        (v): Tamper => ({ name: `drift ${JSON.stringify(v)}`, apply: (u) => raw.hset(cred(u), 'drift', v), attempt: totp }),
      ),
      ...['-5', '1.5', 'abc', '99999999999999999999'].map(
        (v): Tamper => ({
          name: `failures ${JSON.stringify(v)}`,
          apply: (u) => raw.hset(fail(u), 'failures', v, 'lastFailureAt', '1'),
          attempt: totp,
        }),
      ),
      { name: 'lastFailureAt "x"', apply: (u) => raw.hset(fail(u), 'failures', '1', 'lastFailureAt', 'x'), attempt: totp },
      { name: 'failures without lastFailureAt', apply: (u) => raw.hset(fail(u), 'failures', '1'), attempt: totp },
      { name: 'credential key of type string', apply: (u) => raw.set(cred(u), '5'), attempt: totp },
      { name: 'throttle key of type list', apply: (u) => raw.rpush(fail(u), '1'), attempt: totp },
      {
        name: 'recovery key of type set',
        apply: (u) => raw.sadd(rec(u), 'x'),
        attempt: (u) => verifier.redeemRecoveryCode({ userId: u, code: 'ABCD-EFGH-JKMN-PQRS' }),
      },
      {
        name: 'recovery throttle key of type zset',
        apply: (u) => raw.zadd(fail(u, 'recovery'), 1, 'x'),
        attempt: (u) => verifier.redeemRecoveryCode({ userId: u, code: 'ABCD-EFGH-JKMN-PQRS' }),
      },
    ];
    let n = 0;
    for (const t of tampers) {
      it(`tampered ${t.name} → ERR_STORE_CORRUPT, never ok: true`, async () => {
        const u = `tamper-${++n}`;
        await t.apply(u);
        const e = await rejection(t.attempt(u));
        expect(e).toBeInstanceOf(OtpkitError);
        expect((e as OtpkitError).code).toBe('ERR_STORE_CORRUPT');
        // The message names the field, never the stored value.
        expect((e as OtpkitError).message).not.toMatch(/abc|1e3|18446744073709551616/);
      });
    }

    it('a tampered recovery-code hash → ERR_STORE_CORRUPT, never ok: true', async () => {
      const u = 'tamper-recovery-hash';
      const [code] = await verifier.issueRecoveryCodes({ userId: u, count: 1 });
      const [id] = await raw.hkeys(rec(u));
      await raw.hset(rec(u), id as string, 'garbage');
      const e = await rejection(verifier.redeemRecoveryCode({ userId: u, code: code as string }));
      expect(e).toBeInstanceOf(OtpkitError);
      expect((e as OtpkitError).code).toBe('ERR_STORE_CORRUPT');
    });

    it('100 concurrent wrong codes through the verifier count exactly 100 failures, then lock', async () => {
      const u = 'hundred';
      const v = createVerifier({ store, now: () => T, throttle: { maxFailures: 100, freeFailures: 100 } });
      const valid = new Set([-1, 0, 1].map((d) => generateTOTP(SECRET, { now: T + d * 30_000 })));
      const wrong = ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c)) as string;
      const results = await Promise.all(Array.from({ length: 100 }, () => v.verifyTOTP({ userId: u, secret: SECRET, token: wrong })));
      expect(results.every((r) => !r.ok && r.reason === 'invalid')).toBe(true);
      expect((await store.getState(u, 'default', OTP_SCOPE)).failures).toBe(100);
      const locked = await v.verifyTOTP({ userId: u, secret: SECRET, token: generateTOTP(SECRET, { now: T }) });
      expect(locked).toEqual({ ok: false, reason: 'locked' });
      expect((await store.getState(u, 'default', OTP_SCOPE)).failures).toBe(100);
    });
  });
});

/** The store's key escape, restated independently for the assertions. */
function escapeForTest(s: string): string {
  return Array.from({ length: s.length }, (_, i) => {
    const ch = s[i] as string;
    return /[A-Za-z0-9_.@-]/.test(ch) ? ch : `%${s.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }).join('');
}
