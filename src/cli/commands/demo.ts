/**
 * `otpkit demo`: the whole flow a site implements, narrated for a developer, on the embedded
 * in-memory store with a simulated clock (it jumps instead of waiting, so the demo takes seconds):
 * enroll, confirm, log in, replay refused, guessing throttled then locked, recovery code once.
 * @module
 */
import { encodeBase32 } from '../../base32.js';
import { generateSecret } from '../../secret.js';
import { createMemoryStore } from '../../store/memory.js';
import { generateTOTP, timeStep } from '../../totp.js';
import { buildOtpauthURI } from '../../uri/build.js';
import type { OtpauthParams } from '../../uri/params.js';
import { createVerifier } from '../../verifier/verifier.js';
import type { VerifierEvent, VerifierFailure } from '../../verifier/types.js';
import { maxPositionals, parse } from '../_args.js';
import { compatibilityLines, QR_OPTIONS, qrHelp, terminalQR } from '../_compat.js';
import { EXIT, type CliContext, type Command } from '../_io.js';

const HELP = `Usage: otpkit demo [--fast] [--no-qr] [--color WHEN] [--invert]

Runs the whole two-factor flow on the embedded in-memory store and narrates it: enrollment
(secret, otpauth:// URI, QR code, recovery codes), confirmation, a login, a replayed code
refused, wrong codes throttled and then locked, and a recovery code that works exactly once.
The clock is simulated: it jumps ahead instead of waiting, so the demo takes a few seconds.

Options:
  --fast                   hash the recovery codes with cheap scrypt parameters (demo only, never in production)
  --no-qr                  do not print the QR code
${qrHelp(27)}
  -h, --help               show this help`;

const USER = 'alice';
const ACCOUNT = 'alice@example.com';
const ISSUER = 'otpkit demo';
/** The demo's throttle: the defaults' shape, with a lock after 6 failures (the default is 100) so it fits on a screen. */
const THROTTLE = {
  freeFailures: 3,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxFailures: 6,
} as const;

