/**
 * SQLite store: both `OtpStore` (hot verification state) and `FactorStore` (the factor registry)
 * in one SQLite database file, shared by every process on the host that opens it. Takes the
 * synchronous API that better-sqlite3, `node:sqlite` (`DatabaseSync`) and `bun:sqlite` share;
 * otpkit imports none of them. Every decision is one `BEGIN IMMEDIATE … COMMIT` run synchronously
 * (the statements are those of `otpkit/d1`). Design and durability: docs/security-model.md §3.10.
 * @module
 */
import { aint, aoptions, kind } from '../_assert.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';
import { aprefix, createSqlStore, schemaStatements, schemaText, type Executor } from './_sql.js';
import { storeFailure } from './_shared.js';
import type { FactorStore, OtpStore, PurgeableStore } from './types.js';

/** A prepared statement of a synchronous SQLite driver: positional `?` parameters. */
export interface SqliteStatement {
  /** Runs the statement; the result is not used. */
  run(...params: unknown[]): unknown;
  /** Runs the statement and returns every row as an object keyed by column name. */
  all(...params: unknown[]): unknown;
}

/**
 * The part of a synchronous SQLite connection the store uses: `prepare(sql)` and `exec(sql)`. A
 * better-sqlite3 12 `Database`, a `node:sqlite` `DatabaseSync` (Node 22.5+) and a `bun:sqlite`
 * `Database` fit. Asynchronous drivers (sqlite3, libSQL clients) do not: their statements would
 * run outside the transaction, so they are refused.
 */
export interface SqliteDatabase {
  /** Compiles one statement. */
  prepare(sql: string): SqliteStatement;
  /** Runs one or more statements without parameters. */
  exec(sql: string): unknown;
}

/** The `synchronous` setting the store gives its connection. */
export type SqliteSynchronous = 'FULL' | 'EXTRA' | 'NORMAL';

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** The open database (a file; `:memory:` only for tests, it is not shared). The store keeps prepared statements on it. */
  readonly db: SqliteDatabase;
  /**
   * Prefix of the table names, matching `/^[a-z_][a-z0-9_]{0,40}$/` and not starting with
   * `sqlite_` or `_cf_`; the same as given to {@link migrateSqlite}. @defaultValue 'otpkit_'
   */
  readonly prefix?: string | undefined;
  /**
   * How long a statement waits for another connection's write lock (`PRAGMA busy_timeout`) before
   * failing with `ERR_STORE_TIMEOUT`, 0..60000 ms. The wait blocks the thread: the driver is
   * synchronous. @defaultValue 5000
   */
  readonly busyTimeoutMs?: number | undefined;
  /**
   * `PRAGMA synchronous` for the connection. `FULL` (the default) syncs the write-ahead log at
   * every commit: a consumed code, a counted failure or a used recovery code survives a power loss
   * or an OS crash. `NORMAL` syncs only at checkpoints: in WAL mode the last commits may roll back
   * after a power loss (not after a crash of the app), so a code used just before it is accepted
   * once more inside its window and failure counts restart lower. `EXTRA` also syncs the directory.
   * With FULL or EXTRA in WAL mode, `createChallenge` alone commits with NORMAL (set around its
   * transaction, then put back): a challenge is a pending sign-in, not a decision, and the next
   * synchronous commit, the attempt count, syncs it along.
   * @defaultValue 'FULL'
   */
  readonly synchronous?: SqliteSynchronous | undefined;
  /**
   * Switch the database to WAL mode (`PRAGMA journal_mode = WAL`, persistent): readers never wait
   * for the writer. `false` keeps the journal mode you chose. @defaultValue true
   */
  readonly wal?: boolean | undefined;
}

/** Options of {@link sqliteSchema} and {@link migrateSqlite}. */
export interface SqliteSchemaOptions {
  /** Prefix of the table names, as in {@link SqliteStoreOptions.prefix}. @defaultValue 'otpkit_' */
  readonly prefix?: string | undefined;
  /** As in {@link SqliteStoreOptions.busyTimeoutMs} (for {@link migrateSqlite}). @defaultValue 5000 */
  readonly busyTimeoutMs?: number | undefined;
  /** As in {@link SqliteStoreOptions.wal} (for {@link migrateSqlite}). @defaultValue true */
  readonly wal?: boolean | undefined;
}

/** The SQLite store: an `OtpStore` and a `FactorStore`, shared by the processes that open the file. */
export interface SqliteStore extends OtpStore, FactorStore, PurgeableStore {
  /** `true`: every process of the host that opens the same file shares the state (never several hosts). */
  readonly distributedSafe: true;
}

