/**
 * Several Node processes standing in for app servers, each with its own pg.Pool, submit the
 * SAME valid TOTP code (one statement per attempt), the SAME code with a lazily fetched secret
 * (two statements: beginAttempt, settleAttempt), and the SAME recovery code, at the same moment
 * (released together by a `go` message once every worker has warm connections): exactly one
 * succeeds each time (RFC 6238 §5.2: a code is accepted once). The worker is TypeScript source
 * bundled with esbuild.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createPostgresStore,
  migratePostgres,
  type PostgresStore,
} from '../../src/store/postgres.js';
import { generateTOTP } from '../../src/totp.js';
import { createVerifier } from '../../src/verifier/verifier.js';
import { describeWithEnv } from './_servers.js';
import { dropPrefix } from './postgres.helpers.js';
import type { FromWorker, ToWorker, WorkerTask } from './fixtures/pg-worker.js';

const WORKERS = 6;
const PARALLEL = 4; // concurrent attempts per worker: 24 at once in all
const ROUNDS = 3;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = new Uint8Array(32).map((_, i) => (i * 29 + 5) & 0xff);
const SECRET_HEX = Buffer.from(SECRET).toString('hex');
const T = Date.UTC(2032, 2, 3, 4, 5, 6);

interface Worker {
  readonly child: ChildProcess;
  send(m: ToWorker): void;
  /** Resolves the first message matching `pred` (registered before anything is sent). */
  next<M extends FromWorker>(pred: (m: FromWorker) => m is M, timeoutMs?: number): Promise<M>;
}

function startWorker(bundle: string, env: NodeJS.ProcessEnv): Worker {
  const child = fork(bundle, [], {
    env,
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters = new Set<(m: FromWorker) => boolean>();
  /** What to do with each waiter if the worker exits first: one exit listener per worker, not per wait. */
  const onExit = new Map<(m: FromWorker) => boolean, (code: number | null) => void>();
  let fatal: string | undefined;
  child.on('message', (raw) => {
    const m = raw as FromWorker;
    if (m.type === 'fatal') fatal = m.message;
    for (const w of waiters)
      if (w(m)) {
        waiters.delete(w);
        onExit.delete(w);
      }
  });
  child.once('exit', (code) => {
    for (const [check, reject] of onExit) {
      waiters.delete(check);
      reject(code);
    }
    onExit.clear();
  });
  return {
    child,
    send(m) {
      child.send(m);
    },
    next(pred, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          onExit.delete(check);
          reject(
            new Error(
              `worker ${child.pid}: no reply within ${timeoutMs} ms${fatal ? ` (fatal: ${fatal})` : ''}`,
            ),
          );
        }, timeoutMs);
        const check = (m: FromWorker): boolean => {
          if (m.type === 'fatal') {
            clearTimeout(timer);
            reject(new Error(`worker ${child.pid}: ${m.message}`));
            return true;
          }
          if (!pred(m)) return false;
          clearTimeout(timer);
          resolve(m);
          return true;
        };
        waiters.add(check);
        onExit.set(check, (code) => {
          clearTimeout(timer);
          reject(
            new Error(
              `worker ${child.pid} exited with ${code}${fatal ? ` (fatal: ${fatal})` : ''}`,
            ),
          );
        });
      });
    },
  };
}

