/**
 * TOTP verification, otpkit against other JS OTP libraries, in one run, on identical inputs:
 * SHA1, 6 digits, 30 s, a fixed time, the same 20-byte secret, the same token and window. Run with
 * `npx vitest bench --run bench/thirdparty/verify.bench.ts` (the README tables come from
 * `bench/report.mjs`, which times the built package the same way).
 *
 * Cases: a correct token with window ±1; a wrong token with window ±1 (the brute-force path);
 * a wrong token with window ±10. Window equivalence (each is checked below before timing):
 * - otpauth `validate({ window: w })`: steps −w..+w, current step first, stops on a match; the
 *   TOTP object built once (its intended use), plus a variant that builds it per call.
 * - otplib v13 `verifySync({ epochTolerance: 30 × w })`: steps floor((t − 30w)/30)..floor((t + 30w)/30),
 *   exactly −w..+w; stops on a match, from the oldest step.
 * - @oslojs/otp `verifyTOTPWithGracePeriod(key, 30, 6, otp, 30 × w)`: the same range, stops on a
 *   match. It has no time parameter and reads `Date.now()`, pinned here to the fixed time for each
 *   call; `verifyTOTP` checks the current step only (no window) and is shown for reference.
 * - otpkit `verifyTOTP` computes and compares every step, match or not (no early exit).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { verifySync } from 'otplib';
import {
  verifyTOTP as osloVerifyTOTP,
  verifyTOTPWithGracePeriod as osloVerifyTOTPWithGracePeriod,
} from '@oslojs/otp';
import { bench, describe } from 'vitest';
import { encodeBase32, generateTOTP, verifyTOTP } from '../../src/index.js';

const NOW = 1_700_000_000_000;
const STEP = Math.floor(NOW / 30_000);
const key = Uint8Array.from({ length: 20 }, (_, i) => (i * 31 + 7) & 0xff);
const b32 = encodeBase32(key);
const otpauthSecret = OTPAuth.Secret.fromBase32(b32);
const otpauthTotp = new OTPAuth.TOTP({ secret: otpauthSecret });

/** Runs fn with Date.now() pinned to NOW (@oslojs/otp has no time parameter). */
function atNow<T>(fn: () => T): T {
  const realNow = Date.now;
  Date.now = () => NOW;
  try {
    return fn();
  } finally {
    Date.now = realNow;
  }
}

function nodeCode(step: number): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(msg).digest();
  const v = mac.readUInt32BE((mac[mac.length - 1] as number) & 0xf) & 0x7fff_ffff;
  return String(v % 1e6).padStart(6, '0');
}

/** The obvious constant-time verification on node:crypto: every step of ±w, compared with timingSafeEqual. */
function nodeVerify(token: string, window: number): boolean {
  const want = Buffer.from(token);
  let found = false;
  for (let d = -window; d <= window; d++) {
    const hit = timingSafeEqual(Buffer.from(nodeCode(STEP + d)), want);
    found = found || hit;
  }
  return found;
}

const good = generateTOTP(key, { now: NOW });
const codesWithin10 = new Set<string>();
for (let d = -10; d <= 10; d++) codesWithin10.add(generateTOTP(key, { now: NOW + d * 30_000 }));
let n = 0;
while (codesWithin10.has(String(n).padStart(6, '0'))) n++;
/** Well-formed, and no step within ±10 has it: every library computes every candidate. */
const wrong = String(n).padStart(6, '0');

const VERIFIERS: Readonly<Record<string, (token: string, w: number) => boolean>> = {
  'otpkit verifyTOTP': (token, w) => verifyTOTP(key, token, { now: NOW, window: w }).ok,
  'otpauth TOTP#validate (object built once)': (token, w) =>
    otpauthTotp.validate({ token, timestamp: NOW, window: w }) !== null,
  'otpauth new TOTP(...).validate (per call)': (token, w) =>
    new OTPAuth.TOTP({ secret: otpauthSecret }).validate({ token, timestamp: NOW, window: w }) !==
    null,
  'otplib v13 verifySync (base32 secret)': (token, w) =>
    verifySync({ secret: b32, token, epoch: NOW / 1000, epochTolerance: 30 * w }).valid,
  'otplib v13 verifySync (Uint8Array secret)': (token, w) =>
    verifySync({ secret: key, token, epoch: NOW / 1000, epochTolerance: 30 * w }).valid,
  '@oslojs/otp verifyTOTPWithGracePeriod (30 s per step)': (token, w) =>
    atNow(() => osloVerifyTOTPWithGracePeriod(key, 30, 6, token, 30 * w)),
  'baseline: node:crypto createHmac per step + timingSafeEqual': (token, w) => nodeVerify(token, w),
};

// Every library agrees on the correct token, the wrong token and the window edges before anything is timed.
for (const [name, verify] of Object.entries(VERIFIERS)) {
  for (const w of [1, 10]) {
    if (!verify(good, w)) throw new Error(`${name} rejects the correct token (window ${w})`);
    if (verify(wrong, w)) throw new Error(`${name} accepts the wrong token (window ${w})`);
    for (const d of [-w, w]) {
      if (!verify(generateTOTP(key, { now: NOW + d * 30_000 }), w))
        throw new Error(`${name} rejects delta ${d} (window ${w})`);
    }
  }
}
if (
  !atNow(() => osloVerifyTOTP(key, 30, 6, good)) ||
  atNow(() => osloVerifyTOTP(key, 30, 6, wrong))
)
  throw new Error('@oslojs/otp verifyTOTP disagrees');

let sink = 0;

const CASES = [
  { title: 'correct token, window ±1', token: good, w: 1 },
  { title: 'wrong token, window ±1 (brute-force path)', token: wrong, w: 1 },
  { title: 'wrong token, window ±10', token: wrong, w: 10 },
] as const;

for (const { title, token, w } of CASES) {
  describe(`TOTP SHA1 6 digits verification: ${title}`, () => {
    for (const [name, verify] of Object.entries(VERIFIERS)) {
      bench(name, () => {
        sink ^= verify(token, w) ? 1 : 0;
      });
    }
    if (w === 1) {
      bench('@oslojs/otp verifyTOTP (current step only: no window, not equivalent)', () => {
        sink ^= atNow(() => osloVerifyTOTP(key, 30, 6, token)) ? 1 : 0;
      });
    }
  });
}

export { sink };
