/**
 * Fault injection against a REAL PostgreSQL server that this test owns (its own cluster, made
 * with initdb in a temp dir and started with pg_ctl; the shared CI server is never touched).
 * A stream of concurrent verifications (one-statement TOTP attempts, two-phase TOTP attempts
 * with a lazily fetched secret, HOTP) and recovery-code redemptions runs while the server is
 * stopped with `pg_ctl stop -m immediate` (a crash): every call either completes correctly or
 * throws OtpkitError ERR_STORE*, and none returns ok: true wrongly. After a restart, what was
 * consumed before the crash is still consumed (committed rows survive WAL replay).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OtpkitError } from '../../src/errors.js';
import { createPostgresStore, migratePostgres } from '../../src/store/postgres.js';
import { generateTOTP } from '../../src/totp.js';
import { generateHOTP } from '../../src/hotp.js';
import type { Verifier } from '../../src/verifier/types.js';
import { createVerifier } from '../../src/verifier/verifier.js';
import { describeRequiring, freePort, waitUntil } from './_servers.js';

const run = promisify(execFile);
const SECRET = new Uint8Array(20).map((_, i) => (i * 13 + 7) & 0xff);
const T = Date.UTC(2033, 0, 1);
const TITLE = 'PostgreSQL store: server crash in the middle of a stream (own cluster)';

/** pg_ctl: OTPKIT_PG_CTL (set by .ci/run), else the newest /usr/lib/postgresql/<v>/bin/pg_ctl. */
function findPgCtl(): string | undefined {
  const explicit = process.env.OTPKIT_PG_CTL;
  if (explicit !== undefined && explicit !== '') return explicit;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(a) - Number(b));
  const v = versions.at(-1);
  return v === undefined ? undefined : join(base, v, 'bin', 'pg_ctl');
}

/** Runs a PostgreSQL binary as the `postgres` OS user when we are root (initdb refuses root). */
const asPostgresArgs = (bin: string, args: string[]): [string, string[]] =>
  process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];

interface OwnCluster {
  readonly url: string;
  start(): Promise<void>;
  stopImmediate(): Promise<void>;
  destroy(): void;
}

