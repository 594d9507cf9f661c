/**
 * The Redis store against the real server of OTPKIT_REDIS_URL (started by .ci/run): both store
 * contracts and the two-factor flow contract with ioredis, node-redis (RESP2) and node-redis
 * (RESP3) clients; the memory store as an oracle for seeded random sequences of operations;
 * argument validation before any command; round trips per operation; NOSCRIPT recovery;
 * injective key escaping; TTLs only on what dies by itself; tampered data (ERR_STORE_CORRUPT,
 * never ok, nothing written); erasure that leaves no key of the user; exact failure counting
 * under 100 concurrent wrong codes. Keys live under a per-run prefix, removed at the end.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBase32 } from '../../src/base32.js';
import { OtpkitError } from '../../src/errors.js';
import { generateHOTP } from '../../src/hotp.js';
import { createRedisStore, type RedisClientLike, type RedisStore } from '../../src/store/redis.js';
import type { ChallengeRecord, FactorRecord, TotpAttempt } from '../../src/store/types.js';
import { factorStoreContract, storeContract, twoFactorContract } from '../../src/testing.js';
import { generateTOTP } from '../../src/totp.js';
import { createTwoFactor, type TwoFactor } from '../../src/twofactor/twofactor.js';
import type { Verifier } from '../../src/verifier/types.js';
import { createVerifier } from '../../src/verifier/verifier.js';
import { expectOneRegenerationWins, expectPerCallNowValidated } from '../_helpers.js';
import { describeWithEnv } from './_servers.js';
import { runOracle } from './redis-oracle.js';
import { attempt, stepUpSettle } from './records.js';

const SECRET = new Uint8Array(20).map((_, i) => i * 11 + 3);
const KEK = new Uint8Array(32).map((_, i) => i + 7);
const T = Date.UTC(2031, 0, 1, 12, 0, 0);
const STEP = Math.floor(T / 30_000);
const RUN = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const BASE = `otpkit-test:${RUN}:`;
const OPEN = { freeFailures: 100, baseDelayMs: 1000, maxDelayMs: 1000, maxFailures: 100 } as const;
const hex64 = (n: number): string => n.toString(16).padStart(64, 'a');

/** The store's key escape, restated independently for the assertions. */
function escapeForTest(s: string): string {
  return Array.from({ length: s.length }, (_, i) => {
    const ch = s[i] as string;
    return /[A-Za-z0-9_.@-]/.test(ch) ? ch : `%${s.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }).join('');
}

/** Every key matching `pattern` (SCAN, never KEYS in a shared server). */
async function scan(raw: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== '0');
  return out;
}

/** Everything stored under `keys`, as text: what "nothing was written" compares. */
async function dump(raw: Redis, keys: readonly string[]): Promise<string> {
  const out: unknown[] = [];
  for (const k of [...keys].sort()) {
    const type = await raw.type(k);
    const content =
      type === 'hash'
        ? Object.entries(await raw.hgetall(k)).sort()
        : type === 'string'
          ? await raw.get(k)
          : type === 'zset'
            ? await raw.call('ZRANGE', k, '0', '-1', 'WITHSCORES')
            : type === 'list'
              ? await raw.lrange(k, 0, -1)
              : type === 'set'
                ? (await raw.smembers(k)).sort()
                : null;
    out.push([k, type, content]);
  }
  return JSON.stringify(out);
}

/** Resolves the promise's rejection, failing if it resolved (and showing what it resolved). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    const v = await p;
    return new Error(
      `expected a rejection, got ${JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))}`,
    );
  } catch (e) {
    return e;
  }
}

const challengeOf = (
  userId: string,
  n: number,
  extra: Partial<ChallengeRecord> = {},
): ChallengeRecord => ({
  hash: hex64(n),
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

const factorOf = (userId: string, id: string, extra: Partial<FactorRecord> = {}): FactorRecord => ({
  userId,
  id,
  type: 'totp',
  label: 'Phone',
  status: 'confirmed',
  sealedSecret: `sealed:${id}`,
  hint: null,
  algorithm: 'SHA1',
  digits: 6,
  period: 30,
  createdAt: T,
  confirmedAt: T,
  expiresAt: null,
  ...extra,
});

/** Enrolls and confirms a TOTP factor through the flow; returns its id and secret. */
async function enroll(
  tf: TwoFactor,
  userId: string,
  now: number,
): Promise<{ factorId: string; secret: Uint8Array; codes: readonly string[] }> {
  const b = await tf.beginEnrollment({ userId, account: 'user@example.com', now });
  if (!b.ok) throw new Error(`beginEnrollment: ${JSON.stringify(b)}`);
  const secret = decodeBase32(b.manualKey.replace(/ /g, ''));
  const c = await tf.confirmEnrollment({
    userId,
    factorId: b.factorId,
    code: generateTOTP(secret, { now }),
    now,
  });
  if (!c.ok) throw new Error(`confirmEnrollment: ${JSON.stringify(c)}`);
  return { factorId: b.factorId, secret, codes: c.recoveryCodes ?? [] };
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
    expect(() =>
      createRedisStore({ client, prefx: 'x' } as unknown as { client: RedisClientLike }),
    ).toThrow(RangeError);
    expect(() =>
      createRedisStore({ client, waitForReplicas: { replicas: 0, timeoutMs: 10 } }),
    ).toThrow(RangeError);
  });

  it('rejects invalid ids and values of every method before sending anything', async () => {
    let sent = 0;
    const s = createRedisStore({ client: { call: async () => (sent++, null) } });
    const policy = { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 1000, maxFailures: 10 };
    const totp = attempt('u', { now: T, step: STEP, policy });
    const begin = {
      userId: 'u',
      scope: 'otp',
      now: T,
      policy,
      credentialIds: [],
      recoverySet: false,
    };
    const settle = {
      userId: 'u',
      scope: 'otp',
      now: T,
      claim: { kind: 'totp', credentialId: 'c', step: STEP, drift: 0, create: true },
    } as const;
    const rule = { limit: 3, windowMs: 60_000, cooldownMs: 0 };
    const device = {
      userId: 'u',
      id: 'd',
      kind: 'trusted',
      tokenHash: hex64(1),
      previousHash: null,
      label: '',
      createdAt: T,
      lastUsedAt: null,
      expiresAt: T + 1,
    } as const;
    const bad: Array<[string, () => Promise<unknown>]> = [
      ['empty userId', () => s.attemptTotp({ ...totp, userId: '' })],
      ['257-unit userId', () => s.attemptTotp({ ...totp, userId: 'u'.repeat(257) })],
      // UTF-8 would turn both lone surrogates into U+FFFD: two users in one key.
      ['lone surrogate', () => s.attemptTotp({ ...totp, userId: 'a\uD800' })],
      ['NUL', () => s.getThrottle('a\u0000b', 'otp')],
      ['negative step', () => s.attemptTotp({ ...totp, step: -1 })],
      ['fractional now', () => s.attemptTotp({ ...totp, now: 1.5 })],
      ['candidate 11', () => s.attemptTotp({ ...totp, candidates: [11] })],
      [
        '22 candidates',
        () => s.attemptTotp({ ...totp, candidates: Array.from({ length: 22 }, () => 0) }),
      ],
      ['past 11', () => s.attemptTotp({ ...totp, past: 11 })],
      [
        'maxFailures 101',
        () => s.attemptTotp({ ...totp, policy: { ...policy, maxFailures: 101 } }),
      ],
      [
        'freeFailures over maxFailures',
        () => s.attemptTotp({ ...totp, policy: { ...policy, freeFailures: 11 } }),
      ],
      ['no user', () => s.beginAttempt({ ...begin, userId: null as unknown as string })],
      ['no scope, no challenge', () => s.beginAttempt({ ...begin, scope: undefined })],
      [
        'credentialIds not an array',
        () => s.beginAttempt({ ...begin, credentialIds: 'c' as unknown as string[] }),
      ],
      ['drift 11', () => s.settleAttempt({ ...settle, claim: { ...settle.claim, drift: 11 } })],
      [
        'counter 2^64',
        () =>
          s.settleAttempt({
            ...settle,
            claim: {
              kind: 'hotp',
              credentialId: 'c',
              expected: null,
              next: 1n << 64n,
              create: true,
            },
          }),
      ],
      ['counter as number', () => s.initCredential('u', 'c', null, 5 as unknown as bigint)],
      ['unknown claim', () => s.settleAttempt({ ...settle, claim: { kind: 'sms' } as never })],
      [
        'oob hash not hex',
        () => s.settleAttempt({ ...settle, claim: { kind: 'oob', codeHash: 'x' } }),
      ],
      [
        'set id',
        () =>
          s.settleAttempt({ ...settle, claim: { kind: 'recovery', setId: 'a b', codeId: 'c' } }),
      ],
      [
        'duplicate code ids',
        () =>
          s.replaceRecoveryCodes(
            'u',
            {
              setId: 's',
              issuedAt: 0,
              total: 2,
              codes: [
                { id: 'a', hash: 'h' },
                { id: 'a', hash: 'h' },
              ],
            },
            null,
          ),
      ],
      [
        'total below the codes',
        () =>
          s.replaceRecoveryCodes(
            'u',
            { setId: 's', issuedAt: 0, total: 0, codes: [{ id: 'a', hash: 'h' }] },
            null,
          ),
      ],
      ['expected set id', () => s.replaceRecoveryCodes('u', null, 'a b')],
      [
        'payload over 16 KiB',
        () => s.createChallenge(challengeOf('u', 1, { payload: 'x'.repeat(16_385) }), 3),
      ],
      [
        '21 challenge credentials',
        () =>
          s.createChallenge(
            challengeOf('u', 1, { credentialIds: Array.from({ length: 21 }, (_, i) => `c${i}`) }),
            3,
          ),
      ],
      ['maxAttempts 0', () => s.createChallenge(challengeOf('u', 1, { maxAttempts: 0 }), 3)],
      ['maxLive 0', () => s.createChallenge(challengeOf('u', 1), 0)],
      [
        'oob code hash',
        () =>
          s.setChallengeCode(
            'u',
            hex64(1),
            { factorId: 'f', codeHash: 'A'.repeat(64), expiresAt: T },
            T,
          ),
      ],
      ['device token hash', () => s.createDevice({ ...device, tokenHash: 'x' }, 3)],
      ['device label of 65', () => s.createDevice({ ...device, label: 'x'.repeat(65) }, 3)],
      ['device kind', () => s.rotateDevice('u', 'other' as never, hex64(1), hex64(2), T, null)],
      ['send bucket', () => s.reserveSend({ kind: 'ip' } as never, rule, T)],
      ['send window 0', () => s.reserveSend({ kind: 'app' }, { ...rule, windowMs: 0 }, T)],
      [
        'factor status',
        () =>
          s.addFactor(
            factorOf('u', 'f', { status: 'confirmed', confirmedAt: null }),
            { maxPending: 1, maxConfirmed: 1 },
            T,
          ),
      ],
      [
        'factor hint on TOTP',
        () =>
          s.addFactor(
            factorOf('u', 'f', { hint: 'a•••@x' }),
            { maxPending: 1, maxConfirmed: 1 },
            T,
          ),
      ],
      [
        'factor label empty',
        () => s.addFactor(factorOf('u', 'f', { label: '' }), { maxPending: 1, maxConfirmed: 1 }, T),
      ],
      [
        'factor digits 9',
        () => s.addFactor(factorOf('u', 'f', { digits: 9 }), { maxPending: 1, maxConfirmed: 1 }, T),
      ],
      ['rename to 65', () => s.renameFactor('u', 'f', 'x'.repeat(65))],
      ['reseal with a number', () => s.resealFactor('u', 'f', 'a', 5 as unknown as string)],
      ['scan limit', () => s.scanFactors(null, -1)],
      ['scan after', () => s.scanFactors({ userId: '', id: 'f' }, 5)],
    ];
    for (const [what, call] of bad) {
      const e = await rejection(call());
      expect(e, what).toSatisfy((x: unknown) => x instanceof TypeError || x instanceof RangeError);
    }
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
    const keys = await scan(raw, `${BASE}*`);
    for (let i = 0; i < keys.length; i += 500) await raw.del(...keys.slice(i, i + 500));
    await raw.quit();
  });

  const flavours: Array<{
    name: string;
    tag: string;
    connect: () => Promise<{ client: RedisClientLike; close: () => Promise<void> }>;
  }> = [
    {
      name: 'ioredis',
      tag: 'io',
      connect: async () => {
        const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
        await c.connect();
        return { client: c, close: async () => void (await c.quit()) };
      },
    },
    {
      // One batch in flight at a time, so 50 parallel calls go out as a few pipelines.
      name: 'ioredis (enableAutoPipelining)',
      tag: 'iop',
      connect: async () => {
        const c = new Redis(url, {
          lazyConnect: true,
          maxRetriesPerRequest: 1,
          enableAutoPipelining: true,
        });
        await c.connect();
        return { client: c, close: async () => void (await c.quit()) };
      },
    },
    {
      name: 'node-redis (RESP2)',
      tag: 'nr2',
      connect: async () => {
        const c = createClient({ url });
        c.on('error', () => {});
        await c.connect();
        return { client: c, close: async () => void (await c.close()) };
      },
    },
    {
      name: 'node-redis (RESP3)',
      tag: 'nr3',
      connect: async () => {
        const c = createClient({ url, RESP: 3 });
        c.on('error', () => {});
        await c.connect();
        return { client: c, close: async () => void (await c.close()) };
      },
    },
  ];

  for (const flavour of flavours) {
    describe(`contracts with ${flavour.name}`, () => {
      let client: RedisClientLike;
      let close: () => Promise<void>;
      let store: RedisStore;
      let n = 0;
      // The flow's contract re-seals every factor of a store: give each case a store of its own.
      const fresh = (): RedisStore =>
        createRedisStore({ client, prefix: `${BASE}${flavour.tag}:${++n}:` });
      beforeAll(async () => {
        const c = await flavour.connect();
        client = c.client;
        close = c.close;
        store = createRedisStore({ client, prefix: `${BASE}${flavour.tag}:` });
      });
      afterAll(async () => close());
      for (const c of storeContract(() => store, { userPrefix: `contract-${flavour.tag}` }))
        it(c.name, c.run, c.timeoutMs);
      for (const c of factorStoreContract(() => store, { userPrefix: `factors-${flavour.tag}` }))
        it(c.name, c.run, c.timeoutMs);
      for (const c of twoFactorContract(() => ({ store: fresh() }), {
        userPrefix: `flow-${flavour.tag}`,
      }))
        it(c.name, c.run, c.timeoutMs);

      const seeds = flavour.tag === 'io' ? 16 : 4;
      for (let seed = 1; seed <= seeds; seed++) {
        it(`behaves as the memory store for seeded random operations (seed ${seed})`, async () => {
          const divergence = await runOracle(
            fresh(),
            seed * 7919,
            flavour.tag === 'io' ? 1200 : 500,
            `oracle-${seed}`,
          );
          expect(divergence).toBeNull();
        }, 120_000);
      }

      it('recovers from a flushed script cache (NOSCRIPT → EVAL)', async () => {
        await raw.script('FLUSH');
        const a = attempt('noscript', { now: T, step: STEP, policy: OPEN });
        expect(await store.attemptTotp(a)).toEqual({ status: 'ok', delta: 0 });
        await raw.script('FLUSH');
        expect(await store.attemptTotp(a)).toEqual({ status: 'replayed', failures: 1 });
      });
    });
  }

  describe('Redis-specific behaviour (ioredis)', () => {
    const prefix = `${BASE}specific:`;
    let store: RedisStore;
    let verifier: Verifier;
    const tag = (u: string): string => `${prefix}{${escapeForTest(u)}}`;
    const userKeys = async (u: string): Promise<string[]> =>
      (await scan(raw, `${prefix}*`)).filter((k) => k.includes(`{${escapeForTest(u)}}`));
    beforeAll(() => {
      store = createRedisStore({ client: raw, prefix });
      verifier = createVerifier({ store, now: () => T, recoveryHash: { logN: 10 } });
    });

    it("autoPipeliningIgnoredCommands: ['EVALSHA', 'EVAL'] leaves every command of the store out of ioredis's auto-pipeline", async () => {
      const queued = async (
        tag: string,
        options: { enableAutoPipelining: boolean; autoPipeliningIgnoredCommands?: string[] },
      ): Promise<number[]> => {
        const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, ...options });
        await c.connect();
        try {
          const s = createRedisStore({ client: c, prefix: `${BASE}pipe:` });
          await c.script('FLUSH'); // the first call then falls back to EVAL
          const sizes: number[] = [];
          for (let i = 0; i < 2; i++) {
            const call = s.attemptTotp(
              attempt(`pipe-${tag}-${i}`, { now: T, step: STEP, policy: OPEN }),
            );
            sizes.push(c.autoPipelineQueueSize); // what the call queued, before it is sent
            expect(await call).toEqual({ status: 'ok', delta: 0 });
          }
          return sizes;
        } finally {
          await c.quit();
        }
      };
      expect(await queued('all', { enableAutoPipelining: true })).toEqual([1, 1]);
      expect(
        await queued('ignored', {
          enableAutoPipelining: true,
          autoPipeliningIgnoredCommands: ['EVALSHA', 'EVAL'],
        }),
      ).toEqual([0, 0]);
    });

    it('concurrent regenerations through a verifier: one set is stored, the others throw ERR_CONFLICT', async () => {
      await expectOneRegenerationWins(store, createVerifier, 'regen-race');
    });

    it('a bad per-call now is TypeError/RangeError, never ERR_STORE; a fractional one corrupts nothing', async () => {
      await expectPerCallNowValidated(store, createVerifier, generateTOTP, 'bad-now');
    });

    it('one round trip per TOTP attempt, per phase and per new challenge, with or without the userId', async () => {
      const log: string[] = [];
      // Commands as they completed; a script's first use after a SCRIPT FLUSH (NOSCRIPT, then
      // EVAL) happens once per server, not per attempt, and is left out.
      const client = {
        call: async (cmd: string, ...args: string[]): Promise<unknown> => {
          try {
            const r = await raw.call(cmd, ...args);
            log.push(`EVALSHA ${(args[2] ?? '').slice(prefix.length)}`);
            return r;
          } catch (e) {
            if (!(e instanceof Error && e.message.startsWith('NOSCRIPT')))
              log.push(`${cmd} ${(args[2] ?? '').slice(prefix.length)}`);
            throw e;
          }
        },
      };
      const s = createRedisStore({ client, prefix });
      const v = createVerifier({ store: s, now: () => T, throttle: OPEN });
      const u = 'round-trips';
      await v.verifyTOTP({
        userId: u,
        secret: SECRET,
        token: generateTOTP(SECRET, { now: T - 60_000 }),
      }); // loads the scripts
      const measure = async (run: () => Promise<unknown>): Promise<string[]> => {
        log.length = 0;
        await run();
        return [...log];
      };
      expect(
        await measure(() =>
          v.verifyTOTP({ userId: u, secret: SECRET, token: generateTOTP(SECRET, { now: T }) }),
        ),
      ).toEqual([`EVALSHA {${u}}:throttle`]);
      expect(
        await measure(() => v.verifyTOTP({ userId: u, secret: SECRET, token: '000000' })),
      ).toEqual([`EVALSHA {${u}}:throttle`]);
      const ch = challengeOf(u, 901);
      expect(await measure(() => s.createChallenge(ch, 3))).toEqual([`EVALSHA {${u}}:challenges`]);
      const begin = {
        challengeHash: ch.hash,
        now: T,
        policy: OPEN,
        credentialIds: [],
        recoverySet: false,
      };
      expect(await measure(() => s.beginAttempt({ ...begin, userId: u }))).toEqual([
        `EVALSHA {${u}}:throttle`,
      ]);
      const settle = {
        userId: u,
        scope: 'otp',
        now: T,
        challengeHash: ch.hash,
        claim: { kind: 'totp', credentialId: 'c', step: STEP, drift: 0, create: true },
      } as const;
      expect(await measure(() => s.settleAttempt(settle))).toEqual([`EVALSHA {${u}}:throttle`]);
      expect(await measure(() => s.beginAttempt({ ...begin, userId: u }))).toEqual([
        `EVALSHA {${u}}:throttle`,
      ]);

      // Through the two-factor flow: a refusal is one round trip, a success two (plus whatever
      // else the flow records), with or without the userId (the challenge id names its user).
      let now = T;
      const tf = createTwoFactor({
        store: s,
        issuer: 'ACME',
        keys: { current: 'k1', keys: { k1: KEK } },
        now: () => now,
        recoveryCodes: { hash: { logN: 10 } },
      });
      const alice = 'round-trips-flow';
      const { secret } = await enroll(tf, alice, now);
      for (const withUser of [true, false]) {
        now += 30_000;
        const c = await tf.startChallenge({ userId: alice });
        if (!c.required) throw new Error('expected a challenge');
        const who = withUser ? { userId: alice } : {};
        const refused = await measure(() =>
          tf.verifyChallenge({ challengeId: c.challengeId, code: '000000', ...who }),
        );
        expect(refused).toEqual([`EVALSHA {${alice}}:throttle`]);
        const won = await measure(() =>
          tf.verifyChallenge({
            challengeId: c.challengeId,
            code: generateTOTP(secret, { now }),
            ...who,
          }),
        );
        // beginAttempt, then settleAttempt (which also stores the new browser's known device).
        expect(won).toEqual([`EVALSHA {${alice}}:throttle`, `EVALSHA {${alice}}:throttle`]);
      }
    });

    it('escapes credential ids and scopes injectively: awkward ids stay apart, no tag holds a brace or a colon', async () => {
      const a = (userId: string, extra: Partial<TotpAttempt> = {}): TotpAttempt =>
        attempt(userId, { now: T, step: STEP, policy: OPEN, ...extra });
      // Users whose naive keys would collide: braces, colons, and the escape's own '%'.
      const users = [
        'a',
        'a}',
        '{a}',
        'a:credentials',
        'a%007d',
        'a}:credentials',
        '{',
        '}',
        ':',
        'é😀 x',
      ];
      for (const u of users)
        expect(await store.attemptTotp(a(u))).toEqual({ status: 'ok', delta: 0 });
      for (const u of users) expect((await store.getCredentials(u, ['c'])).c?.lastStep).toBe(STEP);
      // Credential ids and scopes are hash fields: stored exactly, ':' and '%' included.
      const u = 'escapes';
      for (const c of ['a:b', 'a%003ab', 'a', 'recovery', '__proto__'])
        expect(await store.attemptTotp(a(u, { credentialId: c }))).toEqual({
          status: 'ok',
          delta: 0,
        });
      expect(Object.keys(await store.getCredentials(u, ['__proto__']))).toEqual(['__proto__']);
      await store.attemptTotp(a(u, { scope: 'a:b', candidates: [] }));
      expect((await store.getThrottle(u, 'a%003ab')).failures).toBe(0);
      expect((await store.getThrottle(u, 'a:b')).failures).toBe(1);
      // Every key has exactly one hash tag and only escaped characters inside it.
      for (const k of await scan(raw, `${prefix}*`)) {
        if (k === `${prefix}factors:index`) continue; // the one key of no user: the global order
        expect(k.split('{')).toHaveLength(2);
        expect(k.split('}')).toHaveLength(2);
        expect(k.slice(prefix.length)).toMatch(
          /^(?:\{[A-Za-z0-9_.@%-]+\}:[a-z-]+|\{send:(?:app|d:[A-Za-z0-9_.@%-]+)\})$/,
        );
      }
    });

    it('sets no TTL on throttle, replay, recovery, device or factor state; challenges, step-up tokens and send quotas expire', async () => {
      const u = 'ttl';
      let now = T;
      const tf = createTwoFactor({
        store,
        issuer: 'ACME',
        keys: { current: 'k1', keys: { k1: KEK } },
        now: () => now,
        recoveryCodes: { hash: { logN: 10 } },
      });
      const { secret } = await enroll(tf, u, now);
      now += 30_000;
      const c = await tf.startChallenge({ userId: u });
      if (!c.required) throw new Error('expected a challenge');
      expect(
        (await tf.verifyChallenge({ challengeId: c.challengeId, code: '000000', userId: u })).ok,
      ).toBe(false);
      expect(
        (
          await tf.verifyChallenge({
            challengeId: c.challengeId,
            code: generateTOTP(secret, { now }),
            userId: u,
          })
        ).ok,
      ).toBe(true);
      await tf.startChallenge({ userId: u });
      await store.attemptTotp(
        attempt(u, {
          credentialId: 'x',
          scope: 'other',
          now,
          policy: OPEN,
          step: STEP,
          candidates: [],
        }),
      );
      await store.createDevice(
        {
          userId: u,
          id: 'd1',
          kind: 'trusted',
          tokenHash: hex64(77),
          previousHash: null,
          label: 'Laptop',
          createdAt: now,
          lastUsedAt: null,
          expiresAt: now + 1000,
        },
        3,
      );
      await store.reserveSend(
        { kind: 'user', userId: u },
        { limit: 3, windowMs: 60_000, cooldownMs: 0 },
        now,
      );
      const ttls = new Map<string, number>();
      for (const k of await userKeys(u)) ttls.set(k.slice(tag(u).length + 1), await raw.pttl(k));
      const forever = ['throttle', 'credentials', 'recovery', 'recovery-set', 'factors', 'devices'];
      const expiring = ['challenges', 'step-up', 'send-quota'];
      for (const k of forever) expect(ttls.get(k), k).toBe(-1);
      for (const k of expiring) {
        expect(ttls.get(k), k).toBeGreaterThan(0);
        expect(ttls.get(k), k).toBeLessThanOrEqual(600_000 + 300_000);
      }
      // And no other key of the user.
      expect([...ttls.keys()].sort()).toEqual([...forever, ...expiring].sort());
      expect(await raw.pttl(`${prefix}factors:index`)).toBe(-1);
    });

    it("decides a challenge's expiry with the caller's now, never the server clock", async () => {
      const u = 'caller-clock';
      // 1970 and year 9999: a TTL on the server clock alone would have killed or kept these.
      for (const [n, at] of [
        [911, 1000],
        [912, 253_402_300_000_000],
      ] as const) {
        const ch = challengeOf(u, n, { createdAt: at, expiresAt: at + 60_000 });
        await store.createChallenge(ch, 5);
        const begin = {
          userId: u,
          challengeHash: ch.hash,
          policy: OPEN,
          credentialIds: [],
          recoverySet: false,
        };
        expect((await store.beginAttempt({ ...begin, now: at + 59_999 })).status).toBe('admitted');
        expect((await store.beginAttempt({ ...begin, now: at + 60_000 })).status).toBe(
          'no-challenge',
        );
      }
    });

    it('out-of-band codes, devices and send quotas keep the contract on awkward ids', async () => {
      const u = 'a{b}:c %0041';
      const ch = challengeOf(u, 921, {
        oob: { factorId: 'f:1', codeHash: hex64(5), expiresAt: T + 1000 },
      });
      await store.createChallenge(ch, 5);
      expect(
        await store.setChallengeCode(
          u,
          ch.hash,
          { factorId: 'f:1', codeHash: hex64(6), expiresAt: T + 2000 },
          T,
          hex64(5),
        ),
      ).toBe(true);
      expect(await store.setChallengeCode(u, ch.hash, null, T, hex64(5))).toBe(false);
      const b = await store.beginAttempt({
        userId: u,
        challengeHash: ch.hash,
        now: T,
        policy: OPEN,
        credentialIds: [],
        recoverySet: false,
      });
      expect(b.status === 'admitted' ? b.challenge?.oob : b).toEqual({
        factorId: 'f:1',
        codeHash: hex64(6),
        expiresAt: T + 2000,
      });
      const claim = (codeHash: string, now = T) =>
        store.settleAttempt({
          userId: u,
          scope: 'otp',
          now,
          challengeHash: ch.hash,
          claim: { kind: 'oob', codeHash },
        });
      expect(await claim(hex64(5))).toEqual({ status: 'replayed' });
      expect(await claim(hex64(6), T + 2000)).toEqual({ status: 'replayed' });
      expect(await claim(hex64(6))).toEqual({ status: 'ok', remaining: null });
      expect(await claim(hex64(6))).toEqual({ status: 'no-challenge' });

      const dev = {
        userId: u,
        id: 'd:1',
        kind: 'known',
        tokenHash: hex64(31),
        previousHash: null,
        label: 'é😀',
        createdAt: T,
        lastUsedAt: null,
        expiresAt: T + 10_000,
      } as const;
      await store.createDevice(dev, 2);
      const r = await store.rotateDevice(u, 'known', hex64(31), hex64(32), T + 1, null);
      expect(r).toEqual({
        status: 'rotated',
        device: { ...dev, tokenHash: hex64(32), previousHash: hex64(31), lastUsedAt: T + 1 },
      });
      expect(await store.rotateDevice(u, 'known', hex64(31), hex64(33), T + 2, null)).toEqual({
        status: 'replayed',
        deviceId: 'd:1',
      });
      expect(await store.rotateDevice(u, 'trusted', hex64(32), hex64(33), T + 2, null)).toEqual({
        status: 'unknown',
      });
      expect(await store.listDevices(u, 'known', T)).toHaveLength(1);
      expect(await store.revokeDevices(u, 'known', null)).toBe(1);

      const rule = { limit: 2, windowMs: 60_000, cooldownMs: 1000 };
      for (const bucket of [
        { kind: 'user', userId: u },
        { kind: 'destination', hash: 'a{b}:c' },
        { kind: 'app' },
      ] as const) {
        const at = Math.floor(T / 60_000) * 60_000;
        expect(await store.reserveSend(bucket, rule, at)).toEqual({ ok: true });
        expect(await store.reserveSend(bucket, rule, at + 999)).toEqual({
          ok: false,
          retryAfterMs: 1,
        });
        expect(await store.reserveSend(bucket, rule, at + 1000)).toEqual({ ok: true });
        expect(await store.reserveSend(bucket, rule, at + 5000)).toEqual({
          ok: false,
          retryAfterMs: 55_000,
        });
        await store.releaseSend(bucket, rule, at + 5000);
        expect(await store.reserveSend(bucket, rule, at + 5000)).toEqual({ ok: true });
      }
    });

    it('scanFactors skips index members whose factor is missing (a crash between the two calls) and still fills its pages', async () => {
      const p = `${BASE}scan:`;
      const s = createRedisStore({ client: raw, prefix: p });
      const all: string[] = [];
      for (const u of ['a', 'ab', 'b', '\uFFFF', '😀']) {
        for (const id of ['1', '2']) {
          await s.addFactor(factorOf(u, id), { maxPending: 5, maxConfirmed: 5 }, T);
          all.push(`${u}/${id}`);
        }
      }
      // A member added by an addFactor that died before its script ran.
      const hex = (x: string) =>
        Array.from(x, (_, i) => x.charCodeAt(i).toString(16).padStart(4, '0')).join('');
      await raw.zadd(
        `${p}factors:index`,
        0,
        `${hex('a')}.${hex('15')}`,
        0,
        `${hex('b')}.${hex('0')}`,
      );
      const seen: string[] = [];
      let after: { userId: string; id: string } | null = null;
      for (;;) {
        const page: readonly FactorRecord[] = await s.scanFactors(after, 3);
        seen.push(...page.map((f) => `${f.userId}/${f.id}`));
        if (page.length < 3) break;
        const last = page[page.length - 1] as FactorRecord;
        after = { userId: last.userId, id: last.id };
      }
      // JavaScript string order: U+FFFF sorts after the surrogate pair of 😀.
      expect(seen).toEqual(
        all.slice().sort((x, y) => {
          const [xu, xi] = x.split('/') as [string, string];
          const [yu, yi] = y.split('/') as [string, string];
          return xu < yu ? -1 : xu > yu ? 1 : xi < yi ? -1 : xi > yi ? 1 : 0;
        }),
      );
      // The factor index follows every change: limits, dead pending factors, removals.
      expect(await s.addFactor(factorOf('a', '3'), { maxPending: 5, maxConfirmed: 2 }, T)).toBe(
        'limit',
      );
      await s.addFactor(
        factorOf('c', 'p', { status: 'pending', confirmedAt: null, expiresAt: T + 1 }),
        { maxPending: 5, maxConfirmed: 5 },
        T,
      );
      await s.addFactor(
        factorOf('c', 'q', { status: 'pending', confirmedAt: null, expiresAt: T + 9 }),
        { maxPending: 5, maxConfirmed: 5 },
        T + 5,
      );
      expect(await s.removeFactor('a', '1')).toBe(true);
      expect(await s.removeFactors('b')).toBe(2);
      const members = await raw.zrange(`${p}factors:index`, '0', '-1');
      expect(members).not.toContain(`${hex('a')}.${hex('3')}`);
      expect(members).not.toContain(`${hex('c')}.${hex('p')}`);
      expect(members).toContain(`${hex('c')}.${hex('q')}`);
      expect(members).not.toContain(`${hex('a')}.${hex('1')}`);
      // Only the factors that were there go; the orphan member stays (and scanning skips it).
      expect(members.filter((m) => m.startsWith(`${hex('b')}.`))).toEqual([
        `${hex('b')}.${hex('0')}`,
      ]);
    });

    it('eraseUser and removeFactors leave no key, index entry or value of the user under the prefix', async () => {
      const u = 'erase a{b}:c 😀';
      const other = 'erase-other';
      let now = T;
      const tf = createTwoFactor({
        store,
        issuer: 'ACME',
        keys: { current: 'k1', keys: { k1: KEK } },
        now: () => now,
        recoveryCodes: { hash: { logN: 10 } },
      });
      for (const x of [u, other]) {
        const { secret, codes } = await enroll(tf, x, now);
        now += 30_000;
        // Challenges answered (consumed), refused, left open and dropped by the cap.
        for (let i = 0; i < 4; i++) {
          const c = await tf.startChallenge({ userId: x });
          if (!c.required) throw new Error('expected a challenge');
          await tf.verifyChallenge({ challengeId: c.challengeId, code: '000000' });
          if (i === 0)
            await tf.verifyChallenge({
              challengeId: c.challengeId,
              code: generateTOTP(secret, { now }),
            });
          if (i === 1)
            await tf.verifyChallenge({ challengeId: c.challengeId, code: codes[0] as string });
        }
        for (let i = 0; i < 6; i++)
          await store.createChallenge(
            challengeOf(x, 1000 + i + (x === u ? 0 : 100), { createdAt: now }),
            3,
          );
        await store.createDevice(
          {
            userId: x,
            id: 'd',
            kind: 'trusted',
            tokenHash: hex64(x.length),
            previousHash: null,
            label: '',
            createdAt: now,
            lastUsedAt: null,
            expiresAt: now + 1000,
          },
          3,
        );
        await store.reserveSend(
          { kind: 'user', userId: x },
          { limit: 3, windowMs: 60_000, cooldownMs: 0 },
          now,
        );
        await store.resetThrottle(x, null);
        expect(
          await verifier.verifyHOTP({
            userId: x,
            secret: SECRET,
            token: generateHOTP(SECRET, 0),
            now,
          }),
        ).toMatchObject({ ok: true });
      }
      const before = await scan(raw, `${prefix}*`);
      const holding = async (keys: readonly string[]) => {
        const out: string[] = [];
        for (const k of keys) {
          if (k.includes(`{${escapeForTest(u)}}`)) out.push(k);
          else if ((await raw.type(k)) === 'string' && (await raw.get(k)) === u) out.push(k);
        }
        const hexU = Array.from(u, (_, i) => u.charCodeAt(i).toString(16).padStart(4, '0')).join(
          '',
        );
        for (const m of await raw.zrange(`${prefix}factors:index`, '0', '-1'))
          if (m.startsWith(`${hexU}.`)) out.push(`factors:index ${m}`);
        return out;
      };
      expect((await holding(before)).length).toBeGreaterThan(5);
      await store.eraseUser(u);
      expect(await store.removeFactors(u)).toBe(1);
      expect(await holding(await scan(raw, `${prefix}*`))).toEqual([]);
      // The other user keeps everything.
      expect((await tf.listFactors(other)).length).toBe(1);
      expect((await store.getCredentials(other, ['default'])).default?.hotpCounter).toBe(1n);
      expect((await store.listDevices(other, 'trusted', now)).length).toBe(1);
    });

    type Tamper = {
      readonly name: string;
      /** Writes the tampered value for user `u` (after `setup`). */
      readonly apply: (u: string) => Promise<unknown>;
      readonly attempt: (u: string) => Promise<unknown>;
      readonly setup?: (u: string) => Promise<unknown>;
      /** The script cannot see this corruption (a hash the verifier parses): it counts the failure first. */
      readonly countsFirst?: boolean;
    };
    const hset = (key: string, field: string, value: string) => raw.hset(key, field, value);
    const cred = (u: string, v: string) => hset(`${tag(u)}:credentials`, 'default', v);
    const bucket = (u: string, v: string, scope = 'otp') => hset(`${tag(u)}:throttle`, scope, v);
    const totp = (u: string) =>
      verifier.verifyTOTP({ userId: u, secret: SECRET, token: generateTOTP(SECRET, { now: T }) });
    const hotp = (u: string) =>
      verifier.verifyHOTP({ userId: u, secret: SECRET, token: generateHOTP(SECRET, 0) });
    const redeem = (u: string) =>
      verifier.redeemRecoveryCode({ userId: u, code: 'ABCD-EFGH-JKMN-PQRS' });
    const issue = (u: string) => verifier.issueRecoveryCodes({ userId: u, count: 2 });
    const begin = (u: string, n: number) =>
      store.beginAttempt({
        userId: u,
        challengeHash: hex64(n),
        now: T,
        policy: OPEN,
        credentialIds: [],
        recoverySet: false,
      });
    const settleOn = (u: string, n: number) =>
      store.settleAttempt({
        userId: u,
        scope: 'otp',
        now: T,
        challengeHash: hex64(n),
        claim: { kind: 'totp', credentialId: 'c', step: STEP, drift: 0, create: true },
      });
    /** A won TOTP claim that also stores a step-up token (hash hex64(3)). */
    const settleWithStepUp = (u: string) =>
      store.settleAttempt({
        userId: u,
        scope: 'otp',
        now: T,
        claim: { kind: 'totp', credentialId: 'c', step: STEP, drift: 0, create: true },
        stepUp: { hash: hex64(3), expiresAt: T + 1000 },
      });
    const withFactor = (u: string) =>
      store.addFactor(factorOf(u, 'f'), { maxPending: 3, maxConfirmed: 3 }, T);
    const factor = (u: string, v: string) => hset(`${tag(u)}:factors`, 'f', v);
    const factorOps = (u: string) =>
      Promise.all([
        rejection(store.listFactors(u)),
        rejection(store.confirmFactor(u, 'f', T, 3)),
        rejection(store.renameFactor(u, 'f', 'x')),
        rejection(store.resealFactor(u, 'f', 'sealed:f', 'new')),
        rejection(store.addFactor(factorOf(u, 'g'), { maxPending: 3, maxConfirmed: 3 }, T)),
      ]).then((es) => {
        for (const e of es)
          if (!(e instanceof OtpkitError && e.code === 'ERR_STORE_CORRUPT')) throw e;
        throw es[0];
      });
    const GOOD_FACTOR = '1:totp:confirmed:SHA1:6:30:1:1:\u0000"Phone"\u0000"sealed:f"\u0000';
    const tampers: Tamper[] = [
      ...['abc', '-1', '1.5', '1e3', '007', ' 5', '9007199254740993', '99999999999999999999'].map(
        (v): Tamper => ({
          name: `lastStep ${JSON.stringify(v)}`,
          apply: (u) => cred(u, `${v}::0:`),
          attempt: totp,
        }),
      ),
      ...['-5', '18446744073709551616', '1e3', '0x10', '01', 'abc', '3.0'].map((v): Tamper => ({
        name: `hotpCounter ${JSON.stringify(v)}`,
        apply: (u) => cred(u, `:${v}:0:`),
        attempt: hotp,
      })),
      ...['11', '-11', '1.0', '-0', '+1', 'x', '01', ''].map((v): Tamper => ({
        name: `drift ${JSON.stringify(v)}`,
        apply: (u) => cred(u, `::${v}:`),
        attempt: totp,
      })),
      ...['x', '01', '-1'].map((v): Tamper => ({
        name: `lastUsedAt ${JSON.stringify(v)}`,
        apply: (u) => cred(u, `::0:${v}`),
        attempt: totp,
      })),
      ...['', 'garbage', '1:2:3', '1::0::'].map((v): Tamper => ({
        name: `credential record ${JSON.stringify(v)}`,
        apply: (u) => cred(u, v),
        attempt: hotp,
      })),
      ...['-5:1', '1.5:1', 'abc:1', '99999999999999999999:1', '1:x', '1', '', '1:2:3', '01:5'].map(
        (v): Tamper => ({
          name: `throttle bucket ${JSON.stringify(v)}`,
          apply: (u) => bucket(u, v),
          attempt: totp,
        }),
      ),
      // A key of another type. Some scripts check types first; the others read every key before
      // they write anything, and the read fails with WRONGTYPE.
      ...(
        [
          ['credentials', 'string', totp],
          ['throttle', 'list', hotp],
          ['throttle', 'string', totp],
          ['credentials', 'list', hotp],
          ['recovery', 'set', redeem],
          ['recovery-set', 'zset', issue],
          ['challenges', 'list', (u: string) => settleOn(u, 5)],
          ['step-up', 'string', settleWithStepUp],
          ['challenges', 'set', (u: string) => store.createChallenge(challengeOf(u, 96), 5)],
          [
            'devices',
            'string',
            (u: string) => store.rotateDevice(u, 'trusted', hex64(1), hex64(2), T, null),
          ],
        ] as const
      ).map(([key, type, attempt]): Tamper => ({
        name: `${key} key of type ${type}`,
        apply: (u) => {
          const k = `${tag(u)}:${key}`;
          if (type === 'string') return raw.set(k, '5');
          if (type === 'list') return raw.rpush(k, '1');
          if (type === 'set') return raw.sadd(k, 'x');
          return raw.zadd(k, 1, 'x');
        },
        attempt,
      })),
      ...(
        [
          ['setId', ['bad id', '', 'x'.repeat(65)]],
          ['issuedAt', ['-1', 'x', '', '01']],
          ['total', ['101', '-1', '', 'x']],
        ] as const
      ).flatMap(([field, values]) =>
        values.map((v): Tamper => ({
          name: `recovery set ${field} ${JSON.stringify(v)}`,
          setup: issue,
          apply: (u) => hset(`${tag(u)}:recovery-set`, field, v),
          attempt: redeem,
        })),
      ),
      {
        name: 'recovery set total below its codes',
        setup: issue,
        apply: (u) => hset(`${tag(u)}:recovery-set`, 'total', '1'),
        attempt: redeem,
      },
      {
        name: 'recovery codes without their set',
        setup: issue,
        apply: (u) => raw.del(`${tag(u)}:recovery-set`),
        attempt: redeem,
      },
      ...['garbage', '5:$scrypt$x', ':x', '0:'].map((v): Tamper => ({
        name: `recovery code ${JSON.stringify(v)}`,
        setup: issue,
        apply: async (u) =>
          hset(`${tag(u)}:recovery`, (await raw.hkeys(`${tag(u)}:recovery`))[0] as string, v),
        attempt: redeem,
      })),
      {
        name: 'recovery code hash "0:garbage"',
        setup: issue,
        apply: async (u) => {
          const [id, value] = Object.entries(await raw.hgetall(`${tag(u)}:recovery`))[0] as [
            string,
            string,
          ];
          return hset(`${tag(u)}:recovery`, id, `${value.split(':')[0]}:garbage`);
        },
        attempt: redeem,
        countsFirst: true,
      },
      ...[
        'x',
        `${T}:${T + 1}:0:0:1\u0000otp\u0000recovery\u0000"p"\u0000`,
        `${T}:${T + 1}:x:5:1\u0000otp\u0000recovery\u0000"p"\u0000`,
        `${T}:${T + 1}:0:5:1\u0000\u0000recovery\u0000"p"\u0000`,
        `${T}:${T + 1}:0:5:1\u0000otp\u0000recovery\u0000p\u0000`,
        `${T}:${T + 1}:0:5:1\u0000otp\u0000recovery\u0000"p"\u0000x:${hex64(1)}:f`,
        `${T}:${T + 1}:0:5:1\u0000otp\u0000recovery\u0000"p"\u0000${T}:${'A'.repeat(64)}:f`,
        `${T}:${T + 1}:0:5:1\u0000otp\u0000recovery\u0000"p"\u0000\u0000`,
        `${T}:${T + 1}:0:5:1\u0000otp\u0000recovery\u0000"p"`,
      ].flatMap((v, i): Tamper[] => [
        {
          name: `challenge record #${i} (begin)`,
          setup: (u) => store.createChallenge(challengeOf(u, 50 + i), 5),
          apply: (u) => hset(`${tag(u)}:challenges`, hex64(50 + i), v),
          attempt: (u) => begin(u, 50 + i),
        },
        {
          name: `challenge record #${i} (settle)`,
          setup: (u) => store.createChallenge(challengeOf(u, 70 + i), 5),
          apply: (u) => hset(`${tag(u)}:challenges`, hex64(70 + i), v),
          attempt: (u) => settleOn(u, 70 + i),
        },
      ]),
      {
        name: 'challenges key of type string',
        apply: (u) => raw.set(`${tag(u)}:challenges`, 'x'),
        attempt: (u) => begin(u, 99),
      },
      {
        name: 'step-up token expiry "x"',
        setup: settleWithStepUp,
        apply: (u) => hset(`${tag(u)}:step-up`, hex64(3), 'x'),
        attempt: (u) => store.consumeStepUp(u, hex64(3), T),
      },
      ...[
        'x',
        `1:sha1:confirmed:SHA1:6:30:1:1:\u0000"a"\u0000"s"\u0000`,
        `1:totp:confirmed:MD5:6:30:1:1:\u0000"a"\u0000"s"\u0000`,
        `1:totp:confirmed:SHA1:9:30:1:1:\u0000"a"\u0000"s"\u0000`,
        `1:totp:confirmed:SHA1:6:0:1:1:\u0000"a"\u0000"s"\u0000`,
        `1:totp:confirmed:SHA1:6:30:1:1:5\u0000"a"\u0000"s"\u0000`,
        `1:totp:pending:SHA1:6:30:1::\u0000"a"\u0000"s"\u0000`,
        `1:totp:confirmed:SHA1:6:30:1:1:\u0000a\u0000"s"\u0000`,
        `1:totp:confirmed:SHA1:6:30:1:1:\u0000""\u0000"s"\u0000`,
        `1:totp:confirmed:SHA1:6:30:1:1:\u0000"a"\u00005\u0000`,
        `1:totp:confirmed:SHA1:6:30:1:1:\u0000"a"\u0000"s"\u0000"hint"`,
        `1:totp:confirmed:SHA1:6:30:1:1:\u0000"a"\u0000"s"`,
      ].map((v, i): Tamper => ({
        name: `factor record #${i}`,
        setup: withFactor,
        apply: (u) => factor(u, v),
        attempt: factorOps,
      })),
      {
        name: 'factors key of type string',
        apply: (u) => raw.set(`${tag(u)}:factors`, GOOD_FACTOR),
        attempt: factorOps,
      },
      ...[
        'x',
        `1:trusted:${T}::${T + 1}\u0000${hex64(1)}\u0000x\u0000""`,
        `1:old:${T}::${T + 1}\u0000${hex64(1)}\u0000\u0000""`,
        `1:known:${T}::${T + 1}\u0000${hex64(1).slice(1)}\u0000\u0000""`,
        `1:known:${T}::${T + 1}\u0000${hex64(1)}\u0000${hex64(2)}0\u0000""`,
        `1:known:${T}::${T + 1}\u0000${hex64(1)}\u0000\u0000""\u0000""`,
        `1:known:${T}::${T + 1}\u0000${hex64(1)}\u0000\u0000label`,
        `01:known:${T}::${T + 1}\u0000${hex64(1)}\u0000\u0000""`,
        `1:known:${T}:99999999999999999:${T + 1}\u0000${hex64(1)}\u0000\u0000""`,
      ].map((v, i): Tamper => ({
        name: `device record #${i}`,
        apply: (u) => hset(`${tag(u)}:devices`, 'd', v),
        attempt: (u) =>
          Promise.all([
            rejection(store.listDevices(u, 'trusted', T)),
            rejection(store.rotateDevice(u, 'trusted', hex64(1), hex64(2), T, null)),
          ]).then(([a, b]) => {
            if (!(a instanceof OtpkitError && a.code === 'ERR_STORE_CORRUPT')) throw a;
            throw b;
          }),
      })),
      ...['x', '1:2', '1:2:x'].map((v): Tamper => ({
        name: `send quota ${JSON.stringify(v)}`,
        apply: (u) => raw.set(`${tag(u)}:send-quota`, v),
        attempt: (u) =>
          store.reserveSend(
            { kind: 'user', userId: u },
            { limit: 3, windowMs: 1000, cooldownMs: 0 },
            T,
          ),
      })),
    ];
    let n = 0;
    for (const t of tampers) {
      it(`tampered ${t.name} → ERR_STORE_CORRUPT naming the field, never ok, nothing written`, async () => {
        const u = `tamper-${++n}`;
        await t.setup?.(u);
        await t.apply(u);
        const keys = await userKeys(u);
        const before = await dump(raw, keys);
        const e = await rejection(t.attempt(u));
        expect(e).toBeInstanceOf(OtpkitError);
        expect((e as OtpkitError).code).toBe('ERR_STORE_CORRUPT');
        // The message names the field, never the stored value.
        expect((e as OtpkitError).message).not.toMatch(
          /abc|1e3|18446744073709551616|garbage|bad id|sealed:f|Phone/,
        );
        if (t.countsFirst !== true) expect(await dump(raw, await userKeys(u))).toBe(before);
      });
    }

    it("a user's step-up tokens stay bounded: beyond 16, a success drops those expired more than 5 minutes before it", async () => {
      const u = 'frequent';
      const key = `${tag(u)}:step-up`;
      const sizes: number[] = [];
      // A sign-in every 10 minutes, each storing a token valid for 1 s and never used.
      for (let n = 0; n < 40; n++) {
        const now = T + n * 600_000;
        const r = await store.settleAttempt(stepUpSettle(u, now, hex64(7000 + n), now + 1000));
        expect(r.status).toBe('ok');
        sizes.push(await raw.hlen(key));
      }
      expect(sizes.slice(0, 16)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
      expect(sizes[16]).toBe(1); // the 17th: every earlier one had expired long before
      expect(Math.max(...sizes)).toBe(16);
      // One expired less than 5 minutes before a success is kept; the live one still works.
      const last = T + 39 * 600_000;
      for (let n = 0; n < 17; n++)
        await store.settleAttempt(
          stepUpSettle(
            u,
            last,
            hex64(8000 + n),
            last + (n === 0 ? -200_000 : 60_000),
            Math.floor(last / 30_000) + 1 + n,
          ),
        );
      expect(await raw.hexists(key, hex64(8000))).toBe(1);
      expect(await store.consumeStepUp(u, hex64(8016), last)).toBe(true);
    });

    it('100 concurrent wrong codes through the verifier count exactly 100 failures, then lock', async () => {
      const u = 'hundred';
      const v = createVerifier({
        store,
        now: () => T,
        throttle: { maxFailures: 100, freeFailures: 100 },
      });
      const valid = new Set([-1, 0, 1].map((d) => generateTOTP(SECRET, { now: T + d * 30_000 })));
      const wrong = ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c)) as string;
      const results = await Promise.all(
        Array.from({ length: 100 }, () =>
          v.verifyTOTP({ userId: u, secret: SECRET, token: wrong }),
        ),
      );
      expect(results.every((r) => !r.ok && r.reason === 'invalid')).toBe(true);
      expect((await store.getThrottle(u, 'otp')).failures).toBe(100);
      expect(
        await v.verifyTOTP({ userId: u, secret: SECRET, token: generateTOTP(SECRET, { now: T }) }),
      ).toEqual({ ok: false, reason: 'locked' });
      expect((await store.getThrottle(u, 'otp')).failures).toBe(100);
    });

    it('maps client failures to ERR_STORE with a scrubbed cause', async () => {
      const failing = createRedisStore({
        client: {
          call: async () =>
            Promise.reject(
              Object.assign(new Error('connection lost'), {
                code: 'ECONNRESET',
                command: { args: ['$scrypt$secret-hash'] },
              }),
            ),
        },
        prefix,
      });
      const e = (await rejection(failing.getRecoveryCodeSet('u'))) as OtpkitError;
      expect(e).toBeInstanceOf(OtpkitError);
      expect(e.code).toBe('ERR_STORE');
      expect(e.cause).toMatchObject({ message: 'connection lost', code: 'ECONNRESET' });
      expect(JSON.stringify(e.cause)).not.toContain('secret-hash');
      expect((e.cause as { command?: unknown }).command).toBeUndefined();
    });
  });
});
