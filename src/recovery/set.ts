/**
 * Recovery-code sets: hashing a user's whole set for storage, and finding which stored code a
 * typed one is. With scrypt a set shares ONE random 128-bit salt (and gives each code a random
 * 128-bit id), so a redemption attempt costs one scrypt whatever the number of codes; with a
 * pepper each code's id is derived from its HMAC, so the match is one HMAC and one lookup. The
 * trade-offs, and why every attempt costs the same: docs/security-model.md §3.1, §3.3 and §3.17.
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
  fitsProfile,
  formatHash,
  hashOptions,
  parseStored,
  SALT_BYTES,
  type HashProfile,
  type ParsedStored,
  type RecoveryHashOptions,
} from './hash.js';
import { formatPepperHash, pepperDigest, pepperId, pepperKey } from './pepper.js';

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

function prepareSet(codes: unknown, options: unknown): { canon: string[]; profile: HashProfile } {
  if (!Array.isArray(codes))
    throw typeError('ERR_RECOVERY_TYPE', `"codes" expected array, got ${kind(codes)}`);
  if (codes.length < 1 || codes.length > MAX_COUNT)
    throw rangeError(
      'ERR_OPTION_RECOVERY',
      `"codes" expected 1..${MAX_COUNT} codes, got ${codes.length}`,
    );
  const profile = hashOptions(options);
  const canon = codes.map((c: unknown, i) =>
    fitsProfile(codeForHashing(c, `codes[${i}]`), profile, `codes[${i}]`),
  );
  // Equal codes would share one hash (and, with a pepper, one id) and could be redeemed twice.
  if (new Set(canon).size !== canon.length)
    throw rangeError('ERR_OPTION_RECOVERY', '"codes" contains duplicates');
  return { canon, profile };
}

/** The records of a set hashed with a pepper: one HMAC per code, the id derived from it. */
function pepperRecords(
  canon: readonly string[],
  profile: HashProfile & { kind: 'hmac' },
): StoredRecoveryCode[] {
  const { current, keys } = profile.pepper;
  const key = keys.get(current) as Uint8Array;
  return canon.map((c) => {
    const d = pepperDigest(c, key);
    return { id: pepperId(d), hash: formatPepperHash(current, c.length, d) };
  });
}

/**
 * Hashes a whole set for storage. With scrypt (the default): ONE random 128-bit salt shared by
 * the set and one random 128-bit hex id per code, so redeeming costs one scrypt per attempt
 * whatever the number of codes; issuing costs one scrypt per code (about 0.5 s for 10 codes at
 * the defaults), and {@link hashRecoveryCodeSetAsync} does the same without blocking the event
 * loop. With a `pepper`: one HMAC-SHA-256 per code (microseconds), each id the first 16 bytes
 * of the code's HMAC in hex.
 *
 * @param codes - 1..100 distinct codes, in any form {@link normalizeRecoveryCode} accepts (with
 *   a pepper, of at least 112 bits).
 * @param options - {@link RecoveryHashOptions}: scrypt parameters, or `pepper`.
 * @returns one `{ id, hash }` record per code, in order. Store these, never the codes.
 * @throws TypeError `ERR_RECOVERY_TYPE` if `codes` is not an array of strings.
 * @throws RangeError `ERR_OPTION_RECOVERY` if the set is empty, over 100, holds a non-code, a
 *   duplicate or (with a pepper) a code under 112 bits, or on a bad scrypt parameter or pepper;
 *   `ERR_OPTION_UNKNOWN` on an unknown option.
 * @example
 * ```ts
 * const codes = generateRecoveryCodes();
 * const records = hashRecoveryCodeSet(codes);
 * matchRecoveryCode(codes[3]!, records) === records[3]!.id; // true
 * ```
 * @see RFC 7914 (scrypt); RFC 2104 (HMAC); NIST SP 800-63B §5.1.2.2
 */
