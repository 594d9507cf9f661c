/**
 * Cookies, and signed-in sessions in a bounded pool that evicts no one. Pending sign-ins and
 * notices are sealed cookies, CSRF tokens HMACs: a request without a session stores nothing.
 * @module
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Notice } from './html.js';

export interface Jar {
  get(key: string): string | undefined;
  set(key: string, value: string, maxAgeS?: number): void;
  drop(key: string): void;
}
/** Cookies `HttpOnly; SameSite=Lax; Path=/`; `secure` (behind HTTPS) adds `Secure` and `__Host-`. */
export function cookieJar(req: IncomingMessage, res: ServerResponse, secure: boolean): Jar {
  const name = (key: string): string => `${secure ? '__Host-' : ''}otpkit_demo_${key}`;
  const pairs = (req.headers.cookie ?? '').split(/;\s*/).map((p) => p.split('=', 2));
  const got = new Map(pairs as [string, string][]);
  const out = new Map<string, string>();
  const jar: Jar = {
    get: (key) => got.get(name(key)),
    set(key, value, maxAgeS) {
      const age = maxAgeS === undefined ? '' : `; Max-Age=${Math.max(0, Math.floor(maxAgeS))}`;
      const attrs = `Path=/; HttpOnly; SameSite=Lax${age}${secure ? '; Secure' : ''}`;
      res.setHeader('Set-Cookie', [...out.set(key, `${name(key)}=${value}; ${attrs}`).values()]);
    },
    drop: (key) => void (got.has(name(key)) && jar.set(key, '', 0)), // only one the browser has
  };
  return jar;
}
/** Password right, second factor pending: it grants the code form and nothing else. */
export interface Pending {
  readonly userId: string;
  readonly challengeId: string;
  readonly expiresAt: number;
  readonly emails: readonly { readonly id: string; readonly hint: string | null }[]; // no address
}
export interface UserSession {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  seenAt: number;
  /** A device being set up: otpkit keeps it (and its key); for email, where its code went. */
  setup?: { readonly factorId: string; readonly label: string; readonly hint?: string } | undefined;
  codes?: readonly string[] | undefined; // recovery codes, shown until the user saved them
}
export type Loaded = { session?: UserSession; pending?: Pending; ended?: 'session' | 'pending' };
const IDLE_MS = 30 * 60_000;
const MAX_AGE_MS = 12 * 3_600_000;
const PER_USER = 20; // beyond this, a user's own oldest session makes room for the new one
const token = (): string => randomBytes(32).toString('base64url');
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const same = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));
export class Sessions {
  private readonly all = new Map<string, UserSession>();
  private readonly key = randomBytes(32);
  constructor(
    private readonly now: () => number,
    private readonly limit = 50_000,
  ) {}
  count = (): number => this.all.size;
  private mac = (s: string): string => createHmac('sha256', this.key).update(s).digest('base64url');
  // Sealed: only this process could have made it, under that cookie name only.
  private seal(jar: Jar, key: string, value: unknown, maxAgeS: number): void {
    const body = Buffer.from(JSON.stringify(value)).toString('base64url');
    jar.set(key, `${body}.${this.mac(`sealed:${key}:${body}`)}`, maxAgeS);
  }
  private open<T>(jar: Jar, key: string): T | undefined {
    const [body = '', mac = ''] = (jar.get(key) ?? '').split('.');
    if (!same(this.mac(`sealed:${key}:${body}`), mac)) return undefined;
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
  }
  private dead = (s: UserSession, now = this.now()): boolean =>
    now - s.seenAt > IDLE_MS || now - s.createdAt > MAX_AGE_MS;
  private add(jar: Jar, s: UserSession): UserSession {
    this.all.set(s.id, s);
    jar.set('sid', s.id);
    return s;
  }
  load(jar: Jar): Loaded {
    const now = this.now();
    const s = this.all.get(jar.get('sid') ?? '');
    if (s && !this.dead(s, now)) return { session: Object.assign(s, { seenAt: now }) };
    if (s) this.all.delete(s.id); // a dead one stays until met, or the pool is full
    jar.drop('sid');
    const p = this.open<Pending>(jar, 'pending');
    if (p && p.expiresAt > now) return { pending: p };
    jar.drop('pending');
    return s ? { ended: 'session' } : p ? { ended: 'pending' } : {};
  }
  /** A new session (a new id: no fixation) in place of the browser's; none if the pool is full. */
  signIn(jar: Jar, userId: string): UserSession | undefined {
    this.end(jar);
    const mine = [...this.all.values()].filter((x) => x.userId === userId); // oldest first
    for (const x of mine.slice(0, 1 - PER_USER)) this.all.delete(x.id);
    if (this.all.size >= this.limit)
      for (const x of this.all.values()) if (this.dead(x)) this.all.delete(x.id);
    if (this.all.size >= this.limit) return undefined;
    return this.add(jar, { id: token(), userId, createdAt: this.now(), seenAt: this.now() });
  }
  startPending(jar: Jar, p: Pending): void {
    this.end(jar);
    this.seal(jar, 'pending', p, (p.expiresAt - this.now()) / 1000);
  }
  rotate(jar: Jar, s: UserSession): UserSession {
    this.all.delete(s.id);
    return this.add(jar, { ...s, id: token() });
  }
  end(jar: Jar): void {
    this.all.delete(jar.get('sid') ?? '');
    jar.drop('sid');
    jar.drop('pending');
  }
  /** The CSRF token of a page's forms: the session's, or a visitor cookie's (made if need be). */
  csrf(jar: Jar, s: UserSession | undefined, make = true): string {
    if (s) return this.mac(`csrf:session:${s.id}`);
    let nonce = jar.get('visitor') ?? '';
    if (make && !/^[\w-]{43}$/.test(nonce)) jar.set('visitor', (nonce = token()));
    return nonce === '' ? '' : this.mac(`csrf:visitor:${nonce}`);
  }
  csrfValid(jar: Jar, s: UserSession | undefined, got: string): boolean {
    const want = this.csrf(jar, s, false); // '' without a visitor cookie: nothing matches
    return want !== '' && same(want, got);
  }
  flash = (jar: Jar, notice: Notice): void => this.seal(jar, 'flash', notice, 60);
  takeFlash(jar: Jar): Notice | undefined {
    jar.drop('flash');
    return this.open<Notice>(jar, 'flash');
  }
}
