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
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_INT4 = 2 ** 31 - 1;
/** Key of the advisory locks: the migration's (one bigint key) and each user's (this, hashtext(prefix || user)). */
const LOCK_KEY = 0x6f74706b; // 'otpk'
/** SQLSTATE the functions raise for a malformed stored value; the message names the column only. */
const CORRUPT_STATE = 'OTPKC';
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

interface Names {
  readonly throttle: string;
  readonly credentials: string;
  readonly sets: string;
  readonly codes: string;
  readonly challenges: string;
  readonly stepUps: string;
  readonly factors: string;
  readonly devices: string;
  readonly sends: string;
  /** A function name: `fn('gate')` is `"<prefix>gate"`. */
  fn(name: string): string;
}

function names(prefix: string): Names {
  // The prefix matches PREFIX_RE, so double quotes make every name a safe identifier.
  const q = (n: string): string => `"${prefix}${n}"`;
  return {
    throttle: q('throttle'),
    credentials: q('credentials'),
    sets: q('recovery_sets'),
    codes: q('recovery_codes'),
    challenges: q('challenges'),
    stepUps: q('step_ups'),
    factors: q('factors'),
    devices: q('devices'),
    sends: q('send_quotas'),
    fn: q,
  };
}

/** Raises the "corrupt" SQLSTATE naming `what` (a column, never a value). */
const raise = (what: string): string =>
  `RAISE EXCEPTION USING ERRCODE = '${CORRUPT_STATE}', MESSAGE = '${what}'`;

