/**
 * The store-backed verifier: what a login needs around `verifyTOTP`, in one store round trip.
 *
 * A TOTP code given with its secret is evaluated first, locally, against every step the widest
 * allowed window could reach (21 HMACs at most, a few microseconds); then ONE atomic store
 * operation makes the whole decision: the throttle gate (a locked account's guess is not even
 * counted), the attempt counted as a failure, the window centred on the learned drift, the claim
 * of the matched step (a lost claim is `'replayed'`), the reset and the new drift. HOTP codes,
 * recovery codes and secrets given as a function take two calls (the gate and the count, then
 * the claim): the counter, the hashed set or the secret is needed before evaluating, and a lazy
 * secret is opened only once the throttle admitted the attempt. Storage failures throw
 * `OtpkitError` (`ERR_STORE*`): never `ok: true`, never "wrong code".
 *
 * Failures are counted per account: one bucket `'otp'` for all TOTP/HOTP credentials of a user
 * (re-enrolling never resets throttling) and one `'recovery'` for recovery codes (an attacker who
 * locks OTP codes does not lock the user out of recovery).
 * @module
 */
import { abool, aid, aint, aoptions, atime, kind } from '../_assert.js';
import { hex } from '../_encoding.js';
import { checkGate, resolveThrottle, type ThrottlePolicy } from '../_throttle.js';
import { prepareSecret } from '../_options.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';
import { generateRecoveryCodes } from '../recovery/codes.js';
import { keptHashOptions } from '../recovery/hash.js';
import { PEPPER_DEFAULT_BITS, PEPPER_MIN_BITS } from '../recovery/pepper.js';
import { hashRecoveryCodeSetAsync, matchRecoveryCodeAsync } from '../recovery/set.js';
import { randomBytes } from '../secret.js';
import { createMemoryStore } from '../store/memory.js';
import type { BeginOutcome, RecoveryCodeSet } from '../store/types.js';
import {
  awindow,
  hotpResult,
  MAX_WINDOW,
  parseToken,
  prepareVerifyHOTP,
  prepareVerifyTOTP,
  scanHOTPToken,
  scanTOTP,
} from '../verify.js';
import {
  aotpStore,
  ascope,
  emitter,
  guardVerifierState,
  refusal,
  totpCandidates,
} from './_shared.js';
import type {
  RecoveryIssueInput,
  RecoveryRedeemInput,
  RecoveryRedeemResult,
  SecretSource,
  ThrottleFailure,
  ThrottleScope,
  ThrottleStatus,
  ThrottleStatusOptions,
  Verifier,
  VerifierEvent,
  VerifierFailure,
  VerifierHOTPInput,
  VerifierHOTPResult,
  VerifierOptions,
  VerifierTOTPInput,
  VerifierTOTPResult,
} from './types.js';

const VERIFIER_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'store',
  'window',
  'throttle',
  'learnDrift',
  'maxDrift',
  'storeTimeoutMs',
  'now',
  'onEvent',
  'onEventError',
  'recoveryHash',
]);
// Spelled out (no spreads) so bundlers can drop these sets from apps that never create a verifier.
const TOTP_INPUT_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId',
  'credentialId',
  'secret',
  'token',
  'window',
  'algorithm',
  'digits',
  'allowInsecureShortSecret',
  'period',
  't0',
  'now',
]);
const HOTP_INPUT_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId',
  'credentialId',
  'secret',
  'token',
  'initialCounter',
  'lookAhead',
  'algorithm',
  'digits',
  'allowInsecureShortSecret',
  'now',
]);
const REDEEM_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['userId', 'code', 'now']);
const ISSUE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId',
  'count',
  'bits',
  'groupSize',
  'now',
]);
const STATUS_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['now']);

