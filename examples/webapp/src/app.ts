/**
 * The app on node:http: {@link startServer} wires `createTwoFactor`, users and sessions to the
 * routes. Before a handler runs, the dispatcher checks who may use its route, the origin and the
 * CSRF token of a POST; every answer carries strict headers.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTwoFactor, OtpkitError, type FactorStore, type OtpStore } from 'otpkit';
import type { ThrottleOptions, TwoFactor } from 'otpkit';
import { emailer } from './delivery.js';
import { CSS, type Flash, type Html, layout } from './html.js';
import { accountRoutes } from './pages/account.js';
import { adminRoutes } from './pages/admin.js';
import { deviceRoutes } from './pages/devices.js';
import { signInRoutes } from './pages/signin.js';
import { cookieJar, type Jar, type Pending, Sessions, type UserSession } from './sessions.js';
import { Users, type User } from './users.js';

/** Options of {@link startServer}; every one has a default. */
export interface WebappOptions {
  readonly port?: number | undefined; // 0 (the default) picks a free port
  readonly host?: string | undefined; // '127.0.0.1'
  readonly store?: (OtpStore & FactorStore) | undefined; // otpkit's store: in memory
  readonly storeName?: string | undefined; // for the footer
  readonly now?: (() => number) | undefined; // the clock of otpkit and the sessions: Date.now
  readonly throttle?: ThrottleOptions | undefined; // otpkit's
  /** Email codes through this SMTP server, waiting for it `timeoutMs` (10000) at most. */
  readonly delivery?: { readonly smtpUrl?: string | undefined; readonly timeoutMs?: number };
  readonly scryptLogN?: number | undefined; // password hashing, N = 2^logN, 15..20: 17 (OWASP)
  readonly admins?: readonly string[] | undefined; // usernames that are administrators
  readonly maxSessions?: number | undefined; // signed-in sessions kept at most: 50000
  readonly secureCookies?: boolean | undefined; // `Secure` and `__Host-` cookies, behind HTTPS
  readonly log?: ((line: string) => void) | undefined; // audit events and errors: console.log
}
export interface RunningWebapp {
  readonly url: string; // e.g. http://127.0.0.1:3000
  readonly ephemeralKey: boolean; // the sealing key was made at start (no OTPKIT_APP_KEY)
  sessionCounts(): { readonly signedIn: number };
  /** Stops listening and drops open connections (the store is left to its owner). */
  close(): Promise<void>;
}

/** What every handler may use: the app's parts, and the request. */
export interface Ctx {
  readonly tf: TwoFactor;
  readonly users: Users;
  readonly sessions: Sessions;
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly email: boolean; // codes can be sent by email
  readonly demoKey: boolean; // the sealing key was made at start
  readonly storeName: string;
  readonly cookies: Jar;
  readonly session: UserSession | null;
  readonly pending: Pending | null;
  readonly user: User | undefined;
  readonly csrf: string; // for the page's forms
  /** A form field (POST) or query parameter (GET), at most `max` characters, `''` if absent. */
  field(name: string, max?: number): string;
  /** Renders `body` (which starts with its `<h1>`) in the page shell. */
  render(body: Html): void;
  /** Redirects (303), with a notice for the next page. */
  redirect(to: string, kind?: Flash['kind'], text?: string): void;
}
type App = Pick<
  Ctx,
  'tf' | 'users' | 'sessions' | 'now' | 'log' | 'email' | 'demoKey' | 'storeName'
>;
export type PendingCtx = Ctx & { readonly pending: Pending };
export type UserCtx = Ctx & { readonly session: UserSession; readonly user: User };
/** Routes by who may use them, method and path: `'user POST /2fa/enable': async (c) => …`. */
export interface Routes {
  readonly [route: `anyone ${string}`]: (c: Ctx) => unknown;
  readonly [route: `pending ${string}`]: (c: PendingCtx) => unknown;
  readonly [route: `user ${string}` | `admin ${string}`]: (c: UserCtx) => unknown;
}
const ROUTES = new Map(
  Object.entries({ ...signInRoutes, ...accountRoutes, ...deviceRoutes, ...adminRoutes }).map(
    ([key, handle]) => [key.slice(key.indexOf(' ') + 1), { who: key.split(' ')[0], handle }],
  ),
);

const HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  // Not 'no-referrer': with it, browsers send `Origin: null` on same-origin form posts, which
  // the origin check refuses. 'same-origin' still leaks nothing to other sites.
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  // No script at all, styles from our own stylesheet only, forms posting to us only.
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};
const send = (res: ServerResponse, status: number, body: string, type = 'text/plain'): void =>
  void res.writeHead(status, { ...HEADERS, 'Content-Type': `${type}; charset=utf-8` }).end(body);

/** A refused request: its status and a plain-text answer. */
class Refused extends Error {
  status = 400;
}
const refuse = (status: number, message: string): Refused =>
  Object.assign(new Refused(message), { status });

