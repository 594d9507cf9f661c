/**
 * A seeded random sequence of store operations applied to the memory store (the reference
 * implementation of both contracts) and to another store: every outcome must be the same, field
 * for field and in the same key order. Used by test/store/redis.test.ts.
 * @module
 */
import { createMemoryStore } from '../../src/store/memory.js';
import type {
  AttemptPolicy,
  ChallengeRecord,
  Claim,
  DeviceRecord,
  FactorRecord,
  FactorStore,
  OtpStore,
  RecoveryCodeSet,
  SendBucket,
  SendRule,
} from '../../src/store/types.js';

import { prng } from '../_helpers.js';

/** Canonical text of a result: key order kept, bigints marked, −0 read as 0 (JSON does). */
export function show(v: unknown): string {
  return JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
}

export interface OracleStep {
  readonly op: string;
  readonly args: unknown;
  readonly expected: string;
  readonly actual: string;
}

const POLICIES: readonly AttemptPolicy[] = [
  { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 8000, maxFailures: 10 },
  { freeFailures: 0, baseDelayMs: 500, maxDelayMs: 4000, maxFailures: 6 },
  { freeFailures: 2, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 5 },
  { freeFailures: 100, baseDelayMs: 1000, maxDelayMs: 1000, maxFailures: 100 },
];
const T0 = Date.UTC(2031, 5, 1);
const STEP0 = Math.floor(T0 / 30_000);

/**
 * Runs `steps` random operations on a fresh memory store and on `other`, returning the first
 * divergence (or `null`). Users are `userTag`-scoped so runs never meet in a shared server.
 * Time never goes backwards, as a real clock would not.
 */
