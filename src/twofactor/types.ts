/**
 * Public types of the two-factor flow ({@link createTwoFactor}): options, inputs, results, events.
 * @module
 */
import type { HashAlgorithm } from '../hotp.js';
import type { RecoveryHashOptions } from '../recovery/hash.js';
import type { FactorStore, FactorType, OtpStore } from '../store/types.js';
import type { ThrottleOptions } from '../_throttle.js';
import type { ThrottleScope, ThrottleStatus } from '../verifier/types.js';
import type { SealingKey } from '../envelope.js';
import type { Delivery } from './oob.js';

/** How factor secrets are sealed at rest. */
export type FactorKeys =
  /** AES-256-GCM keys by id: secrets are sealed under `current`; any listed key opens. */
  | { readonly current: string; readonly keys: Readonly<Record<string, SealingKey>> }
  /**
   * Your own envelope (a KMS): `seal` and `open` receive the context a secret is bound to
   * (`otpkit:factor:<userId>:<factorId>`, as associated data) and must refuse another context.
   * `needsReseal` tells whether a sealed string should be re-sealed under the current key.
   */
  | {
      /** Seals a secret for its context; returns the string the store keeps. */
      readonly seal: (secret: Uint8Array, context: string) => Promise<string> | string;
      /** Opens a sealed string; must throw for another context or a tampered string. */
      readonly open: (sealed: string, context: string) => Promise<Uint8Array> | Uint8Array;
      /** True if `sealed` should be re-sealed under the current key. */
      readonly needsReseal?: ((sealed: string) => boolean) | undefined;
    };

/** TOTP settings of new enrollments. */
export interface EnrollmentSettings {
  /** @defaultValue 'SHA1' (the only algorithm every authenticator app honours) */
  readonly algorithm?: HashAlgorithm | undefined;
  /** @defaultValue 6 */
  readonly digits?: number | undefined;
  /** TOTP step, seconds. @defaultValue 30 */
  readonly period?: number | undefined;
}

