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

// No script at all, styles from our own stylesheet only, forms posting to us only.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function headers(res: ServerResponse): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // Not 'no-referrer': with it, browsers send `Origin: null` on same-origin form posts, which
  // the origin check refuses. 'same-origin' still leaks nothing to other sites.
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', CSP);
}

export function send(res: ServerResponse, status: number, body: string, type = 'text/html; charset=utf-8'): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  headers(res);
  res.end(body);
}

/** 303 See Other: the browser follows with a GET (post/redirect/get). */
export function redirect(res: ServerResponse, to: string): void {
  res.statusCode = 303;
  res.setHeader('Location', to);
  headers(res);
  res.end();
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Adds a cookie (HttpOnly, SameSite=Lax always); `maxAgeS: 0` deletes it. */
export function setCookie(res: ServerResponse, name: string, value: string, o: { secure: boolean; maxAgeS?: number }): void {
  const c = `${name}=${value}; Path=/; HttpOnly; SameSite=Lax${o.maxAgeS === undefined ? '' : `; Max-Age=${o.maxAgeS}`}${o.secure ? '; Secure' : ''}`;
  const prev = res.getHeader('Set-Cookie');
  const list = Array.isArray(prev) ? prev.filter((p) => !p.startsWith(`${name}=`)) : [];
  res.setHeader('Set-Cookie', [...list, c]);
}

/**
 * Refuses cross-site POSTs outright (a foreign `Origin`, or `Sec-Fetch-Site: cross-site`) and
 * anything but a form; then reads the body, bounded.
 */
export async function readForm(req: IncomingMessage, limit: number): Promise<URLSearchParams> {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`)
    throw new HttpError(403, 'Cross-origin form posts are refused.');
  if (req.headers['sec-fetch-site'] === 'cross-site') throw new HttpError(403, 'Cross-site form posts are refused.');
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new HttpError(415, 'Forms only.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, 'Request too large.');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
