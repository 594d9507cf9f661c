import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsQRModule from 'jsqr';
import { afterAll, describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import { runCli, type CliIO } from '../src/cli/index.js';
import { encodeBase32 } from '../src/base32.js';
import { generateHOTP } from '../src/hotp.js';
import { renderQRCodeText } from '../src/qr.js';
import { generateTOTP } from '../src/totp.js';
import { parseOtpauthURI } from '../src/uri/parse.js';
import { verifyRecoveryCode } from '../src/recovery/hash.js';

/** RFC 4226 / RFC 6238 seeds (Erratum 2866 lengths for SHA256/SHA512). */
const SEED20 = '3132333435363738393031323334353637383930';
const SEED32 = '3132333435363738393031323334353637383930313233343536373839303132';
const SEED64 =
  '31323334353637383930313233343536373839303132333435363738393031323334353637383930313233343536373839303132333435363738393031323334';
const B32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // SEED20 in base32

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(
  args: readonly string[],
  stdin?: string | Uint8Array,
  io: Partial<CliIO> = {},
): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdin:
      stdin === undefined
        ? undefined
        : (async function* () {
            yield stdin;
          })(),
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: {},
    ...io,
  });
  return { code, out, err };
}

/** Runs with a stdout that says it is a terminal, as `process.stdout` does on one. */
async function runOnTerminal(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (out += s), isTTY: true },
    stderr: { write: (s: string) => (err += s) },
    env,
  });
  return { code, out, err };
}

/** An error must be exactly one `otpkit: … (CODE)` line, with no stack trace. */
function expectOneLineError(r: Run, exit: number, code: string | RegExp): void {
  expect(r.code).toBe(exit);
  expect(r.out).toBe('');
  const lines = r.err.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^otpkit: .+ \(ERR_[A-Z0-9_]+\)$/);
  if (typeof code === 'string') expect(lines[0]?.endsWith(`(${code})`)).toBe(true);
  else expect(lines[0]).toMatch(code);
  expect(r.err).not.toMatch(/\n\s+at /);
}

// jsqr is CommonJS with an ESM-style default (see test/qr.test.ts).
const jsQR = jsQRModule.default;

/** Decodes a terminal QR code (half blocks: '▀' top, '▄' bottom, '█' both, ' ' none; dark drawn) with jsQR. */
function decodeTerminalQR(lines: readonly string[]): string | undefined {
  const rows: number[][] = [];
  for (const line of lines) {
    const chars = [...line];
    rows.push(
      chars.map((c) => (c === '█' || c === '▀' ? 1 : 0)),
      chars.map((c) => (c === '█' || c === '▄' ? 1 : 0)),
    );
  }
  const n = Math.max(...rows.map((r) => r.length));
  const px = 4;
  const w = (n + 8) * px;
  const h = (rows.length + 8) * px;
  const img = new Uint8ClampedArray(w * h * 4).fill(255);
  rows.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < px; dy++)
        for (let dx = 0; dx < px; dx++) {
          const i = (((y + 4) * px + dy) * w + (x + 4) * px + dx) * 4;
          img.fill(0, i, i + 3);
        }
    }),
  );
  return jsQR(img, w, h, { inversionAttempts: 'dontInvert' })?.data;
}

const tmp = mkdtempSync(join(tmpdir(), 'otpkit-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('otpkit: global', () => {
  it('--help lists every command and the exit codes', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['secret', 'code', 'verify', 'uri', 'inspect', 'recovery', 'demo'])
      expect(r.out).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(r.out).toMatch(/Exit status:/);
    for (const n of [0, 1, 2, 3]) expect(r.out).toMatch(new RegExp(`^  ${n}  `, 'm'));
    expect((await run(['-h'])).out).toBe(r.out);
    expect((await run(['help'])).out).toBe(r.out);
  });

  it('--version prints the package version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, out: `${pkg.version}\n`, err: '' });
    expect((await run(['-V'])).out).toBe(`${pkg.version}\n`);
  });

  it('no command is a usage error with the help on stderr', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/Usage: otpkit <command>/);
  });

  it('an unknown command is a usage error', async () => {
    expectOneLineError(await run(['frobnicate']), 2, 'ERR_USAGE');
    expectOneLineError(await run(['--frobnicate']), 2, 'ERR_USAGE');
    expectOneLineError(await run(['help', 'frobnicate']), 2, 'ERR_USAGE');
  });

  it('a long unknown first argument (maybe a pasted secret) is not echoed', async () => {
    const r = await run([B32]);
    expectOneLineError(r, 2, 'ERR_USAGE');
    expect(r.err).not.toContain(B32);
  });

  it.each(['secret', 'code', 'verify', 'uri', 'inspect', 'recovery', 'demo'])(
    '%s --help',
    async (name) => {
      const r = await run([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.err).toBe('');
      expect(r.out).toMatch(new RegExp(`^Usage: otpkit ${name}`));
      expect((await run([name, '-h'])).out).toBe(r.out);
      expect((await run(['help', name])).out).toBe(r.out);
      // --help wins over other, even invalid, arguments
      expect((await run([name, '--bogus', '--help'])).code).toBe(0);
    },
  );

  it('an unexpected error is exit 3, one line, no stack and no message content', async () => {
    const r = await run(['secret'], undefined, {
      stdout: {
        write: () => {
          throw new Error(`boom ${B32}`);
        },
      },
    });
    expectOneLineError(r, 3, 'ERR_INTERNAL');
    expect(r.err).not.toContain(B32);
  });
});

