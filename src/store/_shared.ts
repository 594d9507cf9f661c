/**
 * What every storage adapter shares: one way to report corrupt data and failures (names, never
 * contents), and the checks of the values an adapter writes. The layers above validate every
 * argument already; adapters check again what they are about to store, so that a caller bug can
 * never write a value that reads back as corrupt.
 * @module
 * @internal
 */
import { aid, aint, aoptions, atime, kind } from '../_assert.js';
import type { PurgeExpiredOptions, PurgeExpiredResult } from './types.js';
import { MAX_COUNTER } from '../_bytes.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';

/** @internal The largest |drift| a store keeps, in steps. */
export const MAX_DRIFT = 10;
/** @internal The largest opaque payload of a challenge, in UTF-16 code units. */
export const MAX_PAYLOAD = 16_384;

/**
 * @internal A corrupt stored value. The message names the field, never its content: stored hashes,
 * counters and sealed secrets stay out of logs.
 */
export function corrupt(adapter: string, what: string): OtpkitError {
  return new OtpkitError('ERR_STORE_CORRUPT', `${adapter} store: stored ${what} is malformed`);
}

/**
 * @internal A failure of the storage client, as `OtpkitError` `ERR_STORE` (or `ERR_STORE_TIMEOUT`).
 * The cause is a copy holding only the client error's name, message and code: clients attach the
 * command and its arguments (hashes, sealed secrets) to their errors, and some servers print the
 * failing row.
 */
export function storeFailure(
  adapter: string,
  op: string,
  e: unknown,
  timeout = false,
): OtpkitError {
  if (e instanceof OtpkitError) return e;
  const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
  const cause = new Error(message);
  if (e instanceof Error) cause.name = e.name;
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  if (typeof code === 'string') Object.assign(cause, { code });
  return new OtpkitError(
    timeout ? 'ERR_STORE_TIMEOUT' : 'ERR_STORE',
    `${adapter} store: ${op} failed`,
    { cause },
  );
}

/** @internal An id an adapter stores (the one rule of `_assert.aid`). */
export function sid(v: unknown, title: string): string {
  return aid(v, title);
}

/** @internal A non-negative safe integer an adapter stores (a time, a step, a count). */
export function suint(v: unknown, title: string, max: number = Number.MAX_SAFE_INTEGER): number {
  return aint(v, title, 0, max, 'ERR_OPTION_INVALID');
}

/** @internal A signed drift an adapter stores, −10..10. */
export function sdrift(v: unknown): number {
  return aint(v, 'drift', -MAX_DRIFT, MAX_DRIFT, 'ERR_OPTION_WINDOW');
}

/** @internal An HOTP counter an adapter stores: a bigint in 0..2^64 − 1. */
export function scounter(v: unknown, title: string): bigint {
  if (typeof v !== 'bigint')
    throw typeError('ERR_COUNTER_TYPE', `"${title}" expected bigint, got ${kind(v)}`);
  if (v < 0n || v > MAX_COUNTER)
    throw rangeError('ERR_COUNTER_RANGE', `"${title}" expected 0..2^64-1, got ${v}`);
  return v;
}

/** @internal A string an adapter stores verbatim, of bounded length (payloads, hashes, sealed secrets). */
export function stext(v: unknown, title: string, max: number): string {
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(v)}`);
  if (v.length > max)
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"${title}" expected at most ${max} characters, got ${v.length}`,
    );
  return v;
}

/** @internal Canonical non-negative decimal text, as adapters write numbers; anything else read back is corrupt. */
export const DECIMAL: RegExp = /^(?:0|[1-9][0-9]*)$/;
/** @internal Canonical signed decimal text. */
export const SIGNED_DECIMAL: RegExp = /^(?:0|-?[1-9][0-9]*)$/;

/** @internal Reads a stored non-negative safe integer written as canonical decimal text, or throws `corrupt`. */
export function readUint(
  adapter: string,
  v: unknown,
  what: string,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max) return v;
  if (typeof v !== 'string' || v.length > 16 || !DECIMAL.test(v)) throw corrupt(adapter, what);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n > max) throw corrupt(adapter, what);
  return n;
}

/** @internal Reads a stored signed integer in `min..max` written as canonical decimal text. */
export function readInt(
  adapter: string,
  v: unknown,
  what: string,
  min: number,
  max: number,
): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max) return v;
  if (typeof v !== 'string' || v.length > 17 || !SIGNED_DECIMAL.test(v))
    throw corrupt(adapter, what);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw corrupt(adapter, what);
  return n;
}

