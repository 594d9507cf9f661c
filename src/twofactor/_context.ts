/**
 * What every operation of the two-factor flow shares: the guarded stores, the validated
 * settings, sealing, opaque tokens, the clock and the audit hook.
 * @module
 * @internal
 */
import { sha256Hex } from '../_digest.js';
import { aid, atime, kind, MAX_ID } from '../_assert.js';
import { decodeBase64url, encodeBase64url } from '../_encoding.js';
import { isBoolean, isFactorList, storeCall } from '../_guard.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';
import { openSecret, opensNatively, sealSecret, type SealingKey } from '../envelope.js';
import { randomBytes } from '../secret.js';
import type { RecoveryHashOptions } from '../recovery/hash.js';
import type { FactorRecord, FactorStore } from '../store/types.js';
import type { GuardedState } from '../verifier/_shared.js';
import type { ThrottlePolicy } from '../_throttle.js';
import type { Delivery } from './oob.js';
import type { FactorKeys, TwoFactorEvent } from './types.js';

/** @internal The validated, defaulted settings and the stores of one `createTwoFactor`. */
export interface Context {
  readonly state: GuardedState;
  readonly factors: GuardedFactors;
  readonly issuer: string;
  readonly algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  readonly digits: number;
  readonly period: number;
  readonly past: number;
  readonly future: number;
  readonly policy: ThrottlePolicy;
  readonly maxFactors: number;
  readonly maxPending: number;
  readonly enrollmentTtlMs: number;
  readonly challengeTtlMs: number;
  readonly challengeAttempts: number;
  readonly stepUpTtlMs: number;
  readonly recoveryCount: number;
  readonly recoveryBits: number;
  readonly recoveryHash: RecoveryHashOptions | undefined;
  readonly recoveryLow: number;
  readonly timeoutMs: number;
  readonly trustedTtlMs: number;
  readonly maxTrustedDevices: number;
  readonly knownTtlMs: number;
  readonly maxKnownDevices: number;
  readonly deliver: ((d: Delivery) => unknown) | undefined;
  readonly deliverTimeoutMs: number;
  readonly oobDigits: number;
  readonly oobTtlMs: number;
  readonly quotas: {
    readonly cooldownMs: number;
    readonly perUserPerHour: number;
    readonly perDestinationPerHour: number;
    readonly perAppPerHour: number;
  };
  readonly seal: (secret: Uint8Array, userId: string, factorId: string) => Promise<string>;
  readonly open: (sealed: string, userId: string, factorId: string) => Promise<Uint8Array>;
  readonly needsReseal: (sealed: string) => boolean;
  /** The time of a call: its own `now` if given, else the clock's; both validated the same way. */
  readonly time: (override: unknown) => number;
  readonly emit: (event: TwoFactorEvent) => void;
}

/** @internal A `FactorStore` whose every call is bounded in time and whose every answer is validated. */
export type GuardedFactors = FactorStore;

