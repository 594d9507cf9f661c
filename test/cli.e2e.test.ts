/**
 * The `otpkit` CLI as a process: src/cli/bin.ts bundled with esbuild (no prior `npm run build`),
 * compared with Debian's `oathtool` on random cases, plus the demo, a uri → inspect pipe and exit codes.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'otpkit-e2e-'));
const bundle = join(dir, 'otpkit.mjs');

beforeAll(async () => {
  await build({
    entryPoints: [join(root, 'src/cli/bin.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function otpkit(args: readonly string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bundle, ...args], { input: input ?? '', encoding: 'utf8', timeout: 30_000 });
}

function oathtool(args: readonly string[], input: string): SpawnSyncReturns<string> {
  return spawnSync('oathtool', args, { input, encoding: 'utf8', timeout: 30_000 });
}

const hasOathtool = spawnSync('oathtool', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasOathtool)
  console.warn(
    `\n!!! oathtool is not installed: the oathtool comparison is ${process.env.CI ? 'FAILING (CI)' : 'SKIPPED'}. ` +
      'Install it with: apt-get install oathtool\n',
  );

/** A small seeded PRNG (mulberry32) so a failing case can be reproduced from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  name: string;
  /** oathtool arguments; the hex key comes on stdin as KEY '-'. */
  oath: string[];
  /** otpkit arguments; the hex key comes on stdin with --secret-stdin. */
  ours: string[];
  key: string;
}

const SEED = Number(process.env.OTPKIT_E2E_SEED ?? 20310601);

function makeCases(n: number): Case[] {
  const rnd = prng(SEED);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)] as T;
  const cases: Case[] = [];
  for (let i = 0; i < n; i++) {
    const key = Buffer.from(Array.from({ length: int(16, 64) }, () => int(0, 255))).toString('hex');
    const digits = String(int(6, 8));
    const w = pick(['0', '0', '1', '3']);
    if (i % 3 === 2) {
      // HOTP: small counters, counters past 2^32, and near 2^64.
      const counter = pick([
        BigInt(int(0, 1000)),
        2n ** 32n + BigInt(int(-3, 3)),
        BigInt(int(0, 2 ** 31 - 1)) * BigInt(int(0, 2 ** 31 - 1)) * 4n,
        2n ** 64n - 1n - BigInt(int(3, 100)),
      ]);
      const c = String(counter);
      cases.push({
        name: `hotp c=${c} d=${digits} w=${w}`,
        oath: ['-c', c, '-d', digits, '-w', w, '-'],
        ours: ['code', '--hotp', '--hex', '-c', c, '-d', digits, '-w', w, '--secret-stdin'],
        key,
      });
      continue;
    }
    const alg = pick(['SHA1', 'SHA256', 'SHA512']);
    const period = pick(['30', '30s', '60s', '15', '90s', '120s', '1s']);
    // Times up to 2^33 s: past 2038 and 2106.
    const now = int(0, 2 ** 33);
    const t0 = rnd() < 0.5 ? 0 : int(0, now);
    const oath = [`--totp=${alg}`, '-d', digits, '-s', period, '-N', `@${now}`, '-w', w];
    const ours = ['code', '--hex', `--totp=${alg}`, '-d', digits, '-s', period, '-N', `@${now}`, '-w', w, '--secret-stdin'];
    if (t0 !== 0) {
      oath.push('-S', `@${t0}`);
      ours.push('-S', `@${t0}`);
    }
    cases.push({ name: `totp ${alg} d=${digits} s=${period} t0=${t0} now=${now} w=${w}`, oath: [...oath, '-'], ours, key });
  }
  return cases;
}

