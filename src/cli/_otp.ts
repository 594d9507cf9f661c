/**
 * The OTP parameters shared by `code` and `verify`, with oathtool's option names and meanings:
 * `--totp[=MODE]`/`--hotp`, `-d`, `-s` (`30`/`30s`), `-S` (start time), `-N` (now), `-c`.
 * @module
 * @internal
 */
import type { HashAlgorithm } from '../hotp.js';
import { algorithmOption, counterOption, intOption, oneOf, periodOption } from './_args.js';
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
} as const;

/** @internal Help lines for {@link OTP_OPTIONS}. */
export const OTP_HELP = `OTP parameters (as oathtool's):
  --totp[=MODE]            time-based code, RFC 6238 (default); MODE is SHA1 (default), SHA256 or SHA512
  --hotp                   counter-based code, RFC 4226
  -a, --algorithm A        HMAC hash: SHA1 (default), SHA256 or SHA512
  -d, --digits N           code length 6..8 (default 6)
  -s, --period S           TOTP time step in seconds, '30' or '30s' (default 30; 1..120)
      --time-step-size S   the same (oathtool's name)
  -S, --t0 T               TOTP start time T0 (default 0); alias --start-time
  -N, --now T              use T as the current time (default: the system clock)
  -c, --counter N          HOTP counter, decimal 0..2^64-1 (default 0)`;

/** @internal Help text on time arguments. */
export const TIME_HELP = `Times T: unix seconds, @<unix seconds>, or ISO 8601 (2031-06-01T12:00:00Z; no offset = local time).`;

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
  | { readonly mode: 'hotp'; readonly algorithm: HashAlgorithm; readonly digits: number; readonly counter: bigint };

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
  if (v.hotp === true && (v.totp === true || totpMode !== undefined))
    throw new UsageError('--totp and --hotp exclude each other', command);
  let algorithm: HashAlgorithm = 'SHA1';
  const fromMode = totpMode === undefined ? undefined : algorithmOption(totpMode, '--totp=MODE', command);
  const fromFlag = v.algorithm === undefined ? undefined : algorithmOption(v.algorithm, '--algorithm', command);
  if (fromMode !== undefined && fromFlag !== undefined && fromMode !== fromFlag)
    throw new UsageError(`--totp=${fromMode} and --algorithm ${fromFlag} disagree`, command);
  algorithm = fromMode ?? fromFlag ?? algorithm;
  const digits = v.digits === undefined ? 6 : intOption(v.digits, '--digits', 6, 8, command);
  const periodText = oneOf(v as Record<string, unknown>, ['period', 'time-step-size'], command);
  const t0Text = oneOf(v as Record<string, unknown>, ['t0', 'start-time'], command);
  if (v.hotp === true) {
    const totpOnly = [
      [periodText, '--period'],
      [t0Text, '--t0'],
      [v.now, '--now'],
    ] as const;
    for (const [value, flag] of totpOnly) if (value !== undefined) throw new UsageError(`${flag} applies to TOTP only`, command);
    const counter = v.counter === undefined ? 0n : counterOption(v.counter, '--counter', command);
    return { mode: 'hotp', algorithm, digits, counter };
  }
  if (v.counter !== undefined) throw new UsageError('--counter applies to HOTP only (add --hotp)', command);
  const period = periodText === undefined ? 30 : periodOption(periodText, '--period', command);
  const t0 = t0Text === undefined ? 0 : parseTimeArg(t0Text, '--t0', command) / 1000;
  const now = v.now === undefined ? clock() : parseTimeArg(v.now, '--now', command);
  if (t0 * 1000 > now) throw new UsageError('--t0 lies after the current time', command);
  return { mode: 'totp', algorithm, digits, period, t0, now };
}
