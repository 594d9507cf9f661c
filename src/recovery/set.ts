/**
 * Recovery-code sets: hashing a user's whole set for storage, and finding which stored code a
 * typed one is. A set shares ONE random 128-bit salt (and gives each code a random 128-bit id),
 * so a redemption attempt costs one scrypt whatever the number of codes. The trade-off against
 * per-code salts, and why every attempt costs the same: docs/security-model.md §3.1 and §3.3.
 * @module
 */
import { kind } from '../_assert.js';
import { constantTimeEqualBytes } from '../_bytes.js';
import { hex } from '../_encoding.js';
import type { ScryptParams } from '../_scrypt.js';
import { rangeError, typeError } from '../errors.js';
import { randomBytes } from '../secret.js';
import { acode, canonicalize, codeForHashing, MAX_CHARS, MAX_COUNT, MIN_CHARS } from './codes.js';
import {
  corrupt,
  deriveAsync,
  deriveSync,
  formatHash,
  hashOptions,
  parseHash,
  SALT_BYTES,
  type ParsedHash,
  type RecoveryHashOptions,
} from './hash.js';

/** A stored recovery code: an opaque unique id and the self-describing hash of the code. */
export interface StoredRecoveryCode {
  /** Unique id of this code (random; unique across sets, so a replaced set's ids never match). */
  readonly id: string;
  /** The self-describing hash string from {@link hashRecoveryCodeSet} (never the code itself). */
  readonly hash: string;
}

const ID_BYTES = 16;

function newId(): string {
  return hex(randomBytes(ID_BYTES));
}

// ---------------------------------------------------------------------------------------------
// Hashing a set

function prepareSet(codes: unknown, options: unknown): { canon: string[]; params: ScryptParams; salt: Uint8Array } {
  if (!Array.isArray(codes)) throw typeError('ERR_RECOVERY_TYPE', `"codes" expected array, got ${kind(codes)}`);
  if (codes.length < 1 || codes.length > MAX_COUNT)
    throw rangeError('ERR_OPTION_RECOVERY', `"codes" expected 1..${MAX_COUNT} codes, got ${codes.length}`);
  const params = hashOptions(options);
  const canon = codes.map((c: unknown, i) => codeForHashing(c, `codes[${i}]`));
  // Equal codes would share one hash under the set's salt and could be redeemed twice.
  if (new Set(canon).size !== canon.length) throw rangeError('ERR_OPTION_RECOVERY', '"codes" contains duplicates');
  return { canon, params, salt: randomBytes(SALT_BYTES) };
}

/**
 * Hashes a whole set for storage: ONE random 128-bit salt shared by the set and one random
 * 128-bit hex id per code, so redeeming costs one scrypt per attempt whatever the number of
 * codes. Issuing costs one scrypt per code (about 0.5 s for 10 codes at the defaults);
 * {@link hashRecoveryCodeSetAsync} does the same without blocking the event loop.
 *
 * @param codes - 1..100 distinct codes, in any form {@link normalizeRecoveryCode} accepts.
 * @param options - scrypt parameters ({@link RecoveryHashOptions}).
 * @returns one `{ id, hash }` record per code, in order. Store these, never the codes.
 * @throws TypeError `ERR_RECOVERY_TYPE` if `codes` is not an array of strings.
 * @throws RangeError `ERR_OPTION_RECOVERY` if the set is empty, over 100, holds a non-code or a
 *   duplicate, or on a bad scrypt parameter; `ERR_OPTION_UNKNOWN` on an unknown option.
 * @example
 * ```ts
 * const codes = generateRecoveryCodes();
 * const records = hashRecoveryCodeSet(codes);
 * matchRecoveryCode(codes[3]!, records) === records[3]!.id; // true
 * ```
 * @see RFC 7914 (scrypt); NIST SP 800-63B §5.1.2.2
 */
export function hashRecoveryCodeSet(codes: readonly string[], options?: RecoveryHashOptions): StoredRecoveryCode[] {
  const { canon, params, salt } = prepareSet(codes, options);
  return canon.map((c) => ({ id: newId(), hash: formatHash(params, c.length, salt, deriveSync(c, salt, params)) }));
}

/**
 * Async twin of {@link hashRecoveryCodeSet} (yields to the event loop between codes): same
 * arguments, validation and output format.
 *
 * @param codes - 1..100 distinct codes, in any form {@link normalizeRecoveryCode} accepts.
 * @param options - scrypt parameters ({@link RecoveryHashOptions}).
 * @returns a promise of one `{ id, hash }` record per code, in order.
 * @throws TypeError `ERR_RECOVERY_TYPE` (as a rejection) if `codes` is not an array of strings.
 * @throws RangeError `ERR_OPTION_RECOVERY` / `ERR_OPTION_UNKNOWN` (as a rejection), as {@link hashRecoveryCodeSet}.
 * @example
 * ```ts
 * const records = await hashRecoveryCodeSetAsync(generateRecoveryCodes());
 * ```
 * @see RFC 7914 (scrypt); NIST SP 800-63B §5.1.2.2
 */
export async function hashRecoveryCodeSetAsync(
  codes: readonly string[],
  options?: RecoveryHashOptions,
): Promise<StoredRecoveryCode[]> {
  const { canon, params, salt } = prepareSet(codes, options);
  const hashes = await Promise.all(canon.map((c) => deriveAsync(c, salt, params)));
  return canon.map((c, i) => ({ id: newId(), hash: formatHash(params, c.length, salt, hashes[i] as Uint8Array) }));
}

// ---------------------------------------------------------------------------------------------
// Matching a code against a set: one plan and one comparison shared by the sync and async forms.

