/**
 * HTML by tagged template (every interpolated value escaped unless it is already markup), the
 * page shell (header and navigation, flash messages, footer), its stylesheet, the form parts
 * every page builds on, and the messages users read.
 * @module
 */
import type { Flash } from './sessions.js';

/** Markup that is safe to emit as is. */
export class Html {
  constructor(readonly value: string) {}
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function fragment(v: unknown): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(fragment).join('');
  if (v === undefined || v === null || v === false) return '';
  return escapeHtml(String(v));
}

/** Literal parts are markup; every `${value}` is escaped (arrays are joined, `false`/`null` dropped). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += fragment(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Markup we trust as is: only otpkit's QR SVG (validated colours, no text content). */
export function trusted(markup: string): Html {
  return new Html(markup);
}

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
const NAV: readonly (readonly [href: string, text: string, admin?: true])[] = [
  ['/', 'Account'],
  ['/devices', 'Devices'],
  ['/trusted-devices', 'Remembered browsers'],
  ['/recovery-codes', 'Recovery codes'],
  ['/admin', 'Admin', true],
];

/** A page of one or more cards, the first with the page's title. */
export const page = (title: string, ...cards: readonly Html[]): Page => ({
  title,
  body: html`<div class="card">
      <h1>${title}</h1>
      ${cards[0]}
    </div>
    ${cards.slice(1).map((c) => html`<div class="card">${c}</div>`)}`,
});

type Attrs = Readonly<Record<string, string | number | boolean>>;

/** A labelled input; `true` attributes stand alone (`required`), `false` ones are left out. */
export const input = (label: string, a: Attrs & { readonly id: string }): Html => {
  const attrs = Object.entries<string | number | boolean>({ type: 'text', ...a }).map(([k, v]) =>
    v === true ? html` ${k}` : v === false ? '' : html` ${k}="${v}"`,
  );
  return html`<label for="${a.id}">${label}</label> <input${attrs} />`;
};

/** The field for a code: from an authenticator app, or whatever `label` says. */
export const codeField = (
  id: string,
  label = 'Code from your authenticator app, or a recovery code',
): Html =>
  input(label, {
    id,
    name: 'code',
    class: 'code',
    autocomplete: 'one-time-code',
    spellcheck: 'false',
    maxlength: 64,
    required: true,
    autofocus: true,
  });

/** A POST form with the CSRF token, hidden fields, visible ones, and its button. */
type FormParts = {
  readonly hidden?: Readonly<Record<string, string>>;
  readonly fields?: Html;
  readonly cls?: string;
  readonly after?: Html;
};
export const form = (
  v: View,
  action: string,
  id: string,
  submit: string,
  o: FormParts = {},
): Html =>
  html`<form method="post" action="${action}" id="${id}">
    <input type="hidden" name="csrf" value="${v.csrf}" />${Object.entries(o.hidden ?? {}).map(
      ([k, value]) => html`<input type="hidden" name="${k}" value="${value}" />`,
    )}${o.fields ?? ''}
    <div><button type="submit" class="${o.cls ?? ''}">${submit}</button>${o.after ?? ''}</div>
  </form>`;

