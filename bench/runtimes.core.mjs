/**
 * The benchmark that bench/runtimes.mjs bundles unchanged for every runtime (Node, Bun, Deno,
 * workerd): fixed-iteration loops timed with performance.now(), after a warm-up.
 * - generateTOTP: SHA-1, 6 digits, a 20-byte key, a new time step each call;
 * - verifyTOTP with a wrong token: the default window (±1 step, three HMACs, no early exit);
 * - one recovery-code redemption, in each profile: createVerifier on the memory store with the
 *   default scrypt parameters (N = 2^13, r = 8, p = 1), timed per call, the median of `REDEEMS`
 *   codes; and with the HMAC "pepper" profile (`recoveryHash: { pepper }`, 120-bit codes, one
 *   HMAC-SHA-256 per redemption), the mean over `PEPPER_USERS` × 9 redemptions timed together
 *   (one takes well under a millisecond: a single one is below the clock's resolution).
 *
 * Every timed span starts and ends at a timer callback (`tick()`): workerd's clock does not move
 * while JavaScript runs (a Spectre mitigation), only when the isolate waits, so a span measured
 * inside one synchronous stretch would read 0 there. The tick adds at most a millisecond or so to
 * a span of hundreds of them. Not part of the test run.
 */
import { createMemoryStore, createVerifier, generateTOTP, verifyTOTP } from 'otpkit';

const NOW = 1_700_000_000_000;
const KEY = Uint8Array.from({ length: 20 }, (_, i) => (i * 31 + 7) & 0xff);
const REDEEMS = 9;
const PEPPER_USERS = 40;
/** A fixed 32-byte pepper: the figures need no secret, and no randomness. */
const PEPPER = {
  current: 'bench',
  keys: { bench: Uint8Array.from({ length: 32 }, (_, i) => (i * 73 + 19) & 0xff) },
};

/** Returns after a timer callback: where the clock is frozen while code runs, it moves here. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Milliseconds that `fn` (sync or async) takes, from one timer callback to the next. */
async function timed(fn) {
  await tick();
  const t0 = performance.now();
  await fn();
  await tick();
  return performance.now() - t0;
}

/**
 * Operations per second of `fn` over `iterations` calls, after `warmup` calls; best of `rounds`
 * (on a shared machine the best one is the least disturbed; each round is long enough, ~100 ms,
 * for workerd's millisecond clock).
 */
async function opsPerSecond(fn, iterations, warmup, rounds = 10) {
  for (let i = 0; i < warmup; i++) fn(i);
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const ms = await timed(() => {
      for (let i = 0; i < iterations; i++) fn(i);
    });
    best = Math.max(best, (iterations / ms) * 1000);
  }
  return Math.round(best);
}

export async function runBench() {
  let sink = 0;
  const generate = await opsPerSecond(
    (i) => {
      sink ^= generateTOTP(KEY, { now: NOW + (i & 4095) * 30_000 }).length;
    },
    100_000,
    20_000,
  );

  // A token that is wrong at every step of the window (checked once up front).
  const wrong = '000000';
  for (let d = -1; d <= 1; d++)
    if (generateTOTP(KEY, { now: NOW + d * 30_000 }) === wrong)
      throw new Error('pick another wrong token');
  const verifyWrong = await opsPerSecond(
    () => {
      sink ^= verifyTOTP(KEY, wrong, { now: NOW }).ok ? 1 : 0;
    },
    50_000,
    10_000,
  );

  if (sink === -1) throw new Error('unreachable');
  return {
    generateTOTP: generate,
    verifyTOTPWrong: verifyWrong,
    scrypt: await guarded(scryptRedemption),
    pepper: await guarded(pepperRedemption),
  };
}

/** A runtime where redemption fails still reports the other figures, and says why. */
async function guarded(fn) {
  try {
    return await fn();
  } catch (e) {
    return { error: e instanceof Error ? `${e.name}: ${e.message}` : `rejected with ${String(e)}` };
  }
}

async function issue(verifier, userId) {
  const codes = await verifier.issueRecoveryCodes({ userId });
  if (codes.length <= REDEEMS) throw new Error(`only ${codes.length} codes`);
  return codes;
}

async function redeem(verifier, userId, code) {
  const r = await verifier.redeemRecoveryCode({ userId, code });
  if (!r.ok) throw new Error(`redemption failed: ${JSON.stringify(r)}`);
}

/** One redemption at the default scrypt cost: median (and fastest) of REDEEMS, timed one by one. */
async function scryptRedemption() {
  const verifier = createVerifier({ store: createMemoryStore(), now: () => NOW });
  const codes = await issue(verifier, 'bench');
  await redeem(verifier, 'bench', codes[0]); // warm-up, not timed
  const times = [];
  for (let i = 1; i <= REDEEMS; i++)
    times.push(await timed(() => redeem(verifier, 'bench', codes[i])));
  times.sort((a, b) => a - b);
  return { ms: times[(times.length - 1) >> 1], minMs: times[0] };
}

/** One redemption in the pepper profile: the mean of PEPPER_USERS × REDEEMS, timed together. */
async function pepperRedemption() {
  const verifier = createVerifier({
    store: createMemoryStore(),
    now: () => NOW,
    recoveryHash: { pepper: PEPPER },
  });
  const users = [];
  for (let u = 0; u < PEPPER_USERS; u++)
    users.push({ id: `bench-${u}`, codes: await issue(verifier, `bench-${u}`) });
  await redeem(verifier, users[0].id, users[0].codes[0]); // warm-up, not timed
  for (const u of users.slice(1)) u.codes.shift();
  users[0].codes.shift();
  const ms = await timed(async () => {
    for (const u of users)
      for (let i = 0; i < REDEEMS; i++) await redeem(verifier, u.id, u.codes[i]);
  });
  return { ms: ms / (PEPPER_USERS * REDEEMS) };
}
