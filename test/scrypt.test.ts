/**
 * The two scrypt backends of recovery-code hashing: Node's thread-pool `crypto.scrypt` and the
 * pure-JS @noble/hashes path used where the runtime has no `node:crypto`. They must give the same
 * bytes, and neither may stall the event loop for more than one hash.
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

  it('with node:crypto, hashes run off the event loop: the longest timer gap is far below one pure-JS hash', async () => {
    /** The longest wait between 2 ms interval ticks while `n` hashes run. */
    const longestGap = async (n: number): Promise<number> => {
      let longest = 0;
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }, 2);
      const pw = new Uint8Array(16);
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          scryptAsync(pw, new Uint8Array(16).fill(i), { logN: 13, r: 8, p: 1 }, 32),
        ),
      );
      clearInterval(timer);
      return longest;
    };
    // Pure JS: each hash holds the loop for its whole duration (tens of ms).
    const pure = await withoutNodeCrypto(() => longestGap(3));
    // Native: 8 hashes on the thread pool, several hundred ms of CPU, and the loop keeps ticking.
    const native = await longestGap(8);
    expect(
      native,
      `longest gap ${native.toFixed(1)} ms native, ${pure.toFixed(1)} ms pure JS`,
    ).toBeLessThan(pure / 2);
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
