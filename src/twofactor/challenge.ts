/**
 * Sign-in challenges and step-up verification: the pending second step after a password, and
 * the re-verification of a signed-in user before a sensitive change.
 *
 * A challenge carries what checking a code needs (the user's confirmed factors, their secrets
 * sealed), so verifying costs one store round trip for a refusal and two for a success: the
 * first finds the challenge, checks the throttle and counts the attempt, and returns each
 * factor's replay state; the code is then checked locally against every factor, all of them
 * every time; the second claims the matched step, counter or recovery code, consumes the
 * challenge, resets the count and stores a step-up token. Nothing of the first factor is kept.
 * @module
 */
import { aid, aoptions, kind } from '../_assert.js';
import { typeError, OtpkitError } from '../errors.js';
import { matchRecoveryCodeAsync } from '../recovery/set.js';
import type {
  BeginOutcome,
  Claim,
  CredentialRecord,
  FactorRecord,
  FactorType,
} from '../store/types.js';
import {
  parseToken,
  prepareVerifyHOTP,
  prepareVerifyTOTP,
  scanHOTPToken,
  scanTOTP,
} from '../verify.js';
import { refusal } from '../verifier/_shared.js';
import {
  atoken,
  auser,
  challengeOwner,
  MAX_CHALLENGE_ID,
  newChallengeId,
  newToken,
  tokenHash,
  type Context,
} from './_context.js';
import { deviceUse, deviceUsed, newKnownDevice, useTrustedDevice } from './devices.js';
import { oobHash, sameHash, sendTo, type SendCodeResult } from './oob.js';
import type { VerificationFailure, VerificationMethod, VerificationResult } from './types.js';

/** The payload version this release writes and reads. */
const PAYLOAD_VERSION = 1;
/** Live challenges a user may hold at once: enough for several tabs, not a storage lever. */
const MAX_LIVE_CHALLENGES = 10;
/** HOTP look-ahead of sign-ins (RFC 4226 §7.4: as low as possible). */
const LOOK_AHEAD = 10;

/** A factor as a challenge keeps it: what checking a code needs, its secret sealed. */
interface SnapshotFactor {
  readonly id: string;
  readonly type: 'totp' | 'hotp';
  readonly sealed: string;
  readonly algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  readonly digits: number;
  readonly period: number;
}

/** Input of {@link TwoFactor.startChallenge}. */
export interface StartChallengeInput {
  readonly userId: string;
  /** The "remember this device" cookie, if the browser sent one: valid, the second factor is skipped. */
  readonly trustedDeviceToken?: string | undefined;
  /** The known-device cookie, if the browser sent one: valid, this browser's attempts count in a bucket of their own. */
  readonly knownDeviceToken?: string | undefined;
  /** An email/SMS factor to send a code to right away. */
  readonly sendTo?: string | undefined;
  readonly now?: number | Date | undefined;
}

/** Result of {@link TwoFactor.startChallenge}. */
export type StartChallengeResult =
  | {
      /** A second factor is needed: show the code form. */
      readonly required: true;
      /**
       * Unguessable (128 random bits), single use; it names its user (base64url after the dot),
       * so keep it in the server-side pending session, never in a URL.
       */
      readonly challengeId: string;
      readonly expiresAt: number;
      /** What the user may enter. */
      readonly methods: readonly VerificationMethod[];
      /** The factors a code is checked against (no secrets), to name them in the form. */
      readonly factors: readonly {
        readonly id: string;
        readonly type: FactorType;
        readonly label: string;
        readonly hint: string | null;
      }[];
      /** The known-device token, rotated: set it in the cookie now (the one presented no longer works). */
      readonly knownDeviceToken?: string | undefined;
      /** What happened to `sendTo`. */
      readonly sent?: SendCodeResult | undefined;
    }
  /** The user has no confirmed factor: the first factor is the whole sign-in. */
  | { readonly required: false; readonly reason: 'not-enabled' }
  /** A valid trusted-device token: the second factor is skipped. Set the rotated token in the cookie. */
  | {
      readonly required: false;
      readonly reason: 'trusted-device';
      readonly deviceId: string;
      readonly trustedDeviceToken: string;
    };

