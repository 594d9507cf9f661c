/**
 * Well-formed records of every kind the stores keep, at a fixed time, for the store tests to
 * vary (`extra` overrides any field).
 */
import type {
  AttemptPolicy,
  BeginAttempt,
  ChallengeRecord,
  DeviceRecord,
  FactorRecord,
  RecoveryCodeSet,
  SettleAttempt,
  TotpAttempt,
} from '../../src/store/types.js';
import { OTP_SCOPE } from '../../src/verifier/verifier.js';

export const T: number = Date.UTC(2031, 5, 1);
export const STEP: number = Math.floor(T / 30_000);
export const LIMITS = { maxPending: 3, maxConfirmed: 5 };
export const RULE = { limit: 3, windowMs: 3_600_000, cooldownMs: 0 };
export const SECRET: Uint8Array = new Uint8Array(20).map((_, i) => i * 11 + 3);
export const MAX: bigint = (1n << 64n) - 1n;
export const POLICY: AttemptPolicy = {
  freeFailures: 3,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxFailures: 10,
};
export const OPEN: AttemptPolicy = {
  freeFailures: 100,
  baseDelayMs: 1000,
  maxDelayMs: 1000,
  maxFailures: 100,
};
/** A 64-digit hex "hash" (tokens and codes are stored as SHA-256 hex). */
export const hex = (n: number): string => n.toString(16).padStart(64, '0');
export const S = (codes: { id: string; hash: string }[], setId = 's1'): RecoveryCodeSet => ({
  setId,
  issuedAt: 0,
  total: codes.length,
  codes,
});
export const attempt = (userId: string, extra: Partial<TotpAttempt> = {}): TotpAttempt => ({
  userId,
  credentialId: 'c',
  scope: OTP_SCOPE,
  now: T,
  policy: POLICY,
  step: STEP,
  candidates: [0],
  past: 1,
  future: 1,
  centreOnDrift: true,
  maxDrift: 10,
  ...extra,
});
let hashSeq = 0;
export const challenge = (
  userId: string,
  extra: Partial<ChallengeRecord> = {},
): ChallengeRecord => ({
  hash: hex(0xc0ffee00 + ++hashSeq),
  userId,
  scope: OTP_SCOPE,
  recoveryScope: 'recovery',
  createdAt: T,
  expiresAt: T + 300_000,
  attempts: 0,
  maxAttempts: 5,
  credentialIds: ['c'],
  payload: '{}',
  oob: null,
  ...extra,
});
export const factor = (
  userId: string,
  id: string,
  extra: Partial<FactorRecord> = {},
): FactorRecord => ({
  userId,
  id,
  type: 'totp',
  label: 'Phone',
  status: 'pending',
  sealedSecret: `sealed:${id}`,
  hint: null,
  algorithm: 'SHA1',
  digits: 6,
  period: 30,
  createdAt: T,
  confirmedAt: null,
  expiresAt: T + 600_000,
  ...extra,
});
export const device = (
  userId: string,
  id: string,
  extra: Partial<DeviceRecord> = {},
): DeviceRecord => ({
  userId,
  id,
  kind: 'trusted',
  tokenHash: hex(1),
  previousHash: null,
  label: 'Firefox on Linux',
  createdAt: T,
  lastUsedAt: null,
  expiresAt: T + 86_400_000,
  ...extra,
});

/** A won TOTP claim at `now` (its own step) that stores step-up token `hash` until `expiresAt`. */
export const stepUpSettle = (
  userId: string,
  now: number,
  hash: string,
  expiresAt: number,
  step: number = Math.floor(now / 30_000),
): SettleAttempt => ({
  userId,
  scope: OTP_SCOPE,
  now,
  claim: { kind: 'totp', credentialId: 'c', step, drift: 0, create: true },
  stepUp: { hash, expiresAt },
});

/** An attempt on challenge `ch` at `now`: open policy, no credentials besides the challenge's. */
export const beginOn = (ch: ChallengeRecord, now: number): BeginAttempt => ({
  userId: ch.userId,
  challengeHash: ch.hash,
  now,
  policy: OPEN,
  credentialIds: [],
  recoverySet: false,
});

/** A won TOTP claim on challenge `ch` at `now` (credential 'c', step STEP). */
export const settleOn = (ch: ChallengeRecord, now: number): SettleAttempt => ({
  userId: ch.userId,
  scope: OTP_SCOPE,
  now,
  challengeHash: ch.hash,
  claim: { kind: 'totp', credentialId: 'c', step: STEP, drift: 0, create: true },
});
