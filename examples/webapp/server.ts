/**
 * otpkit example: a small, framework-free web app (node:http only) with the whole seed flow of
 * two-factor authentication:
 *
 * - sign up and log in with a password (scrypt from node:crypto, OWASP parameters);
 * - enable 2FA: a fresh secret, its QR code (inline SVG from `otpkit/qr`), the otpauth:// URI,
 *   the base32 key in groups of four for manual entry, authenticator-compatibility warnings, and
 *   a confirmation code (`confirmTOTP`); then 10 recovery codes, shown once;
 * - log in with password + code (`verifyTOTP`), with a clear message for every refusal
 *   (malformed, invalid, replayed, throttled with the wait, locked);
 * - log in with a recovery code (once each), see how many are left, regenerate them.
 *
 * Secrets are sealed at rest with `sealSecret` (AES-256-GCM, bound to the user id). otpkit's
 * own state (used steps, failure counts, drift, hashed recovery codes) lives in the configured
 * store: in memory by default, PostgreSQL or Redis when given a URL. Users and sessions stay in
 * this process's memory: it is an example, not a user database.
 *
 * Run it with `node examples/webapp/start.mjs` (see README.md beside this file); tests import
 * {@link startServer} and drive it in a real browser.
 * @module
 */
import { randomBytes, randomUUID, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import {
  buildOtpauthURI,
  checkAuthenticatorCompatibility,
  createMemoryStore,
  createVerifier,
  encodeBase32,
  generateSecret,
  normalizeToken,
  OtpkitError,
  openSecret,
  sealSecret,
  type OtpStore,
  type ThrottleOptions,
  type VerifierEvent,
  type VerifierFailure,
} from 'otpkit';
import { renderQRCodeSVG } from 'otpkit/qr';

// ---------------------------------------------------------------------------------------------
// Options

/** Options of {@link startServer}. */
export interface WebappOptions {
  /** TCP port; 0 picks a free one. @defaultValue 0 */
  readonly port?: number | undefined;
  /** Interface to listen on. @defaultValue '127.0.0.1' */
  readonly host?: string | undefined;
  /** Where otpkit keeps its state. @defaultValue a new in-memory store */
  readonly store?: OtpStore | undefined;
  /** Shown on the page: which store is in use. @defaultValue 'in-memory' (or 'custom' with a store) */
  readonly storeName?: string | undefined;
  /** The clock (ms since the epoch) for codes, throttling and sessions. @defaultValue Date.now */
  readonly now?: (() => number) | undefined;
  /** otpkit's backoff and lockout policy for codes. @defaultValue otpkit's defaults */
  readonly throttle?: ThrottleOptions | undefined;
  /**
   * The 32-byte key that seals TOTP secrets. @defaultValue from `OTPKIT_APP_KEY` (64 hex
   * characters), else a random key made at start (secrets then do not survive a restart)
   */
  readonly appKey?: Uint8Array | undefined;
  /** The issuer shown in authenticator apps. @defaultValue 'otpkit demo' */
  readonly issuer?: string | undefined;
  /** Password hashing cost: scrypt N = 2^logN (r = 8, p = 1), 15..20. @defaultValue 17 (OWASP) */
  readonly scryptLogN?: number | undefined;
  /** Add `Secure` to the session cookie (serve over HTTPS!). @defaultValue false */
  readonly secureCookies?: boolean | undefined;
  /** Log lines (audit events, warnings). @defaultValue console.log */
  readonly log?: ((line: string) => void) | undefined;
}

/** A running app. */
export interface RunningWebapp {
  /** The base URL, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** True when the sealing key was generated at start (no `OTPKIT_APP_KEY`). */
  readonly ephemeralKey: boolean;
  /** Stops listening and drops open connections (the store is left to its owner). */
  close(): Promise<void>;
}

const ISSUER = 'otpkit demo';
const KEY_ID = 'app1';
const COOKIE = 'otpkit_demo_sid';
const MINUTE = 60_000;
/** "Password ok, code pending" lasts this long: long enough to open the app, no longer. */
const PENDING_TTL_MS = 5 * MINUTE;
const ANONYMOUS_IDLE_MS = 60 * MINUTE;
const SIGNED_IN_IDLE_MS = 30 * MINUTE;
const SIGNED_IN_MAX_MS = 12 * 60 * MINUTE;
const MAX_SESSIONS = 100_000;
const MAX_BODY_BYTES = 16 * 1024;
const USERNAME = /^[a-z0-9][a-z0-9._-]{2,31}$/;
const MIN_PASSWORD = 8;
const MAX_PASSWORD = 1024;

// ---------------------------------------------------------------------------------------------
// HTML: every interpolation is escaped unless it is already `Html`.

/** Markup that is safe to emit as is. */
class Html {
  constructor(readonly value: string) {}
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function fragment(v: unknown): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(fragment).join('');
  if (v === undefined || v === null || v === false) return '';
  return escapeHtml(String(v));
}

/** Tagged template: literal parts are markup, every `${value}` is escaped (arrays are joined). */
function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += fragment(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Trusted markup (otpkit's SVG, which validates its colours and has no text content). */
function trusted(markup: string): Html {
  return new Html(markup);
}

const CSS = `
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:.7rem 1.5rem;display:flex;align-items:center;gap:1rem}
header .brand{font-weight:700;color:#fff;text-decoration:none}
header .who{margin-left:auto;font-size:.9rem;opacity:.85}
header .who a{color:#fff}
header form{margin:0}
main{max-width:46rem;margin:1.5rem auto;padding:0 1rem}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:1.2rem 1.5rem;margin-bottom:1rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}
h2{font-size:1.15rem;margin:.2rem 0 .7rem}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}
input[type=text],input[type=password]{width:100%;max-width:22rem;padding:.5rem .6rem;font-size:1rem;border:1px solid #b9c0cc;border-radius:5px}
input.code{font-family:ui-monospace,Menlo,Consolas,monospace;letter-spacing:.15em;max-width:12rem}
input.recovery{font-family:ui-monospace,Menlo,Consolas,monospace;max-width:16rem}
button{font:inherit;padding:.45rem 1rem;border-radius:5px;border:1px solid #2450b2;background:#2f62d6;color:#fff;cursor:pointer;margin-top:.7rem}
button.secondary{background:#fff;color:#2450b2}
header button{margin:0;padding:.25rem .7rem;background:transparent;border-color:#8891a5;color:#fff}
.flash{padding:.7rem 1rem;border-radius:6px;margin-bottom:1rem;border:1px solid}
.flash.ok{background:#e7f6ec;border-color:#9bd3ad;color:#17522b}
.flash.error{background:#fdecec;border-color:#efaaaa;color:#7d1717}
.flash.info{background:#eef3fd;border-color:#a9bfef;color:#1c3a7a}
.banner{background:#fff6db;border-bottom:1px solid #ecd58b;color:#5c4700;padding:.4rem 1.5rem;font-size:.85rem}
.setup{display:flex;gap:1.5rem;flex-wrap:wrap;align-items:flex-start}
.qr svg{display:block;border:1px solid #dde1e8}
code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace}
.secret{font-size:1.15rem;letter-spacing:.08em;background:#f4f5f7;padding:.3rem .5rem;border-radius:4px;display:inline-block;word-break:break-word}
.uri{word-break:break-all;font-size:.8rem;background:#f4f5f7;padding:.3rem .5rem;border-radius:4px;display:block}
ol.codes{columns:2;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:1.05rem;background:#f4f5f7;padding:.8rem 1rem .8rem 2.5rem;border-radius:6px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.3rem 0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
.muted{color:#5b6475;font-size:.9rem}
.warn{color:#7d4a00}
footer{max-width:46rem;margin:2rem auto;padding:0 1rem;color:#5b6475;font-size:.8rem}
`;

// ---------------------------------------------------------------------------------------------
// Passwords: scrypt (RFC 7914) with a random 16-byte salt, stored with its parameters.

function scryptAsync(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, options, (e, key) => (e ? reject(e) : resolve(key))));
}

const scryptOptions = (logN: number): ScryptOptions => ({ N: 2 ** logN, r: 8, p: 1, maxmem: 2 ** logN * 1024 * 2 });

/** `scrypt$<logN>$8$1$<salt b64>$<hash b64>`. NFKC-normalised first (NIST SP 800-63B §5.1.1.2). */
async function hashPassword(password: string, logN: number): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password.normalize('NFKC'), salt, 32, scryptOptions(logN));
  return `scrypt$${logN}$8$1$${salt.toString('base64')}$${hash.toString('base64')}`;
}

