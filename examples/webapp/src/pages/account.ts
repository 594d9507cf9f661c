/**
 * The account page (2FA on or off, the devices, recovery codes left, remembered browsers), the
 * recovery codes shown once and regenerated, turning 2FA off, and {@link stepUp}, the step-up page
 * every sensitive change goes through.
 * @module
 */
import { normalizeToken, type Factor } from 'otpkit';
import type { Routes, UserCtx } from '../app.js';
import { codeField, failed, form, h, hidden, input, plural, STEP_UP, when } from '../html.js';
import type { Html } from '../html.js';

/** What a change's step-up page says: its title and what it does, its button, its own fields. */
interface StepUpPage {
  readonly title: string;
  readonly intro: string;
  readonly button?: string;
  readonly fields?: Html;
  readonly danger?: boolean;
}
/**
 * Step-up before a sensitive change: GET says what the change does (`page`; `null` when it does
 * not apply) and asks for a current code; POST checks the change's own fields (`check` gives a
 * message, or `null`) before a code is spent, then the code (`verifyCode`), and hands the
 * single-use step-up token to `perform`, which passes it to otpkit. The form keeps `carry` (a
 * query field: an id, a kind).
 */
export function stepUp(
  path: string,
  carry: string,
  spec: {
    page(c: UserCtx): Promise<StepUpPage | null>;
    check?(c: UserCtx): string | null;
    perform(c: UserCtx, stepUpToken: string): Promise<void>;
  },
): Routes {
  const again = (c: UserCtx): string =>
    carry === '' ? path : `${path}?${new URLSearchParams({ [carry]: c.field(carry) })}`;
  const routes = {
    [`user GET ${path}`]: async (c: UserCtx) => {
      const s = await spec.page(c);
      if (s === null) return c.redirect('/');
      const fields = h`${carry !== '' && hidden(carry, c.field(carry))}${s.fields}
        <p class="muted">Confirm it is you: enter a current code.</p>${codeField('step-up-code')}`;
      const [button, cls] = [s.button ?? 'Continue', s.danger === true ? 'danger' : ''];
      c.render(h`<h1>${s.title}</h1><p>${s.intro}</p>
        ${form(c, path, 'step-up', button, fields, cls)}`);
    },
    [`user POST ${path}`]: async (c: UserCtx) => {
      const problem = spec.check?.(c) ?? null;
      if (problem !== null) return c.redirect(again(c), 'error', problem);
      const code = normalizeToken(c.field('code', 64));
      const r = await c.tf.verifyCode({ userId: c.user.id, code });
      if (!r.ok) return c.redirect(again(c), 'error', failed(r));
      await spec.perform(c, r.stepUpToken);
    },
  };
  return routes as Routes;
}
/** A step-up page that applies only with 2FA on. */
const ifEnabled = (page: StepUpPage) => async (c: UserCtx) =>
  (await c.tf.isEnabled(c.user.id)) ? page : null;

const WELCOME = h`<h1>Welcome</h1><p>Two-factor sign-in with <strong>otpkit</strong>:
  authenticator apps on one or more devices, email codes, one-time recovery codes, remembered
  browsers, step-up before every sensitive change, and an administrator's unlock.</p>
  <p><a href="/signup">Create an account</a> or <a href="/login">sign in</a>.</p>`;
const device = (f: Factor, i: number): Html => h`<tr id="device-${i}"><td>${f.label}</td>
  <td>${f.type === 'email' ? 'Email' : 'Authenticator app'}</td><td>${when(f.confirmedAt ?? f.createdAt)}</td>
  <td class="last-used">${when(f.lastUsedAt)}</td>
  <td><a class="remove" href="/devices/remove?id=${encodeURIComponent(f.id)}">Remove</a></td></tr>`;

