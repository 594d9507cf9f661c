/**
 * Codes sent out of band, by email or SMS, through the app's `deliver` hook: 6–8 digits from the
 * CSPRNG without bias, only a hash stored, single use, short-lived, one live code per challenge,
 * and every send throttled: a cooldown and an hourly quota per user, per destination and for
 * the whole app (SMS pumping costs real money). NIST SP 800-63B-4 §3.1.3.3 restricts SMS as an
 * authenticator: prefer TOTP; offer these as a fallback.
 * @module
 */
import { aid, aoptions, kind } from '../_assert.js';
import { sha256Hex } from '../_digest.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';
import { randomBytes } from '../secret.js';
import type { FactorRecord, SendBucket, SendRule } from '../store/types.js';
import {
  atoken,
  auser,
  challengeOwner,
  MAX_CHALLENGE_ID,
  tokenHash,
  type Context,
} from './_context.js';

/** The channels of out-of-band codes. */
export type OobChannel = 'email' | 'sms';

/** What the app's `deliver` hook receives. It must send `code` to `destination` and resolve, or throw. */
export interface Delivery {
  readonly userId: string;
  readonly channel: OobChannel;
  /** The email address or phone number (E.164), opened from its sealed form for this send only. */
  readonly destination: string;
  /** The code to send: never log it. */
  readonly code: string;
  readonly expiresAt: number;
  /** `verify` for enrolling the destination, `sign-in` for a challenge. */
  readonly purpose: 'verify' | 'sign-in';
  /**
   * Aborted when otpkit stops waiting (`delivery.timeoutMs`), its reason the `ERR_DELIVERY` error
   * the call throws: pass it to `fetch` or your provider's client so that a send nobody waits
   * for any more stops too (the code it carries is already cleared).
   */
  readonly signal: AbortSignal;
}

/** Input of {@link TwoFactor.sendCode}. */
export interface SendCodeInput {
  readonly challengeId: string;
  /** The user the pending session belongs to. */
  readonly userId: string;
  /** The email or SMS factor to send to. */
  readonly factorId: string;
  readonly now?: number | Date | undefined;
}

/** Result of {@link TwoFactor.sendCode}. */
export type SendCodeResult =
  | {
      readonly ok: true;
      readonly factorId: string;
      readonly hint: string;
      readonly expiresAt: number;
    }
  /** A cooldown or quota refused the send: nothing was sent. */
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterMs: number }
  /** The challenge is unknown, expired, used or another user's. */
  | { readonly ok: false; readonly reason: 'expired' }
  /** The user has no such confirmed email/SMS factor. */
  | { readonly ok: false; readonly reason: 'not-found' };

const SEND_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'challengeId',
  'userId',
  'factorId',
  'now',
]);
const EMAIL =
  /^[^\s@\u0000-\u001f\u007f]{1,64}@[^\s@\u0000-\u001f\u007f]{1,190}\.[^\s@\u0000-\u001f\u007f.]{1,63}$/u;
const E164 = /^\+[1-9][0-9]{7,14}$/;

/** Prefix of a sealed destination: tells it apart from a shared secret, and keeps it 16 bytes or more. */
const DESTINATION_PREFIX = 'otpkit:dst:';

/** @internal The bytes sealed for a destination. */
export function sealableDestination(destination: string): Uint8Array {
  return new TextEncoder().encode(`${DESTINATION_PREFIX}${destination}`);
}

/** @internal The destination of opened sealed bytes; anything else is corrupt storage. */
function destinationOf(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = '';
  }
  if (!text.startsWith(DESTINATION_PREFIX))
    throw new OtpkitError(
      'ERR_STORE_CORRUPT',
      'a stored email/SMS factor does not hold a destination',
    );
  return text.slice(DESTINATION_PREFIX.length);
}

/** @internal A destination, checked for its channel (an address for email, E.164 for SMS). */
export function adestination(channel: OobChannel, v: unknown): string {
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"destination" expected string, got ${kind(v)}`);
  if (destinationProblem(channel, v) !== undefined)
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"destination" expected ${channel === 'email' ? 'an email address' : 'a phone number in E.164 form (+15551234567)'}`,
    );
  return v;
}

