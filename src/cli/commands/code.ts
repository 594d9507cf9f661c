/** `otpkit code`: the current TOTP code or an HOTP code, with oathtool-compatible options. @module */
import { generateHOTP } from '../../hotp.js';
import { timeStep } from '../../totp.js';
import { extractTotpMode, intOption, maxPositionals, parse } from '../_args.js';
import { EXIT, type CliContext, type Command } from '../_io.js';
import { KEY_HELP, KEY_OPTIONS, readKey } from '../_key.js';
import { OTP_HELP, OTP_OPTIONS, resolveOtpParams, TIME_HELP } from '../_otp.js';
import { MAX_COUNTER } from '../../_bytes.js';

/** Most extra codes `-w` prints. */
const MAX_EXTRA = 10_000;

const HELP = `Usage: otpkit code [KEY] [options]

Prints the current TOTP code (default) or the HOTP code for --counter. The options mean what
oathtool's do, and what oathtool would read differently is refused; unlike oathtool, the key is
base32 by default (--hex for hex) and the mode TOTP (--hotp for HOTP).

${OTP_HELP}
  -w, --window N           also print the N following codes (next steps / counters), one a line,
                           as oathtool's -w (0..10000)

${KEY_HELP}

  -h, --help               show this help

${TIME_HELP}

Examples:
  otpkit code --secret-file alice.key
  otpkit code --totp=SHA256 -d 8 -s 60s -N @1700000000 --hex --secret-stdin < key.hex
  otpkit code --hotp -c 5 -w 2 --secret-file token.key`;

/** The `code` command. */
export const codeCommand: Command = {
  name: 'code',
  summary: 'print the current TOTP code, or an HOTP code',
  help: HELP,
  async run(argv: readonly string[], ctx: CliContext): Promise<number> {
    const pre = extractTotpMode(argv);
    const { values, positionals } = parse(
      pre.argv,
      { ...OTP_OPTIONS, ...KEY_OPTIONS, window: { type: 'string', short: 'w' } },
      'code',
    );
    maxPositionals(positionals, 1, 'code');
    const params = resolveOtpParams(values, pre.totpMode, 'code', Date.now);
    const extra =
      values.window === undefined ? 0 : intOption(values.window, '--window', 0, MAX_EXTRA, 'code');
    const { secret, allowShort } = await readKey(ctx, values, positionals[0], 'code');
    const otp = {
      algorithm: params.algorithm,
      digits: params.digits,
      allowInsecureShortSecret: allowShort,
    };
    // TOTP = HOTP(K, T) (RFC 6238 §4.2): the following codes are those of steps T+1, T+2, …
    const first =
      params.mode === 'totp'
        ? BigInt(timeStep(params.now, params.period, params.t0))
        : params.counter;
    const lines: string[] = [];
    for (let i = 0n; i <= BigInt(extra) && first + i <= MAX_COUNTER; i++)
      lines.push(generateHOTP(secret, first + i, otp));
    ctx.out(lines.join('\n'));
    return EXIT.OK;
  },
};
