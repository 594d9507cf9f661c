/**
 * The `otpkit` CLI as a process: src/cli/bin.ts bundled with esbuild (no prior `npm run build`),
 * compared with Debian's `oathtool` on random cases, plus the demo, a uri → inspect pipe and exit codes.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBase32, generateTOTP } from '../src/index.js';
import { prng } from './_helpers.js';

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

function otpkit(
  args: readonly string[],
  input?: string,
  env: Record<string, string> = {},
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bundle, ...args], {
    input: input ?? '',
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
}

function oathtool(
  args: readonly string[],
  input: string,
  env: Record<string, string> = {},
): SpawnSyncReturns<string> {
  return spawnSync('oathtool', args, {
    input,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
}

const hasOathtool = spawnSync('oathtool', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasOathtool)
  console.warn(
    `\n!!! oathtool is not installed: the oathtool comparison is ${process.env.CI ? 'FAILING (CI)' : 'SKIPPED'}. ` +
      'Install it with: apt-get install oathtool\n',
  );

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
    const ours = [
      'code',
      '--hex',
      `--totp=${alg}`,
      '-d',
      digits,
      '-s',
      period,
      '-N',
      `@${now}`,
      '-w',
      w,
      '--secret-stdin',
    ];
    if (t0 !== 0) {
      oath.push('-S', `@${t0}`);
      ours.push('-S', `@${t0}`);
    }
    cases.push({
      name: `totp ${alg} d=${digits} s=${period} t0=${t0} now=${now} w=${w}`,
      oath: [...oath, '-'],
      ours,
      key,
    });
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
    const iso = oathtool(
      ['--totp', '-N', '2031-06-01 12:00:00 UTC', '-S', '2001-01-01 00:00:00 UTC', key],
      '',
    );
    expect(
      otpkit(['code', '--hex', '-N', '2031-06-01T12:00:00Z', '-S', '2001-01-01T00:00:00Z', key])
        .stdout,
    ).toBe(iso.stdout);
    const short = '0123456789abcdef0123'; // 10 bytes
    const legacy = oathtool(['--totp', '-N', '@1700000000', short], '');
    expect(
      otpkit(['code', '--hex', '--allow-short-secret', '-N', '@1700000000', short]).stdout,
    ).toBe(legacy.stdout);
    expect(otpkit(['code', '--hex', '-N', '@1700000000', short]).status).toBe(1);
    const b32 = oathtool(
      ['--totp', '-b', '-N', '@1700000000', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'],
      '',
    );
    expect(
      otpkit(
        ['code', '-b', '-N', '@1700000000', '--secret-stdin'],
        'gezd gnbv gy3t qojq gezd gnbv gy3t qojq\n',
      ).stdout,
    ).toBe(b32.stdout);
  });
});

/** Builds a time string in one of the forms otpkit accepts, from fields and a zone. */
interface TimeCase {
  tz: string;
  text: string;
}

function makeTimeCases(n: number): TimeCase[] {
  const rnd = prng(SEED + 1);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)] as T;
  const two = (v: number): string => String(v).padStart(2, '0');
  const cases: TimeCase[] = [];
  for (let i = 0; i < n; i++) {
    const zone = pick(['local', 'local', 'Z', 'z', 'UTC', '+hh', '+hhmm', '+hh:mm']);
    const local = zone === 'local';
    // Local times stay in 1971..2037, clear of the night hours when daylight-saving changes happen.
    const y = local ? int(1971, 2037) : int(1970, 9999);
    const mo = int(1, 12);
    const d = int(1, new Date(Date.UTC(y, mo, 0)).getUTCDate());
    const h = local ? int(4, 22) : int(0, 23);
    const date = `${y}-${two(mo)}-${two(d)}`;
    let text: string;
    if (rnd() < 0.15) text = local ? date : `${date}${pick(['Z', 'z', ' UTC', 'UTC', ' Z'])}`;
    else {
      let time = `${two(h)}:${two(int(0, 59))}`;
      if (rnd() < 0.7) time += `:${two(int(0, 59))}`;
      if (time.length === 8 && rnd() < 0.3)
        time += `${pick(['.', ','])}${String(int(0, 999_999_999)).slice(0, int(1, 9))}`;
      const sign = pick(['+', '-']);
      const offset = [two(int(0, 14)), two(pick([0, 0, 30, 45, int(0, 59)]))] as const;
      const z =
        zone === 'local'
          ? ''
          : zone === '+hh'
            ? `${sign}${offset[0]}`
            : zone === '+hhmm'
              ? `${sign}${offset[0]}${offset[1]}`
              : zone === '+hh:mm'
                ? `${sign}${offset[0]}:${offset[1]}`
                : zone;
      text = `${date}${pick(['T', 't', ' '])}${time}${z === '' ? '' : pick(['', ' '])}${z}`;
    }
    // y = 1970 with a positive offset could fall before the epoch, which otpkit refuses.
    if (y === 1970 && mo === 1 && d === 1) text = text.replace(/^1970/, '1971');
    cases.push({
      tz: pick(['UTC', 'America/New_York', 'Asia/Kolkata', 'Europe/Berlin', 'Australia/Lord_Howe']),
      text,
    });
  }
  return cases;
}

