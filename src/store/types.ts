/**
 * The storage contracts: {@link OtpStore}, the hot verification state, and {@link FactorStore},
 * the registry of enrolled factors. An app may keep them in different engines (factors in
 * PostgreSQL, the hot state in Redis); every shipped adapter implements both.
 *
 * Every security decision is ONE atomic operation of the store that reports its outcome: the
 * callers never read, decide and write back. Operations are named by the decision they make.
 * Identifiers (`userId`, credential and factor ids, scopes, token hashes) are opaque strings of
 * 1..256 UTF-16 code units without NUL or lone surrogates; adapters keep distinct ids distinct.
 * Times are milliseconds since the epoch, passed in by the caller: an adapter never decides with
 * its own clock (it may use one to expire dead records, e.g. a Redis TTL a while after the caller's
 * expiry). Token and challenge hashes are unique: a store may assume no two users share one.
 *
 * Failure handling: reject (throw) on any storage error and never resolve a guess. The layers
 * above treat a rejection, a timeout or a malformed result as a storage failure and fail closed.
 * `storeContract` and `factorStoreContract` in `otpkit/testing` prove an adapter.
 * @module
 */
import type { StoredRecoveryCode } from '../recovery/set.js';

// Adapters and apps import the record type with the contract; it is defined with recovery codes.
export type { StoredRecoveryCode };

// ---------------------------------------------------------------------------------------------
// Records

/** The throttle policy an attempt is decided under. */
export interface AttemptPolicy {
  /** Failures allowed with no delay, 0..maxFailures. */
  readonly freeFailures: number;
  /** The delay owed after the first delayed failure (number max(freeFailures, 1)), doubling after each further one. */
  readonly baseDelayMs: number;
  /** The longest delay. */
  readonly maxDelayMs: number;
  /** The failure count at which the bucket is locked until reset, 1..100. */
  readonly maxFailures: number;
}

/** The counters of one throttle bucket. */
export interface ThrottleRecord {
  /** Consecutive failures counted since the last reset; 0 if none. */
  readonly failures: number;
  /** When the last failure was counted; 0 if none. */
  readonly lastFailureAt: number;
}

/** The replay state of one credential (one authenticator of a user). */
export interface CredentialRecord {
  /** The last accepted TOTP step, or `null` if none. */
  readonly lastStep: number | null;
  /** The next HOTP counter, or `null` if none is stored. */
  readonly hotpCounter: bigint | null;
  /** Learned TOTP clock drift in steps, −10..10. */
  readonly drift: number;
  /** When a code of this credential was last accepted, or `null`. */
  readonly lastUsedAt: number | null;
}

/** A user's current recovery-code set: its id, when it was issued, its size and unused codes. */
export interface RecoveryCodeSet {
  /** Random id of the set, 1..64 characters of `[A-Za-z0-9_-]`. */
  readonly setId: string;
  /** When the set was issued. */
  readonly issuedAt: number;
  /** How many codes the set had when issued, 0..100. */
  readonly total: number;
  /** The unused codes. */
  readonly codes: readonly StoredRecoveryCode[];
}

/**
 * A sign-in challenge: the pending second step of one user, found by the hash of its id.
 * `payload` is opaque to the store (the flow layer keeps the factors to check in it).
 */
export interface ChallengeRecord {
  /** SHA-256 of the challenge id, hex: the only form of the id that is stored. */
  readonly hash: string;
  readonly userId: string;
  /** The throttle bucket its OTP attempts count in. */
  readonly scope: string;
  /** The throttle bucket its recovery-code attempts count in. */
  readonly recoveryScope: string;
  readonly createdAt: number;
  /** It is dead from this instant on. */
  readonly expiresAt: number;
  /** Attempts admitted so far. */
  readonly attempts: number;
  /** Attempts allowed, 1..100. */
  readonly maxAttempts: number;
  /** The credentials (factor ids) a code is checked against, at most 20. */
  readonly credentialIds: readonly string[];
  /** Opaque data of the flow layer, at most 16 KiB. */
  readonly payload: string;
  /** The live code sent by email or SMS for this challenge (at most one), or `null`. */
  readonly oob: OobCode | null;
}

/** A code sent out of band (email, SMS) for a challenge: only its hash is stored. */
export interface OobCode {
  /** The factor it was sent to. */
  readonly factorId: string;
  /** SHA-256 of the code and the challenge, hex. */
  readonly codeHash: string;
  /** Dead from this instant on. */
  readonly expiresAt: number;
}

