/**
 * Cloudflare D1 store: both `OtpStore` (hot verification state) and `FactorStore` (the factor
 * registry) in a D1 database, for Workers. Every decision is one statement or one
 * `batch` (D1 runs a batch as one transaction): the same statements as `otpkit/sqlite`, each of
 * which carries its condition in SQL, so nothing is read, decided in JavaScript and written
 * back. Takes the binding structurally; otpkit imports nothing of Cloudflare's. Design, round
 * trips and durability: docs/security-model.md §3.10.
 * @module
 */
import { aoptions, kind } from '../_assert.js';
import { OtpkitError, typeError } from '../errors.js';
import { aprefix, createSqlStore, schemaStatements, schemaText, type Executor } from './_sql.js';
import { corrupt, storeFailure } from './_shared.js';
import type { FactorStore, OtpStore, PurgeableStore } from './types.js';

/** A prepared D1 statement: `bind(...)` then `all()`. */
export interface D1PreparedStatementLike {
  /** Binds the positional `?` parameters; returns the bound statement. */
  bind(...values: unknown[]): D1PreparedStatementLike;
  /** Runs it and resolves `{ results }`, the rows as objects keyed by column name. */
  all(): Promise<unknown>;
}

/**
 * The part of a D1 binding the store uses: `prepare(sql)` and `batch(statements)`. The
 * `D1Database` of a Worker's `env` fits (pass the binding itself: a `withSession()` session that
 * may read from a replica is not meant for the decisions of this store).
 */
export interface D1DatabaseLike {
  /** Compiles one statement. */
  prepare(sql: string): D1PreparedStatementLike;
  /** Runs the statements in order as one transaction (all or nothing); resolves one `{ results }` each. */
  batch(statements: D1PreparedStatementLike[]): Promise<unknown>;
}

/** Options of {@link createD1Store}. */
export interface D1StoreOptions {
  /** The D1 binding (`env.DB`). */
  readonly db: D1DatabaseLike;
  /**
   * Prefix of the table names, matching `/^[a-z_][a-z0-9_]{0,40}$/` and not starting with
   * `sqlite_` or `_cf_` (D1 reserves it); the same as given to {@link migrateD1}. @defaultValue 'otpkit_'
   */
  readonly prefix?: string | undefined;
}

/** Options of {@link d1Schema} and {@link migrateD1}. */
export interface D1SchemaOptions {
  /** Prefix of the table names, as in {@link D1StoreOptions.prefix}. @defaultValue 'otpkit_' */
  readonly prefix?: string | undefined;
}

/** The D1 store: an `OtpStore` and a `FactorStore`, shared by every Worker bound to the database. */
export interface D1Store extends OtpStore, FactorStore, PurgeableStore {
  /** Always `true`: D1 runs every batch on the database's one primary, for every Worker. */
  readonly distributedSafe: true;
}

const ADAPTER = 'D1';
const STORE_KEYS: ReadonlySet<string> = new Set(['db', 'prefix']);
const SCHEMA_KEYS: ReadonlySet<string> = new Set(['prefix']);

function adb(v: unknown): D1DatabaseLike {
  const d = v as { prepare?: unknown; batch?: unknown } | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    typeof d.prepare !== 'function' ||
    typeof d.batch !== 'function'
  )
    throw typeError(
      'ERR_OPTION_TYPE',
      `"db" expected a D1 binding (an object with prepare() and batch()), got ${kind(v)}`,
    );
  return v as D1DatabaseLike;
}

/** D1's own overload and time-out errors (the request was shed or cut short; nothing was decided for sure). */
function isTimeout(e: unknown): boolean {
  const message =
    typeof e === 'object' && e !== null ? (e as { message?: unknown }).message : undefined;
  return (
    typeof message === 'string' &&
    /timed? ?out|timeout|overloaded|too many requests queued/i.test(message)
  );
}

const failure = (method: string, e: unknown): OtpkitError =>
  storeFailure(ADAPTER, method, e, isTimeout(e));

/** The rows of one statement's result (`{ results: [...] }`), or corrupt. */
function rowsOf(r: unknown, method: string): unknown[] {
  const rows =
    typeof r === 'object' && r !== null ? (r as { results?: unknown }).results : undefined;
  if (!Array.isArray(rows)) throw corrupt(ADAPTER, `${method} result`);
  return rows;
}

/**
 * Returns the SQL that creates the store's tables: idempotent `CREATE TABLE IF NOT EXISTS` and
 * `CREATE INDEX IF NOT EXISTS` statements, for a `wrangler d1 migrations` file. The same schema
 * as `sqliteSchema` from `otpkit/sqlite`.
 *
 * @param options - {@link D1SchemaOptions}: the name prefix.
 * @returns the DDL, several statements each ending with `;`.
 * @throws TypeError if `options` or `prefix` has the wrong type.
 * @throws RangeError if `prefix` does not match `/^[a-z_][a-z0-9_]{0,40}$/`, starts with `sqlite_` or `_cf_`, or an option is unknown.
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { d1Schema } from 'otpkit/d1';
 * writeFileSync('migrations/0001_otpkit.sql', d1Schema()); // then: wrangler d1 migrations apply DB
 * ```
 * @see Cloudflare D1 documentation, "Migrations" and "SQL statements" (STRICT tables, JSON functions)
 */
