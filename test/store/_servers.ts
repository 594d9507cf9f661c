/**
 * Test-only helpers for the adapter suites that need a real server:
 * read the server URL from the environment that `.ci/run` sets, fail in CI when it is missing,
 * skip loudly outside CI, and start/stop private server processes for fault tests.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { describe, it } from 'vitest';

/** Whether we run in CI (any non-empty `CI` other than `false`/`0`). */
export const IN_CI: boolean = (() => {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
})();

/**
 * `describe(title, () => body(value))` when the environment variable `name` is set. Without it:
 * in CI a failing test (`<name> is required in CI`), so a missing server never passes silently;
 * outside CI a `describe.skip` plus a loud warning.
 */
export function describeWithEnv(name: string, title: string, body: (value: string) => void): void {
  const value = process.env[name];
  describeRequiring(value === '' ? undefined : value, name, title, body);
}

/**
 * `describe(title, () => body(value))` when `value` (a URL, a binary path...) is known. Otherwise
 * fails in CI (`<what> is required in CI`) and skips loudly elsewhere.
 */
export function describeRequiring(
  value: string | undefined,
  what: string,
  title: string,
  body: (value: string) => void,
): void {
  if (value !== undefined) {
    describe(title, () => body(value));
    return;
  }
  if (IN_CI) {
    describe(title, () => {
      it(`${what} is available`, () => {
        throw new Error(
          `${what} is required in CI (.ci/run starts the servers and exports their settings)`,
        );
      });
    });
    return;
  }
  console.warn(
    `\n${'!'.repeat(78)}\n!! SKIPPED "${title}": ${what} is not available. These tests need a real\n` +
      `!! server; start one and export it (see .ci/run). In CI this is a failure.\n${'!'.repeat(78)}\n`,
  );
  describe.skip(title, () => body(''));
}

/** A free TCP port on 127.0.0.1 (asked from the OS; tiny race before the server binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Finds an executable: `explicit` if given and present, else `name` on PATH; `undefined` if none. */
export function findBinary(explicit: string | undefined, name: string): string | undefined {
  if (explicit !== undefined && explicit !== '') return existsSync(explicit) ? explicit : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Polls `probe` until it resolves true or `timeoutMs` passes. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const children = new Set<ChildProcess>();
// Whatever happens to the test run, no server we started outlives it.
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A redis-server process this test run owns. */
export interface RedisServerProcess {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** The running child; replaced by `restart()`. */
  readonly child: ChildProcess;
  /** SIGKILLs the server (no shutdown, no final fsync) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data dir (reloading the AOF). */
  restart(): Promise<void>;
}

/**
 * Starts a private `redis-server` on 127.0.0.1 with AOF `appendfsync always` in `dir`
 * (not daemonized, so the test owns the process and can SIGKILL it).
 */
export async function startRedisServer(
  bin: string,
  dir: string,
  extraArgs: readonly string[] = [],
): Promise<RedisServerProcess> {
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
    '--logfile',
    join(dir, 'redis.log'),
    ...extraArgs,
  ];
  let child!: ChildProcess;
  const start = async (): Promise<void> => {
    child = spawn(bin, args, { stdio: 'ignore' });
    children.add(child);
    child.once('exit', () => children.delete(child));
    await waitUntil(() => ping(port), 10_000, `redis-server on port ${port}`);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get child() {
      return child;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
    restart: start,
  };
}

/** Sends a raw inline PING; true on +PONG (no client library needed). */
async function ping(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      // -LOADING while the AOF replays: not ready yet.
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}