export function hashRecoveryCodeSet(
  codes: readonly string[],
  options?: RecoveryHashOptions,
): StoredRecoveryCode[] {
  const { canon, profile } = prepareSet(codes, options);
  if (profile.kind === 'hmac') return pepperRecords(canon, profile);
  const salt = randomBytes(SALT_BYTES);
  const { params } = profile;
  return canon.map((c) => ({
    id: newId(),
    hash: formatHash(params, c.length, salt, deriveSync(c, salt, params)),
  }));
}

/**
 * Async twin of {@link hashRecoveryCodeSet} (scrypt runs off the event loop where the runtime
 * allows, else yields between codes): same arguments, validation and output format.
 *
 * @param codes - 1..100 distinct codes, in any form {@link normalizeRecoveryCode} accepts.
 * @param options - {@link RecoveryHashOptions}: scrypt parameters, or `pepper`.
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
  const { canon, profile } = prepareSet(codes, options);
  if (profile.kind === 'hmac') return pepperRecords(canon, profile);
  const salt = randomBytes(SALT_BYTES);
  const { params } = profile;
  const hashes = await Promise.all(canon.map((c) => deriveAsync(c, salt, params)));
  return canon.map((c, i) => ({
    id: newId(),
    hash: formatHash(params, c.length, salt, hashes[i] as Uint8Array),
  }));
}

// ---------------------------------------------------------------------------------------------
// Matching a code against a set: one plan and one comparison shared by the sync and async forms.

/** Records sharing one way of hashing (profile, parameters or key, length, salt): one evaluation covers all. */
interface Group {
  readonly h: ParsedStored;
  /** By id: with a pepper the id is derived from the digest, so the match is a lookup. */
  readonly members: Map<string, Uint8Array>;
}

/** One evaluation of a match and the records it is compared with (none for the stand-in). */
type MatchJob =
  | {
      readonly kind: 'scrypt';
      readonly code: string;
      readonly salt: Uint8Array;
      readonly params: ScryptParams;
      readonly group: Group | undefined;
    }
  | {
      readonly kind: 'hmac';
      readonly code: string;
      readonly key: Uint8Array;
      readonly group: Group | undefined;
    };

/** A fixed random salt (or HMAC key) for the stand-in evaluation, drawn once per process. */
let standInSalt: Uint8Array | undefined;
/** A well-formed code that is never compared with anything: the stand-in's input. */
const STAND_IN = '0000000000000000';

function jobFor(
  code: string,
  h: ParsedStored,
  group: Group | undefined,
  profile: HashProfile,
): MatchJob {
  if (h.kind === 'hmac') {
    const pepper = profile.kind === 'hmac' ? profile.pepper : undefined;
    return { kind: 'hmac', code, key: pepperKey(pepper, h.keyId), group };
  }
  return { kind: 'scrypt', code, salt: h.salt, params: h, group };
}

/**
 * Validates and groups stored records, then lists the evaluations a match needs: one per group
 * whose code length fits the canonical input, or, when none fits (a malformed input, a length
 * that differs from the stored codes', a user with no codes), ONE stand-in evaluation of the
 * first group's kind, or of `options`' profile without records. Every attempt therefore costs
 * at least one hash of the same kind and parameters, whatever the user has and whatever was
 * typed: timing says nothing about whether a user has codes or of what length.
 */
