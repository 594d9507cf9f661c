/**
 * Differential tests: otpkit against (a) a node:crypto reference over random
 * inputs, and (b) two independent peers installed from Debian, oathtool (liboath, C) and pyotp
 * (Python), over a seeded corpus of ≥ 300 cases.
 *
 * Peer limits, checked against oathtool 2.6.7 and pyotp 2.6.0:
 * - oathtool's HOTP mode is HMAC-SHA1 only (`--hotp` takes no algorithm), so SHA256/SHA512 HOTP
 *   cases go to pyotp alone. TOTP covers all three algorithms in both peers.
 * - oathtool parses `-c` with strtoull: counters up to 2^64−1 (including ≥ 2^63) are exact, but
 *   2^64 and above silently saturate to 2^64−1, so no case goes past 2^64−1 (otpkit rejects those).
 * - oathtool `-w N` prints the codes for counters/steps C..C+N; cases keep C+N ≤ 2^64−1.
 * - Times go up to the year 9999 (253402300799 s): oathtool accepts `-N @<unix>` well beyond it,
 *   but pyotp goes through `datetime`, whose range ends at 9999-12-31; `counter_offset` keeps the
 *   extra window steps of pyotp inside that range.
 * - pyotp has no T0: TOTP with T0 is computed as pyotp TOTP at time (t − T0), which is the
 *   RFC 6238 definition.
 * (c) Importing base32 secrets with non-zero trailing pad bits (RFC 4648 §3.5), which pyotp and
 * oathtool decode by dropping those bits: with `ignoreTrailingBits`, otpkit decodes a seeded corpus
 * of such text (and pyotp's provisioning URIs carrying it) to the bytes both peers use, shown by
 * the codes all three compute and by oathtool's and pyotp's decoded key bytes.
 * Missing tools: in CI (`process.env.CI`) the peer tests FAIL; elsewhere they are skipped loudly.
 * Every fast-check property runs with a fixed seed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBase32,
  encodeBase32,
  generateHOTP,
  generateTOTP,
  parseOtpauthURI,
  type HashAlgorithm,
} from '../src/index.js';
import { refHOTP, refTOTP, toHex } from './fixtures/reference-hotp.js';
import { prng } from './_helpers.js';

const MAX = 2n ** 64n - 1n;
const YEAR_9999 = 253_402_300_799;
const ALGS: HashAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];

describe('(a) node:crypto reference', () => {
  const key = fc.uint8Array({ minLength: 16, maxLength: 100 });
  const algorithm = fc.constantFrom<HashAlgorithm>(...ALGS);
  const digits = fc.constantFrom(6, 7, 8);
  const counter = fc.oneof(
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: 0, max: 2 ** 33 }),
    fc.bigInt({ min: 0n, max: MAX }),
    fc.bigInt({ min: MAX - 1000n, max: MAX }),
    fc.bigInt({ min: 2n ** 53n - 10n, max: 2n ** 53n + 10n }),
    fc.constantFrom(
      0,
      1,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      Number.MAX_SAFE_INTEGER,
      2n ** 63n,
      MAX,
    ),
  );

  it('generateHOTP equals createHmac-based HOTP for random keys (16..100 B), counters, algorithms, digits', () => {
    fc.assert(
      fc.property(key, counter, algorithm, digits, (k, c, alg, d) => {
        expect(generateHOTP(k, c, { algorithm: alg, digits: d })).toBe(refHOTP(alg, k, c, d));
      }),
      { numRuns: 2000, seed: 0xc805 },
    );
  });

  it('generateTOTP equals the reference for random times up to year 9999, periods and t0', () => {
    fc.assert(
      fc.property(
        key,
        fc.integer({ min: 0, max: YEAR_9999 }),
        fc.integer({ min: 1, max: 120 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        algorithm,
        digits,
        (k, s, period, frac, alg, d) => {
          const t0 = Math.floor(s * frac);
          expect(generateTOTP(k, { now: s * 1000, period, t0, algorithm: alg, digits: d })).toBe(
            refTOTP(alg, k, s, d, period, t0),
          );
        },
      ),
      { numRuns: 1000, seed: 0xc806 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (b) Peers
// ---------------------------------------------------------------------------------------------

interface PeerCase {
  readonly id: number;
  readonly kind: 'hotp' | 'totp';
  readonly algorithm: HashAlgorithm;
  readonly digits: number;
  readonly keyHex: string;
  /** HOTP: the first counter (decimal string, up to 2^64−1). */
  readonly counter?: string;
  /** TOTP: Unix seconds, period and T0. */
  readonly time?: number;
  readonly period?: number;
  readonly t0?: number;
  /** How many extra consecutive counters/steps are compared (oathtool -w). */
  readonly extra: number;
}

