/** Sign up; sign in: the password, then otpkit's challenge; sign out. @module */
import type { Ctx, PendingCtx, Routes } from '../app.js';
import { delivered } from '../delivery.js';
import { codeField, FAILED, failed, form, h, hidden, input, sent } from '../html.js';
import { MIN_PASSWORD } from '../users.js';

const DAY_S = 86_400;
const RECOVERY = 'Signed in with a recovery code, which is now used up.';
const BUSY = 'The site is busy. Please try again in a few minutes.';
const RULES = `Choose a username of 3–32 letters, digits, dots, dashes or underscores, and a
  password of at least ${MIN_PASSWORD} characters.`;
const REFUSED = { invalid: RULES, taken: 'That username is taken.', full: BUSY };
function credentials(c: Ctx, id: 'signup' | 'login'): void {
  if (c.session) return c.redirect('/');
  const up = id === 'signup';
  const auto = up ? 'new-password' : 'current-password';
  const password = h` autocomplete="${auto}" minlength="${up ? MIN_PASSWORD : 1}"`;
  const fields = h`${input('Username', `${id}-username`, 'username', USERNAME)}
    ${input('Password', `${id}-password`, 'password', password, 'password')}`;
  c.render(h`<h1>${up ? 'Create an account' : 'Sign in'}</h1>
    ${form(c, `/${id}`, id, up ? 'Sign up' : 'Sign in', fields)}
    <p class="muted">${up ? RULES : NO_ACCOUNT}</p>`);
}
const USERNAME = h` autocomplete="username" maxlength="64"`;
const NO_ACCOUNT = h`No account? <a href="/signup">Sign up</a>.`;
function signIn(c: Ctx, userId: string, text: string): void {
  if (!c.sessions.signIn(c.cookies, userId)) return c.redirect('/login', 'error', BUSY);
  c.redirect('/', 'ok', text);
}
/** The challenge is spent: a new one takes the password again, not just another code. */
function spent(c: PendingCtx, text: string): void {
  c.sessions.end(c.cookies);
  c.redirect('/login', 'error', text);
}
/** The known-device cookie: from its next sign-in on, this browser has its own throttle bucket. */
const known = (c: Ctx, token: string | undefined): void =>
  void (token && c.cookies.set('known', token, 365 * DAY_S));

export const signInRoutes: Routes = {
  'anyone GET /signup': (c) => credentials(c, 'signup'),
  'anyone POST /signup': async (c) => {
    const user = await c.users.create(c.field('username'), c.field('password'));
    if (typeof user === 'string') return c.redirect('/signup', 'error', REFUSED[user]);
    signIn(c, user.id, `Welcome, ${user.username}! Now turn on two-factor authentication.`);
  },
  'anyone GET /login': (c) => credentials(c, 'login'),
  'anyone POST /login': async (c) => {
    const user = await c.users.authenticate(c.field('username'), c.field('password'));
    if (user === undefined) return c.redirect('/login', 'error', 'Wrong username or password.');
    // The password is right: otpkit says whether a second factor is needed, given the cookies.
    const { get } = c.cookies;
    const [trustedDeviceToken, knownDeviceToken] = [get('trusted'), get('known')];
    const ch = await c.tf.startChallenge({ userId: user.id, trustedDeviceToken, knownDeviceToken });
    if (!ch.required && ch.reason === 'not-enabled') return signIn(c, user.id, 'Signed in.');
    if (!ch.required) {
      c.cookies.set('trusted', ch.trustedDeviceToken, 30 * DAY_S); // rotated: the old one is dead
      return signIn(c, user.id, 'Signed in. This browser is remembered, so no code was needed.');
    }
    c.cookies.drop('trusted'); // forgotten or expired
    known(c, ch.knownDeviceToken);
    const emails = ch.factors
      .filter((f) => f.type === 'email')
      .map(({ id, hint }) => ({ id, hint }));
    const { challengeId, expiresAt } = ch;
    c.sessions.startPending(c.cookies, { userId: user.id, challengeId, expiresAt, emails });
    c.redirect('/login/code');
  },
  'pending GET /login/code': (c) => {
    const fields = h`${codeField('login-code-input')}<label class="check"><input type="checkbox"
      name="remember" value="yes" id="remember" /> Remember this browser for 30 days</label>`;
    const send = c.pending.emails.map((t, i) => {
      const button = `Send me a code by email (${t.hint})`;
      return form(c, '/login/send', `send-email-${i}`, button, hidden('factor', t.id), 'secondary');
    });
    c.render(h`<h1>Two-factor authentication</h1><p>A code from any of your devices, or a recovery
      code.</p>${form(c, '/login/code', 'login-code', 'Verify', fields)}
      ${send.length > 0 && h`<h2>No authenticator at hand?</h2>${send}`}`);
  },
  'pending POST /login/code': async (c) => {
    const { challengeId, userId } = c.pending;
    const r = await c.tf.verifyChallenge({ challengeId, userId, code: c.code() });
    if (!r.ok && (r.reason === 'expired' || r.reason === 'exhausted'))
      return spent(c, `${FAILED} Enter your password again first.`);
    if (!r.ok) return c.redirect('/login/code', 'error', failed(r));
    known(c, r.knownDeviceToken); // undefined on a known browser: startChallenge rotated its token
    let remembered = '';
    if (c.field('remember') === 'yes') {
      const t = await c.tf.trustDevice({ userId, stepUpToken: r.stepUpToken, label: 'Browser' });
      if (t.ok) {
        c.cookies.set('trusted', t.token, 30 * DAY_S);
        remembered = ' This browser is remembered for 30 days.';
      }
    }
    const left = r.recoveryCodesRemaining;
    const text = left === undefined ? 'Signed in.' : `${RECOVERY} You have ${left} left.`;
    signIn(c, userId, `${text}${remembered}`);
  },
  'pending POST /login/send': async (c) => {
    const { challengeId, userId, emails } = c.pending;
    const t = emails.find((x) => x.id === c.field('factor'));
    if (t === undefined) return c.redirect('/login/code');
    const r = await delivered(c.tf.sendCode({ challengeId, userId, factorId: t.id }), c.log);
    if (r?.ok === false && r.reason === 'expired')
      return spent(c, 'Your sign-in took too long. Enter your password again.');
    c.redirect('/login/code', ...sent(r, t.hint ?? ''));
  },
  'anyone POST /logout': (c) => {
    c.sessions.end(c.cookies);
    c.redirect('/login', 'info', 'You are signed out.');
  },
};