function planMatch(code: unknown, stored: unknown, options: unknown): MatchJob[] {
  const profile = hashOptions(options);
  acode(code, 'code');
  if (!Array.isArray(stored))
    throw typeError('ERR_OPTION_TYPE', `"stored" expected array, got ${kind(stored)}`);
  // Parse every record before looking at the code, so corrupt storage always surfaces (fail closed),
  // and so does a pepper key that is no longer configured.
  const groups = new Map<string, { group: Group; job: MatchJob }>();
  for (const rec of stored as unknown[]) {
    const r = rec as { id?: unknown; hash?: unknown } | null;
    if (
      typeof r !== 'object' ||
      r === null ||
      typeof r.id !== 'string' ||
      typeof r.hash !== 'string'
    )
      throw corrupt('record is not { id: string, hash: string }');
    const h = parseStored(r.hash);
    const key =
      h.kind === 'hmac'
        ? `hmac,${h.keyId},${h.len}`
        : `scrypt,${h.logN},${h.r},${h.p},${h.len},${h.saltText}`;
    let g = groups.get(key);
    if (g === undefined) {
      const group: Group = { h, members: new Map() };
      groups.set(key, (g = { group, job: jobFor('', h, group, profile) }));
    }
    const digest = h.kind === 'hmac' ? h.digest : h.hash;
    if (h.kind === 'hmac' && r.id !== pepperId(h.digest))
      throw corrupt('record id does not match its hash');
    if (g.group.members.has(r.id)) throw corrupt('duplicate record id');
    g.group.members.set(r.id, digest);
  }
  const c = canonicalize(code as string, MIN_CHARS, MAX_CHARS);
  const jobs: MatchJob[] = [];
  for (const { group, job } of groups.values())
    if (c !== null && c.length === group.h.len) jobs.push({ ...job, code: c });
  if (jobs.length === 0) {
    const first = groups.values().next().value as { job: MatchJob } | undefined;
    standInSalt ??= randomBytes(32);
    const stand: MatchJob =
      first !== undefined
        ? { ...first.job, group: undefined }
        : profile.kind === 'hmac'
          ? { kind: 'hmac', code: '', key: standInSalt, group: undefined }
          : {
              kind: 'scrypt',
              code: '',
              salt: standInSalt.subarray(0, SALT_BYTES),
              params: profile.params,
              group: undefined,
            };
    jobs.push({ ...stand, code: STAND_IN });
  }
  return jobs;
}

/**
 * Compares every derived hash with the records of its group in constant time, with no early exit
 * (scrypt: every record; pepper: the record whose id the digest names); returns the id of the
 * (last) matching record, or null.
 */
function settleMatch(jobs: readonly MatchJob[], derived: readonly Uint8Array[]): string | null {
  let found: string | null = null;
  jobs.forEach((job, i) => {
    const d = derived[i] as Uint8Array;
    const members = job.group?.members;
    if (members === undefined) return;
    if (job.kind === 'hmac') {
      // The id is a keyed function of the input: looking it up tells an observer nothing without the key.
      const id = pepperId(d);
      const m = members.get(id);
      if (m !== undefined && constantTimeEqualBytes(d, m)) found = id;
      return;
    }
    for (const [id, hash] of members) if (constantTimeEqualBytes(d, hash)) found = id; // no break
  });
  return found;
}

function deriveJobSync(j: MatchJob): Uint8Array {
  return j.kind === 'hmac' ? pepperDigest(j.code, j.key) : deriveSync(j.code, j.salt, j.params);
}

/**
 * @internal Finds which stored code `code` is. Computes the hash once per distinct (parameters,
 * salt) group whose length fits (normally one group per set), and at least once in every case
 * (see {@link planMatch}), then compares in constant time with no early exit.
 *
 * @param code - the code as the user typed it.
 * @param stored - the user's unused records (from {@link hashRecoveryCodeSet}).
 * @param options - {@link RecoveryHashOptions}: the pepper of `$otpkit-hmac$` records, and the profile of the stand-in hash when there are no records.
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
  return settleMatch(jobs, jobs.map(deriveJobSync));
}

/**
 * @internal Async form of {@link matchRecoveryCode} for the store-backed layer: the same plan and
 * comparison, with the hashes computed off the event loop where the runtime allows.
 *
 * @param code - the code as the user typed it.
 * @param stored - the user's unused records.
 * @param options - {@link RecoveryHashOptions}: the pepper of `$otpkit-hmac$` records, and the profile of the stand-in hash when there are no records.
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
  for (const j of jobs)
    derived.push(
      j.kind === 'hmac' ? deriveJobSync(j) : await deriveAsync(j.code, j.salt, j.params),
    );
  return settleMatch(jobs, derived);
}
