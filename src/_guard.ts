/**
 * Fail-closed calls into the stores: every call has a bounded time, every rejection becomes an
 * `OtpkitError` with a storage code, and every result is validated before it is trusted. An
 * adapter that answers nonsense (a negative count, a drift of 40, a step that is not an integer)
 * is corrupt storage, never a decision.
 * @module
 * @internal
 */
import { OtpkitError } from './errors.js';
import type {
  ChallengeRecord,
  CredentialRecord,
  ChallengeCreated,
  DeviceRecord,
  DeviceRotation,
  FactorRecord,
  OobCode,
  FactorStore,
  OtpStore,
  RecoveryCodeSet,
  ThrottleRecord,
  TotpAttemptOutcome,
} from './store/types.js';
import { MAX_COUNTER } from './_bytes.js';

/**
 * @internal Runs one store call with a timeout, mapping every failure to `ERR_STORE*`. One
 * promise and one timer per call (this runs several times per sign-in).
 */
export function storeCall<T>(
  method: string,
  timeoutMs: number,
  run: () => Promise<T>,
  valid: (v: unknown) => boolean,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(
        new OtpkitError(
          'ERR_STORE_TIMEOUT',
          `store.${method} did not answer within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(
        e instanceof OtpkitError && e.code.startsWith('ERR_STORE')
          ? e
          : new OtpkitError('ERR_STORE', `store.${method} failed`, { cause: e }),
      );
    };
    const done = (v: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      let ok: boolean;
      try {
        ok = valid(v);
      } catch (e) {
        reject(e);
        return;
      }
      if (ok) resolve(v as T);
      else reject(new OtpkitError('ERR_STORE_CORRUPT', `store.${method} returned malformed data`));
    };
    // A store that throws synchronously, or returns something that is not a promise, is handled
    // the same way as one that rejects or resolves.
    try {
      Promise.resolve(run()).then(done, fail);
    } catch (e) {
      fail(e);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Validators of adapter results

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => typeof v === 'object' && v !== null;
const isInt = (v: unknown, min: number, max: number = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
const isTime = (v: unknown): v is number => isInt(v, 0);
const isStr = (v: unknown, max = 1 << 16): v is string => typeof v === 'string' && v.length <= max;

/** @internal */
export const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
/** @internal */
export const isVoid = (v: unknown): v is void => v === undefined || v === null;

/** @internal A throttle bucket's counters. */
export function isThrottle(v: unknown): v is ThrottleRecord {
  return isObj(v) && isInt(v.failures, 0) && isTime(v.lastFailureAt);
}

/** @internal A credential's replay state. */
export function isCredential(v: unknown): v is CredentialRecord {
  if (!isObj(v)) return false;
  const h = v.hotpCounter;
  return (
    (v.lastStep === null || isInt(v.lastStep, 0)) &&
    (h === null || (typeof h === 'bigint' && h >= 0n && h <= MAX_COUNTER)) &&
    isInt(v.drift, -10, 10) &&
    (v.lastUsedAt === null || isTime(v.lastUsedAt))
  );
}

/** @internal A map of credential id → state or null, with exactly the ids asked for. */
export function isCredentialMap(ids: readonly string[]): (v: unknown) => boolean {
  return (v) =>
    isObj(v) &&
    ids.every(
      (id) =>
        Object.prototype.hasOwnProperty.call(v, id) && (v[id] === null || isCredential(v[id])),
    );
}

/** @internal A recovery-code set, or null. */
export function isCodeSet(v: unknown): v is RecoveryCodeSet | null {
  if (v === null) return true;
  if (!isObj(v) || !Array.isArray(v.codes)) return false;
  return (
    isStr(v.setId, 64) &&
    /^[A-Za-z0-9_-]+$/.test(v.setId) &&
    isTime(v.issuedAt) &&
    isInt(v.total, 0, 100) &&
    v.codes.length <= v.total &&
    v.codes.every(
      (c: unknown) =>
        isObj(c) && isStr(c.id, 1024) && c.id !== '' && isStr(c.hash, 4096) && c.hash !== '',
    )
  );
}

const isHash = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/** @internal An out-of-band code of a challenge, or null. */
function isOob(v: unknown): v is OobCode | null {
  return (
    v === null || (isObj(v) && isStr(v.factorId, 256) && isHash(v.codeHash) && isTime(v.expiresAt))
  );
}

function isChallenge(v: unknown): v is ChallengeRecord {
  return (
    isObj(v) &&
    isOob(v.oob) &&
    isStr(v.hash, 256) &&
    isStr(v.userId, 256) &&
    isStr(v.scope, 256) &&
    isTime(v.createdAt) &&
    isTime(v.expiresAt) &&
    isInt(v.attempts, 0, 1000) &&
    isInt(v.maxAttempts, 1, 100) &&
    Array.isArray(v.credentialIds) &&
    v.credentialIds.length <= 20 &&
    v.credentialIds.every((id: unknown) => isStr(id, 256)) &&
    isStr(v.payload, 16_384)
  );
}

/** @internal The outcome of a fused TOTP attempt. */
export function isTotpOutcome(v: unknown): v is TotpAttemptOutcome {
  if (!isObj(v)) return false;
  switch (v.status) {
    case 'closed':
      return isInt(v.failures, 0) && isTime(v.lastFailureAt);
    case 'invalid':
    case 'replayed':
      return isInt(v.failures, 1);
    case 'ok':
      return isInt(v.delta, -10, 10);
    default:
      return false;
  }
}

/** @internal The outcome of phase one, with the credentials that were asked for. */
export function isBeginOutcome(
  ids: readonly string[],
  withSet: boolean,
  challenge: boolean,
): (v: unknown) => boolean {
  return (v) => {
    if (!isObj(v)) return false;
    switch (v.status) {
      case 'no-challenge':
        return challenge;
      case 'exhausted':
        return challenge && isStr(v.userId, 256);
      case 'closed':
        return isStr(v.userId, 256) && isInt(v.failures, 0) && isTime(v.lastFailureAt);
      case 'admitted': {
        if (!isStr(v.userId, 256) || !isInt(v.failures, 1)) return false;
        if (challenge ? !isChallenge(v.challenge) : v.challenge !== null) return false;
        const all = challenge ? [...ids, ...(v.challenge as ChallengeRecord).credentialIds] : ids;
        if (!isCredentialMap(all)(v.credentials)) return false;
        return withSet ? isCodeSet(v.recoverySet) : v.recoverySet === null;
      }
      default:
        return false;
    }
  };
}

/** @internal The outcome of phase two. */
export function isSettleOutcome(recovery: boolean): (v: unknown) => boolean {
  return (v) => {
    if (!isObj(v)) return false;
    if (v.status === 'ok') return recovery ? isInt(v.remaining, 0, 100) : v.remaining === null;
    return v.status === 'replayed' || v.status === 'no-challenge';
  };
}

/** @internal A device, as the hot state must return it. */
export function isDevice(v: unknown): v is DeviceRecord {
  return (
    isObj(v) &&
    isStr(v.userId, 256) &&
    isStr(v.id, 256) &&
    v.id !== '' &&
    (v.kind === 'trusted' || v.kind === 'known') &&
    isHash(v.tokenHash) &&
    (v.previousHash === null || isHash(v.previousHash)) &&
    isStr(v.label, 64) &&
    isTime(v.createdAt) &&
    (v.lastUsedAt === null || isTime(v.lastUsedAt)) &&
    isTime(v.expiresAt)
  );
}

/** @internal A list of devices of one user and kind. */
export function isDeviceList(userId: string, kind: string): (v: unknown) => boolean {
  return (v) =>
    Array.isArray(v) &&
    v.every((d: unknown) => isDevice(d) && d.userId === userId && d.kind === kind);
}

/** @internal The outcome of a device-token use. */
export function isRotation(
  userId: string,
  kind: string,
  newHash: string,
): (v: unknown) => v is DeviceRotation {
  return (v): v is DeviceRotation => {
    if (!isObj(v)) return false;
    if (v.status === 'unknown') return true;
    if (v.status === 'replayed') return isStr(v.deviceId, 256);
    return (
      v.status === 'rotated' &&
      isDevice(v.device) &&
      v.device.userId === userId &&
      v.device.kind === kind &&
      v.device.tokenHash === newHash
    );
  };
}

/** @internal What `createChallenge` did: the recovery-code count, and the device's rotation iff one was given. */
export function isCreated(
  userId: string,
  device: { readonly newHash: string } | null,
): (v: unknown) => v is ChallengeCreated {
  const rotation = device === null ? null : isRotation(userId, 'known', device.newHash);
  return (v): v is ChallengeCreated =>
    isObj(v) &&
    isInt(v.recoveryCodes, 0, 100) &&
    (rotation === null ? v.device === null : rotation(v.device));
}

/** @internal The outcome of a send reservation. */
export const isReservation = (v: unknown): boolean =>
  isObj(v) && (v.ok === true || (v.ok === false && isInt(v.retryAfterMs, 0)));

/** @internal A count of removed records. */
export const isCount = (v: unknown): v is number => isInt(v, 0);

/** @internal A factor record, as the registry must return it. */
export function isFactor(v: unknown): v is FactorRecord {
  return (
    isObj(v) &&
    isStr(v.userId, 256) &&
    isStr(v.id, 256) &&
    (v.type === 'totp' || v.type === 'hotp' || v.type === 'email' || v.type === 'sms') &&
    (v.hint === null || (isStr(v.hint, 128) && v.type !== 'totp' && v.type !== 'hotp')) &&
    isStr(v.label, 64) &&
    (v.status === 'pending' || v.status === 'confirmed') &&
    isStr(v.sealedSecret, 4096) &&
    (v.algorithm === 'SHA1' || v.algorithm === 'SHA256' || v.algorithm === 'SHA512') &&
    isInt(v.digits, 6, 8) &&
    isInt(v.period, 1, 120) &&
    isTime(v.createdAt) &&
    (v.confirmedAt === null || isTime(v.confirmedAt)) &&
    (v.expiresAt === null || isTime(v.expiresAt)) &&
    (v.status === 'confirmed'
      ? v.expiresAt === null && v.confirmedAt !== null
      : v.expiresAt !== null && v.confirmedAt === null)
  );
}

/** @internal A list of factor records. */
export const isFactorList = (v: unknown): boolean => Array.isArray(v) && v.every(isFactor);

/** @internal Every method a store of each kind must have, checked when a layer is created. */
export const OTP_STORE_METHODS: readonly Exclude<keyof OtpStore, 'distributedSafe'>[] = [
  'attemptTotp',
  'beginAttempt',
  'settleAttempt',
  'getThrottle',
  'resetThrottle',
  'getCredentials',
  'initCredential',
  'deleteCredentials',
  'getRecoveryCodeSet',
  'replaceRecoveryCodes',
  'createChallenge',
  'deleteChallenges',
  'consumeStepUp',
  'eraseUser',
  'setChallengeCode',
  'createDevice',
  'rotateDevice',
  'listDevices',
  'revokeDevices',
  'reserveSend',
  'releaseSend',
];
/** @internal */
export const FACTOR_STORE_METHODS: readonly (keyof FactorStore)[] = [
  'addFactor',
  'listFactors',
  'confirmFactor',
  'renameFactor',
  'removeFactor',
  'removeFactors',
  'resealFactor',
  'scanFactors',
];
