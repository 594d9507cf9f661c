/**
 * Every ```ts and ```js example in README.md runs, and every `console.log(…); // comment` prints
 * what its comment claims. Each block is written to a module under test/.readme/ (so `otpkit`
 * resolves to src/ through the vitest alias; `.js` blocks run as `.mjs`, so they must be valid
 * JavaScript) and imported. The comment after a `console.log` is the output (formatted as Node
 * prints it, on one line), where `…` stands for anything and ` — ` starts an explanation that is
 * not output. A log line that runs several times (in a loop) prints each output, ` / ` between.
 * Blocks that register tests themselves (the adapter contract example) are imported at collection
 * time.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatWithOptions } from 'node:util';
import { describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const blocks = [...readme.matchAll(/```(ts|js)\n([\s\S]*?)```/g)].map((m) => ({
  ext: m[1] === 'js' ? 'mjs' : 'ts',
  code: m[2] as string,
}));
const dir = `${root}test/.readme/`;
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

/** The claim of each `console.log(…); // claim` line of a block, by 1-based line number. */
function claims(code: string): Map<number, string> {
  const out = new Map<number, string>();
  code.split('\n').forEach((line, i) => {
    const m = /console\.log\(.*\);?\s*\/\/ (.*)$/.exec(line);
    if (m !== null) out.set(i + 1, (m[1] as string).split(' — ')[0]?.trim() as string);
  });
  return out;
}

/** A claim as a pattern: literal text, `…` matching anything. */
function pattern(claim: string): RegExp {
  const parts = claim.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*?')}$`, 's');
}

describe('README.md examples', () => {
  it('has examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it('every Redis client it makes has an error listener (an unhandled error event ends the process)', () => {
    // Code blocks and inline code alike: each `new Redis(` or `createClient(` is followed, within
    // its statement or the next few lines, by `.on('error'`.
    const made = [...readme.matchAll(/new Redis\(|createClient\(/g)];
    expect(made.length).toBeGreaterThanOrEqual(2);
    for (const m of made) {
      const after = readme.slice(m.index, m.index + 400);
      expect(after, `README at ${readme.slice(0, m.index).split('\n').length}`).toMatch(
        /\.on\('error'/,
      );
    }
  });

  for (const [i, { ext, code }] of blocks.entries()) {
    const file = `${dir}block-${i}.${ext}`;
    writeFileSync(file, code);
    const needsRedis = code.includes('otpkit/redis');
    const needsPg = code.includes('otpkit/postgres');
    const missing =
      (needsRedis && !process.env.OTPKIT_REDIS_URL) || (needsPg && !process.env.OTPKIT_PG_URL);
    if (code.includes('it(c.name')) {
      describe(`block ${i} (registers tests)`, async () => {
        await import(/* @vite-ignore */ file);
      });
      continue;
    }
    if (missing && !process.env.CI) {
      console.warn(
        `!!! README block ${i} needs ${needsRedis ? 'OTPKIT_REDIS_URL' : 'OTPKIT_PG_URL'}: skipped outside CI`,
      );
      it.skip(`block ${i} runs`, () => {});
      continue;
    }
    it(`block ${i} runs and prints what its comments claim`, async () => {
      const printed = new Map<number, string[]>();
      const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        // The caller's line in the block file, from the stack.
        const at = new Error().stack?.split('\n').find((l) => l.includes(`block-${i}.${ext}`));
        const line = Number(/:(\d+):\d+\)?$/.exec(at ?? '')?.[1] ?? 0);
        const list = printed.get(line) ?? [];
        list.push(formatWithOptions({ breakLength: Number.POSITIVE_INFINITY, depth: 6 }, ...args));
        printed.set(line, list);
      });
      try {
        await import(/* @vite-ignore */ file);
      } finally {
        log.mockRestore();
      }
      for (const [line, claim] of claims(code)) {
        const got = (printed.get(line) ?? []).join(' / ');
        expect(got, `README block ${i}, line ${line}: "${claim}"`).toMatch(pattern(claim));
      }
    });
  }
});
