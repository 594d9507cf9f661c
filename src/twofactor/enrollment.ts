/**
 * Enrollment: a pending factor with a server-made secret, its confirmation by a code (which
 * consumes that code's step), and imports of enrollments made elsewhere.
 * @module
 */
import { aalgorithm, abool, adigits, aid, aint, aoptions, asecret, kind } from '../_assert.js';
import { acounter } from '../_bytes.js';
import type { HashAlgorithm } from '../hotp.js';
import { decodeBase32, encodeBase32 } from '../base32.js';
import { rangeError, typeError } from '../errors.js';
import { generateSecret } from '../secret.js';
import type { Claim, FactorRecord, FactorType } from '../store/types.js';
import {
  parseToken,
  prepareVerifyHOTP,
  prepareVerifyTOTP,
  scanHOTPToken,
  scanTOTP,
} from '../verify.js';
import { refusal } from '../verifier/_shared.js';
import { buildOtpauthURI } from '../uri/build.js';
import { parseOtpauthURI } from '../uri/parse.js';
import { aauthorization, authorize, issueRecoveryCodes } from './lifecycle.js';
import { encodePayload } from './challenge.js';
import { adestination, hintOf, oobHash, sameHash, sealableDestination, sendTo } from './oob.js';
import { auser, newToken, tokenHash, type Context } from './_context.js';
import { alabel } from './label.js';
import type { ChangeAuthorization, Factor } from './types.js';

/** Input of {@link TwoFactor.beginEnrollment}. */
export interface BeginEnrollmentInput extends ChangeAuthorization {
  readonly userId: string;
  /** TOTP/HOTP (required there): the account name authenticator apps show (e.g. the user's e-mail address). */
  readonly account?: string | undefined;
  /** The user's name for this device. @defaultValue 'Authenticator app' */
  readonly label?: string | undefined;
  /** @defaultValue 'totp' */
  readonly type?: FactorType | undefined;
  /** For `email` and `sms`: the address or phone number (E.164) to verify; a code is sent to it. */
  readonly destination?: string | undefined;
  readonly now?: number | Date | undefined;
}

/** Result of {@link TwoFactor.beginEnrollment}. */
export type BeginEnrollmentResult =
  | {
      readonly ok: true;
      readonly type: 'totp' | 'hotp';
      readonly factorId: string;
      /** The `otpauth://` URI: show it as a QR code (and as a link on phones). */
      readonly uri: string;
      /** The secret in base32, in groups of four, for typing it in. Shown now, never again once confirmed. */
      readonly manualKey: string;
      /** The pending factor is dead from this instant on. */
      readonly expiresAt: number;
    }
  /** A confirmed factor exists: adding one needs a fresh second factor (or an administrator). */
  | { readonly ok: false; readonly reason: 'step-up-required' }
  /** The user holds the most factors allowed, or too many pending ones. */
  | { readonly ok: false; readonly reason: 'limit' };

/** Result of {@link TwoFactor.beginEnrollment} for an email or SMS factor. */
export type BeginDeliveryEnrollmentResult =
  /** A code was sent to the destination; confirm with it. */
  | {
      readonly ok: true;
      readonly type: 'email' | 'sms';
      readonly factorId: string;
      /** What the user may see of the destination. */
      readonly hint: string;
      readonly expiresAt: number;
      /** The code sent is dead from this instant on. */
      readonly codeExpiresAt: number;
    }
  | { readonly ok: false; readonly reason: 'step-up-required' }
  | { readonly ok: false; readonly reason: 'limit' }
  /** Sending the verification code was refused by a cooldown or quota. */
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterMs: number };

/** Input of {@link TwoFactor.confirmEnrollment}. */
export interface ConfirmEnrollmentInput {
  readonly userId: string;
  readonly factorId: string;
  /** The code the authenticator shows, exactly as typed. */
  readonly code: string;
  readonly now?: number | Date | undefined;
}