/** @internal Reads a stored HOTP counter (decimal text, 0..2^64 − 1). */
export function readCounter(adapter: string, v: unknown, what: string): bigint {
  if (typeof v !== 'string' || v.length > 20 || !DECIMAL.test(v)) throw corrupt(adapter, what);
  const n = BigInt(v);
  if (n > MAX_COUNTER) throw corrupt(adapter, what);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Limits and argument checks the shared adapters (Redis, PostgreSQL, SQLite, D1) have in common

/** @internal Challenge ids per user a call may name. */
export const MAX_CHALLENGE_IDS = 20;
/** @internal Longest sealed secret a store keeps (the flow checks what `keys.seal` returns against it). */
export const MAX_SEALED = 4096;
/** @internal Longest stored hash string. */
export const MAX_HASH = 4096;
/** @internal Longest factor label. */
export const MAX_LABEL = 64;
/** @internal Longest destination hint (a masked email address or phone number). */
export const MAX_HINT = 128;
/** @internal The latest instant a `Date` can represent: the bound of every time a window is computed from. */
export const MAX_TIME = 8.64e15;
/** @internal A SHA-256 digest as the stores keep it. */
export const HEX64: RegExp = /^[0-9a-f]{64}$/;
/** @internal A recovery-code set id. */
export const SET_ID: RegExp = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * @internal What no store can keep faithfully: NUL (PostgreSQL text refuses it, SQLite's text
 * functions stop at it) and lone surrogates (UTF-8 turns them into U+FFFD, merging distinct strings).
 */
export const UNSTORABLE: RegExp =
  /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** @internal */
export const FACTOR_TYPES: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'totp',
  'hotp',
  'email',
  'sms',
]);
/** @internal */
export const OOB_TYPES: ReadonlySet<string> = /* @__PURE__ */ new Set(['email', 'sms']);
/** @internal */
export const DEVICE_KINDS: ReadonlySet<string> = /* @__PURE__ */ new Set(['trusted', 'known']);
/** @internal */
export const CLAIM_KINDS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'totp',
  'hotp',
  'recovery',
  'oob',
]);
/** @internal */
export const FACTOR_STATUS: ReadonlySet<string> = /* @__PURE__ */ new Set(['pending', 'confirmed']);

/** @internal A long text stored verbatim: no NUL, no lone surrogate. */
export function sstorable(v: unknown, title: string, max: number): string {
  const s = stext(v, title, max);
  if (UNSTORABLE.test(s))
    throw rangeError('ERR_OPTION_INVALID', `"${title}" contains NUL or a lone surrogate`);
  return s;
}

/** @internal A list of at most `max` ids. */
export function aids(v: unknown, title: string, max: number): string[] {
  if (!Array.isArray(v))
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected an array, got ${kind(v)}`);
  if (v.length > max)
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"${title}" expected at most ${max} ids, got ${v.length}`,
    );
  return v.map((id: unknown) => sid(id, `${title}[]`));
}

/** @internal An object whose fields the caller checks one by one. */
export function arecord(v: unknown, title: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null)
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected an object, got ${kind(v)}`);
  return v as Record<string, unknown>;
}

/** @internal A recovery-code set id. */
export function asetId(v: unknown, title: string): string {
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(v)}`);
  if (!SET_ID.test(v))
    throw rangeError('ERR_OPTION_INVALID', `"${title}" expected 1..64 characters of [A-Za-z0-9_-]`);
  return v;
}

/** @internal One of the strings of `allowed`. */
export function aoneOf<T extends string>(
  v: unknown,
  title: string,
  allowed: ReadonlySet<string>,
): T {
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(v)}`);
  if (!allowed.has(v))
    throw rangeError('ERR_OPTION_INVALID', `"${title}" expected one of ${[...allowed].join(', ')}`);
  return v as T;
}

/** @internal A time in ms, or null. */
export const optTime = (v: unknown, title: string): number | null =>
  v === null ? null : suint(v, title);

/** @internal A SHA-256 hex digest the store keeps (token and code hashes that readers check as such). */
export function ahash(v: unknown, title: string): string {
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(v)}`);
  if (!HEX64.test(v))
    throw rangeError('ERR_OPTION_INVALID', `"${title}" expected 64 lower-case hex digits`);
  return v;
}

