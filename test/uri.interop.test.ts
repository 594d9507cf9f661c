/**
 * otpauth:// interop: URIs written by pyotp (Debian python3-pyotp), otpauth (hectorm) and otplib v13
 * parse correctly with ours, and our URIs parse correctly with theirs.
 *
 * pyotp runs once, in one batched python3 process. Without python3-pyotp the pyotp part FAILS in
 * CI (`process.env.CI`) and is skipped with a loud warning elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as OTPAuth from 'otpauth';
import { generateURI as otplibGenerateURI } from 'otplib';
// otplib v13's URI parser lives in @otplib/uri (a dependency of otplib; otplib itself only generates).
import { parse as otplibParseURI } from '@otplib/uri';
import { encodeBase32 } from '../src/base32.js';
import { buildOtpauthURI } from '../src/uri/build.js';
import type { OtpauthParams } from '../src/uri/params.js';
import { parseOtpauthURI } from '../src/uri/parse.js';

type Algorithm = 'SHA1' | 'SHA256' | 'SHA512';

/** A deterministic secret of `n` bytes (distinct per case). */
const secretOf = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + 7) & 0xff);

/** Names that exercise encoding: spaces, reserved delimiters, '+', '%', '@', UTF-8 (2, 3 and 4 bytes). */
const ACCOUNTS = [
  'alice@example.com',
  'john doe',
  'ünïcode@例え.jp',
  'a+b@example.com',
  'x/y',
  '50% off',
  'a&b=c',
  'what?',
  'tag#1',
  '🔑 key',
  "o'neil (test)*!",
  '~user.name-_',
  'bob',
];
const ISSUERS = [
  'ACME Co',
  'Zoë Bank',
  'A+B',
  'Example',
  'R&D = fun?',
  '例え',
  'Percent %20 Inc',
  undefined,
];
const ALGORITHMS: readonly Algorithm[] = ['SHA1', 'SHA256', 'SHA512'];
const DIGITS = [6, 7, 8];
const PERIODS = [30, 60, 15, 1, 120];
const COUNTERS = [0n, 1n, 42n, 2n ** 53n - 1n, 2n ** 63n, 2n ** 64n - 1n];

interface Case {
  readonly type: 'totp' | 'hotp';
  readonly secret: Uint8Array;
  readonly account: string;
  readonly issuer: string | undefined;
  readonly algorithm: Algorithm;
  readonly digits: number;
  readonly period: number;
  readonly counter: bigint;
  readonly image: string | undefined;
}

/** A varied, deterministic matrix: every name, algorithm, digit count, period and counter appears. */
const CASES: readonly Case[] = Array.from({ length: 60 }, (_, i): Case => {
  const type = i % 3 === 2 ? 'hotp' : 'totp';
  return {
    type,
    secret: secretOf([20, 32, 64, 16, 26][i % 5] as number, i),
    account: ACCOUNTS[i % ACCOUNTS.length] as string,
    issuer: ISSUERS[i % ISSUERS.length],
    algorithm: ALGORITHMS[i % 3] as Algorithm,
    digits: DIGITS[Math.floor(i / 3) % 3] as number,
    period: PERIODS[i % PERIODS.length] as number,
    counter: COUNTERS[i % COUNTERS.length] as bigint,
    image: i % 7 === 0 ? `https://example.com/logo-${i}.png` : undefined,
  };
});

/** The fields of `c` that every generator can express, as parsing must give them back. */
function fields(c: Case): OtpauthParams {
  return {
    type: c.type,
    secret: c.secret,
    account: c.account,
    ...(c.issuer === undefined ? {} : { issuer: c.issuer }),
    algorithm: c.algorithm,
    digits: c.digits,
    ...(c.type === 'totp' ? { period: c.period } : { counter: c.counter }),
  };
}

/** What parsing a URI made from `c` must give: {@link fields}, plus the image where the generator wrote it. */
function expected(c: Case, opts: { image?: boolean } = {}): OtpauthParams {
  return {
    ...fields(c),
    ...(opts.image === true && c.image !== undefined ? { image: c.image } : {}),
  };
}

function ours(c: Case): string {
  return buildOtpauthURI(fields(c));
}

// ---------------------------------------------------------------------------------------------
// pyotp (Debian python3-pyotp)
// ---------------------------------------------------------------------------------------------

const PYTHON = '/usr/bin/python3';
const hasPyotp = spawnSync(PYTHON, ['-c', 'import pyotp'], { encoding: 'utf8' }).status === 0;
if (!hasPyotp)
  console.warn(
    `\n⚠⚠⚠ python3-pyotp is not installed: the pyotp URI interop test is ${process.env.CI ? 'FAILING (CI)' : 'SKIPPED'}. ` +
      'Install it with: apt-get install python3-pyotp ⚠⚠⚠\n',
  );