/** Options of {@link createTwoFactor}. */
export interface TwoFactorOptions {
  /** One store for everything (every shipped adapter is both an `OtpStore` and a `FactorStore`). */
  readonly store?: (OtpStore & FactorStore) | undefined;
  /** The factor registry, when it lives apart from the hot state. */
  readonly factors?: FactorStore | undefined;
  /** The hot verification state, when it lives apart from the registry. */
  readonly state?: OtpStore | undefined;
  /** Sealing keys of factor secrets. Required. */
  readonly keys: FactorKeys;
  /** The issuer shown by authenticator apps (`otpauth://` label prefix and `issuer`). Required. */
  readonly issuer: string;
  readonly enrollment?: EnrollmentSettings | undefined;
  /** TOTP window each way, 0..10. @defaultValue 1 */
  readonly window?:
    | number
    | { readonly past?: number | undefined; readonly future?: number | undefined }
    | undefined;
  readonly throttle?: ThrottleOptions | undefined;
  /** Confirmed factors per user, 1..20. @defaultValue 10 */
  readonly maxFactors?: number | undefined;
  /** Lifetime of a pending enrollment. @defaultValue 600000 (10 minutes) */
  readonly enrollmentTtlMs?: number | undefined;
  /** Lifetime of a sign-in challenge. @defaultValue 300000 (5 minutes) */
  readonly challengeTtlMs?: number | undefined;
  /** Attempts per challenge, on top of the account throttle, 1..100. @defaultValue 5 */
  readonly challengeAttempts?: number | undefined;
  /** Lifetime of a step-up token. @defaultValue 300000 (5 minutes) */
  readonly stepUpTtlMs?: number | undefined;
  /** Recovery codes issued with the first factor. */
  readonly recoveryCodes?:
    | {
        /** @defaultValue 10 */
        readonly count?: number | undefined;
        /** Entropy per code, 64..160; at least 112 with a pepper. @defaultValue 80, or 120 with `hash.pepper` */
        readonly bits?: number | undefined;
        /**
         * How codes are hashed: scrypt parameters, or `pepper` for the high-entropy profile (one
         * HMAC per redemption instead of one scrypt; for edge runtimes, see the README).
         */
        readonly hash?: RecoveryHashOptions | undefined;
        /** Emit `recovery-codes-low` when this many or fewer are left. @defaultValue 3 */
        readonly lowThreshold?: number | undefined;
      }
    | undefined;
  /** Remembered ("trusted") and known devices. */
  readonly devices?:
    | {
        /** How long "remember this device" lasts. @defaultValue 2592000000 (30 days) */
        readonly trustedTtlMs?: number | undefined;
        /** Trusted devices per user; the oldest gives way. @defaultValue 10 */
        readonly maxTrusted?: number | undefined;
        /** How long a known device's token lives without a sign-in. @defaultValue 31536000000 (365 days) */
        readonly knownTtlMs?: number | undefined;
        /** Known devices per user; the oldest gives way. @defaultValue 20 */
        readonly maxKnown?: number | undefined;
      }
    | undefined;
  /** Codes by email or SMS: the app's delivery hook and the limits of sending. */
  readonly delivery?:
    | {
        /** Sends a code; throw (or reject) if it could not be sent. Required for email/SMS factors. */
        readonly deliver: (delivery: Delivery) => unknown;
        /** Longest wait for `deliver`. @defaultValue 10000 */
        readonly timeoutMs?: number | undefined;
        /** Code length, 6..8. @defaultValue 6 */
        readonly digits?: number | undefined;
        /** Code lifetime. @defaultValue 600000 (10 minutes) */
        readonly codeTtlMs?: number | undefined;
        /** Wait between two sends to one user. @defaultValue 60000 */
        readonly cooldownMs?: number | undefined;
        /** Sends per user per hour. @defaultValue 10 */
        readonly perUserPerHour?: number | undefined;
        /** Sends per destination (address, phone number) per hour, across all users. @defaultValue 10 */
        readonly perDestinationPerHour?: number | undefined;
        /** Sends per hour for the whole app. @defaultValue 1000 */
        readonly perAppPerHour?: number | undefined;
      }
    | undefined;
  /** Time limit of each store call. @defaultValue 5000 */
  readonly storeTimeoutMs?: number | undefined;
  /** The server clock. @defaultValue Date.now */
  readonly now?: (() => number) | undefined;
  /** Audit events; may be async; a throw or rejection never changes a decision. */
  readonly onEvent?: ((event: TwoFactorEvent) => unknown) | undefined;
  /** Told when `onEvent` throws or rejects (the decision stands either way). */
  readonly onEventError?: ((error: unknown, event: TwoFactorEvent) => void) | undefined;
}

/** Proof that a change to a user's factors may be made. */
export interface ChangeAuthorization {
  /** A step-up token from `verifyChallenge`/`verifyCode` of this user (single use, short-lived). */
  readonly stepUpToken?: string | undefined;
  /** Instead: an administrator making the change, named in the audit event. */
  readonly administrator?: string | undefined;
}

/** A factor as listed: never a secret. */
export interface Factor {
  readonly id: string;
  readonly type: FactorType;
  readonly label: string;
  readonly status: 'pending' | 'confirmed';
  readonly createdAt: number;
  readonly confirmedAt: number | null;
  readonly lastUsedAt: number | null;
}

/** How a sign-in step was verified. */
export type VerificationMethod = 'totp' | 'hotp' | 'recovery' | 'email' | 'sms';

/** A successful verification. */
export interface VerificationSuccess {
  readonly ok: true;
  readonly userId: string;
  /** The factor that matched; `null` for a recovery code. */
  readonly factorId: string | null;
  readonly method: VerificationMethod;
  /** Authentication method references (RFC 8176): `['otp']` for app and recovery codes, `['sms']`, or `['email']` (not in the RFC 8176 registry). */
  readonly amr: readonly string[];
  readonly verifiedAt: number;
  /** Proof of this fresh second factor for the next change to the user's factors. */
  readonly stepUpToken: string;
  readonly stepUpExpiresAt: number;
  /** Recovery codes left, after a recovery code. */
  readonly recoveryCodesRemaining?: number | undefined;
  /**
   * After a sign-in challenge from a browser that presented no valid known-device token: its new
   * one, to set in its cookie (a known browser's token was rotated by `startChallenge`). Never
   * after step-up (`verifyCode`): that browser is signed in already.
   */
  readonly knownDeviceToken?: string | undefined;
}