/** @internal Wraps a `FactorStore` so that it fails closed, as the hot state is. */
export function guardFactors(store: FactorStore, timeoutMs: number): GuardedFactors {
  const call = <T>(
    method: string,
    run: () => Promise<T>,
    valid: (v: unknown) => boolean,
  ): Promise<T> => storeCall(method, timeoutMs, run, valid);
  const isOneOf =
    (...values: string[]) =>
    (v: unknown): boolean =>
      typeof v === 'string' && values.includes(v);
  return {
    addFactor: (r, limits, now) =>
      call('addFactor', () => store.addFactor(r, limits, now), isOneOf('added', 'limit')),
    listFactors: (u) =>
      call(
        'listFactors',
        () => store.listFactors(u),
        (v) => isFactorList(v) && (v as FactorRecord[]).every((f) => f.userId === u),
      ),
    confirmFactor: (u, id, now, max) =>
      call(
        'confirmFactor',
        () => store.confirmFactor(u, id, now, max),
        isOneOf('confirmed', 'not-found', 'expired', 'limit'),
      ),
    renameFactor: (u, id, label) =>
      call('renameFactor', () => store.renameFactor(u, id, label), isBoolean),
    removeFactor: (u, id) => call('removeFactor', () => store.removeFactor(u, id), isBoolean),
    removeFactors: (u) =>
      call(
        'removeFactors',
        () => store.removeFactors(u),
        (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0,
      ),
    resealFactor: (u, id, expected, sealed) =>
      call('resealFactor', () => store.resealFactor(u, id, expected, sealed), isBoolean),
    scanFactors: (after, limit) =>
      call(
        'scanFactors',
        () => store.scanFactors(after, limit),
        (v) => isFactorList(v) && (v as FactorRecord[]).length <= limit,
      ),
  };
}

/** CSPRNG output for tokens, drawn 4 KiB at a time: one call costs about what a 16-byte one does. */
const TOKEN_POOL = 4096;
let pool: Uint8Array | undefined;
let drawn = TOKEN_POOL;

/**
 * @internal A fresh opaque token: 128 random bits, base64url (22 characters). The bits come from
 * a buffer of CSPRNG output (one `getRandomValues` call per 256 tokens, a sign-in makes up to
 * three); each 16 bytes are handed out once and zeroed in the buffer as they are.
 */
export function newToken(): string {
  if (drawn + 16 > TOKEN_POOL) {
    pool = randomBytes(TOKEN_POOL);
    drawn = 0;
  }
  const bits = (pool as Uint8Array).subarray(drawn, (drawn += 16));
  const token = encodeBase64url(bits);
  bits.fill(0);
  return token;
}

/** @internal The only stored form of an opaque token: SHA-256, hex. */
export function tokenHash(token: string): string {
  return sha256Hex(token);
}

/**
 * @internal A fresh challenge id: a {@link newToken}, a dot, and the user's id (UTF-8, base64url).
 * The id names its user so that every store finds the challenge among that user's records in one
 * round trip, whether or not the caller says whose it is (Redis keeps a user's records under one
 * hash tag); the token is what makes it unguessable, and the hash of the whole id is what is
 * stored, so an id whose user part was changed names no challenge.
 */
export function newChallengeId(userId: string): string {
  return `${newToken()}.${encodeBase64url(new TextEncoder().encode(userId))}`;
}

/** @internal The longest challenge id: a token, a dot and the base64url of 256 UTF-16 units as UTF-8. */
export const MAX_CHALLENGE_ID: number = 22 + 1 + Math.ceil((MAX_ID * 3 * 4) / 3);
const CHALLENGE_ID = /^[A-Za-z0-9_-]{22}\.([A-Za-z0-9_-]+)$/;
const UTF8 = /* @__PURE__ */ new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * @internal The user a challenge id (already checked by {@link atoken}) names, or `null` if it is
 * not the shape {@link newChallengeId} makes: then it names no challenge, which is a result.
 */
export function challengeOwner(id: string): string | null {
  const m = CHALLENGE_ID.exec(id);
  const bytes = m === null ? null : decodeBase64url(m[1] as string);
  if (bytes === null) return null;
  try {
    // Any user id the flow accepts, by the same rule that accepted it.
    return aid(UTF8.decode(bytes), 'userId');
  } catch {
    return null;
  }
}

/**
 * @internal A token given back by a caller: a string of 1..`max` characters (the shape
 * {@link newToken} makes fits the default), else misuse.
 */
export function atoken(v: unknown, title: string, max = 256): string {
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(v)}`);
  if (v.length === 0 || v.length > max)
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"${title}" expected 1..${max} characters, got ${v.length}`,
    );
  return v;
}

/** The associated data that binds a sealed secret to its user and factor. */
function bindingOf(userId: string, factorId: string): string {
  // JSON keeps the two ids apart whatever they contain.
  return `otpkit:factor:${JSON.stringify([userId, factorId])}`;
}

