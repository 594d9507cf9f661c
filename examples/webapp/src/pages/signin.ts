/**
 * Sign up; sign in: the password, then otpkit's challenge (a code, a recovery code or an emailed
 * code; "remember this browser"); sign out. A pending sign-in grants only the code form, and
 * every sign-in makes a new session id.
 * @module
 */
import { normalizeToken } from 'otpkit';
import type { Ctx, PendingCtx, Routes } from '../app.js';
import { delivered } from '../delivery.js';
import { codeField, FAILED, failed, form, h, hidden, input, type Flash, sent } from '../html.js';
import { MAX_PASSWORD, MIN_PASSWORD, USERNAME, type User } from '../users.js';

const DAY_S = 86_400;
const BUSY = 'The site is busy. Please try again in a few minutes.';
const NAME_RULE = 'a username of 3–32 letters, digits, dots, dashes or underscores';
const PASSWORD_RULE = `a password of at least ${MIN_PASSWORD} characters`;
const REFUSED = {
  'bad-username': `Choose ${NAME_RULE}.`,
  'short-password': `Choose ${PASSWORD_RULE}.`,
  taken: 'That username is taken.',
  full: BUSY,
};

/** The sign-up or sign-in page. */
function credentials(c: Ctx, id: 'signup' | 'login'): void {
  if (c.session !== null) return c.redirect('/');
  const up = id === 'signup';
  const name = h` autocomplete="username" required maxlength="64"`;
  const password = h` autocomplete="${up ? 'new' : 'current'}-password" required${
    up && h` minlength="${MIN_PASSWORD}"`
  }`;
  const fields = h`${input('Username', `${id}-username`, 'username', name)}
    ${input('Password', `${id}-password`, 'password', password, 'password')}`;
  c.render(h`<h1>${up ? 'Create an account' : 'Sign in'}</h1>
    ${form(c, `/${id}`, id, up ? 'Sign up' : 'Sign in', fields)}<p class="muted">${
      up ? `Choose ${NAME_RULE}; ${PASSWORD_RULE}.` : h`No account? <a href="/signup">Sign up</a>.`
    }</p>`);
}

/** A signed-in session for `user` in place of whatever the browser had. */
function signIn(c: Ctx, user: User, kind: Flash['kind'], text: string): void {
  if (c.sessions.signIn(c.cookies, user.id, c.session) === null)
    return c.redirect('/login', 'error', BUSY);
  c.redirect('/', kind, text);
}

/** The challenge is spent: a new one takes the password again, not just another code. */
function spent(c: PendingCtx, text: string): void {
  c.sessions.end(c.cookies, null);
  c.redirect('/login', 'error', text);
}