/**
 * A device of a user, known by an opaque token kept in an HttpOnly cookie: `trusted` ("remember
 * this device": the second factor may be skipped) or `known` (has signed in before: its attempts
 * are throttled in a bucket of its own). Only the token's hash is stored; each use rotates it.
 */
export interface DeviceRecord {
  readonly userId: string;
  /** Random id, for listing and revoking. */
  readonly id: string;
  readonly kind: 'trusted' | 'known';
  /** SHA-256 of the current token, hex. */
  readonly tokenHash: string;
  /** SHA-256 of the token the last rotation replaced, to tell a replay from a stranger; `null` before any. */
  readonly previousHash: string | null;
  /** 0..64 characters. */
  readonly label: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  /** Dead from this instant on. */
  readonly expiresAt: number;
}

/** What {@link OtpStore.rotateDevice} decided. */
export type DeviceRotation =
  /** The token was the device's current one and it was live: it is replaced by the new one. */
  | { readonly status: 'rotated'; readonly device: DeviceRecord }
  /** The token was the one a rotation replaced: a copy is being replayed. Nothing changes. */
  | { readonly status: 'replayed'; readonly deviceId: string }
  /** No live device has this token. */
  | { readonly status: 'unknown' };

/**
 * A known-device token presented with a new challenge ({@link OtpStore.createChallenge}): used
 * and rotated in the same call, as {@link OtpStore.rotateDevice} would for kind `known`.
 */
export interface ChallengeDevice {
  /** SHA-256 of the token presented, hex. */
  readonly tokenHash: string;
  /** SHA-256 of the token that replaces it, hex. */
  readonly newHash: string;
  /** The device's new expiry (each sign-in extends a known device's life). */
  readonly expiresAt: number;
}

/** What {@link OtpStore.createChallenge} did besides storing the challenge. */
export interface ChallengeCreated {
  /** How many unused recovery codes the user has (0 without a set), read in the same call. */
  readonly recoveryCodes: number;
  /** What the known-device token did; `null` when none was given. */
  readonly device: DeviceRotation | null;
}

/** A send-quota bucket: one user, one destination (its hash), or the whole app. */
export type SendBucket =
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'destination'; readonly hash: string }
  | { readonly kind: 'app' };

/** The quota of a bucket: at most `limit` sends per fixed window of `windowMs`, and `cooldownMs` between two. */
export interface SendRule {
  readonly limit: number;
  readonly windowMs: number;
  readonly cooldownMs: number;
}

// ---------------------------------------------------------------------------------------------
// Operations of the hot state

/**
 * One TOTP attempt whose candidates were computed before the store was asked: the deltas
 * (−10..10, ascending) at which the submitted code matches the credential's code.
 */
export interface TotpAttempt {
  readonly userId: string;
  readonly credentialId: string;
  readonly scope: string;
  readonly now: number;
  readonly policy: AttemptPolicy;
  /** The server's current step. */
  readonly step: number;
  /** Matching deltas, ascending, each in −10..10 with `step + delta ≥ 0`. */
  readonly candidates: readonly number[];
  /** Steps accepted before and after the centre, 0..10. */
  readonly past: number;
  readonly future: number;
  /** Centre the window on the stored drift (`false`: on 0, for a new device). */
  readonly centreOnDrift: boolean;
  /** The drift to store after a success is the matched delta clamped to ±maxDrift (0..10); `null` keeps 0. */
  readonly maxDrift: number | null;
}

/** What {@link OtpStore.attemptTotp} decided. */
export type TotpAttemptOutcome =
  /** The throttle refused the attempt: nothing was counted or evaluated. */
  | { readonly status: 'closed'; readonly failures: number; readonly lastFailureAt: number }
  /** Counted as a failure: no candidate in the window, or the step was not greater than the last. */
  | { readonly status: 'invalid' | 'replayed'; readonly failures: number }
  /** Accepted: the step was claimed and the bucket reset. */
  | { readonly status: 'ok'; readonly delta: number };

/** Phase one of a two-phase attempt: the gate and the count, plus what evaluating needs. */
export interface BeginAttempt {
  /** The user. */
  readonly userId: string;
  /** A challenge the attempt is made on: it must be live, have attempts left and belong to `userId`. */
  readonly challengeHash?: string | undefined;
  /**
   * The bucket; with a challenge, the challenge's `scope` is used instead (its `recoveryScope`
   * when `recoverySet` is asked for).
   */
  readonly scope?: string | undefined;
  readonly now: number;
  readonly policy: AttemptPolicy;
  /** Credentials whose replay state to return. */
  readonly credentialIds: readonly string[];
  /** Return the current recovery-code set too. */
  readonly recoverySet: boolean;
}

