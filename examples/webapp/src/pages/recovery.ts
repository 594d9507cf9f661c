/** Recovery codes: status (`recoveryCodeStatus`), a new set behind step-up (`regenerateRecoveryCodes`), each set shown once. @module */
import { form, html, page, when } from '../layout.js';
import { get, post, type Route } from '../router.js';
import { stepUp } from './stepup.js';

export const recoveryRoutes: readonly Route[] = [
  get('/recovery-codes', 'user', async (c) => {
    const s = await c.app.tf.recoveryCodeStatus(c.user.id);
    c.render(
      page(
        'Recovery codes',
        s === null
          ? html`<p id="recovery-status">
              You have no recovery codes: they come with your first device.
            </p>`
          : html`<p id="recovery-status">
                Recovery codes left: <strong>${s.remaining}</strong> of ${s.total}, issued
                ${when(s.issuedAt)}.
              </p>
              <p>Used some, or worried someone saw them? A new set replaces every old code.</p>
              <p>
                <a href="/recovery-codes/regenerate" id="regenerate">Make new recovery codes</a>
              </p>`,
      ),
    );
  }),
  get('/recovery-codes/new', 'user', (c) => {
    const codes = c.session.codes;
    if (codes === undefined) return c.redirect('/recovery-codes');
    c.render((v) =>
      page(
        'Save your recovery codes',
        html`<p>
            Each code signs you in once if you lose your devices.
            <strong>They are shown only until you confirm that you saved them</strong>, never again.
          </p>
          <ol class="codes" id="recovery-codes">
            ${codes.map((code) => html`<li><code>${code}</code></li>`)}
          </ol>
          <p class="muted">
            Keep them in a password manager or on paper. With your password, they are a way in.
          </p>
          ${form(v, '/recovery-codes/saved', 'codes-saved', 'I saved them')}`,
      ),
    );
  }),
  post('/recovery-codes/saved', 'user', (c) => {
    c.session.codes = undefined;
    c.redirect('/');
  }),
  ...stepUp('/recovery-codes/regenerate', {
    page: async (c) =>
      (await c.app.tf.isEnabled(c.user.id))
        ? {
            title: 'New recovery codes',
            intro:
              'A new set replaces the old one: every old code stops working, and every remembered browser asks for a code again.',
            button: 'Make new recovery codes',
          }
        : null,
    async perform(c, stepUpToken) {
      const r = await c.app.tf.regenerateRecoveryCodes({ userId: c.user.id, stepUpToken });
      if (!r.ok) {
        c.flash(
          'error',
          r.reason === 'not-enabled'
            ? 'Two-factor authentication is off.'
            : 'Please confirm with a current code.',
        );
        return c.redirect('/recovery-codes');
      }
      c.session.codes = r.codes;
      c.flash('ok', 'New recovery codes: your old ones no longer work.');
      c.redirect('/recovery-codes/new');
    },
  }),
];