const ADAPTER = 'SQLite';
const STORE_KEYS: ReadonlySet<string> = new Set([
  'db',
  'prefix',
  'busyTimeoutMs',
  'synchronous',
  'wal',
]);
const SCHEMA_KEYS: ReadonlySet<string> = new Set(['prefix', 'busyTimeoutMs', 'wal']);
const SYNCHRONOUS: ReadonlySet<string> = new Set(['FULL', 'EXTRA', 'NORMAL']);

function adb(v: unknown): SqliteDatabase {
  const d = v as { prepare?: unknown; exec?: unknown; batch?: unknown } | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    typeof d.prepare !== 'function' ||
    typeof d.exec !== 'function'
  )
    throw typeError(
      'ERR_OPTION_TYPE',
      `"db" expected a SQLite database (an object with prepare() and exec()), got ${kind(v)}`,
    );
  if (typeof d.batch === 'function')
    throw typeError('ERR_OPTION_TYPE', '"db" is a D1 database: use createD1Store from otpkit/d1');
  return v as SqliteDatabase;
}

const abusy = (v: unknown): number =>
  v === undefined ? 5000 : aint(v, 'busyTimeoutMs', 0, 60_000, 'ERR_OPTION_INVALID');

function awal(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== 'boolean')
    throw typeError('ERR_OPTION_TYPE', `"wal" expected boolean, got ${kind(v)}`);
  return v;
}

/** The connection's journal mode ('wal', 'delete', 'memory', …). */
function journalMode(db: SqliteDatabase): string {
  try {
    const rows = db.prepare('PRAGMA journal_mode').all() as { journal_mode?: unknown }[];
    return String(rows[0]?.journal_mode ?? '').toLowerCase();
  } catch (e) {
    throw failure('createSqliteStore', e);
  }
}

/** Puts the connection's `synchronous` back after a relaxed commit; failing that, the call fails. */
function restore(db: SqliteDatabase, sync: SqliteSynchronous, method: string): void {
  try {
    db.exec(`PRAGMA synchronous = ${sync}`);
  } catch (e) {
    throw failure(method, e);
  }
}

/** SQLITE_BUSY and SQLITE_LOCKED, as each driver reports them: the busy timeout ran out. */
function isBusy(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { code, errcode, message } = e as { code?: unknown; errcode?: unknown; message?: unknown };
  if (typeof code === 'string' && /^SQLITE_(?:BUSY|LOCKED)/.test(code)) return true;
  if (typeof errcode === 'number' && ((errcode & 0xff) === 5 || (errcode & 0xff) === 6))
    return true;
  return typeof message === 'string' && /database (?:table |schema )?is locked/i.test(message);
}

/** A driver error as `OtpkitError`: the driver's name, message and code only (SQLite puts no value in them). */
const failure = (method: string, e: unknown): OtpkitError =>
  storeFailure(ADAPTER, method, e, isBusy(e));

/** Sets the connection up: busy timeout, WAL, and refuses a driver whose calls are not synchronous. */
function setUp(
  db: SqliteDatabase,
  busyMs: number,
  wal: boolean,
  synchronous: SqliteSynchronous | null,
  method: string,
): void {
  let probe: unknown;
  try {
    db.exec(`PRAGMA busy_timeout = ${busyMs}`);
    if (synchronous !== null) db.exec(`PRAGMA synchronous = ${synchronous}`);
    probe = db.prepare('SELECT 1 AS one').all();
  } catch (e) {
    throw failure(method, e);
  }
  if (!Array.isArray(probe)) {
    if (typeof (probe as { then?: unknown } | null)?.then === 'function')
      (probe as Promise<unknown>).then(undefined, () => {});
    throw typeError(
      'ERR_OPTION_TYPE',
      '"db" expected a synchronous SQLite driver (better-sqlite3, node:sqlite, bun:sqlite): all() did not return rows',
    );
  }
  if (!wal) return;
  try {
    // Persistent in the file; `memory` for an in-memory database, which cannot use WAL.
    db.prepare('PRAGMA journal_mode = WAL').all();
  } catch (e) {
    throw failure(method, e);
  }
}