/** Generates URIs from `generate` and parses `parse` with pyotp, in one process. */
const PYOTP_SCRIPT = String.raw`
import hashlib, json, sys
import pyotp
D = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}
job = json.load(sys.stdin)
out = {"generated": [], "parsed": []}
for c in job["generate"]:
    kw = dict(digits=c["digits"], digest=D[c["algorithm"]])
    if c["type"] == "totp":
        otp = pyotp.TOTP(c["secret"], interval=c["period"], **kw)
        uri = otp.provisioning_uri(name=c["account"], issuer_name=c.get("issuer"), image=c.get("image"))
    else:
        otp = pyotp.HOTP(c["secret"], **kw)
        uri = otp.provisioning_uri(name=c["account"], initial_count=int(c["counter"]), issuer_name=c.get("issuer"), image=c.get("image"))
    out["generated"].append(uri)
for uri in job["parse"]:
    otp = pyotp.parse_uri(uri)
    r = {"secret": otp.secret, "name": otp.name, "issuer": otp.issuer, "digits": otp.digits, "algorithm": otp.digest().name.upper()}
    if isinstance(otp, pyotp.TOTP):
        r["period"] = otp.interval
    else:
        r["counter"] = str(otp.initial_count)
    out["parsed"].append(r)
json.dump(out, sys.stdout, ensure_ascii=False)
`;

/**
 * pyotp.parse_uri percent-decodes the *whole* URI before splitting it, so names containing
 * reserved characters (`?`, `&`, `#`, `%`, `/`, `+`, `=`) cannot survive its parser whoever
 * encoded them; our URIs are checked against it with names it can represent.
 */