export const signInRoutes: Routes = {
  'anyone GET /signup': (c) => credentials(c, 'signup'),
  'anyone POST /signup': async (c) => {
    const username = c.field('username', 64).trim().toLowerCase();
    const password = c.field('password', MAX_PASSWORD);
    const user = !USERNAME.test(username)
      ? 'bad-username'
      : [...password].length < MIN_PASSWORD
        ? 'short-password'
        : await c.users.create(username, password);
    if (typeof user === 'string') return c.redirect('/signup', 'error', REFUSED[user]);
    const welcome = `Welcome, ${username}! Turn on two-factor authentication to protect your account.`;
    signIn(c, user, 'ok', welcome);
  },
  'anyone GET /login': (c) => credentials(c, 'login'),
  'anyone POST /login': async (c) => {
    const username = c.field('username', 64).trim().toLowerCase();
    const user = await c.users.authenticate(username, c.field('password', MAX_PASSWORD));
    if (user === undefined) return c.redirect('/login', 'error', 'Wrong username or password.');
    // The password is right: otpkit says whether a second factor is needed, given the cookies.
    const { get } = c.cookies;
    const [trustedDeviceToken, knownDeviceToken] = [get('trusted'), get('known')];
    const ch = await c.tf.startChallenge({ userId: user.id, trustedDeviceToken, knownDeviceToken });
    if (!ch.required && ch.reason === 'not-enabled') return signIn(c, user, 'ok', 'Signed in.');
    if (!ch.required) {
      c.cookies.set('trusted', ch.trustedDeviceToken, 30 * DAY_S); // rotated: the old one is dead
      return signIn(c, user, 'ok', 'Signed in. This browser is remembered, so no code was needed.');
    }
    if (trustedDeviceToken !== undefined) c.cookies.set('trusted', '', 0); // forgotten or expired
    if (ch.knownDeviceToken !== undefined) c.cookies.set('known', ch.knownDeviceToken, 365 * DAY_S);
    const emails = ch.factors.flatMap((f) =>
      f.type === 'email' ? [{ id: f.id, hint: f.hint ?? '' }] : [],
    );
    const { challengeId, expiresAt } = ch;
    const pending = { userId: user.id, challengeId, expiresAt, emails };
    c.sessions.startPending(c.cookies, pending, c.session);
    c.redirect('/login/code');
  },
  'pending GET /login/code': (c) => {
    const fields = h`${codeField('login-code-input')}<label class="check"><input type="checkbox"
      name="remember" value="yes" id="remember" /> Remember this browser for 30 days</label>`;
    const send = c.pending.emails.map((t, i) => {
      const button = `Send me a code by email (${t.hint})`;
      return form(c, '/login/send', `send-email-${i}`, button, hidden('factor', t.id), 'secondary');
    });
    c.render(h`<h1>Two-factor authentication</h1><p>Enter the code your authenticator app (on any
      of your devices) shows for <strong>otpkit demo</strong>, or one of your recovery codes.</p>
      ${form(c, '/login/code', 'login-code', 'Verify', fields)}
      ${send.length > 0 && h`<h2>No authenticator at hand?</h2>${send}`}`);
  },
  'pending POST /login/code': async (c) => {
    const { challengeId, userId } = c.pending;
    const code = normalizeToken(c.field('code', 64));
    const r = await c.tf.verifyChallenge({ challengeId, userId, code });
    const user = c.users.byId(userId);
    if (!r.ok && (r.reason === 'expired' || r.reason === 'exhausted'))
      return spent(c, `${FAILED} Enter your password again first.`);
    if (!r.ok || user === undefined) return c.redirect('/login/code', 'error', failed(r));
    // On a browser that was known already, startChallenge rotated its token and this is undefined.
    if (r.knownDeviceToken !== undefined) c.cookies.set('known', r.knownDeviceToken, 365 * DAY_S);
    let remembered = '';
    if (c.field('remember') === 'yes') {
      const t = await c.tf.trustDevice({ userId, stepUpToken: r.stepUpToken, label: 'Browser' });
      if (t.ok) c.cookies.set('trusted', t.token, (t.expiresAt - c.now()) / 1000);
      if (t.ok) remembered = ' This browser is remembered for 30 days.';
    }
    const left = r.recoveryCodesRemaining;
    if (left === undefined) return signIn(c, user, 'ok', `Signed in.${remembered}`);
    const low = left <= 3 ? ' Make a new set on your account page.' : '';
    const text = `Signed in with a recovery code, which is now used up. You have ${left} left.`;
    signIn(c, user, low === '' ? 'ok' : 'error', `${text}${low}${remembered}`);
  },
  'pending POST /login/send': async (c) => {
    const { challengeId, userId, emails } = c.pending;
    const t = emails.find((x) => x.id === c.field('factor'));
    if (t === undefined) return c.redirect('/login/code');
    const send = c.tf.sendCode({ challengeId, userId, factorId: t.id });
    const r = await delivered(send, c.log);
    if (r?.ok === false && r.reason === 'expired')
      return spent(c, 'Your sign-in took too long. Enter your password again.');
    c.redirect('/login/code', ...sent(r, t.hint));
  },
  'anyone POST /logout': (c) => {
    c.sessions.end(c.cookies, c.session);
    c.redirect('/login', 'info', 'You are signed out.');
  },
};
