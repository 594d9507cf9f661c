/**
 * The two scrypt backends of recovery-code hashing: Node's thread-pool `crypto.scrypt` and the
 * pure-JS @noble/hashes path used where the runtime has no `node:crypto`. They must give the same
 * bytes, and neither may stall the event loop for more than one hash (workerd's native scrypt, which
 * hashes on the isolate's thread, goes through the pure-JS path's one-per-turn queue).
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { scrypt as nobleScrypt } from '@noble/hashes/scrypt';
import { scryptAsync, scryptSync } from '../src/_scrypt.js';

const proc = process as { getBuiltinModule?: unknown };
const getBuiltinModule = proc.getBuiltinModule;
/** Runs `fn` as if on a runtime without `node:crypto` (a browser, a worker). */
async function withoutNodeCrypto<T>(fn: () => Promise<T>): Promise<T> {
  proc.getBuiltinModule = undefined;
  try {
    return await fn();
  } finally {
    proc.getBuiltinModule = getBuiltinModule;
  }
}
afterEach(() => {
  proc.getBuiltinModule = getBuiltinModule;
});

const params = fc.record({
  logN: fc.integer({ min: 1, max: 10 }),
  r: fc.integer({ min: 1, max: 8 }),
  p: fc.integer({ min: 1, max: 3 }),
});
const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });

describe('scrypt backends', () => {
  it("Node's scrypt and @noble/hashes give the same bytes for the same parameters", async () => {
    await fc.assert(
      fc.asyncProperty(
        bytes(40),
        bytes(32),
        params,
        fc.integer({ min: 16, max: 64 }),
        async (pw, salt, p, dkLen) => {
          const native = await scryptAsync(pw, salt, p, dkLen);
          const noble = nobleScrypt(pw, salt, { N: 2 ** p.logN, r: p.r, p: p.p, dkLen });
          expect(Buffer.from(native).toString('hex')).toBe(Buffer.from(noble).toString('hex'));
          expect(scryptSync(pw, salt, p, dkLen)).toEqual(noble);
        },
      ),
      { seed: 20261201, numRuns: 60 },
    );
  });

  it("the default recovery parameters (N = 2^13, r = 8, p = 1) agree too, beyond Node's default maxmem", async () => {
    const pw = new TextEncoder().encode('K7QM4X2P9D3RTB8W');
    const salt = new Uint8Array(16).fill(7);
    const native = await scryptAsync(pw, salt, { logN: 13, r: 8, p: 1 }, 32);
    expect(native).toEqual(nobleScrypt(pw, salt, { N: 8192, r: 8, p: 1, dkLen: 32 }));
    // 2^15 · 8 · 128 = 32 MiB: more than Node allows by default, so maxmem must be raised.
    const big = await scryptAsync(pw, salt, { logN: 15, r: 8, p: 1 }, 32);
    expect(big).toEqual(nobleScrypt(pw, salt, { N: 2 ** 15, r: 8, p: 1, dkLen: 32 }));
  });

  it('without node:crypto the pure-JS path gives the same bytes', async () => {
    const pw = new Uint8Array([1, 2, 3]);
    const salt = new Uint8Array(16);
    const js = await withoutNodeCrypto(() => scryptAsync(pw, salt, { logN: 10, r: 8, p: 1 }, 32));
    expect(js).toEqual(nobleScrypt(pw, salt, { N: 1024, r: 8, p: 1, dkLen: 32 }));
  });

  it('without node:crypto, concurrent hashes run one per event-loop turn: I/O callbacks run between any two', async () => {
    const order: string[] = [];
    let ticking = true;
    const tick = (): void => {
      order.push('tick');
      if (ticking) setImmediate(tick);
    };
    await withoutNodeCrypto(async () => {
      setImmediate(tick);
      const jobs = Array.from({ length: 6 }, (_, i) =>
        scryptAsync(new Uint8Array([i]), new Uint8Array(16), { logN: 12, r: 8, p: 1 }, 32).then(
          () => order.push(`hash${i}`),
        ),
      );
      await Promise.all(jobs);
      ticking = false;
    });
    const hashesAt = order.flatMap((e, i) => (e.startsWith('hash') ? [i] : []));
    expect(hashesAt).toHaveLength(6);
    // Between two consecutive hashes the check phase ran at least once: no two hashes back to back.
    for (let k = 1; k < hashesAt.length; k++)
      expect(hashesAt[k]! - hashesAt[k - 1]!).toBeGreaterThan(1);
  });

  /** Event-loop turns (setImmediate ticks) counted between the settlements of `n` concurrent hashes. */
  const turnsBetweenHashes = async (n: number): Promise<number[]> => {
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const seen: number[] = [];
    let previous = 0;
    const pw = new Uint8Array(16);
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        scryptAsync(pw, new Uint8Array(16).fill(i), { logN: 13, r: 8, p: 1 }, 32).then(() => {
          seen.push(turns - previous);
          previous = turns;
        }),
      ),
    );
    ticking = false;
    return seen;
  };
  const isWorkerd =
    (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent ===
    'Cloudflare-Workers';

  it('with node:crypto, concurrent hashes never hold the loop: off it on a thread pool (Node, Bun, Deno), one per turn in workerd', async () => {
    const turns = await turnsBetweenHashes(4);
    expect(turns).toHaveLength(4);
    if (isWorkerd) {
      // workerd has no thread pool: its scrypt blocks until the hash is done. Unqueued, four
      // concurrent hashes would hold the loop for all four; through the queue it turns between them.
      for (const t of turns) expect(t).toBeGreaterThanOrEqual(1);
    } else {
      // Counted in turns, not milliseconds, so that a loaded machine cannot blur the difference:
      // on the thread pool the loop turns thousands of times during 4 hashes; a hash on the
      // loop's own thread lets it turn once per hash (the pure-JS queue, checked above).
      const total = turns.reduce((a, b) => a + b, 0);
      expect(total, `turns between settlements: ${turns.join(', ')}`).toBeGreaterThan(100);
    }
  });

  it('a failing native scrypt rejects (and the pure-JS queue survives a failure)', async () => {
    await expect(
      scryptAsync(new Uint8Array(1), new Uint8Array(1), { logN: 40, r: 8, p: 1 }, 32),
    ).rejects.toThrow();
    await withoutNodeCrypto(async () => {
      await expect(
        scryptAsync(new Uint8Array(1), new Uint8Array(1), { logN: 0, r: 8, p: 1 }, 32),
      ).rejects.toThrow();
      expect(
        await scryptAsync(new Uint8Array(1), new Uint8Array(1), { logN: 4, r: 1, p: 1 }, 16),
      ).toHaveLength(16);
    });
  });
});
