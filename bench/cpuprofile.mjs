#!/usr/bin/env node
/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by function and by where the
 * code comes from, so a benchmark's hot spots read in one screen. Not part of `npm test`.
 *
 *   node bench/signin.mjs --stores redis --rows 2f-known --inflight 32 --profile .tmp/prof
 *   node bench/cpuprofile.mjs .tmp/prof-redis.cpuprofile [--top 40] [--match otpkit.mjs]
 *
 * (or any profile from `node --cpu-prof`). Beside a profile from `signin.mjs --profile`, the
 * number of timed attempts turns each figure into microseconds per attempt.
 *
 * Self time is the time a function was on top of the stack; "total" adds what it called. With
 * `--match`, totals are shown for functions whose file matches (e.g. the otpkit bundle).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '40' }, match: { type: 'string' } },
});
const TOP = Number(values.top);

for (const file of positionals) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Sample counts → time: each sample lasts its timeDelta.
  const self = new Map();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const keyOf = (n) => {
    const cf = n.callFrame;
    const where = cf.url === '' ? '' : ` ${basename(cf.url)}:${cf.lineNumber + 1}`;
    return `${cf.functionName || '(anonymous)'}${where}`;
  };
  // bench/signin.mjs --profile writes the number of timed attempts and a copy of the bundle beside the profile.
  const side = file.replace(/\.cpuprofile$/, '.json');
  const meta = existsSync(side) ? JSON.parse(readFileSync(side, 'utf8')) : {};
  const per = meta.signins ?? null;
  // esbuild marks where each source file starts in the bundle with a `// src/…` (or
  // `// node_modules/…`) line.
  const starts = [];
  if (meta.bundle !== undefined && existsSync(meta.bundle))
    readFileSync(meta.bundle, 'utf8')
      .split('\n')
      .forEach((l, i) => {
        const m = /^\/\/ ((?:src|node_modules)\/\S+\.[cm]?[jt]s)$/.exec(l);
        if (m) starts.push([i, m[1].replace(/^node_modules\//, '')]);
      });
  const moduleAt = (line) => {
    let found = 'otpkit (bundle)';
    for (const [at, name] of starts) if (at <= line) found = `otpkit ${name}`;
    return found;
  };
  const category = (n) => {
    const u = n.callFrame.url;
    const f = n.callFrame.functionName;
    if (f === '(idle)' || f === '(program)' || f === '(garbage collector)') return f;
    if (u.includes('otpkit.mjs') || u.includes('.bundle.mjs'))
      return moduleAt(n.callFrame.lineNumber);
    if (u.includes('/@noble/')) return '@noble/hashes';
    if (u.includes('/ioredis/') || u.includes('/@ioredis/') || u.includes('redis-parser'))
      return 'ioredis';
    if (
      u.includes('/pg/') ||
      u.includes('/pg-protocol/') ||
      u.includes('/pg-pool/') ||
      u.includes('/pg-types/')
    )
      return 'pg';
    if (u.includes('/otpauth/')) return 'otpauth';
    if (u.includes('signin.mjs')) return 'bench script';
    if (u.startsWith('node:') || u === '') return 'node internals / native';
    return basename(u);
  };
  const selfBy = new Map();
  const cat = new Map();
  for (const [id, t] of self) {
    const n = byId.get(id);
    const k = keyOf(n);
    selfBy.set(k, (selfBy.get(k) ?? 0) + t);
    const c = category(n);
    cat.set(c, (cat.get(c) ?? 0) + t);
  }
  // Inclusive time per function key (counted once per sample even under recursion).
  const incl = new Map();
  prof.samples.forEach((id, i) => {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (values.match !== undefined && !n.callFrame.url.includes(values.match)) continue;
      const k = keyOf(n);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + (prof.timeDeltas[i] ?? 0));
    }
  });
  const pc = (t) =>
    `${((100 * t) / total).toFixed(1).padStart(5)}%` +
    (per === null ? '' : ` ${(t / per).toFixed(1).padStart(7)} µs/attempt`);
  const busy = total - (cat.get('(idle)') ?? 0);
  console.log(
    `\n# ${basename(file)}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy${per === null ? '' : `, ${per} attempts`}`,
  );
  console.log('\n## by origin (self time)');
  for (const [k, t] of [...cat].sort((a, b) => b[1] - a[1])) console.log(`${pc(t)}  ${k}`);
  console.log(`\n## top ${TOP} functions (self time)`);
  for (const [k, t] of [...selfBy].sort((a, b) => b[1] - a[1]).slice(0, TOP))
    console.log(`${pc(t)}  ${k}`);
  if (values.match !== undefined) {
    console.log(`\n## top ${TOP} functions in ${values.match} (total time)`);
    for (const [k, t] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, TOP))
      console.log(`${pc(t)}  ${k}`);
  }
}
