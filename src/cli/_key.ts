/**
 * Reading a shared secret: from the positional KEY (visible in the process list, so discouraged),
 * from `--secret-file F` (or KEY `@F`, oathtool's syntax), or from stdin (`--secret-stdin` or KEY
 * `-`). Base32 by default through the library's loose path (people retype secrets in lower case
 * and groups), or hex with `--hex`.
 *
 * Errors say what is wrong and where, never the key.
 * @module
 * @internal
 */
import {
  MAX_SECRET_BYTES,
  MIN_INSECURE_SECRET_BYTES,
  MIN_SECRET_BYTES,
  secretLengthProblem,
} from '../_assert.js';
import { fromDigits, HEX, IMPOSSIBLE_LENGTH } from '../_encoding.js';
import { decodeBase32 } from '../base32.js';
import { OtpkitError } from '../errors.js';
import {
  InputError,
  readStdin,
  readTextFile,
  stripNewline,
  UsageError,
  type CliContext,
} from './_io.js';

/** @internal `parseArgs` options shared by every command that takes a key. */
export const KEY_OPTIONS = {
  base32: { type: 'boolean', short: 'b' },
  hex: { type: 'boolean' },
  'secret-file': { type: 'string' },
  'secret-stdin': { type: 'boolean' },
  'allow-short-secret': { type: 'boolean' },
} as const;

/** @internal Help lines for {@link KEY_OPTIONS}. */
export const KEY_HELP = `Key input (exactly one source; the positional KEY is visible to other users in the process list):
  KEY                      the key on the command line; '-' reads it from stdin and '@F' from
                           file F (as oathtool's KEY)
  --secret-file F          read the key from file F (a trailing newline is ignored)
  --secret-stdin           read the key from stdin
  -b, --base32             the key is base32 (default; lower case, spaces and '-' are accepted)
  --hex                    the key is hex (as oathtool's default)
  --allow-short-secret     accept a legacy 10..15-byte (80..120-bit) key; otherwise at least 16 bytes`;

/** Smallest key accepted by default (RFC 4226 §4 R6: 128 bits) and with `--allow-short-secret`. */

/** @internal The parsed key-related values. */
export interface KeyValues {
  readonly base32?: boolean | undefined;
  readonly hex?: boolean | undefined;
  readonly 'secret-file'?: string | undefined;
  readonly 'secret-stdin'?: boolean | undefined;
  readonly 'allow-short-secret'?: boolean | undefined;
}

/** @internal Whether any key source was given. */
export function hasKeySource(values: KeyValues, positional: string | undefined): boolean {
  return (
    positional !== undefined ||
    values['secret-file'] !== undefined ||
    values['secret-stdin'] === true
  );
}

/**
 * @internal Reads and decodes the key from exactly one source.
 * @throws UsageError for no or several sources, or `--hex` with `--base32`.
 * @throws InputError / OtpkitError for an unreadable, malformed or too short key (exit 1).
 */
export async function readKey(
  ctx: CliContext,
  values: KeyValues,
  positional: string | undefined,
  command: string,
): Promise<{ secret: Uint8Array; allowShort: boolean }> {
  if (values.hex === true && values.base32 === true)
    throw new UsageError('--hex and --base32 exclude each other', command);
  const fromStdin = values['secret-stdin'] === true || positional === '-';
  const sources = [
    positional !== undefined && positional !== '-',
    values['secret-file'] !== undefined,
    fromStdin,
  ].filter(Boolean).length;
  if (sources === 0)
    throw new UsageError('missing key: give KEY, --secret-file F or --secret-stdin', command);
  if (sources > 1 || (values['secret-stdin'] === true && positional === '-'))
    throw new UsageError('give the key once: KEY, --secret-file F or --secret-stdin', command);
  let text: string;
  if (fromStdin) text = stripNewline(await readStdin(ctx.io, 'the key'));
  else if (values['secret-file'] !== undefined)
    text = stripNewline(await readTextFile(values['secret-file'], '--secret-file'));
  // '@FILE' is oathtool's KEY syntax for a key file; '@' is in neither the base32 nor the hex alphabet.
  else if (positional?.startsWith('@') === true)
    text = stripNewline(await readTextFile(positional.slice(1), 'KEY @FILE'));
  else text = positional as string;
  const allowShort = values['allow-short-secret'] === true;
  const secret = values.hex === true ? decodeHex(text) : decodeBase32Key(text);
  checkLength(secret.length, allowShort);
  return { secret, allowShort };
}

function decodeBase32Key(text: string): Uint8Array {
  try {
    return decodeBase32(text.trim(), { loose: true });
  } catch (e) {
    if (e instanceof OtpkitError) {
      // Digits 0, 1, 8, 9 are not base32: a hex key given without --hex is the likely cause.
      const hint =
        /^[0-9a-fA-F\s]+$/.test(text) && /[0189]/.test(text) ? '; for a hex key add --hex' : '';
      throw new OtpkitError(e.code, `the key is not valid base32: ${e.message}${hint}`);
    }
    throw e;
  }
}

/** @internal Decodes hex (either case; ASCII spaces and ':' between bytes are ignored). */
export function decodeHex(text: string): Uint8Array {
  const s = text.trim().replace(/[ :]/g, '');
  const r = fromDigits(
    HEX,
    s.replace(/[A-F]+/g, (m) => m.toLowerCase()),
    s.length,
    false,
  );
  if (typeof r !== 'number') return r;
  if (r === IMPOSSIBLE_LENGTH)
    throw new InputError(
      'ERR_HEX_LENGTH',
      `the key is not valid hex: odd number of digits (${s.length})`,
    );
  throw new InputError('ERR_HEX_CHAR', `the key is not valid hex: invalid character at index ${r}`);
}

/** @internal Enforces the library's secret-length rule (RFC 4226 §4 R6: 128 bits), with the 80-bit legacy opt-in. */
export function checkLength(n: number, allowShort: boolean): void {
  const problem = secretLengthProblem(n, allowShort);
  if (problem === undefined) return;
  if (problem === 'ERR_SECRET_EMPTY') throw new InputError(problem, 'the key is empty');
  if (problem === 'ERR_SECRET_TOO_LONG')
    throw new InputError(
      problem,
      `the key is ${n} bytes; at most ${MAX_SECRET_BYTES} bytes are allowed`,
    );
  if (!allowShort)
    throw new InputError(
      problem,
      `the key is ${n} bytes (${n * 8} bits); at least ${MIN_SECRET_BYTES} bytes (128 bits) are required, ` +
        `pass --allow-short-secret to accept a legacy ${MIN_INSECURE_SECRET_BYTES}..${MIN_SECRET_BYTES - 1}-byte key`,
    );
  throw new InputError(
    problem,
    `the key is ${n} bytes (${n * 8} bits); even with --allow-short-secret at least ${MIN_INSECURE_SECRET_BYTES} bytes are required`,
  );
}
