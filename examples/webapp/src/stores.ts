/**
 * Where otpkit keeps its state (factors, used steps, failure counts, challenges, hashed recovery
 * codes): PostgreSQL or Redis when given a URL, else memory.
 * @module
 */
import { createMemoryStore, type FactorStore, type OtpStore } from 'otpkit';

/** An opened otpkit store and how to close its connection. */
export interface OpenedStore {
  /** Both of otpkit's contracts: the factor registry and the hot verification state. */
  readonly store: OtpStore & FactorStore;
  /** For display: the kind and the server, without credentials. */
  readonly name: string;
  close(): Promise<void>;
}

/** `postgres://user:pw@host:5432/db` → `host:5432/db` (never show a password). */
const where = (url: string): string => {
  const u = URL.canParse(url) ? new URL(url) : undefined;
  return u === undefined ? 'unparseable URL' : `${u.host}${u.pathname === '/' ? '' : u.pathname}`;
};

/**
 * Opens the store a URL names: PostgreSQL (with `pg`, tables created if missing) or Redis (with
 * `ioredis`), both configured to fail fast; with neither, a new in-memory store. The drivers are
 * imported only when asked for. Connection errors of the Redis client go to `onError` once per
 * distinct message until it is ready again (without a listener ioredis would print every failed
 * reconnect as an unhandled error event); so does a failed purge of PostgreSQL's expired rows
 * (every 15 minutes). `onError` defaults to `console.error`.
 */
export async function openStore(spec: {
  readonly pg?: string | undefined;
  readonly redis?: string | undefined;
  readonly onError?: ((line: string) => void) | undefined;
}): Promise<OpenedStore> {
  if (spec.pg !== undefined && spec.redis !== undefined)
    throw new Error('give either a PostgreSQL or a Redis URL, not both');
  const report = spec.onError ?? ((line: string) => console.error(line));
  if (spec.pg !== undefined) {
    const { default: pg } = await import('pg');
    const { createPostgresStore, migratePostgres } = await import('otpkit/postgres');
    const pool = new pg.Pool({
      connectionString: spec.pg,
      connectionTimeoutMillis: 2000,
      query_timeout: 2000,
      max: 10,
    });
    try {
      await migratePostgres(pool);
    } catch (e) {
      await pool.end();
      throw e;
    }
    const store = createPostgresStore({ client: pool });
    // Abandoned sign-ins and enrollments stay until purged (Redis expires its keys by itself).
    const purge = setInterval(() => {
      store.purgeExpired().catch((e: unknown) => report(`purge: ${String(e)}`));
    }, 15 * 60_000);
    purge.unref();
    return {
      store,
      name: `PostgreSQL (${where(spec.pg)})`,
      close: async () => {
        clearInterval(purge);
        await pool.end();
      },
    };
  }
  if (spec.redis !== undefined) {
    const { Redis } = await import('ioredis');
    const { createRedisStore } = await import('otpkit/redis');
    const client = new Redis(spec.redis, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    let last: string | undefined;
    client.on('error', (e: Error) => {
      if (e.message === last) return;
      last = e.message;
      report(`redis: ${e.message}`);
    });
    client.on('ready', () => void (last = undefined));
    await client.connect();
    return {
      store: createRedisStore({ client }),
      name: `Redis (${where(spec.redis)})`,
      close: async () => void (await client.quit()),
    };
  }
  return { store: createMemoryStore(), name: 'in-memory', close: async () => {} };
}
