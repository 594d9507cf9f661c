/**
 * Setting up a device (`beginEnrollment`; the QR code, the key in groups of four and an
 * otpauth:// link, or an emailed code; `confirmEnrollment`), adding and removing devices behind
 * step-up. The first device turns 2FA on: a new session id, and the recovery codes.
 * @module
 */
import { destinationProblem, factorLabelProblem, normalizeToken } from 'otpkit';
import { renderQRCodeSVG } from 'otpkit/qr';
import type { Routes, UserCtx } from '../app.js';
import { delivered } from '../delivery.js';
import { codeField, failed, form, h, Html, input, sent, STEP_UP, when } from '../html.js';
import { stepUp } from './account.js';

const BAD_LABEL = 'Choose a name of 1–64 characters, without control characters.';
const LATE = 'That setup took too long. Start again.';
const REQUIRED = h` required`;
const TOO_MANY = 'You have as many devices as an account may have, or too many setups under way.';
/** The name as typed, trimmed, or `null` if otpkit would refuse it. */
const labelOf = (c: UserCtx): string | null =>
  factorLabelProblem(c.field('label')) === undefined ? c.field('label').trim() : null;
/** An email address to add, or `undefined` for an authenticator app (`null`: otpkit would refuse it). */
const emailOf = (c: UserCtx): string | null | undefined => {
  if (c.field('kind') !== 'email') return undefined;
  const d = c.field('destination').trim();
  return c.email && destinationProblem('email', d) === undefined ? d : null;
};

/** Starts an enrollment (for email, its code is sent now) and goes to its setup page. */
async function begin(c: UserCtx, label: string, email?: string, stepUpToken?: string) {
  const { tf, log } = c;
  const old = c.session.setup?.factorId; // a pending enrollment goes without step-up
  if (old !== undefined) await tf.removeFactor({ userId: c.user.id, factorId: old });
  const base = { userId: c.user.id, label, ...(stepUpToken !== undefined && { stepUpToken }) };
  const r =
    email === undefined
      ? await tf.beginEnrollment({ ...base, account: c.user.username })
      : await delivered(tf.beginEnrollment({ ...base, type: 'email', destination: email }), log);
  if (r?.ok === true) {
    c.session.setup = { factorId: r.factorId, label, ...('hint' in r && { hint: r.hint }) };
    return c.redirect('/2fa/setup');
  }
  if (r === null || r.reason === 'throttled') return c.redirect('/', ...sent(r, email ?? ''));
  c.redirect('/', 'error', r.reason === 'step-up-required' ? STEP_UP : TOO_MANY);
}

export const deviceRoutes: Routes = {
  'user POST /2fa/enable': async (c) => {
    const label = labelOf(c);
    if (label === null) return c.redirect('/', 'error', BAD_LABEL);
    await begin(c, label);
  },
  'user GET /2fa/setup': async (c) => {
    const s = c.session.setup;
    if (s === undefined) return c.redirect('/');
    const confirm = (label: string): Html =>
      form(c, '/2fa/confirm', 'confirm', 'Confirm', codeField('confirm-code', label));
    if (s.hint !== undefined)
      return c.render(h`<h1>Confirm “${s.label}”</h1><p>We sent a code to <strong>${s.hint}</strong>.
        Enter it to confirm that it reaches you.</p>${confirm('The code we sent')}`);
    const { id: userId, username: account } = c.user;
    const e = await c.tf.getEnrollment({ userId, factorId: s.factorId, account });
    if (!e.ok) return c.redirect('/', 'info', LATE);
    const qr = new Html(renderQRCodeSVG(e.uri, { scale: 5, ecc: 'M' })); // the one trusted markup
    c.render(h`<h1>Set up “${s.label}”</h1><p>1. Scan this QR code with an authenticator app.</p>
      <div class="setup"><div class="qr" id="qr" role="img" aria-label="QR code of your new key">
      ${qr}</div><div><p><strong>On this phone?</strong> <a href="${e.uri}" id="otpauth-link">Add
      it to your authenticator app</a>.</p><p><strong>Can't scan it?</strong> Type this key into
      your app (time-based, 6 digits):</p><p><code class="key" id="manual-key">${e.manualKey}</code>
      </p><p class="muted">Never share the key or the QR code. This setup ends at
      ${when(e.expiresAt)}.</p></div></div>
      <h2>2. Enter the code your app shows</h2>${confirm('Code from your authenticator app')}`);
  },
  'user POST /2fa/confirm': async (c) => {
    const { factorId, label, hint } = c.session.setup ?? {};
    if (factorId === undefined) return c.redirect('/');
    const code = normalizeToken(c.field('code', 64));
    const r = await c.tf.confirmEnrollment({ userId: c.user.id, factorId, code });
    const retry = `That code didn't work. Try again with the code ${hint ? 'we sent' : 'your app shows now'}.`;
    if (!r.ok && r.reason !== 'not-found' && r.reason !== 'expired' && r.reason !== 'limit')
      return c.redirect('/2fa/setup', 'error', failed(r, retry));
    c.session.setup = undefined;
    if (!r.ok) return c.redirect('/', 'error', r.reason === 'limit' ? TOO_MANY : LATE);
    if (r.recoveryCodes === undefined) {
      const how = hint
        ? `we can send a code to ${hint} when you sign in`
        : 'a code from any of your devices signs you in';
      return c.redirect('/', 'ok', `“${label}” is added: ${how}.`);
    }
    // 2FA is on: a new session id, so an id seen before this moment is worth nothing now.
    c.sessions.rotate(c.cookies, c.session).codes = r.recoveryCodes;
    c.redirect('/recovery-codes/new', 'ok', 'Two-factor authentication is on.');
  },
  ...stepUp('/devices/add', 'kind', {
    async page(c) {
      const email = c.field('kind') === 'email';
      if ((email && !c.email) || !(await c.tf.isEnabled(c.user.id))) return null;
      const more = h` value="${email ? 'Email' : 'Second device'}" maxlength="64" required`;
      const name = input('Name', 'add-label', 'label', more);
      if (!email)
        return {
          title: 'Add an authenticator app',
          intro: 'Any of your devices signs you in.',
          fields: name,
        };
      const address = input('Email address', 'add-destination', 'destination', REQUIRED, 'email');
      return {
        title: 'Add an email address',
        intro: 'We send a code to this address now, and when you ask for one at sign-in.',
        fields: h`${name}${address}`,
      };
    },
    check: (c) =>
      labelOf(c) === null ? BAD_LABEL : emailOf(c) === null ? 'Enter an email address.' : null,
    perform: (c, token) => begin(c, labelOf(c) ?? '', emailOf(c) ?? undefined, token),
  }),
  ...stepUp('/devices/remove', 'id', {
    async page(c) {
      const f = (await c.tf.listFactors(c.user.id)).find((x) => x.id === c.field('id'));
      const intro = 'Its codes stop working at once. If it is your last device, 2FA turns off.';
      return f
        ? { title: `Remove “${f.label}”`, intro, button: 'Remove device', danger: true }
        : null;
    },
    async perform(c, stepUpToken) {
      const factorId = c.field('id');
      const r = await c.tf.removeFactor({ userId: c.user.id, factorId, stepUpToken });
      if (!r.ok)
        return c.redirect('/', 'error', r.reason === 'not-found' ? 'No such device.' : STEP_UP);
      c.redirect('/', 'ok', r.disabled ? 'Device removed: 2FA is off.' : 'Device removed.');
    },
  }),
};
