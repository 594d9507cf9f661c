/**
 * The PostgreSQL store against a real server (OTPKIT_PG_URL, started by .ci/run): the shared
 * OtpStore, FactorStore and two-factor flow contracts, a single Client one call at a time, one
 * statement per decision (createVerifier, createTwoFactor and every method), the schema and its CHECKs, prefix validation, values PostgreSQL must
 * keep exactly (2^64 − 1, ids that differ in one character, byte-order scans), ids it cannot
 * store refused before any query, timeouts, tampered rows that fail closed, scrubbed server
 * detail, failure counts that survive a caller's rollback (CVE-2026-35597), per-user limits and
 * lock order under concurrency, and erasure of every row of a user. Every run uses its own
 * random prefix and drops its tables and functions at the end.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtpkitError } from '../../src/errors.js';
import { generateHOTP } from '../../src/hotp.js';
import {
  createPostgresStore,
  migratePostgres,
  postgresSchema,
  type PgQueryable,
  type PostgresStore,
} from '../../src/store/postgres.js';
import type { FactorRecord } from '../../src/store/types.js';
import { factorStoreContract, storeContract, twoFactorContract } from '../../src/testing.js';
import { decodeBase32 } from '../../src/base32.js';
import { createTwoFactor } from '../../src/twofactor/twofactor.js';
import { generateTOTP } from '../../src/totp.js';
import { createVerifier, OTP_SCOPE, RECOVERY_SCOPE } from '../../src/verifier/verifier.js';
import { expectOneRegenerationWins, expectPerCallNowValidated } from '../_helpers.js';
import { describeWithEnv } from './_servers.js';
import { counting, dropPrefix, like, ownedBy, prefixes, TABLES } from './postgres.helpers.js';
import { purgeCases, type PurgeTarget } from './purge.shared.js';
import {
  attempt,
  beginOn,
  challenge,
  device,
  factor,
  hex,
  LIMITS,
  MAX,
  POLICY,
  RULE,
  S,
  SECRET,
  settleOn,
  STEP,
  T,
} from './records.js';

const newPrefix = prefixes('otpkit_t');

/** A well-formed 6-digit code that matches no step in ±2 of `now` (for wrong-code attempts). */
function wrongCode(now: number): string {
  const near = new Set(
    Array.from({ length: 5 }, (_, i) => generateTOTP(SECRET, { now: now + (i - 2) * 30_000 })),
  );
  for (let i = 0; ; i++) {
    const c = String(i).padStart(6, '0');
    if (!near.has(c)) return c;
  }
}

