/**
 * What the PostgreSQL store tests share: fresh name prefixes, dropping everything a prefix
 * created (tables and functions), a client that counts the statements it sends, and the names of
 * the store's tables.
 */
import type pg from 'pg';
import type { PgQueryable } from '../../src/store/postgres.js';

/** The store's tables, without the prefix. */
export const TABLES = [
  'challenges',
  'credentials',
  'devices',
  'factors',
  'recovery_codes',
  'recovery_sets',
  'send_quotas',
  'step_ups',
  'throttle',
] as const;

/** The condition that selects a user's rows in a table (send quotas name their bucket instead). */
export const ownedBy = (table: (typeof TABLES)[number]): string =>
  table === 'send_quotas' ? `kind = 'user' AND subject = $1` : 'user_id = $1';

/** Unique prefixes for one test file's run: `<tag><random>_<n>_`. */
export function prefixes(tag: string): () => string {
  const run = Math.random().toString(36).slice(2, 8);
  let seq = 0;
  return () => `${tag}${run}_${++seq}_`;
}

/** `LIKE` pattern of the names a prefix starts. */
export const like = (prefix: string): string => `${prefix.replaceAll('_', '\\_')}%`;

/** Drops every table and function whose name starts with the prefix. */
export async function dropPrefix(pool: pg.Pool | pg.Client, prefix: string): Promise<void> {
  const tables = await pool.query<{ t: string }>(
    `SELECT quote_ident(relname) AS t FROM pg_class WHERE relkind = 'r' AND relname LIKE $1`,
    [like(prefix)],
  );
  if (tables.rows.length > 0)
    await pool.query(`DROP TABLE IF EXISTS ${tables.rows.map((r) => r.t).join(', ')} CASCADE`);
  const fns = await pool.query<{ f: string }>(
    `SELECT oid::regprocedure::text AS f FROM pg_proc WHERE proname LIKE $1`,
    [like(prefix)],
  );
  for (const r of fns.rows) await pool.query(`DROP FUNCTION IF EXISTS ${r.f}`);
}

/** A client that forwards to `inner` and records every statement it sends. */
export interface CountingClient extends PgQueryable {
  /** The statements sent so far, oldest first. */
  readonly sent: string[];
}

/** Wraps `inner` (a Pool) so that a test can count the statements (round trips) of a call. */
export function counting(inner: PgQueryable): CountingClient {
  const sent: string[] = [];
  return {
    sent,
    query(text: string, values?: unknown[]) {
      sent.push(text);
      return inner.query(text, values);
    },
  };
}
