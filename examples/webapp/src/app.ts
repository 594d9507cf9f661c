/**
 * The app: users, passwords and sessions of its own; everything second-factor through otpkit's
 * `createTwoFactor`. {@link startServer} wires them to node:http.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTwoFactor, OtpkitError, type FactorStore, type OtpStore, type ThrottleOptions } from 'otpkit';
import { HttpError, send } from './http.js';
import { dispatch, type App, type Route } from './router.js';
import { accountRoutes } from './pages/account.js';
import { adminRoutes } from './pages/admin.js';
import { deviceRoutes } from './pages/devices.js';
import { enrollmentRoutes } from './pages/enrollment.js';
import { recoveryRoutes } from './pages/recovery.js';
import { signInRoutes } from './pages/signin.js';
import { createSessions, type SessionLimits } from './sessions.js';
import { createUsers } from './users.js';

/** Every page and form: a new feature is one more module here. */
const ROUTES: readonly Route[] = [...signInRoutes, ...accountRoutes, ...enrollmentRoutes, ...deviceRoutes, ...recoveryRoutes, ...adminRoutes];

/** Options of {@link startServer}; every one has a default. */
export interface WebappOptions {
  /** 0 picks a free port. @defaultValue 0 */
  readonly port?: number | undefined;
  /** @defaultValue '127.0.0.1' */
  readonly host?: string | undefined;
  /** otpkit's store (both contracts). @defaultValue in memory */
  readonly store?: (OtpStore & FactorStore) | undefined;
  /** Shown in the footer. @defaultValue 'in-memory' (or 'custom' with a store) */
  readonly storeName?: string | undefined;
  /** The clock of otpkit and the sessions. @defaultValue Date.now */
  readonly now?: (() => number) | undefined;
  readonly throttle?: ThrottleOptions | undefined;
  /** The 32-byte key that seals secrets. @defaultValue `OTPKIT_APP_KEY` (64 hex digits), else random at start */
  readonly appKey?: Uint8Array | undefined;
  /** Password hashing: scrypt N = 2^logN, 15..20. @defaultValue 17 (OWASP) */
  readonly scryptLogN?: number | undefined;
  /** Usernames that are administrators (the page also needs their 2FA on). @defaultValue [] */
  readonly admins?: readonly string[] | undefined;
  readonly sessionLimits?: SessionLimits | undefined;
  /** `Secure` and `__Host-` cookies: serve over HTTPS. @defaultValue false */
  readonly secureCookies?: boolean | undefined;
  /** Audit events and errors; never a secret or a code. @defaultValue console.log */
  readonly log?: ((line: string) => void) | undefined;
}

export interface RunningWebapp {
  /** e.g. `http://127.0.0.1:3000` */
  readonly url: string;
  /** The sealing key was made at start. */
  readonly ephemeralKey: boolean;
  sessionCounts(): { readonly signedIn: number; readonly pending: number };
  /** Stops listening and drops open connections (the store is left to its owner). */
  close(): Promise<void>;
}

function appKeyFromEnv(): Uint8Array | undefined {
  const hex = process.env.OTPKIT_APP_KEY;
  if (hex === undefined || hex === '') return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('OTPKIT_APP_KEY must be 64 hexadecimal characters (a 32-byte key)');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Starts the app: `const app = await startServer({ port: 3000 })`, then open `app.url`. */
export async function startServer(options: WebappOptions = {}): Promise<RunningWebapp> {
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.log(line));
  const logN = options.scryptLogN ?? 17;
  if (!Number.isInteger(logN) || logN < 15 || logN > 20) throw new RangeError('scryptLogN must be an integer 15..20');
  const envKey = options.appKey ?? appKeyFromEnv();
  const appKey = envKey ?? Uint8Array.from(randomBytes(32));
  if (appKey.length !== 32) throw new RangeError('appKey must be 32 bytes');
  if (envKey === undefined)
    log('warning: OTPKIT_APP_KEY is not set; secrets are sealed with a random key made at start, so enrollments do not survive a restart');

  const tf = createTwoFactor({
    store: options.store, // none: otpkit keeps it in memory
    issuer: 'otpkit demo',
    keys: { current: 'app1', keys: { app1: appKey } },
    throttle: options.throttle,
    now,
    // The specific reasons (invalid, replayed, locked…) go here, never to the page.
    onEvent: (e) => log(`audit ${JSON.stringify(e)}`),
  });
  const sessions = createSessions({ now, secure: options.secureCookies ?? false, limits: options.sessionLimits });
  const app: App = {
    tf,
    users: createUsers(logN, options.admins ?? []),
    sessions,
    now,
    log,
    storeName: options.storeName ?? (options.store === undefined ? 'in-memory' : 'custom'),
    demoKey: envKey === undefined,
  };
  const handle = dispatch(app, ROUTES);
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.removeHeader('Set-Cookie');
      if (e instanceof HttpError) return send(res, e.status, e.message, 'text/plain; charset=utf-8');
      // otpkit fails closed: a store outage is an error page, never "signed in" or "wrong code".
      if (e instanceof OtpkitError && e.code.startsWith('ERR_STORE')) {
        log(`error: ${e.code}: ${e.message}`);
        return send(res, 503, 'Sign-in is unavailable for a moment. Nothing was changed; please try again shortly.', 'text/plain; charset=utf-8');
      }
      log(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      send(res, 500, 'Something went wrong.', 'text/plain; charset=utf-8');
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
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
