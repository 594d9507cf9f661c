/**
 * The store-backed verifier: what a login actually needs around `verifyTOTP`.
 *
 * Per credential it checks the throttle first (a locked credential's token is never evaluated),
 * counts the attempt before evaluating it (so parallel guesses cannot all pass one stale check),
 * verifies in constant time, claims the matched step or counter with one atomic store operation
 * (a lost claim is `'replayed'`), resets failures only on success, and learns clock drift. Storage
 * failures throw `OtpkitError` (`ERR_STORE*`): never `ok: true`, never "wrong code".
 *
 * Failures are counted per account: one scope `'otp'` for all TOTP/HOTP credentials of a user
 * (so re-enrolling never resets throttling) and one scope `'recovery'` for recovery codes (so an
 * attacker who locks the OTP credential does not lock the user out of recovery). Recovery codes
 * are consumed atomically.
 * @module
 */
import { abool, aint, aoptions, atime, kind } from './_assert.js';
import { storeCall, isBoolean, isCount, isVoid } from './_storecall.js';
import { randomBytes } from './secret.js';
import { hex } from './_encoding.js';
import { admit, checkGate, resolveThrottle, type Gate, type ThrottleOptions, type ThrottlePolicy } from './_throttle.js';
import { OtpkitError, rangeError, typeError } from './errors.js';
import { prepareSecret } from './_options.js';
import { generateRecoveryCodes, type GenerateRecoveryCodesOptions } from './recovery/codes.js';
import type { RecoveryHashOptions } from './recovery/hash.js';
import { hashRecoveryCodeSetAsync, matchRecoveryCodeAsync } from './recovery/set.js';
import { createMemoryStore } from './store/memory.js';
import type { CredentialState, OtpStore, RecoveryCodeSet } from './store/types.js';
import {
  awindow,
  hotpResult,
  MAX_WINDOW,
  parseToken,
  prepareVerifyHOTP,
  prepareVerifyTOTP,
  scanHOTPToken,
  scanTOTP,
  type TOTPWindow,
  type VerifyFailureReason,
} from './verify.js';

export type { ThrottleOptions } from './_throttle.js';

/** Why a store-backed verification failed. */
export type VerifierFailureReason = VerifyFailureReason | 'replayed' | 'throttled' | 'locked';

/** A refusal by the throttle: still backing off (`retryAfterMs`) or locked until `unlock`. */
export type ThrottleFailure =
  | { readonly ok: false; readonly reason: 'locked' }
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterMs: number };

/** A failed store-backed verification. `retryAfterMs` is set for `'throttled'`. */
export type VerifierFailure = { readonly ok: false; readonly reason: 'malformed' | 'invalid' | 'replayed' } | ThrottleFailure;

/** Result of {@link Verifier.verifyTOTP} and {@link Verifier.confirmTOTP}. */
export type VerifierTOTPResult = { readonly ok: true; readonly delta: number; readonly step: number } | VerifierFailure;

/** Result of {@link Verifier.verifyHOTP}. */
export type VerifierHOTPResult = { readonly ok: true; readonly counter: bigint; readonly next: bigint } | VerifierFailure;

/**
 * Result of {@link Verifier.redeemRecoveryCode}. A malformed, used, replaced, unknown or other
 * user's code is `'invalid'`: nothing about a code's history leaks.
 */
export type RecoveryRedeemResult =
  | { readonly ok: true; readonly remaining: number }
  | { readonly ok: false; readonly reason: 'invalid' }
  | ThrottleFailure;

/** A structured audit event. Never contains secrets, tokens or recovery codes (REQUIREMENTS #41). */
export type VerifierEvent =
  | { readonly type: 'success'; readonly factor: 'totp' | 'hotp' | 'recovery'; readonly userId: string; readonly credentialId: string }
  | {
      readonly type: 'failure';
      readonly factor: 'totp' | 'hotp' | 'recovery';
      readonly userId: string;
      readonly credentialId: string;
      readonly reason: VerifierFailureReason;
    }
  | { readonly type: 'recovery-code-used'; readonly userId: string; readonly remaining: number }
  | { readonly type: 'recovery-codes-issued'; readonly userId: string; readonly count: number; readonly replaced: boolean };

