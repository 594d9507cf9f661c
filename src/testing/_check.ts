/**
 * The assertions of the contract suites: framework-agnostic, throwing a `ContractViolation` that
 * says what was expected.
 * @module
 * @internal
 */

/** @internal A broken contract rule. */
export class ContractViolation extends Error {
  override name = 'ContractViolation';
}

/** @internal Throws unless `cond`. */
export function check(cond: boolean, message: string): void {
  if (!cond) throw new ContractViolation(message);
}

const show = (v: unknown): string => {
  try {
    return JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
  } catch {
    return String(v);
  }
};

/** @internal Throws unless `actual` and `expected` are the same plain data (deeply, bigints included). */
export function eq(actual: unknown, expected: unknown, what: string): void {
  check(
    show(actual) === show(expected),
    `${what}: expected ${show(expected)}, got ${show(actual)}`,
  );
}

/** One contract check. */
export interface ContractCase {
  /** What it checks. */
  readonly name: string;
  /** Runs the check; rejects with an `Error` describing the violation. */
  readonly run: () => Promise<void>;
  /** A generous time limit for the check, in ms. */
  readonly timeoutMs: number;
}

/** @internal Collects cases. */
export function suite(): {
  cases: ContractCase[];
  add: (name: string, run: () => Promise<void>, timeoutMs?: number) => void;
} {
  const cases: ContractCase[] = [];
  return {
    cases,
    add: (name, run, timeoutMs = 30_000) => void cases.push({ name, run, timeoutMs }),
  };
}

/** @internal Unique ids for one run of a suite, so runs never collide in a shared server. */
export function ids(prefix: string | undefined): () => string {
  const base = prefix ?? `contract-${Math.random().toString(36).slice(2, 10)}`;
  let seq = 0;
  return () => `${base}-${++seq}`;
}

/**
 * @internal `store` with the answers of `method` held back while armed, until `n` calls have
 * answered (or 3 s have passed): `n` concurrent operations all read before any of them goes on to
 * write, whatever the backend's connection pool does.
 */
export function heldReads<S extends object>(
  store: S,
  method: string,
  n: number,
): { readonly store: S; arm(): void; disarm(): void } {
  let waiting: (() => void)[] | null = null;
  const held = new Proxy(store, {
    get(target, key) {
      const v: unknown = Reflect.get(target, key);
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      if (key !== method) return f;
      return async (...a: unknown[]) => {
        const answer = await f(...a);
        const w = waiting;
        if (w !== null)
          await new Promise<void>((resolve) => {
            w.push(resolve);
            if (w.length === n) for (const go of w) go();
            else setTimeout(resolve, 3000);
          });
        return answer;
      };
    },
  });
  return {
    store: held,
    arm: () => {
      waiting = [];
    },
    disarm: () => {
      waiting = null;
    },
  };
}