const pyotpSafe = (s: string | undefined): boolean =>
  s === undefined || /^[\p{L}\p{N} @._~'()*!-]+$/u.test(s);

describe.skipIf(!hasPyotp && !process.env.CI)('pyotp (python3-pyotp)', () => {
  const ourCases = CASES.filter((c) => pyotpSafe(c.account) && pyotpSafe(c.issuer));
  let result: { generated: string[]; parsed: Record<string, string | number | null>[] } | undefined;
  const run = (): NonNullable<typeof result> => {
    if (!hasPyotp) throw new Error('CI requires python3-pyotp (apt-get install python3-pyotp)');
    if (result !== undefined) return result;
    const job = {
      generate: CASES.map((c) => ({
        type: c.type,
        secret: encodeBase32(c.secret),
        account: c.account,
        ...(c.issuer === undefined ? {} : { issuer: c.issuer }),
        algorithm: c.algorithm,
        digits: c.digits,
        period: c.period,
        counter: String(c.counter),
        ...(c.image === undefined ? {} : { image: c.image }),
      })),
      parse: ourCases.map(ours),
    };
    const r = spawnSync(PYTHON, ['-c', PYOTP_SCRIPT], {
      input: JSON.stringify(job),
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`pyotp failed: ${r.stderr}`);
    result = JSON.parse(r.stdout) as NonNullable<typeof result>;
    return result;
  };

  it('pyotp URIs parse with ours to the same parameters', () => {
    const { generated } = run();
    expect(generated).toHaveLength(CASES.length);
    CASES.forEach((c, i) => {
      const uri = generated[i] as string;
      expect(parseOtpauthURI(uri), uri).toEqual(expected(c, { image: true }));
    });
  });

  it('pyotp encodes the label with quote(): spaces as %20, "@" as %40, "/" kept raw', () => {
    const { generated } = run();
    const uri = generated[CASES.findIndex((c) => c.account === 'john doe')] as string;
    expect(uri).toContain('john%20doe');
    expect(generated[CASES.findIndex((c) => c.account === 'alice@example.com')]).toContain(
      'alice%40example.com',
    );
    expect(generated[CASES.findIndex((c) => c.account === 'x/y')]).toMatch(/[/:]x\/y\?/);
  });

  it('our URIs parse with pyotp.parse_uri to the same parameters', () => {
    const { parsed } = run();
    expect(ourCases.length).toBeGreaterThanOrEqual(12);
    expect(parsed).toHaveLength(ourCases.length);
    ourCases.forEach((c, i) => {
      const p = parsed[i] as Record<string, string | number | null>;
      expect(p.secret).toBe(encodeBase32(c.secret));
      expect(p.name).toBe(c.account);
      expect(p.issuer).toBe(c.issuer ?? null);
      expect(p.digits).toBe(c.digits);
      expect(p.algorithm).toBe(c.algorithm);
      if (c.type === 'totp') expect(p.period).toBe(c.period);
      else expect(p.counter).toBe(String(c.counter));
    });
  });
});

// ---------------------------------------------------------------------------------------------
// otpauth (hectorm/otpauth)
// ---------------------------------------------------------------------------------------------

describe('otpauth (hectorm)', () => {
  /** otpauth parses counters with parseInt: keep them within 2^53. */
  const cases = CASES.filter((c) => c.counter <= BigInt(Number.MAX_SAFE_INTEGER));

  function theirs(c: Case, issuerInLabel: boolean): string {
    const common = {
      issuer: c.issuer ?? '',
      label: c.account,
      issuerInLabel,
      secret: new OTPAuth.Secret({ buffer: c.secret.slice().buffer }),
      algorithm: c.algorithm,
      digits: c.digits,
    };
    return c.type === 'totp'
      ? new OTPAuth.TOTP({ ...common, period: c.period }).toString()
      : new OTPAuth.HOTP({ ...common, counter: Number(c.counter) }).toString();
  }

  it('TOTP/HOTP#toString() URIs parse with ours (issuer in the label, and in the parameter only)', () => {
    for (const c of cases) {
      for (const inLabel of [true, false]) {
        const uri = theirs(c, inLabel);
        expect(parseOtpauthURI(uri), uri).toEqual(expected(c));
      }
    }
  });

  it('our URIs parse with OTPAuth.URI.parse to the same secret, label, issuer and parameters', () => {
    for (const c of cases) {
      const uri = ours(c);
      const o = OTPAuth.URI.parse(uri);
      expect(o.secret.base32, uri).toBe(encodeBase32(c.secret));
      expect(o.label, uri).toBe(c.account);
      expect(o.issuer, uri).toBe(c.issuer ?? '');
      expect(o.algorithm, uri).toBe(c.algorithm);
      expect(o.digits, uri).toBe(c.digits);
      if (c.type === 'totp') {
        expect(o).toBeInstanceOf(OTPAuth.TOTP);
        expect((o as OTPAuth.TOTP).period, uri).toBe(c.period);
      } else {
        expect(o).toBeInstanceOf(OTPAuth.HOTP);
        expect((o as OTPAuth.HOTP).counter, uri).toBe(Number(c.counter));
      }
      // And both compute the same code.
      if (c.type === 'totp') {
        const t = 1_700_000_000_000;
        expect((o as OTPAuth.TOTP).generate({ timestamp: t })).toBe(
          new OTPAuth.TOTP({
            secret: new OTPAuth.Secret({ buffer: c.secret.slice().buffer }),
            algorithm: c.algorithm,
            digits: c.digits,
            period: c.period,
          }).generate({ timestamp: t }),
        );
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// otplib v13
// ---------------------------------------------------------------------------------------------

describe('otplib v13', () => {
  /** otplib keeps counters as safe-integer numbers. */
  const cases = CASES.filter((c) => c.counter <= BigInt(Number.MAX_SAFE_INTEGER));
  const lower = (a: Algorithm): 'sha1' | 'sha256' | 'sha512' =>
    a.toLowerCase() as 'sha1' | 'sha256' | 'sha512';

  it('generateURI() URIs parse with ours', () => {
    for (const c of cases) {
      const uri = otplibGenerateURI({
        strategy: c.type,
        issuer: c.issuer ?? '',
        label: c.account,
        secret: encodeBase32(c.secret),
        algorithm: lower(c.algorithm),
        digits: c.digits as 6 | 7 | 8,
        ...(c.type === 'totp' ? { period: c.period } : { counter: Number(c.counter) }),
      });
      expect(parseOtpauthURI(uri), uri).toEqual(expected(c));
    }
  });

  it('our URIs parse with @otplib/uri parse() to the same label and parameters', () => {
    for (const c of cases) {
      const uri = ours(c);
      const p = otplibParseURI(uri);
      expect(p.type, uri).toBe(c.type);
      expect(p.label, uri).toBe(c.issuer === undefined ? c.account : `${c.issuer}:${c.account}`);
      expect(p.params.secret, uri).toBe(encodeBase32(c.secret));
      expect(p.params.issuer, uri).toBe(c.issuer);
      expect(p.params.algorithm ?? 'sha1', uri).toBe(lower(c.algorithm));
      expect(p.params.digits ?? 6, uri).toBe(c.digits);
      if (c.type === 'totp') expect(p.params.period ?? 30, uri).toBe(c.period);
      else expect(p.params.counter, uri).toBe(Number(c.counter));
    }
  });
});
