/**
 * HTML by tagged template: every interpolated value is escaped unless it is already markup.
 * @module
 */

/** Markup that is safe to emit as is. */
export class Html {
  constructor(readonly value: string) {}
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

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
