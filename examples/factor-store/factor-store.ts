/**
 * A `FactorStore` over a table of the app's own (`user_mfa_factors`), the way a framework
 * package keeps otpkit's factor registry beside its users: here on a better-sqlite3 connection,
 * and the same shape on any ORM that runs a function in one transaction. The hot state (throttles,
 * used steps, challenges) stays in a store otpkit ships. `test/examples.factor-store.test.ts`
 * runs otpkit's contract suites against it; docs/custom-store.md walks through it.
 * @module
 */
import type Database from 'better-sqlite3';
import type { FactorRecord, FactorStore } from 'otpkit';

/** The table, in the app's own naming: one row per factor, keyed by (user, factor id). */
export const SCHEMA = `CREATE TABLE IF NOT EXISTS user_mfa_factors (
  user_id      TEXT NOT NULL,
  factor_id    TEXT NOT NULL,
  kind         TEXT NOT NULL,
  label        TEXT NOT NULL,
  status       TEXT NOT NULL,
  secret       TEXT NOT NULL,
  hint         TEXT,
  algorithm    TEXT NOT NULL,
  digits       INTEGER NOT NULL,
  period       INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  confirmed_at INTEGER,
  expires_at   INTEGER,
  seq          INTEGER NOT NULL,
  PRIMARY KEY (user_id, factor_id)
)`;

interface Row {
  user_id: string;
  factor_id: string;
  kind: FactorRecord['type'];
  label: string;
  status: FactorRecord['status'];
  secret: string;
  hint: string | null;
  algorithm: FactorRecord['algorithm'];
  digits: number;
  period: number;
  created_at: number;
  confirmed_at: number | null;
  expires_at: number | null;
}

const toRecord = (r: Row): FactorRecord => ({
  userId: r.user_id,
  id: r.factor_id,
  type: r.kind,
  label: r.label,
  status: r.status,
  sealedSecret: r.secret,
  hint: r.hint,
  algorithm: r.algorithm,
  digits: r.digits,
  period: r.period,
  createdAt: r.created_at,
  confirmedAt: r.confirmed_at,
  expiresAt: r.expires_at,
});

/**
 * The registry on `db`. Every method is one transaction (better-sqlite3's are synchronous, so
 * nothing interleaves within the process, and `BEGIN IMMEDIATE` serialises processes): that is
 * what makes "of concurrent confirmations one wins" and the limits hold.
 */
export function createFactorTable(db: Database.Database): FactorStore {
  db.exec(SCHEMA);
  const count = db.prepare<[string, string], { n: number }>(
    'SELECT count(*) AS n FROM user_mfa_factors WHERE user_id = ? AND status = ?',
  );
  const countLivePending = db.prepare<[string, number], { n: number }>(
    `SELECT count(*) AS n FROM user_mfa_factors WHERE user_id = ? AND status = 'pending' AND expires_at > ?`,
  );
  const list = db.prepare<[string], Row>(
    'SELECT * FROM user_mfa_factors WHERE user_id = ? ORDER BY seq',
  );
  const one = db.prepare<[string, string], Row>(
    'SELECT * FROM user_mfa_factors WHERE user_id = ? AND factor_id = ?',
  );
  const insert = db.prepare(
    `INSERT INTO user_mfa_factors VALUES (@user_id, @factor_id, @kind, @label, @status, @secret, @hint,
      @algorithm, @digits, @period, @created_at, @confirmed_at, @expires_at,
      (SELECT coalesce(max(seq), 0) + 1 FROM user_mfa_factors))`,
  );
  const dropDead = db.prepare(
    `DELETE FROM user_mfa_factors WHERE user_id = ? AND status = 'pending' AND expires_at <= ?`,
  );
  const confirm = db.prepare(
    `UPDATE user_mfa_factors SET status = 'confirmed', confirmed_at = ?, expires_at = NULL
     WHERE user_id = ? AND factor_id = ? AND status = 'pending'`,
  );
  const rename = db.prepare(
    'UPDATE user_mfa_factors SET label = ? WHERE user_id = ? AND factor_id = ?',
  );
  const remove = db.prepare('DELETE FROM user_mfa_factors WHERE user_id = ? AND factor_id = ?');
  const removeAll = db.prepare('DELETE FROM user_mfa_factors WHERE user_id = ?');
  const reseal = db.prepare(
    'UPDATE user_mfa_factors SET secret = ? WHERE user_id = ? AND factor_id = ? AND secret = ?',
  );
  // (user_id, factor_id) order as SQLite compares TEXT (bytes of UTF-8): total and stable.
  const scan = db.prepare<[string, string, string, number], Row>(
    `SELECT * FROM user_mfa_factors WHERE user_id > ? OR (user_id = ? AND factor_id > ?)
     ORDER BY user_id, factor_id LIMIT ?`,
  );
  const scanFirst = db.prepare<[number], Row>(
    'SELECT * FROM user_mfa_factors ORDER BY user_id, factor_id LIMIT ?',
  );
  const tx = <A extends unknown[], R>(f: (...a: A) => R) => db.transaction(f).immediate;

  const add = tx(
    (r: FactorRecord, max: { maxPending: number; maxConfirmed: number }, now: number) => {
      dropDead.run(r.userId, now);
      if (one.get(r.userId, r.id) !== undefined) throw new Error('factor id already in use');
      const pending = countLivePending.get(r.userId, now)?.n ?? 0;
      const confirmed = count.get(r.userId, 'confirmed')?.n ?? 0;
      if (r.status === 'pending' ? pending >= max.maxPending : confirmed >= max.maxConfirmed)
        return 'limit' as const;
      insert.run({
        user_id: r.userId,
        factor_id: r.id,
        kind: r.type,
        label: r.label,
        status: r.status,
        secret: r.sealedSecret,
        hint: r.hint,
        algorithm: r.algorithm,
        digits: r.digits,
        period: r.period,
        created_at: r.createdAt,
        confirmed_at: r.confirmedAt,
        expires_at: r.expiresAt,
      });
      return 'added' as const;
    },
  );
  const confirmOne = tx((userId: string, factorId: string, now: number, max: number) => {
    const f = one.get(userId, factorId);
    if (f === undefined || f.status !== 'pending') return 'not-found' as const;
    if ((f.expires_at ?? 0) <= now) return 'expired' as const;
    if ((count.get(userId, 'confirmed')?.n ?? 0) >= max) return 'limit' as const;
    confirm.run(now, userId, factorId);
    return 'confirmed' as const;
  });

  return {
    async addFactor(record, limits, now) {
      return add(record, limits, now);
    },
    async listFactors(userId) {
      return list.all(userId).map(toRecord);
    },
    async confirmFactor(userId, factorId, now, maxConfirmed) {
      return confirmOne(userId, factorId, now, maxConfirmed);
    },
    async renameFactor(userId, factorId, label) {
      return rename.run(label, userId, factorId).changes === 1;
    },
    async removeFactor(userId, factorId) {
      return remove.run(userId, factorId).changes === 1;
    },
    async removeFactors(userId) {
      return removeAll.run(userId).changes;
    },
    async resealFactor(userId, factorId, expected, sealed) {
      return reseal.run(sealed, userId, factorId, expected).changes === 1;
    },
    async scanFactors(after, limit) {
      const rows =
        after === null
          ? scanFirst.all(limit)
          : scan.all(after.userId, after.userId, after.id, limit);
      return rows.map(toRecord);
    },
  };
}
