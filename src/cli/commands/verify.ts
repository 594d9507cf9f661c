/** `otpkit verify`: checks a code against a key (stateless: no replay protection). @module */
import { verifyHOTP, verifyTOTP } from '../../verify.js';
import { extractTotpMode, intOption, parse } from '../_args.js';
import { EXIT, UsageError, type CliContext, type Command } from '../_io.js';
import { KEY_HELP, KEY_OPTIONS, readKey } from '../_key.js';
import { OTP_HELP, OTP_OPTIONS, resolveOtpParams, TIME_HELP } from '../_otp.js';

const HELP = `Usage: otpkit verify TOKEN [KEY] [options]

Checks TOKEN against the key. Prints 'ok delta=<d>' (TOTP: matched step minus the current one)
or 'ok counter=<c> next=<n>' (HOTP: the counter that matched and the one to store next) and
exits 0; prints 'invalid' (wrong code) or 'malformed' (not exactly --digits digits) and exits 1.

This check is stateless: it does not stop replays or guessing. A login needs createVerifier().

${OTP_HELP}
  -w, --window N           as oathtool's -w: TOTP: accept codes N steps before and after now, 0..10
                           (default 1, RFC 6238's allowance for delay; oathtool's default is 0);
                           HOTP: accept counters --counter .. --counter+N, 0..99 (default 9)
  --look-ahead N           HOTP: how many counters to try from --counter on, 1..100 (default 10);
                           the same as -w N-1

${KEY_HELP}

  -h, --help               show this help

${TIME_HELP}

Examples:
  otpkit verify 123456 --secret-file alice.key
  otpkit verify 287082 --hotp -c 0 -w 4 --hex --secret-stdin < key.hex`;

/** The `verify` command. */
export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check a code against a key (exit 0 ok, 1 invalid)',
  help: HELP,
  async run(argv: readonly string[], ctx: CliContext): Promise<number> {
    const pre = extractTotpMode(argv);
    const { values, positionals } = parse(
      pre.argv,
      {
        ...OTP_OPTIONS,
        ...KEY_OPTIONS,
        window: { type: 'string', short: 'w' },
        'look-ahead': { type: 'string' },
      },
      'verify',
    );
    const [token, key, ...rest] = positionals;
    if (token === undefined) throw new UsageError('missing TOKEN', 'verify');
    if (rest.length > 0)
      throw new UsageError('too many arguments (expected TOKEN and at most KEY)', 'verify');
    const params = resolveOtpParams(values, pre.totpMode, 'verify', Date.now);
    if (params.mode === 'totp' && values['look-ahead'] !== undefined)
      throw new UsageError('--look-ahead applies to HOTP only (add --hotp)', 'verify');
    if (values.window !== undefined && values['look-ahead'] !== undefined)
      throw new UsageError(
        '--window N and --look-ahead N+1 are the same for HOTP; give one',
        'verify',
      );
    let window = 1;
    let lookAhead = 10;
    if (params.mode === 'totp') {
      if (values.window !== undefined)
        window = intOption(values.window, '--window', 0, 10, 'verify');
    } else if (values.window !== undefined) {
      // oathtool's HOTP window: the counters C..C+N (N+1 of them).
      lookAhead = intOption(values.window, '--window', 0, 99, 'verify') + 1;
    } else if (values['look-ahead'] !== undefined) {
      lookAhead = intOption(values['look-ahead'], '--look-ahead', 1, 100, 'verify');
    }
    const { secret, allowShort } = await readKey(ctx, values, key, 'verify');
    const otp = {
      algorithm: params.algorithm,
      digits: params.digits,
      allowInsecureShortSecret: allowShort,
    };
    if (params.mode === 'totp') {
      const r = verifyTOTP(secret, token, {
        ...otp,
        period: params.period,
        t0: params.t0,
        now: params.now,
        window,
      });
      ctx.out(r.ok ? `ok delta=${r.delta}` : r.reason);
      return r.ok ? EXIT.OK : EXIT.FAILED;
    }
    const r = verifyHOTP(secret, token, { ...otp, counter: params.counter, lookAhead });
    ctx.out(r.ok ? `ok counter=${r.counter} next=${r.next}` : r.reason);
    return r.ok ? EXIT.OK : EXIT.FAILED;
  },
};