async function expectStoreError(
  p: Promise<unknown>,
  code: 'ERR_STORE' | 'ERR_STORE_TIMEOUT' | 'ERR_STORE_CORRUPT',
): Promise<OtpkitError> {
  const e: unknown = await p.then(
    (v) => {
      throw new Error(
        `expected ${code}, resolved ${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x))}`,
      );
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OtpkitError);
  expect((e as OtpkitError).code, String(e)).toBe(code);
  return e as OtpkitError;
}

// Compile-time: pg's Pool, Client and PoolClient all fit the structural type.
const _fits = (p: pg.Pool, c: pg.Client, pc: pg.PoolClient): PgQueryable[] => [p, c, pc];
void _fits;

describeWithEnv('OTPKIT_PG_URL', 'PostgreSQL store', (url) => {
  const made: string[] = [];
  let pool!: pg.Pool;
  const migrated = async (client: PgQueryable = pool): Promise<string> => {
    const prefix = newPrefix();
    made.push(prefix);
    await migratePostgres(client, { prefix });
    return prefix;
  };
  const fresh = async (): Promise<{ prefix: string; store: PostgresStore }> => {
    const prefix = await migrated();
    return { prefix, store: createPostgresStore({ client: pool, prefix }) };
  };
  /** A transaction on a connection of its own, holding the row `SELECT 1 FROM <row> FOR UPDATE` locks. */
  const holding = async (row: string, params: unknown[] = []): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('BEGIN');
    await c.query(`SELECT 1 FROM ${row} FOR UPDATE`, params);
    return c;
  };

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: url, max: 20 });
  });
  afterAll(async () => {
    if (pool === undefined) return;
    try {
      for (const p of made) await dropPrefix(pool, p);
    } finally {
      await pool.end();
    }
  });

  describe('the OtpStore contract on a pg.Pool', () => {
    let store!: PostgresStore;
    beforeAll(async () => {
      store = (await fresh()).store;
    });
    for (const c of storeContract(() => store)) it(c.name, c.run, c.timeoutMs);
  });

  describe('the OtpStore contract on a pg.Pool with prepared statements (prepare: true)', () => {
    let store!: PostgresStore;
    beforeAll(async () => {
      store = createPostgresStore({ client: pool, prefix: await migrated(), prepare: true });
    });
    for (const c of storeContract(() => store)) it(c.name, c.run, c.timeoutMs);
  });

  it('prepare: true runs each statement as one named prepared statement per connection', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const prefix = await migrated(client);
      const prepared = async (): Promise<string[]> =>
        (
          await client.query<{ name: string }>(
            `SELECT name FROM pg_prepared_statements WHERE name LIKE $1 ORDER BY name`,
            [`${prefix}%`],
          )
        ).rows.map((r) => r.name);
      const plain = createVerifier({ store: createPostgresStore({ client, prefix }) });
      const token = generateTOTP(SECRET, { now: T });
      expect((await plain.verifyTOTP({ userId: 'p', secret: SECRET, token, now: T })).ok).toBe(
        true,
      );
      expect(await prepared()).toEqual([]);
      const v = createVerifier({ store: createPostgresStore({ client, prefix, prepare: true }) });
      // A second store on the same connection gives the same text the same name (no clash).
      const again = createVerifier({
        store: createPostgresStore({ client, prefix, prepare: true }),
      });
      for (const [i, verifier] of [v, again, v].entries()) {
        const now = T + (i + 1) * 30_000;
        const code = generateTOTP(SECRET, { now });
        expect(
          await verifier.verifyTOTP({ userId: 'p', secret: SECRET, token: code, now }),
        ).toEqual({
          ok: true,
          delta: 0,
          step: STEP + i + 1,
        });
        expect(
          await verifier.verifyTOTP({ userId: 'p', secret: SECRET, token: code, now }),
        ).toEqual({ ok: false, reason: 'replayed' });
      }
      const names = await prepared();
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(new RegExp(`^${prefix}[0-9a-f]{16}$`));
    } finally {
      await client.end();
    }
  });

  describe('the FactorStore contract on a pg.Pool', () => {
    let store!: PostgresStore;
    beforeAll(async () => {
      store = (await fresh()).store;
    });
    for (const c of factorStoreContract(() => store)) it(c.name, c.run, c.timeoutMs);
  });

  it('concurrent regenerations through a verifier on a pg.Pool: one set is stored, the others throw ERR_CONFLICT', async () => {
    await expectOneRegenerationWins((await fresh()).store, createVerifier, 'regen-race');
  });

  it('a bad per-call now is TypeError/RangeError, never ERR_STORE; a fractional one corrupts nothing', async () => {
    const { store } = await fresh();
    await expectPerCallNowValidated(store, createVerifier, generateTOTP, 'bad-now');
  });

  it('works on a single pg.Client, one call at a time (pg deprecates concurrent queries on one Client)', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const store = createPostgresStore({ client, prefix: await migrated(client) });
      const v = createVerifier({ store, recoveryHash: { logN: 10 } });
      const token = generateTOTP(SECRET, { now: T });
      expect(await v.verifyTOTP({ userId: 'client', secret: SECRET, token, now: T })).toEqual({
        ok: true,
        delta: 0,
        step: STEP,
      });
      expect(await v.verifyTOTP({ userId: 'client', secret: SECRET, token, now: T })).toEqual({
        ok: false,
        reason: 'replayed',
      });
      expect(
        (
          await v.verifyHOTP({
            userId: 'client',
            credentialId: 'h',
            secret: SECRET,
            token: generateHOTP(SECRET, 0),
            now: T,
          })
        ).ok,
      ).toBe(true);
      const [code] = await v.issueRecoveryCodes({ userId: 'client', count: 2, now: T });
      expect(
        await v.redeemRecoveryCode({ userId: 'client', code: code as string, now: T }),
      ).toEqual({ ok: true, remaining: 1 });
      expect(await store.addFactor(factor('client', 'f'), LIMITS, T)).toBe('added');
      expect(await store.confirmFactor('client', 'f', T, 5)).toBe('confirmed');
    } finally {
      await client.end();
    }
  });

  describe('the two-factor flow contract on PostgreSQL (one store; and the registry apart from the hot state)', () => {
    // A fresh schema per case, as the suite expects: app-wide send quotas and factor scans span a store.
    for (const c of twoFactorContract(async () => ({ store: (await fresh()).store }), {
      userPrefix: 'flow-one',
    }))
      it(c.name, c.run, c.timeoutMs);
    for (const c of twoFactorContract(
      async () => ({ factors: (await fresh()).store, state: (await fresh()).store }),
      { userPrefix: 'flow-two' },
    ))
      it(`apart: ${c.name}`, c.run, c.timeoutMs);
    for (const c of twoFactorContract(
      async () => ({
        store: createPostgresStore({ client: pool, prefix: await migrated(), prepare: true }),
      }),
      { userPrefix: 'flow-prepared' },
    ))
      it(`prepared statements: ${c.name}`, c.run, c.timeoutMs);
  });

  describe('one statement per decision', () => {
    let prefix!: string;
    beforeAll(async () => {
      prefix = await migrated();
    });

    it('a createVerifier TOTP attempt is ONE statement: success, wrong code, replay, refusal', async () => {
      const client = counting(pool);
      const store = createPostgresStore({ client, prefix });
      const v = createVerifier({
        store,
        throttle: { freeFailures: 0, baseDelayMs: 60_000, maxFailures: 10 },
      });
      const token = generateTOTP(SECRET, { now: T });
      const outcomes: unknown[] = [];
      for (const t of [token, token, wrongCode(T)]) {
        const before = client.sent.length;
        outcomes.push(await v.verifyTOTP({ userId: 'one', secret: SECRET, token: t, now: T }));
        expect(client.sent.length - before).toBe(1);
      }
      expect(outcomes).toEqual([
        { ok: true, delta: 0, step: STEP },
        { ok: false, reason: 'replayed' },
        { ok: false, reason: 'throttled', retryAfterMs: 60_000 },
      ]);
      expect(client.sent.every((q) => q.includes(`"${prefix}attempt_totp"`))).toBe(true);
    });

    it("a challenge's commit does not wait for the WAL flush; the attempt count's and the claim's do", async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const store = createPostgresStore({ client: c, prefix });
        // What the transaction a call ran in will commit with, seen from inside it (the store is
        // never given a client in a transaction; this one is opened only to look).
        const commitsWith = async (call: () => Promise<unknown>): Promise<string> => {
          await c.query('BEGIN');
          try {
            await call();
            return (await c.query('SHOW synchronous_commit')).rows[0].synchronous_commit as string;
          } finally {
            await c.query('ROLLBACK');
          }
        };
        const ch = challenge('async-commit', { createdAt: T });
        expect(await commitsWith(() => store.createChallenge(ch, 5))).toBe('off');
        await store.createChallenge(ch, 5);
        expect(await commitsWith(() => store.beginAttempt(beginOn(ch, T + 1)))).toBe('on');
        expect(await commitsWith(() => store.settleAttempt(settleOn(ch, T + 1)))).toBe('on');
        expect(await commitsWith(() => store.attemptTotp(attempt('async-commit')))).toBe('on');
        // Transaction-local: the connection's own setting is as it was.
        expect((await c.query('SHOW synchronous_commit')).rows[0].synchronous_commit).toBe('on');
      } finally {
        await c.end();
      }
    });

    it('two-phase attempts: one statement for a refusal, two for a success', async () => {
      const client = counting(pool);
      const store = createPostgresStore({ client, prefix });
      const v = createVerifier({ store, recoveryHash: { logN: 10 } });
      const count = async (f: () => Promise<unknown>): Promise<number> => {
        const before = client.sent.length;
        await f();
        return client.sent.length - before;
      };
      const token = generateHOTP(SECRET, 0);
      expect(
        await count(() => v.verifyHOTP({ userId: 'two', secret: SECRET, token, now: T })),
      ).toBe(2);
      expect(
        await count(() => v.verifyHOTP({ userId: 'two', secret: SECRET, token: '000000', now: T })),
      ).toBe(1);
      expect(
        await count(() =>
          v.verifyTOTP({
            userId: 'two',
            secret: () => SECRET,
            token: generateTOTP(SECRET, { now: T }),
            now: T,
          }),
        ),
      ).toBe(2);
      const [code] = await v.issueRecoveryCodes({ userId: 'two', count: 2, now: T });
      expect(
        await count(() => v.redeemRecoveryCode({ userId: 'two', code: code as string, now: T })),
      ).toBe(2);
      expect(
        await count(() => v.redeemRecoveryCode({ userId: 'two', code: code as string, now: T })),
      ).toBe(1);
    });

    it('a sign-in through createTwoFactor: one statement for a refusal, two for a success', async () => {
      const client = counting(pool);
      const store = createPostgresStore({ client, prefix });
      let now = T;
      const tf = createTwoFactor({
        store,
        issuer: 'ACME',
        now: () => now,
        recoveryCodes: { hash: { logN: 10 } },
        keys: { current: 'k1', keys: { k1: new Uint8Array(32).fill(7) } },
      });
      const enrollment = await tf.beginEnrollment({ userId: 'flow', account: 'flow@example.com' });
      if (!enrollment.ok) throw new Error(`enrollment: ${JSON.stringify(enrollment)}`);
      const key = decodeBase32(enrollment.manualKey.replace(/ /g, ''));
      expect(
        (
          await tf.confirmEnrollment({
            userId: 'flow',
            factorId: enrollment.factorId,
            code: generateTOTP(key, { now }),
          })
        ).ok,
      ).toBe(true);
      const count = async (f: () => Promise<{ ok: boolean }>): Promise<[boolean, number]> => {
        const before = client.sent.length;
        const r = await f();
        return [r.ok, client.sent.length - before];
      };
      const signIn = async (knownDeviceToken?: string): Promise<string | undefined> => {
        now += 60_000;
        const challenge = await tf.startChallenge({
          userId: 'flow',
          ...(knownDeviceToken === undefined ? {} : { knownDeviceToken }),
        });
        if (!challenge.required) throw new Error('a challenge was expected');
        const verify = (code: string) =>
          tf.verifyChallenge({ challengeId: challenge.challengeId, code, userId: 'flow' });
        expect(await count(() => verify(wrongCode(now)))).toEqual([false, 1]);
        const before = client.sent.length;
        const r = await verify(generateTOTP(key, { now }));
        expect(r.ok).toBe(true);
        // Two statements, whether or not the browser had a known-device token (one without is
        // given one by the second).
        expect(client.sent.length - before).toBe(2);
        return r.ok ? (r.knownDeviceToken ?? challenge.knownDeviceToken) : undefined;
      };
      const token = await signIn();
      expect(token).toBeTypeOf('string');
      await signIn(token);
    });

    it('every method of both interfaces is one statement', async () => {
      const client = counting(pool);
      const s = createPostgresStore({ client, prefix });
      const ch = challenge('m');
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['attemptTotp', () => s.attemptTotp(attempt('m'))],
        ['createChallenge', () => s.createChallenge(ch, 3)],
        [
          'beginAttempt',
          () =>
            s.beginAttempt({
              userId: ch.userId,
              challengeHash: ch.hash,
              now: T,
              policy: POLICY,
              credentialIds: ['c'],
              recoverySet: true,
            }),
        ],
        [
          'settleAttempt',
          () =>
            s.settleAttempt({
              userId: 'm',
              scope: OTP_SCOPE,
              now: T,
              claim: { kind: 'totp', credentialId: 'c', step: STEP + 1, drift: 0, create: false },
              challengeHash: ch.hash,
              stepUp: { hash: 'f'.repeat(64), expiresAt: T + 1 },
            }),
        ],
        ['getThrottle', () => s.getThrottle('m', OTP_SCOPE)],
        ['resetThrottle', () => s.resetThrottle('m', null)],
        ['getCredentials', () => s.getCredentials('m', ['c', 'd'])],
        ['initCredential', () => s.initCredential('m', 'd', 5, 7n)],
        ['deleteCredentials', () => s.deleteCredentials('m', ['d'])],
        [
          'replaceRecoveryCodes',
          () => s.replaceRecoveryCodes('m', S([{ id: 'r1', hash: 'h1' }]), null),
        ],
        ['getRecoveryCodeSet', () => s.getRecoveryCodeSet('m')],
        ['deleteChallenges', () => s.deleteChallenges('m')],
        ['consumeStepUp', () => s.consumeStepUp('m', 'f'.repeat(64), T)],
        [
          'setChallengeCode',
          () =>
            s.setChallengeCode(
              'm',
              ch.hash,
              { factorId: 'e', codeHash: hex(9), expiresAt: T + 1 },
              T,
            ),
        ],
        ['createDevice', () => s.createDevice(device('m', 'd1'), 5)],
        ['rotateDevice', () => s.rotateDevice('m', 'trusted', hex(1), hex(2), T, null)],
        ['listDevices', () => s.listDevices('m', 'trusted', T)],
        ['revokeDevices', () => s.revokeDevices('m', 'trusted', null)],
        ['reserveSend', () => s.reserveSend({ kind: 'user', userId: 'm' }, RULE, T)],
        ['releaseSend', () => s.releaseSend({ kind: 'user', userId: 'm' }, RULE, T)],
        ['addFactor', () => s.addFactor(factor('m', 'f1'), LIMITS, T)],
        ['listFactors', () => s.listFactors('m')],
        ['confirmFactor', () => s.confirmFactor('m', 'f1', T, 5)],
        ['renameFactor', () => s.renameFactor('m', 'f1', 'Work')],
        ['resealFactor', () => s.resealFactor('m', 'f1', 'sealed:f1', 'sealed:v2')],
        ['scanFactors', () => s.scanFactors({ userId: 'a', id: 'b' }, 10)],
        ['removeFactor', () => s.removeFactor('m', 'f1')],
        ['removeFactors', () => s.removeFactors('m')],
        ['eraseUser', () => s.eraseUser('m')],
      ];
      for (const [name, call] of calls) {
        const before = client.sent.length;
        await call();
        expect(client.sent.length - before, name).toBe(1);
      }
      // Only the composite decisions are functions; the rest are plain statements.
      const fns = client.sent
        .map((q) => /"otpkit_t\w+?_\d+_(\w+)"\(/.exec(q)?.[1])
        .filter((f) => f !== undefined && f !== 'read_int');
      expect(new Set(fns)).toEqual(
        new Set([
          'attempt_totp',
          'create_challenge',
          'begin_attempt',
          'settle_attempt',
          'set_challenge_code',
          'create_device',
          'rotate_device',
          'reserve_send',
          'add_factor',
          'confirm_factor',
          'delete_challenges',
          'erase_user',
        ]),
      );
    });
  });

  describe('schema and migration', () => {
    it('is idempotent: migrating twice, and four times at once, keeps the tables and their rows', async () => {
      const { prefix, store } = await fresh();
      expect(await store.attemptTotp(attempt('m'))).toEqual({ status: 'ok', delta: 0 });
      await migratePostgres(pool, { prefix });
      await Promise.all(Array.from({ length: 4 }, () => migratePostgres(pool, { prefix })));
      expect((await store.getCredentials('m', ['c'])).c?.lastStep).toBe(STEP);
      // The plain SQL runs twice too (for users who paste it into their migration tool).
      await pool.query(postgresSchema({ prefix }));
      await pool.query(postgresSchema({ prefix }));
      expect(await store.attemptTotp(attempt('m'))).toEqual({ status: 'replayed', failures: 1 });
      // Racing first-time migrations of a fresh prefix do not collide (advisory lock).
      const other = newPrefix();
      made.push(other);
      await Promise.all(Array.from({ length: 4 }, () => migratePostgres(pool, { prefix: other })));
      expect(
        await createPostgresStore({ client: pool, prefix: other }).attemptTotp(attempt('m')),
      ).toEqual({ status: 'ok', delta: 0 });
    });

    it('creates the documented columns, functions and index', async () => {
      const prefix = await migrated();
      const { rows } = await pool.query<{ t: string; c: string; d: string; n: string }>(
        `SELECT table_name AS t, column_name AS c, data_type AS d, is_nullable AS n FROM information_schema.columns
         WHERE table_name LIKE $1 ORDER BY table_name, ordinal_position`,
        [like(prefix)],
      );
      expect(rows.map((r) => `${r.t.slice(prefix.length)}.${r.c}:${r.d}:${r.n}`)).toEqual([
        'challenges.hash:text:NO',
        'challenges.user_id:text:NO',
        'challenges.scope:text:NO',
        'challenges.recovery_scope:text:NO',
        'challenges.created_at:bigint:NO',
        'challenges.expires_at:bigint:NO',
        'challenges.attempts:integer:NO',
        'challenges.max_attempts:integer:NO',
        'challenges.credential_ids:ARRAY:NO',
        'challenges.payload:text:NO',
        'challenges.oob_factor_id:text:YES',
        'challenges.oob_code_hash:text:YES',
        'challenges.oob_expires_at:bigint:YES',
        'challenges.seq:bigint:NO',
        'credentials.user_id:text:NO',
        'credentials.credential_id:text:NO',
        'credentials.last_step:bigint:YES',
        'credentials.hotp_counter:numeric:YES',
        'credentials.drift:smallint:NO',
        'credentials.last_used_at:bigint:YES',
        'devices.user_id:text:NO',
        'devices.id:text:NO',
        'devices.kind:text:NO',
        'devices.token_hash:text:NO',
        'devices.previous_hash:text:YES',
        'devices.label:text:NO',
        'devices.created_at:bigint:NO',
        'devices.last_used_at:bigint:YES',
        'devices.expires_at:bigint:NO',
        'devices.seq:bigint:NO',
        'factors.user_id:text:NO',
        'factors.id:text:NO',
        'factors.type:text:NO',
        'factors.label:text:NO',
        'factors.status:text:NO',
        'factors.sealed_secret:text:NO',
        'factors.hint:text:YES',
        'factors.algorithm:text:NO',
        'factors.digits:smallint:NO',
        'factors.period:integer:NO',
        'factors.created_at:bigint:NO',
        'factors.confirmed_at:bigint:YES',
        'factors.expires_at:bigint:YES',
        'factors.seq:bigint:NO',
        'recovery_codes.user_id:text:NO',
        'recovery_codes.set_id:text:NO',
        'recovery_codes.id:text:NO',
        'recovery_codes.hash:text:NO',
        'recovery_codes.seq:smallint:NO',
        'recovery_sets.user_id:text:NO',
        'recovery_sets.set_id:text:NO',
        'recovery_sets.issued_at:bigint:NO',
        'recovery_sets.total:integer:NO',
        'send_quotas.kind:text:NO',
        'send_quotas.subject:text:NO',
        'send_quotas.window_no:bigint:NO',
        'send_quotas.sends:integer:NO',
        'send_quotas.last_at:bigint:NO',
        'step_ups.user_id:text:NO',
        'step_ups.hash:text:NO',
        'step_ups.expires_at:bigint:NO',
        'throttle.user_id:text:NO',
        'throttle.scope:text:NO',
        'throttle.failures:integer:NO',
        'throttle.last_failure_at:bigint:NO',
      ]);
      const tables = await pool.query<{ t: string }>(
        `SELECT relname AS t FROM pg_class WHERE relkind = 'r' AND relname LIKE $1 ORDER BY 1`,
        [like(prefix)],
      );
      expect(tables.rows.map((r) => r.t.slice(prefix.length))).toEqual([...TABLES]);
      const fns = await pool.query<{ f: string }>(
        `SELECT proname AS f FROM pg_proc WHERE proname LIKE $1 ORDER BY 1`,
        [like(prefix)],
      );
      expect(fns.rows.map((r) => r.f.slice(prefix.length))).toEqual([
        'add_factor',
        'attempt_totp',
        'begin_attempt',
        'confirm_factor',
        'create_challenge',
        'create_device',
        'delete_challenges',
        'erase_user',
        'gate',
        'read_int',
        'read_u64',
        'reserve_send',
        'rotate_device',
        'set_challenge_code',
        'settle_attempt',
      ]);
      const idx = await pool.query(
        `SELECT 1 FROM pg_indexes WHERE indexname = $1 AND indexdef LIKE '%(user_id)%'`,
        [`${prefix}challenges_user`],
      );
      expect(idx.rowCount).toBe(1);
      const collation = await pool.query<{ c: string }>(
        `SELECT collation_name AS c FROM information_schema.columns WHERE table_name = $1 AND column_name IN ('user_id', 'id')`,
        [`${prefix}factors`],
      );
      expect(collation.rows.map((r) => r.c)).toEqual(['C', 'C']);
    });

    it('its CHECKs refuse out-of-range rows written directly', async () => {
      const prefix = await migrated();
      const bad = [
        `INSERT INTO "${prefix}credentials" (user_id, credential_id, hotp_counter) VALUES ('x', 'y', 18446744073709551616)`,
        `INSERT INTO "${prefix}credentials" (user_id, credential_id, hotp_counter) VALUES ('x', 'y', -1)`,
        `INSERT INTO "${prefix}credentials" (user_id, credential_id, drift) VALUES ('x', 'y', 11)`,
        `INSERT INTO "${prefix}credentials" (user_id, credential_id, last_step) VALUES ('x', 'y', 9007199254740992)`,
        `INSERT INTO "${prefix}credentials" (user_id, credential_id, last_used_at) VALUES ('x', 'y', -1)`,
        `INSERT INTO "${prefix}throttle" VALUES ('x', 'y', -1, 0)`,
        `INSERT INTO "${prefix}throttle" VALUES ('x', 'y', 0, -1)`,
        `INSERT INTO "${prefix}recovery_sets" VALUES ('x', 'bad id', 0, 1)`,
        `INSERT INTO "${prefix}recovery_sets" VALUES ('x', 's', 0, 101)`,
        `INSERT INTO "${prefix}recovery_codes" VALUES ('x', 's', 'i', 'h', 0)`,
        `INSERT INTO "${prefix}challenges" (hash, user_id, scope, recovery_scope, created_at, expires_at, attempts, max_attempts, credential_ids, payload) VALUES ('h', 'x', 's', 'r', 0, 1, 3, 2, '{}', '')`,
        `INSERT INTO "${prefix}challenges" (hash, user_id, scope, recovery_scope, created_at, expires_at, attempts, max_attempts, credential_ids, payload) VALUES ('h', 'x', 's', 'r', 0, 1, 0, 101, '{}', '')`,
        `INSERT INTO "${prefix}challenges" (hash, user_id, scope, recovery_scope, created_at, expires_at, attempts, max_attempts, credential_ids, payload) VALUES ('h', 'x', 's', 'r', 0, 1, 0, 1, '{a,NULL}', '')`,
        `INSERT INTO "${prefix}challenges" (hash, user_id, scope, recovery_scope, created_at, expires_at, attempts, max_attempts, credential_ids, payload) VALUES ('h', 'x', 's', 'r', 0, 1, 0, 1, '{}', repeat('x', 16385))`,
        `INSERT INTO "${prefix}challenges" (hash, user_id, scope, recovery_scope, created_at, expires_at, attempts, max_attempts, credential_ids, payload, oob_factor_id) VALUES ('h', 'x', 's', 'r', 0, 1, 0, 1, '{}', '', 'f')`,
        `INSERT INTO "${prefix}challenges" (hash, user_id, scope, recovery_scope, created_at, expires_at, attempts, max_attempts, credential_ids, payload, oob_factor_id, oob_code_hash, oob_expires_at) VALUES ('h', 'x', 's', 'r', 0, 1, 0, 1, '{}', '', 'f', 'NOTHEX', 5)`,
        `INSERT INTO "${prefix}step_ups" VALUES ('x', 'h', -1)`,
        `INSERT INTO "${prefix}devices" (user_id, id, kind, token_hash, label, created_at, expires_at) VALUES ('x', 'd', 'forever', '${hex(1)}', '', 0, 1)`,
        `INSERT INTO "${prefix}devices" (user_id, id, kind, token_hash, label, created_at, expires_at) VALUES ('x', 'd', 'known', 'ABC', '', 0, 1)`,
        `INSERT INTO "${prefix}devices" (user_id, id, kind, token_hash, previous_hash, label, created_at, expires_at) VALUES ('x', 'd', 'known', '${hex(1)}', 'x', '', 0, 1)`,
        `INSERT INTO "${prefix}devices" (user_id, id, kind, token_hash, label, created_at, expires_at) VALUES ('x', 'd', 'known', '${hex(1)}', repeat('x', 65), 0, 1)`,
        `INSERT INTO "${prefix}send_quotas" VALUES ('everyone', '', 0, 0, 0)`,
        `INSERT INTO "${prefix}send_quotas" VALUES ('app', '', 0, -1, 0)`,
        `INSERT INTO "${prefix}factors" (user_id, id, type, label, status, sealed_secret, hint, algorithm, digits, period, created_at, confirmed_at, expires_at) VALUES ('x', 'f', 'totp', 'L', 'pending', 's', 'a•••@x', 'SHA1', 6, 30, 0, NULL, 1)`,
        `INSERT INTO "${prefix}factors" (user_id, id, type, label, status, sealed_secret, algorithm, digits, period, created_at, confirmed_at, expires_at) VALUES ('x', 'f', 'fax', 'L', 'pending', 's', 'SHA1', 6, 30, 0, NULL, 1)`,
        `INSERT INTO "${prefix}factors" (user_id, id, type, label, status, sealed_secret, algorithm, digits, period, created_at, confirmed_at, expires_at) VALUES ('x', 'f', 'totp', '', 'pending', 's', 'SHA1', 6, 30, 0, NULL, 1)`,
        `INSERT INTO "${prefix}factors" (user_id, id, type, label, status, sealed_secret, algorithm, digits, period, created_at, confirmed_at, expires_at) VALUES ('x', 'f', 'totp', 'L', 'pending', 's', 'MD5', 6, 30, 0, NULL, 1)`,
        `INSERT INTO "${prefix}factors" (user_id, id, type, label, status, sealed_secret, algorithm, digits, period, created_at, confirmed_at, expires_at) VALUES ('x', 'f', 'totp', 'L', 'pending', 's', 'SHA1', 9, 30, 0, NULL, 1)`,
        `INSERT INTO "${prefix}factors" (user_id, id, type, label, status, sealed_secret, algorithm, digits, period, created_at, confirmed_at, expires_at) VALUES ('x', 'f', 'totp', 'L', 'pending', 's', 'SHA1', 6, 30, 0, 5, 1)`,
        `INSERT INTO "${prefix}factors" (user_id, id, type, label, status, sealed_secret, algorithm, digits, period, created_at, confirmed_at, expires_at) VALUES ('x', 'f', 'totp', 'L', 'confirmed', 's', 'SHA1', 6, 30, 0, NULL, NULL)`,
      ];
      for (const q of bad) await expect(pool.query(q), q).rejects.toThrow(/check constraint/);
    });

    it('uses the default prefix otpkit_', () => {
      const sql = postgresSchema();
      expect(sql).toContain('CREATE TABLE IF NOT EXISTS "otpkit_credentials"');
      expect(sql).toContain('CREATE OR REPLACE FUNCTION "otpkit_attempt_totp"(');
      expect(postgresSchema({ prefix: 'auth_' })).toContain(
        'CREATE TABLE IF NOT EXISTS "auth_throttle"',
      );
      expect(postgresSchema({ prefix: 'auth_' })).not.toContain('otpkit_');
    });

    it('reports a missing schema as ERR_STORE with the SQLSTATE in the cause', async () => {
      const store = createPostgresStore({ client: pool, prefix: `nothere_${newPrefix()}` });
      const e = await expectStoreError(store.getThrottle('u', OTP_SCOPE), 'ERR_STORE');
      expect((e.cause as { code?: unknown }).code).toBe('42P01');
      const f = await expectStoreError(store.attemptTotp(attempt('u')), 'ERR_STORE');
      expect((f.cause as { code?: unknown }).code).toBe('42883'); // no such function
    });
  });

  describe('options', () => {
    const ok = ['a', '_', 'otpkit_', 'app_2fa_', 'a'.repeat(41)];
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
    ];
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
        expect(() =>
          createPostgresStore({ client: pool, prefix: prefix as unknown as string }),
        ).toThrow(TypeError);
      expect(() => createPostgresStore({ client: {} as PgQueryable })).toThrow(TypeError);
      expect(() => createPostgresStore({ client: null as unknown as PgQueryable })).toThrow(
        TypeError,
      );
      expect(() => createPostgresStore(undefined as unknown as { client: PgQueryable })).toThrow(
        TypeError,
      );
      expect(() =>
        createPostgresStore({ client: pool, prefx: 'a_' } as unknown as { client: PgQueryable }),
      ).toThrow(RangeError);
      expect(() => postgresSchema({ prefx: 'a_' } as unknown as { prefix: string })).toThrow(
        RangeError,
      );
      await expect(migratePostgres({} as PgQueryable)).rejects.toThrow(TypeError);
      for (const prepare of [1, 'yes', null])
        expect(() =>
          createPostgresStore({ client: pool, prepare: prepare as unknown as boolean }),
        ).toThrow(/"prepare"/);
    });
    it('says it is distributed-safe', () => {
      expect(createPostgresStore({ client: pool }).distributedSafe).toBe(true);
    });
  });

  describe('values', () => {
    let prefix!: string;
    let store!: PostgresStore;
    beforeAll(async () => {
      ({ prefix, store } = await fresh());
    });

    it('keeps the HOTP counter 2^64−1 exactly (decimal text, numeric(20,0))', async () => {
      const claim = (expected: bigint | null, next: bigint) =>
        store.settleAttempt({
          userId: 'big',
          scope: OTP_SCOPE,
          now: T,
          claim: { kind: 'hotp', credentialId: 'c', expected, next, create: true },
        });
      const counter = async (): Promise<bigint | null | undefined> =>
        (await store.getCredentials('big', ['c'])).c?.hotpCounter;
      expect(await claim(null, MAX)).toEqual({ status: 'ok', remaining: null });
      expect(await counter()).toBe(MAX);
      const raw = await pool.query(
        `SELECT hotp_counter::text AS v FROM "${prefix}credentials" WHERE user_id = 'big'`,
      );
      expect(raw.rows[0].v).toBe('18446744073709551615');
      // Just above 2^53 and 2^63: no float or signed-bigint rounding anywhere.
      expect((await claim(MAX, 9007199254740993n)).status).toBe('ok');
      expect(await counter()).toBe(9007199254740993n);
      expect((await claim(9007199254740992n, 1n)).status).toBe('replayed');
      expect((await claim(9007199254740993n, 1n << 63n)).status).toBe('ok');
      expect(await counter()).toBe(1n << 63n);
      expect((await claim(1n << 63n, MAX)).status).toBe('ok');
      expect(await store.initCredential('big', 'd', null, MAX)).toBe(true);
      expect((await store.getCredentials('big', ['d'])).d?.hotpCounter).toBe(MAX);
      // 2^64 never reaches the server.
      await expect(claim(MAX, MAX + 1n)).rejects.toThrow(RangeError);
      await expect(claim(-1n, 0n)).rejects.toThrow(RangeError);
      await expect(claim(MAX, 5 as unknown as bigint)).rejects.toThrow(TypeError);
      expect(await counter()).toBe(MAX);
    });

    it('verifies HOTP through the verifier up to the counter 2^64−1', async () => {
      const v = createVerifier({ store });
      const r = await v.verifyHOTP({
        userId: 'hotp-top',
        secret: SECRET,
        token: generateHOTP(SECRET, MAX - 1n),
        initialCounter: MAX - 3n,
      });
      expect(r).toEqual({ ok: true, counter: MAX - 1n, next: MAX });
      expect((await store.getCredentials('hotp-top', ['default'])).default?.hotpCounter).toBe(MAX);
    });

    it('keeps ids that differ only in one character apart (no collation, trimming or normalisation)', async () => {
      const ids = [
        'a',
        'A',
        'a ',
        ' a',
        'ä',
        'a\u0308',
        '\u{1F600}',
        "o'brien",
        'x"y',
        '%',
        '_',
        '__proto__',
        'constructor',
        'x'.repeat(256),
      ];
      for (const id of ids)
        expect(await store.attemptTotp(attempt(id, { credentialId: id }))).toEqual({
          status: 'ok',
          delta: 0,
        });
      for (const id of ids)
        expect(await store.attemptTotp(attempt(id, { credentialId: id }))).toEqual({
          status: 'replayed',
          failures: 1,
        });
      const got = await store.getCredentials('__proto__', ['__proto__', 'constructor']);
      expect(Object.keys(got)).toEqual(['__proto__', 'constructor']);
      expect(Object.getOwnPropertyDescriptor(got, '__proto__')?.value?.lastStep).toBe(STEP);
      expect(got.constructor).toBeNull();
    });

    it('refuses values PostgreSQL cannot store faithfully before any query', async () => {
      const client = counting(pool);
      const s = createPostgresStore({ client, prefix });
      for (const id of ['a\u0000', 'a\uD800', 'a\uDC00b', '\uDBFF', '', 'x'.repeat(257)]) {
        await expect(s.attemptTotp(attempt(id))).rejects.toThrow(RangeError);
        await expect(s.attemptTotp(attempt('u', { credentialId: id }))).rejects.toThrow(RangeError);
        await expect(s.getThrottle('u', id)).rejects.toThrow(RangeError);
        await expect(s.getCredentials('u', ['c', id])).rejects.toThrow(RangeError);
        await expect(s.createChallenge(challenge('u', { hash: id }), 3)).rejects.toThrow(
          RangeError,
        );
        await expect(s.createChallenge(challenge('u', { credentialIds: [id] }), 3)).rejects.toThrow(
          RangeError,
        );
        await expect(s.consumeStepUp('u', id, T)).rejects.toThrow(RangeError);
        await expect(s.addFactor(factor('u', id), LIMITS, T)).rejects.toThrow(RangeError);
        await expect(s.renameFactor('u', 'f', id)).rejects.toThrow(RangeError);
        await expect(s.scanFactors({ userId: id, id: 'f' }, 5)).rejects.toThrow(RangeError);
        await expect(s.eraseUser(id)).rejects.toThrow(RangeError);
      }
      for (const text of ['a\u0000b', 'a\uD800']) {
        await expect(s.createChallenge(challenge('u', { payload: text }), 3)).rejects.toThrow(
          RangeError,
        );
        await expect(
          s.addFactor(factor('u', 'f', { sealedSecret: text }), LIMITS, T),
        ).rejects.toThrow(RangeError);
        await expect(s.resealFactor('u', 'f', 'x', text)).rejects.toThrow(RangeError);
        await expect(
          s.replaceRecoveryCodes('u', S([{ id: 'i', hash: text }]), null),
        ).rejects.toThrow(RangeError);
      }
      await expect(s.attemptTotp(attempt('u', { step: -1 }))).rejects.toThrow(RangeError);
      await expect(s.attemptTotp(attempt('u', { candidates: [11] }))).rejects.toThrow(RangeError);
      await expect(s.attemptTotp(attempt('u', { candidates: [0.5] }))).rejects.toThrow(RangeError);
      await expect(
        s.attemptTotp(attempt('u', { policy: { ...POLICY, maxFailures: 101 } })),
      ).rejects.toThrow(RangeError);
      await expect(
        s.settleAttempt({
          userId: 'u',
          scope: 's',
          now: T,
          claim: { kind: 'totp', credentialId: 'c', step: 1, drift: 11, create: true },
        }),
      ).rejects.toThrow(RangeError);
      await expect(
        s.replaceRecoveryCodes(
          'u',
          S([
            { id: 'x', hash: 'h' },
            { id: 'x', hash: 'h2' },
          ]),
          null,
        ),
      ).rejects.toThrow(RangeError);
      await expect(
        s.replaceRecoveryCodes('u', S([{ id: 'x', hash: 'h' }], 'bad id'), null),
      ).rejects.toThrow(RangeError);
      await expect(
        s.createChallenge(challenge('u', { payload: 'x'.repeat(16_385) }), 3),
      ).rejects.toThrow(RangeError);
      await expect(
        s.addFactor(factor('u', 'f', { label: 'x'.repeat(65) }), LIMITS, T),
      ).rejects.toThrow(RangeError);
      await expect(s.addFactor(factor('u', 'f', { confirmedAt: T }), LIMITS, T)).rejects.toThrow(
        RangeError,
      );
      await expect(s.addFactor(factor('u', 'f', { digits: 9 }), LIMITS, T)).rejects.toThrow(
        RangeError,
      );
      await expect(
        s.addFactor(factor('u', 'f', { hint: 'a•••@example.com' }), LIMITS, T),
      ).rejects.toThrow(RangeError);
      await expect(
        s.addFactor(factor('u', 'f', { type: 'email', hint: 'a\u0000' }), LIMITS, T),
      ).rejects.toThrow(RangeError);
      await expect(
        s.createChallenge(
          challenge('u', { oob: { factorId: 'e', codeHash: 'ABC', expiresAt: T } }),
          3,
        ),
      ).rejects.toThrow(RangeError);
      await expect(
        s.setChallengeCode('u', hex(3), { factorId: 'e\u0000', codeHash: hex(1), expiresAt: T }, T),
      ).rejects.toThrow(RangeError);
      await expect(
        s.createDevice(device('u', 'd', { tokenHash: 'F'.repeat(64) }), 3),
      ).rejects.toThrow(RangeError);
      await expect(s.createDevice(device('u', 'd', { label: 'a\uD800' }), 3)).rejects.toThrow(
        RangeError,
      );
      await expect(s.rotateDevice('u', 'trusted', hex(1), 'not a hash', T, null)).rejects.toThrow(
        RangeError,
      );
      await expect(s.reserveSend({ kind: 'user', userId: 'a\u0000' }, RULE, T)).rejects.toThrow(
        RangeError,
      );
      await expect(s.reserveSend({ kind: 'app' }, { ...RULE, windowMs: 0 }, T)).rejects.toThrow(
        RangeError,
      );
      expect(client.sent).toEqual([]);
      // The verifier refuses such ids itself, before any store call, for every store alike.
      const v = createVerifier({ store: s });
      await expect(
        v.verifyTOTP({
          userId: 'u\uD800',
          secret: SECRET,
          token: generateTOTP(SECRET, { now: T }),
          now: T,
        }),
      ).rejects.toThrow(RangeError);
      expect(client.sent).toEqual([]);
    });

    it('round-trips a 16 KiB payload and 20 credential ids in order', async () => {
      const payload = JSON.stringify({ s: 'é\u{1F600}'.repeat(2000) }).slice(0, 16_384);
      const ids = Array.from({ length: 20 }, (_, i) => `cred-${19 - i}`);
      const ch = challenge('big-challenge', {
        payload,
        credentialIds: ids,
        oob: { factorId: 'email-1', codeHash: hex(77), expiresAt: T + 60_000 },
      });
      await store.createChallenge(ch, 3);
      const b = await store.beginAttempt({
        userId: ch.userId,
        challengeHash: ch.hash,
        now: T,
        policy: POLICY,
        credentialIds: [],
        recoverySet: false,
      });
      expect(b.status === 'admitted' && b.challenge).toEqual({ ...ch, attempts: 1 });
      expect(b.status === 'admitted' && Object.keys(b.credentials)).toEqual(ids);
    });

    it('scans factors in byte order, every one exactly once across pages', async () => {
      const { store: s } = await fresh();
      const users = ['b', 'B', 'a', 'a b', 'é', 'e\u0301', '\uFFFF', '\u{10000}', 'Z', '_'];
      const ids = ['f', 'F', '1', 'ä'];
      const all: string[] = [];
      for (const u of users)
        for (const id of ids) {
          expect(
            await s.addFactor(
              factor(u, id, { status: 'confirmed', confirmedAt: T, expiresAt: null }),
              { maxPending: 0, maxConfirmed: 10 },
              T,
            ),
          ).toBe('added');
          all.push(JSON.stringify([u, id]));
        }
      const bytes = (x: string): Buffer => Buffer.from(x, 'utf8');
      const order = [...all].sort((x, y) => {
        const [ux, ix] = JSON.parse(x) as [string, string];
        const [uy, iy] = JSON.parse(y) as [string, string];
        return Buffer.compare(bytes(ux), bytes(uy)) || Buffer.compare(bytes(ix), bytes(iy));
      });
      for (const size of [1, 3, 7, 100]) {
        const seen: string[] = [];
        let after: { userId: string; id: string } | null = null;
        for (;;) {
          const page: readonly FactorRecord[] = await s.scanFactors(after, size);
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(size);
          seen.push(...page.map((f) => JSON.stringify([f.userId, f.id])));
          const last = page[page.length - 1] as FactorRecord;
          after = { userId: last.userId, id: last.id };
        }
        expect(seen, `page size ${size}`).toEqual(order);
      }
      expect(await s.scanFactors(null, 0)).toEqual([]);
    });

    it('maps a statement stuck behind a row lock to ERR_STORE_TIMEOUT (statement_timeout, lock_timeout)', async () => {
      const locker = await pool.connect();
      const slow = new pg.Pool({ connectionString: url, max: 2, statement_timeout: 300 });
      const impatient = new pg.Pool({
        connectionString: url,
        max: 2,
        options: '-c lock_timeout=200',
      });
      try {
        const s = createPostgresStore({ client: slow, prefix });
        const l = createPostgresStore({ client: impatient, prefix });
        expect((await s.attemptTotp(attempt('locked-row', { candidates: [] }))).status).toBe(
          'invalid',
        );
        const ch = challenge('locked-row');
        await s.createChallenge(ch, 3);
        await locker.query('BEGIN');
        await locker.query(
          `SELECT 1 FROM "${prefix}throttle" WHERE user_id = 'locked-row' FOR UPDATE`,
        );
        await locker.query(
          `SELECT 1 FROM "${prefix}challenges" WHERE user_id = 'locked-row' FOR UPDATE`,
        );
        await expectStoreError(
          s.attemptTotp(attempt('locked-row', { candidates: [] })),
          'ERR_STORE_TIMEOUT',
        );
        const e = await expectStoreError(
          l.attemptTotp(attempt('locked-row', { candidates: [] })),
          'ERR_STORE_TIMEOUT',
        );
        expect((e.cause as { code?: unknown }).code).toBe('55P03');
        await expectStoreError(
          s.beginAttempt({
            userId: ch.userId,
            challengeHash: ch.hash,
            now: T,
            policy: POLICY,
            credentialIds: [],
            recoverySet: false,
          }),
          'ERR_STORE_TIMEOUT',
        );
        await expectStoreError(
          s.settleAttempt({
            userId: 'locked-row',
            scope: OTP_SCOPE,
            now: T,
            claim: { kind: 'totp', credentialId: 'c', step: 1, drift: 0, create: true },
            challengeHash: ch.hash,
          }),
          'ERR_STORE_TIMEOUT',
        );
        await locker.query('ROLLBACK');
        expect(await s.attemptTotp(attempt('locked-row', { candidates: [] }))).toEqual({
          status: 'invalid',
          failures: 2,
        });
      } finally {
        locker.release();
        await slow.end();
        await impatient.end();
      }
    });
  });

  describe('tampered rows fail closed with ERR_STORE_CORRUPT, naming the column, never its content', () => {
    let prefix!: string;
    let store!: PostgresStore;
    const q = (text: string): Promise<unknown> => pool.query(text);
    const tbl = (name: string): string => `"${prefix}${name}"`;
    const MARK = 'SECRETMARKER';

    beforeAll(async () => {
      ({ prefix, store } = await fresh());
      // What an attacker (or a bad manual fix) with DDL rights does: drop every CHECK and NOT NULL.
      const { rows } = await pool.query<{ rel: string; name: string }>(
        `SELECT c.relname AS rel, con.conname AS name FROM pg_constraint AS con JOIN pg_class AS c ON c.oid = con.conrelid
         WHERE con.contype = 'c' AND c.relname LIKE $1`,
        [like(prefix)],
      );
      expect(rows.length).toBe(43);
      for (const r of rows) await q(`ALTER TABLE "${r.rel}" DROP CONSTRAINT "${r.name}"`);
      const nullable: Record<string, string[]> = {
        throttle: ['failures', 'last_failure_at'],
        credentials: ['drift'],
        recovery_sets: ['set_id', 'issued_at', 'total'],
        recovery_codes: ['hash'],
        challenges: [
          'user_id',
          'scope',
          'recovery_scope',
          'created_at',
          'expires_at',
          'attempts',
          'max_attempts',
          'credential_ids',
          'payload',
        ],
        step_ups: ['expires_at'],
        devices: ['kind', 'token_hash', 'label', 'created_at', 'expires_at'],
        send_quotas: ['window_no', 'sends', 'last_at'],
        factors: [
          'type',
          'label',
          'status',
          'sealed_secret',
          'algorithm',
          'digits',
          'period',
          'created_at',
        ],
      };
      for (const [t, cols] of Object.entries(nullable))
        await q(
          `ALTER TABLE ${tbl(t)} ${cols.map((c) => `ALTER COLUMN ${c} DROP NOT NULL`).join(', ')}`,
        );
    });

    /** `p` rejects with ERR_STORE_CORRUPT naming `column`, and without the marker anywhere. */
    const corrupt = async (p: Promise<unknown>, column: string): Promise<void> => {
      const e = await expectStoreError(p, 'ERR_STORE_CORRUPT');
      expect(e.message).toBe(`PostgreSQL store: stored ${column} is malformed`);
      expect(`${String(e)} ${JSON.stringify(e)} ${String(e.cause)}`).not.toContain(MARK);
    };
    const verifier = () => createVerifier({ store, now: () => T, recoveryHash: { logN: 10 } });
    const totpThrough = (user: string) =>
      verifier().verifyTOTP({
        userId: user,
        credentialId: 'c',
        secret: SECRET,
        token: generateTOTP(SECRET, { now: T }),
      });
    const hotpThrough = (user: string) =>
      verifier().verifyHOTP({
        userId: user,
        credentialId: 'c',
        secret: SECRET,
        token: generateHOTP(SECRET, 0),
      });
    const throttleRow = (user: string, failures: string, at: string) =>
      q(`INSERT INTO ${tbl('throttle')} VALUES ('${user}', '${OTP_SCOPE}', ${failures}, ${at})`);
    const credentialRow = (user: string, cols: string, vals: string) =>
      q(
        `INSERT INTO ${tbl('credentials')} (user_id, credential_id, ${cols}) VALUES ('${user}', 'c', ${vals})`,
      );

    it('throttle: negative or NULL failures, negative last_failure_at', async () => {
      for (const [user, f, at, column] of [
        ['neg', '-5', '0', 'throttle.failures'],
        ['nullf', 'NULL', '0', 'throttle.failures'],
        ['nega', '1', '-1', 'throttle.last_failure_at'],
      ] as const) {
        await throttleRow(user, f, at);
        await corrupt(store.getThrottle(user, OTP_SCOPE), column);
        await corrupt(store.attemptTotp(attempt(user)), column);
        await corrupt(
          store.beginAttempt({
            userId: user,
            scope: OTP_SCOPE,
            now: T,
            policy: POLICY,
            credentialIds: [],
            recoverySet: false,
          }),
          column,
        );
        await corrupt(totpThrough(user), column);
        await corrupt(hotpThrough(user), column);
      }
    });

    it('credentials: drift out of range or NULL, last_step negative or unsafe, last_used_at negative', async () => {
      const cases = [
        ['d1', 'drift', '50', 'credentials.drift'],
        ['d2', 'drift', '-11', 'credentials.drift'],
        ['d3', 'drift', 'NULL', 'credentials.drift'],
        ['s1', 'last_step', '-1', 'credentials.last_step'],
        ['s2', 'last_step', '9007199254740993', 'credentials.last_step'],
      ] as const;
      for (const [user, col, val, column] of cases) {
        await credentialRow(user, col, val);
        await corrupt(store.getCredentials(user, ['c']), column);
        await corrupt(store.attemptTotp(attempt(user)), column);
        await corrupt(totpThrough(user), column);
        await corrupt(hotpThrough(user), column);
      }
      await credentialRow('s3', 'last_step', '-1');
      await corrupt(
        store.settleAttempt({
          userId: 's3',
          scope: OTP_SCOPE,
          now: T,
          claim: { kind: 'totp', credentialId: 'c', step: 5, drift: 0, create: true },
        }),
        'credentials.last_step',
      );
      await credentialRow('u1', 'last_used_at', '-1');
      await corrupt(store.getCredentials('u1', ['c']), 'credentials.last_used_at');
      await corrupt(hotpThrough('u1'), 'credentials.last_used_at');
    });

    it('credentials: HOTP counter negative or above 2^64−1', async () => {
      for (const [user, val] of [
        ['negc', '-5'],
        ['bigc', '18446744073709551616'],
      ] as const) {
        await credentialRow(user, 'hotp_counter', val);
        await corrupt(store.getCredentials(user, ['c']), 'credentials.hotp_counter');
        await corrupt(hotpThrough(user), 'credentials.hotp_counter');
        await corrupt(
          store.settleAttempt({
            userId: user,
            scope: OTP_SCOPE,
            now: T,
            claim: { kind: 'hotp', credentialId: 'c', expected: 1n, next: 2n, create: true },
          }),
          'credentials.hotp_counter',
        );
      }
    });

    it('recovery codes: a malformed set, a total below the codes, a NULL or empty hash', async () => {
      const marker = `$scrypt$ln=1,r=1,p=1$${MARK}SALT$${MARK}HASH`;
      await store.replaceRecoveryCodes(
        'rc',
        S([
          { id: 'good', hash: marker },
          { id: 'bad', hash: 'placeholder' },
        ]),
        null,
      );
      const redeem = () =>
        verifier().redeemRecoveryCode({ userId: 'rc', code: 'ABCD-EFGH-JKMN-PQRS' });
      for (const [fix, column] of [
        [
          `UPDATE ${tbl('recovery_codes')} SET hash = NULL WHERE user_id = 'rc' AND id = 'bad'`,
          'recovery_codes.hash',
        ],
        [
          `UPDATE ${tbl('recovery_codes')} SET hash = '' WHERE user_id = 'rc' AND id = 'bad'`,
          'recovery_codes.hash',
        ],
        [
          `UPDATE ${tbl('recovery_codes')} SET hash = 'x' WHERE user_id = 'rc'; UPDATE ${tbl('recovery_sets')} SET total = 1 WHERE user_id = 'rc'`,
          'recovery_sets.total',
        ],
        [
          `UPDATE ${tbl('recovery_sets')} SET total = 101 WHERE user_id = 'rc'`,
          'recovery_sets.total',
        ],
        [
          `UPDATE ${tbl('recovery_sets')} SET total = 2, issued_at = -1 WHERE user_id = 'rc'`,
          'recovery_sets.issued_at',
        ],
      ] as const) {
        await q(fix);
        await corrupt(store.getRecoveryCodeSet('rc'), column);
        await corrupt(redeem(), column);
        await store.resetThrottle('rc', null);
      }
      await q(
        `UPDATE ${tbl('recovery_sets')} SET issued_at = 0, set_id = 'bad id' WHERE user_id = 'rc'; UPDATE ${tbl('recovery_codes')} SET set_id = 'bad id' WHERE user_id = 'rc'`,
      );
      await corrupt(store.getRecoveryCodeSet('rc'), 'recovery_sets.set_id');
    });

    it('challenges: dead, exhausted and owned rows decided on malformed columns', async () => {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ['expires_at = -1', 'challenges.expires_at'],
        ['max_attempts = 0', 'challenges.max_attempts'],
        ['attempts = -1', 'challenges.attempts'],
        ['user_id = NULL', 'challenges.user_id'],
        ['scope = NULL', 'challenges.scope'],
        [`credential_ids = '{a,NULL}'`, 'challenges.credential_ids'],
        [`credential_ids = '{{a},{b}}'`, 'challenges.credential_ids'],
        [`created_at = -1`, 'challenges.created_at'],
        [`payload = repeat('${MARK}', 2000)`, 'challenges.payload'],
      ];
      for (const [set, column] of cases) {
        const ch = challenge(`ch-${column}`);
        await store.createChallenge(ch, 5);
        await q(`UPDATE ${tbl('challenges')} SET ${set} WHERE hash = '${ch.hash}'`);
        await corrupt(
          store.beginAttempt({
            userId: ch.userId,
            challengeHash: ch.hash,
            now: T,
            policy: POLICY,
            credentialIds: [],
            recoverySet: false,
          }),
          column,
        );
      }
      const ch = challenge('ch-create');
      await store.createChallenge(ch, 5);
      await q(`UPDATE ${tbl('challenges')} SET created_at = -1 WHERE hash = '${ch.hash}'`);
      await corrupt(store.createChallenge(challenge('ch-create'), 1), 'challenges.created_at');
      await q(`UPDATE ${tbl('challenges')} SET expires_at = -1 WHERE hash = '${ch.hash}'`);
      await corrupt(store.createChallenge(challenge('ch-create'), 5), 'challenges.expires_at');
      await corrupt(
        store.settleAttempt({
          userId: 'ch-create',
          scope: OTP_SCOPE,
          now: T,
          claim: { kind: 'totp', credentialId: 'c', step: 5, drift: 0, create: true },
          challengeHash: ch.hash,
        }),
        'challenges.expires_at',
      );
    });

    it('step-up tokens and factors', async () => {
      await q(`INSERT INTO ${tbl('step_ups')} VALUES ('su', 'h', -1)`);
      await corrupt(store.consumeStepUp('su', 'h', T), 'step_ups.expires_at');
      const cases: ReadonlyArray<readonly [string, string]> = [
        [`status = 'PENDING'`, 'factors.status'],
        [`label = ''`, 'factors.label'],
        [`digits = 9`, 'factors.digits'],
        [`period = 0`, 'factors.period'],
        [`type = 'fax'`, 'factors.type'],
        [`algorithm = 'MD5'`, 'factors.algorithm'],
        [`confirmed_at = 5`, 'factors.status'],
        [`hint = 'a•••@example.com'`, 'factors.hint'],
        [`created_at = -1`, 'factors.created_at'],
        [`sealed_secret = repeat('${MARK}', 400)`, 'factors.sealed_secret'],
      ];
      for (const [set, column] of cases) {
        const user = `f-${column}-${set.length}`;
        await store.addFactor(factor(user, 'f', { sealedSecret: MARK }), LIMITS, T);
        await q(`UPDATE ${tbl('factors')} SET ${set} WHERE user_id = '${user}'`);
        await corrupt(store.listFactors(user), column);
        await q(`DELETE FROM ${tbl('factors')} WHERE user_id <> '${user}'`);
        await corrupt(store.scanFactors(null, 10), column);
      }
      await store.addFactor(factor('fs', 'f'), LIMITS, T);
      await q(`UPDATE ${tbl('factors')} SET status = 'PENDING' WHERE user_id = 'fs'`);
      await corrupt(store.addFactor(factor('fs', 'g'), LIMITS, T), 'factors.status');
      await corrupt(store.confirmFactor('fs', 'f', T, 5), 'factors.status');
      await store.addFactor(factor('fe', 'f'), LIMITS, T);
      await q(`UPDATE ${tbl('factors')} SET expires_at = -1 WHERE user_id = 'fe'`);
      await corrupt(store.confirmFactor('fe', 'f', T, 5), 'factors.expires_at');
      await corrupt(store.addFactor(factor('fe', 'g'), LIMITS, T), 'factors.expires_at');
    });

    it('out-of-band codes, devices and send quotas', async () => {
      const begin = (hash: string) =>
        store.beginAttempt({
          userId: challenge('oob').userId,
          challengeHash: hash,
          now: T,
          policy: POLICY,
          credentialIds: [],
          recoverySet: false,
        });
      for (const [set, column] of [
        [`oob_code_hash = 'NOTHEX${MARK}'`, 'challenges.oob_code_hash'],
        ['oob_expires_at = -1', 'challenges.oob_expires_at'],
        ['oob_factor_id = NULL', 'challenges.oob_factor_id'],
      ] as const) {
        const ch = challenge('oob', {
          oob: { factorId: 'e', codeHash: hex(5), expiresAt: T + 1000 },
        });
        await store.createChallenge(ch, 10);
        await q(`UPDATE ${tbl('challenges')} SET ${set} WHERE hash = '${ch.hash}'`);
        await corrupt(begin(ch.hash), column);
      }
      const ch = challenge('oob', {
        oob: { factorId: 'e', codeHash: hex(5), expiresAt: T + 1000 },
      });
      await store.createChallenge(ch, 10);
      await q(`UPDATE ${tbl('challenges')} SET oob_expires_at = -1 WHERE hash = '${ch.hash}'`);
      await corrupt(
        store.settleAttempt({
          userId: 'oob',
          scope: OTP_SCOPE,
          now: T,
          claim: { kind: 'oob', codeHash: hex(5) },
          challengeHash: ch.hash,
        }),
        'challenges.oob_expires_at',
      );

      for (const [set, column] of [
        [`kind = 'TRUSTED'`, 'devices.kind'],
        [`token_hash = '${MARK}'`, 'devices.token_hash'],
        [`previous_hash = 'x'`, 'devices.previous_hash'],
        ['created_at = -1', 'devices.created_at'],
        ['expires_at = -1', 'devices.expires_at'],
        [`label = repeat('${MARK}', 10)`, 'devices.label'],
      ] as const) {
        const user = `dev-${column}-${set.length}`;
        await store.createDevice(device(user, 'd'), 5);
        await q(`UPDATE ${tbl('devices')} SET ${set} WHERE user_id = '${user}'`);
        await q(
          `UPDATE ${tbl('devices')} SET kind = 'trusted' WHERE user_id = '${user}' AND kind IS NULL`,
        );
        if (column !== 'devices.kind') await corrupt(store.listDevices(user, 'trusted', T), column);
      }
      await store.createDevice(device('dev-x', 'd'), 5);
      await q(`UPDATE ${tbl('devices')} SET expires_at = -1 WHERE user_id = 'dev-x'`);
      await corrupt(
        store.rotateDevice('dev-x', 'trusted', hex(1), hex(2), T, null),
        'devices.expires_at',
      );
      await corrupt(store.createDevice(device('dev-x', 'e'), 5), 'devices.expires_at');
      await store.createDevice(device('dev-y', 'd'), 5);
      await q(`UPDATE ${tbl('devices')} SET last_used_at = -1 WHERE user_id = 'dev-y'`);
      await corrupt(store.listDevices('dev-y', 'trusted', T), 'devices.last_used_at');
      await q(`UPDATE ${tbl('devices')} SET label = repeat('${MARK}', 10) WHERE user_id = 'dev-y'`);
      await corrupt(
        store.rotateDevice('dev-y', 'trusted', hex(1), hex(2), T, null),
        'devices.label',
      );

      for (const [set, column] of [
        ['window_no = -1', 'send_quotas.window_no'],
        ['sends = -1', 'send_quotas.sends'],
        ['last_at = NULL', 'send_quotas.last_at'],
      ] as const) {
        const bucket = { kind: 'user', userId: `q-${column}` } as const;
        expect(await store.reserveSend(bucket, RULE, T)).toEqual({ ok: true });
        await q(`UPDATE ${tbl('send_quotas')} SET ${set} WHERE subject = '${bucket.userId}'`);
        await corrupt(store.reserveSend(bucket, RULE, T), column);
        if (column !== 'send_quotas.last_at')
          await corrupt(store.releaseSend(bucket, RULE, T), column);
      }
    });

    it('a duplicated row (primary key dropped)', async () => {
      await q(`ALTER TABLE ${tbl('throttle')} DROP CONSTRAINT "${prefix}throttle_pkey"`);
      await q(`ALTER TABLE ${tbl('credentials')} DROP CONSTRAINT "${prefix}credentials_pkey"`);
      try {
        await throttleRow('dup', '1', '0');
        await throttleRow('dup', '2', '0');
        await corrupt(store.getThrottle('dup', OTP_SCOPE), 'throttle (duplicate rows)');
        await corrupt(store.attemptTotp(attempt('dup')), 'throttle (duplicate rows)');
        await corrupt(totpThrough('dup'), 'throttle (duplicate rows)');
        await corrupt(hotpThrough('dup'), 'throttle (duplicate rows)');
        await credentialRow('dupc', 'last_step', '1');
        await credentialRow('dupc', 'last_step', '2');
        await corrupt(store.getCredentials('dupc', ['c']), 'credentials (duplicate rows)');
        await corrupt(store.attemptTotp(attempt('dupc')), 'credentials (duplicate rows)');
        await corrupt(hotpThrough('dupc'), 'credentials (duplicate rows)');
        await corrupt(
          store.settleAttempt({
            userId: 'dupc',
            scope: OTP_SCOPE,
            now: T,
            claim: { kind: 'totp', credentialId: 'c', step: STEP, drift: 0, create: true },
          }),
          'credentials (duplicate rows)',
        );
      } finally {
        await q(
          `DELETE FROM ${tbl('throttle')} WHERE user_id = 'dup'; DELETE FROM ${tbl('credentials')} WHERE user_id = 'dupc'`,
        );
        await q(`ALTER TABLE ${tbl('throttle')} ADD PRIMARY KEY (user_id, scope)`);
        await q(`ALTER TABLE ${tbl('credentials')} ADD PRIMARY KEY (user_id, credential_id)`);
      }
    });

    it('column types changed: non-integer numerics and text that is not canonical decimal', async () => {
      await q(`ALTER TABLE ${tbl('credentials')} ALTER COLUMN hotp_counter TYPE numeric`);
      for (const [user, val] of [
        ['frac', '5.5'],
        ['frac0', '5.0'],
        ['nan', "'NaN'"],
      ] as const) {
        await credentialRow(user, 'hotp_counter', val);
        await corrupt(store.getCredentials(user, ['c']), 'credentials.hotp_counter');
        await corrupt(hotpThrough(user), 'credentials.hotp_counter');
        await corrupt(
          store.settleAttempt({
            userId: user,
            scope: OTP_SCOPE,
            now: T,
            claim: { kind: 'hotp', credentialId: 'c', expected: 5n, next: 6n, create: true },
          }),
          'credentials.hotp_counter',
        );
      }
      await q(`ALTER TABLE ${tbl('credentials')} ALTER COLUMN last_step TYPE text`);
      for (const [user, value] of [
        ['t1', 'abc'],
        ['t2', ' 12'],
        ['t3', '1e3'],
        ['t4', '0x10'],
        ['t5', '+5'],
        ['t6', '07'],
        ['t7', ''],
      ] as const) {
        await credentialRow(user, 'last_step', `'${value}'`);
        await corrupt(store.getCredentials(user, ['c']), 'credentials.last_step');
        await corrupt(store.attemptTotp(attempt(user)), 'credentials.last_step');
        await corrupt(totpThrough(user), 'credentials.last_step');
      }
      // A text column holding a valid number still compares numerically: '100' > '99' as text
      // would otherwise let step 99 replay after 100.
      await credentialRow('txtnum', 'last_step', "'100'");
      expect((await store.getCredentials('txtnum', ['c'])).c?.lastStep).toBe(100);
      expect(await store.attemptTotp(attempt('txtnum', { step: 99 }))).toEqual({
        status: 'replayed',
        failures: 1,
      });
      expect(await store.attemptTotp(attempt('txtnum', { step: 101 }))).toEqual({
        status: 'ok',
        delta: 0,
      });
      expect(
        (
          await store.settleAttempt({
            userId: 'txtnum',
            scope: OTP_SCOPE,
            now: T,
            claim: { kind: 'totp', credentialId: 'c', step: 99, drift: 0, create: true },
          })
        ).status,
      ).toBe('replayed');

      await q(`ALTER TABLE ${tbl('throttle')} ALTER COLUMN failures TYPE text`);
      for (const [user, value] of [
        ['tf1', "'3.0'"],
        ['tf2', "'three'"],
        ['tf3', "'-0'"],
      ] as const) {
        await throttleRow(user, value, '0');
        await corrupt(store.getThrottle(user, OTP_SCOPE), 'throttle.failures');
        await corrupt(store.attemptTotp(attempt(user)), 'throttle.failures');
        await corrupt(hotpThrough(user), 'throttle.failures');
      }
    });
  });

  describe('server detail is scrubbed', () => {
    it('a server-side rejection of a write never carries the hash, sealed secret or payload', async () => {
      const { prefix, store } = await fresh();
      const FORBIDDEN = 'FORBIDDENVALUE';
      await pool.query(
        `ALTER TABLE "${prefix}recovery_codes" ADD CONSTRAINT no_marker CHECK (hash NOT LIKE '%${FORBIDDEN}%')`,
      );
      await pool.query(
        `ALTER TABLE "${prefix}factors" ADD CONSTRAINT no_marker CHECK (sealed_secret NOT LIKE '%${FORBIDDEN}%')`,
      );
      await pool.query(
        `ALTER TABLE "${prefix}challenges" ADD CONSTRAINT no_marker CHECK (payload NOT LIKE '%${FORBIDDEN}%')`,
      );
      await store.addFactor(factor('scrub', 'f'), LIMITS, T);
      const writes: Array<() => Promise<unknown>> = [
        () =>
          store.replaceRecoveryCodes(
            'scrub',
            S([{ id: 'x', hash: `$scrypt$SALT$${FORBIDDEN}` }]),
            null,
          ),
        () => store.addFactor(factor('scrub', 'g', { sealedSecret: `v1:${FORBIDDEN}` }), LIMITS, T),
        () => store.resealFactor('scrub', 'f', 'sealed:f', `v2:${FORBIDDEN}`),
        () => store.createChallenge(challenge('scrub', { payload: `{"x":"${FORBIDDEN}"}` }), 3),
      ];
      for (const w of writes) {
        const e = await expectStoreError(w(), 'ERR_STORE');
        const cause = e.cause as Record<string, unknown>;
        expect(cause.code).toBe('23514');
        expect(cause.detail).toBeUndefined();
        expect(
          `${e.message} ${String(cause.message)} ${JSON.stringify(cause)} ${JSON.stringify(Object.getOwnPropertyNames(cause).map((k) => cause[k]))}`,
        ).not.toContain(FORBIDDEN);
      }
    });
  });

  describe('failure counts and transactions (CVE-2026-35597)', () => {
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
        const r = await verifier.verifyTOTP({
          userId: 'rollback',
          secret: SECRET,
          token: wrongCode(T),
          now: T,
        });
        expect(r).toEqual({ ok: false, reason: 'invalid' });
        await app.query('ROLLBACK');
      } finally {
        await app.end();
      }
      expect(await store.getThrottle('rollback', OTP_SCOPE)).toEqual({
        failures: 1,
        lastFailureAt: T,
      });
      expect(await store.getThrottle('audit-only', 'x')).toEqual({ failures: 0, lastFailureAt: 0 }); // the app's own write did roll back
    });

    it("why the docs insist on a Pool: a store on the transaction's own client loses the count", async () => {
      const app = new pg.Client({ connectionString: url });
      await app.connect();
      try {
        const wrongStore = createPostgresStore({ client: app, prefix });
        const verifier = createVerifier({ store: wrongStore });
        await app.query('BEGIN');
        await verifier.verifyTOTP({ userId: 'lost', secret: SECRET, token: wrongCode(T), now: T });
        expect((await wrongStore.getThrottle('lost', OTP_SCOPE)).failures).toBe(1);
        await app.query('ROLLBACK');
      } finally {
        await app.end();
      }
      expect(
        (await createPostgresStore({ client: pool, prefix }).getThrottle('lost', OTP_SCOPE))
          .failures,
      ).toBe(0);
    });

    it('100 concurrent wrong codes through createVerifier: exactly 100 failures, then locked', async () => {
      const store = createPostgresStore({ client: pool, prefix });
      const verifier = createVerifier({ store, throttle: { maxFailures: 100, freeFailures: 100 } });
      const token = wrongCode(T);
      const results = await Promise.all(
        Array.from({ length: 100 }, () =>
          verifier.verifyTOTP({ userId: 'hundred', secret: SECRET, token, now: T }),
        ),
      );
      expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(Array(100).fill('invalid'));
      const raw = await pool.query(
        `SELECT failures FROM "${prefix}throttle" WHERE user_id = 'hundred'`,
      );
      expect(raw.rows).toEqual([{ failures: 100 }]);
      const good = await verifier.verifyTOTP({
        userId: 'hundred',
        secret: SECRET,
        token: generateTOTP(SECRET, { now: T }),
        now: T,
      });
      expect(good).toEqual({ ok: false, reason: 'locked' });
    });
  });

  describe('concurrency: per-user limits and one lock order', () => {
    let store!: PostgresStore;
    let prefix!: string;
    beforeAll(async () => {
      ({ prefix, store } = await fresh());
    });

    it('30 concurrent challenges of one user with maxLive 3: exactly 3 remain, the newest', async () => {
      const records = Array.from({ length: 30 }, (_, i) => challenge('cap', { createdAt: T + i }));
      await Promise.all(records.map((r) => store.createChallenge(r, 3)));
      const { rows } = await pool.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM "${prefix}challenges" WHERE user_id = 'cap'`,
      );
      expect(rows[0]?.n).toBe('3');
      await store.createChallenge(challenge('cap', { createdAt: T + 100 }), 3);
      const left = await pool.query(`SELECT 1 FROM "${prefix}challenges" WHERE user_id = 'cap'`);
      expect(left.rowCount).toBe(3);
    });

    it('30 concurrent enrollments of one user with maxPending 3: exactly 3 added', async () => {
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, i) => store.addFactor(factor('enrol', `f${i}`), LIMITS, T)),
      );
      expect(outcomes.filter((o) => o === 'added')).toHaveLength(3);
      expect(await store.listFactors('enrol')).toHaveLength(3);
    });

    it('every operation on one user at once: no deadlock, and every claim still won at most once', async () => {
      const u = 'busy';
      const errors: unknown[] = [];
      for (let round = 0; round < 8; round++) {
        const ch = challenge(u, { maxAttempts: 100 });
        await store.createChallenge(ch, 5);
        await store.replaceRecoveryCodes(
          u,
          null,
          (await store.getRecoveryCodeSet(u))?.setId ?? null,
        );
        await store.replaceRecoveryCodes(
          u,
          S([{ id: `r${round}`, hash: 'h' }], `set${round}`),
          null,
        );
        const ops: Array<() => Promise<unknown>> = [];
        for (let i = 0; i < 6; i++) {
          ops.push(
            () =>
              store.attemptTotp(
                attempt(u, {
                  step: STEP + round * 100 + i,
                  policy: { ...POLICY, maxFailures: 100, freeFailures: 100 },
                }),
              ),
            () =>
              store.beginAttempt({
                userId: ch.userId,
                challengeHash: ch.hash,
                now: T,
                policy: { ...POLICY, maxFailures: 100, freeFailures: 100 },
                credentialIds: ['c'],
                recoverySet: true,
              }),
            () =>
              store.settleAttempt({
                userId: u,
                scope: OTP_SCOPE,
                now: T,
                claim: {
                  kind: 'totp',
                  credentialId: 'c',
                  step: STEP + round * 100 + 50 + i,
                  drift: 0,
                  create: true,
                },
                challengeHash: ch.hash,
              }),
            () =>
              store.settleAttempt({
                userId: u,
                scope: 'recovery',
                now: T,
                claim: { kind: 'recovery', setId: `set${round}`, codeId: `r${round}` },
              }),
            () => store.createChallenge(challenge(u), 5),
            () => store.deleteCredentials(u, ['c']),
            () => store.initCredential(u, 'c', null, null),
            () => store.resetThrottle(u, null),
            () =>
              store.addFactor(
                factor(u, `f${round}-${i}`),
                { maxPending: 100, maxConfirmed: 100 },
                T,
              ),
            () => store.confirmFactor(u, `f${round}-${i}`, T, 100),
            () =>
              store.setChallengeCode(
                u,
                ch.hash,
                { factorId: 'e', codeHash: hex(i + 1), expiresAt: T + 60_000 },
                T,
              ),
            () =>
              store.settleAttempt({
                userId: u,
                scope: OTP_SCOPE,
                now: T,
                claim: { kind: 'oob', codeHash: hex(i + 1) },
                challengeHash: ch.hash,
              }),
            () => store.createDevice(device(u, `d${i}`, { tokenHash: hex(round * 10 + i) }), 3),
            () =>
              store.rotateDevice(
                u,
                'trusted',
                hex(round * 10 + i),
                hex(1000 + round * 10 + i),
                T,
                null,
              ),
            () =>
              store.reserveSend(
                { kind: 'user', userId: u },
                { limit: 100, windowMs: 60_000, cooldownMs: 0 },
                T,
              ),
          );
        }
        if (round % 2 === 1) ops.push(() => store.eraseUser(u));
        const settled = await Promise.allSettled(ops.map((op) => op()));
        for (const s of settled) if (s.status === 'rejected') errors.push(s.reason);
        // Ops 3 (the recovery code) and 2 and 11 (the challenge, consumed by a success) of each batch of 15.
        const wins = (at: number[]): number =>
          settled.filter(
            (s, k) =>
              at.includes(k % 15) &&
              k < 90 &&
              s.status === 'fulfilled' &&
              (s.value as { status?: unknown }).status === 'ok',
          ).length;
        expect(wins([3]), `round ${round}: recovery code`).toBeLessThanOrEqual(1);
        expect(wins([2, 11]), `round ${round}: challenge`).toBeLessThanOrEqual(1);
      }
      expect(errors.map((e) => `${String(e)} ${String((e as { cause?: unknown }).cause)}`)).toEqual(
        [],
      );
    });

    // Until a backend running `query` (this test's own: its prefix and user) waits for a lock.
    const waiting = async (query: string): Promise<void> => {
      for (let i = 0; i < 500; i++) {
        const { rows } = await pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
          [`%${query}%`],
        );
        if (rows.length > 0) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no backend waiting in ${query}`);
    };

    // A success locks the throttle row before its claim; when the row is absent there is nothing
    // to lock, and another call may create and lock it while the success waits for its claim's
    // row. The success must then not touch it (it has no failures to reset): updating it after
    // the claim would close a lock cycle with a call holding it and waiting for the claim's row.
    // The interleaving is forced: L holds the claim's row, S (the success) waits for it, the row
    // appears with a failure, X locks it and queues for the claim's row, L lets go.
    for (const kind of ['totp', 'recovery'] as const) {
      it(`a ${kind} success whose throttle row appears while it waits: no deadlock, the newer failure kept`, async () => {
        const u = `cycle-${kind}`;
        const scope = kind === 'totp' ? OTP_SCOPE : RECOVERY_SCOPE;
        const row =
          kind === 'totp'
            ? `"${prefix}credentials" WHERE user_id = '${u}' AND credential_id = 'c'`
            : `"${prefix}recovery_sets" WHERE user_id = '${u}'`;
        if (kind === 'totp') await store.initCredential(u, 'c', null, null);
        else await store.replaceRecoveryCodes(u, S([{ id: 'r', hash: 'h' }], 'set'), null);
        const throttleRow = `"${prefix}throttle" WHERE user_id = '${u}' AND scope = '${scope}'`;
        expect((await pool.query(`SELECT 1 FROM ${throttleRow}`)).rowCount).toBe(0);
        const L = await holding(row);
        let X: pg.Client | undefined;
        try {
          const success = store.settleAttempt({
            userId: u,
            scope,
            now: T,
            claim:
              kind === 'totp'
                ? { kind, credentialId: 'c', step: STEP, drift: 0, create: false }
                : { kind, setId: 'set', codeId: 'r' },
          });
          await waiting(`"${prefix}settle_attempt"`);
          await pool.query(`INSERT INTO "${prefix}throttle" VALUES ('${u}', '${scope}', 1, ${T})`);
          X = await holding(throttleRow);
          const other = X.query(`SELECT 1 FROM ${row} FOR UPDATE`);
          await waiting(`SELECT 1 FROM ${row} FOR UPDATE`);
          await L.query('ROLLBACK');
          expect((await success).status).toBe('ok');
          await other;
          await X.query('COMMIT');
        } finally {
          await L.end();
          await X?.end();
        }
        expect((await store.getThrottle(u, scope)).failures).toBe(1);
      });
    }

    // Two statements that delete several of a user's challenges lock them in their own orders:
    // create_challenge its dead ones first, then its oldest live ones; eraseUser and
    // deleteChallenges all of them in table order. Forced: L holds the oldest live challenge,
    // the erasure queues for it, a creation locks the dead one (stored after it) and queues too,
    // L lets go. The user's advisory lock, taken first by all three, makes them wait their turn.
    for (const erase of ['eraseUser', 'deleteChallenges'] as const) {
      it(`${erase} beside a createChallenge that drops the same user's challenges: no deadlock`, async () => {
        const u = `cycle-${erase}`;
        const live = challenge(u, { createdAt: T, expiresAt: T + 300_000 });
        const dead = challenge(u, { createdAt: T + 1, expiresAt: T + 2 });
        await store.createChallenge(live, 5);
        await store.createChallenge(dead, 5);
        const L = await holding(`"${prefix}challenges" WHERE hash = $1`, [live.hash]);
        try {
          const erased = store[erase](u);
          // (deleteChallenges: the plain DELETE of old and the function call of now alike)
          await waiting(erase === 'eraseUser' ? `${prefix}erase_user` : `${prefix}%challenges`);
          const created = store.createChallenge(challenge(u, { createdAt: T + 10 }), 1);
          await waiting(`"${prefix}create_challenge"`);
          await L.query('ROLLBACK');
          await erased;
          await created;
        } finally {
          await L.end();
        }
        // The erasure came first: only the new challenge is left.
        const { rows } = await pool.query(
          `SELECT hash FROM "${prefix}challenges" WHERE user_id = $1`,
          [u],
        );
        expect(rows).toHaveLength(1);
      });
    }

    // A success that stores a device (a new browser's) takes the user's advisory lock in
    // create_device. Taken after its challenge's row lock, it would close a cycle with a
    // createChallenge that holds the lock and deletes that challenge. Forced: L holds the
    // challenge, the success queues for it, the creation (which drops it) queues too, L lets go.
    it('a success that stores a device beside a createChallenge that drops its challenge: no deadlock', async () => {
      const u = 'cycle-settle-device';
      const ch = challenge(u, { createdAt: T, expiresAt: T + 300_000 });
      await store.createChallenge(ch, 5);
      const L = await holding(`"${prefix}challenges" WHERE hash = $1`, [ch.hash]);
      try {
        const settled = store.settleAttempt({
          userId: u,
          scope: 'otp',
          now: T + 1,
          challengeHash: ch.hash,
          claim: { kind: 'totp', credentialId: 'c', step: 7, drift: 0, create: true },
          device: {
            record: device(u, 'new-browser', { kind: 'known', createdAt: T + 1 }),
            maxPerUser: 5,
          },
        });
        await waiting(`"${prefix}settle_attempt"`);
        const created = store.createChallenge(challenge(u, { createdAt: T + 10 }), 1);
        await waiting(`"${prefix}create_challenge"`);
        await L.query('ROLLBACK');
        // The success came first: it won, its device is stored, then the creation dropped nothing live.
        expect(await settled).toEqual({ status: 'ok', remaining: null });
        await created;
      } finally {
        await L.end();
      }
      expect((await store.listDevices(u, 'known', T + 2)).map((d) => d.id)).toEqual([
        'new-browser',
      ]);
    });

    it('one device token used 40 times at once: exactly one rotation, the rest are replays', async () => {
      await store.createDevice(device('dev-race', 'd', { tokenHash: hex(10) }), 5);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.rotateDevice('dev-race', 'trusted', hex(10), hex(100 + i), T, null),
        ),
      );
      expect(results.filter((r) => r.status === 'rotated')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'replayed')).toEqual(
        Array(39).fill({ status: 'replayed', deviceId: 'd' }),
      );
      const [d] = await store.listDevices('dev-race', 'trusted', T);
      expect(d?.previousHash).toBe(hex(10));
    });

    it('40 concurrent sends into a quota of 5: exactly 5 reserved; 30 devices of one kind at once keep the cap', async () => {
      const rule = { limit: 5, windowMs: 60_000, cooldownMs: 0 };
      const results = await Promise.all(
        Array.from({ length: 40 }, () =>
          store.reserveSend({ kind: 'destination', hash: hex(42) }, rule, T),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(5);
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          store.createDevice(
            device('dev-cap', `d${i}`, { tokenHash: hex(i), createdAt: T + i }),
            4,
          ),
        ),
      );
      expect(await store.listDevices('dev-cap', 'trusted', T)).toHaveLength(4);
    });

    it('one recovery code claimed 40 times at once: exactly one ok, and the count of the rest', async () => {
      await store.replaceRecoveryCodes(
        'rc-race',
        S(
          [
            { id: 'a', hash: 'h' },
            { id: 'b', hash: 'h' },
          ],
          'set',
        ),
        null,
      );
      const results = await Promise.all(
        Array.from({ length: 40 }, () =>
          store.settleAttempt({
            userId: 'rc-race',
            scope: 'recovery',
            now: T,
            claim: { kind: 'recovery', setId: 'set', codeId: 'a' },
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'ok')).toEqual([{ status: 'ok', remaining: 1 }]);
      expect(results.filter((r) => r.status === 'replayed')).toHaveLength(39);
    });
  });

  describe('erasure', () => {
    it('eraseUser and removeFactors leave no row of the user in any table, and touch no one else', async () => {
      const { prefix, store } = await fresh();
      const populate = async (u: string): Promise<void> => {
        expect((await store.attemptTotp(attempt(u))).status).toBe('ok');
        expect(
          (await store.attemptTotp(attempt(u, { scope: 'recovery', candidates: [] }))).status,
        ).toBe('invalid');
        expect(await store.initCredential(u, 'h', null, 5n)).toBe(true);
        expect(
          await store.replaceRecoveryCodes(
            u,
            S([
              { id: `${u}-1`, hash: 'h1' },
              { id: `${u}-2`, hash: 'h2' },
            ]),
            null,
          ),
        ).toBe(true);
        const ch = challenge(u);
        await store.createChallenge(ch, 3);
        await store.createChallenge(challenge(u), 3);
        expect(
          (
            await store.settleAttempt({
              userId: u,
              scope: OTP_SCOPE,
              now: T,
              claim: { kind: 'totp', credentialId: 'c', step: STEP + 1, drift: 0, create: true },
              challengeHash: ch.hash,
              stepUp: { hash: `${u}-step-up`, expiresAt: T + 60_000 },
            })
          ).status,
        ).toBe('ok');
        expect(await store.addFactor(factor(u, 'f1'), LIMITS, T)).toBe('added');
        expect(
          await store.addFactor(
            factor(u, 'f2', { status: 'confirmed', confirmedAt: T, expiresAt: null }),
            LIMITS,
            T,
          ),
        ).toBe('added');
        await store.createDevice(device(u, 'd1'), 5);
        await store.createDevice(device(u, 'd2', { kind: 'known', tokenHash: hex(2) }), 5);
        expect(await store.reserveSend({ kind: 'user', userId: u }, RULE, T)).toEqual({ ok: true });
      };
      const rowsOf = async (u: string): Promise<Record<string, number>> => {
        const out: Record<string, number> = {};
        for (const t of TABLES) {
          const { rows } = await pool.query<{ n: string }>(
            `SELECT count(*)::text AS n FROM "${prefix}${t}" WHERE ${ownedBy(t)}`,
            [u],
          );
          out[t] = Number(rows[0]?.n);
        }
        return out;
      };
      await populate('erase-me');
      await populate('keep-me');
      const before = await rowsOf('keep-me');
      expect(Object.values(await rowsOf('erase-me')).every((n) => n > 0)).toBe(true);
      await store.eraseUser('erase-me');
      expect(await store.removeFactors('erase-me')).toBe(2);
      expect(await rowsOf('erase-me')).toEqual(Object.fromEntries(TABLES.map((t) => [t, 0])));
      expect(await rowsOf('keep-me')).toEqual(before);
      // Every table of the prefix was looked at.
      const all = await pool.query<{ t: string }>(
        `SELECT relname AS t FROM pg_class WHERE relkind = 'r' AND relname LIKE $1 ORDER BY 1`,
        [like(prefix)],
      );
      expect(all.rows.map((r) => r.t.slice(prefix.length))).toEqual([...TABLES]);
    });
  });

  describe('purgeExpired', () => {
    const target = async (): Promise<PurgeTarget> => {
      const { prefix, store } = await fresh();
      const rows = async (): Promise<number> => {
        let n = 0;
        for (const t of TABLES) {
          const { rows: r } = await pool.query<{ n: string }>(
            `SELECT count(*)::text AS n FROM "${prefix}${t}"`,
          );
          n += Number(r[0]?.n);
        }
        return n;
      };
      // PostgreSQL keeps a bucket at zero after a success (the flow's populate leaves one).
      return { store, rows, zeroThrottleRows: true };
    };
    for (const c of purgeCases(target)) it(c.name, c.run);

    it('purgeExpired beside sign-ins on other connections: every failure still counted, from zero after each success', async () => {
      const { store } = await fresh();
      const policy = { ...POLICY, freeFailures: 100, maxFailures: 100 };
      let stop = false;
      let purges = 0;
      let removed = 0;
      const purger = (async () => {
        while (!stop) {
          removed += (await store.purgeExpired({ now: T + 3_600_000 })).throttles;
          purges++;
        }
      })();
      const users = Array.from({ length: 12 }, (_, i) => `race-${i}`);
      for (let round = 0; round < 6; round++)
        await Promise.all(
          users.map(async (u) => {
            const at = { policy, step: STEP + round };
            // Two wrong codes count 1 then 2 whether the zero bucket was purged or not ...
            for (const failures of [1, 2])
              expect(await store.attemptTotp(attempt(u, { ...at, candidates: [] }))).toEqual({
                status: 'invalid',
                failures,
              });
            // ... and the right one resets the bucket to zero (a row the purger may take).
            expect((await store.attemptTotp(attempt(u, at))).status).toBe('ok');
          }),
        );
      stop = true;
      await purger;
      expect(purges).toBeGreaterThan(5);
      expect(removed).toBeGreaterThan(0);
    });

    // A purge never waits for a row lock: it cannot stall a sign-in in progress, nor close a
    // lock cycle with one (createChallenge deletes the same dead rows in an order of its own).
    it('purgeExpired leaves a row another transaction holds to a later run instead of waiting for it', async () => {
      const { prefix, store } = await fresh();
      const held = challenge('held', { expiresAt: T + 1 });
      await store.createChallenge(held, 5);
      await store.createChallenge(challenge('free', { expiresAt: T + 1 }), 5);
      const L = await holding(`"${prefix}challenges" WHERE hash = $1`, [held.hash]);
      let purge!: Promise<unknown>;
      try {
        purge = store.purgeExpired({ now: T + 3_600_000 });
        const first = await Promise.race([
          purge,
          new Promise((r) => setTimeout(() => r('waited for the lock'), 3000)),
        ]);
        expect(first).toMatchObject({ challenges: 1, done: true });
      } finally {
        await L.query('ROLLBACK');
        await L.end();
        await purge;
      }
      expect(await store.purgeExpired({ now: T + 3_600_000 })).toMatchObject({ challenges: 1 });
    });

    it('purgeExpired is one statement, one commit', async () => {
      const { prefix } = await fresh();
      const client = counting(pool);
      const store = createPostgresStore({ client, prefix });
      await store.purgeExpired({ now: Date.UTC(2031, 5, 1) });
      expect(client.sent).toHaveLength(1);
      expect(client.sent[0]).toMatch(/^WITH ch AS \(DELETE FROM/);
    });
  });
});
