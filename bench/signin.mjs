#!/usr/bin/env node
/**
 * Store-backed sign-in benchmark: sign-ins per second and p50/p99 latency at 1 and 32 in flight
 * on every store (memory, SQLite, Redis, PostgreSQL; D1 through miniflare when asked for), each
 * otpkit row measured against the code people hand-write today (otpauth for the code check plus
 * their own replay and throttle records on the same store), in the same run. Prints Markdown
 * tables and the environment. Not a test: it asserts nothing, but exits non-zero if a sign-in
 * that should succeed does not (or a wrong code is not refused as 'invalid').
 *
 *   npm run bench:signin -- [--quick] [--rounds 8] [--seconds 0.2] [--inflight 1,32]
 *                           [--stores memory,sqlite,redis,postgres,d1] [--rows verify,baseline-a,...]
 *                           [--json out.json] [--profile PATH]
 *                           [--autopipelining all|except-scripts]
 *
 * Defaults: 8 rounds of 0.2 s per row and concurrency (many short rounds: the medians resist a
 * busy machine better), stores memory,sqlite,redis,postgres (about 4 minutes on 2 cores).
 * `--quick`: 2 rounds of 0.2 s and the success rows only (verify, baseline-a, baseline-a1, 2f-new,
 * 2f-known, baseline-b), about a minute. D1 only with `--stores …,d1`: each miniflare round
 * trip is an HTTP call into a local workerd, tens of ms on a small machine (try `--stores d1
 * --quick --rounds 1 --inflight 1,8`); it measures miniflare, not Cloudflare.
 *
 * `--autopipelining all`: the Redis client (otpkit's and the baselines') is made with ioredis's
 * `enableAutoPipelining`, to measure what that option does to each side; `except-scripts` also
 * sets `autoPipeliningIgnoredCommands: ['EVALSHA', 'EVAL']`, which leaves otpkit's commands out.
 *
 * Servers: its own redis-server (AOF, appendfsync everysec) and PostgreSQL (fsync and
 * synchronous_commit on), started on free ports in a temporary folder and stopped at the end
 * (as root, PostgreSQL runs through `runuser -u postgres`), unless OTPKIT_REDIS_URL /
 * OTPKIT_PG_URL name servers to use instead (then only this run's keys and tables are removed).
 * SQLite: a better-sqlite3 file in the temporary folder (the store's defaults: WAL, synchronous
 * FULL). The TypeScript sources are bundled with esbuild first, so no build is needed.
 *
 * Every measured sign-in succeeds at a fresh step of its own user: each in-flight caller has its
 * own users, and each user's clock moves one hour per attempt (so backoff never refuses a wrong
 * code either; a user retires before 95 failures, below the lock at 100). Rows:
 *
 * - `verify`: `createVerifier().verifyTOTP` with the secret supplied (defaults: window ±1,
 *   learned drift, 3 free failures then backoff, lock at 100).
 * - `baseline-a` (the reference for `verifyTOTP`): otpauth `TOTP.validate` (window 1, the object
 *   built per call from the secret) plus a failure counter read first (`GET` / `SELECT`) and
 *   incremented on a wrong code (`INCR` / upsert), a per-step replay record (`SET … NX EX 90` /
 *   `INSERT … ON CONFLICT DO NOTHING`) and the counter cleared on success (`DEL` / `DELETE`):
 *   3 round trips on success, 2 on a wrong code; not atomic (see makeBaseline below).
 * - `baseline-a1` (baseline A′, an extra row): one row per user read then written back (HMGET +
 *   HSET / SELECT + UPDATE), replay decided in app code: 2 round trips, not atomic.
 * - `2f-new` / `2f-known`: `createTwoFactor` sign-in, `startChallenge({ userId })` then
 *   `verifyChallenge({ challengeId, userId, code })`, from a browser without a known-device
 *   token (it gets one: `createDevice`) or with one (rotated by `startChallenge`). Users have
 *   one TOTP factor (sealed with a 32-byte key given as bytes) and a set of 10 recovery codes.
 * - `baseline-b` (the reference for the flow): baseline A plus the read of the user's sealed
 *   secret (opened with AES-256-GCM) and a pending sign-in record written at start, read and
 *   deleted at verify: 7 round trips, 3 writes (see makeBaseline).
 * - `*-wrong`: the same with a wrong code (what an attacker drives); for the flows only the
 *   verification is timed, on a challenge / pending record made beforehand.
 * - `*-same`: one user at 1 in flight, each attempt at the next step.
 *
 * Round trips and writes are counted, not assumed: before timing, each row runs a few sign-ins
 * one at a time through wrapped clients (ioredis `sendCommand`, pg `Pool#query`; for in-process
 * stores, store calls), and a second connection reads, around every command, whether the server's
 * data changed (Redis: `rdb_changes_since_last_save`; PostgreSQL: the next transaction id, so a
 * change is one transaction that took an xid, which `synchronous_commit = on` makes a durable
 * commit). Ratios: otpkit and baseline batches alternate within each round (ABBA order), and the
 * ratio of each round is reported as the median and range over the rounds.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    stores: { type: 'string' },
    inflight: { type: 'string', default: '1,32' },
    rows: { type: 'string' },
    json: { type: 'string' },
    profile: { type: 'string' },
    quick: { type: 'boolean', default: false },
    autopipelining: { type: 'string' },
  },
});
// --quick: 2 rounds of 0.2 s, the success rows only (no wrong-code or one-user rows).
const QUICK_ROWS = 'verify,baseline-a,baseline-a1,2f-new,2f-known,baseline-b';
const ROUNDS = Number(args.rounds ?? (args.quick ? 2 : 8));
const BATCH_SECONDS = Number(args.seconds ?? (args.quick ? 0.2 : 0.2));
const INFLIGHT = args.inflight.split(',').map(Number);
const AUTOPIPELINING = args.autopipelining;
if (AUTOPIPELINING !== undefined && AUTOPIPELINING !== 'all' && AUTOPIPELINING !== 'except-scripts')
  throw new Error('--autopipelining: all | except-scripts');
const ONLY_ROWS = (args.rows ?? (args.quick ? QUICK_ROWS : undefined))?.split(',');
const COUNT_SIGNINS = 12;
const HOUR = 3_600_000;
const T0 = Date.UTC(2030, 0, 1);
const LIMIT = 100;
const RETIRE_AT = 95;
const log = (...m) => console.error('[signin]', ...m);

// ---------------------------------------------------------------------------------------------
// The sources, bundled

const has = (p) => existsSync(join(ROOT, p));
const tmp = (() => {
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  return mkdtempSync(join(ROOT, '.tmp', 'bench-signin-'));
})();
const bundle = join(tmp, 'otpkit.mjs');
await build({
  stdin: {
    contents: [
      "export { createVerifier, createTwoFactor, createMemoryStore, generateTOTP } from './src/index.ts';",
      "export { createRedisStore } from './src/store/redis.ts';",
      "export { createPostgresStore, migratePostgres } from './src/store/postgres.ts';",
      has('src/store/sqlite.ts')
        ? "export { createSqliteStore, migrateSqlite } from './src/store/sqlite.ts';"
        : '',
      has('src/store/d1.ts') ? "export { createD1Store, migrateD1 } from './src/store/d1.ts';" : '',
    ].join('\n'),
    resolveDir: ROOT,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['ioredis', 'redis', 'pg', 'better-sqlite3', 'miniflare'],
  outfile: bundle,
  logLevel: 'error',
});
const K = await import(pathToFileURL(bundle).href);
const OTPAuth = await import('otpauth');

const version = (pkg) => {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'))
      .version;
  } catch {
    return '?';
  }
};

// ---------------------------------------------------------------------------------------------
// Small helpers

const subtle = webcrypto.subtle;
const rand = (n) => webcrypto.getRandomValues(new Uint8Array(n));
const b64 = (u) => Buffer.from(u).toString('base64url');
const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const hexOf = (u) => Buffer.from(u).toString('hex');
const step = (now) => Math.floor(now / 30_000);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))];
const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A 6-digit code that matches no step within ±11 of `now` (the widest window any row checks is ±11). */
function wrongCode(secret, now) {
  const near = new Set();
  for (let d = -11; d <= 11; d++) near.add(K.generateTOTP(secret, { now: now + d * 30_000 }));
  let v = (Number(K.generateTOTP(secret, { now })) + 500_000) % 1_000_000;
  while (near.has(String(v).padStart(6, '0'))) v = (v + 1) % 1_000_000;
  return String(v).padStart(6, '0');
}

/** Validates a code the way otpauth users do: the object built from the secret, window 1. */
function otpauthDelta(secret, code, now) {
  const totp = new OTPAuth.TOTP({ secret: new OTPAuth.Secret({ buffer: secret.slice().buffer }) });
  return totp.validate({ token: code, timestamp: now, window: 1 });
}

