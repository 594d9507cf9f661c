/** HTML: an escaping tagged template, form parts, the page shell and its stylesheet, messages. @module */
import type { Ctx } from './app.js';

/** Markup that is safe to emit as is. */
export class Html {
  constructor(readonly value: string) {}
}
const ESC: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
};
/** Escapes text for element content and quoted attribute values (`'` too). */
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c] ?? '&#39;');
const text = (v: unknown): string => (v == null || v === false ? '' : escapeHtml(String(v)));
const part = (v: unknown): string =>
  v instanceof Html ? v.value : Array.isArray(v) ? v.map(part).join('') : text(v);
/** Literal parts are markup; every `${value}` is escaped (arrays joined, `null`/`false` dropped). */
export const h = (s: TemplateStringsArray, ...v: unknown[]): Html =>
  new Html(s.reduce((out, literal, i) => out + part(v[i - 1]) + literal));

/** A labelled input; `more` is more attributes, as markup. */
export const input = (label: string, id: string, name: string, more?: Html, type = 'text'): Html =>
  h`<label for="${id}">${label}</label> <input type="${type}" id="${id}" name="${name}"${more} />`;
export const hidden = (name: string, value: string): Html =>
  h`<input type="hidden" name="${name}" value="${value}" />`;
const CODE = h` class="code" autocomplete="one-time-code" spellcheck="false" maxlength="64"
  required autofocus`;
/** The field for a code from an authenticator app, an email, or a recovery code. */
export const codeField = (id: string, label?: string): Html =>
  input(label ?? 'Code from your authenticator app, or a recovery code', id, 'code', CODE);
/** A POST form `#id` with the page's CSRF token; `cls` styles its button. */
export const form = (
  c: Ctx,
  to: string,
  id: string,
  button: string,
  fields?: Html,
  cls?: string,
): Html =>
  h`<form method="post" action="${to}" id="${id}">${hidden('csrf', c.csrf)}${fields}
  <div><button type="submit" class="${cls}">${button}</button></div></form>`;

export interface Flash {
  readonly kind: 'ok' | 'error' | 'info';
  readonly text: string;
}
/** A notice as handlers give it: `['error', "That code didn't work."]`. */
export type Notice = readonly [kind: Flash['kind'], text: string];

/** The whole page around `body`, which starts with its `<h1>` (the page's title). */
export function layout(c: Ctx, flash: Flash | undefined, body: Html): string {
  const [store, name] = [c.storeName, c.user?.username];
  const title = new Html(/<h1>(.*?)<\/h1>/s.exec(body.value)?.[1] ?? 'otpkit demo');
  const nav = c.user?.admin === true ? h`${NAV} <a href="/admin">Admin</a>` : NAV;
  const who =
    c.pending !== null
      ? h`<span class="who">Password accepted · second step pending</span>${logout(c, 'Cancel')}`
      : c.user === undefined
        ? h`<span class="who"><a href="/login">Sign in</a> · <a href="/signup">Sign up</a></span>`
        : h`<nav>${nav}</nav><span class="who" id="who">Signed in as <strong>${name}</strong></span>
          ${logout(c, 'Sign out')}`;
  return h`<!doctype html>
<html lang="en"><head><meta charset="utf-8" />
<meta name="viewport" content="width=device-width,initial-scale=1" />
<title>${title} · otpkit demo</title><link rel="stylesheet" href="/style.css" /></head>
<body><header><a class="brand" href="/">otpkit demo</a>${who}</header>${c.demoKey && DEMO}
<main>${flash && h`<div class="flash ${flash.kind}" role="${ROLE[flash.kind]}">${flash.text}</div>`}
<div class="card">${body}</div></main><footer>otpkit state: <span id="store-name">${store}</span>
store · users and sessions: this process's memory</footer></body></html>`.value;
}
const NAV = h`<a href="/">Account</a>`; // devices, recovery codes and browsers are on it
const logout = (c: Ctx, button: string): Html => form(c, '/logout', 'logout', button);
const ROLE = { ok: 'status', info: 'status', error: 'alert' } as const;
const DEMO = h`<div class="banner">Demo mode: secrets are sealed with a key made at start (no
  <code>OTPKIT_APP_KEY</code>); enrollments are lost on restart.</div>`;

