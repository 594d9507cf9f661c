/** Devices: setting one up (otpkit's enrollment), adding or removing one behind step-up. @module */
import { destinationProblem, factorLabelProblem } from 'otpkit';
import { renderQRCodeSVG } from 'otpkit/qr';
import type { Routes, UserCtx } from '../app.js';
import { delivered } from '../delivery.js';
import { codeField, failed, form, h, Html, input, sent, STEP_UP, when } from '../html.js';
import { askStepUp, nameField, stepUp } from './account.js';

const BAD_LABEL = 'Choose a name of 1–64 characters, without control characters.';
const RETRY = "That code didn't work. Try again with the code";
const LATE = 'That setup took too long. Start again.';
const TOO_MANY = 'You have as many devices as an account may have, or too many setups under way.';
const ANY_DEVICE = 'a code from any of your devices signs you in';
const ADD_APP = h`<h1>Add an authenticator app</h1><p>Any of your devices signs you in.</p>`;
const ADD_EMAIL = h`<h1>Add an email address</h1><p>We send it a code now, and at sign-in.</p>`;
const labelOf = (c: UserCtx): string | null =>
  factorLabelProblem(c.field('label')) === undefined ? c.field('label').trim() : null;
async function begin(c: UserCtx, label: string | null, email?: string, stepUpToken?: string) {
  const { tf, user, session } = c;
  if (label === null) return c.redirect('/', 'error', BAD_LABEL);
  // The setup under way, if any, makes room for this one (a pending factor needs no step-up).
  if (session.setup) await tf.removeFactor({ userId: user.id, factorId: session.setup.factorId });
  const base = { userId: user.id, label, stepUpToken };
  const r = email
    ? await delivered(tf.beginEnrollment({ ...base, type: 'email', destination: email }), c.log)
    : await tf.beginEnrollment({ ...base, account: user.username });
  if (r && !r.ok && r.reason !== 'throttled')
    return c.redirect('/', 'error', r.reason === 'limit' ? TOO_MANY : STEP_UP);
  if (!r?.ok) return c.redirect('/', ...sent(r, email ?? ''));
  session.setup = { factorId: r.factorId, label, ...('hint' in r && { hint: r.hint }) };
  c.redirect('/2fa/setup');
}

export const deviceRoutes: Routes = {
  'user POST /2fa/enable': (c) => begin(c, labelOf(c)),
  'user GET /2fa/setup': async (c) => {
    const s = c.session.setup;
    if (s === undefined) return c.redirect('/');
    const confirm = (label: string): Html =>
      form(c, '/2fa/confirm', 'confirm', 'Confirm', codeField('confirm-code', label));
    if (s.hint !== undefined)
      return c.render(h`<h1>Confirm “${s.label}”</h1><p>We sent a code to ${s.hint}.</p>
        ${confirm('The code we sent')}`);
    const { id: userId, username: account } = c.user;
    const e = await c.tf.getEnrollment({ userId, factorId: s.factorId, account });
    if (!e.ok) return c.redirect('/', 'info', LATE);
    const qr = new Html(renderQRCodeSVG(e.uri, { scale: 5, ecc: 'M' })); // the one trusted markup
    c.render(h`<h1>Set up “${s.label}”</h1><p>Scan this QR code with an authenticator app, or on
      this phone <a href="${e.uri}" id="otpauth-link">add it to your authenticator app</a>.</p>
      <div class="qr" id="qr" role="img" aria-label="QR code of your new key">${qr}</div>
      <p>Can't scan it? Type this key: <code id="manual-key">${e.manualKey}</code></p>
      <p class="muted">Never share it. This setup ends at ${when(e.expiresAt)}.</p>
      ${confirm('Then the code your app shows')}`);
  },
  'user POST /2fa/confirm': async (c) => {
    const { factorId, label, hint } = c.session.setup ?? {};
    if (factorId === undefined) return c.redirect('/');
    const r = await c.tf.confirmEnrollment({ userId: c.user.id, factorId, code: c.code() });
    const which = hint ? 'we sent' : 'your app shows now';
    if (!r.ok && !['not-found', 'expired', 'limit'].includes(r.reason))
      return c.redirect('/2fa/setup', 'error', failed(r, `${RETRY} ${which}.`));
    c.session.setup = undefined;
    if (!r.ok) return c.redirect('/', 'error', r.reason === 'limit' ? TOO_MANY : LATE);
    const how = hint ? `we can send a code to ${hint} when you sign in` : ANY_DEVICE;
    if (!r.recoveryCodes) return c.redirect('/', 'ok', `“${label}” is added: ${how}.`);
    // 2FA is on: a new session id, so an id seen before this moment is worth nothing now.
    c.sessions.rotate(c.cookies, c.session).codes = r.recoveryCodes;
    c.redirect('/recovery-codes/new', 'ok', 'Two-factor authentication is on.');
  },
  'user GET /devices/add': async (c) => {
    const email = c.field('kind') === 'email';
    if (email && !c.email) return c.redirect('/');
    const name = nameField('Name', 'add-label', email ? 'Email' : 'Second device');
    const address = email && input('Email address', 'add-destination', 'destination', h``, 'email');
    await askStepUp(c, email ? ADD_EMAIL : ADD_APP, h`${name}${address}`);
  },
  'user POST /devices/add': async (c) => {
    const label = labelOf(c);
    const email = c.field('kind') === 'email' ? c.field('destination').trim() : undefined;
    if (label === null) return c.redirect(c.url, 'error', BAD_LABEL);
    if (email !== undefined && (!c.email || destinationProblem('email', email) !== undefined))
      return c.redirect(c.url, 'error', 'Enter an email address.');
    const stepUpToken = await stepUp(c); // after the checks above: a typo spends no code
    if (stepUpToken) await begin(c, label, email, stepUpToken);
  },
  'user GET /devices/remove': async (c) => {
    const f = (await c.tf.listFactors(c.user.id)).find((x) => x.id === c.field('id'));
    if (f === undefined) return c.redirect('/');
    await askStepUp(c, h`<h1>Remove “${f.label}”</h1><p>If it is your last, 2FA turns off.</p>`);
  },
  'user POST /devices/remove': async (c) => {
    const stepUpToken = await stepUp(c);
    if (!stepUpToken) return;
    const r = await c.tf.removeFactor({ userId: c.user.id, factorId: c.field('id'), stepUpToken });
    if (!r.ok)
      return c.redirect('/', 'error', r.reason === 'not-found' ? 'No such device.' : STEP_UP);
    c.redirect('/', 'ok', r.disabled ? 'Device removed: 2FA is off.' : 'Device removed.');
  },
};
