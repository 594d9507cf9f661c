#!/usr/bin/env node
// Event-loop stall during concurrent recovery-code redemptions. Not part of `npm test`.
//
//   node bench/recovery-stall.mjs [--concurrency 30] [--rounds 3]
//
// An HTTP server on 127.0.0.1 answers a probe request every 5 ms while N redemption attempts run
// at once through createVerifier (default scrypt parameters, N = 2^13). Reported per scheme: the
// longest wait of a probe, the longest event-loop stall (the longest gap between
// two runs of a 1 ms interval) and the
// wall time of the whole burst, in the same run:
// - "0.1.0 scheme": each attempt yields one macrotask, then hashes synchronously with
//   @noble/hashes; every yield falls due in the same timers phase, so the hashes run back to back.
// - "pure JS (browsers, workers)": otpkit without node:crypto, one hash per event-loop turn.
// - "node:crypto thread pool": otpkit on Node, hashes off the event loop.
// The TypeScript sources are bundled with esbuild first, so no build is needed.
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { scrypt } from '@noble/hashes/scrypt';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
  },
});
const N = Number(values.concurrency);
const ROUNDS = Number(values.rounds);

mkdirSync(join(root, '.tmp'), { recursive: true });
const tmp = mkdtempSync(join(root, '.tmp', 'bench-stall-'));
const out = join(tmp, 'otpkit.mjs');
await build({
  stdin: {
    contents: "export { createVerifier, createMemoryStore } from './src/index.ts';",
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'node',
  outfile: out,
  logLevel: 'error',
});
const { createVerifier, createMemoryStore } = await import(pathToFileURL(out).href);
rmSync(tmp, { recursive: true, force: true });

const server = createServer((_, res) => res.end('ok'));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const { port } = server.address();
// The probe client runs in its own thread, as a real client would: a stalled server loop cannot
// delay the client's clock, only the server's answer.
const probe = new Worker(
  `const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let running = false, worst = 0;
const once = () => new Promise((resolve) => {
  const t0 = performance.now();
  http.get({ host: '127.0.0.1', port: workerData.port, agent, path: '/' }, (res) => { res.resume(); res.on('end', () => resolve(performance.now() - t0)); });
});
async function loop() { while (running) { worst = Math.max(worst, await once()); await new Promise((r) => setTimeout(r, 5)); } parentPort.postMessage(worst); }
parentPort.on('message', (m) => { if (m === 'start') { running = true; worst = 0; loop(); } else if (m === 'stop') running = false; else if (m === 'exit') process.exit(0); });`,
  { eval: true, workerData: { port } },
);

/** Runs `burst` while probing; returns the longest probe wait, the longest loop stall, the wall time. */
async function measure(burst) {
  // The longest gap between two runs of a 1 ms interval: how long the loop was unavailable.
  let last = performance.now();
  let stall = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  const done = new Promise((r) => probe.once('message', r));
  probe.postMessage('start');
  await new Promise((r) => setTimeout(r, 50)); // the probe is running before the burst starts
  stall = 0;
  last = performance.now();
  const t0 = performance.now();
  await burst();
  const wall = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20));
  clearInterval(ticker);
  probe.postMessage('stop');
  return { probe: await done, stall, wall };
}

const T = Date.UTC(2031, 5, 1);
const verifier = createVerifier({
  store: createMemoryStore(),
  now: () => T,
  throttle: { freeFailures: 100 },
});
let user = 'u0';
/** A fresh user with a set of codes for each burst, so no burst is throttled by the one before. */
async function freshUser() {
  user = `u${Number(user.slice(1)) + 1}`;
  await verifier.issueRecoveryCodes({ userId: user });
}
const guess = (i) => `K7QM-4X2P-9D3R-${String(i % 10).repeat(4)}`;

const legacySalt = new Uint8Array(16).fill(3);
const schemes = {
  '0.1.0 scheme (macrotask yield, then a synchronous hash)': () =>
    Promise.all(
      Array.from({ length: N }, (_, i) =>
        new Promise((r) => setTimeout(r, 0)).then(() =>
          scrypt(new TextEncoder().encode(guess(i)), legacySalt, {
            N: 8192,
            r: 8,
            p: 1,
            dkLen: 32,
          }),
        ),
      ),
    ),
  'otpkit, pure JS (no node:crypto: browsers, workers)': async () => {
    const saved = process.getBuiltinModule;
    process.getBuiltinModule = undefined;
    try {
      await Promise.all(
        Array.from({ length: N }, (_, i) =>
          verifier.redeemRecoveryCode({ userId: user, code: guess(i) }),
        ),
      );
    } finally {
      process.getBuiltinModule = saved;
    }
  },
  'otpkit, node:crypto thread pool (Node, Bun, Deno)': () =>
    Promise.all(
      Array.from({ length: N }, (_, i) =>
        verifier.redeemRecoveryCode({ userId: user, code: guess(i) }),
      ),
    ),
};

const idle = await measure(() => new Promise((r) => setTimeout(r, 300)));
const rows = [];
for (const [name, burst] of Object.entries(schemes)) {
  let best;
  for (let k = 0; k < ROUNDS; k++) {
    await freshUser();
    const m = await measure(burst);
    if (best === undefined || m.probe < best.probe) best = m;
  }
  rows.push([name, best]);
}
server.close();
probe.postMessage('exit');

const f = (ms) => `${Math.round(ms).toLocaleString('en-US')}`;
console.log(
  `Node ${process.version}, ${N} concurrent redemption attempts (scrypt N = 2^13, r = 8, p = 1), best of ${ROUNDS} rounds.`,
);
console.log(
  `Idle: longest probe wait ${f(idle.probe)} ms, longest event-loop stall ${f(idle.stall)} ms.\n`,
);
console.log(
  '| scheme | longest HTTP probe wait (ms) | longest event-loop stall (ms) | burst wall time (ms) |',
);
console.log('|---|--:|--:|--:|');
for (const [name, m] of rows)
  console.log(`| ${name} | ${f(m.probe)} | ${f(m.stall)} | ${f(m.wall)} |`);
