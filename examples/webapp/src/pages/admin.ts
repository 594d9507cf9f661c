/** The administrator's page: a user's throttle state, and `unlock` with `administrator`. @module */
import type { ThrottleStatus } from 'otpkit';
import type { Routes } from '../app.js';
import { form, h, hidden, input, plural, seconds } from '../html.js';

const describe = (t: ThrottleStatus): string => {
  const n = plural(t.failures, 'failure');
  if (t.locked) return `locked after ${n}`;
  if (t.retryAfterMs > 0) return `${n}, next attempt in ${seconds(t.retryAfterMs)}`;
  return t.failures === 0 ? 'no failures' : n;
};

export const adminRoutes: Routes = {
  'admin GET /admin': async (c) => {
    const [query, u] = [c.field('user'), c.users.byName(c.field('user'))];
    const name = input('Username', 'admin-user', 'user', h` value="${query}"`, 'search');
    const lookup = h`<h1>Administration</h1><form method="get" action="/admin" id="admin-lookup">
      ${name}<div><button type="submit">Look up</button></div></form>`;
    const none = query && h`<p id="admin-result">No user named “${query}”.</p>`;
    if (!u) return c.render(h`${lookup}${none}`);
    const n = (await c.tf.listFactors(u.id)).length;
    const otp = await c.tf.throttleStatus(u.id, 'otp');
    const recovery = await c.tf.throttleStatus(u.id, 'recovery');
    const who = hidden('user', u.username);
    c.render(h`${lookup}<div id="admin-result"><h2>${u.username}</h2><p>Two-factor authentication
      is ${n === 0 ? 'off' : `on, with ${plural(n, 'device')}`}. The counts are those of browsers
      without a known-device cookie; each known browser has its own.</p><table>
      <tr id="throttle-otp"><th>Authenticator codes</th><td class="status">${describe(otp)}</td></tr>
      <tr id="throttle-recovery"><th>Recovery codes</th><td class="status">${describe(recovery)}</td>
      </tr></table>${form(c, '/admin/unlock', 'unlock', 'Unlock (every browser)', who)}</div>`);
  },
  'admin POST /admin/unlock': async (c) => {
    const u = c.users.byName(c.field('user'));
    if (!u) return c.redirect('/admin');
    // No scope: every bucket of the user, the shared ones and those of known browsers.
    await c.tf.unlock(u.id, undefined, { administrator: c.user.username });
    c.redirect(`/admin?user=${encodeURIComponent(u.username)}`, 'ok', `${u.username} is unlocked.`);
  },
};
