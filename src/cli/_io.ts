/**
 * CLI plumbing: the injected IO, the exit codes, the CLI's own errors, and reading stdin/files
 * with a size limit. Nothing here prints secret material: error messages name the input
 * (`--secret-file`, stdin), never its content (REQUIREMENTS #11).
 * @module
 * @internal
 */
import { readFile } from 'node:fs/promises';

/** Anything with a `write(text)`: `process.stdout`, or a string collector in tests. */
export interface CliWriter {
  write(chunk: string): unknown;
}

/** The IO the CLI runs against: the process's in the bin, fakes in tests. */
export interface CliIO {
  /** Standard input as an async iterable of chunks (`process.stdin` is one). @defaultValue none: reading stdin is a usage error */
  readonly stdin?: AsyncIterable<string | Uint8Array> | undefined;
  /** Where results go. */
  readonly stdout: CliWriter;
  /** Where errors, warnings and diagnostics go. */
  readonly stderr: CliWriter;
  /** The environment (`OTPKIT_DEBUG=1` prints stacks of internal errors). @defaultValue {} */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** Exit codes a script can rely on. */
export const EXIT: { readonly OK: 0; readonly FAILED: 1; readonly USAGE: 2; readonly INTERNAL: 3 } = Object.freeze({
  /** Success (a code printed, a token accepted). */
  OK: 0,
  /** Verification failed, or the input data is invalid (bad URI, bad base32/hex, short secret, unreadable file). */
  FAILED: 1,
  /** Usage error: unknown command or option, missing or malformed argument. */
  USAGE: 2,
  /** Unexpected internal error (a bug): please report it. */
  INTERNAL: 3,
} as const);

/** @internal A usage error (exit 2). `command` names the help to point to. */
export class UsageError extends Error {
  readonly code: string = 'ERR_USAGE';
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** @internal Invalid input data detected by the CLI itself (exit 1), with a stable code. */
export class InputError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'InputError';
    this.code = code;
  }
}

/** The per-run context passed to every command. */
export interface CliContext {
  readonly io: CliIO;
  /** Writes one line (a newline is appended) to stdout. */
  out(line?: string): void;
  /** Writes one line to stderr. */
  err(line: string): void;
}

/** @internal Builds the context. */
export function makeContext(io: CliIO): CliContext {
  return {
    io,
    out: (line = '') => {
      io.stdout.write(`${line}\n`);
    },
    err: (line) => {
      io.stderr.write(`${line}\n`);
    },
  };
}

/** Largest stdin or file input accepted: far above any secret (256 bytes) or URI, small enough to bound memory. */
export const MAX_INPUT_BYTES: number = 64 * 1024;

/** Strips the trailing newline(s) that `echo` and editors add; nothing else. */
export function stripNewline(text: string): string {
  return text.replace(/[\r\n]+$/, '');
}

/** @internal Reads all of stdin (as UTF-8), refusing more than {@link MAX_INPUT_BYTES}. */
export async function readStdin(io: CliIO, what: string): Promise<string> {
  if (io.stdin === undefined) throw new UsageError(`${what} from stdin requested, but no stdin is available`);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let text = '';
  let bytes = 0;
  for await (const chunk of io.stdin) {
    if (typeof chunk === 'string') {
      bytes += chunk.length;
      text += chunk;
    } else {
      bytes += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
    }
    if (bytes > MAX_INPUT_BYTES)
      throw new InputError('ERR_INPUT_TOO_LONG', `${what} on stdin is longer than ${MAX_INPUT_BYTES} bytes`);
  }
  return text + decoder.decode();
}

/** @internal Reads a whole file as UTF-8, refusing more than {@link MAX_INPUT_BYTES}. */
export async function readTextFile(path: string, what: string): Promise<string> {
  let data: Uint8Array;
  try {
    data = await readFile(path);
  } catch (e) {
    // The path is the user's own argument, not a secret; the errno says why.
    const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : 'unknown error';
    throw new InputError('ERR_FILE', `cannot read ${what} '${path}': ${code}`);
  }
  if (data.byteLength > MAX_INPUT_BYTES)
    throw new InputError('ERR_INPUT_TOO_LONG', `${what} '${path}' is longer than ${MAX_INPUT_BYTES} bytes`);
  return new TextDecoder().decode(data);
}

/** One `otpkit` sub-command: `src/cli/commands/<name>.ts` exports one. */
export interface Command {
  /** The word after `otpkit`. */
  readonly name: string;
  /** One line for `otpkit --help`. */
  readonly summary: string;
  /** The full `otpkit <name> --help` text. */
  readonly help: string;
  /** Runs with the arguments after the command name; resolves the exit code. */
  run(argv: readonly string[], ctx: CliContext): Promise<number>;
}
