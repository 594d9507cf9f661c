/**
 * Runs one bundled test file inside Bun, Deno or workerd with @vitest/runner (vitest's own runner)
 * and vitest.config.ts's settings, and returns a plain JSON report for run.mjs to print and judge.
 * Tests that test/runtimes/manifest.mjs lists for this runtime are skipped (with the reason), and
 * failures that a known defect covers are reported as that defect; a listed name that matches no
 * test is an error, so the lists cannot go stale silently.
 * @module
 */
import { GLOBAL_EXPECT, getState, setState, type ExpectStatic } from '@vitest/expect';
import { startTests } from '@vitest/runner';
import type {
  File,
  Task,
  Test,
  TestContext,
  VitestRunner,
  VitestRunnerConfig,
} from '@vitest/runner/types';
import { applyPendingMocks, createExpect } from './vitest.js';

/** What one bundle runs: its test file, the setup file vitest.config.ts names, and the lists. */
export interface RunSpec {
  readonly runtime: string;
  readonly file: string;
  readonly setup: () => Promise<unknown>;
  readonly load: () => Promise<unknown>;
  /** Full test name (suites and test joined by ' > ') → why it does not run in this runtime. */
  readonly skip: Readonly<Record<string, string>>;
  /** Known defects of this runtime: the tests of this file they break, or the error they show. */
  readonly defects: readonly DefectSpec[];
}

/** A known defect, as manifest.mjs's `exceptionsFor` hands it over. */
export interface DefectSpec {
  readonly id: string;
  readonly reason: string;
  readonly tests: readonly string[];
  readonly symptom?: string;
  readonly flags?: string;
}

/**
 * One test's outcome. `xfail`: failed from a known defect (`defect` names it); `xpass`: listed
 * under a defect by name, yet passed.
 */
export interface TestOutcome {
  readonly name: string;
  readonly state: 'pass' | 'fail' | 'skip' | 'todo' | 'xfail' | 'xpass';
  readonly ms: number;
  readonly note?: string;
  readonly defect?: string;
  readonly error?: string;
}

/** The report a bundle prints, after the marker line, as one line of JSON. */
export interface FileReport {
  readonly runtime: string;
  readonly file: string;
  readonly runtimeVersion: string;
  readonly ms: number;
  readonly tests: readonly TestOutcome[];
  /** Errors outside any test: collection, hooks, unhandled rejections, stale manifest entries. */
  readonly errors: readonly string[];
}

/** The line before the JSON report, so that test output on stdout cannot be mistaken for it. */
export const REPORT_MARKER = '@@otpkit-runtime-report@@';

const G = globalThis as unknown as {
  process?: {
    on?: (e: string, f: (x: unknown) => void) => unknown;
    versions?: Record<string, string | undefined>;
  };
  addEventListener?: (
    e: string,
    f: (ev: { reason?: unknown; error?: unknown; preventDefault?: () => void }) => void,
  ) => void;
  navigator?: { userAgent?: string };
  Bun?: { version: string };
  Deno?: { version: { deno: string } };
} & Record<symbol, unknown>;

