#!/usr/bin/env node
// Store benchmark: verifyTOTP throughput and latency through the memory store and the Redis store
// (ioredis and node-redis), with 1, 8 and 32 verifications in flight, on one user and on many.
// Not part of `npm test`. Prints a Markdown table.
//
//   OTPKIT_REDIS_URL=redis://127.0.0.1:6379 node bench/stores.mjs [--ops 4000]
//
// Every verification is a full success: a valid code for a fresh step (getState, recordFailure,
// claimTotpStep, resetFailures: 4 round trips to Redis). On one user, in-flight calls race for
// increasing steps, so some lose as 'replayed' (still a full verification: 3 round trips).
// The TypeScript sources are bundled with esbuild first, so no build is needed.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { ops: { type: 'string', default: '4000' } } });
const OPS = Number(values.ops);
const url = process.env.OTPKIT_REDIS_URL;
if (!url) {
  console.error('OTPKIT_REDIS_URL is required, e.g. OTPKIT_REDIS_URL=redis://127.0.0.1:6379 node bench/stores.mjs');
  process.exit(2);
}

mkdirSync(join(root, '.tmp'), { recursive: true });
const tmp = mkdtempSync(join(root, '.tmp', 'bench-stores-'));
const out = join(tmp, 'otpkit.mjs');
await build({
  stdin: {
    contents: [
      "export { createVerifier } from './src/verifier.ts';",
      "export { createMemoryStore } from './src/store/memory.ts';",
      "export { createRedisStore } from './src/store/redis.ts';",
      "export { generateTOTP } from './src/totp.ts';",
    ].join('\n'),
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['ioredis', 'redis', 'pg'],
  outfile: out,
  logLevel: 'error',
});
const { createVerifier, createMemoryStore, createRedisStore, generateTOTP } = await import(pathToFileURL(out).href);
const { Redis } = await import('ioredis');
const { createClient } = await import('redis');

const prefix = `otpkit-bench:${process.pid}:`;
const io = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
await io.connect();
const nr = createClient({ url });
nr.on('error', () => {});
await nr.connect();

const SECRET = new Uint8Array(20).map((_, i) => i * 13 + 7);
const T0 = Date.UTC(2030, 0, 1);
const stores = [
  ['memory', () => createMemoryStore()],
  ['redis (ioredis)', () => createRedisStore({ client: io, prefix })],
  ['redis (node-redis)', () => createRedisStore({ client: nr, prefix })],
];

let run = 0;
/** Runs OPS verifications with `inflight` concurrent callers; returns per-call latencies (ns). */
async function scenario(makeStore, inflight, manyUsers) {
  const verifier = createVerifier({ store: makeStore(), throttle: { freeFailures: 100, maxFailures: 100 } });
  const tag = `r${++run}`;
  const seq = new Map();
  const nextCall = (i) => {
    const userId = manyUsers ? `${tag}-u${i}` : `${tag}-u`;
    const k = (seq.get(userId) ?? 0) + 1;
    seq.set(userId, k);
    const now = T0 + k * 30_000;
    return { userId, now, token: generateTOTP(SECRET, { now }) };
  };
  const lat = [];
  let issued = 0;
  const worker = async (w) => {
    for (;;) {
      const i = issued++;
      if (i >= OPS) return;
      const c = nextCall(manyUsers ? i : w);
      const t = process.hrtime.bigint();
      await verifier.verifyTOTP({ userId: c.userId, secret: SECRET, token: c.token, now: c.now });
      lat.push(Number(process.hrtime.bigint() - t));
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inflight }, (_, w) => worker(w)));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  lat.sort((a, b) => a - b);
  const mean = lat.reduce((a, b) => a + b, 0) / lat.length;
  const p99 = lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))];
  return { perSecond: OPS / seconds, meanUs: mean / 1000, p99Us: p99 / 1000 };
}

const rows = [];
try {
  // Warm up JIT, connections and the script caches.
  for (const [, make] of stores) await scenario(make, 8, true);
  for (const manyUsers of [false, true]) {
    for (const inflight of [1, 8, 32]) {
      let base;
      for (const [name, make] of stores) {
        const r = await scenario(make, inflight, manyUsers);
        base ??= r;
        rows.push({ name, users: manyUsers ? 'different' : 'same', inflight, ...r, addMean: r.meanUs - base.meanUs, addP99: r.p99Us - base.p99Us });
      }
    }
  }
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await io.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await io.del(...keys);
  } while (cursor !== '0');
  await io.quit();
  await nr.close();
  rmSync(tmp, { recursive: true, force: true });
}

const f = (n) => Math.round(n).toLocaleString('en-US');
const info = await (async () => `Node ${process.version}, ${OPS} verifications per row`)();
console.log(`\n${info}\n`);
console.log('| store | users | in flight | verifications/s | mean µs | p99 µs | added mean µs vs memory | added p99 µs vs memory |');
console.log('|---|---|--:|--:|--:|--:|--:|--:|');
for (const r of rows)
  console.log(
    `| ${r.name} | ${r.users} | ${r.inflight} | ${f(r.perSecond)} | ${f(r.meanUs)} | ${f(r.p99Us)} | ${r.name === 'memory' ? '–' : f(r.addMean)} | ${r.name === 'memory' ? '–' : f(r.addP99)} |`,
  );
