/**
 * The Redis store on a real Redis Cluster: a private redis-server with cluster mode on, one node
 * owning all 16384 slots. The server itself refuses any script whose KEYS[] span two slots
 * (CROSSSLOT), so the contracts passing here prove the per-user hash tags; the key test also
 * checks CLUSTER KEYSLOT of every key an awkward userId produces: one slot for all of them. Both ioredis `Cluster` and node-redis `createCluster`
 * (through the wrapper documented on `NodeRedisClientLike`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBase32 } from '../../src/base32.js';
import { createRedisStore, type RedisClientLike, type RedisStore } from '../../src/store/redis.js';
import { factorStoreContract, storeContract, twoFactorContract } from '../../src/testing.js';
import { generateTOTP } from '../../src/totp.js';
import { createTwoFactor } from '../../src/twofactor/twofactor.js';
import { createVerifier } from '../../src/verifier/verifier.js';
import {
  describeRequiring,
  findBinary,
  startRedisServer,
  waitUntil,
  type RedisServerProcess,
} from './_servers.js';

const SECRET = new Uint8Array(20).map((_, i) => i * 11 + 3);
const KEK = new Uint8Array(32).map((_, i) => i + 11);
const T = Date.UTC(2031, 0, 1, 12, 0, 0);

/** Every key under `prefix` (SCAN). */
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

