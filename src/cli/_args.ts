/**
 * Argument parsing on `node:util` `parseArgs` (no framework), with usage errors that quote the
 * option name but never an argument's value: a mistyped option may carry a secret.
 * @module
 * @internal
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { HashAlgorithm } from '../hotp.js';
import { UsageError } from './_io.js';
import { ALGORITHMS } from '../_assert.js';
import { MAX_COUNTER } from '../_bytes.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * @internal Runs `parseArgs` in strict mode with positionals allowed (each command checks their
 * number itself, so a stray secret is never echoed), turning its errors into {@link UsageError}.
 */
export function parse<const O extends Options>(
  argv: readonly string[],
  options: O,
  command: string,
): ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
> {
  try {
    const { values, positionals, tokens } = parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    // oathtool refuses an option given twice (`-N @1 -N @2`); parseArgs would keep the last one.
    const seen = new Set<string>();
    for (const t of tokens) {
      if (t.kind !== 'option' || options[t.name]?.type !== 'string') continue;
      if (seen.has(t.name))
        throw new UsageError(`--${t.name} is given more than once; give it once`, command);
      seen.add(t.name);
    }
    return { values, positionals };
  } catch (e) {
    const code =
      typeof e === 'object' && e !== null && 'code' in e
        ? (e as { code: unknown }).code
        : undefined;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      // Node's first line quotes only the option name ("Unknown option '--foo'"); later lines
      // (the "ambiguous" hint) are dropped to keep the error on one line.
      const first = (e as Error).message.split('\n')[0] ?? 'invalid arguments';
      throw new UsageError(first.charAt(0).toLowerCase() + first.slice(1), command);
    }
    throw e;
  }
}

/** @internal The value of the one option of `names` that was given; a usage error if several were. */
export function oneOf(
  values: Record<string, unknown>,
  names: readonly string[],
  command: string,
): string | undefined {
  const given = names.filter((n) => values[n] !== undefined);
  if (given.length > 1)
    throw new UsageError(
      `${given.map((n) => `--${n}`).join(' and ')} are the same option; give one`,
      command,
    );
  const v = given[0] === undefined ? undefined : values[given[0]];
  return typeof v === 'string' ? v : undefined;
}

/**
 * oathtool reads its numbers as C does (strtol base 0): `010` is octal 8 and `0x10` is 16. Such
 * forms are refused rather than read as decimal, so no number means something else to otpkit.
 */
const OCTAL_NOTE = 'without leading zeros (oathtool reads 010 as octal 8)';

/** @internal A decimal integer option in `min..max`, written without leading zeros. */
export function intOption(
  text: string,
  flag: string,
  min: number,
  max: number,
  command: string,
): number {
  if (/^0\d/.test(text))
    throw new UsageError(`${flag} expects an integer ${min}..${max} ${OCTAL_NOTE}`, command);
  if (!/^\d{1,15}$/.test(text))
    throw new UsageError(`${flag} expects an integer ${min}..${max}`, command);
  const n = Number(text);
  if (n < min || n > max)
    throw new UsageError(`${flag} expects an integer ${min}..${max}, got ${n}`, command);
  return n;
}

/** @internal An unsigned 64-bit decimal counter (RFC 4226 §5.1), written without leading zeros. */
export function counterOption(text: string, flag: string, command: string): bigint {
  if (/^0\d/.test(text))
    throw new UsageError(`${flag} expects a decimal integer 0..2^64-1 ${OCTAL_NOTE}`, command);
  if (!/^\d{1,20}$/.test(text))
    throw new UsageError(`${flag} expects a decimal integer 0..2^64-1`, command);
  const n = BigInt(text);
  if (n > MAX_COUNTER)
    throw new UsageError(
      `${flag} expects a decimal integer 0..2^64-1 (18446744073709551615)`,
      command,
    );
  return n;
}

/** @internal `SHA1`, `sha256`, `SHA-512`… → the canonical name. */
export function algorithmOption(text: string, flag: string, command: string): HashAlgorithm {
  const a = text.toUpperCase().replace(/-/g, '');
  if (ALGORITHMS.has(a)) return a as HashAlgorithm;
  throw new UsageError(`${flag} expects SHA1, SHA256 or SHA512`, command);
}

/**
 * @internal oathtool's `--totp=MODE`: `SHA1`, `SHA256` or `SHA512` in any case. oathtool silently
 * computes SHA1 for any other MODE (`--totp=SHA-256` included), so every other spelling is refused.
 */
export function totpModeOption(text: string, command: string): HashAlgorithm {
  const a = text.toUpperCase();
  if (a === 'SHA1' || a === 'SHA256' || a === 'SHA512') return a;
  throw new UsageError(
    '--totp=MODE expects SHA1, SHA256 or SHA512, written so (oathtool would silently use SHA1 for any other MODE)',
    command,
  );
}

/**
 * @internal A TOTP time-step size as oathtool's `--time-step-size` takes it: `30`, `30s`, `1m`.
 * The library allows 1..120 seconds (RFC 6238 §5.2; NIST caps OTP lifetimes at 2 minutes).
 */
export function periodOption(text: string, flag: string, command: string): number {
  const m = /^(\d{1,6})([smh]?)$/.exec(text);
  if (m === null)
    throw new UsageError(`${flag} expects seconds such as '30' or '30s' (or '1m')`, command);
  const unit = m[2] === 'm' ? 60 : m[2] === 'h' ? 3600 : 1;
  const seconds = Number(m[1]) * unit;
  if (seconds < 1 || seconds > 120)
    throw new UsageError(`${flag} expects 1..120 seconds, got ${seconds}`, command);
  return seconds;
}

/** @internal Rejects positionals beyond `max`, without echoing them (one might be a secret). */
export function maxPositionals(positionals: readonly string[], max: number, command: string): void {
  if (positionals.length > max)
    throw new UsageError(
      max === 0
        ? 'this command takes no arguments'
        : `too many arguments (expected at most ${max})`,
      command,
    );
}

/**
 * @internal Rewrites oathtool's optional-value `--totp=MODE` (which `parseArgs` cannot express)
 * into `--totp` and returns MODE. Stops at `--`.
 */
export function extractTotpMode(argv: readonly string[]): {
  argv: string[];
  totpMode: string | undefined;
} {
  const out: string[] = [];
  let totpMode: string | undefined;
  let done = false;
  for (const a of argv) {
    if (!done && a === '--') done = true;
    if (!done && a.startsWith('--totp=')) {
      totpMode = a.slice('--totp='.length);
      out.push('--totp');
    } else out.push(a);
  }
  return { argv: out, totpMode };
}
