/**
 * Sessions, in memory, in two pools bounded apart: signed-in sessions, and pending ones (password
 * right, second factor not yet). A full pool refuses new sessions and evicts no one, and neither
 * pool can touch the other. A visitor without a session gets none: signed-out forms carry a
 * stateless token (a random cookie and its HMAC), so cookieless requests store nothing at all.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readCookie, setCookie } from './http.js';
import type { NoticeKey } from './messages.js';

export interface Flash {
  readonly kind: 'ok' | 'error' | 'info';
  readonly text: string;
}

interface Base {
  readonly id: string;
  readonly csrf: string;
  readonly userId: string;
  flash: Flash[];
}

/** Password right, second factor pending: it grants the code form and nothing else. */
export interface PendingSession extends Base {
  readonly kind: 'pending';
  readonly challengeId: string;
  readonly expiresAt: number;
}

/** A device being set up, shown again until confirmed (its key stays in server memory). */
export interface Setup {
  readonly factorId: string;
  readonly label: string;
  readonly uri: string;
  readonly manualKey: string;
  readonly expiresAt: number;
}

export interface UserSession extends Base {
  readonly kind: 'user';
  readonly createdAt: number;
  seenAt: number;
  setup?: Setup | undefined;
  /** Recovery codes, shown until the user says they saved them. */
  codes?: readonly string[] | undefined;
}

export type Session = PendingSession | UserSession;

export interface SessionLimits {
  /** @defaultValue 50000 */
  readonly signedIn?: number | undefined;
  /** @defaultValue 10000 */
  readonly pending?: number | undefined;
}

export interface Sessions {
  /** The live session the cookie names, and the kind that just ended if it named a dead one. */
  load(req: IncomingMessage, res: ServerResponse): { session: Session | null; ended: Session['kind'] | null };
  /** A new signed-in session (a new id: no fixation) replacing `old`; `null` if the pool is full. */
  signIn(res: ServerResponse, userId: string, old: Session | null): UserSession | null;
  startPending(res: ServerResponse, userId: string, challengeId: string, expiresAt: number, old: Session | null): PendingSession | null;
  /** The same session under a new id and CSRF token. */
  rotate(res: ServerResponse, s: UserSession): UserSession;
  end(res: ServerResponse, s: Session): void;
  /** The CSRF token of a visitor without a session (setting its cookie if needed), and its check. */
  visitorToken(req: IncomingMessage, res: ServerResponse): string;
  visitorTokenValid(req: IncomingMessage, token: string): boolean;
  /** A message for the next page of a visitor without a session: a key, never free text. */
  notice(res: ServerResponse, key: NoticeKey): void;
  takeNotice(req: IncomingMessage, res: ServerResponse): string | undefined;
  counts(): { readonly signedIn: number; readonly pending: number };
}

const IDLE_MS = 30 * 60_000;
const MAX_AGE_MS = 12 * 3_600_000;
/**
 * Beyond this, a user's own oldest session makes room for the new one: more than the 10 live
 * challenges otpkit keeps per user, so that otpkit, not this pool, decides which sign-in dies.
 */
const PER_USER = 20;

const token = (): string => randomBytes(32).toString('base64url');

export function tokensMatch(expected: string, got: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(got);
  return a.length === b.length && timingSafeEqual(a, b);
}

function pool<S extends Session>(limit: number, dead: (s: S, now: number) => boolean) {
  const all = new Map<string, S>();
  const byUser = new Map<string, Set<string>>();
  const remove = (id: string): void => {
    const s = all.get(id);
    all.delete(id);
    if (s !== undefined && byUser.get(s.userId)?.delete(id) && byUser.get(s.userId)?.size === 0) byUser.delete(s.userId);
  };
  const sweep = (now: number): void => all.forEach((s) => dead(s, now) && remove(s.id));
  const add = (s: S, now: number): boolean => {
    const mine = byUser.get(s.userId) ?? new Set<string>();
    for (const id of mine) if (mine.size >= PER_USER) remove(id); // a Set iterates oldest first
    if (all.size >= limit) sweep(now);
    if (all.size >= limit) return false;
    all.set(s.id, s);
    byUser.set(s.userId, mine.add(s.id));
    return true;
  };
  return { all, remove, sweep, add, dead };
}

