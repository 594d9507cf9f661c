#!/usr/bin/env node
// Runs the otpkit example web app: `node examples/webapp/start.mjs [--port N] [--pg URL | --redis URL]`.
//
// server.ts is TypeScript, which Node 20 cannot run directly, so this script bundles it with
// esbuild (a devDependency, installed by `npm ci`) into .tmp/webapp/server.mjs and runs that.
// `import ... from 'otpkit'` (and 'otpkit/qr', 'otpkit/postgres', 'otpkit/redis') is resolved to
// this repository's src/, so no build is needed. With `--dist`, 'otpkit' is left to Node, which
// resolves it through package.json "exports" to the built dist/ (run `npm run build` first):
// exactly what an app that installed otpkit from npm gets. `pg` and `ioredis` stay external and
// are loaded only when --pg / --redis (or OTPKIT_PG_URL / OTPKIT_REDIS_URL) ask for them.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const args = process.argv.slice(2);
const useDist = args.includes('--dist');
const rest = args.filter((a) => a !== '--dist');

let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  console.error('esbuild is missing: run `npm ci` in the otpkit repository first.');
  process.exit(1);
}

const SRC = {
  otpkit: 'src/index.ts',
  'otpkit/qr': 'src/qr.ts',
  'otpkit/postgres': 'src/store/postgres.ts',
  'otpkit/redis': 'src/store/redis.ts',
};

/** Resolves the package's own name to src/ (the default) or leaves it to Node (--dist). */
const otpkitResolver = {
  name: 'otpkit-resolver',
  setup(b) {
    b.onResolve({ filter: /^otpkit(\/.*)?$/ }, (a) => {
      if (useDist) return { path: a.path, external: true };
      const file = SRC[a.path];
      if (file === undefined) return { errors: [{ text: `unknown otpkit entry point ${a.path}` }] };
      return { path: join(root, file) };
    });
  },
};

if (useDist && !existsSync(join(root, 'dist', 'index.js'))) {
  console.error('--dist needs the built package: run `npm run build` first.');
  process.exit(1);
}

// Inside the repository (so Node's package self-reference finds 'otpkit' with --dist),
// gitignored (.tmp/), one file per process (several apps may start at once), removed once loaded.
const outfile = join(root, '.tmp', 'webapp', `server-${process.pid}.mjs`);
await build({
  entryPoints: [join(here, 'server.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['pg', 'ioredis'],
  plugins: [otpkitResolver],
  logLevel: 'warning',
});

let main;
try {
  ({ main } = await import(pathToFileURL(outfile).href));
} finally {
  rmSync(outfile, { force: true });
}
try {
  await main(rest);
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}
