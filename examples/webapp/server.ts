/** The example web app's command line (what start.mjs runs) and what the tests import. @module */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer } from './src/app.js';
import { openStore } from './src/stores.js';

export { startServer, type WebappOptions, type RunningWebapp } from './src/app.js';
export { openStore, type OpenedStore } from './src/stores.js';
export { escapeHtml } from './src/html.js';
const USAGE = `Usage: node examples/webapp/start.mjs [options]
  --port N       port to listen on (default: $PORT or 3000)
  --host ADDR    interface to listen on (default 127.0.0.1)
  --pg URL       keep otpkit's state in PostgreSQL (default: $OTPKIT_PG_URL)
  --redis URL    keep otpkit's state in Redis (default: $OTPKIT_REDIS_URL)
  --memory       keep it in memory even if one of the variables above is set
  --admin NAME   the user NAME is an administrator (once signed up, with 2FA on); repeatable
  --dist         (start.mjs) use the built package in dist/ instead of src/
Environment: OTPKIT_APP_KEY, 64 hex digits, seals the secrets (without it, a random key made at
start: enrollments are lost on restart); OTPKIT_SMTP_URL (smtp://127.0.0.1:2525) sends email codes.`;
const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  pg: { type: 'string' },
  redis: { type: 'string' },
  memory: { type: 'boolean' },
  admin: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;
export async function main(argv: readonly string[]): Promise<void> {
  let a;
  try {
    a = parseArgs({ args: [...argv], options: OPTIONS }).values;
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
  }
  if (a.help) return void console.log(USAGE);
  const port = Number(a.port ?? process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port: 0..65535');
  const env = (name: string): string | undefined => process.env[name] || undefined;
  const urls = a.pg || a.redis ? a : { pg: env('OTPKIT_PG_URL'), redis: env('OTPKIT_REDIS_URL') };
  const opened = await openStore(a.memory ? {} : { pg: urls.pg, redis: urls.redis });
  const { store, name: storeName } = opened;
  const options = { port, host: a.host, store, storeName, admins: a.admin };
  const app = await startServer({ ...options, delivery: { smtpUrl: env('OTPKIT_SMTP_URL') } });
  console.log(`otpkit demo listening on ${app.url} (otpkit state: ${storeName} store)`);
  const stop = (): void => {
    console.log('shutting down');
    void app.close().then(opened.close).finally(process.exit);
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
}
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
