/**
 * PostgreSQL store: both `OtpStore` (hot verification state) and `FactorStore` (the factor
 * registry) in PostgreSQL tables shared by every app server. Every operation is ONE statement,
 * so one round trip and, on a `pg.Pool`, one commit of its own; the composite decisions are
 * PL/pgSQL functions that {@link migratePostgres} creates. Design, lock order and trade-offs:
 * docs/security-model.md §3.10. Requires PostgreSQL 13 or later; otpkit never imports `pg`.
 * @module
 */
import { abool, aint, ALGORITHMS, aoptions, kind } from '../_assert.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';
import {
  adeviceRow,
  type DeviceRow,
  adeviceUse,
  asettleDevice,
  ahash,
  aids,
  apurge,
  aoneOf,
  arecord,
  asetId,
  CLAIM_KINDS,
  corrupt,
  DEVICE_KINDS,
  FACTOR_STATUS,
  FACTOR_TYPES,
  HEX64,
  MAX_CHALLENGE_IDS,
  MAX_DRIFT,
  MAX_HASH,
  MAX_HINT,
  MAX_LABEL,
  MAX_PAYLOAD,
  MAX_SEALED,
  MAX_TIME,
  OOB_TYPES,
  optTime,
  purged,
  readCounter,
  readInt,
  readUint,
  scounter,
  sdrift,
  SET_ID,
  sid,
  sstorable,
  storeFailure,
  suint,
} from './_shared.js';
import type {
  AttemptPolicy,
  BeginAttempt,
  BeginOutcome,
  ChallengeCreated,
  ChallengeDevice,
  ChallengeRecord,
  CredentialRecord,
  DeviceRecord,
  DeviceRotation,
  FactorRecord,
  FactorStore,
  OtpStore,
  OobCode,
  PurgeableStore,
  PurgeExpiredOptions,
  PurgeExpiredResult,
  RecoveryCodeSet,
  SendBucket,
  SendRule,
  SettleAttempt,
  SettleOutcome,
  StoredRecoveryCode,
  ThrottleRecord,
  TotpAttempt,
  TotpAttemptOutcome,
} from './types.js';
import {
  CORRUPT_STATE,
  LOCK_KEY,
  MAX_INT4,
  MAX_SAFE,
  names,
  schemaSql,
} from './_postgres-schema.js';

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
   * A `pg.Pool` (recommended: every statement autocommits on its own connection). Configure it to
   * fail fast while the server is down (`connectionTimeoutMillis`, `query_timeout`); the verifier
   * also bounds each call with `storeTimeoutMs`. A `pg.Client` works only one call at a time (`pg`
   * deprecates concurrent queries on one client) and only if it is never inside an application
   * transaction that may roll back (CVE-2026-35597).
   */
  readonly client: PgQueryable;
  /**
   * Prefix of the table and function names, matching `/^[a-z_][a-z0-9_]{0,40}$/`; the same as
   * given to {@link postgresSchema} / {@link migratePostgres}. @defaultValue 'otpkit_'
   */
  readonly prefix?: string | undefined;
  /**
   * Send the store's statements as named prepared statements (`pg`'s `{ name, text, values }`),
   * parsed and planned once per connection instead of on every call: about a third less server
   * time per sign-in (README, "Stores: sign-ins per second"). Needs a client that takes a query
   * config object (`pg`'s Pool, Client and PoolClient do) and a connection that keeps prepared
   * statements: direct, or a pooler that supports them (PgBouncer 1.21+ with
   * `max_prepared_statements`); a transaction-mode pooler without that support fails with
   * `ERR_STORE`. @defaultValue false
   */
  readonly prepare?: boolean | undefined;
}

/** Options of {@link postgresSchema} and {@link migratePostgres}. */
export interface PostgresSchemaOptions {
  /** Prefix of the table and function names, matching `/^[a-z_][a-z0-9_]{0,40}$/`. @defaultValue 'otpkit_' */
  readonly prefix?: string | undefined;
}

/** The PostgreSQL store: an `OtpStore` and a `FactorStore`, shared by every app server. */
export interface PostgresStore extends OtpStore, FactorStore, PurgeableStore {
  /** Always `true`: state lives in PostgreSQL, shared by every app server. */
  readonly distributedSafe: true;
}

const ADAPTER = 'PostgreSQL';
const DEFAULT_PREFIX = 'otpkit_';
const PREFIX_RE = /^[a-z_][a-z0-9_]{0,40}$/;
const STORE_KEYS: ReadonlySet<string> = new Set(['client', 'prefix', 'prepare']);
const SCHEMA_KEYS: ReadonlySet<string> = new Set(['prefix']);
const CORRUPT_WHAT = /^[a-z_]+(?:\.[a-z_]+| \(duplicate rows\))$/;
const MAX_IDS = 100;

// ---------------------------------------------------------------------------------------------
// Options and schema

function aprefix(v: unknown): string {
  if (v === undefined) return DEFAULT_PREFIX;
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"prefix" expected string, got ${kind(v)}`);
  if (!PREFIX_RE.test(v))
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"prefix" expected /^[a-z_][a-z0-9_]{0,40}$/, got ${JSON.stringify(v.slice(0, 48))}`,
    );
  return v;
}

function aclient(v: unknown): PgQueryable {
  if (typeof v !== 'object' || v === null || typeof (v as { query?: unknown }).query !== 'function')
    throw typeError(
      'ERR_OPTION_TYPE',
      `"client" expected a pg Pool or Client (an object with query()), got ${kind(v)}`,
    );
  return v as PgQueryable;
}

/** `pg`'s other form of `query`, for named prepared statements. */
interface PgConfigQueryable {
  query(config: { name: string; text: string; values: unknown[] }): Promise<unknown>;
}

const NAMES = new Map<string, string>();
/**
 * A prepared statement's name: the prefix and a 64-bit FNV-1a hash of the text, so every store
 * on a connection gives one text one name, whatever order they first run it in.
 */
