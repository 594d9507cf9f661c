import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsQRModule from 'jsqr';
import { afterAll, describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import { runCli, type CliIO } from '../src/cli/index.js';
import { encodeBase32 } from '../src/base32.js';
import { generateHOTP } from '../src/hotp.js';
import { generateTOTP } from '../src/totp.js';
import { parseOtpauthURI } from '../src/uri.js';
import { verifyRecoveryCode } from '../src/recovery.js';

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

async function run(args: readonly string[], stdin?: string | Uint8Array, io: Partial<CliIO> = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdin: stdin === undefined ? undefined : (async function* () {
      yield stdin;
    })(),
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: {},
    ...io,
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
    rows.push(chars.map((c) => (c === '█' || c === '▀' ? 1 : 0)), chars.map((c) => (c === '█' || c === '▄' ? 1 : 0)));
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
    for (const c of ['secret', 'code', 'verify', 'uri', 'inspect', 'recovery', 'demo']) expect(r.out).toMatch(new RegExp(`^  ${c} `, 'm'));
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

  it.each(['secret', 'code', 'verify', 'uri', 'inspect', 'recovery', 'demo'])('%s --help', async (name) => {
    const r = await run([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(new RegExp(`^Usage: otpkit ${name}`));
    expect((await run([name, '-h'])).out).toBe(r.out);
    expect((await run(['help', name])).out).toBe(r.out);
    // --help wins over other, even invalid, arguments
    expect((await run([name, '--bogus', '--help'])).code).toBe(0);
  });

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
    expect((await run(['code', '--hex', '--totp=SHA256', '-N', '59', '-d', '8', SEED32])).out).toBe('46119246\n');
    expect((await run(['code', '--hex', '--algorithm', 'SHA512', '-N', '@59', '-d', '8', SEED64])).out).toBe('90693936\n');
    expect((await run(['code', '--hex', '--now', '2005-03-18T01:58:29Z', '-d', '8', SEED20])).out).toBe('07081804\n');
    expect((await run(['code', '--hex', '--now', '2603-10-11 11:33:20+00:00', '-d', '8', SEED20])).out).toBe('65353130\n');
  });

  it('prints RFC 4226 Appendix D codes with --hotp and -w', async () => {
    const r = await run(['code', '--hotp', '-c', '0', '-w', '9', '--hex', SEED20]);
    expect(r.out.split('\n').filter(Boolean)).toEqual([
      '755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489',
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
    expect((await run(['code', '--hotp', '-c', String(2n ** 64n - 2n), '-w', '5', '--hex', SEED20])).out.split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('prints the following TOTP steps with -w, honouring --period and --t0', async () => {
    const secret = Buffer.from(SEED20, 'hex');
    const r = await run(['code', '--hex', '-s', '60s', '-S', '@1000', '-N', '@100000', '-w', '2', SEED20]);
    const expected = [0, 1, 2].map((k) => generateTOTP(secret, { period: 60, t0: 1000, now: (100_000 + k * 60) * 1000 }));
    expect(r.out).toBe(`${expected.join('\n')}\n`);
    // '30' and '30s', --t0 and --start-time, --period and --time-step-size are the same
    const a = await run(['code', '--hex', '-s', '30', '--t0', '15', '-N', '@100000', SEED20]);
    const b = await run(['code', '--hex', '--time-step-size', '30s', '--start-time', '@15', '-N', '@100000', SEED20]);
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
    for (const key of [B32, B32.toLowerCase(), 'gezd gnbv gy3t qojq gezd gnbv gy3t qojq', 'GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ']) {
      expect((await run(['code', '-N', '@59', '-d', '8', key])).out).toBe('94287082\n');
      expect((await run(['code', '-b', '-N', '@59', '-d', '8', key])).out).toBe('94287082\n');
    }
  });

  it('reads the key from stdin (--secret-stdin or -), stripping the trailing newline', async () => {
    expect((await run(['code', '-N', '@59', '-d', '8', '--secret-stdin'], `${B32}\n`)).out).toBe('94287082\n');
    expect((await run(['code', '-N', '@59', '-d', '8', '-'], `${B32}\r\n`)).out).toBe('94287082\n');
    expect((await run(['code', '--hex', '-N', '@59', '-d', '8', '-'], new TextEncoder().encode(`${SEED20}\n`))).out).toBe('94287082\n');
  });

  it('reads the key from --secret-file', async () => {
    const file = join(tmp, 'key.txt');
    writeFileSync(file, `${B32}\n`);
    expect((await run(['code', '-N', '@59', '-d', '8', '--secret-file', file])).out).toBe('94287082\n');
    const hexFile = join(tmp, 'key.hex');
    writeFileSync(hexFile, SEED20);
    expect((await run(['code', '--hex', '-N', '@59', '-d', '8', '--secret-file', hexFile])).out).toBe('94287082\n');
  });

  it('refuses short legacy keys unless --allow-short-secret (10..15 bytes)', async () => {
    const short = '3132333435363738393031'; // 11 bytes
    const r = await run(['code', '--hex', short]);
    expectOneLineError(r, 1, 'ERR_SECRET_TOO_SHORT');
    expect(r.err).toContain('--allow-short-secret');
    expect(r.err).not.toContain(short);
    const ok = await run(['code', '--hex', '--allow-short-secret', '-N', '@59', short]);
    expect(ok.out).toBe(`${generateTOTP(Buffer.from(short, 'hex'), { now: 59_000, allowInsecureShortSecret: true })}\n`);
    expectOneLineError(await run(['code', '--hex', '--allow-short-secret', '313233343536373839']), 1, 'ERR_SECRET_TOO_SHORT');
    expectOneLineError(await run(['code', '--secret-stdin'], '\n'), 1, 'ERR_SECRET_EMPTY');
  });

  it('bad key data is exit 1, one line, and never echoes the key', async () => {
    const cases: [string[], string | undefined, string][] = [
      [['code', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1'], undefined, 'ERR_BASE32_CHAR'],
      [['code', SEED20], undefined, 'ERR_BASE32_CHAR'], // hex without --hex
      [['code', '--secret-stdin'], 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQG\n', 'ERR_BASE32_LENGTH'],
      [['code', '--hex', '-'], `${SEED20}zz`, 'ERR_HEX_CHAR'],
      [['code', '--hex', `${SEED20}3`], undefined, 'ERR_HEX_LENGTH'],
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
    expect(await run(['verify', at(now), '--hex', '-N', `@${now}`, SEED20])).toEqual({ code: 0, out: 'ok delta=0\n', err: '' });
    expect((await run(['verify', at(now - 30), '--hex', '-N', `@${now}`, SEED20])).out).toBe('ok delta=-1\n');
    expect((await run(['verify', at(now + 90), '--hex', '-N', `@${now}`, '-w', '3', SEED20])).out).toBe('ok delta=3\n');
  });

  it('refuses a wrong code (exit 1, invalid) and a malformed one (exit 1, malformed)', async () => {
    const far = at(now + 300) === at(now) ? '000000' : at(now + 300);
    expect(await run(['verify', far, '--hex', '-N', `@${now}`, SEED20])).toEqual({ code: 1, out: 'invalid\n', err: '' });
    expect(await run(['verify', at(now + 60), '--hex', '-N', `@${now}`, '--window', '0', SEED20])).toEqual({
      code: 1,
      out: 'invalid\n',
      err: '',
    });
    for (const token of ['12345', '1234567', '12 456', 'abcdef', '']) {
      expect(await run(['verify', token, '--hex', '-N', `@${now}`, SEED20])).toEqual({ code: 1, out: 'malformed\n', err: '' });
    }
  });

  it('verifies HOTP with --counter and --look-ahead', async () => {
    expect((await run(['verify', '969429', '--hotp', '--hex', SEED20])).out).toBe('ok counter=3 next=4\n');
    expect((await run(['verify', '969429', '--hotp', '-c', '2', '--look-ahead', '2', '--hex', SEED20])).out).toBe('ok counter=3 next=4\n');
    expect(await run(['verify', '969429', '--hotp', '-c', '4', '--hex', SEED20])).toEqual({ code: 1, out: 'invalid\n', err: '' });
    expect(await run(['verify', '969429', '--hotp', '--look-ahead', '3', '--hex', SEED20])).toEqual({ code: 1, out: 'invalid\n', err: '' });
  });

  it('reads the key from stdin and files like code', async () => {
    expect((await run(['verify', at(now), '-N', `@${now}`, '--secret-stdin'], `${B32}\n`)).out).toBe('ok delta=0\n');
    expect((await run(['verify', at(now), '-N', `@${now}`, '-'], `${B32}\n`)).out).toBe('ok delta=0\n');
    const file = join(tmp, 'verify.key');
    writeFileSync(file, B32);
    expect((await run(['verify', at(now), '-N', `@${now}`, '--secret-file', file])).out).toBe('ok delta=0\n');
  });

  it('usage errors are exit 2 and never echo the token', async () => {
    for (const args of [
      ['verify'],
      ['verify', '--hex', SEED20, '--secret-stdin'],
      ['verify', '123456', SEED20, 'extra'],
      ['verify', '123456', '--hex', '-w', '11', SEED20],
      ['verify', '123456', '--hex', '--look-ahead', '5', SEED20],
      ['verify', '123456', '--hex', '--hotp', '-w', '1', SEED20],
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
    expect(p).toMatchObject({ type: 'totp', account: 'alice@example.com', issuer: 'ACME Co', algorithm: 'SHA1', digits: 6 });
    expect(encodeBase32(p.secret)).toBe(B32);
    expect(r.err).toBe(''); // defaults: nothing to warn about
  });

  it('supports HOTP, non-default parameters (warned about on stderr) and key files', async () => {
    const file = join(tmp, 'uri.key');
    writeFileSync(file, `${SEED32}\n`);
    const r = await run(['uri', '--account', 'bob', '--hotp', '-c', '42', '-a', 'SHA256', '-d', '8', '--hex', '--secret-file', file]);
    expect(r.code).toBe(0);
    const p = parseOtpauthURI(r.out.trim());
    expect(p).toMatchObject({ type: 'hotp', account: 'bob', algorithm: 'SHA256', digits: 8, counter: 42n });
    expect(Buffer.from(p.secret).toString('hex')).toBe(SEED32);
    expect(r.err).toMatch(/^otpkit: warning: /m);
    expect(r.err).not.toContain(SEED32);
  });

  it('--generate makes a new secret; --qr adds the terminal QR code', async () => {
    const r = await run(['uri', '--account', 'carol', '--issuer', 'ACME', '--generate', '--qr', '--period', '30s']);
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
    expect((await run(['inspect', '--show-secret', uri])).out).toMatch(new RegExp(`^secret:\\s+${B32}$`, 'm'));
    const j = JSON.parse((await run(['inspect', '--json', uri])).out) as Record<string, unknown>;
    expect(j).toMatchObject({ type: 'totp', issuer: 'ACME', account: 'alice@example.com', digits: 8, period: 60, secretBits: 160 });
    expect(j.secret).toBeUndefined();
    expect(Array.isArray(j.warnings)).toBe(true);
    expect(JSON.parse((await run(['inspect', '--json', '--show-secret', uri])).out).secret).toBe(B32);
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
