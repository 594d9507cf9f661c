#!/usr/bin/env node
/** The `otpkit` executable: wires the process to `runCli` and sets the exit code. @module */
import { runCli } from './index.js';

// `otpkit code | head -c0` closes the pipe early: end quietly instead of an 'error' event stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
