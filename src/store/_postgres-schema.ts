/**
 * The PostgreSQL store's schema: its tables and the PL/pgSQL functions that make each decision
 * in one statement, with the names, limits and SQLSTATE the store shares with them.
 * @module
 * @internal
 */
import {
  MAX_CHALLENGE_IDS,
  MAX_DRIFT,
  MAX_HINT,
  MAX_LABEL,
  MAX_PAYLOAD,
  MAX_SEALED,
} from './_shared.js';

/** The largest stored time, step or count: exact in a JavaScript number. */
export const MAX_SAFE: number = Number.MAX_SAFE_INTEGER;
/** The largest `integer` (int4) column value. */
export const MAX_INT4: number = 2 ** 31 - 1;
/** Key of the advisory locks: the migration's (one bigint key) and each user's (this, hashtext(prefix || user)). */
export const LOCK_KEY = 0x6f74706b; // 'otpk'
/** SQLSTATE the functions raise for a malformed stored value; the message names the column only. */
export const CORRUPT_STATE = 'OTPKC';

export interface Names {
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

export function names(prefix: string): Names {
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
export const raise = (what: string): string =>
  `RAISE EXCEPTION USING ERRCODE = '${CORRUPT_STATE}', MESSAGE = '${what}'`;

export function schemaSql(prefix: string): string {
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