/** Records sharing one (parameters, length, salt): one scrypt evaluation covers all of them. */
interface Group {
  readonly h: ParsedHash;
  readonly members: { readonly id: string; readonly hash: Uint8Array }[];
}

/** One scrypt evaluation of a match and the records it is compared with (none for the stand-in). */
interface MatchJob {
  readonly code: string;
  readonly salt: Uint8Array;
  readonly params: ScryptParams;
  readonly group: Group | undefined;
}

/** A fixed random salt for the stand-in hash, drawn once per process. */
let standInSalt: Uint8Array | undefined;
/** A well-formed code that is never compared with anything: the stand-in hash's input. */
const STAND_IN = '0000000000000000';

/**
 * Validates and groups stored records, then lists the scrypt evaluations a match needs: one per
 * group whose code length fits the canonical input, or, when none fits (a malformed input, a
 * length that differs from the stored codes', a user with no codes), ONE stand-in evaluation with
 * the parameters of the first group, or those of `options` without records. Every attempt therefore costs
 * at least one hash of the same parameters, whatever the user has and whatever was typed: timing
 * says nothing about whether a user has codes or of what length.
 */
function planMatch(code: unknown, stored: unknown, options: unknown): MatchJob[] {
  const fallback = hashOptions(options);
  acode(code, 'code');
  if (!Array.isArray(stored)) throw typeError('ERR_OPTION_TYPE', `"stored" expected array, got ${kind(stored)}`);
  // Parse every record before looking at the code, so corrupt storage always surfaces (fail closed).
  const groups = new Map<string, Group>();
  for (const rec of stored as unknown[]) {
    const r = rec as { id?: unknown; hash?: unknown } | null;
    if (typeof r !== 'object' || r === null || typeof r.id !== 'string' || typeof r.hash !== 'string')
      throw corrupt('record is not { id: string, hash: string }');
    const h = parseHash(r.hash);
    const key = `${h.logN},${h.r},${h.p},${h.len},${h.saltText}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { h, members: [] }));
    g.members.push({ id: r.id, hash: h.hash });
  }
  const c = canonicalize(code as string, MIN_CHARS, MAX_CHARS);
  const jobs: MatchJob[] = [];
  for (const g of groups.values())
    if (c !== null && c.length === g.h.len) jobs.push({ code: c, salt: g.h.salt, params: g.h, group: g });
  if (jobs.length === 0) {
    const first = groups.values().next().value as Group | undefined;
    standInSalt ??= randomBytes(SALT_BYTES);
    jobs.push({ code: STAND_IN, salt: standInSalt, params: first?.h ?? fallback, group: undefined });
  }
  return jobs;
}

/**
 * Compares every derived hash with every record of its group in constant time, with no early
 * exit; returns the id of the (last) matching record, or null.
 */
function settleMatch(jobs: readonly MatchJob[], derived: readonly Uint8Array[]): string | null {
  let found: string | null = null;
  jobs.forEach((job, i) => {
    for (const m of job.group?.members ?? []) {
      const hit = constantTimeEqualBytes(derived[i] as Uint8Array, m.hash);
      if (hit) found = m.id; // no break: the time does not depend on which record matched
    }
  });
  return found;
}

/**
 * @internal Finds which stored code `code` is. Computes scrypt once per distinct (parameters,
 * salt) group whose length fits (normally one group per set), and at least once in every case
 * (see {@link planMatch}), then compares in constant time with no early exit.
 *
 * @param code - the code as the user typed it.
 * @param stored - the user's unused records (from {@link hashRecoveryCodeSet}).
 * @param options - the scrypt parameters of the stand-in hash when there are no records.
 * @returns the matching record's `id`, or `null` if none matches.
 * @throws TypeError `ERR_RECOVERY_TYPE` if `code` is not a string; `ERR_OPTION_TYPE` if `stored`
 *   is not an array.
 * @throws OtpkitError `ERR_RECOVERY_HASH` if a record is malformed (checked before the code).
 * @example
 * ```ts
 * const records = hashRecoveryCodeSet(['K7QM-4X2P-9D3R-TB8W', '0000-1111-2222-3333']);
 * matchRecoveryCode('k7qm4x2p9d3rtb8w', records); // records[0].id
 * matchRecoveryCode('K7QM-4X2P-9D3R-TB8X', records); // null
 * ```
 */
export function matchRecoveryCode(
  code: string,
  stored: readonly StoredRecoveryCode[],
  options?: RecoveryHashOptions,
): string | null {
  const jobs = planMatch(code, stored, options);
  return settleMatch(jobs, jobs.map((j) => deriveSync(j.code, j.salt, j.params)));
}

/**
 * @internal Async form of {@link matchRecoveryCode} for the store-backed layer: the same plan and
 * comparison, with the hashes computed off the event loop where the runtime allows.
 *
 * @param code - the code as the user typed it.
 * @param stored - the user's unused records.
 * @param options - the scrypt parameters of the stand-in hash when there are no records.
 * @returns a promise of the matching record's `id`, or `null`.
 * @throws TypeError `ERR_RECOVERY_TYPE` / `ERR_OPTION_TYPE` (as a rejection), as {@link matchRecoveryCode}.
 * @throws OtpkitError `ERR_RECOVERY_HASH` (as a rejection) if a record is malformed.
 * @example
 * ```ts
 * const id = await matchRecoveryCodeAsync(input, set.codes);
 * ```
 */
export async function matchRecoveryCodeAsync(
  code: string,
  stored: readonly StoredRecoveryCode[],
  options?: RecoveryHashOptions,
): Promise<string | null> {
  const jobs = planMatch(code, stored, options);
  const derived: Uint8Array[] = [];
  for (const j of jobs) derived.push(await deriveAsync(j.code, j.salt, j.params));
  return settleMatch(jobs, derived);
}
