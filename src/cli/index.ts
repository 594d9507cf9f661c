/**
 * The `otpkit` command line: `runCli(argv, io)` dispatches to `commands/<name>.ts`. IO is
 * injected (stdin, stdout, stderr, env) so tests run it in-process; `bin.ts` wires the process.
 *
 * Exit codes: 0 success; 1 verification failed or invalid input data; 2 usage error;
 * 3 unexpected internal error. Every error is one line on stderr, `otpkit: <message> (<code>)`,
 * never a stack trace (unless `OTPKIT_DEBUG=1`), never a secret or a code.
 * @module
 */
import pkg from '../../package.json' with { type: 'json' };
import { OtpkitError } from '../errors.js';
import { codeCommand } from './commands/code.js';
import { demoCommand } from './commands/demo.js';
import { inspectCommand } from './commands/inspect.js';
import { recoveryCommand } from './commands/recovery.js';
import { secretCommand } from './commands/secret.js';
import { uriCommand } from './commands/uri.js';
import { verifyCommand } from './commands/verify.js';
import { EXIT, InputError, makeContext, UsageError, type CliIO, type Command } from './_io.js';

export type { CliIO } from './_io.js';

const COMMANDS: readonly Command[] = [
  secretCommand,
  codeCommand,
  verifyCommand,
  uriCommand,
  inspectCommand,
  recoveryCommand,
  demoCommand,
];

/** The version printed by `otpkit --version`. */
export const VERSION: string = (pkg as { version: string }).version;

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `Usage: otpkit <command> [options]

otpkit ${VERSION}: HOTP/TOTP codes, otpauth:// URIs and QR codes, recovery codes.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

Run 'otpkit <command> --help' for a command's options.

Options:
  -h, --help       show this help
  -V, --version    print the version

Secrets: prefer --secret-file F or --secret-stdin to a KEY argument, which other users can
see in the process list. Errors never print a secret or a code.

Exit status:
  0  success (code printed, token accepted, ...)
  1  verification failed (invalid/malformed token) or invalid input data (bad URI, base32, hex, short key)
  2  usage error (unknown command or option, missing or malformed argument)
  3  unexpected internal error (a bug; OTPKIT_DEBUG=1 prints the stack)`;
}

/** Whether `argv` asks for help before any `--` terminator. */
function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/**
 * Runs the `otpkit` command line.
 *
 * @param argv - the arguments after the program name (`process.argv.slice(2)`).
 * @param io - {@link CliIO}: stdin, stdout, stderr and env to use.
 * @returns the exit code: 0 success, 1 verification failed / invalid input, 2 usage error, 3 internal error.
 * @example
 * ```ts
 * let out = '';
 * const code = await runCli(['code', '--hex', '-N', '@59', '-d', '8', '3132333435363738393031323334353637383930'],
 *   { stdout: { write: (s) => (out += s) }, stderr: process.stderr });
 * // code === 0, out === '94287082\n' (RFC 6238 Appendix B)
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const ctx = makeContext(io);
  const [name, ...rest] = argv;
  let command: Command | undefined;
  try {
    if (name === undefined) {
      ctx.err(mainHelp());
      return EXIT.USAGE;
    }
    if (name === '--help' || name === '-h' || name === 'help') {
      const topic = name === 'help' ? rest[0] : undefined;
      const target = topic === undefined ? undefined : COMMANDS.find((c) => c.name === topic);
      if (topic !== undefined && target === undefined)
        throw new UsageError(`unknown command '${topic}'`);
      ctx.out(target === undefined ? mainHelp() : target.help);
      return EXIT.OK;
    }
    if (name === '--version' || name === '-V') {
      ctx.out(VERSION);
      return EXIT.OK;
    }
    command = COMMANDS.find((c) => c.name === name);
    if (command === undefined) {
      // Not echoed verbatim if long: a mistaken first argument could be a secret.
      const shown = name.startsWith('-')
        ? `option '${name.split('=')[0]}'`
        : `command '${name.length > 20 ? `${name.slice(0, 8)}…` : name}'`;
      throw new UsageError(`unknown ${shown}; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    }
    if (wantsHelp(rest)) {
      ctx.out(command.help);
      return EXIT.OK;
    }
    return await command.run(rest, ctx);
  } catch (e) {
    return report(ctx.err, e, command, io.env ?? {});
  }
}

/** Misuse codes that mean "the key is bad" (input data, exit 1) rather than "the options are bad" (exit 2). */
const INPUT_MISUSE = /^ERR_(SECRET|BASE32|URI)_/;

/** Turns any error into one stderr line and an exit code. */
function report(
  err: (line: string) => void,
  e: unknown,
  command: Command | undefined,
  env: Readonly<Record<string, string | undefined>>,
): number {
  const line = (message: string, code: string): void =>
    err(`otpkit: ${cliWording(oneLine(message))} (${code})`);
  if (e instanceof UsageError) {
    const cmd = e.command ?? command?.name;
    line(`${e.message}; see 'otpkit ${cmd === undefined ? '' : `${cmd} `}--help'`, e.code);
    return EXIT.USAGE;
  }
  if (e instanceof InputError || e instanceof OtpkitError) {
    line(e.message, e.code);
    return EXIT.FAILED;
  }
  // The library's misuse errors (TypeError/RangeError with a stable code): its messages never
  // carry secrets. A bad key is input data; a bad option value is a usage error.
  if (
    (e instanceof TypeError || e instanceof RangeError) &&
    typeof (e as { code?: unknown }).code === 'string'
  ) {
    const code = (e as unknown as { code: string }).code;
    if (!code.startsWith('ERR_NODE') && code.startsWith('ERR_')) {
      if (INPUT_MISUSE.test(code)) {
        line(e.message, code);
        return EXIT.FAILED;
      }
      line(
        `${e.message}; see 'otpkit ${command === undefined ? '' : `${command.name} `}--help'`,
        code,
      );
      return EXIT.USAGE;
    }
  }
  // Anything else is a bug. Its message could contain anything, so only the type is printed
  // unless the user asks for details.
  const name = e instanceof Error ? e.name : typeof e;
  if (env.OTPKIT_DEBUG === '1' && e instanceof Error) err(e.stack ?? String(e));
  line(
    `unexpected internal error (${name}); please report it, OTPKIT_DEBUG=1 shows details`,
    'ERR_INTERNAL',
  );
  return EXIT.INTERNAL;
}

/** Library messages name the API option; on the command line the flag is what to type. */
function cliWording(s: string): string {
  return s.replace(
    /(pass )?\{ ?allowInsecureShortSecret: true ?\}|allowInsecureShortSecret/g,
    (_m, pass?: string) => `${pass ?? ''}--allow-short-secret`,
  );
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ');
}
