/**
 * Which test files run outside Node (in Bun, Deno and workerd), and the per-runtime exceptions.
 *
 * A file belongs here when it needs nothing but the JavaScript runtime: no server, no child
 * process, no file of the repository read at run time, no browser. Every test of a listed file
 * runs in every runtime, except:
 * - FILE_SKIPS: a file the runtime cannot load (only in the Worker without Node.js compatibility);
 * - SKIPS: the assertion is about Node itself, so it cannot hold elsewhere (with the reason);
 * - DEFECTS: a known defect of src/ in a runtime. Its tests still run; a failure that the entry
 *   covers (by test name, or by an error matching its `symptom`) is reported as that defect
 *   instead of failing the run, and once the defect no longer shows the run fails until the entry
 *   is removed.
 * Test names are full names (describe blocks and test joined by ' > '); one that matches no test
 * is an error, so the lists cannot go stale silently.
 *
 * Left to Node (vitest) only, and why:
 * - test/sha1.generated.test.ts: compares src/_sha1.ts with what scripts/gen-sha1.mjs writes (reads
 *   the repository, spawns node); the compression function it covers runs everywhere through the
 *   RFC 4226 vectors and the HMAC properties.
 * - test/uri.interop.test.ts, crosscheck, cli*, install, readme, errors.dual, browser, e2e/, and
 *   the Redis and PostgreSQL suites in test/store/: they drive other programs, packages or servers.
 * @module
 */

/** @type {readonly string[]} */
export const FILES = [
  'test/vectors.test.ts',
  'test/hotp.test.ts',
  'test/totp.test.ts',
  'test/base32.test.ts',
  'test/base32.prop.test.ts',
  'test/verify.test.ts',
  'test/verify.prop.test.ts',
  'test/hmac.prop.test.ts',
  'test/bad-inputs.test.ts',
  'test/compat.test.ts',
  'test/verifier.test.ts',
  'test/twofactor.test.ts',
  'test/recovery.test.ts',
  'test/recovery.prop.test.ts',
  'test/recovery.timing.test.ts',
  'test/scrypt.test.ts',
  'test/uri.test.ts',
  'test/uri.prop.test.ts',
  'test/qr.test.ts',
  'test/envelope.test.ts',
  'test/store/memory.test.ts',
  // Bun only (ONLY below): the SQLite store on bun:sqlite, through the shipped contract suites.
  'test/runtimes/sqlite.bun.ts',
];

/**
 * Files that only some runtimes run, with the reason; every other file runs in all of them.
 * @type {Record<string, { runtimes: readonly string[], reason: string }>}
 */
export const ONLY = {
  'test/runtimes/sqlite.bun.ts': {
    runtimes: ['bun'],
    reason:
      "bun:sqlite is Bun's own module; Node runs the same contracts on better-sqlite3 (test/store/sqlite.test.ts)",
  },
};

/**
 * Files that spend much of their time waiting rather than computing: run.mjs runs them one after
 * the other in a lane of their own, beside the `--jobs` lanes of the other files, so that the
 * cores are not idle while they wait.
 * @type {Record<string, string>} file → what it waits for
 */
export const WAITING = {
  'test/twofactor.test.ts':
    "the fault suite's 29 'hangs' cases (one per store method) wait out storeTimeoutMs (300 ms) once per operation that reaches the hung method: " +
    'about 40% of the file (Bun: 30 s wall, 18 s CPU)',
  'test/runtimes/sqlite.bun.ts': 'the same fault suite as test/twofactor.test.ts, on bun:sqlite',
};

const NODE_CRYPTO_ORACLE =
  'imports node:crypto, its independent oracle (createHmac, scryptSync), which a Worker without nodejs_compat lacks';
const NODE_SCRYPT_SPY =
  "reaches Node's scrypt through process.getBuiltinModule('node:crypto') to spy on it or hide it";
/**
 * Files a runtime cannot load at all, with the reason. Only `workerd-web` (a Worker without
 * Node.js compatibility) has any: the files whose oracle is node:crypto, or that reach Node's
 * scrypt through process.getBuiltinModule, need Node's APIs by design.
 * @type {Record<string, Record<string, string>>} runtime → file → reason
 */
export const FILE_SKIPS = {
  'workerd-web': {
    'test/vectors.test.ts': NODE_CRYPTO_ORACLE,
    'test/hotp.test.ts': NODE_CRYPTO_ORACLE,
    'test/totp.test.ts': NODE_CRYPTO_ORACLE,
    'test/verify.test.ts': NODE_CRYPTO_ORACLE,
    'test/verify.prop.test.ts': NODE_CRYPTO_ORACLE,
    'test/hmac.prop.test.ts': NODE_CRYPTO_ORACLE,
    'test/bad-inputs.test.ts': NODE_CRYPTO_ORACLE,
    'test/recovery.test.ts': `${NODE_CRYPTO_ORACLE}; and it ${NODE_SCRYPT_SPY}`,
    'test/recovery.timing.test.ts': `it ${NODE_SCRYPT_SPY}`,
    'test/scrypt.test.ts': `it ${NODE_SCRYPT_SPY}`,
  },
};

/**
 * Tests a runtime does not run, with the reason. None at present: every test of a file that a
 * runtime loads runs there.
 * @type {Record<string, Record<string, Record<string, string>>>} runtime → file → test name → reason
 */
export const SKIPS = {};

/**
 * @typedef {object} Defect
 * @property {string} id short name, shown with each failure it covers
 * @property {string} runtime
 * @property {string} reason what is wrong, and where in src/
 * @property {Record<string, string[]>} [tests] file → tests it makes fail
 * @property {RegExp} [symptom] or: any failing test whose error matches
 */
/**
 * None open. The two that these runs found were fixed in src/_scrypt.ts: Bun's node:crypto scrypt
 * calls back with `undefined` (not `null`) on success, which rejected every native hash; workerd's
 * hashes synchronously on the isolate's thread, and now goes through the one-hash-per-turn queue.
 * @type {readonly Defect[]}
 */
export const DEFECTS = [];

/**
 * What the bundle of `file` for `runtime` needs to know (plain JSON: regular expressions as source).
 * @param {string} runtime
 * @param {string} file
 */
export function exceptionsFor(runtime, file) {
  return {
    skip: SKIPS[runtime]?.[file] ?? {},
    defects: DEFECTS.filter((d) => d.runtime === runtime).map((d) => ({
      id: d.id,
      reason: d.reason,
      tests: d.tests?.[file] ?? [],
      ...(d.symptom === undefined ? {} : { symptom: d.symptom.source, flags: d.symptom.flags }),
    })),
  };
}