// What users are told. Every refused code reads the same, whatever otpkit's reason: telling
// "wrong" from "already used" or "locked" helps a guesser more than a user. The reasons go to
// the audit log (otpkit's `onEvent`), never to the page.
export const FAILED = "That code didn't work. Try again, or use a recovery code.";
export const STEP_UP = 'Please confirm with a current code.';
export const seconds = (ms: number): string => plural(Math.max(1, Math.ceil(ms / 1000)), 'second');
type Refusal = { readonly ok: boolean; readonly retryAfterMs?: number };
/** The one message for a refused code; a throttled one says how long to wait. */
export const failed = (r: Refusal, base: string = FAILED): string => {
  const wait =
    r.retryAfterMs === undefined ? '' : ` Wait ${seconds(r.retryAfterMs)} before trying again.`;
  return base + wait;
};
/** What a send ended in: sent, refused by the cooldown or a quota, or (`null`) failed. */
export const sent = (r: Refusal | null, hint: string): Notice =>
  r?.ok === true
    ? ['ok', `We sent a code to ${hint}. Enter it here.`]
    : r?.retryAfterMs === undefined
      ? ['error', `We couldn't send a code to ${hint}. Please try again later.`]
      : ['error', `Please wait ${seconds(r.retryAfterMs)} before asking for another code.`];
/** A timestamp as users read it here: `2031-06-01 09:00 UTC`. */
export const when = (ms: number | null): string =>
  ms === null ? 'never' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
export const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Served as /style.css: the CSP allows no inline style. */
export const CSS = `*{box-sizing:border-box} body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:.7rem 1.5rem;display:flex;align-items:center;gap:1rem;flex-wrap:wrap}
header a{color:#fff} header .brand{font-weight:700;text-decoration:none} header nav{display:flex;gap:.9rem}
header .who{margin-left:auto;font-size:.9rem;opacity:.85} header form,header form div{margin:0;display:inline}
header button{margin:0;padding:.25rem .7rem;background:transparent;border-color:#8891a5}
main,footer{max-width:50rem;margin:1.5rem auto;padding:0 1rem} footer{color:#5b6475;font-size:.8rem}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:1.2rem 1.5rem;margin-bottom:1rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem} h2{font-size:1.15rem} label{display:block;font-weight:600;margin:.6rem 0 .2rem}
input:not([type=checkbox]){width:100%;max-width:22rem;padding:.5rem .6rem;font-size:1rem;border:1px solid #b9c0cc;border-radius:5px}
button{font:inherit;padding:.45rem 1rem;border-radius:5px;border:1px solid #2450b2;background:#2f62d6;color:#fff;margin:.7rem .5rem 0 0}
button.secondary{background:#fff;color:#2450b2} button.danger{background:#b3261e;border-color:#8c1d17}
.flash{padding:.7rem 1rem;border-radius:6px;margin-bottom:1rem;border:1px solid;background:#eef3fd;color:#1c3a7a}
.flash.ok{background:#e7f6ec;color:#17522b} .flash.error{background:#fdecec;color:#7d1717} label.check{font-weight:400}
.banner{background:#fff6db;color:#5c4700;padding:.4rem 1.5rem;font-size:.85rem} .muted{color:#5b6475;font-size:.9rem}
.setup{display:flex;gap:1.5rem;flex-wrap:wrap} .qr svg{display:block;border:1px solid #dde1e8}
code,.code{font-family:ui-monospace,monospace} .key{font-size:1.15rem;background:#f4f5f7;padding:.3rem .5rem}
ol.codes{columns:2;font:1.05rem ui-monospace,monospace;background:#f4f5f7;padding:.8rem 1rem .8rem 2.5rem}
table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #dde1e8}`;
