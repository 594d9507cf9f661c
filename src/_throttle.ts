/**
 * Throttling policy: exponential backoff after a few free failures and a hard lock at no more
 * than 100 consecutive failures (NIST SP 800-63B §5.2.2 / 63B-4 §3.2.2; RFC 4226 §7.3).
 * Pure functions of the counters the store keeps; the store only counts.
 * @module
 * @internal
 */
import { aint, aoptions } from './_assert.js';

/** Throttle settings of the store-backed verifier. */
export interface ThrottleOptions {
  /** Failures allowed with no delay (typing mistakes). @defaultValue 3 */
  readonly freeFailures?: number | undefined;
  /** Delay after the first failure beyond the free ones; doubles with each further failure. @defaultValue 1000 */
  readonly baseDelayMs?: number | undefined;
  /** Longest backoff delay. @defaultValue 900000 (15 minutes) */
  readonly maxDelayMs?: number | undefined;
  /**
   * Consecutive failures at which the credential locks until `unlock()` (1–100; NIST allows no
   * more than 100). @defaultValue 100
   */
  readonly maxFailures?: number | undefined;
}

/** @internal Validated throttle policy. */
export interface ThrottlePolicy {
  readonly freeFailures: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxFailures: number;
}

const KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['freeFailures', 'baseDelayMs', 'maxDelayMs', 'maxFailures']);
const DAY_MS = 86_400_000;

/** @internal */
export function resolveThrottle(options: unknown): ThrottlePolicy {
  const o = aoptions<ThrottleOptions>(options, KEYS, 'throttle');
  const maxFailures = o.maxFailures === undefined ? 100 : aint(o.maxFailures, 'throttle.maxFailures', 1, 100, 'ERR_OPTION_INVALID');
  return {
    freeFailures: o.freeFailures === undefined ? 3 : aint(o.freeFailures, 'throttle.freeFailures', 0, maxFailures, 'ERR_OPTION_INVALID'),
    baseDelayMs: o.baseDelayMs === undefined ? 1000 : aint(o.baseDelayMs, 'throttle.baseDelayMs', 0, DAY_MS, 'ERR_OPTION_INVALID'),
    maxDelayMs: o.maxDelayMs === undefined ? 900_000 : aint(o.maxDelayMs, 'throttle.maxDelayMs', 0, DAY_MS, 'ERR_OPTION_INVALID'),
    maxFailures,
  };
}

/** @internal The wait required after `failures` consecutive failures before the next attempt. */
export function delayAfter(p: ThrottlePolicy, failures: number): number {
  // The first delayed failure is number max(freeFailures, 1): it owes baseDelayMs, the next twice that.
  const first = p.freeFailures === 0 ? 1 : p.freeFailures;
  if (failures < first) return 0;
  const exp = failures - first;
  return Math.min(p.maxDelayMs, exp >= 40 ? p.maxDelayMs : p.baseDelayMs * 2 ** exp);
}

/** @internal Outcome of a throttle check. */
export type Gate =
  | { readonly open: true }
  | { readonly open: false; readonly reason: 'throttled'; readonly retryAfterMs: number }
  | { readonly open: false; readonly reason: 'locked' };

const OPEN: Gate = /* @__PURE__ */ Object.freeze({ open: true });
const LOCKED: Gate = /* @__PURE__ */ Object.freeze({ open: false, reason: 'locked' });

/** @internal Checks the state read before an attempt: locked, still backing off, or open. */
export function checkGate(p: ThrottlePolicy, failures: number, lastFailureAt: number, now: number): Gate {
  if (failures >= p.maxFailures) return LOCKED;
  const delay = delayAfter(p, failures);
  // No delay owed: open even if another server's clock put lastFailureAt after our now.
  if (delay === 0) return OPEN;
  // A skewed lastFailureAt can never make the wait longer than the delay itself.
  const wait = Math.min(delay, lastFailureAt + delay - now);
  return wait > 0 ? { open: false, reason: 'throttled', retryAfterMs: wait } : OPEN;
}

/**
 * @internal Decides whether an attempt may be evaluated after it was counted (pessimistically, as
 * a failure) and the store returned `count`. If other attempts were counted between our read
 * (`before` failures) and our increment, we are inside a parallel burst: only attempts whose own
 * predecessor count needs no delay may proceed. This keeps N parallel guesses from all being
 * evaluated against one stale "not throttled" read.
 */
export function admit(p: ThrottlePolicy, before: number, count: number): Gate {
  if (count > p.maxFailures) return LOCKED;
  if (count - 1 === before) return OPEN; // nobody slipped in: the check we made still holds
  const wait = delayAfter(p, count - 1);
  return wait === 0 ? OPEN : { open: false, reason: 'throttled', retryAfterMs: wait };
}