/**
 * Returns the SQL that creates the store's tables: idempotent `CREATE TABLE IF NOT EXISTS` and
 * `CREATE INDEX IF NOT EXISTS` statements (STRICT tables, so SQLite 3.37 or later), for apps
 * that ship their own migrations. The same schema as `d1Schema` from `otpkit/d1`.
 *
 * @param options - {@link SqliteSchemaOptions}: the name prefix.
 * @returns the DDL, several statements each ending with `;`.
 * @throws TypeError if `options` or `prefix` has the wrong type.
 * @throws RangeError if `prefix` does not match `/^[a-z_][a-z0-9_]{0,40}$/`, starts with `sqlite_` or `_cf_`, or an option is unknown.
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { sqliteSchema } from 'otpkit/sqlite';
 * writeFileSync('migrations/0007_otpkit.sql', sqliteSchema());
 * ```
 * @see SQLite documentation, "STRICT Tables" and "The ON CONFLICT Clause"; HOTP counters hold
 *   2^64 − 1 (RFC 4226 §5.1: an 8-byte counter), so they are canonical decimal TEXT: INTEGER is signed.
 */
export function sqliteSchema(options?: SqliteSchemaOptions): string {
  const o = aoptions<SqliteSchemaOptions>(options, SCHEMA_KEYS);
  return schemaText(aprefix(o.prefix), 'SQLite');
}

/**
 * Creates the store's tables if they do not exist yet: sets the busy timeout and WAL mode, then
 * runs {@link sqliteSchema} in one `BEGIN IMMEDIATE` transaction, so that processes starting
 * together do not collide. Idempotent: run it at every start.
 *
 * @param db - the open database ({@link SqliteDatabase}).
 * @param options - {@link SqliteSchemaOptions}: the name prefix, the busy timeout and WAL.
 * @throws TypeError if `db` has no `prepare`/`exec`, is asynchronous, or an option has the wrong type.
 * @throws RangeError if `prefix` is invalid or an option is unknown.
 * @throws OtpkitError `ERR_STORE_TIMEOUT` if another connection held the write lock for the whole
 *   busy timeout, `ERR_STORE` if SQLite refuses the DDL (an older SQLite without STRICT tables).
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * import { migrateSqlite } from 'otpkit/sqlite';
 * const db = new Database('/var/lib/app/otpkit.db');
 * migrateSqlite(db);
 * ```
 * @see SQLite documentation, "Write-Ahead Logging" and "BEGIN TRANSACTION" (IMMEDIATE)
 */
export function migrateSqlite(db: SqliteDatabase, options?: SqliteSchemaOptions): void {
  const d = adb(db);
  const o = aoptions<SqliteSchemaOptions>(options, SCHEMA_KEYS);
  const prefix = aprefix(o.prefix);
  setUp(d, abusy(o.busyTimeoutMs), awal(o.wal), null, 'migrateSqlite');
  let begun = false;
  try {
    d.exec('BEGIN IMMEDIATE');
    begun = true;
    d.exec(
      schemaStatements(prefix)
        .map((s) => `${s};`)
        .join('\n'),
    );
    d.exec('COMMIT');
  } catch (e) {
    if (begun) rollback(d);
    throw failure('migrateSqlite', e);
  }
}

function rollback(db: SqliteDatabase): void {
  try {
    db.exec('ROLLBACK');
  } catch {
    // SQLite may have rolled back already (a full disk, an I/O error); nothing is left open either way.
  }
}