export function createSessions(o: { readonly now: () => number; readonly secure: boolean; readonly limits?: SessionLimits | undefined }): Sessions {
  // __Host-: sent over HTTPS only, to this host only, and no sub-domain can set it.
  const [SID, VISITOR, NOTICE] = ['sid', 'visitor', 'notice'].map((n) => `${o.secure ? '__Host-' : ''}otpkit_demo_${n}`) as [string, string, string];
  const cookie = (res: ServerResponse, name: string, value: string, maxAgeS?: number): void =>
    setCookie(res, name, value, maxAgeS === undefined ? { secure: o.secure } : { secure: o.secure, maxAgeS });
  const users = pool<UserSession>(o.limits?.signedIn ?? 50_000, (s, now) => now - s.seenAt > IDLE_MS || now - s.createdAt > MAX_AGE_MS);
  const pending = pool<PendingSession>(o.limits?.pending ?? 10_000, (s, now) => now >= s.expiresAt);
  const visitorKey = randomBytes(32);
  const mac = (nonce: string): string => createHmac('sha256', visitorKey).update(nonce).digest('base64url');
  let nextSweep = 0;
  const drop = (s: Session | null | undefined): void => void (s?.kind === 'user' ? users : pending).remove(s?.id ?? '');
  const place = <S extends Session>(res: ServerResponse, p: ReturnType<typeof pool<S>>, s: S, old: Session | null): S | null => {
    drop(old);
    if (!p.add(s, o.now())) return null;
    cookie(res, SID, s.id);
    return s;
  };

  return {
    load(req, res) {
      const now = o.now();
      const id = readCookie(req, SID) ?? '';
      const s: Session | undefined = users.all.get(id) ?? pending.all.get(id);
      const alive = s !== undefined && !(s.kind === 'user' ? users.dead(s, now) : pending.dead(s, now));
      if (now >= nextSweep) {
        // After the lookup, so that a dead session can still say why it ended.
        nextSweep = now + 60_000;
        users.sweep(now);
        pending.sweep(now);
      }
      if (alive) {
        if (s.kind === 'user') s.seenAt = now;
        return { session: s, ended: null };
      }
      if (id !== '') cookie(res, SID, '', 0); // unknown or dead: forgotten, and nothing in its place
      drop(s);
      return { session: null, ended: s?.kind ?? null };
    },
    signIn: (res, userId, old) => {
      const now = o.now();
      return place(res, users, { kind: 'user', id: token(), csrf: token(), userId, createdAt: now, seenAt: now, flash: [] }, old);
    },
    startPending: (res, userId, challengeId, expiresAt, old) =>
      place(res, pending, { kind: 'pending', id: token(), csrf: token(), userId, challengeId, expiresAt, flash: [] }, old),
    // One out, one in, same user: never refused.
    rotate: (res, s) => place(res, users, { ...s, id: token(), csrf: token() }, s) as UserSession,
    end(res, s) {
      drop(s);
      cookie(res, SID, '', 0);
    },
    visitorToken(req, res) {
      let nonce = readCookie(req, VISITOR);
      if (nonce === undefined || !/^[A-Za-z0-9_-]{43}$/.test(nonce)) cookie(res, VISITOR, (nonce = token()));
      return mac(nonce);
    },
    visitorTokenValid: (req, got) => {
      const nonce = readCookie(req, VISITOR);
      return nonce !== undefined && tokensMatch(mac(nonce), got);
    },
    notice: (res, key) => cookie(res, NOTICE, key, 60),
    takeNotice(req, res) {
      const key = readCookie(req, NOTICE);
      if (key !== undefined) cookie(res, NOTICE, '', 0);
      return key;
    },
    counts: () => ({ signedIn: users.all.size, pending: pending.all.size }),
  };
}
