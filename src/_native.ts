/**
 * `node:crypto`, where the runtime has it (Node, Bun, Deno), found through
 * `process.getBuiltinModule` rather than an import, so that bundles for browsers and workers
 * stay free of it; `undefined` elsewhere. Used only where the native call is much cheaper than
 * the portable one and gives the same bytes: scrypt on the thread pool, AES-GCM opening without a
 * thread-pool round trip, SHA-256 of short strings (the flow's token hashes).
 * @module
 * @internal
 */

/** @internal The parts of `node:crypto` otpkit uses. */
export interface NodeCrypto {
  readonly scrypt?: unknown;
  readonly createDecipheriv?: unknown;
  readonly createHash?: unknown;
}

/**
 * @internal workerd (Cloudflare Workers with nodejs_compat) has a partial `node:crypto`; Workers
 * identify themselves by this user agent (with or without nodejs_compat).
 */
export const isWorkerd: boolean =
  (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent ===
  'Cloudflare-Workers';

/** The last lookup, kept for as long as `process.getBuiltinModule` is the same function. */
let seen: unknown;
let found: NodeCrypto | undefined;

/** @internal `node:crypto`, or `undefined` where the runtime does not offer it. */
export function nodeCrypto(): NodeCrypto | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: unknown } }).process;
  const get = proc?.getBuiltinModule;
  if (get !== seen) {
    seen = get;
    found = undefined;
    if (typeof get === 'function')
      try {
        const m: unknown = (get as (id: string) => unknown).call(proc, 'node:crypto');
        if (typeof m === 'object' && m !== null) found = m as NodeCrypto;
      } catch {
        // no node:crypto here
      }
  }
  return found;
}

/**
 * @internal A `node:crypto` function for a fast path that gives the same bytes as the portable
 * one, or `undefined` where there is none: not in workerd, whose `node:crypto` is partial.
 */
export function nativeFunction(name: keyof NodeCrypto): unknown {
  if (isWorkerd) return undefined;
  const f = nodeCrypto()?.[name];
  return typeof f === 'function' ? f : undefined;
}