/**
 * Tells whether `beginEnrollment` would refuse an email address or phone number, without
 * throwing: check form input with it before a step-up code is spent on a typo. Email addresses:
 * one `@`, a dot in the domain, no space or control character, at most 240 characters. Phone
 * numbers: E.164 (`+`, a country code, 8 to 15 digits in all), with no spaces or dashes: strip
 * them first.
 *
 * @param channel - `'email'` or `'sms'`.
 * @param destination - the address or number as it would be passed on.
 * @returns `undefined` if accepted, else `'malformed'`.
 * @throws TypeError `ERR_OPTION_TYPE` if `destination` is not a string; RangeError if `channel` is
 *   neither `'email'` nor `'sms'`.
 * @example
 * ```ts
 * destinationProblem('sms', '+15551234567'); // undefined
 * destinationProblem('sms', '555 123 4567'); // 'malformed'
 * ```
 */
export function destinationProblem(
  channel: OobChannel,
  destination: string,
): 'malformed' | undefined {
  if (channel !== 'email' && channel !== 'sms')
    throw rangeError('ERR_OPTION_INVALID', '"channel" expected email or sms');
  if (typeof destination !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"destination" expected string, got ${kind(destination)}`);
  const ok =
    channel === 'email'
      ? EMAIL.test(destination) && destination.length <= 240
      : E164.test(destination);
  return ok ? undefined : 'malformed';
}

/** @internal What the user may see of a destination: `a•••@example.com`, `•••• 4567`. */
export function hintOf(channel: OobChannel, destination: string): string {
  if (channel === 'sms') return `•••• ${destination.slice(-4)}`;
  const at = destination.lastIndexOf('@');
  return `${destination.slice(0, 1)}•••${destination.slice(at)}`;
}

/** @internal A uniformly random code of `digits` decimal digits (rejection sampling: no modulo bias). */
export function randomCode(digits: number): string {
  const mod = 10 ** digits;
  // The largest multiple of 10^digits below 2^32: values above it would favour low codes.
  const limit = Math.floor(0x1_0000_0000 / mod) * mod;
  for (;;) {
    const b = randomBytes(4);
    const v =
      ((b[0] as number) * 0x100_0000 +
        (b[1] as number) * 0x1_0000 +
        (b[2] as number) * 0x100 +
        (b[3] as number)) >>>
      0;
    if (v < limit) return String(v % mod).padStart(digits, '0');
  }
}

/** @internal The stored form of an out-of-band code: bound to its challenge, so a hash is useless elsewhere. */
export function oobHash(challengeHash: string, code: string): string {
  return sha256Hex(`otpkit:oob:${challengeHash}:${code}`);
}

/** @internal Compares two hex hashes of equal length without an early exit. */
export function sameHash(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The hash of a destination, for its quota bucket: the same address on every account shares one. */
function destinationHash(channel: OobChannel, destination: string): string {
  return sha256Hex(`otpkit:destination:${channel}:${destination.toLowerCase()}`);
}

/**
 * @internal Reserves one send in every bucket (app, destination, user: the user's has the
 * cooldown), or none: a bucket that refuses gives back what the earlier ones counted.
 */
async function reserve(
  ctx: Context,
  userId: string,
  channel: OobChannel,
  destination: string,
  now: number,
): Promise<number | null> {
  const q = ctx.quotas;
  const buckets: [SendBucket, SendRule][] = [
    [{ kind: 'app' }, { limit: q.perAppPerHour, windowMs: 3_600_000, cooldownMs: 0 }],
    [
      { kind: 'destination', hash: destinationHash(channel, destination) },
      { limit: q.perDestinationPerHour, windowMs: 3_600_000, cooldownMs: 0 },
    ],
    [
      { kind: 'user', userId },
      { limit: q.perUserPerHour, windowMs: 3_600_000, cooldownMs: q.cooldownMs },
    ],
  ];
  for (let k = 0; k < buckets.length; k++) {
    const [bucket, rule] = buckets[k] as [SendBucket, SendRule];
    const r = await ctx.state.reserveSend(bucket, rule, now);
    if (!r.ok) {
      for (const [b, rr] of buckets.slice(0, k)) await ctx.state.releaseSend(b, rr, now);
      return r.retryAfterMs;
    }
  }
  return null;
}

/**
 * @internal Sends a fresh code for a live challenge to one of the user's email/SMS factors (or,
 * for an enrollment, to the destination being verified). The code is set on the challenge
 * before it is handed to `deliver`; if `deliver` throws or times out, the code is cleared again
 * (no live code is left behind) and `ERR_DELIVERY` is thrown.
 */
export async function sendTo(
  ctx: Context,
  userId: string,
  challengeHash: string,
  factor: Pick<FactorRecord, 'id' | 'type' | 'sealedSecret' | 'hint'>,
  now: number,
  purpose: Delivery['purpose'],
): Promise<SendCodeResult> {
  const deliver = ctx.deliver;
  if (deliver === undefined)
    throw new OtpkitError(
      'ERR_DELIVERY',
      'no "delivery.deliver" hook was given to createTwoFactor',
    );
  const channel = factor.type as OobChannel;
  const destination = destinationOf(await ctx.open(factor.sealedSecret, userId, factor.id));
  const wait = await reserve(ctx, userId, channel, destination, now);
  if (wait !== null) {
    ctx.emit({ type: 'send-refused', userId, factorId: factor.id, retryAfterMs: wait });
    return { ok: false, reason: 'throttled', retryAfterMs: wait };
  }
  const code = randomCode(ctx.oobDigits);
  const expiresAt = now + ctx.oobTtlMs;
  const codeHash = oobHash(challengeHash, code);
  if (
    !(await ctx.state.setChallengeCode(
      userId,
      challengeHash,
      { factorId: factor.id, codeHash, expiresAt },
      now,
    ))
  )
    return { ok: false, reason: 'expired' };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const abort = new AbortController();
  const signal = abort.signal;
  try {
    await Promise.race([
      Promise.resolve().then(() =>
        deliver(Object.freeze({ userId, channel, destination, code, expiresAt, purpose, signal })),
      ),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const late = new OtpkitError(
            'ERR_DELIVERY',
            `delivery.deliver did not finish within ${ctx.deliverTimeoutMs} ms for ${channel}`,
          );
          reject(late);
          abort.abort(late);
        }, ctx.deliverTimeoutMs);
      }),
    ]);
  } catch (e) {
    // No live code is left behind: it was never seen by the user. The quota stays counted, since
    // the provider may have sent it anyway (and a failing hook must not become a free retry loop).
    await ctx.state.setChallengeCode(userId, challengeHash, null, now, codeHash);
    throw e instanceof OtpkitError && e.code === 'ERR_DELIVERY'
      ? e
      : new OtpkitError('ERR_DELIVERY', `delivery.deliver failed for ${channel}`, { cause: e });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  ctx.emit({ type: 'code-sent', userId, factorId: factor.id, channel, purpose });
  return { ok: true, factorId: factor.id, hint: factor.hint ?? '', expiresAt };
}

/** @internal */
export async function sendCode(ctx: Context, input: SendCodeInput): Promise<SendCodeResult> {
  const i = aoptions<SendCodeInput>(input, SEND_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const challengeId = atoken(i.challengeId, 'challengeId', MAX_CHALLENGE_ID);
  const userId = auser(i.userId);
  const factorId = aid(i.factorId, 'factorId');
  const now = ctx.time(i.now);
  if (challengeOwner(challengeId) !== userId) return { ok: false, reason: 'expired' };
  const f = (await ctx.factors.listFactors(userId)).find(
    (x) => x.id === factorId && x.status === 'confirmed',
  );
  if (f === undefined || (f.type !== 'email' && f.type !== 'sms'))
    return { ok: false, reason: 'not-found' };
  return sendTo(ctx, userId, tokenHash(challengeId), f, now, 'sign-in');
}