/**
 * Creates the SQLite store, both an `OtpStore` and a `FactorStore`. Run {@link migrateSqlite}
 * (or the SQL of {@link sqliteSchema}) once before first use.
 *
 * Every decision is one `BEGIN IMMEDIATE … COMMIT` that the store runs synchronously: nothing else
 * of this process runs in between, and IMMEDIATE takes the database's write lock first, so no
 * other process interleaves either; the statements carry the decision themselves (they are the
 * statements of `otpkit/d1`). Reads are single statements. A call made while the connection is
 * inside a transaction of your own fails with `ERR_STORE` (SQLite cannot nest BEGIN): failure
 * counts must commit on their own, never roll back with a failed login (CVE-2026-35597); give
 * the store a connection of its own if you use transactions.
 *
 * Shared by the processes of one host that open the same file (cluster workers, several app
 * servers behind a local proxy), never by several hosts: SQLite's locks do not work over network
 * file systems. A statement that finds the write lock taken waits up to `busyTimeoutMs`,
 * blocking the thread. Durability is `synchronous` (FULL by default, see
 * {@link SqliteStoreOptions.synchronous}); the connection's setting changes for your statements too.
 *
 * @param options - {@link SqliteStoreOptions}: the database, the name prefix, the busy timeout,
 *   `synchronous` and WAL.
 * @returns a {@link SqliteStore} (`distributedSafe: true`). Its methods reject with `OtpkitError`
 *   `ERR_STORE_TIMEOUT` when the busy timeout ran out, `ERR_STORE` on any other SQLite error, and
 *   `ERR_STORE_CORRUPT` when a stored row is malformed (the message names the column, never its
 *   content; nothing is written); they throw `TypeError` / `RangeError`, before any statement, for
 *   arguments that cannot be stored faithfully (ids with NUL or lone surrogates, counters outside
 *   0..2^64 − 1).
 * @throws TypeError if `db` has no `prepare`/`exec`, is a D1 binding or an asynchronous driver, or an option has the wrong type.
 * @throws RangeError if `prefix`, `busyTimeoutMs` or `synchronous` is invalid, or an option is unknown.
 * @throws OtpkitError `ERR_STORE` / `ERR_STORE_TIMEOUT` if SQLite refuses the connection settings.
 * @example
 * ```ts
 * import Database from 'better-sqlite3'; // or: new DatabaseSync(file) from 'node:sqlite', new Database(file) from 'bun:sqlite'
 * import { createVerifier } from 'otpkit';
 * import { createSqliteStore, migrateSqlite } from 'otpkit/sqlite';
 *
 * const db = new Database('/var/lib/app/otpkit.db');
 * migrateSqlite(db);
 * const verifier = createVerifier({ store: createSqliteStore({ db }) });
 * const result = await verifier.verifyTOTP({ userId: 'alice', secret, token: '123456' });
 * ```
 * @see RFC 6238 §5.2 (one use per step); RFC 4226 §7.3 (throttling); SQLite documentation,
 *   "PRAGMA synchronous", "Write-Ahead Logging" §"Durability", "File Locking And Concurrency"
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  if (options === undefined)
    throw typeError('ERR_OPTION_TYPE', '"options" expected an object, got undefined');
  const o = aoptions<SqliteStoreOptions>(options, STORE_KEYS);
  const db = adb(o.db);
  const prefix = aprefix(o.prefix);
  const busy = abusy(o.busyTimeoutMs);
  if (
    o.synchronous !== undefined &&
    (typeof o.synchronous !== 'string' || !SYNCHRONOUS.has(o.synchronous))
  )
    throw (typeof o.synchronous === 'string' ? rangeError : typeError)(
      'ERR_OPTION_INVALID',
      '"synchronous" expected FULL, EXTRA or NORMAL',
    );
  const sync = o.synchronous ?? 'FULL';
  setUp(db, busy, awal(o.wal), sync, 'createSqliteStore');
  // A challenge is a pending sign-in, not a decision: its commit does not wait for the disk
  // (synchronous NORMAL for that transaction only), and the next synchronous commit, the attempt
  // count, syncs the log it is in. Only in WAL mode, where NORMAL can lose the last commits but
  // never corrupts the file.
  const relax = sync !== 'NORMAL' && journalMode(db) === 'wal';

  const prepared = new Map<string, SqliteStatement>();
  const prepare = (sql: string): SqliteStatement => {
    let s = prepared.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      prepared.set(sql, s);
    }
    return s;
  };
  const runAll = (steps: Parameters<Executor>[1]): unknown[][] =>
    steps.map((s) => {
      const st = prepare(s.sql);
      if (!s.rows) {
        st.run(...s.args);
        return [];
      }
      const rows = st.all(...s.args);
      if (!Array.isArray(rows))
        throw new OtpkitError('ERR_STORE_CORRUPT', `${ADAPTER} store: the driver returned no rows`);
      return rows as unknown[];
    });

  // Synchronous from BEGIN to COMMIT: no other call of this process can run in between.
  const exec: Executor = async (method, steps, write) => {
    if (!write) {
      try {
        return runAll(steps);
      } catch (e) {
        throw failure(method, e);
      }
    }
    const relaxed = relax && method === 'createChallenge';
    let begun = false;
    try {
      if (relaxed) db.exec('PRAGMA synchronous = NORMAL');
      db.exec('BEGIN IMMEDIATE');
      begun = true;
      const results = runAll(steps);
      db.exec('COMMIT');
      return results;
    } catch (e) {
      if (begun) rollback(db);
      throw failure(method, e);
    } finally {
      if (relaxed) restore(db, sync, method);
    }
  };
  return createSqlStore(ADAPTER, prefix, exec, true) as SqliteStore;
}
