/**
 * The Redis store on a real Redis Cluster: a private redis-server with cluster mode on, one node
 * owning all 16384 slots. The server itself refuses any script whose KEYS[] span two slots
 * (CROSSSLOT), so the whole contract passing here proves the per-user hash tags; the key test
 * also checks CLUSTER KEYSLOT of every key an awkward userId produces. Both ioredis `Cluster`
 * and node-redis `createCluster` (through the wrapper documented on `NodeRedisClientLike`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisClientLike, type RedisStore } from '../../src/store/redis.js';
import { storeContract } from '../../src/testing.js';
import { generateTOTP } from '../../src/totp.js';
import { createVerifier } from '../../src/verifier.js';
import { describeRequiring, findBinary, startRedisServer, waitUntil, type RedisServerProcess } from './_servers.js';

const SECRET = new Uint8Array(20).map((_, i) => i * 11 + 3);
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

describeRequiring(redisBin, 'redis-server (OTPKIT_REDIS_BIN or on PATH)', 'Redis store on Redis Cluster', (bin) => {
  let server: RedisServerProcess | undefined;
  let dir: string;
  let raw: Redis;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'otpkit-redis-cluster-'));
    server = await startRedisServer(bin, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-announce-ip', '127.0.0.1']);
    raw = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await raw.connect();
    await raw.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await waitUntil(async () => /cluster_state:ok/.test(String(await raw.call('CLUSTER', 'INFO'))), 15_000, 'cluster_state:ok');
  });
  afterAll(async () => {
    raw?.disconnect();
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const flavours: Array<{ name: string; connect: () => Promise<{ client: RedisClientLike; close: () => Promise<void> }> }> = [
    {
      name: 'ioredis Cluster',
      connect: async () => {
        const c = new Cluster([{ host: '127.0.0.1', port: (server as RedisServerProcess).port }], { lazyConnect: true });
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
        return { client: { sendCommand: (args: string[]) => c.sendCommand(args[3], false, args) }, close: async () => c.destroy() };
      },
    },
  ];
  for (const flavour of flavours) {
    describe(`store contract with ${flavour.name}`, () => {
      let store: RedisStore;
      let close: () => Promise<void>;
      beforeAll(async () => {
        const c = await flavour.connect();
        close = c.close;
        store = createRedisStore({ client: c.client });
      });
      afterAll(async () => close());
      for (const c of storeContract(() => store, { userPrefix: `cluster-${flavour.name.slice(0, 4)}` })) it(c.name, c.run, c.timeoutMs);
    });
  }

  it('puts every key of an awkward userId in one slot (CLUSTER KEYSLOT), with exactly one tag per key', async () => {
    const p = 'otpkit-slots:';
    const client = new Cluster([{ host: '127.0.0.1', port: (server as RedisServerProcess).port }], { lazyConnect: true });
    await client.connect();
    try {
      const s = createRedisStore({ client, prefix: p });
      const v = createVerifier({ store: s, now: () => T, recoveryHash: { logN: 10 } });
      const weird = 'a{b}c:d}{ é😀 \u{10FFFF}%0041 {}';
      expect(await v.verifyTOTP({ userId: weird, credentialId: 'app:1', secret: SECRET, token: generateTOTP(SECRET, { now: T }) })).toMatchObject({ ok: true });
      await s.setDrift(weird, 'app:1', 1);
      await s.recordFailure(weird, 'app:1', T);
      await s.recordFailure(weird, 'recovery', T);
      const [code] = await v.issueRecoveryCodes({ userId: weird, count: 2 });
      expect(await v.redeemRecoveryCode({ userId: weird, code: code as string })).toMatchObject({ ok: true });
      const keys = await keysOf(raw, p);
      expect(keys.length).toBeGreaterThanOrEqual(3); // credential, throttle(s), recovery
      const slots = new Set<unknown>();
      for (const k of keys) {
        slots.add(await raw.call('CLUSTER', 'KEYSLOT', k));
        expect(k.split('{')).toHaveLength(2);
        expect(k.split('}')).toHaveLength(2);
        expect(k.slice(p.length)).toMatch(/^\{[A-Za-z0-9_.@%-]+\}:(?:(?:cred|fail):[A-Za-z0-9_.@%-]+|recovery|recovery-set)$/);
        expect(k).toContain(`{${escapeForTest(weird)}}`);
      }
      expect(slots.size).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});

