/**
 * Sessions in signed cookies: `base64url(JSON).base64url(HMAC-SHA-256)`. A Worker keeps no memory
 * between requests (isolates come and go, one per location), so the session travels with the
 * browser and costs no storage read. The price: a cookie cannot be revoked before it expires, so
 * sessions are short, and a pending one lives exactly as long as its otpkit challenge, which is
 * single use whatever the cookie says.
 * @module
 */

/** Signed in, or past the password and waiting for the second factor. */
export type Session =
  | { readonly kind: 'in'; readonly uid: string; readonly name: string; readonly exp: number }
  | {
      readonly kind: 'pending';
      readonly uid: string;
      readonly name: string;
      readonly challengeId: string;
      readonly exp: number;
    };

/** How long a signed-in session lasts (absolute, not idle). */
export const SESSION_TTL_MS: number = 12 * 3_600_000;

const b64url = (b: Uint8Array): string =>
  btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const unb64url = (s: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

/** The HMAC key of the cookies. */
export function sessionKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

export async function sealSession(key: CryptoKey, session: Session): Promise<string> {
  const body = b64url(new TextEncoder().encode(JSON.stringify(session)));
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(body)));
  return `${body}.${b64url(mac)}`;
}

/** The session of a cookie value, or `null` if it is missing, forged or expired. */
export async function openSession(
  key: CryptoKey,
  value: string | undefined,
  now: number,
): Promise<Session | null> {
  const m = /^([A-Za-z0-9_-]{1,2048})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
  if (m === null) return null;
  const [, body = '', mac = ''] = m;
  // crypto.subtle.verify compares in constant time.
  if (!(await crypto.subtle.verify('HMAC', key, unb64url(mac), new TextEncoder().encode(body))))
    return null;
  const s = JSON.parse(new TextDecoder().decode(unb64url(body))) as Session;
  return s.exp > now ? s : null;
}

/** The cookies of a request, by name. */
export function readCookies(request: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

/** A `Set-Cookie` value: HttpOnly and SameSite=Lax always, Secure on HTTPS. `maxAgeMs: 0` deletes. */
export function cookie(name: string, value: string, maxAgeMs: number, secure: boolean): string {
  const age = Math.max(0, Math.round(maxAgeMs / 1000));
  return `${name}=${value}; Path=/; Max-Age=${age}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