export function d1Schema(options?: D1SchemaOptions): string {
  const o = aoptions<D1SchemaOptions>(options, SCHEMA_KEYS);
  return schemaText(aprefix(o.prefix), 'D1');
}

/**
 * Creates the store's tables if they do not exist yet: {@link d1Schema} as one `batch` (one
 * transaction). Idempotent: safe to run at every cold start, though a migrations file is cheaper.
 *
 * @param db - the D1 binding ({@link D1DatabaseLike}).
 * @param options - {@link D1SchemaOptions}: the name prefix.
 * @returns a promise that resolves once the schema exists.
 * @throws TypeError if `db` has no `prepare`/`batch` or an option has the wrong type.
 * @throws RangeError if `prefix` is invalid or an option is unknown.
 * @throws OtpkitError `ERR_STORE` (or `ERR_STORE_TIMEOUT`) if D1 rejects the DDL.
 * @example
 * ```ts
 * import { migrateD1 } from 'otpkit/d1';
 * export default {
 *   async fetch(request: Request, env: { DB: D1Database }) {
 *     await migrateD1(env.DB);
 *     return new Response('migrated');
 *   },
 * };
 * ```
 * @see Cloudflare D1 documentation, "Database API: batch()" (statements run sequentially, as one transaction)
 */
export async function migrateD1(db: D1DatabaseLike, options?: D1SchemaOptions): Promise<void> {
  const d = adb(db);
  const o = aoptions<D1SchemaOptions>(options, SCHEMA_KEYS);
  const statements = schemaStatements(aprefix(o.prefix));
  try {
    await d.batch(statements.map((s) => d.prepare(s)));
  } catch (e) {
    throw failure('migrateD1', e);
  }
}

/**
 * Creates the D1 store, both an `OtpStore` and a `FactorStore`. Run {@link migrateD1} (or apply
 * {@link d1Schema} as a migration) once before first use.
 *
 * D1 holds no transaction open across `await`s, so every decision is one statement or one
 * `batch`, which D1 runs as one transaction on the database's primary, with no other query in
 * between. The batch's first statement computes the outcome from the stored rows into a scratch
 * row keyed by a random id; every later statement writes only under a condition on that row; the
 * last deletes it and returns the outcome. One round trip per call. D1 counts each statement of a
 * batch against the per-invocation query limit: a sign-in (two decisions) uses about 15.
 *
 * Pass the binding itself: without the Sessions API every query goes to the primary. D1 commits
 * a batch durably before it answers (replicated storage of the Durable Object behind it).
 *
 * @param options - {@link D1StoreOptions}: the binding and the name prefix.
 * @returns a {@link D1Store} (`distributedSafe: true`). Its methods reject with `OtpkitError`
 *   `ERR_STORE` (or `ERR_STORE_TIMEOUT` when D1 reports an overload or time-out) on any D1 error,
 *   and `ERR_STORE_CORRUPT` when a stored row is malformed (the message names the column, never
 *   its content; nothing is written); they throw `TypeError` / `RangeError`, before any query,
 *   for arguments that cannot be stored faithfully (ids with NUL or lone surrogates, counters
 *   outside 0..2^64 − 1).
 * @throws TypeError if `db` has no `prepare`/`batch` or an option has the wrong type.
 * @throws RangeError if `prefix` is invalid or an option is unknown.
 * @example
 * ```ts
 * import { createTwoFactor } from 'otpkit';
 * import { createD1Store } from 'otpkit/d1';
 *
 * export default {
 *   async fetch(request: Request, env: { DB: D1Database }) {
 *     const store = createD1Store({ db: env.DB });
 *     const tf = createTwoFactor({ store, issuer: 'ACME', keys });
 *     // …
 *   },
 * };
 * ```
 * @see RFC 6238 §5.2 (one use per step); RFC 4226 §7.3 (throttling); Cloudflare D1 documentation,
 *   "Database API" (`batch()`: "statements are executed sequentially … as a transaction") and
 *   "Read replication" (the Sessions API)
 */
export function createD1Store(options: D1StoreOptions): D1Store {
  if (options === undefined)
    throw typeError('ERR_OPTION_TYPE', '"options" expected an object, got undefined');
  const o = aoptions<D1StoreOptions>(options, STORE_KEYS);
  const db = adb(o.db);
  const prefix = aprefix(o.prefix);
  const exec: Executor = async (method, steps) => {
    let raw: unknown;
    try {
      const bound = steps.map((s) => db.prepare(s.sql).bind(...s.args));
      raw =
        bound.length === 1
          ? [await (bound[0] as D1PreparedStatementLike).all()]
          : await db.batch(bound);
    } catch (e) {
      throw failure(method, e);
    }
    if (!Array.isArray(raw) || raw.length !== steps.length)
      throw corrupt(ADAPTER, `${method} result`);
    return raw.map((r) => rowsOf(r, method));
  };
  return createSqlStore(ADAPTER, prefix, exec, true) as D1Store;
}
