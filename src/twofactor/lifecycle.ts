/**
 * The rest of a user's second-factor lifecycle: listing, renaming and removing factors,
 * disabling 2FA, erasing a user, recovery-code status and regeneration, throttle status and
 * unlocking, and re-sealing secrets under a new key. Every change to a user's factors needs a
 * fresh second factor (a step-up token) or a named administrator.
 * @module
 */
import { aid, aint, aoptions, kind } from '../_assert.js';
import { hex } from '../_encoding.js';
import { checkGate } from '../_throttle.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';
import { generateRecoveryCodes } from '../recovery/codes.js';
import { hashRecoveryCodeSetAsync } from '../recovery/set.js';
import { randomBytes } from '../secret.js';
import type { FactorRecord } from '../store/types.js';
import { ascope } from '../verifier/_shared.js';
import { atoken, auser, tokenHash, type Context } from './_context.js';
import { alabel } from './label.js';
import { revokeTrustedDevices } from './devices.js';
import { factorOf } from './enrollment.js';
import type { ChangeAuthorization, Factor, ThrottleScope, ThrottleStatus } from './types.js';

/** A change that needs a fresh second factor was asked for without one. */
export type StepUpRequired = { readonly ok: false; readonly reason: 'step-up-required' };

/** Input of the changes that need proof of a fresh second factor. */
export interface ChangeInput extends ChangeAuthorization {
  readonly userId: string;
  readonly now?: number | Date | undefined;
}

/** Input of {@link TwoFactor.removeFactor}. */
export interface RemoveFactorInput extends ChangeInput {
  readonly factorId: string;
}

/** Input of {@link TwoFactor.renameFactor}. */
export interface RenameFactorInput {
  readonly userId: string;
  readonly factorId: string;
  readonly label: string;
}

/** Options of {@link TwoFactor.listFactors}. */
export interface ListFactorsOptions {
  /** List enrollments not confirmed yet too. @defaultValue false */
  readonly includePending?: boolean | undefined;
  readonly now?: number | Date | undefined;
}

/** Status of a user's recovery codes. */
export interface RecoveryCodeStatus {
  readonly remaining: number;
  readonly total: number;
  readonly issuedAt: number;
}

/** Options of {@link TwoFactor.resealFactors}. */
export interface ResealOptions {
  /** Factors read per store call. @defaultValue 100 */
  readonly batchSize?: number | undefined;
  /** Called after each batch. */
  readonly onProgress?:
    ((progress: { readonly scanned: number; readonly resealed: number }) => void) | undefined;
}

const CHANGE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId',
  'stepUpToken',
  'administrator',
  'now',
]);
const REMOVE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId',
  'factorId',
  'stepUpToken',
  'administrator',
  'now',
]);
const RENAME_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['userId', 'factorId', 'label']);
const LIST_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['includePending', 'now']);
const RESEAL_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['batchSize', 'onProgress']);
const UNLOCK_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['administrator']);

/** An administrator's name for the audit trail: 1..256 characters. */
function aadmin(v: unknown): string {
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"administrator" expected string, got ${kind(v)}`);
  if (v.length === 0 || v.length > 256)
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"administrator" expected 1..256 characters, got ${v.length}`,
    );
  return v;
}

/** The administrator field of an event, when there is one. */
export function byAdmin(auth: ChangeAuthorization): { administrator?: string } {
  return auth.administrator === undefined ? {} : { administrator: auth.administrator };
}

/**
 * @internal Checks the proof given for a change, as misuse, before anything is read: at most one
 * of a step-up token and an administrator, each well-formed.
 */
export function aauthorization(auth: ChangeAuthorization): ChangeAuthorization {
  if (auth.administrator !== undefined && auth.stepUpToken !== undefined)
    throw rangeError(
      'ERR_OPTION_INVALID',
      'give either "stepUpToken" or "administrator", not both',
    );
  if (auth.administrator !== undefined) aadmin(auth.administrator);
  if (auth.stepUpToken !== undefined) atoken(auth.stepUpToken, 'stepUpToken');
  return auth;
}

