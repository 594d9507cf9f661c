/**
 * What the verifier and the two-factor flow share: the guarded store, the async-safe audit hook,
 * refusals by the throttle, scopes, and the local TOTP evaluation that runs before the store is
 * asked.
 * @module
 * @internal
 */
import { kind } from '../_assert.js';
import { TWO_32 } from '../_bytes.js';
import {
  isBeginOutcome,
  isBoolean,
  isCount,
  isCreated,
  isDeviceList,
  isReservation,
  isRotation,
  isCodeSet,
  isCredentialMap,
  isSettleOutcome,
  isThrottle,
  isTotpOutcome,
  isVoid,
  OTP_STORE_METHODS,
  storeCall,
} from '../_guard.js';
import { POW10, truncatedHmac } from '../_hmac.js';
import { checkGate, type ThrottlePolicy } from '../_throttle.js';
import { rangeError, typeError } from '../errors.js';
import type { OtpStore } from '../store/types.js';
import { MAX_WINDOW, type PreparedTOTP } from '../verify.js';
import type { ThrottleFailure, ThrottleScope } from './types.js';

const SCOPES: ReadonlySet<string> = /* @__PURE__ */ new Set(['otp', 'recovery']);

/** @internal A throttle scope: exactly `'otp'` or `'recovery'` (default `'otp'`). */
export function ascope(v: unknown): ThrottleScope {
  if (v === undefined) return 'otp';
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"scope" expected 'otp' | 'recovery', got ${kind(v)}`);
  if (!SCOPES.has(v))
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"scope" expected 'otp' | 'recovery', got a string of ${v.length} characters`,
    );
  return v as ThrottleScope;
}