/** Options of {@link createVerifier}. */
export interface VerifierOptions {
  /** Where replay, throttle, drift and recovery state lives. @defaultValue a new in-memory store (single process only) */
  readonly store?: OtpStore | undefined;
  /** Default TOTP window (0–10 each way). @defaultValue 1 */
  readonly window?: TOTPWindow | undefined;
  /** Backoff and lockout policy. @defaultValue `{ freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 900000, maxFailures: 100 }` */
  readonly throttle?: ThrottleOptions | undefined;
  /** Learn each credential's clock drift and centre later windows on it (RFC 6238 §6). @defaultValue true */
  readonly learnDrift?: boolean | undefined;
  /** Largest drift remembered, in steps (0–10); windows never reach beyond ±10 steps. @defaultValue 10 */
  readonly maxDrift?: number | undefined;
  /** Time limit of each store call; a slower call fails closed with `ERR_STORE_TIMEOUT`. @defaultValue 5000 */
  readonly storeTimeoutMs?: number | undefined;
  /** The clock, in ms since the epoch. Use the server's clock, never a client's. @defaultValue Date.now */
  readonly now?: (() => number) | undefined;
  /**
   * Called with every audit event; may be async. A throw or a rejected promise never changes a
   * decision and never escapes (it goes to `onEventError` if given): an audit sink that is down
   * cannot crash the server or lock anybody out.
   */
  readonly onEvent?: ((event: VerifierEvent) => unknown) | undefined;
  /** Receives what `onEvent` threw or rejected with, e.g. to log that the audit sink is failing. Its own errors are ignored. */
  readonly onEventError?: ((error: unknown, event: VerifierEvent) => void) | undefined;
  /** scrypt parameters for newly issued recovery codes. @defaultValue the `hashRecoveryCode` defaults */
  readonly recoveryHash?: RecoveryHashOptions | undefined;
}

/** Identifies the credential a call is about. */
export interface CredentialRef {
  /** The account. */
  readonly userId: string;
  /** The authenticator of the account. @defaultValue 'default' */
  readonly credentialId?: string | undefined;
}

/**
 * The credential's secret, or a function returning it (for example `() => openSecret(row.sealed, …)`).
 * A function is called only after the throttle admitted the attempt, so a locked credential's
 * secret is never decrypted.
 */
export type SecretSource = Uint8Array | (() => Uint8Array | Promise<Uint8Array>);

/** Input of {@link Verifier.verifyTOTP}: the credential, its secret, the token, and per-credential TOTP settings. */
export interface VerifierTOTPInput extends CredentialRef {
  readonly secret: SecretSource;
  /** The code as submitted; never trimmed (use `normalizeToken` first if your UI wants). */
  readonly token: string;
  readonly algorithm?: 'SHA1' | 'SHA256' | 'SHA512' | undefined;
  readonly digits?: number | undefined;
  readonly period?: number | undefined;
  readonly t0?: number | undefined;
  /** Overrides the verifier's clock for this call (ms or Date). */
  readonly now?: number | Date | undefined;
  /** Overrides the verifier's window for this call. */
  readonly window?: TOTPWindow | undefined;
  readonly allowInsecureShortSecret?: boolean | undefined;
}

/** Input of {@link Verifier.verifyHOTP}. */
export interface VerifierHOTPInput extends CredentialRef {
  readonly secret: SecretSource;
  readonly token: string;
  /** The counter to start from when the store has none for this credential. @defaultValue 0 */
  readonly initialCounter?: number | bigint | undefined;
  /** @defaultValue 10 (max 100) */
  readonly lookAhead?: number | undefined;
  readonly algorithm?: 'SHA1' | 'SHA256' | 'SHA512' | undefined;
  readonly digits?: number | undefined;
  readonly allowInsecureShortSecret?: boolean | undefined;
  /** Overrides the verifier's clock for this call (ms or Date). */
  readonly now?: number | Date | undefined;
}

/** Input of {@link Verifier.redeemRecoveryCode}. */
export interface RecoveryRedeemInput {
  readonly userId: string;
  /** The code as typed; case, spaces, hyphens and O/I/L look-alikes are normalised. */
  readonly code: string;
  /** Overrides the verifier's clock for this call (ms or Date). */
  readonly now?: number | Date | undefined;
}

