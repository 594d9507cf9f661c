/** The home page: a welcome when signed out, the account overview when signed in; 2FA off behind step-up. @module */
import { html } from '../html.js';
import { csrfField } from '../layout.js';
import { when } from '../messages.js';
import { get, type Route } from '../router.js';
import { stepUp } from './stepup.js';

const WELCOME = html`<div class="card"><h1>otpkit demo</h1>
<p>A small web app showing two-factor sign-in with <strong>otpkit</strong>: authenticator apps on one or more devices, one-time recovery codes, step-up before every sensitive change, and an administrator's unlock.</p>
<p><a href="/signup">Create an account</a> or <a href="/login">sign in</a>.</p></div>`;

export const accountRoutes: readonly Route[] = [
  get('/', 'anyone', async (c) => {
    const s = c.session;
    if (s?.kind === 'pending') return c.redirect('/login/code');
    if (s === null) return c.render(() => ({ title: 'Welcome', body: WELCOME }));
    const [factors, rc] = await Promise.all([c.app.tf.listFactors(s.userId), c.app.tf.recoveryCodeStatus(s.userId)]);
    const n = factors.length;
    c.render((v) => ({
      title: 'Your account',
      body: html`<div class="card"><h1>Your account</h1>${
        n === 0
          ? html`<p id="twofa-status">Two-factor authentication is <strong>off</strong>. Anyone with your password can sign in.</p>
<form method="post" action="/2fa/enable" id="enable-2fa">${csrfField(v)}<label for="enable-label">Name of this device</label>
<input type="text" id="enable-label" name="label" value="Authenticator app" maxlength="64" required>
<div><button type="submit">Turn on two-factor authentication</button></div></form>`
          : html`<p id="twofa-status">Two-factor authentication is <strong>on</strong>, with ${n} device${n === 1 ? '' : 's'}: <a href="/devices">manage devices</a>.</p>
<p id="recovery-status">${rc === null ? 'No recovery codes.' : `Recovery codes left: ${rc.remaining} of ${rc.total} (issued ${when(rc.issuedAt)}).`}${
              rc !== null && rc.remaining <= 3 ? html` <a class="warn" href="/recovery-codes">Running low: make a new set.</a>` : ''
            }</p>
<p><a href="/2fa/disable" id="disable-2fa">Turn off two-factor authentication</a></p>`
      }</div>`,
    }));
  }),
  ...stepUp('/2fa/disable', {
    page: async (c) =>
      (await c.app.tf.isEnabled(c.user.id))
        ? {
            title: 'Turn off two-factor authentication',
            intro: 'Every device and recovery code is removed: your password alone will sign you in.',
            button: 'Turn off two-factor authentication',
            danger: true,
          }
        : null,
    async perform(c, stepUpToken) {
      const r = await c.app.tf.disableTwoFactor({ userId: c.user.id, stepUpToken });
      c.flash(r.ok ? 'ok' : 'error', r.ok ? 'Two-factor authentication is off.' : 'Please confirm with a current code.');
      c.redirect('/');
    },
  }),
];