/** Result of {@link TwoFactor.confirmEnrollment}. */
export type ConfirmEnrollmentResult =
  | {
      readonly ok: true;
      readonly factor: Factor;
      /** With the user's first factor: the recovery codes, to show once. */
      readonly recoveryCodes?: readonly string[] | undefined;
    }
  | {
      readonly ok: false;
      readonly reason:
        'malformed' | 'invalid' | 'replayed' | 'locked' | 'not-found' | 'expired' | 'limit';
    }
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterMs: number };

/** Input of {@link TwoFactor.importFactor}: an enrollment made by another library. */
export interface ImportFactorInput {
  readonly userId: string;
  /** An `otpauth://` URI, or give `secret` (and the settings) instead. */
  readonly uri?: string | undefined;
  /** The secret, as bytes or base32. */
  readonly secret?: Uint8Array | string | undefined;
  readonly type?: FactorType | undefined;
  readonly algorithm?: 'SHA1' | 'SHA256' | 'SHA512' | undefined;
  readonly digits?: number | undefined;
  readonly period?: number | undefined;
  /** HOTP: the next counter. @defaultValue 0 (or the URI's counter) */
  readonly counter?: number | bigint | undefined;
  /** TOTP: the last step the old system accepted, so its last code cannot be replayed here. */
  readonly lastUsedStep?: number | undefined;
  /** @defaultValue the URI's issuer and account, or 'Authenticator app' */
  readonly label?: string | undefined;
  /** Accept base32 with non-zero trailing bits, as other tools write it. @defaultValue false */
  readonly ignoreTrailingBits?: boolean | undefined;
  /** Accept a legacy 80-bit secret. @defaultValue false */
  readonly allowInsecureShortSecret?: boolean | undefined;
  readonly now?: number | Date | undefined;
}

const BEGIN_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId',
  'account',
  'label',
  'type',
  'destination',
  'stepUpToken',
  'administrator',
  'now',
]);
const CONFIRM_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId',
  'factorId',
  'code',
  'now',
]);

/** Groups base32 in fours, as apps display keys for typing. */
function groupKey(b32: string): string {
  return b32.replace(/(.{4})(?=.)/g, '$1 ');
}

/** @internal The listed form of a factor record. */
export function factorOf(f: FactorRecord, lastUsedAt: number | null): Factor {
  return Object.freeze({
    id: f.id,
    type: f.type,
    label: f.label,
    status: f.status,
    createdAt: f.createdAt,
    confirmedAt: f.confirmedAt,
    lastUsedAt,
  });
}

/** The `otpauth://` URI of an authenticator-app enrollment (a pending HOTP factor starts at counter 0). */
function enrollmentUri(
  ctx: Context,
  type: 'totp' | 'hotp',
  secret: Uint8Array,
  account: string,
  algorithm: 'SHA1' | 'SHA256' | 'SHA512',
  digits: number,
  period: number,
): string {
  return buildOtpauthURI({
    type,
    secret,
    issuer: ctx.issuer,
    account,
    algorithm,
    digits,
    ...(type === 'totp' ? { period } : { counter: 0 }),
  });
}

/** The handle of an email/SMS enrollment's verification: derived from its factor, bound to its user. */
function enrollmentHash(factorId: string): string {
  return tokenHash(`otpkit:enrollment:${factorId}`);
}

