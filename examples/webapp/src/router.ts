/**
 * Routes and their guards. A route says who may use it (anyone, a pending second step, a
 * signed-in user, an administrator); the dispatcher checks that against the full session, and the
 * CSRF token of every POST, before the handler runs, so no handler checks either again.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TwoFactor } from 'otpkit';
import { HttpError, readForm, redirect, send } from './http.js';
import { CSS, layout, type Page, type View } from './layout.js';
import { notice } from './messages.js';
import { tokensMatch, type Flash, type PendingSession, type Session, type Sessions, type UserSession } from './sessions.js';
import type { User, Users } from './users.js';

/** What every handler may use. */
export interface App {
  readonly tf: TwoFactor;
  readonly users: Users;
  readonly sessions: Sessions;
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly storeName: string;
  readonly demoKey: boolean;
}

export interface Ctx<S extends Session | null = Session | null> {
  readonly app: App;
  readonly res: ServerResponse;
  readonly session: S;
  /** A form field (POST) or query parameter (GET), at most `max` characters, `''` if absent. */
  field(name: string, max?: number): string;
  render(page: (v: View) => Page): void;
  redirect(to: string): void;
  /** A message on the next page of this session. */
  flash(kind: Flash['kind'], text: string): void;
}
export type PendingCtx = Ctx<PendingSession>;
export interface UserCtx extends Ctx<UserSession> {
  readonly user: User;
}

type Access = 'anyone' | 'pending' | 'user' | 'admin';
type CtxOf<A extends Access> = A extends 'anyone' ? Ctx : A extends 'pending' ? PendingCtx : UserCtx;
export interface Route {
  readonly key: string;
  readonly access: Access;
  readonly handle: (c: never) => Promise<void> | void;
}

const route =
  (method: 'GET' | 'POST') =>
  <A extends Access>(path: string, access: A, handle: (c: CtxOf<A>) => Promise<void> | void): Route => ({ key: `${method} ${path}`, access, handle });
export const get: <A extends Access>(path: string, access: A, handle: (c: CtxOf<A>) => Promise<void> | void) => Route = route('GET');
export const post: typeof get = route('POST');

/** The request handler of a route table. */
export function dispatch(app: App, routes: readonly Route[]): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const table = new Map(routes.map((r) => [r.key, r]));
  const { sessions } = app;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/style.css') return send(res, 200, CSS, 'text/css; charset=utf-8');
    const r = table.get(`${method} ${url.pathname}`);
    if (r === undefined) return send(res, 404, 'Not found', 'text/plain; charset=utf-8');
    const form = method === 'POST' ? await readForm(req, 16 * 1024) : url.searchParams;
    const { session, ended } = sessions.load(req, res);
    const to = (path: string): void => redirect(res, path);
    const user = session?.kind === 'user' ? app.users.byId(session.userId) : undefined;
    const gone = (): void => {
      if (ended !== null) sessions.notice(res, ended === 'pending' ? 'sign-in-again' : 'session-expired');
      to('/login');
    };

    // A session that just ended says so on the sign-in page (its cookie is cleared already).
    if (ended !== null && method === 'GET') return gone();
    if (r.access === 'pending' && session?.kind !== 'pending') return session === null ? gone() : to('/');
    if ((r.access === 'user' || r.access === 'admin') && user === undefined) return session?.kind === 'pending' ? to('/login/code') : gone();
    if (method === 'POST' && !(session === null ? sessions.visitorTokenValid(req, form.get('csrf') ?? '') : tokensMatch(session.csrf, form.get('csrf') ?? ''))) {
      if (session === null) sessions.notice(res, 'form-expired');
      else session.flash.push({ kind: 'error', text: 'That form had expired. Please try again.' });
      return to('/');
    }
    if (r.access === 'admin' && (user?.admin !== true || !(await app.tf.isEnabled(user.id)))) {
      session?.flash.push({ kind: 'error', text: 'The administrator page needs an administrator with two-factor authentication on.' });
      return to('/');
    }

    const c: UserCtx = {
      app,
      res,
      session: session as UserSession,
      user: user as User,
      field(name, max = 256) {
        const v = form.get(name) ?? '';
        if (v.length > max) throw new HttpError(400, `The ${name} field is too long.`);
        return v;
      },
      render(page) {
        let visitor: string | undefined;
        const v: View = {
          // Read only by forms: a page without one sets no cookie for a visitor without a session.
          get csrf() {
            return session?.csrf ?? (visitor ??= sessions.visitorToken(req, res));
          },
          flash: [...notice(sessions.takeNotice(req, res)), ...(session?.flash.splice(0) ?? [])],
          who: session?.kind === 'pending' ? 'pending' : user === undefined ? null : { username: user.username, admin: user.admin },
          storeName: app.storeName,
          demoKey: app.demoKey,
        };
        send(res, 200, layout(v, page(v)));
      },
      redirect: to,
      flash: (kind, text) => void session?.flash.push({ kind, text }),
    };
    await (r.handle as (c: UserCtx) => Promise<void> | void)(c);
  };
}