function statementName(prefix: string, text: string): string {
  let name = NAMES.get(text);
  if (name === undefined) {
    let h = 0xcbf29ce484222325n;
    for (let i = 0; i < text.length; i++)
      h = ((h ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
    name = `${prefix}${h.toString(16).padStart(16, '0')}`;
    NAMES.set(text, name);
  }
  return name;
}

/**
 * Returns the SQL that creates the store's tables and functions: idempotent `CREATE TABLE IF NOT
 * EXISTS` and `CREATE OR REPLACE FUNCTION` statements, safe to run on every deploy or to paste
 * into your own migration tool.
 *
 * @param options - {@link PostgresSchemaOptions}: the name prefix.
 * @returns the DDL, several statements separated by `;`.
 * @throws TypeError if `options` or `prefix` has the wrong type.
 * @throws RangeError if `prefix` does not match `/^[a-z_][a-z0-9_]{0,40}$/` or an option is unknown.
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { postgresSchema } from 'otpkit/postgres';
 * writeFileSync('migrations/0007_otpkit.sql', postgresSchema());
 * ```
 * @see PostgreSQL documentation, "PL/pgSQL" and "INSERT … ON CONFLICT"; HOTP counters hold
 *   2^64 − 1 (RFC 4226 §5.1: an 8-byte counter), so they are `numeric(20,0)`: `bigint` is signed.
 */
export function postgresSchema(options?: PostgresSchemaOptions): string {
  const o = aoptions<PostgresSchemaOptions>(options, SCHEMA_KEYS);
  return schemaSql(aprefix(o.prefix));
}

/**
 * Creates the store's tables and functions if they do not exist yet (runs {@link postgresSchema}
 * in one transaction, under an advisory lock so that app servers starting together do not collide).
 *
 * @param client - a `pg.Pool` or `pg.Client`; the schema is sent as one multi-statement query.
 * @param options - {@link PostgresSchemaOptions}: the name prefix.
 * @returns a promise that resolves once the schema exists.
 * @throws TypeError if `client` has no `query` method or an option has the wrong type.
 * @throws RangeError if `prefix` does not match `/^[a-z_][a-z0-9_]{0,40}$/` or an option is unknown.
 * @throws OtpkitError `ERR_STORE` (or `ERR_STORE_TIMEOUT`) if PostgreSQL rejects the DDL.
 * @example
 * ```ts
 * import pg from 'pg';
 * import { migratePostgres } from 'otpkit/postgres';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgres(pool); // idempotent: run it at every start
 * ```
 * @see PostgreSQL documentation, "Advisory Locks"
 */
export async function migratePostgres(
  client: PgQueryable,
  options?: PostgresSchemaOptions,
): Promise<void> {
  const c = aclient(client);
  const sql = postgresSchema(options);
  // One simple-protocol query runs every statement in one implicit transaction, so the
  // transaction-scoped advisory lock covers them all (CREATE TABLE IF NOT EXISTS and CREATE OR
  // REPLACE FUNCTION alone still fail when two servers race).
  try {
    await c.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY});\n${sql}`);
  } catch (e) {
    throw storeFailure(ADAPTER, 'migratePostgres', e, isTimeout(e));
  }
}

// ---------------------------------------------------------------------------------------------
// Errors and reading rows

/** Errors a slow server or network produces: pg's client-side timeouts and SQLSTATE 57014/55P03. */
function isTimeout(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const code = (e as { code?: unknown }).code;
  if (code === '57014' || code === '55P03') return true;
  const message = (e as { message?: unknown }).message;
  return (
    typeof message === 'string' &&
    /Query read timeout|timeout exceeded when trying to connect|connection timeout/i.test(message)
  );
}

/**
 * A client error as `OtpkitError`. `storeFailure` keeps only the error's name, message and code:
 * pg's `detail` (where PostgreSQL prints a failing row, hashes and sealed secrets included) and
 * the statement's parameters never reach it.
 */
function failure(method: string, e: unknown): OtpkitError {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  if (code === CORRUPT_STATE) {
    const what = (e as { message?: unknown }).message;
    return corrupt(ADAPTER, typeof what === 'string' && CORRUPT_WHAT.test(what) ? what : 'row');
  }
  return storeFailure(ADAPTER, method, e, isTimeout(e));
}

type Row = Record<string, unknown>;

/** An id read back: the stored text of an id this store wrote, or corrupt. */
function readId(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw corrupt(ADAPTER, what);
  return v;
}

function readText(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string' || v.length > max) throw corrupt(ADAPTER, what);
  return v;
}

const readTime = (v: unknown, what: string): number => readUint(ADAPTER, v, what);
const readOptTime = (v: unknown, what: string): number | null =>
  v === null ? null : readUint(ADAPTER, v, what);

function readOne(v: unknown, what: string, allowed: ReadonlySet<string>): string {
  if (typeof v !== 'string' || !allowed.has(v)) throw corrupt(ADAPTER, what);
  return v;
}

/** Defines `key` as an own property even for `__proto__`: ids are opaque strings. */
function put<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function credentialOf(
  id: unknown,
  lastStep: unknown,
  counter: unknown,
  drift: unknown,
  usedAt: unknown,
): [string, CredentialRecord] {
  return [
    readId(id, 'credentials.credential_id'),
    {
      lastStep: lastStep === null ? null : readUint(ADAPTER, lastStep, 'credentials.last_step'),
      hotpCounter:
        counter === null ? null : readCounter(ADAPTER, counter, 'credentials.hotp_counter'),
      drift: readInt(ADAPTER, drift, 'credentials.drift', -MAX_DRIFT, MAX_DRIFT),
      lastUsedAt: readOptTime(usedAt, 'credentials.last_used_at'),
    },
  ];
}

/** The replay state of `ids` from the rows read (`null` for a missing one); a row twice is corrupt. */
function credentialMap(
  ids: readonly string[],
  found: ReadonlyMap<string, CredentialRecord>,
): Record<string, CredentialRecord | null> {
  const out: Record<string, CredentialRecord | null> = {};
  for (const id of ids) put(out, id, found.get(id) ?? null);
  return out;
}

function addCredential(
  found: Map<string, CredentialRecord>,
  entry: [string, CredentialRecord],
): void {
  if (found.has(entry[0])) throw corrupt(ADAPTER, 'credentials (duplicate rows)');
  found.set(entry[0], entry[1]);
}

/** A recovery-code set from rows `[setId, issuedAt, total, codeId, codeHash]` (codes NULL: none left). */
function recoverySet(rows: ReadonlyArray<readonly unknown[]>): RecoveryCodeSet | null {
  const head = rows[0];
  if (head === undefined) return null;
  const [setId, issuedAt, total] = head;
  if (typeof setId !== 'string' || !SET_ID.test(setId))
    throw corrupt(ADAPTER, 'recovery_sets.set_id');
  const codes: StoredRecoveryCode[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    if (r[0] !== setId || r[1] !== issuedAt || r[2] !== total)
      throw corrupt(ADAPTER, 'recovery_sets (duplicate rows)');
    if (r[3] === null && r[4] === null && rows.length === 1) break; // a set with no unused code
    const id = readId(r[3], 'recovery_codes.id');
    const hash = readText(r[4], 'recovery_codes.hash', MAX_HASH);
    if (hash === '') throw corrupt(ADAPTER, 'recovery_codes.hash');
    if (seen.has(id)) throw corrupt(ADAPTER, 'recovery_codes (duplicate rows)');
    seen.add(id);
    codes.push({ id, hash });
  }
  const n = readInt(ADAPTER, total, 'recovery_sets.total', 0, 100);
  if (n < codes.length) throw corrupt(ADAPTER, 'recovery_sets.total');
  return { setId, issuedAt: readTime(issuedAt, 'recovery_sets.issued_at'), total: n, codes };
}

function readHash(v: unknown, what: string): string {
  if (typeof v !== 'string' || !HEX64.test(v)) throw corrupt(ADAPTER, what);
  return v;
}

function factorOf(r: Row): FactorRecord {
  const type = readOne(r.type, 'factors.type', FACTOR_TYPES) as FactorRecord['type'];
  const hint = r.hint === null ? null : readText(r.hint, 'factors.hint', MAX_HINT);
  if (hint !== null && !OOB_TYPES.has(type)) throw corrupt(ADAPTER, 'factors.hint');
  const status = readOne(r.status, 'factors.status', FACTOR_STATUS) as FactorRecord['status'];
  const confirmedAt = readOptTime(r.confirmed_at, 'factors.confirmed_at');
  const expiresAt = readOptTime(r.expires_at, 'factors.expires_at');
  if (
    status === 'pending'
      ? confirmedAt !== null || expiresAt === null
      : confirmedAt === null || expiresAt !== null
  )
    throw corrupt(ADAPTER, 'factors.status');
  const label = readText(r.label, 'factors.label', MAX_LABEL);
  if (label === '') throw corrupt(ADAPTER, 'factors.label');
  return {
    userId: readId(r.user_id, 'factors.user_id'),
    id: readId(r.id, 'factors.id'),
    type,
    label,
    status,
    sealedSecret: readText(r.sealed_secret, 'factors.sealed_secret', MAX_SEALED),
    hint,
    algorithm: readOne(r.algorithm, 'factors.algorithm', ALGORITHMS) as FactorRecord['algorithm'],
    digits: readInt(ADAPTER, r.digits, 'factors.digits', 6, 8),
    period: readInt(ADAPTER, r.period, 'factors.period', 1, 120),
    createdAt: readTime(r.created_at, 'factors.created_at'),
    confirmedAt,
    expiresAt,
  };
}

/** A device from its columns `[user_id, id, kind, token_hash, previous_hash, label, created_at, last_used_at, expires_at]`. */
function deviceOf(c: readonly unknown[]): DeviceRecord {
  return {
    userId: readId(c[0], 'devices.user_id'),
    id: readId(c[1], 'devices.id'),
    kind: readOne(c[2], 'devices.kind', DEVICE_KINDS) as DeviceRecord['kind'],
    tokenHash: readHash(c[3], 'devices.token_hash'),
    previousHash: c[4] === null ? null : readHash(c[4], 'devices.previous_hash'),
    label: readText(c[5], 'devices.label', MAX_LABEL),
    createdAt: readTime(c[6], 'devices.created_at'),
    lastUsedAt: readOptTime(c[7], 'devices.last_used_at'),
    expiresAt: readTime(c[8], 'devices.expires_at'),
  };
}

/** The device of a settleAttempt (`settle.device`), checked: settle_attempt's last nine arguments. */
function settleDevice(v: unknown, userId: string): unknown[] {
  const d = asettleDevice(v, userId);
  return d === null ? Array<null>(9).fill(null) : deviceValues(d).slice(1);
}

/** create_device's arguments, in order. */
function deviceValues(d: DeviceRow): unknown[] {
  return [
    d.user,
    d.id,
    d.kind,
    d.token,
    d.previous,
    d.label,
    d.created,
    d.lastUsed,
    d.expires,
    d.max,
  ];
}

/** A device-token use from the columns of rotate_device (`r_status`, `r1`..`r9`). */
function rotationOf(r: Readonly<Record<string, unknown>>, what: string): DeviceRotation {
  if (r.r_status === 'unknown') return { status: 'unknown' };
  if (r.r_status === 'replayed')
    return { status: 'replayed', deviceId: readId(r.r1, 'devices.id') };
  if (r.r_status !== 'rotated') throw corrupt(ADAPTER, what);
  return {
    status: 'rotated',
    device: deviceOf([r.r1, r.r2, r.r3, r.r4, r.r5, r.r6, r.r7, r.r8, r.r9]),
  };
}

/** The out-of-band code of a challenge from its three columns (all NULL: none). */
function oobOf(factorId: unknown, codeHash: unknown, expiresAt: unknown): OobCode | null {
  if (factorId === null && codeHash === null && expiresAt === null) return null;
  return {
    factorId: readId(factorId, 'challenges.oob_factor_id'),
    codeHash: readHash(codeHash, 'challenges.oob_code_hash'),
    expiresAt: readTime(expiresAt, 'challenges.oob_expires_at'),
  };
}

// ---------------------------------------------------------------------------------------------
// Arguments: what the store is about to write, checked again (the layers above validate already)

function apolicy(v: unknown): [number, number, number, number] {
  const p = arecord(v, 'policy') as Partial<Record<keyof AttemptPolicy, unknown>>;
  const maxFailures = aint(p.maxFailures, 'policy.maxFailures', 1, 100, 'ERR_OPTION_INVALID');
  return [
    suint(p.freeFailures, 'policy.freeFailures', maxFailures),
    // 2^31 − 1 ms (24.8 days) keeps baseDelayMs · 2^30 inside a bigint.
    suint(p.baseDelayMs, 'policy.baseDelayMs', MAX_INT4),
    suint(p.maxDelayMs, 'policy.maxDelayMs'),
    maxFailures,
  ];
}

/** An out-of-band code as its three columns. */
function aoob(v: unknown, title: string): [string | null, string | null, number | null] {
  if (v === null) return [null, null, null];
  const o = arecord(v, title);
  return [
    sid(o.factorId, `${title}.factorId`),
    ahash(o.codeHash, `${title}.codeHash`),
    suint(o.expiresAt, `${title}.expiresAt`),
  ];
}

/** A send-quota bucket as (kind, subject). */
function abucket(v: unknown): [string, string] {
  const b = arecord(v, 'bucket');
  const k = aoneOf<SendBucket['kind']>(
    b.kind,
    'bucket.kind',
    new Set(['user', 'destination', 'app']),
  );
  if (k === 'user') return [k, sid(b.userId, 'bucket.userId')];
  if (k === 'destination') return [k, sid(b.hash, 'bucket.hash')];
  return [k, ''];
}

function arule(v: unknown): [number, number, number] {
  const r = arecord(v, 'rule') as Partial<Record<keyof SendRule, unknown>>;
  return [
    suint(r.limit, 'rule.limit', MAX_INT4),
    aint(r.windowMs, 'rule.windowMs', 1, MAX_TIME, 'ERR_OPTION_INVALID'),
    suint(r.cooldownMs, 'rule.cooldownMs', MAX_TIME),
  ];
}

// ---------------------------------------------------------------------------------------------

/**
 * Creates the PostgreSQL store, both an `OtpStore` and a `FactorStore`. Run
 * {@link migratePostgres} (or the SQL of {@link postgresSchema}) once before first use.
 *
 * Every method is one statement: one round trip and, on a `pg.Pool`, one commit that no caller
 * transaction can roll back. Pass a Pool, never the client of an application transaction:
 * failure counts must commit on their own, or a failed login that rolls back its transaction
 * also rolls back the lockout (CVE-2026-35597). A `pg.Client` runs one query at a time and is
 * safe only if your code never opens a transaction on it.
 *
 * @param options - {@link PostgresStoreOptions}: the client and the name prefix.
 * @returns a {@link PostgresStore} (`distributedSafe: true`). Its methods reject with
 *   `OtpkitError` `ERR_STORE` / `ERR_STORE_TIMEOUT` when PostgreSQL fails and `ERR_STORE_CORRUPT`
 *   when a stored row is malformed (the message names the column, never its content); they throw
 *   `TypeError` / `RangeError`, before any query, for arguments that cannot be stored faithfully
 *   (ids with NUL or lone surrogates, counters outside 0..2^64 − 1).
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
 * @see RFC 6238 §5.2 (one use per step); RFC 4226 §7.3 (throttling); PostgreSQL documentation,
 *   "Transaction Isolation" (READ COMMITTED re-checks a locked row's newest version)
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  if (options === undefined)
    throw typeError('ERR_OPTION_TYPE', '"options" expected an object, got undefined');
  const o = aoptions<PostgresStoreOptions>(options, STORE_KEYS);
  const client = aclient(o.client);
  const prefix = aprefix(o.prefix);
  const prepare = o.prepare === undefined ? false : abool(o.prepare, 'prepare');
  const n = names(prefix);
  const {
    throttle: T,
    credentials: C,
    sets: S,
    codes: RC,
    challenges: CH,
    stepUps: SU,
    factors: F,
    devices: D,
    sends: Q,
  } = n;
  /** Deletes at most $3 rows of `table` matching `where` (checked again on the row deleted). */
  const purge = (name: string, table: string, where: string): string =>
    `${name} AS (DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${where} LIMIT $3 FOR UPDATE SKIP LOCKED) AND ${where} RETURNING 1)`;
  const FACTOR_COLUMNS = `user_id::text AS user_id, id::text AS id, type::text AS type, label::text AS label, status::text AS status,
  sealed_secret::text AS sealed_secret, hint::text AS hint, algorithm::text AS algorithm, digits::text AS digits, period::text AS period,
  created_at::text AS created_at, confirmed_at::text AS confirmed_at, expires_at::text AS expires_at`;

  // Everything is read back as text (custom pg type parsers never matter, and a tampered column
  // type is caught by the strict parsers); numbers go in as decimal text or safe integers.
  const sql = {
    attemptTotp: `SELECT r_status, r_failures, r_last_failure_at, r_delta FROM ${n.fn('attempt_totp')}($1::text, $2::text,
  $3::text, $4::bigint, $5::integer, $6::bigint, $7::bigint, $8::integer, $9::bigint, $10::integer[], $11::integer, $12::integer,
  $13::boolean, $14::integer)`,
    beginAttempt: `SELECT r_kind, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12 FROM ${n.fn('begin_attempt')}($1::text, $2::text, $3::text,
  $4::bigint, $5::integer, $6::bigint, $7::bigint, $8::integer, $9::text[], $10::boolean)`,
    settleAttempt: `SELECT r_status, r_remaining FROM ${n.fn('settle_attempt')}($1::text, $2::text, $3::bigint, $4::text,
  $5::text, $6::bigint, $7::integer, $8::numeric, $9::numeric, $10::boolean, $11::text, $12::text, $13::text, $14::text, $15::bigint,
  $16::text, $17::text, $18::text, $19::text, $20::text, $21::bigint, $22::bigint, $23::bigint, $24::integer)`,
    getThrottle: `SELECT failures::text AS failures, last_failure_at::text AS last_failure_at FROM ${T} WHERE user_id = $1 AND scope = $2`,
    resetScope: `DELETE FROM ${T} WHERE user_id = $1 AND scope = $2`,
    resetAll: `DELETE FROM ${T} WHERE user_id = $1`,
    getCredentials: `SELECT credential_id::text AS id, last_step::text AS last_step, hotp_counter::text AS hotp_counter,
  drift::text AS drift, last_used_at::text AS last_used_at FROM ${C} WHERE user_id = $1 AND credential_id = ANY ($2::text[])`,
    initCredential: `INSERT INTO ${C} (user_id, credential_id, last_step, hotp_counter, drift, last_used_at)
  VALUES ($1, $2, $3::bigint, $4::numeric, 0, NULL) ON CONFLICT DO NOTHING RETURNING 1`,
    deleteCredentials: `DELETE FROM ${C} WHERE user_id = $1 AND credential_id = ANY ($2::text[])`,
    // One row per unused code of the current set (one with NULL code columns if none is left).
    getRecoveryCodeSet: `SELECT s.set_id::text AS set_id, s.issued_at::text AS issued_at, s.total::text AS total,
  c.id::text AS id, c.hash::text AS hash
FROM ${S} AS s LEFT JOIN ${RC} AS c ON c.user_id = s.user_id AND c.set_id = s.set_id WHERE s.user_id = $1 ORDER BY c.seq, c.id`,
    createChallenge: `SELECT r_status, r1, r2, r3, r4, r5, r6, r7, r8, r9, (SELECT count(*) FROM ${RC} WHERE user_id = $2::text)::text AS codes
  FROM ${n.fn('create_challenge')}($1::text, $2::text, $3::text, $4::text, $5::bigint, $6::bigint, $7::integer, $8::integer,
  $9::text[], $10::text, $11::text, $12::text, $13::bigint, $14::integer, $15::text, $16::text, $17::bigint)`,
    setChallengeCode: `SELECT ${n.fn('set_challenge_code')}($1::text, $2::text, $3::text, $4::text, $5::bigint, $6::bigint,
  $7::boolean, $8::text) AS won`,
    createDevice: `SELECT ${n.fn('create_device')}($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::bigint,
  $8::bigint, $9::bigint, $10::integer) AS done`,
    rotateDevice: `SELECT r_status, r1, r2, r3, r4, r5, r6, r7, r8, r9 FROM ${n.fn('rotate_device')}($1::text, $2::text, $3::text,
  $4::text, $5::bigint, $6::bigint)`,
    // Every device of the kind, read as text: liveness and order are decided on strictly parsed values.
    listDevices: `SELECT user_id::text AS user_id, id::text AS id, kind::text AS kind, token_hash::text AS token_hash,
  previous_hash::text AS previous_hash, label::text AS label, created_at::text AS created_at, last_used_at::text AS last_used_at,
  expires_at::text AS expires_at FROM ${n.devices} WHERE user_id = $1 AND kind = $2 ORDER BY seq`,
    revokeDevices: `WITH d AS (DELETE FROM ${n.devices} WHERE user_id = $1 AND kind = $2 AND ($3::text IS NULL OR id = $3) RETURNING 1)
SELECT count(*)::text AS n FROM d`,
    reserveSend: `SELECT r_ok, r_retry FROM ${n.fn('reserve_send')}($1::text, $2::text, $3::integer, $4::bigint, $5::bigint, $6::bigint)`,
    releaseSend: `UPDATE ${n.sends} SET sends = ${n.fn('read_int')}(sends::text, 'send_quotas.sends', 1, ${MAX_INT4}) - 1
WHERE kind = $1 AND subject = $2 AND ${n.fn('read_int')}(window_no::text, 'send_quotas.window_no', 0, ${MAX_SAFE}) = $3::bigint
  AND sends::text <> '0'`,
    deleteChallenges: `SELECT ${n.fn('delete_challenges')}($1::text) AS done`,
    purgeExpired: `WITH ${purge('ch', CH, 'expires_at <= $1::bigint')},
  ${purge('su', SU, 'expires_at <= $1::bigint')},
  ${purge('dv', D, 'expires_at <= $1::bigint')},
  ${purge('pf', F, "status = 'pending' AND expires_at <= $1::bigint")},
  ${purge('th', T, 'failures = 0 AND last_failure_at = 0')},
  ${purge('sq', Q, 'last_at <= $2::bigint')}
SELECT (SELECT count(*) FROM ch)::text AS challenges, (SELECT count(*) FROM su)::text AS step_ups,
  (SELECT count(*) FROM dv)::text AS devices, (SELECT count(*) FROM pf)::text AS pending_factors,
  (SELECT count(*) FROM th)::text AS throttles, (SELECT count(*) FROM sq)::text AS send_quotas`,
    consumeStepUp: `DELETE FROM ${SU} WHERE user_id = $1 AND hash = $2 RETURNING expires_at::text AS expires_at`,
    eraseUser: `SELECT ${n.fn('erase_user')}($1::text) AS done`,
    addFactor: `SELECT ${n.fn('add_factor')}($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text,
  $9::integer, $10::integer, $11::bigint, $12::bigint, $13::bigint, $14::integer, $15::integer, $16::bigint) AS outcome`,
    listFactors: `SELECT ${FACTOR_COLUMNS} FROM ${F} WHERE user_id = $1 ORDER BY seq`,
    confirmFactor: `SELECT ${n.fn('confirm_factor')}($1::text, $2::text, $3::bigint, $4::integer) AS outcome`,
    renameFactor: `UPDATE ${F} SET label = $3 WHERE user_id = $1 AND id = $2 RETURNING 1`,
    removeFactor: `DELETE FROM ${F} WHERE user_id = $1 AND id = $2 RETURNING 1`,
    removeFactors: `WITH d AS (DELETE FROM ${F} WHERE user_id = $1 RETURNING 1) SELECT count(*)::text AS n FROM d`,
    resealFactor: `UPDATE ${F} SET sealed_secret = $4 WHERE user_id = $1 AND id = $2 AND sealed_secret = $3 RETURNING 1`,
    // Keyset pagination in byte order: stable whatever the database's collation.
    scanFirst: `SELECT ${FACTOR_COLUMNS} FROM ${F} ORDER BY user_id COLLATE "C", id COLLATE "C" LIMIT $1`,
    scanAfter: `SELECT ${FACTOR_COLUMNS} FROM ${F}
WHERE user_id COLLATE "C" > $1 OR (user_id = $1 AND id COLLATE "C" > $2) ORDER BY user_id COLLATE "C", id COLLATE "C" LIMIT $3`,
  };
  /** The set replacement, one statement: the set row changes only from the expected id, and the codes with it. */
  const replaceSql = (setRow: string): string => `WITH rs AS (
  ${setRow}
), del AS (
  DELETE FROM ${RC} WHERE user_id = $1 AND EXISTS (SELECT 1 FROM rs)
), ins AS (
  INSERT INTO ${RC} (user_id, set_id, id, hash, seq)
  SELECT $1, rs.set_id, u.id, u.hash, u.seq FROM rs, unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(id, hash, seq)
)
SELECT count(*)::text AS won FROM rs`;
  // All sub-statements share one snapshot, so `del` never sees the rows `ins` adds; a concurrent
  // replacement waits for the set row's lock, then finds the id changed and replaces nothing.
  const replace = {
    fromNone:
      replaceSql(`INSERT INTO ${S} AS s (user_id, set_id, issued_at, total) VALUES ($1, $4, $5::bigint, $6::integer)
  ON CONFLICT (user_id) DO NOTHING RETURNING s.set_id`),
    from: replaceSql(`UPDATE ${S} AS s SET set_id = $4, issued_at = $5::bigint, total = $6::integer
  WHERE s.user_id = $1 AND s.set_id = $7 RETURNING s.set_id`),
    removeFrom: `WITH rs AS (DELETE FROM ${S} WHERE user_id = $1 AND set_id = $2 RETURNING 1),
del AS (DELETE FROM ${RC} WHERE user_id = $1 AND EXISTS (SELECT 1 FROM rs))
SELECT count(*)::text AS won FROM rs`,
    // Nothing to nothing: "changed" iff there is no set.
    noneToNone: `SELECT CASE WHEN EXISTS (SELECT 1 FROM ${S} WHERE user_id = $1) THEN '0' ELSE '1' END AS won`,
  };

  const run = async (method: string, text: string, values: unknown[]): Promise<Row[]> => {
    let result: unknown;
    try {
      result = await (prepare
        ? (client as unknown as PgConfigQueryable).query({
            name: statementName(prefix, text),
            text,
            values,
          })
        : client.query(text, values));
    } catch (e) {
      throw failure(method, e);
    }
    const rows =
      typeof result === 'object' && result !== null
        ? (result as { rows?: unknown }).rows
        : undefined;
    if (!Array.isArray(rows) || !rows.every((r) => typeof r === 'object' && r !== null))
      throw corrupt(ADAPTER, `${method} result`);
    return rows as Row[];
  };
  const one = async (method: string, text: string, values: unknown[]): Promise<Row> => {
    const rows = await run(method, text, values);
    if (rows.length !== 1) throw corrupt(ADAPTER, `${method} result`);
    return rows[0] as Row;
  };
  /** `RETURNING 1` statements: whether this statement changed the row. */
  const won = async (
    method: string,
    table: string,
    text: string,
    values: unknown[],
  ): Promise<boolean> => {
    const rows = await run(method, text, values);
    if (rows.length > 1) throw corrupt(ADAPTER, `${table} (duplicate rows)`);
    return rows.length === 1;
  };
  const flag = (v: unknown, method: string): boolean => {
    if (v === '1') return true;
    if (v === '0') return false;
    throw corrupt(ADAPTER, `${method} result`);
  };

  const store: PostgresStore = {
    distributedSafe: true,

    async attemptTotp(a: TotpAttempt): Promise<TotpAttemptOutcome> {
      const x = arecord(a, 'attempt') as Partial<Record<keyof TotpAttempt, unknown>>;
      const candidates = x.candidates;
      if (!Array.isArray(candidates) || candidates.length > 2 * MAX_DRIFT + 1)
        throw typeError('ERR_OPTION_TYPE', '"candidates" expected an array of at most 21 deltas');
      const values = [
        sid(x.userId, 'userId'),
        sid(x.credentialId, 'credentialId'),
        sid(x.scope, 'scope'),
        suint(x.now, 'now'),
        ...apolicy(x.policy),
        suint(x.step, 'step', MAX_SAFE - MAX_DRIFT),
        candidates.map((d: unknown) =>
          aint(d, 'candidates[]', -MAX_DRIFT, MAX_DRIFT, 'ERR_OPTION_WINDOW'),
        ),
        aint(x.past, 'past', 0, MAX_DRIFT, 'ERR_OPTION_WINDOW'),
        aint(x.future, 'future', 0, MAX_DRIFT, 'ERR_OPTION_WINDOW'),
        abool(x.centreOnDrift, 'centreOnDrift'),
        x.maxDrift === null
          ? null
          : aint(x.maxDrift, 'maxDrift', 0, MAX_DRIFT, 'ERR_OPTION_WINDOW'),
      ];
      const r = await one('attemptTotp', sql.attemptTotp, values);
      switch (r.r_status) {
        case 'closed':
          return {
            status: 'closed',
            failures: readUint(ADAPTER, r.r_failures, 'throttle.failures', MAX_INT4),
            lastFailureAt: readTime(r.r_last_failure_at, 'throttle.last_failure_at'),
          };
        case 'invalid':
        case 'replayed':
          return {
            status: r.r_status,
            failures: readInt(ADAPTER, r.r_failures, 'throttle.failures', 1, MAX_INT4),
          };
        case 'ok':
          return {
            status: 'ok',
            delta: readInt(ADAPTER, r.r_delta, 'attemptTotp result', -MAX_DRIFT, MAX_DRIFT),
          };
        default:
          throw corrupt(ADAPTER, 'attemptTotp result');
      }
    },

    async beginAttempt(b: BeginAttempt): Promise<BeginOutcome> {
      const x = arecord(b, 'begin') as Partial<Record<keyof BeginAttempt, unknown>>;
      const challengeHash =
        x.challengeHash === undefined ? null : sid(x.challengeHash, 'challengeHash');
      const userId = sid(x.userId, 'userId');
      const scope = x.scope === undefined ? null : sid(x.scope, 'scope');
      if (challengeHash === null && scope === null)
        throw typeError('ERR_OPTION_TYPE', 'beginAttempt needs a scope or a challenge');
      const ids = aids(x.credentialIds, 'credentialIds', MAX_IDS);
      const withSet = abool(x.recoverySet, 'recoverySet');
      const values = [
        userId,
        challengeHash,
        scope,
        suint(x.now, 'now'),
        ...apolicy(x.policy),
        ids,
        withSet,
      ];
      const rows = await run('beginAttempt', sql.beginAttempt, values);

      let head: Row | undefined;
      let challengeRow: Row | undefined;
      const challengeIds: Array<[number, string]> = [];
      const found = new Map<string, CredentialRecord>();
      const codeRows: Array<readonly unknown[]> = [];
      for (const r of rows) {
        switch (r.r_kind) {
          case 'status':
            if (head !== undefined) throw corrupt(ADAPTER, 'beginAttempt result');
            head = r;
            break;
          case 'challenge':
            if (challengeRow !== undefined) throw corrupt(ADAPTER, 'challenges (duplicate rows)');
            challengeRow = r;
            break;
          case 'challenge_credential':
            challengeIds.push([
              readUint(ADAPTER, r.r1, 'challenges.credential_ids', MAX_CHALLENGE_IDS),
              readId(r.r2, 'challenges.credential_ids'),
            ]);
            break;
          case 'credential':
            addCredential(found, credentialOf(r.r1, r.r2, r.r3, r.r4, r.r5));
            break;
          case 'code':
            codeRows.push([r.r1, r.r2, r.r3, r.r4, r.r5]);
            break;
          default:
            throw corrupt(ADAPTER, 'beginAttempt result');
        }
      }
      const status = head?.r1;
      if (
        head === undefined ||
        ((status === 'no-challenge' || status === 'exhausted') && challengeHash === null)
      )
        throw corrupt(ADAPTER, 'beginAttempt result');
      if (status === 'no-challenge') return { status: 'no-challenge' };
      const owner = readId(head.r2, 'challenges.user_id');
      if (status === 'exhausted') return { status: 'exhausted', userId: owner };
      if (status === 'closed')
        return {
          status: 'closed',
          userId: owner,
          failures: readUint(ADAPTER, head.r3, 'throttle.failures', MAX_INT4),
          lastFailureAt: readTime(head.r4, 'throttle.last_failure_at'),
        };
      if (status !== 'admitted') throw corrupt(ADAPTER, 'beginAttempt result');

      let challenge: ChallengeRecord | null = null;
      if (challengeHash !== null) {
        const c = challengeRow;
        if (c === undefined) throw corrupt(ADAPTER, 'beginAttempt result');
        challengeIds.sort((p, q) => p[0] - q[0]);
        challenge = {
          hash: readId(c.r1, 'challenges.hash'),
          userId: readId(c.r2, 'challenges.user_id'),
          scope: readId(c.r3, 'challenges.scope'),
          recoveryScope: readId(c.r4, 'challenges.recovery_scope'),
          createdAt: readTime(c.r5, 'challenges.created_at'),
          expiresAt: readTime(c.r6, 'challenges.expires_at'),
          attempts: readUint(ADAPTER, c.r7, 'challenges.attempts', 100),
          maxAttempts: readInt(ADAPTER, c.r8, 'challenges.max_attempts', 1, 100),
          credentialIds: challengeIds.map(([, id]) => id),
          payload: readText(c.r9, 'challenges.payload', MAX_PAYLOAD),
          oob: oobOf(c.r10, c.r11, c.r12),
        };
      } else if (challengeRow !== undefined || challengeIds.length > 0)
        throw corrupt(ADAPTER, 'beginAttempt result');
      if (!withSet && codeRows.length > 0) throw corrupt(ADAPTER, 'beginAttempt result');
      return {
        status: 'admitted',
        userId: owner,
        failures: readInt(ADAPTER, head.r3, 'throttle.failures', 1, MAX_INT4),
        challenge,
        credentials: credentialMap([...ids, ...(challenge?.credentialIds ?? [])], found),
        recoverySet: withSet ? recoverySet(codeRows) : null,
      };
    },

    async settleAttempt(s: SettleAttempt): Promise<SettleOutcome> {
      const x = arecord(s, 'settle') as Partial<Record<keyof SettleAttempt, unknown>>;
      const claim = arecord(x.claim, 'claim');
      const k = aoneOf<'totp' | 'hotp' | 'recovery' | 'oob'>(claim.kind, 'claim.kind', CLAIM_KINDS);
      const credential = k === 'totp' || k === 'hotp';
      const stepUp = x.stepUp === undefined ? undefined : arecord(x.stepUp, 'stepUp');
      const userId = sid(x.userId, 'userId');
      const values = [
        userId,
        sid(x.scope, 'scope'),
        suint(x.now, 'now'),
        k,
        credential ? sid(claim.credentialId, 'claim.credentialId') : null,
        k === 'totp' ? suint(claim.step, 'claim.step') : null,
        k === 'totp' ? sdrift(claim.drift) : null,
        k === 'hotp' && claim.expected !== null
          ? scounter(claim.expected, 'claim.expected').toString()
          : null,
        k === 'hotp' ? scounter(claim.next, 'claim.next').toString() : null,
        credential ? abool(claim.create, 'claim.create') : null,
        k === 'recovery' ? asetId(claim.setId, 'claim.setId') : null,
        k === 'recovery'
          ? sid(claim.codeId, 'claim.codeId')
          : k === 'oob'
            ? ahash(claim.codeHash, 'claim.codeHash')
            : null,
        x.challengeHash === undefined ? null : sid(x.challengeHash, 'challengeHash'),
        stepUp === undefined ? null : sid(stepUp.hash, 'stepUp.hash'),
        stepUp === undefined ? null : suint(stepUp.expiresAt, 'stepUp.expiresAt'),
        ...settleDevice(x.device, userId),
      ];
      const r = await one('settleAttempt', sql.settleAttempt, values);
      if (r.r_status === 'replayed' || r.r_status === 'no-challenge') return { status: r.r_status };
      if (r.r_status !== 'ok') throw corrupt(ADAPTER, 'settleAttempt result');
      if (k !== 'recovery') return { status: 'ok', remaining: null };
      return {
        status: 'ok',
        remaining: readUint(ADAPTER, r.r_remaining, 'recovery_codes (count)', 100),
      };
    },

    async getThrottle(userId: string, scope: string): Promise<ThrottleRecord> {
      const rows = await run('getThrottle', sql.getThrottle, [
        sid(userId, 'userId'),
        sid(scope, 'scope'),
      ]);
      if (rows.length > 1) throw corrupt(ADAPTER, 'throttle (duplicate rows)');
      const r = rows[0];
      if (r === undefined) return { failures: 0, lastFailureAt: 0 };
      return {
        failures: readUint(ADAPTER, r.failures, 'throttle.failures', MAX_INT4),
        lastFailureAt: readTime(r.last_failure_at, 'throttle.last_failure_at'),
      };
    },

    async resetThrottle(userId: string, scope: string | null): Promise<void> {
      const u = sid(userId, 'userId');
      if (scope === null) await run('resetThrottle', sql.resetAll, [u]);
      else await run('resetThrottle', sql.resetScope, [u, sid(scope, 'scope')]);
    },

    async getCredentials(
      userId: string,
      credentialIds: readonly string[],
    ): Promise<Readonly<Record<string, CredentialRecord | null>>> {
      const u = sid(userId, 'userId');
      const ids = aids(credentialIds, 'credentialIds', MAX_IDS);
      const found = new Map<string, CredentialRecord>();
      if (ids.length > 0) {
        for (const r of await run('getCredentials', sql.getCredentials, [u, ids]))
          addCredential(
            found,
            credentialOf(r.id, r.last_step, r.hotp_counter, r.drift, r.last_used_at),
          );
      }
      return credentialMap(ids, found);
    },

    async initCredential(
      userId: string,
      credentialId: string,
      lastStep: number | null,
      hotpCounter: bigint | null,
    ): Promise<boolean> {
      const values = [
        sid(userId, 'userId'),
        sid(credentialId, 'credentialId'),
        lastStep === null ? null : suint(lastStep, 'lastStep'),
        hotpCounter === null ? null : scounter(hotpCounter, 'hotpCounter').toString(), // decimal text: never a JS number
      ];
      return won('initCredential', 'credentials', sql.initCredential, values);
    },

    async deleteCredentials(userId: string, credentialIds: readonly string[]): Promise<void> {
      const u = sid(userId, 'userId');
      const ids = aids(credentialIds, 'credentialIds', MAX_IDS);
      if (ids.length > 0) await run('deleteCredentials', sql.deleteCredentials, [u, ids]);
    },

    async getRecoveryCodeSet(userId: string): Promise<RecoveryCodeSet | null> {
      const rows = await run('getRecoveryCodeSet', sql.getRecoveryCodeSet, [sid(userId, 'userId')]);
      return recoverySet(rows.map((r) => [r.set_id, r.issued_at, r.total, r.id, r.hash]));
    },

    async replaceRecoveryCodes(
      userId: string,
      set: RecoveryCodeSet | null,
      expectedSetId: string | null,
    ): Promise<boolean> {
      const u = sid(userId, 'userId');
      const expected = expectedSetId === null ? null : asetId(expectedSetId, 'expectedSetId');
      if (set === null) {
        const r =
          expected === null
            ? await one('replaceRecoveryCodes', replace.noneToNone, [u])
            : await one('replaceRecoveryCodes', replace.removeFrom, [u, expected]);
        return flag(r.won, 'replaceRecoveryCodes');
      }
      const x = arecord(set, 'set') as Partial<Record<keyof RecoveryCodeSet, unknown>>;
      const codes = x.codes;
      if (!Array.isArray(codes))
        throw typeError('ERR_OPTION_TYPE', `"set.codes" expected an array, got ${kind(codes)}`);
      const ids: string[] = [];
      const hashes: string[] = [];
      const seen = new Set<string>();
      for (const code of codes as readonly unknown[]) {
        const c = arecord(code, 'set.codes[]');
        const id = sid(c.id, 'set.codes[].id');
        // Messages name the field, never the hash.
        const hash = sstorable(c.hash, 'set.codes[].hash', MAX_HASH);
        if (hash === '') throw rangeError('ERR_OPTION_INVALID', '"set.codes[].hash" is empty');
        if (seen.has(id))
          throw rangeError('ERR_OPTION_INVALID', '"set.codes" contains a duplicate id');
        seen.add(id);
        ids.push(id);
        hashes.push(hash);
      }
      const total = aint(x.total, 'set.total', ids.length, 100, 'ERR_OPTION_INVALID');
      const values = [
        u,
        ids,
        hashes,
        asetId(x.setId, 'set.setId'),
        suint(x.issuedAt, 'set.issuedAt'),
        total,
      ];
      const r =
        expected === null
          ? await one('replaceRecoveryCodes', replace.fromNone, values)
          : await one('replaceRecoveryCodes', replace.from, [...values, expected]);
      return flag(r.won, 'replaceRecoveryCodes');
    },

    async createChallenge(
      record: ChallengeRecord,
      maxLive: number,
      device?: ChallengeDevice | null,
    ): Promise<ChallengeCreated> {
      const x = arecord(record, 'record') as Partial<Record<keyof ChallengeRecord, unknown>>;
      const maxAttempts = aint(x.maxAttempts, 'record.maxAttempts', 1, 100, 'ERR_OPTION_INVALID');
      const values = [
        sid(x.hash, 'record.hash'),
        sid(x.userId, 'record.userId'),
        sid(x.scope, 'record.scope'),
        sid(x.recoveryScope, 'record.recoveryScope'),
        suint(x.createdAt, 'record.createdAt'),
        suint(x.expiresAt, 'record.expiresAt'),
        suint(x.attempts, 'record.attempts', maxAttempts),
        maxAttempts,
        aids(x.credentialIds, 'record.credentialIds', MAX_CHALLENGE_IDS),
        sstorable(x.payload, 'record.payload', MAX_PAYLOAD),
        ...aoob(x.oob, 'record.oob'),
        suint(maxLive, 'maxLive', MAX_INT4),
        ...adeviceUse(device),
      ];
      const r = await one('createChallenge', sql.createChallenge, values);
      const recoveryCodes = readUint(ADAPTER, r.codes, 'recovery_codes (count)', 100);
      if (device === null || device === undefined) {
        if (r.r_status !== 'none') throw corrupt(ADAPTER, 'createChallenge result');
        return { recoveryCodes, device: null };
      }
      return { recoveryCodes, device: rotationOf(r, 'createChallenge result') };
    },

    async deleteChallenges(userId: string): Promise<void> {
      await run('deleteChallenges', sql.deleteChallenges, [sid(userId, 'userId')]);
    },

    async purgeExpired(options?: PurgeExpiredOptions): Promise<PurgeExpiredResult> {
      const { expiredBy, quotasBy, batch } = apurge(options);
      const r = await one('purgeExpired', sql.purgeExpired, [expiredBy, quotasBy, batch]);
      const count = (column: string): number =>
        readUint(ADAPTER, r[column], `purgeExpired ${column}`);
      return purged(
        {
          challenges: count('challenges'),
          stepUps: count('step_ups'),
          devices: count('devices'),
          pendingFactors: count('pending_factors'),
          throttles: count('throttles'),
          sendQuotas: count('send_quotas'),
        },
        batch,
      );
    },

    async consumeStepUp(userId: string, hash: string, now: number): Promise<boolean> {
      const values = [sid(userId, 'userId'), sid(hash, 'hash')];
      const at = suint(now, 'now');
      const rows = await run('consumeStepUp', sql.consumeStepUp, values);
      if (rows.length > 1) throw corrupt(ADAPTER, 'step_ups (duplicate rows)');
      const r = rows[0];
      // Consumed either way: an expired token is gone too, and says no.
      return r !== undefined && readTime(r.expires_at, 'step_ups.expires_at') > at;
    },

    async setChallengeCode(
      userId: string,
      challengeHash: string,
      code: OobCode | null,
      now: number,
      expected?: string,
    ): Promise<boolean> {
      const values = [
        sid(userId, 'userId'),
        sid(challengeHash, 'challengeHash'),
        ...aoob(code, 'code'),
        suint(now, 'now'),
        expected !== undefined,
        expected === undefined ? null : ahash(expected, 'expected'),
      ];
      return flag(
        (await one('setChallengeCode', sql.setChallengeCode, values)).won,
        'setChallengeCode',
      );
    },

    async createDevice(record: DeviceRecord, maxPerUser: number): Promise<void> {
      await run('createDevice', sql.createDevice, deviceValues(adeviceRow(record, maxPerUser)));
    },

    async rotateDevice(
      userId: string,
      kind: 'trusted' | 'known',
      tokenHash: string,
      newHash: string,
      now: number,
      expiresAt: number | null,
    ): Promise<DeviceRotation> {
      const values = [
        sid(userId, 'userId'),
        aoneOf(kind, 'kind', DEVICE_KINDS),
        ahash(tokenHash, 'tokenHash'),
        ahash(newHash, 'newHash'),
        suint(now, 'now'),
        optTime(expiresAt, 'expiresAt'),
      ];
      return rotationOf(await one('rotateDevice', sql.rotateDevice, values), 'rotateDevice result');
    },

    async listDevices(
      userId: string,
      kind: 'trusted' | 'known',
      now: number,
    ): Promise<readonly DeviceRecord[]> {
      const values = [sid(userId, 'userId'), aoneOf(kind, 'kind', DEVICE_KINDS)];
      const at = suint(now, 'now');
      const rows = await run('listDevices', sql.listDevices, values);
      const all = rows.map((r) =>
        deviceOf([
          r.user_id,
          r.id,
          r.kind,
          r.token_hash,
          r.previous_hash,
          r.label,
          r.created_at,
          r.last_used_at,
          r.expires_at,
        ]),
      );
      // Oldest first; a stable sort keeps creation order among devices created at the same instant.
      return all.filter((d) => d.expiresAt > at).sort((x, y) => x.createdAt - y.createdAt);
    },

    async revokeDevices(
      userId: string,
      kind: 'trusted' | 'known',
      deviceId: string | null,
    ): Promise<number> {
      const values = [
        sid(userId, 'userId'),
        aoneOf(kind, 'kind', DEVICE_KINDS),
        deviceId === null ? null : sid(deviceId, 'deviceId'),
      ];
      return readUint(
        ADAPTER,
        (await one('revokeDevices', sql.revokeDevices, values)).n,
        'revokeDevices result',
      );
    },

    async reserveSend(
      bucket: SendBucket,
      rule: SendRule,
      now: number,
    ): Promise<{ readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number }> {
      const r = await one('reserveSend', sql.reserveSend, [
        ...abucket(bucket),
        ...arule(rule),
        suint(now, 'now'),
      ]);
      if (r.r_ok === '1') return { ok: true };
      if (r.r_ok !== '0') throw corrupt(ADAPTER, 'reserveSend result');
      return { ok: false, retryAfterMs: readUint(ADAPTER, r.r_retry, 'send_quotas (retry)') };
    },

    async releaseSend(bucket: SendBucket, rule: SendRule, now: number): Promise<void> {
      const [k, subject] = abucket(bucket);
      const [, windowMs] = arule(rule);
      await run('releaseSend', sql.releaseSend, [
        k,
        subject,
        Math.floor(suint(now, 'now') / windowMs),
      ]);
    },

    async eraseUser(userId: string): Promise<void> {
      await run('eraseUser', sql.eraseUser, [sid(userId, 'userId')]);
    },

    // ---- the factor registry
    async addFactor(
      record: FactorRecord,
      limits: { readonly maxPending: number; readonly maxConfirmed: number },
      now: number,
    ): Promise<'added' | 'limit'> {
      const f = arecord(record, 'record') as Partial<Record<keyof FactorRecord, unknown>>;
      const l = arecord(limits, 'limits');
      const status = aoneOf<FactorRecord['status']>(f.status, 'record.status', FACTOR_STATUS);
      const confirmedAt = optTime(f.confirmedAt, 'record.confirmedAt');
      const expiresAt = optTime(f.expiresAt, 'record.expiresAt');
      // The registry's invariant (the schema CHECKs it too): pending ⇔ expires, confirmed ⇔ confirmedAt.
      if (
        status === 'pending'
          ? confirmedAt !== null || expiresAt === null
          : confirmedAt === null || expiresAt !== null
      )
        throw rangeError(
          'ERR_OPTION_INVALID',
          '"record" pending needs expiresAt and no confirmedAt; confirmed the reverse',
        );
      const type = aoneOf<FactorRecord['type']>(f.type, 'record.type', FACTOR_TYPES);
      const hint = f.hint === null ? null : sstorable(f.hint, 'record.hint', MAX_HINT);
      if (hint !== null && !OOB_TYPES.has(type))
        throw rangeError('ERR_OPTION_INVALID', '"record.hint" is for email and SMS factors only');
      const label = sid(f.label, 'record.label');
      if (label.length > MAX_LABEL)
        throw rangeError(
          'ERR_OPTION_INVALID',
          `"record.label" expected 1..${MAX_LABEL} characters, got ${label.length}`,
        );
      const values = [
        sid(f.userId, 'record.userId'),
        sid(f.id, 'record.id'),
        type,
        label,
        status,
        sstorable(f.sealedSecret, 'record.sealedSecret', MAX_SEALED),
        hint,
        aoneOf(f.algorithm, 'record.algorithm', ALGORITHMS),
        aint(f.digits, 'record.digits', 6, 8, 'ERR_OPTION_DIGITS'),
        aint(f.period, 'record.period', 1, 120, 'ERR_OPTION_PERIOD'),
        suint(f.createdAt, 'record.createdAt'),
        confirmedAt,
        expiresAt,
        suint(l.maxPending, 'limits.maxPending', MAX_INT4),
        suint(l.maxConfirmed, 'limits.maxConfirmed', MAX_INT4),
        suint(now, 'now'),
      ];
      const r = await one('addFactor', sql.addFactor, values);
      if (r.outcome === 'added' || r.outcome === 'limit') return r.outcome;
      if (r.outcome === 'duplicate')
        throw new OtpkitError(
          'ERR_STORE',
          `${ADAPTER} store: addFactor failed: the user already has a factor with this id`,
        );
      throw corrupt(ADAPTER, 'addFactor result');
    },

    async listFactors(userId: string): Promise<readonly FactorRecord[]> {
      return (await run('listFactors', sql.listFactors, [sid(userId, 'userId')])).map(factorOf);
    },

    async confirmFactor(
      userId: string,
      factorId: string,
      now: number,
      maxConfirmed: number,
    ): Promise<'confirmed' | 'not-found' | 'expired' | 'limit'> {
      const values = [
        sid(userId, 'userId'),
        sid(factorId, 'factorId'),
        suint(now, 'now'),
        suint(maxConfirmed, 'maxConfirmed', MAX_INT4),
      ];
      const r = await one('confirmFactor', sql.confirmFactor, values);
      const outcome = r.outcome;
      if (
        outcome === 'confirmed' ||
        outcome === 'not-found' ||
        outcome === 'expired' ||
        outcome === 'limit'
      )
        return outcome;
      throw corrupt(ADAPTER, 'confirmFactor result');
    },

    async renameFactor(userId: string, factorId: string, label: string): Promise<boolean> {
      const l = sid(label, 'label');
      if (l.length > MAX_LABEL)
        throw rangeError(
          'ERR_OPTION_INVALID',
          `"label" expected 1..${MAX_LABEL} characters, got ${l.length}`,
        );
      return won('renameFactor', 'factors', sql.renameFactor, [
        sid(userId, 'userId'),
        sid(factorId, 'factorId'),
        l,
      ]);
    },

    async removeFactor(userId: string, factorId: string): Promise<boolean> {
      return won('removeFactor', 'factors', sql.removeFactor, [
        sid(userId, 'userId'),
        sid(factorId, 'factorId'),
      ]);
    },

    async removeFactors(userId: string): Promise<number> {
      const r = await one('removeFactors', sql.removeFactors, [sid(userId, 'userId')]);
      return readUint(ADAPTER, r.n, 'removeFactors result');
    },

    async resealFactor(
      userId: string,
      factorId: string,
      expected: string,
      sealed: string,
    ): Promise<boolean> {
      const values = [
        sid(userId, 'userId'),
        sid(factorId, 'factorId'),
        sstorable(expected, 'expected', MAX_SEALED),
        sstorable(sealed, 'sealed', MAX_SEALED),
      ];
      return won('resealFactor', 'factors', sql.resealFactor, values);
    },

    async scanFactors(
      after: { readonly userId: string; readonly id: string } | null,
      limit: number,
    ): Promise<readonly FactorRecord[]> {
      const l = suint(limit, 'limit', MAX_INT4);
      if (after === null) return (await run('scanFactors', sql.scanFirst, [l])).map(factorOf);
      const a = arecord(after, 'after');
      return (
        await run('scanFactors', sql.scanAfter, [
          sid(a.userId, 'after.userId'),
          sid(a.id, 'after.id'),
          l,
        ])
      ).map(factorOf);
    },
  };
  return store;
}