/** What {@link OtpStore.beginAttempt} decided. */
export type BeginOutcome =
  /** No live challenge by that hash for that user (unknown, expired, used, another user's). */
  | { readonly status: 'no-challenge' }
  /** The challenge has no attempt left. */
  | { readonly status: 'exhausted'; readonly userId: string }
  /** The throttle refused: nothing was counted. */
  | {
      readonly status: 'closed';
      readonly userId: string;
      readonly failures: number;
      readonly lastFailureAt: number;
    }
  /** Admitted and counted as a failure (a later settle resets it). */
  | {
      readonly status: 'admitted';
      readonly userId: string;
      readonly failures: number;
      readonly challenge: ChallengeRecord | null;
      readonly credentials: Readonly<Record<string, CredentialRecord | null>>;
      readonly recoverySet: RecoveryCodeSet | null;
    };

/** What an admitted attempt claims in phase two. */
export type Claim =
  /** TOTP: `step` iff greater than the credential's last step; then `drift` is stored. */
  | {
      readonly kind: 'totp';
      readonly credentialId: string;
      readonly step: number;
      readonly drift: number;
      readonly create: boolean;
    }
  /** HOTP: the counter becomes `next` iff it still is `expected` (`null`: none stored). */
  | {
      readonly kind: 'hotp';
      readonly credentialId: string;
      readonly expected: bigint | null;
      readonly next: bigint;
      readonly create: boolean;
    }
  /** A recovery code of the set `setId`, iff unused and the set still current. */
  | { readonly kind: 'recovery'; readonly setId: string; readonly codeId: string }
  /** The challenge's live out-of-band code iff it is still `codeHash` and not expired. Needs `challengeHash`. */
  | { readonly kind: 'oob'; readonly codeHash: string };

/** Phase two: the claim and what a success does. */
export interface SettleAttempt {
  readonly userId: string;
  readonly scope: string;
  readonly now: number;
  readonly claim: Claim;
  /** Consume this challenge with the success (it must still be live). */
  readonly challengeHash?: string | undefined;
  /** Store this step-up token with the success. */
  readonly stepUp?: { readonly hash: string; readonly expiresAt: number } | undefined;
  /**
   * Store this device with the success, as `createDevice(record, maxPerUser)` would (a browser
   * that signed in without a known-device token gets one).
   */
  readonly device?: { readonly record: DeviceRecord; readonly maxPerUser: number } | undefined;
}

/** What {@link OtpStore.settleAttempt} decided. */
export type SettleOutcome =
  | {
      readonly status: 'ok';
      /** Unused codes left, for a recovery claim. */ readonly remaining: number | null;
    }
  /** The claim lost: a replay, a consumed code, a replaced set, a removed credential. */
  | { readonly status: 'replayed' }
  /** The challenge was consumed or expired meanwhile. */
  | { readonly status: 'no-challenge' };

/** The hot verification state. Every method is one atomic decision of the store. */
export interface OtpStore {
  /**
   * `true` only if the store is shared by every app server (Redis, PostgreSQL, SQLite on one
   * host). The memory store is `false`, so a production check can warn.
   */
  readonly distributedSafe: boolean;

  /**
   * Decides a whole TOTP attempt atomically (one round trip for a login):
   * 1. reads the bucket `(userId, scope)`; if it is locked (`failures ≥ maxFailures`) or still
   *    owes a delay (`now − lastFailureAt < delay(failures)`), resolves `closed` and changes nothing;
   * 2. counts a failure (`failures + 1`, `lastFailureAt = now`);
   * 3. picks, among `candidates` inside `[d − past, d + future]` (d: the credential's drift if
   *    `centreOnDrift`, else 0; the window clamped to ±10), the one of smallest |delta| (the
   *    smaller delta on a tie); none: resolves `invalid`;
   * 4. claims `step + delta` iff no step is stored or the stored one is smaller; not claimed:
   *    resolves `replayed`;
   * 5. claimed: stores the step, the drift (`delta` clamped to ±maxDrift, or 0), `lastUsedAt =
   *    now`, resets the bucket (failures 0) and resolves `ok`. The credential is created if missing.
   *
   * `delay(f)` is 0 for `f < max(freeFailures, 1)`, else `min(maxDelayMs, baseDelayMs · 2^min(f −
   * max(freeFailures, 1), 30))`. Failure counts commit on their own, outside any caller
   * transaction (CVE-2026-35597).
   */
  attemptTotp(attempt: TotpAttempt): Promise<TotpAttemptOutcome>;