const WINDOW_EXTRA = 2;

function buildCases(): PeerCase[] {
  const rnd = prng(0x07b1c17);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const u64 = (): bigint => (BigInt(int(0, 0xffff_ffff)) << 32n) | BigInt(int(0, 0xffff_ffff));
  const key = (): string => {
    const n = pick([16, 20, 32, 64, int(16, 100)]);
    return toHex(Uint8Array.from({ length: n }, () => int(0, 255)));
  };
  const cases: PeerCase[] = [];
  let id = 0;

  // HOTP: SHA1 for both peers; SHA256/SHA512 for pyotp only (see header).
  const counters: Array<() => bigint> = [
    () => BigInt(int(0, 1000)),
    () => 2n ** 32n - 3n + BigInt(int(0, 5)),
    () => BigInt(int(0, 2 ** 32)) + 2n ** 32n,
    () => 2n ** 53n - 3n + BigInt(int(0, 6)),
    () => 2n ** 63n - 3n + BigInt(int(0, 6)),
    () => MAX - BigInt(WINDOW_EXTRA) - BigInt(int(0, 20)),
    () => (u64() > MAX - 10n ? MAX - 10n : u64()),
  ];
  for (let i = 0; i < 140; i++)
    cases.push({
      id: id++,
      kind: 'hotp',
      algorithm: i < 100 ? 'SHA1' : pick(['SHA256', 'SHA512'] as const),
      digits: int(6, 8),
      keyHex: key(),
      counter: (counters[i % counters.length] as () => bigint)().toString(),
      extra: WINDOW_EXTRA,
    });

  // TOTP: all algorithms, digits 6–8, periods 15/30/60/90, T0 values, times past 2038 up to 9999.
  const times: Array<(period: number) => number> = [
    () => int(0, 2 ** 31 - 1),
    () => 2 ** 31 - 2 + int(0, 4),
    () => 2 ** 32 - 2 + int(0, 4),
    () => int(2 ** 32, 20_000_000_000),
    () => 20_000_000_000 + int(-3, 3),
    () => int(20_000_000_000, YEAR_9999 - 400),
    () => YEAR_9999 - 400 + int(0, 100),
    (p) => p * int(1, 1e8) - 1, // the last second of a step
    (p) => p * int(1, 1e8), // the first second of a step
  ];
  for (let i = 0; i < 240; i++) {
    const period = pick([15, 30, 60, 90]);
    const time = (times[i % times.length] as (p: number) => number)(period);
    const t0 = pick([0, 0, 0, int(0, 1000), int(0, time), Math.min(time, 1_000_000_000)]);
    cases.push({
      id: id++,
      kind: 'totp',
      algorithm: ALGS[i % 3] as HashAlgorithm,
      digits: int(6, 8),
      keyHex: key(),
      time,
      period,
      t0,
      extra: WINDOW_EXTRA,
    });
  }
  return cases;
}

/** otpkit's codes for a case: counters C..C+extra, or steps at time + i·period. */
function ours(c: PeerCase): string[] {
  const key = Buffer.from(c.keyHex, 'hex');
  const secret = new Uint8Array(key.buffer, key.byteOffset, key.length);
  const out: string[] = [];
  for (let i = 0; i <= c.extra; i++) {
    if (c.kind === 'hotp')
      out.push(
        generateHOTP(secret, BigInt(c.counter as string) + BigInt(i), {
          algorithm: c.algorithm,
          digits: c.digits,
        }),
      );
    else
      out.push(
        generateTOTP(secret, {
          now: ((c.time as number) + i * (c.period as number)) * 1000,
          period: c.period as number,
          t0: c.t0 as number,
          algorithm: c.algorithm,
          digits: c.digits,
        }),
      );
  }
  return out;
}

