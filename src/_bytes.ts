/**
 * Byte and counter helpers: constant-time comparison, and validation and splitting of unsigned
 * 64-bit counters.
 * @module
 * @internal
 */
import { rangeError, typeError } from './errors.js';
import { kind } from './_assert.js';

/** @internal 2^32, the radix of the hi/lo counter halves. */
export const TWO_32 = 0x1_0000_0000;
/** @internal The largest 64-bit counter, 2^64−1 (RFC 4226 §5.1: C is an 8-byte counter). */
export const MAX_COUNTER: bigint = 0xffff_ffff_ffff_ffffn;

/** @internal Compares two byte arrays in time that depends only on their length. */
export function constantTimeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/**
 * @internal Validates an unsigned 64-bit counter (RFC 4226 §5.1): a safe-integer `number` or a
 * `bigint` in 0..2^64−1, and returns it as a bigint. Never passes through 32-bit operators.
 */
export function acounter(c: unknown, title = 'counter'): bigint {
  if (typeof c === 'bigint') {
    if (c < 0n || c > MAX_COUNTER)
      throw rangeError('ERR_COUNTER_RANGE', `"${title}" expected 0..2^64-1, got ${c}`);
    return c;
  }
  if (typeof c !== 'number')
    throw typeError(
      'ERR_COUNTER_TYPE',
      `"${title}" expected a safe integer or bigint, got ${kind(c)}`,
    );
  if (!Number.isSafeInteger(c))
    throw typeError(
      'ERR_COUNTER_TYPE',
      `"${title}" expected a safe integer or bigint, got ${c}${Number.isInteger(c) ? ' (unsafe: pass a bigint)' : ''}`,
    );
  if (c < 0) throw rangeError('ERR_COUNTER_RANGE', `"${title}" expected 0..2^64-1, got ${c}`);
  return BigInt(c);
}

/** @internal Splits a 0..2^64−1 bigint into 32-bit halves. */
export function splitBigint(n: bigint): [hi: number, lo: number] {
  return [Number(n >> 32n), Number(n & 0xffff_ffffn)];
}
