/**
 * Redis store: both contracts, `OtpStore` (the hot verification state) and `FactorStore` (the
 * factor registry), in Redis, shared by every app server, for ioredis and node-redis clients.
 *
 * Every decision is ONE Lua script (`EVALSHA`, `EVAL` on `NOSCRIPT`): Redis runs it to completion
 * before any other command, so nothing is read, decided in Node and written back. A script reads
 * and validates everything first and writes nothing when a stored value is corrupt. All keys of a
 * user share the hash tag `{<user>}` and every script is given every key it touches, so the store
 * runs on Redis Cluster. The key layout, the round trips of each operation and the settings to
 * run Redis with (AOF, `noeviction`, replicas): docs/security-model.md §3.10.
 * @module
 */
import { abool, aint, ALGORITHMS, kind } from '../_assert.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';
import {
  adeviceUse,
  asetId,
  corrupt as corruptValue,
  MAX_CHALLENGE_IDS,
  MAX_DRIFT,
  MAX_HINT,
  MAX_LABEL,
  MAX_PAYLOAD,
  MAX_SEALED,
  readCounter,
  readInt,
  readUint,
  scounter,
  sdrift,
  SET_ID,
  sid,
  stext,
  storeFailure,
  suint,
  UNSTORABLE,
} from './_shared.js';
import type {
  AttemptPolicy,
  BeginAttempt,
  BeginOutcome,
  ChallengeCreated,
  ChallengeDevice,
  ChallengeRecord,
  Claim,
  CredentialRecord,
  DeviceRecord,
  DeviceRotation,
  FactorRecord,
  FactorStore,
  OobCode,
  OtpStore,
  RecoveryCodeSet,
  SendBucket,
  SendRule,
  SettleAttempt,
  SettleOutcome,
  StoredRecoveryCode,
  ThrottleRecord,
  TotpAttempt,
  TotpAttemptOutcome,
} from './types.js';
import {
  ADD_FACTOR,
  ATTEMPT_TOTP,
  BEGIN_ATTEMPT,
  CONFIRM_FACTOR,
  CONSUME_STEP_UP,
  CREATE_CHALLENGE,
  CREATE_DEVICE,
  DELETE_CREDENTIALS,
  DROP_CHALLENGES,
  FACTOR_INDEX_ADD,
  FACTOR_INDEX_RANGE,
  FACTOR_INDEX_REMOVE,
  GET_CREDENTIALS,
  GET_FACTORS,
  GET_SET,
  GET_THROTTLE,
  GRACE_MS,
  INIT_CREDENTIAL,
  LIST_DEVICES,
  LIST_FACTORS,
  RELEASE_SEND,
  REMOVE_FACTOR,
  REMOVE_FACTORS,
  RENAME_FACTOR,
  REPLACE_SET,
  RESEAL_FACTOR,
  RESERVE_SEND,
  RESET_THROTTLE,
  REVOKE_DEVICES,
  ROTATE_DEVICE,
  SETTLE_ATTEMPT,
  SET_CHALLENGE_CODE,
  type Script,
} from './_redis-lua.js';

/**
 * The part of an ioredis client (`Redis` or `Cluster`, v5 and later) the store uses:
 * `call(command, ...args)` resolving the raw reply.
 */
export interface IORedisClientLike {
  /** Sends one raw command, e.g. `call('EVALSHA', sha, '1', key, arg)`. */
  call(command: string, ...args: string[]): Promise<unknown>;
}

/**
 * The part of a node-redis client (`createClient()` from `redis` v4 and later) the store uses:
 * `sendCommand([command, ...args])` resolving the raw reply. For a node-redis *cluster*, wrap it:
 * `{ sendCommand: (args) => cluster.sendCommand(args[3], false, args) }` (every command the store
 * sends is `EVALSHA`/`EVAL sha|script numkeys key ...`, so `args[3]` is the routing key).
 */