/** The sealing a careful app writes: AES-256-GCM, a fresh IV, the user id bound as associated data. */
async function makeSealer() {
  const raw = rand(32);
  const key = await subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, [
    'encrypt',
    'decrypt',
  ]);
  const aad = (userId) => new TextEncoder().encode(`user:${userId}`);
  return {
    async seal(secret, userId) {
      const iv = rand(12);
      const ct = new Uint8Array(
        await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(userId) }, key, secret),
      );
      const out = new Uint8Array(12 + ct.length);
      out.set(iv);
      out.set(ct, 12);
      return b64(out);
    },
    async open(sealed, userId) {
      const b = Buffer.from(sealed, 'base64url');
      return new Uint8Array(
        await subtle.decrypt(
          { name: 'AES-GCM', iv: b.subarray(0, 12), additionalData: aad(userId) },
          key,
          b.subarray(12),
        ),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The hand-written baselines: what an app that uses otpauth writes around it today
//
// Each step is one command / statement (one round trip on a server), sent as soon as the last
// reply is in; on SQL every statement is its own autocommit transaction (no BEGIN, no FOR UPDATE).
// Per user: a failure counter (`<bl>fail:<u>` / a `<bl>throttle` row), one "used" record per
// accepted step (`<bl>used:<u>:<step>` / a `<bl>used` row), a row with the sealed TOTP secret
// (SQL `users`, a Redis hash `user:<u>`, a Map entry); and a pending sign-in record under the
// SHA-256 of a 128-bit token (the half-signed-in state between password and code).
//
// - Baseline A, the reference for `createVerifier().verifyTOTP` (the issue's definition: otpauth
//   `validate` plus a GET/INCR throttle counter and a `SET NX` replay record; the secret is
//   supplied, as to `verifyTOTP`):
//     1. read the failure counter (Redis `GET <bl>fail:<u>`; SQL `SELECT failures FROM
//        <bl>throttle WHERE user_id = ?`) → refuse 'locked' at 100;
//     2. otpauth `validate` (window 1, the TOTP object built per call from the secret);
//        a wrong code → increment the counter (`INCR`; `INSERT … ON CONFLICT (user_id) DO UPDATE
//        SET failures = failures + 1`) → 'invalid': 2 round trips, 1 write;
//     3. a matched code → record its step (`SET <bl>used:<u>:<step> 1 NX EX 90`; `INSERT INTO
//        <bl>used (user_id, step) … ON CONFLICT DO NOTHING`); nothing set (a null reply, 0 rows)
//        → a replay: increment the counter, 'replayed';
//     4. clear the counter (`DEL`; `DELETE FROM <bl>throttle`) → ok: 3 round trips (3 autocommit
//        transactions on SQL). The measured users have no failures, so the DEL / DELETE changes
//        nothing: 1 durable write per sign-in (the used record), which the counts below show.
//   What it lacks (otpkit has each): the GET-then-INCR gate is not atomic, so a burst of parallel
//   guesses all read the same count and all pass it (the limit of 100 is overrun by the number in
//   flight), and the DEL after a success can erase failures counted meanwhile; no backoff before
//   the lock (otpkit: 3 free failures, then a growing delay); the replay record is per step, not
//   "no step at or before the last accepted one", so once step s is used the code of step s−1 is
//   still accepted (within the window); the SQL `used` table grows until a job prunes it; no
//   drift learning. On the in-process stores (the Map, better-sqlite3, whose calls are
//   synchronous) nothing interleaves within one process, but nothing guards across processes.
// - Baseline A′ (an extra row, the variant this script measured first): one row per user, read
//   then written back: read (failures, last step) → refuse at 100 → `validate` → a matched step
//   not after the last one is a replay → write the new last step and failures 0 (a wrong code or
//   a replay: increment failures). 2 round trips (`HMGET` + `HSET` / `SELECT` + `UPDATE`), 1
//   write; replay decided in app code; the same lack of atomicity (two requests with the same
//   code that interleave between the read and the write both succeed).
// - Baseline B, the reference for `createTwoFactor` (startChallenge + verifyChallenge): baseline A
//   plus the read of the user's sealed-secret row, plus the pending sign-in record an app needs
//   between password and code (what `startChallenge` keeps). Start: a 128-bit token, the pending
//   record written (`SET … PX`; `INSERT`): 1 round trip, 1 write. Verify: read the pending record,
//   which must be this user's and unexpired (1); read the sealed secret (`HGET user:<u> totp`;
//   `SELECT totp_sealed FROM users`) (1); AES-256-GCM open with WebCrypto (key imported once, the
//   user id as associated data); baseline A (3); delete the pending record, which must remove
//   one (1). 7 round trips, 3 writes per sign-in (pending, used record, pending deleted). A wrong
//   code: pending + secret + GET + INCR, 4 round trips, 1 write (the pending record is kept for a
//   retry). What it lacks beyond A's gaps: no known-device token, no per-challenge attempt limit,
//   no factor choice or recovery codes; the pending record's check and delete are not one step.
//
// `ops` is one store's commands, each one round trip; a write returns false when it changed
// nothing: failures(u) → number, fail(u), markUsed(u, step) → whether it was newly recorded,
// clear(u); for A′ state(u) → { failures, lastStep }, succeed(u, step), failRow(u); addUser(u,
// sealed), secret(u) → sealed, putPending(id, u, expiresAt), pending(id, now) → user id or null,
// dropPending(id) → whether one was removed.

const WRITE_OPS = new Set([
  'fail',
  'markUsed',
  'clear',
  'succeed',
  'failRow',
  'addUser',
  'putPending',
  'dropPending',
]);

function makeBaseline(ops) {
  /** Baseline A: GET counter → validate → INCR, or SET NX the step → DEL counter. */
  const checkA = async (u, secret, code, now) => {
    if ((await ops.failures(u)) >= LIMIT) return { ok: false, reason: 'locked' };
    const delta = otpauthDelta(secret, code, now);
    if (delta === null) {
      await ops.fail(u);
      return { ok: false, reason: 'invalid' };
    }
    if (!(await ops.markUsed(u, step(now) + delta))) {
      await ops.fail(u);
      return { ok: false, reason: 'replayed' };
    }
    await ops.clear(u);
    return { ok: true };
  };
  /** Baseline A′: read the user's row, validate, write the row back. */
  const checkRow = async (u, secret, code, now) => {
    const row = await ops.state(u);
    if (row.failures >= LIMIT) return { ok: false, reason: 'locked' };
    const delta = otpauthDelta(secret, code, now);
    if (delta === null) {
      await ops.failRow(u);
      return { ok: false, reason: 'invalid' };
    }
    const matched = step(now) + delta;
    if (row.lastStep !== null && matched <= row.lastStep) {
      await ops.failRow(u);
      return { ok: false, reason: 'replayed' };
    }
    await ops.succeed(u, matched);
    return { ok: true };
  };
  return {
    addUser: (u, sealed) => ops.addUser(u, sealed),
    a: checkA,
    aRow: checkRow,
    async start(u, now) {
      const token = b64(rand(16));
      await ops.putPending(sha256(token), u, now + 300_000);
      return token;
    },
    async verify(token, u, code, now, sealer) {
      const id = sha256(token);
      if ((await ops.pending(id, now)) !== u) return { ok: false, reason: 'expired' };
      const sealed = await ops.secret(u);
      const r = await checkA(u, await sealer.open(sealed, u), code, now);
      if (!r.ok) return r;
      if (!(await ops.dropPending(id))) return { ok: false, reason: 'expired' };
      return r;
    },
  };
}

/**
 * Counts the synchronous calls of an in-process baseline (a Map, better-sqlite3) on a tap: one
 * round trip each; a write op that changed something (did not return false) counts as a write
 * (on SQLite an autocommit statement that changed no row appends nothing to the WAL).
 */
function countSync(tap, ops) {
  const out = {};
  for (const [name, fn] of Object.entries(ops)) {
    out[name] = (...a) => {
      if (!tap.counting) return fn(...a);
      const t = process.hrtime.bigint();
      const r = fn(...a);
      {
        const st = tap.stat(tap.phase);
        st.us += Number(process.hrtime.bigint() - t) / 1000;
        st.rt++;
        st.stmts++;
        st.names.set(name, (st.names.get(name) ?? 0) + 1);
        if (WRITE_OPS.has(name) && r !== false) st.writes++;
      }
      return r;
    };
  }
  return out;
}

/** The SQL of the baseline tables (SQLite, D1 and PostgreSQL alike). */
const baselineSchema = (bl, int) => [
  `CREATE TABLE ${bl}users (id text PRIMARY KEY, totp_sealed text NOT NULL, failures integer NOT NULL DEFAULT 0, last_step ${int})`,
  `CREATE TABLE ${bl}throttle (user_id text PRIMARY KEY, failures integer NOT NULL)`,
  `CREATE TABLE ${bl}used (user_id text NOT NULL, step ${int} NOT NULL, PRIMARY KEY (user_id, step))`,
  `CREATE TABLE ${bl}pending (id text PRIMARY KEY, user_id text NOT NULL, expires_at ${int} NOT NULL)`,
];

/** Baseline statements shared by the SQL stores (`?` placeholders; PostgreSQL rewrites them to $n). */
const baselineSql = (bl) => ({
  failures: `SELECT failures FROM ${bl}throttle WHERE user_id = ?`,
  fail: `INSERT INTO ${bl}throttle (user_id, failures) VALUES (?, 1) ON CONFLICT (user_id) DO UPDATE SET failures = ${bl}throttle.failures + 1`,
  markUsed: `INSERT INTO ${bl}used (user_id, step) VALUES (?, ?) ON CONFLICT DO NOTHING`,
  clear: `DELETE FROM ${bl}throttle WHERE user_id = ?`,
  state: `SELECT failures, last_step FROM ${bl}users WHERE id = ?`,
  succeed: `UPDATE ${bl}users SET last_step = ?, failures = 0 WHERE id = ?`,
  failRow: `UPDATE ${bl}users SET failures = failures + 1 WHERE id = ?`,
  addUser: `INSERT INTO ${bl}users (id, totp_sealed) VALUES (?, ?)`,
  secret: `SELECT totp_sealed FROM ${bl}users WHERE id = ?`,
  putPending: `INSERT INTO ${bl}pending (id, user_id, expires_at) VALUES (?, ?, ?)`,
  pending: `SELECT user_id FROM ${bl}pending WHERE id = ? AND expires_at > ?`,
  dropPending: `DELETE FROM ${bl}pending WHERE id = ?`,
});

// ---------------------------------------------------------------------------------------------
// Counting: every command a row sends, and whether the server's data changed around it

/**
 * A tap counts the commands (or store calls) sent while `counting`, per phase of a sign-in. In
 * counting mode commands run one at a time with `probe()` read before and after each, so a change
 * is attributed to the command that made it. `probe` is null where there is nothing to read.
 */
function makeTap(probe, { serverUs = null, writes = probe === null ? null : 'probe' } = {}) {
  const tap = {
    counting: false,
    phase: 'call',
    stats: new Map(),
    chain: Promise.resolve(),
    probe,
    serverUs,
    /** How writes are known: 'probe' (read around each command), 'direct' (the wrapper sees commits), or null. */
    writes,
    stat(phase) {
      let s = tap.stats.get(phase);
      if (s === undefined)
        tap.stats.set(
          phase,
          (s = { calls: 0, rt: 0, writes: 0, stmts: 0, us: 0, serverUs: 0, names: new Map() }),
        );
      return s;
    },
    /** Counts one command; `wrote(result)`, if given, tells from the reply whether it changed data. */
    send(name, run, wrote) {
      if (!tap.counting) return run();
      const s = tap.stat(tap.phase);
      s.rt++;
      s.names.set(name, (s.names.get(name) ?? 0) + 1);
      const p = tap.chain.then(async () => {
        const before = tap.probe === null ? null : await tap.probe();
        const c0 = tap.serverUs === null ? 0 : await tap.serverUs();
        const t = process.hrtime.bigint();
        const r = await run();
        s.us += Number(process.hrtime.bigint() - t) / 1000;
        if (tap.serverUs !== null) s.serverUs += (await tap.serverUs()) - c0;
        if (tap.probe !== null && (await tap.probe()) !== before) s.writes++;
        if (wrote !== undefined && wrote(r)) s.writes++;
        return r;
      });
      tap.chain = p.then(
        () => {},
        () => {},
      );
      return p;
    },
  };
  return tap;
}

/** Runs `fn` as one phase of a sign-in (its commands are counted under `name`). */
async function phase(tap, name, fn) {
  if (!tap.counting) return fn();
  tap.phase = name;
  tap.stat(name).calls++;
  try {
    return await fn();
  } finally {
    tap.phase = 'call';
  }
}

/** Wraps an in-process store so that each call counts as one round trip. */
function tapStore(store, tap) {
  return new Proxy(store, {
    get(target, key) {
      const v = Reflect.get(target, key);
      if (typeof v !== 'function') return v;
      return (...a) => tap.send(String(key), () => v.apply(target, a));
    },
  });
}

/** CPU seconds of processes, from /proc (utime + stime of each; threads included). */
function procCpu(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100;
}
/** The pids of a process and its children (a PostgreSQL postmaster and its backends). */
function familyOf(pid) {
  const out = [pid];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Servers

const cleanups = [];
let cleaned = false;
function cleanupSync() {
  if (cleaned) return;
  cleaned = true;
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {
      // best effort
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => (cleanupSync(), process.exit(130)));
// A crash (an unhandled rejection) skips the finally below: stop the servers and remove the folder anyway.
process.on('exit', cleanupSync);

const isRoot = process.getuid?.() === 0;

async function startRedis() {
  const port = await freePort();
  const dir = join(tmp, 'redis');
  mkdirSync(dir);
  const conf = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''];
  const child = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      ...conf,
      '--logfile',
      join(dir, 'log'),
    ],
    {
      stdio: 'ignore',
    },
  );
  cleanups.push(() => child.kill('SIGKILL'));
  const { Redis } = await import('ioredis');
  for (let i = 0; i < 100; i++) {
    const c = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.ping();
      c.disconnect();
      return { url: `redis://127.0.0.1:${port}`, pid: child.pid, own: true };
    } catch {
      c.disconnect();
      await sleep(50);
    }
  }
  throw new Error('redis-server did not start');
}

