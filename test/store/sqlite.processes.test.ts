/**
 * Several Node processes standing in for the app servers of one host, each with its own
 * better-sqlite3 connection to ONE database file, submit the SAME valid TOTP code (one decision
 * per attempt), the SAME code with a lazily fetched secret (two decisions: beginAttempt,
 * settleAttempt), and the SAME recovery code, at the same instant: exactly one succeeds each
 * round (RFC 6238 §5.2: a code is accepted once). SQLite's write lock (BEGIN IMMEDIATE, waited
 * for through the busy timeout) is what serialises them. The worker is TypeScript source
 * bundled with esbuild.
 */
import Database from 'better-sqlite3';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore, migrateSqlite, type SqliteStore } from '../../src/store/sqlite.js';
import { generateTOTP } from '../../src/totp.js';
import { createVerifier } from '../../src/verifier/verifier.js';
import type {
  FromSqliteWorker,
  SqliteWorkerTask,
  ToSqliteWorker,
} from './fixtures/sqlite-worker.js';

const WORKERS = 4;
const PARALLEL = 2; // concurrent attempts per worker: 8 at once in all
const ROUNDS = 5;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
const SECRET_HEX = Buffer.from(SECRET).toString('hex');
const T = Date.UTC(2032, 6, 7, 8, 9, 10);
const PREFIX = 'procs_';

interface Worker {
  readonly child: ChildProcess;
  send(m: ToSqliteWorker): void;
  /** Resolves the first message matching `pred` (registered before anything is sent). */
  next<M extends FromSqliteWorker>(
    pred: (m: FromSqliteWorker) => m is M,
    timeoutMs?: number,
  ): Promise<M>;
}

function startWorker(bundle: string, env: NodeJS.ProcessEnv): Worker {
  const child = fork(bundle, [], {
    env,
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters = new Set<(m: FromSqliteWorker) => boolean>();
  const onExit = new Map<(m: FromSqliteWorker) => boolean, (code: number | null) => void>();
  let fatal: string | undefined;
  child.on('message', (raw) => {
    const m = raw as FromSqliteWorker;
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
        const check = (m: FromSqliteWorker): boolean => {
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

describe('SQLite store: app servers as separate processes on one database file', () => {
  let dir: string | undefined;
  let db: Database.Database | undefined;
  let store!: SqliteStore;
  const workers: Worker[] = [];
  let round = 0;

  beforeAll(async () => {
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    // Inside the repository, so the bundle's external `import 'better-sqlite3'` resolves to node_modules.
    dir = mkdtempSync(join(ROOT, '.tmp', 'sqlite-workers-'));
    const bundle = join(dir, 'sqlite-worker.mjs');
    await build({
      entryPoints: [join(ROOT, 'test/store/fixtures/sqlite-worker.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['better-sqlite3'],
      outfile: bundle,
      logLevel: 'error',
    });
    const file = join(dir, 'shared.sqlite');
    db = new Database(file);
    migrateSqlite(db, { prefix: PREFIX });
    store = createSqliteStore({ db, prefix: PREFIX });
    const env = {
      ...process.env,
      OTPKIT_SQLITE_FILE: file,
      OTPKIT_SQLITE_PREFIX: PREFIX,
      OTPKIT_WORKER_PARALLEL: String(PARALLEL),
    };
    for (let i = 0; i < WORKERS; i++) workers.push(startWorker(bundle, env));
    await Promise.all(
      workers.map((w) =>
        w.next((m): m is Extract<FromSqliteWorker, { type: 'ready' }> => m.type === 'ready'),
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
    if (db?.open === true) {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Arms every worker with `task`, then releases them all at one instant; returns every attempt's outcome. */
  const race = async (task: SqliteWorkerTask): Promise<string[]> => {
    const r = ++round;
    const armed = workers.map((w) =>
      w.next(
        (m): m is Extract<FromSqliteWorker, { type: 'armed' }> =>
          m.type === 'armed' && m.round === r,
      ),
    );
    for (const w of workers) w.send({ type: 'arm', round: r, task });
    await Promise.all(armed);
    const results = workers.map((w) =>
      w.next(
        (m): m is Extract<FromSqliteWorker, { type: 'result' }> =>
          m.type === 'result' && m.round === r,
        60_000,
      ),
    );
    const at = Date.now() + 100;
    for (const w of workers) w.send({ type: 'go', round: r, at });
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
        // One transaction holds the write lock from gate to reset, so the winner resets an empty
        // bucket and every loser counts after it; two phases let early losers' counts be reset.
        if (!lazy)
          expect((await store.getThrottle(userId, 'otp')).failures).toBe(WORKERS * PARALLEL - 1);
      }
    });

  it(`the same recovery code from ${WORKERS} processes × ${PARALLEL}: exactly one success, ${ROUNDS} rounds`, async () => {
    // Cheap scrypt (the parameters travel inside each hash), so the redemptions stay fast.
    const issuer = createVerifier({ store, recoveryHash: { logN: 10 } });
    for (let i = 0; i < ROUNDS; i++) {
      const userId = `recovery-race-${i}`;
      const codes = await issuer.issueRecoveryCodes({ userId, count: 3 });
      const results = await race({
        kind: 'recovery',
        userId,
        code: codes[i % 3] as string,
        now: T,
      });
      expect(results).toHaveLength(WORKERS * PARALLEL);
      expect(tally(results)).toEqual({ ok: 1, invalid: WORKERS * PARALLEL - 1 });
      expect(await issuer.remainingRecoveryCodes(userId)).toBe(2);
    }
  });

  it('the processes really were separate, and the file stayed consistent', () => {
    expect(new Set(workers.map((w) => w.child.pid)).size).toBe(WORKERS);
    expect(round).toBe(3 * ROUNDS);
    expect(db?.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db?.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db?.prepare(`SELECT count(*) AS n FROM "${PREFIX}scratch"`).pluck().get()).toBe(0);
  });
});
