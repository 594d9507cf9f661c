#!/usr/bin/env node
/**
 * Prints a Markdown comparison table of otpkit (the BUILT package, dist/index.js) against other
 * JS OTP libraries, for the README. Build first: `npx tsup` (or `npm run build`), then
 * `node bench/report.mjs`.
 *
 * Method: tinybench; each sample runs BATCH calls (single ~1 µs calls are below timer
 * resolution); every task is measured in ROUNDS rounds and the best round is kept, which damps
 * interference from other processes. Same inputs for every library: TOTP SHA1, 6 digits, 30 s,
 * a fixed timestamp, one 20-byte secret. Ratios are otpauth's median time ÷ the task's median time
 * (the median resists scheduling noise on a busy machine better than the mean).
 */
import { createHmac } from 'node:crypto';
import os from 'node:os';
import { Bench } from 'tinybench';
import * as OTPAuth from 'otpauth';
import { generateSync, ScureBase32Plugin } from 'otplib';
import { generateTOTP as osloGenerateTOTP } from '@oslojs/otp';
import { decodeBase32, encodeBase32, generateTOTP } from '../dist/index.js';

const BATCH = 200;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const TIME_MS = Number(process.env.TIME_MS ?? 700);

const NOW = 1_700_000_000_000;
const key = Uint8Array.from({ length: 20 }, (_, i) => (i * 31 + 7) & 0xff);
const b32 = encodeBase32(key);
const otpauthTotp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(b32) });
const otpauthSecret = OTPAuth.Secret.fromBase32(b32);
const scure = new ScureBase32Plugin();

function nodeTOTP(now) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(now / 30_000)));
  const mac = createHmac('sha1', key).update(msg).digest();
  const v = mac.readUInt32BE(mac[mac.length - 1] & 0xf) & 0x7fff_ffff;
  return String(v % 1e6).padStart(6, '0');
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
if (Buffer.compare(decodeBase32(b32), otpauthSecret.bytes) !== 0) throw new Error('base32 decoders disagree');

let sink = 0;
const batch = (fn) => () => {
  for (let i = 0; i < BATCH; i++) sink ^= fn();
};

const groups = [
  {
    title: 'TOTP generation (SHA1, 6 digits, 30 s, fixed time, 20-byte secret)',
    reference: 'otpauth `TOTP#generate` (object built once)',
    tasks: [
      ['**otpkit `generateTOTP`** (Uint8Array secret)', () => generateTOTP(key, { now: NOW }).length],
      ['otpauth `TOTP#generate` (object built once)', () => otpauthTotp.generate({ timestamp: NOW }).length],
      ['otpauth `new TOTP(…).generate` (per call)', () => new OTPAuth.TOTP({ secret: otpauthSecret }).generate({ timestamp: NOW }).length],
      ['otplib v13 `generateSync` (base32 secret)', () => generateSync({ secret: b32, epoch: NOW / 1000 }).length],
      ['otplib v13 `generateSync` (Uint8Array secret)', () => generateSync({ secret: key, epoch: NOW / 1000 }).length],
      ['@oslojs/otp `generateTOTP` (reads the clock)', () => osloGenerateTOTP(key, 30, 6).length],
      ['baseline: node:crypto `createHmac` + truncate', () => nodeTOTP(NOW).length],
    ],
  },
  {
    title: 'base32 decode (20-byte secret, 32 characters)',
    reference: 'otpauth `Secret.fromBase32`',
    tasks: [
      ['**otpkit `decodeBase32`** (strict)', () => decodeBase32(b32).length],
      ['otpauth `Secret.fromBase32`', () => OTPAuth.Secret.fromBase32(b32).bytes.length],
      ['otplib `ScureBase32Plugin#decode`', () => scure.decode(b32).length],
    ],
  },
];

/** name → the best (lowest) mean and median over the rounds. */
const best = new Map();
for (let round = 0; round < ROUNDS; round++) {
  for (const g of groups) {
    const bench = new Bench({ time: TIME_MS, warmupTime: 200 });
    for (const [name, fn] of g.tasks) bench.add(name, batch(fn));
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state} ${r.error ?? ''}`);
      const meanNs = (r.latency.mean * 1e6) / BATCH;
      const medianNs = (r.latency.p50 * 1e6) / BATCH;
      const prev = best.get(task.name);
      if (prev === undefined) best.set(task.name, { meanNs, medianNs });
      else best.set(task.name, { meanNs: Math.min(meanNs, prev.meanNs), medianNs: Math.min(medianNs, prev.medianNs) });
    }
  }
}

const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const lines = [];
lines.push(`Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), ${os.platform()}/${os.arch()}.`);
lines.push(`otpkit from dist/; tinybench, ${BATCH} calls per sample, best of ${ROUNDS} rounds of ${TIME_MS} ms.`);
for (const g of groups) {
  const ref = best.get(g.reference);
  lines.push('', `**${g.title}**`, '', '| Library / call | ops/s | mean (ns) | median (ns) | vs otpauth (median) |', '|---|---:|---:|---:|---:|');
  for (const [name] of g.tasks) {
    const b = best.get(name);
    lines.push(`| ${name} | ${fmt(1e9 / b.meanNs)} | ${fmt(b.meanNs)} | ${fmt(b.medianNs)} | ${fmt(ref.medianNs / b.medianNs, 2)}× |`);
  }
}
console.log(lines.join('\n'));
if (sink === 0.5) console.log(sink); // keep results observable
