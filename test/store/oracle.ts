/**
 * The seeded oracle of the shared stores (PostgreSQL, SQLite, D1): random sequences of every
 * OtpStore and FactorStore operation, aimed at the edges (throttle gates at every failure count
 * under several policies, clocks that go back, drift-centred windows, ties, replays, HOTP
 * compare-and-set, recovery sets replaced under a claim, challenges that expire, run out of
 * attempts, belong to someone else or are capped, step-up tokens, pending factors that die,
 * limits, re-sealing and paginated scans, out-of-band codes, device tokens that rotate and are
 * replayed, send quotas), applied to the memory store (the reference) and to the store under
 * test. Every outcome (the value, or "it threw") and the whole state of every user every 25 steps
 * must be identical.
 */
import { delayAfter } from '../../src/_throttle.js';
import { createMemoryStore, type MemoryStore } from '../../src/store/memory.js';
import { prng } from '../_helpers.js';
import type {
  AttemptPolicy,
  ChallengeRecord,
  Claim,
  DeviceRecord,
  FactorRecord,
  FactorStore,
  OobCode,
  OtpStore,
  RecoveryCodeSet,
  SendBucket,
  SendRule,
} from '../../src/store/types.js';

type Store = MemoryStore | (OtpStore & FactorStore);
interface Op {
  readonly name: string;
  readonly run: (s: Store) => Promise<unknown>;
}

/** A SHA-256-looking hex string; small numbers on purpose, so that hashes collide across records. */
const hex = (n: number): string => n.toString(16).padStart(64, '0');
const show = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