/** Input of {@link Verifier.issueRecoveryCodes}. */
export interface RecoveryIssueInput extends GenerateRecoveryCodesOptions {
  readonly userId: string;
  /** Overrides the verifier's clock for this call (ms or Date): the set's issue time. */
  readonly now?: number | Date | undefined;
}

/** Options of {@link Verifier.throttleStatus}. */
export interface ThrottleStatusOptions {
  /** Overrides the verifier's clock for this call (ms or Date). */
  readonly now?: number | Date | undefined;
}

/**
 * A throttle counter of an account: `'otp'` counts the failures of all its TOTP/HOTP
 * credentials, `'recovery'` those of recovery codes.
 */
export type ThrottleScope = 'otp' | 'recovery';

/** Throttle status of a credential or of recovery codes. */
export interface ThrottleStatus {
  readonly failures: number;
  readonly locked: boolean;
  /** 0 when an attempt may be made now. */
  readonly retryAfterMs: number;
}

/** The store-backed verifier. All methods fail closed: a storage failure throws `OtpkitError`. */
export interface Verifier {
  /** The store in use. */
  readonly store: OtpStore;
  /** Verifies a TOTP login code with replay protection, throttling and drift learning. */
  verifyTOTP(input: VerifierTOTPInput): Promise<VerifierTOTPResult>;
  /**
   * Confirms a new enrollment: the user proves the authenticator app has the secret. The matched
   * step is consumed, so the setup code cannot be reused as the first login code.
   */
  confirmTOTP(input: VerifierTOTPInput): Promise<VerifierTOTPResult>;
  /** Verifies an HOTP code with look-ahead and an atomic counter compare-and-set. */
  verifyHOTP(input: VerifierHOTPInput): Promise<VerifierHOTPResult>;
  /**
   * Issues a new set of recovery codes, atomically replacing any old set. Show the returned codes
   * once. Of concurrent calls for one user exactly one succeeds; the others reject with
   * `OtpkitError` `ERR_CONFLICT` and store nothing, so no caller is ever shown codes that do not work.
   */
  issueRecoveryCodes(input: RecoveryIssueInput): Promise<string[]>;
  /**
   * Replaces the whole set with a new one (an alias of {@link Verifier.issueRecoveryCodes}): old
   * codes stop working at once, failure counts are kept, and a `recovery-codes-issued` event
   * with `replaced: true` lets the app notify the user.
   */
  regenerateRecoveryCodes(input: RecoveryIssueInput): Promise<string[]>;
  /** Redeems a recovery code exactly once (atomic), throttled like OTP codes. */
  redeemRecoveryCode(input: RecoveryRedeemInput): Promise<RecoveryRedeemResult>;
  /** How many unused recovery codes `userId` has. */
  remainingRecoveryCodes(userId: string): Promise<number>;
  /**
   * Throttle status of `(userId, scope)`; scope is `'otp'` (all TOTP/HOTP credentials, the default)
   * or `'recovery'`. Any other scope is a `RangeError`.
   */
  throttleStatus(userId: string, scope?: ThrottleScope, options?: ThrottleStatusOptions): Promise<ThrottleStatus>;
  /**
   * Clears the failure count of `(userId, scope)`, lifting a lock (an administrator or support
   * action). Any scope but `'otp'` and `'recovery'` is a `RangeError`, so a typo never looks as if it worked.
   */
  unlock(userId: string, scope?: ThrottleScope): Promise<void>;
}

const VERIFIER_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'store', 'window', 'throttle', 'learnDrift', 'maxDrift', 'storeTimeoutMs', 'now', 'onEvent', 'onEventError', 'recoveryHash',
]);
// Spelled out (no spreads) so bundlers can drop these sets from apps that never create a verifier.
const TOTP_INPUT_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId', 'credentialId', 'secret', 'token', 'window',
  'algorithm', 'digits', 'allowInsecureShortSecret', 'period', 't0', 'now',
]);
const HOTP_INPUT_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId', 'credentialId', 'secret', 'token', 'initialCounter', 'lookAhead',
  'algorithm', 'digits', 'allowInsecureShortSecret', 'now',
]);
const REDEEM_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['userId', 'code', 'now']);
const ISSUE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['userId', 'count', 'bits', 'groupSize', 'now']);
const STATUS_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['now']);
const SCOPES: ReadonlySet<string> = /* @__PURE__ */ new Set(['otp', 'recovery']);
/** Every method an `OtpStore` must have, checked when the verifier is created. */
const STORE_METHODS = [
  'getState', 'claimTotpStep', 'compareAndSetHotpCounter', 'recordFailure', 'resetFailures',
  'setDrift', 'getRecoveryCodeSet', 'consumeRecoveryCode', 'replaceRecoveryCodes',
] as const;