/** Input of {@link TwoFactor.verifyChallenge}. */
export interface VerifyChallengeInput {
  readonly challengeId: string;
  /** The code as typed: an OTP (never trimmed) or a recovery code (case, spaces, hyphens forgiven). */
  readonly code: string;
  /** The user the pending session belongs to, if known: a challenge of another user is then `'expired'`. */
  readonly userId?: string | undefined;
  readonly now?: number | Date | undefined;
}

/** Input of {@link TwoFactor.verifyCode}: step-up of a signed-in user. */
export interface VerifyCodeInput {
  readonly userId: string;
  readonly code: string;
  readonly now?: number | Date | undefined;
}

const START_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId',
  'trustedDeviceToken',
  'knownDeviceToken',
  'sendTo',
  'now',
]);
const VERIFY_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'challengeId',
  'code',
  'userId',
  'now',
]);
const CODE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['userId', 'code', 'now']);

/** @internal The confirmed TOTP/HOTP factors of a listing, as a snapshot keeps them. */
export function snapshotOf(factors: readonly FactorRecord[]): SnapshotFactor[] {
  const out: SnapshotFactor[] = [];
  for (const f of factors)
    if (f.status === 'confirmed' && (f.type === 'totp' || f.type === 'hotp'))
      out.push({
        id: f.id,
        type: f.type,
        sealed: f.sealedSecret,
        algorithm: f.algorithm,
        digits: f.digits,
        period: f.period,
      });
  return out;
}

/** An email/SMS factor as a challenge keeps it: which one a sent code belongs to. */
interface OobFactor {
  readonly id: string;
  readonly type: 'email' | 'sms';
}

/** @internal The email/SMS factors of a listing. */
export function oobFactorsOf(factors: readonly FactorRecord[]): OobFactor[] {
  const out: OobFactor[] = [];
  for (const f of factors)
    if (f.status === 'confirmed' && (f.type === 'email' || f.type === 'sms'))
      out.push({ id: f.id, type: f.type });
  return out;
}

/** @internal The opaque payload of a challenge: the factors its codes are checked against. */
export function encodePayload(
  factors: readonly SnapshotFactor[],
  oob: readonly OobFactor[],
): string {
  return JSON.stringify({
    v: PAYLOAD_VERSION,
    f: factors.map((f) => [f.id, f.type, f.sealed, f.algorithm, f.digits, f.period]),
    o: oob.map((f) => [f.id, f.type]),
  });
}

/** Reads a stored payload strictly: anything but what {@link encodePayload} writes is corrupt storage. */
function decodePayload(
  payload: string,
  credentialIds: readonly string[],
): { otp: SnapshotFactor[]; oob: OobFactor[] } {
  const bad = (): never => {
    throw new OtpkitError(
      'ERR_STORE_CORRUPT',
      'store.beginAttempt returned a malformed challenge payload',
    );
  };
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return bad();
  }
  if (typeof v !== 'object' || v === null || (v as { v?: unknown }).v !== PAYLOAD_VERSION)
    return bad();
  const list = (v as { f?: unknown }).f;
  const oobList = (v as { o?: unknown }).o;
  if (
    !Array.isArray(list) ||
    list.length !== credentialIds.length ||
    !Array.isArray(oobList) ||
    oobList.length > 20
  )
    return bad();
  const oob = oobList.map((e: unknown): OobFactor => {
    if (
      !Array.isArray(e) ||
      e.length !== 2 ||
      typeof e[0] !== 'string' ||
      (e[1] !== 'email' && e[1] !== 'sms')
    )
      return bad();
    return { id: e[0], type: e[1] };
  });
  const otp = list.map((e: unknown, i): SnapshotFactor => {
    if (!Array.isArray(e) || e.length !== 6) return bad();
    const [id, type, sealed, algorithm, digits, period] = e as unknown[];
    if (
      id !== credentialIds[i] ||
      (type !== 'totp' && type !== 'hotp') ||
      typeof sealed !== 'string' ||
      sealed.length === 0
    )
      return bad();
    if (algorithm !== 'SHA1' && algorithm !== 'SHA256' && algorithm !== 'SHA512') return bad();
    if (!Number.isSafeInteger(digits) || (digits as number) < 6 || (digits as number) > 8)
      return bad();
    if (!Number.isSafeInteger(period) || (period as number) < 1 || (period as number) > 120)
      return bad();
    return {
      id: id as string,
      type: type as SnapshotFactor['type'],
      sealed: sealed as string,
      algorithm: algorithm as SnapshotFactor['algorithm'],
      digits: digits as number,
      period: period as number,
    };
  });
  return { otp, oob };
}