async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, logN, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || r !== '8' || p !== '1' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64');
  const got = await scryptAsync(password.normalize('NFKC'), Buffer.from(salt, 'base64'), expected.length, scryptOptions(Number(logN)));
  return timingSafeEqual(got, expected);
}

// ---------------------------------------------------------------------------------------------
// Users and sessions (in memory)

interface User {
  /** Random and never reused: otpkit's store is keyed on it, so a re-registered name inherits nothing. */
  readonly id: string;
  readonly username: string;
  passwordHash: string;
  /** The confirmed TOTP secret, sealed. */
  totpSealed: string | null;
  /** A secret being set up, sealed, until it is confirmed with a code. */
  pendingSealed: string | null;
  /**
   * otpkit's credential id of each enrolment: new for every new secret, so that a new
   * authenticator never inherits the old one's learned clock drift, used steps or failures.
   */
  credentialId: string | null;
  pendingCredentialId: string | null;
  enabledAt: number | null;
}

interface Flash {
  readonly kind: 'ok' | 'error' | 'info';
  readonly text: string;
}

/**
 * A session is exactly one of three states. Only `'signed-in'` has a `userId`: the
 * "password ok, code pending" state keeps its user in `pendingUserId`, so no code that reads
 * `userId` can mistake it for a signed-in session (tinyauth GHSA-3q28-qjrv-qr39).
 */
type Session = {
  readonly id: string;
  readonly csrf: string;
  readonly createdAt: number;
  seenAt: number;
  flash: Flash[];
} & (
  | { readonly state: 'anonymous' }
  | { readonly state: 'password-ok'; readonly pendingUserId: string }
  | { readonly state: 'signed-in'; readonly userId: string; readonly via: 'totp' | 'recovery' | 'password' }
);

type SessionState =
  | { readonly state: 'anonymous' }
  | { readonly state: 'password-ok'; readonly pendingUserId: string }
  | { readonly state: 'signed-in'; readonly userId: string; readonly via: 'totp' | 'recovery' | 'password' };

