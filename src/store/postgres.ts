/**
 * PostgreSQL OtpStore: replay, HOTP-counter, throttle, drift and recovery-code state in
 * PostgreSQL tables, shared by every app server (REQUIREMENTS §(d) D.3.2).
 *
 * **Atomicity.** Every security mutation is ONE SQL statement under the default `READ COMMITTED`
 * isolation, never a `SELECT` followed by an `UPDATE`: the conditional `INSERT … ON CONFLICT …
 * DO UPDATE … WHERE`, `UPDATE … WHERE`, `DELETE … RETURNING` and the data-modifying CTE below
 * lock the row they decide on and re-check their condition against its newest committed version,
 * so of N concurrent claims of one step exactly one reports a row (`rowCount === 1`).
 *
 * **Schema.** {@link postgresSchema} returns idempotent DDL (run it with your migration tool, or
 * call {@link migratePostgres}). With the default prefix `otpkit_`:
 * ```
 * otpkit_credentials     (user_id, credential_id) PK, last_step bigint, hotp_counter numeric(20,0)
 *                        CHECK 0..2^64−1, drift smallint CHECK −10..10
 * otpkit_throttle        (user_id, scope) PK, failures integer CHECK ≥ 0, last_failure_at bigint
 * otpkit_recovery_sets   user_id PK, set_id text, issued_at bigint, total integer: the current
 *                        recovery-code set of each user
 * otpkit_recovery_codes  (user_id, set_id, id) PK, hash text: the unused codes of the current set
 * ```
 * HOTP counters travel as decimal text cast to `numeric` (never a JS number), and every value is
 * read back as text and parsed strictly: a tampered or malformed row throws
 * `OtpkitError('ERR_STORE_CORRUPT')` instead of being coerced into something valid.
 *
 * **Transactions (CVE-2026-35597, REQUIREMENTS #40).** Give the store a `pg.Pool`: each query
 * then autocommits on its own connection, so a failure count is durable the moment
 * `recordFailure` resolves, whatever the caller's login transaction does later. Never give it the
 * client of an application transaction that a failed login rolls back: the lockout would be
 * rolled back with it.
 *
 * Requires PostgreSQL 13 or later. otpkit never imports `pg`: the store
 * takes your client through the structural {@link PgQueryable} type.
 * @module
 */
import { kind } from '../_assert.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';
import type { CredentialState, OtpStore, RecoveryCodeSet, StoredRecoveryCode } from './types.js';

/**
 * The part of a `pg` client the store uses: `query(text, values)` resolving `{ rows, rowCount }`.
 * A `pg.Pool` fits (and is what you should pass); so does a `pg.Client` or a `PoolClient`.
 */
export interface PgQueryable {
  /** Runs one statement with positional parameters (`$1`, `$2`, …). */
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * A `pg.Pool` (recommended: every query autocommits on its own connection). Configure it to fail
   * fast while the server is down (`connectionTimeoutMillis`, `query_timeout`); the verifier also
   * bounds each call with `storeTimeoutMs`. A `pg.Client` works only if it is never inside an
   * application transaction that may roll back (CVE-2026-35597).
   */
  readonly client: PgQueryable;
  /**
   * Prefix of the table names, matching `/^[a-z_][a-z0-9_]{0,40}$/`; the same as given to
   * {@link postgresSchema} / {@link migratePostgres}. @defaultValue 'otpkit_'
   */
  readonly prefix?: string | undefined;
}

/** Options of {@link postgresSchema} and {@link migratePostgres}. */
export interface PostgresSchemaOptions {
  /** Prefix of the table names, matching `/^[a-z_][a-z0-9_]{0,40}$/`. @defaultValue 'otpkit_' */
  readonly prefix?: string | undefined;
}

/** The PostgreSQL `OtpStore`: shared by every app server, so `distributedSafe` is `true`. */
export interface PostgresStore extends OtpStore {
  /** Always `true`: state lives in PostgreSQL, shared by every app server. */
  readonly distributedSafe: true;
}

