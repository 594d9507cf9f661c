/** The administrator's page: a user's throttle state (`throttleStatus`) and `unlock` with `administrator`. @module */
import type { ThrottleStatus } from 'otpkit';
import { html } from '../html.js';
import { button } from '../layout.js';
import { get, post, type Route, type UserCtx } from '../router.js';

const SCOPES = { otp: 'Authenticator codes', recovery: 'Recovery codes' } as const;

const describe = (t: ThrottleStatus): string => {
  const n = `${t.failures} failure${t.failures === 1 ? '' : 's'}`;
  if (t.locked) return `locked after ${n}`;
  if (t.retryAfterMs > 0) return `${n}, next attempt in ${Math.ceil(t.retryAfterMs / 1000)} s`;
  return t.failures === 0 ? 'no failures' : n;
};

async function lookup(c: UserCtx, username: string) {
  const u = c.app.users.byName(username.trim().toLowerCase());
  if (u === undefined) return null;
  const [factors, otp, recovery] = await Promise.all([c.app.tf.listFactors(u.id), c.app.tf.throttleStatus(u.id, 'otp'), c.app.tf.throttleStatus(u.id, 'recovery')]);
  return { user: u, devices: factors.length, status: { otp, recovery } };
}

export const adminRoutes: readonly Route[] = [
  get('/admin', 'admin', async (c) => {
    const query = c.field('user', 64);
    const found = query === '' ? undefined : await lookup(c, query);
    c.render((v) => ({
      title: 'Administration',
      body: html`<div class="card"><h1>Administration</h1><form method="get" action="/admin" id="admin-lookup"><label for="admin-user">Username</label>
<input type="search" id="admin-user" name="user" value="${query}" required><div><button type="submit">Look up</button></div></form></div>${
        found === undefined
          ? ''
          : found === null
            ? html`<div class="card" id="admin-result">No user named “${query}”.</div>`
            : html`<div class="card" id="admin-result"><h2>${found.user.username}</h2>
<p>Two-factor authentication is ${found.devices === 0 ? 'off' : `on, with ${found.devices} device${found.devices === 1 ? '' : 's'}`}.</p>
<table><tbody>${(['otp', 'recovery'] as const).map(
                (scope) => html`<tr id="throttle-${scope}"><th>${SCOPES[scope]}</th><td class="status">${describe(found.status[scope])}</td>
<td>${found.status[scope].failures > 0 ? button(v, '/admin/unlock', 'Unlock', `unlock-${scope}`, { user: found.user.username, scope }) : ''}</td></tr>`,
              )}</tbody></table></div>`
      }`,
    }));
  }),
  post('/admin/unlock', 'admin', async (c) => {
    const found = await lookup(c, c.field('user', 64));
    const scope = c.field('scope') === 'recovery' ? 'recovery' : 'otp';
    if (found !== null) {
      await c.app.tf.unlock(found.user.id, scope, { administrator: c.user.username });
      c.flash('ok', `${SCOPES[scope]} of ${found.user.username} are unlocked.`);
    }
    c.redirect(`/admin?user=${encodeURIComponent(c.field('user', 64))}`);
  }),
];