const token = (): string => randomBytes(32).toString('base64url');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The sealing key from `OTPKIT_APP_KEY` (64 hex characters), or undefined when it is not set. */
export function appKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Uint8Array | undefined {
  const hex = env.OTPKIT_APP_KEY;
  if (hex === undefined || hex === '') return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('OTPKIT_APP_KEY must be 64 hexadecimal characters (a 32-byte key)');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

// ---------------------------------------------------------------------------------------------
// Messages for every refusal

function seconds(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s === 1 ? '1 second' : s < 120 ? `${s} seconds` : `${Math.ceil(s / 60)} minutes`;
}

function clockTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}

/** What to tell the user about a refused authenticator code. */
function totpMessage(f: VerifierFailure, now: number): string {
  switch (f.reason) {
    case 'malformed':
      return 'That is not a 6-digit code. Type the 6 digits your authenticator app shows (spaces are fine).';
    case 'invalid':
      return 'That code is not correct. Check that you are reading the entry for this site and that your phone’s clock is set automatically, then try again.';
    case 'replayed':
      return 'That code was already used. Wait for your authenticator app to show a new code (at most 30 seconds), then enter the new one.';
    case 'throttled':
      return `Too many wrong codes. Wait ${seconds(f.retryAfterMs)} before trying again (until ${clockTime(now + f.retryAfterMs)}).`;
    case 'locked':
      return 'Sign-in with authenticator codes is locked for this account after too many wrong codes. Sign in with a recovery code instead, then unlock codes from your account page.';
  }
}

/** What to tell the user about a refused recovery code. */
function recoveryMessage(f: VerifierFailure, now: number): string {
  switch (f.reason) {
    case 'malformed':
    case 'invalid':
    case 'replayed':
      return 'That recovery code is not valid, or it was already used. Each recovery code works only once.';
    case 'throttled':
      return `Too many wrong recovery codes. Wait ${seconds(f.retryAfterMs)} before trying again (until ${clockTime(now + f.retryAfterMs)}).`;
    case 'locked':
      return 'Recovery codes are locked for this account after too many wrong attempts. Contact the site administrator.';
  }
}

/** `ABCDEFGH…` → `ABCD EFGH …`, as authenticator apps and most sites show keys. */
function groupsOfFour(text: string): string {
  return text.replace(/(.{4})(?=.)/g, '$1 ');
}

// ---------------------------------------------------------------------------------------------
// The app

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Request {
  readonly method: string;
  readonly path: string;
  readonly session: Session;
  readonly form: URLSearchParams;
  readonly res: ServerResponse;
}

/**
 * Starts the example app.
 *
 * @param options - {@link WebappOptions}; everything has a default.
 * @returns the URL it listens on and `close()`.
 * @example
 * ```ts
 * const app = await startServer({ port: 3000 });
 * console.log(`open ${app.url}`);
 * ```
 */
