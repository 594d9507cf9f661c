/** Where otpkit keeps its state: PostgreSQL or Redis when given a URL, else memory. @module */
import { createMemoryStore, type FactorStore, type OtpStore } from 'otpkit';

/** An opened otpkit store (both of its contracts), its name for display, and how to close it. */
export interface OpenedStore {
  readonly store: OtpStore & FactorStore;
  readonly name: string;
  close(): Promise<void>;
}

/** `postgres://user:pw@host:5432/db` → `host:5432/db` (never show a password). */
const where = (url: string): string => {
  const u = URL.canParse(url) ? new URL(url) : undefined;
  return u === undefined ? 'unparseable URL' : `${u.host}${u.pathname === '/' ? '' : u.pathname}`;
};

/**
 * Opens PostgreSQL (`pg`; tables made if missing, expired rows purged every 15 min) or Redis
 * (`ioredis`), both failing fast, else memory. Redis errors go to `onError` once per message:
 * without a listener ioredis prints every failed reconnect as an unhandled error event.
 */
export async function openStore(spec: {
  readonly pg?: string | undefined;
  readonly redis?: string | undefined;
  readonly onError?: ((line: string) => void) | undefined;
}): Promise<OpenedStore> {
  const { pg: pgUrl, redis: redisUrl, onError = (line: string) => console.error(line) } = spec;
  if (pgUrl !== undefined && redisUrl !== undefined)
    throw new Error('both a PostgreSQL and a Redis URL: choose with --pg, --redis or --memory');
  if (pgUrl !== undefined) {
    const { default: pg } = await import('pg');
    const { createPostgresStore, migratePostgres } = await import('otpkit/postgres');
    const timeouts = { connectionTimeoutMillis: 2000, query_timeout: 2000 };
    const pool = new pg.Pool({ connectionString: pgUrl, ...timeouts });
    await migratePostgres(pool).catch(async (e: unknown) => {
      await pool.end();
      throw e;
    });
    const store = createPostgresStore({ client: pool });
    // Abandoned sign-ins and enrollments stay until purged (Redis expires its keys by itself).
    const purge = () => void store.purgeExpired().catch((e: unknown) => onError(`purge: ${e}`));
    const timer = setInterval(purge, 15 * 60_000).unref();
    const close = async (): Promise<void> => (clearInterval(timer), await pool.end());
    return { store, name: `PostgreSQL (${where(pgUrl)})`, close };
  }
  if (redisUrl !== undefined) {
    const { Redis } = await import('ioredis');
    const { createRedisStore } = await import('otpkit/redis');
    const options = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false };
    const client = new Redis(redisUrl, options);
    let last: string | undefined;
    client.on('error', (e: Error) => e.message !== last && onError(`redis: ${(last = e.message)}`));
    client.on('ready', () => (last = undefined));
    await client.connect();
    const close = async (): Promise<void> => void (await client.quit());
    return { store: createRedisStore({ client }), name: `Redis (${where(redisUrl)})`, close };
  }
  return { store: createMemoryStore(), name: 'in-memory', close: async () => {} };
}
