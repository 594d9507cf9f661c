/**
 * The PostgreSQL store against the memory store: the seeded oracle of test/store/oracle.ts, on a
 * fresh prefix per seed.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresStore, migratePostgres } from '../../src/store/postgres.js';
import { describeWithEnv } from './_servers.js';
import { runStoreOracle } from './oracle.js';
import { dropPrefix, prefixes } from './postgres.helpers.js';

const newPrefix = prefixes('otpkit_o');
const SEEDS = [1, 2, 3, 0x5eed, 20260601];
const STEPS = 600;

describeWithEnv(
  'OTPKIT_PG_URL',
  'PostgreSQL store = memory store (seeded random operations)',
  (url) => {
    let pool!: pg.Pool;
    const made: string[] = [];
    beforeAll(() => {
      pool = new pg.Pool({ connectionString: url, max: 4 });
    });
    afterAll(async () => {
      try {
        for (const p of made) await dropPrefix(pool, p);
      } finally {
        await pool.end();
      }
    });

    it.each(SEEDS)(
      'seed %i: every outcome and all state identical',
      async (seed) => {
        const prefix = newPrefix();
        made.push(prefix);
        await migratePostgres(pool, { prefix });
        expect(
          await runStoreOracle(createPostgresStore({ client: pool, prefix }), seed, STEPS),
        ).toBeNull();
      },
      120_000,
    );
  },
);
