/**
 * Redis OtpStore: replay, HOTP-counter, throttle, drift and recovery-code state in Redis, shared
 * by every app server (REQUIREMENTS §(d) D.3.3).
 *
 * **Atomicity.** Every operation is ONE Lua script run with `EVALSHA` (falling back to `EVAL` on
 * `NOSCRIPT`, which runs nothing, so nothing ever runs twice). Redis runs a script to completion
 * before any other command, so each check-and-set (step claim, counter compare-and-set,
 * failure increment, code consumption, set replacement) is a single atomic decision: there is no
 * read-modify-write from Node. Scripts validate what they compare or increment and write nothing
 * when a stored value is corrupt.
 *
 * **Keys and hash tags.** All keys of one user share one Redis Cluster hash tag, and every script
 * receives every key it touches in `KEYS[]`, so scripts are cluster-safe:
 * ```
 * <prefix>{<user>}:cred:<credentialId>  hash  lastStep, hotpCounter, drift
 * <prefix>{<user>}:fail:<scope>         hash  failures, lastFailureAt
 * <prefix>{<user>}:recovery             hash  <code id> → <code hash> (unused codes of the current set)
 * <prefix>{<user>}:recovery-set         hash  setId, issuedAt, total
 * ```
 * `<user>`, `<credentialId>` and `<scope>` are escaped: `A–Z a–z 0–9 _ . @ -` stay as they are,
 * every other UTF-16 code unit becomes `%` and four hex digits. The escape is injective (lone
 * surrogates included) and never produces `{`, `}` or `:`, so any id works, ids stay readable for
 * operators (`redis-cli --scan --pattern 'otpkit:{alice}:*'`) and no two inputs share a key.
 *
 * **No TTL.** Nothing expires: the replay key must outlive the acceptance window, and a lockout
 * lasts until `unlock()` (a TTL would silently lift it). Throttle keys are deleted on success.
 * Run Redis with `maxmemory-policy noeviction` (the default): an evicting policy can drop
 * `lastStep` or a failure count exactly like a restart does.
 *
 * **Durability caveat.** By default Redis acknowledges a write before it is on disk. Without AOF
 * and replication, a restart or failover can lose `lastStep` and failure counts: a code used just
 * before the crash is accepted once more inside its window, and throttling restarts from zero; a
 * lost consumption brings a used recovery code back, a lost replacement the previous set. Run
 * with `appendonly yes` and `appendfsync always` (or `everysec`, risking about a second of
 * writes), use {@link RedisStoreOptions.waitForReplicas} (or the server's `min-replicas-to-write`)
 * behind a failover setup, or keep lockout and recovery-code state in PostgreSQL
 * (`otpkit/postgres`).
 * @module
 */
import { sha1 } from '@noble/hashes/legacy';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { kind } from '../_assert.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';
import type { CredentialState, OtpStore, RecoveryCodeSet, StoredRecoveryCode } from './types.js';

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
   * outcome the contract treats as "not accepted": the user retries with the next code).
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

/** The Redis `OtpStore`: shared by every app server, so `distributedSafe` is `true`. */
export interface RedisStore extends OtpStore {
  /** Always `true`: every app server using the same Redis sees the same state. */
  readonly distributedSafe: true;
  /** The key prefix in use. */
  readonly prefix: string;
}

const STORE_KEYS: ReadonlySet<string> = new Set(['client', 'prefix', 'waitForReplicas']);
const MAX_ID = 256;
const MAX_CODE_ID = 1024;
const MAX_CODE_HASH = 4096;
const MAX_CODES = 100;
const SET_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_DRIFT = 10;
const MAX_U64 = (1n << 64n) - 1n;
/** Canonical non-negative decimal: what the store writes; anything else read back is corrupt. */
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const DRIFT = /^(?:0|-?[1-9][0-9]?)$/;

// Shared Lua helpers. Counters are compared as canonical decimal STRINGS: Lua numbers are doubles,
// which cannot hold 2^64−1 (and `<` on strings would follow the server's locale).
const LUA_LIB = `
local function canon(s, max)
  return #s >= 1 and #s <= max and (s == '0' or string.find(s, '^[1-9][0-9]*$') ~= nil)
end
local function lt(a, b)
  if #a ~= #b then return #a < #b end
  for i = 1, #a do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return false
end
local function corrupt(what) return redis.error_reply('OTPKIT_CORRUPT stored ' .. what .. ' is malformed') end
`;