describe('otpkit secret', () => {
  it('prints a 20-byte base32 secret by default', async () => {
    const r = await run(['secret']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^[A-Z2-7]{32}\n$/);
    expect((await run(['secret'])).out).not.toBe(r.out);
  });
  it('sizes the secret for the algorithm, or --length', async () => {
    expect((await run(['secret', '--algorithm', 'SHA512'])).out).toMatch(/^[A-Z2-7]{103}\n$/);
    expect((await run(['secret', '-a', 'sha256', '--hex'])).out).toMatch(/^[0-9a-f]{64}\n$/);
    expect((await run(['secret', '--length', '16', '--hex'])).out).toMatch(/^[0-9a-f]{32}\n$/);
  });
  it('rejects bad options (exit 2)', async () => {
    expectOneLineError(await run(['secret', '--length', '8']), 2, 'ERR_USAGE');
    expectOneLineError(await run(['secret', '--algorithm', 'MD5']), 2, 'ERR_USAGE');
    expectOneLineError(await run(['secret', 'extra']), 2, 'ERR_USAGE');
    expectOneLineError(await run(['secret', '--nope']), 2, 'ERR_USAGE');
  });
});

describe('otpkit code', () => {
  it('prints RFC 6238 Appendix B codes', async () => {
    expect((await run(['code', '--hex', '-N', '@59', '-d', '8', SEED20])).out).toBe('94287082\n');
    expect(
      (await run(['code', '--hex', '--totp=SHA256', '-N', '@59', '-d', '8', SEED32])).out,
    ).toBe('46119246\n');
    expect(
      (await run(['code', '--hex', '--algorithm', 'SHA512', '-N', '@59', '-d', '8', SEED64])).out,
    ).toBe('90693936\n');
    expect(
      (await run(['code', '--hex', '--now', '2005-03-18T01:58:29Z', '-d', '8', SEED20])).out,
    ).toBe('07081804\n');
    expect(
      (await run(['code', '--hex', '--now', '2603-10-11 11:33:20+00:00', '-d', '8', SEED20])).out,
    ).toBe('65353130\n');
  });

  it('prints RFC 4226 Appendix D codes with --hotp and -w', async () => {
    const r = await run(['code', '--hotp', '-c', '0', '-w', '9', '--hex', SEED20]);
    expect(r.out.split('\n').filter(Boolean)).toEqual([
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ]);
    expect((await run(['code', '--hotp', '--hex', SEED20])).out).toBe('755224\n'); // counter defaults to 0
  });

  it('handles 64-bit counters', async () => {
    const secret = Buffer.from(SEED20, 'hex');
    for (const c of [2n ** 32n, 2n ** 32n + 7n, 2n ** 64n - 1n]) {
      const r = await run(['code', '--hotp', '--counter', String(c), '-d', '7', '--hex', SEED20]);
      expect(r.out).toBe(`${generateHOTP(secret, c, { digits: 7 })}\n`);
    }
    // -w stops at 2^64-1 instead of wrapping
    expect(
      (await run(['code', '--hotp', '-c', String(2n ** 64n - 2n), '-w', '5', '--hex', SEED20])).out
        .split('\n')
        .filter(Boolean),
    ).toHaveLength(2);
  });

  it('prints the following TOTP steps with -w, honouring --period and --t0', async () => {
    const secret = Buffer.from(SEED20, 'hex');
    const r = await run([
      'code',
      '--hex',
      '-s',
      '60s',
      '-S',
      '@1000',
      '-N',
      '@100000',
      '-w',
      '2',
      SEED20,
    ]);
    const expected = [0, 1, 2].map((k) =>
      generateTOTP(secret, { period: 60, t0: 1000, now: (100_000 + k * 60) * 1000 }),
    );
    expect(r.out).toBe(`${expected.join('\n')}\n`);
    // '30' and '30s', --t0 and --start-time, --period and --time-step-size are the same
    const a = await run(['code', '--hex', '-s', '30', '--t0', '@15', '-N', '@100000', SEED20]);
    const b = await run([
      'code',
      '--hex',
      '--time-step-size',
      '30s',
      '--start-time',
      '@15',
      '-N',
      '@100000',
      SEED20,
    ]);
    expect(a.out).toBe(b.out);
    expect(a.out).toBe(`${generateTOTP(secret, { t0: 15, now: 100_000_000 })}\n`);
  });

  it('uses the current time by default', async () => {
    const secret = Buffer.from(SEED20, 'hex');
    const before = generateTOTP(secret);
    const r = await run(['code', '--hex', SEED20]);
    expect([before, generateTOTP(secret)]).toContain(r.out.trim());
  });

  it('accepts base32 keys the way people type them', async () => {
    for (const key of [
      B32,
      B32.toLowerCase(),
      'gezd gnbv gy3t qojq gezd gnbv gy3t qojq',
      'GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ',
    ]) {
      expect((await run(['code', '-N', '@59', '-d', '8', key])).out).toBe('94287082\n');
      expect((await run(['code', '-b', '-N', '@59', '-d', '8', key])).out).toBe('94287082\n');
    }
  });

  it('reads the key from stdin (--secret-stdin or -), stripping the trailing newline', async () => {
    expect((await run(['code', '-N', '@59', '-d', '8', '--secret-stdin'], `${B32}\n`)).out).toBe(
      '94287082\n',
    );
    expect((await run(['code', '-N', '@59', '-d', '8', '-'], `${B32}\r\n`)).out).toBe('94287082\n');
    expect(
      (
        await run(
          ['code', '--hex', '-N', '@59', '-d', '8', '-'],
          new TextEncoder().encode(`${SEED20}\n`),
        )
      ).out,
    ).toBe('94287082\n');
  });

  it('reads the key from --secret-file', async () => {
    const file = join(tmp, 'key.txt');
    writeFileSync(file, `${B32}\n`);
    expect((await run(['code', '-N', '@59', '-d', '8', '--secret-file', file])).out).toBe(
      '94287082\n',
    );
    const hexFile = join(tmp, 'key.hex');
    writeFileSync(hexFile, SEED20);
    expect(
      (await run(['code', '--hex', '-N', '@59', '-d', '8', '--secret-file', hexFile])).out,
    ).toBe('94287082\n');
  });

  it('refuses short legacy keys unless --allow-short-secret (10..15 bytes)', async () => {
    const short = '3132333435363738393031'; // 11 bytes
    const r = await run(['code', '--hex', short]);
    expectOneLineError(r, 1, 'ERR_SECRET_TOO_SHORT');
    expect(r.err).toContain('--allow-short-secret');
    expect(r.err).not.toContain(short);
    const ok = await run(['code', '--hex', '--allow-short-secret', '-N', '@59', short]);
    expect(ok.out).toBe(
      `${generateTOTP(Buffer.from(short, 'hex'), { now: 59_000, allowInsecureShortSecret: true })}\n`,
    );
    expectOneLineError(
      await run(['code', '--hex', '--allow-short-secret', '313233343536373839']),
      1,
      'ERR_SECRET_TOO_SHORT',
    );
    expectOneLineError(await run(['code', '--secret-stdin'], '\n'), 1, 'ERR_SECRET_EMPTY');
  });

  it('bad key data is exit 1, one line, and never echoes the key', async () => {
    const cases: [string[], string | undefined, string][] = [
      [['code', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1'], undefined, 'ERR_BASE32_CHAR'],
      [['code', SEED20], undefined, 'ERR_BASE32_CHAR'], // hex without --hex
      [['code', '--secret-stdin'], 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQG\n', 'ERR_BASE32_LENGTH'],
      [['code', '--hex', '-'], `${SEED20}zz`, 'ERR_HEX_CHAR'],
      [['code', '--hex', `${SEED20}3`], undefined, 'ERR_HEX_LENGTH'],
      [['code', '--hex', '-'], `${'ab'.repeat(257)}\n`, 'ERR_SECRET_TOO_LONG'],
    ];
    for (const [args, stdin, code] of cases) {
      const r = await run(args, stdin);
      expectOneLineError(r, 1, code);
      expect(r.err).not.toContain(SEED20);
      expect(r.err).not.toMatch(/GEZDGNBV/i);
    }
    expect((await run(['code', SEED20])).err).toContain('--hex');
  });

  it('an unreadable --secret-file is exit 1', async () => {
    expectOneLineError(await run(['code', '--secret-file', join(tmp, 'missing')]), 1, 'ERR_FILE');
  });

  it('usage errors are exit 2', async () => {
    const cases: string[][] = [
      ['code'], // no key
      ['code', '--bogus', B32],
      ['code', '--secret=GEZDGNBVGY3TQOJQ', B32],
      ['code', '-d', '9', B32],
      ['code', '-d', '5', B32],
      ['code', '-d', 'six', B32],
      ['code', '-s', '0', B32],
      ['code', '-s', '121', B32],
      ['code', '-s', '30x', B32],
      ['code', '-N', 'yesterday', B32],
      ['code', '-N', '2031-02-30T00:00:00Z', B32],
      ['code', '-N', '-5', B32],
      ['code', '-S', '@200', '-N', '@100', B32], // t0 after now
      ['code', '--t0', '1', '--start-time', '1', B32],
      ['code', '--hotp', '-c', '18446744073709551616', B32],
      ['code', '--hotp', '-c', '-1', B32],
      ['code', '--hotp', '--totp', B32],
      ['code', '--hotp', '--totp=SHA256', B32],
      ['code', '--totp=MD5', B32],
      ['code', '--totp=SHA256', '--algorithm', 'SHA1', B32],
      ['code', '--counter', '5', B32], // counter without --hotp
      ['code', '--hotp', '--now', '@5', B32],
      ['code', '--hex', '--base32', B32],
      ['code', B32, B32],
      ['code', '--secret-stdin', '-'],
      ['code', '--secret-stdin', B32],
      ['code', '-w', 'many', B32],
      ['code', '--hex', '--hex=1', B32],
    ];
    for (const args of cases) {
      const r = await run(args, '');
      expectOneLineError(r, 2, /\(ERR_USAGE\)$/);
      expect(r.err).toContain("see 'otpkit code --help'");
      expect(r.err).not.toContain('GEZDGNBVGY3TQOJQ');
    }
  });

  it('stdin requested without a stdin is a usage error', async () => {
    expectOneLineError(await run(['code', '--secret-stdin']), 2, 'ERR_USAGE');
  });
});

describe('otpkit verify', () => {
  const secret = Buffer.from(SEED20, 'hex');
  const now = 1_700_000_000;
  const at = (s: number): string => generateTOTP(secret, { now: s * 1000 });

  it('accepts a TOTP code and prints the delta', async () => {
    expect(await run(['verify', at(now), '--hex', '-N', `@${now}`, SEED20])).toEqual({
      code: 0,
      out: 'ok delta=0\n',
      err: '',
    });
    expect((await run(['verify', at(now - 30), '--hex', '-N', `@${now}`, SEED20])).out).toBe(
      'ok delta=-1\n',
    );
    expect(
      (await run(['verify', at(now + 90), '--hex', '-N', `@${now}`, '-w', '3', SEED20])).out,
    ).toBe('ok delta=3\n');
  });

  it('refuses a wrong code (exit 1, invalid) and a malformed one (exit 1, malformed)', async () => {
    const far = at(now + 300) === at(now) ? '000000' : at(now + 300);
    expect(await run(['verify', far, '--hex', '-N', `@${now}`, SEED20])).toEqual({
      code: 1,
      out: 'invalid\n',
      err: '',
    });
    expect(
      await run(['verify', at(now + 60), '--hex', '-N', `@${now}`, '--window', '0', SEED20]),
    ).toEqual({
      code: 1,
      out: 'invalid\n',
      err: '',
    });
    for (const token of ['12345', '1234567', '12 456', 'abcdef', '']) {
      expect(await run(['verify', token, '--hex', '-N', `@${now}`, SEED20])).toEqual({
        code: 1,
        out: 'malformed\n',
        err: '',
      });
    }
  });

  it('verifies HOTP with --counter and --look-ahead', async () => {
    expect((await run(['verify', '969429', '--hotp', '--hex', SEED20])).out).toBe(
      'ok counter=3 next=4\n',
    );
    expect(
      (await run(['verify', '969429', '--hotp', '-c', '2', '--look-ahead', '2', '--hex', SEED20]))
        .out,
    ).toBe('ok counter=3 next=4\n');
    expect(await run(['verify', '969429', '--hotp', '-c', '4', '--hex', SEED20])).toEqual({
      code: 1,
      out: 'invalid\n',
      err: '',
    });
    expect(await run(['verify', '969429', '--hotp', '--look-ahead', '3', '--hex', SEED20])).toEqual(
      { code: 1, out: 'invalid\n', err: '' },
    );
  });

  it('reads the key from stdin and files like code', async () => {
    expect(
      (await run(['verify', at(now), '-N', `@${now}`, '--secret-stdin'], `${B32}\n`)).out,
    ).toBe('ok delta=0\n');
    expect((await run(['verify', at(now), '-N', `@${now}`, '-'], `${B32}\n`)).out).toBe(
      'ok delta=0\n',
    );
    const file = join(tmp, 'verify.key');
    writeFileSync(file, B32);
    expect((await run(['verify', at(now), '-N', `@${now}`, '--secret-file', file])).out).toBe(
      'ok delta=0\n',
    );
  });

  it('usage errors are exit 2 and never echo the token', async () => {
    for (const args of [
      ['verify'],
      ['verify', '--hex', SEED20, '--secret-stdin'],
      ['verify', '123456', SEED20, 'extra'],
      ['verify', '123456', '--hex', '-w', '11', SEED20],
      ['verify', '123456', '--hex', '--look-ahead', '5', SEED20],
      ['verify', '123456', '--hex', '--hotp', '-w', '1', '--look-ahead', '2', SEED20],
      ['verify', '123456', '--hex', '--hotp', '-w', '100', SEED20],
      ['verify', '123456', '--hex', '--hotp', '-w', '01', SEED20],
      ['verify', '123456', '--hex', '--hotp', '--look-ahead', '0', SEED20],
    ]) {
      const r = await run(args);
      expectOneLineError(r, 2, 'ERR_USAGE');
      expect(r.err).not.toContain('123456');
    }
  });

  it('bad key data is exit 1', async () => {
    const r = await run(['verify', '123456', 'not base32!']);
    expectOneLineError(r, 1, 'ERR_BASE32_CHAR');
    expect(r.err).not.toContain('123456');
  });
});

describe('otpkit uri', () => {
  it('builds an otpauth URI that parses back to the same parameters', async () => {
    const r = await run(['uri', '--account', 'alice@example.com', '--issuer', 'ACME Co', B32]);
    expect(r.code).toBe(0);
    const uri = r.out.trim();
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    const p = parseOtpauthURI(uri);
    expect(p).toMatchObject({
      type: 'totp',
      account: 'alice@example.com',
      issuer: 'ACME Co',
      algorithm: 'SHA1',
      digits: 6,
    });
    expect(encodeBase32(p.secret)).toBe(B32);
    expect(r.err).toBe(''); // defaults: nothing to warn about
  });

  it('supports HOTP, non-default parameters (warned about on stderr) and key files', async () => {
    const file = join(tmp, 'uri.key');
    writeFileSync(file, `${SEED32}\n`);
    const r = await run([
      'uri',
      '--account',
      'bob',
      '--hotp',
      '-c',
      '42',
      '-a',
      'SHA256',
      '-d',
      '8',
      '--hex',
      '--secret-file',
      file,
    ]);
    expect(r.code).toBe(0);
    const p = parseOtpauthURI(r.out.trim());
    expect(p).toMatchObject({
      type: 'hotp',
      account: 'bob',
      algorithm: 'SHA256',
      digits: 8,
      counter: 42n,
    });
    expect(Buffer.from(p.secret).toString('hex')).toBe(SEED32);
    expect(r.err).toMatch(/^otpkit: warning: /m);
    expect(r.err).not.toContain(SEED32);
  });

  it('--generate makes a new secret; --qr adds the terminal QR code', async () => {
    const r = await run([
      'uri',
      '--account',
      'carol',
      '--issuer',
      'ACME',
      '--generate',
      '--qr',
      '--period',
      '30s',
    ]);
    expect(r.code).toBe(0);
    const [uri, blank, ...qr] = r.out.trimEnd().split('\n');
    expect(parseOtpauthURI(uri ?? '').secret).toHaveLength(20);
    expect(blank).toBe('');
    expect(qr.length).toBeGreaterThan(10);
    expect(qr.join('')).toMatch(/^[ ▀▄█]+$/);
    expect(decodeTerminalQR(qr)).toBe(uri); // the QR code scans back to the printed URI
  });

  it('reads the key from stdin', async () => {
    const r = await run(['uri', '--account', 'dave', '--secret-stdin'], `${B32}\n`);
    expect(encodeBase32(parseOtpauthURI(r.out.trim()).secret)).toBe(B32);
  });

  it('usage errors are exit 2; bad keys exit 1', async () => {
    for (const args of [
      ['uri', B32],
      ['uri', '--account', 'a'],
      ['uri', '--account', 'a', '--generate', B32],
      ['uri', '--account', 'a', '--hotp', '--period', '60', B32],
      ['uri', '--account', 'a', '--counter', '1', B32],
      ['uri', '--account', 'a', '--digits', '10', B32],
    ]) {
      const r = await run(args);
      expectOneLineError(r, 2, 'ERR_USAGE');
      expect(r.err).not.toContain(B32);
    }
    const bad = await run(['uri', '--account', 'a', 'GEZDGNBV']);
    expectOneLineError(bad, 1, 'ERR_SECRET_TOO_SHORT');
  });
});

describe('otpkit inspect', () => {
  const uri = `otpauth://totp/ACME:alice%40example.com?secret=${B32}&issuer=ACME&algorithm=SHA256&digits=8&period=60`;

  it('prints the fields and the secret length, not the secret', async () => {
    const r = await run(['inspect', uri]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^type:\s+totp$/m);
    expect(r.out).toMatch(/^issuer:\s+ACME$/m);
    expect(r.out).toMatch(/^account:\s+alice@example\.com$/m);
    expect(r.out).toMatch(/^algorithm:\s+SHA256$/m);
    expect(r.out).toMatch(/^digits:\s+8$/m);
    expect(r.out).toMatch(/^period:\s+60 s$/m);
    expect(r.out).toMatch(/^secret:\s+160 bits/m);
    expect(r.out).toMatch(/compatibility warnings:/);
    expect(r.out).not.toContain(B32);
  });

  it('--show-secret prints the secret; --json gives one object', async () => {
    expect((await run(['inspect', '--show-secret', uri])).out).toMatch(
      new RegExp(`^secret:\\s+${B32}$`, 'm'),
    );
    const j = JSON.parse((await run(['inspect', '--json', uri])).out) as Record<string, unknown>;
    expect(j).toMatchObject({
      type: 'totp',
      issuer: 'ACME',
      account: 'alice@example.com',
      digits: 8,
      period: 60,
      secretBits: 160,
    });
    expect(j.secret).toBeUndefined();
    expect(Array.isArray(j.warnings)).toBe(true);
    expect(JSON.parse((await run(['inspect', '--json', '--show-secret', uri])).out).secret).toBe(
      B32,
    );
  });

  it('reads the URI from stdin with -', async () => {
    const r = await run(['inspect', '-'], `otpauth://hotp/bob?secret=${B32}&counter=7\n`);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^type:\s+hotp$/m);
    expect(r.out).toMatch(/^counter:\s+7$/m);
  });

  it('a bad URI is exit 1 with one line naming the error code, without the secret', async () => {
    for (const bad of [
      'https://example.com/',
      `otpauth://totp/alice?secret=${B32}1`,
      'otpauth://totp/alice?issuer=ACME',
      `otpauth://hotp/alice?secret=${B32}`,
      `otpauth://totp/alice?secret=GEZDGNBV`,
      `otpauth://totp/alice?secret=${B32}&digits=12`,
    ]) {
      const r = await run(['inspect', bad]);
      expectOneLineError(r, 1, /\((ERR_URI_[A-Z_]+|ERR_BASE32_[A-Z_]+|ERR_SECRET_[A-Z_]+)\)$/);
      expect(r.err).not.toContain(B32);
      expect(r.err).not.toContain('GEZDGNBV');
    }
  });

  it('a short secret is refused naming --allow-short-secret, which accepts it with a warning', async () => {
    const short = 'otpauth://totp/ACME:a?secret=GEZDGNBVGY3TQOJQGE&issuer=ACME'; // 11 bytes
    const r = await run(['inspect', short]);
    expectOneLineError(r, 1, 'ERR_SECRET_TOO_SHORT');
    expect(r.err).toContain('--allow-short-secret');
    expect(r.err).not.toContain('allowInsecureShortSecret');
    const ok = await run(['inspect', '--allow-short-secret', short]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^secret:\s+88 bits/m);
    expect(ok.out).toMatch(/SECRET_LENGTH/);
  });

  it('usage errors are exit 2', async () => {
    expectOneLineError(await run(['inspect']), 2, 'ERR_USAGE');
    expectOneLineError(await run(['inspect', uri, uri]), 2, 'ERR_USAGE');
  });
});

describe('otpkit recovery', () => {
  it('prints codes and matching hashes', async () => {
    const r = await run(['recovery', '--count', '3', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { codes: string[]; records: { id: string; hash: string }[] };
    expect(j.codes).toHaveLength(3);
    expect(j.records).toHaveLength(3);
    for (const [i, code] of j.codes.entries()) {
      expect(verifyRecoveryCode(code, j.records[i]?.hash ?? '')).toBe(true);
      expect(r.out.split(code).length - 1).toBe(1); // the hash does not contain the code
    }
  });

  it('prints text by default', async () => {
    const r = await run(['recovery', '-n', '2']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Recovery codes/);
    expect(r.out).toMatch(/Records for the database/);
  });

  it('rejects bad options (exit 2)', async () => {
    expectOneLineError(await run(['recovery', '--count', 'x']), 2, 'ERR_USAGE');
    expectOneLineError(await run(['recovery', '--bits', '8']), 2, /\(ERR_[A-Z_]+\)$/);
  });
});

describe('otpkit demo', () => {
  it('narrates the whole flow and exits 0', async () => {
    const r = await run(['demo', '--fast']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/otpauth:\/\/totp\//);
    expect(r.out).toMatch(/confirmTOTP: ok/);
    expect(r.out).toMatch(/verifyTOTP: ok \(delta 0/);
    expect(r.out).toMatch(/refused, replayed/);
    expect(r.out).toMatch(/throttled \(retry after \d+ ms\)/);
    expect(r.out).toMatch(/refused, locked/);
    expect(r.out).toMatch(/redeem \S+ -> ok, logged in \(9 codes left\)/);
    expect(r.out).toMatch(/redeem \S+ again -> refused, invalid/);
    expect(r.out).not.toMatch(/UNEXPECTED/);
  });
});

describe('otpkit: input is read with a bound, as it streams', () => {
  const LIMIT = 64 * 1024;
  const padded = (n: number): string => B32 + ' '.repeat(n - B32.length); // trailing spaces are trimmed

  it('a key file or stdin of exactly 64 KiB is read; one byte more is refused', async () => {
    const exact = join(tmp, 'exact.key');
    const over = join(tmp, 'over.key');
    writeFileSync(exact, padded(LIMIT));
    writeFileSync(over, padded(LIMIT + 1));
    for (const args of [['--secret-file', exact], [`@${exact}`]])
      expect(await run(['code', '-N', '@59', '-d', '8', ...args])).toEqual({
        code: 0,
        out: '94287082\n',
        err: '',
      });
    for (const args of [['--secret-file', over], [`@${over}`]]) {
      const r = await run(['code', '-N', '@59', ...args]);
      expectOneLineError(r, 1, 'ERR_INPUT_TOO_LONG');
      expect(r.err).not.toMatch(/GEZDGNBV/);
    }
    expect((await run(['code', '-N', '@59', '-d', '8', '--secret-stdin'], padded(LIMIT))).out).toBe(
      '94287082\n',
    );
    expectOneLineError(
      await run(['code', '-N', '@59', '--secret-stdin'], padded(LIMIT + 1)),
      1,
      'ERR_INPUT_TOO_LONG',
    );
    expectOneLineError(await run(['inspect', '-'], 'x'.repeat(LIMIT + 1)), 1, 'ERR_INPUT_TOO_LONG');
  });

  it('stops reading a FIFO whose writer never ends it, as soon as 64 KiB have arrived', async () => {
    const fifo = join(tmp, 'endless.fifo');
    execFileSync('mkfifo', [fifo]);
    // The writer sends up to 4 MiB and then holds the FIFO open without an end, like a producer
    // that never stops: a reader that waits for the end of the file never returns.
    const writer = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs');
         const fd = fs.openSync(process.argv[1], 'w');
         const chunk = Buffer.alloc(4096, 0x41);
         let sent = 0;
         try { while (sent < 4 << 20) sent += fs.writeSync(fd, chunk); process.stdout.write('done ' + sent + '\\n'); }
         catch (e) { process.stdout.write(e.code + ' ' + sent + '\\n'); }
         setInterval(() => {}, 1000);`,
        fifo,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let report = '';
    writer.stdout.on('data', (d: Buffer) => (report += d.toString()));
    try {
      const hung = new Promise<'hung'>((resolve) =>
        setTimeout(() => resolve('hung'), 10_000).unref(),
      );
      const r = await Promise.race([run(['code', '--secret-file', fifo]), hung]);
      expect(r, 'the reader waited for an end that never comes').not.toBe('hung');
      expectOneLineError(r as Run, 1, 'ERR_INPUT_TOO_LONG');
      // Closing the FIFO early makes the writer's next write fail: it got no further than the
      // limit plus what the pipe buffers.
      for (let i = 0; i < 100 && !report.includes('\n'); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const [what, sent] = report.trim().split(' ');
      expect(what).toBe('EPIPE');
      expect(Number(sent)).toBeLessThan(LIMIT + 1024 * 1024);
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it('stops pulling from an endless stdin after 64 KiB and closes it', async () => {
    let pulled = 0;
    let closed = false;
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          pulled++;
          yield new Uint8Array(4096).fill(0x41);
        }
      } finally {
        closed = true;
      }
    }
    const r = await run(['code', '--secret-stdin'], undefined, { stdin: endless() });
    expectOneLineError(r, 1, 'ERR_INPUT_TOO_LONG');
    expect(pulled).toBe(LIMIT / 4096 + 1);
    expect(closed).toBe(true);
  });

  it('counts UTF-8 bytes, not UTF-16 code units, of string chunks on stdin', async () => {
    // 30 000 characters but 90 000 bytes
    expectOneLineError(
      await run(['code', '--secret-stdin'], '€'.repeat(30_000)),
      1,
      'ERR_INPUT_TOO_LONG',
    );
  });
});

describe('otpkit code/verify: time arguments mean what they mean to oathtool', () => {
  const secret = Buffer.from(SEED20, 'hex');
  /** Three 8-digit codes of 1-second steps from T: equal outputs mean the same second. */
  const codesAt = async (flag: '-N' | '-S', t: string): Promise<Run> =>
    flag === '-N'
      ? run(['code', '--hex', '-s', '1s', '-d', '8', '-w', '2', '-N', t, SEED20])
      : run([
          'code',
          '--hex',
          '-s',
          '1s',
          '-d',
          '8',
          '-w',
          '2',
          '-S',
          t,
          '-N',
          '@253402300799',
          SEED20,
        ]);

  it.each([
    ['2031-06-01T12:00:00Z', 1_938_081_600],
    ['2031-06-01t12:00:00z', 1_938_081_600],
    ['2031-06-01 12:00:00 UTC', 1_938_081_600],
    ['2031-06-01T12:00:00 Z', 1_938_081_600],
    ['2031-06-01 12:00Z', 1_938_081_600],
    ['2031-06-01T12:00:00.999Z', 1_938_081_600], // the fraction is dropped, as oathtool drops it
    ['2031-06-01 12:00:00,5+00:00', 1_938_081_600],
    ['2031-06-01 12:00:00+02:00', 1_938_074_400],
    ['2031-06-01 12:00:00 +0200', 1_938_074_400],
    ['2031-06-01 12:00 +02', 1_938_074_400],
    ['2031-06-01T12:00:00-05:30', 1_938_101_400],
    ['2031-06-01Z', 1_938_038_400],
    ['2031-06-01 UTC', 1_938_038_400],
    ['1970-01-01T00:00:00Z', 0],
    ['9999-12-31T23:59:59Z', 253_402_300_799],
    ['@01700000000', 1_700_000_000],
  ])('%s is @%i', async (text, unix) => {
    for (const flag of ['-N', '-S'] as const) {
      const r = await codesAt(flag, text);
      expect(r.err).toBe('');
      expect(r.out).toBe((await codesAt(flag, `@${unix}`)).out);
    }
    expect((await codesAt('-N', text)).out.split('\n')[0]).toBe(
      generateTOTP(secret, { now: unix * 1000, period: 1, digits: 8 }),
    );
  });

  it('refuses a bare number, which oathtool reads as a time of day or a date, naming the @ form', async () => {
    for (const args of [
      ['-N', '1700000000'], // oathtool: "cannot parse time"
      ['-N', '59'],
      ['-N', '1234'], // oathtool: 12:34 today
      ['-N', '20310601'], // oathtool: 2031-06-01, local time
      ['-S', '1000', '-N', '@1700000000'], // oathtool: 10:00 today
      ['--start-time', '15', '-N', '@1700000000'],
      ['-N', '4242424'], // not echoed: a misplaced argument could be a code
    ]) {
      for (const command of [['code'], ['verify', '123456']]) {
        const r = await run([...command, '--hex', ...args, SEED20]);
        expectOneLineError(r, 2, 'ERR_USAGE');
        expect(r.err).toMatch(/bare number/);
        expect(r.err).toContain('write @<unix seconds> (e.g. @1700000000)');
        expect(r.err).not.toContain('4242424');
        expect(r.err).not.toContain('123456');
      }
    }
  });

  it('refuses years before 1970 and years not written with four digits', async () => {
    for (const t of [
      '0080-01-01T00:00:00Z', // Date.UTC would read 1980
      '0080-01-01',
      '0999-12-31T23:59:59Z',
      '1969-12-31T23:59:59Z',
      '1969-12-31T23:00:00-02:00', // 1970-01-01T01:00Z, but written as 1969
      '80-01-01T00:00:00Z',
      '31-06-01',
      '+02031-06-01T00:00:00Z',
      '1970-01-01T00:30:00+01:00', // before the epoch
    ]) {
      for (const flag of ['-N', '-S']) {
        const r = await run([
          'code',
          '--hex',
          flag,
          t,
          ...(flag === '-S' ? ['-N', '@1700000000'] : []),
          SEED20,
        ]);
        expectOneLineError(r, 2, 'ERR_USAGE');
        expect(r.err, t).toMatch(/1970/);
      }
    }
  });

  it('refuses forms oathtool refuses or reads otherwise', async () => {
    for (const t of [
      '2031-06-01+02:00', // oathtool: cannot parse
      '2031-06-01 +02:00',
      '2031-06-01T12:00:00 ', // trailing space
      '2031-06-01T12Z',
      '2031-02-29',
      '2031-06-31T00:00:00Z',
      '2031-06-01T24:00:00Z',
      '2031-06-01T12:00:60Z',
      '2031-06-01T12:00:00+24:00', // oathtool: 24 hours
      '2031-06-01T12:00:00+0099', // oathtool: 99 minutes
      '2031-06-01T12:00:00+002', // oathtool: 2 minutes
      '2031-06-01T12:00:00UTC+02',
      '2031-6-1',
      '@1700000000.5',
      '@-5',
      'now',
      'next Thursday',
      '10:00',
    ]) {
      expectOneLineError(await run(['code', '--hex', '-N', t, SEED20]), 2, 'ERR_USAGE');
    }
  });
});

describe('otpkit code/verify: options mean what they mean to oathtool', () => {
  const rfc4226 = [
    '755224',
    '287082',
    '359152',
    '969429',
    '338314',
    '254676',
    '287922',
    '162583',
    '399871',
    '520489',
  ];

  it('refuses oathtool -v/--verbose (which prints the key), saying why', async () => {
    for (const args of [
      ['code', '-v', '--hex', SEED20],
      ['code', '--verbose', '--hex', SEED20],
      ['verify', '969429', '--hotp', '-v', '--hex', SEED20],
    ]) {
      const r = await run(args);
      expectOneLineError(r, 2, 'ERR_USAGE');
      expect(r.err).toContain('-v/--verbose');
      expect(r.err).toContain('drop -v');
      expect(r.err).not.toContain(SEED20);
      expect(r.err).not.toContain('969429');
    }
  });

  it('refuses numbers with leading zeros, which oathtool reads as octal', async () => {
    for (const args of [
      ['code', '-d', '08', SEED20], // oathtool: invalid
      ['code', '-d', '010', SEED20], // oathtool: 8 digits
      ['code', '--hotp', '-c', '010', SEED20], // oathtool: counter 8
      ['code', '--hotp', '-c', '00', SEED20],
      ['code', '-w', '010', SEED20], // oathtool: 8 more codes
      ['verify', '969429', '--hotp', '-w', '03', SEED20],
    ]) {
      const r = await run([...args.slice(0, -1), '--hex', SEED20]);
      expectOneLineError(r, 2, 'ERR_USAGE');
      expect(r.err).toContain('octal');
    }
    expect((await run(['code', '--hotp', '-c', '0', '--hex', SEED20])).out).toBe('755224\n');
    expect((await run(['code', '--hotp', '-c', '8', '--hex', SEED20])).out).toBe('399871\n');
  });

  it('accepts --totp=MODE as oathtool does (SHA1, SHA256, SHA512 in any case) and refuses the rest, which oathtool reads as SHA1', async () => {
    expect(
      (await run(['code', '--hex', '--totp=sha256', '-N', '@59', '-d', '8', SEED32])).out,
    ).toBe('46119246\n');
    expect(
      (await run(['code', '--hex', '--totp=Sha512', '-N', '@59', '-d', '8', SEED64])).out,
    ).toBe('90693936\n');
    for (const mode of ['SHA-256', 'sha-1', 'MD5', 'SHA384', '']) {
      const r = await run(['code', '--hex', `--totp=${mode}`, SEED32]);
      expectOneLineError(r, 2, 'ERR_USAGE');
      expect(r.err).toContain('--totp=MODE expects SHA1, SHA256 or SHA512');
    }
    // --algorithm is otpkit's own and keeps accepting SHA-256
    expect(
      (await run(['code', '--hex', '--algorithm', 'SHA-256', '-N', '@59', '-d', '8', SEED32])).out,
    ).toBe('46119246\n');
  });

  it('verify --hotp -w N accepts the counters C..C+N, as oathtool does', async () => {
    const verify = (c: number, w: number): Promise<Run> =>
      run(['verify', rfc4226[3]!, '--hotp', '-c', String(c), '-w', String(w), '--hex', SEED20]);
    expect(await verify(1, 2)).toEqual({ code: 0, out: 'ok counter=3 next=4\n', err: '' });
    expect(await verify(3, 0)).toEqual({ code: 0, out: 'ok counter=3 next=4\n', err: '' });
    expect(await verify(0, 3)).toEqual({ code: 0, out: 'ok counter=3 next=4\n', err: '' });
    expect(await verify(1, 1)).toEqual({ code: 1, out: 'invalid\n', err: '' });
    expect(await verify(0, 2)).toEqual({ code: 1, out: 'invalid\n', err: '' });
    expect(await verify(4, 99)).toEqual({ code: 1, out: 'invalid\n', err: '' });
    // -w N is --look-ahead N+1
    for (let w = 0; w <= 4; w++) {
      const viaLookAhead = await run([
        'verify',
        rfc4226[3]!,
        '--hotp',
        '--look-ahead',
        String(w + 1),
        '--hex',
        SEED20,
      ]);
      expect((await verify(0, w)).out).toBe(viaLookAhead.out);
    }
  });

  it('refuses an option given twice, as oathtool does, instead of keeping the last one', async () => {
    for (const args of [
      ['code', '-N', '@1', '-N', '@100', '--hex', SEED20],
      ['code', '-d', '6', '--digits', '8', '--hex', SEED20],
      ['code', '--hotp', '-c', '1', '-c', '2', '--hex', SEED20],
      ['verify', '969429', '--hotp', '-w', '9', '-w', '3', '--hex', SEED20],
      ['uri', '--account', 'a', '--account', 'b', B32],
    ]) {
      const r = await run(args);
      expectOneLineError(r, 2, 'ERR_USAGE');
      expect(r.err).toMatch(/--[a-z]+ is given more than once/);
      expect(r.err).not.toContain(SEED20);
    }
    expect((await run(['code', '--hex', '--hex', '-N', '@59', '-d', '8', SEED20])).out).toBe(
      '94287082\n',
    ); // a repeated flag is harmless
  });

  it("reads KEY '@FILE' from the file, as oathtool does", async () => {
    const file = join(tmp, 'oath.key');
    writeFileSync(file, `${SEED20}\n`);
    expect(await run(['code', '--hex', '-N', '@59', '-d', '8', `@${file}`])).toEqual({
      code: 0,
      out: '94287082\n',
      err: '',
    });
    expect(
      (await run(['verify', '94287082', '--hex', '-N', '@59', '-d', '8', `@${file}`])).out,
    ).toBe('ok delta=0\n');
    expectOneLineError(await run(['code', '--hex', `@${join(tmp, 'missing.key')}`]), 1, 'ERR_FILE');
    expectOneLineError(
      await run(['code', '--hex', `@${file}`, '--secret-file', file]),
      2,
      'ERR_USAGE',
    );
  });
});

describe('otpkit uri --qr / demo: the terminal QR code', () => {
  const uriArgs = ['uri', '--account', 'alice@example.com', '--issuer', 'ACME', B32, '--qr'];
  const split = (out: string): { uri: string; qr: string } => {
    const [uri = '', blank, ...qr] = out.replace(/\n$/, '').split('\n');
    expect(blank).toBe('');
    return { uri, qr: qr.join('\n') };
  };

  it('is coloured black on white on a terminal, and plain text in a pipe or file', async () => {
    const tty = await runOnTerminal(uriArgs);
    expect(tty.code).toBe(0);
    const { uri, qr } = split(tty.out);
    expect(parseOtpauthURI(uri).account).toBe('alice@example.com');
    expect(qr).toBe(renderQRCodeText(uri, { ansi: true }));
    const piped = await run(uriArgs);
    expect(split(piped.out)).toEqual({ uri, qr: renderQRCodeText(uri) });
    expect(piped.out).not.toContain('\x1b');
  });

  it('honours --color, NO_COLOR and TERM=dumb', async () => {
    const uri = split((await run(uriArgs)).out).uri;
    const ansi = renderQRCodeText(uri, { ansi: true });
    const plain = renderQRCodeText(uri);
    expect(split((await run([...uriArgs, '--color', 'always'])).out).qr).toBe(ansi);
    expect(split((await run([...uriArgs, '--color=auto'])).out).qr).toBe(plain);
    expect(split((await runOnTerminal([...uriArgs, '--color', 'never'])).out).qr).toBe(plain);
    expect(split((await runOnTerminal([...uriArgs, '--color', 'auto'])).out).qr).toBe(ansi);
    expect(split((await runOnTerminal(uriArgs, { NO_COLOR: '1' })).out).qr).toBe(plain);
    expect(split((await runOnTerminal(uriArgs, { NO_COLOR: '' })).out).qr).toBe(ansi); // empty: not set
    expect(split((await runOnTerminal(uriArgs, { TERM: 'dumb' })).out).qr).toBe(plain);
    expect(
      split((await runOnTerminal([...uriArgs, '--color', 'always'], { NO_COLOR: '1' })).out).qr,
    ).toBe(ansi);
  });

  it('--invert draws the light modules, uncoloured, on a terminal too', async () => {
    const uri = split((await run(uriArgs)).out).uri;
    const inverted = renderQRCodeText(uri, { invert: true });
    expect(split((await runOnTerminal([...uriArgs, '--invert'])).out).qr).toBe(inverted);
    expect(split((await run([...uriArgs, '--invert', '--color', 'never'])).out).qr).toBe(inverted);
  });

  it('refuses meaningless QR options', async () => {
    for (const args of [
      [...uriArgs, '--color', 'sometimes'],
      [...uriArgs, '--color'],
      [...uriArgs, '--invert', '--color', 'always'],
      ['uri', '--account', 'a', B32, '--invert'], // no --qr
      ['uri', '--account', 'a', B32, '--color', 'never'],
      ['demo', '--no-qr', '--invert'],
      ['demo', '--color', 'rainbow'],
    ]) {
      const r = await run(args);
      expectOneLineError(r, 2, 'ERR_USAGE');
      expect(r.err).not.toContain(B32);
    }
  });

  it('demo prints the coloured code on a terminal, a plain one with --color never, none with --no-qr', async () => {
    const uriOf = (out: string): string => /^ {4}(otpauth:\/\/\S+)$/m.exec(out)?.[1] ?? '';
    const tty = await runOnTerminal(['demo', '--fast']);
    expect(tty.code).toBe(0);
    expect(tty.out).toContain(`\n${renderQRCodeText(uriOf(tty.out), { ansi: true })}\n`);
    const never = await runOnTerminal(['demo', '--fast', '--color', 'never']);
    expect(never.out).toContain(`\n${renderQRCodeText(uriOf(never.out))}\n`);
    expect(never.out).not.toContain('\x1b');
    const none = await runOnTerminal(['demo', '--fast', '--no-qr']);
    expect(none.code).toBe(0);
    expect(none.out).not.toMatch(/[▀▄█]/);
  });
});
