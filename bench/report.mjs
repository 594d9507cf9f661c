#!/usr/bin/env node
/**
 * Prints Markdown comparison tables of otpkit (the BUILT package, dist/index.js) against other
 * JS OTP libraries, for the README. Build first: `npx tsup` (or `npm run build`), then
 * `ROUNDS=5 node bench/report.mjs`.
 *
 * Method: tinybench; each sample runs a batch of calls (single ~1 µs calls are below timer
 * resolution); every task is measured in ROUNDS rounds and the best round is kept, which damps
 * interference from other processes. Same inputs for every library: TOTP SHA1, 6 digits, 30 s,
 * a fixed timestamp, one 20-byte secret. Ratios are the reference's median time ÷ the task's
 * median time (the median resists scheduling noise on a busy machine better than the mean).
 *
 * Verification: the same token, timestamp and window for every library (checked before anything
 * is timed). Window equivalence:
 * - otpauth `validate({ window: w })` tries steps −w..+w (current step first, stops on a match);
 * - otplib v13 `verifySync({ epochTolerance: s })` tries steps floor((t − s)/30)..floor((t + s)/30):
 *   s = 30 × w is exactly −w..+w (it stops on a match, from the oldest step);
 * - @oslojs/otp `verifyTOTPWithGracePeriod(key, 30, 6, otp, g)` tries the same range for a grace
 *   period g = 30 × w seconds (stops on a match); it reads `Date.now()`, which its batches pin to
 *   the benchmark's timestamp; `verifyTOTP` tries the current step only;
 * - otpkit `verifyTOTP` computes and compares every step of the window, match or not (no early
 *   exit), so a correct token costs it as much as a wrong one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import os from 'node:os';
import { Bench } from 'tinybench';
import * as OTPAuth from 'otpauth';
import { generateSync, ScureBase32Plugin, verifySync } from 'otplib';
import {
  generateTOTP as osloGenerateTOTP,
  verifyTOTP as osloVerifyTOTP,
  verifyTOTPWithGracePeriod as osloVerifyTOTPWithGracePeriod,
} from '@oslojs/otp';
import { decodeBase32, encodeBase32, generateTOTP, verifyTOTP } from '../dist/index.js';

const BATCH = 200;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const TIME_MS = Number(process.env.TIME_MS ?? 700);

const NOW = 1_700_000_000_000;
const STEP = Math.floor(NOW / 30_000);
const key = Uint8Array.from({ length: 20 }, (_, i) => (i * 31 + 7) & 0xff);
const b32 = encodeBase32(key);
const otpauthTotp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(b32) });
const otpauthSecret = OTPAuth.Secret.fromBase32(b32);
const scure = new ScureBase32Plugin();

/** The 8-byte big-endian counter message. */
function counterMessage(step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  return msg;
}

function nodeCode(step) {
  const mac = createHmac('sha1', key).update(counterMessage(step)).digest();
  const v = mac.readUInt32BE(mac[mac.length - 1] & 0xf) & 0x7fff_ffff;
  return String(v % 1e6).padStart(6, '0');
}

function nodeTOTP(now) {
  return nodeCode(Math.floor(now / 30_000));
}

/** The obvious constant-time verification on node:crypto: every step of ±w, compared with timingSafeEqual. */
function nodeVerify(token, window) {
  const want = Buffer.from(token);
  let found = false;
  for (let d = -window; d <= window; d++) {
    const hit = timingSafeEqual(Buffer.from(nodeCode(STEP + d)), want);
    found = found || hit;
  }
  return found;
}

// Every library must agree before anything is timed.
const expected = generateTOTP(key, { now: NOW });
for (const [name, got] of [
  ['otpauth', otpauthTotp.generate({ timestamp: NOW })],
  ['otplib', generateSync({ secret: b32, epoch: NOW / 1000 })],
  ['node:crypto', nodeTOTP(NOW)],
]) {
  if (got !== expected) throw new Error(`${name} disagrees: ${got} vs ${expected}`);
}
if (Buffer.compare(decodeBase32(b32), otpauthSecret.bytes) !== 0)
  throw new Error('base32 decoders disagree');