/**
 * @internal Whether a change to `userId`'s factors is authorised (the proof checked by
 * {@link aauthorization}): a named administrator, or a step-up token of this user, consumed now
 * (single use, short-lived). A missing, used, expired or other user's token is `false`.
 */
export async function authorize(
  ctx: Context,
  userId: string,
  auth: ChangeAuthorization,
  now: number,
): Promise<boolean> {
  if (auth.administrator !== undefined) return true;
  if (auth.stepUpToken === undefined) return false;
  return ctx.state.consumeStepUp(userId, tokenHash(auth.stepUpToken), now);
}

/**
 * @internal Issues a new recovery-code set in place of the current one (compare-and-set: of
 * concurrent regenerations one wins; a loser throws `ERR_CONFLICT` and stores nothing). With
 * `onlyIfNone`, keeps an existing set and returns `undefined`.
 */
export async function issueRecoveryCodes(
  ctx: Context,
  userId: string,
  now: number,
  onlyIfNone: boolean,
  admin: { administrator?: string } = {},
): Promise<string[] | undefined> {
  const current = await ctx.state.getRecoveryCodeSet(userId);
  if (onlyIfNone && current !== null) return undefined;
  const codes = generateRecoveryCodes({ count: ctx.recoveryCount, bits: ctx.recoveryBits });
  const hashed = await hashRecoveryCodeSetAsync(codes, ctx.recoveryHash);
  const set = { setId: hex(randomBytes(16)), issuedAt: now, total: codes.length, codes: hashed };
  if (!(await ctx.state.replaceRecoveryCodes(userId, set, current?.setId ?? null))) {
    if (onlyIfNone) return undefined; // another request issued the first set meanwhile
    throw new OtpkitError(
      'ERR_CONFLICT',
      'recovery codes of this user were replaced concurrently; these codes were not stored',
    );
  }
  ctx.emit({
    type: 'recovery-codes-issued',
    userId,
    count: codes.length,
    replaced: current !== null,
    ...admin,
  });
  return codes;
}

/** @internal */
export async function listFactors(
  ctx: Context,
  userIdInput: string,
  options?: ListFactorsOptions,
): Promise<Factor[]> {
  const userId = auser(userIdInput);
  const o = aoptions<ListFactorsOptions>(options, LIST_KEYS);
  const now = ctx.time(o.now);
  const all = await ctx.factors.listFactors(userId);
  const shown = all.filter(
    (f) =>
      f.status === 'confirmed' ||
      (o.includePending === true && f.expiresAt !== null && f.expiresAt > now),
  );
  const states =
    shown.length === 0
      ? {}
      : await ctx.state.getCredentials(
          userId,
          shown.map((f) => f.id),
        );
  return shown.map((f) => factorOf(f, states[f.id]?.lastUsedAt ?? null));
}

