/** Where otpkit keeps its state: PostgreSQL or Redis when given a URL, else memory. @module */
import { createMemoryStore, type FactorStore, type OtpStore } from 'otpkit';

export interface OpenedStore {
  readonly store: OtpStore & FactorStore;
  readonly name: string;
  close(): Promise<void>;
}
/** `postgres://user:pw@host:5432/db` → `host:5432` (never a password). */
const where = (url: string): string => (URL.canParse(url) ? new URL(url).host : 'unparseable URL');
// PostgreSQL (migrated, purged every 15 min) or Redis, failing fast, else memory. Redis errors
// go to `onError` once per message: unheard, ioredis prints each reconnect as unhandled.
type Spec = Readonly<{ pg?: string | undefined; redis?: string | undefined; onError?: Log }>;
type Log = (line: string) => void;
export async function openStore(spec: Spec): Promise<OpenedStore> {
  const { pg: pgUrl, redis: redisUrl, onError = (line: string) => console.error(line) } = spec;
  if (pgUrl !== undefined && redisUrl !== undefined)
    throw new Error('both a PostgreSQL and a Redis URL: choose with --pg, --redis or --memory');
  if (pgUrl !== undefined) {
    const { default: pg } = await import('pg');
    const { createPostgresStore, migratePostgres } = await import('otpkit/postgres');
    const timeouts = { connectionTimeoutMillis: 2000, query_timeout: 2000 };
    const pool = new pg.Pool({ connectionString: pgUrl, ...timeouts });
    await migratePostgres(pool).catch((e: unknown) => pool.end().then(() => Promise.reject(e)));
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
