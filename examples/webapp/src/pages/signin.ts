/**
 * Sign up; sign in with the password, then `startChallenge` with the browser's device cookies;
 * the second step (`verifyChallenge`, "remember this browser" with `trustDevice`, codes sent by
 * email or SMS with `sendCode`); sign out. Every sign-in makes a new session id; a pending
 * session holds the user id, the challenge id and where a code may be sent, and grants nothing
 * but the code form.
 * @module
 */
import { normalizeToken } from 'otpkit';
import { delivered } from '../delivery.js';
import {
  CODE_FAILED,
  codeFailed,
  codeField,
  form,
  type Html,
  html,
  input,
  page,
  sent,
  type View,
} from '../layout.js';
import { get, post, type Ctx, type PendingCtx, type Route } from '../router.js';
import { MAX_PASSWORD, MIN_PASSWORD, USERNAME, type User } from '../users.js';

/** How long "remember this browser" lasts (otpkit's `devices.trustedTtlMs`). */
export const TRUSTED_MS: number = 30 * 86_400_000;
/** The known-device cookie lives as long as otpkit keeps its device (365 days from each sign-in). */
const KNOWN_S = 365 * 86_400;

const credentials = (v: View, id: 'signup' | 'login', newPassword: boolean): Html =>
  form(v, `/${id}`, id, newPassword ? 'Sign up' : 'Sign in', {
    fields: html`${input('Username', { id: `${id}-username`, name: 'username', autocomplete: 'username', required: true, maxlength: 64 })}
    ${input('Password', { id: `${id}-password`, name: 'password', type: 'password', autocomplete: `${newPassword ? 'new' : 'current'}-password`, required: true, minlength: newPassword && MIN_PASSWORD })}`,
  });

const BUSY = 'The site is busy. Please try again in a few minutes.';
const SIGNUP_REFUSED = {
  'bad-username': 'Choose a username of 3–32 letters, digits, dots, dashes or underscores.',
  'short-password': `Choose a password of at least ${MIN_PASSWORD} characters.`,
  taken: 'That username is taken.',
  full: BUSY,
} as const;

const SEND = { email: 'Send me a code by email', sms: 'Text me a code' } as const;

/** One field for a code of any device, a code sent by email or SMS, or a recovery code; buttons that send one. */
const codePage = (v: View, c: PendingCtx) => {
  const targets = c.pending.targets;
  return page(
    'Two-factor authentication',
    html`<p>
        Enter the code your authenticator app (on any of your devices) shows for
        <strong>otpkit demo</strong>, or one of your recovery codes.
      </p>
      ${form(v, '/login/code', 'login-code', 'Verify', {
        fields: html`${codeField('login-code-input', `Code from your authenticator app${targets.length > 0 ? ', the code we sent you' : ''}, or a recovery code`)}
          <label class="check"
            ><input type="checkbox" name="remember" value="yes" id="remember" /> Remember this
            browser for 30 days: it will not ask for a code again</label
          >`,
      })}`,
    ...(targets.length === 0
      ? []
      : [
          html`<h2>No authenticator at hand?</h2>
            ${targets.map((t, i) => form(v, '/login/send', `send-${t.type}-${i}`, `${SEND[t.type]} (${t.hint})`, { hidden: { factor: t.id }, cls: 'secondary' }))}`,
        ]),
  );
};

