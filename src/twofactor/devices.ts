/**
 * Devices a user signs in from, each known by an opaque token in an HttpOnly cookie (only its
 * hash is stored; every use rotates it, and a rotated-away token that comes back is a replay):
 *
 * - **trusted** ("remember this device"): after a fresh second factor, the user may skip it on
 *   this browser until the token expires or is revoked. Every trusted device is revoked when a
 *   factor is removed, 2FA is disabled, recovery codes are regenerated or the password changes.
 * - **known**: a browser that completed a sign-in before. Its attempts are throttled in a bucket
 *   of its own, so an attacker guessing from unknown devices exhausts only the shared bucket and
 *   cannot lock the real user out (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").
 * @module
 */
import { aid, aint, aoptions } from '../_assert.js';
import { typeError } from '../errors.js';
import type { DeviceRecord, DeviceRotation } from '../store/types.js';
import { aauthorization, authorize } from './lifecycle.js';
import { atoken, auser, newToken, tokenHash, type Context } from './_context.js';
import { alabel } from './label.js';
import type { ChangeAuthorization } from './types.js';

/** A trusted device as listed: never its token. */
export interface TrustedDevice {
  readonly id: string;
  readonly label: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly expiresAt: number;
}

/** Input of {@link TwoFactor.trustDevice}. */
export interface TrustDeviceInput extends ChangeAuthorization {
  readonly userId: string;
  /** Shown in the list of trusted devices, e.g. "Firefox on Linux". @defaultValue 'This device' */
  readonly label?: string | undefined;
  /** How long the device is trusted, 1 hour..400 days. @defaultValue the `devices.trustedTtlMs` option (30 days) */
  readonly ttlMs?: number | undefined;
  readonly now?: number | Date | undefined;
}

/** Result of {@link TwoFactor.trustDevice}. */
export type TrustDeviceResult =
  | {
      readonly ok: true;
      /** Set it in an HttpOnly, Secure, SameSite cookie; present it to `startChallenge`. */
      readonly token: string;
      readonly deviceId: string;
      readonly expiresAt: number;
    }
  | { readonly ok: false; readonly reason: 'step-up-required' };

const TRUST_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'userId',
  'label',
  'ttlMs',
  'stepUpToken',
  'administrator',
  'now',
]);
const HOUR_MS = 3_600_000;

/** @internal */
export async function trustDevice(
  ctx: Context,
  input: TrustDeviceInput,
): Promise<TrustDeviceResult> {
  const i = aoptions<TrustDeviceInput>(input, TRUST_KEYS, 'input');
  if (input === undefined) throw typeError('ERR_OPTION_TYPE', '"input" is required');
  const userId = auser(i.userId);
  const label = i.label === undefined ? 'This device' : alabel(i.label);
  const ttlMs =
    i.ttlMs === undefined
      ? ctx.trustedTtlMs
      : aint(i.ttlMs, 'ttlMs', HOUR_MS, 400 * 24 * HOUR_MS, 'ERR_OPTION_INVALID');
  aauthorization(i);
  const now = ctx.time(i.now);
  // Trusting a browser skips the second factor later: it needs proof of a fresh one now.
  if (!(await authorize(ctx, userId, i, now))) return { ok: false, reason: 'step-up-required' };
  const token = newToken();
  const device: DeviceRecord = {
    userId,
    id: newToken(),
    kind: 'trusted',
    tokenHash: tokenHash(token),
    previousHash: null,
    label,
    createdAt: now,
    lastUsedAt: null,
    expiresAt: now + ttlMs,
  };
  await ctx.state.createDevice(device, ctx.maxTrustedDevices);
  ctx.emit({
    type: 'device-trusted',
    userId,
    deviceId: device.id,
    ...(i.administrator === undefined ? {} : { administrator: i.administrator }),
  });
  return { ok: true, token, deviceId: device.id, expiresAt: device.expiresAt };
}

