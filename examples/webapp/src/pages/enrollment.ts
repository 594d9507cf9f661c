/**
 * Setting up a factor: `beginEnrollment`, then a page that shows the authenticator app's key
 * (`getEnrollment`: the QR code with `renderQRCodeSVG`, the key in groups of four, an
 * otpauth:// link) or says where a code was sent, then `confirmEnrollment` with a code. The
 * session keeps the pending factor's id only. The first factor turns 2FA on: the session gets a
 * new id and the recovery codes are shown, until the user says they saved them.
 * @module
 */
import { factorLabelProblem, normalizeToken } from 'otpkit';
import { renderQRCodeSVG } from 'otpkit/qr';
import { delivered } from '../delivery.js';
import {
  codeFailed,
  codeField,
  form,
  html,
  page,
  sent,
  SETUP_CODE_FAILED,
  trusted,
  type View,
  when,
} from '../layout.js';
import { get, post, type Route, type UserCtx } from '../router.js';

export const BAD_LABEL = 'Choose a name of 1–64 characters, without control characters.';

/** A name as typed, trimmed, or `null` if otpkit would refuse it. */
export const labelOf = (raw: string): string | null =>
  factorLabelProblem(raw) === undefined ? raw.trim() : null;

const confirmForm = (v: View, label: string) =>
  html`${form(v, '/2fa/confirm', 'confirm', 'Confirm', { fields: codeField('confirm-code', label) })}${form(v, '/2fa/cancel', 'cancel-setup', 'Cancel this setup', { cls: 'secondary' })}`;

/** Drops the setup under way, if any: a pending enrollment goes without step-up (it never signed anyone in). */
async function cancelSetup(c: UserCtx): Promise<void> {
  const setup = c.session.setup;
  c.session.setup = undefined;
  if (setup !== undefined)
    await c.app.tf.removeFactor({ userId: c.user.id, factorId: setup.factorId });
}

/** Starts an enrollment (an email/SMS one sends its code now) and goes to its setup page; a second factor brings a step-up token. */
export async function beginSetup(
  c: UserCtx,
  label: string,
  to?: { type: 'email' | 'sms'; destination: string },
  stepUpToken?: string,
): Promise<void> {
  await cancelSetup(c);
  const { tf, log } = c.app;
  const base = { userId: c.user.id, label, ...(stepUpToken === undefined ? {} : { stepUpToken }) };
  const r =
    to === undefined
      ? await tf.beginEnrollment({ ...base, account: c.user.username })
      : await delivered(tf.beginEnrollment({ ...base, ...to }), log);
  if (r?.ok === true) {
    c.session.setup = { factorId: r.factorId, label, hint: 'hint' in r ? r.hint : undefined };
    return c.redirect('/2fa/setup');
  }
  if (r === null || r.reason === 'throttled') c.flash(...sent(r, to?.destination ?? ''));
  else if (r.reason === 'step-up-required') c.flash('error', 'Please confirm with a current code.');
  else
    c.flash(
      'error',
      'You have as many devices as an account may have, or too many setups under way.',
    );
  c.redirect(stepUpToken === undefined ? '/' : '/devices');
}

export const enrollmentRoutes: readonly Route[] = [
  post('/2fa/enable', 'user', async (c) => {
    const label = labelOf(c.field('label'));
    if (label !== null) return beginSetup(c, label);
    c.flash('error', BAD_LABEL);
    c.redirect('/');
  }),
  get('/2fa/setup', 'user', async (c) => {
    const s = c.session.setup;
    if (s === undefined) return c.redirect('/');
    if (s.hint !== undefined)
      return c.render((v) =>
        page(
          `Confirm “${s.label}”`,
          html`<p>
              We sent a code to <strong>${s.hint}</strong>. Enter it to confirm that it reaches you.
            </p>
            ${confirmForm(v, 'The code we sent')}`,
        ),
      );
    const e = await c.app.tf.getEnrollment({
      userId: c.user.id,
      factorId: s.factorId,
      account: c.user.username,
    });
    if (!e.ok) {
      c.session.setup = undefined;
      c.flash('info', 'That setup took too long. Start again.');
      return c.redirect('/');
    }
    c.render((v) =>
      page(
        `Set up “${s.label}”`,
        html`<p>
            1. Scan this QR code with an authenticator app (Google Authenticator, Microsoft
            Authenticator, Aegis, 1Password, Bitwarden…).
          </p>
          <div class="setup">
            <div class="qr" id="qr" role="img" aria-label="QR code of your new key">
              ${trusted(renderQRCodeSVG(e.uri, { scale: 5, ecc: 'M' }))}
            </div>
            <div>
              <p>
                <strong>On this phone?</strong>
                <a href="${e.uri}" id="otpauth-link">Add it to your authenticator app</a>.
              </p>
              <p>
                <strong>Can't scan it?</strong> Type this key into your app (time-based, 6 digits):
              </p>
              <p><code class="key" id="manual-key">${e.manualKey}</code></p>
              <p class="muted">
                Never share the key or the QR code. This setup ends at ${when(e.expiresAt)}.
              </p>
            </div>
          </div>`,
        html`<h2>2. Enter the code your app shows</h2>
          ${confirmForm(v, 'Code from your authenticator app')}`,
      ),
    );
  }),
  post('/2fa/confirm', 'user', async (c) => {
    const setup = c.session.setup;
    if (setup === undefined) return c.redirect('/');
    const r = await c.app.tf.confirmEnrollment({
      userId: c.user.id,
      factorId: setup.factorId,
      code: normalizeToken(c.field('code', 64)),
    });
    if (!r.ok && (r.reason === 'not-found' || r.reason === 'expired' || r.reason === 'limit')) {
      c.session.setup = undefined;
      c.flash(
        'error',
        r.reason === 'limit'
          ? 'You have as many devices as an account may have.'
          : 'That setup took too long. Start again.',
      );
      return c.redirect('/');
    }
    if (!r.ok) {
      c.flash(
        'error',
        codeFailed(
          r,
          setup.hint === undefined
            ? SETUP_CODE_FAILED
            : "That code didn't work. Try again with the code we sent.",
        ),
      );
      return c.redirect('/2fa/setup');
    }
    c.session.setup = undefined;
    if (r.recoveryCodes === undefined) {
      c.flash(
        'ok',
        `“${setup.label}” is added: ${setup.hint === undefined ? 'a code from any of your devices signs you in' : `we can send a code to ${setup.hint} when you sign in`}.`,
      );
      return c.redirect('/devices');
    }
    // 2FA is on: a new session id, so an id seen before this moment is worth nothing now.
    c.app.sessions.rotate(c.cookies, c.session).codes = r.recoveryCodes;
    c.flash('ok', 'Two-factor authentication is on.');
    c.redirect('/recovery-codes/new');
  }),
  post('/2fa/cancel', 'user', async (c) => {
    await cancelSetup(c);
    c.redirect('/');
  }),
];
