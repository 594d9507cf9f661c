/**
 * The app: users, passwords and sessions of its own; everything second-factor through otpkit's
 * `createTwoFactor`. {@link startServer} wires them to node:http.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createTwoFactor,
  OtpkitError,
  type FactorStore,
  type OtpStore,
  type ThrottleOptions,
} from 'otpkit';
import { channelsOf, createDeliver, type DeliveryOptions } from './delivery.js';
import { HttpError, send } from './http.js';
import { dispatch, type App, type Route } from './router.js';
import { accountRoutes } from './pages/account.js';
import { adminRoutes } from './pages/admin.js';
import { deviceRoutes } from './pages/devices.js';
import { enrollmentRoutes } from './pages/enrollment.js';
import { recoveryRoutes } from './pages/recovery.js';
import { signInRoutes, TRUSTED_MS } from './pages/signin.js';
import { Sessions } from './sessions.js';
import { Users } from './users.js';

/** Every page and form: a new feature is one more module here. */
const ROUTES: readonly Route[] = [
  ...signInRoutes,
  ...accountRoutes,
  ...enrollmentRoutes,
  ...deviceRoutes,
  ...recoveryRoutes,
  ...adminRoutes,
];

/** Options of {@link startServer}; every one has a default. */
export interface WebappOptions {
  readonly port?: number | undefined; // 0 (the default) picks a free port
  readonly host?: string | undefined; // '127.0.0.1'
  /** otpkit's store (both contracts), and its name for the footer. @defaultValue in memory */
  readonly store?: (OtpStore & FactorStore) | undefined;
  readonly storeName?: string | undefined;
  /** The clock of otpkit and the sessions. @defaultValue Date.now */
  readonly now?: (() => number) | undefined;
  readonly throttle?: ThrottleOptions | undefined;
  /** Codes by email (an SMTP server) and SMS (an HTTP API). @defaultValue neither */
  readonly delivery?: DeliveryOptions | undefined;
  /** The 32-byte key that seals secrets. @defaultValue `OTPKIT_APP_KEY` (64 hex digits), else random at start */
  readonly appKey?: Uint8Array | undefined;
  readonly scryptLogN?: number | undefined; // password hashing, scrypt N = 2^logN, 15..20; 17 (OWASP)
  readonly admins?: readonly string[] | undefined; // usernames that are administrators (with their 2FA on)
  readonly maxSessions?: number | undefined; // signed-in sessions kept at most: 50000
  readonly secureCookies?: boolean | undefined; // `Secure` and `__Host-` cookies, behind HTTPS
  /** Audit events and errors; never a secret or a code. @defaultValue console.log */
  readonly log?: ((line: string) => void) | undefined;
}

export interface RunningWebapp {
  readonly url: string; // e.g. http://127.0.0.1:3000
  readonly ephemeralKey: boolean; // the sealing key was made at start
  sessionCounts(): { readonly signedIn: number };
  /** Stops listening and drops open connections (the store is left to its owner). */
  close(): Promise<void>;
}

function appKeyFromEnv(): Uint8Array | undefined {
  const hex = process.env.OTPKIT_APP_KEY;
  if (hex === undefined || hex === '') return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new Error('OTPKIT_APP_KEY must be 64 hexadecimal characters (a 32-byte key)');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Starts the app: `const app = await startServer({ port: 3000 })`, then open `app.url`. */
export async function startServer(options: WebappOptions = {}): Promise<RunningWebapp> {
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.log(line));
  const logN = options.scryptLogN ?? 17;
  if (!Number.isInteger(logN) || logN < 15 || logN > 20)
    throw new RangeError('scryptLogN must be an integer 15..20');
  const envKey = options.appKey ?? appKeyFromEnv();
  const appKey = envKey ?? Uint8Array.from(randomBytes(32));
  if (appKey.length !== 32) throw new RangeError('appKey must be 32 bytes');
  if (envKey === undefined)
    log(
      'warning: OTPKIT_APP_KEY is not set; secrets are sealed with a random key made at start, so enrollments do not survive a restart',
    );
  const d = options.delivery ?? {};
  const channels = channelsOf(d);

  const tf = createTwoFactor({
    store: options.store, // none: otpkit keeps it in memory
    issuer: 'otpkit demo',
    keys: { current: 'app1', keys: { app1: appKey } },
    throttle: options.throttle,
    devices: { trustedTtlMs: TRUSTED_MS },
    ...(channels.length === 0
      ? {}
      : {
          delivery: {
            deliver: createDeliver(d),
            timeoutMs: d.timeoutMs, // when it runs out, otpkit aborts the SMS request (deliver's signal)
            cooldownMs: d.cooldownMs,
          },
        }),
    now,
    // The specific reasons (invalid, replayed, locked…) go here, never to the page.
    onEvent: (e) => log(`audit ${JSON.stringify(e)}`),
  });
  const sessions = new Sessions(now, options.maxSessions);
  const storeName = options.storeName ?? (options.store === undefined ? 'in-memory' : 'custom');
  const app: App = {
    tf,
    users: new Users(logN, options.admins ?? []),
    sessions,
    now,
    log,
    storeName,
    demoKey: envKey === undefined,
    secure: options.secureCookies ?? false,
    channels,
  };
  const handle = dispatch(app, ROUTES);
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.removeHeader('Set-Cookie');
      if (e instanceof HttpError)
        return send(res, e.status, e.message, 'text/plain; charset=utf-8');
      // otpkit fails closed: a store outage is an error page, never "signed in" or "wrong code".
      if (e instanceof OtpkitError && e.code.startsWith('ERR_STORE')) {
        log(`error: ${e.code}: ${e.message}`);
        return send(
          res,
          503,
          'Sign-in is unavailable for a moment. Nothing was changed; please try again shortly.',
          'text/plain; charset=utf-8',
        );
      }
      log(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      send(res, 500, 'Something went wrong.', 'text/plain; charset=utf-8');
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    ephemeralKey: envKey === undefined,
    sessionCounts: () => sessions.counts(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
