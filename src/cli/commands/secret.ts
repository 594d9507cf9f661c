/** `otpkit secret`: a new random shared secret, base32 (or hex). @module */
import { encodeBase32 } from '../../base32.js';
import { generateSecret } from '../../secret.js';
import { algorithmOption, intOption, maxPositionals, parse } from '../_args.js';
import { EXIT, type CliContext, type Command } from '../_io.js';

const HELP = `Usage: otpkit secret [--algorithm SHA1|SHA256|SHA512] [--length N] [--hex]

Prints a new random shared secret from the platform CSPRNG, base32 (unpadded) by default.

Options:
  -a, --algorithm A   the HMAC the secret is for; sets the default length:
                      SHA1 20 bytes (default), SHA256 32, SHA512 64 (RFC 6238 §5.1)
  -l, --length N      length in bytes, 16..256
  --hex               print hex instead of base32
  -h, --help          show this help

Example:
  otpkit secret --algorithm SHA256 > alice.key`;

/** The `secret` command. */
export const secretCommand: Command = {
  name: 'secret',
  summary: 'print a new random secret (base32 or hex)',
  help: HELP,
  async run(argv: readonly string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parse(
      argv,
      {
        algorithm: { type: 'string', short: 'a' },
        length: { type: 'string', short: 'l' },
        hex: { type: 'boolean' },
      },
      'secret',
    );
    maxPositionals(positionals, 0, 'secret');
    const algorithm =
      values.algorithm === undefined
        ? 'SHA1'
        : algorithmOption(values.algorithm, '--algorithm', 'secret');
    const length =
      values.length === undefined
        ? undefined
        : intOption(values.length, '--length', 16, 256, 'secret');
    const secret = generateSecret(length === undefined ? { algorithm } : { algorithm, length });
    ctx.out(values.hex === true ? Buffer.from(secret).toString('hex') : encodeBase32(secret));
    return EXIT.OK;
  },
};