export function layout(v: View, { title, body }: Page): string {
  const who = v.who;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>${title} · otpkit demo</title>
        <link rel="stylesheet" href="/style.css" />
      </head>
      <body>
        <header>
          <a class="brand" href="/">otpkit demo</a>${
            who === null
              ? html`<span class="who"
                  ><a href="/login">Sign in</a> · <a href="/signup">Sign up</a></span
                >`
              : who === 'pending'
                ? html`<span class="who">Password accepted · second step pending</span
                    >${form(v, '/logout', 'logout', 'Cancel')}`
                : html`<nav>
                      ${NAV.filter(([, , admin]) => admin !== true || who.admin).map(([href, text]) => html`<a href="${href}">${text}</a>`)}
                    </nav>
                    <span class="who" id="who">Signed in as <strong>${who.username}</strong></span
                    >${form(v, '/logout', 'logout', 'Sign out')}`
          }
        </header>
        ${v.demoKey ? html`<div class="banner">Demo mode: secrets are sealed with a key made at start (no <code>OTPKIT_APP_KEY</code>); enrollments are lost on restart.</div>` : ''}
        <main>
          ${v.flash.map((f) => html`<div class="flash ${f.kind}" role="${f.kind === 'error' ? 'alert' : 'status'}">${f.text}</div>`)}
          ${body}
        </main>
        <footer>
          otpkit state: <span id="store-name">${v.storeName}</span> store · users and sessions: this
          process's memory
        </footer>
      </body>
    </html>`.value;
}

// What users are told. Every refused code reads the same, whatever otpkit's reason: telling
// "wrong" from "already used" or "locked" helps a guesser more than a user. The reasons go to the
// audit log (otpkit's `onEvent`), never to the page.
export const CODE_FAILED = "That code didn't work. Try again, or use a recovery code.";
export const SETUP_CODE_FAILED =
  "That code didn't work. Try again with the code your app shows now.";

/** `1 second`, `30 seconds`: a wait, rounded up. */
export const seconds = (ms: number): string => {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return `${s} second${s === 1 ? '' : 's'}`;
};

/** The one message for a refused code; a throttled one says how long to wait. */
export function codeFailed(
  f: { readonly reason: string; readonly retryAfterMs?: number },
  base: string = CODE_FAILED,
): string {
  return f.retryAfterMs === undefined
    ? base
    : `${base} Wait ${seconds(f.retryAfterMs)} before trying again.`;
}

/** What a send of a code by email or SMS ended in: sent, refused by a cooldown or quota, or (`null`) failed at the provider. */
export function sent(
  r: { readonly ok: boolean; readonly retryAfterMs?: number } | null,
  hint: string,
): [Flash['kind'], string] {
  if (r?.ok === true) return ['ok', `We sent a code to ${hint}. Enter it here.`];
  if (r?.retryAfterMs !== undefined)
    return ['error', `Please wait ${seconds(r.retryAfterMs)} before asking for another code.`];
  return [
    'error',
    `We couldn't send a code to ${hint}. Please try again later, or sign in another way.`,
  ];
}

/** A timestamp as users read it here: `2031-06-01 09:00 UTC`. */
export function when(ms: number | null): string {
  return ms === null ? 'never' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Served as /style.css: the CSP allows no inline style. */
export const CSS = `*{box-sizing:border-box}
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:.7rem 1.5rem;display:flex;align-items:center;gap:1rem;flex-wrap:wrap}
header a{color:#fff} header .brand{font-weight:700;text-decoration:none} header nav{display:flex;gap:.9rem}
header .who{margin-left:auto;font-size:.9rem;opacity:.85} header form{margin:0} header form div{display:inline}
header button{margin:0;padding:.25rem .7rem;background:transparent;border-color:#8891a5}
main,footer{max-width:50rem;margin:1.5rem auto;padding:0 1rem} footer{color:#5b6475;font-size:.8rem}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:1.2rem 1.5rem;margin-bottom:1rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem} h2{font-size:1.15rem;margin-top:0}
label{display:block;font-weight:600;margin:.6rem 0 .2rem} label.check{font-weight:400}
input[type=text],input[type=password],input[type=search],input[type=email],input[type=tel]{width:100%;max-width:22rem;padding:.5rem .6rem;font-size:1rem;border:1px solid #b9c0cc;border-radius:5px}
button{font:inherit;padding:.45rem 1rem;border-radius:5px;border:1px solid #2450b2;background:#2f62d6;color:#fff;cursor:pointer;margin:.7rem .5rem 0 0}
button.secondary{background:#fff;color:#2450b2} button.danger{background:#b3261e;border-color:#8c1d17}
.flash{padding:.7rem 1rem;border-radius:6px;margin-bottom:1rem;border:1px solid}
.flash.ok{background:#e7f6ec;border-color:#9bd3ad;color:#17522b} .flash.error{background:#fdecec;border-color:#efaaaa;color:#7d1717}
.flash.info{background:#eef3fd;border-color:#a9bfef;color:#1c3a7a}
.banner{background:#fff6db;border-bottom:1px solid #ecd58b;color:#5c4700;padding:.4rem 1.5rem;font-size:.85rem}
.setup{display:flex;gap:1.5rem;flex-wrap:wrap} .qr svg{display:block;border:1px solid #dde1e8}
code,input.code{font-family:ui-monospace,Menlo,Consolas,monospace} .key{font-size:1.15rem;background:#f4f5f7;padding:.3rem .5rem}
ol.codes{columns:2;font:1.05rem ui-monospace,Menlo,Consolas,monospace;background:#f4f5f7;padding:.8rem 1rem .8rem 2.5rem}
table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #dde1e8}
td form,td form div{display:flex;gap:.4rem;margin:0} td input[type=text]{max-width:11rem;padding:.25rem .4rem} td button{margin:0;padding:.25rem .6rem}
.muted{color:#5b6475;font-size:.9rem} .warn{color:#7d4a00}`;
