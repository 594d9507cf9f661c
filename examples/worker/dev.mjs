#!/usr/bin/env node
// Runs the otpkit Worker example locally: `node examples/worker/dev.mjs [--port N] [--persist DIR]`.
// `--schema` prints the tables' SQL instead, for `wrangler d1 execute --file` (see README.md).
//
// No wrangler: local.ts bundles the Worker with esbuild (otpkit from this repository's src/) and
// runs it in miniflare, which starts workerd (both npm packages, installed by `npm ci`). D1 lives
// in a new temporary directory, removed on exit, with random secrets; with --persist DIR it lives
// in DIR and the secrets are kept in DIR/secrets.json, so accounts survive a restart.
// local.ts is TypeScript, which Node 20 cannot run, so it is bundled here first (into .tmp/).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '8787' },
    persist: { type: 'string' },
    schema: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('node examples/worker/dev.mjs [--port N] [--persist DIR] | --schema');
  process.exit(0);
}

let build;
try {
  ({ build } = await import('esbuild'));
  await import('miniflare');
} catch {
  console.error('esbuild or miniflare is missing: run `npm ci` in the otpkit repository first.');
  process.exit(1);
}

const outfile = join(root, '.tmp', 'worker', `local-${process.pid}.mjs`);
await build({
  entryPoints: [join(here, 'local.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  // local.ts finds src/ and wrangler.toml from its own location, not the bundle's.
  define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(here, 'local.ts')).href) },
  logLevel: 'warning',
});
let local;
try {
  local = await import(pathToFileURL(outfile).href);
} finally {
  rmSync(outfile, { force: true });
}

if (args.schema) {
  process.stdout.write(local.schemaSql());
  process.exit(0);
}

let secrets;
if (args.persist !== undefined) {
  mkdirSync(args.persist, { recursive: true });
  const file = join(args.persist, 'secrets.json');
  if (!existsSync(file))
    writeFileSync(file, JSON.stringify(local.randomSecrets(), null, 2), { mode: 0o600 });
  secrets = JSON.parse(readFileSync(file, 'utf8'));
}
// A temporary D1 is made here, not by startLocalWorker: miniflare exits the process on SIGINT and
// SIGTERM (after stopping workerd) before an async close() could finish, so it is removed on 'exit'.
let persistDir = args.persist;
if (persistDir === undefined) {
  const tmp = mkdtempSync(join(tmpdir(), 'otpkit-worker-'));
  process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));
  persistDir = tmp;
}
const worker = await local.startLocalWorker({ port: Number(args.port), persistDir, secrets });
console.log(`otpkit Worker example on ${worker.url}  (D1 in ${worker.persistDir}; Ctrl-C stops)`);
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    worker.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