const DEFAULT_PREFIX = 'otpkit_';
const PREFIX_RE = /^[a-z_][a-z0-9_]{0,40}$/;
const STORE_KEYS: ReadonlySet<string> = new Set(['client', 'prefix']);
const SCHEMA_KEYS: ReadonlySet<string> = new Set(['prefix']);
const MAX_COUNTER = (1n << 64n) - 1n;
/** The drift bound the schema enforces; equals the verifier's MAX_WINDOW. */
const MAX_DRIFT = 10;
/** Any key: the migration lock only serialises concurrent runs of `migratePostgres`. */
const MIGRATION_LOCK = 0x6f74706b; // 'otpk'

/** Lone surrogates (PostgreSQL stores UTF-8: they would all collapse into U+FFFD) and NUL. */
const UNSTORABLE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\0/;
const UINT_TEXT = /^(?:0|[1-9][0-9]*)$/;
const INT_TEXT = /^(?:0|-?[1-9][0-9]*)$/;
const SET_ID = /^[A-Za-z0-9_-]{1,64}$/;

interface Tables {
  readonly credentials: string;
  readonly throttle: string;
  readonly sets: string;
  readonly codes: string;
}

function aobject(v: unknown, title: string, keys: ReadonlySet<string>): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected an object, got ${kind(v)}`);
  for (const key in v) {
    if (!keys.has(key))
      throw rangeError('ERR_OPTION_UNKNOWN', `"${title}" has unknown option "${key}"`);
  }
  return v as Record<string, unknown>;
}

function aprefix(v: unknown): string {
  if (v === undefined) return DEFAULT_PREFIX;
  if (typeof v !== 'string') throw typeError('ERR_OPTION_TYPE', `"prefix" expected string, got ${kind(v)}`);
  if (!PREFIX_RE.test(v))
    throw rangeError('ERR_OPTION_INVALID', `"prefix" expected /^[a-z_][a-z0-9_]{0,40}$/, got ${JSON.stringify(v.slice(0, 48))}`);
  return v;
}

function aclient(v: unknown): PgQueryable {
  if (typeof v !== 'object' || v === null || typeof (v as { query?: unknown }).query !== 'function')
    throw typeError('ERR_OPTION_TYPE', `"client" expected a pg Pool or Client (an object with query()), got ${kind(v)}`);
  return v as PgQueryable;
}

function tables(prefix: string): Tables {
  // The prefix is validated against PREFIX_RE, so quoting is enough to make these safe identifiers.
  return {
    credentials: `"${prefix}credentials"`,
    throttle: `"${prefix}throttle"`,
    sets: `"${prefix}recovery_sets"`,
    codes: `"${prefix}recovery_codes"`,
  };
}

function schemaSql(prefix: string): string {
  const t = tables(prefix);
  return `-- otpkit PostgreSQL store schema v1 (table prefix "${prefix}"). Idempotent; needs PostgreSQL 13+.
CREATE TABLE IF NOT EXISTS ${t.credentials} (
  user_id       text NOT NULL,
  credential_id text NOT NULL,
  last_step     bigint NULL CHECK (last_step >= 0),
  hotp_counter  numeric(20,0) NULL CHECK (hotp_counter >= 0 AND hotp_counter <= 18446744073709551615),
  drift         smallint NOT NULL DEFAULT 0 CHECK (drift BETWEEN -${MAX_DRIFT} AND ${MAX_DRIFT}),
  PRIMARY KEY (user_id, credential_id)
);
CREATE TABLE IF NOT EXISTS ${t.throttle} (
  user_id         text NOT NULL,
  scope           text NOT NULL,
  failures        integer NOT NULL CHECK (failures >= 0),
  last_failure_at bigint NOT NULL CHECK (last_failure_at >= 0),
  PRIMARY KEY (user_id, scope)
);
CREATE TABLE IF NOT EXISTS ${t.sets} (
  user_id   text PRIMARY KEY,
  set_id    text NOT NULL,
  issued_at bigint NOT NULL CHECK (issued_at >= 0),
  total     integer NOT NULL CHECK (total BETWEEN 0 AND 100)
);
CREATE TABLE IF NOT EXISTS ${t.codes} (
  user_id text NOT NULL,
  set_id  text NOT NULL,
  id      text NOT NULL,
  hash    text NOT NULL,
  PRIMARY KEY (user_id, set_id, id)
);
`;
}

/**
 * Returns the SQL that creates the store's tables: idempotent `CREATE TABLE IF NOT EXISTS`
 * statements, safe to run on every deploy or to paste into your own migration tool.
 *
 * @param options - {@link PostgresSchemaOptions}: the table prefix.
 * @returns the DDL, several statements separated by `;`.
 * @throws TypeError if `options` or `prefix` has the wrong type.
 * @throws RangeError if `prefix` does not match `/^[a-z_][a-z0-9_]{0,40}$/` or an option is unknown.
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { postgresSchema } from 'otpkit/postgres';
 * writeFileSync('migrations/0007_otpkit.sql', postgresSchema());
 * ```
 * @see REQUIREMENTS §(d) D.3.2 (counters hold 2^64−1: `numeric(20,0)`, since `bigint` is signed)
 */