async function createCluster(pgCtl: string): Promise<OwnCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'otpkit-pgfault-'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  const port = await freePort();
  let running = false;
  const destroy = (): void => {
    if (running) {
      try {
        const [cmd, args] = asPostgresArgs(pgCtl, ['-D', data, '-m', 'immediate', 'stop']);
        execFileSync(cmd, args, { stdio: 'ignore' });
      } catch {
        // already gone
      }
      running = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Even if the test run dies, the cluster and its directory do not outlive it.
  process.once('exit', destroy);
  try {
    if (process.getuid?.() === 0) await run('chown', ['postgres:postgres', dir]);
    const [icmd, iargs] = asPostgresArgs(join(dirname(pgCtl), 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '--no-sync',
    ]);
    await run(icmd, iargs);
  } catch (e) {
    destroy();
    throw e;
  }
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c max_connections=100`;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      const [cmd, args] = asPostgresArgs(pgCtl, [
        '-D',
        data,
        '-l',
        join(dir, 'log'),
        '-w',
        '-t',
        '60',
        '-o',
        options,
        'start',
      ]);
      running = true;
      await run(cmd, args);
    },
    async stopImmediate() {
      const [cmd, args] = asPostgresArgs(pgCtl, ['-D', data, '-m', 'immediate', 'stop']);
      await run(cmd, args);
      running = false;
    },
    destroy,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What one call ended as: `ok`, a failure reason, `ERR_STORE*`, or `BAD:` anything else. */
async function outcome(call: () => Promise<{ ok: boolean; reason?: string }>): Promise<string> {
  try {
    const r = await call();
    return r.ok ? 'ok' : (r.reason ?? 'no-reason');
  } catch (e) {
    if (e instanceof OtpkitError && e.code.startsWith('ERR_STORE')) return e.code;
    return `BAD:${String(e)}`;
  }
}

// Fails in CI without pg_ctl, skips loudly elsewhere.
describeRequiring(
  findPgCtl(),
  'pg_ctl (OTPKIT_PG_CTL, or PostgreSQL under /usr/lib/postgresql)',
  TITLE,
  (pgCtl) => {
    let cluster: OwnCluster | undefined;
    const pools: pg.Pool[] = [];
    const newPool = (url: string): pg.Pool => {
      // Small client-side limits: while the server is down every call fails fast instead of queueing.
      const p = new pg.Pool({
        connectionString: url,
        max: 16,
        connectionTimeoutMillis: 500,
        query_timeout: 1000,
      });
      p.on('error', () => {}); // idle connections die with the server; the next query reports it
      pools.push(p);
      return p;
    };

    beforeAll(async () => {
      cluster = await createCluster(pgCtl);
      await cluster.start();
    }, 120_000);

    afterAll(async () => {
      await Promise.allSettled(pools.map((p) => p.end()));
      cluster?.destroy();
    }, 60_000);

    it('every call completes correctly or throws ERR_STORE*; consumed state survives the crash', async () => {
      const c = cluster as OwnCluster;
      const pool = newPool(c.url);
      await migratePostgres(pool);
      const store = createPostgresStore({ client: pool });
      const make = (s = store): Verifier =>
        createVerifier({
          store: s,
          storeTimeoutMs: 800,
          throttle: { freeFailures: 100, maxFailures: 100 },
          recoveryHash: { logN: 10 },
        });
      const verifier = make();

      const LOOPS = 8;
      const codes: string[][] = [];
      for (let l = 0; l < LOOPS; l++)
        codes.push(await verifier.issueRecoveryCodes({ userId: `r${l}`, count: 8 }));

      const totpWins: Array<{ userId: string; token: string; now: number }> = [];
      const recoveryWins: Array<{ userId: string; code: string }> = [];
      const hotpWins: Array<{ userId: string; token: string }> = [];
      const hotpNext = new Map<number, bigint>();
      const all: string[] = [];
      const afterCrash: string[] = [];
      let crashed = false;
      let stop = false;
      const violations: string[] = [];

      const loop = async (l: number): Promise<void> => {
        let i = 0;
        let nextCode = 0;
        while (!stop) {
          i++;
          const kind = i % 5;
          let results: string[];
          if (kind === 0 || kind === 3) {
            // The same valid code twice at once: at most one may win. Kind 3 gives the secret as a
            // function, so the attempt takes the two-phase path (beginAttempt, then settleAttempt).
            const userId = `t${l}`;
            const now = T + i * 30_000;
            const token = generateTOTP(SECRET, { now });
            const secret = kind === 0 ? SECRET : () => SECRET;
            results = await Promise.all(
              [0, 1].map(() => outcome(() => verifier.verifyTOTP({ userId, secret, token, now }))),
            );
            const wins = results.filter((r) => r === 'ok').length;
            if (wins > 1) violations.push(`TOTP ${userId}@${now}: ${wins} wins`);
            if (wins === 1) totpWins.push({ userId, token, now });
          } else if (kind === 4) {
            // HOTP: the next counter twice at once, on a credential of its own.
            const userId = `h${l}`;
            const counter = hotpNext.get(l) ?? 0n;
            const token = generateHOTP(SECRET, counter);
            results = await Promise.all(
              [0, 1].map(() =>
                outcome(() => verifier.verifyHOTP({ userId, secret: SECRET, token, now: T })),
              ),
            );
            const wins = results.filter((r) => r === 'ok').length;
            if (wins > 1) violations.push(`HOTP ${userId}#${counter}: ${wins} wins`);
            if (wins === 1) {
              hotpWins.push({ userId, token });
              hotpNext.set(l, counter + 1n);
            } else if (results.every((r) => r === 'replayed' || r === 'invalid'))
              hotpNext.set(l, counter + 1n); // consumed by a cut-off call
          } else if (kind === 1) {
            const userId = `w${l}-${i}`; // fresh users: wrong codes never reach the lockout
            const now = T + i * 30_000;
            results = [
              await outcome(() =>
                verifier.verifyTOTP({ userId, secret: SECRET, token: wrong(now), now }),
              ),
            ];
            if (results[0] === 'ok') violations.push(`wrong code accepted for ${userId}`);
          } else {
            const userId = `r${l}`;
            const code = codes[l]?.[nextCode];
            if (code === undefined) {
              await sleep(5);
              continue;
            }
            results = await Promise.all(
              [0, 1].map(() =>
                outcome(() => verifier.redeemRecoveryCode({ userId, code, now: T })),
              ),
            );
            const wins = results.filter((r) => r === 'ok').length;
            if (wins > 1) violations.push(`recovery ${userId}#${nextCode}: ${wins} wins`);
            if (wins === 1) recoveryWins.push({ userId, code });
            // A code whose redemption was cut off is retried below: at most one win overall.
            if (wins === 1 || results.every((r) => r === 'invalid')) nextCode++;
          }
          all.push(...results);
          if (crashed) afterCrash.push(...results);
          if (results.some((r) => r.startsWith('ERR_STORE'))) await sleep(10); // no hot loop while down
        }
      };

      const loops = Array.from({ length: LOOPS }, (_, l) => loop(l));
      try {
        await waitUntil(
          async () => totpWins.length >= 10 && recoveryWins.length >= 4,
          60_000,
          'successes before the crash',
        );
        crashed = true;
        await c.stopImmediate(); // a crash: no checkpoint, no goodbye to the clients
        await sleep(1500);
      } finally {
        stop = true;
        await Promise.all(loops);
      }

      const tally = all.reduce<Record<string, number>>((a, r) => ((a[r] = (a[r] ?? 0) + 1), a), {});
      console.info(
        `[postgres faults] ${all.length} calls: ${JSON.stringify(tally)}; after the crash: ${afterCrash.length}; ` +
          `wins before it: ${totpWins.length} TOTP, ${hotpWins.length} HOTP, ${recoveryWins.length} recovery`,
      );
      expect(
        all.filter((r) => r.startsWith('BAD:')),
        JSON.stringify(tally),
      ).toEqual([]);
      expect(violations).toEqual([]);
      for (const r of all)
        expect([
          'ok',
          'invalid',
          'replayed',
          'ERR_STORE',
          'ERR_STORE_TIMEOUT',
          'ERR_STORE_CORRUPT',
        ]).toContain(r);
      // While the server was down, calls failed closed with a storage error (never "wrong code").
      const downErrors = afterCrash.filter((r) => r.startsWith('ERR_STORE')).length;
      expect(downErrors, JSON.stringify(tally)).toBeGreaterThan(0);

      // Restart: what was consumed before the crash is still consumed (WAL replay of committed rows).
      await c.start();
      const pool2 = newPool(c.url);
      const verifier2 = make(createPostgresStore({ client: pool2 }));
      // (unlock first: failures counted at later times would otherwise read as a backoff for these
      // earlier `now`s, which hides the answer we are after.)
      for (const w of totpWins) {
        await verifier2.unlock(w.userId);
        const r = await verifier2.verifyTOTP({
          userId: w.userId,
          secret: SECRET,
          token: w.token,
          now: w.now,
        });
        expect(r, `${w.userId}@${w.now}`).toEqual({ ok: false, reason: 'replayed' });
      }
      for (const w of hotpWins) {
        await verifier2.unlock(w.userId);
        const r = await verifier2.verifyHOTP({
          userId: w.userId,
          secret: SECRET,
          token: w.token,
          now: T,
        });
        expect(r.ok, w.userId).toBe(false);
      }
      for (const w of recoveryWins) {
        await verifier2.unlock(w.userId, 'recovery');
        const r = await verifier2.redeemRecoveryCode({ userId: w.userId, code: w.code, now: T });
        expect(r, w.userId).toEqual({ ok: false, reason: 'invalid' });
      }
      // And the store works again: a fresh code verifies once.
      const now = T + 10_000_000_000;
      const token = generateTOTP(SECRET, { now });
      expect((await verifier2.verifyTOTP({ userId: 'after', secret: SECRET, token, now })).ok).toBe(
        true,
      );
      expect(await verifier2.verifyTOTP({ userId: 'after', secret: SECRET, token, now })).toEqual({
        ok: false,
        reason: 'replayed',
      });
    }, 180_000);
  },
);

/** A well-formed code matching no step within ±2 of `now`. */
function wrong(now: number): string {
  const near = new Set(
    Array.from({ length: 5 }, (_, i) => generateTOTP(SECRET, { now: now + (i - 2) * 30_000 })),
  );
  for (let i = 0; ; i++) {
    const c = String(i).padStart(6, '0');
    if (!near.has(c)) return c;
  }
}
