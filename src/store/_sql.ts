/**
 * What the SQLite and D1 stores share: the schema, every statement, and the store built on an
 * executor that runs a list of statements as ONE atomic unit (`BEGIN IMMEDIATE … COMMIT` on a
 * synchronous SQLite connection, one `batch` on D1). The two adapters are thin executors.
 *
 * A decision never goes back to JavaScript half-way: the first statement of a list computes the
 * outcome from the stored rows and writes it to a scratch row keyed by a random id; every later
 * statement writes only under a condition on that row (`WHERE EXISTS (SELECT 1 FROM scratch
 * WHERE id = ? AND status = 'ok')`); the last one deletes the scratch row and returns it. A stored
 * value that is malformed makes the outcome `corrupt` before anything is written.
 *
 * Parameters are anonymous `?` (better-sqlite3 binds no `?NNN`), written `$name` here and
 * compiled; numbers are bound as JavaScript numbers and cast in SQL (D1, node:sqlite and
 * better-sqlite3 bind them as REAL); every value is read back as text (or NULL), so the drivers'
 * integer modes (`safeIntegers`, `setReadBigInts`) never matter.
 * @module
 * @internal
 */
import { abool, aint, ALGORITHMS, kind } from '../_assert.js';
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
  OobCode,
  OtpStore,
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

// ---------------------------------------------------------------------------------------------
// Limits and names

const SAFE = Number.MAX_SAFE_INTEGER;
const I4 = 2 ** 31 - 1;
const MAX_IDS = 100;
/** What a `corrupt` outcome may name: a column, or a table with duplicated keys. */
const CORRUPT_WHAT = /^[a-z_]+(?:\.[a-z_]+| \(duplicate rows\))$/;
/** @internal The default prefix of the table names. */
export const DEFAULT_PREFIX = 'otpkit_';
/** @internal What a prefix must match (`sqlite_` and D1's `_cf_` are reserved names). */
export const PREFIX_RE: RegExp = /^(?!sqlite_|_cf_)[a-z_][a-z0-9_]{0,40}$/;

/** @internal Validates the `prefix` option. */
export function aprefix(v: unknown): string {
  if (v === undefined) return DEFAULT_PREFIX;
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"prefix" expected string, got ${kind(v)}`);
  if (!PREFIX_RE.test(v))
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"prefix" expected /^[a-z_][a-z0-9_]{0,40}$/ not starting with sqlite_ or _cf_, got ${JSON.stringify(v.slice(0, 48))}`,
    );
  return v;
}

interface Names {
  readonly T: string;
  readonly C: string;
  readonly RS: string;
  readonly RC: string;
  readonly CH: string;
  readonly SU: string;
  readonly D: string;
  readonly Q: string;
  readonly F: string;
  /** The scratch table: one row per decision in progress, deleted by the decision's last statement. */
  readonly X: string;
  readonly prefix: string;
}

function names(prefix: string): Names {
  // The prefix matches PREFIX_RE, so double quotes make every name a safe identifier.
  const q = (n: string): string => `"${prefix}${n}"`;
  return {
    T: q('throttle'),
    C: q('credentials'),
    RS: q('recovery_sets'),
    RC: q('recovery_codes'),
    CH: q('challenges'),
    SU: q('step_ups'),
    D: q('devices'),
    Q: q('send_quotas'),
    F: q('factors'),
    X: q('scratch'),
    prefix,
  };
}

// ---------------------------------------------------------------------------------------------
// SQL helpers

/** An integer of the given range (a tampered row may hold anything: text, a REAL, NULL). */
const isInt = (x: string, lo: number, hi: number): string =>
  `(typeof(${x}) = 'integer' AND ${x} BETWEEN ${lo} AND ${hi})`;
const isOptInt = (x: string, lo: number, hi: number): string =>
  `(${x} IS NULL OR ${isInt(x, lo, hi)})`;
const isText = (x: string, lo: number, hi: number): string =>
  `(typeof(${x}) = 'text' AND length(${x}) BETWEEN ${lo} AND ${hi})`;
const isHex = (x: string): string =>
  `(typeof(${x}) = 'text' AND length(${x}) = 64 AND ${x} NOT GLOB '*[^0-9a-f]*')`;
/** An HOTP counter: canonical decimal text of 0..2^64 − 1, compared by (length, text). */
const isCounter = (x: string): string =>
  `(typeof(${x}) = 'text' AND length(${x}) BETWEEN 1 AND 20 AND ${x} NOT GLOB '*[^0-9]*' AND (${x} = '0' OR ${x} NOT GLOB '0*') AND (length(${x}) < 20 OR ${x} <= '18446744073709551615'))`;
const isSetId = (x: string): string =>
  `(typeof(${x}) = 'text' AND length(${x}) BETWEEN 1 AND 64 AND ${x} NOT GLOB '*[^A-Za-z0-9_-]*')`;
/** A JSON array of at most `max` ids (strings of 1..256 characters); CASE keeps json_* away from invalid JSON. */
const isIdArray = (x: string, max: number): string =>
  `(CASE WHEN typeof(${x}) <> 'text' OR NOT json_valid(${x}) THEN 0 WHEN json_type(${x}) <> 'array' OR json_array_length(${x}) > ${max} THEN 0
  WHEN EXISTS (SELECT 1 FROM json_each(${x}) AS e WHERE e.type <> 'text' OR length(e.value) NOT BETWEEN 1 AND 256) THEN 0 ELSE 1 END)`;
/** Read-back of an integer column: its decimal text, NULL, or a marker no parser accepts (a wrong type). */
const num = (x: string): string =>
  `(CASE typeof(${x}) WHEN 'integer' THEN CAST(${x} AS TEXT) WHEN 'null' THEN NULL ELSE '-' END)`;
/** Read-back of a text column: the text, NULL, or a blob (a wrong type, which no parser accepts). */
const txt = (x: string): string =>
  `(CASE typeof(${x}) WHEN 'text' THEN ${x} WHEN 'null' THEN NULL ELSE X'2D' END)`;
/** The first non-NULL of the `CASE` arms: the name of the first malformed column of a row. */
const firstBad = (arms: ReadonlyArray<readonly [string, string]>): string =>
  `CASE ${arms.map(([ok, what]) => `WHEN NOT ${ok} THEN '${what}'`).join(' ')} END`;

/** A statement with `$name` placeholders, compiled once to anonymous `?` and the names in order. */
interface Compiled {
  readonly text: string;
  readonly order: readonly string[];
}
const compiled = new Map<string, Compiled>();
function compile(sql: string): Compiled {
  let c = compiled.get(sql);
  if (c === undefined) {
    const order: string[] = [];
    const text = sql.replace(/\$([a-z][A-Za-z0-9]*)/g, (_, name: string) => {
      order.push(name);
      return '?';
    });
    // D1 binds at most 100 parameters per statement.
    if (order.length > 100)
      throw new Error(`internal: a statement with ${order.length} parameters`);
    c = { text, order };
    compiled.set(sql, c);
  }
  return c;
}

/** @internal A value bound to a parameter. */
export type SqlArg = string | number | null;
/** @internal One statement of a decision. */
export interface Step {
  readonly sql: string;
  readonly args: readonly SqlArg[];
  /** The statement returns rows (a SELECT or `RETURNING`): run it with `all()`. */
  readonly rows: boolean;
}
/**
 * @internal Runs `steps` as ONE atomic unit, nothing else interleaving, and resolves the rows of
 * each (an empty array for a statement without rows). `write`: whether any step writes.
 */
export type Executor = (
  method: string,
  steps: readonly Step[],
  write: boolean,
) => Promise<readonly unknown[][]>;

function step(sql: string, values: Readonly<Record<string, SqlArg>>, rows = false): Step {
  const c = compile(sql);
  const args = c.order.map((n) => {
    const v = values[n];
    if (v === undefined) throw new Error(`internal: no value for $${n}`);
    return v;
  });
  return { sql: c.text, args, rows };
}

// ---------------------------------------------------------------------------------------------
// Schema

/** @internal The schema as separate statements (D1 runs them in one batch; SQLite as one script). */
export function schemaStatements(prefix: string): string[] {
  const { T, C, RS, RC, CH, SU, D, Q, F, X } = names(prefix);
  const hex = (c: string): string => `length(${c}) = 64 AND ${c} NOT GLOB '*[^0-9a-f]*'`;
  const time = (c: string): string => `${c} BETWEEN 0 AND ${SAFE}`;
  return [
    `CREATE TABLE IF NOT EXISTS ${T} (
  user_id         TEXT NOT NULL,
  scope           TEXT NOT NULL,
  failures        INTEGER NOT NULL CHECK (failures BETWEEN 0 AND ${I4}),
  last_failure_at INTEGER NOT NULL CHECK (${time('last_failure_at')}),
  PRIMARY KEY (user_id, scope)
) STRICT, WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS ${C} (
  user_id       TEXT NOT NULL,
  credential_id TEXT NOT NULL,
  last_step     INTEGER NULL CHECK (${time('last_step')}),
  hotp_counter  TEXT NULL CHECK (hotp_counter IS NULL OR ${isCounter('hotp_counter')}),
  drift         INTEGER NOT NULL DEFAULT 0 CHECK (drift BETWEEN -${MAX_DRIFT} AND ${MAX_DRIFT}),
  last_used_at  INTEGER NULL CHECK (${time('last_used_at')}),
  PRIMARY KEY (user_id, credential_id)
) STRICT, WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS ${RS} (
  user_id   TEXT NOT NULL PRIMARY KEY,
  set_id    TEXT NOT NULL CHECK (${isSetId('set_id')}),
  issued_at INTEGER NOT NULL CHECK (${time('issued_at')}),
  total     INTEGER NOT NULL CHECK (total BETWEEN 0 AND 100)
) STRICT, WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS ${RC} (
  user_id TEXT NOT NULL,
  set_id  TEXT NOT NULL,
  id      TEXT NOT NULL,
  hash    TEXT NOT NULL CHECK (length(hash) BETWEEN 1 AND ${MAX_HASH}),
  seq     INTEGER NOT NULL CHECK (seq BETWEEN 1 AND 100),
  PRIMARY KEY (user_id, set_id, id)
) STRICT, WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS ${CH} (
  seq            INTEGER PRIMARY KEY,
  hash           TEXT NOT NULL UNIQUE,
  user_id        TEXT NOT NULL,
  scope          TEXT NOT NULL,
  recovery_scope TEXT NOT NULL,
  created_at     INTEGER NOT NULL CHECK (${time('created_at')}),
  expires_at     INTEGER NOT NULL CHECK (${time('expires_at')}),
  attempts       INTEGER NOT NULL CHECK (attempts >= 0 AND attempts <= max_attempts),
  max_attempts   INTEGER NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
  credential_ids TEXT NOT NULL CHECK (CASE WHEN json_valid(credential_ids)
    THEN json_type(credential_ids) = 'array' AND json_array_length(credential_ids) <= ${MAX_CHALLENGE_IDS} ELSE 0 END),
  payload        TEXT NOT NULL CHECK (length(payload) <= ${MAX_PAYLOAD}),
  oob_factor_id  TEXT NULL,
  oob_code_hash  TEXT NULL CHECK (oob_code_hash IS NULL OR ${hex('oob_code_hash')}),
  oob_expires_at INTEGER NULL CHECK (${time('oob_expires_at')}),
  CHECK ((oob_factor_id IS NULL) = (oob_code_hash IS NULL) AND (oob_code_hash IS NULL) = (oob_expires_at IS NULL))
) STRICT`,
    `CREATE INDEX IF NOT EXISTS "${prefix}challenges_user" ON ${CH} (user_id)`,
    `CREATE TABLE IF NOT EXISTS ${SU} (
  user_id    TEXT NOT NULL,
  hash       TEXT NOT NULL,
  expires_at INTEGER NOT NULL CHECK (${time('expires_at')}),
  PRIMARY KEY (user_id, hash)
) STRICT, WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS ${D} (
  seq           INTEGER PRIMARY KEY,
  user_id       TEXT NOT NULL,
  id            TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('trusted', 'known')),
  token_hash    TEXT NOT NULL CHECK (${hex('token_hash')}),
  previous_hash TEXT NULL CHECK (previous_hash IS NULL OR ${hex('previous_hash')}),
  label         TEXT NOT NULL CHECK (length(label) <= ${MAX_LABEL}),
  created_at    INTEGER NOT NULL CHECK (${time('created_at')}),
  last_used_at  INTEGER NULL CHECK (${time('last_used_at')}),
  expires_at    INTEGER NOT NULL CHECK (${time('expires_at')}),
  UNIQUE (user_id, id)
) STRICT`,
    `CREATE TABLE IF NOT EXISTS ${Q} (
  kind      TEXT NOT NULL CHECK (kind IN ('user', 'destination', 'app')),
  subject   TEXT NOT NULL,
  window_no INTEGER NOT NULL CHECK (window_no BETWEEN 0 AND ${SAFE}),
  sends     INTEGER NOT NULL CHECK (sends BETWEEN 0 AND ${I4}),
  last_at   INTEGER NOT NULL CHECK (${time('last_at')}),
  PRIMARY KEY (kind, subject)
) STRICT, WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS ${F} (
  seq           INTEGER PRIMARY KEY,
  user_id       TEXT NOT NULL,
  id            TEXT NOT NULL,
  type          TEXT NOT NULL CHECK (type IN ('totp', 'hotp', 'email', 'sms')),
  label         TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND ${MAX_LABEL}),
  status        TEXT NOT NULL CHECK (status IN ('pending', 'confirmed')),
  sealed_secret TEXT NOT NULL CHECK (length(sealed_secret) <= ${MAX_SEALED}),
  hint          TEXT NULL CHECK (hint IS NULL OR (length(hint) <= ${MAX_HINT} AND type IN ('email', 'sms'))),
  algorithm     TEXT NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
  digits        INTEGER NOT NULL CHECK (digits BETWEEN 6 AND 8),
  period        INTEGER NOT NULL CHECK (period BETWEEN 1 AND 120),
  created_at    INTEGER NOT NULL CHECK (${time('created_at')}),
  confirmed_at  INTEGER NULL CHECK (${time('confirmed_at')}),
  expires_at    INTEGER NULL CHECK (${time('expires_at')}),
  UNIQUE (user_id, id),
  CHECK ((status = 'pending' AND confirmed_at IS NULL AND expires_at IS NOT NULL)
      OR (status = 'confirmed' AND confirmed_at IS NOT NULL AND expires_at IS NULL))
) STRICT`,
    // Never holds a row between two calls: each decision inserts its row first and deletes it last.
    `CREATE TABLE IF NOT EXISTS ${X} (
  id      TEXT NOT NULL PRIMARY KEY,
  status  TEXT NOT NULL,
  corrupt TEXT NULL,
  user_id ANY NULL,
  scope   ANY NULL,
  ref     ANY NULL,
  a       ANY NULL,
  b       ANY NULL,
  c       ANY NULL
) STRICT, WITHOUT ROWID`,
  ];
}

