/**
 * Storage faults against a private redis-server: the server is SIGKILLed in the middle of 64
 * concurrent attempts (TOTP and recovery codes through the verifier, challenges through the
 * two-factor flow). Every call either completes correctly or throws `OtpkitError` `ERR_STORE*`;
 * nothing is accepted twice; after a restart on the same AOF (`appendfsync always`) every step,
 * recovery code and challenge that was accepted is still consumed. Also: `waitForReplicas` fails
 * closed when the replica is gone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeBase32 } from '../../src/base32.js';
import { OtpkitError } from '../../src/errors.js';
import { createRedisStore, type RedisClientLike, type RedisStore } from '../../src/store/redis.js';
import { generateTOTP } from '../../src/totp.js';
import { createTwoFactor, type TwoFactor } from '../../src/twofactor/twofactor.js';
import type { Verifier } from '../../src/verifier/types.js';
import { createVerifier } from '../../src/verifier/verifier.js';
import {
  describeRequiring,
  findBinary,
  startRedisServer,
  waitUntil,
  type RedisServerProcess,
} from './_servers.js';

const bin = findBinary(process.env.OTPKIT_REDIS_BIN, 'redis-server');
const T = Date.UTC(2033, 6, 1, 0, 0, 0);
const USERS = 8;
const CODES = 16;
const WAVES_PER_CYCLE = 4; // the kill lands in the second wave of each cycle
const KILL_AFTER_MS = [1, 8, 30];
const OPEN = { freeFailures: 100, maxFailures: 100 };
const KEK = new Uint8Array(32).map((_, i) => 3 * i + 1);
const noop = (): void => {};

/** Clients configured to fail fast while the server is down, and to reconnect when it is back. */
function connectFailFast(url: string) {
  const io = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => 100,
    connectTimeout: 1000,
  });
  io.on('error', noop);
  const nr = createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: () => 100, connectTimeout: 1000 },
  });
  nr.on('error', noop);
  return {
    io,
    nr,
    ready: async () => {
      await waitUntil(
        async () => (await io.ping()) === 'PONG' && (await nr.ping()) === 'PONG',
        15_000,
        'clients to reconnect',
      );
    },
    close: () => {
      io.disconnect();
      if (nr.isOpen) nr.destroy();
    },
  };
}