  /**
   * Phase one of an attempt evaluated between two store calls (HOTP, recovery codes, sealed
   * secrets, challenges), atomically: with `challengeHash`, finds the live challenge (not expired
   * at `now`, of `userId` if given) and its user, `no-challenge` otherwise; `exhausted` if it has
   * no attempt left; then the gate of step 1 of {@link attemptTotp} on the bucket (the
   * challenge's scope, or `scope`): `closed` changes nothing; admitted counts a failure and one
   * challenge attempt, and returns the replay state of `credentialIds` and of the challenge's
   * credentials (`null` for a missing credential) and, if asked, the recovery-code set.
   */
  beginAttempt(begin: BeginAttempt): Promise<BeginOutcome>;

  /**
   * Phase two, atomically: with `challengeHash`, the challenge must still be live and the user's
   * (`no-challenge` otherwise; nothing changes). Then the claim: a TOTP step iff greater than the
   * stored one, an HOTP counter iff it still is `expected`, a recovery code iff it is unused in
   * the current set `setId` (removed: used once). `create: false` claims only on an existing
   * credential (a removed factor's codes fail at once). Lost: `replayed`, nothing changes. Won:
   * the claim is stored (drift and `lastUsedAt = now` for a credential), the bucket is reset, the
   * challenge deleted, the step-up token and the device stored; resolves `ok` with the unused
   * codes left for a recovery claim.
   */
  settleAttempt(settle: SettleAttempt): Promise<SettleOutcome>;

  /** Reads the bucket `(userId, scope)`; `{ failures: 0, lastFailureAt: 0 }` if none. */
  getThrottle(userId: string, scope: string): Promise<ThrottleRecord>;

  /** Resets the bucket `(userId, scope)`, or every bucket of `userId` for `null` (an administrator's unlock). */
  resetThrottle(userId: string, scope: string | null): Promise<void>;

  /** Reads the replay state of the given credentials (`null` for each missing one). */
  getCredentials(
    userId: string,
    credentialIds: readonly string[],
  ): Promise<Readonly<Record<string, CredentialRecord | null>>>;

  /**
   * Creates the replay state of a credential iff it has none (an imported enrollment whose last
   * step or counter is known); resolves whether it created it. Never touches a bucket.
   */
  initCredential(
    userId: string,
    credentialId: string,
    lastStep: number | null,
    hotpCounter: bigint | null,
  ): Promise<boolean>;

  /** Deletes the replay state of the given credentials: their codes can never be claimed again without `create`. */
  deleteCredentials(userId: string, credentialIds: readonly string[]): Promise<void>;

  /** Reads the current recovery-code set of `userId` with its unused codes, or `null`. */
  getRecoveryCodeSet(userId: string): Promise<RecoveryCodeSet | null>;

  /**
   * Replaces the recovery-code set of `userId` with `set` (`null`: removes it) **iff** the current
   * set is `expectedSetId` (`null`: none exists). Resolves `true` only for the caller that
   * changed it; afterwards no code of the old set can be claimed and no reader sees old and new
   * codes together. Never touches a throttle bucket.
   */
  replaceRecoveryCodes(
    userId: string,
    set: RecoveryCodeSet | null,
    expectedSetId: string | null,
  ): Promise<boolean>;

  /**
   * Stores a new challenge. The user's dead challenges (expired at `record.createdAt`) are
   * dropped, and the oldest live ones beyond `maxLive − 1`, so one user never holds more than
   * `maxLive`.
   *
   * With `device` (a known-device token the browser presented), the same call first does what
   * `rotateDevice(record.userId, 'known', device.tokenHash, device.newHash, record.createdAt,
   * device.expiresAt)` would; if the device rotated, the challenge is stored with that device's
   * buckets, `` `${record.scope}:device:${id}` `` and `` `${record.recoveryScope}:device:${id}` ``
   * (its attempts count apart from strangers'), else with `record`'s own.
   * @returns the user's unused recovery-code count (so a sign-in can offer them without reading
   *   the set) and the device's rotation (`null` without `device`).
   */
  createChallenge(
    record: ChallengeRecord,
    maxLive: number,
    device?: ChallengeDevice | null,
  ): Promise<ChallengeCreated>;