/** The `demo` command. */
export const demoCommand: Command = {
  name: 'demo',
  summary:
    'narrated end-to-end flow on the in-memory store (enroll, login, replay, throttle, recovery)',
  help: HELP,
  async run(argv: readonly string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parse(
      argv,
      { fast: { type: 'boolean' }, 'no-qr': { type: 'boolean' }, ...QR_OPTIONS },
      'demo',
    );
    maxPositionals(positionals, 0, 'demo');
    const qr = terminalQR(
      ctx,
      values,
      values['no-qr'] === true ? '--color and --invert have no effect with --no-qr' : undefined,
      'demo',
    );
    const out = ctx.out;
    let now = Math.floor(Date.now() / 1000) * 1000;
    const events: VerifierEvent[] = [];
    const verifier = createVerifier({
      store: createMemoryStore(),
      now: () => now,
      throttle: THROTTLE,
      onEvent: (e) => events.push(e),
      ...(values.fast === true ? { recoveryHash: { logN: 10 } } : {}),
    });
    const clockLine = (): string =>
      `simulated clock ${new Date(now).toISOString().replace('.000Z', 'Z')}, TOTP step ${timeStep(now)}`;
    const advance = (ms: number, why: string): void => {
      now += ms;
      out(`  [clock +${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}] ${why}`);
    };
    /** Summarises the pending events by type and reason, for loops that would print dozens. */
    const summarizeEvents = (): void => {
      const counts = new Map<string, number>();
      for (const e of events.splice(0)) {
        const key = e.type === 'failure' ? `${e.type} reason=${e.reason}` : e.type;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      out(`      onEvent: ${[...counts].map(([k, n]) => `${n} x ${k}`).join(', ')}`);
    };
    const flushEvents = (): void => {
      for (const e of events.splice(0)) {
        const fields = Object.entries(e)
          .filter(([k]) => k !== 'type')
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(' ');
        out(`      onEvent: ${e.type} ${fields}`);
      }
    };
    const failure = (r: VerifierFailure): string =>
      r.reason === 'throttled' ? `throttled (retry after ${r.retryAfterMs} ms)` : r.reason;
    let stepNo = 0;
    const heading = (title: string): void => {
      stepNo++;
      out();
      out(`== Step ${stepNo}. ${title}`);
    };

    out('otpkit demo: two-factor authentication end to end, on the in-memory store');
    out(`(${clockLine()}; the clock jumps instead of waiting)`);
    if (values.fast === true)
      out(
        '(--fast: recovery codes hashed with cheap scrypt parameters; never do this in production)',
      );

    // 1. Enrollment.
    heading(`Enroll: a new secret for ${ACCOUNT}`);
    const secret = generateSecret();
    out(
      `  generateSecret() -> ${secret.length} bytes (${secret.length * 8} bits) from the platform CSPRNG`,
    );
    out(`  base32 for manual entry: ${encodeBase32(secret)}`);
    const params: OtpauthParams = {
      type: 'totp',
      secret,
      account: ACCOUNT,
      issuer: ISSUER,
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    };
    const uri = buildOtpauthURI(params, {});
    out('  otpauth URI (this is the enrollment; it contains the secret, so treat it as one):');
    out(`    ${uri}`);
    const warnings = compatibilityLines(params);
    out(
      warnings.length === 0
        ? '  compatibility: SHA1 / 6 digits / 30 s works with every common app'
        : '  compatibility warnings:',
    );
    for (const w of warnings) out(`    - ${w}`);
    if (values['no-qr'] !== true) {
      out('  QR code to scan with an authenticator app:');
      out(qr(uri));
    }
    const codes = await verifier.issueRecoveryCodes({ userId: USER });
    out(
      `  recovery codes (show once; the store keeps only salted scrypt hashes): ${codes.length} codes`,
    );
    for (const c of codes) out(`    ${c}`);
    out(
      `  store: ${await verifier.remainingRecoveryCodes(USER)} unused recovery-code hashes for ${USER}`,
    );
    flushEvents();

    // 2. Confirmation.
    heading('Confirm the enrollment with the code the app shows now');
    out(`  ${clockLine()}`);
    const setupCode = generateTOTP(secret, { now });
    const confirmed = await verifier.confirmTOTP({ userId: USER, secret, token: setupCode });
    out(
      `  app shows ${setupCode} -> confirmTOTP: ${confirmed.ok ? `ok (delta ${confirmed.delta}), enrollment active` : failure(confirmed)}`,
    );
    out('  (the matched step is consumed: the setup code cannot be reused as the first login)');
    flushEvents();

    // 3. Login.
    heading('Log in with the next code');
    advance(30_000, 'the user logs in a little later; the app shows a new code');
    const loginCode = generateTOTP(secret, { now });
    const login = await verifier.verifyTOTP({ userId: USER, secret, token: loginCode });
    out(
      `  app shows ${loginCode} -> verifyTOTP: ${login.ok ? `ok (delta ${login.delta}, step ${login.step}), logged in` : failure(login)}`,
    );
    flushEvents();

    // 4. Replay.
    heading('Replay: the same code submitted again (a phished or shoulder-surfed code)');
    const replay = await verifier.verifyTOTP({ userId: USER, secret, token: loginCode });
    out(
      `  ${loginCode} again -> verifyTOTP: ${replay.ok ? 'ok (UNEXPECTED)' : `refused, ${failure(replay)}`}`,
    );
    out('  (each time step is accepted at most once per credential)');
    flushEvents();

    // 5. Guessing.
    heading('Guessing: wrong codes are throttled, then the credential locks');
    out(
      `  demo policy: ${THROTTLE.freeFailures} free failures, then a backoff of ${THROTTLE.baseDelayMs / 1000} s doubling each time,` +
        ` locked after ${THROTTLE.maxFailures} failures (the default locks after 100)`,
    );
    const nearby = new Set<string>();
    for (let d = -12; d <= 12; d++) nearby.add(generateTOTP(secret, { now: now + d * 30_000 }));
    const wrong =
      ['000000', '111111', '222222', '333333', '123456', '654321'].find((c) => !nearby.has(c)) ??
      '000000';
    out(
      `  failures so far: ${(await verifier.throttleStatus(USER)).failures} (the replayed code counted as one)`,
    );
    let guess = 1;
    for (let guard = 0; guard < 50; guard++) {
      const r = await verifier.verifyTOTP({ userId: USER, secret, token: wrong });
      const failures = (await verifier.throttleStatus(USER)).failures;
      out(
        `  guess ${guess}: ${wrong} -> ${r.ok ? 'ok (UNEXPECTED)' : failure(r)}; failures counted: ${failures}`,
      );
      if (r.ok || r.reason === 'locked') break;
      if (r.reason === 'throttled')
        advance(
          r.retryAfterMs,
          'the attacker waits out the backoff (a throttled guess is not evaluated)',
        );
      else guess++;
    }
    summarizeEvents();
    const status = await verifier.throttleStatus(USER);
    out(`  throttleStatus: ${status.failures} failures, locked=${status.locked}`);
    advance(30_000, 'the real user comes back with a fresh code');
    const lockedCode = generateTOTP(secret, { now });
    const locked = await verifier.verifyTOTP({ userId: USER, secret, token: lockedCode });
    out(
      `  correct code ${lockedCode} -> ${locked.ok ? 'ok (UNEXPECTED)' : `refused, ${failure(locked)}: a locked credential's codes are not even evaluated`}`,
    );
    flushEvents();

    // 6. Recovery codes.
    heading('Recovery code: the user lost the phone (the TOTP credential stays locked)');
    const code = codes[0] ?? '';
    const first = await verifier.redeemRecoveryCode({ userId: USER, code });
    out(
      `  redeem ${code} -> ${first.ok ? `ok, logged in (${first.remaining} codes left)` : `refused, ${failure(first)}`}`,
    );
    flushEvents();
    const again = await verifier.redeemRecoveryCode({ userId: USER, code });
    out(
      `  redeem ${code} again -> ${again.ok ? 'ok (UNEXPECTED)' : `refused, ${failure(again)}: each code works once`}`,
    );
    flushEvents();

    // 7. Unlock.
    heading('Support unlocks the TOTP credential');
    await verifier.unlock(USER);
    advance(30_000, 'the next code');
    const afterCode = generateTOTP(secret, { now });
    const after = await verifier.verifyTOTP({ userId: USER, secret, token: afterCode });
    out(
      `  unlock('${USER}'); app shows ${afterCode} -> verifyTOTP: ${after.ok ? 'ok, logged in' : failure(after)}`,
    );
    flushEvents();

    out();
    out(
      '== Done. In your app: createTwoFactor({ store, keys }) runs this whole flow (createVerifier, shown',
    );
    out(
      '   here, is the layer below it). The in-memory store is for one process and forgets on restart:',
    );
    out('   otpkit/sqlite on one server, otpkit/postgres or otpkit/redis behind a load balancer.');
    const expected =
      confirmed.ok &&
      login.ok &&
      !replay.ok &&
      !locked.ok &&
      locked.reason === 'locked' &&
      first.ok &&
      !again.ok &&
      after.ok;
    if (!expected) {
      ctx.err('otpkit: demo: an outcome differed from the expected one (ERR_DEMO)');
      return EXIT.INTERNAL;
    }
    return EXIT.OK;
  },
};