const KEY20 = '3132333435363738393031323334353637383930';

describe.skipIf(!hasOathtool && !process.env.CI)(
  'otpkit vs oathtool: time forms, refusals and verification',
  () => {
    /** 1-second steps, 8 digits, 3 codes: equal output means the same second. */
    const tick = ['-s', '1s', '-d', '8', '-w', '2'];
    const cases = makeTimeCases(40);

    it.each(cases.map((c) => [`${c.text} (TZ=${c.tz})`, c] as const))(
      `-N and -S %s read as oathtool reads them (seed ${SEED})`,
      (_name, c) => {
        const env = { TZ: c.tz };
        for (const [oath, ours] of [
          [
            ['--totp', ...tick, '-N', c.text, KEY20],
            ['code', '--hex', ...tick, '-N', c.text, KEY20],
          ],
          [
            ['--totp', ...tick, '-S', c.text, '-N', '@253402300799', KEY20],
            ['code', '--hex', ...tick, '-S', c.text, '-N', '@253402300799', KEY20],
          ],
        ] as const) {
          const theirs = oathtool(oath, '', env);
          expect(theirs.status, theirs.stderr).toBe(0);
          const r = otpkit(ours, '', env);
          expect(r.stderr).toBe('');
          expect(r.stdout).toBe(theirs.stdout);
        }
      },
    );

    it('refuses (exit 2, saying what to write) what oathtool reads differently', () => {
      const refused = (
        args: readonly string[],
        hint: string | RegExp,
        env: Record<string, string> = {},
      ): void => {
        const r = otpkit(['code', '--hex', ...args, KEY20], '', env);
        expect([r.status, r.stdout], args.join(' ')).toEqual([2, '']);
        expect(r.stderr).toMatch(/^otpkit: [^\n]+ \(ERR_USAGE\)\n$/);
        if (typeof hint === 'string') expect(r.stderr).toContain(hint);
        else expect(r.stderr).toMatch(hint);
        expect(r.stderr).not.toContain(KEY20);
      };
      const oath = (
        args: readonly string[],
        env: Record<string, string> = {},
      ): SpawnSyncReturns<string> => oathtool(['--totp', ...args, KEY20], '', env);

      // -N 1700000000: oathtool cannot parse it; -N @1700000000 is unix seconds.
      expect(oath(['-N', '1700000000']).status).not.toBe(0);
      refused(['-N', '1700000000'], '@<unix seconds>');
      expect(otpkit(['code', '--hex', '-N', '@1700000000', KEY20]).stdout).toBe(
        oath(['-N', '@1700000000']).stdout,
      );
      // -S 1000: to oathtool, 10:00 today (not unix time 1000).
      const now = ['-N', '@253402300799', ...tick];
      expect(oath(['-S', '1000', ...now]).stdout).toBe(oath(['-S', '10:00', ...now]).stdout);
      expect(oath(['-S', '1000', ...now]).stdout).not.toBe(oath(['-S', '@1000', ...now]).stdout);
      refused(['-S', '1000', ...now], '@<unix seconds>');
      expect(otpkit(['code', '--hex', '-S', '@1000', ...now, KEY20]).stdout).toBe(
        oath(['-S', '@1000', ...now]).stdout,
      );
      // -N 20310601: to oathtool, 2031-06-01 local time.
      expect(oath(['-N', '20310601', ...tick], { TZ: 'Asia/Kolkata' }).stdout).toBe(
        oath(['-N', '2031-06-01', ...tick], { TZ: 'Asia/Kolkata' }).stdout,
      );
      refused(['-N', '20310601'], 'bare number');
      // Year 80 is year 80 to oathtool, not 1980 (which Date.UTC makes of it).
      expect(oath(['-N', '0080-01-01T00:00:00Z', ...tick]).stdout).not.toBe(
        oath(['-N', '1980-01-01T00:00:00Z', ...tick]).stdout,
      );
      refused(['-N', '0080-01-01T00:00:00Z'], '1970');
      // An offset after a bare date: oathtool refuses.
      expect(oath(['-N', '2031-06-01+02:00']).status).not.toBe(0);
      refused(['-N', '2031-06-01+02:00'], 'only after a time');
      // Local times a daylight-saving change skips (oathtool refuses) or repeats (the C library picks one).
      const ny = { TZ: 'America/New_York' };
      expect(oath(['-N', '2031-03-09 02:30:00'], ny).status).not.toBe(0);
      refused(['-N', '2031-03-09 02:30:00'], 'skips', ny);
      expect(oath(['-N', '2031-11-02 01:30:00'], ny).status).toBe(0);
      refused(['-N', '2031-11-02 01:30:00'], 'repeats', ny);
      // Leading zeros: octal to oathtool.
      expect(oath(['-N', '@1700000000', '-d', '010']).stdout).toBe(
        oath(['-N', '@1700000000', '-d', '8']).stdout,
      );
      refused(['-N', '@1700000000', '-d', '010'], 'octal');
      expect(oath(['-N', '@1700000000', '-d', '08']).status).not.toBe(0);
      refused(['-N', '@1700000000', '-d', '08'], 'octal');
      expect(oathtool(['-c', '010', KEY20], '').stdout).toBe(
        oathtool(['-c', '8', KEY20], '').stdout,
      );
      refused(['--hotp', '-c', '010'], 'octal');
      expect(oath(['-N', '@1700000000', '-w', '010']).stdout.trim().split('\n')).toHaveLength(9);
      refused(['-N', '@1700000000', '-w', '010'], 'octal');
      // --totp=SHA-256 is SHA1 to oathtool.
      const key32 = '3132333435363738393031323334353637383930313233343536373839303132';
      const mode = (m: string): string =>
        oathtool([`--totp=${m}`, '-N', '@59', '-d', '8', key32], '').stdout;
      expect(mode('SHA-256')).toBe(mode('SHA1'));
      expect(mode('SHA-256')).not.toBe(mode('SHA256'));
      expect(otpkit(['code', '--hex', '--totp=sha256', '-N', '@59', '-d', '8', key32]).stdout).toBe(
        mode('sha256'),
      );
      const sha = otpkit(['code', '--hex', '--totp=SHA-256', key32]);
      expect([sha.status, sha.stderr]).toEqual([
        2,
        expect.stringContaining('--totp=MODE expects SHA1, SHA256 or SHA512'),
      ]);
      // An option given twice: oathtool refuses it rather than pick one.
      expect(oath(['-N', '@1', '-N', '@100']).status).not.toBe(0);
      refused(['-N', '@1', '-N', '@100'], 'given more than once');
      // -v prints the key.
      expect(oath(['-v', '-N', '@59']).stdout).toContain(`Hex secret: ${KEY20}`);
      refused(['-v', '-N', '@59'], 'drop -v');
    });

    it('verify -w agrees with oathtool validation, TOTP and HOTP (random, seeded)', () => {
      const rnd = prng(SEED + 2);
      const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
      for (let i = 0; i < 24; i++) {
        const key = Buffer.from(Array.from({ length: int(16, 40) }, () => int(0, 255))).toString(
          'hex',
        );
        // Every fourth case is `verify --hotp -w 10` (HOTP look-ahead C..C+10, as oathtool's).
        const w = i % 4 === 1 ? 10 : int(0, 6);
        const digits = String(int(6, 8));
        const label = `case ${i} w=${w} d=${digits}`;
        if (i % 2 === 0) {
          const period = [30, 60, 15][i % 3]!;
          const now = int(1_000_000, 2 ** 33);
          const delta = int(-w - 1, w + 1);
          const params = ['-d', digits, '-s', `${period}s`];
          const token = oathtool(
            ['--totp', ...params, '-N', `@${now + delta * period}`, key],
            '',
          ).stdout.trim();
          const theirs = oathtool(
            ['--totp', ...params, '-N', `@${now}`, '-w', String(w), key, token],
            '',
          );
          const ours = otpkit([
            'verify',
            token,
            '--hex',
            ...params,
            '-N',
            `@${now}`,
            '-w',
            String(w),
            key,
          ]);
          if (theirs.status === 0) {
            // oathtool prints |delta|; otpkit the signed delta
            expect(ours.status, label).toBe(0);
            expect(ours.stdout.replace(/^ok delta=-?/, ''), label).toBe(theirs.stdout);
          } else {
            expect(theirs.status, label).toBe(2); // oathtool: not found
            expect([ours.status, ours.stdout], label).toEqual([1, 'invalid\n']);
          }
          expect(theirs.status === 0, label).toBe(Math.abs(delta) <= w);
        } else {
          const counter = i % 3 === 0 ? 2n ** 32n + BigInt(int(-5, 5)) : BigInt(int(0, 10_000));
          const delta = int(0, w + 2);
          const token = oathtool(
            ['--hotp', '-d', digits, '-c', String(counter + BigInt(delta)), key],
            '',
          ).stdout.trim();
          const theirs = oathtool(
            ['--hotp', '-d', digits, '-c', String(counter), '-w', String(w), key, token],
            '',
          );
          const ours = otpkit([
            'verify',
            token,
            '--hotp',
            '--hex',
            '-d',
            digits,
            '-c',
            String(counter),
            '-w',
            String(w),
            key,
          ]);
          if (theirs.status === 0) {
            // oathtool prints the position from -c; otpkit the counter itself
            expect(ours.status, label).toBe(0);
            const matched = /^ok counter=(\d+) next=(\d+)\n$/.exec(ours.stdout);
            expect(String(BigInt(matched?.[1] ?? '-1') - counter), label).toBe(
              theirs.stdout.trim(),
            );
          } else {
            expect(theirs.status, label).toBe(2);
            expect([ours.status, ours.stdout], label).toEqual([1, 'invalid\n']);
          }
          expect(theirs.status === 0, label).toBe(delta <= w);
        }
      }
    });

    it("reads KEY '@FILE' as oathtool does", () => {
      const file = join(dir, 'oath.key');
      writeFileSync(file, `${KEY20}\n`);
      const theirs = oathtool(['--totp', '-N', '@1700000000', '-w', '3', `@${file}`], '');
      expect(theirs.status).toBe(0);
      expect(otpkit(['code', '--hex', '-N', '@1700000000', '-w', '3', `@${file}`]).stdout).toBe(
        theirs.stdout,
      );
    });
  },
);