/** Runs `steps` operations of seed `seed` on a fresh memory store and on `other` (empty); resolves the first divergence, or null. */
export async function runStoreOracle(
  other: OtpStore & FactorStore,
  seed: number,
  steps: number,
): Promise<string | null> {
  const mem = createMemoryStore();
  const rnd = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const chance = (p: number): boolean => rnd() < p;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const subset = <T>(xs: readonly T[], p = 0.4): T[] => xs.filter(() => chance(p));

  const users = ['alice', 'bob', 'Carol', 'dave_2'];
  const creds = ['c1', 'c2', 'default'];
  const scopes = ['otp', 'recovery'];
  const factorIds = ['f1', 'f2', 'f3', 'F1'];
  const policies: AttemptPolicy[] = [
    { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 60_000, maxFailures: 6 },
    { freeFailures: 0, baseDelayMs: 5000, maxDelayMs: 8000, maxFailures: 4 },
    { freeFailures: 1, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 3 },
    { freeFailures: 2, baseDelayMs: 2000, maxDelayMs: 900_000, maxFailures: 100 },
    { freeFailures: 1, baseDelayMs: 1000, maxDelayMs: 4000, maxFailures: 1 },
  ];
  let now = Date.UTC(2031, 0, 1);
  let seq = 0;
  const challenges: Array<{ hash: string; userId: string }> = [];
  const stepUps: Array<{ hash: string; userId: string }> = [];
  /** Mostly one of the newest challenges (live ones), sometimes any. */
  const someChallenge = (): { hash: string; userId: string } =>
    chance(0.8)
      ? (challenges[challenges.length - 1 - int(0, Math.min(2, challenges.length - 1))] as {
          hash: string;
          userId: string;
        })
      : pick(challenges);
  const step = (): number => Math.floor(now / 30_000);
  const candidates = (): number[] => {
    const wide = chance(0.1);
    const out: number[] = [];
    for (let d = wide ? -10 : -4; d <= (wide ? 10 : 4); d++)
      if (chance(wide ? 0.15 : 0.3)) out.push(d);
    return out;
  };
  const newSet = (): RecoveryCodeSet => {
    const k = int(0, 4);
    const id = `set${++seq}`;
    return {
      setId: id,
      issuedAt: now,
      total: k + int(0, 2),
      codes: Array.from({ length: k }, (_, i) => ({ id: `${id}-${i}`, hash: `$h$${id}$${i}` })),
    };
  };
  const kinds = ['trusted', 'known'] as const;
  const rules: SendRule[] = [
    { limit: 2, windowMs: 60_000, cooldownMs: 0 },
    { limit: 5, windowMs: 3_600_000, cooldownMs: 20_000 },
    { limit: 0, windowMs: 1000, cooldownMs: 0 },
    { limit: 3, windowMs: 7_000, cooldownMs: 3_000 },
  ];
  const bucket = (u: string): SendBucket =>
    pick<SendBucket>([
      { kind: 'user', userId: u },
      { kind: 'destination', hash: hex(int(1, 2)) },
      { kind: 'app' },
    ]);
  const oob = (): OobCode => ({
    factorId: pick(['e1', 'e2']),
    codeHash: hex(int(1, 4)),
    expiresAt: now + int(0, 60_000),
  });
  const factor = (userId: string): FactorRecord => {
    const confirmed = chance(0.3);
    const type = pick(['totp', 'hotp', 'email', 'sms'] as const);
    return {
      userId,
      id: pick(factorIds),
      type,
      label: `Phone ${++seq}`,
      status: confirmed ? 'confirmed' : 'pending',
      sealedSecret: `sealed-${seq}`,
      hint: (type === 'email' || type === 'sms') && chance(0.7) ? `a•••${seq}@example.com` : null,
      algorithm: pick(['SHA1', 'SHA256', 'SHA512'] as const),
      digits: int(6, 8),
      period: pick([30, 60]),
      createdAt: now,
      confirmedAt: confirmed ? now : null,
      expiresAt: confirmed ? null : now + int(0, 200_000),
    };
  };

  /** Usually `now`; sometimes the very last instant the bucket still owes a delay, or the first it does not. */
  const edge = async (userId: string, scope: string, policy: AttemptPolicy): Promise<number> => {
    if (!chance(0.3)) return now;
    const t = await mem.getThrottle(userId, scope);
    const wait = delayAfter(policy, t.failures);
    return wait === 0 ? now : Math.max(0, t.lastFailureAt + wait - int(0, 1));
  };
  /** The next operation; the memory store's state may be read to aim it (never written). */
  const next = async (): Promise<Op> => {
    const u = pick(users);
    const extra = rnd();
    const r = rnd();
    if (extra < 0.25) {
      // Devices and send quotas: a second dial, so the older operations keep their share.
      const k = pick(kinds);
      const x = rnd();
      if (x < 0.3) {
        const record: DeviceRecord = {
          userId: u,
          id: pick(['d1', 'd2', 'd3']),
          kind: k,
          tokenHash: hex(int(1, 6)),
          previousHash: chance(0.7) ? null : hex(int(1, 6)),
          label: chance(0.3) ? '' : `Browser ${++seq}`,
          createdAt: now - int(0, 2) * 1000,
          lastUsedAt: chance(0.8) ? null : now,
          expiresAt: now + int(0, 3_600_000),
        };
        const max = int(1, 3);
        return {
          name: `createDevice ${show(record)} ${max}`,
          run: (s) => s.createDevice(record, max),
        };
      }
      if (x < 0.55) {
        const live = await mem.listDevices(u, k, now);
        const known = live
          .flatMap((d) => [d.tokenHash, d.previousHash])
          .filter((h): h is string => h !== null);
        const token = known.length > 0 && chance(0.8) ? pick(known) : hex(int(1, 6));
        const next = hex(1000 + ++seq);
        const exp = chance(0.5) ? null : now + int(0, 300_000);
        return {
          name: `rotateDevice ${u} ${k} ${token} ${exp}`,
          run: (s) => s.rotateDevice(u, k, token, next, now, exp),
        };
      }
      if (x < 0.65) return { name: `listDevices ${u} ${k}`, run: (s) => s.listDevices(u, k, now) };
      if (x < 0.72) {
        const id = chance(0.4) ? null : pick(['d1', 'd2', 'd3']);
        return { name: `revokeDevices ${u} ${k} ${id}`, run: (s) => s.revokeDevices(u, k, id) };
      }
      const b = bucket(u);
      const rule = pick(rules);
      if (x < 0.92)
        return {
          name: `reserveSend ${show(b)} ${show(rule)}`,
          run: (s) => s.reserveSend(b, rule, now),
        };
      return {
        name: `releaseSend ${show(b)} ${show(rule)}`,
        run: (s) => s.releaseSend(b, rule, now),
      };
    }
    if (r < 0.16) {
      const scope = pick(scopes);
      const policy = pick(policies);
      const a = {
        userId: u,
        credentialId: pick(creds),
        scope,
        now: await edge(u, scope, policy),
        policy,
        step: step() + int(-2, 2),
        candidates: candidates(),
        past: int(0, 3),
        future: int(0, 3),
        centreOnDrift: chance(0.7),
        maxDrift: chance(0.2) ? null : int(0, 4),
      };
      return { name: `attemptTotp ${show(a)}`, run: (s) => s.attemptTotp(a) };
    }
    if (r < 0.27) {
      const ch = challenges.length > 0 && chance(0.6) ? someChallenge() : undefined;
      const scope = pick(scopes);
      const policy = pick(policies);
      const b = {
        userId: ch === undefined ? u : pick([ch.userId, ch.userId, u]),
        challengeHash: ch?.hash,
        scope,
        now: ch === undefined ? await edge(u, scope, policy) : now,
        policy,
        credentialIds: subset(creds),
        recoverySet: chance(0.4),
      };
      return { name: `beginAttempt ${show(b)}`, run: (s) => s.beginAttempt(b) };
    }
    if (r < 0.38) {
      const kind = pick(['totp', 'hotp', 'recovery', 'oob'] as const);
      let claim: Claim;
      if (kind === 'oob') {
        claim = { kind, codeHash: hex(int(1, 4)) };
      } else if (kind === 'totp') {
        claim = {
          kind,
          credentialId: pick(creds),
          step: step() + int(-3, 3),
          drift: int(-4, 4),
          create: chance(0.7),
        };
      } else if (kind === 'hotp') {
        const credentialId = pick(creds);
        const stored =
          (await mem.getCredentials(u, [credentialId]))[credentialId]?.hotpCounter ?? null;
        const expected = chance(0.7) ? stored : chance(0.5) ? null : BigInt(int(0, 5));
        claim = {
          kind,
          credentialId,
          expected,
          next: (expected ?? 0n) + BigInt(int(1, 4)),
          create: chance(0.7),
        };
      } else {
        const set = await mem.getRecoveryCodeSet(u);
        claim = {
          kind,
          setId: set !== null && chance(0.8) ? set.setId : `set${int(1, seq + 1)}`,
          codeId:
            set !== null && set.codes.length > 0 && chance(0.8)
              ? pick(set.codes).id
              : `set${int(1, seq)}-${int(0, 3)}`,
        };
      }
      const hash = `su${++seq}`;
      const ch = challenges.length > 0 && chance(0.4) ? someChallenge() : undefined;
      const owner = ch !== undefined && chance(0.85) ? ch.userId : u;
      const st = {
        userId: owner,
        scope: pick(scopes),
        now,
        claim,
        challengeHash: ch?.hash,
        stepUp: chance(0.3) ? { hash, expiresAt: now + int(0, 300_000) } : undefined,
      };
      if (st.stepUp !== undefined) stepUps.push({ hash, userId: owner });
      return { name: `settleAttempt ${show(st)}`, run: (s) => s.settleAttempt(st) };
    }
    if (r < 0.41) {
      const sc = chance(0.3) ? null : pick(scopes);
      return { name: `resetThrottle ${u} ${sc}`, run: (s) => s.resetThrottle(u, sc) };
    }
    if (r < 0.44) {
      const c = pick(creds);
      const ls = chance(0.5) ? null : step() + int(-3, 3);
      const hc = chance(0.5) ? null : BigInt(int(0, 6));
      return {
        name: `initCredential ${u} ${c} ${ls} ${hc}`,
        run: (s) => s.initCredential(u, c, ls, hc),
      };
    }
    if (r < 0.46) {
      const ids = subset(creds);
      return { name: `deleteCredentials ${u} ${ids}`, run: (s) => s.deleteCredentials(u, ids) };
    }
    if (r < 0.52) {
      const current = (await mem.getRecoveryCodeSet(u))?.setId ?? null;
      const expected = chance(0.75) ? current : chance(0.5) ? null : `set${int(1, seq + 1)}`;
      const set = chance(0.15) ? null : newSet();
      return {
        name: `replaceRecoveryCodes ${u} ${show(set)} ${expected}`,
        run: (s) => s.replaceRecoveryCodes(u, set, expected),
      };
    }
    if (r < 0.6) {
      const hash = `ch${++seq}`.padEnd(12, 'x');
      challenges.push({ hash, userId: u });
      const record: ChallengeRecord = {
        hash,
        userId: u,
        scope: 'otp',
        recoveryScope: 'recovery',
        createdAt: now,
        expiresAt: now + int(0, 120_000),
        attempts: 0,
        maxAttempts: int(1, 3),
        credentialIds: subset(creds),
        payload: chance(0.5) ? '' : `{"n":${seq},"t":"é\u{1F600}"}`,
        oob: chance(0.3) ? oob() : null,
      };
      const maxLive = int(1, 3);
      return {
        name: `createChallenge ${show(record)} ${maxLive}`,
        run: (s) => s.createChallenge(record, maxLive),
      };
    }
    if (r < 0.61) return { name: `deleteChallenges ${u}`, run: (s) => s.deleteChallenges(u) };
    if (r < 0.63 && challenges.length > 0) {
      const ch = someChallenge();
      const owner = chance(0.85) ? ch.userId : u;
      const code = chance(0.2) ? null : oob();
      const expected = chance(0.5) ? undefined : hex(int(1, 4));
      return {
        name: `setChallengeCode ${owner} ${ch.hash} ${show(code)} ${expected}`,
        run: (s) => s.setChallengeCode(owner, ch.hash, code, now, expected),
      };
    }
    if (r < 0.64) {
      const su =
        stepUps.length > 0 && chance(0.8)
          ? (stepUps[stepUps.length - 1 - int(0, Math.min(2, stepUps.length - 1))] as {
              hash: string;
              userId: string;
            })
          : { hash: 'su-none', userId: u };
      const owner = chance(0.8) ? su.userId : u;
      return {
        name: `consumeStepUp ${owner} ${su.hash}`,
        run: (s) => s.consumeStepUp(owner, su.hash, now),
      };
    }
    if (r < 0.65) return { name: `eraseUser ${u}`, run: (s) => s.eraseUser(u) };
    if (r < 0.75) {
      const f = factor(u);
      const limits = { maxPending: int(0, 3), maxConfirmed: int(0, 3) };
      return {
        name: `addFactor ${show(f)} ${show(limits)}`,
        run: (s) => s.addFactor(f, limits, now),
      };
    }
    if (r < 0.82) {
      const pending = (await mem.listFactors(u)).filter((f) => f.status === 'pending');
      const id = pending.length > 0 && chance(0.7) ? pick(pending).id : pick(factorIds);
      const max = int(0, 3);
      return {
        name: `confirmFactor ${u} ${id} ${max}`,
        run: (s) => s.confirmFactor(u, id, now, max),
      };
    }
    if (r < 0.84) {
      const id = pick(factorIds);
      const label = `Renamed ${++seq} ✓`;
      return { name: `renameFactor ${u} ${id}`, run: (s) => s.renameFactor(u, id, label) };
    }
    if (r < 0.86) {
      const id = pick(factorIds);
      return { name: `removeFactor ${u} ${id}`, run: (s) => s.removeFactor(u, id) };
    }
    if (r < 0.87) return { name: `removeFactors ${u}`, run: (s) => s.removeFactors(u) };
    if (r < 0.9) {
      const id = pick(factorIds);
      const current =
        (await mem.listFactors(u)).find((f) => f.id === id)?.sealedSecret ?? 'nothing';
      const expected = chance(0.8) ? current : 'stale';
      const sealed = `resealed-${++seq}`;
      return {
        name: `resealFactor ${u} ${id} ${expected}`,
        run: (s) => s.resealFactor(u, id, expected, sealed),
      };
    }
    if (r < 0.93) {
      const all = await mem.scanFactors(null, 1000);
      const after =
        all.length > 0 && chance(0.7)
          ? pick(all)
          : chance(0.5)
            ? null
            : { userId: pick(users), id: pick(factorIds) };
      const key = after === null ? null : { userId: after.userId, id: after.id };
      const limit = int(0, 4);
      return { name: `scanFactors ${show(key)} ${limit}`, run: (s) => s.scanFactors(key, limit) };
    }
    if (r < 0.95) {
      const sc = pick(scopes);
      return { name: `getThrottle ${u} ${sc}`, run: (s) => s.getThrottle(u, sc) };
    }
    if (r < 0.97) {
      const ids = subset(creds, 0.6);
      return { name: `getCredentials ${u} ${ids}`, run: (s) => s.getCredentials(u, ids) };
    }
    return { name: `getRecoveryCodeSet ${u}`, run: (s) => s.getRecoveryCodeSet(u) };
  };

  const outcome = async (s: Store, op: Op): Promise<unknown> => {
    try {
      return { value: await op.run(s) };
    } catch {
      return { threw: true };
    }
  };
  const state = async (s: Store): Promise<unknown> => {
    const out: Record<string, unknown> = {};
    for (const u of users) {
      out[u] = {
        throttle: await Promise.all(scopes.map((sc) => s.getThrottle(u, sc))),
        credentials: await s.getCredentials(u, creds),
        set: await s.getRecoveryCodeSet(u),
        factors: await s.listFactors(u),
        devices: [await s.listDevices(u, 'trusted', now), await s.listDevices(u, 'known', now)],
      };
    }
    out['*'] = await s.scanFactors(null, 1000);
    return out;
  };

  const trail: string[] = [];
  for (let i = 0; i < steps; i++) {
    // Mostly forward, sometimes a burst at one instant, sometimes a clock a little behind.
    now += chance(0.2)
      ? 0
      : chance(0.1)
        ? -int(1, 3000)
        : chance(0.03)
          ? int(30_000, 400_000)
          : int(1, 6000);
    const op = await next();
    trail.push(op.name);
    const expected = await outcome(mem, op);
    const actual = await outcome(other, op);
    if (show(actual) !== show(expected))
      return `seed ${seed}, step ${i}: ${op.name}\nafter:\n${trail.slice(-8, -1).join('\n')}\nexpected ${show(expected)}\nactual   ${show(actual)}`;
    if (i % 25 === 24 || i === steps - 1) {
      const [a, e] = [show(await state(other)), show(await state(mem))];
      if (a !== e) return `seed ${seed}, state after step ${i}:\nexpected ${e}\nactual   ${a}`;
    }
  }
  return null;
}
