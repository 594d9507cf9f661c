#!/usr/bin/env node
// Size budget for otpkit's built bundles (npm run size; .ci/run runs it after the build).
//
// Each row is a tiny browser "app" bundled with esbuild (bundle + minify + tree shaking,
// platform browser, ESM), then gzipped at level 9: what a front end pays for the import.
// The otpauth, otplib v13 and @oslojs/otp rows are the same "verify a TOTP" app written with
// those libraries, for comparison only (no budget).
//
// It also checks that the core graph (dist/index.js and every chunk it imports) contains no
// code from the qr, redis, postgres, sqlite, d1, testing or cli entries, two ways: the `// src/…` module
// markers esbuild leaves in tsup's (unminified) output, and an esbuild bundle of src/index.ts
// whose metafile lists every source module reached.
//
// Exit 1 when a budget is exceeded or the core graph is polluted; exit 2 when dist is missing.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const KB = 1000;

for (const f of ['index.js', 'qr.js']) {
  if (!existsSync(join(dist, f))) {
    console.error(`size: dist/${f} is missing: run \`npm run build\` first.`);
    process.exit(2);
  }
}

const core = JSON.stringify(join(dist, 'index.js'));
const qr = JSON.stringify(join(dist, 'qr.js'));

/** @type {{ name: string, code: string, budget?: number, note?: string }[]} */
const apps = [
  {
    name: 'otpkit: `verifyTOTP` only',
    code: `import { verifyTOTP } from ${core};
export const check = (secret, token) => verifyTOTP(secret, token);`,
    budget: 6 * KB,
    note: 'SHA-1, SHA-256 and SHA-512 included (the algorithm is an option)',
  },
  {
    name: 'otpkit: `generateTOTP` only',
    code: `import { generateTOTP } from ${core};
export const code = (secret) => generateTOTP(secret);`,
    budget: 6 * KB,
  },
  {
    name: 'otpkit: `createVerifier` + `createMemoryStore`',
    code: `import { createVerifier, createMemoryStore } from ${core};
export const verifier = createVerifier({ store: createMemoryStore() });`,
    // The memory store is the reference implementation of both store contracts (28 operations:
    // the flow's challenges, devices and send quotas too), and recovery codes bring @noble/hashes
    // scrypt, HMAC and SHA-256; the verifier ships only the validators of the calls it makes.
    budget: 22 * KB,
    note: 'includes recovery codes (scrypt, HMAC profile), throttling and the whole memory store',
  },
  {
    name: 'otpkit: `createTwoFactor` + `createMemoryStore`',
    code: `import { createTwoFactor, createMemoryStore } from ${core};
export const twoFactor = createTwoFactor({ store: createMemoryStore(), issuer: 'ACME', keys: { current: 'k', keys: { k: new Uint8Array(32) } } });`,
    budget: 36 * KB,
    note: 'the whole flow: enrollment URIs, sealing, challenges, devices, email/SMS codes, recovery codes',
  },
  {
    name: 'otpkit/qr: the whole entry',
    code: `export * from ${qr};`,
    budget: 4.5 * KB,
  },
  {
    name: 'otpauth 9: `new TOTP({…}).validate(…)`',
    code: `import { TOTP } from 'otpauth';
export const check = (secret, token) =>
  new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 }).validate({ token, window: 1 }) !== null;`,
    note: 'comparison',
  },
  {
    name: 'otplib 13: `verifySync({…})`',
    code: `import { verifySync } from 'otplib';
export const check = (secret, token) => verifySync({ secret, token, epochTolerance: 30 }).valid;`,
    note: 'comparison',
  },
  {
    name: 'otplib 13: `verify({…})` (async)',
    code: `import { verify } from 'otplib';
export const check = async (secret, token) => (await verify({ secret, token, epochTolerance: 30 })).valid;`,
    note: 'comparison',
  },
  {
    name: '@oslojs/otp 1: `verifyTOTP`',
    code: `import { verifyTOTP } from '@oslojs/otp';
export const check = (key, token) => verifyTOTP(key, 30, 6, token);`,
    note: 'comparison; SHA-1 only, no window',
  },
];