export interface NodeRedisClientLike {
  /** Sends one raw command, e.g. `sendCommand(['EVALSHA', sha, '1', key, arg])`. */
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * A connected Redis client, described structurally so otpkit never imports a Redis package.
 * An object with a `call` method is driven as ioredis; otherwise `sendCommand` as node-redis.
 * Replies may be RESP2 or RESP3, strings or `Buffer`s.
 */
export type RedisClientLike = IORedisClientLike | NodeRedisClientLike;

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected client. Configure it to fail fast rather than queue forever while Redis is down
   * (ioredis: `maxRetriesPerRequest: 1, enableOfflineQueue: false`; node-redis:
   * `disableOfflineQueue: true`) and connect it before use; the verifier also bounds each call
   * with `storeTimeoutMs`, and a command that timed out may still run later (an ambiguous
   * outcome the contract treats as "not accepted": the user retries with the next code). With
   * ioredis's `enableAutoPipelining`, also set `autoPipeliningIgnoredCommands: ['EVALSHA',
   * 'EVAL']` (all the store sends): an auto-pipelined connection has one batch in flight at a
   * time, which costs otpkit's scripts a quarter to a half of their throughput under load
   * (measured with `bench/signin.mjs --autopipelining`).
   */
  readonly client: RedisClientLike;
  /** Prefix of every key (without `{` or `}`, at most 128 characters). @defaultValue 'otpkit:' */
  readonly prefix?: string | undefined;
  /**
   * After every write, wait until this many replicas acknowledged it (`WAIT`); fewer within
   * `timeoutMs` throws `ERR_STORE`, so the verifier fails closed instead of accepting a code a
   * failover could forget. `WAIT` blocks the connection it runs on: give the store its own
   * client. Standalone or Sentinel primaries only (not a cluster). @defaultValue no waiting
   */
  readonly waitForReplicas?: { readonly replicas: number; readonly timeoutMs: number } | undefined;
}

/** The Redis store: an `OtpStore` and a `FactorStore` shared by every app server. */
export interface RedisStore extends OtpStore, FactorStore {
  /** Always `true`: every app server using the same Redis sees the same state. */
  readonly distributedSafe: true;
  /** The key prefix in use. */
  readonly prefix: string;
}

const ADAPTER = 'Redis';
const STORE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'client',
  'prefix',
  'waitForReplicas',
]);
const DAY_MS = 86_400_000;
const MAX_CODE_ID = 1024;
const MAX_CODE_HASH = 4096;
const MAX_CODES = 100;
const MAX_ATTEMPTS = 100;
/** Ids per call (credentials asked for, deleted): far above any real use, well inside Lua's stack. */
const MAX_IDS = 1000;
const MAX_SCAN = 10_000;
/** Candidates of one TOTP attempt: one per delta of the widest window, −10..10. */
const MAX_CANDIDATES = 21;
/** The longest TTL set (about 31 years): exact in a Lua number and far inside Redis's expire range. */
const MAX_TTL_MS = 1e12;

// ---------------------------------------------------------------------------------------------
// Key names

function isSafeChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || // 0-9
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    c === 0x5f ||
    c === 0x2e ||
    c === 0x40 ||
    c === 0x2d // _ . @ -
  );
}

/**
 * Escapes an id for a key name: injective over UTF-16 (lone surrogates included, unlike UTF-8),
 * and never yields `{`, `}` or `:`, which delimit the hash tag and the key parts.
 */
function escapeId(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += isSafeChar(c) ? s[i] : `%${c.toString(16).padStart(4, '0')}`;
  }
  return out;
}

/**
 * Four hex digits per UTF-16 code unit: the bytes of the result sort as the code units do, which
 * is JavaScript's string order, the order `scanFactors` pages in.
 */
function hex16(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += s.charCodeAt(i).toString(16).padStart(4, '0');
  return out;
}

/** A member of the factor index: `.` sorts below every hex digit, so a shorter user id comes first. */
function indexMember(userId: string, id: string): string {
  return `${hex16(userId)}.${hex16(id)}`;
}

const MEMBER = /^((?:[0-9a-f]{4})+)\.((?:[0-9a-f]{4})+)$/;

function unhex16(h: string): string {
  let out = '';
  for (let i = 0; i < h.length; i += 4) out += String.fromCharCode(parseInt(h.slice(i, i + 4), 16));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Replies

const corrupt = (what: string): OtpkitError => corruptValue(ADAPTER, what);

/** Reads a bulk-string reply (string or bytes); `null` for nil. Anything else is corrupt. */
function bulk(v: unknown, what: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(v);
    } catch {
      throw corrupt(what);
    }
  }
  throw corrupt(what);
}

function text(v: unknown, what: string): string {
  const s = bulk(v, what);
  if (s === null) throw corrupt(what);
  return s;
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw corrupt(what);
  return v as unknown[];
}

/** Reads an integer reply (RESP number, or a decimal string under custom type mappings). */
function integer(
  v: unknown,
  what: string,
  min: number = Number.MIN_SAFE_INTEGER,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  let n: number | undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) n = v;
  else if (
    typeof v === 'bigint' &&
    v >= BigInt(Number.MIN_SAFE_INTEGER) &&
    v <= BigInt(Number.MAX_SAFE_INTEGER)
  )
    n = Number(v);
  else if (typeof v === 'string' || v instanceof Uint8Array) {
    const s = bulk(v, what);
    if (s !== null && /^-?(?:0|[1-9][0-9]{0,15})$/.test(s) && Number.isSafeInteger(Number(s)))
      n = Number(s);
  }
  if (n === undefined || n < min || n > max) throw corrupt(what);
  return n;
}

function flag(v: unknown, what: string): boolean {
  return integer(v, what, 0, 1) === 1;
}

/** A stored id (user, credential, factor, scope): the contract's rule, or corrupt. */
function readId(v: unknown, what: string): string {
  if (typeof v !== 'string') throw corrupt(what);
  try {
    return sid(v, what);
  } catch {
    throw corrupt(what);
  }
}

/** A stored string that was written as JSON (payloads, labels, sealed secrets), of bounded length. */
function readJsonString(v: string, what: string, min: number, max: number): string {
  let s: unknown;
  try {
    s = JSON.parse(v);
  } catch {
    throw corrupt(what);
  }
  if (typeof s !== 'string' || s.length < min || s.length > max) throw corrupt(what);
  return s;
}

function setProp<T>(o: Record<string, T>, k: string, v: T): void {
  // An own property even for ids such as "__proto__".
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

const BUCKET = /^([0-9]+):([0-9]+)$/;
const CREDENTIAL = /^([0-9]*):([0-9]*):([^:]*):([0-9]*)$/;

function parseBucket(v: unknown): ThrottleRecord {
  const s = bulk(v, 'throttle bucket');
  if (s === null) return { failures: 0, lastFailureAt: 0 };
  const m = BUCKET.exec(s);
  if (m === null) throw corrupt('throttle bucket');
  return {
    failures: readUint(ADAPTER, m[1], 'failures'),
    lastFailureAt: readUint(ADAPTER, m[2], 'lastFailureAt'),
  };
}

function parseCredential(v: unknown): CredentialRecord | null {
  const s = bulk(v, 'credential');
  if (s === null) return null;
  const m = CREDENTIAL.exec(s);
  if (m === null) throw corrupt('credential');
  const [, step, counter, drift, used] = m as unknown as [string, string, string, string, string];
  return {
    lastStep: step === '' ? null : readUint(ADAPTER, step, 'lastStep'),
    hotpCounter: counter === '' ? null : readCounter(ADAPTER, counter, 'hotpCounter'),
    drift: readInt(ADAPTER, drift, 'drift', -MAX_DRIFT, MAX_DRIFT),
    lastUsedAt: used === '' ? null : readUint(ADAPTER, used, 'lastUsedAt'),
  };
}

const CHALLENGE_HEAD = /^([0-9]+):([0-9]+):([0-9]+):([0-9]+):([0-9]+)$/;

const OOB = /^([0-9]+):([0-9a-f]{64}):(.+)$/s;

function parseChallenge(hash: string, userId: string, v: unknown): ChallengeRecord {
  const parts = text(v, 'challenge').split('\0');
  if (parts.length < 5 || parts.length > 5 + MAX_CHALLENGE_IDS) throw corrupt('challenge');
  const m = CHALLENGE_HEAD.exec(parts[0] as string);
  if (m === null) throw corrupt('challenge');
  const maxAttempts = readUint(ADAPTER, m[4], 'challenge maxAttempts', MAX_ATTEMPTS);
  if (maxAttempts < 1) throw corrupt('challenge maxAttempts');
  readUint(ADAPTER, m[5], 'challenge');
  return {
    hash,
    userId,
    scope: readId(parts[1], 'challenge scope'),
    recoveryScope: readId(parts[2], 'challenge recoveryScope'),
    createdAt: readUint(ADAPTER, m[1], 'challenge createdAt'),
    expiresAt: readUint(ADAPTER, m[2], 'challenge expiresAt'),
    attempts: readUint(ADAPTER, m[3], 'challenge attempts', MAX_ATTEMPTS),
    maxAttempts,
    credentialIds: parts.slice(5).map((id) => readId(id, 'challenge credential id')),
    payload: readJsonString(parts[3] as string, 'challenge payload', 0, MAX_PAYLOAD),
    oob: parseOob(parts[4] as string),
  };
}

function parseOob(v: string): OobCode | null {
  if (v === '') return null;
  const m = OOB.exec(v);
  if (m === null) throw corrupt('challenge code');
  return {
    factorId: readId(m[3], 'challenge code factor id'),
    codeHash: m[2] as string,
    expiresAt: readUint(ADAPTER, m[1], 'challenge code expiresAt'),
  };
}

/** A device's record as stored, without its seq (the scripts put it in front). */
function deviceText(d: DeviceRecord): string {
  return `${d.kind}:${d.createdAt}:${d.lastUsedAt ?? ''}:${d.expiresAt}\0${d.tokenHash}\0${d.previousHash ?? ''}\0${JSON.stringify(d.label)}`;
}

/** A device-token use as the scripts reply it: `{ 'rotated', id, record }`, `{ 'replayed', id }` or `{ 'unknown' }`. */
function rotationOf(userId: string, v: unknown, what: string): DeviceRotation {
  const r = list(v, what);
  const status = text(r[0], what);
  if (status === 'unknown') return { status };
  if (status === 'replayed')
    return { status, deviceId: readId(bulk(r[1], 'device id'), 'device id') };
  if (status !== 'rotated') throw corrupt(what);
  return { status, device: parseDevice(userId, bulk(r[1], 'device id'), r[2]).record };
}

const DEVICE_HEAD = /^([0-9]+):(trusted|known):([0-9]+):([0-9]*):([0-9]+)$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** A stored device with its insertion sequence number. */
function parseDevice(
  userId: string,
  id: unknown,
  v: unknown,
): { seq: number; record: DeviceRecord } {
  const deviceId = readId(id, 'device id');
  const parts = text(v, 'device').split('\0');
  const m = parts.length === 4 ? DEVICE_HEAD.exec(parts[0] as string) : null;
  if (m === null) throw corrupt('device');
  const [, seq, kind, createdAt, lastUsedAt, expiresAt] = m as unknown as string[];
  const [, tokenHash, previousHash, label] = parts as [string, string, string, string];
  if (!HEX64.test(tokenHash) || (previousHash !== '' && !HEX64.test(previousHash)))
    throw corrupt('device token hash');
  const record: DeviceRecord = {
    userId,
    id: deviceId,
    kind: kind as DeviceRecord['kind'],
    tokenHash,
    previousHash: previousHash === '' ? null : previousHash,
    label: readJsonString(label, 'device label', 0, MAX_LABEL),
    createdAt: readUint(ADAPTER, createdAt, 'device createdAt'),
    lastUsedAt: lastUsedAt === '' ? null : readUint(ADAPTER, lastUsedAt, 'device lastUsedAt'),
    expiresAt: readUint(ADAPTER, expiresAt, 'device expiresAt'),
  };
  return { seq: readUint(ADAPTER, seq, 'device'), record };
}

function parseSet(reply: unknown): RecoveryCodeSet | null {
  const r = list(reply, 'recovery-code set');
  if (r.length !== 2) throw corrupt('recovery-code set');
  const m = list(r[0], 'recovery-code set');
  const flat = list(r[1], 'recovery-code set');
  if (m.length !== 3 || flat.length % 2 !== 0) throw corrupt('recovery-code set');
  const setId = bulk(m[0], 'recovery-code set id');
  if (setId === null) {
    // Codes without their set record, or half a set record, means the keys were edited.
    if (
      flat.length > 0 ||
      bulk(m[1], 'recovery-code set') !== null ||
      bulk(m[2], 'recovery-code set') !== null
    )
      throw corrupt('recovery-code set');
    return null;
  }
  if (!SET_ID.test(setId)) throw corrupt('recovery-code set id');
  const issuedAt = readUint(
    ADAPTER,
    bulk(m[1], 'recovery-code set issuedAt'),
    'recovery-code set issuedAt',
  );
  const total = readUint(
    ADAPTER,
    bulk(m[2], 'recovery-code set total'),
    'recovery-code set total',
    MAX_CODES,
  );
  if (flat.length / 2 > total) throw corrupt('recovery-code set');
  // Stored as position:hash, so the codes read back in the order they were issued.
  const slots: (StoredRecoveryCode | undefined)[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const id = bulk(flat[i], 'recovery-code id');
    const value = bulk(flat[i + 1], 'recovery-code hash');
    if (id === null || id.length === 0 || id.length > MAX_CODE_ID)
      throw corrupt('recovery-code id');
    const at = value === null ? -1 : value.indexOf(':');
    if (value === null || at < 1) throw corrupt('recovery-code hash');
    const pos = readUint(ADAPTER, value.slice(0, at), 'recovery-code position', total - 1);
    const hash = value.slice(at + 1);
    if (hash.length === 0 || hash.length > MAX_CODE_HASH) throw corrupt('recovery-code hash');
    if (slots[pos] !== undefined) throw corrupt('recovery-code position');
    slots[pos] = { id, hash };
  }
  const codes = slots.filter((c): c is StoredRecoveryCode => c !== undefined);
  return { setId, issuedAt, total, codes };
}

const FACTOR_HEAD =
  /^([0-9]+):(totp|hotp|email|sms):(pending|confirmed):(SHA1|SHA256|SHA512):([0-9]+):([0-9]+):([0-9]+):([0-9]*):([0-9]*)$/;

/** A stored factor with its insertion sequence number (what "oldest first" sorts by). */
function parseFactor(
  userId: string,
  id: unknown,
  v: unknown,
): { seq: number; record: FactorRecord } {
  const factorId = readId(id, 'factor id');
  const parts = text(v, 'factor').split('\0');
  if (parts.length !== 4) throw corrupt('factor');
  const m = FACTOR_HEAD.exec(parts[0] as string);
  if (m === null) throw corrupt('factor');
  const [, seq, type, status, algorithm, digits, period, createdAt, confirmedAt, expiresAt] =
    m as unknown as string[];
  const record: FactorRecord = {
    userId,
    id: factorId,
    type: type as FactorRecord['type'],
    label: readJsonString(parts[1] as string, 'factor label', 1, MAX_LABEL),
    status: status as FactorRecord['status'],
    sealedSecret: readJsonString(parts[2] as string, 'factor sealedSecret', 0, MAX_SEALED),
    hint: parts[3] === '' ? null : readJsonString(parts[3] as string, 'factor hint', 0, MAX_HINT),
    algorithm: algorithm as FactorRecord['algorithm'],
    digits: readUint(ADAPTER, digits, 'factor digits', 8),
    period: readUint(ADAPTER, period, 'factor period', 120),
    createdAt: readUint(ADAPTER, createdAt, 'factor createdAt'),
    confirmedAt: confirmedAt === '' ? null : readUint(ADAPTER, confirmedAt, 'factor confirmedAt'),
    expiresAt: expiresAt === '' ? null : readUint(ADAPTER, expiresAt, 'factor expiresAt'),
  };
  if (
    record.digits < 6 ||
    record.period < 1 ||
    (record.hint !== null && (record.type === 'totp' || record.type === 'hotp'))
  )
    throw corrupt('factor');
  if (
    record.status === 'pending'
      ? record.expiresAt === null || record.confirmedAt !== null
      : record.expiresAt !== null || record.confirmedAt === null
  )
    throw corrupt('factor status');
  return { seq: readUint(ADAPTER, seq, 'factor'), record };
}

// ---------------------------------------------------------------------------------------------
// Arguments (checked before anything is sent: a caller bug never writes what reads back corrupt)

function aobject<T>(v: unknown, title: string): T {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected an object, got ${kind(v)}`);
  return v as T;
}

