/**
 * The node:http edge: security headers, responses, cookies, form bodies, and the origin check
 * every POST passes before its CSRF token is even read.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An answer other than a page: its status and a plain-text body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  // Not 'no-referrer': with it, browsers send `Origin: null` on same-origin form posts, which
  // the origin check refuses. 'same-origin' still leaks nothing to other sites.
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  // No script at all, styles from our own stylesheet only, forms posting to us only.
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

export function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/html; charset=utf-8',
): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
  res.end(body);
}

/** 303 See Other: the browser follows with a GET (post/redirect/get). */
export function redirect(res: ServerResponse, to: string): void {
  res.setHeader('Location', to);
  send(res, 303, '');
}

/**
 * The app's cookies, all `HttpOnly; SameSite=Lax; Path=/`, and with `secure` (behind HTTPS)
 * `Secure` and the `__Host-` prefix: sent over HTTPS only, to this host only, set by no sub-domain.
 */
export class Cookies {
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly secure: boolean,
  ) {}

  private name(key: string): string {
    return `${this.secure ? '__Host-' : ''}otpkit_demo_${key}`;
  }

  get(key: string): string | undefined {
    const name = this.name(key);
    for (const part of (this.req.headers.cookie ?? '').split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
    return undefined;
  }

  /** Sets a cookie (for the browser session without `maxAgeS`); `maxAgeS: 0` deletes it. */
  set(key: string, value: string, maxAgeS?: number): void {
    const name = this.name(key);
    const c = `${name}=${value}; Path=/; HttpOnly; SameSite=Lax${maxAgeS === undefined ? '' : `; Max-Age=${Math.max(0, Math.floor(maxAgeS))}`}${this.secure ? '; Secure' : ''}`;
    const prev = this.res.getHeader('Set-Cookie');
    this.res.setHeader('Set-Cookie', [
      ...(Array.isArray(prev) ? prev.filter((p) => !p.startsWith(`${name}=`)) : []),
      c,
    ]);
  }
}

/**
 * Refuses cross-site POSTs outright (a foreign `Origin`, or `Sec-Fetch-Site: cross-site`) and
 * anything but a form; then reads the body, bounded.
 */
export async function readForm(req: IncomingMessage, limit: number): Promise<URLSearchParams> {
  const origin = req.headers.origin;
  if (
    origin !== undefined &&
    origin !== `http://${req.headers.host}` &&
    origin !== `https://${req.headers.host}`
  )
    throw new HttpError(403, 'Cross-origin form posts are refused.');
  if (req.headers['sec-fetch-site'] === 'cross-site')
    throw new HttpError(403, 'Cross-site form posts are refused.');
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new HttpError(415, 'Forms only.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if ((size += chunk.length) > limit) throw new HttpError(413, 'Request too large.');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
