/**
 * Who the browser is. Signed-in sessions live in this process's memory, bounded: a full pool
 * refuses new sign-ins and evicts no one. A pending sign-in (password right, second factor not
 * yet) is a sealed cookie naming the user and otpkit's challenge, and CSRF tokens and flash
 * messages are HMACs of cookies: no request without a session stores anything at all.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Cookies } from './http.js';

export interface Flash {
  readonly kind: 'ok' | 'error' | 'info';
  readonly text: string;
}

/** Password right, second factor pending: it grants the code form and nothing else. */
export interface Pending {
  readonly userId: string;
  readonly challengeId: string;
  readonly expiresAt: number;
  /** The email and SMS factors a code may be sent to: never a destination, only its hint. */
  readonly targets: readonly {
    readonly id: string;
    readonly type: 'email' | 'sms';
    readonly hint: string;
  }[];
}

export interface UserSession {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  seenAt: number;
  /** A factor being set up: its id (otpkit shows its key again); for email or SMS, where its code went. */
  setup?:
    | { readonly factorId: string; readonly label: string; readonly hint?: string | undefined }
    | undefined;
  /** Recovery codes, shown until the user says they saved them. */
  codes?: readonly string[] | undefined;
}

const IDLE_MS = 30 * 60_000;
const MAX_AGE_MS = 12 * 3_600_000;
/** Beyond this, a user's own oldest session makes room for the new one. */
const PER_USER = 20;
const token = (): string => randomBytes(32).toString('base64url');
const matches = (expected: string, got: string): boolean => {
  const [a, b] = [Buffer.from(expected), Buffer.from(got)];
  return a.length === b.length && timingSafeEqual(a, b);
};

export class Sessions {
  private readonly all = new Map<string, UserSession>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly key = randomBytes(32);
  private nextSweep = 0;

  constructor(
    private readonly now: () => number,
    private readonly limit = 50_000,
  ) {}

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }
  /** A cookie value holding `value` that only this process could have made. */
  private seal(value: unknown): string {
    const body = Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${body}.${this.mac(`sealed:${body}`)}`;
  }
  private open<T>(sealed: string | undefined): T | undefined {
    const [body = '', mac = ''] = (sealed ?? '').split('.');
    return matches(this.mac(`sealed:${body}`), mac)
      ? (JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T)
      : undefined;
  }
  private dead(s: UserSession, now = this.now()): boolean {
    return now - s.seenAt > IDLE_MS || now - s.createdAt > MAX_AGE_MS;
  }
  private remove(id: string): void {
    const s = this.all.get(id);
    this.all.delete(id);
    const mine = s === undefined ? undefined : this.byUser.get(s.userId);
    if (s !== undefined && mine?.delete(id) === true && mine.size === 0)
      this.byUser.delete(s.userId);
  }
  private add(jar: Cookies, s: UserSession): UserSession {
    this.all.set(s.id, s);
    this.byUser.set(s.userId, (this.byUser.get(s.userId) ?? new Set()).add(s.id));
    jar.set('sid', s.id);
    return s;
  }

  /** The browser's live session or pending sign-in, and which of them just ended if a cookie names a dead one. */
  load(jar: Cookies): {
    session: UserSession | null;
    pending: Pending | null;
    ended: 'session' | 'pending' | null;
  } {
    const now = this.now();
    const id = jar.get('sid');
    const s = id === undefined ? undefined : this.all.get(id);
    if (now >= this.nextSweep) {
      // After the lookup, so that a dead session can still say why it ended.
      this.nextSweep = now + 60_000;
      for (const x of this.all.values()) if (this.dead(x, now)) this.remove(x.id);
    }
    if (s !== undefined && !this.dead(s, now)) {
      s.seenAt = now;
      return { session: s, pending: null, ended: null };
    }
    if (s !== undefined) this.remove(s.id);
    if (id !== undefined) jar.set('sid', '', 0); // unknown or dead: forgotten, and nothing in its place
    const p = this.open<Pending>(jar.get('pending'));
    if (p !== undefined && p.expiresAt > now) return { session: null, pending: p, ended: null };
    if (jar.get('pending') !== undefined) jar.set('pending', '', 0);
    return {
      session: null,
      pending: null,
      ended: s !== undefined ? 'session' : p !== undefined ? 'pending' : null,
    };
  }

  /** A new signed-in session (a new id: no fixation) in place of whatever the browser had; `null` if the pool is full. */
  signIn(jar: Cookies, userId: string, old: UserSession | null): UserSession | null {
    this.end(jar, old);
    const mine = this.byUser.get(userId) ?? new Set<string>();
    for (const x of mine) if (mine.size >= PER_USER) this.remove(x); // a Set iterates oldest first
    if (this.all.size >= this.limit)
      for (const x of this.all.values()) if (this.dead(x)) this.remove(x.id);
    if (this.all.size >= this.limit) return null;
    const now = this.now();
    return this.add(jar, { id: token(), userId, createdAt: now, seenAt: now });
  }

  /** The pending sign-in, in place of whatever session the browser had. */
  startPending(jar: Cookies, p: Pending, old: UserSession | null): void {
    this.end(jar, old);
    jar.set('pending', this.seal(p), (p.expiresAt - this.now()) / 1000);
  }

  /** The same session under a new id (and so a new CSRF token). */
  rotate(jar: Cookies, s: UserSession): UserSession {
    this.remove(s.id);
    return this.add(jar, { ...s, id: token() });
  }

  /** Ends the session and any pending sign-in. */
  end(jar: Cookies, s: UserSession | null): void {
    if (s !== null) this.remove(s.id);
    jar.set('sid', '', 0);
    jar.set('pending', '', 0);
  }

  /** Ends every other session of this user (after a password change). */
  endOthers(s: UserSession): void {
    for (const id of this.byUser.get(s.userId) ?? []) if (id !== s.id) this.remove(id);
  }

  /** The CSRF token of the forms on a page: bound to the session, or to a visitor cookie (set if needed). */
  csrf(jar: Cookies, s: UserSession | null): string {
    if (s !== null) return this.mac(`csrf:session:${s.id}`);
    let nonce = jar.get('visitor');
    if (nonce === undefined || !/^[A-Za-z0-9_-]{43}$/.test(nonce))
      jar.set('visitor', (nonce = token()));
    return this.mac(`csrf:visitor:${nonce}`);
  }
  csrfValid(jar: Cookies, s: UserSession | null, got: string): boolean {
    const nonce = jar.get('visitor');
    return s !== null
      ? matches(this.mac(`csrf:session:${s.id}`), got)
      : nonce !== undefined && matches(this.mac(`csrf:visitor:${nonce}`), got);
  }

  /** Messages for the browser's next page, in a sealed cookie. */
  setFlash(jar: Cookies, flash: readonly Flash[]): void {
    if (flash.length > 0) jar.set('flash', this.seal(flash), 60);
  }
  takeFlash(jar: Cookies): Flash[] {
    if (jar.get('flash') === undefined) return [];
    jar.set('flash', '', 0);
    return this.open<Flash[]>(jar.get('flash')) ?? [];
  }

  counts(): { readonly signedIn: number } {
    return { signedIn: this.all.size };
  }
}