/** A Lua script and its SHA-1 (what `EVALSHA` names it by). */
interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, body: string): Script {
  const source = LUA_LIB + body;
  return { name, source, sha: bytesToHex(sha1(utf8ToBytes(source))) };
}

// KEYS[1] = credential hash, KEYS[2] = throttle hash. Raw fields; validated in JS (parseState).
const GET_STATE = script(
  'getState',
  `local c = redis.call('HMGET', KEYS[1], 'lastStep', 'hotpCounter', 'drift')
local t = redis.call('HMGET', KEYS[2], 'failures', 'lastFailureAt')
return { c[1], c[2], c[3], t[1], t[2] }`,
);

// KEYS[1] = credential hash; ARGV[1] = step (canonical decimal). 1 iff none or less was stored.
const CLAIM_STEP = script(
  'claimTotpStep',
  `local cur = redis.call('HGET', KEYS[1], 'lastStep')
if cur then
  if not canon(cur, 16) then return corrupt('lastStep') end
  if not lt(cur, ARGV[1]) then return 0 end
end
redis.call('HSET', KEYS[1], 'lastStep', ARGV[1])
return 1`,
);

// KEYS[1] = credential hash; ARGV[1] = expected counter ('' = none stored), ARGV[2] = next.
const CAS_COUNTER = script(
  'compareAndSetHotpCounter',
  `local cur = redis.call('HGET', KEYS[1], 'hotpCounter')
if cur then
  if not canon(cur, 20) or (#cur == 20 and lt('18446744073709551615', cur)) then return corrupt('hotpCounter') end
  if cur ~= ARGV[1] then return 0 end
elseif ARGV[1] ~= '' then
  return 0
end
redis.call('HSET', KEYS[1], 'hotpCounter', ARGV[2])
return 1`,
);

// KEYS[1] = throttle hash; ARGV[1] = now. Returns the new count.
const RECORD_FAILURE = script(
  'recordFailure',
  `local n = redis.call('HGET', KEYS[1], 'failures')
if n and not canon(n, 15) then return corrupt('failures') end
local count = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'lastFailureAt', ARGV[1])
return count`,
);

// KEYS[1] = throttle hash.
const RESET_FAILURES = script('resetFailures', `redis.call('DEL', KEYS[1])
return 0`);

// KEYS[1] = credential hash; ARGV[1] = drift.
const SET_DRIFT = script('setDrift', `redis.call('HSET', KEYS[1], 'drift', ARGV[1])
return 0`);

// KEYS[1] = codes hash, KEYS[2] = set hash. A script, so RESP2 and RESP3 reply the same nested arrays.
const GET_SET = script(
  'getRecoveryCodeSet',
  `local m = redis.call('HMGET', KEYS[2], 'setId', 'issuedAt', 'total')
return { m[1], m[2], m[3], redis.call('HGETALL', KEYS[1]) }`,
);

// KEYS[1] = codes hash; ARGV[1] = code id. HDEL answers 1 to exactly one caller.
const CONSUME_CODE = script('consumeRecoveryCode', `return redis.call('HDEL', KEYS[1], ARGV[1])`);

// KEYS[1] = codes hash, KEYS[2] = set hash; ARGV = expected set id ('' = none), set id, issuedAt,
// total, then id1, hash1, id2, hash2, ... Only if the current set is the expected one: old set
// out, new set in, one step.
const REPLACE_CODES = script(
  'replaceRecoveryCodes',
  `local cur = redis.call('HGET', KEYS[2], 'setId')
if cur then
  if cur ~= ARGV[1] then return 0 end
elseif ARGV[1] ~= '' then
  return 0
end
redis.call('DEL', KEYS[1])
for i = 5, #ARGV, 200 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 199, #ARGV)))
end
redis.call('HSET', KEYS[2], 'setId', ARGV[2], 'issuedAt', ARGV[3], 'total', ARGV[4])
return 1`,
);

function isSafeChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || // 0-9
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    c === 0x5f || c === 0x2e || c === 0x40 || c === 0x2d // _ . @ -
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

