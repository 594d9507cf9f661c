/**
 * The two-factor flow: factors, enrollment, sign-in challenges, step-up and the whole lifecycle,
 * on any framework and any store. `createVerifier` remains the lower layer for apps that keep
 * their secrets themselves.
 * @module
 */
import { aalgorithm, adigits, aint, aoptions, kind } from '../_assert.js';
import { resolveThrottle } from '../_throttle.js';
import { FACTOR_STORE_METHODS } from '../_guard.js';
import { typeError, rangeError } from '../errors.js';
import { keptHashOptions } from '../recovery/hash.js';
import { PEPPER_DEFAULT_BITS, PEPPER_MIN_BITS } from '../recovery/pepper.js';
import { createMemoryStore } from '../store/memory.js';
import type { FactorStore, OtpStore } from '../store/types.js';
import { nameProblem } from '../uri/_rules.js';
import { awindow } from '../verify.js';
import { aotpStore, astoreShape, emitter, guardState } from '../verifier/_shared.js';
import { clockOf, guardFactors, sealing, type Context } from './_context.js';
import {
  startChallenge,
  verifyChallenge,
  verifyCode,
  type StartChallengeInput,
  type StartChallengeResult,
  type VerifyChallengeInput,
  type VerifyCodeInput,
} from './challenge.js';
import {
  beginEnrollment,
  confirmEnrollment,
  getEnrollment,
  importFactor,
  type BeginEnrollmentInput,
  type BeginDeliveryEnrollmentResult,
  type BeginEnrollmentResult,
  type ConfirmEnrollmentInput,
  type ConfirmEnrollmentResult,
  type GetEnrollmentInput,
  type GetEnrollmentResult,
  type ImportFactorInput,
  type ImportFactorResult,
} from './enrollment.js';
import {
  listTrustedDevices,
  revokeTrustedDevices,
  trustDevice,
  type TrustDeviceInput,
  type TrustDeviceResult,
  type TrustedDevice,
} from './devices.js';
import { sendCode, type SendCodeInput, type SendCodeResult } from './oob.js';
import {
  disableTwoFactor,
  onPasswordChanged,
  eraseUser,
  listFactors,
  recoveryCodeStatus,
  regenerateRecoveryCodes,
  removeFactor,
  renameFactor,
  resealFactors,
  throttleStatus,
  unlock,
  type ChangeInput,
  type ListFactorsOptions,
  type RecoveryCodeStatus,
  type RemoveFactorInput,
  type RenameFactorInput,
  type ResealOptions,
  type StepUpRequired,
} from './lifecycle.js';
import type {
  Factor,
  ThrottleScope,
  ThrottleStatus,
  TwoFactorEvent,
  TwoFactorOptions,
  VerificationResult,
} from './types.js';

