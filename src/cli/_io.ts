/**
 * CLI plumbing: the injected IO, the exit codes, the CLI's own errors, and reading stdin/files
 * with a size limit. Nothing here prints secret material: error messages name the input
 * (`--secret-file`, stdin), never its content.
 * @module
 * @internal
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Anything with a `write(text)`: `process.stdout`, or a string collector in tests. */
export interface CliWriter {
  write(chunk: string): unknown;
  /** `true` when this is a terminal (as on `process.stdout`): QR codes are then coloured. @defaultValue undefined: not a terminal */
  readonly isTTY?: boolean | undefined;
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
export const EXIT: { readonly OK: 0; readonly FAILED: 1; readonly USAGE: 2; readonly INTERNAL: 3 } =
  Object.freeze({
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

const tooLong = (where: string): InputError =>
  new InputError('ERR_INPUT_TOO_LONG', `${where} is longer than ${MAX_INPUT_BYTES} bytes`);

/**
 * @internal Reads stdin (as UTF-8) as it streams, failing as soon as more than
 * {@link MAX_INPUT_BYTES} have arrived: an endless stream (`< /dev/zero`, `yes |`) costs one
 * chunk of memory, not all of it. Leaving the loop early closes the stream.
 */
export async function readStdin(io: CliIO, what: string): Promise<string> {
  if (io.stdin === undefined)
    throw new UsageError(`${what} from stdin requested, but no stdin is available`);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let text = '';
  let bytes = 0;
  for await (const chunk of io.stdin) {
    // Counted in UTF-8 bytes, strings included: the limit is on bytes, not UTF-16 code units.
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : chunk.byteLength;
    if (bytes > MAX_INPUT_BYTES) throw tooLong(`${what} on stdin`);
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

/**
 * @internal Reads a file as UTF-8 into a buffer of {@link MAX_INPUT_BYTES} + 1 bytes, failing as
 * soon as it is full: `/dev/zero`, a FIFO or a huge file is never read further than that. The
 * size is not taken from `stat` first, which a device or a growing file would not honour.
 */
export async function readTextFile(path: string, what: string): Promise<string> {
  // The path is the user's own argument, not a secret; the errno says why.
  const unreadable = (e: unknown): InputError => {
    const code =
      typeof e === 'object' && e !== null && 'code' in e
        ? String((e as { code: unknown }).code)
        : 'unknown error';
    return new InputError('ERR_FILE', `cannot read ${what} '${path}': ${code}`);
  };
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw unreadable(e);
  }
  try {
    const buffer = new Uint8Array(MAX_INPUT_BYTES + 1);
    let length = 0;
    for (;;) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, length, buffer.length - length, null));
      } catch (e) {
        throw unreadable(e);
      }
      if (bytesRead === 0) return new TextDecoder().decode(buffer.subarray(0, length));
      length += bytesRead;
      if (length > MAX_INPUT_BYTES) throw tooLong(`${what} '${path}'`);
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
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
