/** The devices page (`listFactors`: label, added, last used), rename, and add or remove behind step-up. @module */
import type { Factor } from 'otpkit';
import { html } from '../html.js';
import { csrfField, type Page, type View } from '../layout.js';
import { when } from '../messages.js';
import { get, post, type Route } from '../router.js';
import { BAD_LABEL, beginSetup, deviceLabel } from './enrollment.js';
import { stepUp } from './stepup.js';

const devicesPage = (v: View, factors: readonly Factor[]): Page => ({
  title: 'Devices',
  body: html`<div class="card"><h1>Devices</h1>${
    factors.length === 0
      ? html`<p>No devices: two-factor authentication is off. <a href="/">Turn it on</a>.</p>`
      : html`<table id="devices"><thead><tr><th>Name</th><th>Added</th><th>Last used</th><th></th></tr></thead><tbody>${factors.map(
          (f, i) => html`<tr id="device-${i}"><td><form method="post" action="/devices/rename">${csrfField(v)}<input type="hidden" name="id" value="${f.id}">
<input type="text" name="label" value="${f.label}" maxlength="64" required aria-label="Name"><button type="submit" class="secondary">Rename</button></form></td>
<td>${when(f.confirmedAt ?? f.createdAt)}</td><td class="last-used">${when(f.lastUsedAt)}</td>
<td><a href="/devices/remove?id=${encodeURIComponent(f.id)}" class="remove">Remove</a></td></tr>`,
        )}</tbody></table>
<p><a href="/devices/add" id="add-device">Add a device</a> (a second phone, a tablet, a password manager): any of them signs you in.</p>`
  }</div>`,
});

export const deviceRoutes: readonly Route[] = [
  get('/devices', 'user', async (c) => {
    const factors = await c.app.tf.listFactors(c.user.id);
    c.render((v) => devicesPage(v, factors));
  }),
  post('/devices/rename', 'user', async (c) => {
    const label = deviceLabel(c.field('label'));
    if (label === null) c.flash('error', BAD_LABEL);
    else if (await c.app.tf.renameFactor({ userId: c.user.id, factorId: c.field('id'), label })) c.flash('ok', `Renamed to “${label}”.`);
    else c.flash('error', 'No such device.');
    c.redirect('/devices');
  }),
  ...stepUp('/devices/add', {
    page: async (c) =>
      (await c.app.tf.isEnabled(c.user.id))
        ? {
            title: 'Add a device',
            intro: 'Set up another authenticator app: a code from any of your devices will sign you in.',
            button: 'Continue',
            fields: html`<label for="add-label">Name of the new device</label>
<input type="text" id="add-label" name="label" value="Second device" maxlength="64" required>`,
          }
        : null,
    check: (c) => (deviceLabel(c.field('label')) === null ? BAD_LABEL : null),
    perform: (c, token) => beginSetup(c, deviceLabel(c.field('label')) as string, token),
  }),
  ...stepUp('/devices/remove', {
    carry: 'id',
    page: async (c) => {
      const f = (await c.app.tf.listFactors(c.user.id)).find((x) => x.id === c.field('id'));
      const intro = 'Its codes stop working at once. If it is your last device, two-factor authentication turns off.';
      return f === undefined ? null : { title: `Remove “${f.label}”`, intro, button: 'Remove device', danger: true };
    },
    async perform(c, stepUpToken) {
      const r = await c.app.tf.removeFactor({ userId: c.user.id, factorId: c.field('id'), stepUpToken });
      if (r.ok) c.flash('ok', r.disabled ? 'Device removed. It was your last one: two-factor authentication is off.' : 'Device removed.');
      else c.flash('error', r.reason === 'not-found' ? 'No such device.' : 'Please confirm with a current code.');
      c.redirect(r.ok && r.disabled ? '/' : '/devices');
    },
  }),
];
