/**
 * otpkit against other JS OTP libraries, in one run, on identical inputs: TOTP SHA1, 6 digits,
 * 30 s, a fixed time, the same 20-byte secret. Run with
 * `npx vitest bench --run bench/thirdparty/generate.bench.ts`.
 *
 * Fairness notes:
 * - otpauth: the TOTP object is built once outside the loop (its intended use), plus a variant
 *   that builds it per call, as a server handling many users does.
 * - otplib v13: the functional `generateSync`, given the base32 string (its documented input) and,
 *   separately, the raw bytes.
 * - @oslojs/otp: `generateTOTP(key, period, digits)` has no time parameter and reads the clock;
 *   the HMAC work is identical.
 */
import * as OTPAuth from 'otpauth';
import { generateSync, ScureBase32Plugin } from 'otplib';
import { generateTOTP as osloGenerateTOTP } from '@oslojs/otp';
import { bench, describe } from 'vitest';
import { decodeBase32, encodeBase32, generateTOTP } from '../../src/index.js';

const NOW = 1_700_000_000_000;
const key = Uint8Array.from({ length: 20 }, (_, i) => (i * 31 + 7) & 0xff);
const b32 = encodeBase32(key);
const otpauthTotp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(b32) });
const otpauthSecret = OTPAuth.Secret.fromBase32(b32);
const scure = new ScureBase32Plugin();

// All libraries agree before anything is measured.
{
  const expected = generateTOTP(key, { now: NOW });
  const others = [
    otpauthTotp.generate({ timestamp: NOW }),
    generateSync({ secret: b32, epoch: NOW / 1000 }),
    generateSync({ secret: key, epoch: NOW / 1000 }),
  ];
  if (others.some((c) => c !== expected))
    throw new Error(`libraries disagree: ${expected} vs ${others.join(', ')}`);
}

let sink = 0;

describe('TOTP SHA1 6 digits', () => {
  bench('otpkit generateTOTP (Uint8Array secret)', () => {
    sink ^= generateTOTP(key, { now: NOW }).length;
  });
  bench('otpauth TOTP#generate (object built once)', () => {
    sink ^= otpauthTotp.generate({ timestamp: NOW }).length;
  });
  bench('otpauth new TOTP(...).generate (per call)', () => {
    sink ^= new OTPAuth.TOTP({ secret: otpauthSecret }).generate({ timestamp: NOW }).length;
  });
  bench('otplib v13 generateSync (base32 secret)', () => {
    sink ^= generateSync({ secret: b32, epoch: NOW / 1000 }).length;
  });
  bench('otplib v13 generateSync (Uint8Array secret)', () => {
    sink ^= generateSync({ secret: key, epoch: NOW / 1000 }).length;
  });
  bench('@oslojs/otp generateTOTP (reads the clock)', () => {
    sink ^= osloGenerateTOTP(key, 30, 6).length;
  });
});

describe('base32 decode of a 20-byte secret', () => {
  bench('otpkit decodeBase32', () => {
    sink ^= decodeBase32(b32).length;
  });
  bench('otpauth Secret.fromBase32', () => {
    sink ^= OTPAuth.Secret.fromBase32(b32).bytes.length;
  });
  bench('otplib ScureBase32Plugin#decode', () => {
    sink ^= scure.decode(b32).length;
  });
});

export { sink };
