/**
 * Test setup shared by every file: fast-check runs with a fixed seed, so every run tests the same
 * cases and any failure reproduces. `FC_SEED=<n> npm test` explores other cases.
 */
import fc from 'fast-check';

const seed = globalThis.process?.env.FC_SEED; // no process in a Worker without Node.js compatibility
fc.configureGlobal({ seed: seed === undefined ? 0x07f1c17 : Number(seed) });
