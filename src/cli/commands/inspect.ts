/** `otpkit inspect`: parses an otpauth:// URI and prints its fields and compatibility warnings. @module */
import { encodeBase32 } from '../../base32.js';
import type { OtpauthParams } from '../../uri/params.js';
import { parseOtpauthURI } from '../../uri/parse.js';
import { maxPositionals, parse } from '../_args.js';
import { compatibilityLines } from '../_compat.js';
import {
  EXIT,
  readStdin,
  stripNewline,
  UsageError,
  type CliContext,
  type Command,
} from '../_io.js';

const HELP = `Usage: otpkit inspect URI [--show-secret] [--json]

Parses an otpauth:// URI and prints its fields (type, issuer, account, algorithm, digits,
period or counter, the secret's length) and the authenticator-compatibility warnings.
The secret itself is printed only with --show-secret. URI '-' reads the URI from stdin
(recommended: a URI on the command line is visible in the process list).
Exits 1 with the error code (ERR_URI_*, ERR_BASE32_*, ERR_SECRET_*) for an invalid URI.

Options:
  --show-secret            also print the secret (base32)
  --json                   print one JSON object instead of text
  --allow-short-secret     accept a legacy 10..15-byte secret
  -h, --help               show this help

Examples:
  otpkit inspect 'otpauth://totp/ACME:alice?secret=...&issuer=ACME'
  otpkit uri --account alice --generate | otpkit inspect -`;

/** The `inspect` command. */
export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'print the fields of an otpauth:// URI and compatibility warnings',
  help: HELP,
  async run(argv: readonly string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parse(
      argv,
      {
        'show-secret': { type: 'boolean' },
        json: { type: 'boolean' },
        'allow-short-secret': { type: 'boolean' },
      },
      'inspect',
    );
    maxPositionals(positionals, 1, 'inspect');
    const arg = positionals[0];
    if (arg === undefined)
      throw new UsageError("missing URI (or '-' to read it from stdin)", 'inspect');
    const text = arg === '-' ? stripNewline(await readStdin(ctx.io, 'the URI')).trim() : arg;
    const p = parseOtpauthURI(text, {
      allowInsecureShortSecret: values['allow-short-secret'] === true,
    });
    const warnings = compatibilityLines(p);
    const show = values['show-secret'] === true;
    if (values.json === true) {
      ctx.out(JSON.stringify(toJSON(p, show, warnings)));
      return EXIT.OK;
    }
    const rows: [string, string][] = [['type', p.type]];
    if (p.issuer !== undefined) rows.push(['issuer', p.issuer]);
    rows.push(['account', p.account], ['algorithm', p.algorithm], ['digits', String(p.digits)]);
    if (p.type === 'totp') rows.push(['period', `${p.period ?? 30} s`]);
    else rows.push(['counter', String(p.counter ?? 0n)]);
    rows.push([
      'secret',
      show
        ? encodeBase32(p.secret)
        : `${p.secret.length * 8} bits (hidden; --show-secret prints it)`,
    ]);
    if (show) rows.push(['secret bits', String(p.secret.length * 8)]);
    if (p.image !== undefined) rows.push(['image', p.image]);
    for (const [k, v] of Object.entries(p.extra ?? {})) rows.push([`param ${k}`, v]);
    const width = Math.max(...rows.map(([k]) => k.length)) + 1;
    for (const [k, v] of rows) ctx.out(`${`${k}:`.padEnd(width)} ${v}`);
    if (warnings.length === 0)
      ctx.out('compatibility: no warnings (works with the common authenticator apps)');
    else {
      ctx.out('compatibility warnings:');
      for (const w of warnings) ctx.out(`  - ${w}`);
    }
    return EXIT.OK;
  },
};

function toJSON(
  p: OtpauthParams,
  show: boolean,
  warnings: readonly string[],
): Record<string, unknown> {
  return {
    type: p.type,
    ...(p.issuer === undefined ? {} : { issuer: p.issuer }),
    account: p.account,
    algorithm: p.algorithm,
    digits: p.digits,
    ...(p.type === 'totp' ? { period: p.period ?? 30 } : { counter: String(p.counter ?? 0n) }),
    secretBits: p.secret.length * 8,
    ...(show ? { secret: encodeBase32(p.secret) } : {}),
    ...(p.image === undefined ? {} : { image: p.image }),
    ...(p.extra === undefined || Object.keys(p.extra).length === 0 ? {} : { extra: p.extra }),
    warnings,
  };
}