function aids(v: unknown, title: string, max: number): string[] {
  if (!Array.isArray(v))
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected an array, got ${kind(v)}`);
  if (v.length > max)
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"${title}" expected at most ${max} ids, got ${v.length}`,
    );
  return v.map((id: unknown, i) => sid(id, `${title}[${i}]`));
}

function apolicy(v: unknown): AttemptPolicy {
  const p = aobject<Partial<AttemptPolicy>>(v, 'policy');
  const maxFailures = aint(p.maxFailures, 'policy.maxFailures', 1, 100, 'ERR_OPTION_INVALID');
  return {
    freeFailures: aint(p.freeFailures, 'policy.freeFailures', 0, maxFailures, 'ERR_OPTION_INVALID'),
    baseDelayMs: aint(p.baseDelayMs, 'policy.baseDelayMs', 0, DAY_MS, 'ERR_OPTION_INVALID'),
    maxDelayMs: aint(p.maxDelayMs, 'policy.maxDelayMs', 0, DAY_MS, 'ERR_OPTION_INVALID'),
    maxFailures,
  };
}

const policyArgs = (p: AttemptPolicy): string[] => [
  String(p.freeFailures),
  String(p.baseDelayMs),
  String(p.maxDelayMs),
  String(p.maxFailures),
];

/** A string stored as raw UTF-8 must survive it: no lone surrogates, no NUL. */
function astorable(v: string, title: string): string {
  if (UNSTORABLE.test(v))
    throw rangeError('ERR_OPTION_INVALID', `"${title}" contains NUL or a lone surrogate`);
  return v;
}

/** Validates a set handed to `replaceRecoveryCodes` (messages name fields, never hashes). */
function aset(set: unknown): RecoveryCodeSet {
  const { setId, issuedAt, total, codes } = aobject<Partial<RecoveryCodeSet>>(set, 'set');
  const id = asetId(setId, 'set.setId');
  const at = suint(issuedAt, 'set.issuedAt');
  if (!Array.isArray(codes))
    throw typeError('ERR_OPTION_TYPE', `"set.codes" expected an array, got ${kind(codes)}`);
  const n = aint(total, 'set.total', codes.length, MAX_CODES, 'ERR_OPTION_INVALID');
  const seen = new Set<string>();
  const out: StoredRecoveryCode[] = [];
  for (const c of codes as readonly unknown[]) {
    const { id: codeId, hash } = aobject<Partial<StoredRecoveryCode>>(c, 'set.codes[]');
    astorable(stext(codeId, 'set.codes[].id', MAX_CODE_ID), 'set.codes[].id');
    astorable(stext(hash, 'set.codes[].hash', MAX_CODE_HASH), 'set.codes[].hash');
    if ((codeId as string).length === 0 || (hash as string).length === 0)
      throw rangeError('ERR_OPTION_INVALID', '"set.codes" ids and hashes must not be empty');
    // A duplicate id would silently merge two codes into one hash field.
    if (seen.has(codeId as string))
      throw rangeError('ERR_OPTION_INVALID', '"set.codes" has a duplicate id');
    seen.add(codeId as string);
    out.push({ id: codeId as string, hash: hash as string });
  }
  return { setId: id, issuedAt: at, total: n, codes: out };
}

