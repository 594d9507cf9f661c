/**
 * What `import … from 'vitest'` resolves to when test/runtimes/run.mjs bundles a test file for Bun,
 * Deno or workerd. It is vitest's own runtime-agnostic parts, wired as vitest wires them:
 * `describe`/`it`/hooks from @vitest/runner (the same collector and runner, so `.each`, `.skipIf`,
 * timeouts and hook order behave alike), `expect` from @vitest/expect on chai (vitest's matchers,
 * asymmetric matchers and `.resolves`/`.rejects` bookkeeping), and spies from @vitest/spy. Only `vi`
 * is ours: fake timers fake `Date` alone, and `vi.mock` works for the modules the bundler wired (see
 * run.mjs). Anything else on `vi` throws, so a test that needs more fails loudly instead of passing.
 * @module
 */
import {
  ASYMMETRIC_MATCHERS_OBJECT,
  ChaiStyleAssertions,
  GLOBAL_EXPECT,
  JestAsymmetricMatchers,
  JestChaiExpect,
  JestExtend,
  addCustomEqualityTesters,
  chai,
  customMatchers,
  getState,
  setState,
  type ExpectStatic,
  type MatcherState,
} from '@vitest/expect';
import { getCurrentTest } from '@vitest/runner';
import type { Test } from '@vitest/runner/types';
import {
  clearAllMocks,
  fn,
  isMockFunction,
  resetAllMocks,
  restoreAllMocks,
  spyOn as vitestSpyOn,
} from '@vitest/spy';

export {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  it,
  onTestFailed,
  onTestFinished,
  suite,
  test,
} from '@vitest/runner';

// The plugins vitest installs, in vitest's order (its snapshot plugin aside: no test here snapshots).
chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(ChaiStyleAssertions);
chai.use(JestAsymmetricMatchers);

type Expect = ExpectStatic & Record<string, unknown>;
const G = globalThis as unknown as Record<symbol, unknown>;

/** vitest's `createExpect`: one `expect` per test, counting assertions and tracking async ones. */
export function createExpect(test?: Test): ExpectStatic {
  const expect = ((value: unknown, message?: string) => {
    const { assertionCalls } = getState(expect);
    setState({ assertionCalls: assertionCalls + 1 }, expect);
    const assertion = chai.expect(value, message) as unknown as { withTest(t: Test): unknown };
    const current = test ?? getCurrentTest();
    return current === undefined ? assertion : assertion.withTest(current);
  }) as unknown as Expect;
  Object.assign(expect, chai.expect);
  Object.assign(expect, G[ASYMMETRIC_MATCHERS_OBJECT]);
  expect.getState = () => getState(expect);
  expect.setState = (state: Partial<MatcherState>) => setState(state, expect);
  const globalState = (
    G[GLOBAL_EXPECT] === undefined ? {} : getState(G[GLOBAL_EXPECT] as ExpectStatic)
  ) as Partial<MatcherState>;
  setState(
    {
      ...globalState,
      assertionCalls: 0,
      isExpectingAssertions: false,
      isExpectingAssertionsError: null,
      expectedAssertionsNumber: null,
      expectedAssertionsNumberErrorGen: null,
      currentTestName: test?.fullTestName ?? globalState.currentTestName ?? '',
    },
    expect,
  );
  expect.assert = chai.assert;
  expect.extend = (matchers: Record<string, unknown>) =>
    (chai.expect as unknown as { extend: (e: unknown, m: unknown) => void }).extend(
      expect,
      matchers,
    );
  expect.addEqualityTesters = addCustomEqualityTesters;
  expect.soft = () => {
    throw new Error('expect.soft is not supported by the runtime shim (test/runtimes/vitest.ts)');
  };
  expect.poll = () => {
    throw new Error('expect.poll is not supported by the runtime shim (test/runtimes/vitest.ts)');
  };
  expect.unreachable = (message?: string) => {
    chai.assert.fail(`expected${message ? ` "${message}" ` : ' '}not to be reached`);
  };
  chai.util.addMethod(expect, 'assertions', (expected: number) => {
    const errorGen = (): Error =>
      new Error(
        `expected number of assertions to be ${expected}, but got ${getState(expect).assertionCalls}`,
      );
    setState(
      { expectedAssertionsNumber: expected, expectedAssertionsNumberErrorGen: errorGen },
      expect,
    );
  });
  chai.util.addMethod(expect, 'hasAssertions', () => {
    setState(
      {
        isExpectingAssertions: true,
        isExpectingAssertionsError: new Error('expected any number of assertion, but got none'),
      },
      expect,
    );
  });
  expect.extend(customMatchers);
  return expect;
}

/** The global `expect`, registered where @vitest/expect looks for it, as vitest does. */
export const expect: ExpectStatic = createExpect();
Object.defineProperty(globalThis, GLOBAL_EXPECT, {
  value: expect,
  writable: true,
  configurable: true,
});
export const assert: Chai.AssertStatic = chai.assert;

// --- vi.mock: live re-exports that run.mjs generates for each mocked module -------------------------

type ModuleRecord = Record<string, unknown>;
interface MockSlot {
  readonly real: ModuleRecord;
  readonly apply: (mocked: ModuleRecord) => void;
}
const slots = new Map<string, MockSlot>();
const pending: { id: string; factory: (importOriginal: () => Promise<ModuleRecord>) => unknown }[] =
  [];

/**
 * @internal Called by the stand-in module that run.mjs puts in place of each module a test file
 * mocks: `apply` rebinds the stand-in's exports, which every importer sees (ES live bindings).
 */
export function registerMockSlot(
  id: string,
  real: ModuleRecord,
  apply: (mocked: ModuleRecord) => void,
): void {
  slots.set(id, { real, apply });
}

