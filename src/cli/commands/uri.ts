/** `otpkit uri`: builds an otpauth:// enrollment URI (Key Uri Format), optionally as a terminal QR code. @module */
import type { HashAlgorithm } from '../../hotp.js';
import { generateSecret } from '../../secret.js';
import { buildOtpauthURI } from '../../uri/build.js';
import type { OtpauthParams } from '../../uri/params.js';
import {
  algorithmOption,
  counterOption,
  intOption,
  maxPositionals,
  parse,
  periodOption,
} from '../_args.js';
import { compatibilityLines, QR_OPTIONS, qrHelp, terminalQR } from '../_compat.js';
import { EXIT, UsageError, type CliContext, type Command } from '../_io.js';
import { hasKeySource, KEY_HELP, KEY_OPTIONS, readKey } from '../_key.js';

const HELP = `Usage: otpkit uri --account A [--issuer I] (KEY | --generate) [options]

Prints the otpauth:// URI that enrolls the key in an authenticator app (Google's Key Uri Format).
Compatibility warnings (non-default parameters some apps ignore) go to stderr.

Options:
  --account A              the account name shown in the app, e.g. alice@example.com (required)
  --issuer I               the service name; set both as label prefix and issuer parameter
  --generate               generate a new secret (20/32/64 bytes for SHA1/256/512); it is in the URI
  -a, --algorithm A        SHA1 (default), SHA256 or SHA512; many apps support only SHA1
  -d, --digits N           6 (default), 7 or 8
  -s, --period S           TOTP step in seconds, '30' or '30s' (default 30)
  --hotp                   an HOTP (counter) URI
  -c, --counter N          HOTP initial counter (default 0)
  --qr                     also print the QR code (Unicode half blocks, 4-module quiet zone)
${qrHelp(27)}
  --explicit-defaults      write algorithm, digits and period even when they are the defaults

${KEY_HELP}

  -h, --help               show this help

Examples:
  otpkit uri --account alice@example.com --issuer ACME --generate --qr
  otpkit uri --account alice --issuer ACME --secret-file alice.key --qr --color always | less -R
  otpkit uri --account alice --issuer ACME --secret-file alice.key`;

/** The `uri` command. */
export const uriCommand: Command = {
  name: 'uri',
  summary: 'build an otpauth:// URI (and its QR code with --qr)',
  help: HELP,
  async run(argv: readonly string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parse(
      argv,
      {
        ...KEY_OPTIONS,
        account: { type: 'string' },
        issuer: { type: 'string' },
        generate: { type: 'boolean' },
        algorithm: { type: 'string', short: 'a' },
        digits: { type: 'string', short: 'd' },
        period: { type: 'string', short: 's' },
        hotp: { type: 'boolean' },
        totp: { type: 'boolean' },
        counter: { type: 'string', short: 'c' },
        qr: { type: 'boolean' },
        ...QR_OPTIONS,
        'explicit-defaults': { type: 'boolean' },
      },
      'uri',
    );
    maxPositionals(positionals, 1, 'uri');
    if (values.account === undefined) throw new UsageError('missing --account', 'uri');
    const qr = terminalQR(
      ctx,
      values,
      values.qr === true ? undefined : '--color and --invert apply only with --qr',
      'uri',
    );
    if (values.hotp === true && values.totp === true)
      throw new UsageError('--totp and --hotp exclude each other', 'uri');
    const hotp = values.hotp === true;
    if (hotp && values.period !== undefined)
      throw new UsageError('--period applies to TOTP only', 'uri');
    if (!hotp && values.counter !== undefined)
      throw new UsageError('--counter applies to HOTP only (add --hotp)', 'uri');
    const algorithm: HashAlgorithm =
      values.algorithm === undefined
        ? 'SHA1'
        : algorithmOption(values.algorithm, '--algorithm', 'uri');
    const digits =
      values.digits === undefined ? 6 : intOption(values.digits, '--digits', 6, 8, 'uri');
    const period =
      values.period === undefined ? 30 : periodOption(values.period, '--period', 'uri');
    const counter =
      values.counter === undefined ? 0n : counterOption(values.counter, '--counter', 'uri');
    const keyGiven = hasKeySource(values, positionals[0]);
    if (values.generate === true && keyGiven)
      throw new UsageError('--generate and a key exclude each other', 'uri');
    if (values.generate !== true && !keyGiven)
      throw new UsageError(
        'missing key: give KEY, --secret-file F, --secret-stdin or --generate',
        'uri',
      );
    let secret: Uint8Array;
    let allowShort = false;
    if (values.generate === true) secret = generateSecret({ algorithm });
    else ({ secret, allowShort } = await readKey(ctx, values, positionals[0], 'uri'));

    const params: OtpauthParams = {
      type: hotp ? 'hotp' : 'totp',
      secret,
      account: values.account,
      ...(values.issuer === undefined ? {} : { issuer: values.issuer }),
      algorithm,
      digits,
      ...(hotp ? { counter } : { period }),
    };
    const uri = buildOtpauthURI(params, {
      explicitDefaults: values['explicit-defaults'] === true,
      allowInsecureShortSecret: allowShort,
    });
    ctx.out(uri);
    if (values.qr === true) {
      ctx.out();
      ctx.out(qr(uri));
    }
    for (const line of compatibilityLines(params)) ctx.err(`otpkit: warning: ${line}`);
    if (values.generate === true)
      ctx.err(
        `otpkit: generated a new ${secret.length * 8}-bit secret: keep the URI secret, it contains the key`,
      );
    return EXIT.OK;
  },
};