describe.skipIf(!hasOathtool && !process.env.CI)('otpkit code vs oathtool', () => {
  it('oathtool is available', () => {
    expect(hasOathtool, 'oathtool is required in CI (apt-get install oathtool)').toBe(true);
  });

  const cases = makeCases(54);
  it.each(cases.map((c) => [c.name, c] as const))(`%s (seed ${SEED})`, (_name, c) => {
    const theirs = oathtool(c.oath, `${c.key}\n`);
    expect(theirs.status, theirs.stderr).toBe(0);
    const ours = otpkit(c.ours, `${c.key}\n`);
    expect(ours.stderr).toBe('');
    expect(ours.status).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
  });

  it('agrees on ISO 8601 times, 10-byte legacy keys and base32 keys', () => {
    const key = '3132333435363738393031323334353637383930';
    const iso = oathtool(['--totp', '-N', '2031-06-01 12:00:00 UTC', '-S', '2001-01-01 00:00:00 UTC', key], '');
    expect(otpkit(['code', '--hex', '-N', '2031-06-01T12:00:00Z', '-S', '2001-01-01T00:00:00Z', key]).stdout).toBe(iso.stdout);
    const short = '0123456789abcdef0123'; // 10 bytes
    const legacy = oathtool(['--totp', '-N', '@1700000000', short], '');
    expect(otpkit(['code', '--hex', '--allow-short-secret', '-N', '@1700000000', short]).stdout).toBe(legacy.stdout);
    expect(otpkit(['code', '--hex', '-N', '@1700000000', short]).status).toBe(1);
    const b32 = oathtool(['--totp', '-b', '-N', '@1700000000', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'], '');
    expect(otpkit(['code', '-b', '-N', '@1700000000', '--secret-stdin'], 'gezd gnbv gy3t qojq gezd gnbv gy3t qojq\n').stdout).toBe(b32.stdout);
  });
});

describe('otpkit as a process', () => {
  it('runs the demo: login ok, replay refused, throttled then locked, recovery once', () => {
    const started = Date.now();
    const r = otpkit(['demo', '--fast']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    const out = r.stdout;
    const order = [
      /== Step 1\. Enroll/,
      /otpauth:\/\/totp\/otpkit%20demo:alice%40example\.com\?/,
      /confirmTOTP: ok/,
      /verifyTOTP: ok \(delta 0/,
      /refused, replayed/,
      /guess 1: \d{6} -> invalid; failures counted: 2/,
      /throttled \(retry after 1000 ms\)/,
      /refused, locked/,
      /redeem \S+ -> ok, logged in \(9 codes left\)/,
      /redeem \S+ again -> refused, invalid/,
      /unlock\('alice'\); app shows \d{6} -> verifyTOTP: ok/,
    ];
    let at = 0;
    for (const re of order) {
      const m = re.exec(out.slice(at));
      expect(m, `missing after offset ${at}: ${re}`).not.toBeNull();
      at += (m?.index ?? 0) + (m?.[0].length ?? 0);
    }
    expect(out).toMatch(/[▀▄█]/); // the QR code
  });

  it('inspects a URI built by uri (through a pipe-like stdin)', () => {
    const built = otpkit(['uri', '--account', 'alice@example.com', '--issuer', 'ACME', '--generate']);
    expect(built.status).toBe(0);
    const uri = built.stdout.trim();
    const r = otpkit(['inspect', '-'], `${uri}\n`);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^issuer:\s+ACME$/m);
    expect(r.stdout).toMatch(/^account:\s+alice@example\.com$/m);
    expect(r.stdout).toMatch(/^secret:\s+160 bits/m);
    const secret = new URL(uri).searchParams.get('secret') ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(r.stdout).not.toContain(secret);
    expect(otpkit(['inspect', '--show-secret', '-'], uri).stdout).toContain(secret);
  });

  it('a generated secret round-trips through code and verify', () => {
    const secret = otpkit(['secret']).stdout.trim();
    const code = otpkit(['code', '-N', '@1800000000', '--secret-stdin'], `${secret}\n`).stdout.trim();
    const ok = otpkit(['verify', code, '-N', '@1800000030', '--secret-stdin'], secret);
    expect([ok.status, ok.stdout]).toEqual([0, 'ok delta=-1\n']);
  });

  it('exits with the documented codes, errors on one line without a stack', () => {
    const key = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    const cases: [string[], string, number][] = [
      [['--version'], '', 0],
      [['code', '--secret-stdin'], key, 0],
      [['verify', '000000', '-N', '@59', '--secret-stdin'], key, 1],
      [['code', '--secret-stdin'], 'not base32!', 1],
      [['inspect', '-'], 'otpauth://totp/x?secret=', 1],
      [['frobnicate'], '', 2],
      [['code', '--digits', '9', '--secret-stdin'], key, 2],
      [['code', '--now', 'tomorrow', '--secret-stdin'], key, 2],
    ];
    for (const [args, input, status] of cases) {
      const r = otpkit(args, input);
      expect(r.status, args.join(' ')).toBe(status);
      if (status === 1 && args[0] !== 'verify') {
        expect(r.stderr).toMatch(/^otpkit: [^\n]+ \(ERR_[A-Z0-9_]+\)\n$/);
        expect(r.stderr).not.toContain(key);
      }
      if (status === 2) expect(r.stderr).toMatch(/^otpkit: [^\n]+ \(ERR_USAGE\)\n$/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('prints --help for every command', () => {
    for (const c of ['secret', 'code', 'verify', 'uri', 'inspect', 'recovery', 'demo']) {
      const r = otpkit([c, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: otpkit ${c}`));
    }
  });
});
