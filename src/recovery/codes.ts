/**
 * Recovery (backup) codes: what a code is, how one is drawn, and how what a user typed becomes
 * its canonical form. Each code is `ceil(bits / 5)` characters of Crockford base32
 * (`0123456789ABCDEFGHJKMNPQRSTVWXYZ`) from the platform CSPRNG: by default 10 codes of 80 bits
 * (16 characters, shown as `K7QM-4X2P-9D3R-TB8W`), never under 64 bits (NIST SP 800-63B-4
 * §4.2.1.1). The reasoning behind these choices: docs/security-model.md §3.1.
 * @module
 */
import { aint, aoptions, kind } from '../_assert.js';
import { CROCKFORD, crockfordSymbols } from '../_encoding.js';
import { OtpkitError, rangeError, typeError } from '../errors.js';
import { randomBytes } from '../secret.js';

/** Entropy bounds in bits: NIST SP 800-63B-4 §4.2.1.1 floor of 64; 160 is ample. */
const MIN_BITS = 64;
const MAX_BITS = 160;
const DEFAULT_BITS = 80;
const DEFAULT_COUNT = 10;
/** @internal The most codes in one set. */
export const MAX_COUNT = 100;
const DEFAULT_GROUP_SIZE = 4;
const MAX_GROUP_SIZE = 8;
/** @internal Code lengths in characters: ceil(64 / 5) = 13 .. ceil(160 / 5) = 32. */
export const MIN_CHARS: number = /* @__PURE__ */ charsFor(MIN_BITS);
/** @internal See {@link MIN_CHARS}. */
export const MAX_CHARS: number = /* @__PURE__ */ charsFor(MAX_BITS);

const GENERATE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['count', 'bits', 'groupSize']);
const NORMALIZE_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['bits']);

/** Options of {@link generateRecoveryCodes}. */
export interface GenerateRecoveryCodesOptions {
  /** How many codes, 1–100. @defaultValue 10 */
  readonly count?: number | undefined;
  /**
   * Minimum entropy per code in bits, 64–160 (NIST floor: 64). Each character carries 5 bits, so a
   * code has `ceil(bits / 5)` characters and `5 · ceil(bits / 5)` bits (64 → 13 characters, 65 bits).
   * @defaultValue 80 (16 characters)
   */
  readonly bits?: number | undefined;
  /** Characters per hyphen-separated group when displayed: 0 (no grouping) or 2–8. @defaultValue 4 */
  readonly groupSize?: number | undefined;
}

/** Options of {@link normalizeRecoveryCode}. */
export interface NormalizeRecoveryCodeOptions {
  /**
   * The entropy the codes were generated with (64–160); sets the expected length `ceil(bits / 5)`.
   * @defaultValue 80
   */
  readonly bits?: number | undefined;
}

function charsFor(bits: number): number {
  return Math.ceil(bits / 5);
}

function abits(v: unknown): number {
  return v === undefined
    ? DEFAULT_BITS
    : aint(v, 'bits', MIN_BITS, MAX_BITS, 'ERR_OPTION_RECOVERY');
}

/** @internal A code argument: a string, else TypeError `ERR_RECOVERY_TYPE`. */
export function acode(code: unknown, title = 'code'): string {
  if (typeof code !== 'string')
    throw typeError('ERR_RECOVERY_TYPE', `"${title}" expected string, got ${kind(code)}`);
  return code;
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/** Char codes < 128 → the canonical symbol, '' for a separator, undefined to reject. */
const CANONICAL: readonly (string | undefined)[] = /* @__PURE__ */ (() => {
  const t = new Array<string | undefined>(128).fill(undefined);
  for (const c of CROCKFORD.chars) {
    t[c.charCodeAt(0)] = c;
    t[c.toLowerCase().charCodeAt(0)] = c;
  }
  // Crockford's confusables: O reads as zero, I and L as one (U stays invalid).
  for (const [from, to] of [
    ['O', '0'],
    ['I', '1'],
    ['L', '1'],
  ] as const) {
    t[from.charCodeAt(0)] = to;
    t[from.toLowerCase().charCodeAt(0)] = to;
  }
  t[0x20] = ''; // ASCII space
  t[0x2d] = ''; // hyphen-minus
  return t;
})();

/**
 * @internal Canonicalises `input` to a code of `minLen..maxLen` characters, or null. The raw
 * length is checked first, so a huge string costs O(1): a code of `maxLen` characters leaves room
 * for three separators per character plus 16 more.
 */
export function canonicalize(input: string, minLen: number, maxLen: number): string | null {
  if (input.length > 4 * maxLen + 16) return null;
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const cc = input.charCodeAt(i);
    // Only ASCII is case-folded: no locale or Unicode tables (e.g. 'ı' or a full-width 'Ａ' is rejected).
    const c = cc < 128 ? CANONICAL[cc] : undefined;
    if (c === undefined) return null;
    out += c;
    if (out.length > maxLen) return null;
  }
  return out.length >= minLen ? out : null;
}

