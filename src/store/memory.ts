/**
 * The in-memory store: otpkit's embedded default and the reference implementation of both
 * contracts, for one process only.
 *
 * Every method makes its decision and its writes in one synchronous block (no `await` in
 * between), so it is atomic within the process. It is NOT shared between processes or servers:
 * behind a load balancer a code accepted on one server would still be accepted on another, and
 * each server would count failures separately. Use SQLite on one server, Redis or PostgreSQL on
 * many; `distributedSafe` is `false` so a production check can tell. Everything is lost on restart.
 * @module
 */
import { gateOpen } from '../_throttle.js';
import { PURGE_GRACE_MS } from './_shared.js';
import type {
  BeginAttempt,
  BeginOutcome,
  ChallengeCreated,
  ChallengeRecord,
  DeviceRecord,
  DeviceRotation,
  SendBucket,
  CredentialRecord,
  FactorRecord,
  FactorStore,
  OtpStore,
  RecoveryCodeSet,
  SettleAttempt,
  SettleOutcome,
  ThrottleRecord,
  TotpAttempt,
  TotpAttemptOutcome,
} from './types.js';

interface Credential {
  lastStep: number | null;
  hotpCounter: bigint | null;
  drift: number;
  lastUsedAt: number | null;
}
interface Throttle {
  failures: number;
  lastFailureAt: number;
}
interface RecoverySet {
  readonly setId: string;
  readonly issuedAt: number;
  readonly total: number;
  /** id → hash of the unused codes. */
  readonly codes: Map<string, string>;
}
interface User {
  /** Devices by id. */
  readonly devices: Map<string, DeviceRecord>;
  readonly throttles: Map<string, Throttle>;
  readonly credentials: Map<string, Credential>;
  recovery: RecoverySet | null;
  /** Hashes of this user's challenges (the records live in the store-wide map). */
  readonly challenges: Set<string>;
  /** Step-up token hash → expiry. */
  readonly stepUps: Map<string, number>;
  /** The factor registry, in insertion (creation) order. */
  readonly factors: Map<string, FactorRecord>;
}

/** The in-memory store (single process only): both an `OtpStore` and a `FactorStore`. */
export interface MemoryStore extends OtpStore, FactorStore {
  /** Always `false`: state lives in this process only. */
  readonly distributedSafe: false;
  /** Forgets everything (for tests). */
  clear(): void;
  /** Whether anything at all is stored for `userId` (for tests of erasure). */
  holds(userId: string): boolean;
}

const EMPTY_THROTTLE: ThrottleRecord = Object.freeze({ failures: 0, lastFailureAt: 0 });
const MAX_WINDOW = 10;

/**
 * Creates an in-memory store: atomic within one process, lost on restart, never shared.
 *
 * @returns a fresh {@link MemoryStore}.
 * @example
 * ```ts
 * const verifier = createVerifier({ store: createMemoryStore() });
 * ```
 */