/** @internal */
export async function listTrustedDevices(
  ctx: Context,
  userIdInput: string,
  options?: { readonly now?: number | Date | undefined },
): Promise<TrustedDevice[]> {
  const userId = auser(userIdInput);
  const now = ctx.time(aoptions<{ now?: number | Date }>(options, NOW_KEYS).now);
  const devices = await ctx.state.listDevices(userId, 'trusted', now);
  return devices.map((d) =>
    Object.freeze({
      id: d.id,
      label: d.label,
      createdAt: d.createdAt,
      lastUsedAt: d.lastUsedAt,
      expiresAt: d.expiresAt,
    }),
  );
}
const NOW_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['now']);

/** @internal Revokes one trusted device (`deviceId`) or all of them; resolves how many. */
export async function revokeTrustedDevices(
  ctx: Context,
  userIdInput: string,
  deviceId: string | null,
  why: 'user' | 'factor-change' | 'password-change',
): Promise<number> {
  const userId = auser(userIdInput);
  const id = deviceId === null ? null : aid(deviceId, 'deviceId');
  const n = await ctx.state.revokeDevices(userId, 'trusted', id);
  if (n > 0) ctx.emit({ type: 'device-revoked', userId, deviceId: id, count: n, reason: why });
  return n;
}

/** @internal A device token presented by a browser, ready to be rotated: its hash and its replacement. */
export interface DeviceUse {
  readonly tokenHash: string;
  readonly newHash: string;
  readonly next: string;
}

/**
 * @internal The rotation of a device token a browser presented, or `null` without one. A
 * malformed token is none: it comes from a cookie, not from the programmer.
 */
export function deviceUse(kind: 'trusted' | 'known', token: unknown): DeviceUse | null {
  if (token === undefined) return null;
  let given: string;
  try {
    given = atoken(token, kind === 'trusted' ? 'trustedDeviceToken' : 'knownDeviceToken');
  } catch {
    return null;
  }
  const next = newToken();
  return { tokenHash: tokenHash(given), newHash: tokenHash(next), next };
}

/**
 * @internal What a store's rotation of `use` means: rotated, the device and its new token; a
 * rotated-away token is a replay (reported); anything else is unknown (`null`).
 */
export function deviceUsed(
  ctx: Context,
  userId: string,
  kind: 'trusted' | 'known',
  use: DeviceUse,
  r: DeviceRotation,
): { readonly device: DeviceRecord; readonly token: string } | null {
  if (r.status === 'rotated') return { device: r.device, token: use.next };
  if (r.status === 'replayed')
    ctx.emit({ type: 'device-replayed', userId, deviceId: r.deviceId, kind });
  return null;
}

/**
 * @internal Presents a trusted-device token at the start of a sign-in: valid and live, it is
 * rotated and the new token returned; a rotated-away token is a replay (reported); anything else
 * is unknown.
 */
export async function useTrustedDevice(
  ctx: Context,
  userId: string,
  token: unknown,
  now: number,
): Promise<{ readonly device: DeviceRecord; readonly token: string } | null> {
  const use = deviceUse('trusted', token);
  if (use === null) return null;
  // A trusted device keeps its expiry.
  const r = await ctx.state.rotateDevice(userId, 'trusted', use.tokenHash, use.newHash, now, null);
  return deviceUsed(ctx, userId, 'trusted', use, r);
}

/**
 * @internal A known-device token for a browser that signed in without one, and the device to
 * store with the success (`settleAttempt`'s `device`).
 */
export function newKnownDevice(
  ctx: Context,
  userId: string,
  now: number,
): {
  readonly token: string;
  readonly device: { readonly record: DeviceRecord; readonly maxPerUser: number };
} {
  const token = newToken();
  return {
    token,
    device: {
      record: {
        userId,
        id: newToken(),
        kind: 'known',
        tokenHash: tokenHash(token),
        previousHash: null,
        label: '',
        createdAt: now,
        lastUsedAt: now,
        expiresAt: now + ctx.knownTtlMs,
      },
      maxPerUser: ctx.maxKnownDevices,
    },
  };
}