export const accountRoutes: Routes = {
  'anyone GET /': async (c) => {
    if (c.pending !== null) return c.redirect('/login/code');
    if (c.user === undefined) return c.render(WELCOME);
    const { tf, email } = c;
    const [factors, rc, browsers] = await Promise.all([
      tf.listFactors(c.user.id),
      tf.recoveryCodeStatus(c.user.id),
      tf.listTrustedDevices(c.user.id).then((d) => d.length),
    ]);
    const attrs = h` value="Authenticator app" maxlength="64" required`;
    const name = input('Name of this device', 'enable-label', 'label', attrs);
    if (factors.length === 0)
      return c.render(h`<h1>Your account</h1><p id="twofa-status">Two-factor authentication is
        <strong>off</strong>: your password alone signs you in.</p>
        ${form(c, '/2fa/enable', 'enable-2fa', 'Turn on two-factor authentication', name)}`);
    const codes =
      rc === null ? 'none' : `${rc.remaining} of ${rc.total} (issued ${when(rc.issuedAt)})`;
    const addEmail = email && h` or <a href="/devices/add?kind=email" id="add-email">an email</a>`;
    const forget = form(c, '/browsers/forget', 'revoke-all', 'Forget them all', h``, 'secondary');
    c.render(h`<h1>Your account</h1><p id="twofa-status">Two-factor authentication is
      <strong>on</strong>, with ${plural(factors.length, 'device')}.</p><table id="devices"><thead>
      <tr><th>Name</th><th>Kind</th><th>Added</th><th>Last used</th><th></th></tr></thead>
      <tbody>${factors.map(device)}</tbody></table><p>Add <a href="/devices/add?kind=totp"
      id="add-totp">an authenticator app</a>${addEmail}: any of them signs you in.</p>
      <h2>Recovery codes</h2><p id="recovery-status">Recovery codes left: ${codes}.
      <a href="/recovery-codes/regenerate" id="regenerate">Make new recovery codes</a></p>
      <h2>Remembered browsers</h2><p id="trusted-status">${plural(browsers, 'remembered browser')}
      sign${browsers === 1 ? 's' : ''} in without a code.</p>${browsers > 0 && forget}
      <p><a href="/2fa/disable" id="disable-2fa">Turn off two-factor authentication</a></p>`);
  },
  'user POST /browsers/forget': async (c) => {
    const n = await c.tf.revokeAllTrustedDevices(c.user.id);
    const [these, ask] =
      n === 1 ? ['That browser is', 'it asks'] : [`${n} browsers are`, 'they ask'];
    c.redirect('/', 'ok', `${these} forgotten: ${ask} for a code again.`);
  },
  ...stepUp('/2fa/disable', '', {
    page: ifEnabled({
      title: 'Turn off two-factor authentication',
      intro: 'Every device and recovery code is removed, and every browser forgotten.',
      button: 'Turn off two-factor authentication',
      danger: true,
    }),
    async perform(c, stepUpToken) {
      const r = await c.tf.disableTwoFactor({ userId: c.user.id, stepUpToken });
      c.redirect('/', r.ok ? 'ok' : 'error', r.ok ? 'Two-factor authentication is off.' : STEP_UP);
    },
  }),
  'user GET /recovery-codes/new': (c) => {
    const codes = c.session.codes;
    if (codes === undefined) return c.redirect('/');
    c.render(h`<h1>Save your recovery codes</h1><p>Each code signs you in once if you lose your
      devices. <strong>They are shown only until you confirm that you saved them.</strong></p>
      <ol class="codes" id="recovery-codes">${codes.map((x) => h`<li><code>${x}</code></li>`)}</ol>
      <p class="muted">Keep them in a password manager or on paper.</p>
      ${form(c, '/recovery-codes/saved', 'codes-saved', 'I saved them')}`);
  },
  'user POST /recovery-codes/saved': (c) => {
    c.session.codes = undefined;
    c.redirect('/');
  },
  ...stepUp('/recovery-codes/regenerate', '', {
    page: ifEnabled({
      title: 'New recovery codes',
      intro: 'A new set replaces the old one, and every remembered browser asks for a code again.',
      button: 'Make new recovery codes',
    }),
    async perform(c, stepUpToken) {
      const r = await c.tf.regenerateRecoveryCodes({ userId: c.user.id, stepUpToken });
      if (!r.ok) return c.redirect('/', 'error', STEP_UP);
      c.session.codes = r.codes;
      c.redirect('/recovery-codes/new', 'ok', 'New recovery codes: your old ones no longer work.');
    },
  }),
};
