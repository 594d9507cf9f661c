/**
 * Sign up, sign in with the password then `startChallenge`, the second step (`verifyChallenge`)
 * and sign out. Every sign-in makes a new session id; a pending session holds the user id and
 * the challenge id only, and grants nothing but the code form.
 * @module
 */
import { normalizeToken } from 'otpkit';
import { html, type Html } from '../html.js';
import { codeField, csrfField, type Page, type View } from '../layout.js';
import { codeFailed } from '../messages.js';
import { get, post, type Ctx, type Route } from '../router.js';
import { MAX_PASSWORD, MIN_PASSWORD, USERNAME, type User } from '../users.js';

const credentials = (v: View, id: 'signup' | 'login', newPassword: boolean): Html =>
  html`<form method="post" action="/${id}" id="${id}">${csrfField(v)}
<label for="${id}-username">Username</label>
<input type="text" id="${id}-username" name="username" autocomplete="username" required maxlength="64">
<label for="${id}-password">Password</label>
<input type="password" id="${id}-password" name="password" autocomplete="${newPassword ? 'new' : 'current'}-password" required${newPassword ? html` minlength="${MIN_PASSWORD}"` : ''}>
<div><button type="submit">${newPassword ? 'Sign up' : 'Sign in'}</button></div></form>`;

const signUpPage = (v: View): Page => ({
  title: 'Sign up',
  body: html`<div class="card"><h1>Create an account</h1>${credentials(v, 'signup', true)}
<p class="muted">A username of 3–32 letters, digits, dots, dashes or underscores; a password of at least ${MIN_PASSWORD} characters.</p></div>`,
});

const signInPage = (v: View): Page => ({
  title: 'Sign in',
  body: html`<div class="card"><h1>Sign in</h1>${credentials(v, 'login', false)}<p class="muted">No account? <a href="/signup">Sign up</a>.</p></div>`,
});

/** One field for a code of any device or a recovery code; `more` is room for other ways in (an e-mailed code). */
const codePage = (v: View, more: readonly Html[] = []): Page => ({
  title: 'Two-factor authentication',
  body: html`<div class="card"><h1>Two-factor authentication</h1>
<p>Enter the code your authenticator app (on any of your devices) shows for <strong>otpkit demo</strong>, or one of your recovery codes.</p>
<form method="post" action="/login/code" id="login-code">${csrfField(v)}${codeField('login-code-input', true)}
<div><button type="submit">Verify</button></div></form></div>${more}`,
});

/** A signed-in session for `user` in place of whatever the browser had. */
function signIn(c: Ctx, user: User, text: string, kind: 'ok' | 'error' = 'ok'): void {
  const s = c.app.sessions.signIn(c.res, user.id, c.session);
  if (s === null) return busy(c);
  s.flash.push({ kind, text });
  c.redirect('/');
}

function busy(c: Ctx): void {
  c.app.sessions.notice(c.res, 'busy');
  c.redirect('/login');
}

export const signInRoutes: readonly Route[] = [
  get('/signup', 'anyone', (c) => (c.session === null ? c.render(signUpPage) : c.redirect('/'))),
  post('/signup', 'anyone', async (c) => {
    const username = c.field('username', 64).trim().toLowerCase();
    const password = c.field('password', MAX_PASSWORD);
    const problem = !USERNAME.test(username) ? 'bad-username' : [...password].length < MIN_PASSWORD ? 'short-password' : undefined;
    const user = problem ?? (await c.app.users.create(username, password));
    if (typeof user === 'string') {
      c.app.sessions.notice(c.res, user === 'full' ? 'busy' : user);
      return c.redirect('/signup');
    }
    c.app.log(`user created: ${user.id}`);
    signIn(c, user, `Welcome, ${username}! Turn on two-factor authentication to protect your account.`);
  }),
  get('/login', 'anyone', (c) => (c.session === null ? c.render(signInPage) : c.redirect('/'))),
  post('/login', 'anyone', async (c) => {
    const user = await c.app.users.authenticate(c.field('username', 64).trim().toLowerCase(), c.field('password', MAX_PASSWORD));
    if (user === undefined) {
      c.app.sessions.notice(c.res, 'bad-password');
      return c.redirect('/login');
    }
    // The password is right: otpkit says whether a second factor is needed. (A "remember this
    // device" cookie would be checked here, before the challenge.)
    const challenge = await c.app.tf.startChallenge({ userId: user.id });
    if (!challenge.required) return signIn(c, user, 'Signed in.');
    if (c.app.sessions.startPending(c.res, user.id, challenge.challengeId, challenge.expiresAt, c.session) === null) return busy(c);
    c.redirect('/login/code');
  }),
  get('/login/code', 'pending', (c) => c.render((v) => codePage(v))),
  post('/login/code', 'pending', async (c) => {
    const { challengeId, userId } = c.session;
    const r = await c.app.tf.verifyChallenge({ challengeId, userId, code: normalizeToken(c.field('code', 64)) });
    const user = c.app.users.byId(userId);
    if (r.ok && user !== undefined) {
      const left = r.recoveryCodesRemaining;
      if (left === undefined) return signIn(c, user, 'Signed in.');
      const low = left <= 3 ? ' Make a new set on the Recovery codes page.' : '';
      return signIn(c, user, `Signed in with a recovery code, which is now used up. You have ${left} left.${low}`, low === '' ? 'ok' : 'error');
    }
    if (!r.ok && (r.reason === 'expired' || r.reason === 'exhausted')) {
      // This challenge is spent: a new one takes the password again, not just another code.
      c.app.sessions.end(c.res, c.session);
      c.app.sessions.notice(c.res, 'code-failed');
      return c.redirect('/login');
    }
    c.flash('error', codeFailed(r.ok ? { reason: 'invalid' } : r));
    c.redirect('/login/code');
  }),
  post('/logout', 'anyone', (c) => {
    if (c.session !== null) c.app.sessions.end(c.res, c.session);
    c.app.sessions.notice(c.res, 'signed-out');
    c.redirect('/login');
  }),
];