/**
 * @internal Runs the factories of the `vi.mock` calls that the test file made while it loaded. The
 * harness awaits this before collecting tests, as vitest has the mocks in place before any test.
 */
export async function applyPendingMocks(): Promise<void> {
  for (const { id, factory } of pending.splice(0)) {
    const slot = slots.get(id);
    if (slot === undefined)
      throw new Error(`vi.mock(${JSON.stringify(id)}): run.mjs did not wire this module`);
    const mocked = (await factory(() => Promise.resolve(slot.real))) as ModuleRecord;
    slot.apply(mocked);
  }
}

// --- vi.useFakeTimers({ toFake: ['Date'] }) -------------------------------------------------------

const RealDate = Date;
let fakeNow: number | undefined;

function installFakeDate(): void {
  class FakeDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(fakeNow ?? RealDate.now());
      else super(...(args as [string]));
    }
    static override now(): number {
      return fakeNow ?? RealDate.now();
    }
  }
  // `Date()` called without `new` returns the (fake) current time as a string, as the real one does.
  globalThis.Date = new Proxy(FakeDate, {
    apply: () => new RealDate(FakeDate.now()).toString(),
  }) as DateConstructor;
}

// --- vi.spyOn --------------------------------------------------------------------------------------

/**
 * @vitest/spy's `spyOn`, made safe for Bun: Bun defines Web IDL methods such as
 * `Crypto.prototype.getRandomValues` as non-configurable (Web IDL says configurable), so the spy
 * that spyOn copies onto the instance could never be removed and `vi.restoreAllMocks()` would
 * leave it in place for every later test. An inherited, non-configurable method is first given a
 * configurable own copy of itself on the instance; restoring then puts the original back there.
 */
const spyOn: typeof vitestSpyOn = ((object: object, key: PropertyKey, accessor?: 'get' | 'set') => {
  if (!Object.prototype.hasOwnProperty.call(object, key)) {
    for (
      let o = Object.getPrototypeOf(object) as object | null;
      o !== null;
      o = Object.getPrototypeOf(o) as object | null
    ) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d === undefined) continue;
      if (!d.configurable && 'value' in d && Object.isExtensible(object))
        Object.defineProperty(object, key, {
          value: d.value as unknown,
          writable: d.writable ?? false,
          enumerable: d.enumerable ?? false,
          configurable: true,
        });
      break;
    }
  }
  return (vitestSpyOn as (o: object, k: PropertyKey, a?: 'get' | 'set') => unknown)(
    object,
    key,
    accessor,
  );
}) as typeof vitestSpyOn;

/** vitest's fake-timer options, of which the shim honours `toFake: ['Date']` and `now`. */
export interface FakeTimerOptions {
  toFake?: readonly string[];
  now?: number | Date;
}

/** The members of vitest's `vi` that the shim provides. */
export interface ShimVi {
  fn: typeof fn;
  spyOn: typeof vitestSpyOn;
  isMockFunction: typeof isMockFunction;
  mocked<T>(value: T): T;
  clearAllMocks(): unknown;
  resetAllMocks(): unknown;
  restoreAllMocks(): unknown;
  mock(id: string, factory?: (importOriginal: () => Promise<ModuleRecord>) => unknown): void;
  useFakeTimers(options?: FakeTimerOptions): unknown;
  useRealTimers(): unknown;
  isFakeTimers(): boolean;
  setSystemTime(time: number | string | Date): unknown;
  getRealSystemTime(): number;
}

/** The `vi` the selected test files use; any other member throws with a clear message. */
const viImpl: ShimVi = {
  fn: fn,
  spyOn: spyOn,
  isMockFunction: isMockFunction,
  mocked: <T>(value: T): T => value,
  clearAllMocks(): unknown {
    clearAllMocks();
    return vi;
  },
  resetAllMocks(): unknown {
    resetAllMocks();
    return vi;
  },
  restoreAllMocks(): unknown {
    restoreAllMocks();
    return vi;
  },
  mock(id: string, factory?: (importOriginal: () => Promise<ModuleRecord>) => unknown): void {
    if (typeof factory !== 'function')
      throw new Error(
        `vi.mock(${JSON.stringify(id)}) without a factory (automocking) is not supported by the runtime shim`,
      );
    pending.push({ id, factory });
  },
  useFakeTimers(options: FakeTimerOptions = {}): unknown {
    const toFake = options.toFake ?? [];
    if (toFake.length !== 1 || toFake[0] !== 'Date')
      throw new Error(
        "the runtime shim fakes only Date: call vi.useFakeTimers({ toFake: ['Date'] })",
      );
    fakeNow = options.now === undefined ? RealDate.now() : Number(options.now);
    if (globalThis.Date === RealDate) installFakeDate();
    return vi;
  },
  useRealTimers(): unknown {
    fakeNow = undefined;
    globalThis.Date = RealDate;
    return vi;
  },
  isFakeTimers: (): boolean => fakeNow !== undefined,
  setSystemTime(time: number | string | Date): unknown {
    const ms = new RealDate(time).getTime();
    if (fakeNow === undefined)
      throw new Error('vi.setSystemTime needs vi.useFakeTimers() in the runtime shim');
    fakeNow = ms;
    return vi;
  },
  getRealSystemTime: (): number => RealDate.now(),
};

/** vitest's `vi`, as far as the runtime-independent tests use it. */
export const vi: ShimVi = new Proxy(viImpl, {
  get(target, key, receiver) {
    if (typeof key === 'string' && !(key in target))
      throw new Error(`vi.${key} is not supported by the runtime shim (test/runtimes/vitest.ts)`);
    return Reflect.get(target, key, receiver) as unknown;
  },
});
export const vitest: ShimVi = vi;