async function measure(code) {
  const result = await esbuild.build({
    stdin: { contents: code, resolveDir: root, sourcefile: 'app.js', loader: 'js' },
    bundle: true,
    minify: true,
    treeShaking: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const bytes = result.outputFiles[0].contents;
  return {
    min: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    metafile: result.metafile,
  };
}

const fmt = (n) => `${(n / KB).toFixed(2)} kB`;
const failures = [];
const rows = [];
for (const app of apps) {
  const m = await measure(app.code);
  const over = app.budget !== undefined && m.gzip > app.budget;
  if (over) failures.push(`${app.name}: ${fmt(m.gzip)} > budget ${fmt(app.budget)}`);
  const status = app.budget === undefined ? '' : over ? '**OVER**' : 'ok';
  rows.push(
    `| ${app.name} | ${fmt(m.min)} | ${fmt(m.gzip)} | ${app.budget === undefined ? '-' : fmt(app.budget)} | ${status} | ${app.note ?? ''} |`,
  );
}

console.log('| App | min | min+gzip (level 9) | budget | status | notes |');
console.log('|---|---:|---:|---:|---|---|');
for (const r of rows) console.log(r);
console.log(`\n(1 kB = 1000 bytes; esbuild ${esbuild.version}, platform browser, ESM, minified.)`);

// ---------------------------------------------------------------------------------------------
// The core graph must not contain code from the other entries.

const FORBIDDEN = [
  /^src\/qr\.ts$/,
  /^src\/store\/redis\.ts$/,
  /^src\/store\/postgres\.ts$/,
  /^src\/store\/sqlite\.ts$/,
  /^src\/store\/d1\.ts$/,
  /^src\/store\/_sql\.ts$/,
  /^src\/testing\.ts$/,
  /^src\/cli\//,
];
const forbidden = (p) => FORBIDDEN.some((re) => re.test(p));

// (1) dist: follow dist/index.js's static relative imports and read tsup's `// src/…` markers.
// esbuild omits some markers, so (2) also looks for the declarations of the other entries' own
// exports, and (3) checks the source graph.
const closure = new Set();
const markers = new Set();
let coreText = '';
const walk = (file) => {
  if (closure.has(file)) return;
  closure.add(file);
  const text = readFileSync(file, 'utf8');
  coreText += text + '\n';
  for (const m of text.matchAll(/^\/\/ (src\/\S+\.ts)$/gm)) markers.add(m[1]);
  for (const m of text.matchAll(
    /(?:^|[\s;}])(?:import|export)\b[^'"`;]*?from\s*["'](\.{1,2}\/[^"']+)["']/gm,
  ))
    walk(resolve(dirname(file), m[1]));
  for (const m of text.matchAll(/^import\s*["'](\.{1,2}\/[^"']+)["']/gm))
    walk(resolve(dirname(file), m[1]));
};
walk(join(dist, 'index.js'));
const distFiles = [...closure].map((f) => relative(root, f)).sort();
const otherEntries = [
  'dist/qr.js',
  'dist/redis.js',
  'dist/postgres.js',
  'dist/sqlite.js',
  'dist/d1.js',
  'dist/testing.js',
  'dist/cli.js',
];
const pollutedDist = [
  ...distFiles.filter((f) => otherEntries.includes(f)),
  ...[...markers].filter(forbidden),
];
if (markers.size === 0)
  failures.push('core graph: no `// src/…` module markers found in dist (was dist minified?)');

// (2) the names each other entry declares itself (its `export { … }` without `from`), plus the CLI's.
const ownNames = { 'dist/cli.js': ['runCli'] };
for (const f of [
  'dist/qr.js',
  'dist/redis.js',
  'dist/postgres.js',
  'dist/sqlite.js',
  'dist/d1.js',
  'dist/testing.js',
]) {
  if (!existsSync(join(root, f))) {
    failures.push(`${f} is missing: run \`npm run build\``);
    continue;
  }
  const text = readFileSync(join(root, f), 'utf8');
  ownNames[f] = [...text.matchAll(/^export\s*\{([^}]*)\}\s*;?\s*$/gm)].flatMap((m) =>
    m[1]
      .split(',')
      .map((x) => x.trim().split(/\s+as\s+/)[0])
      .filter(Boolean),
  );
  if (ownNames[f].length === 0) failures.push(`${f}: found no exports of its own to look for`);
}
const leakedNames = Object.entries(ownNames).flatMap(([f, names]) =>
  names
    .filter((n) => new RegExp(`\\b(?:function\\*?|class|const|let|var)\\s+${n}\\b`).test(coreText))
    .map((n) => `${n} (from ${f})`),
);

// (3) src: bundle src/index.ts and list the source modules it reaches.
const srcBuild = await esbuild.build({
  entryPoints: [join(root, 'src/index.ts')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  write: false,
  metafile: true,
  logLevel: 'silent',
  external: ['@noble/hashes', '@noble/hashes/*'],
});
const srcInputs = Object.keys(srcBuild.metafile.inputs).map((p) =>
  relative(root, resolve(root, p)),
);
const pollutedSrc = srcInputs.filter(forbidden);

console.log(`\nCore graph: ${distFiles.join(', ')}`);
console.log(`  modules: ${[...markers].sort().join(', ')}`);
if (pollutedDist.length || pollutedSrc.length || leakedNames.length) {
  failures.push(
    `core graph contains code from another entry: ${[...new Set([...pollutedDist, ...pollutedSrc, ...leakedNames])].join(', ')}`,
  );
} else {
  console.log('  ok: no code from qr, redis, postgres, sqlite, d1, testing or cli');
}

if (failures.length) {
  console.error(`\nsize: FAILED\n  - ${failures.join('\n  - ')}`);
  process.exit(1);
}
console.log('\nsize: all budgets met');
