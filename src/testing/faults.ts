/**
 * Fault injection: a store whose one method throws, hangs or answers nonsense, and the cases
 * proving that no such fault ever turns into `ok: true` or a plain "wrong code".
 * @module
 */
import { generateHOTP } from '../hotp.js';
import { generateTOTP } from '../totp.js';
import { OTP_STORE_METHODS } from '../_guard.js';
import { OtpkitError } from '../errors.js';
import type { FactorStore, OtpStore } from '../store/types.js';
import type { Verifier, VerifierOptions } from '../verifier/types.js';
import { createVerifier } from '../verifier/verifier.js';
import { check, ids, suite, type ContractCase } from './_check.js';

/** The methods of `OtpStore` that fault injection can break. */
export type OtpStoreMethod = Exclude<keyof OtpStore, 'distributedSafe'>;
/** The methods of `FactorStore` that fault injection can break. */
export type FactorStoreMethod = keyof FactorStore;

/** The methods fault injection can break: every `OtpStore` method, as the layers check them. */
const METHODS: readonly OtpStoreMethod[] = OTP_STORE_METHODS;

/** Answers that look like results but break the contract, one per method. */
const NONSENSE: Readonly<Record<OtpStoreMethod, unknown>> = {
  attemptTotp: { status: 'ok', delta: 99 },
  beginAttempt: {
    status: 'admitted',
    userId: 'x',
    failures: 0,
    challenge: null,
    credentials: {},
    recoverySet: null,
  },
  settleAttempt: { status: 'ok', remaining: -1 },
  getThrottle: { failures: -1, lastFailureAt: 0 },
  resetThrottle: 'done',
  getCredentials: { c: { lastStep: 'abc', hotpCounter: -5n, drift: 40, lastUsedAt: null } },
  initCredential: 'yes',
  deleteCredentials: 1,
  getRecoveryCodeSet: { setId: 'bad id', issuedAt: 0, total: 1, codes: [] },
  replaceRecoveryCodes: 'true',
  createChallenge: { recoveryCodes: -1, device: null },
  deleteChallenges: [],
  consumeStepUp: 1,
  eraseUser: 'erased',
  setChallengeCode: 'set',
  createDevice: true,
  rotateDevice: { status: 'rotated', device: { id: 'x' } },
  listDevices: [{ id: 1 }],
  revokeDevices: -3,
  reserveSend: { ok: 'yes' },
  releaseSend: 'released',
};

/** Nonsense answers of the registry, one per method. */
const FACTOR_NONSENSE: Readonly<Record<FactorStoreMethod, unknown>> = {
  addFactor: 'maybe',
  listFactors: [{ userId: 'someone else', id: 'f', type: 'totp', label: 'x', status: 'confirmed' }],
  confirmFactor: 'yes',
  renameFactor: 'renamed',
  removeFactor: 1,
  removeFactors: -1,
  resealFactor: 'ok',
  scanFactors: { factors: [] },
};

/**
 * Wraps a store so that one method misbehaves: `'throw'` rejects, `'hang'` never settles,
 * `'garbage'` runs the real call and then resolves a malformed answer. Used by the fault cases;
 * handy for your own tests.
 *
 * @param store - the store to wrap.
 * @param method - the method that misbehaves.
 * @param mode - how it misbehaves.
 * @returns a store that delegates every other call.
 * @example
 * ```ts
 * const broken = faultyStore(createMemoryStore(), 'settleAttempt', 'hang');
 * ```
 */
export function faultyStore<S extends object>(
  store: S,
  method: OtpStoreMethod | FactorStoreMethod,
  mode: 'throw' | 'hang' | 'garbage',
): S {
  // A fresh object that delegates, not a Proxy: an adapter may freeze its store.
  const out: Record<string | symbol, unknown> = {};
  for (
    let o: object | null = store;
    o !== null && o !== Object.prototype;
    o = Object.getPrototypeOf(o) as object | null
  )
    for (const key of Reflect.ownKeys(o)) {
      if (key === 'constructor' || key in out) continue;
      const real: unknown = Reflect.get(store, key);
      out[key] =
        typeof real === 'function' ? (real as (...a: unknown[]) => unknown).bind(store) : real;
    }
  const real = out[method];
  if (typeof real === 'function')
    out[method] = async (...args: unknown[]): Promise<unknown> => {
      if (mode === 'throw') throw new Error('injected storage failure');
      if (mode === 'hang') return new Promise(() => {});
      await (real as (...a: unknown[]) => Promise<unknown>)(...args);
      return method in NONSENSE
        ? NONSENSE[method as OtpStoreMethod]
        : FACTOR_NONSENSE[method as FactorStoreMethod];
    };
  return out as S;
}

const SECRET = /* @__PURE__ */ new Uint8Array(20).map((_, i) => i * 7 + 1);
const T = Date.UTC(2030, 0, 1);

