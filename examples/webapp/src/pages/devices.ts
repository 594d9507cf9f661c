/**
 * The devices page (`listFactors`: name, kind, added, last used), rename, and, behind step-up,
 * adding an authenticator app, an email address or a phone number, and removing any of them.
 * @module
 */
import { destinationProblem, type Factor } from 'otpkit';
import { form, html, input, page, type View, when } from '../layout.js';
import { get, post, type Route, type UserCtx } from '../router.js';
import { BAD_LABEL, beginSetup, labelOf } from './enrollment.js';
import { stepUp } from './stepup.js';

const KIND_NAMES: Readonly<Record<Factor['type'], string>> = {
  totp: 'Authenticator app',
  hotp: 'Authenticator app (counter)',
  email: 'Email',
  sms: 'Text message',
};

/** What may be added: an authenticator app always, email and SMS when the app can send them. */
const ADD = {
  totp: {
    what: 'an authenticator app',
    label: 'Second device',
    intro: 'Set up another authenticator app: a code from any of your devices will sign you in.',
  },
  email: {
    what: 'an email address',
    label: 'Email',
    intro: 'We send a code to this address now, and when you ask for one at sign-in.',
    input: ['Email address', 'email'],
  },
  sms: {
    what: 'a phone number',
    label: 'Phone',
    intro:
      'We text a code to this number now, and when you ask for one at sign-in. Text messages are the weakest way in (they can be redirected): keep an authenticator app as your first.',
    input: ['Mobile number, with country code (+1 555 123 4567)', 'tel'],
  },
} as const;
type Kind = keyof typeof ADD;

const kindOf = (c: UserCtx): Kind | undefined => {
  const k = c.field('kind') || 'totp';
  return Object.hasOwn(ADD, k) && (k === 'totp' || c.app.channels.includes(k as 'email' | 'sms'))
    ? (k as Kind)
    : undefined;
};
/** The address or number as otpkit takes it (no spaces or dashes in a number), or `null`. */
const destinationOf = (c: UserCtx, kind: 'email' | 'sms'): string | null => {
  const d =
    kind === 'sms'
      ? c.field('destination').replace(/[\s().-]/g, '')
      : c.field('destination').trim();
  // Checked before a step-up code is spent on a typo.
  return destinationProblem(kind, d) === undefined ? d : null;
};

const devicesPage = (v: View, c: UserCtx, factors: readonly Factor[]) =>
  page(
    'Devices',
    factors.length === 0
      ? html`<p>No devices: two-factor authentication is off. <a href="/">Turn it on</a>.</p>`
      : html`<table id="devices">
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>Added</th>
                <th>Last used</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${factors.map(
                (f, i) =>
                  html`<tr id="device-${i}">
                    <td>
                      ${form(v, '/devices/rename', `rename-${i}`, 'Rename', {
                        hidden: { id: f.id },
                        fields: html`<input
                          type="text"
                          name="label"
                          value="${f.label}"
                          maxlength="64"
                          required
                          aria-label="Name"
                        />`,
                        cls: 'secondary',
                      })}
                    </td>
                    <td>${KIND_NAMES[f.type]}</td>
                    <td>${when(f.confirmedAt ?? f.createdAt)}</td>
                    <td class="last-used">${when(f.lastUsedAt)}</td>
                    <td>
                      <a href="/devices/remove?id=${encodeURIComponent(f.id)}" class="remove"
                        >Remove</a
                      >
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>
          <p>
            Add
            ${(['totp', ...c.app.channels] as const).map((k, i, all) => html`${i === 0 ? '' : i === all.length - 1 ? ' or ' : ', '}<a href="/devices/add?kind=${k}" id="add-${k}">${ADD[k].what}</a>`)}:
            any of them signs you in.
          </p>`,
  );

export const deviceRoutes: readonly Route[] = [
  get('/devices', 'user', async (c) => {
    const factors = await c.app.tf.listFactors(c.user.id);
    c.render((v) => devicesPage(v, c, factors));
  }),
  post('/devices/rename', 'user', async (c) => {
    const label = labelOf(c.field('label'));
    if (label === null) c.flash('error', BAD_LABEL);
    else if (await c.app.tf.renameFactor({ userId: c.user.id, factorId: c.field('id'), label }))
      c.flash('ok', `Renamed to “${label}”.`);
    else c.flash('error', 'No such device.');
    c.redirect('/devices');
  }),
  ...stepUp('/devices/add', {
    carry: 'kind',
    async page(c) {
      const kind = kindOf(c);
      if (kind === undefined || !(await c.app.tf.isEnabled(c.user.id))) return null;
      const a = ADD[kind];
      const fields = html`${input('Name', { id: 'add-label', name: 'label', value: a.label, maxlength: 64, required: true })}${
        'input' in a
          ? input(a.input[0], {
              id: 'add-destination',
              name: 'destination',
              type: a.input[1],
              maxlength: 240,
              required: true,
            })
          : ''
      }`;
      return { title: `Add ${a.what}`, intro: a.intro, button: 'Continue', fields };
    },
    check(c) {
      const kind = kindOf(c);
      if (kind === undefined || labelOf(c.field('label')) === null) return BAD_LABEL;
      return kind === 'totp' || destinationOf(c, kind) !== null
        ? null
        : kind === 'sms'
          ? 'Enter a mobile number with its country code, e.g. +1 555 123 4567.'
          : 'Enter an email address.';
    },
    perform(c, token) {
      const kind = kindOf(c) as Kind;
      const to =
        kind === 'totp' ? undefined : { type: kind, destination: destinationOf(c, kind) as string };
      return beginSetup(c, labelOf(c.field('label')) as string, to, token);
    },
  }),
  ...stepUp('/devices/remove', {
    carry: 'id',
    async page(c) {
      const f = (await c.app.tf.listFactors(c.user.id)).find((x) => x.id === c.field('id'));
      const intro =
        'Its codes stop working at once, and every remembered browser asks for a code again. If it is your last device, two-factor authentication turns off.';
      return f === undefined
        ? null
        : { title: `Remove “${f.label}”`, intro, button: 'Remove device', danger: true };
    },
    async perform(c, stepUpToken) {
      const r = await c.app.tf.removeFactor({
        userId: c.user.id,
        factorId: c.field('id'),
        stepUpToken,
      });
      if (r.ok)
        c.flash(
          'ok',
          r.disabled
            ? 'Device removed. It was your last one: two-factor authentication is off.'
            : 'Device removed.',
        );
      else
        c.flash(
          'error',
          r.reason === 'not-found' ? 'No such device.' : 'Please confirm with a current code.',
        );
      c.redirect(r.ok && r.disabled ? '/' : '/devices');
    },
  }),
];
