/**
 * otpkit example: a framework-free web app (node:http only) with the whole two-factor flow on
 * otpkit's `createTwoFactor`. This entry is the command line (what start.mjs bundles and runs)
 * and what the tests import; the app is in src/ (see README.md).
 * @module
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer } from './src/app.js';
import { openStore } from './src/stores.js';

export { startServer, type WebappOptions, type RunningWebapp } from './src/app.js';
export { openStore, type OpenedStore } from './src/stores.js';
export { escapeHtml } from './src/layout.js';

const USAGE = `Usage: node examples/webapp/start.mjs [--port N] [--host ADDR] [--pg URL | --redis URL | --memory] [--admin NAME]...

  --port N      port to listen on (default: $PORT or 3000)
  --host ADDR   interface to listen on (default 127.0.0.1)
  --pg URL      keep otpkit's state in PostgreSQL (default: $OTPKIT_PG_URL)
  --redis URL   keep otpkit's state in Redis (default: $OTPKIT_REDIS_URL)
  --memory      keep it in memory even if the variables above are set
  --admin NAME  the user NAME is an administrator (once signed up, with 2FA on); repeatable
  --dist        (start.mjs) use the built package in dist/ instead of src/

Environment: OTPKIT_APP_KEY = 64 hex characters, the key that seals the authenticator secrets
(without it a random key is made at start, and enrollments do not survive a restart).
OTPKIT_SMTP_URL (smtp://127.0.0.1:2525): email codes through this SMTP server.
OTPKIT_SMS_URL (https://SID:TOKEN@host/2010-04-01/Accounts/SID/Messages.json), OTPKIT_SMS_FROM:
text-message codes through this Twilio-shaped API.`;

/** The options, or misuse with the usage. */
function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        ...{
          port: { type: 'string' },
          host: { type: 'string', default: '127.0.0.1' },
          pg: { type: 'string' },
          redis: { type: 'string' },
        },
        ...{
          memory: { type: 'boolean', default: false },
          admin: { type: 'string', multiple: true, default: [] },
          help: { type: 'boolean', short: 'h', default: false },
        },
      },
    }).values;
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
  }
}

/** Parses `argv` (without node and the script), opens the store and starts the app. */
export async function main(argv: readonly string[]): Promise<void> {
  const a = parse(argv);
  if (a.help) return void console.log(USAGE);
  const port = Number(a.port ?? process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error('--port expects 0..65535');
  let { pg, redis } = a;
  if (a.memory) pg = redis = undefined;
  else if (pg === undefined && redis === undefined) {
    pg = process.env.OTPKIT_PG_URL || undefined;
    redis = process.env.OTPKIT_REDIS_URL || undefined;
    if (pg !== undefined && redis !== undefined)
      throw new Error(
        'both OTPKIT_PG_URL and OTPKIT_REDIS_URL are set: choose with --pg URL, --redis URL or --memory',
      );
  }
  const opened = await openStore({ pg, redis });
  const env = (name: string): string | undefined => process.env[name] || undefined;
  const delivery = {
    smtpUrl: env('OTPKIT_SMTP_URL'),
    smsUrl: env('OTPKIT_SMS_URL'),
    smsFrom: env('OTPKIT_SMS_FROM'),
  };
  const app = await startServer({
    port,
    host: a.host,
    store: opened.store,
    storeName: opened.name,
    admins: a.admin,
    delivery,
  });
  console.log(`otpkit demo listening on ${app.url} (otpkit state: ${opened.name} store)`);
  const stop = (): void => {
    console.log('shutting down');
    void app
      .close()
      .then(() => opened.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// Run directly (a bundled copy): start the CLI.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