/** Runs fn with Date.now() pinned to NOW (for @oslojs/otp, which has no time parameter). */
function atNow(fn) {
  const realNow = Date.now;
  Date.now = () => NOW;
  try {
    return fn();
  } finally {
    Date.now = realNow;
  }
}

// The correct token is the current step's code; the wrong token is well-formed and matches no
// step within ±10 (so every library computes every candidate).
const good = expected;
let bad = 0;
const windowCodes = new Set();
for (let d = -10; d <= 10; d++) windowCodes.add(generateTOTP(key, { now: NOW + d * 30_000 }));
while (windowCodes.has(String(bad).padStart(6, '0'))) bad++;
const wrong = String(bad).padStart(6, '0');

/** Each library's verification call for (token, window); results normalised to true/false. */
const verifiers = {
  otpkit: (token, w) => verifyTOTP(key, token, { now: NOW, window: w }).ok,
  otpauth: (token, w) => otpauthTotp.validate({ token, timestamp: NOW, window: w }) !== null,
  otpauthPerCall: (token, w) =>
    new OTPAuth.TOTP({ secret: otpauthSecret }).validate({ token, timestamp: NOW, window: w }) !==
    null,
  otplibB32: (token, w) =>
    verifySync({ secret: b32, token, epoch: NOW / 1000, epochTolerance: 30 * w }).valid,
  otplibBytes: (token, w) =>
    verifySync({ secret: key, token, epoch: NOW / 1000, epochTolerance: 30 * w }).valid,
  osloGrace: (token, w) => osloVerifyTOTPWithGracePeriod(key, 30, 6, token, 30 * w),
  node: (token, w) => nodeVerify(token, w),
};
for (const [name, verify] of Object.entries(verifiers)) {
  const call = (token, w) =>
    name.startsWith('oslo') ? atNow(() => verify(token, w)) : verify(token, w);
  for (const w of [1, 10]) {
    if (call(good, w) !== true) throw new Error(`${name} rejects the correct token (window ${w})`);
    if (call(wrong, w) !== false) throw new Error(`${name} accepts the wrong token (window ${w})`);
    // The window edges: both accept ±w and reject ±(w + 1).
    for (const d of [-w, w]) {
      const code = generateTOTP(key, { now: NOW + d * 30_000 });
      if (call(code, w) !== true) throw new Error(`${name} rejects delta ${d} with window ${w}`);
    }
    const inside = new Set();
    for (let d = -w; d <= w; d++) inside.add(generateTOTP(key, { now: NOW + d * 30_000 }));
    for (const d of [-w - 1, w + 1]) {
      const code = generateTOTP(key, { now: NOW + d * 30_000 });
      if (!inside.has(code) && call(code, w) !== false)
        throw new Error(`${name} accepts delta ${d} with window ${w}`);
    }
  }
}
if (atNow(() => osloVerifyTOTP(key, 30, 6, good)) !== true)
  throw new Error('@oslojs/otp verifyTOTP rejects the correct token');
if (atNow(() => osloVerifyTOTP(key, 30, 6, wrong)) !== false)
  throw new Error('@oslojs/otp verifyTOTP accepts the wrong token');

let sink = 0;
const batchOf = (n, fn) => () => {
  for (let i = 0; i < n; i++) sink ^= fn();
};
/** The same, with Date.now() pinned to NOW for the whole batch (swapped once per batch, not per call). */
const pinnedBatchOf = (n, fn) => () => atNow(batchOf(n, fn));

const OTPAUTH_VALIDATE = 'otpauth `TOTP#validate` (object built once)';
const OTPLIB_VERIFY = 'otplib v13 `verifySync` (Uint8Array secret)';