/** The two-factor flow of one app. Every method fails closed: a storage failure throws `OtpkitError`. */
export interface TwoFactor {
  /**
   * Starts enrolling an authenticator: the server makes the secret (never the client), seals it
   * and stores a pending factor that expires and never gates sign-in. Adding a factor when one
   * is confirmed needs a step-up token (or an administrator).
   */
  beginEnrollment(
    input: BeginEnrollmentInput & { readonly type?: 'totp' | 'hotp' | undefined },
  ): Promise<BeginEnrollmentResult>;
  /** Starts enrolling an email address or a phone number: a code is sent to it, to confirm with. */
  beginEnrollment(
    input: BeginEnrollmentInput & { readonly type: 'email' | 'sms' },
  ): Promise<BeginDeliveryEnrollmentResult>;
  /** Confirms a pending factor with a code from the authenticator, consuming that code's step; the first factor comes with recovery codes. */
  confirmEnrollment(input: ConfirmEnrollmentInput): Promise<ConfirmEnrollmentResult>;
  /** The URI and key of a pending authenticator-app enrollment again (e.g. to re-show the setup page after a typo); never of a confirmed factor. */
  getEnrollment(input: GetEnrollmentInput): Promise<GetEnrollmentResult>;
  /** Imports an enrollment made by another library (a secret or an `otpauth://` URI) as a confirmed factor. */
  importFactor(input: ImportFactorInput): Promise<ImportFactorResult>;
  /** The user's factors (confirmed ones; pending too if asked), never a secret. */
  listFactors(userId: string, options?: ListFactorsOptions): Promise<Factor[]>;
  /** Renames a factor; `false` if the user has no such factor. */
  renameFactor(input: RenameFactorInput): Promise<boolean>;
  /** Removes a factor (its codes fail at once); removing the last one disables 2FA. Needs a step-up token. */
  removeFactor(
    input: RemoveFactorInput,
  ): Promise<
    | { readonly ok: true; readonly disabled: boolean }
    | StepUpRequired
    | { readonly ok: false; readonly reason: 'not-found' }
  >;
  /** Whether the user has a confirmed factor. */
  isEnabled(userId: string): Promise<boolean>;
  /** Removes every factor and the recovery codes (throttle counts are kept). Needs a step-up token. */
  disableTwoFactor(
    input: ChangeInput,
  ): Promise<
    { readonly ok: true } | StepUpRequired | { readonly ok: false; readonly reason: 'not-enabled' }
  >;
  /** Deletes everything stored for the user, in every store. */
  eraseUser(userId: string): Promise<void>;
  /** After the first factor: whether a second is needed, and the challenge to answer. */
  startChallenge(input: StartChallengeInput): Promise<StartChallengeResult>;
  /** Answers a challenge with a code of any of the user's factors, or a recovery code; one attempt, whichever matches. */
  verifyChallenge(input: VerifyChallengeInput): Promise<VerificationResult>;
  /** Step-up: re-verifies a signed-in user with a code, before a sensitive change. */
  verifyCode(input: VerifyCodeInput): Promise<VerificationResult>;
  /** How many recovery codes the user has left, of how many, issued when; `null` if none were issued. */
  recoveryCodeStatus(userId: string): Promise<RecoveryCodeStatus | null>;
  /** Replaces the recovery codes with a new set (shown once). Needs a step-up token. */
  regenerateRecoveryCodes(
    input: ChangeInput,
  ): Promise<
    | { readonly ok: true; readonly codes: readonly string[] }
    | StepUpRequired
    | { readonly ok: false; readonly reason: 'not-enabled' }
  >;
  /** The throttle bucket of OTP codes (`'otp'`, default) or of recovery codes. */
  throttleStatus(
    userId: string,
    scope?: ThrottleScope,
    options?: { readonly now?: number | Date | undefined },
  ): Promise<ThrottleStatus>;
  /** Lifts a lock; the administrator is named in the `unlocked` event. */
  unlock(
    userId: string,
    scope?: ThrottleScope,
    options?: { readonly administrator?: string | undefined },
  ): Promise<void>;
  /** Re-seals every factor sealed under an older key with the current one, in batches. */
  resealFactors(
    options?: ResealOptions,
  ): Promise<{ readonly scanned: number; readonly resealed: number }>;
  /** Sends a fresh code of a live challenge to one of the user's email/SMS factors (a resend replaces the live code). */
  sendCode(input: SendCodeInput): Promise<SendCodeResult>;
  /** "Remember this device": after a fresh second factor, a token that lets this browser skip it. */
  trustDevice(input: TrustDeviceInput): Promise<TrustDeviceResult>;
  /** The user's remembered browsers (never their tokens). */
  listTrustedDevices(
    userId: string,
    options?: { readonly now?: number | Date | undefined },
  ): Promise<TrustedDevice[]>;
  /** Forgets one remembered browser; resolves whether there was one. */
  revokeTrustedDevice(input: {
    readonly userId: string;
    readonly deviceId: string;
  }): Promise<boolean>;
  /** Forgets every remembered browser of the user; resolves how many. */
  revokeAllTrustedDevices(userId: string): Promise<number>;
  /** Tell otpkit the password changed: remembered browsers are forgotten and pending sign-ins cancelled. */
  onPasswordChanged(userId: string): Promise<void>;
}

const KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'store',
  'factors',
  'state',
  'keys',
  'issuer',
  'enrollment',
  'window',
  'throttle',
  'maxFactors',
  'enrollmentTtlMs',
  'challengeTtlMs',
  'challengeAttempts',
  'stepUpTtlMs',
  'recoveryCodes',
  'storeTimeoutMs',
  'now',
  'onEvent',
  'onEventError',
  'devices',
  'delivery',
]);
const DEVICE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'trustedTtlMs',
  'maxTrusted',
  'knownTtlMs',
  'maxKnown',
]);
const DELIVERY_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'deliver',
  'timeoutMs',
  'digits',
  'codeTtlMs',
  'cooldownMs',
  'perUserPerHour',
  'perDestinationPerHour',
  'perAppPerHour',
]);
const ENROLL_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['algorithm', 'digits', 'period']);
const RECOVERY_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'count',
  'bits',
  'hash',
  'lowThreshold',
]);
const DAY_MS = 86_400_000;

/** Validates scrypt parameters now, so a bad one is misuse at creation rather than at the first enrollment. */
/**
 * Creates the two-factor flow of an app.
 *
 * @param options - {@link TwoFactorOptions}: the stores (one for all, or `factors` and `state`
 *   apart), the sealing keys and the issuer name are what an app must give.
 * @returns a {@link TwoFactor}.
 * @throws TypeError / RangeError on invalid options or a store missing a method of its contract.
 * @example
 * ```ts
 * const twoFactor = createTwoFactor({
 *   store: createMemoryStore(),
 *   issuer: 'ACME',
 *   keys: { current: 'k1', keys: { k1: kek } }, // a 32-byte key from your KMS or environment
 * });
 * const enrollment = await twoFactor.beginEnrollment({ userId: 'alice', account: 'alice@example.com' });
 * ```
 * @see RFC 6238, NIST SP 800-63B-4 §3.1.4, §3.2.2, §4.2.1.1
 */
