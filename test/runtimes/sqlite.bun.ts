/**
 * The SQLite store on Bun's own driver (`bun:sqlite`), run by test/runtimes/run.mjs in Bun only
 * (named outside vitest's `*.test.ts` pattern: Node has no `bun:sqlite`). The same contract suites
 * that src/testing.ts ships and test/store/sqlite.test.ts runs on better-sqlite3: the OtpStore and
 * FactorStore contracts, and the two-factor flow with its fault cases, each case on a database
 * file of its own.
 */
import { Database } from 'bun:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore, migrateSqlite, type SqliteDatabase } from '../../src/store/sqlite.js';
import {
  factorStoreContract,
  storeContract,
  twoFactorContract,
  twoFactorFaultContract,
} from '../../src/testing.js';
import { purgeCases } from '../store/purge.shared.js';

// tmpfs where there is one, as test/store/sqlite.test.ts does: synchronous=FULL fsyncs every commit.
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'otpkit-bun-sqlite-'));
const opened: Database[] = [];
let seq = 0;
function fresh(): ReturnType<typeof createSqliteStore> {
  const db = new Database(join(dir, `db-${++seq}.sqlite`));
  opened.push(db);
  // Compile-time too: bun:sqlite's Database fits the structural type.
  const conn: SqliteDatabase = db;
  const prefix = `t${seq}_`;
  migrateSqlite(conn, { prefix });
  return createSqliteStore({ db: conn, prefix });
}
afterAll(() => {
  for (const db of opened) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SQLite store on bun:sqlite: the OtpStore contract', () => {
  for (const c of storeContract(fresh, { userPrefix: 'otp' })) it(c.name, c.run, c.timeoutMs);
});

describe('SQLite store on bun:sqlite: the FactorStore contract', () => {
  for (const c of factorStoreContract(fresh, { userPrefix: 'fac' })) it(c.name, c.run, c.timeoutMs);
});

describe('SQLite store on bun:sqlite: the two-factor contract', () => {
  for (const c of twoFactorContract(() => ({ store: fresh() }), { userPrefix: 'tf' }))
    it(c.name, c.run, c.timeoutMs);
});

describe('SQLite store on bun:sqlite: faults at every method fail closed', () => {
  for (const c of twoFactorFaultContract(() => ({ store: fresh() }), { userPrefix: 'fault' }))
    it(c.name, c.run, c.timeoutMs);
});

describe('SQLite store on bun:sqlite', () => {
  it('runs on a WAL database file, with the tables in it', () => {
    const store = fresh();
    expect(store).toBeDefined();
    const db = opened[opened.length - 1] as Database;
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ORDER BY name")
      .all(`t${seq}_%`);
    expect(tables.length).toBeGreaterThan(0);
  });
});

describe('SQLite store on bun:sqlite: purgeExpired', () => {
  // (SQLite deletes a throttle bucket on success: no zero row to purge here.)
  for (const c of purgeCases(async () => ({ store: fresh(), zeroThrottleRows: false })))
    it(c.name, c.run);
});