/** Why a verification failed. Map them all to one message for the user. */
export type VerificationFailureReason =
  | 'malformed'
  | 'invalid'
  | 'replayed'
  | 'throttled'
  | 'locked'
  /** The challenge is unknown, expired, used or another user's. */
  | 'expired'
  /** The challenge has no attempt left: start a new one. */
  | 'exhausted';

/** A refused code or token: one of the reasons, with `retryAfterMs` when throttled. */
export type VerificationFailure =
  | { readonly ok: false; readonly reason: Exclude<VerificationFailureReason, 'throttled'> }
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterMs: number };

/** What `verifyChallenge` and `verifyCode` return: a success or a failure, never a throw. */
export type VerificationResult = VerificationSuccess | VerificationFailure;

/** Audit events of the whole lifecycle. Never a secret, code or token. */
export type TwoFactorEvent =
  | {
      readonly type: 'factor-enrolled';
      readonly userId: string;
      readonly factorId: string;
      readonly factorType: FactorType;
      readonly administrator?: string;
    }
  | {
      readonly type: 'factor-confirmed';
      readonly userId: string;
      readonly factorId: string;
      readonly imported: boolean;
      readonly administrator?: string;
    }
  | { readonly type: 'factor-renamed'; readonly userId: string; readonly factorId: string }
  | {
      readonly type: 'factor-removed';
      readonly userId: string;
      readonly factorId: string;
      readonly administrator?: string;
    }
  | {
      readonly type: 'two-factor-disabled';
      readonly userId: string;
      readonly administrator?: string;
    }
  | {
      readonly type: 'challenge-started';
      readonly userId: string;
      readonly methods: readonly VerificationMethod[];
    }
  | {
      readonly type: 'challenge-succeeded';
      readonly userId: string;
      readonly factorId: string | null;
      readonly method: VerificationMethod;
      readonly stepUp: boolean;
    }
  | {
      readonly type: 'failure';
      readonly userId: string | null;
      readonly reason: VerificationFailureReason;
      readonly during: 'challenge' | 'step-up' | 'enrollment';
    }
  | { readonly type: 'locked'; readonly userId: string; readonly scope: ThrottleScope }
  | {
      readonly type: 'unlocked';
      readonly userId: string;
      readonly scope: ThrottleScope;
      readonly administrator?: string;
    }
  | { readonly type: 'recovery-code-used'; readonly userId: string; readonly remaining: number }
  | { readonly type: 'recovery-codes-low'; readonly userId: string; readonly remaining: number }
  | {
      readonly type: 'recovery-codes-issued';
      readonly userId: string;
      readonly count: number;
      readonly replaced: boolean;
      readonly administrator?: string;
    }
  | { readonly type: 'factor-resealed'; readonly userId: string; readonly factorId: string }
  | { readonly type: 'reseal-failed'; readonly userId: string; readonly factorId: string }
  | { readonly type: 'user-erased'; readonly userId: string }
  | {
      readonly type: 'device-trusted';
      readonly userId: string;
      readonly deviceId: string;
      readonly administrator?: string;
    }
  | {
      readonly type: 'device-revoked';
      readonly userId: string;
      readonly deviceId: string | null;
      readonly count: number;
      readonly reason: 'user' | 'factor-change' | 'password-change';
    }
  /** A device token that a rotation had replaced came back: a copy of the cookie is being replayed. */
  | {
      readonly type: 'device-replayed';
      readonly userId: string;
      readonly deviceId: string;
      readonly kind: 'trusted' | 'known';
    }
  | {
      readonly type: 'device-skipped-challenge';
      readonly userId: string;
      readonly deviceId: string;
    }
  | {
      readonly type: 'code-sent';
      readonly userId: string;
      readonly factorId: string;
      readonly channel: 'email' | 'sms';
      readonly purpose: 'verify' | 'sign-in';
    }
  | {
      readonly type: 'send-refused';
      readonly userId: string;
      readonly factorId: string;
      readonly retryAfterMs: number;
    }
  | { readonly type: 'password-changed'; readonly userId: string };

export type { ThrottleStatus, ThrottleScope };
