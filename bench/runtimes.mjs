#!/usr/bin/env node
/**
 * The same benchmark (bench/runtimes.core.mjs) in Node, Bun, Deno and workerd, for the README's
 * table: generateTOTP and wrong-token verifyTOTP operations per second, and the time of one
 * recovery-code redemption in each profile (scrypt at the default cost; HMAC with a pepper).
 * Bundled and started exactly as the tests are (test/runtimes/runtimes.mjs). Each runtime runs
 * `--runs` times (fresh processes, the runtimes taking turns) and each figure is the median of
 * its runs: one process alone varies by tens of percent on a shared machine. Not part of CI.
 *
 *   node bench/runtimes.mjs [--runtime node,bun,deno,workerd,workerd-web] [--runs 3] [--json]
 *
 * workerd-web (no Node.js compatibility) shows the pure-JS scrypt that browsers and such Workers get.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ROOT,
  RUNTIMES,
  bundle,
  packageVersion,
  run,
  runtimeEnv,
} from '../test/runtimes/runtimes.mjs';

const MARKER = '@@otpkit-bench@@';
const { values: args } = parseArgs({
  options: {
    runtime: { type: 'string', default: 'node,bun,deno,workerd,workerd-web' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Math.max(1, Number(args.runs) || 1);
const TMP = join(ROOT, '.tmp', 'bench-runtimes');
const core = JSON.stringify(join(ROOT, 'bench/runtimes.core.mjs'));
const names = args.runtime.split(',');

const bundles = {};
for (const name of names) {
  const rt = RUNTIMES[name];
  if (rt === undefined) throw new Error(`unknown runtime ${name}`);
  const print = `console.log(${JSON.stringify(MARKER)} + JSON.stringify(await runBench()));`;
  const entry = rt.exportsTest
    ? `import { runBench } from ${core};\nexport default { async test() { ${print} } };\n`
    : `import { runBench } from ${core};\n${print}\n`;
  const dir = join(TMP, name);
  const file = join(dir, 'bench.mjs');
  await bundle(name, entry, file);
  bundles[name] = { dir, file };
}

/** @type {Record<string, object[]>} runtime → the result of each run */
const results = Object.fromEntries(names.map((n) => [n, []]));
for (let i = 0; i < runs; i++)
  for (const name of names) {
    const { dir, file } = bundles[name];
    const out = await run(await RUNTIMES[name].command(dir, file), {
      cwd: dir,
      env: runtimeEnv(TMP),
      timeoutMs: 10 * 60_000,
    });
    const line = out.stdout.split('\n').find((l) => l.startsWith(MARKER));
    if (line === undefined) {
      console.error(
        `${name}: no result (exit ${out.code ?? out.signal})\n${out.stdout}\n${out.stderr}`,
      );
      process.exitCode = 1;
      continue;
    }
    results[name].push(JSON.parse(line.slice(MARKER.length)));
  }

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** A redemption figure over the runs: the median time, or the first failure. */
const redemption = (rs) =>
  rs.find((r) => r.error !== undefined) ?? { ms: median(rs.map((r) => r.ms)) };
const rows = names
  .filter((name) => results[name].length > 0)
  .map((name) => {
    const rs = results[name];
    const rt = RUNTIMES[name];
    const pv = packageVersion(name);
    return {
      runtime: name,
      version: rt.pkg === undefined || rt.pkg === name ? pv : `${name} (${pv})`,
      runs: rs.length,
      generateTOTP: Math.round(median(rs.map((r) => r.generateTOTP))),
      verifyTOTPWrong: Math.round(median(rs.map((r) => r.verifyTOTPWrong))),
      scrypt: redemption(rs.map((r) => r.scrypt)),
      pepper: redemption(rs.map((r) => r.pepper)),
      all: rs,
    };
  });
if (args.json) console.log(JSON.stringify(rows, null, 2));
else {
  const ms = (x) =>
    x.error !== undefined ? `fails: ${x.error}` : x.ms >= 1 ? x.ms.toFixed(1) : x.ms.toFixed(3);
  console.log(
    '| runtime | generateTOTP (ops/s) | verifyTOTP, wrong token (ops/s) | recovery redemption, scrypt N=2^13 (ms) | recovery redemption, HMAC pepper (ms) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows)
    console.log(
      `| ${r.version} | ${r.generateTOTP.toLocaleString('en-US')} | ${r.verifyTOTPWrong.toLocaleString('en-US')} | ${ms(r.scrypt)} | ${ms(r.pepper)} |`,
    );
}