export async function startServer(options: WebappOptions = {}): Promise<RunningWebapp> {
  const clock = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.log(line));
  const issuer = options.issuer ?? ISSUER;
  const logN = options.scryptLogN ?? 17;
  if (!Number.isInteger(logN) || logN < 15 || logN > 20) throw new RangeError('scryptLogN must be an integer 15..20');
  const envKey = options.appKey ?? appKeyFromEnv();
  const ephemeralKey = envKey === undefined;
  const appKey = envKey ?? Uint8Array.from(randomBytes(32));
  if (appKey.length !== 32) throw new RangeError('appKey must be 32 bytes');
  if (ephemeralKey)
    log(
      'warning: OTPKIT_APP_KEY is not set; TOTP secrets are sealed with a random key made at start, so enrolments ' +
        'do not survive a restart. Set OTPKIT_APP_KEY to 64 hex characters (e.g. `openssl rand -hex 32`).',
    );
  const storeName = options.storeName ?? (options.store === undefined ? 'in-memory' : 'custom');
  const secureCookies = options.secureCookies ?? false;

  const verifier = createVerifier({
    store: options.store ?? createMemoryStore(),
    throttle: options.throttle,
    now: clock,
    // Audit events never contain codes or secrets; a real app ships them to its audit log.
    onEvent: (e: VerifierEvent) => log(`audit ${JSON.stringify(e)}`),
  });

  const users = new Map<string, User>(); // by id
  const byName = new Map<string, string>(); // username → id
  const sessions = new Map<string, Session>();
  // Unknown users cost one scrypt too, so response times do not tell which names exist.
  const dummyHash = hashPassword(token(), logN);
  const aad = (user: User): string => `otpkit-webapp:totp:${user.id}`;

  // --- sessions ------------------------------------------------------------------------------

  const expired = (s: Session, now: number): boolean => {
    if (s.state === 'password-ok') return now - s.createdAt > PENDING_TTL_MS;
    if (s.state === 'signed-in') return now - s.seenAt > SIGNED_IN_IDLE_MS || now - s.createdAt > SIGNED_IN_MAX_MS;
    return now - s.seenAt > ANONYMOUS_IDLE_MS;
  };

  let nextSweep = 0;
  const sweep = (now: number): void => {
    if (now < nextSweep && sessions.size < MAX_SESSIONS) return;
    nextSweep = now + MINUTE;
    for (const [id, s] of sessions) if (expired(s, now)) sessions.delete(id);
    // Still too many: drop the oldest (a Map iterates in insertion order).
    for (const id of sessions.keys()) {
      if (sessions.size < MAX_SESSIONS) break;
      sessions.delete(id);
    }
  };

  const setCookie = (res: ServerResponse, id: string): void => {
    res.setHeader('Set-Cookie', `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax${secureCookies ? '; Secure' : ''}`);
  };

  /** A new session (new id, new CSRF token) replacing `old`: on every change of who is signed in (no fixation). */
  const rotate = (res: ServerResponse, old: Session | null, next: SessionState, flash: Flash[] = []): Session => {
    if (old !== null) sessions.delete(old.id);
    const now = clock();
    const s: Session = { id: token(), csrf: token(), createdAt: now, seenAt: now, flash, ...next };
    sessions.set(s.id, s);
    setCookie(res, s.id);
    return s;
  };

  const loadSession = (req: IncomingMessage, res: ServerResponse): { session: Session; fresh: boolean } => {
    const now = clock();
    const id = cookieValue(req.headers.cookie, COOKIE);
    const s = id === undefined ? undefined : sessions.get(id);
    sweep(now); // after the lookup, so that an expired session can still say why it ended
    if (s !== undefined && !expired(s, now)) {
      s.seenAt = now;
      return { session: s, fresh: false };
    }
    if (s !== undefined) sessions.delete(s.id);
    const flash: Flash[] =
      s?.state === 'password-ok'
        ? [{ kind: 'info', text: 'Your sign-in took too long. Enter your password again.' }]
        : s?.state === 'signed-in'
          ? [{ kind: 'info', text: 'Your session expired. Please sign in again.' }]
          : [];
    return { session: rotate(res, null, { state: 'anonymous' }, flash), fresh: true };
  };

  /** The signed-in user, or null. The ONLY way handlers learn who is signed in. */
  const signedIn = (s: Session): User | null => (s.state === 'signed-in' ? (users.get(s.userId) ?? null) : null);

  // --- responses -----------------------------------------------------------------------------

  const send = (res: ServerResponse, status: number, body: string, type = 'text/html; charset=utf-8'): void => {
    res.statusCode = status;
    res.setHeader('Content-Type', type);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // Not 'no-referrer': with it, browsers send `Origin: null` on same-origin form posts, which
    // the origin check below (rightly) refuses. 'same-origin' still leaks nothing to other sites.
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    res.end(body);
  };

  const redirect = (res: ServerResponse, to: string): void => {
    res.statusCode = 303;
    res.setHeader('Location', to);
    res.setHeader('Cache-Control', 'no-store');
    res.end();
  };

  const page = (r: Request, title: string, body: Html, status = 200): void => {
    const user = signedIn(r.session);
    const flash = r.session.flash;
    r.session.flash = [];
    const doc = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · otpkit demo</title><link rel="stylesheet" href="/style.css"></head>
<body>
<header><a class="brand" href="/">otpkit demo</a>${
      user !== null
        ? html`<span class="who" id="who">Signed in as <strong>${user.username}</strong></span>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="${r.session.csrf}"><button type="submit" id="logout">Log out</button></form>`
        : r.session.state === 'password-ok'
          ? html`<span class="who">Password accepted · second step pending</span>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="${r.session.csrf}"><button type="submit" id="logout">Cancel</button></form>`
          : html`<span class="who"><a href="/login">Log in</a> · <a href="/signup">Sign up</a></span>`
    }</header>
${ephemeralKey ? html`<div class="banner" id="ephemeral-key">Demo mode: TOTP secrets are sealed with a random key generated at start (no <code>OTPKIT_APP_KEY</code>); enrolments are lost on restart.</div>` : ''}
<main>
${flash.map((f) => html`<div class="flash ${f.kind}" role="${f.kind === 'error' ? 'alert' : 'status'}">${f.text}</div>`)}
${body}
</main>
<footer>otpkit state: <span id="store-name">${storeName}</span> store · users and sessions: this process's memory</footer>
</body></html>`;
    send(r.res, status, doc.value);
  };

  const csrfField = (s: Session): Html => html`<input type="hidden" name="csrf" value="${s.csrf}">`;

  const codeForm = (s: Session, action: string, button: string, id: string): Html => html`
<form method="post" action="${action}" id="${id}">${csrfField(s)}
<label for="${id}-code">6-digit code from your authenticator app</label>
<input type="text" class="code" id="${id}-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="16" required autofocus>
<div><button type="submit">${button}</button></div></form>`;

  // --- pages ---------------------------------------------------------------------------------

  const home = async (r: Request): Promise<void> => {
    if (r.session.state === 'password-ok') return redirect(r.res, '/login/2fa');
    const user = signedIn(r.session);
    if (user === null) {
      return page(
        r,
        'Welcome',
        html`<div class="card"><h1>otpkit demo</h1>
<p>A small web app that shows two-factor sign-in with <strong>otpkit</strong>: authenticator-app codes (TOTP) with replay protection and throttling, and one-time recovery codes.</p>
<p><a href="/signup">Create an account</a> or <a href="/login">log in</a>.</p></div>`,
      );
    }
    if (user.totpSealed === null) {
      return page(
        r,
        'Your account',
        html`<div class="card"><h1>Your account</h1>
<p id="twofa-status">Two-factor authentication is <strong>off</strong>. Anyone with your password can sign in.</p>
<form method="post" action="/2fa/setup">${csrfField(r.session)}<button type="submit" id="enable-2fa">Enable two-factor authentication</button></form>
${user.pendingSealed !== null ? html`<p class="muted">You started setting it up: <a href="/2fa/setup">continue</a>.</p>` : ''}
</div>`,
      );
    }
    const [remaining, status] = await Promise.all([
      verifier.remainingRecoveryCodes(user.id),
      verifier.throttleStatus(user.id), // one OTP failure count per account, whatever the credential
    ]);
    const now = clock();
    return page(
      r,
      'Your account',
      html`<div class="card"><h1>Your account</h1>
<p id="twofa-status">Two-factor authentication is <strong>on</strong> (since ${new Date(user.enabledAt ?? now).toISOString().slice(0, 10)}).</p>
<p id="recovery-remaining">Recovery codes left: <strong>${remaining}</strong> of 10.${
        remaining <= 3 ? html` <span class="warn">Running low: generate a new set below.</span>` : ''
      }</p>
${
  status.locked
    ? html`<div class="flash error" id="totp-locked">Authenticator codes are locked after ${status.failures} wrong attempts.
<form method="post" action="/2fa/unlock">${csrfField(r.session)}<button type="submit" id="unlock">Unlock authenticator codes</button></form></div>`
    : status.retryAfterMs > 0
      ? html`<p class="warn" id="totp-throttled">After ${status.failures} wrong codes, the next code is accepted after ${clockTime(now + status.retryAfterMs)}.</p>`
      : ''
}
</div>
<div class="card"><h2>New recovery codes</h2>
<p class="muted">Generating a new set makes every old recovery code stop working. Confirm with your password.</p>
<form method="post" action="/recovery-codes" id="regenerate">${csrfField(r.session)}
<label for="regenerate-password">Password</label>
<input type="password" id="regenerate-password" name="password" autocomplete="current-password" required>
<div><button type="submit">Generate new recovery codes</button></div></form></div>`,
    );
  };

  const signupPage = (r: Request): void =>
    page(
      r,
      'Sign up',
      html`<div class="card"><h1>Create an account</h1>
<form method="post" action="/signup" id="signup">${csrfField(r.session)}
<label for="signup-username">Username</label>
<input type="text" id="signup-username" name="username" autocomplete="username" required minlength="3" maxlength="32" pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{2,31}">
<p class="muted">3–32 letters, digits, dots, dashes or underscores.</p>
<label for="signup-password">Password</label>
<input type="password" id="signup-password" name="password" autocomplete="new-password" required minlength="${MIN_PASSWORD}">
<p class="muted">At least ${MIN_PASSWORD} characters.</p>
<div><button type="submit">Sign up</button></div></form>
<p class="muted">Already registered? <a href="/login">Log in</a>.</p></div>`,
    );

  const loginPage = (r: Request): void => {
    if (r.session.state === 'password-ok') return redirect(r.res, '/login/2fa');
    if (signedIn(r.session) !== null) return redirect(r.res, '/');
    page(
      r,
      'Log in',
      html`<div class="card"><h1>Log in</h1>
<form method="post" action="/login" id="login">${csrfField(r.session)}
<label for="login-username">Username</label>
<input type="text" id="login-username" name="username" autocomplete="username" required>
<label for="login-password">Password</label>
<input type="password" id="login-password" name="password" autocomplete="current-password" required>
<div><button type="submit">Log in</button></div></form>
<p class="muted">No account? <a href="/signup">Sign up</a>.</p></div>`,
    );
  };

  const secondStepPage = (r: Request): void => {
    if (r.session.state !== 'password-ok') return redirect(r.res, signedIn(r.session) !== null ? '/' : '/login');
    page(
      r,
      'Two-factor authentication',
      html`<div class="card"><h1>Two-factor authentication</h1>
<p>Open your authenticator app and enter the current code for <strong>${issuer}</strong>.</p>
${codeForm(r.session, '/login/2fa', 'Verify', 'login-code')}</div>
<div class="card"><h2>Lost your phone?</h2>
<form method="post" action="/login/recovery" id="login-recovery">${csrfField(r.session)}
<label for="login-recovery-code">Recovery code</label>
<input type="text" class="recovery" id="login-recovery-code" name="code" autocomplete="off" spellcheck="false" maxlength="64" required>
<div><button type="submit" class="secondary">Use recovery code</button></div></form></div>`,
    );
  };

  const setupPage = async (r: Request, user: User): Promise<void> => {
    if (user.totpSealed !== null) return redirect(r.res, '/');
    if (user.pendingSealed === null) return redirect(r.res, '/');
    const secret = await openSecret(user.pendingSealed, { keys: { [KEY_ID]: appKey }, associatedData: aad(user) });
    const enrollment = { type: 'totp', secret, account: user.username, issuer } as const;
    const uri = buildOtpauthURI(enrollment);
    const warnings = checkAuthenticatorCompatibility(enrollment);
    const svg = renderQRCodeSVG(uri, { scale: 5, ecc: 'M' });
    page(
      r,
      'Set up two-factor authentication',
      html`<div class="card"><h1>Set up two-factor authentication</h1>
<p>1. Scan this QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, Aegis, 1Password, Bitwarden…).</p>
<div class="setup"><div class="qr" id="qr" role="img" aria-label="QR code of the otpauth:// link below">${trusted(svg)}</div>
<div><p><strong>Can't scan it?</strong> Add an entry by hand with this key:</p>
<p><code class="secret" id="manual-secret">${groupsOfFour(encodeBase32(secret))}</code></p>
<dl class="facts"><dt>Account</dt><dd>${user.username}</dd><dt>Issuer</dt><dd>${issuer}</dd>
<dt>Type</dt><dd>Time-based, 6 digits, every 30 seconds (SHA-1)</dd></dl></div></div>
<details><summary>Show the otpauth:// link (it contains the key: do not share it)</summary>
<code class="uri" id="otpauth-uri">${uri}</code></details>
${
  warnings.length === 0
    ? html`<p class="muted" id="compat">Compatibility: these settings work with all common authenticator apps.</p>`
    : html`<div class="flash info" id="compat"><strong>Compatibility warnings</strong><ul>${warnings.map(
        (w) => html`<li>${w.message}${w.apps.length > 0 ? ` (${w.apps.join(', ')})` : ''}</li>`,
      )}</ul></div>`
}
</div>
<div class="card"><h2>2. Enter the code your app shows</h2>
${codeForm(r.session, '/2fa/confirm', 'Confirm and enable', 'confirm')}
<form method="post" action="/2fa/setup">${csrfField(r.session)}<button type="submit" class="secondary">Start over with a new key</button></form></div>`,
    );
  };

  /** Shown once, right after they are made: never stored in a form we could show again. */
  const recoveryCodesPage = (r: Request, codes: readonly string[], heading: string): void =>
    page(
      r,
      'Your recovery codes',
      html`<div class="card"><h1>${heading}</h1>
