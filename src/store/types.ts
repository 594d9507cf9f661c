/**
 * The storage contract: every security mutation is one atomic conditional operation that
 * reports whether *this* caller won. Adapters implement `OtpStore`;
 * the verifier and recovery-code layers never read-modify-write security state.
 *
 * Identifiers: `userId` is the account; `credentialId` names one authenticator of that account
 * (a TOTP app, an HOTP token); `scope` names a throttle counter of the account: a credential id,
 * or `'recovery'` for recovery codes. Adapters treat all three as opaque strings of at most
 * 256 UTF-16 code units and must keep everything of one `userId` together (for Redis Cluster:
 * one hash tag per user).
 *
 * Times are milliseconds since the epoch, passed in by the caller (the adapter never reads a
 * clock, so `now` stays injectable and every server agrees on what was decided).
 * @module
 */
import type { StoredRecoveryCode } from '../recovery/set.js';

// Adapters and apps import the record type with the contract; it is defined with recovery codes.
export type { StoredRecoveryCode };

/** Throttle and credential state read in one round trip before a verification. */
export interface CredentialState {
  /** Consecutive failures counted for `(userId, scope)` since the last reset; 0 if none. */
  readonly failures: number;
  /** When the last failure was counted (ms since the epoch); 0 if none. */
  readonly lastFailureAt: number;
  /** Learned TOTP clock drift in steps (matched step − server step); 0 if none. */
  readonly drift: number;
  /** The stored next HOTP counter, or `null` if none was stored yet. */
  readonly hotpCounter: bigint | null;
  /** The last accepted TOTP step, or `null` if none (for diagnostics; never used to decide). */
  readonly lastStep: number | null;
}

/** A user's current recovery-code set: its id, when it was issued, and its unused codes. */
export interface RecoveryCodeSet {
  /** Random id of the set (1..64 characters of `[A-Za-z0-9_-]`); replacing a set names the one it replaces. */
  readonly setId: string;
  /** When the set was issued (ms since the epoch). */
  readonly issuedAt: number;
  /** How many codes the set had when it was issued (1..100). */
  readonly total: number;
  /** The unused codes of the set. */
  readonly codes: readonly StoredRecoveryCode[];
}

/**
 * A storage adapter. Implement every method as a single atomic operation on the server
 * (a Lua script, a conditional SQL statement); never as a read followed by a write.
 *
 * Failure handling: reject (throw) on any storage error. Never resolve a guess. The verifier
 * treats a rejection, a timeout or a malformed result as a storage failure and fails closed.
 *
 * Run `storeContract` from `otpkit/testing` against your adapter.
 */
export interface OtpStore {
  /**
   * `true` only if the store is shared by every app server (Redis, PostgreSQL). The in-memory
   * store is `false`: production checks can warn when it is used behind a load balancer.
   */
  readonly distributedSafe: boolean;

  /**
   * Reads the throttle state of `(userId, scope)` and the credential state of
   * `(userId, credentialId)` (usually `scope === credentialId`). Missing records read as
   * `{ failures: 0, lastFailureAt: 0, drift: 0, hotpCounter: null, lastStep: null }`.
   */
  getState(userId: string, credentialId: string, scope: string): Promise<CredentialState>;

  /**
   * Atomically sets the last accepted TOTP step of `(userId, credentialId)` to `step` **iff** no
   * step is stored or the stored step is less than `step`. Resolves `true` only for the caller
   * that changed it; `false` means a replay (the same step, or an older one after a newer one).
   * `step` is a non-negative safe integer.
   */
  claimTotpStep(userId: string, credentialId: string, step: number): Promise<boolean>;

  /**
   * Atomically sets the HOTP counter of `(userId, credentialId)` to `next` **iff** the stored
   * counter equals `expected` (`expected === null`: iff none is stored). Resolves `true` only
   * for the caller that changed it. Counters are 0..2^64−1 and must be stored without overflow.
   */
  compareAndSetHotpCounter(
    userId: string,
    credentialId: string,
    expected: bigint | null,
    next: bigint,
  ): Promise<boolean>;

  /**
   * Atomically counts one failure for `(userId, scope)`: `failures += 1`,
   * `lastFailureAt = now`. Resolves the new count. Must commit on its own, outside any caller
   * transaction (CVE-2026-35597: a lockout rolled back with the failed login).
   */
  recordFailure(userId: string, scope: string, now: number): Promise<number>;

  /** Resets the failures of `(userId, scope)` to 0. Called only after a full success. */
  resetFailures(userId: string, scope: string): Promise<void>;

  /** Remembers the learned TOTP drift (in steps) of `(userId, credentialId)`. Last write wins. */
  setDrift(userId: string, credentialId: string, drift: number): Promise<void>;

  /** Reads the current recovery-code set of `userId` with its unused codes, or `null` if none was issued. */
  getRecoveryCodeSet(userId: string): Promise<RecoveryCodeSet | null>;

  /**
   * Atomically marks the unused recovery code `codeId` of `userId` used (or deletes it).
   * Resolves `true` only if this call changed it; `false` if it was already used, belongs to
   * another user, or is not in the current set.
   */
  consumeRecoveryCode(userId: string, codeId: string): Promise<boolean>;

  /**
   * Atomically replaces the recovery-code set of `userId` with `set` **iff** the current set is
   * the one named `expectedSetId` (`null`: iff no set exists). Resolves `true` only for the
   * caller that replaced it: of several concurrent regenerations from the same set exactly one
   * wins, so nobody is shown codes that do not work. After a `true`, no code of the old set can
   * be consumed, and no reader ever sees old and new codes together. Never touches failure
   * counters (regeneration must not reset throttling).
   */
  replaceRecoveryCodes(userId: string, set: RecoveryCodeSet, expectedSetId: string | null): Promise<boolean>;
}
