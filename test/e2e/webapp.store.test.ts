/**
 * The example app's store connections under an outage: with Redis stopped, the ioredis client's
 * reconnect errors go to the app's logger, once per distinct message, and never reach the console
 * as unhandled error events; requests fail closed with ERR_STORE meanwhile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { createVerifier, generateSecret, generateTOTP } from '../../src/index.js';
import { openStore } from '../../examples/webapp/server.js';
import {
  describeRequiring,
  findBinary,
  startRedisServer,
  type RedisServerProcess,
} from '../store/_servers.js';

describeRequiring(
  findBinary(process.env.OTPKIT_REDIS_BIN, 'redis-server'),
  'redis-server',
  'example app: Redis outage',
  (bin) => {
    const dir = mkdtempSync(join(tmpdir(), 'otpkit-webapp-redis-'));
    let server: RedisServerProcess | undefined;
    afterAll(async () => {
      await server?.kill();
      rmSync(dir, { recursive: true, force: true });
    });

    it(
      'logs reconnect errors through the app, deduplicated, and never as unhandled error events',
      { timeout: 30_000 },
      async () => {
        server = await startRedisServer(bin, dir);
        const lines: string[] = [];
        const consoleError = vi.spyOn(console, 'error');
        const opened = await openStore({ redis: server.url, onError: (l) => lines.push(l) });
        try {
          const v = createVerifier({ store: opened.store, storeTimeoutMs: 1000 });
          const secret = generateSecret();
          expect(
            (await v.verifyTOTP({ userId: 'outage', secret, token: generateTOTP(secret) })).ok,
          ).toBe(true);
          await server.kill();
          await expect(
            v.verifyTOTP({ userId: 'outage', secret, token: '000000' }),
          ).rejects.toMatchObject({ code: 'ERR_STORE' });
          // ioredis retries with a growing delay: give it several reconnect attempts.
          await new Promise((r) => setTimeout(r, 3000));
          expect(lines.length).toBeGreaterThan(0);
          expect(lines.every((l) => l.startsWith('redis: '))).toBe(true);
          expect(new Set(lines).size).toBe(lines.length);
          expect(consoleError.mock.calls.flat().join('\n')).not.toMatch(/Unhandled error event/);
          await server.restart();
          // Once the client has reconnected (its retry delay has grown meanwhile), the store works again.
          let after: { ok: boolean } | undefined;
          for (let i = 0; i < 100 && after === undefined; i++) {
            after = await v
              .verifyTOTP({
                userId: 'outage',
                secret,
                token: generateTOTP(secret, { now: Date.now() + 30_000 }),
              })
              .catch(async (e: unknown) => {
                expect(e).toMatchObject({ code: 'ERR_STORE' });
                await new Promise((r) => setTimeout(r, 100));
                return undefined;
              });
          }
          expect(after?.ok).toBe(true);
        } finally {
          consoleError.mockRestore();
          await opened.close();
        }
      },
    );
  },
);
