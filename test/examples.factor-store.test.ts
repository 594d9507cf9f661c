/**
 * The worked example of docs/custom-store.md: a `FactorStore` over a table of the app's own
 * (examples/factor-store), proved by otpkit's contract suites, on a SQLite file with several
 * connections, and under the two-factor flow with the hot state in a store otpkit ships.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryStore, createTwoFactor, decodeBase32, generateTOTP } from 'otpkit';
import { factorStoreContract, twoFactorContract } from 'otpkit/testing';
import { createFactorTable } from '../examples/factor-store/factor-store.js';

const dir = mkdtempSync(join(tmpdir(), 'otpkit-factor-table-'));
const opened: Database.Database[] = [];
let n = 0;
/** A fresh database file, opened as an app would (WAL, a busy timeout for its other connections). */
const database = (file = join(dir, `app-${++n}.db`)): Database.Database => {
  const db = new Database(file, { timeout: 5_000 });
  db.pragma('journal_mode = WAL');
  opened.push(db);
  return db;
};
afterAll(() => {
  for (const db of opened) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('examples/factor-store: a FactorStore over the app’s own table', () => {
  describe('the FactorStore contract', () => {
    for (const c of factorStoreContract(() => createFactorTable(database())))
      it(c.name, c.run, c.timeoutMs);
  });

  describe('the two-factor flow contract, the hot state in the memory store', () => {
    for (const c of twoFactorContract(() => ({
      factors: createFactorTable(database()),
      state: createMemoryStore(),
    })))
      it(c.name, c.run, c.timeoutMs);
  });

  it('two connections to one file (two app processes): one confirmation of an enrollment wins', async () => {
    const file = join(dir, 'shared.db');
    const [a, b] = [createFactorTable(database(file)), createFactorTable(database(file))];
    const now = Date.UTC(2031, 0, 1);
    const tf = (factors: typeof a) =>
      createTwoFactor({
        factors,
        state: shared,
        issuer: 'ACME',
        keys: { current: 'k1', keys: { k1: new Uint8Array(32).fill(7) } },
        now: () => now,
        recoveryCodes: { hash: { logN: 10 } },
      });
    const shared = createMemoryStore();
    const e = await tf(a).beginEnrollment({ userId: 'alice', account: 'alice' });
    if (!e.ok) throw new Error(`beginEnrollment: ${e.reason}`);
    const code = generateTOTP(decodeBase32(e.manualKey.replace(/ /g, '')), { now });
    const results = await Promise.all(
      [a, b, a, b].map((f) =>
        tf(f).confirmEnrollment({ userId: 'alice', factorId: e.factorId, code }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const listed = await b.listFactors('alice');
    expect(listed.map((f) => [f.id, f.status])).toEqual([[e.factorId, 'confirmed']]);
    // What the table holds is sealed: the secret never appears in it.
    const rows = opened.at(-1)?.prepare('SELECT secret FROM user_mfa_factors').all() as {
      secret: string;
    }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]?.secret).toMatch(/^otpkit-sealed:/);
    expect(rows[0]?.secret).not.toContain(e.manualKey.replace(/ /g, ''));
  });
});
