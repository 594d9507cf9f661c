/**
 * The D1 store on miniflare's local D1: every statement runs in workerd's SQLite (the binding
 * returned by `getD1Database` is a proxy from Node to workerd). The shared SQL-store suite
 * (test/store/sql.shared.ts: the OtpStore, FactorStore and two-factor contracts with their fault
 * cases, the seeded memory-store oracle, 2^64 − 1, ids that differ in one character, the schema's
 * CHECKs, tampered rows in every table failing closed, erasure, 50-way races), then what is
 * D1's own: one `batch` (one transaction, one round trip) per decision and a single statement per
 * read, idempotent migrations, D1 errors as ERR_STORE without stored contents, and option checks.
 */
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtpkitError } from '../../src/errors.js';
import {
  createD1Store,
  d1Schema,
  migrateD1,
  type D1DatabaseLike,
  type D1PreparedStatementLike,
} from '../../src/store/d1.js';
import { createSqliteStore, sqliteSchema, type SqliteDatabase } from '../../src/store/sqlite.js';
import { OTP_SCOPE, createVerifier } from '../../src/verifier/verifier.js';
import { generateTOTP } from '../../src/totp.js';
import {
  attempt,
  expectStoreError,
  SECRET,
  sqlStoreSuite,
  T,
  type Fresh,
  type Q,
} from './sql.shared.js';

/**
 * The Worker the tests talk to: it runs the statements it is sent on its real `env.DB` binding
 * (one `batch`, or one `all()`), inside workerd, and answers the rows or the error's name and
 * message. One HTTP round trip per store call: miniflare's `getD1Database` proxy also works (the
 * tests below use it too), but it makes a round trip for every `prepare` and `bind` as well,
 * which on a loaded CI machine would make the contract suites take many minutes.
 */
const WORKER = `export default {
  async fetch(request, env) {
    const { steps, batch } = await request.json();
    try {
      const bound = steps.map((s) => env.DB.prepare(s.sql).bind(...s.args));
      const out = batch ? await env.DB.batch(bound) : [await bound[0].all()];
      return Response.json({ ok: true, results: out.map((r) => ({ results: r.results })) });
    } catch (e) {
      return Response.json({ ok: false, name: String(e && e.name), message: String(e && e.message) });
    }
  },
};`;
const mf = new Miniflare({
  modules: true,
  script: WORKER,
  compatibilityDate: '2025-06-01',
  d1Databases: ['DB'],
});
let url: URL | undefined;
let proxy: D1DatabaseLike | undefined;
/** miniflare's own D1 proxy of the binding (a round trip per call of the D1 API). */
async function d1Proxy(): Promise<D1DatabaseLike> {
  proxy ??= (await mf.getD1Database('DB')) as unknown as D1DatabaseLike;
  return proxy;
}
interface Sent {
  readonly sql: string;
  readonly args: readonly unknown[];
}
/** The same binding through the Worker above: the D1 API shape, one round trip per `all()` or `batch()`. */
function d1OverFetch(): D1DatabaseLike {
  const send = async (steps: readonly Sent[], batch: boolean): Promise<unknown[]> => {
    url ??= await mf.ready;
    const res = await fetch(url, { method: 'POST', body: JSON.stringify({ steps, batch }) });
    const body = (await res.json()) as
      { ok: true; results: unknown[] } | { ok: false; name: string; message: string };
    if (!body.ok) throw Object.assign(new Error(body.message), { name: body.name });
    return body.results;
  };
  const statement = (sql: string, args: readonly unknown[]): D1PreparedStatementLike & Sent => ({
    sql,
    args,
    bind: (...values: unknown[]) => statement(sql, values),
    all: async () => (await send([{ sql, args }], false))[0],
  });
  return {
    prepare: (sql) => statement(sql, []),
    batch: (list) =>
      send(
        list.map((s) => ({ sql: (s as unknown as Sent).sql, args: (s as unknown as Sent).args })),
        true,
      ),
  };
}
const binding = d1OverFetch();
async function d1(): Promise<D1DatabaseLike> {
  return binding;
}
afterAll(async () => {
  await mf.dispose();
});

/** Raw SQL on the binding: positional `?` parameters, the rows of `results`. */
const raw =
  (db: D1DatabaseLike): Q =>
  async (sql, ...args) => {
    const r = (await db
      .prepare(sql)
      .bind(...args)
      .all()) as { results: Record<string, unknown>[] };
    return r.results;
  };

let seq = 0;