export async function runOracle(
  other: OtpStore & FactorStore,
  seed: number,
  steps: number,
  userTag: string,
): Promise<OracleStep | null> {
  const mem = createMemoryStore();
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const chance = (p: number): boolean => rnd() < p;

  const users = [`${userTag}:u1`, `${userTag}:a{b}:c`, `${userTag}:é😀 %0041`];
  const creds = ['c', 'd', 'a:b'];
  const scopes = ['otp', 'recovery', 'x:y'];
  let now = T0;
  let seq = 0;
  const challengeHashes = new Map<string, string[]>(); // user → hashes created
  const stepUps = new Map<string, string[]>();
  const setIds = new Map<string, string[]>();
  const codeIds: string[] = [];
  const factorIds = new Map<string, string[]>();
  const sealed = new Map<string, string>(); // factor → current sealed (by memory)
  const oobHashes: string[] = [];
  const lastOob = new Map<string, string>(); // challenge hash → the code hash last set on it
  const devices = new Map<string, DeviceRecord[]>(); // user → devices created (their first tokens)
  const tokens: string[] = []; // every token hash handed out
  const hash64 = (): string => {
    const h = `${(++seq).toString(16)}`.padStart(64, 'c');
    tokens.push(h);
    return h;
  };
  const buckets = (u: string): SendBucket[] => [
    { kind: 'user', userId: u },
    { kind: 'destination', hash: 'd1' },
    { kind: 'destination', hash: `d:${u}` },
    { kind: 'app' },
  ];
  const RULES: readonly SendRule[] = [
    { limit: 3, windowMs: 60_000, cooldownMs: 1000 },
    { limit: 1, windowMs: 1000, cooldownMs: 0 },
    { limit: 0, windowMs: 5000, cooldownMs: 0 },
  ];
  const hex = (): string =>
    `${userTag.length.toString(16)}${(++seq).toString(16)}`.padStart(64, 'ab');
  const oobHash = (): string => {
    const h = `${(++seq).toString(16)}`.padStart(64, 'e');
    oobHashes.push(h);
    return h;
  };
  const ids = (): string[] => creds.filter(() => chance(0.4));
  const some = <T>(m: Map<string, T[]>, u: string, fresh: () => T): T => {
    const xs = m.get(u) ?? [];
    if (xs.length > 0 && chance(0.7)) return pick(xs);
    const x = fresh();
    m.set(u, [...xs, x]);
    return x;
  };

  type Op = { op: string; args: unknown; run: (s: OtpStore & FactorStore) => Promise<unknown> };
  const gen = async (): Promise<Op> => {
    // Odd seeds let time run (delays pass, records die); even ones keep it nearly still.
    if (chance(0.5))
      now +=
        seed % 2 === 1
          ? pick([0, 1, 499, 500, 999, 1000, 1001, 4000, 30_000, 30_000, 600_000])
          : pick([0, 1, 2, 10, 100]);
    const u = pick(users);
    const policy = pick(POLICIES);
    const r = rnd();
    const step = STEP0 + Math.floor((now - T0) / 30_000) + int(-2, 2);
    if (r < 0.16) {
      const a = {
        userId: u,
        credentialId: pick(creds),
        scope: pick(scopes),
        now,
        policy,
        step,
        candidates: [-3, -2, -1, 0, 1, 2, 3].filter(() => chance(0.25)),
        past: int(0, 2),
        future: int(0, 2),
        centreOnDrift: chance(0.5),
        maxDrift: chance(0.2) ? null : int(0, 3),
      };
      return { op: 'attemptTotp', args: a, run: (s) => s.attemptTotp(a) };
    }
    if (r < 0.28) {
      // Mostly the user's latest challenges, sometimes anyone's.
      const own = (challengeHashes.get(u) ?? []).slice(-3);
      const pool = chance(0.8) ? own : [...own, ...(challengeHashes.get(pick(users)) ?? [])];
      const h = pool.length > 0 && chance(0.7) ? pick(pool) : undefined;
      const b = {
        userId: u,
        ...(h === undefined ? {} : { challengeHash: h }),
        scope: pick(scopes),
        now,
        policy,
        credentialIds: ids(),
        recoverySet: chance(0.3),
      };
      return { op: 'beginAttempt', args: b, run: (s) => s.beginAttempt(b) };
    }
    if (r < 0.42) {
      const kind = pick(['totp', 'hotp', 'recovery', 'oob'] as const);
      let oobFor: string | undefined;
      const cur = await mem.getCredentials(u, creds);
      const c = pick(creds);
      let claim: Claim;
      if (kind === 'totp')
        claim = { kind, credentialId: c, step, drift: int(-3, 3), create: chance(0.7) };
      else if (kind === 'hotp') {
        const stored = cur[c]?.hotpCounter ?? null;
        const expected = chance(0.7) ? stored : pick([null, 0n, 5n, (1n << 64n) - 2n]);
        claim = {
          kind,
          credentialId: c,
          expected,
          next: pick([
            1n,
            6n,
            7n,
            (1n << 64n) - 1n,
            (expected ?? 0n) < (1n << 64n) - 1n ? (expected ?? 0n) + 1n : 0n,
          ]),
          create: chance(0.7),
        };
      } else if (kind === 'oob') {
        const own = (challengeHashes.get(u) ?? []).slice(-3);
        oobFor = own.length > 0 ? pick(own) : undefined;
        const live = oobFor === undefined ? undefined : lastOob.get(oobFor);
        claim = {
          kind,
          codeHash:
            live !== undefined && chance(0.8)
              ? live
              : pick(oobHashes.length > 0 ? oobHashes.slice(-3) : [oobHash()]),
        };
      } else {
        const set = await mem.getRecoveryCodeSet(u);
        const setId = set !== null && chance(0.7) ? set.setId : pick(setIds.get(u) ?? ['none']);
        const codeId =
          set !== null && set.codes.length > 0 && chance(0.7)
            ? pick(set.codes).id
            : pick(codeIds.length > 0 ? codeIds : ['none']);
        claim = { kind, setId, codeId };
      }
      const own = (challengeHashes.get(u) ?? []).slice(-3);
      const hashes = chance(0.8) ? own : [...own, ...(challengeHashes.get(pick(users)) ?? [])];
      const chosen =
        oobFor !== undefined && chance(0.9)
          ? oobFor
          : hashes.length > 0 && chance(0.4)
            ? pick(hashes)
            : undefined;
      const sAttempt = {
        userId: u,
        scope: pick(scopes),
        now,
        claim,
        ...(chosen === undefined ? {} : { challengeHash: chosen }),
        ...(chance(0.3)
          ? {
              stepUp: { hash: some(stepUps, u, hex), expiresAt: now + pick([0, 1, 1000, 600_000]) },
            }
          : {}),
      };
      return { op: 'settleAttempt', args: sAttempt, run: (s) => s.settleAttempt(sAttempt) };
    }
    if (r < 0.46) {
      const sc = pick(scopes);
      return { op: 'getThrottle', args: [u, sc], run: (s) => s.getThrottle(u, sc) };
    }
    if (r < 0.48) {
      const sc = chance(0.3) ? null : pick(scopes);
      return { op: 'resetThrottle', args: [u, sc], run: (s) => s.resetThrottle(u, sc) };
    }
    if (r < 0.52) {
      const xs = ids();
      return { op: 'getCredentials', args: [u, xs], run: (s) => s.getCredentials(u, xs) };
    }
    if (r < 0.54) {
      const c = pick(creds);
      const st = chance(0.5) ? null : step;
      const ctr = chance(0.5) ? null : pick([0n, 5n, (1n << 64n) - 1n]);
      return {
        op: 'initCredential',
        args: [u, c, st, ctr],
        run: (s) => s.initCredential(u, c, st, ctr),
      };
    }
    if (r < 0.555) {
      const xs = ids();
      return { op: 'deleteCredentials', args: [u, xs], run: (s) => s.deleteCredentials(u, xs) };
    }
    if (r < 0.58)
      return { op: 'getRecoveryCodeSet', args: [u], run: (s) => s.getRecoveryCodeSet(u) };
    if (r < 0.62) {
      const cur = await mem.getRecoveryCodeSet(u);
      const expected = chance(0.8)
        ? (cur?.setId ?? null)
        : pick([null, 'other', ...(setIds.get(u) ?? [])]);
      let set: RecoveryCodeSet | null = null;
      if (chance(0.85)) {
        const n = int(0, 4);
        const codes = Array.from({ length: n }, () => {
          const id = `code-${++seq}`;
          codeIds.push(id);
          return { id, hash: `$test$${seq}$${'h'.repeat(int(1, 80))}` };
        });
        set = {
          setId: some(setIds, u, () => `set-${++seq}`),
          issuedAt: now,
          total: n + int(0, 2),
          codes,
        };
      }
      return {
        op: 'replaceRecoveryCodes',
        args: [u, set, expected],
        run: (s) => s.replaceRecoveryCodes(u, set, expected),
      };
    }
    if (r < 0.68) {
      const own = challengeHashes.get(u) ?? [];
      const hash = own.length > 0 && chance(0.15) ? pick(own) : hex();
      if (!own.includes(hash)) challengeHashes.set(u, [...own, hash]);
      const rec: ChallengeRecord = {
        hash,
        userId: u,
        scope: pick(scopes),
        recoveryScope: pick(scopes),
        createdAt: now,
        expiresAt: now + pick([0, 1, 1000, 60_000, 3_600_000]),
        attempts: int(0, 2),
        maxAttempts: int(1, 4),
        credentialIds: ids(),
        payload: pick(['', '{"v":1}', 'lone \uD800 surrogate', 'é😀\u0000\n']),
        oob: chance(0.7)
          ? null
          : {
              factorId: pick(['f:1', 'é']),
              codeHash: oobHash(),
              expiresAt: now + pick([0, 1000, 600_000]),
            },
      };
      if (rec.oob !== null) lastOob.set(hash, rec.oob.codeHash);
      const maxLive = int(1, 4);
      return {
        op: 'createChallenge',
        args: [rec, maxLive],
        run: (s) => s.createChallenge(rec, maxLive),
      };
    }
    if (r < 0.69) return { op: 'deleteChallenges', args: [u], run: (s) => s.deleteChallenges(u) };
    if (r < 0.72) {
      const latest = (stepUps.get(u) ?? []).slice(-2);
      const h = latest.length > 0 && chance(0.7) ? pick(latest) : some(stepUps, u, hex);
      return { op: 'consumeStepUp', args: [u, h, now], run: (s) => s.consumeStepUp(u, h, now) };
    }
    if (r < 0.73) return { op: 'eraseUser', args: [u], run: (s) => s.eraseUser(u) };
    if (r < 0.74) {
      const own = (challengeHashes.get(u) ?? []).slice(-3);
      const h = own.length > 0 && chance(0.8) ? pick(own) : hex();
      const code = chance(0.2)
        ? null
        : { factorId: 'f:1', codeHash: oobHash(), expiresAt: now + pick([0, 1000, 600_000]) };
      const expected = chance(0.5) ? undefined : pick([...oobHashes.slice(-3), hex()]);
      if (code !== null) lastOob.set(h, code.codeHash);
      return {
        op: 'setChallengeCode',
        args: [u, h, code, now, expected],
        run: (s) => s.setChallengeCode(u, h, code, now, expected),
      };
    }
    if (r < 0.78) {
      const kind = pick(['trusted', 'known'] as const);
      const r2 = rnd();
      if (r2 < 0.3) {
        const d: DeviceRecord = {
          userId: u,
          id: chance(0.9)
            ? `dev${++seq}`
            : pick((devices.get(u) ?? []).map((x) => x.id).concat(['dev0'])),
          kind,
          tokenHash: hash64(),
          previousHash: chance(0.8) ? null : hash64(),
          label: pick(['', 'Firefox on Linux', 'é😀 \uD800']),
          createdAt: now - int(0, 3),
          lastUsedAt: chance(0.5) ? null : now,
          expiresAt: now + pick([0, 5000, 600_000, 86_400_000]),
        };
        devices.set(u, [...(devices.get(u) ?? []), d]);
        const max = int(1, 3);
        return { op: 'createDevice', args: [d, max], run: (s) => s.createDevice(d, max) };
      }
      if (r2 < 0.65) {
        const mine = (await mem.listDevices(u, kind, 0)).flatMap((d) =>
          d.previousHash === null ? [d.tokenHash] : [d.tokenHash, d.previousHash],
        );
        const token =
          mine.length > 0 && chance(0.8)
            ? pick(mine)
            : pick(tokens.length > 0 ? tokens.slice(-6) : [hash64()]);
        const next = hash64();
        const exp = chance(0.5) ? null : now + pick([0, 5000, 600_000, 86_400_000]);
        return {
          op: 'rotateDevice',
          args: [u, kind, token, next, now, exp],
          run: (s) => s.rotateDevice(u, kind, token, next, now, exp),
        };
      }
      if (r2 < 0.85)
        return { op: 'listDevices', args: [u, kind, now], run: (s) => s.listDevices(u, kind, now) };
      const id = chance(0.5)
        ? null
        : pick((devices.get(u) ?? []).map((x) => x.id).concat(['dev0']));
      return { op: 'revokeDevices', args: [u, kind, id], run: (s) => s.revokeDevices(u, kind, id) };
    }
    if (r < 0.795) {
      const bucket = pick(buckets(u));
      const rule = pick(RULES);
      if (chance(0.75))
        return {
          op: 'reserveSend',
          args: [bucket, rule, now],
          run: (s) => s.reserveSend(bucket, rule, now),
        };
      return {
        op: 'releaseSend',
        args: [bucket, rule, now],
        run: (s) => s.releaseSend(bucket, rule, now),
      };
    }
    // ---- factors
    if (r < 0.835) {
      const id = `f${++seq}`;
      factorIds.set(u, [...(factorIds.get(u) ?? []), id]);
      const pending = chance(0.6);
      const type = pick(['totp', 'hotp', 'email', 'sms'] as const);
      const rec: FactorRecord = {
        userId: u,
        id,
        type,
        label: pick(['Phone', 'Clé ✓ 🔑', 'a\u0000b', '\uDC00 lone']),
        status: pending ? 'pending' : 'confirmed',
        sealedSecret: `sealed:${id}:${pick(['k1', 'k2'])}`,
        hint:
          type === 'totp' || type === 'hotp' || chance(0.3)
            ? null
            : pick(['a•••@example.com', '', '+33 •• 42']),
        algorithm: pick(['SHA1', 'SHA256', 'SHA512'] as const),
        digits: int(6, 8),
        period: pick([30, 60]),
        createdAt: now - int(0, 5),
        confirmedAt: pending ? null : now,
        expiresAt: pending ? now + pick([0, 1, 5000, 3_600_000]) : null,
      };
      sealed.set(`${u}\u0000${id}`, rec.sealedSecret);
      const limits = { maxPending: int(0, 3), maxConfirmed: int(0, 3) };
      return {
        op: 'addFactor',
        args: [rec, limits, now],
        run: (s) => s.addFactor(rec, limits, now),
      };
    }
    const fid = pick([...(factorIds.get(u) ?? []), 'nope']);
    if (r < 0.85) return { op: 'listFactors', args: [u], run: (s) => s.listFactors(u) };
    if (r < 0.89) {
      const max = int(0, 4);
      return {
        op: 'confirmFactor',
        args: [u, fid, now, max],
        run: (s) => s.confirmFactor(u, fid, now, max),
      };
    }
    if (r < 0.91) {
      const label = pick(['Work', 'x', '\uD800']);
      return {
        op: 'renameFactor',
        args: [u, fid, label],
        run: (s) => s.renameFactor(u, fid, label),
      };
    }
    if (r < 0.925)
      return { op: 'removeFactor', args: [u, fid], run: (s) => s.removeFactor(u, fid) };
    if (r < 0.93) return { op: 'removeFactors', args: [u], run: (s) => s.removeFactors(u) };
    if (r < 0.96) {
      const cur = sealed.get(`${u}\u0000${fid}`) ?? 'x';
      const expected = chance(0.7) ? cur : 'stale';
      const next = `resealed:${++seq}`;
      return {
        op: 'resealFactor',
        args: [u, fid, expected, next],
        run: async (s) => {
          const ok = await s.resealFactor(u, fid, expected, next);
          if (ok && s === mem) sealed.set(`${u}\u0000${fid}`, next);
          return ok;
        },
      };
    }
    const all = [...factorIds].flatMap(([user, xs]) => xs.map((id) => ({ userId: user, id })));
    const after = all.length > 0 && chance(0.7) ? pick(all) : null;
    const limit = int(0, 4);
    return { op: 'scanFactors', args: [after, limit], run: (s) => s.scanFactors(after, limit) };
  };

  const outcome = async (run: () => Promise<unknown>): Promise<string> => {
    try {
      return show({ value: await run() });
    } catch (e) {
      return show({ threw: e instanceof Error ? e.name : String(e) });
    }
  };
  for (let i = 0; i < steps; i++) {
    const o = await gen();
    const expected = await outcome(() => o.run(mem));
    const actual = await outcome(() => o.run(other));
    if (expected !== actual) return { op: `#${i} ${o.op}`, args: o.args, expected, actual };
  }
  // The end state, read back through every reader.
  for (const u of users) {
    for (const [op, run] of [
      [
        'throttles',
        (s: OtpStore & FactorStore) => Promise.all(scopes.map((sc) => s.getThrottle(u, sc))),
      ],
      ['credentials', (s: OtpStore & FactorStore) => s.getCredentials(u, creds)],
      ['recovery set', (s: OtpStore & FactorStore) => s.getRecoveryCodeSet(u)],
      ['factors', (s: OtpStore & FactorStore) => s.listFactors(u)],
      [
        'devices',
        (s: OtpStore & FactorStore) =>
          Promise.all([s.listDevices(u, 'trusted', 0), s.listDevices(u, 'known', 0)]),
      ],
    ] as const) {
      const expected = await outcome(() => run(mem));
      const actual = await outcome(() => run(other));
      if (expected !== actual) return { op: `end state: ${op}`, args: u, expected, actual };
    }
  }
  return null;
}
