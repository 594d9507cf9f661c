/**
 * Fail-closed calls into an `OtpStore`: every call has a bounded time, every rejection becomes
 * an `OtpkitError` with a storage code, and every result is validated before it is trusted
 * (REQUIREMENTS #39, F1–F4).
 * @module
 * @internal
 */
import { OtpkitError } from './errors.js';

/** @internal Runs one store call with a timeout, mapping every failure to `ERR_STORE*`. */
export async function storeCall<T>(
  method: string,
  timeoutMs: number,
  run: () => Promise<T>,
  validate: (v: unknown) => v is T,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let result: unknown;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new OtpkitError('ERR_STORE_TIMEOUT', `store.${method} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    // A store that throws synchronously is a failure too, not an escape.
    result = await Promise.race([Promise.resolve().then(run), timeout]);
  } catch (e) {
    if (e instanceof OtpkitError && e.code.startsWith('ERR_STORE')) throw e;
    throw new OtpkitError('ERR_STORE', `store.${method} failed`, { cause: e });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  if (!validate(result)) throw new OtpkitError('ERR_STORE_CORRUPT', `store.${method} returned malformed data`);
  return result;
}

/** @internal */
export const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
/** @internal */
export const isVoid = (v: unknown): v is void => v === undefined || v === null;
/** @internal A count of failures: a positive safe integer. */
export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
