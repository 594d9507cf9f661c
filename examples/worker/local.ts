/**
 * Runs the Worker locally, without wrangler: bundles src/index.ts with esbuild (`otpkit` resolved
 * to this repository's src/, as vitest.config.ts does), starts it in miniflare (which runs
 * `workerd` from npm) with a D1 database persisted in a directory, creates the tables through
 * miniflare's D1 binding, and passes the secrets as bindings. dev.mjs and the end-to-end test use it.
 * @module
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Miniflare } from 'miniflare';
// By path, not by name: this file runs in Node (vitest, dev.mjs), outside the Worker's bundle.
import { d1Schema, migrateD1 } from '../../src/store/d1.js';
import type { D1Database } from './src/env.js';
import { USERS_SCHEMA } from './src/users.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** Where `import … from 'otpkit…'` goes: the sources, so no build is needed. */
const OTPKIT_SOURCES: Readonly<Record<string, string>> = {
  otpkit: 'src/index.ts',
  'otpkit/qr': 'src/qr.ts',
  'otpkit/d1': 'src/store/d1.ts',
};

/** The secrets, as `wrangler secret put` would set them. */
export interface WorkerSecrets {
  readonly OTPKIT_SEALING_KEYS: string;
  readonly OTPKIT_RECOVERY_PEPPER: string;
  readonly SESSION_KEY: string;
}

export interface LocalWorkerOptions {
  /** @defaultValue '127.0.0.1' */
  readonly host?: string | undefined;
  /** @defaultValue 0 (any free port) */
  readonly port?: number | undefined;
  /** Where D1 keeps its SQLite files. @defaultValue a new temporary directory, removed by `close()` */
  readonly persistDir?: string | undefined;
  /** @defaultValue new random keys */
  readonly secrets?: WorkerSecrets | undefined;
  /** Each line the Worker logs (`console.log`/`console.error`). @defaultValue printed to stdout */
  readonly onLog?: ((line: string) => void) | undefined;
}

export interface LocalWorker {
  readonly url: string;
  readonly miniflare: Miniflare;
  readonly persistDir: string;
  /** Size of the Worker bundle (not minified), bytes. */
  readonly bundleBytes: number;
  close(): Promise<void>;
}

const randomHex = (bytes: number): string =>
  Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');

/** Fresh random secrets (enrollments then live as long as the keys are kept). */
export function randomSecrets(): WorkerSecrets {
  return {
    OTPKIT_SEALING_KEYS: `k1:${randomHex(32)}`,
    OTPKIT_RECOVERY_PEPPER: `p1:${randomHex(32)}`,
    SESSION_KEY: randomHex(32),
  };
}

/** The `compatibility_date` of wrangler.toml: local runs behave like the deployment. */
export async function compatibilityDate(): Promise<string> {
  const toml = await readFile(join(here, 'wrangler.toml'), 'utf8');
  const date = /^compatibility_date\s*=\s*"(\d{4}-\d{2}-\d{2})"/m.exec(toml)?.[1];
  if (date === undefined) throw new Error('wrangler.toml has no compatibility_date');
  return date;
}

/** Creates otpkit's tables and the example's own (idempotent). */
export async function migrate(db: D1Database): Promise<void> {
  await migrateD1(db);
  await db.prepare(USERS_SCHEMA).run();
}

/** The same statements as SQL text, for `wrangler d1 execute --file`. */
export function schemaSql(): string {
  return `${d1Schema()}\n\n${USERS_SCHEMA};\n`;
}

/** Bundles the Worker into one ES module, as wrangler would (workerd's export conditions). */
export async function bundleWorker(options: { readonly minify?: boolean } = {}): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(here, 'src', 'index.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    minify: options.minify === true,
    logLevel: 'warning',
    plugins: [
      {
        name: 'otpkit-sources',
        setup(b) {
          b.onResolve({ filter: /^otpkit(\/.*)?$/ }, (a) => {
            const file = OTPKIT_SOURCES[a.path];
            return file === undefined
              ? { errors: [{ text: `unknown otpkit entry point ${a.path}` }] }
              : { path: join(root, file) };
          });
        },
      },
    ],
  });
  return result.outputFiles[0]?.text ?? '';
}

/** Starts the Worker in miniflare on `host:port`, tables created, and resolves once it serves. */
export async function startLocalWorker(options: LocalWorkerOptions = {}): Promise<LocalWorker> {
  const { Miniflare } = await import('miniflare');
  const script = await bundleWorker();
  const ownDir = options.persistDir === undefined;
  const persistDir = options.persistDir ?? (await mkdtemp(join(tmpdir(), 'otpkit-worker-')));
  const onLog = options.onLog ?? ((line: string) => console.log(line));
  const miniflare = new Miniflare({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    modules: true,
    script,
    compatibilityDate: await compatibilityDate(),
    d1Databases: { DB: 'otpkit-worker-example' },
    d1Persist: persistDir,
    bindings: { ...(options.secrets ?? randomSecrets()) },
    // The Worker's console output, line by line (workerd's own warnings too).
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      for (const stream of [stdout, stderr]) {
        let rest = '';
        stream.on('data', (chunk: Buffer) => {
          const lines = (rest + chunk.toString()).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) if (line !== '') onLog(line);
        });
      }
    },
  });
  try {
    const url = (await miniflare.ready).href.replace(/\/$/, '');
    await migrate((await miniflare.getD1Database('DB')) as D1Database);
    return {
      url,
      miniflare,
      persistDir,
      bundleBytes: Buffer.byteLength(script),
      async close() {
        await miniflare.dispose();
        if (ownDir) await rm(persistDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await miniflare.dispose();
    throw e;
  }
}
