/**
 * The runtimes outside Node and how to bundle for and start each, shared by test/runtimes/run.mjs
 * and bench/runtimes.mjs. Every binary comes from the project's devDependencies (npm packages
 * whose platform builds are optionalDependencies): nothing is downloaded at run time.
 *
 * Bundles are ES modules built by esbuild with `vitest` aliased to test/runtimes/vitest.ts and
 * `otpkit` to src/ (as vitest.config.ts does), `node:*` left to the runtime, and the package
 * export conditions that runtime's own resolver (Bun, Deno) or bundler (wrangler, for workerd)
 * would pick, so that dependencies load the build their users would get.
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(join(ROOT, 'package.json'));

/**
 * The native binary of a runtime package. Each package's postinstall puts it in the package itself
 * (Bun moves it there; Deno links it); should install scripts not run (`--ignore-scripts`, or an
 * npm that blocks them), it is still in the platform package that npm installed as an optional
 * dependency, and is taken from there. Returns the first candidate that is a real executable.
 */
function binary(name) {
  const arch = { x64: 'x64', arm64: 'aarch64' }[process.arch];
  const nm = (...p) => join(ROOT, 'node_modules', ...p);
  const candidates = {
    bun: [
      nm('bun', 'bin', 'bun.exe'),
      nm('@oven', `bun-${process.platform}-${arch}`, 'bin', 'bun'),
      nm('@oven', `bun-${process.platform}-${arch}-baseline`, 'bin', 'bun'),
    ],
    deno: [
      nm('deno', 'deno'),
      nm(
        '@deno',
        `${process.platform}-${process.arch}${process.platform === 'linux' ? '-glibc' : ''}`,
        'deno',
      ),
    ],
    workerd: [
      nm(
        '@cloudflare',
        `workerd-${process.platform}-${process.arch === 'x64' ? '64' : process.arch}`,
        'bin',
        'workerd',
      ),
      nm('workerd', 'bin', 'workerd'),
    ],
  }[name];
  // A placeholder (Bun ships a text file until its postinstall runs) is far smaller than a runtime.
  return candidates.find((f) => existsSync(f) && statSync(f).size > 1 << 20) ?? candidates[0];
}

/** workerd behaviour is pinned by its compatibility date; from 2026-08-04 on it implies nodejs_compat. */
export const WORKERD_COMPATIBILITY_DATE = '2026-11-17';

/**
 * @typedef {object} Runtime
 * @property {string} name
 * @property {string} [pkg] the npm package that brings the binary
 * @property {string[]} conditions esbuild `conditions`
 * @property {() => string[]} version command printing the version
 * @property {(dir: string, bundle: string) => Promise<string[]>} command argv that runs `bundle` (in `dir`)
 * @property {boolean} [exportsTest] the bundle must `export default { test() }` instead of running at load
 */

