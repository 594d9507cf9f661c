/**
 * The in-memory store: otpkit's embedded default, for one process only.
 *
 * Every method runs its check and its write in one synchronous block (no `await` between them),
 * so it is atomic within a process. It is NOT shared between processes or servers: behind a load
 * balancer a code accepted on one server would still be accepted on another, and each server
 * would count failures separately. Use `otpkit/redis` or `otpkit/postgres` there;
 * `distributedSafe` is `false` so a production check can tell.
 * @module
 */
import type { CredentialState, OtpStore, RecoveryCodeSet } from './types.js';

interface Throttle {
  failures: number;
  lastFailureAt: number;
}
interface Credential {
  lastStep: number | null;
  hotpCounter: bigint | null;
  drift: number;
}
interface UserRecord {
  readonly throttles: Map<string, Throttle>;
  readonly credentials: Map<string, Credential>;
  /** The current recovery-code set: its id, issue time and size, and id → hash of its unused codes. */
  recovery: { readonly setId: string; readonly issuedAt: number; readonly total: number; readonly codes: Map<string, string> } | null;
}

/** The in-memory `OtpStore` (single process only). */
export interface MemoryStore extends OtpStore {
  /** Always `false`: state lives in this process only. */
  readonly distributedSafe: false;
  /** Forgets everything (for tests). */
  clear(): void;
}

/**
 * Creates an in-memory store: atomic within one process, lost on restart, never shared.
 *
 * @returns a fresh {@link MemoryStore}.
 * @example
 * ```ts
 * const verifier = createVerifier({ store: createMemoryStore() });
 * ```
 * @see REQUIREMENTS §(d) D.3.4
 */
export function createMemoryStore(): MemoryStore {
  const users = new Map<string, UserRecord>();
  const user = (id: string): UserRecord => {
    let u = users.get(id);
    if (u === undefined) {
      u = { throttles: new Map(), credentials: new Map(), recovery: null };
      users.set(id, u);
    }
    return u;
  };
  const credential = (userId: string, credentialId: string): Credential => {
    const creds = user(userId).credentials;
    let c = creds.get(credentialId);
    if (c === undefined) {
      c = { lastStep: null, hotpCounter: null, drift: 0 };
      creds.set(credentialId, c);
    }
    return c;
  };

  return {
    distributedSafe: false,
    clear(): void {
      users.clear();
    },
    async getState(userId, credentialId, scope): Promise<CredentialState> {
      const u = users.get(userId);
      const t = u?.throttles.get(scope);
      const c = u?.credentials.get(credentialId);
      return {
        failures: t?.failures ?? 0,
        lastFailureAt: t?.lastFailureAt ?? 0,
        drift: c?.drift ?? 0,
        hotpCounter: c?.hotpCounter ?? null,
        lastStep: c?.lastStep ?? null,
      };
    },
    async claimTotpStep(userId, credentialId, step): Promise<boolean> {
      const c = credential(userId, credentialId);
      if (c.lastStep !== null && c.lastStep >= step) return false;
      c.lastStep = step;
      return true;
    },
    async compareAndSetHotpCounter(userId, credentialId, expected, next): Promise<boolean> {
      const c = credential(userId, credentialId);
      if (c.hotpCounter !== expected) return false;
      c.hotpCounter = next;
      return true;
    },
    async recordFailure(userId, scope, now): Promise<number> {
      const throttles = user(userId).throttles;
      const t = throttles.get(scope) ?? { failures: 0, lastFailureAt: 0 };
      t.failures += 1;
      t.lastFailureAt = now;
      throttles.set(scope, t);
      return t.failures;
    },
    async resetFailures(userId, scope): Promise<void> {
      users.get(userId)?.throttles.delete(scope);
    },
    async setDrift(userId, credentialId, drift): Promise<void> {
      credential(userId, credentialId).drift = drift;
    },
    async getRecoveryCodeSet(userId): Promise<RecoveryCodeSet | null> {
      const r = users.get(userId)?.recovery;
      if (r === undefined || r === null) return null;
      return { setId: r.setId, issuedAt: r.issuedAt, total: r.total, codes: Array.from(r.codes, ([id, hash]) => ({ id, hash })) };
    },
    async consumeRecoveryCode(userId, codeId): Promise<boolean> {
      return users.get(userId)?.recovery?.codes.delete(codeId) ?? false;
    },
    async replaceRecoveryCodes(userId, set, expectedSetId): Promise<boolean> {
      const u = user(userId);
      if ((u.recovery?.setId ?? null) !== expectedSetId) return false;
      // A new record swapped in one assignment: no reader sees old and new codes together.
      u.recovery = { setId: set.setId, issuedAt: set.issuedAt, total: set.total, codes: new Map(set.codes.map((c) => [c.id, c.hash])) };
      return true;
    },
  };
}
