#!/usr/bin/env node
/**
 * Verifications per second through the PostgreSQL store, and the latency it adds over the
 * in-memory store, with 1, 8 and 32 verifyTOTP calls in flight (same user / different users).
 * Prints a Markdown table. Not part of `npm test`; needs a server:
 *
 *   OTPKIT_PG_URL=postgres://postgres@127.0.0.1:5432/otpkit node bench/stores-postgres.mjs [--ops 3000]
 *
 * Each measured verification is a successful verifyTOTP of a fresh step (getState,
 * recordFailure, claimTotpStep, resetFailures: four statements on PostgreSQL). With one shared
 * user and several calls in flight, a call whose step was overtaken by a newer one is a
 * (correct) 'replayed'; the outcome column counts them. The TypeScript source is bundled with
 * esbuild on the fly, so no build is needed.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({ options: { ops: { type: 'string', default: '3000' }, warmup: { type: 'string', default: '300' } } });
const OPS = Number(args.ops);
const WARMUP = Number(args.warmup);
const URL_ = process.env.OTPKIT_PG_URL;
if (!URL_) {
  console.error('Set OTPKIT_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/otpkit); see .ci/run.');
  process.exit(2);
}

mkdirSync(join(ROOT, '.tmp'), { recursive: true });
const bundle = join(ROOT, '.tmp', `bench-stores-postgres-${process.pid}.mjs`);
await build({
  stdin: {
    contents: [
      "export { createPostgresStore, migratePostgres } from './src/store/postgres.ts';",
      "export { createMemoryStore } from './src/store/memory.ts';",
      "export { createVerifier } from './src/verifier.ts';",
      "export { generateTOTP } from './src/totp.ts';",
    ].join('\n'),
    resolveDir: ROOT,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['pg'],
  outfile: bundle,
  logLevel: 'error',
});
const { createPostgresStore, migratePostgres, createMemoryStore, createVerifier, generateTOTP } = await import(bundle);
rmSync(bundle, { force: true });

const SECRET = new Uint8Array(20).map((_, i) => i * 17 + 1);
const T0 = Date.UTC(2030, 0, 1);
const prefix = `otpkit_bench_${Math.random().toString(36).slice(2, 8)}_`;
const pool = new pg.Pool({ connectionString: URL_, max: 32 });
await migratePostgres(pool, { prefix });
const server = (await pool.query('SHOW server_version')).rows[0].server_version;

let caseNo = 0;
/**
 * Runs `ops` verifications with `inflight` calls in flight. Every call uses a step later than
 * every earlier call of its user, so each would succeed if run alone.
 */
async function measure(store, inflight, sameUser, ops) {
  const tag = `c${++caseNo}`;
  const verifier = createVerifier({ store, throttle: { freeFailures: 100, maxFailures: 100 } });
  // Precompute tokens so HMAC generation is not timed (verification's own HMACs are).
  const tasks = Array.from({ length: ops }, (_, i) => {
    const now = T0 + i * 30_000;
    return { now, token: generateTOTP(SECRET, { now }) };
  });
  const lat = new Float64Array(ops);
  const outcomes = {};
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inflight }, async (_, slot) => {
      const userId = sameUser ? `${tag}-shared` : `${tag}-u${slot}`;
      for (let i = next++; i < ops; i = next++) {
        const { now, token } = tasks[i];
        const t = process.hrtime.bigint();
        const r = await verifier.verifyTOTP({ userId, secret: SECRET, token, now });
        lat[i] = Number(process.hrtime.bigint() - t) / 1000;
        const k = r.ok ? 'ok' : r.reason;
        outcomes[k] = (outcomes[k] ?? 0) + 1;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const sorted = Array.from(lat).sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / ops;
  const p99 = sorted[Math.min(ops - 1, Math.ceil(ops * 0.99) - 1)];
  return { perSecond: ops / seconds, mean, p99, outcomes };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const rows = [];
try {
  for (const inflight of [1, 8, 32]) {
    for (const sameUser of [true, false]) {
      const mem = createMemoryStore();
      const pgs = createPostgresStore({ client: pool, prefix });
      await measure(mem, inflight, sameUser, WARMUP);
      await measure(pgs, inflight, sameUser, WARMUP);
      const m = await measure(mem, inflight, sameUser, OPS);
      const p = await measure(pgs, inflight, sameUser, OPS);
      const out = Object.entries(p.outcomes).map(([k, v]) => `${k} ${v}`).join(', ');
      rows.push(
        `| ${inflight} | ${sameUser ? 'same' : 'different'} | ${fmt(m.perSecond)} | ${fmt(p.perSecond)} | ` +
          `${fmt(m.mean)} / ${fmt(m.p99)} | ${fmt(p.mean)} / ${fmt(p.p99)} | ${fmt(p.mean - m.mean)} / ${fmt(p.p99 - m.p99)} | ${out} |`,
      );
    }
  }
} finally {
  await pool.query(
    `DROP TABLE IF EXISTS "${prefix}credentials", "${prefix}throttle", "${prefix}recovery_sets", "${prefix}recovery_codes"`,
  );
  await pool.end();
}

console.log(
  `\nverifyTOTP through the store, ${fmt(OPS)} verifications per case; Node ${process.version}, ` +
    `PostgreSQL ${server} (pg.Pool max 32, same host), ${cpus().length}× ${cpus()[0]?.model ?? 'CPU'}\n`,
);
console.log('| in flight | user(s) | memory verif/s | PostgreSQL verif/s | memory mean / p99 µs | PostgreSQL mean / p99 µs | added by PostgreSQL mean / p99 µs | PostgreSQL outcomes |');
console.log('|---:|---|---:|---:|---:|---:|---:|---|');
for (const r of rows) console.log(r);
