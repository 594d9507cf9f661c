/**
 * Public types of the store-backed verifier ({@link createVerifier}): options, inputs, results
 * and audit events.
 * @module
 */
import type { ThrottleOptions } from '../_throttle.js';
import type { GenerateRecoveryCodesOptions } from '../recovery/codes.js';
import type { RecoveryHashOptions } from '../recovery/hash.js';
import type { OtpStore } from '../store/types.js';
import type { TOTPWindow, VerifyFailureReason } from '../verify.js';

export type { ThrottleOptions } from '../_throttle.js';

/** Why a store-backed verification failed. */
export type VerifierFailureReason = VerifyFailureReason | 'replayed' | 'throttled' | 'locked';

/** A refusal by the throttle: still backing off (`retryAfterMs`) or locked until `unlock`. */
export type ThrottleFailure =
  | { readonly ok: false; readonly reason: 'locked' }
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterMs: number };

/** A failed store-backed verification. `retryAfterMs` is set for `'throttled'`. */
export type VerifierFailure =
  { readonly ok: false; readonly reason: 'malformed' | 'invalid' | 'replayed' } | ThrottleFailure;

/** Result of {@link Verifier.verifyTOTP} and {@link Verifier.confirmTOTP}. */
export type VerifierTOTPResult =
  { readonly ok: true; readonly delta: number; readonly step: number } | VerifierFailure;

/** Result of {@link Verifier.verifyHOTP}. */
export type VerifierHOTPResult =
  { readonly ok: true; readonly counter: bigint; readonly next: bigint } | VerifierFailure;

/**
 * Result of {@link Verifier.redeemRecoveryCode}. A malformed, used, replaced, unknown or other
 * user's code is `'invalid'`: nothing about a code's history leaks.
 */
export type RecoveryRedeemResult =
  | { readonly ok: true; readonly remaining: number }
  | { readonly ok: false; readonly reason: 'invalid' }
  | ThrottleFailure;

/** A structured audit event. Never contains secrets, tokens or recovery codes. */
export type VerifierEvent =
  | {
      readonly type: 'success';
      readonly factor: 'totp' | 'hotp' | 'recovery';
      readonly userId: string;
      readonly credentialId: string;
    }
  | {
      readonly type: 'failure';
      readonly factor: 'totp' | 'hotp' | 'recovery';
      readonly userId: string;
      readonly credentialId: string;
      readonly reason: VerifierFailureReason;
    }
  | { readonly type: 'recovery-code-used'; readonly userId: string; readonly remaining: number }
  | {
      readonly type: 'recovery-codes-issued';
      readonly userId: string;
      readonly count: number;
      readonly replaced: boolean;
    }
  /** The failure that locked the bucket: emitted once, on the transition. */
  | { readonly type: 'locked'; readonly userId: string; readonly scope: ThrottleScope }
  /** `unlock` reset a bucket. */
  | { readonly type: 'unlocked'; readonly userId: string; readonly scope: ThrottleScope };

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
  /**
   * How recovery codes are hashed: scrypt parameters for newly issued sets (default: the
   * `hashRecoveryCode` defaults), or `pepper` for the high-entropy profile (codes of at least 112
   * bits, 120 by default, one HMAC per redemption). A set is matched by its own stored hashes.
   */
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
  throttleStatus(
    userId: string,
    scope?: ThrottleScope,
    options?: ThrottleStatusOptions,
  ): Promise<ThrottleStatus>;
  /**
   * Clears the failure count of `(userId, scope)`, lifting a lock (an administrator or support
   * action). Any scope but `'otp'` and `'recovery'` is a `RangeError`, so a typo never looks as if it worked.
   */
  unlock(userId: string, scope?: ThrottleScope): Promise<void>;
}