/** @internal Sealing with the app's keys (rotation by key id) or the app's own envelope. */
export function sealing(keys: FactorKeys): Pick<Context, 'seal' | 'open' | 'needsReseal'> {
  if (typeof keys !== 'object' || keys === null)
    throw typeError('ERR_OPTION_TYPE', `"keys" expected an object, got ${kind(keys)}`);
  if ('seal' in keys || 'open' in keys) {
    const { seal, open, needsReseal } = keys as Extract<FactorKeys, { seal: unknown }>;
    if (typeof seal !== 'function' || typeof open !== 'function')
      throw typeError('ERR_OPTION_TYPE', '"keys" expected { seal, open } functions');
    if (needsReseal !== undefined && typeof needsReseal !== 'function')
      throw typeError('ERR_OPTION_TYPE', '"keys.needsReseal" expected a function');
    return {
      seal: async (secret, userId, factorId) => {
        const s: unknown = await seal(secret, bindingOf(userId, factorId));
        if (typeof s !== 'string' || s.length === 0 || s.length > 4096)
          throw new OtpkitError(
            'ERR_SECRET_SEALED',
            'keys.seal returned something that is not a string of 1..4096 characters',
          );
        return s;
      },
      open: async (sealed, userId, factorId) => {
        const b: unknown = await open(sealed, bindingOf(userId, factorId));
        if (!(b instanceof Uint8Array))
          throw new OtpkitError(
            'ERR_SECRET_SEALED',
            'keys.open returned something that is not a Uint8Array',
          );
        return b;
      },
      needsReseal: (sealed) => (needsReseal === undefined ? false : needsReseal(sealed) === true),
    };
  }
  const { current, keys: all } = keys as Extract<FactorKeys, { current: unknown }>;
  if (typeof current !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"keys.current" expected string, got ${kind(current)}`);
  if (typeof all !== 'object' || all === null)
    throw typeError('ERR_OPTION_TYPE', `"keys.keys" expected an object, got ${kind(all)}`);
  if (!Object.prototype.hasOwnProperty.call(all, current))
    throw rangeError('ERR_OPTION_INVALID', '"keys.current" names no key of "keys.keys"');
  const prefix = `otpkit-sealed:v1:${current}:`;
  const imported = importedOnce(all as Record<string, SealingKey>);
  return {
    seal: async (secret, userId, factorId) => {
      const keys = await imported();
      return sealSecret(secret, {
        key: keys[current] as SealingKey,
        keyId: current,
        associatedData: bindingOf(userId, factorId),
      });
    },
    // Where the runtime opens raw keys natively (Node, Bun, Deno), that beats any CryptoKey.
    open: async (sealed, userId, factorId) =>
      openSecret(sealed, {
        keys: opensNatively() ? (all as Record<string, SealingKey>) : await imported(),
        associatedData: bindingOf(userId, factorId),
      }),
    needsReseal: (sealed) => !sealed.startsWith(prefix),
  };
}

/**
 * The 32-byte keys imported into WebCrypto once per flow, not once per seal or open (an import
 * costs more than the decryption itself). Anything else is passed on as given, so that
 * `sealSecret`/`openSecret` report it exactly as they always do; a failed import is retried.
 */
function importedOnce(all: Record<string, SealingKey>): () => Promise<Record<string, SealingKey>> {
  let memo: Promise<Record<string, SealingKey>> | undefined;
  const load = async (): Promise<Record<string, SealingKey>> => {
    const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
    const out: Record<string, SealingKey> = Object.create(null) as Record<string, SealingKey>;
    for (const id of Object.keys(all)) {
      const k = all[id] as SealingKey;
      out[id] =
        subtle !== undefined && k instanceof Uint8Array && k.length === 32
          ? await subtle.importKey('raw', k as BufferSource, { name: 'AES-GCM' }, false, [
              'encrypt',
              'decrypt',
            ])
          : k;
    }
    return out;
  };
  return () =>
    (memo ??= load().catch((e: unknown) => {
      memo = undefined;
      throw e;
    }));
}

/** @internal Validates a user id the way every store must keep it apart. */
export function auser(v: unknown): string {
  return aid(v, 'userId');
}

/** @internal The clock, validated on every read. */
export function clockOf(clock: () => number): (override: unknown) => number {
  return (override) => (override === undefined ? atime(clock(), 'now()') : atime(override));
}
