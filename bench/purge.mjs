#!/usr/bin/env node
// What `purgeExpired` costs on PostgreSQL. Not part of `npm test`.
//
//   OTPKIT_PG_URL=postgres://… node bench/purge.mjs [--expired 100000] [--live 10000]
//
// Fills the challenges table of a fresh prefix with `--expired` challenges that expired ten
// minutes ago and `--live` live ones, then purges batch after batch (the default 10,000 rows of
// each kind per call) until nothing more is due. Reports the calls, the rows removed and left,
// the time per call, and a call with nothing due. The prefix's tables and functions are dropped
// at the end. The TypeScript sources are bundled with esbuild first, so no build is needed.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    expired: { type: 'string', default: '100000' },
    live: { type: 'string', default: '10000' },
  },
});
const url = process.env.OTPKIT_PG_URL;
if (!url) throw new Error('set OTPKIT_PG_URL to a PostgreSQL server to run this benchmark');
const EXPIRED = Number(values.expired);
const LIVE = Number(values.live);

mkdirSync(join(root, '.tmp'), { recursive: true });
const tmp = mkdtempSync(join(root, '.tmp', 'bench-purge-'));
const out = join(tmp, 'postgres.mjs');
await build({
  entryPoints: [join(root, 'src/store/postgres.ts')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  outfile: out,
  logLevel: 'error',
});
const { createPostgresStore, migratePostgres } = await import(pathToFileURL(out).href);
const pg = createRequire(join(root, 'package.json'))('pg');
const pool = new pg.Pool({ connectionString: url, max: 4 });
const prefix = `bench_purge_${Date.now().toString(36)}_`;
const T = Date.UTC(2031, 5, 1);
try {
  await migratePostgres(pool, { prefix });
  const store = createPostgresStore({ client: pool, prefix });
  const fill = (tag, n, createdAt, expiresAt) =>
    pool.query(
      `INSERT INTO "${prefix}challenges" (hash, user_id, scope, recovery_scope, created_at, expires_at,
         attempts, max_attempts, credential_ids, payload)
       SELECT $1 || lpad(to_hex(i), 63, '0'), $1 || i, 'otp', 'recovery', $2::bigint, $3::bigint, 0, 5, ARRAY['c'], '{}'
       FROM generate_series(1, $4::int) AS i`,
      [tag, createdAt, expiresAt, n],
    );
  await fill('d', EXPIRED, T - 3_600_000, T - 600_000);
  await fill('e', LIVE, T, T + 300_000);
  await pool.query(`ANALYZE "${prefix}challenges"`);

  const times = [];
  let removed = 0;
  const started = performance.now();
  for (;;) {
    const t = performance.now();
    const r = await store.purgeExpired({ now: T });
    times.push(performance.now() - t);
    removed += r.challenges;
    if (r.done) break;
  }
  const total = performance.now() - started;
  const idle = performance.now();
  await store.purgeExpired({ now: T });
  const idleMs = performance.now() - idle;
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${prefix}challenges"`);
  times.sort((a, b) => a - b);
  console.log(
    `${EXPIRED} expired and ${LIVE} live challenges: ${times.length} calls, ${removed} removed, ${rows[0].n} left; ` +
      `${total.toFixed(0)} ms in all, median ${times[times.length >> 1].toFixed(0)} ms per call; ` +
      `a call with nothing due: ${idleMs.toFixed(1)} ms`,
  );
} finally {
  const tables = await pool.query(
    `SELECT relname FROM pg_class WHERE relkind = 'r' AND starts_with(relname, $1)`,
    [prefix],
  );
  for (const { relname } of tables.rows)
    await pool.query(`DROP TABLE IF EXISTS "${relname}" CASCADE`);
  const fns = await pool.query(
    `SELECT p.oid::regprocedure::text AS f FROM pg_proc AS p WHERE starts_with(p.proname, $1)`,
    [prefix],
  );
  for (const { f } of fns.rows) await pool.query(`DROP FUNCTION IF EXISTS ${f}`);
  await pool.end();
  rmSync(tmp, { recursive: true, force: true });
}