describe('D1 store (miniflare local D1, SQL run by workerd)', () => {
  sqlStoreSuite({
    adapter: 'D1',
    // One prefix per store on the one database: every case of the flow contract gets tables of its own.
    async fresh(): Promise<Fresh> {
      const db = await d1();
      const prefix = `t${++seq}_`;
      await migrateD1(db, { prefix });
      return { store: createD1Store({ db, prefix }), prefix, q: raw(db) };
    },
    // Fewer seeds than SQLite: each step is a round trip to workerd; the statements are the same.
    oracle: { seeds: [1, 0x5eed], steps: 300 },
    // The flow over two stores and the flow under injected store faults test the flow layer, and
    // run on SQLite (test/store/sqlite.test.ts) with the same statements; here they would take
    // five minutes of round trips. The OtpStore contract's own fault cases do run here.
    flow: { apart: false, faults: false },
  });

  describe('batches and round trips', () => {
    /** The binding, counting what reaches D1: `batch` calls (with their sizes) and single `all()` calls. */
    const counting = (
      db: D1DatabaseLike,
    ): { spy: D1DatabaseLike; batches: number[]; singles: string[] } => {
      const batches: number[] = [];
      const singles: string[] = [];
      const wrap = (st: D1PreparedStatementLike, sql: string): D1PreparedStatementLike => ({
        bind: (...v: unknown[]) => wrap(st.bind(...v), sql),
        all: () => (singles.push(sql), st.all()),
        // The real statement object, for batch().
        ...{ inner: st },
      });
      const spy: D1DatabaseLike = {
        prepare: (sql) => wrap(db.prepare(sql), sql),
        batch: (list) => {
          batches.push(list.length);
          return db.batch(
            list.map((s) => (s as unknown as { inner: D1PreparedStatementLike }).inner),
          );
        },
      };
      return { spy, batches, singles };
    };

    it('runs each decision as ONE batch and each read as one statement', async () => {
      const db = await d1Proxy();
      await migrateD1(db, { prefix: 'rt_' });
      const { spy, batches, singles } = counting(db);
      const store = createD1Store({ db: spy, prefix: 'rt_' });
      expect(await store.attemptTotp(attempt('rt'))).toEqual({ status: 'ok', delta: 0 });
      expect(batches).toHaveLength(1);
      expect(singles).toEqual([]);
      expect(await store.attemptTotp(attempt('rt'))).toEqual({ status: 'replayed', failures: 1 });
      expect(batches).toHaveLength(2);
      batches.length = 0;
      expect(await store.getThrottle('rt', OTP_SCOPE)).toEqual({ failures: 1, lastFailureAt: T });
      expect(batches).toEqual([]);
      expect(singles).toHaveLength(1);
      singles.length = 0;
      // A whole sign-in through the verifier: gate, evaluation and consumption in one batch.
      const v = createVerifier({ store });
      const now = T + 3_600_000;
      expect(
        await v.verifyTOTP({
          userId: 'rt-v',
          secret: SECRET,
          token: generateTOTP(SECRET, { now }),
          now,
        }),
      ).toMatchObject({ ok: true });
      expect(batches).toHaveLength(1);
      expect(singles).toEqual([]);
    });

    it('a batch is all or nothing: a failing statement of a decision leaves no row behind', async () => {
      const db = await d1Proxy();
      const q = raw(db);
      await migrateD1(db, { prefix: 'aon_' });
      const store = createD1Store({ db, prefix: 'aon_' });
      expect(await store.attemptTotp(attempt('aon', { candidates: [] }))).toEqual({
        status: 'invalid',
        failures: 1,
      });
      // The credentials table gone: the decision's first statements would run, its upsert cannot.
      await q('DROP TABLE "aon_credentials"');
      await expectStoreError(store.attemptTotp(attempt('aon')), 'ERR_STORE');
      expect(await q('SELECT failures FROM "aon_throttle" WHERE user_id = ?', 'aon')).toEqual([
        { failures: 1 },
      ]);
      expect(await q('SELECT * FROM "aon_scratch"')).toEqual([]);
    });
  });

  describe('schema, errors and options', () => {
    it('migrates idempotently, keeping the rows; d1Schema is the SQLite schema', async () => {
      const db = await d1Proxy();
      await migrateD1(db, { prefix: 'mig_' });
      const store = createD1Store({ db, prefix: 'mig_' });
      expect(await store.attemptTotp(attempt('m'))).toEqual({ status: 'ok', delta: 0 });
      await Promise.all([migrateD1(db, { prefix: 'mig_' }), migrateD1(db, { prefix: 'mig_' })]);
      expect(await store.attemptTotp(attempt('m'))).toEqual({ status: 'replayed', failures: 1 });
      expect(d1Schema({ prefix: 'mig_' }).replace(/^-- .*\n/, '')).toBe(
        sqliteSchema({ prefix: 'mig_' }).replace(/^-- .*\n/, ''),
      );
      expect(d1Schema()).toContain('CREATE TABLE IF NOT EXISTS "otpkit_credentials"');
      const tables = await raw(db)(
        `SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE 'mig\\_%' ESCAPE '\\' ORDER BY name`,
      );
      expect(tables.map((t) => t.name)).toEqual([
        'mig_challenges',
        'mig_credentials',
        'mig_devices',
        'mig_factors',
        'mig_recovery_codes',
        'mig_recovery_sets',
        'mig_scratch',
        'mig_send_quotas',
        'mig_step_ups',
        'mig_throttle',
      ]);
      for (const t of tables) expect(t.sql).toMatch(/\) STRICT/);
    });

    it('maps D1 errors to ERR_STORE with a cause that holds no stored or bound value', async () => {
      const db = await d1Proxy();
      const store = createD1Store({ db, prefix: 'nothere_' });
      const e = await expectStoreError(store.getThrottle('secret-user-id', OTP_SCOPE), 'ERR_STORE');
      expect(String((e.cause as Error).message)).toMatch(/no such table/);
      const e2 = await expectStoreError(
        store.replaceRecoveryCodes(
          'secret-user-id',
          { setId: 's', issuedAt: 0, total: 1, codes: [{ id: 'c', hash: 'HASH-SECRET' }] },
          null,
        ),
        'ERR_STORE',
      );
      for (const x of [e, e2]) {
        const text = `${x.message} ${String(x.cause)} ${JSON.stringify(x.cause)} ${(x.cause as Error).stack ?? ''}`;
        expect(text).not.toContain('secret-user-id');
        expect(text).not.toContain('HASH-SECRET');
        // A fresh Error holding the driver error's name, message and code only.
        expect(Object.keys(x.cause as object).filter((k) => k !== 'code' && k !== 'name')).toEqual(
          [],
        );
        expect(x.cause).toBeInstanceOf(Error);
      }
    });

    it('rejects bad prefixes, wrong types, unknown options and SQLite connections', async () => {
      const db = await d1Proxy();
      for (const prefix of [
        '',
        'A',
        '1a',
        'a-b',
        'a"b',
        'sqlite_x',
        '_cf_',
        '_cf_kv',
        'a'.repeat(42),
      ]) {
        expect(() => createD1Store({ db, prefix })).toThrow(RangeError);
        expect(() => d1Schema({ prefix })).toThrow(RangeError);
        await expect(migrateD1(db, { prefix })).rejects.toThrow(RangeError);
      }
      for (const prefix of [1, null, {}])
        expect(() => createD1Store({ db, prefix: prefix as unknown as string })).toThrow(TypeError);
      expect(() => createD1Store({ db, prefx: 'a_' } as unknown as { db: D1DatabaseLike })).toThrow(
        RangeError,
      );
      expect(() => createD1Store(undefined as unknown as { db: D1DatabaseLike })).toThrow(
        TypeError,
      );
      expect(() => createD1Store({ db: null as unknown as D1DatabaseLike })).toThrow(TypeError);
      // A synchronous SQLite connection has prepare() but no batch(): not a D1 binding.
      const sqlite = { prepare: () => ({}), exec: () => undefined } as unknown as D1DatabaseLike;
      expect(() => createD1Store({ db: sqlite })).toThrow(/D1 binding/);
      await expect(migrateD1(sqlite)).rejects.toThrow(TypeError);
      // …and the SQLite store refuses the D1 binding.
      expect(() => createSqliteStore({ db: db as unknown as SqliteDatabase })).toThrow(/D1/);
      const err: unknown = (() => {
        try {
          createD1Store({ db, prefix: 'a;drop' });
        } catch (x) {
          return x;
        }
        return undefined;
      })();
      expect((err as { code?: unknown }).code).toBe('ERR_OPTION_INVALID');
      expect(err).not.toBeInstanceOf(OtpkitError);
      expect(createD1Store({ db }).distributedSafe).toBe(true);
    });
  });
});

beforeAll(async () => {
  // Start workerd once, before the suites' own hooks.
  url = await mf.ready;
}, 60_000);
