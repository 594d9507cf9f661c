/**
 * The OTP parameters shared by `code` and `verify`, with oathtool's option names and meanings
 * (oathtool(1) manual): `--totp[=MODE]`/`--hotp`, `-d`, `-s` (`30`/`30s`/`1m`), `-S` (start time),
 * `-N` (now), `-c`, and `-w` (in the commands). Every value otpkit accepts means what it means to
 * oathtool; what would mean something else (a bare number as a time, `010`, `--totp=SHA-256`) or
 * is not supported (`-v`) is a usage error that says what to write instead.
 * @module
 * @internal
 */
import type { HashAlgorithm } from '../hotp.js';
import {
  algorithmOption,
  counterOption,
  intOption,
  oneOf,
  periodOption,
  totpModeOption,
} from './_args.js';
import { UsageError } from './_io.js';
import { parseTimeArg } from './_time.js';

/** @internal `parseArgs` options of the OTP parameters. */
export const OTP_OPTIONS = {
  totp: { type: 'boolean' },
  hotp: { type: 'boolean' },
  algorithm: { type: 'string', short: 'a' },
  digits: { type: 'string', short: 'd' },
  period: { type: 'string', short: 's' },
  'time-step-size': { type: 'string' },
  t0: { type: 'string', short: 'S' },
  'start-time': { type: 'string' },
  now: { type: 'string', short: 'N' },
  counter: { type: 'string', short: 'c' },
  // oathtool's -v, parsed only to be refused with an explanation instead of "unknown option".
  verbose: { type: 'boolean', short: 'v' },
} as const;

/** @internal Help lines for {@link OTP_OPTIONS}. */
export const OTP_HELP = `OTP parameters (oathtool's options, with oathtool's meaning):
  --totp[=MODE]            time-based code, RFC 6238 (otpkit's default; oathtool's is --hotp);
                           MODE is SHA1 (default), SHA256 or SHA512
  --hotp                   counter-based code, RFC 4226
  -a, --algorithm A        HMAC hash: SHA1 (default), SHA256 or SHA512 (otpkit's; same as --totp=A)
  -d, --digits N           code length 6..8 (default 6)
  -s, --period S           TOTP time step in seconds, '30', '30s' or '1m' (default 30; 1..120)
      --time-step-size S   the same (oathtool's name)
  -S, --start-time T       TOTP start time T0 (default @0, 1970-01-01T00:00:00Z); alias --t0
  -N, --now T              use T as the current time (default: the system clock)
  -c, --counter N          HOTP counter, decimal 0..2^64-1 (default 0)`;

/** @internal Help text on time arguments and on what oathtool reads differently. */
export const TIME_HELP = `Times T (a subset of oathtool's GNU date syntax, with the same meaning):
  @<unix seconds>          @1700000000
  YYYY-MM-DD               2031-06-01 (midnight local time; 2031-06-01Z for UTC)
  YYYY-MM-DD[T ]hh:mm[:ss] 2031-06-01T12:00:00Z, '2031-06-01 12:00:30+02:00', '2031-06-01 12:00 UTC';
                           zone Z, UTC, +hh, +hhmm or +hh:mm; no zone = local time
A bare number is refused: oathtool reads '-N 1000' as 10:00 today, not as unix seconds (write @1000).
Years before 1970, and local times a daylight-saving change skips or repeats, are refused too.
Numbers (-d, -c, -w) are decimal without leading zeros: oathtool reads 010 as octal 8.
oathtool's -v/--verbose is not supported: it prints the key.`;

/** @internal The resolved OTP parameters. */
export type OtpParams =
  | {
      readonly mode: 'totp';
      readonly algorithm: HashAlgorithm;
      readonly digits: number;
      readonly period: number;
      /** Unix seconds. */
      readonly t0: number;
      /** Milliseconds since the epoch. */
      readonly now: number;
    }
  | {
      readonly mode: 'hotp';
      readonly algorithm: HashAlgorithm;
      readonly digits: number;
      readonly counter: bigint;
    };

/** @internal The raw values of {@link OTP_OPTIONS}. */
export interface OtpValues {
  readonly totp?: boolean | undefined;
  readonly hotp?: boolean | undefined;
  readonly algorithm?: string | undefined;
  readonly digits?: string | undefined;
  readonly period?: string | undefined;
  readonly 'time-step-size'?: string | undefined;
  readonly t0?: string | undefined;
  readonly 'start-time'?: string | undefined;
  readonly now?: string | undefined;
  readonly counter?: string | undefined;
  readonly verbose?: boolean | undefined;
}

/**
 * @internal Validates the OTP options. Options of the other mode are usage errors rather than
 * silently ignored: a script passing `--counter` to a TOTP call has a bug worth hearing about.
 */
export function resolveOtpParams(
  v: OtpValues,
  totpMode: string | undefined,
  command: string,
  clock: () => number,
): OtpParams {
  if (v.verbose === true)
    throw new UsageError(
      `-v/--verbose is oathtool's option to print the key and the parameters; otpkit ${command} does not print keys: ` +
        "drop -v (for an otpauth:// URI's parameters, use 'otpkit inspect')",
      command,
    );
  if (v.hotp === true && (v.totp === true || totpMode !== undefined))
    throw new UsageError('--totp and --hotp exclude each other', command);
  let algorithm: HashAlgorithm = 'SHA1';
  const fromMode = totpMode === undefined ? undefined : totpModeOption(totpMode, command);
  const fromFlag =
    v.algorithm === undefined ? undefined : algorithmOption(v.algorithm, '--algorithm', command);
  if (fromMode !== undefined && fromFlag !== undefined && fromMode !== fromFlag)
    throw new UsageError(`--totp=${fromMode} and --algorithm ${fromFlag} disagree`, command);
  algorithm = fromMode ?? fromFlag ?? algorithm;
  const digits = v.digits === undefined ? 6 : intOption(v.digits, '--digits', 6, 8, command);
  const periodText = oneOf(v as Record<string, unknown>, ['period', 'time-step-size'], command);
  const t0Text = oneOf(v as Record<string, unknown>, ['t0', 'start-time'], command);
  if (v.hotp === true) {
    const totpOnly = [
      [periodText, '--period'],
      [t0Text, '--start-time'],
      [v.now, '--now'],
    ] as const;
    for (const [value, flag] of totpOnly)
      if (value !== undefined) throw new UsageError(`${flag} applies to TOTP only`, command);
    const counter = v.counter === undefined ? 0n : counterOption(v.counter, '--counter', command);
    return { mode: 'hotp', algorithm, digits, counter };
  }
  if (v.counter !== undefined)
    throw new UsageError('--counter applies to HOTP only (add --hotp)', command);
  const period = periodText === undefined ? 30 : periodOption(periodText, '--period', command);
  const t0 = t0Text === undefined ? 0 : parseTimeArg(t0Text, '--start-time', command) / 1000;
  const now = v.now === undefined ? clock() : parseTimeArg(v.now, '--now', command);
  if (t0 * 1000 > now)
    throw new UsageError('--start-time lies after the current time (--now)', command);
  return { mode: 'totp', algorithm, digits, period, t0, now };
}