function aid(v: unknown, title: string): string {
  if (typeof v !== 'string') throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(v)}`);
  if (v.length === 0 || v.length > MAX_ID)
    throw rangeError('ERR_OPTION_INVALID', `"${title}" expected 1..${MAX_ID} characters, got ${v.length}`);
  return v;
}

function corrupt(what: string): OtpkitError {
  // Names the field, never its content: stored hashes and counters stay out of logs.
  return new OtpkitError('ERR_STORE_CORRUPT', `Redis store: stored ${what} is malformed`);
}

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

/** Reads an integer reply (RESP number, or a decimal string under custom type mappings). */
function integer(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  const s = typeof v === 'string' || v instanceof Uint8Array ? bulk(v, what) : null;
  if (s !== null && /^-?(?:0|[1-9][0-9]{0,15})$/.test(s) && Number.isSafeInteger(Number(s))) return Number(s);
  throw corrupt(what);
}

function flag(v: unknown, what: string): boolean {
  const n = integer(v, what);
  if (n !== 0 && n !== 1) throw corrupt(what);
  return n === 1;
}

/** A stored non-negative safe integer, or `null` if absent. */
function safeDecimal(v: unknown, what: string): number | null {
  const s = bulk(v, what);
  if (s === null) return null;
  if (!DECIMAL.test(s) || s.length > 16) throw corrupt(what);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw corrupt(what);
  return n;
}

function parseState(reply: unknown): CredentialState {
  if (!Array.isArray(reply) || reply.length !== 5) throw corrupt('state');
  const [stepV, counterV, driftV, failuresV, atV] = reply as unknown[];
  const lastStep = safeDecimal(stepV, 'lastStep');
  const counterS = bulk(counterV, 'hotpCounter');
  let hotpCounter: bigint | null = null;
  if (counterS !== null) {
    if (!DECIMAL.test(counterS) || counterS.length > 20) throw corrupt('hotpCounter');
    hotpCounter = BigInt(counterS);
    if (hotpCounter > MAX_U64) throw corrupt('hotpCounter');
  }
  const driftS = bulk(driftV, 'drift');
  let drift = 0;
  if (driftS !== null) {
    if (!DRIFT.test(driftS)) throw corrupt('drift');
    drift = Number(driftS);
    if (Math.abs(drift) > MAX_DRIFT) throw corrupt('drift');
  }
  const failures = safeDecimal(failuresV, 'failures');
  const lastFailureAt = safeDecimal(atV, 'lastFailureAt');
  // Both are written by one script: one without the other means the hash was edited.
  if ((failures === null) !== (lastFailureAt === null)) throw corrupt('throttle record');
  return { failures: failures ?? 0, lastFailureAt: lastFailureAt ?? 0, drift, hotpCounter, lastStep };
}

function parseCodes(reply: unknown): StoredRecoveryCode[] {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) throw corrupt('recovery-code set');
  const out: StoredRecoveryCode[] = [];
  for (let i = 0; i < reply.length; i += 2) {
    const id = bulk(reply[i], 'recovery-code id');
    const hash = bulk(reply[i + 1], 'recovery-code hash');
    if (id === null || id.length === 0 || id.length > MAX_CODE_ID) throw corrupt('recovery-code id');
    if (hash === null || hash.length === 0 || hash.length > MAX_CODE_HASH) throw corrupt('recovery-code hash');
    out.push({ id, hash });
  }
  return out;
}

function parseSet(reply: unknown): RecoveryCodeSet | null {
  if (!Array.isArray(reply) || reply.length !== 4) throw corrupt('recovery-code set');
  const [idV, atV, totalV, codesV] = reply as unknown[];
  const setId = bulk(idV, 'recovery-code set id');
  const codes = parseCodes(codesV);
  if (setId === null) {
    // Codes without their set record, or half a set record, means the keys were edited.
    if (codes.length > 0 || bulk(atV, 'recovery-code set') !== null || bulk(totalV, 'recovery-code set') !== null)
      throw corrupt('recovery-code set');
    return null;
  }
  if (!SET_ID.test(setId)) throw corrupt('recovery-code set id');
  const issuedAt = safeDecimal(atV, 'recovery-code set issuedAt');
  const total = safeDecimal(totalV, 'recovery-code set total');
  if (issuedAt === null || total === null || total < codes.length || total > MAX_CODES) throw corrupt('recovery-code set');
  return { setId, issuedAt, total, codes };
}

/** Validates a set handed to `replaceRecoveryCodes` (messages name fields, never hashes). */
function aset(set: unknown): RecoveryCodeSet {
  if (typeof set !== 'object' || set === null) throw typeError('ERR_OPTION_TYPE', `"set" expected a RecoveryCodeSet, got ${kind(set)}`);
  const { setId, issuedAt, total, codes } = set as Partial<RecoveryCodeSet>;
  if (typeof setId !== 'string' || !SET_ID.test(setId)) throw rangeError('ERR_OPTION_INVALID', '"set.setId" expected 1..64 characters of [A-Za-z0-9_-]');
  if (typeof issuedAt !== 'number' || !Number.isSafeInteger(issuedAt) || issuedAt < 0)
    throw rangeError('ERR_OPTION_INVALID', '"set.issuedAt" expected a non-negative safe integer');
  if (!Array.isArray(codes)) throw typeError('ERR_OPTION_TYPE', `"set.codes" expected an array, got ${kind(codes)}`);
  if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < codes.length || total > MAX_CODES)
    throw rangeError('ERR_OPTION_INVALID', `"set.total" expected an integer from the number of codes to ${MAX_CODES}`);
  const seen = new Set<string>();
  for (const c of codes as readonly unknown[]) {
    const { id, hash } = (typeof c === 'object' && c !== null ? c : {}) as Partial<StoredRecoveryCode>;
    if (typeof id !== 'string' || typeof hash !== 'string')
      throw typeError('ERR_OPTION_TYPE', '"set.codes" expected { id: string, hash: string } items');
    if (id.length === 0 || id.length > MAX_CODE_ID || hash.length === 0 || hash.length > MAX_CODE_HASH)
      throw rangeError('ERR_OPTION_INVALID', `"set.codes" ids expected 1..${MAX_CODE_ID} and hashes 1..${MAX_CODE_HASH} characters`);
    // A duplicate id would silently merge two codes into one hash field.
    if (seen.has(id)) throw rangeError('ERR_OPTION_INVALID', '"set.codes" has a duplicate id');
    seen.add(id);
  }
  return { setId, issuedAt, total, codes };
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'string' ? e : '';
}

/**
 * Maps a client error to `OtpkitError`. The cause is a copy holding only the message, name and
 * code: clients attach the command's arguments (recovery-code hashes) to their errors.
 */
function storeError(e: unknown, op: string): OtpkitError {
  if (e instanceof OtpkitError) return e;
  const message = errorMessage(e);
  const cause = new Error(message);
  if (e instanceof Error) cause.name = e.name;
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  if (typeof code === 'string') Object.assign(cause, { code });
  if (/OTPKIT_CORRUPT|WRONGTYPE|not an integer|out of range/.test(message))
    return new OtpkitError('ERR_STORE_CORRUPT', `Redis store: ${op} found malformed data`, { cause });
  return new OtpkitError('ERR_STORE', `Redis store: ${op} failed`, { cause });
}

/**
 * Creates the Redis `OtpStore` on a client you connected (ioredis or node-redis).
 *
 * @param options - {@link RedisStoreOptions}: the client, the key prefix, optional replica waits.
 * @returns a {@link RedisStore} (`distributedSafe: true`).
 * @throws TypeError if `client` has neither `call` nor `sendCommand`, or an option has the wrong
 *   type; RangeError if `prefix` contains `{` or `}` or is too long, or `waitForReplicas` is out
 *   of range. Its methods reject with `OtpkitError` (`ERR_STORE` on a Redis or connection error,
 *   `ERR_STORE_CORRUPT` on a malformed stored value or a key of the wrong type) and with
 *   TypeError/RangeError on invalid arguments.
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
 * @see REQUIREMENTS §(d) D.3.3 (Redis sketches, durability caveat)
 * @see https://redis.io/docs/latest/develop/interact/programmability/eval-intro/ (script atomicity)
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw typeError('ERR_OPTION_TYPE', `"options" expected an object, got ${kind(options)}`);
  for (const key in options) {
    if (!STORE_KEYS.has(key)) throw rangeError('ERR_OPTION_UNKNOWN', `"options" has unknown option "${key}"`);
  }
  const client: unknown = options.client;
  let send: (args: string[]) => Promise<unknown>;
  if (typeof client === 'object' && client !== null && typeof (client as IORedisClientLike).call === 'function') {
    // ioredis also has a `sendCommand`, taking a Command object: test `call` first.
    const c = client as IORedisClientLike;
    send = (args) => c.call(args[0] as string, ...args.slice(1));
  } else if (typeof client === 'object' && client !== null && typeof (client as NodeRedisClientLike).sendCommand === 'function') {
    const c = client as NodeRedisClientLike;
    send = (args) => c.sendCommand(args);
  } else {
    throw typeError('ERR_OPTION_TYPE', `"client" expected an ioredis or node-redis client, got ${kind(client)}`);
  }
  const prefix = options.prefix ?? 'otpkit:';
  if (typeof prefix !== 'string') throw typeError('ERR_OPTION_TYPE', `"prefix" expected string, got ${kind(prefix)}`);
  // A brace in the prefix would become the cluster hash tag and split a user's keys over slots.
  if (/[{}]/.test(prefix) || prefix.length > 128)
    throw rangeError('ERR_OPTION_INVALID', '"prefix" expected at most 128 characters without "{" or "}"');
  const wait = options.waitForReplicas;
  if (wait !== undefined) {
    if (typeof wait !== 'object' || wait === null)
      throw typeError('ERR_OPTION_TYPE', `"waitForReplicas" expected an object, got ${kind(wait)}`);
    const { replicas, timeoutMs } = wait;
    if (typeof replicas !== 'number' || !Number.isSafeInteger(replicas) || replicas < 1 || replicas > 100)
      throw rangeError('ERR_OPTION_INVALID', '"waitForReplicas.replicas" expected integer 1..100');
    if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000)
      throw rangeError('ERR_OPTION_INVALID', '"waitForReplicas.timeoutMs" expected integer 1..600000');
  }

  const userKey = (userId: string): string => `${prefix}{${escapeId(aid(userId, 'userId'))}}`;
  const credKey = (userId: string, credentialId: string): string =>
    `${userKey(userId)}:cred:${escapeId(aid(credentialId, 'credentialId'))}`;
  const failKey = (userId: string, scope: string): string => `${userKey(userId)}:fail:${escapeId(aid(scope, 'scope'))}`;
  const recoveryKey = (userId: string): string => `${userKey(userId)}:recovery`;
  const recoverySetKey = (userId: string): string => `${userKey(userId)}:recovery-set`;

  /** Runs a script by SHA; on NOSCRIPT (nothing ran) sends its source once, which also caches it. */
  const run = async (s: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> => {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      try {
        return await send(['EVALSHA', s.sha, ...tail]);
      } catch (e) {
        if (!errorMessage(e).startsWith('NOSCRIPT')) throw e;
        return await send(['EVAL', s.source, ...tail]);
      }
    } catch (e) {
      throw storeError(e, s.name);
    }
  };

  /** After a write: with `waitForReplicas`, fail closed unless enough replicas have it. */
  const durable = async (op: string): Promise<void> => {
    if (wait === undefined) return;
    let acked: unknown;
    try {
      acked = await send(['WAIT', String(wait.replicas), String(wait.timeoutMs)]);
    } catch (e) {
      throw storeError(e, `${op} (WAIT)`);
    }
    if (integer(acked, 'WAIT reply') < wait.replicas)
      throw new OtpkitError('ERR_STORE', `Redis store: ${op} was not acknowledged by ${wait.replicas} replica(s) in time`);
  };

  const nonNegative = (v: unknown, title: string): number => {
    if (typeof v !== 'number') throw typeError('ERR_OPTION_TYPE', `"${title}" expected integer, got ${kind(v)}`);
    if (!Number.isSafeInteger(v) || v < 0) throw rangeError('ERR_OPTION_INVALID', `"${title}" expected a non-negative safe integer, got ${v}`);
    return v;
  };
  const counter = (v: unknown, title: string): bigint => {
    if (typeof v !== 'bigint') throw typeError('ERR_COUNTER_TYPE', `"${title}" expected bigint, got ${kind(v)}`);
    if (v < 0n || v > MAX_U64) throw rangeError('ERR_COUNTER_RANGE', `"${title}" expected 0..2^64-1, got ${v}`);
    return v;
  };

  return Object.freeze({
    distributedSafe: true as const,
    prefix,

    async getState(userId: string, credentialId: string, scope: string): Promise<CredentialState> {
      return parseState(await run(GET_STATE, [credKey(userId, credentialId), failKey(userId, scope)], []));
    },

    async claimTotpStep(userId: string, credentialId: string, step: number): Promise<boolean> {
      const key = credKey(userId, credentialId);
      const won = flag(await run(CLAIM_STEP, [key], [String(nonNegative(step, 'step'))]), 'claimTotpStep reply');
      if (won) await durable('claimTotpStep');
      return won;
    },

    async compareAndSetHotpCounter(userId: string, credentialId: string, expected: bigint | null, next: bigint): Promise<boolean> {
      const key = credKey(userId, credentialId);
      const from = expected === null ? '' : counter(expected, 'expected').toString();
      const to = counter(next, 'next').toString();
      const won = flag(await run(CAS_COUNTER, [key], [from, to]), 'compareAndSetHotpCounter reply');
      if (won) await durable('compareAndSetHotpCounter');
      return won;
    },

    async recordFailure(userId: string, scope: string, now: number): Promise<number> {
      const key = failKey(userId, scope);
      const count = integer(await run(RECORD_FAILURE, [key], [String(nonNegative(now, 'now'))]), 'failures');
      if (count < 1) throw corrupt('failures');
      await durable('recordFailure');
      return count;
    },

    async resetFailures(userId: string, scope: string): Promise<void> {
      await run(RESET_FAILURES, [failKey(userId, scope)], []);
      await durable('resetFailures');
    },

    async setDrift(userId: string, credentialId: string, drift: number): Promise<void> {
      const key = credKey(userId, credentialId);
      if (typeof drift !== 'number') throw typeError('ERR_OPTION_TYPE', `"drift" expected integer, got ${kind(drift)}`);
      // A drift beyond ±10 would read back as corrupt: refuse to write it.
      if (!Number.isSafeInteger(drift) || Math.abs(drift) > MAX_DRIFT)
        throw rangeError('ERR_OPTION_WINDOW', `"drift" expected integer -${MAX_DRIFT}..${MAX_DRIFT}, got ${drift}`);
      await run(SET_DRIFT, [key], [String(drift)]);
      await durable('setDrift');
    },

    async getRecoveryCodeSet(userId: string): Promise<RecoveryCodeSet | null> {
      return parseSet(await run(GET_SET, [recoveryKey(userId), recoverySetKey(userId)], []));
    },

    async consumeRecoveryCode(userId: string, codeId: string): Promise<boolean> {
      const key = recoveryKey(userId);
      if (typeof codeId !== 'string') throw typeError('ERR_OPTION_TYPE', `"codeId" expected string, got ${kind(codeId)}`);
      if (codeId.length === 0 || codeId.length > MAX_CODE_ID) return false; // never stored
      const won = flag(await run(CONSUME_CODE, [key], [codeId]), 'consumeRecoveryCode reply');
      if (won) await durable('consumeRecoveryCode');
      return won;
    },

    async replaceRecoveryCodes(userId: string, set: RecoveryCodeSet, expectedSetId: string | null): Promise<boolean> {
      const keys = [recoveryKey(userId), recoverySetKey(userId)];
      const { setId, issuedAt, total, codes } = aset(set);
      if (expectedSetId !== null && (typeof expectedSetId !== 'string' || !SET_ID.test(expectedSetId)))
        throw typeError('ERR_OPTION_TYPE', '"expectedSetId" expected null or a set id');
      const args: string[] = [expectedSetId ?? '', setId, String(issuedAt), String(total)];
      for (const c of codes) args.push(c.id, c.hash);
      const won = flag(await run(REPLACE_CODES, keys, args), 'replaceRecoveryCodes reply');
      if (won) await durable('replaceRecoveryCodes');
      return won;
    },
  });
}