/** A device and its per-user limit, checked, named as the SQL stores' statements name them. */
export type DeviceRow = {
  readonly user: string;
  readonly id: string;
  readonly kind: string;
  readonly token: string;
  readonly previous: string | null;
  readonly label: string;
  readonly created: number;
  readonly lastUsed: number | null;
  readonly expires: number;
  readonly max: number;
};

/** Checks a device record and its per-user limit (`title`, `maxTitle`: how errors name them). */
export function adeviceRow(
  record: unknown,
  maxPerUser: unknown,
  title = 'record',
  maxTitle = 'maxPerUser',
): DeviceRow {
  const d = arecord(record, title);
  return {
    user: sid(d.userId, `${title}.userId`),
    id: sid(d.id, `${title}.id`),
    kind: aoneOf(d.kind, `${title}.kind`, DEVICE_KINDS),
    token: ahash(d.tokenHash, `${title}.tokenHash`),
    previous: d.previousHash === null ? null : ahash(d.previousHash, `${title}.previousHash`),
    label: sstorable(d.label, `${title}.label`, MAX_LABEL),
    created: suint(d.createdAt, `${title}.createdAt`),
    lastUsed: optTime(d.lastUsedAt, `${title}.lastUsedAt`),
    expires: suint(d.expiresAt, `${title}.expiresAt`),
    max: suint(maxPerUser, maxTitle, 2 ** 31 - 1),
  };
}

/** The device a `settleAttempt` stores with a success (`settle.device`), checked: a device of `userId`, or `null` without one. */
export function asettleDevice(v: unknown, userId: string): DeviceRow | null {
  if (v === undefined) return null;
  const t = arecord(v, 'device');
  const d = adeviceRow(t.record, t.maxPerUser, 'device.record', 'device.maxPerUser');
  if (d.user !== userId)
    throw rangeError('ERR_OPTION_INVALID', '"device.record.userId" is not "userId"');
  return d;
}

/**
 * The known-device token of a `createChallenge`, checked: `[tokenHash, newHash, expiresAt]`, or
 * three nulls without one.
 */
export function adeviceUse(v: unknown): [string, string, number] | [null, null, null] {
  if (v === undefined || v === null) return [null, null, null];
  const d = arecord(v, 'device');
  return [
    ahash(d.tokenHash, 'device.tokenHash'),
    ahash(d.newHash, 'device.newHash'),
    suint(d.expiresAt, 'device.expiresAt'),
  ];
}

/**
 * @internal How long after its expiry a record is left alone when expired ones are cleared
 * (`purgeExpired`, the memory store's step-up tokens): app servers' clocks differ.
 */
export const PURGE_GRACE_MS = 300_000;
const PURGE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'now',
  'sendQuotaMaxAgeMs',
  'batchSize',
]);

/** @internal The validated options of `purgeExpired`: the cut-offs and the batch size. */
export interface PurgePlan {
  /** Rows that expired at or before this time are removed. */
  readonly expiredBy: number;
  /** Send quotas last used at or before this time are removed. */
  readonly quotasBy: number;
  readonly batch: number;
}

/** @internal Checks `purgeExpired`'s options (misuse throws before anything is removed). */
export function apurge(options: unknown): PurgePlan {
  const o = aoptions<PurgeExpiredOptions>(options, PURGE_KEYS);
  const now = atime(o.now === undefined ? Date.now() : o.now);
  const age =
    o.sendQuotaMaxAgeMs === undefined
      ? 2 * 86_400_000
      : aint(o.sendQuotaMaxAgeMs, 'sendQuotaMaxAgeMs', 3_600_000, MAX_TIME, 'ERR_OPTION_INVALID');
  const batch =
    o.batchSize === undefined
      ? 10_000
      : aint(o.batchSize, 'batchSize', 1, 1_000_000, 'ERR_OPTION_INVALID');
  return { expiredBy: now - PURGE_GRACE_MS, quotasBy: now - age, batch };
}

/** @internal The result of `purgeExpired` from the rows removed of each kind. */
export function purged(
  counts: Omit<PurgeExpiredResult, 'done'>,
  batch: number,
): PurgeExpiredResult {
  return { ...counts, done: Object.values(counts).every((n) => n < batch) };
}