export function createTwoFactor(options: TwoFactorOptions): TwoFactor {
  if (options === undefined)
    throw typeError('ERR_OPTION_TYPE', '"options" is required: the stores, "keys" and "issuer"');
  const o = aoptions<TwoFactorOptions>(options, KEYS);
  let state: OtpStore;
  let factors: FactorStore;
  if (o.store !== undefined) {
    if (o.factors !== undefined || o.state !== undefined)
      throw rangeError('ERR_OPTION_INVALID', 'give either "store" or "factors" and "state"');
    state = aotpStore(o.store);
    factors = astoreShape<FactorStore>(o.store, 'store', 'a FactorStore', FACTOR_STORE_METHODS);
  } else if (o.factors !== undefined || o.state !== undefined) {
    if (o.factors === undefined || o.state === undefined)
      throw rangeError('ERR_OPTION_INVALID', 'give both "factors" and "state"');
    state = aotpStore(o.state, 'state');
    factors = astoreShape<FactorStore>(o.factors, 'factors', 'a FactorStore', FACTOR_STORE_METHODS);
  } else {
    const memory = createMemoryStore();
    state = memory;
    factors = memory;
  }
  if (typeof o.issuer !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"issuer" expected string, got ${kind(o.issuer)}`);
  const issuer = o.issuer;
  const bad = nameProblem(issuer);
  if (bad !== undefined || issuer.length > 64)
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"issuer" expected 1..64 characters, trimmed, without ":", control or bidi characters${bad === undefined ? '' : ` (${bad.kind})`}`,
    );
  const e = aoptions<NonNullable<TwoFactorOptions['enrollment']>>(
    o.enrollment,
    ENROLL_KEYS,
    'enrollment',
  );
  const r = aoptions<NonNullable<TwoFactorOptions['recoveryCodes']>>(
    o.recoveryCodes,
    RECOVERY_KEYS,
    'recoveryCodes',
  );
  const [past, future] = awindow(o.window);
  const timeoutMs =
    o.storeTimeoutMs === undefined
      ? 5000
      : aint(o.storeTimeoutMs, 'storeTimeoutMs', 1, 600_000, 'ERR_OPTION_INVALID');
  const clock = o.now ?? Date.now;
  if (typeof clock !== 'function')
    throw typeError('ERR_OPTION_TYPE', `"now" expected a function, got ${kind(clock)}`);
  const ms = (v: unknown, title: string, fallback: number, max = DAY_MS): number =>
    v === undefined ? fallback : aint(v, title, 1000, max, 'ERR_OPTION_INVALID');
  const dv = aoptions<NonNullable<TwoFactorOptions['devices']>>(o.devices, DEVICE_KEYS, 'devices');
  const dl = aoptions<NonNullable<TwoFactorOptions['delivery']>>(
    o.delivery,
    DELIVERY_KEYS,
    'delivery',
  );
  if (o.delivery !== undefined && typeof dl.deliver !== 'function')
    throw typeError(
      'ERR_OPTION_TYPE',
      `"delivery.deliver" expected a function, got ${kind(dl.deliver)}`,
    );
  const count = (v: unknown, title: string, fallback: number, max: number): number =>
    v === undefined ? fallback : aint(v, title, 1, max, 'ERR_OPTION_INVALID');
  const hash = r.hash === undefined ? undefined : keptHashOptions(r.hash);
  const peppered = hash?.peppered === true;
  const recoveryBits =
    r.bits === undefined
      ? peppered
        ? PEPPER_DEFAULT_BITS
        : 80
      : aint(r.bits, 'recoveryCodes.bits', 64, 160, 'ERR_OPTION_RECOVERY');
  if (peppered && recoveryBits < PEPPER_MIN_BITS)
    throw rangeError(
      'ERR_OPTION_RECOVERY',
      `"recoveryCodes.bits" expected at least ${PEPPER_MIN_BITS} with "recoveryCodes.hash.pepper", got ${recoveryBits}`,
    );
  const ctx: Context = {
    state: guardState(state, timeoutMs),
    factors: guardFactors(factors, timeoutMs),
    issuer,
    algorithm: e.algorithm === undefined ? 'SHA1' : aalgorithm(e.algorithm, 'enrollment.algorithm'),
    digits: e.digits === undefined ? 6 : adigits(e.digits),
    period:
      e.period === undefined
        ? 30
        : aint(e.period, 'enrollment.period', 1, 120, 'ERR_OPTION_PERIOD'),
    past,
    future,
    policy: resolveThrottle(o.throttle),
    maxFactors:
      o.maxFactors === undefined
        ? 10
        : aint(o.maxFactors, 'maxFactors', 1, 20, 'ERR_OPTION_INVALID'),
    maxPending: 5,
    enrollmentTtlMs: ms(o.enrollmentTtlMs, 'enrollmentTtlMs', 600_000),
    challengeTtlMs: ms(o.challengeTtlMs, 'challengeTtlMs', 300_000),
    challengeAttempts:
      o.challengeAttempts === undefined
        ? 5
        : aint(o.challengeAttempts, 'challengeAttempts', 1, 100, 'ERR_OPTION_INVALID'),
    stepUpTtlMs: ms(o.stepUpTtlMs, 'stepUpTtlMs', 300_000, 3_600_000),
    recoveryCount:
      r.count === undefined
        ? 10
        : aint(r.count, 'recoveryCodes.count', 1, 100, 'ERR_OPTION_RECOVERY'),
    recoveryBits,
    recoveryHash: hash?.options,
    recoveryLow:
      r.lowThreshold === undefined
        ? 3
        : aint(r.lowThreshold, 'recoveryCodes.lowThreshold', 0, 100, 'ERR_OPTION_RECOVERY'),
    timeoutMs,
    trustedTtlMs: ms(dv.trustedTtlMs, 'devices.trustedTtlMs', 30 * DAY_MS, 400 * DAY_MS),
    maxTrustedDevices: count(dv.maxTrusted, 'devices.maxTrusted', 10, 100),
    knownTtlMs: ms(dv.knownTtlMs, 'devices.knownTtlMs', 365 * DAY_MS, 400 * DAY_MS),
    maxKnownDevices: count(dv.maxKnown, 'devices.maxKnown', 20, 100),
    deliver: dl.deliver,
    deliverTimeoutMs: ms(dl.timeoutMs, 'delivery.timeoutMs', 10_000, 120_000),
    oobDigits: dl.digits === undefined ? 6 : adigits(dl.digits),
    oobTtlMs: ms(dl.codeTtlMs, 'delivery.codeTtlMs', 600_000, 3_600_000),
    quotas: {
      cooldownMs:
        dl.cooldownMs === undefined
          ? 60_000
          : aint(dl.cooldownMs, 'delivery.cooldownMs', 0, DAY_MS, 'ERR_OPTION_INVALID'),
      perUserPerHour: count(dl.perUserPerHour, 'delivery.perUserPerHour', 10, 10_000),
      perDestinationPerHour: count(
        dl.perDestinationPerHour,
        'delivery.perDestinationPerHour',
        10,
        10_000,
      ),
      perAppPerHour: count(dl.perAppPerHour, 'delivery.perAppPerHour', 1000, 10_000_000),
    },
    ...sealing(o.keys as TwoFactorOptions['keys']),
    time: clockOf(clock),
    emit: emitter<TwoFactorEvent>(o.onEvent, o.onEventError),
  };
  return Object.freeze({
    beginEnrollment: ((i: BeginEnrollmentInput) =>
      beginEnrollment(ctx, i)) as TwoFactor['beginEnrollment'],
    confirmEnrollment: (i: ConfirmEnrollmentInput) => confirmEnrollment(ctx, i),
    getEnrollment: (i: GetEnrollmentInput) => getEnrollment(ctx, i),
    importFactor: (i: ImportFactorInput) => importFactor(ctx, i),
    listFactors: (userId: string, opts?: ListFactorsOptions) => listFactors(ctx, userId, opts),
    renameFactor: (i: RenameFactorInput) => renameFactor(ctx, i),
    removeFactor: (i: RemoveFactorInput) => removeFactor(ctx, i),
    isEnabled: async (userId: string) => (await listFactors(ctx, userId)).length > 0,
    disableTwoFactor: (i: ChangeInput) => disableTwoFactor(ctx, i),
    eraseUser: (userId: string) => eraseUser(ctx, userId),
    startChallenge: (i: StartChallengeInput) => startChallenge(ctx, i),
    verifyChallenge: (i: VerifyChallengeInput) => verifyChallenge(ctx, i),
    verifyCode: (i: VerifyCodeInput) => verifyCode(ctx, i),
    recoveryCodeStatus: (userId: string) => recoveryCodeStatus(ctx, userId),
    regenerateRecoveryCodes: (i: ChangeInput) => regenerateRecoveryCodes(ctx, i),
    throttleStatus: (
      userId: string,
      scope?: ThrottleScope,
      opts?: { readonly now?: number | Date | undefined },
    ) => throttleStatus(ctx, userId, scope, opts),
    unlock: (
      userId: string,
      scope?: ThrottleScope,
      opts?: { readonly administrator?: string | undefined },
    ) => unlock(ctx, userId, scope, opts),
    resealFactors: (opts?: ResealOptions) => resealFactors(ctx, opts),
    sendCode: (i: SendCodeInput) => sendCode(ctx, i),
    trustDevice: (i: TrustDeviceInput) => trustDevice(ctx, i),
    listTrustedDevices: (userId: string, opts?: { readonly now?: number | Date | undefined }) =>
      listTrustedDevices(ctx, userId, opts),
    revokeTrustedDevice: async (i: { readonly userId: string; readonly deviceId: string }) => {
      if (typeof i !== 'object' || i === null)
        throw typeError('ERR_OPTION_TYPE', '"input" is required');
      return (await revokeTrustedDevices(ctx, i.userId, i.deviceId, 'user')) > 0;
    },
    revokeAllTrustedDevices: (userId: string) => revokeTrustedDevices(ctx, userId, null, 'user'),
    onPasswordChanged: (userId: string) => onPasswordChanged(ctx, userId),
  });
}
