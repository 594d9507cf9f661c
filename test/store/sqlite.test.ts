/**
 * The SQLite store on better-sqlite3 12 and real database files: the shared SQL-store suite
 * (test/store/sql.shared.ts: the OtpStore, FactorStore and two-factor contracts with their fault
 * cases, the seeded memory-store oracle, 2^64 − 1, ids that differ in one character, the schema's
 * CHECKs, tampered rows in every table, erasure, 50-way races), then what is SQLite's own: the
 * connection settings (WAL, busy timeout, synchronous), one BEGIN IMMEDIATE per decision, a
 * statement blocked by another connection's write lock failing with ERR_STORE_TIMEOUT after the
 * busy timeout, calls inside an application transaction refused (CVE-2026-35597), prefix and
 * option validation, and refusing D1 bindings and asynchronous drivers.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OtpkitError } from '../../src/errors.js';
import {
  createSqliteStore,
  migrateSqlite,
  sqliteSchema,
  type SqliteDatabase,
  type SqliteStatement,
} from '../../src/store/sqlite.js';
import { createVerifier, OTP_SCOPE } from '../../src/verifier/verifier.js';
import { generateTOTP } from '../../src/totp.js';
import {
  attempt,
  beginOn,
  challenge,
  expectStoreError,
  SECRET,
  settleOn,
  sqlStoreSuite,
  STEP,
  T,
  type Fresh,
  type Q,
} from './sql.shared.js';

// tmpfs where there is one: synchronous=FULL costs an fsync per commit (milliseconds on a disk),
// which would make the contract suites slow without testing anything more; the crash test
// (sqlite.crash.test.ts) runs on the disk.
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'otpkit-sqlite-'));
const opened: Database.Database[] = [];
let seq = 0;
/** A new database file (WAL and all), with a raw query function on the same connection. */
function open(file = join(dir, `db-${++seq}.sqlite`)): {
  db: Database.Database;
  q: Q;
  file: string;
} {
  const db = new Database(file);
  opened.push(db);
  const q: Q = async (sql, ...args) => {
    const st = db.prepare(sql);
    if (st.reader) return st.all(...args) as Record<string, unknown>[];
    st.run(...args);
    return [];
  };
  return { db, q, file };
}
afterAll(() => {
  for (const db of opened) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

// Compile-time: better-sqlite3's Database fits the structural type.
const _fits = (d: Database.Database): SqliteDatabase => d;
void _fits;

describe('SQLite store (better-sqlite3, database files)', () => {
  sqlStoreSuite({
    adapter: 'SQLite',
    // One file per store: every case of the flow contract gets a database of its own.
    async fresh(): Promise<Fresh> {
      const { db, q } = open();
      const prefix = `t${seq}_`;
      migrateSqlite(db, { prefix });
      return { store: createSqliteStore({ db, prefix }), prefix, q };
    },
    oracle: { seeds: [1, 2, 3, 0x5eed, 20260601], steps: 600 },
  });

  describe('connection and transactions', () => {
    it('sets WAL, the busy timeout and synchronous=FULL, and runs each decision in one BEGIN IMMEDIATE', async () => {
      const { db } = open();
      migrateSqlite(db);
      const sent: string[] = [];
      const spy: SqliteDatabase = {
        prepare: (sql) => {
          const st = db.prepare(sql);
          return {
            run: (...a: unknown[]) => (sent.push(sql), st.run(...a)),
            all: (...a: unknown[]) => (sent.push(sql), st.all(...a)),
          } as SqliteStatement;
        },
        exec: (sql) => (sent.push(sql), db.exec(sql)),
      };
      const store = createSqliteStore({ db: spy, busyTimeoutMs: 1234 });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
      expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
      createSqliteStore({ db, synchronous: 'NORMAL' });
      expect(db.pragma('synchronous', { simple: true })).toBe(1);
      sent.length = 0;
      expect(await store.attemptTotp(attempt('tx'))).toEqual({ status: 'ok', delta: 0 });
      expect(sent[0]).toBe('BEGIN IMMEDIATE');
      expect(sent.at(-1)).toBe('COMMIT');
      expect(sent.filter((s) => /^(BEGIN|COMMIT|ROLLBACK)/.test(s))).toEqual([
        'BEGIN IMMEDIATE',
        'COMMIT',
      ]);
      sent.length = 0;
      await store.getThrottle('tx', OTP_SCOPE);
      expect(sent).toHaveLength(1); // a read is one statement, no transaction
    });

    it('createChallenge commits with synchronous NORMAL, for its own transaction only and only in WAL mode; every decision with FULL', async () => {
      const { db } = open();
      migrateSqlite(db);
      const at: string[] = [];
      // What the connection's setting is when each COMMIT runs.
      const spy = (d: Database.Database): SqliteDatabase => ({
        prepare: (sql) => d.prepare(sql) as unknown as SqliteStatement,
        exec: (sql) => {
          if (sql === 'COMMIT') at.push(String(d.pragma('synchronous', { simple: true })));
          return d.exec(sql);
        },
      });
      const store = createSqliteStore({ db: spy(db) });
      const ch = challenge('relaxed', { createdAt: T });
      await store.createChallenge(ch, 5);
      await store.beginAttempt(beginOn(ch, T + 1));
      await store.settleAttempt(settleOn(ch, T + 1));
      await store.attemptTotp(attempt('relaxed'));
      expect(at).toEqual(['1', '2', '2', '2']); // NORMAL, then FULL
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      // EXTRA comes back as EXTRA; a rollback journal keeps FULL (NORMAL risks more there).
      at.length = 0;
      const extra = createSqliteStore({ db: spy(db), synchronous: 'EXTRA' });
      await extra.createChallenge(challenge('relaxed', { createdAt: T + 2 }), 5);
      expect(at).toEqual(['1']);
      expect(db.pragma('synchronous', { simple: true })).toBe(3);
      const journal = open();
      migrateSqlite(journal.db);
      journal.db.pragma('journal_mode = DELETE');
      at.length = 0;
      const plain = createSqliteStore({ db: spy(journal.db), wal: false });
      await plain.createChallenge(challenge('relaxed', { createdAt: T }), 5);
      expect(at).toEqual(['2']);
    });

    it('a decision blocked by another connection holding the write lock fails with ERR_STORE_TIMEOUT after the busy timeout', async () => {
      const { db, file } = open();
      migrateSqlite(db);
      const store = createSqliteStore({ db, busyTimeoutMs: 300 });
      expect((await store.attemptTotp(attempt('locked', { candidates: [] }))).status).toBe(
        'invalid',
      );
      const other = open(file).db;
      other.exec('BEGIN IMMEDIATE');
      try {
        const started = performance.now();
        const e = await expectStoreError(
          store.attemptTotp(attempt('locked', { candidates: [] })),
          'ERR_STORE_TIMEOUT',
        );
        expect(performance.now() - started).toBeGreaterThanOrEqual(250);
        expect((e.cause as { code?: unknown }).code).toMatch(/^SQLITE_BUSY/);
        await expectStoreError(
          store.settleAttempt({
            userId: 'locked',
            scope: OTP_SCOPE,
            now: T,
            claim: { kind: 'totp', credentialId: 'c', step: STEP, drift: 0, create: true },
          }),
          'ERR_STORE_TIMEOUT',
        );
        // WAL: readers never wait for the writer.
        expect(await store.getThrottle('locked', OTP_SCOPE)).toEqual({
          failures: 1,
          lastFailureAt: T,
        });
      } finally {
        other.exec('ROLLBACK');
      }
      expect(await store.attemptTotp(attempt('locked', { candidates: [] }))).toEqual({
        status: 'invalid',
        failures: 2,
      });
      expect(db.inTransaction).toBe(false);
    });

    it("refuses to run inside the application's own transaction, so a failure count never rolls back with it (CVE-2026-35597)", async () => {
      const { db } = open();
      migrateSqlite(db);
      const store = createSqliteStore({ db });
      const v = createVerifier({ store });
      db.exec('BEGIN');
      try {
        await expect(
          v.verifyTOTP({ userId: 'app-tx', secret: SECRET, token: '000000', now: T }),
        ).rejects.toMatchObject({ code: 'ERR_STORE' });
      } finally {
        db.exec('ROLLBACK');
      }
      // On its own connection the count commits whatever the app's transaction does.
      const own = createSqliteStore({ db: open(db.name).db });
      db.exec('BEGIN');
      await db.prepare('SELECT 1').get();
      expect(
        await createVerifier({ store: own }).verifyTOTP({
          userId: 'app-tx',
          secret: SECRET,
          token: '000000',
          now: T,
        }),
      ).toEqual({ ok: false, reason: 'invalid' });
      db.exec('ROLLBACK');
      expect(await store.getThrottle('app-tx', OTP_SCOPE)).toEqual({
        failures: 1,
        lastFailureAt: T,
      });
      expect(
        await v.verifyTOTP({
          userId: 'app-tx',
          secret: SECRET,
          token: generateTOTP(SECRET, { now: T }),
          now: T,
        }),
      ).toMatchObject({ ok: true });
    });

    it('keeps working with safeIntegers on (every value is read back as text)', async () => {
      const { db } = open();
      db.defaultSafeIntegers(true);
      migrateSqlite(db);
      const store = createSqliteStore({ db });
      expect(await store.attemptTotp(attempt('big-ints'))).toEqual({ status: 'ok', delta: 0 });
      expect((await store.getCredentials('big-ints', ['c'])).c?.lastStep).toBe(STEP);
    });

    it('maps a missing schema to ERR_STORE, and a full or read-only database too', async () => {
      const { db, file } = open();
      const store = createSqliteStore({ db, prefix: 'nothere_' });
      const e = await expectStoreError(store.getThrottle('u', OTP_SCOPE), 'ERR_STORE');
      expect(String((e.cause as Error).message)).toMatch(/no such table/);
      migrateSqlite(db);
      const ro = new Database(file, { readonly: true });
      opened.push(ro);
      await expectStoreError(
        createSqliteStore({ db: ro, wal: false }).attemptTotp(attempt('ro')),
        'ERR_STORE',
      );
    });
  });

  describe('schema and options', () => {
    it('migrates idempotently, also from several connections at once, keeping the rows', async () => {
      const { db, file } = open();
      migrateSqlite(db);
      const store = createSqliteStore({ db });
      expect(await store.attemptTotp(attempt('m'))).toEqual({ status: 'ok', delta: 0 });
      for (let i = 0; i < 3; i++) migrateSqlite(open(file).db);
      db.exec(sqliteSchema());
      expect(await store.attemptTotp(attempt('m'))).toEqual({ status: 'replayed', failures: 1 });
      expect(sqliteSchema()).toContain('CREATE TABLE IF NOT EXISTS "otpkit_credentials"');
      expect(sqliteSchema({ prefix: 'auth_' })).toContain(
        'CREATE TABLE IF NOT EXISTS "auth_throttle"',
      );
      expect(sqliteSchema({ prefix: 'auth_' })).not.toContain('otpkit_');
      const tables = db
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'otpkit\\_%' ESCAPE '\\' ORDER BY name`,
        )
        .pluck()
        .all();
      expect(tables).toEqual([
        'otpkit_challenges',
        'otpkit_credentials',
        'otpkit_devices',
        'otpkit_factors',
        'otpkit_recovery_codes',
        'otpkit_recovery_sets',
        'otpkit_scratch',
        'otpkit_send_quotas',
        'otpkit_step_ups',
        'otpkit_throttle',
      ]);
      for (const t of tables)
        expect(db.prepare(`SELECT sql FROM sqlite_master WHERE name = ?`).pluck().get(t)).toMatch(
          /\) STRICT/,
        );
    });

    const { db } = open();
    const ok = ['a', '_', 'otpkit_', 'app_2fa_', 'a'.repeat(41), 'sqlite', 'cf_'];
    const bad = [
      '',
      'A',
      'Otpkit_',
      '1abc',
      'a-b',
      'a b',
      'a"b',
      "a'b",
      'a;drop',
      'ä_',
      'a'.repeat(42),
      'a.b',
      'sqlite_',
      'sqlite_x',
      '_cf_',
      '_cf_kv',
    ];
    it.each(ok)('accepts prefix %j', (prefix) => {
      expect(() => createSqliteStore({ db, prefix })).not.toThrow();
      expect(sqliteSchema({ prefix })).toContain(`"${prefix}credentials"`);
    });
    it.each(bad)('rejects prefix %j with a RangeError', (prefix) => {
      expect(() => createSqliteStore({ db, prefix })).toThrow(RangeError);
      expect(() => sqliteSchema({ prefix })).toThrow(RangeError);
      expect(() => migrateSqlite(db, { prefix })).toThrow(RangeError);
    });
    it('rejects wrong types, unknown options, D1 bindings and asynchronous drivers', () => {
      for (const prefix of [42, null, ['a'], {}])
        expect(() => createSqliteStore({ db, prefix: prefix as unknown as string })).toThrow(
          TypeError,
        );
      expect(() => createSqliteStore({ db: {} as SqliteDatabase })).toThrow(TypeError);
      expect(() => createSqliteStore({ db: null as unknown as SqliteDatabase })).toThrow(TypeError);
      expect(() => createSqliteStore(undefined as unknown as { db: SqliteDatabase })).toThrow(
        TypeError,
      );
      expect(() =>
        createSqliteStore({ db, prefx: 'a_' } as unknown as { db: SqliteDatabase }),
      ).toThrow(RangeError);
      expect(() => createSqliteStore({ db, busyTimeoutMs: -1 })).toThrow(RangeError);
      expect(() => createSqliteStore({ db, busyTimeoutMs: '5' as unknown as number })).toThrow(
        TypeError,
      );
      expect(() => createSqliteStore({ db, synchronous: 'OFF' as 'FULL' })).toThrow(RangeError);
      expect(() => createSqliteStore({ db, wal: 'yes' as unknown as boolean })).toThrow(TypeError);
      const d1 = {
        prepare: () => ({}),
        exec: () => undefined,
        batch: async () => [],
      } as unknown as SqliteDatabase;
      expect(() => createSqliteStore({ db: d1 })).toThrow(/D1/);
      const asyncDriver = {
        prepare: () => ({ run: async () => ({}), all: async () => [] }),
        exec: () => undefined,
      } as unknown as SqliteDatabase;
      expect(() => createSqliteStore({ db: asyncDriver })).toThrow(/synchronous/);
      expect(() => migrateSqlite({} as SqliteDatabase)).toThrow(TypeError);
      const e: unknown = (() => {
        try {
          createSqliteStore({ db, prefix: 'a"b' });
        } catch (x) {
          return x;
        }
        return undefined;
      })();
      expect((e as { code?: unknown }).code).toBe('ERR_OPTION_INVALID');
      expect(e).not.toBeInstanceOf(OtpkitError);
    });
    it('says it is distributed-safe', () => {
      expect(createSqliteStore({ db }).distributedSafe).toBe(true);
    });
  });
});