/** One thing a caller does through a layer, on a fresh user; reports whether it claimed success. */
export type FaultAttempt = (
  layer: { verifier: Verifier; healthy: Verifier },
  userId: string,
) => Promise<{ ok: boolean } | undefined>;

/** The attempts of the fault cases through `createVerifier`: every method it calls is reached by one. */
export const VERIFIER_ATTEMPTS: readonly FaultAttempt[] = [
  // One step ahead, so a success also learns drift.
  ({ verifier }, u) =>
    verifier.verifyTOTP({
      userId: u,
      secret: SECRET,
      token: generateTOTP(SECRET, { now: T + 30_000 }),
      now: T,
    }),
  ({ verifier }, u) =>
    verifier.verifyTOTP({
      userId: u,
      secret: () => SECRET,
      token: generateTOTP(SECRET, { now: T }),
      now: T,
    }),
  ({ verifier }, u) => verifier.verifyTOTP({ userId: u, secret: SECRET, token: '000000', now: T }),
  ({ verifier }, u) =>
    verifier.verifyHOTP({ userId: u, secret: SECRET, token: generateHOTP(SECRET, 0), now: T }),
  async ({ verifier, healthy }, u) => {
    const [code] = await healthy.issueRecoveryCodes({ userId: u, count: 2, now: T });
    return verifier.redeemRecoveryCode({ userId: u, code: code as string, now: T });
  },
  async ({ verifier }, u) => {
    await verifier.issueRecoveryCodes({ userId: u, count: 1, now: T });
    return undefined;
  },
  async ({ verifier }, u) => {
    await verifier.throttleStatus(u, 'otp', { now: T });
    await verifier.unlock(u, 'recovery');
    return undefined;
  },
];

/**
 * Builds the fault cases: for each method and each way of misbehaving, every attempt that reaches
 * the faulty method throws `OtpkitError` with a storage code (never `ok: true`, never a plain
 * "wrong code"), and at least one attempt reaches it.
 *
 * @param make - creates (or returns) the store under test.
 * @param attempts - what to do through the layers; defaults to the verifier's attempts.
 * @param methods - the methods to break; defaults to those the attempts reach.
 * @param options - `userPrefix` for the user ids.
 * @returns the cases.
 * @example
 * ```ts
 * for (const c of faultContract(() => createMemoryStore())) it(c.name, c.run, c.timeoutMs);
 * ```
 */
export function faultContract(
  make: () => OtpStore | Promise<OtpStore>,
  attempts: readonly FaultAttempt[] = VERIFIER_ATTEMPTS,
  methods: readonly OtpStoreMethod[] = [
    'attemptTotp',
    'beginAttempt',
    'settleAttempt',
    'getThrottle',
    'resetThrottle',
    'getRecoveryCodeSet',
    'replaceRecoveryCodes',
  ],
  options?: { readonly userPrefix?: string | undefined },
): ContractCase[] {
  const uid = ids(options?.userPrefix);
  const { cases, add } = suite();
  const layer = (store: OtpStore, extra?: VerifierOptions): Verifier =>
    createVerifier({
      store,
      storeTimeoutMs: 300,
      now: () => T,
      recoveryHash: { logN: 10 },
      ...extra,
    });
  for (const method of methods) {
    if (!METHODS.includes(method))
      throw new TypeError(`faultContract: unknown method ${String(method)}`);
    for (const mode of ['throw', 'hang', 'garbage'] as const) {
      add(
        `fails closed when ${method} ${mode === 'garbage' ? 'answers nonsense' : `${mode}s`}`,
        async () => {
          const base = await make();
          let hits = 0;
          const counted = new Proxy(faultyStore(base, method, mode), {
            get(target, prop, receiver): unknown {
              if (prop === method) hits++;
              return Reflect.get(target, prop, receiver);
            },
          });
          const healthy = layer(base);
          const verifier = layer(counted);
          let reached = 0;
          for (const attempt of attempts) {
            const before = hits;
            let outcome: { ok: boolean } | undefined | Error;
            try {
              outcome = await attempt({ verifier, healthy }, uid());
            } catch (e) {
              check(
                e instanceof OtpkitError && e.code.startsWith('ERR_STORE'),
                `${method} ${mode}: threw ${String(e)} instead of a storage OtpkitError`,
              );
              outcome = e as Error;
            }
            if (hits === before) continue; // this attempt never reached the faulty method
            reached++;
            check(
              outcome instanceof OtpkitError,
              `${method} ${mode}: an attempt that hit the fault resolved ${JSON.stringify(outcome)} instead of throwing`,
            );
          }
          check(reached > 0, `${method} ${mode}: no attempt reached the faulty method`);
        },
      );
    }
  }
  return cases;
}
