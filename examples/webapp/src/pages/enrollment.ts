/**
 * Setting up a device: `beginEnrollment` (the server makes the key), a page with the QR code
 * (`renderQRCodeSVG`), the key in groups of four and an otpauth:// link, then
 * `confirmEnrollment` with a code. The first device turns 2FA on: the session gets a new id and
 * the recovery codes are shown, until the user says they saved them.
 * @module
 */
import { normalizeToken } from 'otpkit';
import { renderQRCodeSVG } from 'otpkit/qr';
import { html, trusted } from '../html.js';
import { button, codeField, csrfField, type Page, type View } from '../layout.js';
import { codeFailed, SETUP_CODE_FAILED, when } from '../messages.js';
import { get, post, type Route, type UserCtx } from '../router.js';
import type { Setup } from '../sessions.js';

const setupPage = (v: View, s: Setup): Page => ({
  title: 'Set up your authenticator app',
  body: html`<div class="card"><h1>Set up “${s.label}”</h1>
<p>1. Scan this QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, Aegis, 1Password, Bitwarden…).</p>
<div class="setup"><div class="qr" id="qr" role="img" aria-label="QR code of your new key">${trusted(renderQRCodeSVG(s.uri, { scale: 5, ecc: 'M' }))}</div>
<div><p><strong>On this phone?</strong> <a href="${s.uri}" id="otpauth-link">Add it to your authenticator app</a>.</p>
<p><strong>Can't scan it?</strong> Type this key into your app (time-based, 6 digits):</p>
<p><code class="key" id="manual-key">${s.manualKey}</code></p>
<p class="muted">Never share the key or the QR code. This setup ends at ${when(s.expiresAt)}.</p></div></div></div>
<div class="card"><h2>2. Enter the code your app shows</h2>
<form method="post" action="/2fa/confirm" id="confirm">${csrfField(v)}${codeField('confirm-code', false)}
<div><button type="submit">Confirm</button></div></form>${button(v, '/2fa/cancel', 'Cancel this setup', 'cancel-setup', {}, 'secondary')}</div>`,
});

export const recoveryCodesPage = (v: View, codes: readonly string[]): Page => ({
  title: 'Your recovery codes',
  body: html`<div class="card"><h1>Save your recovery codes</h1>
<p>Each code signs you in once if you lose your devices. <strong>They are shown only until you confirm that you saved them</strong>, never again.</p>
<ol class="codes" id="recovery-codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
<p class="muted">Keep them in a password manager or on paper. With your password, they are a way in.</p>
${button(v, '/recovery-codes/saved', 'I saved them', 'codes-saved')}</div>`,
});

/** A device name as typed: 1..64 letters, digits, punctuation, symbols and spaces (no controls). */
export function deviceLabel(raw: string): string | null {
  const t = raw.trim();
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]{1,64}$/u.test(t) ? t : null;
}
export const BAD_LABEL = 'Choose a device name of 1–64 letters, digits, spaces or punctuation.';

/** Drops the setup under way, if any: a pending enrollment goes without step-up (it never signed anyone in). */
async function cancelSetup(c: UserCtx): Promise<void> {
  const setup = c.session.setup;
  c.session.setup = undefined;
  if (setup !== undefined) await c.app.tf.removeFactor({ userId: c.user.id, factorId: setup.factorId });
}

/** Starts an enrollment and shows its setup page; a second device brings a step-up token. */
export async function beginSetup(c: UserCtx, label: string, stepUpToken?: string): Promise<void> {
  await cancelSetup(c);
  const r = await c.app.tf.beginEnrollment({ userId: c.user.id, account: c.user.username, label, ...(stepUpToken === undefined ? {} : { stepUpToken }) });
  if (!r.ok && r.reason === 'step-up-required') return c.redirect('/devices/add');
  if (!r.ok) {
    c.flash('error', 'You have as many devices as an account may have, or too many setups under way.');
    return c.redirect('/devices');
  }
  c.session.setup = { factorId: r.factorId, label, uri: r.uri, manualKey: r.manualKey, expiresAt: r.expiresAt };
  c.redirect('/2fa/setup');
}

export const enrollmentRoutes: readonly Route[] = [
  post('/2fa/enable', 'user', async (c) => {
    const label = deviceLabel(c.field('label'));
    if (label !== null) return beginSetup(c, label);
    c.flash('error', BAD_LABEL);
    c.redirect('/');
  }),
  get('/2fa/setup', 'user', (c) => {
    const setup = c.session.setup;
    if (setup !== undefined && setup.expiresAt > c.app.now()) return c.render((v) => setupPage(v, setup));
    if (setup !== undefined) c.flash('info', 'That setup took too long. Start again.');
    c.session.setup = undefined;
    c.redirect('/');
  }),
  post('/2fa/confirm', 'user', async (c) => {
    const setup = c.session.setup;
    if (setup === undefined) return c.redirect('/');
    const r = await c.app.tf.confirmEnrollment({ userId: c.user.id, factorId: setup.factorId, code: normalizeToken(c.field('code', 64)) });
    if (!r.ok && (r.reason === 'not-found' || r.reason === 'expired' || r.reason === 'limit')) {
      c.session.setup = undefined;
      c.flash('error', r.reason === 'limit' ? 'You have as many devices as an account may have.' : 'That setup took too long. Start again.');
      return c.redirect('/');
    }
    if (!r.ok) {
      c.flash('error', codeFailed(r, SETUP_CODE_FAILED));
      return c.redirect('/2fa/setup');
    }
    c.session.setup = undefined;
    if (r.recoveryCodes === undefined) {
      c.flash('ok', `“${setup.label}” is added: a code from any of your devices signs you in.`);
      return c.redirect('/devices');
    }
    // 2FA is on: a new session id, so an id seen before this moment is worth nothing now.
    const s = c.app.sessions.rotate(c.res, c.session);
    s.codes = r.recoveryCodes;
    s.flash.push({ kind: 'ok', text: 'Two-factor authentication is on.' });
    c.redirect('/recovery-codes/new');
  }),
  post('/2fa/cancel', 'user', async (c) => {
    await cancelSetup(c);
    c.redirect('/');
  }),
];