function aclaim(v: unknown): Claim {
  const c = aobject<Partial<Record<string, unknown>>>(v, 'claim');
  switch (c.kind) {
    case 'totp':
      return {
        kind: 'totp',
        credentialId: sid(c.credentialId, 'claim.credentialId'),
        step: suint(c.step, 'claim.step'),
        drift: sdrift(c.drift),
        create: abool(c.create, 'claim.create'),
      };
    case 'hotp':
      return {
        kind: 'hotp',
        credentialId: sid(c.credentialId, 'claim.credentialId'),
        expected: c.expected === null ? null : scounter(c.expected, 'claim.expected'),
        next: scounter(c.next, 'claim.next'),
        create: abool(c.create, 'claim.create'),
      };
    case 'oob':
      return { kind: 'oob', codeHash: ahash(c.codeHash, 'claim.codeHash') };
    case 'recovery': {
      const codeId = stext(c.codeId, 'claim.codeId', MAX_CODE_ID);
      if (codeId.length === 0)
        throw rangeError('ERR_OPTION_INVALID', '"claim.codeId" must not be empty');
      return {
        kind: 'recovery',
        setId: asetId(c.setId, 'claim.setId'),
        codeId: astorable(codeId, 'claim.codeId'),
      };
    }
    default:
      throw typeError(
        'ERR_OPTION_TYPE',
        `"claim.kind" expected 'totp' | 'hotp' | 'recovery' | 'oob'`,
      );
  }
}

function achallenge(v: unknown): ChallengeRecord {
  const r = aobject<Partial<ChallengeRecord>>(v, 'record');
  const maxAttempts = aint(
    r.maxAttempts,
    'record.maxAttempts',
    1,
    MAX_ATTEMPTS,
    'ERR_OPTION_INVALID',
  );
  return {
    hash: sid(r.hash, 'record.hash'),
    userId: sid(r.userId, 'record.userId'),
    scope: sid(r.scope, 'record.scope'),
    recoveryScope: sid(r.recoveryScope, 'record.recoveryScope'),
    createdAt: suint(r.createdAt, 'record.createdAt'),
    expiresAt: suint(r.expiresAt, 'record.expiresAt'),
    attempts: suint(r.attempts, 'record.attempts', MAX_ATTEMPTS),
    maxAttempts,
    credentialIds: aids(r.credentialIds, 'record.credentialIds', MAX_CHALLENGE_IDS),
    payload: stext(r.payload, 'record.payload', MAX_PAYLOAD),
    oob: r.oob === null ? null : aoob(r.oob, 'record.oob'),
  };
}

function ahash(v: unknown, title: string): string {
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(v)}`);
  if (!HEX64.test(v))
    throw rangeError('ERR_OPTION_INVALID', `"${title}" expected 64 lowercase hex digits (SHA-256)`);
  return v;
}

function aoob(v: unknown, title: string): OobCode {
  const o = aobject<Partial<OobCode>>(v, title);
  return {
    factorId: sid(o.factorId, `${title}.factorId`),
    codeHash: ahash(o.codeHash, `${title}.codeHash`),
    expiresAt: suint(o.expiresAt, `${title}.expiresAt`),
  };
}

const oobText = (o: OobCode | null): string =>
  o === null ? '' : `${o.expiresAt}:${o.codeHash}:${o.factorId}`;

function adevice(v: unknown, title = 'record'): DeviceRecord {
  const r = aobject<Partial<DeviceRecord>>(v, title);
  return {
    userId: sid(r.userId, `${title}.userId`),
    id: sid(r.id, `${title}.id`),
    kind: akind(r.kind, `${title}.kind`),
    tokenHash: ahash(r.tokenHash, `${title}.tokenHash`),
    previousHash: r.previousHash === null ? null : ahash(r.previousHash, `${title}.previousHash`),
    label: stext(r.label, `${title}.label`, MAX_LABEL),
    createdAt: suint(r.createdAt, `${title}.createdAt`),
    lastUsedAt: r.lastUsedAt === null ? null : suint(r.lastUsedAt, `${title}.lastUsedAt`),
    expiresAt: suint(r.expiresAt, `${title}.expiresAt`),
  };
}

function akind(v: unknown, title: string): DeviceRecord['kind'] {
  if (v !== 'trusted' && v !== 'known')
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected 'trusted' | 'known'`);
  return v;
}

/** The longest send window or cooldown (about 35 years). */
const MAX_RULE_MS = 2 ** 40;

function arule(v: unknown): SendRule {
  const r = aobject<Partial<SendRule>>(v, 'rule');
  return {
    limit: aint(r.limit, 'rule.limit', 0, 1_000_000, 'ERR_OPTION_INVALID'),
    windowMs: aint(r.windowMs, 'rule.windowMs', 1, MAX_RULE_MS, 'ERR_OPTION_INVALID'),
    cooldownMs: aint(r.cooldownMs, 'rule.cooldownMs', 0, MAX_RULE_MS, 'ERR_OPTION_INVALID'),
  };
}

const FACTOR_TYPES: ReadonlySet<string> = /* @__PURE__ */ new Set(['totp', 'hotp', 'email', 'sms']);

