/**
 * The PostgreSQL store against a real server (OTPKIT_PG_URL, started by .ci/run): the full store
 * contract on a Pool and on a single Client, the migration, prefix validation, the 2^64−1
 * counter, tampered rows, failure counts that survive a caller's rollback (CVE-2026-35597), and
 * exact counting under 100 concurrent wrong codes. Every run uses its own random table prefix and
 * drops its tables at the end.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtpkitError } from '../../src/errors.js';
import { generateHOTP } from '../../src/hotp.js';
import { createPostgresStore, migratePostgres, postgresSchema, type PgQueryable, type PostgresStore } from '../../src/store/postgres.js';
import { storeContract } from '../../src/testing.js';
import { generateTOTP } from '../../src/totp.js';
import { createVerifier, OTP_SCOPE } from '../../src/verifier.js';
import { describeWithEnv } from './_servers.js';
const S = (codes: { id: string; hash: string }[], setId = 's1') => ({ setId, issuedAt: 0, total: codes.length, codes });

const SECRET = new Uint8Array(20).map((_, i) => i * 11 + 3);
const T = Date.UTC(2031, 5, 1);
const MAX = (1n << 64n) - 1n;
const run = Math.random().toString(36).slice(2, 8);
let prefixSeq = 0;
/** A fresh table prefix for this run (dropped in afterAll). */
const newPrefix = (): string => `otpkit_t${run}_${++prefixSeq}_`;

/** A well-formed 6-digit code that matches no step in ±2 of `now` (for wrong-code attempts). */
function wrongCode(now: number): string {
  const near = new Set(Array.from({ length: 5 }, (_, i) => generateTOTP(SECRET, { now: now + (i - 2) * 30_000 })));
  for (let i = 0; ; i++) {
    const c = String(i).padStart(6, '0');
    if (!near.has(c)) return c;
  }
}