function findOathtool(): string | undefined {
  for (const bin of ['/usr/bin/oathtool', 'oathtool']) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (r.status === 0 && /oathtool/i.test(r.stdout)) return bin;
  }
  return undefined;
}

function findPyotpPython(): string | undefined {
  // `python3` on PATH may be a pyenv interpreter without pyotp: prefer the system one.
  for (const bin of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(bin, ['-c', 'import pyotp'], { encoding: 'utf8' });
    if (r.status === 0) return bin;
  }
  return undefined;
}

/** Fails in CI, otherwise skips loudly: a missing oracle must never pass silently in CI. */
function requireTool(name: string, found: string | undefined, install: string): found is string {
  if (found !== undefined) return true;
  const msg = `${name} not found. Install it (${install}) to run the differential tests.`;
  if (process.env.CI) throw new Error(`CI requires ${msg}`);
  console.warn(`\n⚠⚠⚠ SKIPPING ${name} cross-check: ${msg} ⚠⚠⚠\n`);
  return false;
}

const PYOTP_SCRIPT = String.raw`
import base64, datetime, hashlib, json, sys
import pyotp
DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}
out = []
for c in json.load(sys.stdin):
    b32 = base64.b32encode(bytes.fromhex(c["keyHex"])).decode()
    digest = DIGESTS[c["algorithm"]]
    if c["kind"] == "hotp":
        h = pyotp.HOTP(b32, digits=c["digits"], digest=digest)
        first = int(c["counter"])
        out.append([h.at(first + i) for i in range(c["extra"] + 1)])
    else:
        t = pyotp.TOTP(b32, digits=c["digits"], digest=digest, interval=c["period"])
        # pyotp has no T0: TOTP(t; T0) = TOTP(t - T0; 0). Timezone-aware, so no local-time DST skew.
        when = datetime.datetime.fromtimestamp(c["time"] - c["t0"], tz=datetime.timezone.utc)
        out.append([t.at(when, counter_offset=i) for i in range(c["extra"] + 1)])
json.dump(out, sys.stdout)
`;