/** @internal */
export async function renameFactor(ctx: Context, input: RenameFactorInput): Promise<boolean> {
  const i = aoptions<RenameFactorInput>(input, RENAME_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const userId = auser(i.userId);
  const factorId = aid(i.factorId, 'factorId');
  const renamed = await ctx.factors.renameFactor(userId, factorId, alabel(i.label));
  if (renamed) ctx.emit({ type: 'factor-renamed', userId, factorId });
  return renamed;
}

/**
 * @internal Removes the user's whole second factor: replay state first (codes of every factor
 * fail at once), then recovery codes, challenges and the registry. Throttle counts are kept.
 */
async function removeEverything(
  ctx: Context,
  userId: string,
  factors: readonly FactorRecord[],
): Promise<void> {
  if (factors.length > 0)
    await ctx.state.deleteCredentials(
      userId,
      factors.map((f) => f.id),
    );
  for (let tries = 0; ; tries++) {
    const set = await ctx.state.getRecoveryCodeSet(userId);
    if (set === null || (await ctx.state.replaceRecoveryCodes(userId, null, set.setId))) break;
    if (tries >= 3)
      throw new OtpkitError(
        'ERR_CONFLICT',
        'recovery codes of this user kept changing while 2FA was disabled',
      );
  }
  await ctx.state.deleteChallenges(userId);
  await revokeTrustedDevices(ctx, userId, null, 'factor-change');
  await ctx.factors.removeFactors(userId);
}

/** @internal */
export async function removeFactor(
  ctx: Context,
  input: RemoveFactorInput,
): Promise<
  | { readonly ok: true; readonly disabled: boolean }
  | StepUpRequired
  | { readonly ok: false; readonly reason: 'not-found' }
> {
  const i = aoptions<RemoveFactorInput>(input, REMOVE_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const userId = auser(i.userId);
  const factorId = aid(i.factorId, 'factorId');
  aauthorization(i);
  const now = ctx.time(i.now);
  const all = await ctx.factors.listFactors(userId);
  const f = all.find((x) => x.id === factorId);
  if (f === undefined) return { ok: false, reason: 'not-found' };
  // Cancelling an enrollment that was never confirmed changes nothing the user relies on.
  if (f.status === 'confirmed' && !(await authorize(ctx, userId, i, now)))
    return { ok: false, reason: 'step-up-required' };
  const others = all.filter((x) => x.status === 'confirmed' && x.id !== factorId);
  if (f.status === 'confirmed' && others.length === 0) {
    await removeEverything(ctx, userId, all);
    ctx.emit({ type: 'factor-removed', userId, factorId, ...byAdmin(i) });
    ctx.emit({ type: 'two-factor-disabled', userId, ...byAdmin(i) });
    return { ok: true, disabled: true };
  }
  await ctx.state.deleteCredentials(userId, [factorId]);
  if (f.status === 'confirmed') {
    // Sign-ins in flight restart (an email/SMS code already sent dies with them), and browsers
    // remembered under the old set of factors must pass the second factor again.
    await ctx.state.deleteChallenges(userId);
    await revokeTrustedDevices(ctx, userId, null, 'factor-change');
  }
  await ctx.factors.removeFactor(userId, factorId);
  if (f.status === 'confirmed')
    ctx.emit({ type: 'factor-removed', userId, factorId, ...byAdmin(i) });
  return { ok: true, disabled: false };
}

/** @internal */
export async function disableTwoFactor(
  ctx: Context,
  input: ChangeInput,
): Promise<
  { readonly ok: true } | StepUpRequired | { readonly ok: false; readonly reason: 'not-enabled' }
> {
  const i = aoptions<ChangeInput>(input, CHANGE_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const userId = auser(i.userId);
  aauthorization(i);
  const now = ctx.time(i.now);
  const all = await ctx.factors.listFactors(userId);
  if (!all.some((f) => f.status === 'confirmed')) return { ok: false, reason: 'not-enabled' };
  if (!(await authorize(ctx, userId, i, now))) return { ok: false, reason: 'step-up-required' };
  await removeEverything(ctx, userId, all);
  ctx.emit({ type: 'two-factor-disabled', userId, ...byAdmin(i) });
  return { ok: true };
}

/** @internal Everything of the user, in both stores: nothing is left to find. */
export async function eraseUser(ctx: Context, userIdInput: string): Promise<void> {
  const userId = auser(userIdInput);
  await ctx.state.eraseUser(userId);
  await ctx.factors.removeFactors(userId);
  ctx.emit({ type: 'user-erased', userId });
}

/** @internal */
export async function recoveryCodeStatus(
  ctx: Context,
  userIdInput: string,
): Promise<RecoveryCodeStatus | null> {
  const set = await ctx.state.getRecoveryCodeSet(auser(userIdInput));
  return set === null
    ? null
    : { remaining: set.codes.length, total: set.total, issuedAt: set.issuedAt };
}

/** @internal */
export async function regenerateRecoveryCodes(
  ctx: Context,
  input: ChangeInput,
): Promise<
  | { readonly ok: true; readonly codes: readonly string[] }
  | StepUpRequired
  | { readonly ok: false; readonly reason: 'not-enabled' }
> {
  const i = aoptions<ChangeInput>(input, CHANGE_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const userId = auser(i.userId);
  aauthorization(i);
  const now = ctx.time(i.now);
  if (!(await ctx.factors.listFactors(userId)).some((f) => f.status === 'confirmed'))
    return { ok: false, reason: 'not-enabled' };
  if (!(await authorize(ctx, userId, i, now))) return { ok: false, reason: 'step-up-required' };
  const codes = (await issueRecoveryCodes(ctx, userId, now, false, byAdmin(i))) as string[];
  await revokeTrustedDevices(ctx, userId, null, 'factor-change');
  return { ok: true, codes };
}

/** @internal */
export async function throttleStatus(
  ctx: Context,
  userIdInput: string,
  scope?: ThrottleScope,
  options?: { readonly now?: number | Date | undefined },
): Promise<ThrottleStatus> {
  const userId = auser(userIdInput);
  const sc = ascope(scope);
  const now = ctx.time(aoptions<{ now?: number | Date }>(options, LIST_KEYS).now);
  const t = await ctx.state.getThrottle(userId, sc);
  const gate = checkGate(ctx.policy, t.failures, t.lastFailureAt, now);
  return {
    failures: t.failures,
    locked: !gate.open && gate.reason === 'locked',
    retryAfterMs: !gate.open && gate.reason === 'throttled' ? gate.retryAfterMs : 0,
  };
}

/** @internal Lifts a lock (an administrator or support action, audited). */
export async function unlock(
  ctx: Context,
  userIdInput: string,
  scope?: ThrottleScope,
  options?: { readonly administrator?: string | undefined },
): Promise<void> {
  const userId = auser(userIdInput);
  const sc = ascope(scope);
  const o = aoptions<{ administrator?: string }>(options, UNLOCK_KEYS);
  if (o.administrator !== undefined) aadmin(o.administrator);
  // No scope: every bucket of the user, the shared ones and those of known devices.
  await ctx.state.resetThrottle(userId, scope === undefined ? null : sc);
  ctx.emit({
    type: 'unlocked',
    userId,
    scope: sc,
    ...(o.administrator === undefined ? {} : { administrator: o.administrator }),
  });
}

/**
 * @internal The app reports a password change (or reset): every remembered browser must pass the
 * second factor again, and sign-ins started with the old password are cancelled.
 */
export async function onPasswordChanged(ctx: Context, userIdInput: string): Promise<void> {
  const userId = auser(userIdInput);
  await ctx.state.deleteChallenges(userId);
  await revokeTrustedDevices(ctx, userId, null, 'password-change');
  ctx.emit({ type: 'password-changed', userId });
}

/**
 * @internal Re-seals every factor sealed under an older key with the current one, in batches,
 * reporting progress. Safe to run while users sign in: each re-seal is a compare-and-set.
 */
export async function resealFactors(
  ctx: Context,
  options?: ResealOptions,
): Promise<{ readonly scanned: number; readonly resealed: number }> {
  const o = aoptions<ResealOptions>(options, RESEAL_KEYS);
  const batchSize =
    o.batchSize === undefined
      ? 100
      : aint(o.batchSize, 'batchSize', 1, 10_000, 'ERR_OPTION_INVALID');
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
    throw typeError(
      'ERR_OPTION_TYPE',
      `"onProgress" expected a function, got ${kind(o.onProgress)}`,
    );
  let after: { userId: string; id: string } | null = null;
  let scanned = 0;
  let resealed = 0;
  for (;;) {
    const page = await ctx.factors.scanFactors(after, batchSize);
    if (page.length === 0) break;
    for (const f of page) {
      scanned++;
      if (!ctx.needsReseal(f.sealedSecret)) continue;
      const secret = await ctx.open(f.sealedSecret, f.userId, f.id);
      if (
        await ctx.factors.resealFactor(
          f.userId,
          f.id,
          f.sealedSecret,
          await ctx.seal(secret, f.userId, f.id),
        )
      ) {
        resealed++;
        ctx.emit({ type: 'factor-resealed', userId: f.userId, factorId: f.id });
      }
    }
    const last = page[page.length - 1] as FactorRecord;
    after = { userId: last.userId, id: last.id };
    o.onProgress?.({ scanned, resealed });
  }
  return { scanned, resealed };
}