export function createMemoryStore(): MemoryStore {
  const users = new Map<string, User>();
  /** Send quotas by bucket key: the count in the current window, the last send, when it is dead. */
  const sends = new Map<
    string,
    { window: number; count: number; lastAt: number; deadAt: number }
  >();
  /** Dead quotas (a destination is sent to once, say) are swept when the map doubles. */
  let sweepAt = 1024;
  const bucketKey = (b: SendBucket): string =>
    b.kind === 'user'
      ? `user:${b.userId}`
      : b.kind === 'destination'
        ? `destination:${b.hash}`
        : 'app';
  const challenges = new Map<
    string,
    { -readonly [K in keyof ChallengeRecord]: ChallengeRecord[K] }
  >();

  const user = (id: string): User => {
    let u = users.get(id);
    if (u === undefined) {
      u = {
        devices: new Map(),
        throttles: new Map(),
        credentials: new Map(),
        recovery: null,
        challenges: new Set(),
        stepUps: new Map(),
        factors: new Map(),
      };
      users.set(id, u);
    }
    return u;
  };
  const throttleOf = (u: User | undefined, scope: string): ThrottleRecord =>
    u?.throttles.get(scope) ?? EMPTY_THROTTLE;
  /** Counts one failure in the bucket and returns the new count. */
  const count = (u: User, scope: string, now: number): number => {
    const t = u.throttles.get(scope) ?? { failures: 0, lastFailureAt: 0 };
    t.failures += 1;
    t.lastFailureAt = now;
    u.throttles.set(scope, t);
    return t.failures;
  };
  const credentialRecord = (c: Credential | undefined): CredentialRecord | null =>
    c === undefined
      ? null
      : {
          lastStep: c.lastStep,
          hotpCounter: c.hotpCounter,
          drift: c.drift,
          lastUsedAt: c.lastUsedAt,
        };
  const setRecord = (r: RecoverySet | null): RecoveryCodeSet | null =>
    r === null
      ? null
      : {
          setId: r.setId,
          issuedAt: r.issuedAt,
          total: r.total,
          codes: Array.from(r.codes, ([id, hash]) => ({ id, hash })),
        };
  /** Sets an own property, even one named `__proto__`: a credential id is any string. */
  const own = <T>(o: Record<string, T>, key: string, value: T): void => {
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  };
  /** The live challenge by hash, if it is that user's; dead ones are dropped on sight. */
  const liveChallenge = (hash: string, userId: string, now: number) => {
    const c = challenges.get(hash);
    if (c === undefined) return undefined;
    if (c.expiresAt <= now) {
      challenges.delete(hash);
      users.get(c.userId)?.challenges.delete(hash);
      return undefined;
    }
    return c.userId === userId ? c : undefined;
  };
  /** What `createDevice` does, for it and for `settleAttempt`. */
  const putDevice = (record: DeviceRecord, maxPerUser: number): void => {
    const u = user(record.userId);
    const live: DeviceRecord[] = [];
    for (const d of [...u.devices.values()]) {
      if (d.kind !== record.kind) continue;
      if (d.expiresAt <= record.createdAt) u.devices.delete(d.id);
      else live.push(d);
    }
    live.sort((x, y) => x.createdAt - y.createdAt);
    for (const d of live.slice(0, Math.max(0, live.length - (maxPerUser - 1))))
      u.devices.delete(d.id);
    u.devices.set(record.id, { ...record });
  };
  /** What `rotateDevice` decides, for it and for `createChallenge`. */
  const rotate = (
    userId: string,
    kind: DeviceRecord['kind'],
    tokenHash: string,
    newHash: string,
    now: number,
    expiresAt: number | null,
  ): DeviceRotation => {
    const u = users.get(userId);
    for (const d of u?.devices.values() ?? []) {
      if (d.kind !== kind) continue;
      if (d.tokenHash === tokenHash && d.expiresAt > now) {
        const next: DeviceRecord = {
          ...d,
          tokenHash: newHash,
          previousHash: tokenHash,
          lastUsedAt: now,
          expiresAt: expiresAt ?? d.expiresAt,
        };
        u?.devices.set(d.id, next);
        return { status: 'rotated', device: { ...next } };
      }
      if (d.previousHash === tokenHash) return { status: 'replayed', deviceId: d.id };
    }
    return { status: 'unknown' };
  };
  const dropChallenge = (hash: string): void => {
    const c = challenges.get(hash);
    if (c === undefined) return;
    challenges.delete(hash);
    users.get(c.userId)?.challenges.delete(hash);
  };
  /** Drops a user entry that holds nothing any more, so erasure and resets leave no trace. */
  const tidy = (id: string): void => {
    const u = users.get(id);
    if (
      u !== undefined &&
      u.throttles.size === 0 &&
      u.credentials.size === 0 &&
      u.recovery === null &&
      u.challenges.size === 0 &&
      u.stepUps.size === 0 &&
      u.factors.size === 0 &&
      u.devices.size === 0 &&
      !sends.has(`user:${id}`)
    )
      users.delete(id);
  };

  const store: MemoryStore = {
    distributedSafe: false,
    clear(): void {
      users.clear();
      challenges.clear();
    },
    holds(userId: string): boolean {
      tidy(userId);
      if (users.has(userId)) return true;
      for (const c of challenges.values()) if (c.userId === userId) return true;
      return false;
    },

    async attemptTotp(a: TotpAttempt): Promise<TotpAttemptOutcome> {
      const u = user(a.userId);
      const t = throttleOf(u, a.scope);
      if (!gateOpen(a.policy, t.failures, t.lastFailureAt, a.now)) {
        tidy(a.userId);
        return { status: 'closed', failures: t.failures, lastFailureAt: t.lastFailureAt };
      }
      const failures = count(u, a.scope, a.now);
      const c = u.credentials.get(a.credentialId);
      const centre = a.centreOnDrift ? (c?.drift ?? 0) : 0;
      const lo = Math.max(centre - a.past, -MAX_WINDOW);
      const hi = Math.min(centre + a.future, MAX_WINDOW);
      let delta: number | undefined;
      for (const d of a.candidates) {
        if (d < lo || d > hi || a.step + d < 0) continue;
        if (delta === undefined || Math.abs(d) < Math.abs(delta)) delta = d; // ascending: a tie keeps the smaller
      }
      if (delta === undefined) return { status: 'invalid', failures };
      const claimed = a.step + delta;
      if (c !== undefined && c.lastStep !== null && c.lastStep >= claimed)
        return { status: 'replayed', failures };
      // `+ 0` turns a clamped -0 into 0: stores that write text must read back what memory holds.
      const drift =
        a.maxDrift === null ? 0 : Math.max(-a.maxDrift, Math.min(a.maxDrift, delta)) + 0;
      u.credentials.set(a.credentialId, {
        lastStep: claimed,
        hotpCounter: c?.hotpCounter ?? null,
        drift,
        lastUsedAt: a.now,
      });
      u.throttles.delete(a.scope);
      return { status: 'ok', delta };
    },

    async beginAttempt(b: BeginAttempt): Promise<BeginOutcome> {
      const userId = b.userId;
      let scope = b.scope;
      let challenge: ChallengeRecord | null = null;
      const ch =
        b.challengeHash === undefined ? undefined : liveChallenge(b.challengeHash, userId, b.now);
      if (b.challengeHash !== undefined) {
        if (ch === undefined) return { status: 'no-challenge' };
        if (ch.attempts >= ch.maxAttempts) return { status: 'exhausted', userId: ch.userId };
        scope = b.recoverySet ? ch.recoveryScope : ch.scope;
      }
      if (scope === undefined) throw new TypeError('beginAttempt needs a scope or a challenge');
      const u = user(userId);
      const t = throttleOf(u, scope);
      if (!gateOpen(b.policy, t.failures, t.lastFailureAt, b.now)) {
        tidy(userId);
        return { status: 'closed', userId, failures: t.failures, lastFailureAt: t.lastFailureAt };
      }
      const failures = count(u, scope, b.now);
      if (ch !== undefined) {
        ch.attempts += 1;
        challenge = { ...ch };
      }
      const credentials: Record<string, CredentialRecord | null> = {};
      for (const id of [...b.credentialIds, ...(ch?.credentialIds ?? [])])
        own(credentials, id, credentialRecord(u.credentials.get(id)));
      return {
        status: 'admitted',
        userId,
        failures,
        challenge,
        credentials,
        recoverySet: b.recoverySet ? setRecord(u.recovery) : null,
      };
    },

    async settleAttempt(s: SettleAttempt): Promise<SettleOutcome> {
      const ch =
        s.challengeHash === undefined ? undefined : liveChallenge(s.challengeHash, s.userId, s.now);
      if (s.challengeHash !== undefined && ch === undefined) return { status: 'no-challenge' };
      const u = users.get(s.userId);
      const claim = s.claim;
      let remaining: number | null = null;
      if (claim.kind === 'oob') {
        const live = ch?.oob;
        if (
          live === undefined ||
          live === null ||
          live.codeHash !== claim.codeHash ||
          live.expiresAt <= s.now
        )
          return { status: 'replayed' };
      } else if (claim.kind === 'recovery') {
        const r = u?.recovery;
        if (
          u === undefined ||
          r === undefined ||
          r === null ||
          r.setId !== claim.setId ||
          !r.codes.delete(claim.codeId)
        )
          return { status: 'replayed' };
        remaining = r.codes.size;
      } else {
        const c = u?.credentials.get(claim.credentialId);
        if (c === undefined && !claim.create) return { status: 'replayed' };
        const next: Credential =
          c === undefined
            ? { lastStep: null, hotpCounter: null, drift: 0, lastUsedAt: null }
            : { ...c };
        if (claim.kind === 'totp') {
          if (next.lastStep !== null && next.lastStep >= claim.step) return { status: 'replayed' };
          next.lastStep = claim.step;
          next.drift = claim.drift;
        } else {
          if (next.hotpCounter !== claim.expected) return { status: 'replayed' };
          next.hotpCounter = claim.next;
        }
        next.lastUsedAt = s.now;
        user(s.userId).credentials.set(claim.credentialId, next);
      }
      const owner = user(s.userId);
      owner.throttles.delete(s.scope);
      if (s.challengeHash !== undefined) dropChallenge(s.challengeHash);
      if (s.stepUp !== undefined) {
        // Unused tokens would otherwise stay for ever: those expired 5 minutes before now go.
        for (const [h, exp] of owner.stepUps)
          if (exp + PURGE_GRACE_MS < s.now) owner.stepUps.delete(h);
        owner.stepUps.set(s.stepUp.hash, s.stepUp.expiresAt);
      }
      if (s.device !== undefined) putDevice(s.device.record, s.device.maxPerUser);
      tidy(s.userId);
      return { status: 'ok', remaining };
    },

    async getThrottle(userId, scope): Promise<ThrottleRecord> {
      const t = throttleOf(users.get(userId), scope);
      return { failures: t.failures, lastFailureAt: t.lastFailureAt };
    },
    async resetThrottle(userId, scope): Promise<void> {
      if (scope === null) users.get(userId)?.throttles.clear();
      else users.get(userId)?.throttles.delete(scope);
      tidy(userId);
    },
    async getCredentials(userId, ids): Promise<Record<string, CredentialRecord | null>> {
      const u = users.get(userId);
      const out: Record<string, CredentialRecord | null> = {};
      for (const id of ids) own(out, id, credentialRecord(u?.credentials.get(id)));
      return out;
    },
    async initCredential(userId, credentialId, lastStep, hotpCounter): Promise<boolean> {
      const u = user(userId);
      if (u.credentials.has(credentialId)) return false;
      u.credentials.set(credentialId, { lastStep, hotpCounter, drift: 0, lastUsedAt: null });
      return true;
    },
    async deleteCredentials(userId, ids): Promise<void> {
      const u = users.get(userId);
      for (const id of ids) u?.credentials.delete(id);
      tidy(userId);
    },
    async getRecoveryCodeSet(userId): Promise<RecoveryCodeSet | null> {
      return setRecord(users.get(userId)?.recovery ?? null);
    },
    async replaceRecoveryCodes(userId, set, expectedSetId): Promise<boolean> {
      const u = user(userId);
      if ((u.recovery?.setId ?? null) !== expectedSetId) {
        tidy(userId);
        return false;
      }
      // A new record swapped in one assignment: no reader sees old and new codes together.
      u.recovery =
        set === null
          ? null
          : {
              setId: set.setId,
              issuedAt: set.issuedAt,
              total: set.total,
              codes: new Map(set.codes.map((c) => [c.id, c.hash])),
            };
      tidy(userId);
      return true;
    },
    async createChallenge(record, maxLive, device = null): Promise<ChallengeCreated> {
      const u = user(record.userId);
      const rotation =
        device === null
          ? null
          : rotate(
              record.userId,
              'known',
              device.tokenHash,
              device.newHash,
              record.createdAt,
              device.expiresAt,
            );
      const id = rotation?.status === 'rotated' ? rotation.device.id : null;
      const live: ChallengeRecord[] = [];
      for (const h of [...u.challenges]) {
        const c = liveChallenge(h, record.userId, record.createdAt);
        if (c !== undefined) live.push(c);
      }
      live.sort((x, y) => x.createdAt - y.createdAt);
      for (const c of live.slice(0, Math.max(0, live.length - (maxLive - 1))))
        dropChallenge(c.hash);
      dropChallenge(record.hash); // hashes are unique; a reused one must not stay in its old owner's list
      challenges.set(record.hash, {
        ...record,
        ...(id === null
          ? {}
          : {
              scope: `${record.scope}:device:${id}`,
              recoveryScope: `${record.recoveryScope}:device:${id}`,
            }),
        credentialIds: [...record.credentialIds],
      });
      u.challenges.add(record.hash);
      return { recoveryCodes: u.recovery?.codes.size ?? 0, device: rotation };
    },
    async deleteChallenges(userId): Promise<void> {
      for (const h of [...(users.get(userId)?.challenges ?? [])]) dropChallenge(h);
      tidy(userId);
    },
    async consumeStepUp(userId, hash, now): Promise<boolean> {
      const u = users.get(userId);
      const exp = u?.stepUps.get(hash);
      if (u === undefined || exp === undefined) return false;
      u.stepUps.delete(hash);
      tidy(userId);
      return exp > now;
    },
    async eraseUser(userId): Promise<void> {
      const u = users.get(userId);
      for (const h of [...(u?.challenges ?? [])]) dropChallenge(h);
      if (u !== undefined) {
        u.throttles.clear();
        u.credentials.clear();
        u.recovery = null;
        u.stepUps.clear();
        u.devices.clear();
      }
      sends.delete(`user:${userId}`);
      tidy(userId);
    },
    async setChallengeCode(userId, challengeHash, code, now, expected): Promise<boolean> {
      const c = liveChallenge(challengeHash, userId, now);
      if (c === undefined) return false;
      if (expected !== undefined && c.oob?.codeHash !== expected) return false;
      c.oob = code === null ? null : { ...code };
      return true;
    },
    async createDevice(record, maxPerUser): Promise<void> {
      putDevice(record, maxPerUser);
    },
    async rotateDevice(userId, kind, tokenHash, newHash, now, expiresAt): Promise<DeviceRotation> {
      return rotate(userId, kind, tokenHash, newHash, now, expiresAt);
    },
    async listDevices(userId, kind, now): Promise<readonly DeviceRecord[]> {
      return [...(users.get(userId)?.devices.values() ?? [])]
        .filter((d) => d.kind === kind && d.expiresAt > now)
        .sort((x, y) => x.createdAt - y.createdAt)
        .map((d) => ({ ...d }));
    },
    async revokeDevices(userId, kind, deviceId): Promise<number> {
      const u = users.get(userId);
      let n = 0;
      for (const d of [...(u?.devices.values() ?? [])])
        if (d.kind === kind && (deviceId === null || d.id === deviceId)) {
          u?.devices.delete(d.id);
          n++;
        }
      tidy(userId);
      return n;
    },
    async reserveSend(bucket, rule, now) {
      const key = bucketKey(bucket);
      const window = Math.floor(now / rule.windowMs);
      const q = sends.get(key);
      const count = q !== undefined && q.window === window ? q.count : 0;
      const cooldownLeft = q === undefined ? 0 : q.lastAt + rule.cooldownMs - now;
      if (cooldownLeft > 0 || count >= rule.limit)
        return {
          ok: false,
          retryAfterMs: Math.max(
            cooldownLeft,
            count >= rule.limit ? (window + 1) * rule.windowMs - now : 0,
          ),
        };
      const deadAt = Math.max((window + 1) * rule.windowMs, now + rule.cooldownMs);
      sends.set(key, { window, count: count + 1, lastAt: now, deadAt });
      if (sends.size > sweepAt) {
        for (const [k, x] of sends) if (x.deadAt + PURGE_GRACE_MS < now) sends.delete(k);
        sweepAt = Math.max(1024, 2 * sends.size);
      }
      return { ok: true };
    },
    async releaseSend(bucket, rule, now): Promise<void> {
      const key = bucketKey(bucket);
      const q = sends.get(key);
      if (q !== undefined && q.window === Math.floor(now / rule.windowMs) && q.count > 0)
        q.count -= 1;
    },

    // ---- the factor registry
    async addFactor(record, limits, now): Promise<'added' | 'limit'> {
      const u = user(record.userId);
      let pending = 0;
      let confirmed = 0;
      for (const f of [...u.factors.values()]) {
        if (f.status === 'pending' && f.expiresAt !== null && f.expiresAt <= now)
          u.factors.delete(f.id);
        else if (f.status === 'pending') pending++;
        else confirmed++;
      }
      if (u.factors.has(record.id)) throw new Error('memory store: duplicate factor id');
      if (
        record.status === 'pending'
          ? pending >= limits.maxPending
          : confirmed >= limits.maxConfirmed
      ) {
        tidy(record.userId);
        return 'limit';
      }
      u.factors.set(record.id, { ...record });
      return 'added';
    },
    async listFactors(userId): Promise<readonly FactorRecord[]> {
      return [...(users.get(userId)?.factors.values() ?? [])].map((f) => ({ ...f }));
    },
    async confirmFactor(userId, factorId, now, maxConfirmed) {
      const u = users.get(userId);
      const f = u?.factors.get(factorId);
      if (u === undefined || f === undefined || f.status !== 'pending') return 'not-found';
      if (f.expiresAt !== null && f.expiresAt <= now) return 'expired';
      let confirmed = 0;
      for (const g of u.factors.values()) if (g.status === 'confirmed') confirmed++;
      if (confirmed >= maxConfirmed) return 'limit';
      u.factors.set(factorId, { ...f, status: 'confirmed', confirmedAt: now, expiresAt: null });
      return 'confirmed';
    },
    async renameFactor(userId, factorId, label): Promise<boolean> {
      const u = users.get(userId);
      const f = u?.factors.get(factorId);
      if (u === undefined || f === undefined) return false;
      u.factors.set(factorId, { ...f, label });
      return true;
    },
    async removeFactor(userId, factorId): Promise<boolean> {
      const removed = users.get(userId)?.factors.delete(factorId) ?? false;
      tidy(userId);
      return removed;
    },
    async removeFactors(userId): Promise<number> {
      const u = users.get(userId);
      const n = u?.factors.size ?? 0;
      u?.factors.clear();
      tidy(userId);
      return n;
    },
    async resealFactor(userId, factorId, expected, sealed): Promise<boolean> {
      const u = users.get(userId);
      const f = u?.factors.get(factorId);
      if (u === undefined || f === undefined || f.sealedSecret !== expected) return false;
      u.factors.set(factorId, { ...f, sealedSecret: sealed });
      return true;
    },
    async scanFactors(after, limit): Promise<readonly FactorRecord[]> {
      const all: FactorRecord[] = [];
      for (const u of users.values()) for (const f of u.factors.values()) all.push(f);
      all.sort((x, y) =>
        x.userId < y.userId ? -1 : x.userId > y.userId ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0,
      );
      const from =
        after === null
          ? all
          : all.filter(
              (f) => f.userId > after.userId || (f.userId === after.userId && f.id > after.id),
            );
      return from.slice(0, limit).map((f) => ({ ...f }));
    },
  };
  return store;
}