/** The throttle scope of recovery codes. */
export const RECOVERY_SCOPE: ThrottleScope = 'recovery';
/**
 * The throttle scope of OTP codes: one failure count per account for all its TOTP/HOTP
 * credentials, so re-enrolling a new credential never resets throttling (NIST SP 800-63B-4
 * §3.1.3.2 says a new secret shall not reset the failed-attempt count).
 */
export const OTP_SCOPE: ThrottleScope = 'otp';
/** A 32-byte stand-in used to validate options before a lazily supplied secret is fetched. */
const PLACEHOLDER_SECRET = /* @__PURE__ */ new Uint8Array(32);

/** A credential id, `'default'` when omitted. */
function acredential(v: unknown): string {
  return v === undefined ? 'default' : aid(v, 'credentialId');
}

/** A secret given directly, or a function that fetches it (called only once the throttle admits the attempt). */
async function resolveSecret(secret: SecretSource): Promise<unknown> {
  return typeof secret === 'function' ? secret() : secret;
}

/**
 * Creates the store-backed verifier that a login flow uses.
 *
 * @param options - {@link VerifierOptions}; with no store, an in-memory store (one process only).
 * @returns a {@link Verifier}.
 * @throws TypeError / RangeError on invalid options, or a store missing a method of `OtpStore`.
 * @example
 * ```ts
 * const verifier = createVerifier({ store: createMemoryStore() });
 * const secret = generateSecret();
 * const first = await verifier.confirmTOTP({ userId: 'alice', secret, token: generateTOTP(secret) });
 * // first.ok === true; the same code again is { ok: false, reason: 'replayed' }
 * ```
 * @see RFC 6238 §5.2, RFC 4226 §7.3, NIST SP 800-63B-4 §3.2.2
 */
