/** HTML: the escaping template, form parts, the page shell, its stylesheet, messages. @module */
import type { Ctx } from './app.js';

export class Html {
  constructor(readonly value: string) {}
}
const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c] ?? '&#39;');
const text = (v: unknown): string => (v == null || v === false ? '' : escapeHtml(String(v)));
const part = (v: unknown): string =>
  v instanceof Html ? v.value : Array.isArray(v) ? v.map(part).join('') : text(v);
/** Literal parts are markup; every `${value}` is escaped (arrays joined, `null`/`false` dropped). */
export const h = (s: TemplateStringsArray, ...v: unknown[]): Html =>
  new Html(s.reduce((out, literal, i) => out + part(v[i - 1]) + literal));
export const input = (label: string, id: string, name: string, more?: Html, type = 'text'): Html =>
  h`<label for="${id}">${label}</label>
    <input type="${type}" id="${id}" name="${name}" required${more} />`;
export const hidden = (name: string, value: string): Html =>
  h`<input type="hidden" name="${name}" value="${value}" />`;
const CODE = h` class="code" autocomplete="one-time-code" maxlength="64" autofocus`;
export const codeField = (id: string, label = 'Code from your app, or a recovery code'): Html =>
  input(label, id, 'code', CODE);
export function form(c: Ctx, to: string, id: string, button: string, body?: Html, cls = ''): Html {
  return h`<form method="post" action="${to}" id="${id}">${hidden('csrf', c.csrf())}${body}
    <div><button type="submit" class="${cls}">${button}</button></div></form>`;
}
export type Notice = readonly [kind: 'ok' | 'error' | 'info', text: string];
/** The page around `body`, which starts with its `<h1>` (the page's title). */
export function layout(c: Ctx, notice: Notice | undefined, body: Html): string {
  const title = new Html(/<h1>(.*?)<\/h1>/s.exec(body.value)?.[1] ?? 'otpkit demo');
  const who = c.pending
    ? h`<span class="who">Password accepted · second step pending</span>${logout(c, 'Cancel')}`
    : c.user
      ? h`<nav><a href="/">Account</a>${c.user.admin && h` <a href="/admin">Admin</a>`}</nav>
        <span class="who" id="who">Signed in as <strong>${c.user.username}</strong></span>
        ${logout(c, 'Sign out')}`
      : h`<span class="who"><a href="/login">Sign in</a> · <a href="/signup">Sign up</a></span>`;
  const [kind, text] = notice ?? [];
  const role = kind === 'error' ? 'alert' : 'status';
  return h`<!doctype html>
<html lang="en"><head><meta charset="utf-8" />
<meta name="viewport" content="width=device-width,initial-scale=1" />
<title>${title} · otpkit demo</title><link rel="stylesheet" href="/style.css" /></head>
<body><header><a class="brand" href="/">otpkit demo</a>${who}</header>${c.demoKey && DEMO}
<main>${kind && h`<div class="flash ${kind}" role="${role}">${text}</div>`}
<div class="card">${body}</div></main><footer>otpkit state:
<span id="store-name">${c.storeName}</span> store · users and sessions: this process's memory
</footer></body></html>`.value;
}
const logout = (c: Ctx, button: string): Html => form(c, '/logout', 'logout', button);
const DEMO = h`<div class="banner">Demo mode: no <code>OTPKIT_APP_KEY</code>, so enrollments
  are lost on restart.</div>`;
// What users are told. Every refused code reads the same, whatever otpkit's reason: telling
// "wrong" from "already used" or "locked" helps a guesser more than a user. The reasons go to
// the audit log (otpkit's `onEvent`), never to the page.
export const FAILED = "That code didn't work. Try again, or use a recovery code.";
export const STEP_UP = 'Please confirm with a current code.';
type Refusal = { readonly ok: boolean; readonly retryAfterMs?: number };
/** The one message for a refused code; a throttled one says how long to wait. */
export const failed = (r: Refusal, base: string = FAILED): string =>
  r.retryAfterMs ? `${base} Wait ${seconds(r.retryAfterMs)} before trying again.` : base;
/** What a send ended in: sent, refused (a cooldown, a quota), or failed (`null`). */
export const sent = (r: Refusal | null, hint: string): Notice =>
  r?.ok === true
    ? ['ok', `We sent a code to ${hint}. Enter it here.`]
    : r?.retryAfterMs === undefined
      ? ['error', `We couldn't send a code to ${hint}. Please try again later.`]
      : ['error', `Please wait ${seconds(r.retryAfterMs)} before asking for another code.`];
export const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
export const seconds = (ms: number): string => plural(Math.max(1, Math.ceil(ms / 1000)), 'second');
export const when = (ms: number | null): string =>
  ms === null ? 'never' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Served as /style.css: the CSP allows no inline style. */
export const CSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;padding:.7rem 1.5rem;display:flex;gap:1rem;align-items:center} header *{color:#fff}
.who{margin-left:auto} header form,header div{display:inline} header button{margin:0;background:none}
main,footer{max-width:50rem;margin:1.5rem auto;padding:0 1rem} footer,.muted{color:#5b6475;font-size:.85rem}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:0 1.5rem 1rem} label{display:block}
input:not([type=checkbox]){width:100%;max-width:22rem;padding:.5rem;font-size:1rem} code{font-size:1.1rem}
button{font:inherit;padding:.4rem 1rem;border:1px solid #2450b2;background:#2f62d6;color:#fff;margin-top:.7rem}
.flash{padding:.7rem 1rem;margin-bottom:1rem;background:#e7f6ec} .flash.error{background:#fdecec}
.banner{background:#fff6db;padding:.4rem 1.5rem} button.secondary{background:#fff;color:#2450b2}
ol.codes{columns:2} td,th{text-align:left;padding:.4rem}`;
