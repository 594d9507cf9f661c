/**
 * otpkit's two-factor sign-in as a Cloudflare Worker on D1: sign up, turn on 2FA (QR code,
 * manual key, confirm), sign in with a code from the app or with a recovery code. One fetch
 * handler, a few routes, HTML strings; the otpkit state, the users and nothing else live in D1,
 * sessions in signed cookies.
 * @module
 */
import { createTwoFactor, OtpkitError, type TwoFactor } from 'otpkit';
import { createD1Store, type D1Store } from 'otpkit/d1';
import { renderQRCodeSVG } from 'otpkit/qr';
import { hexBytes, parseKeys, type Env } from './env.js';
import { html, layout, raw, STYLE, type Raw } from './html.js';
import {
  cookie,
  openSession,
  readCookies,
  sealSession,
  sessionKey,
  SESSION_TTL_MS,
  type Session,
} from './session.js';
import { checkPassword, createUser } from './users.js';

/** What every refused code reads, whatever the reason: the reasons go to the log only. */
const CODE_FAILED = "That code didn't work. Try again, or use a recovery code.";
const NAME_RE = /^[a-z0-9_.-]{1,32}$/;
const KNOWN_DEVICE_TTL_MS = 365 * 86_400_000;

/** Notices after a redirect, by key: the URL never carries text of its own. */
const NOTICES: Record<string, string> = {
  'signed-up': 'Your account is ready.',
  'signed-in': 'Signed in.',
  'signed-out': 'Signed out.',
  again: 'That sign-in can no longer be finished. Enter your password again.',
  'already-on': 'Two-factor authentication is already on.',
};
function noticeOf(request: Request): string | undefined {
  const m = new URL(request.url).searchParams.get('m') ?? '';
  const left = /^recovery-(\d{1,3})$/.exec(m)?.[1];
  return left === undefined
    ? NOTICES[m]
    : `Signed in with a recovery code, which is now used up. You have ${left} left.`;
}

/** The store of otpkit's state: the D1 binding, shared by every isolate and location. */
function openStore(env: Env): D1Store {
  return createD1Store({ db: env.DB });
}

interface App {
  readonly twoFactor: TwoFactor;
  readonly sessionKey: CryptoKey;
}

/** Built on the first request of an isolate (random values and bindings are not available at load). */
let app: Promise<App> | undefined;
function appOf(env: Env): Promise<App> {
  app ??= (async () => {
    if (!/^[0-9a-fA-F]{64}$/.test(env.SESSION_KEY ?? ''))
      throw new Error('SESSION_KEY must be 64 hex characters');
    const twoFactor = createTwoFactor({
      store: openStore(env),
      issuer: 'otpkit Worker example',
      keys: parseKeys('OTPKIT_SEALING_KEYS', env.OTPKIT_SEALING_KEYS),
      // The high-entropy profile: codes of 120 bits, hashed with one HMAC under this key instead
      // of a salted scrypt (tens of milliseconds of CPU per redemption, too much for a Worker).
      recoveryCodes: {
        hash: { pepper: parseKeys('OTPKIT_RECOVERY_PEPPER', env.OTPKIT_RECOVERY_PEPPER) },
      },
      // Reasons and lifecycle events, never a secret, code or token: to Workers Logs.
      onEvent: (e) => console.log(`audit ${JSON.stringify(e)}`),
    });
    return { twoFactor, sessionKey: await sessionKey(hexBytes(env.SESSION_KEY)) };
  })();
  // A failed start (a bad secret) is retried by the next request instead of being cached.
  app.catch(() => (app = undefined));
  return app;
}

/** One request's view: the app, the session, and how to answer. */
interface Ctx {
  readonly env: Env;
  readonly app: App;
  readonly request: Request;
  readonly form: URLSearchParams;
  readonly session: Session | null;
  readonly secure: boolean;
  readonly cookies: Map<string, string>;
  /** Set-Cookie values of the response. */
  readonly setCookies: string[];
}