function runtimeVersion(): string {
  if (G.Bun !== undefined) return `bun ${G.Bun.version}`;
  if (G.Deno !== undefined) return `deno ${G.Deno.version.deno}`;
  if (G.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  return `node ${G.process?.versions?.node ?? '?'}`;
}

// tinyrainbow colours diffs wherever it finds no NO_COLOR (workerd passes no environment).
const plain = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

/**
 * An error as @vitest/runner serialised it (or as thrown), with its cause chain. A thrown value
 * that is not an Error has no name after serialisation: it is shown as `non-Error thrown: …`.
 */
function describeError(e: unknown, depth = 0): string {
  if (typeof e === 'object' && e !== null && 'message' in e) {
    const err = e as {
      name?: string;
      message?: string;
      stack?: string;
      diff?: string;
      cause?: unknown;
    };
    if (err.name === undefined && err.stack === undefined)
      return `non-Error thrown: ${err.message}`;
    const stack = (err.stack ?? '')
      .split('\n')
      .filter((l) => /^\s+at /.test(l))
      .slice(0, 6)
      .join('\n');
    const cause =
      'cause' in err && depth < 3 ? `cause: ${describeError(err.cause, depth + 1)}` : undefined;
    return plain(
      [`${err.name ?? 'Error'}: ${err.message ?? ''}`, err.diff, stack, cause]
        .filter(Boolean)
        .join('\n'),
    );
  }
  return `non-Error thrown: ${String(e)}`;
}

/** Unhandled rejections and uncaught errors fail the file, as they fail a vitest run. */
function watchUnhandled(errors: string[]): void {
  const seen = new Set<unknown>();
  const record = (kind: string, reason: unknown): void => {
    if (seen.has(reason)) return;
    seen.add(reason);
    errors.push(`${kind}: ${describeError(reason)}`);
  };
  // Bun and Deno emit process events; Deno and workerd also dispatch the web events. Listening to
  // both keeps the runtime from exiting, and `seen` counts an error once.
  if (typeof G.process?.on === 'function') {
    G.process.on('unhandledRejection', (r) => record('Unhandled rejection', r));
    G.process.on('uncaughtException', (e) => record('Uncaught exception', e));
  }
  if (typeof G.addEventListener === 'function') {
    G.addEventListener('unhandledrejection', (ev) => {
      ev.preventDefault?.();
      record('Unhandled rejection', ev.reason);
    });
    G.addEventListener('error', (ev) => {
      ev.preventDefault?.();
      record('Uncaught exception', ev.error);
    });
  }
}

const config: VitestRunnerConfig = {
  root: '/',
  setupFiles: ['test/_setup.ts'],
  name: undefined,
  passWithNoTests: false,
  testNamePattern: undefined,
  allowOnly: false,
  sequence: { shuffle: false, concurrent: false, seed: 0, hooks: 'stack', setupFiles: 'list' },
  chaiConfig: undefined,
  maxConcurrency: 5,
  // vitest.config.ts
  testTimeout: 60_000,
  hookTimeout: 60_000,
  retry: 0,
  includeTaskLocation: false,
  tags: [],
  tagsFilter: undefined,
  strictTags: false,
};

function* testsOf(task: Task): Generator<Test> {
  if (task.type === 'test') yield task;
  else for (const t of task.tasks) yield* testsOf(t);
}

function* suiteErrors(task: Task): Generator<string> {
  if (task.type === 'test') return;
  for (const e of task.result?.errors ?? [])
    yield `${task.type === 'suite' ? `suite "${task.fullTestName ?? task.name}"` : 'file'}: ${describeError(e)}`;
  for (const t of task.tasks) yield* suiteErrors(t);
}

/** Runs the file and reports; never rejects (a failure to run is an error in the report). */
export async function runFile(spec: RunSpec): Promise<FileReport> {
  const started = performance.now();
  const errors: string[] = [];
  watchUnhandled(errors);
  const listed = new Set([...Object.keys(spec.skip), ...spec.defects.flatMap((d) => d.tests)]);
  const symptoms = spec.defects.map((d) => ({
    d,
    re: d.symptom === undefined ? undefined : new RegExp(d.symptom, d.flags),
  }));
  const defectOf = (name: string, error: string | undefined): DefectSpec | undefined =>
    symptoms.find(
      ({ d, re }) => d.tests.includes(name) || (error !== undefined && re?.test(error) === true),
    )?.d;
  const runner: VitestRunner = {
    config,
    async importFile(_path, source) {
      if (source === 'setup') {
        await spec.setup();
        return;
      }
      await spec.load();
      await applyPendingMocks();
    },
    onCollected(files) {
      for (const file of files)
        for (const t of testsOf(file)) {
          if (spec.skip[t.fullTestName] !== undefined) t.mode = 'skip';
          listed.delete(t.fullTestName);
        }
    },
    extendTaskContext(context: TestContext) {
      (context as unknown as { expect: ExpectStatic }).expect = createExpect(context.task);
      return context;
    },
    onBeforeTryTask(test) {
      setState(
        {
          assertionCalls: 0,
          isExpectingAssertions: false,
          isExpectingAssertionsError: null,
          expectedAssertionsNumber: null,
          expectedAssertionsNumberErrorGen: null,
          currentTestName: test.fullTestName,
        },
        G[GLOBAL_EXPECT] as ExpectStatic,
      );
    },
    onAfterTryTask(test) {
      // vitest's checks for expect.assertions(n) and expect.hasAssertions().
      const local = (test.context as unknown as { expect: ExpectStatic }).expect;
      for (const e of [G[GLOBAL_EXPECT] as ExpectStatic, local]) {
        const s = getState(e);
        if (s.expectedAssertionsNumber !== null && s.assertionCalls !== s.expectedAssertionsNumber)
          throw (s.expectedAssertionsNumberErrorGen as () => Error)();
        if (s.isExpectingAssertions && s.assertionCalls === 0) throw s.isExpectingAssertionsError;
      }
    },
  };

  let files: File[] = [];
  try {
    files = await startTests([{ filepath: spec.file }], runner);
  } catch (e) {
    errors.push(`runner: ${describeError(e)}`);
  }
  const tests: TestOutcome[] = [];
  for (const file of files) {
    errors.push(...suiteErrors(file));
    for (const t of testsOf(file)) {
      const name = t.fullTestName;
      const ms = Math.round(t.result?.duration ?? 0);
      const error = (t.result?.errors ?? []).map(describeError).join('\n') || undefined;
      const skipReason = spec.skip[name];
      const state = t.result?.state ?? (t.mode === 'todo' ? 'todo' : 'skip');
      const err = error === undefined ? {} : { error };
      if (skipReason !== undefined) tests.push({ name, state: 'skip', ms, note: skipReason });
      else if (state === 'skip' || state === 'todo')
        tests.push({ name, state: t.mode === 'todo' ? 'todo' : 'skip', ms });
      else if (state === 'pass') {
        const listedDefect = spec.defects.find((d) => d.tests.includes(name));
        tests.push(
          listedDefect === undefined
            ? { name, state: 'pass', ms }
            : {
                name,
                state: 'xpass',
                ms,
                defect: listedDefect.id,
                note: `passes now: remove it from defect ${listedDefect.id} in test/runtimes/manifest.mjs`,
              },
        );
      } else {
        const d = defectOf(name, error);
        tests.push(
          d === undefined
            ? { name, state: 'fail', ms, ...err }
            : { name, state: 'xfail', ms, defect: d.id, note: d.reason, ...err },
        );
      }
    }
  }
  for (const name of listed)
    errors.push(`manifest: no test named ${JSON.stringify(name)} in ${spec.file}`);
  // Let late rejections (a promise that settles after its test) surface before reporting.
  await new Promise((r) => setTimeout(r, 20));
  return {
    runtime: spec.runtime,
    file: spec.file,
    runtimeVersion: runtimeVersion(),
    ms: Math.round(performance.now() - started),
    tests,
    errors,
  };
}
