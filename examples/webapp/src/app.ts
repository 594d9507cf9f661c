/** startServer: otpkit's flow, users and sessions behind a route table on node:http. @module */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTwoFactor, normalizeToken, OtpkitError, type FactorStore } from 'otpkit';
import type { OtpStore, ThrottleOptions, TwoFactor } from 'otpkit';
import { emailer } from './delivery.js';
import { CSS, type Html, layout, type Notice } from './html.js';
import { accountRoutes } from './pages/account.js';
import { adminRoutes } from './pages/admin.js';
import { deviceRoutes } from './pages/devices.js';
import { signInRoutes } from './pages/signin.js';
import { cookieJar, type Jar, type Loaded, type Pending, Sessions } from './sessions.js';
import type { UserSession } from './sessions.js';
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
  close(): Promise<void>; // stops listening, drops open connections; the store is its owner's
}
interface App {
  readonly tf: TwoFactor;
  readonly users: Users;
  readonly sessions: Sessions;
  readonly log: (line: string) => void;
  readonly email: boolean; // codes can be sent by email
  readonly demoKey: boolean; // the sealing key was made at start
  readonly storeName: string;
}
/** What a handler gets: the app's parts, who the browser is, and the request. */
export interface Ctx extends App, Loaded {
  readonly user?: User | undefined;
  readonly url: string; // path and query
  readonly cookies: Jar;
  csrf(): string; // for the page's forms
  field(name: string): string; // a form field or query parameter (within MAX_FIELD), or ''
  code(): string; // the `code` field, without spaces and dashes
  render(body: Html): void; // `body` starts with its `<h1>`, the page's title
  redirect(to: string, kind?: Notice[0], text?: string): void; // 303, and the next page's notice
}
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
async function readForm(req: IncomingMessage): Promise<URLSearchParams | [number, string]> {
  const { origin, host, 'content-type': type } = req.headers;
  if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`)
    return [403, 'Cross-origin form posts are refused.'];
  if (req.headers['sec-fetch-site'] === 'cross-site') return [403, 'Cross-site posts are refused.'];
  if (!type?.startsWith('application/x-www-form-urlencoded')) return [415, 'Forms only.'];
  let body = '';
  for await (const chunk of req.setEncoding('utf8'))
    if ((body += chunk).length > 16_384) return [413, 'Request too large.'];
  return new URLSearchParams(body);
}
// The longest value each field may have (no valid one is longer); any other field: 256.
const MAX_FIELD: Readonly<Record<string, number>> = { username: 64, code: 64, password: 1024 };
const tooLong = (fields: URLSearchParams): boolean =>
  [...fields].some(([name, v]) => v.length > (MAX_FIELD[name] ?? 256));
const ENDED = {
  session: 'Your session expired. Please sign in again.',
  pending: 'Your sign-in took too long. Enter your password again.',
};
const ADMIN = 'The administrator page needs an administrator with two-factor authentication on.';
async function dispatch(app: App, secure: boolean, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  if (method === 'GET' && url.pathname === '/style.css') return send(res, 200, CSS, 'text/css');
  const r = ROUTES.get(`${method} ${url.pathname}`);
  if (r === undefined) return send(res, 404, 'Not found');
  const form = method === 'POST' ? await readForm(req) : url.searchParams;
  if (Array.isArray(form)) return send(res, ...form);
  if (tooLong(form) || tooLong(url.searchParams)) return send(res, 400, 'A field is too long.');
  const cookies = cookieJar(req, res, secure);
  const loaded = app.sessions.load(cookies);
  const { session, pending, ended } = loaded;
  const user = session && app.users.byId(session.userId);
  let csrf: string | undefined;
  const c: Ctx = {
    ...{ ...app, ...loaded, user, url: url.pathname + url.search, cookies },
    // Read only by forms: a page without one sets no cookie for a visitor without a session.
    csrf: () => (csrf ??= app.sessions.csrf(cookies, session)),
    field: (name) => form.get(name) ?? url.searchParams.get(name) ?? '',
    code: () => normalizeToken(c.field('code')),
    redirect(to, kind, text) {
      if (kind && text) app.sessions.flash(cookies, [kind, text]);
      res.writeHead(303, { ...HEADERS, Location: to }).end();
    },
    render: (body) => send(res, 200, layout(c, app.sessions.takeFlash(cookies), body), 'text/html'),
  };
  // A session that just ended says so on the sign-in page (its cookie is cleared already).
  const gone = (): void => c.redirect('/login', 'info', ended && ENDED[ended]);
  if (ended && method === 'GET') return gone();
  if (r.who === 'pending' && !pending) return session ? c.redirect('/') : gone();
  if ((r.who === 'user' || r.who === 'admin') && !user)
    return pending ? c.redirect('/login/code') : gone();
  if (method === 'POST' && !app.sessions.csrfValid(cookies, session, form.get('csrf') ?? ''))
    return c.redirect('/', 'error', 'That form had expired. Please try again.');
  if (r.who === 'admin' && !(user?.admin && (await app.tf.isEnabled(user.id))))
    return c.redirect('/', 'error', ADMIN);
  await (r.handle as (c: Ctx) => unknown)(c);
}

export async function startServer(o: WebappOptions = {}): Promise<RunningWebapp> {
  const now = o.now ?? Date.now;
  const log = o.log ?? ((line: string) => console.log(line));
  const users = new Users(o.scryptLogN, o.admins);
  const hex = process.env.OTPKIT_APP_KEY || undefined;
  if (hex !== undefined && !/^[0-9a-fA-F]{64}$/.test(hex))
    throw new Error('OTPKIT_APP_KEY must be 64 hexadecimal characters (a 32-byte key)');
  if (hex === undefined) log('warning: OTPKIT_APP_KEY is not set: enrollments are lost on restart');
  const key = Uint8Array.from(hex === undefined ? randomBytes(32) : Buffer.from(hex, 'hex'));
  const { smtpUrl, timeoutMs = 10_000 } = o.delivery ?? {};
  const deliver = smtpUrl === undefined ? undefined : emailer(smtpUrl, timeoutMs);
  const tf = createTwoFactor({
    store: o.store, // none: otpkit keeps it in memory
    issuer: 'otpkit demo',
    keys: { current: 'app1', keys: { app1: key } },
    throttle: o.throttle,
    delivery: deliver && { deliver, timeoutMs },
    now,
    // The specific reasons (invalid, replayed, locked…) go here, never to the page.
    onEvent: (e) => log(`audit ${JSON.stringify(e)}`),
  });
  const sessions = new Sessions(now, o.maxSessions);
  const storeName = o.storeName ?? (o.store === undefined ? 'in-memory' : 'custom');
  const app = { tf, users, sessions, log, email: !!deliver, demoKey: !hex, storeName };
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) =>
    dispatch(app, o.secureCookies ?? false, req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.removeHeader('Set-Cookie');
      // otpkit fails closed: a store outage is an error page, never "signed in" or "wrong code".
      const store = e instanceof OtpkitError && e.code.startsWith('ERR_STORE');
      log(`error: ${store ? `${e.code}: ${e.message}` : e instanceof Error ? e.stack : String(e)}`);
      if (!store) return send(res, 500, 'Something went wrong.');
      send(res, 503, 'Sign-in is unavailable for a moment. Nothing was changed; please try again.');
    }),
  );
  await once(server.listen(o.port ?? 0, o.host ?? '127.0.0.1'), 'listening');
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    ephemeralKey: !hex,
    sessionCounts: () => ({ signedIn: sessions.count() }),
    close: () =>
      new Promise<void>((done, fail) =>
        server.close((e) => (e ? fail(e) : done())).closeAllConnections(),
      ),
  };
}