describeRequiring(
  bin,
  'redis-server (OTPKIT_REDIS_BIN or on PATH)',
  'Redis store: faults on a private server',
  (redisBin) => {
    const dirs: string[] = [];
    const servers: RedisServerProcess[] = [];
    const cleanups: Array<() => void> = [];
    const newDir = (): string => {
      const d = mkdtempSync(join(tmpdir(), 'otpkit-redis-faults-'));
      dirs.push(d);
      return d;
    };
    afterAll(async () => {
      for (const c of cleanups) c();
      for (const s of servers) await s.kill();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    let server: RedisServerProcess;
    beforeAll(async () => {
      server = await startRedisServer(redisBin, newDir());
      servers.push(server);
    });

    it('SIGKILL in the middle of 64 concurrent attempts: only correct results or ERR_STORE*, nothing accepted twice, consumed state survives a restart', async () => {
      const conn = connectFailFast(server.url);
      cleanups.push(conn.close);
      await conn.io.connect();
      await conn.nr.connect();
      const make = (
        client: RedisClientLike,
      ): { store: RedisStore; verifier: Verifier; flow: TwoFactor } => {
        const store = createRedisStore({ client });
        // Generous time limits: scrypt in this process can delay replies; failing fast is the clients' job.
        const verifier = createVerifier({
          store,
          storeTimeoutMs: 5000,
          throttle: OPEN,
          recoveryHash: { logN: 10 },
        });
        const flow = createTwoFactor({
          store,
          issuer: 'ACME',
          keys: { current: 'k1', keys: { k1: KEK } },
          throttle: OPEN,
          storeTimeoutMs: 5000,
          recoveryCodes: { hash: { logN: 10 } },
        });
        return { store, verifier, flow };
      };
      const viaIo = make(conn.io);
      const viaNr = make(conn.nr);
      const secrets = Array.from({ length: USERS }, (_, u) =>
        new Uint8Array(20).map((_, i) => (u * 31 + i * 7 + 1) & 0xff),
      );
      const codes: string[][] = [];
      for (let u = 0; u < USERS; u++)
        codes.push(await viaIo.verifier.issueRecoveryCodes({ userId: `u${u}`, count: CODES }));
      // Flow users: one confirmed TOTP factor each (confirmed a minute before the first wave).
      const factors: { factorId: string; secret: Uint8Array }[] = [];
      for (let u = 0; u < USERS; u++) {
        const now = T - 60_000;
        const b = await viaIo.flow.beginEnrollment({
          userId: `f${u}`,
          account: `f${u}@example.com`,
          now,
        });
        if (!b.ok) throw new Error('beginEnrollment');
        const secret = decodeBase32(b.manualKey.replace(/ /g, ''));
        const c = await viaIo.flow.confirmEnrollment({
          userId: `f${u}`,
          factorId: b.factorId,
          code: generateTOTP(secret, { now }),
          now,
        });
        if (!c.ok) throw new Error('confirmEnrollment');
        factors.push({ factorId: b.factorId, secret });
      }

      type Op = {
        kind: 'totp' | 'recovery' | 'challenge';
        user: number;
        key: string;
        valid: boolean;
        run: () => Promise<{ ok: boolean }>;
      };
      const successes = new Map<string, number>();
      const totpWins = new Map<number, number>(); // user → largest accepted step
      const recoveryWins = new Map<number, Set<string>>(); // user → accepted codes
      const challengeWins = new Map<number, { challengeId: string; step: number }[]>(); // flow user → answered challenges
      const failures: string[] = [];
      let errors = 0;
      let oks = 0;
      let largest = 0;

      /** The challenges of a wave, started (when the server is up) before its attempts are released. */
      const startChallenges = async (now: number): Promise<(string | null)[]> =>
        Promise.all(
          factors.map(async (_, u) => {
            try {
              const c = await viaIo.flow.startChallenge({ userId: `f${u}`, now });
              return c.required ? c.challengeId : null;
            } catch {
              return null; // the server is down: no challenge this wave
            }
          }),
        );

      const waveOps = (w: number, challenges: readonly (string | null)[]): Op[] => {
        const now = T + w * 30_000;
        const step = Math.floor(now / 30_000);
        const ops: Op[] = [];
        const via = (i: number) => (i % 2 === 0 ? viaIo : viaNr);
        for (let u = 0; u < USERS; u++) {
          const userId = `u${u}`;
          const secret = secrets[u] as Uint8Array;
          const token = generateTOTP(secret, { now });
          const valid = new Set(
            [-1, 0, 1].map((d) => generateTOTP(secret, { now: now + d * 30_000 })),
          );
          const wrong = ['000000', '111111', '222222', '333333'].find(
            (c) => !valid.has(c),
          ) as string;
          const code = (codes[u] as string[])[w % CODES] as string;
          for (let i = 0; i < 2; i++)
            ops.push({
              kind: 'totp',
              user: u,
              key: `totp:${u}:${step}`,
              valid: true,
              run: () => via(i).verifier.verifyTOTP({ userId, secret, token, now }),
            });
          ops.push({
            kind: 'totp',
            user: u,
            key: `totp-wrong:${u}:${step}`,
            valid: false,
            run: () => via(1).verifier.verifyTOTP({ userId, secret, token: wrong, now }),
          });
          for (let i = 0; i < 2; i++)
            ops.push({
              kind: 'recovery',
              user: u,
              key: `rec:${u}:${code}`,
              valid: true,
              run: () => via(i).verifier.redeemRecoveryCode({ userId, code, now }),
            });
          ops.push({
            kind: 'recovery',
            user: u,
            key: `rec-wrong:${u}:${w}`,
            valid: false,
            run: () =>
              via(w).verifier.redeemRecoveryCode({ userId, code: '0000-0000-0000-0000', now }),
          });
          const challengeId = challenges[u];
          const f = factors[u] as { factorId: string; secret: Uint8Array };
          // Two answers to one challenge, with and without the userId (the index lookup).
          for (let i = 0; i < 2; i++) {
            if (challengeId === null || challengeId === undefined) continue;
            const answer = generateTOTP(f.secret, { now });
            ops.push({
              kind: 'challenge',
              user: u,
              key: `challenge:${u}:${challengeId}`,
              valid: true,
              run: () =>
                via(i).flow.verifyChallenge({
                  challengeId,
                  code: answer,
                  now,
                  ...(i === 0 ? { userId: `f${u}` } : {}),
                }),
            });
          }
        }
        return ops;
      };

      const runOp = async (op: Op, w: number): Promise<void> => {
        try {
          const r = await op.run();
          if (!r.ok) return;
          oks++;
          if (!op.valid)
            failures.push(`wave ${w}: an invalid ${op.kind} code was accepted (${op.key})`);
          const n = (successes.get(op.key) ?? 0) + 1;
          successes.set(op.key, n);
          if (n > 1) failures.push(`wave ${w}: ${op.key} accepted ${n} times`);
          const step = Math.floor((T + w * 30_000) / 30_000);
          if (op.kind === 'totp') totpWins.set(op.user, Math.max(totpWins.get(op.user) ?? 0, step));
          else if (op.kind === 'recovery')
            recoveryWins.set(op.user, (recoveryWins.get(op.user) ?? new Set<string>()).add(op.key));
          else
            challengeWins.set(op.user, [
              ...(challengeWins.get(op.user) ?? []),
              { challengeId: op.key.slice(op.key.indexOf(':', 10) + 1), step },
            ]);
        } catch (e) {
          errors++;
          if (process.env.DEBUG_FAULTS)
            console.log(
              w,
              op.kind,
              e instanceof OtpkitError ? e.code : '',
              (e as Error).message,
              String((e as Error).cause),
            );
          if (!(e instanceof OtpkitError && e.code.startsWith('ERR_STORE')))
            failures.push(
              `wave ${w}: ${op.kind} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
            );
        }
      };

      /** After a restart on the same port and AOF: everything accepted so far must still be consumed. */
      const checkConsumed = async (now: number): Promise<void> => {
        for (const [u, step] of totpWins) {
          const state = (await viaIo.store.getCredentials(`u${u}`, ['default'])).default;
          expect(state?.lastStep ?? -1).toBeGreaterThanOrEqual(step);
          const claim = {
            kind: 'totp',
            credentialId: 'default',
            step,
            drift: 0,
            create: false,
          } as const;
          expect(
            await viaNr.store.settleAttempt({ userId: `u${u}`, scope: 'otp', now, claim }),
          ).toEqual({ status: 'replayed' });
        }
        for (const [u, keys] of recoveryWins) {
          for (const key of keys) {
            const code = key.slice(key.indexOf(':', 4) + 1);
            expect(await viaNr.verifier.redeemRecoveryCode({ userId: `u${u}`, code, now })).toEqual(
              { ok: false, reason: 'invalid' },
            );
          }
          expect(await viaIo.verifier.remainingRecoveryCodes(`u${u}`)).toBeLessThanOrEqual(
            CODES - keys.size,
          );
        }
        for (const [u, wins] of challengeWins) {
          const f = factors[u] as { factorId: string; secret: Uint8Array };
          const state = (await viaIo.store.getCredentials(`f${u}`, [f.factorId]))[f.factorId];
          expect(state?.lastStep ?? -1).toBeGreaterThanOrEqual(
            Math.max(...wins.map((x) => x.step)),
          );
          for (const { challengeId } of wins) {
            const again = await viaNr.flow.verifyChallenge({
              challengeId,
              code: generateTOTP(f.secret, { now }),
              now,
            });
            expect(again).toEqual({ ok: false, reason: 'expired' });
          }
        }
      };

      // Several kill/restart cycles, pulling the plug at different moments of a wave (before,
      // during and after the claims), so the kill lands on different scripts.
      let w = 0;
      for (const killAfterMs of KILL_AFTER_MS) {
        const errorsBefore = errors;
        for (let i = 0; i < WAVES_PER_CYCLE; i++, w++) {
          const wave = w;
          const ops = waveOps(wave, await startChallenges(T + wave * 30_000));
          largest = Math.max(largest, ops.length);
          const inFlight = Promise.all(ops.map((op) => runOp(op, wave)));
          if (i === 1) {
            expect(ops).toHaveLength(64);
            expect(errors, 'a healthy server gives no errors').toBe(errorsBefore);
            await new Promise((r) => setTimeout(r, killAfterMs));
            await server.kill();
          }
          await inFlight;
        }
        expect(failures).toEqual([]);
        expect(errors, 'the kill was noticed, as ERR_STORE*').toBeGreaterThan(errorsBefore);
        await server.restart();
        await conn.ready();
        await checkConsumed(T + w * 30_000); // not before the last failure counted
      }
      expect(failures).toEqual([]);
      expect(largest).toBe(64);
      expect(oks).toBeGreaterThan(0);
      expect(totpWins.size).toBeGreaterThan(0);
      expect(recoveryWins.size).toBeGreaterThan(0);
      expect(challengeWins.size).toBeGreaterThan(0);
    });

    it('waitForReplicas: accepted while the replica acknowledges, fails closed once it is gone', async () => {
      const primary = await startRedisServer(redisBin, newDir());
      servers.push(primary);
      const replica = await startRedisServer(redisBin, newDir(), [
        '--replicaof',
        '127.0.0.1',
        String(primary.port),
      ]);
      servers.push(replica);
      const client = new Redis(primary.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      client.on('error', noop);
      cleanups.push(() => client.disconnect());
      await client.connect();
      await waitUntil(
        async () => /slave0:.*state=online/.test(await client.info('replication')),
        15_000,
        'the replica to attach',
      );
      const store = createRedisStore({ client, waitForReplicas: { replicas: 1, timeoutMs: 300 } });
      const verifier = createVerifier({ store, storeTimeoutMs: 2000 });
      const secret = new Uint8Array(20).fill(9);
      expect(
        await verifier.verifyTOTP({
          userId: 'w',
          secret,
          token: generateTOTP(secret, { now: T }),
          now: T,
        }),
      ).toMatchObject({ ok: true });
      await replica.kill();
      await waitUntil(
        async () => /connected_slaves:0/.test(await client.info('replication')),
        15_000,
        'the primary to notice',
      );
      const next = T + 30_000;
      const r = await verifier
        .verifyTOTP({ userId: 'w', secret, token: generateTOTP(secret, { now: next }), now: next })
        .catch((e: unknown) => e);
      expect(r).toBeInstanceOf(OtpkitError);
      expect((r as OtpkitError).code).toBe('ERR_STORE');
      // A refusal the throttle made wrote nothing, so it waits for no replica.
      const locked = createVerifier({
        store,
        storeTimeoutMs: 2000,
        throttle: { maxFailures: 1, freeFailures: 0 },
      });
      await locked
        .verifyTOTP({ userId: 'w2', secret, token: '000000', now: next })
        .catch(() => undefined);
      expect(await locked.verifyTOTP({ userId: 'w2', secret, token: '000000', now: next })).toEqual(
        { ok: false, reason: 'locked' },
      );
    });
  },
);
