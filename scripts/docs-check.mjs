#!/usr/bin/env node
// Checks that the committed API reference (docs/api) is what TypeDoc writes from the sources
// today: runs TypeDoc (typedoc.json, with its validation) into a temporary folder and compares
// every file both ways. Run `npm run docs` to regenerate after changing a doc comment.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const committed = new URL('../docs/api', import.meta.url).pathname;
const fresh = mkdtempSync(join(tmpdir(), 'otpkit-docs-'));
const files = (dir) =>
  readdirSync(dir).flatMap((n) =>
    statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)],
  );
try {
  execFileSync(process.execPath, ['node_modules/typedoc/bin/typedoc', '--out', fresh], {
    stdio: 'inherit',
  });
  const a = new Set(files(committed).map((f) => relative(committed, f)));
  const b = new Set(files(fresh).map((f) => relative(fresh, f)));
  const problems = [];
  for (const f of a)
    if (!b.has(f)) problems.push(`docs/api/${f} is committed but TypeDoc no longer writes it`);
  for (const f of b) {
    if (!a.has(f)) problems.push(`docs/api/${f} is missing (TypeDoc writes it)`);
    else if (readFileSync(join(committed, f), 'utf8') !== readFileSync(join(fresh, f), 'utf8'))
      problems.push(`docs/api/${f} differs from a fresh TypeDoc run`);
  }
  if (problems.length) {
    console.error(`${problems.join('\n')}\nRun \`npm run docs\` and commit docs/api.`);
    process.exitCode = 1;
  } else console.log(`docs/api matches a fresh TypeDoc run (${b.size} files)`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