/** The throttle scope of recovery codes. */
export const RECOVERY_SCOPE: ThrottleScope = 'recovery';
/**
 * The throttle scope of OTP codes: one failure count per account for all its TOTP/HOTP
 * credentials, so re-enrolling a new credential never resets throttling (REQUIREMENTS #27).
 */
export const OTP_SCOPE: ThrottleScope = 'otp';
/** A 32-byte stand-in used to validate options before a lazily supplied secret is fetched. */
const PLACEHOLDER_SECRET = /* @__PURE__ */ new Uint8Array(32);
const MAX_ID = 256;

function aid(v: unknown, title: string): string {
  if (typeof v !== 'string') throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(v)}`);
  if (v.length === 0 || v.length > MAX_ID)
    throw rangeError('ERR_OPTION_INVALID', `"${title}" expected 1..${MAX_ID} characters, got ${v.length}`);
  // Every store must keep distinct ids distinct: UTF-8 stores turn lone surrogates into U+FFFD and refuse NUL.
  if (/\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(v))
    throw rangeError('ERR_OPTION_INVALID', `"${title}" contains NUL or a lone surrogate`);
  return v;
}

/** A fresh recovery-code set id: 128 random bits, hex. */
function newSetId(): string {
  return hex(randomBytes(16));
}

/** A throttle scope: exactly `'otp'` or `'recovery'`. */
function ascope(v: unknown): ThrottleScope {
  if (v === undefined) return OTP_SCOPE;
  if (typeof v !== 'string') throw typeError('ERR_OPTION_TYPE', `"scope" expected 'otp' | 'recovery', got ${kind(v)}`);
  if (!SCOPES.has(v)) throw rangeError('ERR_OPTION_INVALID', `"scope" expected 'otp' | 'recovery', got a string of ${v.length} characters`);
  return v as ThrottleScope;
}

/** An `OtpStore`: an object with every method of the contract, checked before the first login needs it. */
function astore(v: unknown): OtpStore {
  if (typeof v !== 'object' || v === null) throw typeError('ERR_OPTION_TYPE', `"store" expected an OtpStore, got ${kind(v)}`);
  for (const m of STORE_METHODS) {
    if (typeof (v as Record<string, unknown>)[m] !== 'function')
      throw typeError('ERR_OPTION_TYPE', `"store" expected an OtpStore: "store.${m}" is not a function`);
  }
  if (typeof (v as { distributedSafe?: unknown }).distributedSafe !== 'boolean')
    throw typeError('ERR_OPTION_TYPE', '"store" expected an OtpStore: "store.distributedSafe" is not a boolean');
  return v as OtpStore;
}

/** A credential id, `'default'` when omitted. */
function acredential(v: unknown): string {
  return v === undefined ? 'default' : aid(v, 'credentialId');
}

/** A secret given directly, or a function that fetches it (called only once the throttle admits the attempt). */
async function resolveSecret(secret: SecretSource): Promise<unknown> {
  return typeof secret === 'function' ? secret() : secret;
}

function isState(v: unknown): v is CredentialState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const f = s.failures;
  const at = s.lastFailureAt;
  const d = s.drift;
  const h = s.hotpCounter;
  const l = s.lastStep;
  return (
    typeof f === 'number' && Number.isSafeInteger(f) && f >= 0 &&
    typeof at === 'number' && Number.isSafeInteger(at) && at >= 0 &&
    typeof d === 'number' && Number.isSafeInteger(d) && Math.abs(d) <= MAX_WINDOW &&
    (h === null || (typeof h === 'bigint' && h >= 0n && h < 1n << 64n)) &&
    (l === null || (typeof l === 'number' && Number.isSafeInteger(l) && l >= 0))
  );
}

function isCodeSet(v: unknown): v is RecoveryCodeSet | null {
  if (v === null) return true;
  if (typeof v !== 'object') return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s.setId === 'string' &&
    typeof s.issuedAt === 'number' && Number.isSafeInteger(s.issuedAt) && s.issuedAt >= 0 &&
    typeof s.total === 'number' && Number.isSafeInteger(s.total) && s.total >= 0 &&
    Array.isArray(s.codes) &&
    s.codes.every((c: unknown) => typeof c === 'object' && c !== null && typeof (c as { id?: unknown }).id === 'string' && typeof (c as { hash?: unknown }).hash === 'string')
  );
}

/**
 * Creates the store-backed verifier that a login flow uses.
 *
 * @param options - {@link VerifierOptions}; with no store, an in-memory store (one process only).
 * @returns a {@link Verifier}.
 * @throws TypeError / RangeError on invalid options.
 * @example
 * ```ts
 * const verifier = createVerifier({ store: createMemoryStore() });
 * const secret = generateSecret();
 * const first = await verifier.confirmTOTP({ userId: 'alice', secret, token: generateTOTP(secret) });
 * // first.ok === true; the same code again is { ok: false, reason: 'replayed' }
 * ```
 * @see RFC 6238 §5.2, RFC 4226 §7.3, NIST SP 800-63B §5.2.2
 */
export function createVerifier(options?: VerifierOptions): Verifier {
  const o = aoptions<VerifierOptions>(options, VERIFIER_KEYS);
  const store = o.store === undefined ? createMemoryStore() : astore(o.store);
  const defaultWindow = awindow(o.window);
  const policy: ThrottlePolicy = resolveThrottle(o.throttle);
  const learnDrift = o.learnDrift === undefined ? true : abool(o.learnDrift, 'learnDrift');
  const maxDrift = o.maxDrift === undefined ? MAX_WINDOW : aint(o.maxDrift, 'maxDrift', 0, MAX_WINDOW, 'ERR_OPTION_WINDOW');
  const timeoutMs = o.storeTimeoutMs === undefined ? 5000 : aint(o.storeTimeoutMs, 'storeTimeoutMs', 1, 600_000, 'ERR_OPTION_INVALID');
  const clock = o.now ?? Date.now;
  if (typeof clock !== 'function') throw typeError('ERR_OPTION_TYPE', `"now" expected a function, got ${kind(clock)}`);
  const onEvent = o.onEvent;
  if (onEvent !== undefined && typeof onEvent !== 'function')
    throw typeError('ERR_OPTION_TYPE', `"onEvent" expected a function, got ${kind(onEvent)}`);
  const onEventError = o.onEventError;
  if (onEventError !== undefined && typeof onEventError !== 'function')
    throw typeError('ERR_OPTION_TYPE', `"onEventError" expected a function, got ${kind(onEventError)}`);
  const recoveryHash = o.recoveryHash;

  const reportEventError = (error: unknown, e: VerifierEvent): void => {
    if (onEventError === undefined) return;
    try {
      onEventError(error, e);
    } catch {
      // Nothing further to report to.
    }
  };
  // An audit hook failing, synchronously or by rejecting, must never turn into an
  // authentication decision or an unhandled rejection.
  const emit = (e: VerifierEvent): void => {
    if (onEvent === undefined) return;
    try {
      const r: unknown = onEvent(e);
      if (typeof r === 'object' && r !== null && typeof (r as PromiseLike<unknown>).then === 'function')
        (r as PromiseLike<unknown>).then(undefined, (error: unknown) => reportEventError(error, e));
    } catch (error) {
      reportEventError(error, e);
    }
  };

  const s = {
    getState: (u: string, c: string, scope: string) =>
      storeCall('getState', timeoutMs, () => store.getState(u, c, scope), isState),
    claimTotpStep: (u: string, c: string, step: number) =>
      storeCall('claimTotpStep', timeoutMs, () => store.claimTotpStep(u, c, step), isBoolean),
    cas: (u: string, c: string, expected: bigint | null, next: bigint) =>
      storeCall('compareAndSetHotpCounter', timeoutMs, () => store.compareAndSetHotpCounter(u, c, expected, next), isBoolean),
    recordFailure: (u: string, scope: string, now: number) =>
      storeCall('recordFailure', timeoutMs, () => store.recordFailure(u, scope, now), isCount),
    resetFailures: (u: string, scope: string) =>
      storeCall('resetFailures', timeoutMs, () => store.resetFailures(u, scope), isVoid),
    setDrift: (u: string, c: string, d: number) => storeCall('setDrift', timeoutMs, () => store.setDrift(u, c, d), isVoid),
    getRecoveryCodeSet: (u: string) => storeCall('getRecoveryCodeSet', timeoutMs, () => store.getRecoveryCodeSet(u), isCodeSet),
    consumeRecoveryCode: (u: string, id: string) =>
      storeCall('consumeRecoveryCode', timeoutMs, () => store.consumeRecoveryCode(u, id), isBoolean),
    replaceRecoveryCodes: (u: string, set: RecoveryCodeSet, expected: string | null) =>
      storeCall('replaceRecoveryCodes', timeoutMs, () => store.replaceRecoveryCodes(u, set, expected), isBoolean),
  };

  /** The time of a call: its own `now` if given, else the clock's; both validated the same way. */
  const nowMs = (override: unknown): number => (override === undefined ? atime(clock(), 'now()') : atime(override));

  /**
   * Throttle gate + pessimistic count: returns null when the attempt may be evaluated, or the
   * failure to return. The attempt is counted as a failure now and the count is reset on success.
   */
  const enter = async (
    userId: string,
    credentialId: string,
    scope: string,
    now: number,
    factor: 'totp' | 'hotp' | 'recovery',
  ): Promise<{ state: CredentialState } | { fail: ThrottleFailure }> => {
    const state = await s.getState(userId, credentialId, scope);
    let gate: Gate = checkGate(policy, state.failures, state.lastFailureAt, now);
    if (gate.open) {
      const count = await s.recordFailure(userId, scope, now);
      gate = admit(policy, state.failures, count);
    }
    if (gate.open) return { state };
    const fail: ThrottleFailure =
      gate.reason === 'locked' ? { ok: false, reason: 'locked' } : { ok: false, reason: 'throttled', retryAfterMs: gate.retryAfterMs };
    emit({ type: 'failure', factor, userId, credentialId, reason: fail.reason });
    return { fail };
  };

  const failed = (
    factor: 'totp' | 'hotp' | 'recovery',
    userId: string,
    credentialId: string,
    reason: 'malformed' | 'invalid' | 'replayed',
  ): VerifierFailure => {
    emit({ type: 'failure', factor, userId, credentialId, reason });
    return { ok: false, reason };
  };

  const totp = async (input: VerifierTOTPInput, confirming: boolean): Promise<VerifierTOTPResult> => {
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
    if (typeof token !== 'string') parseToken(token, p.otp.digits); // throws the TypeError
    const entered = await enter(userId, credentialId, OTP_SCOPE, now, 'totp');
    if ('fail' in entered) return entered.fail;
    const value = parseToken(token, p.otp.digits);
    if (value < 0) return failed('totp', userId, credentialId, 'malformed');
    const prepared = lazy ? { ...p, key: prepareSecret(await resolveSecret(secret), p.otp) } : p;
    // A confirmation is a new device: centre on now, not on drift learned from an older device.
    const drift = learnDrift && !confirming ? entered.state.drift : 0;
    const delta = scanTOTP(prepared, value, drift - p.past, drift + p.future);
    if (Number.isNaN(delta)) return failed('totp', userId, credentialId, 'invalid');
    const step = p.step + delta;
    if (!(await s.claimTotpStep(userId, credentialId, step))) return failed('totp', userId, credentialId, 'replayed');
    await s.resetFailures(userId, OTP_SCOPE);
    const learned = learnDrift ? Math.max(-maxDrift, Math.min(maxDrift, delta)) : 0;
    if (learned !== entered.state.drift) await s.setDrift(userId, credentialId, learned);
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
    const probe = prepareVerifyHOTP(lazy ? PLACEHOLDER_SECRET : secret, { ...rest, counter: initialCounter ?? 0 });
    if (typeof token !== 'string') parseToken(token, probe.otp.digits);
    const entered = await enter(userId, credentialId, OTP_SCOPE, now, 'hotp');
    if ('fail' in entered) return entered.fail;
    const value = parseToken(token, probe.otp.digits);
    if (value < 0) return failed('hotp', userId, credentialId, 'malformed');
    const stored = entered.state.hotpCounter;
    const key = lazy ? prepareSecret(await resolveSecret(secret), probe.otp) : probe.key;
    const p = { ...probe, key, counter: stored ?? probe.counter };
    const result = hotpResult(scanHOTPToken(p, value));
    if (!result.ok) return failed('hotp', userId, credentialId, 'invalid');
    if (!(await s.cas(userId, credentialId, stored, result.next))) return failed('hotp', userId, credentialId, 'replayed');
    await s.resetFailures(userId, OTP_SCOPE);
    emit({ type: 'success', factor: 'hotp', userId, credentialId });
    return result;
  };

  const redeemRecoveryCode = async (input: RecoveryRedeemInput): Promise<RecoveryRedeemResult> => {
    const i = aoptions<RecoveryRedeemInput>(input, REDEEM_KEYS, 'input');
    if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
    const userId = aid(i.userId, 'userId');
    if (typeof i.code !== 'string') throw typeError('ERR_RECOVERY_TYPE', `"code" expected string, got ${kind(i.code)}`);
    const now = nowMs(i.now);
    const entered = await enter(userId, RECOVERY_SCOPE, RECOVERY_SCOPE, now, 'recovery');
    if ('fail' in entered) return entered.fail;
    const set = await s.getRecoveryCodeSet(userId);
    let id: string | null;
    try {
      // Exactly one slow hash whatever the user has (codes or none) and whatever was typed: no
      // timing oracle for "has recovery codes" or for their length.
      id = await matchRecoveryCodeAsync(i.code, set?.codes ?? [], recoveryHash);
    } catch (e) {
      // A stored hash that does not parse is corrupt storage: fail closed as such.
      if (e instanceof OtpkitError && e.code === 'ERR_RECOVERY_HASH')
        throw new OtpkitError('ERR_STORE_CORRUPT', 'store.getRecoveryCodeSet returned a malformed hash', { cause: e });
      throw e;
    }
    // Used, unknown and other users' codes all read 'invalid': no history leaks.
    if (id === null || !(await s.consumeRecoveryCode(userId, id))) {
      emit({ type: 'failure', factor: 'recovery', userId, credentialId: RECOVERY_SCOPE, reason: 'invalid' });
      return { ok: false, reason: 'invalid' };
    }
    await s.resetFailures(userId, RECOVERY_SCOPE);
    const remaining = (await s.getRecoveryCodeSet(userId))?.codes.length ?? 0;
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
    const codes = generateRecoveryCodes(generateOptions);
    const current = await s.getRecoveryCodeSet(userId);
    const hashed = await hashRecoveryCodeSetAsync(codes, recoveryHash);
    const set: RecoveryCodeSet = { setId: newSetId(), issuedAt: now, total: codes.length, codes: hashed };
    // Compare-and-set on the set we read: of concurrent regenerations exactly one is stored, and
    // the others must not show their codes, which would never work.
    if (!(await s.replaceRecoveryCodes(userId, set, current?.setId ?? null)))
      throw new OtpkitError('ERR_CONFLICT', 'recovery codes of this user were replaced concurrently; these codes were not stored');
    emit({ type: 'recovery-codes-issued', userId, count: codes.length, replaced: current !== null });
    return codes;
  };

  const throttleStatus = async (userId: string, scope?: ThrottleScope, options?: ThrottleStatusOptions): Promise<ThrottleStatus> => {
    aid(userId, 'userId');
    const sc = ascope(scope);
    const now = nowMs(aoptions<ThrottleStatusOptions>(options, STATUS_KEYS).now);
    const state = await s.getState(userId, sc, sc);
    const gate = checkGate(policy, state.failures, state.lastFailureAt, now);
    return {
      failures: state.failures,
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
      await s.resetFailures(u, ascope(scope));
    },
  });
}