describe('(b) peers: oathtool and pyotp', () => {
  const cases = buildCases();

  it('the corpus has ≥ 300 cases covering the required ranges', () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
    const hotp = cases.filter((c) => c.kind === 'hotp');
    const totp = cases.filter((c) => c.kind === 'totp');
    expect(hotp.some((c) => BigInt(c.counter as string) > 2n ** 32n)).toBe(true);
    expect(hotp.some((c) => BigInt(c.counter as string) > 2n ** 53n)).toBe(true);
    expect(hotp.some((c) => BigInt(c.counter as string) >= 2n ** 63n)).toBe(true);
    expect(
      hotp.some(
        (c) =>
          BigInt(c.counter as string) + BigInt(c.extra) === MAX ||
          BigInt(c.counter as string) > MAX - 30n,
      ),
    ).toBe(true);
    expect(totp.some((c) => (c.time as number) > 2 ** 32)).toBe(true);
    expect(totp.some((c) => (c.time as number) > 250_000_000_000)).toBe(true);
    expect(totp.some((c) => c.t0 !== 0)).toBe(true);
    for (const a of ALGS) expect(totp.some((c) => c.algorithm === a)).toBe(true);
    for (const p of [15, 30, 60, 90]) expect(totp.some((c) => c.period === p)).toBe(true);
    for (const d of [6, 7, 8]) expect(cases.some((c) => c.digits === d)).toBe(true);
    expect(
      cases.filter((c) => c.kind === 'totp' || c.algorithm === 'SHA1').length,
    ).toBeGreaterThanOrEqual(300);
  });

  it('oathtool (liboath) agrees on every case it supports', (ctx) => {
    const bin = findOathtool();
    if (!requireTool('oathtool', bin, 'apt-get install oathtool'))
      return ctx.skip('oathtool not installed');
    // Sanity: the tool reproduces RFC 4226 / RFC 6238 vectors.
    const rfc = '3132333435363738393031323334353637383930';
    expect(
      execFileSync(bin, ['--hotp', '-c', '0', '-w', '1', rfc], { encoding: 'utf8' })
        .trim()
        .split('\n'),
    ).toEqual(['755224', '287082']);
    expect(
      execFileSync(bin, ['--totp', '-d', '8', '-N', '@20000000000', rfc], {
        encoding: 'utf8',
      }).trim(),
    ).toBe('65353130');

    const supported = cases.filter((c) => c.kind === 'totp' || c.algorithm === 'SHA1');
    let compared = 0;
    for (const c of supported) {
      // One oathtool run per case; -w batches the extra consecutive counters/steps.
      const args =
        c.kind === 'hotp'
          ? [
              '--hotp',
              '-d',
              String(c.digits),
              '-c',
              c.counter as string,
              '-w',
              String(c.extra),
              c.keyHex,
            ]
          : [
              `--totp=${c.algorithm}`,
              '-d',
              String(c.digits),
              '-s',
              `${c.period}s`,
              '-S',
              `@${c.t0}`,
              '-N',
              `@${c.time}`,
              '-w',
              String(c.extra),
              c.keyHex,
            ];
      const got = execFileSync(bin, args, { encoding: 'utf8' }).trim().split('\n');
      expect({ id: c.id, codes: got }, JSON.stringify(c)).toEqual({ id: c.id, codes: ours(c) });
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(300);
  });

  it('pyotp agrees on every case (one batched python process)', (ctx) => {
    const bin = findPyotpPython();
    if (!requireTool('python3 with pyotp', bin, 'apt-get install python3-pyotp'))
      return ctx.skip('pyotp not installed');
    const stdout = execFileSync(bin, ['-c', PYOTP_SCRIPT], {
      input: JSON.stringify(cases),
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
      maxBuffer: 16 << 20,
    });
    const theirs = JSON.parse(stdout) as string[][];
    expect(theirs).toHaveLength(cases.length);
    cases.forEach((c, i) => {
      expect({ id: c.id, codes: theirs[i] }, JSON.stringify(c)).toEqual({
        id: c.id,
        codes: ours(c),
      });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// (c) base32 with non-zero trailing bits: ignoreTrailingBits against pyotp and oathtool
// ---------------------------------------------------------------------------------------------

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

interface TrailingCase {
  readonly id: number;
  /** Base32 text with non-zero pad bits, as another tool would store it. */
  readonly text: string;
  readonly kind: 'hotp' | 'totp';
  readonly algorithm: HashAlgorithm;
  readonly digits: number;
  readonly counter: string;
  readonly time: number;
  readonly period: number;
}

/**
 * Seeded corpus of non-canonical base32: half are random characters (how generators that pick
 * characters rather than bytes, such as pyotp's `random_base32`, make secrets) at lengths that
 * leave pad bits (mod 8 = 2, 4, 5 or 7), half are encodings of random bytes with random
 * non-zero pad bits; some are `=`-padded.
 */
function buildTrailingCases(): TrailingCase[] {
  const rnd = prng(0x3a5e);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const out: TrailingCase[] = [];
  for (let id = 0; id < 200; id++) {
    let text: string;
    if (id % 2 === 0) {
      // 16..103 characters with a remainder that leaves pad bits: 10..64 bytes.
      const len = 8 * int(2, 12) + ([2, 4, 5, 7][int(0, 3)] as number);
      text = Array.from({ length: len }, () => B32[int(0, 31)]).join('');
    } else {
      let n = int(10, 64);
      if (n % 5 === 0) n++; // a multiple of 5 bytes has no pad bits
      text = encodeBase32(Uint8Array.from({ length: n }, () => int(0, 255)));
    }
    const padBits = (5 * text.length) % 8;
    const last = B32.indexOf(text.at(-1) as string);
    if ((last & ((1 << padBits) - 1)) === 0)
      text = text.slice(0, -1) + B32[last | (1 << int(0, padBits - 1))];
    if (id % 7 === 3) text += '='.repeat((8 - (text.length % 8)) % 8);
    const kind = id % 3 === 0 ? 'hotp' : 'totp';
    out.push({
      id,
      text,
      kind,
      // oathtool's HOTP is SHA-1 only; TOTP covers all three.
      algorithm: kind === 'hotp' ? 'SHA1' : (ALGS[id % 3] as HashAlgorithm),
      digits: int(6, 8),
      counter: String(int(0, 2 ** 31)),
      time: int(0, 4_000_000_000),
      period: [30, 60, 15][id % 3] as number,
    });
  }
  return out;
}

/** otpkit's bytes and codes (this step or counter and the next one) for a case. */
function oursTrailing(c: TrailingCase): { hex: string; codes: string[] } {
  const secret = decodeBase32(c.text, { ignoreTrailingBits: true });
  const o = { algorithm: c.algorithm, digits: c.digits, allowInsecureShortSecret: true };
  const codes =
    c.kind === 'hotp'
      ? [0n, 1n].map((i) => generateHOTP(secret, BigInt(c.counter) + i, o))
      : [0, 1].map((i) =>
          generateTOTP(secret, { ...o, now: (c.time + i * c.period) * 1000, period: c.period }),
        );
  return { hex: toHex(secret), codes };
}

const PYOTP_TRAILING = String.raw`
import hashlib, json, sys, datetime
import pyotp
D = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}
job = json.load(sys.stdin)
out = {"cases": [], "refused": []}
for c in job["cases"]:
    kw = dict(digits=c["digits"], digest=D[c["algorithm"]])
    if c["kind"] == "hotp":
        otp = pyotp.HOTP(c["text"], **kw)
        codes = [otp.at(int(c["counter"]) + i) for i in range(2)]
        uri = otp.provisioning_uri(name="alice@example.com", initial_count=int(c["counter"]), issuer_name="ACME Co")
    else:
        otp = pyotp.TOTP(c["text"], interval=c["period"], **kw)
        when = datetime.datetime.fromtimestamp(c["time"], tz=datetime.timezone.utc)
        codes = [otp.at(when, counter_offset=i) for i in range(2)]
        uri = otp.provisioning_uri(name="alice@example.com", issuer_name="ACME Co")
    out["cases"].append({"hex": otp.byte_secret().hex(), "codes": codes, "uri": uri})
for text in job["refused"]:
    try:
        pyotp.TOTP(text).byte_secret()
        out["refused"].append(None)
    except Exception as e:
        out["refused"].append(type(e).__name__)
json.dump(out, sys.stdout)
`;

describe('(c) importing non-canonical base32: ignoreTrailingBits against pyotp and oathtool', () => {
  const cases = buildTrailingCases();
  /** Lengths ≡ 1, 3, 6 (mod 8): no byte string encodes to them. */
  const badLengths = [
    'M',
    'MZX',
    'MZXW6Y',
    'JBSWY3DPE',
    'JBSWY3DPEHP',
    'JBSWY3DPEHPK3P',
    'JBSWY3DPEHPK3PXPA7Q',
    'GEZDGNBVGY3TQOJQGEZDGN',
    'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQG',
  ];
  it('the refused lengths are ≡ 1, 3 or 6 (mod 8)', () => {
    for (const t of badLengths) expect([1, 3, 6]).toContain(t.length % 8);
  });

  it('the corpus is non-canonical throughout, so strict decoding refuses every case', () => {
    expect(cases).toHaveLength(200);
    for (const c of cases) {
      let code: unknown;
      try {
        decodeBase32(c.text);
      } catch (e) {
        code = (e as { code?: unknown }).code;
      }
      expect(code, c.text).toBe('ERR_BASE32_NONCANONICAL');
    }
    expect(cases.some((c) => c.text.endsWith('='))).toBe(true);
    expect(new Set(cases.map((c) => c.text.replace(/=+$/, '').length % 8))).toEqual(
      new Set([2, 4, 5, 7]),
    );
  });

  it("oathtool decodes every case to otpkit's bytes and computes otpkit's codes", (ctx) => {
    const bin = findOathtool();
    if (!requireTool('oathtool', bin, 'apt-get install oathtool'))
      return ctx.skip('oathtool not installed');
    for (const c of cases) {
      const args =
        c.kind === 'hotp'
          ? ['-v', '-b', '--hotp', '-d', String(c.digits), '-c', c.counter, '-w', '1', c.text]
          : [
              '-v',
              '-b',
              `--totp=${c.algorithm}`,
              '-d',
              String(c.digits),
              '-s',
              `${c.period}s`,
              '-N',
              `@${c.time}`,
              '-w',
              '1',
              c.text,
            ];
      const lines = execFileSync(bin, args, { encoding: 'utf8' }).trim().split('\n');
      const hex = lines.find((l) => l.startsWith('Hex secret: '))?.slice('Hex secret: '.length);
      expect({ id: c.id, hex, codes: lines.slice(-2) }, c.text).toEqual({
        id: c.id,
        ...oursTrailing(c),
      });
    }
  });

  it('oathtool refuses the lengths otpkit refuses even with the opt-in', (ctx) => {
    const bin = findOathtool();
    if (!requireTool('oathtool', bin, 'apt-get install oathtool'))
      return ctx.skip('oathtool not installed');
    for (const text of badLengths) {
      const r = spawnSync(bin, ['-b', '--totp', '-N', '@0', text], { encoding: 'utf8' });
      expect(r.status, text).not.toBe(0);
      expect(r.stderr).toMatch(/base32 decoding failed/);
      expect(() => decodeBase32(text, { ignoreTrailingBits: true })).toThrow(
        expect.objectContaining({ code: 'ERR_BASE32_LENGTH' }),
      );
    }
  });

  it("pyotp decodes every case to otpkit's bytes and codes, and its URIs import with the opt-in (one python process)", (ctx) => {
    const bin = findPyotpPython();
    if (!requireTool('python3 with pyotp', bin, 'apt-get install python3-pyotp'))
      return ctx.skip('pyotp not installed');
    const stdout = execFileSync(bin, ['-c', PYOTP_TRAILING], {
      input: JSON.stringify({ cases, refused: badLengths }),
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
      maxBuffer: 16 << 20,
    });
    const theirs = JSON.parse(stdout) as {
      cases: { hex: string; codes: string[]; uri: string }[];
      refused: (string | null)[];
    };
    expect(theirs.cases).toHaveLength(cases.length);
    cases.forEach((c, i) => {
      const t = theirs.cases[i] as { hex: string; codes: string[]; uri: string };
      expect({ id: c.id, hex: t.hex, codes: t.codes }, c.text).toEqual({
        id: c.id,
        ...oursTrailing(c),
      });
      // The enrollment URI pyotp writes for that secret: refused strictly, imported with the opt-in.
      const opts = { allowInsecureShortSecret: true };
      expect(() => parseOtpauthURI(t.uri, opts), t.uri).toThrow(
        expect.objectContaining({ code: 'ERR_URI_SECRET' }),
      );
      const p = parseOtpauthURI(t.uri, { ...opts, ignoreTrailingBits: true });
      expect(toHex(p.secret)).toBe(t.hex);
      expect(p).toMatchObject({
        type: c.kind,
        account: 'alice@example.com',
        issuer: 'ACME Co',
        algorithm: c.algorithm,
        digits: c.digits,
      });
      if (c.kind === 'hotp')
        expect(generateHOTP(p.secret, p.counter as bigint, { ...opts, digits: c.digits })).toBe(
          t.codes[0],
        );
      else
        expect(
          generateTOTP(p.secret, {
            ...opts,
            now: c.time * 1000,
            period: p.period as number,
            algorithm: p.algorithm,
            digits: p.digits,
          }),
        ).toBe(t.codes[0]);
    });
    // pyotp raises for the lengths otpkit refuses (binascii.Error: Incorrect padding).
    expect(theirs.refused).toEqual(badLengths.map(() => 'Error'));
  });
});
