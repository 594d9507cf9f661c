/** The administrator's page: a user's throttle state (`throttleStatus`) and `unlock` with `administrator`. @module */
import type { ThrottleStatus } from 'otpkit';
import { form, html, input, page, seconds } from '../layout.js';
import { get, post, type Route, type UserCtx } from '../router.js';

const SCOPES = { otp: 'Authenticator codes', recovery: 'Recovery codes' } as const;

const describe = (t: ThrottleStatus): string => {
  const n = `${t.failures} failure${t.failures === 1 ? '' : 's'}`;
  if (t.locked) return `locked after ${n}`;
  if (t.retryAfterMs > 0) return `${n}, next attempt in ${seconds(t.retryAfterMs)}`;
  return t.failures === 0 ? 'no failures' : n;
};

async function lookup(c: UserCtx, username: string) {
  const u = c.app.users.byName(username.trim().toLowerCase());
  if (u === undefined) return null;
  const [factors, otp, recovery] = await Promise.all([
    c.app.tf.listFactors(u.id),
    c.app.tf.throttleStatus(u.id, 'otp'),
    c.app.tf.throttleStatus(u.id, 'recovery'),
  ]);
  return { user: u, devices: factors.length, status: { otp, recovery } };
}

export const adminRoutes: readonly Route[] = [
  get('/admin', 'admin', async (c) => {
    const query = c.field('user', 64);
    const found = query === '' ? undefined : await lookup(c, query);
    c.render((v) =>
      page(
        'Administration',
        html`<form method="get" action="/admin" id="admin-lookup">
          ${input('Username', { id: 'admin-user', name: 'user', type: 'search', value: query, required: true })}
          <div><button type="submit">Look up</button></div>
        </form>`,
        ...(found === undefined
          ? []
          : found === null
            ? [html`<p id="admin-result">No user named “${query}”.</p>`]
            : [
                html`<div id="admin-result">
                  <h2>${found.user.username}</h2>
                  <p>
                    Two-factor authentication is
                    ${found.devices === 0 ? 'off' : `on, with ${found.devices} device${found.devices === 1 ? '' : 's'}`}.
                    The counts are those of browsers without a known-device cookie; each known
                    browser has its own.
                  </p>
                  <table>
                    <tbody>
                      ${(['otp', 'recovery'] as const).map(
                        (scope) =>
                          html`<tr id="throttle-${scope}">
                            <th>${SCOPES[scope]}</th>
                            <td class="status">${describe(found.status[scope])}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                  ${form(v, '/admin/unlock', 'unlock', 'Unlock (every browser)', { hidden: { user: found.user.username } })}
                </div>`,
              ]),
      ),
    );
  }),
  post('/admin/unlock', 'admin', async (c) => {
    const found = await lookup(c, c.field('user', 64));
    if (found !== null) {
      // No scope: every bucket of the user, the shared ones and those of known browsers.
      await c.app.tf.unlock(found.user.id, undefined, { administrator: c.user.username });
      c.flash('ok', `${found.user.username} is unlocked.`);
    }
    c.redirect(`/admin?user=${encodeURIComponent(c.field('user', 64))}`);
  }),
];