describeWithEnv('OTPKIT_PG_URL', 'PostgreSQL store: app servers as separate processes', (url) => {
  const prefix = `otpkit_p${Math.random().toString(36).slice(2, 8)}_`;
  let dir: string | undefined;
  let pool: pg.Pool | undefined;
  let store!: PostgresStore;
  const workers: Worker[] = [];
  let round = 0;

  beforeAll(async () => {
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    // Inside the repository, so the bundle's external `import 'pg'` resolves to node_modules.
    dir = mkdtempSync(join(ROOT, '.tmp', 'pg-workers-'));
    const bundle = join(dir, 'pg-worker.mjs');
    await build({
      entryPoints: [join(ROOT, 'test/store/fixtures/pg-worker.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['pg', 'ioredis', 'redis'],
      outfile: bundle,
      logLevel: 'error',
    });
    pool = new pg.Pool({ connectionString: url, max: 4 });
    await migratePostgres(pool, { prefix });
    store = createPostgresStore({ client: pool, prefix });
    const env = {
      ...process.env,
      OTPKIT_PG_URL: url,
      OTPKIT_PG_PREFIX: prefix,
      OTPKIT_WORKER_PARALLEL: String(PARALLEL),
    };
    for (let i = 0; i < WORKERS; i++) workers.push(startWorker(bundle, env));
    // Every worker has its pool connected before any round starts.
    await Promise.all(
      workers.map((w) =>
        w.next((m): m is Extract<FromWorker, { type: 'ready' }> => m.type === 'ready'),
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      workers.map(async (w) => {
        if (w.child.exitCode !== null || w.child.signalCode !== null) return;
        const gone = new Promise<void>((r) => w.child.once('exit', () => r()));
        try {
          w.send({ type: 'exit' });
        } catch {
          // channel already closed
        }
        const killer = setTimeout(() => w.child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(killer);
      }),
    );
    try {
      if (pool !== undefined) {
        await dropPrefix(pool, prefix);
        await pool.end();
      }
    } finally {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  /** Arms every worker with `task`, then releases them all at once; returns every attempt's outcome. */
  const race = async (task: WorkerTask): Promise<string[]> => {
    const r = ++round;
    const armed = workers.map((w) =>
      w.next(
        (m): m is Extract<FromWorker, { type: 'armed' }> => m.type === 'armed' && m.round === r,
      ),
    );
    for (const w of workers) w.send({ type: 'arm', round: r, task });
    await Promise.all(armed);
    const results = workers.map((w) =>
      w.next(
        (m): m is Extract<FromWorker, { type: 'result' }> => m.type === 'result' && m.round === r,
        60_000,
      ),
    );
    for (const w of workers) w.send({ type: 'go', round: r });
    return (await Promise.all(results)).flatMap((m) => m.results);
  };

  const tally = (results: string[]): Record<string, number> =>
    results.reduce<Record<string, number>>((acc, x) => ((acc[x] = (acc[x] ?? 0) + 1), acc), {});

  for (const lazy of [false, true])
    it(`the same valid TOTP code${lazy ? ' (secret fetched lazily: two phases)' : ''} from ${WORKERS} processes × ${PARALLEL}: exactly one success, ${ROUNDS} rounds`, async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const userId = `totp-race-${lazy ? 'lazy-' : ''}${i}`;
        const now = T + i * 3_600_000;
        const results = await race({
          kind: 'totp',
          userId,
          secretHex: SECRET_HEX,
          token: generateTOTP(SECRET, { now }),
          now,
          lazy,
        });
        expect(results).toHaveLength(WORKERS * PARALLEL);
        expect(tally(results)).toEqual({ ok: 1, replayed: WORKERS * PARALLEL - 1 });
        expect((await store.getCredentials(userId, ['default'])).default?.lastStep).toBe(
          Math.floor(now / 30_000),
        );
        // One statement holds the bucket's lock from gate to reset, so the first attempt in is the
        // winner and every other one counts after it; two phases let early losers' counts be reset.
        if (!lazy)
          expect((await store.getThrottle(userId, 'otp')).failures).toBe(WORKERS * PARALLEL - 1);
      }
    });

  it(`the same recovery code from ${WORKERS} processes × ${PARALLEL}: exactly one success, ${ROUNDS} rounds`, async () => {
    // Cheap scrypt (the parameters travel inside each hash), so 24 redemptions at once stay fast.
    const issuer = createVerifier({ store, recoveryHash: { logN: 10 } });
    for (let i = 0; i < ROUNDS; i++) {
      const userId = `recovery-race-${i}`;
      const codes = await issuer.issueRecoveryCodes({ userId, count: 3 });
      const results = await race({ kind: 'recovery', userId, code: codes[1] as string, now: T });
      expect(results).toHaveLength(WORKERS * PARALLEL);
      expect(tally(results)).toEqual({ ok: 1, invalid: WORKERS * PARALLEL - 1 });
      expect(await issuer.remainingRecoveryCodes(userId)).toBe(2);
    }
  });

  it('keeps one exit listener per worker however many messages it waited for', () => {
    expect(round).toBeGreaterThanOrEqual(3 * ROUNDS);
    for (const w of workers) expect(w.child.listenerCount('exit')).toBeLessThanOrEqual(1);
  });
});
