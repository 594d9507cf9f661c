/**
 * The home page (a welcome when signed out, the account overview when signed in), turning 2FA
 * off behind step-up, the remembered browsers (`listTrustedDevices`; forget one or all), and
 * changing the password (`onPasswordChanged`: remembered browsers are forgotten, sign-ins under
 * way cancelled; the app ends the user's other sessions).
 * @module
 */
import { form, html, input, page, when } from '../layout.js';
import { get, post, type Route } from '../router.js';
import { MAX_PASSWORD, MIN_PASSWORD } from '../users.js';
import { stepUp } from './stepup.js';

const WELCOME = html`<p>
    A small web app showing two-factor sign-in with <strong>otpkit</strong>: authenticator apps on
    one or more devices, codes by email or text message as a fallback, one-time recovery codes,
    remembered browsers, step-up before every sensitive change, and an administrator's unlock.
  </p>
  <p><a href="/signup">Create an account</a> or <a href="/login">sign in</a>.</p>`;

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

export const accountRoutes: readonly Route[] = [
  get('/', 'anyone', async (c) => {
    const s = c.session;
    if (c.pending !== null) return c.redirect('/login/code');
    if (s === null) return c.render(page('otpkit demo', WELCOME));
    const [factors, rc, trusted] = await Promise.all([
      c.app.tf.listFactors(s.userId),
      c.app.tf.recoveryCodeStatus(s.userId),
      c.app.tf.listTrustedDevices(s.userId),
    ]);
    const n = factors.length;
    c.render((v) =>
      page(
        'Your account',
        n === 0
          ? html`<p id="twofa-status">
                Two-factor authentication is <strong>off</strong>. Anyone with your password can
                sign in.
              </p>
              ${form(v, '/2fa/enable', 'enable-2fa', 'Turn on two-factor authentication', {
                fields: input('Name of this device', {
                  id: 'enable-label',
                  name: 'label',
                  value: 'Authenticator app',
                  maxlength: 64,
                  required: true,
                }),
              })}
              <p class="muted">
                You will need an authenticator app: it is the strongest way in here. Email and
                text-message codes can be added afterwards, as a fallback.
              </p>`
          : html`<p id="twofa-status">
                Two-factor authentication is <strong>on</strong>, with ${plural(n, 'device')}:
                <a href="/devices">manage devices</a>.
              </p>
              <p id="recovery-status">
                ${rc === null ? 'No recovery codes.' : `Recovery codes left: ${rc.remaining} of ${rc.total} (issued ${when(rc.issuedAt)}).`}${
                  rc !== null && rc.remaining <= 3
                    ? html` <a class="warn" href="/recovery-codes">Running low: make a new set.</a>`
                    : ''
                }
              </p>
              <p id="trusted-status">
                ${plural(trusted.length, 'remembered browser')}
                sign${trusted.length === 1 ? 's' : ''} in without a code:
                <a href="/trusted-devices">manage them</a>.
              </p>
              <p>
                <a href="/2fa/disable" id="disable-2fa">Turn off two-factor authentication</a>
              </p>`,
        html`<h2>Password</h2>
          <p>
            <a href="/password" id="change-password">Change your password</a>: every remembered
            browser asks for a code again.
          </p>`,
      ),
    );
  }),
  ...stepUp('/2fa/disable', {
    page: async (c) =>
      (await c.app.tf.isEnabled(c.user.id))
        ? {
            title: 'Turn off two-factor authentication',
            intro:
              'Every device and recovery code is removed, and every browser forgotten: your password alone will sign you in.',
            button: 'Turn off two-factor authentication',
            danger: true,
          }
        : null,
    async perform(c, stepUpToken) {
      const r = await c.app.tf.disableTwoFactor({ userId: c.user.id, stepUpToken });
      c.flash(
        r.ok ? 'ok' : 'error',
        r.ok ? 'Two-factor authentication is off.' : 'Please confirm with a current code.',
      );
      c.redirect('/');
    },
  }),
  get('/password', 'user', (c) =>
    c.render((v) =>
      page(
        'Change your password',
        html`<p>
            Every browser you asked to remember you will ask for a code again, sign-ins under way
            are cancelled, and your other sessions end.
          </p>
          ${form(v, '/password', 'password-form', 'Change password', {
            fields: html`${input('Current password', { id: 'current-password', name: 'current', type: 'password', autocomplete: 'current-password', required: true })}
            ${input('New password', { id: 'new-password', name: 'next', type: 'password', autocomplete: 'new-password', minlength: MIN_PASSWORD, required: true })}`,
          })}`,
      ),
    ),
  ),
  post('/password', 'user', async (c) => {
    const next = c.field('next', MAX_PASSWORD);
    if ([...next].length < MIN_PASSWORD)
      c.flash('error', `Choose a password of at least ${MIN_PASSWORD} characters.`);
    else if (!(await c.app.users.changePassword(c.user, c.field('current', MAX_PASSWORD), next)))
      c.flash('error', 'That is not your current password.');
    else {
      const forgotten = (await c.app.tf.listTrustedDevices(c.user.id)).length;
      await c.app.tf.onPasswordChanged(c.user.id);
      c.app.sessions.endOthers(c.session);
      c.flash(
        'ok',
        `Your password is changed. ${plural(forgotten, 'remembered browser')} forgotten: every browser asks for a code again.`,
      );
      return c.redirect('/trusted-devices');
    }
    c.redirect('/password');
  }),
  get('/trusted-devices', 'user', async (c) => {
    const list = await c.app.tf.listTrustedDevices(c.user.id);
    c.render((v) =>
      page(
        'Remembered browsers',
        list.length === 0
          ? html`<p id="trusted-none">
              No browser is remembered: every sign-in asks for a code. Tick “Remember this browser”
              when you enter one.
            </p>`
          : html`<p>
                These browsers sign in with your password alone until they expire. Forget any you do
                not recognise, or no longer use.
              </p>
              <table id="trusted">
                <thead>
                  <tr>
                    <th>Browser</th>
                    <th>Remembered</th>
                    <th>Last used</th>
                    <th>Expires</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${list.map(
                    (d, i) =>
                      html`<tr id="trusted-${i}">
                        <td>${d.label}</td>
                        <td>${when(d.createdAt)}</td>
                        <td class="last-used">${when(d.lastUsedAt)}</td>
                        <td>${when(d.expiresAt)}</td>
                        <td>
                          ${form(v, '/trusted-devices/revoke', `revoke-${i}`, 'Forget', { hidden: { id: d.id }, cls: 'secondary' })}
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
              ${form(v, '/trusted-devices/revoke', 'revoke-all', 'Forget them all', { hidden: { id: '*' }, cls: 'danger' })}`,
      ),
    );
  }),
  post('/trusted-devices/revoke', 'user', async (c) => {
    const id = c.field('id');
    const n =
      id === '*'
        ? await c.app.tf.revokeAllTrustedDevices(c.user.id)
        : id === ''
          ? 0
          : Number(await c.app.tf.revokeTrustedDevice({ userId: c.user.id, deviceId: id }));
    c.flash(
      n === 0 ? 'error' : 'ok',
      n === 0
        ? 'No such browser.'
        : `${n === 1 ? 'That browser is' : `${n} browsers are`} forgotten: ${n === 1 ? 'it asks' : 'they ask'} for a code again.`,
    );
    c.redirect('/trusted-devices');
  }),
];