/** workerd, run through `workerd test`, with the given compatibility flags. */
function workerdRuntime(name, flags) {
  return {
    name,
    pkg: 'workerd',
    conditions: ['workerd', 'worker', 'browser'],
    version: () => [binary('workerd'), '--version'],
    exportsTest: true,
    // `workerd test` calls the worker's test() handler: no socket, no HTTP, and the exit code says
    // whether it threw.
    command: async (dir, bundle) => {
      const base = bundle.replace(/^.*\//, '');
      const config = join(dir, base.replace(/\.mjs$/, '.capnp'));
      await writeFile(
        config,
        `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = ( services = [ (name = "main", worker = .worker) ] );
const worker :Workerd.Worker = (
  modules = [ (name = "main.mjs", esModule = embed ${JSON.stringify(base)}) ],
  compatibilityDate = ${JSON.stringify(WORKERD_COMPATIBILITY_DATE)},
  compatibilityFlags = ${JSON.stringify(flags)},
);
`,
      );
      return [binary('workerd'), 'test', config];
    },
  };
}

/** @type {Record<string, Runtime>} */
export const RUNTIMES = {
  bun: {
    name: 'bun',
    pkg: 'bun',
    conditions: ['bun', 'node'],
    version: () => [binary('bun'), '--version'],
    // No auto-install of missing imports, no .env loading: the bundle is all there is.
    command: async (_dir, bundle) => [binary('bun'), '--no-install', '--no-env-file', bundle],
  },
  deno: {
    name: 'deno',
    pkg: 'deno',
    conditions: ['deno', 'node'],
    version: () => [binary('deno'), '--version'],
    // Least privilege: no file, net, run, FFI or system access; env: the variable test/_setup.ts
    // reads and those tinyrainbow (vitest's colours in diffs) reads.
    command: async (_dir, bundle) => [
      binary('deno'),
      'run',
      '--no-prompt',
      '--no-config',
      '--no-lock',
      '--no-remote',
      '--no-npm',
      '--allow-env=FC_SEED,NO_COLOR,FORCE_COLOR,FORCE_TTY,TERM,CI',
      bundle,
    ],
  },
  workerd: workerdRuntime('workerd', []),
  // workerd as a Worker without Node.js compatibility: no process, Buffer or node:* modules.
  'workerd-web': workerdRuntime('workerd-web', ['no_nodejs_compat', 'no_nodejs_compat_v2']),
  // Not part of the CI run (vitest covers Node): checks the shim itself against vitest's counts.
  node: {
    name: 'node',
    conditions: ['node'],
    version: () => [process.execPath, '--version'],
    command: async (_dir, bundle) => [process.execPath, bundle],
  },
};

/**
 * Environment for the runtimes: no colours (plain logs), no telemetry, update checks or crash
 * uploads, and Deno's cache kept in the run's own folder.
 */
export function runtimeEnv(tmp) {
  return {
    ...process.env,
    NO_COLOR: '1',
    DO_NOT_TRACK: '1',
    DENO_NO_UPDATE_CHECK: '1',
    DENO_NO_PROMPT: '1',
    DENO_DIR: join(tmp, 'deno-dir'),
  };
}

const SRC = (p) => join(ROOT, 'src', p);
const ALIAS = {
  vitest: join(ROOT, 'test/runtimes/vitest.ts'),
  otpkit: SRC('index.ts'),
  'otpkit/qr': SRC('qr.ts'),
  'otpkit/testing': SRC('testing.ts'),
};

/** Module specifiers that `vi.mock(...)` names in a source file. */
function mockedSpecifiers(file) {
  if (file === undefined) return [];
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/\bvi\.mock\(\s*(['"])([^'"]+)\1/g)].map((m) => m[2]);
}

/**
 * vitest's `vi.mock` at bundle time: every import that resolves to a mocked module gets a stand-in
 * whose exports are `let` bindings onto the real module, rebound to the factory's result by
 * vitest.ts before tests are collected. Only the test file's own `vi.mock` calls count, as in vitest.
 */
function mockPlugin(testFile) {
  const specs = mockedSpecifiers(testFile);
  return {
    name: 'vi-mock',
    setup(build) {
      if (specs.length === 0) return;
      /** @type {Promise<Map<string, string>> | undefined} resolved path → specifier */
      let targets;
      const resolveTargets = () =>
        (targets ??= Promise.all(
          specs.map(async (spec) => {
            const r = await build.resolve(spec, {
              kind: 'import-statement',
              resolveDir: dirname(testFile),
              pluginData: { real: true },
            });
            if (r.errors.length > 0)
              throw new Error(`vi.mock(${JSON.stringify(spec)}): ${r.errors[0].text}`);
            return [r.path, spec];
          }),
        ).then((pairs) => new Map(pairs)));
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (
          args.pluginData?.real ||
          args.namespace === 'vi-mock' ||
          args.path.startsWith('node:') ||
          args.path.startsWith('bun:')
        )
          return undefined;
        const r = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { real: true },
        });
        if (r.errors.length > 0) return { errors: r.errors };
        const spec = (await resolveTargets()).get(r.path);
        if (spec === undefined)
          return {
            path: r.path,
            namespace: r.namespace,
            external: r.external,
            sideEffects: r.sideEffects,
            suffix: r.suffix,
          };
        return { path: r.path, namespace: 'vi-mock', pluginData: { spec } };
      });
      build.onLoad({ filter: /.*/, namespace: 'vi-mock' }, async (args) => {
        const names = Object.keys(await import(pathToFileURL(args.path).href));
        const ids = names.filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
        const lines = [
          `import * as real from ${JSON.stringify(args.path)};`,
          `import { registerMockSlot } from ${JSON.stringify(ALIAS.vitest)};`,
          ...ids.map((n) => `export let ${n} = real.${n};`),
          ...(names.includes('default')
            ? ['let __default = real.default;', 'export { __default as default };']
            : []),
          `registerMockSlot(${JSON.stringify(args.pluginData.spec)}, real, (m) => {`,
          ...ids.map((n) => `  ${n} = m.${n};`),
          ...(names.includes('default') ? ['  __default = m.default;'] : []),
          '});',
        ];
        return { contents: lines.join('\n'), loader: 'js', resolveDir: ROOT };
      });
    },
  };
}

/**
 * Bundles `contents` (an entry module, resolved from the repository root) for `runtime` into
 * `outfile`. `testFile` (absolute) is the test file whose `vi.mock` calls to wire, if any;
 * `plugins` go first (to try a change of src/ in every runtime without touching the tree).
 */
export async function bundle(runtime, contents, outfile, testFile, plugins = []) {
  await mkdir(dirname(outfile), { recursive: true });
  await esbuild.build({
    stdin: { contents, resolveDir: ROOT, sourcefile: 'entry.mjs', loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: RUNTIMES[runtime].conditions,
    alias: ALIAS,
    // Built-in modules stay imports: node:* everywhere, bun:* in the Bun-only files.
    external: ['node:*', 'bun:*'],
    plugins: [...plugins, mockPlugin(testFile)],
    outfile,
    logLevel: 'silent',
    legalComments: 'none',
  });
}

/** Runs `argv`, collecting output; resolves with the exit code (or signal) and the time taken. */
export function run(argv, { cwd, env, timeoutMs }) {
  return new Promise((done) => {
    const started = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      done({
        code: null,
        signal: null,
        stdout,
        stderr: `${stderr}\n${error.message}`,
        timedOut,
        ms: performance.now() - started,
      });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr, timedOut, ms: performance.now() - started });
    });
  });
}

/** `package@version` of the npm package that brought a runtime's binary (Node: its own version). */
export function packageVersion(runtime) {
  const pkg = RUNTIMES[runtime].pkg;
  return pkg === undefined
    ? `node ${process.version}`
    : `${pkg}@${require(`${pkg}/package.json`).version}`;
}
