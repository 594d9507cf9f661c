/** Recovery codes: status (`recoveryCodeStatus`), a new set behind step-up (`regenerateRecoveryCodes`), shown once. @module */
import { html } from '../html.js';
import { when } from '../messages.js';
import { get, post, type Route } from '../router.js';
import { recoveryCodesPage } from './enrollment.js';
import { stepUp } from './stepup.js';

export const recoveryRoutes: readonly Route[] = [
  get('/recovery-codes', 'user', async (c) => {
    const s = await c.app.tf.recoveryCodeStatus(c.user.id);
    c.render(() => ({
      title: 'Recovery codes',
      body: html`<div class="card"><h1>Recovery codes</h1>${
        s === null
          ? html`<p id="recovery-status">You have no recovery codes: they come with your first device.</p>`
          : html`<p id="recovery-status">Recovery codes left: <strong>${s.remaining}</strong> of ${s.total}, issued ${when(s.issuedAt)}.</p>
<p>Used some, or worried someone saw them? A new set replaces every old code.</p><p><a href="/recovery-codes/regenerate" id="regenerate">Make new recovery codes</a></p>`
      }</div>`,
    }));
  }),
  get('/recovery-codes/new', 'user', (c) => {
    const codes = c.session.codes;
    if (codes === undefined) return c.redirect('/recovery-codes');
    c.render((v) => recoveryCodesPage(v, codes));
  }),
  post('/recovery-codes/saved', 'user', (c) => {
    c.session.codes = undefined;
    c.redirect('/');
  }),
  ...stepUp('/recovery-codes/regenerate', {
    page: async (c) =>
      (await c.app.tf.isEnabled(c.user.id))
        ? { title: 'New recovery codes', intro: 'A new set replaces the old one: every old code stops working.', button: 'Make new recovery codes' }
        : null,
    async perform(c, stepUpToken) {
      const r = await c.app.tf.regenerateRecoveryCodes({ userId: c.user.id, stepUpToken });
      if (!r.ok) {
        c.flash('error', r.reason === 'not-enabled' ? 'Two-factor authentication is off.' : 'Please confirm with a current code.');
        return c.redirect('/recovery-codes');
      }
      c.session.codes = r.codes;
      c.flash('ok', 'New recovery codes: your old ones no longer work.');
      c.redirect('/recovery-codes/new');
    },
  }),
];