/** @internal The schema as one script, for apps that ship their own migrations. */
export function schemaText(prefix: string, engine: string): string {
  return `-- otpkit ${engine} store schema v1 (prefix "${prefix}"). Idempotent; needs SQLite 3.37+ (STRICT tables).\n${schemaStatements(
    prefix,
  )
    .map((s) => `${s};\n`)
    .join('')}`;
}

// ---------------------------------------------------------------------------------------------
// Reading rows back: every value arrives as text (or NULL), and is parsed strictly

type Row = Record<string, unknown>;

/** Defines `key` as an own property even for `__proto__`: ids are opaque strings. */
function put<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

class Reader {
  constructor(readonly adapter: string) {}
  bad(what: string): OtpkitError {
    return corrupt(this.adapter, what);
  }
  id(v: unknown, what: string): string {
    if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw this.bad(what);
    return v;
  }
  text(v: unknown, what: string, max: number): string {
    if (typeof v !== 'string' || v.length > max) throw this.bad(what);
    return v;
  }
  one(v: unknown, what: string, allowed: ReadonlySet<string>): string {
    if (typeof v !== 'string' || !allowed.has(v)) throw this.bad(what);
    return v;
  }
  hash(v: unknown, what: string): string {
    if (typeof v !== 'string' || !HEX64.test(v)) throw this.bad(what);
    return v;
  }
  /** Text only: a stored integer arrives as decimal text (a JavaScript number here means the SQL changed). */
  uint(v: unknown, what: string, max = SAFE): number {
    if (typeof v !== 'string') throw this.bad(what);
    return readUint(this.adapter, v, what, max);
  }
  sint(v: unknown, what: string, min: number, max: number): number {
    if (typeof v !== 'string') throw this.bad(what);
    return readInt(this.adapter, v, what, min, max);
  }
  time(v: unknown, what: string): number {
    return this.uint(v, what);
  }
  optTime(v: unknown, what: string): number | null {
    return v === null ? null : this.uint(v, what);
  }
  credential(r: Row): [string, CredentialRecord] {
    return [
      this.id(r.id, 'credentials.credential_id'),
      {
        lastStep: r.last_step === null ? null : this.uint(r.last_step, 'credentials.last_step'),
        hotpCounter:
          r.hotp_counter === null
            ? null
            : readCounter(this.adapter, r.hotp_counter, 'credentials.hotp_counter'),
        drift: this.sint(r.drift, 'credentials.drift', -MAX_DRIFT, MAX_DRIFT),
        lastUsedAt: this.optTime(r.last_used_at, 'credentials.last_used_at'),
      },
    ];
  }
  credentials(
    rows: readonly Row[],
    ids: readonly string[],
  ): Record<string, CredentialRecord | null> {
    const found = new Map<string, CredentialRecord>();
    for (const r of rows) {
      const [id, c] = this.credential(r);
      if (found.has(id)) throw this.bad('credentials (duplicate rows)');
      found.set(id, c);
    }
    const out: Record<string, CredentialRecord | null> = {};
    for (const id of ids) put(out, id, found.get(id) ?? null);
    return out;
  }
  /** A recovery-code set from its rows (set columns, then one code each; code columns NULL: none left). */
  recoverySet(rows: readonly Row[]): RecoveryCodeSet | null {
    const head = rows[0];
    if (head === undefined) return null;
    const { set_id: setId, issued_at: issuedAt, total } = head;
    if (typeof setId !== 'string' || !SET_ID.test(setId)) throw this.bad('recovery_sets.set_id');
    const codes: StoredRecoveryCode[] = [];
    const seen = new Set<string>();
    for (const r of rows) {
      if (r.set_id !== setId || r.issued_at !== issuedAt || r.total !== total)
        throw this.bad('recovery_sets (duplicate rows)');
      if (r.code_id === null && r.code_hash === null && rows.length === 1) break; // a set with no unused code
      const id = this.id(r.code_id, 'recovery_codes.id');
      const hash = this.text(r.code_hash, 'recovery_codes.hash', MAX_HASH);
      if (hash === '') throw this.bad('recovery_codes.hash');
      if (seen.has(id)) throw this.bad('recovery_codes (duplicate rows)');
      seen.add(id);
      codes.push({ id, hash });
    }
    const n = this.sint(total, 'recovery_sets.total', 0, 100);
    if (n < codes.length) throw this.bad('recovery_sets.total');
    return { setId, issuedAt: this.time(issuedAt, 'recovery_sets.issued_at'), total: n, codes };
  }
  factor(r: Row): FactorRecord {
    const type = this.one(r.type, 'factors.type', FACTOR_TYPES) as FactorRecord['type'];
    const hint = r.hint === null ? null : this.text(r.hint, 'factors.hint', MAX_HINT);
    if (hint !== null && !OOB_TYPES.has(type)) throw this.bad('factors.hint');
    const status = this.one(r.status, 'factors.status', FACTOR_STATUS) as FactorRecord['status'];
    const confirmedAt = this.optTime(r.confirmed_at, 'factors.confirmed_at');
    const expiresAt = this.optTime(r.expires_at, 'factors.expires_at');
    if (
      status === 'pending'
        ? confirmedAt !== null || expiresAt === null
        : confirmedAt === null || expiresAt !== null
    )
      throw this.bad('factors.status');
    const label = this.text(r.label, 'factors.label', MAX_LABEL);
    if (label === '') throw this.bad('factors.label');
    return {
      userId: this.id(r.user_id, 'factors.user_id'),
      id: this.id(r.id, 'factors.id'),
      type,
      label,
      status,
      sealedSecret: this.text(r.sealed_secret, 'factors.sealed_secret', MAX_SEALED),
      hint,
      algorithm: this.one(
        r.algorithm,
        'factors.algorithm',
        ALGORITHMS,
      ) as FactorRecord['algorithm'],
      digits: this.sint(r.digits, 'factors.digits', 6, 8),
      period: this.sint(r.period, 'factors.period', 1, 120),
      createdAt: this.time(r.created_at, 'factors.created_at'),
      confirmedAt,
      expiresAt,
    };
  }
  device(r: Row): DeviceRecord {
    return {
      userId: this.id(r.user_id, 'devices.user_id'),
      id: this.id(r.id, 'devices.id'),
      kind: this.one(r.kind, 'devices.kind', DEVICE_KINDS) as DeviceRecord['kind'],
      tokenHash: this.hash(r.token_hash, 'devices.token_hash'),
      previousHash:
        r.previous_hash === null ? null : this.hash(r.previous_hash, 'devices.previous_hash'),
      label: this.text(r.label, 'devices.label', MAX_LABEL),
      createdAt: this.time(r.created_at, 'devices.created_at'),
      lastUsedAt: this.optTime(r.last_used_at, 'devices.last_used_at'),
      expiresAt: this.time(r.expires_at, 'devices.expires_at'),
    };
  }
  oob(r: Row): OobCode | null {
    if (r.oob_factor_id === null && r.oob_code_hash === null && r.oob_expires_at === null)
      return null;
    return {
      factorId: this.id(r.oob_factor_id, 'challenges.oob_factor_id'),
      codeHash: this.hash(r.oob_code_hash, 'challenges.oob_code_hash'),
      expiresAt: this.time(r.oob_expires_at, 'challenges.oob_expires_at'),
    };
  }
  challenge(r: Row): ChallengeRecord {
    let ids: unknown;
    try {
      ids = typeof r.credential_ids === 'string' ? JSON.parse(r.credential_ids) : undefined;
    } catch {
      ids = undefined;
    }
    if (!Array.isArray(ids) || ids.length > MAX_CHALLENGE_IDS)
      throw this.bad('challenges.credential_ids');
    const credentialIds = ids.map((id: unknown) => this.id(id, 'challenges.credential_ids'));
    const maxAttempts = this.sint(r.max_attempts, 'challenges.max_attempts', 1, 100);
    return {
      hash: this.id(r.hash, 'challenges.hash'),
      userId: this.id(r.user_id, 'challenges.user_id'),
      scope: this.id(r.scope, 'challenges.scope'),
      recoveryScope: this.id(r.recovery_scope, 'challenges.recovery_scope'),
      createdAt: this.time(r.created_at, 'challenges.created_at'),
      expiresAt: this.time(r.expires_at, 'challenges.expires_at'),
      attempts: this.uint(r.attempts, 'challenges.attempts', maxAttempts),
      maxAttempts,
      credentialIds,
      payload: this.text(r.payload, 'challenges.payload', MAX_PAYLOAD),
      oob: this.oob(r),
    };
  }
  /** The outcome row a decision's last statement returns; a named corruption becomes `ERR_STORE_CORRUPT`. */
  outcome(rows: readonly Row[] | undefined, method: string): Row {
    if (rows === undefined || rows.length !== 1) throw this.bad(`${method} result`);
    const r = rows[0] as Row;
    if (r.status === 'corrupt')
      throw this.bad(
        typeof r.corrupt === 'string' && CORRUPT_WHAT.test(r.corrupt) ? r.corrupt : 'row',
      );
    return r;
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments: what the store is about to write, checked again (the layers above validate already)

/** The policy as the parameters of the gate: first delayed failure, base, longest delay, lock. */
function apolicy(v: unknown): {
  first: number;
  base: number;
  maxDelay: number;
  maxFailures: number;
} {
  const p = arecord(v, 'policy') as Partial<Record<keyof AttemptPolicy, unknown>>;
  const maxFailures = aint(p.maxFailures, 'policy.maxFailures', 1, 100, 'ERR_OPTION_INVALID');
  const free = suint(p.freeFailures, 'policy.freeFailures', maxFailures);
  return {
    first: Math.max(free, 1),
    // 2^31 − 1 ms (24.8 days) keeps baseDelayMs · 2^30 inside a signed 64-bit integer.
    base: suint(p.baseDelayMs, 'policy.baseDelayMs', I4),
    maxDelay: suint(p.maxDelayMs, 'policy.maxDelayMs'),
    maxFailures,
  };
}

/** An out-of-band code as its three columns. */
function aoob(
  v: unknown,
  title: string,
): { factor: string | null; code: string | null; expires: number | null } {
  if (v === null) return { factor: null, code: null, expires: null };
  const o = arecord(v, title);
  return {
    factor: sid(o.factorId, `${title}.factorId`),
    code: ahash(o.codeHash, `${title}.codeHash`),
    expires: suint(o.expiresAt, `${title}.expiresAt`),
  };
}

function abucket(v: unknown): { kind: string; subject: string } {
  const b = arecord(v, 'bucket');
  const k = aoneOf<SendBucket['kind']>(
    b.kind,
    'bucket.kind',
    new Set(['user', 'destination', 'app']),
  );
  if (k === 'user') return { kind: k, subject: sid(b.userId, 'bucket.userId') };
  if (k === 'destination') return { kind: k, subject: sid(b.hash, 'bucket.hash') };
  return { kind: k, subject: '' };
}

function arule(v: unknown): { limit: number; windowMs: number; cooldown: number } {
  const r = arecord(v, 'rule') as Partial<Record<keyof SendRule, unknown>>;
  return {
    limit: suint(r.limit, 'rule.limit', I4),
    windowMs: aint(r.windowMs, 'rule.windowMs', 1, MAX_TIME, 'ERR_OPTION_INVALID'),
    cooldown: suint(r.cooldownMs, 'rule.cooldownMs', MAX_TIME),
  };
}

/** A random id for a decision's scratch row (96 bits: no two calls in flight ever share one). */
function opId(): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(12));
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

// ---------------------------------------------------------------------------------------------
// The statements

/** @internal The SQL store: both contracts on an executor. */
export interface SqlStore extends OtpStore, FactorStore, PurgeableStore {}

/** @internal Builds the store on `exec`; `adapter` names it in errors ("SQLite", "D1"). */
export function createSqlStore(
  adapter: string,
  prefix: string,
  exec: Executor,
  distributedSafe: boolean,
): SqlStore {
  const { T, C, RS, RC, CH, SU, D, Q, F, X } = names(prefix);
  const read = new Reader(adapter);
  const won = (status: string): string =>
    `EXISTS (SELECT 1 FROM ${X} WHERE id = $op AND status = '${status}')`;
  const finish = `DELETE FROM ${X} WHERE id = $op RETURNING status, corrupt, user_id, scope, ref,
  CAST(a AS TEXT) AS a, CAST(b AS TEXT) AS b, CAST(c AS TEXT) AS c`;

  const run = async (method: string, steps: readonly Step[], write: boolean): Promise<Row[][]> => {
    const results = await exec(method, steps, write);
    if (!Array.isArray(results) || results.length !== steps.length)
      throw read.bad(`${method} result`);
    return results.map((rows) => {
      if (!Array.isArray(rows) || !rows.every((r) => typeof r === 'object' && r !== null))
        throw read.bad(`${method} result`);
      return rows as Row[];
    });
  };
  /**
   * What createDevice does, as steps ending in the device op's `finish`, run only where `when`
   * holds (SQL; '1': always): dead devices of the kind and the oldest live ones beyond max − 1
   * give way, then the device is stored.
   */
  const deviceSteps = (d: DeviceRow & { readonly op: string }, when: string): Step[] => [
    step(
      `INSERT INTO ${X} (id, status, corrupt) SELECT $op, CASE WHEN bad IS NULL THEN 'ok' ELSE 'corrupt' END, bad
FROM (SELECT (SELECT bad FROM (SELECT ${firstBad([
        [isInt('expires_at', 0, SAFE), 'devices.expires_at'],
        [isInt('created_at', 0, SAFE), 'devices.created_at'],
      ])} AS bad
  FROM ${D} WHERE user_id = $user AND kind = $kind) WHERE bad IS NOT NULL LIMIT 1) AS bad) WHERE ${when}`,
      d,
    ),
    step(
      `DELETE FROM ${D} WHERE user_id = $user AND kind = $kind AND expires_at <= CAST($created AS INTEGER) AND ${won('ok')}`,
      d,
    ),
    step(
      `DELETE FROM ${D} WHERE seq IN (SELECT seq FROM (SELECT seq, row_number() OVER (ORDER BY created_at DESC, seq DESC) AS r
  FROM ${D} WHERE user_id = $user AND kind = $kind) WHERE r >= CAST($max AS INTEGER)) AND ${won('ok')}`,
      d,
    ),
    // A device id the user already has keeps its place in the order (as the memory store's Map does).
    step(
      `INSERT INTO ${D} (user_id, id, kind, token_hash, previous_hash, label, created_at, last_used_at, expires_at)
SELECT $user, $id, $kind, $token, $previous, $label, CAST($created AS INTEGER), CAST($lastUsed AS INTEGER), CAST($expires AS INTEGER) WHERE ${won('ok')}
ON CONFLICT (user_id, id) DO UPDATE SET kind = excluded.kind, token_hash = excluded.token_hash, previous_hash = excluded.previous_hash,
  label = excluded.label, created_at = excluded.created_at, last_used_at = excluded.last_used_at, expires_at = excluded.expires_at`,
      d,
    ),
    step(finish, d, true),
  ];
  /** A device-token use from its decision row and the rows the rotation's UPDATE returned. */
  const rotation = (out: Row, updated: Row[] | undefined, what: string): DeviceRotation => {
    if (out.status === 'unknown') return { status: 'unknown' };
    if (out.status === 'replayed')
      return { status: 'replayed', deviceId: read.id(out.ref, 'devices.id') };
    if (out.status !== 'rotated' || updated?.length !== 1) throw read.bad(what);
    return { status: 'rotated', device: read.device(updated[0] as Row) };
  };
  /** Runs a decision whose last step is `finish`; resolves its outcome row and every step's rows. */
  const decide = async (
    method: string,
    steps: readonly Step[],
  ): Promise<{ out: Row; rows: Row[][] }> => {
    const rows = await run(method, steps, true);
    return { out: read.outcome(rows[rows.length - 1], method), rows };
  };

  // -- the throttle gate, in SQL, on the columns f (failures) and a (last failure) of `v`
  const delay = (v: string): string =>
    `min(${v}.max_delay, ${v}.base * (1 << min(${v}.f - ${v}.first, 30)))`;
  const gate = (v: string): string =>
    `(${v}.f < ${v}.max_failures AND (${v}.f < ${v}.first OR ${delay(v)} = 0 OR ${v}.now - ${v}.a >= ${delay(v)}))`;
  const policyParams = `CAST($now AS INTEGER) AS now, CAST($first AS INTEGER) AS first, CAST($base AS INTEGER) AS base,
    CAST($maxDelay AS INTEGER) AS max_delay, CAST($maxFailures AS INTEGER) AS max_failures`;
  const throttleBad = (t: string): string =>
    `CASE WHEN ${t}.n > 1 THEN 'throttle (duplicate rows)'
      WHEN ${t}.n = 1 AND NOT ${isInt(`${t}.f`, 0, I4)} THEN 'throttle.failures'
      WHEN ${t}.n = 1 AND NOT ${isInt(`${t}.a`, 0, SAFE)} THEN 'throttle.last_failure_at' END`;
  /** Counts one failure in the bucket (user_id, scope) of the scratch row when its status is one of `statuses`. */
  const countFailure = (
    statuses: string,
  ): string => `INSERT INTO ${T} (user_id, scope, failures, last_failure_at)
SELECT s.user_id, s.scope, s.a + 1, CAST($now AS INTEGER) FROM ${X} AS s WHERE s.id = $op AND s.status IN (${statuses})
ON CONFLICT (user_id, scope) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at`;
  const credentialBad = (c: string): string =>
    firstBad([
      [isOptInt(`${c}.last_step`, 0, SAFE), 'credentials.last_step'],
      [
        `(${c}.hotp_counter IS NULL OR ${isCounter(`${c}.hotp_counter`)})`,
        'credentials.hotp_counter',
      ],
      [isInt(`${c}.drift`, -MAX_DRIFT, MAX_DRIFT), 'credentials.drift'],
      [isOptInt(`${c}.last_used_at`, 0, SAFE), 'credentials.last_used_at'],
    ]);
  const CREDENTIAL_COLUMNS = `${txt('c.credential_id')} AS id, ${num('c.last_step')} AS last_step, ${txt('c.hotp_counter')} AS hotp_counter,
  ${num('c.drift')} AS drift, ${num('c.last_used_at')} AS last_used_at`;
  const challengeBad = (ch: string): string =>
    firstBad([
      [isText(`${ch}.scope`, 1, 256), 'challenges.scope'],
      [isText(`${ch}.recovery_scope`, 1, 256), 'challenges.recovery_scope'],
      [isIdArray(`${ch}.credential_ids`, MAX_CHALLENGE_IDS), 'challenges.credential_ids'],
      [isInt(`${ch}.created_at`, 0, SAFE), 'challenges.created_at'],
      [isText(`${ch}.payload`, 0, MAX_PAYLOAD), 'challenges.payload'],
      [
        `(${ch}.oob_factor_id IS NULL AND ${ch}.oob_code_hash IS NULL AND ${ch}.oob_expires_at IS NULL OR ${isText(`${ch}.oob_factor_id`, 1, 256)})`,
        'challenges.oob_factor_id',
      ],
      [
        `(${ch}.oob_factor_id IS NULL AND ${ch}.oob_code_hash IS NULL AND ${ch}.oob_expires_at IS NULL OR ${isHex(`${ch}.oob_code_hash`)})`,
        'challenges.oob_code_hash',
      ],
      [
        `(${ch}.oob_factor_id IS NULL AND ${ch}.oob_code_hash IS NULL AND ${ch}.oob_expires_at IS NULL OR ${isInt(`${ch}.oob_expires_at`, 0, SAFE)})`,
        'challenges.oob_expires_at',
      ],
    ]);
  const CHALLENGE_COLUMNS = `${txt('hash')} AS hash, ${txt('user_id')} AS user_id, ${txt('scope')} AS scope, ${txt('recovery_scope')} AS recovery_scope,
  ${num('created_at')} AS created_at, ${num('expires_at')} AS expires_at, ${num('attempts')} AS attempts, ${num('max_attempts')} AS max_attempts,
  ${txt('credential_ids')} AS credential_ids, ${txt('payload')} AS payload, ${txt('oob_factor_id')} AS oob_factor_id,
  ${txt('oob_code_hash')} AS oob_code_hash, ${num('oob_expires_at')} AS oob_expires_at`;
  const deviceBad = (d: string): string =>
    firstBad([
      [`${d}.kind IN ('trusted', 'known')`, 'devices.kind'],
      [isHex(`${d}.token_hash`), 'devices.token_hash'],
      [`(${d}.previous_hash IS NULL OR ${isHex(`${d}.previous_hash`)})`, 'devices.previous_hash'],
      [isText(`${d}.label`, 0, MAX_LABEL), 'devices.label'],
      [isInt(`${d}.created_at`, 0, SAFE), 'devices.created_at'],
      [isOptInt(`${d}.last_used_at`, 0, SAFE), 'devices.last_used_at'],
      [isInt(`${d}.expires_at`, 0, SAFE), 'devices.expires_at'],
    ]);
  const DEVICE_COLUMNS = `${txt('user_id')} AS user_id, ${txt('id')} AS id, ${txt('kind')} AS kind, ${txt('token_hash')} AS token_hash,
  ${txt('previous_hash')} AS previous_hash, ${txt('label')} AS label, ${num('created_at')} AS created_at, ${num('last_used_at')} AS last_used_at,
  ${num('expires_at')} AS expires_at`;
  const FACTOR_COLUMNS = `${txt('user_id')} AS user_id, ${txt('id')} AS id, ${txt('type')} AS type, ${txt('label')} AS label,
  ${txt('status')} AS status, ${txt('sealed_secret')} AS sealed_secret, ${txt('hint')} AS hint, ${txt('algorithm')} AS algorithm,
  ${num('digits')} AS digits, ${num('period')} AS period, ${num('created_at')} AS created_at, ${num('confirmed_at')} AS confirmed_at,
  ${num('expires_at')} AS expires_at`;
  /** The user's set and its unused codes; one row with NULL code columns if none is left. */
  const SET_ROWS = (
    user: string,
  ): string => `SELECT ${txt('s.set_id')} AS set_id, ${num('s.issued_at')} AS issued_at, ${num('s.total')} AS total,
  ${txt('c.id')} AS code_id, ${txt('c.hash')} AS code_hash
FROM ${RS} AS s LEFT JOIN ${RC} AS c ON c.user_id = s.user_id AND c.set_id = s.set_id WHERE s.user_id = ${user} ORDER BY c.seq, c.id`;
  /** The first malformed column of the user's set and codes (the read-back checks the rest). */
  const setBad = (user: string): string => `(SELECT bad FROM (
    SELECT CASE WHEN (SELECT count(*) FROM ${RS} WHERE user_id = ${user}) > 1 THEN 'recovery_sets (duplicate rows)'
      WHEN NOT ${isSetId('s.set_id')} THEN 'recovery_sets.set_id' WHEN NOT ${isInt('s.issued_at', 0, SAFE)} THEN 'recovery_sets.issued_at'
      WHEN NOT ${isInt('s.total', 0, 100)} THEN 'recovery_sets.total'
      WHEN (SELECT count(*) FROM ${RC} AS k WHERE k.user_id = s.user_id AND k.set_id = s.set_id) > s.total THEN 'recovery_sets.total'
      WHEN EXISTS (SELECT 1 FROM ${RC} AS k WHERE k.user_id = s.user_id AND k.set_id = s.set_id AND NOT ${isText('k.id', 1, 256)}) THEN 'recovery_codes.id'
      WHEN EXISTS (SELECT 1 FROM ${RC} AS k WHERE k.user_id = s.user_id AND k.set_id = s.set_id AND NOT ${isText('k.hash', 1, MAX_HASH)}) THEN 'recovery_codes.hash'
      END AS bad FROM ${RS} AS s WHERE s.user_id = ${user}) WHERE bad IS NOT NULL LIMIT 1)`;

  const SQL = {
    attemptTotp: [
      `WITH p AS (SELECT $user AS user_id, $cred AS cred, $scope AS scope, ${policyParams}, CAST($step AS INTEGER) AS step,
    $candidates AS candidates, CAST($past AS INTEGER) AS past, CAST($future AS INTEGER) AS future, CAST($centre AS INTEGER) AS centre,
    CAST($maxDrift AS INTEGER) AS max_drift),
t AS (SELECT count(*) AS n, min(x.failures) AS f, min(x.last_failure_at) AS a FROM ${T} AS x, p WHERE x.user_id = p.user_id AND x.scope = p.scope),
c AS (SELECT count(*) AS n, min(x.last_step) AS ls, min(x.drift) AS dr FROM ${C} AS x, p WHERE x.user_id = p.user_id AND x.credential_id = p.cred),
v AS (SELECT p.*, coalesce(t.f, 0) AS f, coalesce(t.a, 0) AS a, c.ls AS ls, coalesce(c.dr, 0) AS dr,
    coalesce(${throttleBad('t')}, CASE WHEN c.n > 1 THEN 'credentials (duplicate rows)'
      WHEN c.n = 1 AND NOT ${isOptInt('c.ls', 0, SAFE)} THEN 'credentials.last_step'
      WHEN c.n = 1 AND NOT ${isInt('c.dr', -MAX_DRIFT, MAX_DRIFT)} THEN 'credentials.drift' END) AS bad
  FROM p, t, c),
g AS (SELECT v.*, ${gate('v')} AS open, CASE WHEN v.centre = 1 THEN v.dr ELSE 0 END AS mid FROM v),
d AS (SELECT g.*, (SELECT j.value FROM json_each(g.candidates) AS j
    WHERE j.value >= max(g.mid - g.past, -${MAX_DRIFT}) AND j.value <= min(g.mid + g.future, ${MAX_DRIFT}) AND g.step + j.value >= 0
    ORDER BY abs(j.value), j.key LIMIT 1) AS delta FROM g)
INSERT INTO ${X} (id, status, corrupt, user_id, scope, a, b, c)
SELECT $op, CASE WHEN bad IS NOT NULL THEN 'corrupt' WHEN NOT open THEN 'closed' WHEN delta IS NULL THEN 'invalid'
    WHEN ls IS NOT NULL AND ls >= step + delta THEN 'replayed' ELSE 'ok' END,
  bad, user_id, scope, f, CASE WHEN bad IS NOT NULL OR NOT open THEN a ELSE delta END,
  CASE WHEN max_drift IS NULL OR delta IS NULL THEN 0 ELSE max(-max_drift, min(max_drift, delta)) END
FROM d`,
      countFailure(`'invalid', 'replayed'`),
      `DELETE FROM ${T} WHERE user_id = $user AND scope = $scope AND ${won('ok')}`,
      `INSERT INTO ${C} (user_id, credential_id, last_step, hotp_counter, drift, last_used_at)
SELECT s.user_id, $cred, CAST($step AS INTEGER) + s.b, NULL, s.c, CAST($now AS INTEGER) FROM ${X} AS s WHERE s.id = $op AND s.status = 'ok'
ON CONFLICT (user_id, credential_id) DO UPDATE SET last_step = excluded.last_step, drift = excluded.drift, last_used_at = excluded.last_used_at`,
    ],

    // The device-token use of rotateDevice and createChallenge, on the op $op: the first device of
    // the kind, in creation order, whose live current token or whose previous token it is.
    findDevice: `WITH m AS (SELECT * FROM ${D} WHERE user_id = $user AND kind = $kind AND (token_hash = $token OR previous_hash = $token)),
b AS (SELECT (SELECT bad FROM (SELECT ${deviceBad('m')} AS bad FROM m) WHERE bad IS NOT NULL LIMIT 1) AS bad),
f AS (SELECT m.id, m.token_hash = $token AND m.expires_at > CAST($now AS INTEGER) AS live FROM m
  WHERE (m.token_hash = $token AND m.expires_at > CAST($now AS INTEGER)) OR m.previous_hash = $token ORDER BY m.seq LIMIT 1)
INSERT INTO ${X} (id, status, corrupt, ref)
SELECT $op, CASE WHEN b.bad IS NOT NULL THEN 'corrupt' WHEN f.id IS NULL THEN 'unknown' WHEN f.live THEN 'rotated' ELSE 'replayed' END, b.bad, f.id
FROM b LEFT JOIN f ON 1`,
    rotateDevice: `UPDATE ${D} SET token_hash = $next, previous_hash = $token, last_used_at = CAST($now AS INTEGER),
  expires_at = coalesce(CAST($expires AS INTEGER), expires_at)
WHERE user_id = $user AND id = (SELECT ref FROM ${X} WHERE id = $op AND status = 'rotated') RETURNING ${DEVICE_COLUMNS}`,
    // a: failures as read; the challenge's state decides first, then the gate, then what is read back.
    beginAttempt: `WITH p AS (SELECT $user AS u, $hash AS hash, $scope AS scope, ${policyParams}, $ids AS ids, CAST($withSet AS INTEGER) AS with_set),
ch AS (SELECT count(*) AS n, min(x.user_id) AS user_id, min(x.scope) AS scope, min(x.recovery_scope) AS recovery_scope,
    min(x.created_at) AS created_at, min(x.expires_at) AS expires_at, min(x.attempts) AS attempts, min(x.max_attempts) AS max_attempts,
    min(x.credential_ids) AS credential_ids, min(x.payload) AS payload, min(x.oob_factor_id) AS oob_factor_id,
    min(x.oob_code_hash) AS oob_code_hash, min(x.oob_expires_at) AS oob_expires_at
  FROM ${CH} AS x, p WHERE x.hash = p.hash),
k AS (SELECT p.*, ch.credential_ids AS ch_ids, CASE
    WHEN p.hash IS NULL THEN 'live'
    WHEN ch.n = 0 THEN 'none'
    WHEN ch.n > 1 THEN 'corrupt:challenges (duplicate rows)'
    WHEN NOT ${isInt('ch.expires_at', 0, SAFE)} THEN 'corrupt:challenges.expires_at'
    WHEN ch.expires_at <= p.now THEN 'dead'
    WHEN NOT ${isText('ch.user_id', 1, 256)} THEN 'corrupt:challenges.user_id'
    WHEN ch.user_id IS NOT p.u THEN 'none'
    WHEN NOT ${isInt('ch.max_attempts', 1, 100)} THEN 'corrupt:challenges.max_attempts'
    WHEN NOT ${isInt('ch.attempts', 0, I4)} THEN 'corrupt:challenges.attempts'
    WHEN ch.attempts >= ch.max_attempts THEN 'exhausted'
    ELSE coalesce('corrupt:' || (${challengeBad('ch')}), 'live') END AS cs,
  p.u AS ru,
  CASE WHEN p.hash IS NULL THEN p.scope WHEN p.with_set = 1 THEN ch.recovery_scope ELSE ch.scope END AS rscope
  FROM p, ch),
t AS (SELECT count(*) AS n, min(x.failures) AS f, min(x.last_failure_at) AS a FROM ${T} AS x, k WHERE x.user_id = k.ru AND x.scope = k.rscope),
v AS (SELECT k.*, coalesce(t.f, 0) AS f, coalesce(t.a, 0) AS a, ${throttleBad('t')} AS tbad FROM k, t),
w AS (SELECT v.*, ${gate('v')} AS open,
    (SELECT bad FROM (SELECT ${credentialBad('c')} AS bad FROM ${C} AS c WHERE c.user_id = v.ru AND c.credential_id IN
      (SELECT value FROM json_each(v.ids) UNION SELECT value FROM json_each(CASE WHEN v.hash IS NOT NULL AND v.cs = 'live' THEN v.ch_ids ELSE '[]' END)))
      WHERE bad IS NOT NULL LIMIT 1) AS cbad,
    (SELECT 'credentials (duplicate rows)' FROM ${C} AS c WHERE c.user_id = v.ru AND c.credential_id IN
      (SELECT value FROM json_each(v.ids) UNION SELECT value FROM json_each(CASE WHEN v.hash IS NOT NULL AND v.cs = 'live' THEN v.ch_ids ELSE '[]' END))
      GROUP BY c.credential_id HAVING count(*) > 1 LIMIT 1) AS cdup,
    CASE WHEN v.with_set = 1 THEN ${setBad('v.ru')} END AS sbad
  FROM v)
INSERT INTO ${X} (id, status, corrupt, user_id, scope, a, b)
SELECT $op, CASE WHEN cs LIKE 'corrupt:%' THEN 'corrupt' WHEN cs <> 'live' THEN cs WHEN tbad IS NOT NULL THEN 'corrupt'
    WHEN NOT open THEN 'closed' WHEN coalesce(cdup, cbad, sbad) IS NOT NULL THEN 'corrupt' ELSE 'admitted' END,
  CASE WHEN cs LIKE 'corrupt:%' THEN substr(cs, 9) WHEN cs <> 'live' THEN NULL WHEN tbad IS NOT NULL THEN tbad WHEN NOT open THEN NULL
    ELSE coalesce(cdup, cbad, sbad) END,
  ru, rscope, f, a
FROM w`,

    settleHead: `WITH p AS (SELECT $user AS u, $scope AS scope, CAST($now AS INTEGER) AS now, $kind AS kind, $cred AS cred,
    CAST($step AS INTEGER) AS step, $expected AS expected, CAST($create AS INTEGER) AS create_it, $setId AS set_id, $code AS code, $hash AS hash),
ch AS (SELECT count(*) AS n, min(x.user_id) AS user_id, min(x.expires_at) AS expires_at, min(x.oob_code_hash) AS oob_code_hash,
    min(x.oob_expires_at) AS oob_expires_at FROM ${CH} AS x, p WHERE x.hash = p.hash),
cr AS (SELECT count(*) AS n, min(x.last_step) AS ls, min(x.hotp_counter) AS hc FROM ${C} AS x, p WHERE x.user_id = p.u AND x.credential_id = p.cred),
rs AS (SELECT count(*) AS n, min(x.set_id) AS set_id FROM ${RS} AS x, p WHERE x.user_id = p.u),
k AS (SELECT p.*, CASE
    WHEN p.hash IS NULL THEN 'live'
    WHEN ch.n = 0 THEN 'none'
    WHEN ch.n > 1 THEN 'corrupt:challenges (duplicate rows)'
    WHEN NOT ${isInt('ch.expires_at', 0, SAFE)} THEN 'corrupt:challenges.expires_at'
    WHEN ch.expires_at <= p.now THEN 'dead'
    WHEN ch.user_id IS NOT p.u THEN 'none'
    ELSE 'live' END AS cs,
  CASE p.kind
    WHEN 'oob' THEN CASE WHEN p.hash IS NULL OR ch.oob_code_hash IS NOT p.code THEN 'replayed'
      WHEN NOT ${isInt('ch.oob_expires_at', 0, SAFE)} THEN 'corrupt:challenges.oob_expires_at'
      WHEN ch.oob_expires_at <= p.now THEN 'replayed' ELSE 'ok' END
    WHEN 'recovery' THEN CASE WHEN rs.n > 1 THEN 'corrupt:recovery_sets (duplicate rows)' WHEN rs.set_id IS NOT p.set_id THEN 'replayed'
      WHEN NOT EXISTS (SELECT 1 FROM ${RC} AS x WHERE x.user_id = p.u AND x.set_id = p.set_id AND x.id = p.code) THEN 'replayed' ELSE 'ok' END
    WHEN 'totp' THEN CASE WHEN cr.n > 1 THEN 'corrupt:credentials (duplicate rows)' WHEN cr.n = 0 AND p.create_it = 0 THEN 'replayed'
      WHEN NOT ${isOptInt('cr.ls', 0, SAFE)} THEN 'corrupt:credentials.last_step'
      WHEN cr.ls IS NOT NULL AND cr.ls >= p.step THEN 'replayed' ELSE 'ok' END
    ELSE CASE WHEN cr.n > 1 THEN 'corrupt:credentials (duplicate rows)'
      WHEN cr.n = 0 THEN CASE WHEN p.create_it = 1 AND p.expected IS NULL THEN 'ok' ELSE 'replayed' END
      WHEN NOT (cr.hc IS NULL OR ${isCounter('cr.hc')}) THEN 'corrupt:credentials.hotp_counter'
      WHEN cr.hc IS NOT p.expected THEN 'replayed' ELSE 'ok' END
    END AS claim,
  (SELECT count(*) FROM ${RC} AS x WHERE x.user_id = p.u AND x.set_id = p.set_id) - 1 AS remaining
  FROM p, ch, cr, rs)
INSERT INTO ${X} (id, status, corrupt, a)
SELECT $op, CASE WHEN cs LIKE 'corrupt:%' THEN 'corrupt' WHEN cs = 'none' THEN 'no-challenge' WHEN cs = 'dead' THEN 'dead'
    WHEN claim LIKE 'corrupt:%' THEN 'corrupt' ELSE claim END,
  CASE WHEN cs LIKE 'corrupt:%' THEN substr(cs, 9) WHEN cs <> 'live' THEN NULL WHEN claim LIKE 'corrupt:%' THEN substr(claim, 9) END,
  remaining
FROM k`,
  };

  // -------------------------------------------------------------------------------------------

  const store: SqlStore = {
    distributedSafe,

    async attemptTotp(a: TotpAttempt): Promise<TotpAttemptOutcome> {
      const x = arecord(a, 'attempt') as Partial<Record<keyof TotpAttempt, unknown>>;
      const candidates = x.candidates;
      if (!Array.isArray(candidates) || candidates.length > 2 * MAX_DRIFT + 1)
        throw typeError('ERR_OPTION_TYPE', '"candidates" expected an array of at most 21 deltas');
      const v = {
        op: opId(),
        user: sid(x.userId, 'userId'),
        cred: sid(x.credentialId, 'credentialId'),
        scope: sid(x.scope, 'scope'),
        now: suint(x.now, 'now'),
        ...apolicy(x.policy),
        step: suint(x.step, 'step', SAFE - MAX_DRIFT),
        candidates: JSON.stringify(
          candidates.map((d: unknown) =>
            aint(d, 'candidates[]', -MAX_DRIFT, MAX_DRIFT, 'ERR_OPTION_WINDOW'),
          ),
        ),
        past: aint(x.past, 'past', 0, MAX_DRIFT, 'ERR_OPTION_WINDOW'),
        future: aint(x.future, 'future', 0, MAX_DRIFT, 'ERR_OPTION_WINDOW'),
        centre: abool(x.centreOnDrift, 'centreOnDrift') ? 1 : 0,
        maxDrift:
          x.maxDrift === null
            ? null
            : aint(x.maxDrift, 'maxDrift', 0, MAX_DRIFT, 'ERR_OPTION_WINDOW'),
      };
      const { out } = await decide('attemptTotp', [
        ...SQL.attemptTotp.map((s) => step(s, v)),
        step(finish, v, true),
      ]);
      switch (out.status) {
        case 'closed':
          return {
            status: 'closed',
            failures: read.uint(out.a, 'throttle.failures', I4),
            lastFailureAt: read.time(out.b, 'throttle.last_failure_at'),
          };
        case 'invalid':
        case 'replayed':
          return {
            status: out.status,
            failures: read.uint(out.a, 'throttle.failures', I4 - 1) + 1,
          };
        case 'ok':
          return {
            status: 'ok',
            delta: read.sint(out.b, 'attemptTotp result', -MAX_DRIFT, MAX_DRIFT),
          };
        default:
          throw read.bad('attemptTotp result');
      }
    },

    async beginAttempt(b: BeginAttempt): Promise<BeginOutcome> {
      const x = arecord(b, 'begin') as Partial<Record<keyof BeginAttempt, unknown>>;
      const hash = x.challengeHash === undefined ? null : sid(x.challengeHash, 'challengeHash');
      const user = sid(x.userId, 'userId');
      const scope = x.scope === undefined ? null : sid(x.scope, 'scope');
      if (hash === null && scope === null)
        throw typeError('ERR_OPTION_TYPE', 'beginAttempt needs a scope or a challenge');
      const ids = aids(x.credentialIds, 'credentialIds', MAX_IDS);
      const withSet = abool(x.recoverySet, 'recoverySet');
      const v = {
        op: opId(),
        user,
        hash,
        scope,
        now: suint(x.now, 'now'),
        ...apolicy(x.policy),
        ids: JSON.stringify(ids),
        withSet: withSet ? 1 : 0,
      };
      const admitted = `EXISTS (SELECT 1 FROM ${X} WHERE id = $op AND status = 'admitted')`;
      const steps: Step[] = [step(SQL.beginAttempt, v), step(countFailure(`'admitted'`), v)];
      if (hash !== null) {
        steps.push(
          step(`DELETE FROM ${CH} WHERE hash = $hash AND ${won('dead')}`, v),
          step(`UPDATE ${CH} SET attempts = attempts + 1 WHERE hash = $hash AND ${admitted}`, v),
          step(
            `SELECT ${CHALLENGE_COLUMNS} FROM ${CH} WHERE hash = $hash AND ${admitted}`,
            v,
            true,
          ),
        );
      }
      const challengeIds =
        hash === null
          ? `'[]'`
          : `coalesce((SELECT credential_ids FROM ${CH} WHERE hash = $hash), '[]')`;
      const credAt = steps.length;
      steps.push(
        step(
          `SELECT ${CREDENTIAL_COLUMNS} FROM ${C} AS c, ${X} AS s WHERE s.id = $op AND s.status = 'admitted' AND c.user_id = s.user_id
  AND c.credential_id IN (SELECT value FROM json_each($ids) UNION SELECT value FROM json_each(${challengeIds}))`,
          v,
          true,
        ),
      );
      const setAt = steps.length;
      if (withSet)
        steps.push(
          step(
            `${SET_ROWS(`(SELECT user_id FROM ${X} WHERE id = $op AND status = 'admitted')`)}`,
            v,
            true,
          ),
        );
      steps.push(step(finish, v, true));
      const { out, rows } = await decide('beginAttempt', steps);
      const status = out.status;
      if (status === 'no-challenge' || status === 'none' || status === 'dead') {
        if (hash === null) throw read.bad('beginAttempt result');
        return { status: 'no-challenge' };
      }
      const owner = read.id(out.user_id, 'challenges.user_id');
      if (status === 'exhausted') {
        if (hash === null) throw read.bad('beginAttempt result');
        return { status: 'exhausted', userId: owner };
      }
      if (status === 'closed')
        return {
          status: 'closed',
          userId: owner,
          failures: read.uint(out.a, 'throttle.failures', I4),
          lastFailureAt: read.time(out.b, 'throttle.last_failure_at'),
        };
      if (status !== 'admitted') throw read.bad('beginAttempt result');
      let challenge: ChallengeRecord | null = null;
      if (hash !== null) {
        const chRows = rows[4] ?? [];
        if (chRows.length !== 1)
          throw read.bad(chRows.length > 1 ? 'challenges (duplicate rows)' : 'beginAttempt result');
        challenge = read.challenge(chRows[0] as Row);
      }
      const credentials = read.credentials(rows[credAt] ?? [], [
        ...ids,
        ...(challenge?.credentialIds ?? []),
      ]);
      return {
        status: 'admitted',
        userId: owner,
        failures: read.uint(out.a, 'throttle.failures', I4 - 1) + 1,
        challenge,
        credentials,
        recoverySet: withSet ? read.recoverySet(rows[setAt] ?? []) : null,
      };
    },

    async settleAttempt(s: SettleAttempt): Promise<SettleOutcome> {
      const x = arecord(s, 'settle') as Partial<Record<keyof SettleAttempt, unknown>>;
      const claim = arecord(x.claim, 'claim');
      const k = aoneOf<'totp' | 'hotp' | 'recovery' | 'oob'>(claim.kind, 'claim.kind', CLAIM_KINDS);
      const credential = k === 'totp' || k === 'hotp';
      const stepUp = x.stepUp === undefined ? undefined : arecord(x.stepUp, 'stepUp');
      const v = {
        op: opId(),
        user: sid(x.userId, 'userId'),
        scope: sid(x.scope, 'scope'),
        now: suint(x.now, 'now'),
        kind: k,
        cred: credential ? sid(claim.credentialId, 'claim.credentialId') : null,
        step: k === 'totp' ? suint(claim.step, 'claim.step') : null,
        drift: k === 'totp' ? sdrift(claim.drift) : null,
        expected:
          k === 'hotp' && claim.expected !== null
            ? scounter(claim.expected, 'claim.expected').toString()
            : null,
        next: k === 'hotp' ? scounter(claim.next, 'claim.next').toString() : null,
        create: credential ? (abool(claim.create, 'claim.create') ? 1 : 0) : 0,
        setId: k === 'recovery' ? asetId(claim.setId, 'claim.setId') : null,
        code:
          k === 'recovery'
            ? sid(claim.codeId, 'claim.codeId')
            : k === 'oob'
              ? ahash(claim.codeHash, 'claim.codeHash')
              : null,
        hash: x.challengeHash === undefined ? null : sid(x.challengeHash, 'challengeHash'),
        stepUpHash: stepUp === undefined ? null : sid(stepUp.hash, 'stepUp.hash'),
        stepUpExpires: stepUp === undefined ? null : suint(stepUp.expiresAt, 'stepUp.expiresAt'),
      };
      const steps: Step[] = [step(SQL.settleHead, v)];
      if (v.hash !== null)
        steps.push(step(`DELETE FROM ${CH} WHERE hash = $hash AND ${won('dead')}`, v));
      if (k === 'recovery')
        steps.push(
          step(
            `DELETE FROM ${RC} WHERE user_id = $user AND set_id = $setId AND id = $code AND ${won('ok')}`,
            v,
          ),
        );
      else if (k === 'totp')
        steps.push(
          step(
            `INSERT INTO ${C} (user_id, credential_id, last_step, hotp_counter, drift, last_used_at)
SELECT $user, $cred, CAST($step AS INTEGER), NULL, CAST($drift AS INTEGER), CAST($now AS INTEGER) WHERE ${won('ok')}
ON CONFLICT (user_id, credential_id) DO UPDATE SET last_step = excluded.last_step, drift = excluded.drift, last_used_at = excluded.last_used_at`,
            v,
          ),
        );
      else if (k === 'hotp')
        steps.push(
          step(
            `INSERT INTO ${C} (user_id, credential_id, last_step, hotp_counter, drift, last_used_at)
SELECT $user, $cred, NULL, $next, 0, CAST($now AS INTEGER) WHERE ${won('ok')}
ON CONFLICT (user_id, credential_id) DO UPDATE SET hotp_counter = excluded.hotp_counter, last_used_at = excluded.last_used_at`,
            v,
          ),
        );
      steps.push(
        step(`DELETE FROM ${T} WHERE user_id = $user AND scope = $scope AND ${won('ok')}`, v),
      );
      if (v.hash !== null)
        steps.push(step(`DELETE FROM ${CH} WHERE hash = $hash AND ${won('ok')}`, v));
      if (stepUp !== undefined)
        steps.push(
          step(
            `INSERT INTO ${SU} (user_id, hash, expires_at) SELECT $user, $stepUpHash, CAST($stepUpExpires AS INTEGER) WHERE ${won('ok')}
ON CONFLICT (user_id, hash) DO UPDATE SET expires_at = excluded.expires_at`,
            v,
          ),
        );
      // The device goes with the success: its own op, run only if this one won.
      const d = asettleDevice(x.device, v.user);
      if (d !== null)
        steps.push(
          ...deviceSteps(
            { ...d, op: opId(), sop: v.op } as DeviceRow & { op: string },
            `EXISTS (SELECT 1 FROM ${X} WHERE id = $sop AND status = 'ok')`,
          ),
        );
      steps.push(step(finish, v, true));
      const { out, rows } = await decide('settleAttempt', steps);
      if (out.status === 'no-challenge' || out.status === 'dead') return { status: 'no-challenge' };
      if (out.status === 'replayed') return { status: 'replayed' };
      if (out.status !== 'ok') throw read.bad('settleAttempt result');
      // The device's own outcome: corrupt rows of the user's devices are reported, not skipped.
      if (d !== null) read.outcome(rows[rows.length - 2], 'settleAttempt');
      if (k !== 'recovery') return { status: 'ok', remaining: null };
      return { status: 'ok', remaining: read.uint(out.a, 'recovery_codes (count)', 100) };
    },

    async getThrottle(userId: string, scope: string): Promise<ThrottleRecord> {
      const v = { user: sid(userId, 'userId'), scope: sid(scope, 'scope') };
      const [rows = []] = await run(
        'getThrottle',
        [
          step(
            `SELECT ${num('failures')} AS failures, ${num('last_failure_at')} AS last_failure_at FROM ${T} WHERE user_id = $user AND scope = $scope`,
            v,
            true,
          ),
        ],
        false,
      );
      if (rows.length > 1) throw read.bad('throttle (duplicate rows)');
      const r = rows[0];
      if (r === undefined) return { failures: 0, lastFailureAt: 0 };
      return {
        failures: read.uint(r.failures, 'throttle.failures', I4),
        lastFailureAt: read.time(r.last_failure_at, 'throttle.last_failure_at'),
      };
    },

    async resetThrottle(userId: string, scope: string | null): Promise<void> {
      const v = { user: sid(userId, 'userId'), scope: scope === null ? null : sid(scope, 'scope') };
      await run(
        'resetThrottle',
        [step(`DELETE FROM ${T} WHERE user_id = $user AND ($scope IS NULL OR scope = $scope)`, v)],
        true,
      );
    },

    async getCredentials(
      userId: string,
      credentialIds: readonly string[],
    ): Promise<Readonly<Record<string, CredentialRecord | null>>> {
      const ids = aids(credentialIds, 'credentialIds', MAX_IDS);
      const v = { user: sid(userId, 'userId'), ids: JSON.stringify(ids) };
      if (ids.length === 0) return {};
      const [rows = []] = await run(
        'getCredentials',
        [
          step(
            `SELECT ${CREDENTIAL_COLUMNS} FROM ${C} AS c WHERE c.user_id = $user AND c.credential_id IN (SELECT value FROM json_each($ids))`,
            v,
            true,
          ),
        ],
        false,
      );
      return read.credentials(rows, ids);
    },

    async initCredential(
      userId: string,
      credentialId: string,
      lastStep: number | null,
      hotpCounter: bigint | null,
    ): Promise<boolean> {
      const v = {
        user: sid(userId, 'userId'),
        cred: sid(credentialId, 'credentialId'),
        step: lastStep === null ? null : suint(lastStep, 'lastStep'),
        counter: hotpCounter === null ? null : scounter(hotpCounter, 'hotpCounter').toString(), // decimal text: never a JavaScript number
      };
      const [rows = []] = await run(
        'initCredential',
        [
          step(
            `INSERT INTO ${C} (user_id, credential_id, last_step, hotp_counter, drift, last_used_at)
VALUES ($user, $cred, CAST($step AS INTEGER), $counter, 0, NULL) ON CONFLICT DO NOTHING RETURNING '1' AS won`,
            v,
            true,
          ),
        ],
        true,
      );
      if (rows.length > 1) throw read.bad('credentials (duplicate rows)');
      return rows.length === 1;
    },

    async deleteCredentials(userId: string, credentialIds: readonly string[]): Promise<void> {
      const ids = aids(credentialIds, 'credentialIds', MAX_IDS);
      const v = { user: sid(userId, 'userId'), ids: JSON.stringify(ids) };
      if (ids.length > 0)
        await run(
          'deleteCredentials',
          [
            step(
              `DELETE FROM ${C} WHERE user_id = $user AND credential_id IN (SELECT value FROM json_each($ids))`,
              v,
            ),
          ],
          true,
        );
    },

    async getRecoveryCodeSet(userId: string): Promise<RecoveryCodeSet | null> {
      const v = { user: sid(userId, 'userId') };
      const [rows = []] = await run(
        'getRecoveryCodeSet',
        [step(SET_ROWS('$user'), v, true)],
        false,
      );
      return read.recoverySet(rows);
    },

    async replaceRecoveryCodes(
      userId: string,
      set: RecoveryCodeSet | null,
      expectedSetId: string | null,
    ): Promise<boolean> {
      const user = sid(userId, 'userId');
      const expected = expectedSetId === null ? null : asetId(expectedSetId, 'expectedSetId');
      let codes: string | null = null;
      let head: { setId: string; issuedAt: number; total: number } | null = null;
      if (set !== null) {
        const x = arecord(set, 'set') as Partial<Record<keyof RecoveryCodeSet, unknown>>;
        if (!Array.isArray(x.codes))
          throw typeError('ERR_OPTION_TYPE', `"set.codes" expected an array, got ${kind(x.codes)}`);
        const pairs: Array<[string, string]> = [];
        const seen = new Set<string>();
        for (const code of x.codes as readonly unknown[]) {
          const c = arecord(code, 'set.codes[]');
          const id = sid(c.id, 'set.codes[].id');
          // Messages name the field, never the hash.
          const hash = sstorable(c.hash, 'set.codes[].hash', MAX_HASH);
          if (hash === '') throw rangeError('ERR_OPTION_INVALID', '"set.codes[].hash" is empty');
          if (seen.has(id))
            throw rangeError('ERR_OPTION_INVALID', '"set.codes" contains a duplicate id');
          seen.add(id);
          pairs.push([id, hash]);
        }
        head = {
          setId: asetId(x.setId, 'set.setId'),
          issuedAt: suint(x.issuedAt, 'set.issuedAt'),
          total: aint(x.total, 'set.total', pairs.length, 100, 'ERR_OPTION_INVALID'),
        };
        codes = JSON.stringify(pairs);
      }
      const v = {
        op: opId(),
        user,
        expected,
        setId: head?.setId ?? null,
        issued: head?.issuedAt ?? null,
        total: head?.total ?? null,
        codes,
      };
      const steps: Step[] = [
        step(
          `INSERT INTO ${X} (id, status, corrupt)
SELECT $op, CASE WHEN n > 1 THEN 'corrupt' WHEN set_id IS $expected THEN 'ok' ELSE 'lost' END, CASE WHEN n > 1 THEN 'recovery_sets (duplicate rows)' END
FROM (SELECT count(*) AS n, min(set_id) AS set_id FROM ${RS} WHERE user_id = $user)`,
          v,
        ),
        step(`DELETE FROM ${RC} WHERE user_id = $user AND ${won('ok')}`, v),
        step(`DELETE FROM ${RS} WHERE user_id = $user AND ${won('ok')}`, v),
      ];
      if (head !== null)
        steps.push(
          step(
            `INSERT INTO ${RS} (user_id, set_id, issued_at, total) SELECT $user, $setId, CAST($issued AS INTEGER), CAST($total AS INTEGER) WHERE ${won('ok')}`,
            v,
          ),
          step(
            `INSERT INTO ${RC} (user_id, set_id, id, hash, seq)
SELECT $user, $setId, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), j.key + 1 FROM json_each($codes) AS j WHERE ${won('ok')}`,
            v,
          ),
        );
      steps.push(step(finish, v, true));
      const { out } = await decide('replaceRecoveryCodes', steps);
      if (out.status === 'ok') return true;
      if (out.status === 'lost') return false;
      throw read.bad('replaceRecoveryCodes result');
    },

    async createChallenge(
      record: ChallengeRecord,
      maxLive: number,
      device?: ChallengeDevice | null,
    ): Promise<ChallengeCreated> {
      const x = arecord(record, 'record') as Partial<Record<keyof ChallengeRecord, unknown>>;
      const [token, next, deviceExpires] = adeviceUse(device);
      const maxAttempts = aint(x.maxAttempts, 'record.maxAttempts', 1, 100, 'ERR_OPTION_INVALID');
      const oob = aoob(x.oob, 'record.oob');
      const v = {
        op: opId(),
        hash: sid(x.hash, 'record.hash'),
        user: sid(x.userId, 'record.userId'),
        scope: sid(x.scope, 'record.scope'),
        recoveryScope: sid(x.recoveryScope, 'record.recoveryScope'),
        created: suint(x.createdAt, 'record.createdAt'),
        expires: suint(x.expiresAt, 'record.expiresAt'),
        attempts: suint(x.attempts, 'record.attempts', maxAttempts),
        maxAttempts,
        ids: JSON.stringify(aids(x.credentialIds, 'record.credentialIds', MAX_CHALLENGE_IDS)),
        payload: sstorable(x.payload, 'record.payload', MAX_PAYLOAD),
        oobFactor: oob.factor,
        oobCode: oob.code,
        oobExpires: oob.expires,
        maxLive: suint(maxLive, 'maxLive', I4),
        // The known-device token's own decision row, and the buckets the challenge then gets.
        dop: opId(),
      };
      // The device's decision first, then the challenge's (corrupt if the device's was), and
      // only then the rotation: nothing is written unless both are sound.
      const d =
        token === null
          ? null
          : { ...v, op: v.dop, kind: 'known', token, next, now: v.created, expires: deviceExpires };
      const rotated = `EXISTS (SELECT 1 FROM ${X} WHERE id = $dop AND status = 'rotated')`;
      const suffix = `':device:' || (SELECT ref FROM ${X} WHERE id = $dop)`;
      const steps: Step[] = [
        ...(d === null ? [] : [step(SQL.findDevice, d)]),
        step(
          `INSERT INTO ${X} (id, status, corrupt) SELECT $op, CASE WHEN bad IS NULL THEN 'ok' ELSE 'corrupt' END, bad
FROM (SELECT coalesce((SELECT corrupt FROM ${X} WHERE id = $dop AND status = 'corrupt'), (SELECT bad FROM (SELECT ${firstBad(
            [
              [isInt('expires_at', 0, SAFE), 'challenges.expires_at'],
              [isInt('created_at', 0, SAFE), 'challenges.created_at'],
            ],
          )} AS bad
  FROM ${CH} WHERE user_id = $user) WHERE bad IS NOT NULL LIMIT 1)) AS bad)`,
          v,
        ),
        // A corrupt challenge decision drops the device's row, so that nothing rotates.
        ...(d === null
          ? []
          : [
              step(`DELETE FROM ${X} WHERE id = $dop AND NOT ${won('ok')}`, v),
              step(SQL.rotateDevice, d, true),
            ]),
        // The dead, then the oldest live ones beyond maxLive − 1 (oldest: created first, inserted first on a tie).
        step(
          `DELETE FROM ${CH} WHERE user_id = $user AND expires_at <= CAST($created AS INTEGER) AND ${won('ok')}`,
          v,
        ),
        step(
          `DELETE FROM ${CH} WHERE seq IN (SELECT seq FROM (SELECT seq, row_number() OVER (ORDER BY created_at DESC, seq DESC) AS r
  FROM ${CH} WHERE user_id = $user) WHERE r >= CAST($maxLive AS INTEGER)) AND ${won('ok')}`,
          v,
        ),
        // Hashes are unique; a reused one must not stay with its old owner.
        step(`DELETE FROM ${CH} WHERE hash = $hash AND ${won('ok')}`, v),
        step(
          `INSERT INTO ${CH} (hash, user_id, scope, recovery_scope, created_at, expires_at, attempts, max_attempts, credential_ids, payload,
  oob_factor_id, oob_code_hash, oob_expires_at)
SELECT $hash, $user, CASE WHEN ${rotated} THEN $scope || ${suffix} ELSE $scope END,
  CASE WHEN ${rotated} THEN $recoveryScope || ${suffix} ELSE $recoveryScope END, CAST($created AS INTEGER), CAST($expires AS INTEGER),
  CAST($attempts AS INTEGER), CAST($maxAttempts AS INTEGER), $ids, $payload, $oobFactor, $oobCode, CAST($oobExpires AS INTEGER)
WHERE ${won('ok')}`,
          v,
        ),
        step(`SELECT CAST(count(*) AS TEXT) AS n FROM ${RC} WHERE user_id = $user`, v, true),
        ...(d === null ? [] : [step(finish, d, true)]),
        step(finish, v, true),
      ];
      const { rows } = await decide('createChallenge', steps);
      const at = rows.length - (d === null ? 2 : 3);
      const recoveryCodes = read.uint(rows[at]?.[0]?.n, 'recovery_codes (count)', 100);
      if (d === null) return { recoveryCodes, device: null };
      const out = read.outcome(rows[at + 1], 'createChallenge');
      return { recoveryCodes, device: rotation(out, rows[3], 'createChallenge result') };
    },

    async deleteChallenges(userId: string): Promise<void> {
      await run(
        'deleteChallenges',
        [step(`DELETE FROM ${CH} WHERE user_id = $user`, { user: sid(userId, 'userId') })],
        true,
      );
    },

    async purgeExpired(options?: PurgeExpiredOptions): Promise<PurgeExpiredResult> {
      const { expiredBy, quotasBy, batch } = apurge(options);
      const v = { by: expiredBy, quotasBy, batch };
      /** Deletes at most $batch rows of `table` (by its key `key`) matching `where`. */
      const purge = (table: string, key: string, where: string): Step =>
        step(
          `DELETE FROM ${table} WHERE (${key}) IN (SELECT ${key} FROM ${table} WHERE ${where} LIMIT CAST($batch AS INTEGER)) RETURNING 1 AS n`,
          v,
          true,
        );
      const expired = 'expires_at <= CAST($by AS INTEGER)';
      const [ch, su, dv, pf, th, sq] = await run(
        'purgeExpired',
        [
          purge(CH, 'seq', expired),
          purge(SU, 'user_id, hash', expired),
          purge(D, 'seq', expired),
          purge(F, 'seq', `status = 'pending' AND ${expired}`),
          purge(T, 'user_id, scope', 'failures = 0 AND last_failure_at = 0'),
          purge(Q, 'kind, subject', 'last_at <= CAST($quotasBy AS INTEGER)'),
        ],
        true,
      );
      const count = (rows: Row[] | undefined): number => rows?.length ?? 0;
      return purged(
        {
          challenges: count(ch),
          stepUps: count(su),
          devices: count(dv),
          pendingFactors: count(pf),
          throttles: count(th),
          sendQuotas: count(sq),
        },
        batch,
      );
    },

    async consumeStepUp(userId: string, hash: string, now: number): Promise<boolean> {
      const v = { user: sid(userId, 'userId'), hash: sid(hash, 'hash') };
      const at = suint(now, 'now');
      // Read, then consume only a well-formed row, in one transaction: a malformed one stays, and throws.
      const [seen = [], gone = []] = await run(
        'consumeStepUp',
        [
          step(
            `SELECT ${num('expires_at')} AS expires_at FROM ${SU} WHERE user_id = $user AND hash = $hash`,
            v,
            true,
          ),
          step(
            `DELETE FROM ${SU} WHERE user_id = $user AND hash = $hash AND ${isInt('expires_at', 0, SAFE)} RETURNING ${num('expires_at')} AS expires_at`,
            v,
            true,
          ),
        ],
        true,
      );
      if (seen.length > 1) throw read.bad('step_ups (duplicate rows)');
      for (const r of seen) read.time(r.expires_at, 'step_ups.expires_at');
      if (gone.length !== seen.length) throw read.bad('consumeStepUp result');
      const r = gone[0];
      // Consumed either way: an expired token is gone too, and says no.
      return r !== undefined && read.time(r.expires_at, 'step_ups.expires_at') > at;
    },

    async setChallengeCode(
      userId: string,
      challengeHash: string,
      code: OobCode | null,
      now: number,
      expected?: string,
    ): Promise<boolean> {
      const oob = aoob(code, 'code');
      const v = {
        op: opId(),
        user: sid(userId, 'userId'),
        hash: sid(challengeHash, 'challengeHash'),
        factor: oob.factor,
        code: oob.code,
        expires: oob.expires,
        now: suint(now, 'now'),
        check: expected === undefined ? 0 : 1,
        expected: expected === undefined ? null : ahash(expected, 'expected'),
      };
      const { out } = await decide('setChallengeCode', [
        step(
          `INSERT INTO ${X} (id, status, corrupt)
SELECT $op, CASE WHEN n = 0 THEN 'none' WHEN n > 1 THEN 'corrupt' WHEN NOT ${isInt('e', 0, SAFE)} THEN 'corrupt' WHEN e <= CAST($now AS INTEGER) THEN 'dead'
    WHEN u IS NOT $user OR (CAST($check AS INTEGER) = 1 AND h IS NOT $expected) THEN 'none' ELSE 'ok' END,
  CASE WHEN n > 1 THEN 'challenges (duplicate rows)' WHEN n = 1 AND NOT ${isInt('e', 0, SAFE)} THEN 'challenges.expires_at' END
FROM (SELECT count(*) AS n, min(user_id) AS u, min(expires_at) AS e, min(oob_code_hash) AS h FROM ${CH} WHERE hash = $hash)`,
          v,
        ),
        step(`DELETE FROM ${CH} WHERE hash = $hash AND ${won('dead')}`, v),
        step(
          `UPDATE ${CH} SET oob_factor_id = $factor, oob_code_hash = $code, oob_expires_at = CAST($expires AS INTEGER) WHERE hash = $hash AND ${won('ok')}`,
          v,
        ),
        step(finish, v, true),
      ]);
      if (out.status === 'ok') return true;
      if (out.status === 'none' || out.status === 'dead') return false;
      throw read.bad('setChallengeCode result');
    },

    async createDevice(record: DeviceRecord, maxPerUser: number): Promise<void> {
      await decide(
        'createDevice',
        deviceSteps({ ...adeviceRow(record, maxPerUser), op: opId() }, '1'),
      );
    },

    async rotateDevice(
      userId: string,
      kind: 'trusted' | 'known',
      tokenHash: string,
      newHash: string,
      now: number,
      expiresAt: number | null,
    ): Promise<DeviceRotation> {
      const v = {
        op: opId(),
        user: sid(userId, 'userId'),
        kind: aoneOf(kind, 'kind', DEVICE_KINDS),
        token: ahash(tokenHash, 'tokenHash'),
        next: ahash(newHash, 'newHash'),
        now: suint(now, 'now'),
        expires: optTime(expiresAt, 'expiresAt'),
      };
      // The first device of the kind, in creation order, whose live current token or whose previous token it is.
      const { out, rows } = await decide('rotateDevice', [
        step(SQL.findDevice, v),
        step(SQL.rotateDevice, v, true),
        step(finish, v, true),
      ]);
      return rotation(out, rows[1], 'rotateDevice result');
    },

    async listDevices(
      userId: string,
      kind: 'trusted' | 'known',
      now: number,
    ): Promise<readonly DeviceRecord[]> {
      const v = { user: sid(userId, 'userId'), kind: aoneOf(kind, 'kind', DEVICE_KINDS) };
      const at = suint(now, 'now');
      const [rows = []] = await run(
        'listDevices',
        [
          step(
            `SELECT ${DEVICE_COLUMNS} FROM ${D} WHERE user_id = $user AND kind = $kind ORDER BY seq`,
            v,
            true,
          ),
        ],
        false,
      );
      // Oldest first; a stable sort keeps creation order among devices created at the same instant.
      return rows
        .map((r) => read.device(r))
        .filter((d) => d.expiresAt > at)
        .sort((x, y) => x.createdAt - y.createdAt);
    },

    async revokeDevices(
      userId: string,
      kind: 'trusted' | 'known',
      deviceId: string | null,
    ): Promise<number> {
      const v = {
        user: sid(userId, 'userId'),
        kind: aoneOf(kind, 'kind', DEVICE_KINDS),
        id: deviceId === null ? null : sid(deviceId, 'deviceId'),
      };
      const [rows = []] = await run(
        'revokeDevices',
        [
          step(
            `DELETE FROM ${D} WHERE user_id = $user AND kind = $kind AND ($id IS NULL OR id = $id) RETURNING '1' AS gone`,
            v,
            true,
          ),
        ],
        true,
      );
      return rows.length;
    },

    async reserveSend(
      bucket: SendBucket,
      rule: SendRule,
      now: number,
    ): Promise<{ readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number }> {
      const b = abucket(bucket);
      const r = arule(rule);
      const v = {
        op: opId(),
        kind: b.kind,
        subject: b.subject,
        limit: r.limit,
        windowMs: r.windowMs,
        cooldown: r.cooldown,
        now: suint(now, 'now'),
      };
      const { out } = await decide('reserveSend', [
        step(
          `WITH p AS (SELECT CAST($now AS INTEGER) AS now, CAST($windowMs AS INTEGER) AS window_ms, CAST($limit AS INTEGER) AS lim,
    CAST($cooldown AS INTEGER) AS cooldown),
q AS (SELECT count(*) AS n, min(window_no) AS w, min(sends) AS c, min(last_at) AS a FROM ${Q} WHERE kind = $kind AND subject = $subject),
k AS (SELECT p.*, q.n, p.now / p.window_ms AS wno,
    CASE WHEN q.n > 1 THEN 'send_quotas (duplicate rows)' WHEN q.n = 1 THEN ${firstBad([
      [isInt('q.w', 0, SAFE), 'send_quotas.window_no'],
      [isInt('q.c', 0, I4), 'send_quotas.sends'],
      [isInt('q.a', 0, SAFE), 'send_quotas.last_at'],
    ])} END AS bad,
    CASE WHEN q.n = 1 AND q.w = p.now / p.window_ms THEN q.c ELSE 0 END AS used,
    CASE WHEN q.n = 1 THEN q.a + p.cooldown - p.now ELSE 0 END AS cool FROM p, q)
INSERT INTO ${X} (id, status, corrupt, a, b)
SELECT $op, CASE WHEN bad IS NOT NULL THEN 'corrupt' WHEN cool > 0 OR used >= lim THEN 'refused' ELSE 'ok' END, bad,
  max(cool, CASE WHEN used >= lim THEN (wno + 1) * window_ms - now ELSE 0 END), used + 1
FROM k`,
          v,
        ),
        step(
          `INSERT INTO ${Q} (kind, subject, window_no, sends, last_at)
SELECT $kind, $subject, CAST($now AS INTEGER) / CAST($windowMs AS INTEGER), s.b, CAST($now AS INTEGER) FROM ${X} AS s WHERE s.id = $op AND s.status = 'ok'
ON CONFLICT (kind, subject) DO UPDATE SET window_no = excluded.window_no, sends = excluded.sends, last_at = excluded.last_at`,
          v,
        ),
        step(finish, v, true),
      ]);
      if (out.status === 'ok') return { ok: true };
      if (out.status !== 'refused') throw read.bad('reserveSend result');
      return { ok: false, retryAfterMs: read.uint(out.a, 'send_quotas (retry)') };
    },

    async releaseSend(bucket: SendBucket, rule: SendRule, now: number): Promise<void> {
      const b = abucket(bucket);
      const r = arule(rule);
      const v = { kind: b.kind, subject: b.subject, now: suint(now, 'now'), windowMs: r.windowMs };
      // Read, then take one back only from a well-formed row, in one transaction.
      const [seen = []] = await run(
        'releaseSend',
        [
          step(
            `SELECT ${num('window_no')} AS window_no, ${num('sends')} AS sends FROM ${Q} WHERE kind = $kind AND subject = $subject`,
            v,
            true,
          ),
          step(
            `UPDATE ${Q} SET sends = sends - 1 WHERE kind = $kind AND subject = $subject AND ${isInt('window_no', 0, SAFE)} AND ${isInt('sends', 1, I4)}
  AND window_no = CAST($now AS INTEGER) / CAST($windowMs AS INTEGER)`,
            v,
          ),
        ],
        true,
      );
      if (seen.length > 1) throw read.bad('send_quotas (duplicate rows)');
      for (const row of seen) {
        read.uint(row.window_no, 'send_quotas.window_no');
        read.uint(row.sends, 'send_quotas.sends', I4);
      }
    },

    async eraseUser(userId: string): Promise<void> {
      const v = { user: sid(userId, 'userId') };
      await run(
        'eraseUser',
        [
          ...[CH, T, C, RS, RC, SU, D].map((t) =>
            step(`DELETE FROM ${t} WHERE user_id = $user`, v),
          ),
          step(`DELETE FROM ${Q} WHERE kind = 'user' AND subject = $user`, v),
        ],
        true,
      );
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
      const v = {
        op: opId(),
        user: sid(f.userId, 'record.userId'),
        id: sid(f.id, 'record.id'),
        type,
        label,
        status,
        sealed: sstorable(f.sealedSecret, 'record.sealedSecret', MAX_SEALED),
        hint,
        algorithm: aoneOf(f.algorithm, 'record.algorithm', ALGORITHMS),
        digits: aint(f.digits, 'record.digits', 6, 8, 'ERR_OPTION_DIGITS'),
        period: aint(f.period, 'record.period', 1, 120, 'ERR_OPTION_PERIOD'),
        created: suint(f.createdAt, 'record.createdAt'),
        confirmed: confirmedAt,
        expires: expiresAt,
        maxPending: suint(l.maxPending, 'limits.maxPending', I4),
        maxConfirmed: suint(l.maxConfirmed, 'limits.maxConfirmed', I4),
        now: suint(now, 'now'),
      };
      const dead = `status = 'pending' AND expires_at <= CAST($now AS INTEGER)`;
      const { out } = await decide('addFactor', [
        step(
          `WITH k AS (SELECT
    (SELECT bad FROM (SELECT CASE WHEN status IS NULL OR status NOT IN ('pending', 'confirmed') THEN 'factors.status'
        WHEN status = 'pending' AND NOT ${isInt('expires_at', 0, SAFE)} THEN 'factors.expires_at' END AS bad
      FROM ${F} WHERE user_id = $user) WHERE bad IS NOT NULL LIMIT 1) AS bad,
    (SELECT count(*) FROM ${F} WHERE user_id = $user AND status = 'pending' AND expires_at > CAST($now AS INTEGER)) AS pending,
    (SELECT count(*) FROM ${F} WHERE user_id = $user AND status = 'confirmed') AS confirmed,
    EXISTS (SELECT 1 FROM ${F} WHERE user_id = $user AND id = $id AND NOT (${dead})) AS dup)
INSERT INTO ${X} (id, status, corrupt)
SELECT $op, CASE WHEN bad IS NOT NULL THEN 'corrupt' WHEN dup THEN 'duplicate'
    WHEN ($status = 'pending' AND pending >= CAST($maxPending AS INTEGER)) OR ($status = 'confirmed' AND confirmed >= CAST($maxConfirmed AS INTEGER)) THEN 'limit'
    ELSE 'added' END, bad
FROM k`,
          v,
        ),
        // The dead pending factors go whatever the outcome (as in the memory store).
        step(
          `DELETE FROM ${F} WHERE user_id = $user AND ${dead} AND EXISTS (SELECT 1 FROM ${X} WHERE id = $op AND status <> 'corrupt')`,
          v,
        ),
        step(
          `INSERT INTO ${F} (user_id, id, type, label, status, sealed_secret, hint, algorithm, digits, period, created_at, confirmed_at, expires_at)
SELECT $user, $id, $type, $label, $status, $sealed, $hint, $algorithm, CAST($digits AS INTEGER), CAST($period AS INTEGER), CAST($created AS INTEGER),
  CAST($confirmed AS INTEGER), CAST($expires AS INTEGER) WHERE ${won('added')}`,
          v,
        ),
        step(finish, v, true),
      ]);
      if (out.status === 'added' || out.status === 'limit') return out.status;
      if (out.status === 'duplicate')
        throw new OtpkitError(
          'ERR_STORE',
          `${adapter} store: addFactor failed: the user already has a factor with this id`,
        );
      throw read.bad('addFactor result');
    },

    async listFactors(userId: string): Promise<readonly FactorRecord[]> {
      const [rows = []] = await run(
        'listFactors',
        [
          step(
            `SELECT ${FACTOR_COLUMNS} FROM ${F} WHERE user_id = $user ORDER BY seq`,
            { user: sid(userId, 'userId') },
            true,
          ),
        ],
        false,
      );
      return rows.map((r) => read.factor(r));
    },

    async confirmFactor(
      userId: string,
      factorId: string,
      now: number,
      maxConfirmed: number,
    ): Promise<'confirmed' | 'not-found' | 'expired' | 'limit'> {
      const v = {
        op: opId(),
        user: sid(userId, 'userId'),
        id: sid(factorId, 'factorId'),
        now: suint(now, 'now'),
        max: suint(maxConfirmed, 'maxConfirmed', I4),
      };
      const { out } = await decide('confirmFactor', [
        step(
          `INSERT INTO ${X} (id, status, corrupt)
SELECT $op, CASE WHEN n = 0 THEN 'not-found' WHEN n > 1 THEN 'corrupt' WHEN s IS NULL OR s NOT IN ('pending', 'confirmed') THEN 'corrupt'
    WHEN s <> 'pending' THEN 'not-found' WHEN NOT ${isInt('e', 0, SAFE)} THEN 'corrupt' WHEN e <= CAST($now AS INTEGER) THEN 'expired'
    WHEN (SELECT count(*) FROM ${F} WHERE user_id = $user AND status = 'confirmed') >= CAST($max AS INTEGER) THEN 'limit' ELSE 'confirmed' END,
  CASE WHEN n > 1 THEN 'factors (duplicate rows)' WHEN n = 1 AND (s IS NULL OR s NOT IN ('pending', 'confirmed')) THEN 'factors.status'
    WHEN n = 1 AND s = 'pending' AND NOT ${isInt('e', 0, SAFE)} THEN 'factors.expires_at' END
FROM (SELECT count(*) AS n, min(status) AS s, min(expires_at) AS e FROM ${F} WHERE user_id = $user AND id = $id)`,
          v,
        ),
        step(
          `UPDATE ${F} SET status = 'confirmed', confirmed_at = CAST($now AS INTEGER), expires_at = NULL WHERE user_id = $user AND id = $id AND ${won('confirmed')}`,
          v,
        ),
        step(finish, v, true),
      ]);
      const s = out.status;
      if (s === 'confirmed' || s === 'not-found' || s === 'expired' || s === 'limit') return s;
      throw read.bad('confirmFactor result');
    },

    async renameFactor(userId: string, factorId: string, label: string): Promise<boolean> {
      const l = sid(label, 'label');
      if (l.length > MAX_LABEL)
        throw rangeError(
          'ERR_OPTION_INVALID',
          `"label" expected 1..${MAX_LABEL} characters, got ${l.length}`,
        );
      const v = { user: sid(userId, 'userId'), id: sid(factorId, 'factorId'), label: l };
      const [rows = []] = await run(
        'renameFactor',
        [
          step(
            `UPDATE ${F} SET label = $label WHERE user_id = $user AND id = $id RETURNING '1' AS won`,
            v,
            true,
          ),
        ],
        true,
      );
      if (rows.length > 1) throw read.bad('factors (duplicate rows)');
      return rows.length === 1;
    },

    async removeFactor(userId: string, factorId: string): Promise<boolean> {
      const v = { user: sid(userId, 'userId'), id: sid(factorId, 'factorId') };
      const [rows = []] = await run(
        'removeFactor',
        [step(`DELETE FROM ${F} WHERE user_id = $user AND id = $id RETURNING '1' AS won`, v, true)],
        true,
      );
      if (rows.length > 1) throw read.bad('factors (duplicate rows)');
      return rows.length === 1;
    },

    async removeFactors(userId: string): Promise<number> {
      const [rows = []] = await run(
        'removeFactors',
        [
          step(
            `DELETE FROM ${F} WHERE user_id = $user RETURNING '1' AS won`,
            { user: sid(userId, 'userId') },
            true,
          ),
        ],
        true,
      );
      return rows.length;
    },

    async resealFactor(
      userId: string,
      factorId: string,
      expected: string,
      sealed: string,
    ): Promise<boolean> {
      const v = {
        user: sid(userId, 'userId'),
        id: sid(factorId, 'factorId'),
        expected: sstorable(expected, 'expected', MAX_SEALED),
        sealed: sstorable(sealed, 'sealed', MAX_SEALED),
      };
      const [rows = []] = await run(
        'resealFactor',
        [
          step(
            `UPDATE ${F} SET sealed_secret = $sealed WHERE user_id = $user AND id = $id AND sealed_secret = $expected RETURNING '1' AS won`,
            v,
            true,
          ),
        ],
        true,
      );
      if (rows.length > 1) throw read.bad('factors (duplicate rows)');
      return rows.length === 1;
    },

    async scanFactors(
      after: { readonly userId: string; readonly id: string } | null,
      limit: number,
    ): Promise<readonly FactorRecord[]> {
      const l = suint(limit, 'limit', I4);
      // Keyset pagination in SQLite's BINARY collation: the byte order of UTF-8, total and stable.
      if (after === null) {
        const [rows = []] = await run(
          'scanFactors',
          [
            step(
              `SELECT ${FACTOR_COLUMNS} FROM ${F} ORDER BY user_id, id LIMIT CAST($limit AS INTEGER)`,
              { limit: l },
              true,
            ),
          ],
          false,
        );
        return rows.map((r) => read.factor(r));
      }
      const a = arecord(after, 'after');
      const v = { user: sid(a.userId, 'after.userId'), id: sid(a.id, 'after.id'), limit: l };
      const [rows = []] = await run(
        'scanFactors',
        [
          step(
            `SELECT ${FACTOR_COLUMNS} FROM ${F} WHERE user_id > $user OR (user_id = $user AND id > $id) ORDER BY user_id, id LIMIT CAST($limit AS INTEGER)`,
            v,
            true,
          ),
        ],
        false,
      );
      return rows.map((r) => read.factor(r));
    },
  };
  return store;
}
