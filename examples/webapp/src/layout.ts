/**
 * The page shell (header and navigation, flash messages, footer), its stylesheet, and the form
 * parts pages share.
 * @module
 */
import { html, type Html } from './html.js';
import type { Flash } from './sessions.js';

/** What the shell shows around a page. */
export interface View {
  /** The CSRF token every form on the page posts back. */
  readonly csrf: string;
  readonly flash: readonly Flash[];
  /** Signed in (an administrator or not), second step pending, or signed out. */
  readonly who: { readonly username: string; readonly admin: boolean } | 'pending' | null;
  readonly storeName: string;
  /** The sealing key was made at start. */
  readonly demoKey: boolean;
}

export interface Page {
  readonly title: string;
  readonly body: Html;
}

/** The signed-in navigation: a new page is one more entry. */
const NAV: readonly { readonly href: string; readonly text: string; readonly admin?: true }[] = [
  { href: '/', text: 'Account' },
  { href: '/devices', text: 'Devices' },
  { href: '/recovery-codes', text: 'Recovery codes' },
  { href: '/admin', text: 'Admin', admin: true },
];

export const csrfField = (v: View): Html => html`<input type="hidden" name="csrf" value="${v.csrf}">`;

/** A form of hidden fields and one button. */
export const button = (v: View, action: string, text: string, id: string, fields: Record<string, string> = {}, cls = ''): Html =>
  html`<form method="post" action="${action}" id="${id}">${csrfField(v)}${Object.entries(fields).map(
    ([k, value]) => html`<input type="hidden" name="${k}" value="${value}">`,
  )}<button type="submit" class="${cls}">${text}</button></form>`;

/** The code field: an authenticator code, or (with `recovery`) a recovery code too. */
export const codeField = (id: string, recovery: boolean): Html =>
  html`<label for="${id}">Code from your authenticator app${recovery ? ', or a recovery code' : ''}</label>
<input type="text" class="code" id="${id}" name="code" autocomplete="one-time-code" spellcheck="false" maxlength="64" required autofocus>`;

export function layout(v: View, { title, body }: Page): string {
  const who = v.who;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · otpkit demo</title><link rel="stylesheet" href="/style.css"></head>
<body><header><a class="brand" href="/">otpkit demo</a>${
    who === null
      ? html`<span class="who"><a href="/login">Sign in</a> · <a href="/signup">Sign up</a></span>`
      : who === 'pending'
        ? html`<span class="who">Password accepted · second step pending</span>${button(v, '/logout', 'Cancel', 'logout')}`
        : html`<nav>${NAV.filter((n) => n.admin !== true || who.admin).map((n) => html`<a href="${n.href}">${n.text}</a>`)}</nav>
<span class="who" id="who">Signed in as <strong>${who.username}</strong></span>${button(v, '/logout', 'Sign out', 'logout')}`
  }</header>
${v.demoKey ? html`<div class="banner">Demo mode: secrets are sealed with a key made at start (no <code>OTPKIT_APP_KEY</code>); enrollments are lost on restart.</div>` : ''}
<main>${v.flash.map((f) => html`<div class="flash ${f.kind}" role="${f.kind === 'error' ? 'alert' : 'status'}">${f.text}</div>`)}
${body}</main>
<footer>otpkit state: <span id="store-name">${v.storeName}</span> store · users and sessions: this process's memory</footer>
</body></html>`.value;
}

/** Served as /style.css: the CSP allows no inline style. */
export const CSS = `*{box-sizing:border-box}
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:.7rem 1.5rem;display:flex;align-items:center;gap:1rem;flex-wrap:wrap}
header a{color:#fff} header .brand{font-weight:700;text-decoration:none} header nav{display:flex;gap:.9rem}
header .who{margin-left:auto;font-size:.9rem;opacity:.85} header form{margin:0}
header button{margin:0;padding:.25rem .7rem;background:transparent;border-color:#8891a5}
main,footer{max-width:46rem;margin:1.5rem auto;padding:0 1rem} footer{color:#5b6475;font-size:.8rem}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:1.2rem 1.5rem;margin-bottom:1rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem} h2{font-size:1.15rem}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}
input[type=text],input[type=password],input[type=search]{width:100%;max-width:22rem;padding:.5rem .6rem;font-size:1rem;border:1px solid #b9c0cc;border-radius:5px}
button{font:inherit;padding:.45rem 1rem;border-radius:5px;border:1px solid #2450b2;background:#2f62d6;color:#fff;cursor:pointer;margin-top:.7rem}
button.secondary{background:#fff;color:#2450b2} button.danger{background:#b3261e;border-color:#8c1d17}
.flash{padding:.7rem 1rem;border-radius:6px;margin-bottom:1rem;border:1px solid}
.flash.ok{background:#e7f6ec;border-color:#9bd3ad;color:#17522b} .flash.error{background:#fdecec;border-color:#efaaaa;color:#7d1717}
.flash.info{background:#eef3fd;border-color:#a9bfef;color:#1c3a7a}
.banner{background:#fff6db;border-bottom:1px solid #ecd58b;color:#5c4700;padding:.4rem 1.5rem;font-size:.85rem}
.setup{display:flex;gap:1.5rem;flex-wrap:wrap} .qr svg{display:block;border:1px solid #dde1e8}
code,input.code{font-family:ui-monospace,Menlo,Consolas,monospace} .key{font-size:1.15rem;background:#f4f5f7;padding:.3rem .5rem}
ol.codes{columns:2;font:1.05rem ui-monospace,Menlo,Consolas,monospace;background:#f4f5f7;padding:.8rem 1rem .8rem 2.5rem}
table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #dde1e8}
td form{display:flex;gap:.4rem;margin:0} td input[type=text]{max-width:11rem;padding:.25rem .4rem} td button{margin:0;padding:.25rem .6rem}
.muted{color:#5b6475;font-size:.9rem} .warn{color:#7d4a00}`;