export function createVerifier(options?: VerifierOptions): Verifier {
  const o = aoptions<VerifierOptions>(options, VERIFIER_KEYS);
  const store = o.store === undefined ? createMemoryStore() : aotpStore(o.store);
  const defaultWindow = awindow(o.window);
  const policy: ThrottlePolicy = resolveThrottle(o.throttle);
  const learnDrift = o.learnDrift === undefined ? true : abool(o.learnDrift, 'learnDrift');
  const maxDrift =
    o.maxDrift === undefined
      ? MAX_WINDOW
      : aint(o.maxDrift, 'maxDrift', 0, MAX_WINDOW, 'ERR_OPTION_WINDOW');
  const timeoutMs =
    o.storeTimeoutMs === undefined
      ? 5000
      : aint(o.storeTimeoutMs, 'storeTimeoutMs', 1, 600_000, 'ERR_OPTION_INVALID');
  const clock = o.now ?? Date.now;
  if (typeof clock !== 'function')
    throw typeError('ERR_OPTION_TYPE', `"now" expected a function, got ${kind(clock)}`);
  const emit = emitter<VerifierEvent>(o.onEvent, o.onEventError);
  const kept = o.recoveryHash === undefined ? undefined : keptHashOptions(o.recoveryHash);
  const recoveryHash = kept?.options;
  const s = guardVerifierState(store, timeoutMs);

  /** The time of a call: its own `now` if given, else the clock's; both validated the same way. */
  const nowMs = (override: unknown): number =>
    override === undefined ? atime(clock(), 'now()') : atime(override);

  type Factor = 'totp' | 'hotp' | 'recovery';
  const closed = (
    factor: Factor,
    userId: string,
    credentialId: string,
    failures: number,
    lastFailureAt: number,
    now: number,
  ): ThrottleFailure => {
    const fail = refusal(policy, failures, lastFailureAt, now);
    emit({ type: 'failure', factor, userId, credentialId, reason: fail.reason });
    return fail;
  };
  /**
   * Phase one of an attempt without a challenge: the throttle gate and the attempt counted, in
   * one store call; a closed gate is answered here as its result.
   */
  const admit = async (
    factor: Factor,
    userId: string,
    credentialId: string,
    now: number,
  ): Promise<Extract<BeginOutcome, { status: 'admitted' }> | ThrottleFailure> => {
    const recovery = factor === 'recovery';
    const begun = await s.beginAttempt({
      userId,
      scope: recovery ? RECOVERY_SCOPE : OTP_SCOPE,
      now,
      policy,
      credentialIds: recovery ? [] : [credentialId],
      recoverySet: recovery,
    });
    if (begun.status === 'closed')
      return closed(factor, userId, credentialId, begun.failures, begun.lastFailureAt, now);
    if (begun.status !== 'admitted')
      throw new OtpkitError(
        'ERR_STORE_CORRUPT',
        'store.beginAttempt answered for a challenge that was not asked for',
      );
    return begun;
  };
  /** A counted failure; the one that reaches `maxFailures` also reports the lock, once. */
  const failed = (
    factor: Factor,
    userId: string,
    credentialId: string,
    reason: 'malformed' | 'invalid' | 'replayed',
    failures: number,
  ): VerifierFailure => {
    emit({ type: 'failure', factor, userId, credentialId, reason });
    if (failures === policy.maxFailures)
      emit({ type: 'locked', userId, scope: factor === 'recovery' ? RECOVERY_SCOPE : OTP_SCOPE });
    return { ok: false, reason };
  };

  const totp = async (
    input: VerifierTOTPInput,
    confirming: boolean,
  ): Promise<VerifierTOTPResult> => {
    const i = aoptions<VerifierTOTPInput>(input, TOTP_INPUT_KEYS, 'input');
    if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
    const userId = aid(i.userId, 'userId');
    const credentialId = acredential(i.credentialId);
    const now = nowMs(i.now);
    const { secret, token, userId: _u, credentialId: _c, ...rest } = i;
    const window = rest.window ?? { past: defaultWindow[0], future: defaultWindow[1] };
    // Validate every option (and a directly given secret) before touching the store.
    const lazy = typeof secret === 'function';
    const p = prepareVerifyTOTP(lazy ? PLACEHOLDER_SECRET : secret, { ...rest, window, now });
    const value = parseToken(token, p.otp.digits); // a non-string token throws the TypeError here
    // A confirmation is a new device: centre on now, not on drift learned from an older device.
    const centreOnDrift = learnDrift && !confirming;
    const learned = learnDrift ? maxDrift : null;

    if (!lazy) {
      // The widest window the stored drift could centre on: the store picks inside it.
      const reach = centreOnDrift ? maxDrift : 0;
      const candidates = totpCandidates(p, value, -p.past - reach, p.future + reach);
      const out = await s.attemptTotp({
        userId,
        credentialId,
        scope: OTP_SCOPE,
        now,
        policy,
        step: p.step,
        candidates,
        past: p.past,
        future: p.future,
        centreOnDrift,
        maxDrift: learned,
      });
      if (out.status === 'closed')
        return closed('totp', userId, credentialId, out.failures, out.lastFailureAt, now);
      if (out.status !== 'ok')
        return failed(
          'totp',
          userId,
          credentialId,
          value < 0 ? 'malformed' : out.status,
          out.failures,
        );
      emit({ type: 'success', factor: 'totp', userId, credentialId });
      return { ok: true, delta: out.delta, step: p.step + out.delta };
    }

    // A lazy secret is opened only once the throttle admitted (and counted) the attempt.
    const begun = await admit('totp', userId, credentialId, now);
    if (!('credentials' in begun)) return begun;
    if (value < 0) return failed('totp', userId, credentialId, 'malformed', begun.failures);
    const prepared = { ...p, key: prepareSecret(await resolveSecret(secret), p.otp) };
    const drift = centreOnDrift ? (begun.credentials[credentialId]?.drift ?? 0) : 0;
    const delta = scanTOTP(prepared, value, drift - p.past, drift + p.future);
    if (Number.isNaN(delta)) return failed('totp', userId, credentialId, 'invalid', begun.failures);
    const step = p.step + delta;
    const newDrift = learned === null ? 0 : Math.max(-learned, Math.min(learned, delta));
    const settled = await s.settleAttempt({
      userId,
      scope: OTP_SCOPE,
      now,
      claim: { kind: 'totp', credentialId, step, drift: newDrift, create: true },
    });
    if (settled.status !== 'ok')
      return failed('totp', userId, credentialId, 'replayed', begun.failures);
    emit({ type: 'success', factor: 'totp', userId, credentialId });
    return { ok: true, delta, step };
  };

  const verifyHOTP = async (input: VerifierHOTPInput): Promise<VerifierHOTPResult> => {
    const i = aoptions<VerifierHOTPInput>(input, HOTP_INPUT_KEYS, 'input');
    if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
    const userId = aid(i.userId, 'userId');
    const credentialId = acredential(i.credentialId);
    const now = nowMs(i.now);
    const { secret, token, userId: _u, credentialId: _c, initialCounter, now: _n, ...rest } = i;
    // Validate everything (the counter included) before touching the store.
    const lazy = typeof secret === 'function';
    const probe = prepareVerifyHOTP(lazy ? PLACEHOLDER_SECRET : secret, {
      ...rest,
      counter: initialCounter ?? 0,
    });
    const value = parseToken(token, probe.otp.digits);
    const begun = await admit('hotp', userId, credentialId, now);
    if (!('credentials' in begun)) return begun;
    if (value < 0) return failed('hotp', userId, credentialId, 'malformed', begun.failures);
    const stored = begun.credentials[credentialId]?.hotpCounter ?? null;
    const key = lazy ? prepareSecret(await resolveSecret(secret), probe.otp) : probe.key;
    const result = hotpResult(
      scanHOTPToken({ ...probe, key, counter: stored ?? probe.counter }, value),
    );
    if (!result.ok) return failed('hotp', userId, credentialId, 'invalid', begun.failures);
    const settled = await s.settleAttempt({
      userId,
      scope: OTP_SCOPE,
      now,
      claim: { kind: 'hotp', credentialId, expected: stored, next: result.next, create: true },
    });
    if (settled.status !== 'ok')
      return failed('hotp', userId, credentialId, 'replayed', begun.failures);
    emit({ type: 'success', factor: 'hotp', userId, credentialId });
    return result;
  };

  const redeemRecoveryCode = async (input: RecoveryRedeemInput): Promise<RecoveryRedeemResult> => {
    const i = aoptions<RecoveryRedeemInput>(input, REDEEM_KEYS, 'input');
    if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
    const userId = aid(i.userId, 'userId');
    if (typeof i.code !== 'string')
      throw typeError('ERR_RECOVERY_TYPE', `"code" expected string, got ${kind(i.code)}`);
    const now = nowMs(i.now);
    const begun = await admit('recovery', userId, RECOVERY_SCOPE, now);
    if (!('credentials' in begun)) return begun;
    const set = begun.recoverySet;
    let id: string | null;
    try {
      // Exactly one slow hash whatever the user has (codes or none) and whatever was typed: no
      // timing oracle for "has recovery codes" or for their length.
      id = await matchRecoveryCodeAsync(i.code, set?.codes ?? [], recoveryHash);
    } catch (e) {
      // A stored hash that does not parse is corrupt storage: fail closed as such.
      if (e instanceof OtpkitError && e.code === 'ERR_RECOVERY_HASH')
        throw new OtpkitError(
          'ERR_STORE_CORRUPT',
          'store.beginAttempt returned a malformed recovery-code hash',
          { cause: e },
        );
      throw e;
    }
    // Used, unknown and other users' codes all read 'invalid': no history leaks.
    const settled =
      id === null || set === null
        ? undefined
        : await s.settleAttempt({
            userId,
            scope: RECOVERY_SCOPE,
            now,
            claim: { kind: 'recovery', setId: set.setId, codeId: id },
          });
    if (settled === undefined || settled.status !== 'ok') {
      failed('recovery', userId, RECOVERY_SCOPE, 'invalid', begun.failures);
      return { ok: false, reason: 'invalid' };
    }
    const remaining = settled.remaining ?? 0;
    emit({ type: 'success', factor: 'recovery', userId, credentialId: RECOVERY_SCOPE });
    emit({ type: 'recovery-code-used', userId, remaining });
    return { ok: true, remaining };
  };

  const issueRecoveryCodes = async (input: RecoveryIssueInput): Promise<string[]> => {
    const i = aoptions<RecoveryIssueInput>(input, ISSUE_KEYS, 'input');
    if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
    const userId = aid(i.userId, 'userId');
    const now = nowMs(i.now);
    const { userId: _u, now: _n, ...generateOptions } = i;
    let bits = i.bits;
    if (kept?.peppered === true) {
      // The pepper profile is only sound for codes of at least 112 bits (NIST SP 800-63B §5.1.2.2).
      if (bits === undefined) bits = PEPPER_DEFAULT_BITS;
      else if (typeof bits === 'number' && bits < PEPPER_MIN_BITS)
        throw rangeError(
          'ERR_OPTION_RECOVERY',
          `"bits" expected at least ${PEPPER_MIN_BITS} with "recoveryHash.pepper", got ${bits}`,
        );
    }
    const codes = generateRecoveryCodes({ ...generateOptions, bits });
    const current = await s.getRecoveryCodeSet(userId);
    const hashed = await hashRecoveryCodeSetAsync(codes, recoveryHash);
    const set: RecoveryCodeSet = {
      setId: hex(randomBytes(16)),
      issuedAt: now,
      total: codes.length,
      codes: hashed,
    };
    // Compare-and-set on the set we read: of concurrent regenerations exactly one is stored, and
    // the others must not show their codes, which would never work.
    if (!(await s.replaceRecoveryCodes(userId, set, current?.setId ?? null)))
      throw new OtpkitError(
        'ERR_CONFLICT',
        'recovery codes of this user were replaced concurrently; these codes were not stored',
      );
    emit({
      type: 'recovery-codes-issued',
      userId,
      count: codes.length,
      replaced: current !== null,
    });
    return codes;
  };

  const throttleStatus = async (
    userId: string,
    scope?: ThrottleScope,
    options?: ThrottleStatusOptions,
  ): Promise<ThrottleStatus> => {
    aid(userId, 'userId');
    const sc = ascope(scope);
    const now = nowMs(aoptions<ThrottleStatusOptions>(options, STATUS_KEYS).now);
    const t = await s.getThrottle(userId, sc);
    const gate = checkGate(policy, t.failures, t.lastFailureAt, now);
    return {
      failures: t.failures,
      locked: !gate.open && gate.reason === 'locked',
      retryAfterMs: !gate.open && gate.reason === 'throttled' ? gate.retryAfterMs : 0,
    };
  };

  return Object.freeze({
    store,
    verifyTOTP: (input: VerifierTOTPInput) => totp(input, false),
    confirmTOTP: (input: VerifierTOTPInput) => totp(input, true),
    verifyHOTP,
    issueRecoveryCodes,
    regenerateRecoveryCodes: issueRecoveryCodes,
    redeemRecoveryCode,
    remainingRecoveryCodes: async (userId: string): Promise<number> =>
      (await s.getRecoveryCodeSet(aid(userId, 'userId')))?.codes.length ?? 0,
    throttleStatus,
    unlock: async (userId: string, scope?: ThrottleScope): Promise<void> => {
      const u = aid(userId, 'userId');
      const sc = ascope(scope);
      await s.resetThrottle(u, sc);
      emit({ type: 'unlocked', userId: u, scope: sc });
    },
  });
}