function afactor(v: unknown): FactorRecord {
  const r = aobject<Partial<FactorRecord>>(v, 'record');
  const oneOf = <T extends string>(x: unknown, title: string, allowed: ReadonlySet<string>): T => {
    if (typeof x !== 'string')
      throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(x)}`);
    if (!allowed.has(x))
      throw rangeError(
        'ERR_OPTION_INVALID',
        `"${title}" expected one of ${[...allowed].join(', ')}`,
      );
    return x as T;
  };
  const label = stext(r.label, 'record.label', MAX_LABEL);
  if (label.length === 0)
    throw rangeError('ERR_OPTION_INVALID', '"record.label" must not be empty');
  const status = oneOf<FactorRecord['status']>(
    r.status,
    'record.status',
    new Set(['pending', 'confirmed']),
  );
  const confirmedAt = r.confirmedAt === null ? null : suint(r.confirmedAt, 'record.confirmedAt');
  const expiresAt = r.expiresAt === null ? null : suint(r.expiresAt, 'record.expiresAt');
  if (
    status === 'pending'
      ? expiresAt === null || confirmedAt !== null
      : expiresAt !== null || confirmedAt === null
  )
    throw rangeError(
      'ERR_OPTION_INVALID',
      '"record" expected a pending factor with expiresAt and no confirmedAt, or a confirmed one with confirmedAt and no expiresAt',
    );
  const type = oneOf<FactorRecord['type']>(r.type, 'record.type', FACTOR_TYPES);
  const hint = r.hint === null ? null : stext(r.hint, 'record.hint', MAX_HINT);
  if (hint !== null && (type === 'totp' || type === 'hotp'))
    throw rangeError('ERR_OPTION_INVALID', '"record.hint" expected null for a TOTP or HOTP factor');
  return {
    userId: sid(r.userId, 'record.userId'),
    id: sid(r.id, 'record.id'),
    type,
    label,
    status,
    sealedSecret: stext(r.sealedSecret, 'record.sealedSecret', MAX_SEALED),
    hint,
    algorithm: oneOf<FactorRecord['algorithm']>(r.algorithm, 'record.algorithm', ALGORITHMS),
    digits: aint(r.digits, 'record.digits', 6, 8, 'ERR_OPTION_DIGITS'),
    period: aint(r.period, 'record.period', 1, 120, 'ERR_OPTION_PERIOD'),
    createdAt: suint(r.createdAt, 'record.createdAt'),
    confirmedAt,
    expiresAt,
  };
}

/** A TTL for a record that dies at `expiresAt` (caller's clock), on the server's clock. */
function ttlFor(now: number, expiresAt: number): number {
  return Math.min(Math.max(0, expiresAt - now), MAX_TTL_MS) + GRACE_MS;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'string' ? e : '';
}

/**
 * Maps a failed command: a script's corrupt marker or a key of the wrong type is
 * `ERR_STORE_CORRUPT` naming the field; anything else is `ERR_STORE` with a scrubbed cause.
 */
function failure(e: unknown, op: string): OtpkitError {
  if (e instanceof OtpkitError) return e;
  const message = messageOf(e);
  const marked = /OTPKIT_CORRUPT ([a-z][a-z -]{0,40})/.exec(message);
  if (marked !== null) return corrupt(marked[1] as string);
  if (/\bWRONGTYPE\b/.test(message)) return corrupt(`${op} key type`);
  return storeFailure(ADAPTER, op, e);
}

// ---------------------------------------------------------------------------------------------
// The store

/**
 * Creates the Redis store (both `OtpStore` and `FactorStore`) on a client you connected
 * (ioredis or node-redis, standalone, Sentinel or Cluster).
 *
 * @param options - {@link RedisStoreOptions}: the client, the key prefix, optional replica waits.
 * @returns a {@link RedisStore} (`distributedSafe: true`).
 * @throws TypeError if `client` has neither `call` nor `sendCommand`, or an option has the wrong
 *   type. Its methods reject with TypeError/RangeError on invalid arguments before sending
 *   anything, and with `OtpkitError`: `ERR_STORE` on a Redis or connection error (or missing
 *   replica acknowledgements), `ERR_STORE_CORRUPT` on a malformed stored value or a key of the
 *   wrong type (the message names the field, never its content).
 * @throws RangeError if `prefix` contains `{` or `}` or is too long, `waitForReplicas` is out of
 *   range, or an option is unknown.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createVerifier, generateSecret, generateTOTP } from 'otpkit';
 * import { createRedisStore } from 'otpkit/redis';
 *
 * // Connect first: with the offline queue off, commands sent before the connection is up fail.
 * const client = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
 * await client.connect();
 * const verifier = createVerifier({ store: createRedisStore({ client }), storeTimeoutMs: 2000 });
 * const secret = generateSecret();
 * const token = generateTOTP(secret);
 * await verifier.verifyTOTP({ userId: 'alice', secret, token }); // { ok: true, ... }
 * await verifier.verifyTOTP({ userId: 'alice', secret, token }); // { ok: false, reason: 'replayed' }
 *
 * // node-redis works the same way:
 * // createRedisStore({ client: await createClient({ url, disableOfflineQueue: true }).connect() })
 * ```
 * @see https://redis.io/docs/latest/develop/interact/programmability/eval-intro/ (script atomicity)
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 * @see https://redis.io/docs/latest/commands/wait/
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw typeError('ERR_OPTION_TYPE', `"options" expected an object, got ${kind(options)}`);
  for (const key in options) {
    if (!STORE_KEYS.has(key))
      throw rangeError('ERR_OPTION_UNKNOWN', `"options" has unknown option "${key}"`);
  }
  const client: unknown = options.client;
  let send: (args: string[]) => Promise<unknown>;
  if (
    typeof client === 'object' &&
    client !== null &&
    typeof (client as IORedisClientLike).call === 'function'
  ) {
    // ioredis also has a `sendCommand`, taking a Command object: test `call` first.
    const c = client as IORedisClientLike;
    send = (args) => c.call(args[0] as string, ...args.slice(1));
  } else if (
    typeof client === 'object' &&
    client !== null &&
    typeof (client as NodeRedisClientLike).sendCommand === 'function'
  ) {
    const c = client as NodeRedisClientLike;
    send = (args) => c.sendCommand(args);
  } else {
    throw typeError(
      'ERR_OPTION_TYPE',
      `"client" expected an ioredis or node-redis client, got ${kind(client)}`,
    );
  }
  const prefix = options.prefix ?? 'otpkit:';
  if (typeof prefix !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"prefix" expected string, got ${kind(prefix)}`);
  // A brace in the prefix would become the cluster hash tag and split a user's keys over slots.
  if (/[{}]/.test(prefix) || prefix.length > 128)
    throw rangeError(
      'ERR_OPTION_INVALID',
      '"prefix" expected at most 128 characters without "{" or "}"',
    );
  const wait = options.waitForReplicas;
  if (wait !== undefined) {
    if (typeof wait !== 'object' || wait === null)
      throw typeError('ERR_OPTION_TYPE', `"waitForReplicas" expected an object, got ${kind(wait)}`);
    aint(wait.replicas, 'waitForReplicas.replicas', 1, 100, 'ERR_OPTION_INVALID');
    aint(wait.timeoutMs, 'waitForReplicas.timeoutMs', 1, 600_000, 'ERR_OPTION_INVALID');
  }

  /** The keys of one user, all under the hash tag `{<escaped userId>}` (userId already checked). */
  const keysOf = (userId: string) => {
    const tag = `${prefix}{${escapeId(userId)}}`;
    return {
      throttle: `${tag}:throttle`,
      credentials: `${tag}:credentials`,
      challenges: `${tag}:challenges`,
      codes: `${tag}:recovery`,
      set: `${tag}:recovery-set`,
      stepUps: `${tag}:step-up`,
      devices: `${tag}:devices`,
      sends: `${tag}:send-quota`,
      factors: `${tag}:factors`,
    };
  };
  /** The key of a send-quota bucket: a user's is under their tag, the others in slots of their own. */
  const quotaKey = (b: SendBucket): string => {
    const x = aobject<Partial<Record<string, unknown>>>(b, 'bucket');
    if (x.kind === 'user') return keysOf(sid(x.userId, 'bucket.userId')).sends;
    if (x.kind === 'destination')
      return `${prefix}{send:d:${escapeId(sid(x.hash, 'bucket.hash'))}}`;
    if (x.kind === 'app') return `${prefix}{send:app}`;
    throw typeError('ERR_OPTION_TYPE', `"bucket.kind" expected 'user' | 'destination' | 'app'`);
  };
  const factorIndex = `${prefix}factors:index`;

  /** Runs a script by SHA; on NOSCRIPT (nothing ran) sends its source once, which also caches it. */
  const run = async (
    s: Script,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> => {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      try {
        return await send(['EVALSHA', s.sha, ...tail]);
      } catch (e) {
        if (!messageOf(e).startsWith('NOSCRIPT')) throw e;
        return await send(['EVAL', s.source, ...tail]);
      }
    } catch (e) {
      throw failure(e, s.name);
    }
  };

  /** After a write: with `waitForReplicas`, fail closed unless enough replicas have it. */
  const durable = async (op: string): Promise<void> => {
    if (wait === undefined) return;
    let acked: unknown;
    try {
      acked = await send(['WAIT', String(wait.replicas), String(wait.timeoutMs)]);
    } catch (e) {
      throw storeFailure(ADAPTER, `${op} (WAIT)`, e);
    }
    if (integer(acked, 'WAIT reply') < wait.replicas)
      throw new OtpkitError(
        'ERR_STORE',
        `Redis store: ${op} was not acknowledged by ${wait.replicas} replica(s) in time`,
      );
  };

  const removeFromIndex = async (userId: string, ids: readonly string[]): Promise<void> => {
    if (ids.length > 0)
      await run(
        FACTOR_INDEX_REMOVE,
        [factorIndex],
        ids.map((id) => indexMember(userId, id)),
      );
  };

  const factorIds = (reply: unknown, what: string): string[] =>
    list(reply, what).map((id) => readId(bulk(id, what), what));

  const store: RedisStore = {
    distributedSafe: true as const,
    prefix,

    async attemptTotp(attempt: TotpAttempt): Promise<TotpAttemptOutcome> {
      const a = aobject<TotpAttempt>(attempt, 'attempt');
      const userId = sid(a.userId, 'userId');
      const credentialId = sid(a.credentialId, 'credentialId');
      const scope = sid(a.scope, 'scope');
      const now = suint(a.now, 'now');
      const policy = apolicy(a.policy);
      const step = suint(a.step, 'step');
      if (!Array.isArray(a.candidates))
        throw typeError(
          'ERR_OPTION_TYPE',
          `"candidates" expected an array, got ${kind(a.candidates)}`,
        );
      if (a.candidates.length > MAX_CANDIDATES)
        throw rangeError(
          'ERR_OPTION_INVALID',
          `"candidates" expected at most ${MAX_CANDIDATES} deltas, got ${a.candidates.length}`,
        );
      const candidates = a.candidates.map((d: unknown) =>
        String(aint(d, 'candidates[]', -10, 10, 'ERR_OPTION_WINDOW') + 0),
      );
      const past = aint(a.past, 'past', 0, 10, 'ERR_OPTION_WINDOW');
      const future = aint(a.future, 'future', 0, 10, 'ERR_OPTION_WINDOW');
      const centre = abool(a.centreOnDrift, 'centreOnDrift');
      const maxDrift =
        a.maxDrift === null
          ? null
          : aint(a.maxDrift, 'maxDrift', 0, MAX_DRIFT, 'ERR_OPTION_WINDOW');
      const k = keysOf(userId);
      const args = [
        scope,
        credentialId,
        String(now),
        ...policyArgs(policy),
        String(step),
        String(past),
        String(future),
      ];
      args.push(centre ? '1' : '0', maxDrift === null ? '' : String(maxDrift), ...candidates);
      const r = list(
        await run(ATTEMPT_TOTP, [k.throttle, k.credentials], args),
        'attemptTotp reply',
      );
      const status = text(r[0], 'attemptTotp reply');
      if (status === 'closed')
        return {
          status,
          failures: integer(r[1], 'failures', 0),
          lastFailureAt: integer(r[2], 'lastFailureAt', 0),
        };
      let out: TotpAttemptOutcome;
      if (status === 'invalid' || status === 'replayed')
        out = { status, failures: integer(r[1], 'failures', 1) };
      else if (status === 'ok') out = { status, delta: integer(r[1], 'delta', -10, 10) };
      else throw corrupt('attemptTotp reply');
      await durable('attemptTotp');
      return out;
    },

    async beginAttempt(begin: BeginAttempt): Promise<BeginOutcome> {
      const b = aobject<BeginAttempt>(begin, 'begin');
      const userId = sid(b.userId, 'userId');
      const hash =
        b.challengeHash === undefined ? undefined : sid(b.challengeHash, 'challengeHash');
      const scope = b.scope === undefined ? undefined : sid(b.scope, 'scope');
      const now = suint(b.now, 'now');
      const policy = apolicy(b.policy);
      const ids = aids(b.credentialIds, 'credentialIds', MAX_IDS);
      const withSet = abool(b.recoverySet, 'recoverySet');
      if (hash === undefined && scope === undefined)
        throw typeError('ERR_OPTION_TYPE', 'beginAttempt needs a scope or a challenge');
      const k = keysOf(userId);
      const args = [
        String(now),
        ...policyArgs(policy),
        hash ?? '',
        scope ?? '',
        withSet ? '1' : '0',
        ...ids,
      ];
      const r = list(
        await run(BEGIN_ATTEMPT, [k.throttle, k.credentials, k.challenges, k.codes, k.set], args),
        'beginAttempt reply',
      );
      const status = text(r[0], 'beginAttempt reply');
      if (status === 'no-challenge' && hash !== undefined) return { status };
      if (status === 'exhausted' && hash !== undefined) return { status, userId };
      if (status === 'closed')
        return {
          status,
          userId,
          failures: integer(r[1], 'failures', 0),
          lastFailureAt: integer(r[2], 'lastFailureAt', 0),
        };
      if (status !== 'admitted') throw corrupt('beginAttempt reply');
      const failures = integer(r[1], 'failures', 1);
      const challenge = hash === undefined ? null : parseChallenge(hash, userId, r[2]);
      if (hash === undefined && r[2] !== null && r[2] !== undefined)
        throw corrupt('beginAttempt reply');
      const pairs = list(r[3], 'credentials');
      const wanted = [...ids, ...(challenge?.credentialIds ?? [])];
      if (pairs.length !== wanted.length * 2) throw corrupt('credentials');
      const credentials: Record<string, CredentialRecord | null> = {};
      wanted.forEach((id, i) => {
        if (bulk(pairs[2 * i], 'credentials') !== id) throw corrupt('credentials');
        setProp(credentials, id, parseCredential(pairs[2 * i + 1]));
      });
      const recoverySet = withSet && r[4] !== null && r[4] !== undefined ? parseSet(r[4]) : null;
      if (!withSet && r[4] !== null && r[4] !== undefined) throw corrupt('beginAttempt reply');
      await durable('beginAttempt');
      return { status, userId, failures, challenge, credentials, recoverySet };
    },

    async settleAttempt(settle: SettleAttempt): Promise<SettleOutcome> {
      const s = aobject<SettleAttempt>(settle, 'settle');
      const userId = sid(s.userId, 'userId');
      const scope = sid(s.scope, 'scope');
      const now = suint(s.now, 'now');
      const claim = aclaim(s.claim);
      const hash = s.challengeHash === undefined ? '' : sid(s.challengeHash, 'challengeHash');
      let stepUp = ['', '', ''];
      if (s.stepUp !== undefined) {
        const t = aobject<{ hash: unknown; expiresAt: unknown }>(s.stepUp, 'stepUp');
        const expiresAt = suint(t.expiresAt, 'stepUp.expiresAt');
        stepUp = [sid(t.hash, 'stepUp.hash'), String(expiresAt), String(ttlFor(now, expiresAt))];
      }
      const claimArgs =
        claim.kind === 'totp'
          ? [
              claim.credentialId,
              String(claim.step),
              String(claim.drift + 0),
              claim.create ? '1' : '0',
            ]
          : claim.kind === 'hotp'
            ? [
                claim.credentialId,
                claim.expected === null ? '' : claim.expected.toString(),
                claim.next.toString(),
                claim.create ? '1' : '0',
              ]
            : claim.kind === 'recovery'
              ? [claim.setId, claim.codeId, '', '']
              : [claim.codeHash, '', '', ''];
      let device = ['', '', '', '', ''];
      if (s.device !== undefined) {
        const t = aobject<{ record: unknown; maxPerUser: unknown }>(s.device, 'device');
        const d = adevice(t.record, 'device.record');
        if (d.userId !== userId)
          throw rangeError('ERR_OPTION_INVALID', '"device.record.userId" is not "userId"');
        const max = aint(t.maxPerUser, 'device.maxPerUser', 1, 1000, 'ERR_OPTION_INVALID');
        device = [d.id, d.kind, String(d.createdAt), String(max), deviceText(d)];
      }
      const k = keysOf(userId);
      const r = list(
        await run(
          SETTLE_ATTEMPT,
          [k.throttle, k.credentials, k.challenges, k.codes, k.set, k.stepUps, k.devices],
          [scope, String(now), hash, claim.kind, ...claimArgs, ...stepUp, ...device],
        ),
        'settleAttempt reply',
      );
      const status = text(r[0], 'settleAttempt reply');
      if (status === 'replayed' || (status === 'no-challenge' && hash !== '')) return { status };
      if (status !== 'ok') throw corrupt('settleAttempt reply');
      const remaining = claim.kind === 'recovery' ? integer(r[1], 'remaining', 0, MAX_CODES) : null;
      if (remaining === null && r[1] !== null && r[1] !== undefined)
        throw corrupt('settleAttempt reply');
      await durable('settleAttempt');
      return { status, remaining };
    },

    async getThrottle(userId: string, scope: string): Promise<ThrottleRecord> {
      const k = keysOf(sid(userId, 'userId'));
      return parseBucket(await run(GET_THROTTLE, [k.throttle], [sid(scope, 'scope')]));
    },

    async resetThrottle(userId: string, scope: string | null): Promise<void> {
      const k = keysOf(sid(userId, 'userId'));
      await run(RESET_THROTTLE, [k.throttle], scope === null ? ['1'] : ['0', sid(scope, 'scope')]);
      await durable('resetThrottle');
    },

    async getCredentials(
      userId: string,
      credentialIds: readonly string[],
    ): Promise<Readonly<Record<string, CredentialRecord | null>>> {
      const k = keysOf(sid(userId, 'userId'));
      const ids = aids(credentialIds, 'credentialIds', MAX_IDS);
      const out: Record<string, CredentialRecord | null> = {};
      if (ids.length === 0) return out;
      const r = list(await run(GET_CREDENTIALS, [k.credentials], ids), 'credentials');
      if (r.length !== ids.length) throw corrupt('credentials');
      ids.forEach((id, i) => setProp(out, id, parseCredential(r[i])));
      return out;
    },

    async initCredential(
      userId: string,
      credentialId: string,
      lastStep: number | null,
      hotpCounter: bigint | null,
    ): Promise<boolean> {
      const k = keysOf(sid(userId, 'userId'));
      const id = sid(credentialId, 'credentialId');
      const step = lastStep === null ? '' : String(suint(lastStep, 'lastStep'));
      const counter = hotpCounter === null ? '' : scounter(hotpCounter, 'hotpCounter').toString();
      const created = flag(
        await run(INIT_CREDENTIAL, [k.credentials], [id, `${step}:${counter}:0:`]),
        'initCredential reply',
      );
      if (created) await durable('initCredential');
      return created;
    },

    async deleteCredentials(userId: string, credentialIds: readonly string[]): Promise<void> {
      const k = keysOf(sid(userId, 'userId'));
      const ids = aids(credentialIds, 'credentialIds', MAX_IDS);
      if (ids.length === 0) return;
      await run(DELETE_CREDENTIALS, [k.credentials], ids);
      await durable('deleteCredentials');
    },

    async getRecoveryCodeSet(userId: string): Promise<RecoveryCodeSet | null> {
      const k = keysOf(sid(userId, 'userId'));
      return parseSet(await run(GET_SET, [k.codes, k.set], []));
    },

    async replaceRecoveryCodes(
      userId: string,
      set: RecoveryCodeSet | null,
      expectedSetId: string | null,
    ): Promise<boolean> {
      const k = keysOf(sid(userId, 'userId'));
      const next = set === null ? null : aset(set);
      const expected = expectedSetId === null ? '' : asetId(expectedSetId, 'expectedSetId');
      const args =
        next === null
          ? [expected, '0', '', '', '']
          : [expected, '1', next.setId, String(next.issuedAt), String(next.total)];
      next?.codes.forEach((c, i) => args.push(c.id, `${i}:${c.hash}`));
      const won = flag(
        await run(REPLACE_SET, [k.codes, k.set], args),
        'replaceRecoveryCodes reply',
      );
      if (won) await durable('replaceRecoveryCodes');
      return won;
    },

    async createChallenge(
      record: ChallengeRecord,
      maxLive: number,
      device?: ChallengeDevice | null,
    ): Promise<ChallengeCreated> {
      const c = achallenge(record);
      const live = aint(maxLive, 'maxLive', 1, 1000, 'ERR_OPTION_INVALID');
      const k = keysOf(c.userId);
      const ttl = ttlFor(c.createdAt, c.expiresAt);
      let tail = `\0${JSON.stringify(c.payload)}\0${oobText(c.oob)}`;
      for (const id of c.credentialIds) tail += `\0${id}`;
      const args = [
        c.hash,
        String(c.createdAt),
        String(c.expiresAt),
        String(c.attempts),
        String(c.maxAttempts),
        c.scope,
        c.recoveryScope,
        tail,
      ];
      const [token, next, expires] = adeviceUse(device);
      args.push(
        String(live),
        String(ttl),
        token ?? '',
        next ?? '',
        expires === null ? '' : String(expires),
      );
      const r = list(
        await run(CREATE_CHALLENGE, [k.challenges, k.codes, k.devices], args),
        'createChallenge reply',
      );
      const recoveryCodes = integer(r[0], 'recovery-code count', 0, MAX_CODES);
      const rotation = token === null ? null : rotationOf(c.userId, r[1], 'createChallenge reply');
      await durable('createChallenge');
      return { recoveryCodes, device: rotation };
    },

    async deleteChallenges(userId: string): Promise<void> {
      const u = sid(userId, 'userId');
      const k = keysOf(u);
      await run(DROP_CHALLENGES, [k.challenges], []);
      await durable('deleteChallenges');
    },

    async consumeStepUp(userId: string, hash: string, now: number): Promise<boolean> {
      const k = keysOf(sid(userId, 'userId'));
      const used = flag(
        await run(CONSUME_STEP_UP, [k.stepUps], [sid(hash, 'hash'), String(suint(now, 'now'))]),
        'consumeStepUp reply',
      );
      if (used) await durable('consumeStepUp');
      return used;
    },

    async eraseUser(userId: string): Promise<void> {
      const u = sid(userId, 'userId');
      const k = keysOf(u);
      const keys = [
        k.challenges,
        k.throttle,
        k.credentials,
        k.codes,
        k.set,
        k.stepUps,
        k.devices,
        k.sends,
      ];
      await run(DROP_CHALLENGES, keys, []);
      await durable('eraseUser');
    },

    async setChallengeCode(
      userId: string,
      challengeHash: string,
      code: OobCode | null,
      now: number,
      expected?: string,
    ): Promise<boolean> {
      const k = keysOf(sid(userId, 'userId'));
      const hash = sid(challengeHash, 'challengeHash');
      const next = code === null ? null : aoob(code, 'code');
      const at = suint(now, 'now');
      const want = expected === undefined ? '' : ahash(expected, 'expected');
      const set = flag(
        await run(SET_CHALLENGE_CODE, [k.challenges], [hash, String(at), oobText(next), want]),
        'setChallengeCode reply',
      );
      if (set) await durable('setChallengeCode');
      return set;
    },

    async createDevice(record: DeviceRecord, maxPerUser: number): Promise<void> {
      const d = adevice(record);
      const max = aint(maxPerUser, 'maxPerUser', 1, 1000, 'ERR_OPTION_INVALID');
      const k = keysOf(d.userId);
      await run(
        CREATE_DEVICE,
        [k.devices],
        [d.id, d.kind, String(d.createdAt), String(max), deviceText(d)],
      );
      await durable('createDevice');
    },

    async rotateDevice(
      userId: string,
      kindOf: 'trusted' | 'known',
      tokenHash: string,
      newHash: string,
      now: number,
      expiresAt: number | null,
    ): Promise<DeviceRotation> {
      const u = sid(userId, 'userId');
      const args = [
        akind(kindOf, 'kind'),
        ahash(tokenHash, 'tokenHash'),
        ahash(newHash, 'newHash'),
        String(suint(now, 'now')),
      ];
      args.push(expiresAt === null ? '' : String(suint(expiresAt, 'expiresAt')));
      const r = rotationOf(
        u,
        await run(ROTATE_DEVICE, [keysOf(u).devices], args),
        'rotateDevice reply',
      );
      if (r.status === 'rotated') await durable('rotateDevice');
      return r;
    },

    async listDevices(
      userId: string,
      kindOf: 'trusted' | 'known',
      now: number,
    ): Promise<readonly DeviceRecord[]> {
      const u = sid(userId, 'userId');
      const want = akind(kindOf, 'kind');
      const at = suint(now, 'now');
      const flat = list(await run(LIST_DEVICES, [keysOf(u).devices], []), 'devices');
      if (flat.length % 2 !== 0) throw corrupt('devices');
      const all: { seq: number; record: DeviceRecord }[] = [];
      for (let i = 0; i < flat.length; i += 2)
        all.push(parseDevice(u, bulk(flat[i], 'device id'), flat[i + 1]));
      return all
        .filter((d) => d.record.kind === want && d.record.expiresAt > at)
        .sort((x, y) => x.record.createdAt - y.record.createdAt || x.seq - y.seq)
        .map((d) => d.record);
    },

    async revokeDevices(
      userId: string,
      kindOf: 'trusted' | 'known',
      deviceId: string | null,
    ): Promise<number> {
      const k = keysOf(sid(userId, 'userId'));
      const args = [akind(kindOf, 'kind'), deviceId === null ? '' : sid(deviceId, 'deviceId')];
      const n = integer(await run(REVOKE_DEVICES, [k.devices], args), 'revokeDevices reply', 0);
      if (n > 0) await durable('revokeDevices');
      return n;
    },

    async reserveSend(
      bucket: SendBucket,
      rule: SendRule,
      now: number,
    ): Promise<{ readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number }> {
      const key = quotaKey(bucket);
      const r = arule(rule);
      const at = suint(now, 'now');
      const window = Math.floor(at / r.windowMs);
      // The state matters until the window ends and the cooldown passes; then it may vanish.
      const ttl =
        Math.min(Math.max((window + 1) * r.windowMs - at, r.cooldownMs), MAX_TTL_MS) + GRACE_MS;
      const reply = list(
        await run(
          RESERVE_SEND,
          [key],
          [String(at), String(r.limit), String(r.windowMs), String(r.cooldownMs), String(ttl)],
        ),
        'reserveSend reply',
      );
      if (flag(reply[0], 'reserveSend reply')) {
        await durable('reserveSend');
        return { ok: true };
      }
      return { ok: false, retryAfterMs: integer(reply[1], 'retryAfterMs', 0) };
    },

    async releaseSend(bucket: SendBucket, rule: SendRule, now: number): Promise<void> {
      const key = quotaKey(bucket);
      const r = arule(rule);
      await run(RELEASE_SEND, [key], [String(suint(now, 'now')), String(r.windowMs)]);
      await durable('releaseSend');
    },

    // ---- the factor registry

    async addFactor(
      record: FactorRecord,
      limits: { readonly maxPending: number; readonly maxConfirmed: number },
      now: number,
    ): Promise<'added' | 'limit'> {
      const f = afactor(record);
      const l = aobject<{ maxPending: unknown; maxConfirmed: unknown }>(limits, 'limits');
      const maxPending = suint(l.maxPending, 'limits.maxPending', MAX_SCAN);
      const maxConfirmed = suint(l.maxConfirmed, 'limits.maxConfirmed', MAX_SCAN);
      const at = suint(now, 'now');
      const k = keysOf(f.userId);
      const head = `${f.type}:${f.status}:${f.algorithm}:${f.digits}:${f.period}:${f.createdAt}:${f.confirmedAt ?? ''}:${f.expiresAt ?? ''}`;
      // Indexed first: a factor is never stored without its index member (scanFactors skips a
      // member whose factor is missing), so no failure between the two calls hides a factor.
      await run(FACTOR_INDEX_ADD, [factorIndex], [indexMember(f.userId, f.id)]);
      const r = list(
        await run(
          ADD_FACTOR,
          [k.factors],
          [
            f.id,
            String(at),
            String(maxPending),
            String(maxConfirmed),
            f.status === 'pending' ? '1' : '0',
            head,
            JSON.stringify(f.label),
            JSON.stringify(f.sealedSecret),
            f.hint === null ? '' : JSON.stringify(f.hint),
          ],
        ),
        'addFactor reply',
      );
      const outcome = text(r[0], 'addFactor reply');
      const dropped = factorIds(r[1], 'factor id').filter(
        (id) => outcome !== 'added' || id !== f.id,
      );
      if (outcome === 'limit') dropped.push(f.id);
      await removeFromIndex(f.userId, dropped);
      await durable('addFactor');
      if (outcome === 'duplicate')
        throw rangeError('ERR_OPTION_INVALID', '"record.id" is already a factor of this user');
      if (outcome !== 'added' && outcome !== 'limit') throw corrupt('addFactor reply');
      return outcome;
    },

    async listFactors(userId: string): Promise<readonly FactorRecord[]> {
      const u = sid(userId, 'userId');
      const flat = list(await run(LIST_FACTORS, [keysOf(u).factors], []), 'factors');
      if (flat.length % 2 !== 0) throw corrupt('factors');
      const all: { seq: number; record: FactorRecord }[] = [];
      for (let i = 0; i < flat.length; i += 2)
        all.push(parseFactor(u, bulk(flat[i], 'factor id'), flat[i + 1]));
      return all.sort((x, y) => x.seq - y.seq).map((f) => f.record);
    },

    async confirmFactor(
      userId: string,
      factorId: string,
      now: number,
      maxConfirmed: number,
    ): Promise<'confirmed' | 'not-found' | 'expired' | 'limit'> {
      const k = keysOf(sid(userId, 'userId'));
      const args = [
        sid(factorId, 'factorId'),
        String(suint(now, 'now')),
        String(suint(maxConfirmed, 'maxConfirmed', MAX_SCAN)),
      ];
      const outcome = text(await run(CONFIRM_FACTOR, [k.factors], args), 'confirmFactor reply');
      if (
        outcome !== 'confirmed' &&
        outcome !== 'not-found' &&
        outcome !== 'expired' &&
        outcome !== 'limit'
      )
        throw corrupt('confirmFactor reply');
      if (outcome === 'confirmed') await durable('confirmFactor');
      return outcome;
    },

    async renameFactor(userId: string, factorId: string, label: string): Promise<boolean> {
      const k = keysOf(sid(userId, 'userId'));
      const id = sid(factorId, 'factorId');
      const name = stext(label, 'label', MAX_LABEL);
      if (name.length === 0) throw rangeError('ERR_OPTION_INVALID', '"label" must not be empty');
      const renamed = flag(
        await run(RENAME_FACTOR, [k.factors], [id, JSON.stringify(name)]),
        'renameFactor reply',
      );
      if (renamed) await durable('renameFactor');
      return renamed;
    },

    async removeFactor(userId: string, factorId: string): Promise<boolean> {
      const u = sid(userId, 'userId');
      const id = sid(factorId, 'factorId');
      const removed = flag(
        await run(REMOVE_FACTOR, [keysOf(u).factors], [id]),
        'removeFactor reply',
      );
      // Only a factor this call removed: a member of an id still being added must stay.
      if (removed) {
        await removeFromIndex(u, [id]);
        await durable('removeFactor');
      }
      return removed;
    },

    async removeFactors(userId: string): Promise<number> {
      const u = sid(userId, 'userId');
      const ids = factorIds(await run(REMOVE_FACTORS, [keysOf(u).factors], []), 'factor id');
      await removeFromIndex(u, ids);
      if (ids.length > 0) await durable('removeFactors');
      return ids.length;
    },

    async resealFactor(
      userId: string,
      factorId: string,
      expected: string,
      sealed: string,
    ): Promise<boolean> {
      const k = keysOf(sid(userId, 'userId'));
      const id = sid(factorId, 'factorId');
      const from = JSON.stringify(stext(expected, 'expected', MAX_SEALED));
      const to = JSON.stringify(stext(sealed, 'sealed', MAX_SEALED));
      const resealed = flag(
        await run(RESEAL_FACTOR, [k.factors], [id, from, to]),
        'resealFactor reply',
      );
      if (resealed) await durable('resealFactor');
      return resealed;
    },

    async scanFactors(
      after: { readonly userId: string; readonly id: string } | null,
      limit: number,
    ): Promise<readonly FactorRecord[]> {
      let from = '-';
      if (after !== null) {
        const a = aobject<{ userId: unknown; id: unknown }>(after, 'after');
        from = `(${indexMember(sid(a.userId, 'after.userId'), sid(a.id, 'after.id'))}`;
      }
      const n = suint(limit, 'limit', MAX_SCAN);
      const out: FactorRecord[] = [];
      // Members of factors still being added or just removed have no record: skip them and read
      // on, so a page is short only at the end of the index.
      while (out.length < n) {
        const want = n - out.length;
        const members = list(
          await run(FACTOR_INDEX_RANGE, [factorIndex], [from, String(want)]),
          'factor index',
        ).map((m) => text(m, 'factor index'));
        if (members.length === 0) break;
        const refs = members.map((m) => {
          const parts = MEMBER.exec(m);
          if (parts === null) throw corrupt('factor index');
          return {
            userId: readId(unhex16(parts[1] as string), 'factor index'),
            id: readId(unhex16(parts[2] as string), 'factor index'),
          };
        });
        const byUser = new Map<string, string[]>();
        for (const r of refs) byUser.set(r.userId, [...(byUser.get(r.userId) ?? []), r.id]);
        const found = new Map<string, Map<string, FactorRecord>>();
        await Promise.all(
          [...byUser].map(async ([u, ids]) => {
            const values = list(await run(GET_FACTORS, [keysOf(u).factors], ids), 'factors');
            if (values.length !== ids.length) throw corrupt('factors');
            const got = new Map<string, FactorRecord>();
            ids.forEach((id, i) => {
              if (values[i] !== null && values[i] !== undefined)
                got.set(id, parseFactor(u, id, values[i]).record);
            });
            found.set(u, got);
          }),
        );
        for (const r of refs) {
          const f = found.get(r.userId)?.get(r.id);
          if (f !== undefined) out.push(f);
        }
        from = `(${members[members.length - 1] as string}`;
        if (members.length < want) break;
      }
      return out;
    },
  };
  return store;
}