/** @internal Canonicalises a code handed to a hashing function by the programmer; malformed → RangeError. */
export function codeForHashing(code: unknown, title: string): string {
  const c = canonicalize(acode(code, title), MIN_CHARS, MAX_CHARS);
  if (c === null)
    throw rangeError(
      'ERR_OPTION_RECOVERY',
      `"${title}" is not a recovery code (${MIN_CHARS}..${MAX_CHARS} Crockford base32 characters)`,
    );
  return c;
}

/**
 * Normalises a recovery code as a user typed it to its canonical form: ASCII upper case, ASCII
 * spaces and hyphens dropped, Crockford confusables mapped (`O`→`0`, `I`/`L`→`1`), then an exact
 * length and charset check. Deterministic and idempotent; never throws on a string.
 *
 * @param input - the code as typed, e.g. `'k7qm-4x2p 9d3r-tb8w'`.
 * @param options - {@link NormalizeRecoveryCodeOptions}.
 * @returns the canonical code (no separators), or `null` if the input is not a well-formed code
 *   of `ceil(bits / 5)` characters (including any input longer than `4 · length + 16`, rejected
 *   before looking at its content). A malformed code is a result, not an error.
 * @throws TypeError `ERR_RECOVERY_TYPE` if `input` is not a string.
 * @throws RangeError `ERR_OPTION_RECOVERY` if `bits` is not an integer 64..160;
 *   `ERR_OPTION_UNKNOWN` on an unknown option.
 * @example
 * ```ts
 * normalizeRecoveryCode('k7qm-4x2p 9d3r-tb8w'); // 'K7QM4X2P9D3RTB8W'
 * normalizeRecoveryCode('K7QM-4X2P-9D3R-TBOW'); // 'K7QM4X2P9D3RTB0W' (O read as zero)
 * normalizeRecoveryCode('K7QM-4X2P'); // null (too short)
 * ```
 * @see Crockford base32 (https://www.crockford.com/base32.html)
 */
export function normalizeRecoveryCode(
  input: string,
  options?: NormalizeRecoveryCodeOptions,
): string | null {
  acode(input, 'input');
  const o = aoptions<NormalizeRecoveryCodeOptions>(options, NORMALIZE_KEYS);
  const len = charsFor(abits(o.bits));
  return canonicalize(input, len, len);
}

// ---------------------------------------------------------------------------------------------
// Generation

function group(code: string, size: number): string {
  if (size === 0) return code;
  const parts: string[] = [];
  for (let i = 0; i < code.length; i += size) parts.push(code.slice(i, i + size));
  return parts.join('-');
}

/**
 * Generates a fresh set of distinct random recovery codes in display form.
 *
 * Characters come from `crypto.getRandomValues` (never `Math.random`), one byte per character
 * reduced to its low five bits: the alphabet has 32 = 2^5 symbols and 256 is a multiple of 32,
 * so every symbol has probability exactly 1/32 and no modulo bias is possible (hence no
 * rejection sampling). A code that repeats one already in the set is redrawn.
 *
 * @param options - {@link GenerateRecoveryCodesOptions}.
 * @returns `count` distinct codes, e.g. `'K7QM-4X2P-9D3R-TB8W'`. Show them to the user once and
 *   store only {@link hashRecoveryCodeSet}'s output.
 * @throws RangeError `ERR_OPTION_RECOVERY` if `count` is not 1..100, `bits` not 64..160, or
 *   `groupSize` not 0 or 2..8 (TypeError with the same code for a non-number);
 *   `ERR_OPTION_UNKNOWN` on an unknown option.
 * @throws OtpkitError `ERR_OPTION_INVALID` if the platform has no CSPRNG, or it keeps repeating.
 * @example
 * ```ts
 * const codes = generateRecoveryCodes(); // 10 × 'XXXX-XXXX-XXXX-XXXX'
 * const records = hashRecoveryCodeSet(codes); // store these
 * ```
 * @see NIST SP 800-63B-4 §4.2.1.1
 */
export function generateRecoveryCodes(options?: GenerateRecoveryCodesOptions): string[] {
  const o = aoptions<GenerateRecoveryCodesOptions>(options, GENERATE_KEYS);
  const count =
    o.count === undefined
      ? DEFAULT_COUNT
      : aint(o.count, 'count', 1, MAX_COUNT, 'ERR_OPTION_RECOVERY');
  const len = charsFor(abits(o.bits));
  const size =
    o.groupSize === undefined
      ? DEFAULT_GROUP_SIZE
      : aint(o.groupSize, 'groupSize', 0, MAX_GROUP_SIZE, 'ERR_OPTION_RECOVERY');
  if (size === 1) throw rangeError('ERR_OPTION_RECOVERY', '"groupSize" expected 0 or 2..8, got 1');
  const seen = new Set<string>();
  // A collision has probability < 100² / 2^65; bounding redraws turns a broken RNG into an
  // error instead of a hang.
  for (let draws = 0; seen.size < count; draws++) {
    if (draws >= 2 * count + 10)
      throw new OtpkitError('ERR_OPTION_INVALID', 'the CSPRNG keeps returning repeated values');
    seen.add(crockfordSymbols(randomBytes(len)));
  }
  return [...seen].map((c) => group(c, size));
}