export function postgresSchema(options?: PostgresSchemaOptions): string {
  const o = options === undefined ? {} : aobject(options, 'options', SCHEMA_KEYS);
  return schemaSql(aprefix(o.prefix));
}

/**
 * Creates the store's tables if they do not exist yet (runs {@link postgresSchema} in one
 * transaction, under an advisory lock so that app servers starting together do not collide).
 *
 * @param client - a `pg.Pool` or `pg.Client`; the schema is sent as one multi-statement query.
 * @param options - {@link PostgresSchemaOptions}: the table prefix.
 * @returns a promise that resolves once the tables exist.
 * @throws TypeError / RangeError on an invalid client or prefix.
 * @throws OtpkitError `ERR_STORE` (or `ERR_STORE_TIMEOUT`) if PostgreSQL rejects the DDL.
 * @example
 * ```ts
 * import pg from 'pg';
 * import { migratePostgres } from 'otpkit/postgres';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgres(pool); // idempotent: run it at every start
 * ```
 * @see {@link postgresSchema}
 */
export async function migratePostgres(client: PgQueryable, options?: PostgresSchemaOptions): Promise<void> {
  const c = aclient(client);
  const sql = postgresSchema(options);
  // One simple-protocol query runs all statements in one implicit transaction, so the
  // transaction-scoped advisory lock covers all of them (CREATE TABLE IF NOT EXISTS alone can
  // still fail with a duplicate pg_type row when two servers race).
  try {
    await c.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK});\n${sql}`);
  } catch (e) {
    throw storeError('migratePostgres', e, false);
  }
}

// ---------------------------------------------------------------------------------------------

/** Errors a slow server or network produces: pg's client-side timeouts and SQLSTATE 57014/55P03. */
function isTimeout(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const code = (e as { code?: unknown }).code;
  if (code === '57014' || code === '55P03') return true;
  const message = (e as { message?: unknown }).message;
  return typeof message === 'string' && /Query read timeout|timeout exceeded when trying to connect|connection timeout/i.test(message);
}

/**
 * Wraps a client error in a storage `OtpkitError`. `scrub` drops pg's `detail` (where PostgreSQL
 * prints a failing row, which for recovery codes would contain a stored hash).
 */
function storeError(method: string, e: unknown, scrub: boolean): OtpkitError {
  if (e instanceof OtpkitError) return e;
  if (scrub && typeof e === 'object' && e !== null && 'detail' in e) {
    try {
      delete (e as { detail?: unknown }).detail;
    } catch {
      // A frozen error keeps its detail; the message below never includes it either way.
    }
  }
  const sqlState = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  const message = e instanceof Error ? e.message : String(e);
  return new OtpkitError(
    isTimeout(e) ? 'ERR_STORE_TIMEOUT' : 'ERR_STORE',
    `PostgreSQL store: ${method} failed${typeof sqlState === 'string' ? ` (SQLSTATE ${sqlState})` : ''}: ${message}`,
    { cause: e },
  );
}

function corrupt(what: string): OtpkitError {
  // Names the column, never its content: a stored hash must not reach a log through a message.
  return new OtpkitError('ERR_STORE_CORRUPT', `PostgreSQL store: ${what}`);
}

/** A stored integer read as text, parsed strictly (no trimming, no exponent, no fraction). */
function readInt(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'string' || v.length > 17 || !INT_TEXT.test(v)) throw corrupt(`${what} is not an integer ${min}..${max}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw corrupt(`${what} is not an integer ${min}..${max}`);
  return n;
}