async function startPostgres() {
  const bins = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
    : [];
  if (bins.length === 0) throw new Error('no /usr/lib/postgresql/*/bin');
  const bin = `/usr/lib/postgresql/${bins[0]}/bin`;
  const port = await freePort();
  const dir = join(tmp, 'pg');
  mkdirSync(dir);
  const as = (cmd, a) =>
    isRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...a], { encoding: 'utf8' })
      : spawnSync(cmd, a, { encoding: 'utf8' });
  if (isRoot) {
    chmodSync(tmp, 0o755);
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout);
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout);
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  let r = as(`${bin}/initdb`, [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr}`);
  const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=on -c synchronous_commit=on -c max_connections=100 -c track_functions=pl`;
  r = as(`${bin}/pg_ctl`, ['-D', data, '-l', join(dir, 'log'), '-w', '-o', opts, 'start']);
  if (r.status !== 0) throw new Error(`pg_ctl start failed: ${r.stderr}`);
  cleanups.push(() => as(`${bin}/pg_ctl`, ['-D', data, '-m', 'immediate', 'stop']));
  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await c.connect();
  await c.query('CREATE DATABASE otpkit_bench');
  await c.end();
  return { url: `postgres://postgres@127.0.0.1:${port}/otpkit_bench`, pid, own: true };
}

// ---------------------------------------------------------------------------------------------
// Stores: adding one is one entry. `open()` returns the otpkit store (its client tapped), the
// tap, a description, and for Redis and PostgreSQL the hand-written baselines on the same client.

