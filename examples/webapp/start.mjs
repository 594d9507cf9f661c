#!/usr/bin/env node
// Runs the otpkit example web app: `node examples/webapp/start.mjs [--port N] [--pg URL | --redis URL]`.
// Node 20 cannot run TypeScript, so this bundles server.ts with esbuild (a devDependency) into
// .tmp/webapp/ and runs that, resolving 'otpkit' (and 'otpkit/qr', …) to this repository's src/.
// With `--dist` it leaves 'otpkit' to Node, which resolves it through package.json "exports" to
// the built dist/ (`npm run build` first): what an app that installed otpkit gets. `pg`,
// `ioredis` and `nodemailer` stay external, loaded only when a store URL or OTPKIT_SMTP_URL asks.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const useDist = process.argv.includes('--dist');
const fail = (message) => {
  console.error(message);
  process.exit(1);
};
const { build } = await import('esbuild').catch(() =>
  fail('esbuild is missing: run `npm ci` in the otpkit repository first.'),
);
if (useDist && !existsSync(join(root, 'dist', 'index.js')))
  fail('--dist needs the built package: run `npm run build` first.');

const SRC = { otpkit: 'index', qr: 'qr', postgres: 'store/postgres', redis: 'store/redis' };
/** Resolves the package's own name to src/ (the default) or leaves it to Node (--dist). */
const otpkitResolver = {
  name: 'otpkit-resolver',
  setup: (b) =>
    b.onResolve({ filter: /^otpkit(\/.*)?$/ }, ({ path }) => {
      const file = SRC[path.replace(/^otpkit\//, '')];
      if (useDist) return { path, external: true };
      if (file === undefined) return { errors: [{ text: `unknown otpkit entry point ${path}` }] };
      return { path: join(root, 'src', `${file}.ts`) };
    }),
};

// In the repository (so that Node's self-reference finds 'otpkit' with --dist), one file per process.
const outfile = join(root, '.tmp', 'webapp', `server-${process.pid}.mjs`);
await build({
  entryPoints: [join(here, 'server.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['pg', 'ioredis', 'nodemailer'],
  plugins: [otpkitResolver],
  logLevel: 'warning',
});
const { main } = await import(pathToFileURL(outfile).href).finally(() =>
  rmSync(outfile, { force: true }),
);
await main(process.argv.slice(2).filter((a) => a !== '--dist')).catch((e) =>
  fail(e instanceof Error ? e.message : e),
);