<p><strong>Save these recovery codes now.</strong> Each one signs you in once if you lose your authenticator app. They will <strong>not be shown again</strong>.</p>
<ol class="codes" id="recovery-codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
<p class="muted">Store them in a password manager or print them. Anyone who has them and your password can sign in.</p>
<p><a href="/" id="codes-saved">I have saved my recovery codes</a></p></div>`,
    );

  // --- actions -------------------------------------------------------------------------------

  const field = (r: Request, name: string, max: number): string => {
    const v = r.form.get(name) ?? '';
    if (v.length > max) throw new HttpError(400, `The ${name} field is too long.`);
    return v;
  };

  const signup = async (r: Request): Promise<void> => {
    const username = field(r, 'username', 64).trim().toLowerCase();
    const password = field(r, 'password', MAX_PASSWORD);
    const fail = (text: string): void => {
      r.session.flash.push({ kind: 'error', text });
      redirect(r.res, '/signup');
    };
    if (!USERNAME.test(username)) return fail('Choose a username of 3–32 letters, digits, dots, dashes or underscores.');
    if ([...password].length < MIN_PASSWORD) return fail(`Choose a password of at least ${MIN_PASSWORD} characters.`);
    if (byName.has(username)) return fail('That username is taken.');
    const passwordHash = await hashPassword(password, logN);
    if (byName.has(username)) return fail('That username is taken.'); // lost a race while hashing
    const user: User = {
      id: randomUUID(),
      username,
      passwordHash,
      totpSealed: null,
      pendingSealed: null,
      credentialId: null,
      pendingCredentialId: null,
      enabledAt: null,
    };
    users.set(user.id, user);
    byName.set(username, user.id);
    log(`user created: ${user.id}`);
    rotate(r.res, r.session, { state: 'signed-in', userId: user.id, via: 'password' }, [
      { kind: 'ok', text: `Welcome, ${username}! Your account is ready. Turn on two-factor authentication to protect it.` },
    ]);
    redirect(r.res, '/');
  };

  const login = async (r: Request): Promise<void> => {
    const username = field(r, 'username', 64).trim().toLowerCase();
    const password = field(r, 'password', MAX_PASSWORD);
    const id = byName.get(username);
    const user = id === undefined ? undefined : users.get(id);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash));
    if (user === undefined || !ok) {
      r.session.flash.push({ kind: 'error', text: 'Wrong username or password.' });
      return redirect(r.res, '/login');
    }
    if (user.totpSealed === null) {
      rotate(r.res, r.session, { state: 'signed-in', userId: user.id, via: 'password' }, [{ kind: 'ok', text: 'Signed in.' }]);
      return redirect(r.res, '/');
    }
    // Password ok, second factor pending: this state grants nothing but the second step.
    rotate(r.res, r.session, { state: 'password-ok', pendingUserId: user.id });
    redirect(r.res, '/login/2fa');
  };

  const pendingUser = (r: Request): User | null => {
    if (r.session.state !== 'password-ok') return null;
    return users.get(r.session.pendingUserId) ?? null;
  };

  const loginCode = async (r: Request): Promise<void> => {
    const user = pendingUser(r);
    if (user === null || user.totpSealed === null || user.credentialId === null) return redirect(r.res, '/login');
    const secret = await openSecret(user.totpSealed, { keys: { [KEY_ID]: appKey }, associatedData: aad(user) });
    const result = await verifier.verifyTOTP({
      userId: user.id,
      credentialId: user.credentialId,
      secret,
      token: normalizeToken(field(r, 'code', 64)),
    });
    if (!result.ok) {
      r.session.flash.push({ kind: 'error', text: totpMessage(result, clock()) });
      return redirect(r.res, '/login/2fa');
    }
    rotate(r.res, r.session, { state: 'signed-in', userId: user.id, via: 'totp' }, [{ kind: 'ok', text: 'Signed in with your authenticator app.' }]);
    redirect(r.res, '/');
  };

  const loginRecovery = async (r: Request): Promise<void> => {
    const user = pendingUser(r);
    if (user === null) return redirect(r.res, '/login');
    const result = await verifier.redeemRecoveryCode({ userId: user.id, code: field(r, 'code', 64) });
    if (!result.ok) {
      r.session.flash.push({ kind: 'error', text: recoveryMessage(result, clock()) });
      return redirect(r.res, '/login/2fa');
    }
    const left = result.remaining;
    rotate(r.res, r.session, { state: 'signed-in', userId: user.id, via: 'recovery' }, [
      {
        kind: left <= 3 ? 'error' : 'ok',
        text:
          `Signed in with a recovery code. That code is now used up; you have ${left} recovery code${left === 1 ? '' : 's'} left.` +
          (left <= 3 ? ' Generate a new set below.' : ''),
      },
    ]);
    redirect(r.res, '/');
  };

  const beginSetup = async (r: Request, user: User): Promise<void> => {
    if (user.totpSealed !== null) return redirect(r.res, '/');
    user.pendingSealed = await sealSecret(generateSecret(), { key: appKey, keyId: KEY_ID, associatedData: aad(user) });
    user.pendingCredentialId = randomUUID();
    redirect(r.res, '/2fa/setup');
  };

  const confirmSetup = async (r: Request, user: User): Promise<void> => {
    const pending = user.pendingSealed;
    const credentialId = user.pendingCredentialId;
    if (user.totpSealed !== null || pending === null || credentialId === null) return redirect(r.res, '/');
    const secret = await openSecret(pending, { keys: { [KEY_ID]: appKey }, associatedData: aad(user) });
    // confirmTOTP consumes the matched time step: the setup code cannot be replayed as a login code.
    const result = await verifier.confirmTOTP({ userId: user.id, credentialId, secret, token: normalizeToken(field(r, 'code', 64)) });
    if (!result.ok) {
      r.session.flash.push({ kind: 'error', text: totpMessage(result, clock()) });
      return redirect(r.res, '/2fa/setup');
    }
    if (user.pendingSealed !== pending) return redirect(r.res, '/2fa/setup'); // restarted meanwhile
    user.totpSealed = pending;
    user.credentialId = credentialId;
    user.pendingSealed = null;
    user.pendingCredentialId = null;
    user.enabledAt = clock();
    const codes = await verifier.issueRecoveryCodes({ userId: user.id });
    log(`2fa enabled: ${user.id}`);
    r.session.flash.push({ kind: 'ok', text: 'Two-factor authentication is on. From now on you sign in with your password and a code.' });
    recoveryCodesPage(r, codes, 'Two-factor authentication is on');
  };

  const regenerate = async (r: Request, user: User): Promise<void> => {
    if (user.totpSealed === null) return redirect(r.res, '/');
    if (!(await verifyPassword(field(r, 'password', MAX_PASSWORD), user.passwordHash))) {
      r.session.flash.push({ kind: 'error', text: 'Wrong password: your recovery codes were not changed.' });
      return redirect(r.res, '/');
    }
    const codes = await verifier.regenerateRecoveryCodes({ userId: user.id });
    r.session.flash.push({ kind: 'ok', text: 'New recovery codes generated. Your old recovery codes no longer work.' });
    recoveryCodesPage(r, codes, 'Your new recovery codes');
  };

  const unlock = async (r: Request, user: User): Promise<void> => {
    await verifier.unlock(user.id);
    r.session.flash.push({ kind: 'ok', text: 'Authenticator codes are unlocked.' });
    redirect(r.res, '/');
  };

  const logout = (r: Request): void => {
    rotate(r.res, r.session, { state: 'anonymous' }, [{ kind: 'info', text: 'You are logged out.' }]);
    redirect(r.res, '/login');
  };

  // --- routing -------------------------------------------------------------------------------

  /** Handlers that need a signed-in user get it from here, never from the session directly. */
  const needUser =
    (h: (r: Request, user: User) => Promise<void> | void) =>
    async (r: Request): Promise<void> => {
      const user = signedIn(r.session);
      if (user === null) return redirect(r.res, r.session.state === 'password-ok' ? '/login/2fa' : '/login');
      await h(r, user);
    };

  const routes: Record<string, (r: Request) => Promise<void> | void> = {
    'GET /': home,
    'GET /signup': signupPage,
    'POST /signup': signup,
    'GET /login': loginPage,
    'POST /login': login,
    'GET /login/2fa': secondStepPage,
    'POST /login/2fa': loginCode,
    'POST /login/recovery': loginRecovery,
    'POST /logout': logout,
    'POST /2fa/setup': needUser(beginSetup),
    'GET /2fa/setup': needUser(setupPage),
    'POST /2fa/confirm': needUser(confirmSetup),
    'POST /2fa/unlock': needUser(unlock),
    'POST /recovery-codes': needUser(regenerate),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/style.css') return send(res, 200, CSS, 'text/css; charset=utf-8');
    if (method === 'GET' && url.pathname === '/favicon.ico') {
      res.statusCode = 204;
      return void res.end();
    }
    const route = routes[`${method} ${url.pathname}`];
    if (route === undefined) {
      const known = Object.keys(routes).some((k) => k.endsWith(` ${url.pathname}`));
      return send(res, known ? 405 : 404, known ? 'Method not allowed' : 'Not found', 'text/plain; charset=utf-8');
    }
    let form = new URLSearchParams();
    if (method === 'POST') {
      // Cross-site requests never get this far: a foreign Origin is refused outright, and the
      // per-session CSRF token below is checked on every POST (SameSite=Lax is the third layer).
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`)
        throw new HttpError(403, 'Cross-origin form posts are refused.');
      if (req.headers['sec-fetch-site'] === 'cross-site') throw new HttpError(403, 'Cross-site form posts are refused.');
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') throw new HttpError(415, 'Forms only.');
      form = new URLSearchParams(await readBody(req, MAX_BODY_BYTES));
    }
    const { session, fresh } = loadSession(req, res);
    if (method === 'POST' && (fresh || !sameText(form.get('csrf') ?? '', session.csrf))) {
      session.flash.push({ kind: 'error', text: 'That form had expired. Please try again.' });
      return redirect(res, '/');
    }
    await route({ method, path: url.pathname, session, form, res });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.removeHeader('Set-Cookie');
      if (e instanceof HttpError) return send(res, e.status, e.message, 'text/plain; charset=utf-8');
      // otpkit fails closed: a store outage is an error, never "code accepted" or "wrong code".
      if (e instanceof OtpkitError && e.code.startsWith('ERR_STORE')) {
        log(`error: ${e.code}: ${e.message}`);
        return send(res, 503, 'Sign-in is temporarily unavailable. Nothing was accepted; please try again shortly.', 'text/plain; charset=utf-8');
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
    ephemeralKey,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, 'Request too large.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// Stores

/** An opened otpkit store and how to close its connection. */
export interface OpenedStore {
  readonly store: OtpStore;
  /** For display: the kind and the server, without credentials. */
  readonly name: string;
  close(): Promise<void>;
}

/** `postgres://user:pw@host:5432/db` → `host:5432/db` (never show a password). */
function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'unparseable URL';
  }
}

