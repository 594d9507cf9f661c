/**
 * Routes and their guards. A route says who may use it (anyone, a pending second step, a
 * signed-in user, an administrator); the dispatcher checks that against the full session, and the
 * CSRF token of every POST, before the handler runs, so no handler checks either again.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OobChannel, TwoFactor } from 'otpkit';
import { Cookies, HttpError, readForm, redirect, send } from './http.js';
import { CSS, layout, type Page, type View } from './layout.js';
import type { Flash, Pending, Sessions, UserSession } from './sessions.js';
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
  readonly secure: boolean;
  /** Where codes can be sent: email (an SMTP server is set), SMS (an SMS API is set). */
  readonly channels: readonly OobChannel[];
}

export interface Ctx<S extends UserSession | null = UserSession | null> {
  readonly app: App;
  readonly req: IncomingMessage;
  readonly cookies: Cookies;
  readonly session: S;
  /** The pending sign-in (on the code form). */
  readonly pending: Pending | null;
  /** A form field (POST) or query parameter (GET), at most `max` characters, `''` if absent. */
  field(name: string, max?: number): string;
  render(page: Page | ((v: View) => Page)): void;
  /** Redirects, the messages given to `flash` going with it. */
  redirect(to: string): void;
  flash(kind: Flash['kind'], text: string): void;
}
export interface PendingCtx extends Ctx<null> {
  readonly pending: Pending;
}
export interface UserCtx extends Ctx<UserSession> {
  readonly user: User;
}

type Access = 'anyone' | 'pending' | 'user' | 'admin';
type CtxOf<A extends Access> = A extends 'anyone'
  ? Ctx
  : A extends 'pending'
    ? PendingCtx
    : UserCtx;
export interface Route {
  readonly key: string;
  readonly access: Access;
  readonly handle: (c: never) => Promise<void> | void;
}

type Define = <A extends Access>(
  path: string,
  access: A,
  handle: (c: CtxOf<A>) => Promise<void> | void,
) => Route;
export const get: Define = (path, access, handle) => ({ key: `GET ${path}`, access, handle });
export const post: Define = (path, access, handle) => ({ key: `POST ${path}`, access, handle });

/** The request handler of a route table. */
export function dispatch(
  app: App,
  routes: readonly Route[],
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const table = new Map(routes.map((r) => [r.key, r]));
  const { sessions } = app;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/style.css')
      return send(res, 200, CSS, 'text/css; charset=utf-8');
    const r = table.get(`${method} ${url.pathname}`);
    if (r === undefined) return send(res, 404, 'Not found', 'text/plain; charset=utf-8');
    const form = method === 'POST' ? await readForm(req, 16 * 1024) : url.searchParams;
    const cookies = new Cookies(req, res, app.secure);
    const { session, pending, ended } = sessions.load(cookies);
    const user = session === null ? undefined : app.users.byId(session.userId);
    const flashes: Flash[] = [];
    const flash = (kind: Flash['kind'], text: string): void => void flashes.push({ kind, text });
    const to = (path: string): void => {
      sessions.setFlash(cookies, flashes);
      redirect(res, path);
    };
    const gone = (): void => {
      if (ended !== null)
        flash(
          'info',
          ended === 'pending'
            ? 'Your sign-in took too long. Enter your password again.'
            : 'Your session expired. Please sign in again.',
        );
      to('/login');
    };

    // A session that just ended says so on the sign-in page (its cookie is cleared already).
    if (ended !== null && method === 'GET') return gone();
    if (r.access === 'pending' && pending === null) return session === null ? gone() : to('/');
    if ((r.access === 'user' || r.access === 'admin') && user === undefined)
      return pending !== null ? to('/login/code') : gone();
    if (method === 'POST' && !sessions.csrfValid(cookies, session, form.get('csrf') ?? '')) {
      flash('error', 'That form had expired. Please try again.');
      return to('/');
    }
    if (r.access === 'admin' && (user?.admin !== true || !(await app.tf.isEnabled(user.id)))) {
      flash(
        'error',
        'The administrator page needs an administrator with two-factor authentication on.',
      );
      return to('/');
    }

    const c: Ctx & { readonly user: User | undefined } = {
      ...{ app, req, cookies, session, pending, user, flash },
      redirect: to,
      field(name, max = 256) {
        const v = form.get(name) ?? '';
        if (v.length > max) throw new HttpError(400, `The ${name} field is too long.`);
        return v;
      },
      render(p) {
        let csrf: string | undefined;
        const v: View = {
          // Read only by forms: a page without one sets no cookie for a visitor without a session.
          get csrf() {
            return (csrf ??= sessions.csrf(cookies, session));
          },
          flash: [...sessions.takeFlash(cookies), ...flashes.splice(0)],
          who:
            pending !== null
              ? 'pending'
              : user === undefined
                ? null
                : { username: user.username, admin: user.admin },
          storeName: app.storeName,
          demoKey: app.demoKey,
        };
        send(res, 200, layout(v, typeof p === 'function' ? p(v) : p));
      },
    };
    await (r.handle as (x: typeof c) => Promise<void> | void)(c);
  };
}
