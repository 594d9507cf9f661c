/** The account page, recovery codes, turning 2FA off; step-up for sensitive changes. @module */
import type { Factor } from 'otpkit';
import type { Routes, UserCtx } from '../app.js';
import { codeField, failed, form, h, type Html, input, plural, STEP_UP, when } from '../html.js';

/** A sensitive change's form (2FA on), with a current code; to its own URL (query and all). */
export async function askStepUp(c: UserCtx, intro: Html, fields?: Html): Promise<void> {
  if (!(await c.tf.isEnabled(c.user.id))) return c.redirect('/');
  c.render(h`${intro}${form(c, c.url, 'step-up', 'Confirm', h`${fields}${CURRENT_CODE}`)}`);
}
/** Step-up: a single-use token, checked again by otpkit in the change itself. Check the change's
 * own fields first: a typo then spends no code. */
export async function stepUp(c: UserCtx): Promise<string | undefined> {
  const r = await c.tf.verifyCode({ userId: c.user.id, code: c.code() });
  if (!r.ok) c.redirect(c.url, 'error', failed(r));
  return r.ok ? r.stepUpToken : undefined;
}
export const nameField = (label: string, id: string, value: string): Html =>
  input(label, id, 'label', h` value="${value}" maxlength="64"`);
const CURRENT_CODE = h`<p class="muted">Confirm it is you.</p>${codeField('step-up-code')}`;
const WELCOME = h`<h1>Welcome</h1><p>Two-factor sign-in with <strong>otpkit</strong>.
  <a href="/signup">Create an account</a> or <a href="/login">sign in</a>.</p>`;
const device = (f: Factor, i: number): Html => h`<tr id="device-${i}"><td>${f.label}</td>
  <td>${f.type === 'email' ? 'Email' : 'Authenticator app'}</td>
  <td>${when(f.confirmedAt ?? f.createdAt)}</td><td class="last-used">${when(f.lastUsedAt)}</td>
  <td><a class="remove" href="/devices/remove?id=${encodeURIComponent(f.id)}">Remove</a></td></tr>`;
const DISABLE = h`<h1>Turn off two-factor authentication</h1><p>It removes every device.</p>`;
const REGENERATE = h`<h1>New recovery codes</h1><p>They replace the old ones.</p>`;
const ADD_EMAIL = h` or <a href="/devices/add?kind=email" id="add-email">an email</a>`;

export const accountRoutes: Routes = {
  'anyone GET /': async (c) => {
    if (c.pending) return c.redirect('/login/code');
    if (!c.user) return c.render(WELCOME);
    const factors = await c.tf.listFactors(c.user.id);
    const name = nameField('Name of this device', 'enable-label', 'Authenticator app');
    if (factors.length === 0)
      return c.render(h`<h1>Your account</h1><p id="twofa-status">Two-factor authentication is
        <strong>off</strong>: your password alone signs you in.</p>
        ${form(c, '/2fa/enable', 'enable-2fa', 'Turn on two-factor authentication', name)}`);
    const rc = await c.tf.recoveryCodeStatus(c.user.id);
    const browsers = (await c.tf.listTrustedDevices(c.user.id)).length;
    const codes = rc ? `${rc.remaining} of ${rc.total} (issued ${when(rc.issuedAt)})` : 'none';
    const forget = form(c, '/browsers/forget', 'revoke-all', 'Forget them all', h``, 'secondary');
    c.render(h`<h1>Your account</h1><p id="twofa-status">Two-factor authentication is
      <strong>on</strong>, with ${plural(factors.length, 'device')}.</p><table id="devices"><thead>
      <tr><th>Name</th><th>Kind</th><th>Added</th><th>Last used</th><th></th></tr></thead>
      <tbody>${factors.map(device)}</tbody></table><p>Add <a href="/devices/add?kind=totp"
      id="add-totp">an authenticator app</a>${c.email && ADD_EMAIL}: any of them signs you in.</p>
      <h2>Recovery codes</h2><p id="recovery-status">Recovery codes left: ${codes}.
      <a href="/recovery-codes/regenerate" id="regenerate">Make new recovery codes</a></p>
      <h2>Remembered browsers</h2><p id="trusted-status">${plural(browsers, 'remembered browser')}
      sign${browsers === 1 ? 's' : ''} in without a code.</p>${browsers > 0 && forget}
      <p><a href="/2fa/disable" id="disable-2fa">Turn off two-factor authentication</a></p>`);
  },
  'user POST /browsers/forget': async (c) => {
    const n = await c.tf.revokeAllTrustedDevices(c.user.id);
    const text =
      n === 1 ? 'That browser is forgotten: it asks' : `${n} browsers are forgotten: they ask`;
    c.redirect('/', 'ok', `${text} for a code again.`);
  },
  'user GET /2fa/disable': (c) => askStepUp(c, DISABLE),
  'user POST /2fa/disable': async (c) => {
    const stepUpToken = await stepUp(c);
    if (!stepUpToken) return;
    const r = await c.tf.disableTwoFactor({ userId: c.user.id, stepUpToken });
    c.redirect('/', r.ok ? 'ok' : 'error', r.ok ? 'Two-factor authentication is off.' : STEP_UP);
  },
  'user GET /recovery-codes/new': (c) => {
    const codes = c.session.codes;
    if (codes === undefined) return c.redirect('/');
    c.render(h`<h1>Save your recovery codes</h1><p>Each signs you in once if you lose your devices.
      <strong>They are shown until you say you saved them, then never again.</strong></p>
      <ol class="codes" id="recovery-codes">${codes.map((x) => h`<li><code>${x}</code></li>`)}</ol>
      ${form(c, '/recovery-codes/saved', 'codes-saved', 'I saved them')}`);
  },
  'user POST /recovery-codes/saved': (c) => {
    c.session.codes = undefined;
    c.redirect('/');
  },
  'user GET /recovery-codes/regenerate': (c) => askStepUp(c, REGENERATE),
  'user POST /recovery-codes/regenerate': async (c) => {
    const stepUpToken = await stepUp(c);
    if (!stepUpToken) return;
    const r = await c.tf.regenerateRecoveryCodes({ userId: c.user.id, stepUpToken });
    if (!r.ok) return c.redirect('/', 'error', STEP_UP);
    c.session.codes = r.codes; // and every remembered browser is forgotten
    c.redirect('/recovery-codes/new', 'ok', 'New recovery codes: your old ones no longer work.');
  },
};