/** The verification rows of one case; `token` and `w` fixed. */
function verifyTasks(token, w) {
  const v = verifiers;
  return [
    [`**otpkit \`verifyTOTP\`** (window ${w})`, () => +v.otpkit(token, w)],
    [OTPAUTH_VALIDATE, () => +v.otpauth(token, w)],
    ['otpauth `new TOTP(…).validate` (per call)', () => +v.otpauthPerCall(token, w)],
    ['otplib v13 `verifySync` (base32 secret)', () => +v.otplibB32(token, w)],
    [OTPLIB_VERIFY, () => +v.otplibBytes(token, w)],
    [
      `@oslojs/otp \`verifyTOTPWithGracePeriod\` (${30 * w} s)¹`,
      () => +v.osloGrace(token, w),
      { pinned: true },
    ],
    ...(w === 1
      ? [
          [
            '@oslojs/otp `verifyTOTP` (current step only: no window)¹',
            () => +osloVerifyTOTP(key, 30, 6, token),
            { pinned: true },
          ],
        ]
      : []),
    ['baseline: node:crypto `createHmac` per step + `timingSafeEqual`', () => +v.node(token, w)],
  ];
}

const groups = [
  {
    id: 'generate',
    title: 'TOTP generation (SHA1, 6 digits, 30 s, fixed time, 20-byte secret)',
    reference: 'otpauth `TOTP#generate` (object built once)',
    otplib: 'otplib v13 `generateSync` (Uint8Array secret)',
    tasks: [
      [
        '**otpkit `generateTOTP`** (Uint8Array secret)',
        () => generateTOTP(key, { now: NOW }).length,
      ],
      [
        'otpauth `TOTP#generate` (object built once)',
        () => otpauthTotp.generate({ timestamp: NOW }).length,
      ],
      [
        'otpauth `new TOTP(…).generate` (per call)',
        () => new OTPAuth.TOTP({ secret: otpauthSecret }).generate({ timestamp: NOW }).length,
      ],
      [
        'otplib v13 `generateSync` (base32 secret)',
        () => generateSync({ secret: b32, epoch: NOW / 1000 }).length,
      ],
      [
        'otplib v13 `generateSync` (Uint8Array secret)',
        () => generateSync({ secret: key, epoch: NOW / 1000 }).length,
      ],
      ['@oslojs/otp `generateTOTP` (reads the clock)', () => osloGenerateTOTP(key, 30, 6).length],
      ['baseline: node:crypto `createHmac` + truncate', () => nodeTOTP(NOW).length],
    ],
  },
  {
    id: 'base32',
    title: 'base32 decode (20-byte secret, 32 characters)',
    reference: 'otpauth `Secret.fromBase32`',
    otplib: 'otplib `ScureBase32Plugin#decode`',
    tasks: [
      ['**otpkit `decodeBase32`** (strict)', () => decodeBase32(b32).length],
      ['otpauth `Secret.fromBase32`', () => OTPAuth.Secret.fromBase32(b32).bytes.length],
      ['otplib `ScureBase32Plugin#decode`', () => scure.decode(b32).length],
    ],
  },
  {
    id: 'verify-correct-1',
    title: 'TOTP verification, correct token, window ±1 (SHA1, 6 digits, 30 s)²',
    reference: OTPAUTH_VALIDATE,
    otplib: OTPLIB_VERIFY,
    batch: 100,
    tasks: verifyTasks(good, 1),
  },
  {
    id: 'verify-wrong-1',
    title:
      'TOTP verification, wrong token, window ±1: the brute-force path (3 steps computed by everyone)',
    reference: OTPAUTH_VALIDATE,
    otplib: OTPLIB_VERIFY,
    batch: 100,
    tasks: verifyTasks(wrong, 1),
  },
  {
    id: 'verify-wrong-10',
    title: 'TOTP verification, wrong token, window ±10 (21 steps computed by everyone)',
    reference: OTPAUTH_VALIDATE,
    otplib: OTPLIB_VERIFY,
    batch: 20,
    tasks: verifyTasks(wrong, 10),
  },
];