function readCounter(v: unknown): bigint {
  if (typeof v !== 'string' || v.length > 20 || !UINT_TEXT.test(v)) throw corrupt('hotp_counter is not an integer 0..2^64-1');
  const n = BigInt(v);
  if (n > MAX_COUNTER) throw corrupt('hotp_counter is not an integer 0..2^64-1');
  return n;
}

function readFlag(v: unknown, what: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw corrupt(`${what} is not a boolean`);
}

function aid(v: unknown, title: string): string {
  if (typeof v !== 'string') throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(v)}`);
  if (UNSTORABLE.test(v))
    throw rangeError('ERR_OPTION_INVALID', `"${title}" contains NUL or a lone surrogate, which PostgreSQL text cannot store distinctly`);
  return v;
}

function asafe(v: unknown, title: string, min: number, max: number): string {
  if (typeof v !== 'number') throw typeError('ERR_OPTION_TYPE', `"${title}" expected integer, got ${kind(v)}`);
  if (!Number.isSafeInteger(v) || v < min || v > max) throw rangeError('ERR_OPTION_INVALID', `"${title}" expected integer ${min}..${max}, got ${v}`);
  return String(v);
}

function acounter(v: unknown, title: string): string {
  if (typeof v !== 'bigint') throw typeError('ERR_COUNTER_TYPE', `"${title}" expected bigint, got ${kind(v)}`);
  if (v < 0n || v > MAX_COUNTER) throw rangeError('ERR_COUNTER_RANGE', `"${title}" expected 0..2^64-1, got ${v}`);
  return v.toString(); // decimal text, cast to numeric by the statement: no JS number ever holds it
}

function firstRow(rows: unknown[], what: string): Record<string, unknown> {
  if (rows.length !== 1) throw corrupt(`${what} returned ${rows.length} rows, expected 1`);
  const row = rows[0];
  if (typeof row !== 'object' || row === null) throw corrupt(`${what} returned a malformed row`);
  return row as Record<string, unknown>;
}

/**
 * Creates the PostgreSQL store. Run {@link migratePostgres} (or the SQL of
 * {@link postgresSchema}) once before first use.
 *
 * Pass a `pg.Pool`, never the client of an application transaction: failure counts must commit
 * on their own, or a failed login that rolls back its transaction also rolls back the lockout
 * (CVE-2026-35597). A `pg.Client` serialises all queries on one connection and is only safe if
 * your code never opens a transaction on it.
 *
 * @param options - {@link PostgresStoreOptions}: the client and the table prefix.
 * @returns a {@link PostgresStore} (`distributedSafe: true`). Its methods reject with
 *   `OtpkitError` `ERR_STORE` / `ERR_STORE_TIMEOUT` when PostgreSQL fails and `ERR_STORE_CORRUPT`
 *   when a stored row is malformed; they throw `TypeError` / `RangeError` for arguments that cannot
 *   be stored faithfully (ids with NUL or lone surrogates, counters outside 0..2^64−1).
 * @throws TypeError if `client` has no `query` method or an option has the wrong type.
 * @throws RangeError if `prefix` does not match `/^[a-z_][a-z0-9_]{0,40}$/` or an option is unknown.
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createVerifier } from 'otpkit';
 * import { createPostgresStore, migratePostgres } from 'otpkit/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2000, query_timeout: 2000 });
 * await migratePostgres(pool);
 * const verifier = createVerifier({ store: createPostgresStore({ client: pool }) });
 * const result = await verifier.verifyTOTP({ userId: 'alice', secret, token: '123456' });
 * ```
 * @see REQUIREMENTS §(d) D.3.2 and D.3.6; RFC 6238 §5.2; RFC 4226 §7.3
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const o = aobject(options, 'options', STORE_KEYS);
  const client = aclient(o.client);
  const t = tables(aprefix(o.prefix));

  const replaceSql = (setRow: string): string => `WITH rs AS (
  ${setRow}
), del AS (
  DELETE FROM ${t.codes} WHERE user_id = $1 AND EXISTS (SELECT 1 FROM rs)
), ins AS (
  INSERT INTO ${t.codes} (user_id, set_id, id, hash)
  SELECT $1, rs.set_id, u.id, u.hash FROM rs, unnest($2::text[], $3::text[]) AS u(id, hash)
)
SELECT count(*)::text AS won FROM rs`;
  const sql = {
    // One row always: LEFT JOINs from a single-row relation. Everything is read as text so that
    // custom pg type parsers never matter and a tampered column type is caught by the parser.
    getState: `SELECT (th.user_id IS NOT NULL)::text AS has_throttle, th.failures::text AS failures,
  th.last_failure_at::text AS last_failure_at, (cr.user_id IS NOT NULL)::text AS has_credential,
  cr.last_step::text AS last_step, cr.hotp_counter::text AS hotp_counter, cr.drift::text AS drift
FROM (SELECT 1) AS one
LEFT JOIN ${t.throttle} AS th ON th.user_id = $1 AND th.scope = $3
LEFT JOIN ${t.credentials} AS cr ON cr.user_id = $1 AND cr.credential_id = $2`,
    // Casts in the conditions keep the comparisons numeric even if a column type was tampered with.
    claimTotpStep: `INSERT INTO ${t.credentials} AS cr (user_id, credential_id, last_step) VALUES ($1, $2, $3::bigint)
ON CONFLICT (user_id, credential_id) DO UPDATE SET last_step = EXCLUDED.last_step
WHERE cr.last_step IS NULL OR cr.last_step::bigint < EXCLUDED.last_step::bigint
RETURNING 1`,
    casFromNone: `INSERT INTO ${t.credentials} AS cr (user_id, credential_id, hotp_counter) VALUES ($1, $2, $3::numeric)
ON CONFLICT (user_id, credential_id) DO UPDATE SET hotp_counter = EXCLUDED.hotp_counter
WHERE cr.hotp_counter IS NULL
RETURNING 1`,
    casFrom: `UPDATE ${t.credentials} AS cr SET hotp_counter = $4::numeric
WHERE cr.user_id = $1 AND cr.credential_id = $2 AND cr.hotp_counter::numeric = $3::numeric
RETURNING 1`,
    recordFailure: `INSERT INTO ${t.throttle} AS th (user_id, scope, failures, last_failure_at) VALUES ($1, $2, 1, $3::bigint)
ON CONFLICT (user_id, scope) DO UPDATE SET failures = th.failures::integer + 1, last_failure_at = EXCLUDED.last_failure_at
RETURNING th.failures::text AS failures`,
    resetFailures: `DELETE FROM ${t.throttle} WHERE user_id = $1 AND scope = $2`,
    setDrift: `INSERT INTO ${t.credentials} AS cr (user_id, credential_id, drift) VALUES ($1, $2, $3::smallint)
ON CONFLICT (user_id, credential_id) DO UPDATE SET drift = EXCLUDED.drift`,
    // One row per unused code of the current set, or one row with NULL code columns if none is left.
    getRecoveryCodeSet: `SELECT rs.set_id::text AS set_id, rs.issued_at::text AS issued_at, rs.total::text AS total,
  rc.id::text AS id, rc.hash::text AS hash
FROM ${t.sets} AS rs LEFT JOIN ${t.codes} AS rc ON rc.user_id = rs.user_id AND rc.set_id = rs.set_id
WHERE rs.user_id = $1 ORDER BY rc.id`,
    // Only a code of the *current* set can be consumed; the row lock makes it single use.
    consumeRecoveryCode: `DELETE FROM ${t.codes} AS rc
WHERE rc.user_id = $1 AND rc.id = $2 AND rc.set_id = (SELECT rs.set_id FROM ${t.sets} AS rs WHERE rs.user_id = $1)
RETURNING 1`,
    // One statement, one commit, and only if the current set is the expected one: the set row is
    // inserted (none expected) or updated from the expected id, and a concurrent replacement
    // waits for the row lock, then finds the id changed and replaces nothing. Readers see the old
    // set or the new one, never both; all sub-statements share one snapshot, so \`del\` never
    // sees the rows \`ins\` adds.
    replaceFromNone: replaceSql(`INSERT INTO ${t.sets} AS s (user_id, set_id, issued_at, total) VALUES ($1, $4, $5::bigint, $6::integer)
  ON CONFLICT (user_id) DO NOTHING RETURNING s.set_id`),
    replaceFrom: replaceSql(`UPDATE ${t.sets} AS s SET set_id = $4, issued_at = $5::bigint, total = $6::integer
  WHERE s.user_id = $1 AND s.set_id = $7 RETURNING s.set_id`),
  };

  const run = async (method: string, text: string, values: unknown[], scrub = false): Promise<unknown[]> => {
    let result: unknown;
    try {
      result = await client.query(text, values);
    } catch (e) {
      throw storeError(method, e, scrub);
    }
    const rows = typeof result === 'object' && result !== null ? (result as { rows?: unknown }).rows : undefined;
    if (!Array.isArray(rows)) throw corrupt(`${method}: the client returned no rows array`);
    return rows;
  };
  /** `RETURNING 1` statements: true iff this statement changed a row. */
  const won = async (method: string, text: string, values: unknown[]): Promise<boolean> => {
    const rows = await run(method, text, values);
    if (rows.length > 1) throw corrupt(`${method} changed ${rows.length} rows, expected at most 1`);
    return rows.length === 1;
  };

  return Object.freeze({
    distributedSafe: true as const,

    async getState(userId: string, credentialId: string, scope: string): Promise<CredentialState> {
      const values = [aid(userId, 'userId'), aid(credentialId, 'credentialId'), aid(scope, 'scope')];
      const row = firstRow(await run('getState', sql.getState, values), 'getState');
      const hasThrottle = readFlag(row.has_throttle, 'has_throttle');
      const hasCredential = readFlag(row.has_credential, 'has_credential');
      return {
        failures: hasThrottle ? readInt(row.failures, 'throttle.failures', 0, 2 ** 31 - 1) : 0,
        lastFailureAt: hasThrottle ? readInt(row.last_failure_at, 'throttle.last_failure_at', 0, Number.MAX_SAFE_INTEGER) : 0,
        drift: hasCredential ? readInt(row.drift, 'credentials.drift', -MAX_DRIFT, MAX_DRIFT) : 0,
        hotpCounter: hasCredential && row.hotp_counter !== null ? readCounter(row.hotp_counter) : null,
        lastStep:
          hasCredential && row.last_step !== null ? readInt(row.last_step, 'credentials.last_step', 0, Number.MAX_SAFE_INTEGER) : null,
      };
    },

    async claimTotpStep(userId: string, credentialId: string, step: number): Promise<boolean> {
      const values = [aid(userId, 'userId'), aid(credentialId, 'credentialId'), asafe(step, 'step', 0, Number.MAX_SAFE_INTEGER)];
      return won('claimTotpStep', sql.claimTotpStep, values);
    },

    async compareAndSetHotpCounter(userId: string, credentialId: string, expected: bigint | null, next: bigint): Promise<boolean> {
      const u = aid(userId, 'userId');
      const c = aid(credentialId, 'credentialId');
      const n = acounter(next, 'next');
      if (expected === null) return won('compareAndSetHotpCounter', sql.casFromNone, [u, c, n]);
      return won('compareAndSetHotpCounter', sql.casFrom, [u, c, acounter(expected, 'expected'), n]);
    },

    async recordFailure(userId: string, scope: string, now: number): Promise<number> {
      const values = [aid(userId, 'userId'), aid(scope, 'scope'), asafe(now, 'now', 0, Number.MAX_SAFE_INTEGER)];
      const row = firstRow(await run('recordFailure', sql.recordFailure, values), 'recordFailure');
      // A count below 1 means the stored count was negative (a tampered row): never trust it.
      return readInt(row.failures, 'throttle.failures', 1, 2 ** 31 - 1);
    },

    async resetFailures(userId: string, scope: string): Promise<void> {
      await run('resetFailures', sql.resetFailures, [aid(userId, 'userId'), aid(scope, 'scope')]);
    },

    async setDrift(userId: string, credentialId: string, drift: number): Promise<void> {
      const values = [aid(userId, 'userId'), aid(credentialId, 'credentialId'), asafe(drift, 'drift', -MAX_DRIFT, MAX_DRIFT)];
      await run('setDrift', sql.setDrift, values);
    },

    async getRecoveryCodeSet(userId: string): Promise<RecoveryCodeSet | null> {
      const rows = await run('getRecoveryCodeSet', sql.getRecoveryCodeSet, [aid(userId, 'userId')], true);
      if (rows.length === 0) return null;
      const codes: StoredRecoveryCode[] = [];
      let head: Record<string, unknown> | undefined;
      for (const row of rows) {
        const r = (typeof row === 'object' && row !== null ? row : {}) as Record<string, unknown>;
        head ??= r;
        if (r.id === null && r.hash === null && rows.length === 1) break; // a set with no unused code
        if (typeof r.id !== 'string' || r.id === '') throw corrupt('recovery_codes.id is not a non-empty string');
        if (typeof r.hash !== 'string' || r.hash === '') throw corrupt('recovery_codes.hash is not a non-empty string');
        codes.push({ id: r.id, hash: r.hash });
      }
      const h = head as Record<string, unknown>;
      if (typeof h.set_id !== 'string' || !SET_ID.test(h.set_id)) throw corrupt('recovery_sets.set_id is malformed');
      const total = readInt(h.total, 'recovery_sets.total', 0, 100);
      if (total < codes.length) throw corrupt('recovery_sets.total is below the number of unused codes');
      return { setId: h.set_id, issuedAt: readInt(h.issued_at, 'recovery_sets.issued_at', 0, Number.MAX_SAFE_INTEGER), total, codes };
    },

    async consumeRecoveryCode(userId: string, codeId: string): Promise<boolean> {
      return won('consumeRecoveryCode', sql.consumeRecoveryCode, [aid(userId, 'userId'), aid(codeId, 'codeId')]);
    },

    async replaceRecoveryCodes(userId: string, set: RecoveryCodeSet, expectedSetId: string | null): Promise<boolean> {
      const u = aid(userId, 'userId');
      if (typeof set !== 'object' || set === null) throw typeError('ERR_OPTION_TYPE', `"set" expected a RecoveryCodeSet, got ${kind(set)}`);
      const { setId, issuedAt, total, codes } = set;
      if (typeof setId !== 'string' || !SET_ID.test(setId)) throw rangeError('ERR_OPTION_INVALID', '"set.setId" expected 1..64 characters of [A-Za-z0-9_-]');
      if (expectedSetId !== null && (typeof expectedSetId !== 'string' || !SET_ID.test(expectedSetId)))
        throw typeError('ERR_OPTION_TYPE', '"expectedSetId" expected null or a set id');
      if (!Array.isArray(codes)) throw typeError('ERR_OPTION_TYPE', `"set.codes" expected an array, got ${kind(codes)}`);
      const ids: string[] = [];
      const hashes: string[] = [];
      const seen = new Set<string>();
      for (const code of codes as readonly unknown[]) {
        if (typeof code !== 'object' || code === null) throw typeError('ERR_OPTION_TYPE', `"set.codes" expected { id, hash } objects, got ${kind(code)}`);
        const { id, hash } = code as { id?: unknown; hash?: unknown };
        // Messages name the field, never the hash.
        if (typeof hash !== 'string' || hash === '' || UNSTORABLE.test(hash))
          throw typeError('ERR_OPTION_TYPE', '"set.codes[].hash" expected a non-empty string without NUL or lone surrogates');
        const i = aid(id, 'set.codes[].id');
        if (i === '') throw rangeError('ERR_OPTION_INVALID', '"set.codes[].id" is empty');
        if (seen.has(i)) throw rangeError('ERR_OPTION_INVALID', '"set.codes" contains a duplicate id');
        seen.add(i);
        ids.push(i);
        hashes.push(hash);
      }
      const at = asafe(issuedAt, 'set.issuedAt', 0, Number.MAX_SAFE_INTEGER);
      const n = asafe(total, 'set.total', ids.length, 100);
      const values = [u, ids, hashes, setId, at, n];
      const rows =
        expectedSetId === null
          ? await run('replaceRecoveryCodes', sql.replaceFromNone, values, true)
          : await run('replaceRecoveryCodes', sql.replaceFrom, [...values, expectedSetId], true);
      const row = firstRow(rows, 'replaceRecoveryCodes');
      return readInt(row.won, 'replaceRecoveryCodes result', 0, 1) === 1;
    },
  });
}