/** @internal */
export async function beginEnrollment(
  ctx: Context,
  input: BeginEnrollmentInput,
): Promise<BeginEnrollmentResult | BeginDeliveryEnrollmentResult> {
  const i = aoptions<BeginEnrollmentInput>(input, BEGIN_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const userId = auser(i.userId);
  const type = i.type ?? 'totp';
  if (type !== 'totp' && type !== 'hotp' && type !== 'email' && type !== 'sms')
    throw typeError('ERR_OPTION_TYPE', `"type" expected 'totp' | 'hotp' | 'email' | 'sms'`);
  const oob = type === 'email' || type === 'sms';
  if (oob ? i.account !== undefined : i.destination !== undefined)
    throw rangeError(
      'ERR_OPTION_INVALID',
      oob
        ? '"account" is for authenticator apps: give "destination"'
        : '"destination" is for email and SMS factors',
    );
  const destination = oob ? adestination(type, i.destination) : undefined;
  if (!oob && typeof i.account !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"account" expected string, got ${kind(i.account)}`);
  if (oob && ctx.deliver === undefined)
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"${type}" factors need the "delivery.deliver" option of createTwoFactor`,
    );
  const label =
    i.label === undefined
      ? oob
        ? type === 'email'
          ? 'Email'
          : 'Text message'
        : 'Authenticator app'
      : alabel(i.label);
  aauthorization(i);
  const now = ctx.time(i.now);
  const secret = oob
    ? sealableDestination(destination as string)
    : generateSecret({ algorithm: ctx.algorithm });
  // Built before anything is stored: a bad account name is misuse, not a half-made enrollment.
  const uri = oob
    ? undefined
    : enrollmentUri(
        ctx,
        type as 'totp' | 'hotp',
        secret,
        i.account as string,
        ctx.algorithm,
        ctx.digits,
        ctx.period,
      );
  const existing = await ctx.factors.listFactors(userId);
  const confirmed = existing.filter((f) => f.status === 'confirmed');
  if (confirmed.length >= ctx.maxFactors) return { ok: false, reason: 'limit' };
  if (confirmed.length > 0 && !(await authorize(ctx, userId, i, now)))
    return { ok: false, reason: 'step-up-required' };
  const id = newToken();
  const record: FactorRecord = {
    userId,
    id,
    type,
    label,
    status: 'pending',
    sealedSecret: await ctx.seal(secret, userId, id),
    hint: oob ? hintOf(type, destination as string) : null,
    algorithm: ctx.algorithm,
    digits: oob ? ctx.oobDigits : ctx.digits,
    period: ctx.period,
    createdAt: now,
    confirmedAt: null,
    expiresAt: now + ctx.enrollmentTtlMs,
  };
  if (
    (await ctx.factors.addFactor(
      record,
      { maxPending: ctx.maxPending, maxConfirmed: ctx.maxFactors },
      now,
    )) === 'limit'
  )
    return { ok: false, reason: 'limit' };
  ctx.emit({
    type: 'factor-enrolled',
    userId,
    factorId: id,
    factorType: type,
    ...(i.administrator === undefined ? {} : { administrator: i.administrator }),
  });
  const expiresAt = record.expiresAt as number;
  if (!oob)
    return {
      ok: true,
      type: type as 'totp' | 'hotp',
      factorId: id,
      uri: uri as string,
      manualKey: groupKey(encodeBase32(secret)),
      expiresAt,
    };
  // The destination is proven by a code sent to it, through a challenge of its own.
  const hash = enrollmentHash(id);
  await ctx.state.createChallenge(
    {
      hash,
      userId,
      scope: 'otp',
      recoveryScope: 'recovery',
      createdAt: now,
      expiresAt,
      attempts: 0,
      maxAttempts: ctx.challengeAttempts,
      credentialIds: [],
      payload: encodePayload([], [{ id, type }]),
      oob: null,
    },
    10,
  );
  const sent = await sendTo(ctx, userId, hash, record, now, 'verify');
  if (!sent.ok) return sent.reason === 'throttled' ? sent : { ok: false, reason: 'limit' };
  return {
    ok: true,
    type,
    factorId: id,
    hint: record.hint as string,
    expiresAt,
    codeExpiresAt: sent.expiresAt,
  };
}

/** Input of {@link TwoFactor.getEnrollment}. */
export interface GetEnrollmentInput {
  readonly userId: string;
  readonly factorId: string;
  /** The account name given to `beginEnrollment` (it is not stored). */
  readonly account: string;
  readonly now?: number | Date | undefined;
}

/** Result of {@link TwoFactor.getEnrollment}. */
export type GetEnrollmentResult =
  | {
      readonly ok: true;
      readonly type: 'totp' | 'hotp';
      readonly factorId: string;
      readonly uri: string;
      readonly manualKey: string;
      readonly expiresAt: number;
    }
  /** No pending authenticator-app enrollment of this id is alive: confirmed, expired, removed or never made. */
  | { readonly ok: false; readonly reason: 'not-found' };

const GET_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId',
  'factorId',
  'account',
  'now',
]);

