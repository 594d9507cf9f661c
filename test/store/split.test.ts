/**
 * The deployment the two-factor flow is designed for: the factor registry in PostgreSQL and the
 * hot state (throttles, replay state, challenges, devices, quotas) in Redis, against the real
 * servers that .ci/run starts. The whole two-factor contract and its fault cases run on the pair.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, it } from 'vitest';
import { createPostgresStore, migratePostgres } from '../../src/store/postgres.js';
import { createRedisStore } from '../../src/store/redis.js';
import { twoFactorContract, twoFactorFaultContract } from '../../src/testing.js';
import { describeWithEnv } from './_servers.js';
import { dropPrefix, prefixes } from './postgres.helpers.js';

describeWithEnv('OTPKIT_PG_URL', 'factors in PostgreSQL, hot state in Redis', (pgUrl) => {
  describeWithEnv('OTPKIT_REDIS_URL', 'the two-factor contract on the pair', (redisUrl) => {
    let pool: pg.Pool;
    let redis: Redis;
    const made: string[] = [];
    const nextPrefix = prefixes('otpkit_split_');
    const run = Math.random().toString(36).slice(2, 8);
    let n = 0;
    beforeAll(() => {
      pool = new pg.Pool({ connectionString: pgUrl, max: 10 });
      redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
    });
    afterAll(async () => {
      try {
        for (const p of made) await dropPrefix(pool, p);
        const keys = await redis.keys(`otpkit-split:${run}:*`);
        if (keys.length > 0) await redis.del(...keys);
      } finally {
        await pool.end();
        redis.disconnect();
      }
    });
    /** A fresh, isolated pair per case: PostgreSQL tables under a new prefix, Redis keys under another. */
    const pair = async () => {
      const prefix = nextPrefix();
      made.push(prefix);
      await migratePostgres(pool, { prefix });
      return {
        factors: createPostgresStore({ client: pool, prefix }),
        state: createRedisStore({ client: redis, prefix: `otpkit-split:${run}:${++n}:` }),
      };
    };
    for (const c of twoFactorContract(pair, { userPrefix: 'split' }))
      it(c.name, c.run, c.timeoutMs);
    for (const c of twoFactorFaultContract(pair)) it(c.name, c.run, c.timeoutMs);
  });
});
