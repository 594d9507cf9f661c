/**
 * HTML strings: a tagged template that escapes every value (only `raw()` markup, such as
 * otpkit's QR SVG, goes in as it is), and the page shell.
 * @module
 */

/** Markup that is inserted unescaped. */
export class Raw {
  constructor(readonly markup: string) {}
}
export const raw = (markup: string): Raw => new Raw(markup);

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escape = (v: unknown): string =>
  v instanceof Raw ? v.markup : String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

/** `html\`<p>${text}</p>\``: values are escaped, arrays joined, `Raw` kept. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += (Array.isArray(v) ? v.map(escape).join('') : escape(v)) + (strings[i + 1] ?? '');
  });
  return new Raw(out);
}

export const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
header{display:flex;gap:1rem;align-items:baseline;border-bottom:1px solid #ddd;margin-bottom:1rem}
header a{font-weight:600;color:inherit;text-decoration:none}
label{display:block;margin:.5rem 0}input{font:inherit;padding:.3rem;width:16rem}
button{font:inherit;padding:.3rem .8rem;margin:.5rem 0}
#flash{padding:.5rem .8rem;background:#eef6ee;border-left:4px solid #393}#flash.error{background:#fbeeee;border-color:#c33}
#manual-key,#recovery-codes code{font-family:ui-monospace,monospace;font-size:1.1rem;letter-spacing:.05em}
footer{margin-top:3rem;color:#777;font-size:.85rem}`;

/** The page shell. `notice` is shown in `#flash`; `error: true` styles it as a refusal. */
export function layout(
  title: string,
  body: Raw,
  options: { notice?: string | undefined; error?: boolean; signedIn?: boolean } = {},
): string {
  const flash =
    options.notice === undefined
      ? ''
      : html`<p id="flash" class="${options.error === true ? 'error' : ''}" role="status">
          ${options.notice}
        </p>`;
  const nav =
    options.signedIn === true
      ? html`<form method="post" action="/logout"><button id="logout">Sign out</button></form>`
      : '';
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>${title} · otpkit on Workers</title>
        <link rel="stylesheet" href="/style.css" />
      </head>
      <body>
        <header><a href="/">otpkit on Workers</a>${nav}</header>
        <main>
          <h1>${title}</h1>
          ${flash}${body}
        </main>
        <footer>A Cloudflare Worker on D1 · otpkit</footer>
      </body>
    </html>`.markup;
}