async function expectStoreError(p: Promise<unknown>, code: 'ERR_STORE' | 'ERR_STORE_TIMEOUT' | 'ERR_STORE_CORRUPT'): Promise<OtpkitError> {
  const e: unknown = await p.then(
    (v) => {
      throw new Error(`expected ${code}, resolved ${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x))}`);
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OtpkitError);
  expect((e as OtpkitError).code).toBe(code);
  return e as OtpkitError;
}

// Compile-time: pg's Pool, Client and PoolClient all fit the structural type.
const _fits = (p: pg.Pool, c: pg.Client, pc: pg.PoolClient): PgQueryable[] => [p, c, pc];
void _fits;

describeWithEnv('OTPKIT_PG_URL', 'PostgreSQL store', (url) => {
  const prefixes: string[] = [];
  let pool!: pg.Pool;
  const migrated = async (client: PgQueryable = pool): Promise<string> => {
    const prefix = newPrefix();
    prefixes.push(prefix);
    await migratePostgres(client, { prefix });
    return prefix;
  };

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: url, max: 20 });
  });
  afterAll(async () => {
    if (pool === undefined) return;
    try {
      for (const p of prefixes)
        await pool.query(`DROP TABLE IF EXISTS "${p}credentials", "${p}throttle", "${p}recovery_sets", "${p}recovery_codes"`);
    } finally {
      await pool.end();
    }
  });

  describe('the store contract on a pg.Pool', () => {
    let store!: PostgresStore;
    beforeAll(async () => {
      store = createPostgresStore({ client: pool, prefix: await migrated() });
    });
    for (const c of storeContract(() => store)) it(c.name, c.run, c.timeoutMs);
  });

  describe('the store contract on a single pg.Client (queries serialised on one connection)', () => {
    let client!: pg.Client;
    let store!: PostgresStore;
    beforeAll(async () => {
      client = new pg.Client({ connectionString: url });
      await client.connect();
      store = createPostgresStore({ client, prefix: await migrated(client) });
    });
    afterAll(async () => {
      await client?.end();
    });
    for (const c of storeContract(() => store)) it(c.name, c.run, c.timeoutMs);
  });

  describe('schema and migration', () => {
    it('is idempotent: migrating twice, and four times at once, keeps the tables and their rows', async () => {
      const prefix = await migrated();
      const store = createPostgresStore({ client: pool, prefix });
      expect(await store.claimTotpStep('m', 'c', 7)).toBe(true);
      await migratePostgres(pool, { prefix });
      await Promise.all(Array.from({ length: 4 }, () => migratePostgres(pool, { prefix })));
      expect((await store.getState('m', 'c', 'c')).lastStep).toBe(7);
      // The plain SQL runs twice too (for users who paste it into their migration tool).
      await pool.query(postgresSchema({ prefix }));
      await pool.query(postgresSchema({ prefix }));
      // Racing first-time migrations of a fresh prefix do not collide (advisory lock).
      const fresh = newPrefix();
      prefixes.push(fresh);
      await Promise.all(Array.from({ length: 4 }, () => migratePostgres(pool, { prefix: fresh })));
      expect(await createPostgresStore({ client: pool, prefix: fresh }).claimTotpStep('m', 'c', 1)).toBe(true);
    });

    it('creates the documented columns', async () => {
      const prefix = await migrated();
      const { rows } = await pool.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
        `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
         WHERE table_name LIKE $1 ORDER BY table_name, ordinal_position`,
        [`${prefix.replaceAll('_', '\\_')}%`],
      );
      const cols = rows.map((r) => `${r.table_name.slice(prefix.length)}.${r.column_name}:${r.data_type}:${r.is_nullable}`);
      expect(cols).toEqual([
        'credentials.user_id:text:NO',
        'credentials.credential_id:text:NO',
        'credentials.last_step:bigint:YES',
        'credentials.hotp_counter:numeric:YES',
        'credentials.drift:smallint:NO',
        'recovery_codes.user_id:text:NO',
        'recovery_codes.set_id:text:NO',
        'recovery_codes.id:text:NO',
        'recovery_codes.hash:text:NO',
        'recovery_sets.user_id:text:NO',
        'recovery_sets.set_id:text:NO',
        'recovery_sets.issued_at:bigint:NO',
        'recovery_sets.total:integer:NO',
        'throttle.user_id:text:NO',
        'throttle.scope:text:NO',
        'throttle.failures:integer:NO',
        'throttle.last_failure_at:bigint:NO',
      ]);
      // The CHECKs hold: a direct write of an out-of-range value is refused by the server.
      await expect(pool.query(`INSERT INTO "${prefix}credentials" (user_id, credential_id, hotp_counter) VALUES ('x', 'y', 18446744073709551616)`)).rejects.toThrow(/check constraint/);
      await expect(pool.query(`INSERT INTO "${prefix}credentials" (user_id, credential_id, drift) VALUES ('x', 'y', 11)`)).rejects.toThrow(/check constraint/);
      await expect(pool.query(`INSERT INTO "${prefix}throttle" VALUES ('x', 'y', -1, 0)`)).rejects.toThrow(/check constraint/);
    });

    it('uses the default prefix otpkit_', () => {
      expect(postgresSchema()).toContain('CREATE TABLE IF NOT EXISTS "otpkit_credentials"');
      expect(postgresSchema()).toContain('"otpkit_recovery_codes"');
      expect(postgresSchema({ prefix: 'auth_' })).toContain('CREATE TABLE IF NOT EXISTS "auth_throttle"');
    });

    it('reports a missing table as ERR_STORE with the SQLSTATE', async () => {
      const store = createPostgresStore({ client: pool, prefix: `nothere_${run}_` });
      const e = await expectStoreError(store.getState('u', 'c', 'c'), 'ERR_STORE');
      expect(e.message).toMatch(/SQLSTATE 42P01/);
      await expectStoreError(store.claimTotpStep('u', 'c', 1), 'ERR_STORE');
    });
  });

  describe('options', () => {
    const ok = ['a', '_', 'otpkit_', 'app_2fa_', 'a'.repeat(41)];
    const bad = ['', 'A', 'Otpkit_', '1abc', 'a-b', 'a b', 'a"b', 'a;drop', 'ä_', 'a'.repeat(42), 'a.b'];
    it.each(ok)('accepts prefix %j', (prefix) => {
      expect(() => createPostgresStore({ client: pool, prefix })).not.toThrow();
      expect(postgresSchema({ prefix })).toContain(`"${prefix}credentials"`);
    });
    it.each(bad)('rejects prefix %j with a RangeError', async (prefix) => {
      expect(() => createPostgresStore({ client: pool, prefix })).toThrow(RangeError);
      expect(() => postgresSchema({ prefix })).toThrow(RangeError);
      await expect(migratePostgres(pool, { prefix })).rejects.toThrow(RangeError);
    });
    it('rejects wrong types and unknown options', async () => {
      for (const prefix of [42, null, ['a'], {}])
        expect(() => createPostgresStore({ client: pool, prefix: prefix as unknown as string })).toThrow(TypeError);
      expect(() => createPostgresStore({ client: {} as PgQueryable })).toThrow(TypeError);
      expect(() => createPostgresStore({ client: null as unknown as PgQueryable })).toThrow(TypeError);
      expect(() => createPostgresStore(undefined as unknown as { client: PgQueryable })).toThrow(TypeError);
      expect(() => createPostgresStore({ client: pool, prefx: 'a_' } as unknown as { client: PgQueryable })).toThrow(RangeError);
      expect(() => postgresSchema({ prefx: 'a_' } as unknown as { prefix: string })).toThrow(RangeError);
      await expect(migratePostgres({} as PgQueryable)).rejects.toThrow(TypeError);
    });
    it('says it is distributed-safe', () => {
      expect(createPostgresStore({ client: pool }).distributedSafe).toBe(true);
    });
  });

  describe('values', () => {
    let prefix!: string;
    let store!: PostgresStore;
    beforeAll(async () => {
      prefix = await migrated();
      store = createPostgresStore({ client: pool, prefix });
    });

    it('round-trips the HOTP counter 2^64−1 exactly (decimal text, numeric(20,0))', async () => {
      expect(await store.compareAndSetHotpCounter('big', 'c', null, MAX)).toBe(true);
      expect((await store.getState('big', 'c', 'c')).hotpCounter).toBe(MAX);
      const raw = await pool.query(`SELECT hotp_counter::text AS v FROM "${prefix}credentials" WHERE user_id = 'big'`);
      expect(raw.rows[0].v).toBe('18446744073709551615');
      // Just above 2^53 and 2^63: no float or signed-bigint rounding anywhere.
      expect(await store.compareAndSetHotpCounter('big', 'c', MAX, 9007199254740993n)).toBe(true);
      expect((await store.getState('big', 'c', 'c')).hotpCounter).toBe(9007199254740993n);
      expect(await store.compareAndSetHotpCounter('big', 'c', 9007199254740992n, 1n)).toBe(false);
      expect(await store.compareAndSetHotpCounter('big', 'c', 9007199254740993n, 1n << 63n)).toBe(true);
      expect((await store.getState('big', 'c', 'c')).hotpCounter).toBe(1n << 63n);
      expect(await store.compareAndSetHotpCounter('big', 'c', 1n << 63n, MAX)).toBe(true);
      // 2^64 never reaches the server.
      await expect(store.compareAndSetHotpCounter('big', 'c', MAX, MAX + 1n)).rejects.toThrow(RangeError);
      await expect(store.compareAndSetHotpCounter('big', 'c', -1n, 0n)).rejects.toThrow(RangeError);
      await expect(store.compareAndSetHotpCounter('big', 'c', MAX, 5 as unknown as bigint)).rejects.toThrow(TypeError);
      expect((await store.getState('big', 'c', 'c')).hotpCounter).toBe(MAX);
    });

    it('verifies HOTP through the verifier up to the counter 2^64−1', async () => {
      const v = createVerifier({ store });
      const r = await v.verifyHOTP({ userId: 'hotp-top', secret: SECRET, token: generateHOTP(SECRET, MAX - 1n), initialCounter: MAX - 3n });
      expect(r).toEqual({ ok: true, counter: MAX - 1n, next: MAX });
      expect((await store.getState('hotp-top', 'default', 'default')).hotpCounter).toBe(MAX);
    });

    it('keeps ids that differ only in characters exactly (no collation or trimming)', async () => {
      const ids = ['a', 'A', 'a ', ' a', 'ä', 'a\u0308', '\u{1F600}', "o'brien", 'x"y', '%', '_'];
      for (const id of ids) expect(await store.claimTotpStep(id, 'c', 1)).toBe(true);
      for (const id of ids) expect(await store.claimTotpStep(id, 'c', 1)).toBe(false);
    });

    it('refuses ids PostgreSQL cannot store distinctly (NUL, lone surrogates) before any query', async () => {
      for (const id of ['a\u0000', 'a\uD800', 'a\uDC00b', '\uDBFF'])
        await expect(store.claimTotpStep(id, 'c', 1)).rejects.toThrow(RangeError);
      // The verifier refuses such ids itself, before any store call, for every store alike.
      const v = createVerifier({ store });
      const token = generateTOTP(SECRET, { now: T });
      await expect(v.verifyTOTP({ userId: 'u\uD800', secret: SECRET, token, now: T })).rejects.toThrow(RangeError);
      await expect(store.claimTotpStep('u', 'c', -1)).rejects.toThrow(RangeError);
      await expect(store.claimTotpStep('u', 'c', 1.5)).rejects.toThrow(RangeError);
      await expect(store.setDrift('u', 'c', 11)).rejects.toThrow(RangeError);
      await expect(store.replaceRecoveryCodes('u', S([{ id: 'x', hash: 'h' }, { id: 'x', hash: 'h2' }]), null)).rejects.toThrow(RangeError);
    });

    it('maps a statement stuck behind a row lock to ERR_STORE_TIMEOUT (statement_timeout)', async () => {
      const slow = new pg.Pool({ connectionString: url, max: 2, statement_timeout: 300 });
      const locker = await pool.connect();
      try {
        const s = createPostgresStore({ client: slow, prefix });
        await s.recordFailure('locked-row', 'c', T);
        await locker.query('BEGIN');
        await locker.query(`SELECT 1 FROM "${prefix}throttle" WHERE user_id = 'locked-row' FOR UPDATE`);
        await expectStoreError(s.recordFailure('locked-row', 'c', T), 'ERR_STORE_TIMEOUT');
        await locker.query('ROLLBACK');
        expect(await s.recordFailure('locked-row', 'c', T)).toBe(2);
      } finally {
        locker.release();
        await slow.end();
      }
    });
  });

  describe('tampered rows', () => {
    let prefix!: string;
    let store!: PostgresStore;
    const q = (text: string): Promise<unknown> => pool.query(text);
    const tbl = (name: string): string => `"${prefix}${name}"`;

    beforeAll(async () => {
      prefix = await migrated();
      store = createPostgresStore({ client: pool, prefix });
      // What an attacker (or a bad manual fix) with DDL rights does: drop every CHECK and NOT NULL.
      const { rows } = await pool.query<{ rel: string; name: string }>(
        `SELECT c.relname AS rel, con.conname AS name FROM pg_constraint AS con JOIN pg_class AS c ON c.oid = con.conrelid
         WHERE con.contype = 'c' AND c.relname LIKE $1`,
        [`${prefix.replaceAll('_', '\\_')}%`],
      );
      expect(rows.length).toBe(7); // last_step, hotp_counter, drift, failures, last_failure_at, issued_at, total
      for (const r of rows) await q(`ALTER TABLE "${r.rel}" DROP CONSTRAINT "${r.name}"`);
      await q(`ALTER TABLE ${tbl('throttle')} ALTER COLUMN failures DROP NOT NULL, ALTER COLUMN last_failure_at DROP NOT NULL`);
      await q(`ALTER TABLE ${tbl('credentials')} ALTER COLUMN drift DROP NOT NULL`);
      await q(`ALTER TABLE ${tbl('recovery_codes')} ALTER COLUMN hash DROP NOT NULL`);
    });

    /** The tampered state must fail closed at the store AND through every verifier path. */
    const expectCorrupt = async (user: string): Promise<void> => {
      await expectStoreError(store.getState(user, 'c', OTP_SCOPE), 'ERR_STORE_CORRUPT');
      const v = createVerifier({ store, now: () => T });
      await expectStoreError(v.verifyTOTP({ userId: user, credentialId: 'c', secret: SECRET, token: generateTOTP(SECRET, { now: T }) }), 'ERR_STORE_CORRUPT');
      await expectStoreError(v.verifyHOTP({ userId: user, credentialId: 'c', secret: SECRET, token: generateHOTP(SECRET, 0) }), 'ERR_STORE_CORRUPT');
    };
    const throttleRow = async (user: string, failures: string, at: string): Promise<void> => {
      await q(`INSERT INTO ${tbl('throttle')} VALUES ('${user}', '${OTP_SCOPE}', ${failures}, ${at})`);
    };
    const credentialRow = async (user: string, cols: string, vals: string): Promise<void> => {
      await q(`INSERT INTO ${tbl('credentials')} (user_id, credential_id, ${cols}) VALUES ('${user}', 'c', ${vals})`);
    };

    it('negative failures', async () => {
      await throttleRow('neg', '-5', '0');
      await expectCorrupt('neg');
      // recordFailure's own increment result (-4) is refused too: never a valid count.
      await expectStoreError(store.recordFailure('neg', OTP_SCOPE, T), 'ERR_STORE_CORRUPT');
    });
    it('failures NULL in an existing row (not "no row")', async () => {
      await throttleRow('nullfail', 'NULL', '0');
      await expectCorrupt('nullfail');
    });
    it('negative last_failure_at', async () => {
      await throttleRow('negat', '1', '-1');
      await expectCorrupt('negat');
    });
    it('drift out of range, and NULL drift', async () => {
      await credentialRow('drift', 'drift', '50');
      await expectCorrupt('drift');
      await credentialRow('drift2', 'drift', '-11');
      await expectCorrupt('drift2');
      await credentialRow('drift3', 'drift', 'NULL');
      await expectCorrupt('drift3');
    });
    it('negative HOTP counter and a counter above 2^64−1', async () => {
      await credentialRow('negc', 'hotp_counter', '-5');
      await expectCorrupt('negc');
      await credentialRow('bigc', 'hotp_counter', '18446744073709551616');
      await expectCorrupt('bigc');
    });
    it('negative and unsafe last_step', async () => {
      await credentialRow('negs', 'last_step', '-1');
      await expectCorrupt('negs');
      await credentialRow('unsafe', 'last_step', '9007199254740993');
      await expectCorrupt('unsafe');
    });
    it('a duplicated row (primary key dropped)', async () => {
      await q(`ALTER TABLE ${tbl('throttle')} DROP CONSTRAINT "${prefix}throttle_pkey"`);
      try {
        await throttleRow('dup', '1', '0');
        await throttleRow('dup', '2', '0');
        await expectCorrupt('dup');
      } finally {
        await q(`DELETE FROM ${tbl('throttle')} WHERE user_id = 'dup'`);
        await q(`ALTER TABLE ${tbl('throttle')} ADD PRIMARY KEY (user_id, scope)`);
      }
    });
    it('non-integer numeric counter and wrong column types', async () => {
      await q(`ALTER TABLE ${tbl('credentials')} ALTER COLUMN hotp_counter TYPE numeric`);
      await credentialRow('frac', 'hotp_counter', '5.5');
      await expectCorrupt('frac');
      await credentialRow('frac0', 'hotp_counter', '5.0');
      await expectCorrupt('frac0');
      await credentialRow('nan', 'hotp_counter', "'NaN'");
      await expectCorrupt('nan');

      await q(`ALTER TABLE ${tbl('credentials')} ALTER COLUMN last_step TYPE text`);
      const texts: ReadonlyArray<readonly [string, string]> = [['txt1', 'abc'], ['txt2', ' 12'], ['txt3', '1e3'], ['txt4', '0x10'], ['txt5', '+5'], ['txt6', '07']];
      for (const [user, value] of texts) {
        await credentialRow(user, 'last_step', `'${value}'`);
        await expectCorrupt(user);
      }
      // A text column holding a valid number still compares numerically (the statement casts):
      // '100' > '99' as text would otherwise let step 99 replay after 100.
      await credentialRow('txtnum', 'last_step', "'100'");
      expect((await store.getState('txtnum', 'c', 'c')).lastStep).toBe(100);
      expect(await store.claimTotpStep('txtnum', 'c', 99)).toBe(false);
      expect(await store.claimTotpStep('txtnum', 'c', 101)).toBe(true);

      await q(`ALTER TABLE ${tbl('throttle')} ALTER COLUMN failures TYPE text`);
      await throttleRow('tfail', "'3.0'", '0');
      await expectCorrupt('tfail');
      await throttleRow('tfail2', "'three'", '0');
      await expectCorrupt('tfail2');
      await expectStoreError(store.recordFailure('tfail2', OTP_SCOPE, T), 'ERR_STORE');
    });
    it('malformed recovery-code rows, never naming a stored hash', async () => {
      const marker = '$scrypt$ln=1,r=1,p=1$SECRETSALT$SECRETHASHMARKER';
      await store.replaceRecoveryCodes('rc', S([
        { id: 'good', hash: marker },
        { id: 'bad', hash: 'placeholder' },
      ]), null);
      await q(`UPDATE ${tbl('recovery_codes')} SET hash = NULL WHERE user_id = 'rc' AND id = 'bad'`);
      const e = await expectStoreError(store.getRecoveryCodeSet('rc'), 'ERR_STORE_CORRUPT');
      expect(e.message).not.toContain('SECRET');
      const v = createVerifier({ store, now: () => T });
      const r = await v.redeemRecoveryCode({ userId: 'rc', code: 'ABCD-EFGH-JKMN-PQRS' }).then(
        (x) => x,
        (err: unknown) => err,
      );
      expect(r).toBeInstanceOf(OtpkitError);
      expect((r as OtpkitError).code).toBe('ERR_STORE_CORRUPT');
      expect(String(r)).not.toContain('SECRET');
      await q(`UPDATE ${tbl('recovery_codes')} SET hash = '' WHERE user_id = 'rc' AND id = 'bad'`);
      await expectStoreError(store.getRecoveryCodeSet('rc'), 'ERR_STORE_CORRUPT');
    });
    it('a server-side rejection of a recovery-code write never carries the hash (pg detail scrubbed)', async () => {
      await q(`ALTER TABLE ${tbl('recovery_codes')} ADD CONSTRAINT no_marker CHECK (hash NOT LIKE '%FORBIDDEN%')`);
      const e = await expectStoreError(store.replaceRecoveryCodes('scrub', S([{ id: 'x', hash: '$scrypt$SALT$FORBIDDENHASH' }]), null), 'ERR_STORE');
      expect(e.message).toMatch(/SQLSTATE 23514/);
      expect(e.message).not.toContain('FORBIDDENHASH');
      expect(JSON.stringify(e.cause)).not.toContain('FORBIDDENHASH');
      expect(String((e.cause as { detail?: unknown }).detail)).not.toContain('FORBIDDENHASH');
    });
  });

  describe('failure counts and transactions (REQUIREMENTS #40, CVE-2026-35597)', () => {
    let prefix!: string;
    beforeAll(async () => {
      prefix = await migrated();
    });

    it("a failure counted during a caller's transaction survives its ROLLBACK (store on the Pool)", async () => {
      const store = createPostgresStore({ client: pool, prefix });
      const verifier = createVerifier({ store });
      const app = new pg.Client({ connectionString: url });
      await app.connect();
      try {
        // The app's login transaction: audit row, verification, then a rollback because login failed.
        await app.query('BEGIN');
        await app.query(`INSERT INTO "${prefix}throttle" VALUES ('audit-only', 'x', 0, 0)`);
        const r = await verifier.verifyTOTP({ userId: 'rollback', secret: SECRET, token: wrongCode(T), now: T });
        expect(r).toEqual({ ok: false, reason: 'invalid' });
        await app.query('ROLLBACK');
      } finally {
        await app.end();
      }
      expect((await store.getState('rollback', 'default', OTP_SCOPE)).failures).toBe(1);
      expect((await store.getState('audit-only', 'x', 'x')).failures).toBe(0); // the app's own write did roll back
    });

    it('why the docs insist on a Pool: a store on the transaction\'s own client loses the count', async () => {
      const app = new pg.Client({ connectionString: url });
      await app.connect();
      try {
        const wrongStore = createPostgresStore({ client: app, prefix });
        const verifier = createVerifier({ store: wrongStore });
        await app.query('BEGIN');
        await verifier.verifyTOTP({ userId: 'lost', secret: SECRET, token: wrongCode(T), now: T });
        expect((await wrongStore.getState('lost', 'default', OTP_SCOPE)).failures).toBe(1);
        await app.query('ROLLBACK');
      } finally {
        await app.end();
      }
      expect((await createPostgresStore({ client: pool, prefix }).getState('lost', 'default', OTP_SCOPE)).failures).toBe(0);
    });

    it('100 concurrent wrong codes through createVerifier: exactly 100 failures, then locked', async () => {
      const store = createPostgresStore({ client: pool, prefix });
      const verifier = createVerifier({ store, throttle: { maxFailures: 100, freeFailures: 100 } });
      const token = wrongCode(T);
      const results = await Promise.all(
        Array.from({ length: 100 }, () => verifier.verifyTOTP({ userId: 'hundred', secret: SECRET, token, now: T })),
      );
      expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(Array(100).fill('invalid'));
      expect((await store.getState('hundred', 'default', OTP_SCOPE)).failures).toBe(100);
      const raw = await pool.query(`SELECT failures FROM "${prefix}throttle" WHERE user_id = 'hundred'`);
      expect(raw.rows).toEqual([{ failures: 100 }]);
      const good = await verifier.verifyTOTP({ userId: 'hundred', secret: SECRET, token: generateTOTP(SECRET, { now: T }), now: T });
      expect(good).toEqual({ ok: false, reason: 'locked' });
    });
  });
});