/** @internal */
export async function getEnrollment(
  ctx: Context,
  input: GetEnrollmentInput,
): Promise<GetEnrollmentResult> {
  const i = aoptions<GetEnrollmentInput>(input, GET_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const userId = auser(i.userId);
  const factorId = aid(i.factorId, 'factorId');
  if (typeof i.account !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"account" expected string, got ${kind(i.account)}`);
  const now = ctx.time(i.now);
  const f = (await ctx.factors.listFactors(userId)).find((r) => r.id === factorId);
  // Only while pending: a confirmed factor's secret is never shown again.
  if (
    f === undefined ||
    f.status !== 'pending' ||
    (f.type !== 'totp' && f.type !== 'hotp') ||
    f.expiresAt === null ||
    f.expiresAt <= now
  )
    return { ok: false, reason: 'not-found' };
  const secret = await ctx.open(f.sealedSecret, userId, f.id);
  const uri = enrollmentUri(ctx, f.type, secret, i.account, f.algorithm, f.digits, f.period);
  return {
    ok: true,
    type: f.type,
    factorId,
    uri,
    manualKey: groupKey(encodeBase32(secret)),
    expiresAt: f.expiresAt,
  };
}

/** @internal */
export async function confirmEnrollment(
  ctx: Context,
  input: ConfirmEnrollmentInput,
): Promise<ConfirmEnrollmentResult> {
  const i = aoptions<ConfirmEnrollmentInput>(input, CONFIRM_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const userId = auser(i.userId);
  const factorId = aid(i.factorId, 'factorId');
  if (typeof i.code !== 'string')
    throw typeError('ERR_TOKEN_TYPE', `"code" expected string, got ${kind(i.code)}`);
  const now = ctx.time(i.now);
  const listed = await ctx.factors.listFactors(userId);
  const f = listed.find((x) => x.id === factorId);
  if (f === undefined || f.status !== 'pending') return { ok: false, reason: 'not-found' };
  if (f.expiresAt !== null && f.expiresAt <= now) return { ok: false, reason: 'expired' };
  const oob = f.type === 'email' || f.type === 'sms';
  // The confirmation is throttled like a sign-in, in the account's OTP bucket; an email/SMS
  // confirmation is an attempt on the challenge its code was sent for.
  const begun = await ctx.state.beginAttempt(
    oob
      ? {
          userId,
          challengeHash: enrollmentHash(f.id),
          now,
          policy: ctx.policy,
          credentialIds: [],
          recoverySet: false,
        }
      : {
          userId,
          scope: 'otp',
          now,
          policy: ctx.policy,
          credentialIds: [factorId],
          recoverySet: false,
        },
  );
  if (begun.status === 'closed') {
    const r = refusal(ctx.policy, begun.failures, begun.lastFailureAt, now);
    ctx.emit({ type: 'failure', userId, reason: r.reason, during: 'enrollment' });
    return r;
  }
  if (begun.status === 'no-challenge' || begun.status === 'exhausted') {
    ctx.emit({ type: 'failure', userId, reason: 'expired', during: 'enrollment' });
    return { ok: false, reason: 'expired' };
  }
  const failed = (reason: 'malformed' | 'invalid' | 'replayed'): ConfirmEnrollmentResult => {
    ctx.emit({ type: 'failure', userId, reason, during: 'enrollment' });
    if (begun.failures === ctx.policy.maxFailures)
      ctx.emit({ type: 'locked', userId, scope: 'otp' });
    return { ok: false, reason };
  };
  const value = parseToken(i.code, f.digits);
  if (value < 0) return failed('malformed');
  let claim: Claim;
  if (oob) {
    const code = begun.challenge?.oob ?? null;
    if (
      code === null ||
      code.expiresAt <= now ||
      !sameHash(oobHash(enrollmentHash(f.id), i.code), code.codeHash)
    )
      return failed('invalid');
    const settled = await ctx.state.settleAttempt({
      userId,
      scope: 'otp',
      now,
      claim: { kind: 'oob', codeHash: code.codeHash },
      challengeHash: enrollmentHash(f.id),
    });
    if (settled.status !== 'ok') return failed('replayed');
    return finishConfirmation(ctx, userId, f, listed, now);
  }
  const secret = await ctx.open(f.sealedSecret, userId, f.id);
  if (f.type === 'totp') {
    // A new device: the window is centred on now, whatever drift older devices had.
    const p = prepareVerifyTOTP(secret, {
      algorithm: f.algorithm,
      digits: f.digits,
      period: f.period,
      now,
      window: { past: ctx.past, future: ctx.future },
    });
    const delta = scanTOTP(p, value, -ctx.past, ctx.future);
    if (Number.isNaN(delta)) return failed('invalid');
    claim = { kind: 'totp', credentialId: f.id, step: p.step + delta, drift: delta, create: true };
  } else {
    const p = prepareVerifyHOTP(secret, {
      algorithm: f.algorithm,
      digits: f.digits,
      counter: 0,
      lookAhead: 10,
    });
    const hit = scanHOTPToken(p, value);
    if (hit < 0n) return failed('invalid');
    claim = { kind: 'hotp', credentialId: f.id, expected: null, next: hit + 1n, create: true };
  }
  // The setup code's step is consumed: it cannot be replayed as the first sign-in code.
  const settled = await ctx.state.settleAttempt({ userId, scope: 'otp', now, claim });
  if (settled.status !== 'ok') return failed('replayed');
  return finishConfirmation(ctx, userId, f, listed, now);
}

/** Confirms the factor in the registry once its code was claimed, with recovery codes for the first one. */
async function finishConfirmation(
  ctx: Context,
  userId: string,
  f: FactorRecord,
  listed: readonly FactorRecord[],
  now: number,
): Promise<ConfirmEnrollmentResult> {
  const factorId = f.id;
  const confirmed = await ctx.factors.confirmFactor(userId, factorId, now, ctx.maxFactors);
  if (confirmed !== 'confirmed') return { ok: false, reason: confirmed };
  ctx.emit({ type: 'factor-confirmed', userId, factorId, imported: false });
  const first = !listed.some((x) => x.status === 'confirmed');
  const codes = first ? await issueRecoveryCodes(ctx, userId, now, true) : undefined;
  const factor = factorOf({ ...f, status: 'confirmed', confirmedAt: now, expiresAt: null }, now);
  return codes === undefined ? { ok: true, factor } : { ok: true, factor, recoveryCodes: codes };
}

const IMPORT_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId',
  'uri',
  'secret',
  'type',
  'algorithm',
  'digits',
  'period',
  'counter',
  'lastUsedStep',
  'label',
  'ignoreTrailingBits',
  'allowInsecureShortSecret',
  'now',
]);

/** Result of {@link TwoFactor.importFactor}. */
export type ImportFactorResult =
  { readonly ok: true; readonly factor: Factor } | { readonly ok: false; readonly reason: 'limit' };

/**
 * @internal Imports an enrollment made by another library as a confirmed factor, without making
 * the user scan again: from an `otpauth://` URI, or a secret and its settings.
 */
export async function importFactor(
  ctx: Context,
  input: ImportFactorInput,
): Promise<ImportFactorResult> {
  const i = aoptions<ImportFactorInput>(input, IMPORT_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const userId = auser(i.userId);
  const now = ctx.time(i.now);
  const allowShort =
    i.allowInsecureShortSecret === undefined
      ? false
      : abool(i.allowInsecureShortSecret, 'allowInsecureShortSecret');
  const lax =
    i.ignoreTrailingBits === undefined ? false : abool(i.ignoreTrailingBits, 'ignoreTrailingBits');
  let type: FactorType;
  let secret: Uint8Array;
  let algorithm: HashAlgorithm;
  let digits: number;
  let period = 30;
  let counter: bigint | null = null;
  let label = i.label === undefined ? undefined : alabel(i.label);
  if (i.uri !== undefined) {
    if (
      i.secret !== undefined ||
      i.type !== undefined ||
      i.algorithm !== undefined ||
      i.digits !== undefined ||
      i.period !== undefined
    )
      throw rangeError(
        'ERR_OPTION_INVALID',
        '"uri" carries the secret and settings: give either "uri" or "secret" with its settings',
      );
    const p = parseOtpauthURI(i.uri, {
      allowInsecureShortSecret: allowShort,
      ignoreTrailingBits: lax,
    });
    ({ type, secret, algorithm, digits } = p);
    if (p.period !== undefined) period = p.period;
    if (p.counter !== undefined) counter = p.counter;
    label ??= alabel(
      p.issuer === undefined ? p.account : `${p.issuer} (${p.account})`.slice(0, 64),
    );
  } else {
    if (i.secret === undefined) throw typeError('ERR_SECRET_TYPE', '"secret" or "uri" is required');
    secret =
      typeof i.secret === 'string'
        ? decodeBase32(i.secret, { loose: true, ignoreTrailingBits: lax })
        : i.secret;
    type = i.type ?? 'totp';
    if (type !== 'totp' && type !== 'hotp')
      throw typeError('ERR_OPTION_TYPE', `"type" expected 'totp' | 'hotp'`);
    algorithm = i.algorithm === undefined ? 'SHA1' : aalgorithm(i.algorithm);
    digits = i.digits === undefined ? 6 : adigits(i.digits);
    if (i.period !== undefined) period = aint(i.period, 'period', 1, 120, 'ERR_OPTION_PERIOD');
  }
  asecret(secret, allowShort);
  if (i.counter !== undefined) {
    if (type !== 'hotp') throw rangeError('ERR_OPTION_INVALID', '"counter" applies to hotp only');
    counter = acounter(i.counter);
  }
  if (type === 'hotp' && counter === null) counter = 0n;
  let lastStep: number | null = null;
  if (i.lastUsedStep !== undefined) {
    if (type !== 'totp')
      throw rangeError('ERR_OPTION_INVALID', '"lastUsedStep" applies to totp only');
    lastStep = aint(
      i.lastUsedStep,
      'lastUsedStep',
      0,
      Number.MAX_SAFE_INTEGER,
      'ERR_OPTION_INVALID',
    );
  }
  const id = newToken();
  const record: FactorRecord = {
    userId,
    id,
    type,
    label: label ?? 'Authenticator app',
    status: 'confirmed',
    sealedSecret: await ctx.seal(secret, userId, id),
    hint: null,
    algorithm,
    digits,
    period,
    createdAt: now,
    confirmedAt: now,
    expiresAt: null,
  };
  // Replay state first: the factor never exists without it, so its first code is checked against
  // the last step (or counter) the old system accepted.
  await ctx.state.initCredential(userId, id, lastStep, counter);
  if (
    (await ctx.factors.addFactor(
      record,
      { maxPending: ctx.maxPending, maxConfirmed: ctx.maxFactors },
      now,
    )) === 'limit'
  ) {
    await ctx.state.deleteCredentials(userId, [id]);
    return { ok: false, reason: 'limit' };
  }
  ctx.emit({ type: 'factor-confirmed', userId, factorId: id, imported: true });
  return { ok: true, factor: factorOf(record, null) };
}
