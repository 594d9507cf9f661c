/**
 * `otpkit/testing`: the contract suites every storage adapter must pass, shipped so that
 * third-party adapters (your ORM's tables, another database) can prove themselves with the same
 * checks as the built-in ones. Framework-agnostic: each suite returns named async cases that
 * throw on failure; register them with your test runner.
 *
 * ```ts
 * import { storeContract, factorStoreContract } from 'otpkit/testing';
 * for (const c of storeContract(() => createMyStore())) it(c.name, c.run, c.timeoutMs);
 * for (const c of factorStoreContract(() => createMyStore())) it(c.name, c.run, c.timeoutMs);
 * ```
 * @module
 */
import type { OtpStore } from './store/types.js';
import type { ContractCase } from './testing/_check.js';
import { faultContract } from './testing/faults.js';
import { storeContract as rules, type StoreContractOptions } from './testing/store.js';

export type { ContractCase } from './testing/_check.js';
export { factorStoreContract, type FactorStoreContractOptions } from './testing/factors.js';
export {
  faultContract,
  faultyStore,
  VERIFIER_ATTEMPTS,
  type FaultAttempt,
  type OtpStoreMethod,
  type FactorStoreMethod,
} from './testing/faults.js';
export type { StoreContractOptions } from './testing/store.js';

/**
 * Builds the `OtpStore` contract cases for a store factory: every rule of the hot state (see
 * the `otpkit/testing` store suite), then fault injection through `createVerifier` at every
 * method it calls (throws, hangs and nonsense answers never give `ok: true`).
 *
 * @param make - creates (or returns) the store under test; called once per case.
 * @param options - {@link StoreContractOptions}.
 * @returns the cases, to register with your test runner.
 * @example
 * ```ts
 * for (const c of storeContract(() => createMemoryStore())) it(c.name, c.run, c.timeoutMs);
 * ```
 */
export function storeContract(
  make: () => OtpStore | Promise<OtpStore>,
  options?: StoreContractOptions,
): ContractCase[] {
  return [
    ...rules(make, options),
    ...faultContract(make, undefined, undefined, { userPrefix: options?.userPrefix }),
  ];
}
export {
  twoFactorContract,
  type TwoFactorStores,
  type TwoFactorContractOptions,
} from './testing/twofactor.js';
export { twoFactorFaultContract } from './testing/twofactor.js';
