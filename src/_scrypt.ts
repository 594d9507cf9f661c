/**
 * scrypt (RFC 7914) for recovery-code hashes, without stalling the event loop.
 *
 * Where the runtime offers `node:crypto` (Node, Bun, Deno), the async path uses its `scrypt`,
 * which runs on a thread pool: the event loop never waits for a hash. Elsewhere (browsers,
 * workers) it uses @noble/hashes' synchronous scrypt, one hash per event-loop turn: hashes queue
 * behind each other and each starts from its own macrotask, so the longest stall is one hash
 * however many redemptions run at once (if every caller yielded and then hashed, all the yields
 * would fall due in the same timers phase and their hashes would run back to back). workerd
 * (Cloudflare Workers with nodejs_compat) has a `node:crypto` scrypt too, but it hashes on the
 * isolate's only thread before calling back: there the native hash (faster than the pure-JS one)
 * goes through the same one-per-turn queue. All paths give the same bytes for the same parameters.
 * @module
 * @internal
 */
import { scrypt as nobleScrypt } from '@noble/hashes/scrypt';
import { isWorkerd, nodeCrypto } from './_native.js';

/** @internal scrypt cost parameters: N = 2^logN. */
export interface ScryptParams {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

type NodeScrypt = (
  password: Uint8Array,
  salt: Uint8Array,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
  // Node passes null on success, Bun undefined.
  callback: (err: Error | null | undefined, key: Uint8Array) => void,
) => void;

/**
 * workerd's `node:crypto` scrypt computes the hash synchronously, on the isolate's thread, and only
 * then calls back: it must not be called once per caller in the same turn.
 */
const nativeIsSynchronous = isWorkerd;

/** `node:crypto`'s scrypt, where the runtime has one. */
function nodeScrypt(): NodeScrypt | undefined {
  const m = nodeCrypto();
  return typeof m?.scrypt === 'function' ? (m.scrypt as NodeScrypt) : undefined;
}

/** @internal One scrypt hash, computed synchronously with @noble/hashes. */
export function scryptSync(
  password: Uint8Array,
  salt: Uint8Array,
  params: ScryptParams,
  dkLen: number,
): Uint8Array {
  return nobleScrypt(password, salt, { N: 2 ** params.logN, r: params.r, p: params.p, dkLen });
}

/** The tail of the pure-JS queue: each hash waits for the previous one and then for a macrotask. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * A macrotask that starts only after the event loop has turned. `setImmediate` (Node, Bun) runs in
 * the next iteration when queued from a callback, after pending I/O; `setTimeout(0)` would not do
 * in Node, where a timer created during a long callback takes the loop's cached start time and can
 * fall due in the very timers phase that is running. Browsers and workers have no `setImmediate`:
 * there `setTimeout(0)` is a new task, and other tasks run before it.
 */
const later: (run: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (run) =>
        (globalThis as unknown as { setImmediate: (f: () => void) => void }).setImmediate(run)
    : (run) => setTimeout(run, 0);

/**
 * @internal One scrypt hash off the event loop where possible (see the module header). Rejects
 * only if the runtime's scrypt fails, which the parameter bounds make impossible in practice.
 */
export function scryptAsync(
  password: Uint8Array,
  salt: Uint8Array,
  params: ScryptParams,
  dkLen: number,
): Promise<Uint8Array> {
  const native = nodeScrypt();
  const hash =
    native === undefined
      ? () => Promise.resolve(scryptSync(password, salt, params, dkLen))
      : () => {
          const N = 2 ** params.logN;
          // Node refuses to allocate more than maxmem (default 32 MiB): allow what these parameters need.
          const maxmem = 128 * N * params.r + 128 * params.r * params.p + (1 << 20);
          return new Promise<Uint8Array>((resolve, reject) => {
            native(password, salt, dkLen, { N, r: params.r, p: params.p, maxmem }, (err, key) =>
              // `== null`: Node calls back with null on success, Bun with undefined.
              err == null
                ? resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength))
                : reject(err),
            );
          });
        };
  if (native !== undefined && !nativeIsSynchronous) return hash();
  const run = queue.then(
    () =>
      new Promise<Uint8Array>((resolve, reject) =>
        later(() => {
          try {
            hash().then(resolve, reject);
          } catch (e) {
            reject(e);
          }
        }),
      ),
  );
  queue = run.catch(() => undefined);
  return run;
}