/** "Chrome on Linux": the name of a remembered browser in the list. */
function browserName(ua = ''): string {
  const pick = (names: readonly (readonly [RegExp, string])[]): string | undefined =>
    names.find(([re]) => re.test(ua))?.[1];
  const browser =
    pick([
      [/Edg\//, 'Edge'],
      [/Firefox\//, 'Firefox'],
      [/Chrome\//, 'Chrome'],
      [/Safari\//, 'Safari'],
    ]) ?? 'A browser';
  const os = pick([
    [/Android/, 'Android'],
    [/iPhone|iPad/, 'iOS'],
    [/Windows/, 'Windows'],
    [/Mac OS X/, 'macOS'],
    [/Linux/, 'Linux'],
  ]);
  return os === undefined ? browser : `${browser} on ${os}`;
}

/** A signed-in session for `user` in place of whatever the browser had. */
function signIn(c: Ctx, user: User, text: string, kind: 'ok' | 'error' = 'ok'): void {
  const ok = c.app.sessions.signIn(c.cookies, user.id, c.session) !== null;
  c.flash(ok ? kind : 'error', ok ? text : BUSY);
  c.redirect(ok ? '/' : '/login');
}

/** This challenge is spent: a new one takes the password again, not just another code. */
function spent(c: PendingCtx, text: string): void {
  c.app.sessions.end(c.cookies, null);
  c.flash('error', text);
  c.redirect('/login');
}

export const signInRoutes: readonly Route[] = [
  get('/signup', 'anyone', (c) =>
    c.session === null
      ? c.render((v) =>
          page(
            'Create an account',
            html`${credentials(v, 'signup', true)}
              <p class="muted">
                A username of 3–32 letters, digits, dots, dashes or underscores; a password of at
                least ${MIN_PASSWORD} characters.
              </p>`,
          ),
        )
      : c.redirect('/'),
  ),
  post('/signup', 'anyone', async (c) => {
    const username = c.field('username', 64).trim().toLowerCase();
    const password = c.field('password', MAX_PASSWORD);
    const problem = !USERNAME.test(username)
      ? 'bad-username'
      : [...password].length < MIN_PASSWORD
        ? 'short-password'
        : undefined;
    const user = problem ?? (await c.app.users.create(username, password));
    if (typeof user === 'string') {
      c.flash('error', SIGNUP_REFUSED[user]);
      return c.redirect('/signup');
    }
    c.app.log(`user created: ${user.id}`);
    signIn(
      c,
      user,
      `Welcome, ${username}! Turn on two-factor authentication to protect your account.`,
    );
  }),
  get('/login', 'anyone', (c) =>
    c.session === null
      ? c.render((v) =>
          page(
            'Sign in',
            html`${credentials(v, 'login', false)}
              <p class="muted">No account? <a href="/signup">Sign up</a>.</p>`,
          ),
        )
      : c.redirect('/'),
  ),
  post('/login', 'anyone', async (c) => {
    const user = await c.app.users.authenticate(
      c.field('username', 64).trim().toLowerCase(),
      c.field('password', MAX_PASSWORD),
    );
    if (user === undefined) {
      c.flash('error', 'Wrong username or password.');
      return c.redirect('/login');
    }
    // The password is right: otpkit says whether a second factor is needed, given this browser's cookies.
    const trusted = c.cookies.get('trusted');
    const ch = await c.app.tf.startChallenge({
      userId: user.id,
      trustedDeviceToken: trusted,
      knownDeviceToken: c.cookies.get('known'),
    });
    if (!ch.required) {
      if (ch.reason === 'not-enabled') return signIn(c, user, 'Signed in.');
      c.cookies.set('trusted', ch.trustedDeviceToken, TRUSTED_MS / 1000); // rotated: the one presented no longer works
      return signIn(c, user, 'Signed in. This browser is remembered, so no code was needed.');
    }
    if (trusted !== undefined) c.cookies.set('trusted', '', 0); // forgotten, expired or a stale copy: drop it
    if (ch.knownDeviceToken !== undefined) c.cookies.set('known', ch.knownDeviceToken, KNOWN_S);
    const targets = ch.factors.flatMap((f) =>
      f.type === 'email' || f.type === 'sms'
        ? [{ id: f.id, type: f.type, hint: f.hint ?? '' }]
        : [],
    );
    c.app.sessions.startPending(
      c.cookies,
      { userId: user.id, challengeId: ch.challengeId, expiresAt: ch.expiresAt, targets },
      c.session,
    );
    c.redirect('/login/code');
  }),
  get('/login/code', 'pending', (c) => c.render((v) => codePage(v, c))),
  post('/login/code', 'pending', async (c) => {
    const { challengeId, userId } = c.pending;
    const r = await c.app.tf.verifyChallenge({
      challengeId,
      userId,
      code: normalizeToken(c.field('code', 64)),
    });
    const user = c.app.users.byId(userId);
    if (r.ok && user !== undefined) {
      // On a browser that was known already, startChallenge rotated its token and this is undefined.
      if (r.knownDeviceToken !== undefined) c.cookies.set('known', r.knownDeviceToken, KNOWN_S);
      let remembered = '';
      if (c.field('remember') === 'yes') {
        const t = await c.app.tf.trustDevice({
          userId,
          stepUpToken: r.stepUpToken,
          label: browserName(c.req.headers['user-agent']),
        });
        if (t.ok) c.cookies.set('trusted', t.token, (t.expiresAt - c.app.now()) / 1000);
        if (t.ok) remembered = ' This browser is remembered for 30 days.';
      }
      const left = r.recoveryCodesRemaining;
      if (left === undefined) return signIn(c, user, `Signed in.${remembered}`);
      const low = left <= 3 ? ' Make a new set on the Recovery codes page.' : '';
      return signIn(
        c,
        user,
        `Signed in with a recovery code, which is now used up. You have ${left} left.${low}${remembered}`,
        low === '' ? 'ok' : 'error',
      );
    }
    if (!r.ok && (r.reason === 'expired' || r.reason === 'exhausted'))
      return spent(c, `${CODE_FAILED} Enter your password again first.`);
    c.flash('error', codeFailed(r.ok ? { reason: 'invalid' } : r));
    c.redirect('/login/code');
  }),
  post('/login/send', 'pending', async (c) => {
    const { challengeId, userId, targets } = c.pending;
    const t = targets.find((x) => x.id === c.field('factor'));
    const r =
      t === undefined
        ? undefined
        : await delivered(c.app.tf.sendCode({ challengeId, userId, factorId: t.id }), c.app.log);
    if (r?.ok === false && r.reason === 'expired')
      return spent(c, 'Your sign-in took too long. Enter your password again.');
    if (t !== undefined && r !== undefined) c.flash(...sent(r, t.hint));
    c.redirect('/login/code');
  }),
  post('/logout', 'anyone', (c) => {
    c.app.sessions.end(c.cookies, c.session);
    c.flash('info', 'You are signed out.');
    c.redirect('/login');
  }),
];