/** The form of a POST; refuses a foreign `Origin`, `Sec-Fetch-Site: cross-site`, other bodies. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const { origin, host } = req.headers;
  if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`)
    throw refuse(403, 'Cross-origin form posts are refused.');
  if (req.headers['sec-fetch-site'] === 'cross-site')
    throw refuse(403, 'Cross-site form posts are refused.');
  if (req.headers['content-type']?.split(';')[0]?.trim() !== 'application/x-www-form-urlencoded')
    throw refuse(415, 'Forms only.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if ((size += chunk.length) > 16_384) throw refuse(413, 'Request too large.');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const ENDED = {
  session: 'Your session expired. Please sign in again.',
  pending: 'Your sign-in took too long. Enter your password again.',
};
const UNAVAILABLE =
  'Sign-in is unavailable for a moment. Nothing was changed; please try again shortly.';
const ADMIN = 'The administrator page needs an administrator with two-factor authentication on.';

async function dispatch(app: App, secure: boolean, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  if (method === 'GET' && url.pathname === '/style.css') return send(res, 200, CSS, 'text/css');
  const r = ROUTES.get(`${method} ${url.pathname}`);
  if (r === undefined) return send(res, 404, 'Not found');
  const form = method === 'POST' ? await readForm(req) : url.searchParams;
  const { sessions, users, tf } = app;
  const cookies = cookieJar(req, res, secure);
  const { session, pending, ended } = sessions.load(cookies);
  const user = session === null ? undefined : users.byId(session.userId);
  let csrf: string | undefined;
  const c: Ctx = {
    ...{ ...app, cookies, session, pending, user },
    // Read only by forms: a page without one sets no cookie for a visitor without a session.
    get csrf() {
      return (csrf ??= sessions.csrf(cookies, session));
    },
    field(name, max = 256) {
      const v = form.get(name) ?? '';
      if (v.length > max) throw refuse(400, `The ${name} field is too long.`);
      return v;
    },
    redirect(to, kind, text) {
      if (kind !== undefined && text !== undefined) sessions.setFlash(cookies, { kind, text });
      res.setHeader('Location', to);
      send(res, 303, '');
    },
    render: (body) => send(res, 200, layout(c, sessions.takeFlash(cookies), body), 'text/html'),
  };
  // A session that just ended says so on the sign-in page (its cookie is cleared already).
  const gone = (): void => c.redirect('/login', 'info', ended === null ? undefined : ENDED[ended]);
  if (ended !== null && method === 'GET') return gone();
  if (r.who === 'pending' && pending === null) return session ? c.redirect('/') : gone();
  if ((r.who === 'user' || r.who === 'admin') && user === undefined)
    return pending ? c.redirect('/login/code') : gone();
  if (method === 'POST' && !sessions.csrfValid(cookies, session, form.get('csrf') ?? ''))
    return c.redirect('/', 'error', 'That form had expired. Please try again.');
  if (r.who === 'admin' && (user?.admin !== true || !(await tf.isEnabled(user.id))))
    return c.redirect('/', 'error', ADMIN);
  await (r.handle as (c: Ctx) => unknown)(c);
}

/** Starts the app: `const app = await startServer({ port: 3000 })`, then open `app.url`. */
export async function startServer(o: WebappOptions = {}): Promise<RunningWebapp> {
  const now = o.now ?? Date.now;
  const log = o.log ?? ((line: string) => console.log(line));
  const logN = o.scryptLogN ?? 17;
  if (!Number.isInteger(logN) || logN < 15 || logN > 20)
    throw new RangeError('scryptLogN must be an integer 15..20');
  const hex = process.env.OTPKIT_APP_KEY || undefined;
  if (hex !== undefined && !/^[0-9a-fA-F]{64}$/.test(hex))
    throw new Error('OTPKIT_APP_KEY must be 64 hexadecimal characters (a 32-byte key)');
  const demoKey = hex === undefined;
  if (demoKey) log('warning: OTPKIT_APP_KEY is not set: enrollments do not survive a restart');
  const appKey = Uint8Array.from(demoKey ? randomBytes(32) : Buffer.from(hex, 'hex'));
  const { smtpUrl, timeoutMs = 10_000 } = o.delivery ?? {};
  const deliver = smtpUrl === undefined ? undefined : emailer(smtpUrl, timeoutMs);
  const tf = createTwoFactor({
    store: o.store, // none: otpkit keeps it in memory
    issuer: 'otpkit demo',
    keys: { current: 'app1', keys: { app1: appKey } },
    throttle: o.throttle,
    ...(deliver && { delivery: { deliver, timeoutMs } }),
    now,
    // The specific reasons (invalid, replayed, locked…) go here, never to the page.
    onEvent: (e) => log(`audit ${JSON.stringify(e)}`),
  });
  const sessions = new Sessions(now, o.maxSessions);
  const users = new Users(logN, o.admins ?? []);
  const storeName = o.storeName ?? (o.store === undefined ? 'in-memory' : 'custom');
  const app = { tf, users, sessions, now, log, email: !!deliver, demoKey, storeName };
  const server = createServer((req, res) =>
    dispatch(app, o.secureCookies ?? false, req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.removeHeader('Set-Cookie');
      if (e instanceof Refused) return send(res, e.status, e.message);
      // otpkit fails closed: a store outage is an error page, never "signed in" or "wrong code".
      const store = e instanceof OtpkitError && e.code.startsWith('ERR_STORE');
      log(`error: ${store ? `${e.code}: ${e.message}` : e instanceof Error ? e.stack : String(e)}`);
      if (store) return send(res, 503, UNAVAILABLE);
      send(res, 500, 'Something went wrong.');
    }),
  );
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve),
  );
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    ephemeralKey: demoKey,
    sessionCounts: () => ({ signedIn: sessions.size }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