const RUN = `b${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;

const STORES = [
  {
    id: 'memory',
    name: 'memory',
    available: () => true,
    async open() {
      const raw = K.createMemoryStore();
      const tap = makeTap(null);
      // Baseline: Maps and a Set, each call synchronous (so atomic within this one process).
      const fails = new Map();
      const used = new Set();
      const users = new Map();
      const pending = new Map();
      const ops = {
        failures: (u) => fails.get(u) ?? 0,
        fail: (u) => void fails.set(u, (fails.get(u) ?? 0) + 1),
        markUsed: (u, st) => {
          const k = `${u}:${st}`;
          if (used.has(k)) return false;
          used.add(k);
          return true;
        },
        clear: (u) => fails.delete(u),
        state: (u) => {
          const r = users.get(u);
          return { failures: r.failures, lastStep: r.lastStep };
        },
        succeed: (u, st) => {
          const r = users.get(u);
          r.lastStep = st;
          r.failures = 0;
        },
        failRow: (u) => {
          users.get(u).failures++;
        },
        addUser: (u, sealed) => void users.set(u, { sealed, failures: 0, lastStep: null }),
        secret: (u) => users.get(u).sealed,
        putPending: (id, u, expiresAt) => void pending.set(id, { u, expiresAt }),
        pending: (id, now) => {
          const p = pending.get(id);
          return p !== undefined && p.expiresAt > now ? p.u : null;
        },
        dropPending: (id) => pending.delete(id),
      };
      const baseline = makeBaseline(countSync(tap, ops));
      return {
        store: tapStore(raw, tap),
        raw,
        tap,
        unit: 'store calls',
        config: 'createMemoryStore() (one process); baselines: Maps and a Set',
        baseline,
        close: async () => {},
      };
    },
  },
  {
    id: 'redis',
    name: 'Redis',
    available: () =>
      process.env.OTPKIT_REDIS_URL !== undefined ||
      spawnSync('redis-server', ['--version']).status === 0,
    async open() {
      const server = process.env.OTPKIT_REDIS_URL
        ? { url: process.env.OTPKIT_REDIS_URL, own: false }
        : await startRedis();
      const { Redis } = await import('ioredis');
      const client = new Redis(server.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        // --autopipelining: ioredis batches the commands of one tick into a pipeline (one at a
        // time per connection), for otpkit and the baselines alike; 'except-scripts' leaves
        // EVALSHA / EVAL (all that otpkit sends) out of it.
        enableAutoPipelining: AUTOPIPELINING !== undefined,
        autoPipeliningIgnoredCommands:
          AUTOPIPELINING === 'except-scripts' ? ['EVALSHA', 'EVAL'] : [],
      });
      const probe = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await client.connect();
      await probe.connect();
      const info = async (section) =>
        Object.fromEntries(
          (await probe.info(section))
            .split('\r\n')
            .filter((l) => l.includes(':'))
            .map((l) => l.split(':')),
        );
      // Server time: the usec of every command Redis ran (scripts included), less the INFO probes.
      const usec = async () => {
        let t = 0;
        for (const [k, v] of Object.entries(await info('commandstats')))
          if (k !== 'cmdstat_info') t += Number(/usec=(\d+)/.exec(v)?.[1] ?? 0);
        return t;
      };
      const tap = makeTap(async () => (await info('persistence')).rdb_changes_since_last_save, {
        serverUs: usec,
      });
      const send = client.sendCommand.bind(client);
      client.sendCommand = (cmd, ...rest) => tap.send(cmd.name, () => send(cmd, ...rest));
      const prefix = `otpkit-bench:${RUN}:`;
      const raw = K.createRedisStore({ client, prefix });
      const srv = await info('server');
      const aof = await probe.config('GET', 'appendfsync');
      const appendonly = await probe.config('GET', 'appendonly');
      const config = `Redis ${srv.redis_version} (${server.own ? 'own server' : server.url}), appendonly ${appendonly[1]}, appendfsync ${aof[1]}; ioredis ${version('ioredis')}, one connection${AUTOPIPELINING === undefined ? '' : `, enableAutoPipelining${AUTOPIPELINING === 'all' ? '' : ' (EVALSHA and EVAL ignored)'}`}`;
      const bl = `bl:${RUN}:`;
      // Baselines: ioredis, one command per step, each sent when the last reply is in (no WATCH /
      // MULTI, no script, no pipeline). A: GET / INCR the counter, SET NX EX the step, DEL the
      // counter. A′: HMGET then HSET (or HINCRBY) on the user's hash. B: HGET the sealed secret from
      // that hash; SET PX, GET, DEL for the pending record.
      const int = (v) => (v === null ? null : Number(v));
      const baseline = makeBaseline({
        failures: async (u) => Number((await client.get(`${bl}fail:${u}`)) ?? 0),
        fail: (u) => client.incr(`${bl}fail:${u}`),
        markUsed: async (u, st) =>
          (await client.set(`${bl}used:${u}:${st}`, '1', 'EX', 90, 'NX')) === 'OK',
        clear: async (u) => (await client.del(`${bl}fail:${u}`)) === 1,
        async state(u) {
          const [f, last] = await client.hmget(`${bl}user:${u}`, 'failures', 'last_step');
          return { failures: Number(f ?? 0), lastStep: int(last) };
        },
        succeed: (u, st) => client.hset(`${bl}user:${u}`, 'last_step', st, 'failures', 0),
        failRow: (u) => client.hincrby(`${bl}user:${u}`, 'failures', 1),
        addUser: (u, sealed) => client.hset(`${bl}user:${u}`, 'totp', sealed, 'failures', 0),
        secret: (u) => client.hget(`${bl}user:${u}`, 'totp'),
        putPending: (id, u) => client.set(`${bl}pending:${id}`, u, 'PX', 300_000),
        pending: (id) => client.get(`${bl}pending:${id}`),
        dropPending: async (id) => (await client.del(`${bl}pending:${id}`)) === 1,
      });
      return {
        store: raw,
        raw,
        tap,
        unit: 'commands',
        config,
        baseline,
        cpu: server.own ? () => procCpu([server.pid]) : null,
        async close() {
          if (!server.own) {
            for (const match of [`${prefix}*`, `${bl}*`]) {
              let cursor = '0';
              do {
                const [next, keys] = await probe.scan(cursor, 'MATCH', match, 'COUNT', 1000);
                cursor = next;
                if (keys.length > 0) await probe.del(...keys);
              } while (cursor !== '0');
            }
          }
          client.disconnect();
          probe.disconnect();
        },
      };
    },
  },
  {
    id: 'postgres',
    name: 'PostgreSQL',
    available: () => process.env.OTPKIT_PG_URL !== undefined || existsSync('/usr/lib/postgresql'),
    async open() {
      const server = process.env.OTPKIT_PG_URL
        ? { url: process.env.OTPKIT_PG_URL, own: false }
        : await startPostgres();
      const pg = (await import('pg')).default;
      const pool = new pg.Pool({ connectionString: server.url, max: 32 });
      const probe = new pg.Client({ connectionString: server.url });
      await probe.connect();
      const prefix = `otpkit_${RUN}_`;
      const bl = `bl_${RUN}_`;
      await K.migratePostgres(pool, { prefix });
      await pool.query(baselineSchema(bl, 'bigint').join(';\n'));
      const tap = makeTap(
        async () =>
          (await probe.query('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x')).rows[0]
            .x,
      );
      const query = pool.query.bind(pool);
      const nameOf = (text) => {
        const fn = /"?(?:otpkit|bl)_[a-z0-9]+_([a-z_]+)"?\(/.exec(text);
        if (fn) return `${fn[1]}()`;
        const m =
          /^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM|WITH)\b[\s\S]*?(?:FROM|INTO|UPDATE)?\s*"?(?:otpkit|bl)_[a-z0-9]+_([a-z_]+)/.exec(
            text,
          );
        return m ? `${m[1].split(' ')[0]} ${m[2]}` : text.slice(0, 20);
      };
      // Both sides send named prepared statements (parsed and planned once per connection).
      pool.query = (text, values) =>
        typeof text === 'string'
          ? tap.send(nameOf(text), () => query(text, values))
          : tap.send(nameOf(text.text), () => query(text));
      const raw = K.createPostgresStore({ client: pool, prefix, prepare: true });
      const show = async (s) => (await probe.query(`SHOW ${s}`)).rows[0][s];
      const config =
        `PostgreSQL ${await show('server_version')} (${server.own ? 'own server' : server.url}), fsync ${await show('fsync')}, ` +
        `synchronous_commit ${await show('synchronous_commit')}, wal_sync_method ${await show('wal_sync_method')}, ` +
        `shared_buffers ${await show('shared_buffers')}; pg ${version('pg')}, pg.Pool max 32; ` +
        `named prepared statements on both sides (otpkit: \`prepare: true\`)`;
      // Baselines: pg.Pool, each statement its own autocommit transaction (no BEGIN, no SELECT …
      // FOR UPDATE), the statements of baselineSql. Not atomic.
      const int = (v) => (v === null ? null : Number(v));
      const sql = Object.fromEntries(
        Object.entries(baselineSql(bl)).map(([k, t]) => [
          k,
          t.replace(
            /\?/g,
            (
              (n) => () =>
                `$${++n}`
            )(0),
          ),
        ]),
      );
      const q = (name, ...a) => pool.query({ name: `${bl}${name}`, text: sql[name], values: a });
      const baseline = makeBaseline({
        failures: async (u) => (await q('failures', u)).rows[0]?.failures ?? 0,
        fail: (u) => q('fail', u),
        markUsed: async (u, st) => (await q('markUsed', u, st)).rowCount === 1,
        clear: async (u) => (await q('clear', u)).rowCount > 0,
        async state(u) {
          const r = (await q('state', u)).rows[0];
          return { failures: r.failures, lastStep: int(r.last_step) };
        },
        succeed: (u, st) => q('succeed', st, u),
        failRow: (u) => q('failRow', u),
        addUser: (u, sealed) => q('addUser', u, sealed),
        secret: async (u) => (await q('secret', u)).rows[0].totp_sealed,
        putPending: (id, u, expiresAt) => q('putPending', id, u, expiresAt),
        pending: async (id, now) => (await q('pending', id, now)).rows[0]?.user_id ?? null,
        dropPending: async (id) => (await q('dropPending', id)).rowCount === 1,
      });
      return {
        store: raw,
        raw,
        tap,
        unit: 'statements',
        config,
        baseline,
        cpu: server.own ? () => procCpu(familyOf(server.pid)) : null,
        async close() {
          await pool.end();
          // Backends report their function statistics when they exit (track_functions = pl on our own server).
          await sleep(300);
          const st = await probe.query(
            `SELECT funcname AS f, calls::int AS calls, total_time AS total, self_time AS self FROM pg_stat_user_functions WHERE funcname LIKE $1 ORDER BY total_time DESC`,
            [`${prefix}%`],
          );
          this.functionStats = st.rows.map((r) => ({
            name: r.f.slice(prefix.length),
            calls: r.calls,
            totalUs: (r.total * 1000) / r.calls,
            selfUs: (r.self * 1000) / r.calls,
          }));
          if (!server.own) {
            const fns = await probe.query(
              `SELECT p.oid::regprocedure::text AS f FROM pg_proc p WHERE p.proname LIKE $1`,
              [`${prefix}%`],
            );
            for (const { f } of fns.rows) await probe.query(`DROP FUNCTION IF EXISTS ${f}`);
            const tables = await probe.query(
              `SELECT tablename FROM pg_tables WHERE tablename LIKE $1 OR tablename LIKE $2`,
              [`${prefix}%`, `${bl}%`],
            );
            for (const { tablename } of tables.rows)
              await probe.query(`DROP TABLE IF EXISTS "${tablename}"`);
          }
          await probe.end();
        },
      };
    },
  },
  {
    id: 'sqlite',
    name: 'SQLite',
    available: () =>
      typeof K.createSqliteStore === 'function' && has('node_modules/better-sqlite3'),
    async open() {
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(join(tmp, 'otpkit.sqlite'));
      K.migrateSqlite(db);
      // Store calls are the round trips (in process); the connection is wrapped to count the
      // statements each runs and its commits (every write is BEGIN IMMEDIATE … COMMIT).
      const tap = makeTap(null, { writes: 'direct' });
      const counted = (st) => {
        const t = tap.stat(tap.phase);
        if (tap.counting) t.stmts++;
        return st;
      };
      const wrapped = {
        prepare(sql) {
          const st = db.prepare(sql);
          return {
            run: (...a) => (counted(st), st.run(...a)),
            all: (...a) => (counted(st), st.all(...a)),
          };
        },
        exec(sql) {
          if (tap.counting && sql === 'COMMIT') tap.stat(tap.phase).writes++;
          return db.exec(sql);
        },
        pragma: (...a) => db.pragma(...a),
      };
      const raw = K.createSqliteStore({ db: wrapped });
      // Baselines: the same connection (so the same WAL and synchronous = FULL the store set), the
      // statements of baselineSql prepared once, each autocommit. better-sqlite3 is synchronous, so
      // nothing of this process runs in between, but another process can.
      const bl = `bl_${RUN}_`;
      for (const sql of baselineSchema(bl, 'integer')) db.exec(sql);
      const st = Object.fromEntries(
        Object.entries(baselineSql(bl)).map(([k, t]) => [k, db.prepare(t)]),
      );
      const ops = {
        failures: (u) => st.failures.get(u)?.failures ?? 0,
        fail: (u) => st.fail.run(u).changes > 0,
        markUsed: (u, step) => st.markUsed.run(u, step).changes === 1,
        clear: (u) => st.clear.run(u).changes > 0,
        state: (u) => {
          const r = st.state.get(u);
          return { failures: r.failures, lastStep: r.last_step };
        },
        succeed: (u, step) => st.succeed.run(step, u).changes > 0,
        failRow: (u) => st.failRow.run(u).changes > 0,
        addUser: (u, sealed) => st.addUser.run(u, sealed).changes > 0,
        secret: (u) => st.secret.get(u).totp_sealed,
        putPending: (id, u, expiresAt) => st.putPending.run(id, u, expiresAt).changes > 0,
        pending: (id, now) => st.pending.get(id, now)?.user_id ?? null,
        dropPending: (id) => st.dropPending.run(id).changes === 1,
      };
      const baseline = makeBaseline(countSync(tap, ops));
      const config =
        `SQLite ${db.prepare('select sqlite_version()').pluck().get()} (better-sqlite3 ${version('better-sqlite3')}, a file), ` +
        `journal_mode ${db.pragma('journal_mode', { simple: true })}, synchronous ${['OFF', 'NORMAL', 'FULL', 'EXTRA'][db.pragma('synchronous', { simple: true })]}`;
      return {
        store: tapStore(raw, tap),
        raw,
        tap,
        unit: 'store calls',
        config,
        baseline,
        close: async () => db.close(),
      };
    },
  },
  {
    id: 'd1',
    name: 'D1 (miniflare)',
    available: () => typeof K.createD1Store === 'function' && has('node_modules/miniflare'),
    async open() {
      const { Miniflare } = await import('miniflare');
      const mf = new Miniflare({
        modules: true,
        script: 'export default { fetch() { return new Response(null, { status: 404 }); } };',
        d1Databases: { DB: `otpkit-bench-${RUN}` },
        d1Persist: join(tmp, 'd1'),
      });
      const db = await mf.getD1Database('DB');
      await K.migrateD1(db);
      // Each all() or batch() is one round trip to workerd; a reply whose meta says the database
      // changed is a commit (a batch is one transaction).
      const tap = makeTap(null, { writes: 'direct' });
      const changed = (r) => (Array.isArray(r) ? r : [r]).some((x) => x?.meta?.changed_db === true);
      const real = new WeakMap();
      const wrapped = {
        prepare(sql) {
          const wrap = (st) => {
            const w = {
              bind: (...a) => wrap(st.bind(...a)),
              all: () => tap.send('all', () => st.all(), changed),
            };
            real.set(w, st);
            return w;
          };
          return wrap(db.prepare(sql));
        },
        batch: (sts) =>
          tap.send(
            `batch(${sts.length})`,
            () => db.batch(sts.map((x) => real.get(x) ?? x)),
            changed,
          ),
      };
      const raw = K.createD1Store({ db: wrapped });
      // Baselines: the binding's own API, one statement per call (`first()` to read, `run()` to
      // write), the statements of baselineSql; not atomic (no batch()).
      const bl = `bl_${RUN}_`;
      for (const sql of baselineSchema(bl, 'integer')) await db.prepare(sql).run();
      const sql = baselineSql(bl);
      const first = (name, ...a) =>
        tap.send('first', () =>
          db
            .prepare(sql[name])
            .bind(...a)
            .first(),
        );
      const run = async (name, ...a) =>
        (
          await tap.send(
            'run',
            () =>
              db
                .prepare(sql[name])
                .bind(...a)
                .run(),
            changed,
          )
        ).meta.changes;
      const baseline = makeBaseline({
        failures: async (u) => (await first('failures', u))?.failures ?? 0,
        fail: (u) => run('fail', u),
        markUsed: async (u, st) => (await run('markUsed', u, st)) === 1,
        clear: async (u) => (await run('clear', u)) > 0,
        async state(u) {
          const r = await first('state', u);
          return { failures: r.failures, lastStep: r.last_step };
        },
        succeed: (u, st) => run('succeed', st, u),
        failRow: (u) => run('failRow', u),
        addUser: (u, sealed) => run('addUser', u, sealed),
        secret: async (u) => (await first('secret', u)).totp_sealed,
        putPending: (id, u, expiresAt) => run('putPending', id, u, expiresAt),
        pending: async (id, now) => (await first('pending', id, now))?.user_id ?? null,
        dropPending: async (id) => (await run('dropPending', id)) === 1,
      });
      const config = `D1 on miniflare ${version('miniflare')} (local workerd; SQLite persisted to a temporary folder)`;
      return {
        store: raw,
        raw,
        tap,
        unit: 'round trips',
        config,
        baseline,
        timeoutMs: 120_000,
        close: () => mf.dispose(),
      };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Users: each row has its own pool; each in-flight caller gets its own slice of it.

function makePool(create) {
  const users = [];
  let made = 0;
  return {
    /** Ensures `n` users and returns them; users near the lock are replaced by fresh ones. */
    async take(n) {
      // Made 16 at a time (a flow user costs an import, a recovery set and, with a known device, a sign-in).
      while (users.length < n)
        users.push(
          ...(await Promise.all(
            Array.from({ length: Math.min(16, n - users.length) }, () => create(made++)),
          )),
        );
      for (let i = 0; i < users.length; i++)
        if (users[i].fails >= RETIRE_AT) users[i] = await create(made++);
      return users.slice(0, n);
    },
    /** A fresh user, for one whose failure budget a batch would exhaust. */
    fresh: () => create(made++),
  };
}
const newUser = (tag, i) => ({ id: `${RUN}-${tag}-${i}`, secret: rand(20), k: 1, fails: 0 });
const nextNow = (u) => T0 + u.k++ * HOUR;

// ---------------------------------------------------------------------------------------------
// Rows. `prepare` (untimed) builds one attempt; `run` is what is timed; `expect` is its outcome.

const ok = (r) => r.ok === true;
const invalid = (r) => r.ok === false && r.reason === 'invalid';

function rowsFor(s) {
  const tf = () => s.tf;
  const v = s.verifier;
  const sealer = s.sealer;
  const tfUser = async (tag, i, known) => {
    const u = newUser(tag, i);
    const now = nextNow(u);
    const r = await tf().importFactor({ userId: u.id, secret: u.secret, now });
    if (!r.ok) throw new Error('importFactor failed');
    await s.raw.replaceRecoveryCodes(u.id, { ...s.recoverySet, setId: hexOf(rand(16)) }, null);
    if (known) {
      const at = nextNow(u);
      const c = await tf().startChallenge({ userId: u.id, now: at });
      const done = await tf().verifyChallenge({
        challengeId: c.challengeId,
        userId: u.id,
        code: K.generateTOTP(u.secret, { now: at }),
        now: at,
      });
      if (!done.ok || done.knownDeviceToken === undefined) throw new Error('setup sign-in failed');
      u.known = done.knownDeviceToken;
    }
    return u;
  };
  const blUser = async (tag, i) => {
    const u = newUser(tag, i);
    await s.baseline.addUser(u.id, await sealer.seal(u.secret, u.id));
    return u;
  };
  const plain = (tag) => makePool(async (i) => newUser(tag, i));
  const tap = s.tap;
  const rows = [
    {
      id: 'verify',
      group: 'A',
      label: 'otpkit `verifyTOTP` (secret supplied)',
      pool: plain('v'),
      expect: ok,
      prepare: (u, now) => ({ code: K.generateTOTP(u.secret, { now }) }),
      run: (u, now, o) =>
        phase(tap, 'verifyTOTP', () =>
          v.verifyTOTP({ userId: u.id, secret: u.secret, token: o.code, now }),
        ),
    },
    {
      id: 'baseline-a',
      group: 'A',
      baseline: true,
      label: 'baseline A: otpauth `validate` + GET/INCR counter, SET NX step, DEL counter',
      pool: makePool((i) => blUser('a', i)),
      expect: ok,
      prepare: (u, now) => ({ code: K.generateTOTP(u.secret, { now }) }),
      run: (u, now, o) => phase(tap, 'baseline A', () => s.baseline.a(u.id, u.secret, o.code, now)),
    },
    {
      id: 'baseline-a1',
      group: 'A',
      baseline: true,
      label: 'baseline A′ (one row, read then write)',
      pool: makePool((i) => blUser('a1', i)),
      expect: ok,
      prepare: (u, now) => ({ code: K.generateTOTP(u.secret, { now }) }),
      run: (u, now, o) =>
        phase(tap, 'baseline A′ (one row)', () => s.baseline.aRow(u.id, u.secret, o.code, now)),
    },
    {
      id: 'verify-wrong',
      group: 'A-wrong',
      label: 'otpkit `verifyTOTP`, wrong code',
      pool: plain('vw'),
      expect: invalid,
      prepare: (u, now) => ({ code: wrongCode(u.secret, now) }),
      run: (u, now, o) =>
        phase(tap, 'verifyTOTP (wrong code)', () =>
          v.verifyTOTP({ userId: u.id, secret: u.secret, token: o.code, now }),
        ),
    },
    {
      id: 'baseline-a-wrong',
      group: 'A-wrong',
      baseline: true,
      label: 'baseline A, wrong code',
      pool: makePool((i) => blUser('aw', i)),
      expect: invalid,
      prepare: (u, now) => ({ code: wrongCode(u.secret, now) }),
      run: (u, now, o) =>
        phase(tap, 'baseline A (wrong code)', () => s.baseline.a(u.id, u.secret, o.code, now)),
    },
    {
      id: '2f-new',
      group: 'B',
      label: 'otpkit `createTwoFactor` sign-in, new browser',
      pool: makePool((i) => tfUser('n', i, false)),
      expect: ok,
      prepare: (u, now) => ({ code: K.generateTOTP(u.secret, { now }) }),
      async run(u, now, o) {
        const c = await phase(tap, 'startChallenge', () =>
          tf().startChallenge({ userId: u.id, now }),
        );
        if (!c.required) return c;
        return phase(tap, 'verifyChallenge (new browser)', () =>
          tf().verifyChallenge({ challengeId: c.challengeId, userId: u.id, code: o.code, now }),
        );
      },
    },
    {
      id: '2f-known',
      group: 'B',
      label: 'otpkit `createTwoFactor` sign-in, known device',
      pool: makePool((i) => tfUser('k', i, true)),
      expect: ok,
      prepare: (u, now) => ({ code: K.generateTOTP(u.secret, { now }) }),
      async run(u, now, o) {
        const c = await phase(tap, 'startChallenge (known-device token)', () =>
          tf().startChallenge({ userId: u.id, knownDeviceToken: u.known, now }),
        );
        if (!c.required || c.knownDeviceToken === undefined)
          return { ok: false, reason: 'device not known' };
        u.known = c.knownDeviceToken;
        return phase(tap, 'verifyChallenge (known device)', () =>
          tf().verifyChallenge({ challengeId: c.challengeId, userId: u.id, code: o.code, now }),
        );
      },
    },
    {
      id: 'baseline-b',
      group: 'B',
      baseline: true,
      label: 'baseline B: A + sealed-secret read + pending record',
      pool: makePool((i) => blUser('b', i)),
      expect: ok,
      prepare: (u, now) => ({ code: K.generateTOTP(u.secret, { now }) }),
      async run(u, now, o) {
        const token = await phase(tap, 'baseline B start', () => s.baseline.start(u.id, now));
        return phase(tap, 'baseline B verify', () =>
          s.baseline.verify(token, u.id, o.code, now, sealer),
        );
      },
    },
    {
      id: '2f-wrong',
      group: 'B-wrong',
      label: 'otpkit `verifyChallenge`, wrong code',
      pool: makePool((i) => tfUser('w', i, false)),
      expect: invalid,
      maxPerUser: 1,
      async prepare(u, now) {
        const c = await tf().startChallenge({ userId: u.id, now });
        return { code: wrongCode(u.secret, now), challengeId: c.challengeId };
      },
      run: (u, now, o) =>
        phase(tap, 'verifyChallenge (wrong code)', () =>
          tf().verifyChallenge({ challengeId: o.challengeId, userId: u.id, code: o.code, now }),
        ),
    },
    {
      id: 'baseline-b-wrong',
      group: 'B-wrong',
      baseline: true,
      label: 'baseline B verify, wrong code',
      pool: makePool((i) => blUser('bw', i)),
      expect: invalid,
      maxPerUser: 1,
      async prepare(u, now) {
        return { code: wrongCode(u.secret, now), token: await s.baseline.start(u.id, now) };
      },
      run: (u, now, o) =>
        phase(tap, 'baseline B verify (wrong code)', () =>
          s.baseline.verify(o.token, u.id, o.code, now, sealer),
        ),
    },
    {
      id: 'verify-same',
      group: 'same',
      sameUser: true,
      label: 'otpkit `verifyTOTP`, one user',
      pool: plain('vs'),
      expect: ok,
      prepare: (u, now) => ({ code: K.generateTOTP(u.secret, { now }) }),
      run: (u, now, o) =>
        phase(tap, 'verifyTOTP', () =>
          v.verifyTOTP({ userId: u.id, secret: u.secret, token: o.code, now }),
        ),
    },
    {
      id: 'baseline-a-same',
      group: 'same',
      sameUser: true,
      baseline: true,
      label: 'baseline A, one user',
      pool: makePool((i) => blUser('as', i)),
      expect: ok,
      prepare: (u, now) => ({ code: K.generateTOTP(u.secret, { now }) }),
      run: (u, now, o) => phase(tap, 'baseline A', () => s.baseline.a(u.id, u.secret, o.code, now)),
    },
  ];
  return rows.filter(
    (r) =>
      (s.baseline !== undefined || !r.baseline) &&
      (ONLY_ROWS === undefined || ONLY_ROWS.includes(r.id)),
  );
}

/**
 * Before timing: the baselines refuse what they claim to (a replayed code, a wrong code, a used
 * pending record, the lock), so the rows compare code that does its job. Throws otherwise.
 */
async function checkBaselines(s) {
  const bl = s.baseline;
  const expectOutcome = (what, r, reason) => {
    if (reason === null ? r.ok !== true : r.ok !== false || r.reason !== reason)
      throw new Error(`${s.name} baseline self-check, ${what}: got ${JSON.stringify(r)}`);
  };
  const u = newUser('check', 0);
  await bl.addUser(u.id, await s.sealer.seal(u.secret, u.id));
  const now = nextNow(u);
  const code = K.generateTOTP(u.secret, { now });
  for (const [name, a] of [
    ['A', bl.a],
    ['A′', bl.aRow],
  ]) {
    const v = newUser(`check-${name === 'A' ? 'a' : 'a1'}`, 0);
    await bl.addUser(v.id, await s.sealer.seal(v.secret, v.id));
    const at = nextNow(v);
    const c = K.generateTOTP(v.secret, { now: at });
    expectOutcome(`${name} right code`, await a(v.id, v.secret, c, at), null);
    expectOutcome(`${name} same code again`, await a(v.id, v.secret, c, at), 'replayed');
    expectOutcome(
      `${name} wrong code`,
      await a(v.id, v.secret, wrongCode(v.secret, at), at),
      'invalid',
    );
    for (let i = 0; i < LIMIT; i++) await a(v.id, v.secret, wrongCode(v.secret, at), at);
    expectOutcome(
      `${name} after ${LIMIT} failures`,
      await a(v.id, v.secret, K.generateTOTP(v.secret, { now: at + 30_000 }), at + 30_000),
      'locked',
    );
  }
  const token = await bl.start(u.id, now);
  expectOutcome(
    'B wrong code',
    await bl.verify(token, u.id, wrongCode(u.secret, now), now, s.sealer),
    'invalid',
  );
  expectOutcome('B right code', await bl.verify(token, u.id, code, now, s.sealer), null);
  expectOutcome(
    'B same pending record again',
    await bl.verify(token, u.id, code, now, s.sealer),
    'expired',
  );
}

const USERS_PER_CALLER = 2;

/** One batch: `n` attempts by `inflight` callers, each on its own users. Untimed preparation first. */
async function batch(s, row, inflight, n) {
  const callers = row.sameUser ? 1 : inflight;
  // A challenge made for a later attempt of the same user would drop this one as dead (an hour
  // later on that user's clock): a row preparing challenges uses each user once per batch.
  const per = Math.ceil(n / callers);
  const spread = row.maxPerUser === undefined ? 0 : callers * Math.ceil(per / row.maxPerUser);
  const users = await row.pool.take(
    row.sameUser ? 1 : Math.max(64, callers * USERS_PER_CALLER, spread),
  );
  const plans = [];
  for (let w = 0; w < callers; w++) {
    const mine = users.filter((_, i) => i % callers === w);
    const plan = [];
    for (let j = 0; j < per; j++) {
      let u = mine[j % mine.length];
      // A wrong code counts a failure: a user retires before the lock (counted when planned).
      if (row.expect === invalid && u.fails >= RETIRE_AT)
        u = mine[j % mine.length] = await row.pool.fresh();
      if (row.expect === invalid) u.fails++;
      const now = nextNow(u);
      plan.push({ u, now, o: null });
    }
    plans.push(plan);
  }
  // Preparation (challenges, pending records for the wrong-code rows), 32 at a time.
  const flat = plans.flat();
  for (let i = 0; i < flat.length; i += 32)
    await Promise.all(
      flat.slice(i, i + 32).map(async (p) => (p.o = await row.prepare(p.u, p.now))),
    );
  const lat = new Float64Array(flat.length);
  let li = 0;
  let bad = null;
  const cpu0 = process.cpuUsage();
  const srv0 = s.cpu?.() ?? null;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    plans.map(async (plan) => {
      for (const p of plan) {
        const t = process.hrtime.bigint();
        const r = await row.run(p.u, p.now, p.o);
        lat[li++] = Number(process.hrtime.bigint() - t) / 1000;
        if (!row.expect(r)) bad ??= { user: p.u.id, result: r };
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const srv = srv0 === null ? null : s.cpu() - srv0;
  if (bad !== null) {
    console.error(
      `[signin] ${s.name} ${row.id}: an attempt did not end as expected: ${JSON.stringify(bad)}`,
    );
    process.exitCode = 1;
    throw new Error('unexpected outcome');
  }
  return { n: flat.length, seconds, lat, appCpu: (cpu.user + cpu.system) / 1e6, srvCpu: srv };
}

/** Sequential sign-ins through the counting tap: commands and writes per call. */
async function count(s, row) {
  const users = await row.pool.take(row.sameUser ? 1 : 4);
  s.tap.stats = new Map();
  for (let i = 0; i < COUNT_SIGNINS; i++) {
    const u = users[i % users.length];
    const now = nextNow(u);
    const o = await row.prepare(u, now);
    s.tap.counting = true;
    try {
      const r = await row.run(u, now, o);
      if (!row.expect(r))
        throw new Error(`${s.name} ${row.id}: counting sign-in ended as ${JSON.stringify(r)}`);
      if (row.expect === invalid) u.fails++;
    } finally {
      s.tap.counting = false;
    }
  }
  const phases = [];
  for (const [name, st] of s.tap.stats) {
    if (name === 'call') continue;
    const names = [...st.names]
      .map(([k, c]) => `${k}${c / st.calls === 1 ? '' : `×${+(c / st.calls).toFixed(2)}`}`)
      .join(', ');
    phases.push({
      name,
      rt: st.rt / st.calls,
      writes: s.tap.writes === null ? null : st.writes / st.calls,
      stmts: st.stmts / st.calls,
      us: st.us / st.calls,
      serverUs: s.tap.serverUs === null ? null : st.serverUs / st.calls,
      names,
    });
  }
  return {
    phases,
    rt: phases.reduce((a, p) => a + p.rt, 0),
    stmts: phases.reduce((a, p) => a + p.stmts, 0),
    writes: s.tap.writes === null ? null : phases.reduce((a, p) => a + p.writes, 0),
  };
}

/** Runs batches of growing size until one lasts long enough; returns the rate. */
async function warm(s, row, inflight) {
  let n = 32;
  for (;;) {
    const b = await batch(s, row, inflight, n);
    if (b.seconds >= 0.15 || n >= 50_000) return b.n / b.seconds;
    n = Math.ceil(n * Math.min(8, Math.max(2, 0.3 / b.seconds)));
  }
}

/**
 * `--profile PATH`: a V8 CPU profile of the timed rounds only (not the setup, warm-up or counting),
 * written to PATH-<store>.cpuprofile with the number of timed attempts beside it (PATH-<store>.json),
 * for bench/cpuprofile.mjs to turn into microseconds per attempt.
 */
async function startProfiler() {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return {
    async stop(path, meta) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(`${path}.cpuprofile`, JSON.stringify(profile));
      // The bundle goes with it: its `// src/…` comments map each line to its source file.
      writeFileSync(`${path}.bundle.mjs`, readFileSync(bundle));
      writeFileSync(`${path}.json`, JSON.stringify({ ...meta, bundle: `${path}.bundle.mjs` }));
      session.disconnect();
      log(`profile: ${path}.cpuprofile (${meta.signins} timed attempts)`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Main

// D1 only when asked for: through miniflare every round trip is a local HTTP call into workerd
// (tens of ms on a loaded 2-core machine), so its rows take minutes, and measure miniflare.
const wanted = (args.stores ?? 'memory,sqlite,redis,postgres').split(',');
const results = [];
const functionStats = new Map();
const env = {
  node: process.version,
  cpu: `${os.cpus()[0]?.model ?? '?'} (${os.cpus().length} cores)`,
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  load: [
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  ],
  otpauth: version('otpauth'),
  stores: [],
};
const started = Date.now();

try {
  for (const def of STORES) {
    if (!wanted.includes(def.id)) continue;
    if (!def.available()) {
      log(`${def.name}: not available, skipped`);
      continue;
    }
    log(`${def.name}: starting`);
    const opened = await def.open();
    const s = { ...opened, name: def.name, id: def.id };
    env.stores.push(`${def.name}: ${s.config}`);
    try {
      const storeTimeoutMs = s.timeoutMs ?? 5000;
      s.verifier = K.createVerifier({ store: s.store, storeTimeoutMs });
      s.tf = K.createTwoFactor({
        store: s.store,
        storeTimeoutMs,
        issuer: 'Bench',
        keys: { current: 'k1', keys: { k1: rand(32) } },
      });
      s.sealer = await makeSealer();
      // One set of 10 hashed recovery codes (scrypt, done once), copied to every flow user.
      const mem = K.createMemoryStore();
      await K.createVerifier({ store: mem }).issueRecoveryCodes({ userId: 'template' });
      s.recoverySet = await mem.getRecoveryCodeSet('template');
      if (s.baseline !== undefined) await checkBaselines(s);
      const rows = rowsFor(s);
      const rates = new Map();
      for (const row of rows) {
        for (const inflight of row.sameUser ? [1] : INFLIGHT)
          rates.set(`${row.id}@${inflight}`, await warm(s, row, inflight));
      }
      const counts = new Map();
      for (const row of rows) counts.set(row.id, await count(s, row));
      const samples = new Map();
      const groups = [...new Set(rows.map((r) => r.group))];
      const profiler = args.profile === undefined ? null : await startProfiler();
      for (let round = 0; round < ROUNDS; round++) {
        log(`${def.name}: round ${round + 1}/${ROUNDS}`);
        for (const inflight of INFLIGHT) {
          for (const g of groups) {
            let members = rows.filter((r) => r.group === g && (!r.sameUser || inflight === 1));
            if (round % 2 === 1) members = members.reverse();
            for (const row of members) {
              const key = `${row.id}@${inflight}`;
              const n = Math.max(
                inflight * 4,
                Math.min(40_000, Math.round(rates.get(key) * BATCH_SECONDS)),
              );
              const b = await batch(s, row, inflight, n);
              if (!samples.has(key)) samples.set(key, []);
              samples.get(key).push(b);
            }
          }
        }
      }
      if (profiler !== null) {
        const timed = [...samples.values()].flat().reduce((a, b) => a + b.n, 0);
        await profiler.stop(`${args.profile}-${def.id}`, {
          signins: timed,
          rows: rows.map((r) => r.id),
          inflight: INFLIGHT,
        });
      }
      for (const row of rows) {
        for (const inflight of row.sameUser ? [1] : INFLIGHT) {
          const bs = samples.get(`${row.id}@${inflight}`);
          if (bs === undefined) continue;
          const lat = Float64Array.from(bs.flatMap((b) => Array.from(b.lat))).sort();
          const n = bs.reduce((a, b) => a + b.n, 0);
          results.push({
            store: def.id,
            storeName: def.name,
            unit: s.unit,
            row: row.id,
            group: row.group,
            label: row.label,
            baseline: row.baseline === true,
            inflight,
            perRound: bs.map((b) => b.n / b.seconds),
            perSecond: median(bs.map((b) => b.n / b.seconds)),
            p50: pct(lat, 0.5),
            p99: pct(lat, 0.99),
            appCpuUs: (bs.reduce((a, b) => a + b.appCpu, 0) / n) * 1e6,
            srvCpuUs:
              bs[0].srvCpu === null ? null : (bs.reduce((a, b) => a + b.srvCpu, 0) / n) * 1e6,
            count: counts.get(row.id),
            n,
          });
        }
      }
    } finally {
      await s.close();
      if (s.functionStats !== undefined) functionStats.set(def.name, s.functionStats);
    }
  }
} finally {
  cleanupSync();
}
env.load.push(
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' '),
);

// ---------------------------------------------------------------------------------------------
// Output

const f0 = (x) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const fx = (x) => `${x.toFixed(2)}×`;
const fc = (x) => (x === null ? '–' : Number.isInteger(x) ? String(x) : x.toFixed(2));
const BASE_OF = {
  verify: 'baseline-a',
  'verify-wrong': 'baseline-a-wrong',
  '2f-new': 'baseline-b',
  '2f-known': 'baseline-b',
  '2f-wrong': 'baseline-b-wrong',
  'verify-same': 'baseline-a-same',
};
const find = (store, row, inflight) =>
  results.find((r) => r.store === store && r.row === row && r.inflight === inflight);

/** Per round: row `r`'s rate ÷ the rate of row `base` (its baseline by default) in the same round. */
function ratio(r, base = BASE_OF[r.row]) {
  const b = find(r.store, base, r.inflight);
  if (b === undefined) return null;
  const rs = r.perRound.map((x, i) => x / b.perRound[i]);
  return { median: median(rs), min: Math.min(...rs), max: Math.max(...rs) };
}
/** The comparisons of the summary table: otpkit row, baseline row, what is compared. */
const PAIRS = [
  ['verify', 'baseline-a', '`verifyTOTP` ÷ baseline A'],
  ['verify', 'baseline-a1', '`verifyTOTP` ÷ baseline A′ (one row)'],
  ['2f-known', 'baseline-b', '`createTwoFactor` sign-in, known device ÷ baseline B'],
  ['2f-new', 'baseline-b', '`createTwoFactor` sign-in, new browser ÷ baseline B'],
  ['verify-wrong', 'baseline-a-wrong', '`verifyTOTP`, wrong code ÷ baseline A, wrong code'],
  ['2f-wrong', 'baseline-b-wrong', '`verifyChallenge`, wrong code ÷ baseline B verify, wrong code'],
  ['verify-same', 'baseline-a-same', '`verifyTOTP`, one user ÷ baseline A, one user'],
];
/** Round trips and writes per sign-in of a result: "3 / 1" (SQLite: "calls (statements) / commits"). */
const rtw = (r) =>
  `${r.store === 'sqlite' ? `${fc(r.count.rt)} (${fc(r.count.stmts)})` : fc(r.count.rt)} / ${fc(r.count.writes)}`;

const out = [];
const p = (s = '') => out.push(s);
p(`## Sign-in benchmark (bench/signin.mjs)`);
p();
p(
  `Node ${env.node}, ${env.cpu}, ${env.os}; load average ${env.load[0]} at the start, ${env.load[1]} at the end (a shared machine).`,
);
p(
  `${ROUNDS} rounds of ${BATCH_SECONDS} s per row and concurrency; otpkit and baseline batches alternate in each round. otpauth ${env.otpauth}.`,
);
for (const line of env.stores) p(`- ${line}`);
p(`Run time ${((Date.now() - started) / 1000).toFixed(0)} s.`);
p();

p('### otpkit ÷ hand-written baseline, per store');
p();
p(
  '| store | sign-in | in flight | otpkit /s | baseline /s | otpkit ÷ baseline (median, range) | otpkit p50 / p99 µs | baseline p50 / p99 µs | otpkit round trips / writes | baseline round trips / writes |',
);
p('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|');
for (const store of [...new Set(results.map((r) => r.store))]) {
  for (const [mine, base, what] of PAIRS) {
    for (const inflight of INFLIGHT) {
      const r = find(store, mine, inflight);
      const b = find(store, base, inflight);
      if (r === undefined || b === undefined) continue;
      const q = ratio(r, base);
      p(
        `| ${r.storeName} | ${what} | ${inflight} | ${f0(r.perSecond)} | ${f0(b.perSecond)} | **${fx(q.median)}** (${fx(q.min)}–${fx(q.max)}) | ` +
          `${f0(r.p50)} / ${f0(r.p99)} | ${f0(b.p50)} / ${f0(b.p99)} | ${rtw(r)} | ${rtw(b)} |`,
      );
    }
  }
}
p();
p(
  'Round trips: commands (Redis), statements (PostgreSQL), calls into workerd (D1), store calls (memory; SQLite, with the statements they ran in brackets), counted per sign-in. ' +
    "Writes: PostgreSQL durable commits (every statement is its own autocommit transaction on both sides, so commits = statements; the durable ones took an xid, a WAL flush with `synchronous_commit = on`, except otpkit's `createChallenge`, whose transaction commits with it off: it is counted, but does not wait for the flush); " +
    'Redis commands that changed data (an AOF append, fsynced once a second with `appendfsync everysec`); SQLite commits that wrote (otpkit: its BEGIN IMMEDIATE … COMMIT; baseline: autocommit statements that changed a row); D1: replies whose meta says the database changed; memory: none counted. ' +
    "Baseline A's DEL / DELETE of an absent failure counter is a round trip but no write. Ratios are per round (ABBA order), the median and range over the rounds.",
);
p();

for (const store of [...new Set(results.map((r) => r.store))]) {
  const rs = results.filter((r) => r.store === store);
  if (!rs.some((r) => r.baseline)) continue;
  const name = rs[0].storeName;
  const unit = rs[0].unit;
  p(`### ${name}: otpkit against hand-written code`);
  p();
  const writesHead =
    { postgres: 'durable commits', redis: 'writes (AOF)', sqlite: 'commits', d1: 'commits' }[
      store
    ] ?? 'writes';
  p(
    `| sign-in | in flight | sign-ins/s | p50 µs | p99 µs | ${unit}${store === 'sqlite' ? ' (statements)' : ''} | ${writesHead} | CPU µs/sign-in (app + server) | ratio to baseline (median, range) | ≥ 1.5× |`,
  );
  p('|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|');
  for (const g of [...new Set(rs.map((r) => r.group))]) {
    for (const r of rs
      .filter((x) => x.group === g)
      .sort((a, b) => a.inflight - b.inflight || Number(a.baseline) - Number(b.baseline))) {
      const q = r.baseline ? null : ratio(r);
      // A′ is not the reference: its cell says how `verifyTOTP` compares with it.
      const v = find(store, 'verify', r.inflight);
      const qa1 = r.row === 'baseline-a1' && v !== undefined ? ratio(v, 'baseline-a1') : null;
      const cell =
        q !== null
          ? `**${fx(q.median)}** (${fx(q.min)}–${fx(q.max)})`
          : qa1 !== null
            ? `(\`verifyTOTP\` ÷ A′: ${fx(qa1.median)})`
            : r.baseline
              ? '1.00×'
              : '–';
      const target = q === null ? '' : q.median >= 1.5 ? 'yes' : 'no';
      const cpu = r.srvCpuUs === null ? f0(r.appCpuUs) : `${f0(r.appCpuUs)} + ${f0(r.srvCpuUs)}`;
      const rt = store === 'sqlite' ? `${fc(r.count.rt)} (${fc(r.count.stmts)})` : fc(r.count.rt);
      p(
        `| ${r.label} | ${r.inflight} | ${f0(r.perSecond)} | ${f0(r.p50)} | ${f0(r.p99)} | ${rt} | ${fc(r.count.writes)} | ${cpu} | ${cell} | ${target} |`,
      );
    }
  }
  p();
}

p('### Sign-ins per second, per store');
p();
const inf = INFLIGHT;
p(
  `| store | ${inf.map((i) => `\`verifyTOTP\`, ${i} in flight`).join(' | ')} | ${inf.map((i) => `\`createTwoFactor\` sign-in, ${i} in flight`).join(' | ')} | ${inf.map((i) => `new browser, ${i}`).join(' | ')} |`,
);
p(
  `|---|${inf.map(() => '--:').join('|')}|${inf.map(() => '--:').join('|')}|${inf.map(() => '--:').join('|')}|`,
);
for (const store of [...new Set(results.map((r) => r.store))]) {
  const name = results.find((r) => r.store === store).storeName;
  const cell = (row, i) => {
    const r = find(store, row, i);
    return r === undefined ? '–' : `${f0(r.perSecond)} (p50 ${f0(r.p50)} µs)`;
  };
  p(
    `| ${name} | ${inf.map((i) => cell('verify', i)).join(' | ')} | ${inf.map((i) => cell('2f-known', i)).join(' | ')} | ${inf.map((i) => cell('2f-new', i)).join(' | ')} |`,
  );
}
p();
p(
  '`createTwoFactor` sign-in = `startChallenge` + `verifyChallenge` with `userId`, from a browser with a known-device token; "new browser" has none (so it is also given one).',
);
p();

p('### Round trips per call');
p();
const storesSeen = [...new Set(results.map((r) => r.store))];
const calls = [];
for (const r of results)
  for (const ph of r.count.phases) if (!calls.includes(ph.name)) calls.push(ph.name);
p(
  `| call | ${storesSeen.map((st) => `${results.find((r) => r.store === st).storeName} (${results.find((r) => r.store === st).unit}, writes)`).join(' | ')} |`,
);
p(`|---|${storesSeen.map(() => '--:').join('|')}|`);
for (const c of calls) {
  const cells = storesSeen.map((st) => {
    const ph = results
      .filter((r) => r.store === st)
      .flatMap((r) => r.count.phases)
      .find((x) => x.name === c);
    return ph === undefined
      ? '–'
      : ph.writes === null
        ? fc(ph.rt)
        : `${fc(ph.rt)} (${fc(ph.writes)})`;
  });
  p(`| ${c} | ${cells.join(' | ')} |`);
}
p();
p(
  'Counted over sequential sign-ins through wrapped clients; "writes" are the commands after which the server\'s data had changed (PostgreSQL: a transaction that took an xid, i.e. a WAL flush at commit with `synchronous_commit = on`; Redis: an AOF append, fsynced as its `appendfsync` above says). In-process stores count store calls; SQLite\'s commits are the COMMITs the wrapped connection saw, and each autocommit baseline statement that changed a row.',
);
p();
p('### Each call on its own (sequential, one connection, between timed rounds)');
p();
p('| store | call | round trips | writes | latency µs | server µs | what was sent |');
p('|---|---|--:|--:|--:|--:|---|');
for (const st of storesSeen) {
  const seen = new Set();
  for (const r of results.filter((x) => x.store === st)) {
    for (const ph of r.count.phases) {
      if (seen.has(ph.name)) continue;
      seen.add(ph.name);
      p(
        `| ${r.storeName} | ${ph.name} | ${fc(ph.rt)} | ${fc(ph.writes)} | ${f0(ph.us)} | ${f0(ph.serverUs)} | ${ph.names} |`,
      );
    }
  }
}
p();
p(
  "Latency: the calls' own time in the counting pass (no other traffic from this process). Server µs: Redis `INFO commandstats` usec (time inside the commands and scripts).",
);
p();
for (const [name, fns] of functionStats) {
  if (fns.length === 0) continue; // a server not started here: track_functions is likely off
  p(`### ${name}: time inside the PL/pgSQL functions (whole run, \`track_functions = pl\`)`);
  p();
  p('| function | calls | total µs/call | self µs/call |');
  p('|---|--:|--:|--:|');
  for (const fn of fns)
    p(`| ${fn.name} | ${f0(fn.calls)} | ${fn.totalUs.toFixed(1)} | ${fn.selfUs.toFixed(1)} |`);
  p();
}
console.log(out.join('\n'));
if (args.json !== undefined)
  writeFileSync(
    args.json,
    JSON.stringify({ env, results, functionStats: Object.fromEntries(functionStats) }, null, 1),
  );