/** name → the best (lowest) mean and median over the rounds, per group. */
const best = new Map();
const keyOf = (g, name) => `${g.id}\u0000${name}`;
for (let round = 0; round < ROUNDS; round++) {
  for (const g of groups) {
    const n = g.batch ?? BATCH;
    const bench = new Bench({ time: TIME_MS, warmupTime: 200 });
    for (const [name, fn, opts] of g.tasks)
      bench.add(name, opts?.pinned ? pinnedBatchOf(n, fn) : batchOf(n, fn));
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state} ${r.error ?? ''}`);
      const meanNs = (r.latency.mean * 1e6) / n;
      const medianNs = (r.latency.p50 * 1e6) / n;
      const k = keyOf(g, task.name);
      const prev = best.get(k);
      if (prev === undefined) best.set(k, { meanNs, medianNs });
      else
        best.set(k, {
          meanNs: Math.min(meanNs, prev.meanNs),
          medianNs: Math.min(medianNs, prev.medianNs),
        });
    }
  }
}

const fmt = (n, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const lines = [];
lines.push(
  `Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), ${os.platform()}/${os.arch()}.`,
);
lines.push(
  `otpkit from dist/; tinybench, ${BATCH} calls per sample (verification: 100, or 20 for ±10), ` +
    `best of ${ROUNDS} rounds of ${TIME_MS} ms. Ratios: the reference's median ÷ the row's median (higher is faster).`,
);
for (const g of groups) {
  const ref = best.get(keyOf(g, g.reference));
  const lib = best.get(keyOf(g, g.otplib));
  lines.push(
    '',
    `**${g.title}**`,
    '',
    '| Library / call | ops/s | mean (ns) | median (ns) | vs otpauth | vs otplib |',
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const [name] of g.tasks) {
    const b = best.get(keyOf(g, name));
    lines.push(
      `| ${name} | ${fmt(1e9 / b.meanNs)} | ${fmt(b.meanNs)} | ${fmt(b.medianNs)} | ` +
        `${fmt(ref.medianNs / b.medianNs, 2)}× | ${fmt(lib.medianNs / b.medianNs, 2)}× |`,
    );
  }
}

// How the cost grows with the window: 21 candidates instead of 3 is 7× the hashing.
lines.push(
  '',
  '**Window scaling: wrong token, ±10 ÷ ±1 (21 steps ÷ 3 steps; 7.00× is linear)**',
  '',
);
lines.push(
  '| Library / call | ±1 median (ns) | ±10 median (ns) | ±10 ÷ ±1 |',
  '|---|---:|---:|---:|',
);
const g1 = groups.find((g) => g.id === 'verify-wrong-1');
const g10 = groups.find((g) => g.id === 'verify-wrong-10');
for (const [name1] of g1.tasks) {
  const name10 = name1.replace('(window 1)', '(window 10)').replace('(30 s)', '(300 s)');
  const a = best.get(keyOf(g1, name1));
  const b = best.get(keyOf(g10, name10));
  if (b === undefined) continue;
  lines.push(
    `| ${name10.replace('(window 10)', '').replace(' (300 s)', '').trim()} | ${fmt(a.medianNs)} | ${fmt(b.medianNs)} | ${fmt(b.medianNs / a.medianNs, 2)}× |`,
  );
}

lines.push(
  '',
  '¹ @oslojs/otp has no time parameter: it reads `Date.now()`, which the benchmark pins to the fixed ' +
    'timestamp for each batch. `verifyTOTPWithGracePeriod(key, 30, 6, otp, g)` accepts the steps from ' +
    'floor((now − g) / 30 s) to floor((now + g) / 30 s): with g = 30 s that is exactly the previous, ' +
    'current and next step (±1), with g = 300 s exactly ±10. `verifyTOTP` checks the current step only ' +
    '(no window): it is shown for reference and is not equivalent.',
  '',
  '² With a correct token the others stop at the match: otpauth tries the current step first (1 HMAC ' +
    'here), otplib and @oslojs/otp go from the oldest step (2 HMACs). otpkit always computes and ' +
    'compares all 3 (constant time, no early exit), so it does the same work as for a wrong token.',
  '',
  `otplib: \`verifySync({ epochTolerance: 30 × w })\` accepts exactly ±w steps at 30 s. The "vs otplib" ` +
    'column compares with its Uint8Array-secret form (faster than its base32 form: no decoding). ' +
    'Wrong token: `' +
    wrong +
    '`, which matches no step within ±10.',
);
console.log(lines.join('\n'));
if (sink === 0.5) console.log(sink); // keep results observable