/**
 * Opens the store a URL names: PostgreSQL (with `pg`, tables created if missing) or Redis (with
 * `ioredis`), both configured to fail fast; with neither, a new in-memory store. The drivers are
 * imported only when asked for, so the app has no dependency on them otherwise. Connection errors
 * of the Redis client go to `onError` once per distinct message until it is ready again (without
 * a listener ioredis would print every failed reconnect as an unhandled error event).
 */
export async function openStore(spec: {
  readonly pg?: string | undefined;
  readonly redis?: string | undefined;
  readonly onError?: ((line: string) => void) | undefined;
}): Promise<OpenedStore> {
  if (spec.pg !== undefined && spec.redis !== undefined) throw new Error('give either a PostgreSQL or a Redis URL, not both');
  if (spec.pg !== undefined) {
    const { default: pg } = await import('pg');
    const { createPostgresStore, migratePostgres } = await import('otpkit/postgres');
    const pool = new pg.Pool({ connectionString: spec.pg, connectionTimeoutMillis: 2000, query_timeout: 2000, max: 10 });
    try {
      await migratePostgres(pool);
    } catch (e) {
      await pool.end();
      throw e;
    }
    return { store: createPostgresStore({ client: pool }), name: `PostgreSQL (${where(spec.pg)})`, close: () => pool.end() };
  }
  if (spec.redis !== undefined) {
    const { Redis } = await import('ioredis');
    const { createRedisStore } = await import('otpkit/redis');
    const client = new Redis(spec.redis, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    const report = spec.onError ?? ((line: string) => console.error(line));
    let last: string | undefined;
    client.on('error', (e: Error) => {
      if (e.message === last) return;
      last = e.message;
      report(`redis: ${e.message}`);
    });
    client.on('ready', () => {
      last = undefined;
    });
    await client.connect();
    return {
      store: createRedisStore({ client }),
      name: `Redis (${where(spec.redis)})`,
      close: async () => void (await client.quit()),
    };
  }
  return { store: createMemoryStore(), name: 'in-memory', close: async () => {} };
}

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE = `Usage: node examples/webapp/start.mjs [--port N] [--host ADDR] [--pg URL | --redis URL | --memory]

  --port N      port to listen on (default: $PORT or 3000)
  --host ADDR   interface to listen on (default 127.0.0.1)
  --pg URL      keep otpkit's state in PostgreSQL (default: $OTPKIT_PG_URL)
  --redis URL   keep otpkit's state in Redis (default: $OTPKIT_REDIS_URL)
  --memory      keep it in memory even if the variables above are set
  --dist        (start.mjs) use the built package in dist/ instead of src/

Environment: OTPKIT_APP_KEY = 64 hex characters, the key that seals TOTP secrets
(without it a random key is made at start, and enrolments do not survive a restart).`;

/** The CLI: parses `argv` (without node and the script), opens the store and starts the app. */
export async function main(argv: readonly string[]): Promise<void> {
  let port = Number(process.env.PORT ?? 3000);
  let host = '127.0.0.1';
  let pgUrl: string | undefined;
  let redisUrl: string | undefined;
  let memory = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n\n${USAGE}`);
      return v;
    };
    if (a === '--port') port = Number(value());
    else if (a === '--host') host = value();
    else if (a === '--pg') pgUrl = value();
    else if (a === '--redis') redisUrl = value();
    else if (a === '--memory') memory = true;
    else if (a === '--help' || a === '-h') return void console.log(USAGE);
    else throw new Error(`unknown argument ${a}\n\n${USAGE}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port expects 0..65535');
  if (pgUrl === undefined && redisUrl === undefined && !memory) {
    pgUrl = process.env.OTPKIT_PG_URL || undefined;
    redisUrl = process.env.OTPKIT_REDIS_URL || undefined;
    if (pgUrl !== undefined && redisUrl !== undefined)
      throw new Error('both OTPKIT_PG_URL and OTPKIT_REDIS_URL are set: choose with --pg URL, --redis URL or --memory');
  }
  if (memory) pgUrl = redisUrl = undefined;
  const opened = await openStore({ pg: pgUrl, redis: redisUrl });
  const app = await startServer({ port, host, store: opened.store, storeName: opened.name });
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

// Started directly (a compiled or bundled copy run with node): run the CLI.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
