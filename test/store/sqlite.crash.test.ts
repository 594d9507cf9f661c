/**
 * A writer process killed with SIGKILL in the middle of its writes loses nothing it reported:
 * the writer (fixtures/sqlite-crash-writer.ts, bundled with esbuild) consumes seeded TOTP steps
 * and recovery codes on a database file on disk (WAL; synchronous FULL, and NORMAL in every
 * other round) and prints each consumed item only after the store call resolved; the test kills
 * it after a seeded number of reports, reopens the file and checks that `PRAGMA integrity_check`
 * says ok, that no decision was left half-done (no scratch row, at most the one in-flight item
 * committed unreported), that every reported code is refused again, and that the rest still
 * works. Several rounds, each a new process on the same file.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore, migrateSqlite } from '../../src/store/sqlite.js';
import { generateTOTP } from '../../src/totp.js';
import { createVerifier } from '../../src/verifier/verifier.js';
import {
  CRASH_CODES,
  CRASH_HASH,
  CRASH_PREFIX,
  CRASH_T,
  crashUsers,
  prng,
  type CrashUser,
} from './fixtures/sqlite-crash-plan.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SEED = 0x5eed_c0de;
const ROUNDS = 4;

interface Reports {
  /** Users whose recovery-code set was reported stored. */
  readonly sets: Set<string>;
  /** Accepted TOTP codes: user, step number, instant. */
  readonly totp: Array<{ user: string; k: number; now: number }>;
  /** Redeemed recovery codes: user, index. */
  readonly recovery: Array<{ user: string; i: number }>;
}

