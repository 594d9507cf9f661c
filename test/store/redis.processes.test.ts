/**
 * Several app servers at once: six forked Node processes, each with its own Redis connection
 * (alternately ioredis and node-redis), all submit the SAME valid TOTP code, then the SAME
 * recovery code, then the SAME answer to one sign-in challenge of the two-factor flow (half of
 * them without the userId, so through the challenge index), released together → exactly one
 * success per round.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeBase32 } from '../../src/base32.js';
import { createRedisStore } from '../../src/store/redis.js';
import { generateTOTP } from '../../src/totp.js';
import { createTwoFactor } from '../../src/twofactor/twofactor.js';
import { createVerifier } from '../../src/verifier/verifier.js';
import { describeWithEnv } from './_servers.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const WORKERS = 6;
const PARALLEL = 4; // attempts per worker per round
const ROUNDS = 5;
const SECRET = new Uint8Array(20).map((_, i) => (i * 29 + 5) & 0xff);
const T = Date.UTC(2032, 3, 1, 8, 0, 0);
const KEK = new Uint8Array(32).map((_, i) => (i * 13 + 7) & 0xff);

type Result = { ok: true } | { ok: false; reason: string } | { error: string };

interface Worker {
  readonly child: ChildProcess;
  next(type: string): Promise<Record<string, unknown>>;
}

function startWorker(bundle: string, env: NodeJS.ProcessEnv): Worker {
  const child = fork(bundle, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: Array<Record<string, unknown>> = [];
  const waiters: Array<{
    type: string;
    resolve: (m: Record<string, unknown>) => void;
    reject: (e: Error) => void;
  }> = [];
  const pump = (): void => {
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i]!;
      const at = inbox.findIndex((m) => m.type === w.type);
      if (at >= 0) {
        waiters.splice(i--, 1);
        w.resolve(inbox.splice(at, 1)[0]!);
      }
    }
  };
  child.on('message', (m) => {
    inbox.push(m as Record<string, unknown>);
    pump();
  });
  child.on('exit', (code, signal) => {
    for (const w of waiters.splice(0))
      w.reject(new Error(`worker exited (${code ?? signal}) while waiting for ${w.type}`));
  });
  return {
    child,
    next: (type) =>
      new Promise((resolve, reject) => {
        waiters.push({ type, resolve, reject });
        pump();
      }),
  };
}

describeWithEnv('OTPKIT_REDIS_URL', `Redis store across ${WORKERS} processes`, (url) => {
  const prefix = `otpkit-test:${process.pid}-${Math.random().toString(36).slice(2, 8)}:procs:`;
  let tmp: string;
  let workers: Worker[] = [];
  let raw: Redis;

  beforeAll(async () => {
    // Inside the repo so the bundle resolves ioredis/redis from ./node_modules.
    mkdirSync(join(root, '.tmp'), { recursive: true });
    tmp = mkdtempSync(join(root, '.tmp', 'redis-procs-'));
    const bundle = join(tmp, 'worker.mjs');
    await build({
      entryPoints: [join(here, 'fixtures', 'redis-worker.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['ioredis', 'redis', 'pg'],
      outfile: bundle,
      logLevel: 'error',
    });
    raw = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await raw.connect();
    workers = Array.from({ length: WORKERS }, (_, i) =>
      startWorker(bundle, {
        ...process.env,
        OTPKIT_REDIS_URL: url,
        OTPKIT_TEST_PREFIX: prefix,
        OTPKIT_TEST_CLIENT: i % 2 === 0 ? 'ioredis' : 'node-redis',
        OTPKIT_TEST_KEK: Buffer.from(KEK).toString('hex'),
      }),
    );
    await Promise.all(workers.map((w) => w.next('ready')));
  });

  afterAll(async () => {
    await Promise.all(
      workers.map(async (w) => {
        if (w.child.exitCode !== null || w.child.signalCode !== null) return;
        const gone = new Promise((r) => w.child.once('exit', r));
        w.child.send({ type: 'exit' });
        const timer = setTimeout(() => w.child.kill('SIGKILL'), 3000);
        await gone;
        clearTimeout(timer);
      }),
    );
    if (raw !== undefined) {
      let cursor = '0';
      do {
        const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await raw.del(...keys);
      } while (cursor !== '0');
      await raw.quit();
    }
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  /** Arms every worker with `job`, releases them together, and collects every attempt's result. */
  const race = async (job: Record<string, unknown>): Promise<Result[]> => {
    const armed = workers.map((w) => w.next('armed'));
    workers.forEach((w, i) =>
      w.child.send({ type: 'arm', job: { ...job, withUser: i < WORKERS / 2, parallel: PARALLEL } }),
    );
    await Promise.all(armed);
    const results = workers.map((w) => w.next('results'));
    for (const w of workers) w.child.send({ type: 'go' });
    return (await Promise.all(results)).flatMap((m) => m.results as Result[]);
  };

  it(`the same TOTP code from ${WORKERS}×${PARALLEL} attempts: exactly one success per round`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const now = T + round * 30_000;
      const results = await race({
        kind: 'totp',
        userId: `totp-${round}`,
        secretHex: Buffer.from(SECRET).toString('hex'),
        token: generateTOTP(SECRET, { now }),
        now,
      });
      expect(results).toHaveLength(WORKERS * PARALLEL);
      expect(results.filter((r) => 'ok' in r && r.ok)).toHaveLength(1);
      expect(results.filter((r) => 'ok' in r && !r.ok && r.reason === 'replayed')).toHaveLength(
        WORKERS * PARALLEL - 1,
      );
    }
  });

  it(`the same recovery code from ${WORKERS}×${PARALLEL} attempts: exactly one success per round`, async () => {
    const store = createRedisStore({ client: raw, prefix });
    const issuer = createVerifier({ store, recoveryHash: { logN: 10 } });
    for (let round = 0; round < ROUNDS; round++) {
      const userId = `recovery-${round}`;
      const codes = await issuer.issueRecoveryCodes({ userId, count: 3 });
      const results = await race({ kind: 'recovery', userId, code: codes[round % 3], now: T });
      expect(results).toHaveLength(WORKERS * PARALLEL);
      expect(results.filter((r) => 'ok' in r && r.ok)).toHaveLength(1);
      expect(results.filter((r) => 'ok' in r && !r.ok && r.reason === 'invalid')).toHaveLength(
        WORKERS * PARALLEL - 1,
      );
      expect(await issuer.remainingRecoveryCodes(userId)).toBe(2);
    }
  });

  it(`the same answer to one challenge from ${WORKERS}×${PARALLEL} attempts (half through the index): exactly one success per round`, async () => {
    const store = createRedisStore({ client: raw, prefix });
    let now = T;
    const flow = createTwoFactor({
      store,
      issuer: 'ACME',
      keys: { current: 'k1', keys: { k1: KEK } },
      now: () => now,
      challengeAttempts: 100,
      recoveryCodes: { hash: { logN: 10 } },
    });
    for (let round = 0; round < ROUNDS; round++) {
      const userId = `challenge-${round}`;
      const b = await flow.beginEnrollment({ userId, account: `${userId}@example.com` });
      if (!b.ok) throw new Error('beginEnrollment');
      const secret = decodeBase32(b.manualKey.replace(/ /g, ''));
      expect(
        await flow.confirmEnrollment({
          userId,
          factorId: b.factorId,
          code: generateTOTP(secret, { now }),
        }),
      ).toMatchObject({ ok: true });
      now += 30_000;
      const c = await flow.startChallenge({ userId });
      if (!c.required) throw new Error('startChallenge');
      const results = await race({
        kind: 'challenge',
        userId,
        challengeId: c.challengeId,
        code: generateTOTP(secret, { now }),
        now,
      });
      expect(results).toHaveLength(WORKERS * PARALLEL);
      expect(results.filter((r) => 'ok' in r && r.ok)).toHaveLength(1);
      // The others lost the claim, or found the challenge already used.
      expect(
        results.filter(
          (r) => 'ok' in r && !r.ok && (r.reason === 'replayed' || r.reason === 'expired'),
        ),
      ).toHaveLength(WORKERS * PARALLEL - 1);
      expect(
        await flow.verifyChallenge({
          challengeId: c.challengeId,
          code: generateTOTP(secret, { now: now + 30_000 }),
          now: now + 30_000,
        }),
      ).toEqual({ ok: false, reason: 'expired' });
    }
  });
});