/** @internal Checks that `v` has every method of a store contract, naming what is missing. */
export function astoreShape<T>(
  v: unknown,
  title: string,
  contract: string,
  methods: readonly string[],
): T {
  if (typeof v !== 'object' || v === null)
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected ${contract}, got ${kind(v)}`);
  for (const m of methods) {
    if (typeof (v as Record<string, unknown>)[m] !== 'function')
      throw typeError(
        'ERR_OPTION_TYPE',
        `"${title}" expected ${contract}: "${title}.${m}" is not a function`,
      );
  }
  return v as T;
}

/** @internal An `OtpStore`, checked when a layer is created rather than at the first login. */
export function aotpStore(v: unknown, title = 'store'): OtpStore {
  const s = astoreShape<OtpStore>(v, title, 'an OtpStore', OTP_STORE_METHODS);
  if (typeof s.distributedSafe !== 'boolean')
    throw typeError(
      'ERR_OPTION_TYPE',
      `"${title}" expected an OtpStore: "${title}.distributedSafe" is not a boolean`,
    );
  return s;
}

/**
 * @internal An audit hook that may be sync or async: a throw or a rejection is handed to
 * `onError` (whose own failures are ignored) and never changes a decision or escapes.
 */
export function emitter<E>(onEvent: unknown, onError: unknown): (event: E) => void {
  if (onEvent !== undefined && typeof onEvent !== 'function')
    throw typeError('ERR_OPTION_TYPE', `"onEvent" expected a function, got ${kind(onEvent)}`);
  if (onError !== undefined && typeof onError !== 'function')
    throw typeError('ERR_OPTION_TYPE', `"onEventError" expected a function, got ${kind(onError)}`);
  const hook = onEvent as ((e: E) => unknown) | undefined;
  const report = (error: unknown, e: E): void => {
    if (onError === undefined) return;
    try {
      (onError as (error: unknown, e: E) => void)(error, e);
    } catch {
      // Nothing further to report to.
    }
  };
  return (e) => {
    if (hook === undefined) return;
    try {
      const r: unknown = hook(e);
      if (
        typeof r === 'object' &&
        r !== null &&
        typeof (r as PromiseLike<unknown>).then === 'function'
      )
        (r as PromiseLike<unknown>).then(undefined, (error: unknown) => report(error, e));
    } catch (error) {
      report(error, e);
    }
  };
}

/** @internal The result of an attempt the throttle refused, from the bucket the store read. */
export function refusal(
  policy: ThrottlePolicy,
  failures: number,
  lastFailureAt: number,
  now: number,
): ThrottleFailure {
  const gate = checkGate(policy, failures, lastFailureAt, now);
  if (!gate.open && gate.reason === 'throttled')
    return { ok: false, reason: 'throttled', retryAfterMs: gate.retryAfterMs };
  // A store only refuses a bucket that is locked or owes a delay; if our reading of the counters
  // says otherwise (a skewed clock), the refusal still stands and reads as the shortest wait.
  if (!gate.open) return { ok: false, reason: 'locked' };
  return { ok: false, reason: 'throttled', retryAfterMs: 1 };
}

/**
 * @internal The deltas `lo..hi` (clamped to ±10 and to step ≥ 0) at which `value` is the code, in
 * ascending order: every candidate is computed, so the time does not depend on which match.
 */
export function totpCandidates(p: PreparedTOTP, value: number, lo: number, hi: number): number[] {
  const out: number[] = [];
  if (value < 0) return out; // a malformed token: no HMAC work (its syntax was checked first)
  const mod = POW10[p.otp.digits] as number;
  const last = Math.min(hi, MAX_WINDOW);
  for (let d = Math.max(lo, -MAX_WINDOW, -p.step); d <= last; d++) {
    const c = p.step + d;
    const h = Math.floor(c / TWO_32);
    const hit = truncatedHmac(p.key, h, c - h * TWO_32) % mod === value;
    if (hit) out.push(d + 0); // + 0: never a -0
  }
  return out;
}

/** @internal An `OtpStore` whose every call is bounded in time and whose every answer is validated. */
export type GuardedState = Omit<OtpStore, 'distributedSafe'>;

/** @internal The store calls `createVerifier` makes. */
export type VerifierState = Pick<
  GuardedState,
  | 'attemptTotp'
  | 'beginAttempt'
  | 'settleAttempt'
  | 'getThrottle'
  | 'resetThrottle'
  | 'getRecoveryCodeSet'
  | 'replaceRecoveryCodes'
>;

type Call = <T>(
  method: string,
  run: () => Promise<T>,
  valid: (v: unknown) => boolean,
) => Promise<T>;

/**
 * @internal Wraps the calls `createVerifier` makes so that they fail closed: timeouts, rejections
 * and nonsense become `ERR_STORE*`. Apart from {@link guardState}, so that an app using only the
 * verifier does not ship the validators of the flow's calls.
 */
export function guardVerifierState(store: OtpStore, timeoutMs: number): VerifierState {
  const call: Call = (method, run, valid) => storeCall(method, timeoutMs, run, valid);
  return {
    attemptTotp: (a) => call('attemptTotp', () => store.attemptTotp(a), isTotpOutcome),
    beginAttempt: (b) =>
      call(
        'beginAttempt',
        () => store.beginAttempt(b),
        isBeginOutcome(b.credentialIds, b.recoverySet, b.challengeHash !== undefined),
      ),
    settleAttempt: (s) =>
      call(
        'settleAttempt',
        () => store.settleAttempt(s),
        isSettleOutcome(s.claim.kind === 'recovery'),
      ),
    getThrottle: (u, scope) => call('getThrottle', () => store.getThrottle(u, scope), isThrottle),
    resetThrottle: (u, scope) => call('resetThrottle', () => store.resetThrottle(u, scope), isVoid),
    getRecoveryCodeSet: (u) =>
      call('getRecoveryCodeSet', () => store.getRecoveryCodeSet(u), isCodeSet),
    replaceRecoveryCodes: (u, set, expected) =>
      call('replaceRecoveryCodes', () => store.replaceRecoveryCodes(u, set, expected), isBoolean),
  };
}

/** @internal Wraps every call of an `OtpStore` (the two-factor flow's) so that it fails closed, as {@link guardVerifierState}. */
export function guardState(store: OtpStore, timeoutMs: number): GuardedState {
  const call: Call = (method, run, valid) => storeCall(method, timeoutMs, run, valid);
  return {
    ...guardVerifierState(store, timeoutMs),
    getCredentials: (u, ids) =>
      call('getCredentials', () => store.getCredentials(u, ids), isCredentialMap(ids)),
    initCredential: (u, id, step, counter) =>
      call('initCredential', () => store.initCredential(u, id, step, counter), isBoolean),
    deleteCredentials: (u, ids) =>
      call('deleteCredentials', () => store.deleteCredentials(u, ids), isVoid),
    createChallenge: (r, max, device = null) =>
      call(
        'createChallenge',
        () => store.createChallenge(r, max, device),
        isCreated(r.userId, device),
      ),
    deleteChallenges: (u) => call('deleteChallenges', () => store.deleteChallenges(u), isVoid),
    consumeStepUp: (u, h, now) =>
      call('consumeStepUp', () => store.consumeStepUp(u, h, now), isBoolean),
    eraseUser: (u) => call('eraseUser', () => store.eraseUser(u), isVoid),
    setChallengeCode: (u, h, code, now, expected) =>
      call('setChallengeCode', () => store.setChallengeCode(u, h, code, now, expected), isBoolean),
    createDevice: (r, max) => call('createDevice', () => store.createDevice(r, max), isVoid),
    rotateDevice: (u, kind, h, next, now, exp) =>
      call(
        'rotateDevice',
        () => store.rotateDevice(u, kind, h, next, now, exp),
        isRotation(u, kind, next),
      ),
    listDevices: (u, kind, now) =>
      call('listDevices', () => store.listDevices(u, kind, now), isDeviceList(u, kind)),
    revokeDevices: (u, kind, id) =>
      call('revokeDevices', () => store.revokeDevices(u, kind, id), isCount),
    reserveSend: (b, rule, now) =>
      call('reserveSend', () => store.reserveSend(b, rule, now), isReservation),
    releaseSend: (b, rule, now) =>
      call('releaseSend', () => store.releaseSend(b, rule, now), isVoid),
  };
}