const SID = (secure: boolean): string => (secure ? '__Host-sid' : 'sid');
const KNOWN = (secure: boolean): string => (secure ? '__Host-known' : 'known');

function respond(
  ctx: Ctx,
  status: number,
  body: string | null,
  headers: Record<string, string> = {},
): Response {
  const h = new Headers({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy':
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'referrer-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  for (const c of ctx.setCookies) h.append('set-cookie', c);
  return new Response(body, { status, headers: h });
}
const redirect = (ctx: Ctx, to: string): Response => respond(ctx, 303, null, { location: to });
const page = (ctx: Ctx, title: string, body: Raw, notice?: string, status = 200): Response =>
  respond(
    ctx,
    status,
    layout(title, body, { notice, error: status >= 400, signedIn: ctx.session?.kind === 'in' }),
  );

async function startSession(ctx: Ctx, session: Session): Promise<void> {
  ctx.setCookies.push(
    cookie(
      SID(ctx.secure),
      await sealSession(ctx.app.sessionKey, session),
      session.exp - Date.now(),
      ctx.secure,
    ),
  );
}
function endSession(ctx: Ctx): void {
  ctx.setCookies.push(cookie(SID(ctx.secure), '', 0, ctx.secure));
}
/** otpkit's known-device token: this browser's failed codes count in a bucket of its own. */
function rememberDevice(ctx: Ctx, token: string | undefined): void {
  if (token !== undefined)
    ctx.setCookies.push(cookie(KNOWN(ctx.secure), token, KNOWN_DEVICE_TTL_MS, ctx.secure));
}

const credentialsForm = (id: 'signup' | 'login', action: string, button: string): Raw =>
  html` <form id="${id}" method="post" action="${action}">
    <label
      >Username <input name="username" autocomplete="username" required maxlength="32"
    /></label>
    <label
      >Password
      <input
        name="password"
        type="password"
        autocomplete="${id === 'signup' ? 'new-password' : 'current-password'}"
        required
        minlength="8"
        maxlength="128"
    /></label>
    <button>${button}</button>
  </form>`;

const codeForm = (): Raw =>
  html` <p>Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
    <form id="login-code" method="post" action="/login/code">
      <label
        >Code <input name="code" autocomplete="one-time-code" required maxlength="64" autofocus
      /></label>
      <button>Verify</button>
    </form>`;

async function home(ctx: Ctx): Promise<Response> {
  const notice = noticeOf(ctx.request);
  const s = ctx.session;
  if (s?.kind !== 'in')
    return page(
      ctx,
      'Welcome',
      html`<p id="who">You are signed out.</p>
        <p><a href="/signup">Sign up</a> or <a href="/login">sign in</a>.</p>`,
      notice,
    );
  const [enabled, recovery] = await Promise.all([
    ctx.app.twoFactor.isEnabled(s.uid),
    ctx.app.twoFactor.recoveryCodeStatus(s.uid),
  ]);
  const status = enabled
    ? html`<p id="twofa-status">
        Two-factor authentication is on. Recovery codes left: ${recovery?.remaining ?? 0} of
        ${recovery?.total ?? 0}.
      </p>`
    : html`<p id="twofa-status">Two-factor authentication is off.</p>
        <form method="post" action="/2fa/enable">
          <button id="enable-2fa">Turn on two-factor authentication</button>
        </form>`;
  return page(
    ctx,
    'Your account',
    html`<p id="who">Signed in as <strong>${s.name}</strong>.</p>
      ${status}`,
    notice,
  );
}

async function signup(ctx: Ctx): Promise<Response> {
  const name = (ctx.form.get('username') ?? '').toLowerCase();
  const password = ctx.form.get('password') ?? '';
  const form = credentialsForm('signup', '/signup', 'Sign up');
  if (!NAME_RE.test(name))
    return page(ctx, 'Sign up', form, 'A username is 1 to 32 of a-z, 0-9, "_", "." and "-".', 400);
  if (password.length < 8 || password.length > 128)
    return page(ctx, 'Sign up', form, 'A password has 8 to 128 characters.', 400);
  const user = await createUser(ctx.env.DB, name, password);
  if (user === null) return page(ctx, 'Sign up', form, 'That username is taken.', 409);
  await startSession(ctx, { kind: 'in', uid: user.id, name, exp: Date.now() + SESSION_TTL_MS });
  return redirect(ctx, '/?m=signed-up');
}

async function login(ctx: Ctx): Promise<Response> {
  const name = (ctx.form.get('username') ?? '').toLowerCase();
  const user = NAME_RE.test(name)
    ? await checkPassword(ctx.env.DB, name, ctx.form.get('password') ?? '')
    : null;
  if (user === null)
    return page(
      ctx,
      'Sign in',
      credentialsForm('login', '/login', 'Sign in'),
      'Wrong username or password.',
      401,
    );
  const start = await ctx.app.twoFactor.startChallenge({
    userId: user.id,
    knownDeviceToken: ctx.cookies.get(KNOWN(ctx.secure)),
  });
  if (!start.required) {
    // 'not-enabled' (this example offers no "remember this device", so never 'trusted-device').
    await startSession(ctx, { kind: 'in', uid: user.id, name, exp: Date.now() + SESSION_TTL_MS });
    return redirect(ctx, '/?m=signed-in');
  }
  rememberDevice(ctx, start.knownDeviceToken);
  // The pending session holds the challenge id and lives exactly as long as the challenge.
  await startSession(ctx, {
    kind: 'pending',
    uid: user.id,
    name,
    challengeId: start.challengeId,
    exp: start.expiresAt,
  });
  return redirect(ctx, '/login/code');
}

async function loginCode(ctx: Ctx): Promise<Response> {
  const s = ctx.session;
  if (s?.kind !== 'pending') return redirect(ctx, '/login');
  if (ctx.request.method === 'GET') return page(ctx, 'Two-factor authentication', codeForm());
  const result = await ctx.app.twoFactor.verifyChallenge({
    challengeId: s.challengeId,
    code: ctx.form.get('code') ?? '',
    userId: s.uid,
  });
  if (!result.ok) {
    if (result.reason === 'expired' || result.reason === 'exhausted') {
      endSession(ctx);
      return redirect(ctx, '/login?m=again');
    }
    const wait =
      result.reason === 'throttled'
        ? ` Wait ${Math.ceil(result.retryAfterMs / 1000)} seconds before trying again.`
        : '';
    return page(ctx, 'Two-factor authentication', codeForm(), CODE_FAILED + wait, 401);
  }
  rememberDevice(ctx, result.knownDeviceToken);
  await startSession(ctx, {
    kind: 'in',
    uid: s.uid,
    name: s.name,
    exp: Date.now() + SESSION_TTL_MS,
  });
  const left = result.recoveryCodesRemaining;
  return left === undefined
    ? redirect(ctx, '/?m=signed-in')
    : redirect(ctx, `/?m=recovery-${left}`);
}

/** Turn on 2FA: the QR code and the key (the secret is made and sealed by otpkit, server-side). */
async function enable(ctx: Ctx, s: Session): Promise<Response> {
  const begun = await ctx.app.twoFactor.beginEnrollment({
    userId: s.uid,
    account: s.name,
    label: 'Authenticator app',
  });
  if (!begun.ok) return redirect(ctx, '/?m=already-on');
  return page(
    ctx,
    'Set up your authenticator app',
    html` <p>Scan this QR code with your authenticator app, or type the key in by hand.</p>
      <div id="qr">${raw(renderQRCodeSVG(begun.uri, { scale: 5 }))}</div>
      <p>
        Key: <code id="manual-key">${begun.manualKey}</code> ·
        <a id="otpauth-link" href="${begun.uri}">open in an app on this device</a>
      </p>
      ${confirmForm(begun.factorId)}`,
  );
}

const confirmForm = (factorId: string): Raw =>
  html` <form id="confirm" method="post" action="/2fa/confirm">
    <input type="hidden" name="factor" value="${factorId}" />
    <label
      >Code shown by the app
      <input name="code" autocomplete="one-time-code" inputmode="numeric" required maxlength="10"
    /></label>
    <button>Turn on</button>
  </form>`;

async function confirm(ctx: Ctx, s: Session): Promise<Response> {
  const factorId = ctx.form.get('factor') ?? '';
  const done = await ctx.app.twoFactor.confirmEnrollment({
    userId: s.uid,
    factorId,
    code: ctx.form.get('code') ?? '',
  });
  if (!done.ok) {
    if (done.reason === 'not-found' || done.reason === 'expired' || done.reason === 'limit')
      return redirect(ctx, '/');
    // The app already has the key: ask for a fresh code only (the pending factor expires in 10 minutes).
    return page(
      ctx,
      'Set up your authenticator app',
      confirmForm(factorId),
      "That code didn't work. Try again with the code your app shows now.",
      401,
    );
  }
  // Shown once, in this response only: otpkit keeps nothing but their hashes.
  const codes = done.recoveryCodes ?? [];
  return page(
    ctx,
    'Save your recovery codes',
    html` <p>
        Each code signs you in once if you lose your phone. Keep them somewhere safe: they are not
        shown again.
      </p>
      <ol id="recovery-codes">
        ${codes.map((c) => html`<li><code>${c}</code></li>`)}
      </ol>
      <p><a id="saved" href="/">I saved them</a></p>`,
    'Two-factor authentication is on.',
  );
}

async function route(ctx: Ctx): Promise<Response> {
  const { pathname } = new URL(ctx.request.url);
  const s = ctx.session?.kind === 'in' ? ctx.session : null;
  switch (`${ctx.request.method} ${pathname}`) {
    case 'GET /':
      return home(ctx);
    case 'GET /style.css':
      return new Response(STYLE, {
        headers: {
          'content-type': 'text/css; charset=utf-8',
          'cache-control': 'public, max-age=3600',
        },
      });
    case 'GET /signup':
      return page(ctx, 'Sign up', credentialsForm('signup', '/signup', 'Sign up'));
    case 'POST /signup':
      return signup(ctx);
    case 'GET /login':
      return page(
        ctx,
        'Sign in',
        credentialsForm('login', '/login', 'Sign in'),
        noticeOf(ctx.request),
      );
    case 'POST /login':
      return login(ctx);
    case 'GET /login/code':
    case 'POST /login/code':
      return loginCode(ctx);
    case 'POST /logout':
      endSession(ctx);
      return redirect(ctx, '/?m=signed-out');
    case 'POST /2fa/enable':
      return s === null ? redirect(ctx, '/login') : enable(ctx, s);
    case 'POST /2fa/confirm':
      return s === null ? redirect(ctx, '/login') : confirm(ctx, s);
    default:
      return page(ctx, 'Not found', html`<p><a href="/">Home</a></p>`, undefined, 404);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const secure = url.protocol === 'https:';
    // CSRF: SameSite=Lax cookies, and every POST must come from a page of this origin.
    if (request.method === 'POST' && request.headers.get('origin') !== url.origin)
      return new Response('Forbidden', { status: 403 });
    try {
      const a = await appOf(env);
      const cookies = readCookies(request);
      const form =
        request.method === 'POST'
          ? new URLSearchParams(await request.text())
          : new URLSearchParams();
      const session = await openSession(a.sessionKey, cookies.get(SID(secure)), Date.now());
      return await route({ env, app: a, request, form, session, secure, cookies, setCookies: [] });
    } catch (e) {
      // A store outage fails closed: nobody is signed in by an error.
      const outage = e instanceof OtpkitError && e.code.startsWith('ERR_STORE');
      console.error(
        `error ${e instanceof OtpkitError ? e.code : e instanceof Error ? e.name : 'unknown'}: ${e instanceof Error ? e.message : ''}`,
      );
      return new Response(outage ? 'Service unavailable, try again shortly.' : 'Internal error.', {
        status: outage ? 503 : 500,
      });
    }
  },
};