/** The store's key escape, restated independently for the assertions. */
function escapeForTest(s: string): string {
  return Array.from({ length: s.length }, (_, i) => {
    const ch = s[i] as string;
    return /[A-Za-z0-9_.@-]/.test(ch) ? ch : `%${s.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }).join('');
}

const redisBin = findBinary(process.env.OTPKIT_REDIS_BIN, 'redis-server');

describeRequiring(
  redisBin,
  'redis-server (OTPKIT_REDIS_BIN or on PATH)',
  'Redis store on Redis Cluster',
  (bin) => {
    let server: RedisServerProcess | undefined;
    let dir: string;
    let raw: Redis;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'otpkit-redis-cluster-'));
      server = await startRedisServer(bin, dir, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
        '--cluster-announce-ip',
        '127.0.0.1',
      ]);
      raw = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await raw.connect();
      await raw.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      await waitUntil(
        async () => /cluster_state:ok/.test(String(await raw.call('CLUSTER', 'INFO'))),
        15_000,
        'cluster_state:ok',
      );
    });
    afterAll(async () => {
      raw?.disconnect();
      await server?.kill();
      rmSync(dir, { recursive: true, force: true });
    });

    const flavours: Array<{
      name: string;
      connect: () => Promise<{ client: RedisClientLike; close: () => Promise<void> }>;
    }> = [
      {
        name: 'ioredis Cluster',
        connect: async () => {
          const c = new Cluster(
            [{ host: '127.0.0.1', port: (server as RedisServerProcess).port }],
            { lazyConnect: true },
          );
          await c.connect();
          return { client: c, close: async () => c.disconnect() };
        },
      },
      {
        name: 'node-redis cluster (documented sendCommand wrapper)',
        connect: async () => {
          const c = createCluster({ rootNodes: [{ url: (server as RedisServerProcess).url }] });
          c.on('error', () => {});
          await c.connect();
          return {
            client: { sendCommand: (args: string[]) => c.sendCommand(args[3], false, args) },
            close: async () => c.destroy(),
          };
        },
      },
    ];
    for (const flavour of flavours) {
      describe(`store contract with ${flavour.name}`, () => {
        let store: RedisStore;
        let client: RedisClientLike;
        let close: () => Promise<void>;
        let n = 0;
        const tag = flavour.name.slice(0, 4);
        beforeAll(async () => {
          const c = await flavour.connect();
          close = c.close;
          client = c.client;
          store = createRedisStore({ client, prefix: `cluster-${tag}:` });
        });
        afterAll(async () => close());
        for (const c of storeContract(() => store, { userPrefix: `cluster-${tag}` }))
          it(c.name, c.run, c.timeoutMs);
        for (const c of factorStoreContract(() => store, { userPrefix: `cluster-${tag}` }))
          it(c.name, c.run, c.timeoutMs);
        // The flow re-seals every factor of its store: a prefix per case.
        for (const c of twoFactorContract(
          () => ({ store: createRedisStore({ client, prefix: `cluster-${tag}-${++n}:` }) }),
          { userPrefix: `cluster-${tag}` },
        ))
          it(c.name, c.run, c.timeoutMs);
      });
    }

    it('puts every key of an awkward userId in one slot (CLUSTER KEYSLOT), with exactly one tag per key', async () => {
      const p = 'otpkit-slots:';
      const client = new Cluster(
        [{ host: '127.0.0.1', port: (server as RedisServerProcess).port }],
        { lazyConnect: true },
      );
      await client.connect();
      try {
        const s = createRedisStore({ client, prefix: p });
        const weird = 'a{b}c:d}{ é😀 \u{10FFFF}%0041 {}';
        let now = T;
        const v = createVerifier({ store: s, now: () => now, recoveryHash: { logN: 10 } });
        const tf = createTwoFactor({
          store: s,
          issuer: 'ACME',
          keys: { current: 'k1', keys: { k1: KEK } },
          now: () => now,
          recoveryCodes: { hash: { logN: 10 } },
        });
        // Every kind of state: a factor, its replay state, recovery codes, throttle buckets,
        // challenges (answered and open), a step-up token, a device, a send quota.
        const b = await tf.beginEnrollment({ userId: weird, account: 'w@example.com' });
        if (!b.ok) throw new Error('beginEnrollment');
        const secret = decodeBase32(b.manualKey.replace(/ /g, ''));
        const confirmed = await tf.confirmEnrollment({
          userId: weird,
          factorId: b.factorId,
          code: generateTOTP(secret, { now }),
        });
        if (!confirmed.ok) throw new Error('confirmEnrollment');
        now += 30_000;
        const c = await tf.startChallenge({ userId: weird });
        if (!c.required) throw new Error('startChallenge');
        expect((await tf.verifyChallenge({ challengeId: c.challengeId, code: '000000' })).ok).toBe(
          false,
        );
        expect(
          (
            await tf.verifyChallenge({
              challengeId: c.challengeId,
              code: generateTOTP(secret, { now }),
            })
          ).ok,
        ).toBe(true);
        await tf.startChallenge({ userId: weird });
        expect(
          await v.verifyTOTP({
            userId: weird,
            credentialId: 'app:1',
            secret: SECRET,
            token: generateTOTP(SECRET, { now }),
          }),
        ).toMatchObject({ ok: true });
        expect(
          await v.redeemRecoveryCode({
            userId: weird,
            code: (confirmed.recoveryCodes ?? [])[0] as string,
          }),
        ).toMatchObject({ ok: true });
        await v.redeemRecoveryCode({ userId: weird, code: 'AAAA-AAAA-AAAA-AAAA' });
        await s.createDevice(
          {
            userId: weird,
            id: 'd',
            kind: 'known',
            tokenHash: 'a'.repeat(64),
            previousHash: null,
            label: '',
            createdAt: now,
            lastUsedAt: null,
            expiresAt: now + 1000,
          },
          3,
        );
        await s.reserveSend(
          { kind: 'user', userId: weird },
          { limit: 3, windowMs: 60_000, cooldownMs: 0 },
          now,
        );
        const mine: string[] = [];
        const others: string[] = [];
        for (const k of await keysOf(raw, p))
          (k.includes(`{${escapeForTest(weird)}}`) ? mine : others).push(k);
        // Nothing of this user outside its tag: the factor index and other users' keys only.
        for (const k of others) expect(k.includes(escapeForTest(weird)), k).toBe(false);
        const kinds = mine.map((k) => k.slice(k.indexOf('}:') + 2)).sort();
        expect(kinds).toEqual([
          'challenges',
          'credentials',
          'devices',
          'factors',
          'recovery',
          'recovery-set',
          'send-quota',
          'step-up',
          'throttle',
        ]);
        const slots = new Set<unknown>();
        for (const k of mine) {
          slots.add(await raw.call('CLUSTER', 'KEYSLOT', k));
          expect(k.split('{')).toHaveLength(2);
          expect(k.split('}')).toHaveLength(2);
          expect(k.slice(p.length)).toMatch(/^\{[A-Za-z0-9_.@%-]+\}:[a-z-]+$/);
        }
        expect(slots.size).toBe(1);
      } finally {
        client.disconnect();
      }
    });
  },
);