/** @internal */
export async function startChallenge(
  ctx: Context,
  input: StartChallengeInput,
): Promise<StartChallengeResult> {
  const i = aoptions<StartChallengeInput>(input, START_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const userId = auser(i.userId);
  const sendToId = i.sendTo === undefined ? undefined : aid(i.sendTo, 'sendTo');
  const now = ctx.time(i.now);
  const confirmed = (await ctx.factors.listFactors(userId)).filter((f) => f.status === 'confirmed');
  if (confirmed.length === 0) return { required: false, reason: 'not-enabled' };
  // A remembered browser skips the second factor; its token is rotated on every use.
  const trusted = await useTrustedDevice(ctx, userId, i.trustedDeviceToken, now);
  if (trusted !== null) {
    ctx.emit({ type: 'device-skipped-challenge', userId, deviceId: trusted.device.id });
    return {
      required: false,
      reason: 'trusted-device',
      deviceId: trusted.device.id,
      trustedDeviceToken: trusted.token,
    };
  }
  const snapshot = snapshotOf(confirmed);
  const oob = oobFactorsOf(confirmed);
  const challengeId = newChallengeId(userId);
  const hash = tokenHash(challengeId);
  const expiresAt = now + ctx.challengeTtlMs;
  // One call stores the challenge, counts the unused recovery codes and rotates the known-device
  // token: a known browser's attempts count in its own bucket, so strangers' guesses cannot lock
  // it out.
  const use = deviceUse('known', i.knownDeviceToken);
  const created = await ctx.state.createChallenge(
    {
      hash,
      userId,
      scope: 'otp',
      recoveryScope: 'recovery',
      createdAt: now,
      expiresAt,
      attempts: 0,
      maxAttempts: ctx.challengeAttempts,
      credentialIds: snapshot.map((f) => f.id),
      payload: encodePayload(snapshot, oob),
      oob: null,
    },
    MAX_LIVE_CHALLENGES,
    use === null
      ? null
      : // A known device's life is extended by each use.
        { tokenHash: use.tokenHash, newHash: use.newHash, expiresAt: now + ctx.knownTtlMs },
  );
  const known =
    use === null || created.device === null
      ? null
      : deviceUsed(ctx, userId, 'known', use, created.device);
  const methods: VerificationMethod[] = [...new Set(confirmed.map((f) => f.type))];
  if (created.recoveryCodes > 0) methods.push('recovery');
  ctx.emit({ type: 'challenge-started', userId, methods });
  let sent: SendCodeResult | undefined;
  if (sendToId !== undefined) {
    const f = confirmed.find((x) => x.id === sendToId && (x.type === 'email' || x.type === 'sms'));
    sent =
      f === undefined
        ? { ok: false, reason: 'not-found' }
        : await sendTo(ctx, userId, hash, f, now, 'sign-in');
  }
  return {
    required: true,
    challengeId,
    expiresAt,
    methods,
    factors: confirmed.map((f) => ({ id: f.id, type: f.type, label: f.label, hint: f.hint })),
    ...(known === null ? {} : { knownDeviceToken: known.token }),
    ...(sent === undefined ? {} : { sent }),
  };
}

/** What was typed, told apart by its shape: never trimmed for an OTP, forgiving for a recovery code. */
type Shape = 'otp' | 'recovery' | 'malformed';
function shapeOf(code: string): Shape {
  if (code.length >= 6 && code.length <= 8 && /^[0-9]+$/.test(code)) return 'otp';
  // 13..32 characters once case, spaces and hyphens are forgiven: matchRecoveryCode decides.
  const compact = code.replace(/[ -]/g, '');
  return compact.length >= 13 && compact.length <= 32 && /^[0-9A-Za-z]+$/.test(compact)
    ? 'recovery'
    : 'malformed';
}

/** The match of an OTP against one factor: the claim to make. */
interface Match {
  readonly factorId: string;
  readonly method: 'totp' | 'hotp';
  readonly claim: Claim;
}

/**
 * Checks an OTP against every factor with replay state (a removed factor has none): every secret
 * is opened and every candidate of every factor computed, whichever matches; the first matching
 * factor in snapshot order wins, within a factor the smallest |delta| (the past one on a tie).
 */
async function matchOtp(
  ctx: Context,
  userId: string,
  factors: readonly SnapshotFactor[],
  states: Readonly<Record<string, CredentialRecord | null>>,
  code: string,
  now: number,
): Promise<Match | null> {
  const secrets = await Promise.all(factors.map((f) => ctx.open(f.sealed, userId, f.id)));
  let found: Match | null = null;
  factors.forEach((f, i) => {
    const state = states[f.id] ?? null;
    let claim: Claim | null = null;
    try {
      const value = parseToken(code, f.digits);
      if (f.type === 'totp') {
        const p = prepareVerifyTOTP(secrets[i], {
          algorithm: f.algorithm,
          digits: f.digits,
          period: f.period,
          now,
          window: { past: ctx.past, future: ctx.future },
        });
        const drift = state?.drift ?? 0;
        const delta =
          value < 0 ? Number.NaN : scanTOTP(p, value, drift - ctx.past, drift + ctx.future);
        if (!Number.isNaN(delta))
          claim = {
            kind: 'totp',
            credentialId: f.id,
            step: p.step + delta,
            drift: Math.max(-10, Math.min(10, delta)),
            create: false,
          };
      } else {
        const expected = state?.hotpCounter ?? null;
        const p = prepareVerifyHOTP(secrets[i], {
          algorithm: f.algorithm,
          digits: f.digits,
          counter: expected ?? 0n,
          lookAhead: LOOK_AHEAD,
        });
        const hit = value < 0 ? -1n : scanHOTPToken(p, value);
        if (hit >= 0n)
          claim = { kind: 'hotp', credentialId: f.id, expected, next: hit + 1n, create: false };
      }
    } catch (e) {
      // A stored secret or setting the primitives refuse is corrupt storage, not a caller's bug.
      if (e instanceof RangeError || e instanceof TypeError)
        throw new OtpkitError(
          'ERR_STORE_CORRUPT',
          'a stored factor has a malformed secret or setting',
          { cause: e },
        );
      throw e;
    }
    if (claim !== null && state !== null && found === null)
      found = { factorId: f.id, method: f.type, claim };
  });
  return found;
}

/** Everything one verification needs to know, whether it runs on a challenge or as step-up. */
interface Attempt {
  /** The user: given by the caller, or named by the challenge id. */
  readonly userId: string;
  /** Who a failure without a challenge is reported for: the caller's user, if given. */
  readonly reportAs: string | null;
  readonly challengeHash?: string | undefined;
  readonly code: string;
  readonly now: number;
  readonly during: 'challenge' | 'step-up';
}

/** @internal One verification: the first store call, the local check, the second store call. */
async function verify(ctx: Context, a: Attempt): Promise<VerificationResult> {
  const shape = shapeOf(a.code);
  const recovery = shape === 'recovery';
  // Step-up knows the factors from the registry; a challenge carries its own.
  let snapshot: SnapshotFactor[] = [];
  if (a.challengeHash === undefined) snapshot = snapshotOf(await ctx.factors.listFactors(a.userId));
  const begun: BeginOutcome = await ctx.state.beginAttempt({
    userId: a.userId,
    ...(a.challengeHash === undefined
      ? { scope: recovery ? 'recovery' : 'otp' }
      : { challengeHash: a.challengeHash }),
    now: a.now,
    policy: ctx.policy,
    credentialIds: snapshot.map((f) => f.id),
    recoverySet: recovery,
  });
  const fail = (userId: string | null, f: VerificationFailure): VerificationFailure => {
    ctx.emit({ type: 'failure', userId, reason: f.reason, during: a.during });
    return f;
  };
  if (begun.status === 'no-challenge') return fail(a.reportAs, { ok: false, reason: 'expired' });
  if (begun.status === 'exhausted') return fail(begun.userId, { ok: false, reason: 'exhausted' });
  if (begun.status === 'closed')
    return fail(begun.userId, refusal(ctx.policy, begun.failures, begun.lastFailureAt, a.now));
  const userId = begun.userId;
  const scope =
    begun.challenge === null
      ? recovery
        ? 'recovery'
        : 'otp'
      : recovery
        ? begun.challenge.recoveryScope
        : begun.challenge.scope;
  const counted = (reason: 'malformed' | 'invalid' | 'replayed'): VerificationFailure => {
    const f = fail(userId, { ok: false, reason });
    if (begun.failures === ctx.policy.maxFailures)
      ctx.emit({ type: 'locked', userId, scope: recovery ? 'recovery' : 'otp' });
    return f;
  };
  let oobFactors: OobFactor[] = [];
  if (begun.challenge !== null)
    ({ otp: snapshot, oob: oobFactors } = decodePayload(
      begun.challenge.payload,
      begun.challenge.credentialIds,
    ));
  if (shape === 'malformed') return counted('malformed');

  let claim: Claim;
  let factorId: string | null = null;
  let method: VerificationMethod;
  if (recovery) {
    const set = begun.recoverySet;
    let id: string | null;
    try {
      // One slow hash whatever the user has: no timing oracle.
      id = await matchRecoveryCodeAsync(a.code, set?.codes ?? [], ctx.recoveryHash);
    } catch (e) {
      if (e instanceof OtpkitError && e.code === 'ERR_RECOVERY_HASH')
        throw new OtpkitError(
          'ERR_STORE_CORRUPT',
          'store.beginAttempt returned a malformed recovery-code hash',
          { cause: e },
        );
      throw e;
    }
    if (id === null || set === null) return counted('invalid');
    claim = { kind: 'recovery', setId: set.setId, codeId: id };
    method = 'recovery';
  } else {
    const m = await matchOtp(ctx, userId, snapshot, begun.credentials, a.code, a.now);
    // The challenge's live email/SMS code is compared too, whatever matched above.
    const live = begun.challenge?.oob ?? null;
    const oobHit =
      live !== null &&
      a.challengeHash !== undefined &&
      sameHash(oobHash(a.challengeHash, a.code), live.codeHash) &&
      live.expiresAt > a.now;
    const oobFactor = oobHit ? oobFactors.find((f) => f.id === live?.factorId) : undefined;
    if (m !== null) {
      claim = m.claim;
      factorId = m.factorId;
      method = m.method;
    } else if (oobFactor !== undefined && live !== null) {
      claim = { kind: 'oob', codeHash: live.codeHash };
      factorId = oobFactor.id;
      method = oobFactor.type;
    } else return counted('invalid');
  }

  const stepUpToken = newToken();
  const stepUpExpiresAt = a.now + ctx.stepUpTtlMs;
  // A browser that signs in without a known-device token (this attempt counted in the shared
  // bucket) gets one with the success, in the same call. Step-up does not: the browser is signed
  // in already, and a device per step-up would evict the user's real ones.
  const known =
    a.during === 'challenge' && !scope.includes(':device:')
      ? newKnownDevice(ctx, userId, a.now)
      : null;
  const settled = await ctx.state.settleAttempt({
    userId,
    scope,
    now: a.now,
    claim,
    ...(a.challengeHash === undefined ? {} : { challengeHash: a.challengeHash }),
    stepUp: { hash: tokenHash(stepUpToken), expiresAt: stepUpExpiresAt },
    ...(known === null ? {} : { device: known.device }),
  });
  if (settled.status === 'no-challenge') return fail(userId, { ok: false, reason: 'expired' });
  if (settled.status === 'replayed') return counted(recovery ? 'invalid' : 'replayed');

  ctx.emit({
    type: 'challenge-succeeded',
    userId,
    factorId,
    method,
    stepUp: a.during === 'step-up',
  });
  const knownDeviceToken = known?.token;
  let remaining: number | undefined;
  if (recovery) {
    remaining = settled.remaining ?? 0;
    ctx.emit({ type: 'recovery-code-used', userId, remaining });
    if (remaining <= ctx.recoveryLow) ctx.emit({ type: 'recovery-codes-low', userId, remaining });
  }
  const matched = snapshot.find((f) => f.id === factorId);
  if (matched !== undefined) await resealIfNeeded(ctx, userId, matched);
  return Object.freeze({
    ok: true,
    userId,
    factorId,
    method,
    amr: Object.freeze([method === 'email' || method === 'sms' ? method : 'otp']),
    verifiedAt: a.now,
    stepUpToken,
    stepUpExpiresAt,
    ...(remaining === undefined ? {} : { recoveryCodesRemaining: remaining }),
    ...(knownDeviceToken === undefined ? {} : { knownDeviceToken }),
  }) as VerificationResult;
}

/**
 * Re-seals a factor's secret under the current key after it was used, if it was sealed under an
 * older one. Best effort: the sign-in already succeeded, so a failure here is reported as an
 * event, never as the sign-in's result.
 */
async function resealIfNeeded(ctx: Context, userId: string, f: SnapshotFactor): Promise<void> {
  if (!ctx.needsReseal(f.sealed)) return;
  try {
    const secret = await ctx.open(f.sealed, userId, f.id);
    if (
      await ctx.factors.resealFactor(userId, f.id, f.sealed, await ctx.seal(secret, userId, f.id))
    )
      ctx.emit({ type: 'factor-resealed', userId, factorId: f.id });
  } catch {
    ctx.emit({ type: 'reseal-failed', userId, factorId: f.id });
  }
}

/** @internal */
export async function verifyChallenge(
  ctx: Context,
  input: VerifyChallengeInput,
): Promise<VerificationResult> {
  const i = aoptions<VerifyChallengeInput>(input, VERIFY_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const challengeId = atoken(i.challengeId, 'challengeId', MAX_CHALLENGE_ID);
  const owner = challengeOwner(challengeId);
  if (typeof i.code !== 'string')
    throw typeError('ERR_TOKEN_TYPE', `"code" expected string, got ${kind(i.code)}`);
  const userId = i.userId === undefined ? null : auser(i.userId);
  const now = ctx.time(i.now);
  // An id of another shape, or another user's, names no challenge of this user.
  if (owner === null || (userId !== null && userId !== owner)) {
    ctx.emit({ type: 'failure', userId, reason: 'expired', during: 'challenge' });
    return { ok: false, reason: 'expired' };
  }
  return verify(ctx, {
    userId: owner,
    reportAs: userId,
    challengeHash: tokenHash(challengeId),
    code: i.code,
    now,
    during: 'challenge',
  });
}

/** @internal */
export async function verifyCode(
  ctx: Context,
  input: VerifyCodeInput,
): Promise<VerificationResult> {
  const i = aoptions<VerifyCodeInput>(input, CODE_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const userId = auser(i.userId);
  if (typeof i.code !== 'string')
    throw typeError('ERR_TOKEN_TYPE', `"code" expected string, got ${kind(i.code)}`);
  const now = ctx.time(i.now);
  return verify(ctx, { userId, reportAs: userId, code: i.code, now, during: 'step-up' });
}