  /** Deletes every challenge of `userId`. */
  deleteChallenges(userId: string): Promise<void>;

  /** Consumes the step-up token `hash` of `userId` iff it is unused and not expired at `now`. */
  consumeStepUp(userId: string, hash: string, now: number): Promise<boolean>;

  /**
   * Sets (`code`) or clears (`null`) the out-of-band code of a live challenge of `userId`: one live
   * code per challenge, a new one replacing the old. With `expected`, only if the live code is
   * still that hash (clearing a code whose delivery failed never clears a newer one). Resolves
   * whether the challenge was live (and, with `expected`, matched).
   */
  setChallengeCode(
    userId: string,
    challengeHash: string,
    code: OobCode | null,
    now: number,
    expected?: string | undefined,
  ): Promise<boolean>;

  /**
   * Stores a device. The user's dead devices of that kind (expired at `record.createdAt`) are
   * dropped, and the oldest live ones beyond `maxPerUser − 1`.
   */
  createDevice(record: DeviceRecord, maxPerUser: number): Promise<void>;

  /**
   * Uses a device token of `userId` atomically: if `tokenHash` is the current token of a live
   * device of that kind, the token becomes `newHash` (the old one its `previousHash`), `lastUsedAt
   * = now`, `expiresAt = expiresAt` (`null` keeps it), and the updated device is returned;
   * if it is the `previousHash` of a device, `replayed`; otherwise `unknown`. Of concurrent uses of
   * one token exactly one rotates it.
   */
  rotateDevice(
    userId: string,
    kind: 'trusted' | 'known',
    tokenHash: string,
    newHash: string,
    now: number,
    expiresAt: number | null,
  ): Promise<DeviceRotation>;

  /** The user's live devices of a kind (not expired at `now`), oldest first. */
  listDevices(
    userId: string,
    kind: 'trusted' | 'known',
    now: number,
  ): Promise<readonly DeviceRecord[]>;

  /** Revokes one device (`deviceId`) or all of a kind (`null`); resolves how many were removed. */
  revokeDevices(
    userId: string,
    kind: 'trusted' | 'known',
    deviceId: string | null,
  ): Promise<number>;

  /**
   * Counts one send in a bucket atomically iff the rule allows it at `now`: fewer than `limit`
   * sends in the current window (`floor(now / windowMs)`) and at least `cooldownMs` since the
   * last one. Refused: nothing counted; resolves when the next send would be allowed.
   */
  reserveSend(
    bucket: SendBucket,
    rule: SendRule,
    now: number,
  ): Promise<{ readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number }>;

  /** Takes back one send reserved at `now` in the bucket's current window (another bucket refused it). */
  releaseSend(bucket: SendBucket, rule: SendRule, now: number): Promise<void>;

  /** Deletes everything stored for `userId`: buckets, credentials, recovery codes, challenges, tokens, devices, the user's send quota. */
  eraseUser(userId: string): Promise<void>;
}

/**
 * Options of `purgeExpired` on the stores whose rows do not expire by themselves (PostgreSQL,
 * SQLite, D1; Redis keys carry TTLs instead).
 */
export interface PurgeExpiredOptions {
  /** The time to purge at (ms or a `Date`). @defaultValue `Date.now()` */
  readonly now?: number | Date | undefined;
  /**
   * Send quotas whose last send is older than this are removed. It must be at least the longest
   * `windowMs` and `cooldownMs` of any rule given to `reserveSend`; `createTwoFactor`'s are one
   * hour and its `delivery.cooldownMs` (at most one day). @defaultValue 2 days
   */
  readonly sendQuotaMaxAgeMs?: number | undefined;
  /** At most this many rows of each kind are removed by one call. @defaultValue 10000 */
  readonly batchSize?: number | undefined;
}

/** What `purgeExpired` removed, by kind of row. */
export interface PurgeExpiredResult {
  readonly challenges: number;
  readonly stepUps: number;
  readonly devices: number;
  /** Pending enrollments (factors never confirmed). */
  readonly pendingFactors: number;
  /** Throttle buckets with no failure counted (the same as no bucket). */
  readonly throttles: number;
  readonly sendQuotas: number;
  /** `false` if some kind hit `batchSize`: call again for the rest. */
  readonly done: boolean;
}