function schemaSql(prefix: string): string {
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
  const int = n.fn('read_int');
  const u64 = n.fn('read_u64');
  const gate = n.fn('gate');
  const userLock = (user: string): string =>
    `PERFORM pg_advisory_xact_lock(${LOCK_KEY}, hashtext('${prefix}' || ${user}))`;
  const nulls = (k: number): string => Array<string>(k).fill('NULL').join(', ');
  /** A stored integer's text in canonical decimal (what read_int and readInto accept). */
  const CANON_INT = `'^(0|-?[1-9][0-9]{0,18})$'`;
  // read_int inlined (a PL/pgSQL call per value cost more than the rest of a hot function): the
  // text of a stored integer, canonical decimal in lo..hi, into dst, or the corrupt SQLSTATE.
  const readInto = (
    src: string,
    dst: string,
    what: string,
    lo: number,
    hi: number,
    nullable = false,
  ): string =>
    `IF ${src} IS NULL THEN ${nullable ? `${dst} := NULL` : raise(what)};
    ELSIF (CASE WHEN ${src} ~ ${CANON_INT} THEN ${src}::numeric BETWEEN ${lo} AND ${hi} ELSE false END) THEN
      ${dst} := ${src}::bigint;
    ELSE ${raise(what)}; END IF;`;
  // The throttle rule, shared by the gate and its fast path: f failures, the last at a, admit an
  // attempt at p_now? Free below max(p_free, 1) failures, then a delay of p_base doubling per
  // failure (the exponent capped at 30, and at 0 below), at most p_max_delay; none from p_max_failures.
  // Needs p_now, p_free, p_base, p_max_delay, p_max_failures in scope.
  const admits = (f: string, a: string): string => {
    const delay = `least(p_max_delay, p_base * (1::bigint << greatest(least(${f} - greatest(p_free, 1), 30), 0)::integer))`;
    return `(${f} < p_max_failures AND (${f} < greatest(p_free, 1) OR ${delay} = 0 OR p_now - ${a} >= ${delay}))`;
  };
  // The gate's fast path (the common case: the bucket exists, is well formed and admits): one
  // statement reads the bucket row and locks it only if it admits, decided again by PostgreSQL on
  // the row's newest version when another attempt held it; with the number of rows of that bucket.
  // No row back (none yet, closed, or not well formed) leaves the decision to ${gate}. Needs
  // p_now, p_free, p_base, p_max_delay, p_max_failures in scope.
  const fastGate = (user: string, scope: string, into: string): string => {
    const f = 'failures::text::bigint';
    const a = 'last_failure_at::text::bigint';
    return `SELECT t.f, t.a, (SELECT count(*) FROM ${T} WHERE user_id = ${user} AND scope = ${scope}) INTO ${into}
    FROM (SELECT failures::text AS f, last_failure_at::text AS a FROM ${T} WHERE user_id = ${user} AND scope = ${scope}
      AND CASE WHEN failures::text ~ '^(0|[1-9][0-9]{0,8})$' AND last_failure_at::text ~ '^(0|[1-9][0-9]{0,15})$'
        THEN ${a} <= ${MAX_SAFE} AND ${admits(f, a)}
        ELSE false END FOR UPDATE) AS t`;
  };
  // Every function takes its row locks in one order (the user's advisory lock, challenge,
  // throttle, credential, recovery set, recovery codes, step-up tokens; devices and send quotas
  // alone), so two of them never wait for each other in a cycle. Two lock device rows beside
  // others, each holding the user's advisory lock first, which keeps them apart: create_challenge
  // (the device it rotates, then challenges) and settle_attempt storing a device (its challenge
  // … step-up tokens, then devices).
  return `-- otpkit PostgreSQL store schema v2 (prefix "${prefix}"). Idempotent; needs PostgreSQL 13+.
CREATE TABLE IF NOT EXISTS ${T} (
  user_id         text NOT NULL,
  scope           text NOT NULL,
  failures        integer NOT NULL CHECK (failures >= 0),
  last_failure_at bigint NOT NULL CHECK (last_failure_at >= 0),
  PRIMARY KEY (user_id, scope)
);
CREATE TABLE IF NOT EXISTS ${C} (
  user_id       text NOT NULL,
  credential_id text NOT NULL,
  last_step     bigint NULL CHECK (last_step BETWEEN 0 AND ${MAX_SAFE}),
  hotp_counter  numeric(20,0) NULL CHECK (hotp_counter BETWEEN 0 AND 18446744073709551615),
  drift         smallint NOT NULL DEFAULT 0 CHECK (drift BETWEEN -${MAX_DRIFT} AND ${MAX_DRIFT}),
  last_used_at  bigint NULL CHECK (last_used_at >= 0),
  PRIMARY KEY (user_id, credential_id)
);
CREATE TABLE IF NOT EXISTS ${S} (
  user_id   text PRIMARY KEY,
  set_id    text NOT NULL CHECK (set_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  issued_at bigint NOT NULL CHECK (issued_at >= 0),
  total     integer NOT NULL CHECK (total BETWEEN 0 AND 100)
);
CREATE TABLE IF NOT EXISTS ${RC} (
  user_id text NOT NULL,
  set_id  text NOT NULL,
  id      text NOT NULL,
  hash    text NOT NULL,
  seq     smallint NOT NULL CHECK (seq BETWEEN 1 AND 100),
  PRIMARY KEY (user_id, set_id, id)
);
CREATE TABLE IF NOT EXISTS ${CH} (
  hash           text PRIMARY KEY,
  user_id        text NOT NULL,
  scope          text NOT NULL,
  recovery_scope text NOT NULL,
  created_at     bigint NOT NULL CHECK (created_at >= 0),
  expires_at     bigint NOT NULL CHECK (expires_at >= 0),
  attempts       integer NOT NULL CHECK (attempts >= 0 AND attempts <= max_attempts),
  max_attempts   integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
  credential_ids text[] NOT NULL CHECK (cardinality(credential_ids) <= ${MAX_CHALLENGE_IDS} AND array_position(credential_ids, NULL) IS NULL),
  payload        text NOT NULL CHECK (char_length(payload) <= ${MAX_PAYLOAD}),
  oob_factor_id  text NULL,
  oob_code_hash  text NULL CHECK (oob_code_hash ~ '^[0-9a-f]{64}$'),
  oob_expires_at bigint NULL CHECK (oob_expires_at >= 0),
  seq            bigint GENERATED ALWAYS AS IDENTITY,
  CHECK ((oob_factor_id IS NULL) = (oob_code_hash IS NULL) AND (oob_code_hash IS NULL) = (oob_expires_at IS NULL))
);
CREATE INDEX IF NOT EXISTS "${prefix}challenges_user" ON ${CH} (user_id);
CREATE TABLE IF NOT EXISTS ${SU} (
  user_id    text NOT NULL,
  hash       text NOT NULL,
  expires_at bigint NOT NULL CHECK (expires_at >= 0),
  PRIMARY KEY (user_id, hash)
);
CREATE TABLE IF NOT EXISTS ${D} (
  user_id       text NOT NULL,
  id            text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('trusted', 'known')),
  token_hash    text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  previous_hash text NULL CHECK (previous_hash ~ '^[0-9a-f]{64}$'),
  label         text NOT NULL CHECK (char_length(label) <= ${MAX_LABEL}),
  created_at    bigint NOT NULL CHECK (created_at >= 0),
  last_used_at  bigint NULL CHECK (last_used_at >= 0),
  expires_at    bigint NOT NULL CHECK (expires_at >= 0),
  seq           bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (user_id, id)
);
CREATE TABLE IF NOT EXISTS ${Q} (
  kind      text NOT NULL CHECK (kind IN ('user', 'destination', 'app')),
  subject   text NOT NULL,
  window_no bigint NOT NULL CHECK (window_no >= 0),
  sends     integer NOT NULL CHECK (sends >= 0),
  last_at   bigint NOT NULL CHECK (last_at >= 0),
  PRIMARY KEY (kind, subject)
);
CREATE TABLE IF NOT EXISTS ${F} (
  user_id       text COLLATE "C" NOT NULL,
  id            text COLLATE "C" NOT NULL,
  type          text NOT NULL CHECK (type IN ('totp', 'hotp', 'email', 'sms')),
  label         text NOT NULL CHECK (char_length(label) BETWEEN 1 AND ${MAX_LABEL}),
  status        text NOT NULL CHECK (status IN ('pending', 'confirmed')),
  sealed_secret text NOT NULL CHECK (char_length(sealed_secret) <= ${MAX_SEALED}),
  hint          text NULL CHECK (hint IS NULL OR (char_length(hint) <= ${MAX_HINT} AND type IN ('email', 'sms'))),
  algorithm     text NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
  digits        smallint NOT NULL CHECK (digits BETWEEN 6 AND 8),
  period        integer NOT NULL CHECK (period BETWEEN 1 AND 120),
  created_at    bigint NOT NULL CHECK (created_at >= 0),
  confirmed_at  bigint NULL CHECK (confirmed_at >= 0),
  expires_at    bigint NULL CHECK (expires_at >= 0),
  seq           bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (user_id, id),
  CHECK ((status = 'pending' AND confirmed_at IS NULL AND expires_at IS NOT NULL)
      OR (status = 'confirmed' AND confirmed_at IS NOT NULL AND expires_at IS NULL))
);

-- A stored integer read back as canonical decimal text in lo..hi, or the corrupt SQLSTATE.
CREATE OR REPLACE FUNCTION ${int}(v text, what text, lo numeric, hi numeric, nullable boolean DEFAULT false)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE n numeric;
BEGIN
  IF v IS NULL THEN
    IF nullable THEN RETURN NULL; END IF;
  ELSIF v ~ ${CANON_INT} THEN
    n := v::numeric;
    IF n >= lo AND n <= hi THEN RETURN n::bigint; END IF;
  END IF;
  RAISE EXCEPTION USING ERRCODE = '${CORRUPT_STATE}', MESSAGE = what;
END $fn$;

-- A stored HOTP counter (NULL, or 0..2^64-1 as canonical decimal text).
CREATE OR REPLACE FUNCTION ${u64}(v text, what text) RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
  IF v IS NULL THEN RETURN NULL; END IF;
  IF v ~ '^(0|[1-9][0-9]{0,19})$' AND v::numeric <= 18446744073709551615 THEN RETURN v::numeric; END IF;
  RAISE EXCEPTION USING ERRCODE = '${CORRUPT_STATE}', MESSAGE = what;
END $fn$;

-- The throttle gate of one bucket. A refusal is decided on a plain read and writes nothing (a
-- flood against a locked account costs no WAL); an admission locks the bucket row (creating it
-- at 0 failures) and decides again on its newest version. Counting is left to the caller.
CREATE OR REPLACE FUNCTION ${gate}(p_user text, p_scope text, p_now bigint, p_free integer, p_base bigint,
  p_max_delay bigint, p_max_failures integer, OUT o_open boolean, OUT o_failures integer, OUT o_at bigint)
LANGUAGE plpgsql AS $fn$
DECLARE v_f text; v_a text; v_n bigint; v_locked boolean := false;
BEGIN
  SELECT t.f, t.a, count(*) OVER () INTO v_f, v_a, v_n
    FROM (SELECT failures::text AS f, last_failure_at::text AS a FROM ${T} WHERE user_id = p_user AND scope = p_scope) AS t;
  IF NOT FOUND THEN v_n := 0; END IF;
  LOOP
    IF v_n > 1 THEN ${raise('throttle (duplicate rows)')}; END IF;
    IF v_n = 1 THEN
      o_failures := ${int}(v_f, 'throttle.failures', 0, ${MAX_INT4});
      o_at := ${int}(v_a, 'throttle.last_failure_at', 0, ${MAX_SAFE});
      o_open := ${admits('o_failures', 'o_at')};
      IF v_locked OR NOT o_open THEN RETURN; END IF;
    ELSE
      INSERT INTO ${T} (user_id, scope, failures, last_failure_at) VALUES (p_user, p_scope, 0, 0) ON CONFLICT DO NOTHING;
      IF FOUND THEN
        o_open := true; o_failures := 0; o_at := 0;
        RETURN;
      END IF;
    END IF;
    SELECT t.f, t.a, count(*) OVER () INTO v_f, v_a, v_n
      FROM (SELECT failures::text AS f, last_failure_at::text AS a FROM ${T} WHERE user_id = p_user AND scope = p_scope FOR UPDATE) AS t;
    IF NOT FOUND THEN v_n := 0; END IF;
    v_locked := v_n > 0; -- none: deleted before we could lock it, start over
  END LOOP;
END $fn$;

-- OtpStore.attemptTotp: gate, count, pick the candidate in the drift-centred window, claim, reset.
CREATE OR REPLACE FUNCTION ${n.fn('attempt_totp')}(p_user text, p_credential text, p_scope text, p_now bigint,
  p_free integer, p_base bigint, p_max_delay bigint, p_max_failures integer, p_step bigint, p_candidates integer[],
  p_past integer, p_future integer, p_centre boolean, p_max_drift integer)
RETURNS TABLE (r_status text, r_failures text, r_last_failure_at text, r_delta text)
LANGUAGE plpgsql AS $fn$
DECLARE g record; v_f text; v_a text; v_ls text; v_dr text; v_n bigint; v_failures bigint; v_at bigint; v_last bigint;
  v_drift bigint; v_lo integer; v_hi integer; v_d integer; v_delta integer; v_claimed bigint;
BEGIN
  ${fastGate('p_user', 'p_scope', 'v_f, v_a, v_n')};
  IF FOUND THEN
    IF v_n > 1 THEN ${raise('throttle (duplicate rows)')}; END IF;
    v_failures := v_f::bigint; v_at := v_a::bigint;
  ELSE
    SELECT * INTO g FROM ${gate}(p_user, p_scope, p_now, p_free, p_base, p_max_delay, p_max_failures);
    IF NOT g.o_open THEN
      r_status := 'closed'; r_failures := g.o_failures::text; r_last_failure_at := g.o_at::text;
      RETURN NEXT;
      RETURN;
    END IF;
    v_failures := g.o_failures; v_at := g.o_at;
  END IF;
  LOOP
    SELECT t.ls, t.dr, count(*) OVER () INTO v_ls, v_dr, v_n FROM (SELECT last_step::text AS ls, drift::text AS dr
      FROM ${C} WHERE user_id = p_user AND credential_id = p_credential FOR UPDATE) AS t;
    IF NOT FOUND THEN v_n := 0; END IF;
    IF v_n > 1 THEN ${raise('credentials (duplicate rows)')}; END IF;
    IF v_n = 1 THEN
      ${readInto('v_ls', 'v_last', 'credentials.last_step', 0, MAX_SAFE, true)}
      ${readInto('v_dr', 'v_drift', 'credentials.drift', -MAX_DRIFT, MAX_DRIFT)}
    ELSE
      v_last := NULL; v_drift := 0;
    END IF;
    v_lo := greatest(CASE WHEN p_centre THEN v_drift ELSE 0 END - p_past, -${MAX_DRIFT});
    v_hi := least(CASE WHEN p_centre THEN v_drift ELSE 0 END + p_future, ${MAX_DRIFT});
    -- The smallest |delta| in the window, the earlier candidate on a tie (ascending input: the smaller delta).
    v_delta := NULL;
    FOREACH v_d IN ARRAY p_candidates LOOP
      IF v_d >= v_lo AND v_d <= v_hi AND p_step + v_d >= 0 AND (v_delta IS NULL OR abs(v_d) < abs(v_delta)) THEN
        v_delta := v_d;
      END IF;
    END LOOP;
    IF v_delta IS NULL OR (v_last IS NOT NULL AND v_last >= p_step + v_delta) THEN
      UPDATE ${T} SET failures = v_failures + 1, last_failure_at = p_now WHERE user_id = p_user AND scope = p_scope;
      r_status := CASE WHEN v_delta IS NULL THEN 'invalid' ELSE 'replayed' END; r_failures := (v_failures + 1)::text;
      RETURN NEXT;
      RETURN;
    END IF;
    v_claimed := p_step + v_delta;
    v_drift := CASE WHEN p_max_drift IS NULL THEN 0 ELSE greatest(-p_max_drift, least(p_max_drift, v_delta)) END;
    IF v_n = 1 THEN
      UPDATE ${C} SET last_step = v_claimed, drift = v_drift, last_used_at = p_now WHERE user_id = p_user AND credential_id = p_credential;
      EXIT;
    END IF;
    INSERT INTO ${C} (user_id, credential_id, last_step, hotp_counter, drift, last_used_at)
      VALUES (p_user, p_credential, v_claimed, NULL, v_drift, p_now) ON CONFLICT DO NOTHING;
    EXIT WHEN FOUND; -- else created meanwhile: decide again on the stored row
  END LOOP;
  IF v_failures <> 0 OR v_at <> 0 THEN
    UPDATE ${T} SET failures = 0, last_failure_at = 0 WHERE user_id = p_user AND scope = p_scope;
  END IF;
  r_status := 'ok'; r_delta := v_delta::text;
  RETURN NEXT;
END $fn$;

-- OtpStore.beginAttempt: the live challenge, the gate, the count, and what evaluating needs.
-- Rows: ('status', status, user, failures, last_failure_at), ('challenge', 12 columns),
-- ('challenge_credential', ordinal, id), ('credential', id, last_step, hotp_counter, drift,
-- last_used_at), ('code', set_id, issued_at, total, code id, code hash).
CREATE OR REPLACE FUNCTION ${n.fn('begin_attempt')}(p_user text, p_challenge text, p_scope text, p_now bigint,
  p_free integer, p_base bigint, p_max_delay bigint, p_max_failures integer, p_credentials text[], p_recovery boolean)
RETURNS TABLE (r_kind text, r1 text, r2 text, r3 text, r4 text, r5 text, r6 text, r7 text, r8 text, r9 text, r10 text, r11 text, r12 text)
LANGUAGE plpgsql AS $fn$
DECLARE ch record; g record; v_user text := p_user; v_scope text := p_scope; v_ids text[] := p_credentials; v_attempts integer; v_max integer;
  v_f text; v_a text; v_n bigint; v_failures bigint; v_expires bigint;
BEGIN
  IF p_challenge IS NOT NULL THEN
    SELECT t.*, count(*) OVER () AS n INTO ch FROM (SELECT c.user_id::text AS user_id, c.scope::text AS scope,
        c.recovery_scope::text AS recovery_scope, c.created_at::text AS created_at, c.expires_at::text AS expires_at,
        c.attempts::text AS attempts, c.max_attempts::text AS max_attempts, c.credential_ids::text[] AS credential_ids,
        c.payload::text AS payload, c.oob_factor_id::text AS oob_factor_id, c.oob_code_hash::text AS oob_code_hash,
        c.oob_expires_at::text AS oob_expires_at
      FROM ${CH} AS c WHERE c.hash = p_challenge FOR UPDATE) AS t;
    IF NOT FOUND THEN
      RETURN QUERY SELECT 'status', 'no-challenge', ${nulls(11)};
      RETURN;
    END IF;
    IF ch.n > 1 THEN ${raise('challenges (duplicate rows)')}; END IF;
    ${readInto('ch.expires_at', 'v_expires', 'challenges.expires_at', 0, MAX_SAFE)}
    IF v_expires <= p_now THEN
      DELETE FROM ${CH} WHERE hash = p_challenge; -- dead: dropped on sight
      RETURN QUERY SELECT 'status', 'no-challenge', ${nulls(11)};
      RETURN;
    END IF;
    IF ch.user_id IS NULL THEN ${raise('challenges.user_id')}; END IF;
    IF ch.user_id <> p_user THEN
      RETURN QUERY SELECT 'status', 'no-challenge', ${nulls(11)};
      RETURN;
    END IF;
    ${readInto('ch.max_attempts', 'v_max', 'challenges.max_attempts', 1, 100)}
    ${readInto('ch.attempts', 'v_attempts', 'challenges.attempts', 0, MAX_INT4)}
    IF v_attempts >= v_max THEN
      RETURN QUERY SELECT 'status', 'exhausted', ch.user_id, ${nulls(10)};
      RETURN;
    END IF;
    IF ch.scope IS NULL THEN ${raise('challenges.scope')}; END IF;
    IF ch.recovery_scope IS NULL THEN ${raise('challenges.recovery_scope')}; END IF;
    IF ch.credential_ids IS NULL OR coalesce(array_ndims(ch.credential_ids), 1) <> 1
        OR cardinality(ch.credential_ids) > ${MAX_CHALLENGE_IDS} OR array_position(ch.credential_ids, NULL) IS NOT NULL THEN
      ${raise('challenges.credential_ids')};
    END IF;
    v_scope := CASE WHEN p_recovery THEN ch.recovery_scope ELSE ch.scope END;
    v_ids := p_credentials || ch.credential_ids;
  END IF;
  ${fastGate('v_user', 'v_scope', 'v_f, v_a, v_n')};
  IF FOUND THEN
    IF v_n > 1 THEN ${raise('throttle (duplicate rows)')}; END IF;
    v_failures := v_f::bigint;
  ELSE
    SELECT * INTO g FROM ${gate}(v_user, v_scope, p_now, p_free, p_base, p_max_delay, p_max_failures);
    IF NOT g.o_open THEN
      RETURN QUERY SELECT 'status', 'closed', v_user, g.o_failures::text, g.o_at::text, ${nulls(8)};
      RETURN;
    END IF;
    v_failures := g.o_failures;
  END IF;
  UPDATE ${T} SET failures = v_failures + 1, last_failure_at = p_now WHERE user_id = v_user AND scope = v_scope;
  RETURN QUERY SELECT 'status', 'admitted', v_user, (v_failures + 1)::text, ${nulls(9)};
  IF p_challenge IS NOT NULL THEN
    UPDATE ${CH} SET attempts = v_attempts + 1 WHERE hash = p_challenge;
    RETURN QUERY SELECT 'challenge', p_challenge, ch.user_id, ch.scope, ch.recovery_scope, ch.created_at, ch.expires_at,
      (v_attempts + 1)::text, ch.max_attempts, ch.payload, ch.oob_factor_id, ch.oob_code_hash, ch.oob_expires_at;
    RETURN QUERY SELECT 'challenge_credential', u.i::text, u.id, ${nulls(10)}
      FROM unnest(ch.credential_ids) WITH ORDINALITY AS u(id, i);
  END IF;
  RETURN QUERY SELECT 'credential', c.credential_id::text, c.last_step::text, c.hotp_counter::text, c.drift::text,
      c.last_used_at::text, ${nulls(7)}
    FROM ${C} AS c WHERE c.user_id = v_user AND c.credential_id = ANY (v_ids);
  IF p_recovery THEN
    -- One query, one snapshot: never old and new codes together.
    RETURN QUERY SELECT 'code', s.set_id::text, s.issued_at::text, s.total::text, c.id::text, c.hash::text, ${nulls(7)}
      FROM ${S} AS s LEFT JOIN ${RC} AS c ON c.user_id = s.user_id AND c.set_id = s.set_id
      WHERE s.user_id = v_user ORDER BY c.seq, c.id;
  END IF;
END $fn$;

-- OtpStore.settleAttempt: the live challenge, then the claim; won: reset, consume, step-up token,
-- and the device (p_device_*) stored as create_device does. p_code is the recovery code's id, or
-- the out-of-band code's hash. (Until this release the function took 15 arguments: that one goes.)
DROP FUNCTION IF EXISTS ${n.fn('settle_attempt')}(text, text, bigint, text, text, bigint, integer, numeric, numeric, boolean, text,
  text, text, text, bigint);
CREATE OR REPLACE FUNCTION ${n.fn('settle_attempt')}(p_user text, p_scope text, p_now bigint, p_kind text, p_credential text,
  p_step bigint, p_drift integer, p_expected numeric, p_next numeric, p_create boolean, p_set text, p_code text,
  p_challenge text, p_step_up text, p_step_up_expires bigint, p_device_id text, p_device_kind text, p_device_token text,
  p_device_previous text, p_device_label text, p_device_created bigint, p_device_last_used bigint, p_device_expires bigint,
  p_device_max integer)
RETURNS TABLE (r_status text, r_remaining text)
LANGUAGE plpgsql AS $fn$
DECLARE ch record; cr record; v_set text; v_n bigint; v_remaining bigint; v_last bigint; v_expires bigint; v_reset boolean;
BEGIN
  -- Storing a device takes the user's advisory lock: first, as every call that takes it does
  -- (create_challenge holds it while it deletes challenges; taking it after this challenge's row
  -- lock would be a lock-order cycle).
  IF p_device_id IS NOT NULL THEN ${userLock('p_user')}; END IF;
  IF p_challenge IS NOT NULL THEN
    SELECT t.*, count(*) OVER () AS n INTO ch FROM (SELECT c.user_id::text AS user_id, c.expires_at::text AS expires_at,
        c.oob_code_hash::text AS oob_code_hash, c.oob_expires_at::text AS oob_expires_at
      FROM ${CH} AS c WHERE c.hash = p_challenge FOR UPDATE) AS t;
    IF NOT FOUND THEN
      RETURN QUERY SELECT 'no-challenge', NULL;
      RETURN;
    END IF;
    IF ch.n > 1 THEN ${raise('challenges (duplicate rows)')}; END IF;
    ${readInto('ch.expires_at', 'v_expires', 'challenges.expires_at', 0, MAX_SAFE)}
    IF v_expires <= p_now THEN
      DELETE FROM ${CH} WHERE hash = p_challenge;
      RETURN QUERY SELECT 'no-challenge', NULL;
      RETURN;
    END IF;
    IF ch.user_id IS DISTINCT FROM p_user THEN
      RETURN QUERY SELECT 'no-challenge', NULL;
      RETURN;
    END IF;
  END IF;
  -- Lock order: throttle before the claim. No row means no failures to reset, and the reset below
  -- is then skipped: a row another call creates meanwhile is counted after this success, and
  -- updating it here would take its lock after the claim's (a lock-order cycle, a deadlock).
  PERFORM 1 FROM ${T} WHERE user_id = p_user AND scope = p_scope FOR UPDATE;
  v_reset := FOUND;
  IF p_kind = 'oob' THEN
    IF p_challenge IS NULL THEN -- (ch is unassigned: its fields cannot even be read)
      RETURN QUERY SELECT 'replayed', NULL;
      RETURN;
    END IF;
    IF ch.oob_code_hash IS DISTINCT FROM p_code THEN
      RETURN QUERY SELECT 'replayed', NULL;
      RETURN;
    END IF;
    IF ${int}(ch.oob_expires_at, 'challenges.oob_expires_at', 0, ${MAX_SAFE}) <= p_now THEN
      RETURN QUERY SELECT 'replayed', NULL;
      RETURN;
    END IF;
  ELSIF p_kind = 'recovery' THEN
    SELECT t.s, count(*) OVER () INTO v_set, v_n FROM (SELECT set_id::text AS s FROM ${S} WHERE user_id = p_user FOR UPDATE) AS t;
    IF v_n > 1 THEN ${raise('recovery_sets (duplicate rows)')}; END IF;
    IF v_set IS DISTINCT FROM p_set THEN
      RETURN QUERY SELECT 'replayed', NULL;
      RETURN;
    END IF;
    DELETE FROM ${RC} WHERE user_id = p_user AND set_id = p_set AND id = p_code;
    IF NOT FOUND THEN
      RETURN QUERY SELECT 'replayed', NULL;
      RETURN;
    END IF;
    SELECT count(*) INTO v_remaining FROM ${RC} WHERE user_id = p_user AND set_id = p_set;
  ELSE
    LOOP
      SELECT t.*, count(*) OVER () AS n INTO cr FROM (SELECT last_step::text AS ls, hotp_counter::text AS hc
        FROM ${C} WHERE user_id = p_user AND credential_id = p_credential FOR UPDATE) AS t;
      IF FOUND THEN
        IF cr.n > 1 THEN ${raise('credentials (duplicate rows)')}; END IF;
        IF p_kind = 'totp' THEN
          ${readInto('cr.ls', 'v_last', 'credentials.last_step', 0, MAX_SAFE, true)}
          IF v_last IS NOT NULL AND v_last >= p_step THEN
            RETURN QUERY SELECT 'replayed', NULL;
            RETURN;
          END IF;
          UPDATE ${C} SET last_step = p_step, drift = p_drift, last_used_at = p_now WHERE user_id = p_user AND credential_id = p_credential;
        ELSE
          IF ${u64}(cr.hc, 'credentials.hotp_counter') IS DISTINCT FROM p_expected THEN
            RETURN QUERY SELECT 'replayed', NULL;
            RETURN;
          END IF;
          UPDATE ${C} SET hotp_counter = p_next, last_used_at = p_now WHERE user_id = p_user AND credential_id = p_credential;
        END IF;
        EXIT;
      END IF;
      IF NOT p_create OR (p_kind = 'hotp' AND p_expected IS NOT NULL) THEN
        RETURN QUERY SELECT 'replayed', NULL;
        RETURN;
      END IF;
      INSERT INTO ${C} (user_id, credential_id, last_step, hotp_counter, drift, last_used_at) VALUES (p_user, p_credential,
          CASE WHEN p_kind = 'totp' THEN p_step END, CASE WHEN p_kind = 'hotp' THEN p_next END,
          CASE WHEN p_kind = 'totp' THEN p_drift ELSE 0 END, p_now)
        ON CONFLICT DO NOTHING;
      EXIT WHEN FOUND; -- else created meanwhile: decide again on the stored row
    END LOOP;
  END IF;
  IF v_reset THEN
    UPDATE ${T} SET failures = 0, last_failure_at = 0
      WHERE user_id = p_user AND scope = p_scope AND (failures::text <> '0' OR last_failure_at::text <> '0');
  END IF;
  IF p_challenge IS NOT NULL THEN
    DELETE FROM ${CH} WHERE hash = p_challenge;
  END IF;
  IF p_step_up IS NOT NULL THEN
    INSERT INTO ${SU} AS s (user_id, hash, expires_at) VALUES (p_user, p_step_up, p_step_up_expires)
      ON CONFLICT (user_id, hash) DO UPDATE SET expires_at = EXCLUDED.expires_at;
  END IF;
  IF p_device_id IS NOT NULL THEN
    PERFORM ${n.fn('create_device')}(p_user, p_device_id, p_device_kind, p_device_token, p_device_previous, p_device_label,
      p_device_created, p_device_last_used, p_device_expires, p_device_max);
  END IF;
  RETURN QUERY SELECT 'ok', v_remaining::text;
END $fn$;

-- OtpStore.createChallenge: the known-device token (if any) used as rotate_device would, then
-- drop the user's dead challenges and the oldest live ones beyond max_live - 1, and store the new
-- one, in the device's buckets if it rotated; the user's advisory lock serialises creations.
-- Returns the rotation as rotate_device does ('none' without a token). (Until this release the
-- function took 14 arguments and returned void: that one goes.)
DROP FUNCTION IF EXISTS ${n.fn('create_challenge')}(text, text, text, text, bigint, bigint, integer, integer, text[], text, text, text,
  bigint, integer);
CREATE OR REPLACE FUNCTION ${n.fn('create_challenge')}(p_hash text, p_user text, p_scope text, p_recovery_scope text,
  p_created bigint, p_expires bigint, p_attempts integer, p_max_attempts integer, p_credential_ids text[], p_payload text,
  p_oob_factor text, p_oob_hash text, p_oob_expires bigint, p_max_live integer, p_device_token text, p_device_new text,
  p_device_expires bigint)
RETURNS TABLE (r_status text, r1 text, r2 text, r3 text, r4 text, r5 text, r6 text, r7 text, r8 text, r9 text)
LANGUAGE plpgsql AS $fn$
DECLARE v_scope text := p_scope; v_recovery_scope text := p_recovery_scope;
BEGIN
  -- A challenge is a pending sign-in, not a decision: its commit does not wait for the WAL flush.
  -- Lost in a crash, the user enters the password again (and a rotated known-device token is
  -- unknown: that browser's next attempts count in the shared bucket). The attempt count and the
  -- claim that follow commit synchronously, which flushes this commit with theirs.
  PERFORM set_config('synchronous_commit', 'off', true);
  ${userLock('p_user')};
  r_status := 'none';
  IF p_device_token IS NOT NULL THEN
    SELECT d.* INTO r_status, r1, r2, r3, r4, r5, r6, r7, r8, r9
      FROM ${n.fn('rotate_device')}(p_user, 'known', p_device_token, p_device_new, p_created, p_device_expires) AS d;
    IF r_status = 'rotated' THEN -- the device's buckets (r2: its id): its attempts count apart from strangers'
      v_scope := p_scope || ':device:' || r2;
      v_recovery_scope := p_recovery_scope || ':device:' || r2;
    END IF;
  END IF;
  DELETE FROM ${CH} WHERE user_id = p_user AND ${int}(expires_at::text, 'challenges.expires_at', 0, ${MAX_SAFE}) <= p_created;
  DELETE FROM ${CH} WHERE hash IN (SELECT c.hash FROM ${CH} AS c WHERE c.user_id = p_user
    ORDER BY ${int}(c.created_at::text, 'challenges.created_at', 0, ${MAX_SAFE}), c.seq
    LIMIT greatest(0, (SELECT count(*) FROM ${CH} WHERE user_id = p_user) - (p_max_live - 1)));
  INSERT INTO ${CH} AS c (hash, user_id, scope, recovery_scope, created_at, expires_at, attempts, max_attempts, credential_ids,
      payload, oob_factor_id, oob_code_hash, oob_expires_at)
    VALUES (p_hash, p_user, v_scope, v_recovery_scope, p_created, p_expires, p_attempts, p_max_attempts, p_credential_ids,
      p_payload, p_oob_factor, p_oob_hash, p_oob_expires)
    ON CONFLICT (hash) DO UPDATE SET user_id = EXCLUDED.user_id, scope = EXCLUDED.scope, recovery_scope = EXCLUDED.recovery_scope,
      created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, attempts = EXCLUDED.attempts,
      max_attempts = EXCLUDED.max_attempts, credential_ids = EXCLUDED.credential_ids, payload = EXCLUDED.payload,
      oob_factor_id = EXCLUDED.oob_factor_id, oob_code_hash = EXCLUDED.oob_code_hash, oob_expires_at = EXCLUDED.oob_expires_at;
  RETURN NEXT;
END $fn$;

-- OtpStore.setChallengeCode: set or clear the out-of-band code of a live challenge of the user
-- ('1'), optionally only if the live code is still p_expected; '0' otherwise.
CREATE OR REPLACE FUNCTION ${n.fn('set_challenge_code')}(p_user text, p_hash text, p_factor text, p_code text, p_expires bigint,
  p_now bigint, p_check boolean, p_expected text)
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE ch record;
BEGIN
  SELECT t.*, count(*) OVER () AS n INTO ch FROM (SELECT c.user_id::text AS user_id, c.expires_at::text AS expires_at,
      c.oob_code_hash::text AS oob_code_hash FROM ${CH} AS c WHERE c.hash = p_hash FOR UPDATE) AS t;
  IF NOT FOUND THEN RETURN '0'; END IF;
  IF ch.n > 1 THEN ${raise('challenges (duplicate rows)')}; END IF;
  IF ${int}(ch.expires_at, 'challenges.expires_at', 0, ${MAX_SAFE}) <= p_now THEN
    DELETE FROM ${CH} WHERE hash = p_hash;
    RETURN '0';
  END IF;
  IF ch.user_id IS DISTINCT FROM p_user OR (p_check AND ch.oob_code_hash IS DISTINCT FROM p_expected) THEN RETURN '0'; END IF;
  UPDATE ${CH} SET oob_factor_id = p_factor, oob_code_hash = p_code, oob_expires_at = p_expires WHERE hash = p_hash;
  RETURN '1';
END $fn$;

-- OtpStore.deleteChallenges: under the user's advisory lock, like every other statement that
-- deletes several of a user's challenges (create_challenge, erase_user): two such deletions
-- would otherwise lock the same rows in different orders (a deadlock).
CREATE OR REPLACE FUNCTION ${n.fn('delete_challenges')}(p_user text) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  ${userLock('p_user')};
  DELETE FROM ${CH} WHERE user_id = p_user;
END $fn$;

-- OtpStore.eraseUser: the user's advisory lock, then every state table, in the lock order.
CREATE OR REPLACE FUNCTION ${n.fn('erase_user')}(p_user text) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  ${userLock('p_user')};
  DELETE FROM ${CH} WHERE user_id = p_user;
  DELETE FROM ${T} WHERE user_id = p_user;
  DELETE FROM ${C} WHERE user_id = p_user;
  DELETE FROM ${S} WHERE user_id = p_user;
  DELETE FROM ${RC} WHERE user_id = p_user;
  DELETE FROM ${SU} WHERE user_id = p_user;
  DELETE FROM ${D} WHERE user_id = p_user;
  DELETE FROM ${Q} WHERE kind = 'user' AND subject = p_user;
END $fn$;

-- OtpStore.createDevice: drop the user's dead devices of the kind and the oldest live ones
-- beyond p_max - 1, then store the device; the user's advisory lock serialises creations.
CREATE OR REPLACE FUNCTION ${n.fn('create_device')}(p_user text, p_id text, p_kind text, p_token text, p_previous text,
  p_label text, p_created bigint, p_last_used bigint, p_expires bigint, p_max integer)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  ${userLock('p_user')};
  DELETE FROM ${D} WHERE user_id = p_user AND kind = p_kind AND ${int}(expires_at::text, 'devices.expires_at', 0, ${MAX_SAFE}) <= p_created;
  DELETE FROM ${D} WHERE user_id = p_user AND id IN (SELECT d.id FROM ${D} AS d WHERE d.user_id = p_user AND d.kind = p_kind
    ORDER BY ${int}(d.created_at::text, 'devices.created_at', 0, ${MAX_SAFE}), d.seq
    LIMIT greatest(0, (SELECT count(*) FROM ${D} WHERE user_id = p_user AND kind = p_kind) - (p_max - 1)));
  INSERT INTO ${D} AS d (user_id, id, kind, token_hash, previous_hash, label, created_at, last_used_at, expires_at)
    VALUES (p_user, p_id, p_kind, p_token, p_previous, p_label, p_created, p_last_used, p_expires)
    ON CONFLICT (user_id, id) DO UPDATE SET kind = EXCLUDED.kind, token_hash = EXCLUDED.token_hash,
      previous_hash = EXCLUDED.previous_hash, label = EXCLUDED.label, created_at = EXCLUDED.created_at,
      last_used_at = EXCLUDED.last_used_at, expires_at = EXCLUDED.expires_at;
END $fn$;

-- OtpStore.rotateDevice: the first device of the kind (in creation order) whose live current
-- token, or whose previous token, is p_token; rotated ('rotated' and the device), or 'replayed'.
CREATE OR REPLACE FUNCTION ${n.fn('rotate_device')}(p_user text, p_kind text, p_token text, p_new text, p_now bigint, p_expires bigint)
RETURNS TABLE (r_status text, r1 text, r2 text, r3 text, r4 text, r5 text, r6 text, r7 text, r8 text, r9 text)
LANGUAGE plpgsql AS $fn$
DECLARE dv record;
BEGIN
  SELECT d.id::text AS id, d.token_hash::text AS token_hash, d.expires_at::text AS expires_at INTO dv FROM ${D} AS d
    WHERE d.user_id = p_user AND d.kind = p_kind
      AND ((d.token_hash = p_token AND ${int}(d.expires_at::text, 'devices.expires_at', 0, ${MAX_SAFE}) > p_now) OR d.previous_hash = p_token)
    ORDER BY d.seq LIMIT 1 FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'unknown', ${nulls(9)};
  ELSIF dv.token_hash = p_token AND ${int}(dv.expires_at, 'devices.expires_at', 0, ${MAX_SAFE}) > p_now THEN
    RETURN QUERY UPDATE ${D} AS d SET token_hash = p_new, previous_hash = p_token, last_used_at = p_now,
        expires_at = coalesce(p_expires, ${int}(dv.expires_at, 'devices.expires_at', 0, ${MAX_SAFE}))
      WHERE d.user_id = p_user AND d.id = dv.id
      RETURNING 'rotated'::text, d.user_id::text, d.id::text, d.kind::text, d.token_hash::text, d.previous_hash::text, d.label::text,
        d.created_at::text, d.last_used_at::text, d.expires_at::text;
  ELSE
    RETURN QUERY SELECT 'replayed', dv.id, ${nulls(8)};
  END IF;
END $fn$;

-- OtpStore.reserveSend: one send counted iff the window has room and the cooldown passed ('1'),
-- else '0' and when the next send would be allowed.
CREATE OR REPLACE FUNCTION ${n.fn('reserve_send')}(p_kind text, p_subject text, p_limit integer, p_window bigint,
  p_cooldown bigint, p_now bigint)
RETURNS TABLE (r_ok text, r_retry text)
LANGUAGE plpgsql AS $fn$
DECLARE q record; v_found boolean; v_w bigint := p_now / p_window; v_count bigint; v_cool bigint;
BEGIN
  LOOP
    SELECT t.*, count(*) OVER () AS n INTO q FROM (SELECT s.window_no::text AS w, s.sends::text AS c, s.last_at::text AS a
      FROM ${Q} AS s WHERE s.kind = p_kind AND s.subject = p_subject FOR UPDATE) AS t;
    v_found := FOUND;
    IF v_found THEN
      IF q.n > 1 THEN ${raise('send_quotas (duplicate rows)')}; END IF;
      v_count := CASE WHEN ${int}(q.w, 'send_quotas.window_no', 0, ${MAX_SAFE}) = v_w
        THEN ${int}(q.c, 'send_quotas.sends', 0, ${MAX_INT4}) ELSE 0 END;
      v_cool := ${int}(q.a, 'send_quotas.last_at', 0, ${MAX_SAFE}) + p_cooldown - p_now;
    ELSE
      v_count := 0; v_cool := 0;
    END IF;
    IF v_cool > 0 OR v_count >= p_limit THEN
      RETURN QUERY SELECT '0', greatest(v_cool, CASE WHEN v_count >= p_limit THEN (v_w + 1) * p_window - p_now ELSE 0 END)::text;
      RETURN;
    END IF;
    IF v_found THEN
      UPDATE ${Q} SET window_no = v_w, sends = v_count + 1, last_at = p_now WHERE kind = p_kind AND subject = p_subject;
      EXIT;
    END IF;
    INSERT INTO ${Q} (kind, subject, window_no, sends, last_at) VALUES (p_kind, p_subject, v_w, 1, p_now) ON CONFLICT DO NOTHING;
    EXIT WHEN FOUND; -- else created meanwhile: decide again on the stored row
  END LOOP;
  RETURN QUERY SELECT '1', NULL;
END $fn$;

-- FactorStore.addFactor: drop dead pending factors, then add within the limits ('added',
-- 'limit', or 'duplicate' for an id the user already has).
CREATE OR REPLACE FUNCTION ${n.fn('add_factor')}(p_user text, p_id text, p_type text, p_label text, p_status text,
  p_sealed text, p_hint text, p_algorithm text, p_digits integer, p_period integer, p_created bigint, p_confirmed bigint,
  p_expires bigint, p_max_pending integer, p_max_confirmed integer, p_now bigint)
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE v_pending bigint; v_confirmed bigint; v_bad bigint; v_dup boolean;
BEGIN
  ${userLock('p_user')};
  DELETE FROM ${F} WHERE user_id = p_user AND status::text = 'pending'
    AND ${int}(expires_at::text, 'factors.expires_at', 0, ${MAX_SAFE}, true) <= p_now;
  SELECT count(*) FILTER (WHERE status::text = 'pending'), count(*) FILTER (WHERE status::text = 'confirmed'),
      count(*) FILTER (WHERE status IS NULL OR status::text NOT IN ('pending', 'confirmed')), coalesce(bool_or(id = p_id), false)
    INTO v_pending, v_confirmed, v_bad, v_dup FROM ${F} WHERE user_id = p_user;
  IF v_bad > 0 THEN ${raise('factors.status')}; END IF;
  IF v_dup THEN RETURN 'duplicate'; END IF;
  IF (p_status = 'pending' AND v_pending >= p_max_pending) OR (p_status = 'confirmed' AND v_confirmed >= p_max_confirmed) THEN
    RETURN 'limit';
  END IF;
  INSERT INTO ${F} (user_id, id, type, label, status, sealed_secret, hint, algorithm, digits, period, created_at, confirmed_at, expires_at)
    VALUES (p_user, p_id, p_type, p_label, p_status, p_sealed, p_hint, p_algorithm, p_digits, p_period, p_created, p_confirmed, p_expires);
  RETURN 'added';
END $fn$;

-- FactorStore.confirmFactor: a live pending factor, within the user's limit of confirmed ones.
CREATE OR REPLACE FUNCTION ${n.fn('confirm_factor')}(p_user text, p_id text, p_now bigint, p_max_confirmed integer)
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE f record; v_confirmed bigint;
BEGIN
  ${userLock('p_user')};
  SELECT t.*, count(*) OVER () AS n INTO f FROM (SELECT status::text AS status, expires_at::text AS expires_at
    FROM ${F} WHERE user_id = p_user AND id = p_id FOR UPDATE) AS t;
  IF NOT FOUND THEN RETURN 'not-found'; END IF;
  IF f.n > 1 THEN ${raise('factors (duplicate rows)')}; END IF;
  IF f.status IS NULL OR f.status NOT IN ('pending', 'confirmed') THEN ${raise('factors.status')}; END IF;
  IF f.status <> 'pending' THEN RETURN 'not-found'; END IF;
  IF ${int}(f.expires_at, 'factors.expires_at', 0, ${MAX_SAFE}, true) <= p_now THEN RETURN 'expired'; END IF;
  SELECT count(*) INTO v_confirmed FROM ${F} WHERE user_id = p_user AND status::text = 'confirmed';
  IF v_confirmed >= p_max_confirmed THEN RETURN 'limit'; END IF;
  UPDATE ${F} SET status = 'confirmed', confirmed_at = p_now, expires_at = NULL WHERE user_id = p_user AND id = p_id;
  RETURN 'confirmed';
END $fn$;
`;
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
