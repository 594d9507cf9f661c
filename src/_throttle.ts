/**
 * Throttling policy: exponential backoff after a few free failures and a hard lock at no more
 * than 100 consecutive failures (NIST SP 800-63B §5.2.2 / 63B-4 §3.2.2; RFC 4226 §7.3).
 * Pure functions of the counters the store keeps; the store only counts.
 * @module
 * @internal
 */
import { aint, aoptions } from './_assert.js';
import type { AttemptPolicy } from './store/types.js';

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

/** @internal Validated throttle policy: the store contract's attempt policy. */
export type ThrottlePolicy = AttemptPolicy;

const KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'freeFailures',
  'baseDelayMs',
  'maxDelayMs',
  'maxFailures',
]);
const DAY_MS = 86_400_000;

/** @internal */
export function resolveThrottle(options: unknown): ThrottlePolicy {
  const o = aoptions<ThrottleOptions>(options, KEYS, 'throttle');
  const maxFailures =
    o.maxFailures === undefined
      ? 100
      : aint(o.maxFailures, 'throttle.maxFailures', 1, 100, 'ERR_OPTION_INVALID');
  return {
    freeFailures:
      o.freeFailures === undefined
        ? 3
        : aint(o.freeFailures, 'throttle.freeFailures', 0, maxFailures, 'ERR_OPTION_INVALID'),
    baseDelayMs:
      o.baseDelayMs === undefined
        ? 1000
        : aint(o.baseDelayMs, 'throttle.baseDelayMs', 0, DAY_MS, 'ERR_OPTION_INVALID'),
    maxDelayMs:
      o.maxDelayMs === undefined
        ? 900_000
        : aint(o.maxDelayMs, 'throttle.maxDelayMs', 0, DAY_MS, 'ERR_OPTION_INVALID'),
    maxFailures,
  };
}

/**
 * @internal The wait owed after `failures` consecutive failures before the next attempt: none for
 * fewer than max(freeFailures, 1), then `baseDelayMs` doubling per failure up to `maxDelayMs`. The
 * exponent is capped at 30 (2^30 ms is beyond any allowed delay), so every store can compute the
 * same value in 64-bit integers.
 */
export function delayAfter(p: ThrottlePolicy, failures: number): number {
  const first = p.freeFailures === 0 ? 1 : p.freeFailures;
  if (failures < first) return 0;
  return Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.min(failures - first, 30));
}

/**
 * @internal Whether a bucket admits an attempt at `now`: not locked, and no delay owed or the delay
 * already passed since the last failure. The store decides with this rule; callers only explain
 * a refusal with {@link checkGate}.
 */
export function gateOpen(
  p: ThrottlePolicy,
  failures: number,
  lastFailureAt: number,
  now: number,
): boolean {
  if (failures >= p.maxFailures) return false;
  const delay = delayAfter(p, failures);
  return delay === 0 || now - lastFailureAt >= delay;
}

/** @internal Outcome of a throttle check. */
export type Gate =
  | { readonly open: true }
  | { readonly open: false; readonly reason: 'throttled'; readonly retryAfterMs: number }
  | { readonly open: false; readonly reason: 'locked' };

const OPEN: Gate = /* @__PURE__ */ Object.freeze({ open: true });
const LOCKED: Gate = /* @__PURE__ */ Object.freeze({ open: false, reason: 'locked' });

/** @internal Explains a bucket's state: locked, still backing off (and for how long), or open. */
export function checkGate(
  p: ThrottlePolicy,
  failures: number,
  lastFailureAt: number,
  now: number,
): Gate {
  if (failures >= p.maxFailures) return LOCKED;
  const delay = delayAfter(p, failures);
  // No delay owed: open even if another server's clock put lastFailureAt after our now.
  if (delay === 0) return OPEN;
  // A skewed lastFailureAt can never make the wait longer than the delay itself.
  const wait = Math.min(delay, lastFailureAt + delay - now);
  return wait > 0 ? { open: false, reason: 'throttled', retryAfterMs: wait } : OPEN;
}
