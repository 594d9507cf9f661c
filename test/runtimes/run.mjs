#!/usr/bin/env node
/**
 * Runs the runtime-independent test files (test/runtimes/manifest.mjs) in Bun, Deno and workerd:
 * one esbuild bundle per file and runtime, each started in a fresh process of that runtime, with
 * vitest's runner and matchers inside (test/runtimes/vitest.ts). Prints per-file counts, every
 * failure, every skip with its reason, and exits non-zero if a test failed, a file reported an
 * error, a runtime did not start or did not report, or the runtimes collected different tests.
 *
 *   node test/runtimes/run.mjs [--runtime bun,deno,workerd,workerd-web] [--file <substring>] [--jobs <n>] [--verbose]
 *
 * `workerd` runs with Node.js compatibility (implied by its compatibility date), as the test
 * oracles need node:crypto; `workerd-web` is the same workerd with it turned off, to run the files
 * that need nothing from Node in a Worker that has nothing of it (no process, Buffer or node:*).
 * `--runtime node` runs the same bundles in Node, to check the shim against vitest's own counts.
 * Files that the manifest marks WAITING (store timeouts) run in a lane of their own beside the
 * `--jobs` lanes; ONLY files run in the runtimes named there (bun:sqlite in Bun); a test skipped
 * without a reason in the manifest fails the run.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFECTS, FILES, FILE_SKIPS, ONLY, SKIPS, WAITING, exceptionsFor } from './manifest.mjs';
import { ROOT, RUNTIMES, bundle, packageVersion, run, runtimeEnv } from './runtimes.mjs';

const MARKER = '@@otpkit-runtime-report@@';
const { values: args } = parseArgs({
  options: {
    runtime: { type: 'string', default: 'bun,deno,workerd,workerd-web' },
    file: { type: 'string', multiple: true },
    jobs: { type: 'string', default: '1' },
    verbose: { type: 'boolean', default: false },
  },
});
const runtimes = args.runtime
  .split(',')
  .map((r) => r.trim())
  .filter(Boolean);
for (const r of runtimes)
  if (!(r in RUNTIMES))
    throw new Error(`unknown runtime ${r}: one of ${Object.keys(RUNTIMES).join(', ')}`);
const files =
  args.file === undefined ? FILES : FILES.filter((f) => args.file.some((s) => f.includes(s)));
if (files.length === 0)
  throw new Error(`no file of test/runtimes/manifest.mjs matches ${args.file}`);
for (const [r, byFile] of [...Object.entries(SKIPS), ...Object.entries(FILE_SKIPS)])
  for (const f of Object.keys(byFile))
    if (!FILES.includes(f))
      throw new Error(`manifest: SKIPS.${r} names ${f}, which is not in FILES`);
for (const d of DEFECTS)
  for (const f of Object.keys(d.tests ?? {}))
    if (!FILES.includes(f))
      throw new Error(`manifest: defect ${d.id} names ${f}, which is not in FILES`);
const jobs = Math.max(1, Number(args.jobs) || 1);

const TMP = join(ROOT, '.tmp', 'runtimes');
const abs = (p) => JSON.stringify(join(ROOT, p));
const slug = (file) =>
  file
    .replace(/^test\//, '')
    .replace(/(\.test)?\.ts$/, '')
    .replace(/[^\w.-]+/g, '_');
const env = runtimeEnv(TMP);
const problems = [];
const log = (s = '') => process.stdout.write(`${s}\n`);

function entry(runtime, file) {
  const spec = `{ runtime: ${JSON.stringify(runtime)}, file: ${JSON.stringify(file)}, ...${JSON.stringify(exceptionsFor(runtime, file))},
  setup: () => import(${abs('test/_setup.ts')}), load: () => import(${abs(file)}) }`;
  const report = `console.log(${JSON.stringify(MARKER)} + JSON.stringify(report));`;
  const head = `import { runFile } from ${abs('test/runtimes/harness.ts')};\nconst spec = ${spec};\n`;
  return RUNTIMES[runtime].exportsTest
    ? `${head}export default { async test() { const report = await runFile(spec); ${report} } };\n`
    : `${head}const report = await runFile(spec);\n${report}\n(globalThis.Deno?.exit ?? globalThis.process.exit)(0);\n`;
}

const tail = (s, n = 40) => s.trimEnd().split('\n').slice(-n).join('\n');
const indent = (s, pad = '      ') =>
  s
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

await rm(TMP, { recursive: true, force: true });
await mkdir(TMP, { recursive: true });

// 1. Each runtime starts and says its version, or the run fails.
const started = [];
for (const r of runtimes) {
  const v = await run(RUNTIMES[r].version(), { cwd: TMP, env, timeoutMs: 60_000 });
  const version = v.stdout.trim().split('\n')[0];
  if (v.code !== 0 || !version) {
    problems.push(`${r}: did not start (${v.code ?? v.signal}): ${tail(v.stderr, 5)}`);
    log(`✗ ${r}: did not start\n${indent(tail(`${v.stdout}\n${v.stderr}`, 10))}`);
    continue;
  }
  log(`${r}: ${version} (${packageVersion(r)})`);
  started.push(r);
}

// 2. One bundle per runtime and file.
const notRun = (r, f) =>
  FILE_SKIPS[r]?.[f] ??
  (ONLY[f] !== undefined && !ONLY[f].runtimes.includes(r)
    ? `${f} runs in ${ONLY[f].runtimes.join(', ')} only: ${ONLY[f].reason}`
    : undefined);
const pairs = started.flatMap((r) =>
  files
    .filter((f) => notRun(r, f) === undefined)
    .map((f) => ({
      runtime: r,
      file: f,
      dir: join(TMP, r),
      bundle: join(TMP, r, `${slug(f)}.mjs`),
    })),
);
for (const r of started)
  for (const f of files)
    if (FILE_SKIPS[r]?.[f] !== undefined)
      log(`↓ ${r.padEnd(8)} ${f.padEnd(30)} not run: ${FILE_SKIPS[r][f]}`);
for (const [f, o] of Object.entries(ONLY))
  if (files.includes(f)) log(`↓ ${f} runs in ${o.runtimes.join(', ')} only: ${o.reason}`);
await Promise.all(
  pairs.map(async (p) => {
    try {
      await bundle(p.runtime, entry(p.runtime, p.file), p.bundle, join(ROOT, p.file));
    } catch (e) {
      p.buildError = e.message;
    }
  }),
);

// 3. Run them: the files that wait much of the time (manifest WAITING) one after the other in a
// lane of their own, from the start; the others `jobs` at a time (1 by default: some tests time
// themselves).
async function runPair(p) {
  if (p.buildError !== undefined) return { ...p, error: `bundle failed: ${p.buildError}` };
  const argv = await RUNTIMES[p.runtime].command(p.dir, p.bundle);
  const out = await run(argv, { cwd: p.dir, env, timeoutMs: 20 * 60_000 });
  const line = out.stdout.split('\n').find((l) => l.startsWith(MARKER));
  const output = `${out.stdout
    .split('\n')
    .filter((l) => !l.startsWith(MARKER))
    .join('\n')}\n${out.stderr}`.trim();
  if (line === undefined)
    return {
      ...p,
      output,
      error: `${p.runtime} gave no report (${out.timedOut ? 'timed out' : `exit ${out.code ?? out.signal}`})`,
    };
  const report = JSON.parse(line.slice(MARKER.length));
  await writeFile(
    p.bundle.replace(/\.mjs$/, '.report.json'),
    `${JSON.stringify(report, null, 2)}\n`,
  );
  if (
    out.code !== 0 &&
    report.errors.length === 0 &&
    !report.tests.some((t) => t.state === 'fail' || t.state === 'xpass')
  )
    report.errors.push(`${p.runtime} exited ${out.code ?? out.signal} after reporting`);
  return { ...p, output, report };
}
const results = [];
const finish = (r) => {
  results.push(r);
  printResult(r);
};
const waiting = pairs.filter((p) => WAITING[p.file] !== undefined);
const computing = pairs.filter((p) => WAITING[p.file] === undefined);
// A lane that runs out of its own kind of file takes the other kind.
const lane = async (first, then) => {
  for (let p = first.shift() ?? then.shift(); p !== undefined; p = first.shift() ?? then.shift())
    finish(await runPair(p));
};
await Promise.all([
  lane(waiting, computing),
  ...Array.from({ length: jobs }, () => lane(computing, waiting)),
]);

function count(report) {
  const c = { pass: 0, fail: 0, skip: 0, todo: 0, xfail: 0, xpass: 0 };
  for (const t of report.tests) c[t.state]++;
  return c;
}

function printResult(r) {
  const head = `${r.runtime.padEnd(8)} ${r.file.padEnd(30)}`;
  if (r.report === undefined) {
    problems.push(`${r.runtime} ${r.file}: ${r.error}`);
    log(`✗ ${head} ${r.error}`);
    if (r.output) log(indent(tail(r.output)));
    return;
  }
  const c = count(r.report);
  const bad = c.fail + c.xpass + r.report.errors.length;
  const extra = [
    c.skip && `${c.skip} skipped`,
    c.todo && `${c.todo} todo`,
    c.xfail && `${c.xfail} from known defects`,
    r.report.errors.length && `${r.report.errors.length} errors`,
  ]
    .filter(Boolean)
    .join(', ');
  log(
    `${bad ? '✗' : '✓'} ${head} ${c.pass} passed, ${c.fail + c.xpass} failed${extra ? `, ${extra}` : ''} (${secs(r.report.ms)})`,
  );
  for (const t of r.report.tests) {
    if (t.state === 'fail' || t.state === 'xpass') {
      problems.push(`${r.runtime} ${r.file} > ${t.name}`);
      log(`    ✗ ${t.name}${t.note ? ` [${t.note}]` : ''}`);
      if (t.error) log(indent(t.error));
    } else if (t.state === 'skip' && t.note) log(`    ↓ skipped: ${t.name}\n        (${t.note})`);
    else if (t.state === 'skip' || t.state === 'todo') {
      // No silent skips: a test the file itself skips (it.skip, skipIf, todo) needs a reason in SKIPS.
      problems.push(
        `${r.runtime} ${r.file} > ${t.name}: ${t.state} without a reason in test/runtimes/manifest.mjs SKIPS`,
      );
      log(
        `    ✗ ${t.state} without a reason (add it to SKIPS in test/runtimes/manifest.mjs): ${t.name}`,
      );
    } else if (t.state === 'xfail' && args.verbose)
      log(
        `    ⚠ known defect ${t.defect}: ${t.name}\n${indent((t.error ?? '').split('\n')[0], '        ')}`,
      );
  }
  for (const e of r.report.errors) {
    problems.push(`${r.runtime} ${r.file}: ${e.split('\n')[0]}`);
    log(`    ✗ ${e.split('\n')[0]}`);
    log(indent(e.split('\n').slice(1).join('\n')));
  }
  if ((bad || args.verbose) && r.output) log(`    output:\n${indent(tail(r.output))}`);
}

// 4. Every runtime must have collected the same tests for a file (skips count as collected).
for (const f of files) {
  const sets = results
    .filter((r) => r.file === f && r.report)
    .map((r) => ({ runtime: r.runtime, names: r.report.tests.map((t) => t.name) }));
  for (const s of sets.slice(1)) {
    const a = new Set(sets[0].names);
    const b = new Set(s.names);
    const onlyA = [...a].filter((n) => !b.has(n));
    const onlyB = [...b].filter((n) => !a.has(n));
    if (onlyA.length || onlyB.length || sets[0].names.length !== s.names.length) {
      problems.push(`${f}: ${sets[0].runtime} and ${s.runtime} collected different tests`);
      log(
        `✗ ${f}: ${sets[0].runtime} collected ${sets[0].names.length} tests, ${s.runtime} ${s.names.length}`,
      );
      for (const n of onlyA.slice(0, 5)) log(`    only in ${sets[0].runtime}: ${n}`);
      for (const n of onlyB.slice(0, 5)) log(`    only in ${s.runtime}: ${n}`);
    }
  }
}

// 5. A known defect that no longer shows is fixed: its entry must go (checked on full runs only).
if (args.file === undefined)
  for (const d of DEFECTS.filter((x) => started.includes(x.runtime))) {
    const seen = results.some(
      (r) =>
        r.runtime === d.runtime &&
        r.report?.tests.some((t) => t.state === 'xfail' && t.defect === d.id),
    );
    if (!seen) {
      problems.push(
        `${d.runtime}: defect ${d.id} no longer shows: remove it from test/runtimes/manifest.mjs`,
      );
      log(
        `✗ ${d.runtime}: defect ${d.id} no longer shows: remove it from test/runtimes/manifest.mjs`,
      );
    }
  }
for (const d of DEFECTS.filter((x) => started.includes(x.runtime))) {
  const n = results
    .filter((r) => r.runtime === d.runtime)
    .reduce(
      (a, r) =>
        a + (r.report?.tests.filter((t) => t.defect === d.id && t.state === 'xfail').length ?? 0),
      0,
    );
  if (n > 0) log(`⚠ ${d.runtime}: known defect ${d.id} made ${n} test(s) fail: ${d.reason}`);
}

// 6. Summary: files × runtimes, and a machine-readable copy for the README's table.
log(
  `\npassed/collected per file (⚠ n: failed from a known defect, ✗: failed, -: not run)\n${'file'.padEnd(32)}${started.map((r) => r.padStart(16)).join('')}`,
);
const totals = { pass: 0, fail: 0, skip: 0, xfail: 0 };
for (const f of files) {
  const cells = started.map((rt) => {
    const r = results.find((x) => x.runtime === rt && x.file === f);
    if (notRun(rt, f) !== undefined) return '-'.padStart(16);
    if (r?.report === undefined) return 'ERROR'.padStart(16);
    const c = count(r.report);
    totals.pass += c.pass;
    totals.fail += c.fail + c.xpass + r.report.errors.length;
    totals.skip += c.skip + c.todo;
    totals.xfail += c.xfail;
    const cell = `${c.pass}/${r.report.tests.length}${c.xfail ? ` ⚠${c.xfail}` : ''}${c.fail + c.xpass + r.report.errors.length ? ' ✗' : ''}`;
    return cell.padStart(16);
  });
  log(f.padEnd(32) + cells.join(''));
}
await writeFile(
  join(TMP, 'summary.json'),
  `${JSON.stringify(
    results.map((r) => ({
      runtime: r.runtime,
      file: r.file,
      counts: r.report && count(r.report),
      ms: r.report?.ms,
      errors: r.report?.errors ?? [r.error],
    })),
    null,
    2,
  )}\n`,
);
const failedCount =
  totals.fail + runtimes.length - started.length + results.filter((r) => !r.report).length;
log(
  `\nruntimes: ${totals.pass} passed, ${failedCount} failed, ${totals.skip} skipped${totals.xfail ? ` (and ${totals.xfail} failed from known defects)` : ''}`,
);
if (problems.length > 0) {
  log(`\n${problems.length} problem(s):`);
  for (const p of problems) log(`  - ${p}`);
  process.exitCode = 1;
}
