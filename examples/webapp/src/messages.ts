/**
 * What users are told. Every refused code reads the same, whatever otpkit's reason: telling
 * "wrong" from "already used" or "locked" helps a guesser more than a user. The reasons go to the
 * audit log (otpkit's `onEvent`), never to the page.
 * @module
 */
import type { Flash } from './sessions.js';
import { MIN_PASSWORD } from './users.js';

export const CODE_FAILED = "That code didn't work. Try again, or use a recovery code.";
export const SETUP_CODE_FAILED = "That code didn't work. Try again with the code your app shows now.";

/** The one message for a refused code; a throttled one says how long to wait. */
export function codeFailed(f: { readonly reason: string; readonly retryAfterMs?: number }, base: string = CODE_FAILED): string {
  if (f.retryAfterMs === undefined) return base;
  const s = Math.max(1, Math.ceil(f.retryAfterMs / 1000));
  return `${base} Wait ${s} second${s === 1 ? '' : 's'} before trying again.`;
}

export type NoticeKey = 'signed-out' | 'bad-password' | 'sign-in-again' | 'code-failed' | 'session-expired' | 'form-expired' | 'bad-username' | 'short-password' | 'taken' | 'busy';

/** Messages for visitors without a session, named by a key in a short-lived cookie. */
const NOTICES: Readonly<Record<NoticeKey, Flash>> = {
  'signed-out': { kind: 'info', text: 'You are signed out.' },
  'bad-password': { kind: 'error', text: 'Wrong username or password.' },
  'sign-in-again': { kind: 'info', text: 'Your sign-in took too long. Enter your password again.' },
  'code-failed': { kind: 'error', text: `${CODE_FAILED} Enter your password again first.` },
  'session-expired': { kind: 'info', text: 'Your session expired. Please sign in again.' },
  'form-expired': { kind: 'error', text: 'That form had expired. Please try again.' },
  'bad-username': { kind: 'error', text: 'Choose a username of 3–32 letters, digits, dots, dashes or underscores.' },
  'short-password': { kind: 'error', text: `Choose a password of at least ${MIN_PASSWORD} characters.` },
  taken: { kind: 'error', text: 'That username is taken.' },
  busy: { kind: 'error', text: 'The site is busy. Please try again in a few minutes.' },
};

export function notice(key: string | undefined): Flash[] {
  return key !== undefined && Object.hasOwn(NOTICES, key) ? [NOTICES[key as NoticeKey]] : [];
}

/** A timestamp as users read it here: `2031-06-01 09:00 UTC`. */
export function when(ms: number | null): string {
  return ms === null ? 'never' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