/** Runs the writer for `round` and kills it with SIGKILL once it has reported `killAfter` items; resolves what it reported. */
function runAndKill(
  bundle: string,
  file: string,
  round: number,
  killAfter: number,
  synchronous: 'FULL' | 'NORMAL',
): Promise<{ reports: Reports; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle], {
      env: {
        ...process.env,
        OTPKIT_SQLITE_FILE: file,
        OTPKIT_CRASH_SEED: String(SEED),
        OTPKIT_CRASH_ROUND: String(round),
        OTPKIT_CRASH_SYNC: synchronous,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let lines = 0;
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      for (const ch of chunk) if (ch === '\n') lines++;
      if (!killed && lines >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: string) => {
      err += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer of round ${round}: ${lines} reports in 60 s (${err})`));
    }, 60_000);
    child.on('error', reject);
    // 'close': the process is gone and stdout is drained, so every line it managed to write is here.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!killed)
        return reject(
          new Error(
            `writer of round ${round} exited with ${code} before ${killAfter} reports: ${err}`,
          ),
        );
      const reports: Reports = { sets: new Set(), totp: [], recovery: [] };
      // Only complete lines: a line cut short by the kill was not reported.
      const complete = out.slice(0, out.lastIndexOf('\n') + 1);
      for (const line of complete.split('\n')) {
        if (line === '') continue;
        const [tag, user = '', a = '', b = ''] = line.split(' ');
        if (tag === 'S') reports.sets.add(user);
        else if (tag === 'T') reports.totp.push({ user, k: Number(a), now: Number(b) });
        else if (tag === 'R') reports.recovery.push({ user, i: Number(a) });
        else
          return reject(
            new Error(`writer of round ${round}: unexpected line ${JSON.stringify(line)}`),
          );
      }
      resolve({ reports, signal });
    });
  });
}

describe('SQLite store: a writer killed with SIGKILL mid-writes', () => {
  let dir = '';
  let bundle = '';
  let file = '';
  const all: Reports = { sets: new Set(), totp: [], recovery: [] };
  const users = new Map<string, CrashUser>();

  beforeAll(async () => {
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    // On the disk (not tmpfs), inside the repository so the bundle's `import 'better-sqlite3'` resolves.
    dir = mkdtempSync(join(ROOT, '.tmp', 'sqlite-crash-'));
    bundle = join(dir, 'sqlite-crash-writer.mjs');
    await build({
      entryPoints: [join(ROOT, 'test/store/fixtures/sqlite-crash-writer.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['better-sqlite3'],
      outfile: bundle,
      logLevel: 'error',
    });
    file = join(dir, 'crash.sqlite');
    const db = new Database(file);
    migrateSqlite(db, { prefix: CRASH_PREFIX });
    db.close();
  }, 60_000);

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const kills = prng(SEED);
  for (let round = 0; round < ROUNDS; round++) {
    // Seeded: between 40 and 159 reports before the kill (the 6 sets come first).
    const killAfter = 40 + Math.floor(kills() * 120);
    // A killed process loses nothing under NORMAL either: its commits are in the OS's page cache
    // (NORMAL only risks the last commits on a power loss or an OS crash, which this cannot show).
    const synchronous = round % 2 === 0 ? 'FULL' : 'NORMAL';
    it(`round ${round} (synchronous=${synchronous}): killed after ${killAfter} reports, the reopened file is intact and refuses every reported code`, async () => {
      for (const u of crashUsers(SEED, round)) users.set(u.id, u);
      const { reports, signal } = await runAndKill(bundle, file, round, killAfter, synchronous);
      expect(signal).toBe('SIGKILL');
      expect(
        reports.sets.size + reports.totp.length + reports.recovery.length,
      ).toBeGreaterThanOrEqual(killAfter);
      for (const s of reports.sets) all.sets.add(s);
      all.totp.push(...reports.totp);
      all.recovery.push(...reports.recovery);

      // The commits since the last checkpoint are in the write-ahead log the killed process left behind;
      // reopening: the first connection after the crash recovers from it.
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
      const db = new Database(file);
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        // No decision was left half-done: each deletes its scratch row in its own transaction.
        expect(db.prepare(`SELECT count(*) FROM "${CRASH_PREFIX}scratch"`).pluck().get()).toBe(0);
        const store = createSqliteStore({ db, prefix: CRASH_PREFIX });
        const verifier = createVerifier({
          store,
          recoveryHash: CRASH_HASH,
          throttle: { freeFailures: 100, maxFailures: 100 },
        });

        // Nothing reported is lost, and at most the one item in flight committed unreported.
        for (const u of crashUsers(SEED, round)) {
          if (!reports.sets.has(u.id)) continue;
          const used = reports.recovery.filter((r) => r.user === u.id).length;
          const remaining = await verifier.remainingRecoveryCodes(u.id);
          expect([CRASH_CODES - used, CRASH_CODES - used - 1]).toContain(remaining);
          const mine = reports.totp.filter((t) => t.user === u.id);
          const last = mine.at(-1);
          const stored = (await store.getCredentials(u.id, ['default'])).default?.lastStep ?? null;
          // The in-flight code, if it committed, is 1..3 steps past the last reported one (two steps apart plus the offset).
          const floor = last === undefined ? null : Math.floor(last.now / 30_000);
          const ceiling = (floor ?? Math.floor(CRASH_T / 30_000)) + 3;
          if (floor === null) expect(stored === null || stored <= ceiling).toBe(true);
          else {
            expect(stored).toBeGreaterThanOrEqual(floor);
            expect(stored).toBeLessThanOrEqual(ceiling);
          }
        }

        // Every code reported consumed, in this round or an earlier one, is refused.
        for (const t of all.totp) {
          const u = users.get(t.user) as CrashUser;
          const r = await verifier.verifyTOTP({
            userId: u.id,
            secret: u.secret,
            token: generateTOTP(u.secret, { now: t.now }),
            now: t.now,
          });
          expect(r, `${t.user} step ${t.k}`).toEqual({ ok: false, reason: 'replayed' });
          await store.resetThrottle(u.id, null);
        }
        for (const x of all.recovery) {
          const u = users.get(x.user) as CrashUser;
          const r = await verifier.redeemRecoveryCode({
            userId: u.id,
            code: u.codes[x.i] as string,
            now: CRASH_T,
          });
          expect(r, `${x.user} code ${x.i}`).toEqual({ ok: false, reason: 'invalid' });
          await store.resetThrottle(u.id, null);
        }

        // And the database still works: a later step, and a code past the one that may have been in flight.
        for (const u of crashUsers(SEED, round)) {
          if (!reports.sets.has(u.id)) continue;
          const k = 10_000;
          const now = CRASH_T + 2 * k * 30_000;
          expect(
            await verifier.verifyTOTP({
              userId: u.id,
              secret: u.secret,
              token: generateTOTP(u.secret, { now }),
              now,
            }),
          ).toMatchObject({ ok: true });
          all.totp.push({ user: u.id, k, now });
          const i = reports.recovery.filter((r) => r.user === u.id).length + 1;
          if (i < CRASH_CODES) {
            expect(
              await verifier.redeemRecoveryCode({
                userId: u.id,
                code: u.codes[i] as string,
                now: CRASH_T,
              }),
            ).toMatchObject({ ok: true });
            all.recovery.push({ user: u.id, i });
          }
        }
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        db.close();
      }
    }, 120_000);
  }
});