/** A store whose rows do not expire by themselves: PostgreSQL, SQLite, D1. */
export interface PurgeableStore {
  /**
   * Deletes the rows nothing will read again: challenges, step-up tokens, devices and pending
   * enrollments that expired more than 5 minutes ago, throttle buckets with no failure counted,
   * and send quotas long unused. Rows are otherwise removed only when their user is next seen,
   * so run it from a scheduled job (every few minutes to hours, depending on sign-in volume).
   * One atomic unit (PostgreSQL: one statement, one commit; SQLite: one transaction; D1: one
   * batch); nothing live is touched, so it may run beside sign-ins on any server. Loop while
   * `done` is `false` to work through a backlog in batches. PostgreSQL never waits for a row a
   * transaction in progress holds: it leaves that row to a later run.
   */
  purgeExpired(options?: PurgeExpiredOptions): Promise<PurgeExpiredResult>;
}

// ---------------------------------------------------------------------------------------------
// The factor registry

/** The kinds of factor: an authenticator app or token, or a code sent by email or SMS. */
export type FactorType = 'totp' | 'hotp' | 'email' | 'sms';

/** One enrolled (or pending) factor of a user. */
export interface FactorRecord {
  readonly userId: string;
  /** Random id, unique among the user's factors; also the credential id of its replay state. */
  readonly id: string;
  readonly type: FactorType;
  /** The user's name for it, 1..64 characters. */
  readonly label: string;
  /** `pending` until the user proves the authenticator has the secret. */
  readonly status: 'pending' | 'confirmed';
  /**
   * Sealed (the registry never holds it in the clear): the shared secret of a TOTP/HOTP factor, the
   * destination (address, phone number) of an email/SMS factor.
   */
  readonly sealedSecret: string;
  /** What the user may see of an email/SMS destination (`a•••@example.com`); `null` for TOTP/HOTP. */
  readonly hint: string | null;
  readonly algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  readonly digits: number;
  /** TOTP step in seconds (30 for HOTP, unused). */
  readonly period: number;
  readonly createdAt: number;
  readonly confirmedAt: number | null;
  /** A pending factor is dead from this instant on; `null` once confirmed. */
  readonly expiresAt: number | null;
}

/** The registry of factors. Long-lived records; every change is one atomic operation. */
export interface FactorStore {
  /**
   * Adds a factor (pending, or confirmed for an import) after dropping the user's dead pending
   * factors (expired at `now`). Resolves `limit` and adds nothing if the user would then hold
   * more than `maxPending` live pending or `maxConfirmed` confirmed factors. A factor id the
   * user already has is refused with a rejection, and nothing is added (ids are random, so this
   * only happens on misuse).
   */
  addFactor(
    record: FactorRecord,
    limits: { readonly maxPending: number; readonly maxConfirmed: number },
    now: number,
  ): Promise<'added' | 'limit'>;

  /** Every factor of `userId` (pending ones included, dead or alive), in the order they were added. */
  listFactors(userId: string): Promise<readonly FactorRecord[]>;

  /**
   * Confirms the pending factor iff it exists, is pending and live at `now`, and the user holds
   * fewer than `maxConfirmed` confirmed factors; of concurrent confirmations one wins.
   */
  confirmFactor(
    userId: string,
    factorId: string,
    now: number,
    maxConfirmed: number,
  ): Promise<'confirmed' | 'not-found' | 'expired' | 'limit'>;

  /** Renames a factor; `false` if there is none. */
  renameFactor(userId: string, factorId: string, label: string): Promise<boolean>;

  /** Removes one factor; `false` if there was none. */
  removeFactor(userId: string, factorId: string): Promise<boolean>;

  /** Removes every factor of `userId`; resolves how many there were. */
  removeFactors(userId: string): Promise<number>;

  /** Replaces a factor's sealed secret iff it still is `expected` (a re-seal under a new key). */
  resealFactor(
    userId: string,
    factorId: string,
    expected: string,
    sealed: string,
  ): Promise<boolean>;

  /**
   * Up to `limit` factors of all users after `after` (exclusive) in (userId, id) order, for batch
   * re-sealing. The order of strings is the store's own, total and stable (memory and Redis
   * compare UTF-16 code units, PostgreSQL bytes): a full scan meets every factor exactly once.
   */
  scanFactors(
    after: { readonly userId: string; readonly id: string } | null,
    limit: number,
  ): Promise<readonly FactorRecord[]>;
}
