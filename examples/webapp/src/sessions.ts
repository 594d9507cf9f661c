/**
 * Who the browser is: its cookies, and signed-in sessions in memory, in a bounded pool that evicts
 * no one. A pending sign-in and notices are sealed cookies and CSRF tokens are HMACs: a request
 * without a session stores nothing.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Flash } from './html.js';

/** A request's cookies; `set` without `maxAgeS` lasts the browser session, `0` deletes. */
export type Jar = {
  get(key: string): string | undefined;
  set(k: string, v: string, maxAgeS?: number): void;
};
/** Cookies `HttpOnly; SameSite=Lax; Path=/`; `secure` (behind HTTPS) adds `Secure` and `__Host-`. */
export function cookieJar(req: IncomingMessage, res: ServerResponse, secure: boolean): Jar {
  const name = (key: string): string => `${secure ? '__Host-' : ''}otpkit_demo_${key}`;
  const pairs = (req.headers.cookie ?? '').split(/;\s*/).map((p) => p.split('=', 2));
  const got = new Map(pairs as [string, string][]);
  const out = new Map<string, string>();
  return {
    get: (key) => got.get(name(key)),
    set(key, value, maxAgeS) {
      const age = maxAgeS === undefined ? '' : `; Max-Age=${Math.max(0, Math.floor(maxAgeS))}`;
      const attrs = `Path=/; HttpOnly; SameSite=Lax${age}${secure ? '; Secure' : ''}`;
      out.set(key, `${name(key)}=${value}; ${attrs}`);
      res.setHeader('Set-Cookie', [...out.values()]);
    },
  };
}

/** Password right, second factor pending: it grants the code form and nothing else. */
export interface Pending {
  readonly userId: string;
  readonly challengeId: string;
  readonly expiresAt: number;
  /** The email factors a code may be sent to: never an address, only its hint. */
  readonly emails: readonly { readonly id: string; readonly hint: string }[];
}
export interface UserSession {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  seenAt: number;
  /** A factor being set up: its id (otpkit shows its key again); for email, where its code went. */
  setup?: { readonly factorId: string; readonly label: string; readonly hint?: string } | undefined;
  /** Recovery codes, shown until the user says they saved them. */
  codes?: readonly string[] | undefined;
}

type Ended = 'session' | 'pending';
const IDLE_MS = 30 * 60_000;
const MAX_AGE_MS = 12 * 3_600_000;
const PER_USER = 20; // beyond this, a user's own oldest session makes room for the new one
const token = (): string => randomBytes(32).toString('base64url');
const same = (a: string, b: string): boolean => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
};

export class Sessions {
  private readonly all = new Map<string, UserSession>();
  private readonly key = randomBytes(32);
  constructor(
    private readonly now: () => number,
    private readonly limit = 50_000,
  ) {}

  private mac = (s: string): string => createHmac('sha256', this.key).update(s).digest('base64url');
  /** A cookie value holding `value` that only this process could have made. */
  private seal(value: unknown): string {
    const body = Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${body}.${this.mac(`sealed:${body}`)}`;
  }
  private open<T>(sealed = ''): T | undefined {
    const [body = '', mac = ''] = sealed.split('.');
    if (!same(this.mac(`sealed:${body}`), mac)) return undefined;
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
  }
  private dead = (s: UserSession, now = this.now()): boolean =>
    now - s.seenAt > IDLE_MS || now - s.createdAt > MAX_AGE_MS;
  private add(jar: Jar, s: UserSession): UserSession {
    this.all.set(s.id, s);
    jar.set('sid', s.id);
    return s;
  }

  /** The live session or pending sign-in; `ended` if the cookie names one that just ended. */
  load(jar: Jar): { session: UserSession | null; pending: Pending | null; ended: Ended | null } {
    const now = this.now();
    const s = this.all.get(jar.get('sid') ?? '');
    if (s !== undefined && !this.dead(s, now)) {
      s.seenAt = now;
      return { session: s, pending: null, ended: null };
    }
    if (s !== undefined) this.all.delete(s.id); // a dead one stays until met, or the pool is full
    if (jar.get('sid') !== undefined) jar.set('sid', '', 0); // unknown or dead: forgotten
    const p = this.open<Pending>(jar.get('pending'));
    if (p !== undefined && p.expiresAt > now) return { session: null, pending: p, ended: null };
    if (jar.get('pending') !== undefined) jar.set('pending', '', 0);
    return { session: null, pending: null, ended: s ? 'session' : p ? 'pending' : null };
  }

  /** A new session (a new id: no fixation) in place of the browser's; `null` if the pool is full. */
  signIn(jar: Jar, userId: string, old: UserSession | null): UserSession | null {
    this.end(jar, old);
    const mine = [...this.all.values()].filter((x) => x.userId === userId); // oldest first
    for (const x of mine.slice(0, Math.max(0, mine.length + 1 - PER_USER))) this.all.delete(x.id);
    if (this.all.size >= this.limit)
      for (const x of this.all.values()) if (this.dead(x)) this.all.delete(x.id);
    if (this.all.size >= this.limit) return null;
    return this.add(jar, { id: token(), userId, createdAt: this.now(), seenAt: this.now() });
  }
  /** The pending sign-in, in place of whatever session the browser had. */
  startPending(jar: Jar, p: Pending, old: UserSession | null): void {
    this.end(jar, old);
    jar.set('pending', this.seal(p), (p.expiresAt - this.now()) / 1000);
  }
  /** The same session under a new id (and so a new CSRF token). */
  rotate(jar: Jar, s: UserSession): UserSession {
    this.all.delete(s.id);
    return this.add(jar, { ...s, id: token() });
  }
  /** Ends the session and any pending sign-in. */
  end(jar: Jar, s: UserSession | null): void {
    if (s !== null) this.all.delete(s.id);
    jar.set('sid', '', 0);
    jar.set('pending', '', 0);
  }

  /** The CSRF token of a page's forms: bound to the session, or to a visitor cookie (made if need be). */
  csrf(jar: Jar, s: UserSession | null, make = true): string {
    if (s !== null) return this.mac(`csrf:session:${s.id}`);
    let nonce = jar.get('visitor') ?? '';
    if (make && !/^[\w-]{43}$/.test(nonce)) jar.set('visitor', (nonce = token()));
    return nonce === '' ? '' : this.mac(`csrf:visitor:${nonce}`);
  }
  csrfValid(jar: Jar, s: UserSession | null, got: string): boolean {
    const want = this.csrf(jar, s, false); // '' without a visitor cookie: nothing matches
    return want !== '' && same(want, got);
  }

  /** A notice for the browser's next page, in a sealed cookie. */
  setFlash(jar: Jar, flash: Flash): void {
    jar.set('flash', this.seal(flash), 60);
  }
  takeFlash(jar: Jar): Flash | undefined {
    const sealed = jar.get('flash');
    if (sealed !== undefined) jar.set('flash', '', 0);
    return this.open<Flash>(sealed);
  }
  get size(): number {
    return this.all.size;
  }
}
