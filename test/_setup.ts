/**
 * Test setup shared by every file: fast-check runs with a fixed seed, so every run tests the same
 * cases and any failure reproduces. `FC_SEED=<n> npm test` explores other cases.
 */
import fc from 'fast-check';

fc.configureGlobal({ seed: process.env.FC_SEED === undefined ? 0x07f1c17 : Number(process.env.FC_SEED) });
