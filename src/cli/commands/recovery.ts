/** `otpkit recovery`: a new set of recovery codes and their salted scrypt hashes. @module */
import { generateRecoveryCodes } from '../../recovery/codes.js';
import { hashRecoveryCodeSet } from '../../recovery/set.js';
import { intOption, maxPositionals, parse } from '../_args.js';
import { EXIT, type CliContext, type Command } from '../_io.js';

const HELP = `Usage: otpkit recovery [--count N] [--bits B] [--group-size G] [--json]

Prints a new set of recovery codes (show them to the user once) and, for your database,
one record per code: an id and a salted scrypt hash. Store only the records, never the codes.

Options:
  -n, --count N            how many codes, 1..100 (default 10)
  --bits B                 entropy per code in bits, 64..160 (default 80: 16 Crockford base32 characters)
  --group-size G           characters per '-'-separated group, 0 (none) or 2..8 (default 4)
  --json                   print {"codes": [...], "records": [{"id", "hash"}, ...]}
  -h, --help               show this help`;

/** The `recovery` command. */
export const recoveryCommand: Command = {
  name: 'recovery',
  summary: 'print new recovery codes and their hashes for the database',
  help: HELP,
  async run(argv: readonly string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parse(
      argv,
      {
        count: { type: 'string', short: 'n' },
        bits: { type: 'string' },
        'group-size': { type: 'string' },
        json: { type: 'boolean' },
      },
      'recovery',
    );
    maxPositionals(positionals, 0, 'recovery');
    // The library's ranges, checked here for a clearer usage message (it would throw RangeError too).
    const count =
      values.count === undefined
        ? undefined
        : intOption(values.count, '--count', 1, 100, 'recovery');
    const bits =
      values.bits === undefined ? undefined : intOption(values.bits, '--bits', 64, 160, 'recovery');
    const groupSize =
      values['group-size'] === undefined
        ? undefined
        : intOption(values['group-size'], '--group-size', 0, 8, 'recovery');
    const codes = generateRecoveryCodes({
      ...(count === undefined ? {} : { count }),
      ...(bits === undefined ? {} : { bits }),
      ...(groupSize === undefined ? {} : { groupSize }),
    });
    const records = hashRecoveryCodeSet(codes);
    if (values.json === true) {
      ctx.out(
        JSON.stringify(
          { codes, records: records.map((r) => ({ id: r.id, hash: r.hash })) },
          null,
          2,
        ),
      );
      return EXIT.OK;
    }
    ctx.out('Recovery codes (show these to the user once; each works once):');
    for (const c of codes) ctx.out(`  ${c}`);
    ctx.out();
    ctx.out('Records for the database (id, hash; store these, not the codes):');
    for (const r of records) ctx.out(`  ${r.id} ${r.hash}`);
    return EXIT.OK;
  },
};