describe('otpkit as a process: bounded input', () => {
  // A preload that records the peak resident set size, and a 2 GB address-space cap so that a
  // regression fails the test instead of exhausting the machine.
  const preload = join(dir, 'maxrss.cjs');
  const rssFile = join(dir, 'maxrss.txt');
  writeFileSync(
    preload,
    "process.on('exit', () => require('node:fs').writeFileSync(process.env.OTPKIT_MAXRSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  const inShell = (
    script: string,
  ): { r: SpawnSyncReturns<string>; ms: number; maxRssKiB: number } => {
    rmSync(rssFile, { force: true });
    const started = Date.now();
    const r = spawnSync(
      'sh',
      ['-c', `ulimit -v 2000000; ${script}`, 'sh', process.execPath, preload, bundle],
      {
        encoding: 'utf8',
        timeout: 20_000,
        killSignal: 'SIGKILL',
        env: { ...process.env, OTPKIT_MAXRSS_FILE: rssFile },
      },
    );
    const ms = Date.now() - started;
    return {
      r,
      ms,
      maxRssKiB: existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : Infinity,
    };
  };
  const otp = '"$1" -r "$2" "$3"';

  it.each([
    ['--secret-file /dev/zero', `${otp} code --secret-file /dev/zero`],
    ["KEY '@/dev/zero'", `${otp} code @/dev/zero`],
    ['--secret-stdin < /dev/zero', `${otp} code --secret-stdin < /dev/zero`],
    ['an endless pipe into --secret-stdin', `cat /dev/zero | ${otp} code --secret-stdin`],
    ['inspect - < /dev/zero', `${otp} inspect - < /dev/zero`],
  ])('%s fails fast with bounded memory', (_name, script) => {
    const { r, ms, maxRssKiB } = inShell(script);
    expect(r.signal, 'killed: it kept reading').toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^otpkit: [^\n]+ is longer than 65536 bytes \(ERR_INPUT_TOO_LONG\)\n$/,
    );
    expect(ms).toBeLessThan(10_000);
    expect(maxRssKiB).toBeLessThan(200 * 1024);
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
    const built = otpkit([
      'uri',
      '--account',
      'alice@example.com',
      '--issuer',
      'ACME',
      '--generate',
    ]);
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
    const code = otpkit(
      ['code', '-N', '@1800000000', '--secret-stdin'],
      `${secret}\n`,
    ).stdout.trim();
    const ok = otpkit(['verify', code, '-N', '@1800000030', '--secret-stdin'], secret);
    // A random key's code can also be the code of a later step (about 2 in 10^6): the smallest
    // |delta| then wins, so the expectation is computed, not assumed.
    const key = decodeBase32(secret);
    const delta = generateTOTP(key, { now: 1_800_000_030_000 }) === code ? 0 : -1;
    expect([ok.status, ok.stdout]).toEqual([0, `ok delta=${delta}\n`]);
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
