/**
 * Verification properties (fast-check). Only true invariants: codes can collide, so
 * "outside the window is rejected" is stated as "accepted iff the token is the code of some step
 * inside the window", with the matched step being the one of smallest |delta|.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  generateHOTP,
  generateTOTP,
  verifyHOTP,
  verifyTOTP,
  type HashAlgorithm,
} from '../src/index.js';
import { refHOTP } from './fixtures/reference-hotp.js';

const algorithm = fc.constantFrom<HashAlgorithm>('SHA1', 'SHA256', 'SHA512');
const digits = fc.constantFrom(6, 7, 8);
const secret = fc.uint8Array({ minLength: 16, maxLength: 80 });
const period = fc.oneof(fc.constantFrom(15, 30, 60, 90, 120), fc.integer({ min: 1, max: 120 }));
/** ms since the epoch, up to the year 9999. */
const MAX_S = 253_402_300_799;
const seconds = fc.oneof(
  fc.integer({ min: 0, max: MAX_S }),
  fc.constantFrom(0, 59, 60, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 20_000_000_000, MAX_S),
);
/** A time in ms and a t0 ≤ that time. */
const timeAndT0 = fc
  .tuple(
    seconds,
    fc.integer({ min: 0, max: 999 }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.boolean(),
  )
  .map(([s, ms, frac, zeroT0]) => ({ now: s * 1000 + ms, t0: zeroT0 ? 0 : Math.floor(s * frac) }));
const windowSide = fc.integer({ min: 0, max: 10 });

describe('TOTP invariants', () => {
  it('TOTP(t) === HOTP(floor((t − t0) / period)) and equals the node:crypto reference', () => {
    fc.assert(
      fc.property(secret, timeAndT0, period, digits, algorithm, (key, { now, t0 }, p, d, alg) => {
        const step = Math.floor((Math.floor(now / 1000) - t0) / p);
        const totp = generateTOTP(key, { now, t0, period: p, digits: d, algorithm: alg });
        expect(totp).toBe(generateHOTP(key, step, { digits: d, algorithm: alg }));
        expect(totp).toBe(refHOTP(alg, key, step, d));
        expect(totp).toMatch(new RegExp(`^[0-9]{${d}}$`));
      }),
      { numRuns: 400 },
    );
  });

  it('generateTOTP → verifyTOTP is ok with delta 0 for random parameters', () => {
    fc.assert(
      fc.property(
        secret,
        timeAndT0,
        period,
        digits,
        algorithm,
        windowSide,
        windowSide,
        (key, { now, t0 }, p, d, alg, past, future) => {
          const o = { now, t0, period: p, digits: d, algorithm: alg };
          const token = generateTOTP(key, o);
          const step = Math.floor((Math.floor(now / 1000) - t0) / p);
          expect(verifyTOTP(key, token, { ...o, window: { past, future } })).toEqual({
            ok: true,
            delta: 0,
            step,
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('drift inside the window is accepted, with |delta| ≤ the drift and a code that really matches', () => {
    fc.assert(
      fc.property(
        secret,
        timeAndT0,
        period,
        digits,
        algorithm,
        windowSide,
        windowSide,
        fc.integer({ min: -10, max: 10 }),
        (key, { now, t0 }, p, d, alg, past, future, drift) => {
          const step = Math.floor((Math.floor(now / 1000) - t0) / p);
          fc.pre(drift >= -past && drift <= future && step + drift >= 0);
          const token = generateHOTP(key, step + drift, { digits: d, algorithm: alg });
          const r = verifyTOTP(key, token, {
            now,
            t0,
            period: p,
            digits: d,
            algorithm: alg,
            window: { past, future },
          });
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          expect(Math.abs(r.delta)).toBeLessThanOrEqual(Math.abs(drift));
          expect(r.step).toBe(step + r.delta);
          expect(generateHOTP(key, r.step, { digits: d, algorithm: alg })).toBe(token);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('accepted iff the token is the code of a step inside the window; the match has the smallest |delta| (past first on ties)', () => {
    fc.assert(
      fc.property(
        secret,
        timeAndT0,
        period,
        algorithm,
        windowSide,
        windowSide,
        fc.oneof(
          fc.integer({ min: -15, max: 15 }).map((drift) => ({ drift })),
          fc.integer({ min: 0, max: 999_999 }).map((raw) => ({ raw })),
        ),
        (key, { now, t0 }, p, alg, past, future, pick) => {
          const step = Math.floor((Math.floor(now / 1000) - t0) / p);
          const token =
            'raw' in pick
              ? String(pick.raw).padStart(6, '0')
              : generateHOTP(key, Math.max(0, step + pick.drift), { algorithm: alg });
          // Oracle over the window with node:crypto.
          let expected: number | undefined;
          for (let d = 0 - past; d <= future; d++) {
            if (step + d < 0) continue;
            if (refHOTP(alg, key, step + d, 6) !== token) continue;
            if (expected === undefined || Math.abs(d) < Math.abs(expected)) expected = d;
          }
          const r = verifyTOTP(key, token, {
            now,
            t0,
            period: p,
            algorithm: alg,
            window: { past, future },
          });
          if (expected === undefined) expect(r).toEqual({ ok: false, reason: 'invalid' });
          else expect(r).toEqual({ ok: true, delta: expected, step: step + expected });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('only exactly-digits ASCII digit strings can ever succeed', () => {
    fc.assert(
      fc.property(secret, fc.string({ unit: 'binary', maxLength: 10 }), digits, (key, token, d) => {
        const r = verifyTOTP(key, token, { now: 1_700_000_000_000, digits: d, window: 10 });
        const wellFormed = new RegExp(`^[0-9]{${d}}$`).test(token);
        if (!wellFormed) expect(r).toEqual({ ok: false, reason: 'malformed' });
        else expect(r.ok || r.reason === 'invalid').toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('HOTP invariants', () => {
  const MAX = 2n ** 64n - 1n;
  const counter = fc.oneof(
    fc.bigInt({ min: 0n, max: MAX }),
    fc.bigInt({ min: MAX - 120n, max: MAX }),
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }).map(BigInt),
  );

  it('verifyHOTP accepts iff the token is HOTP(c) for c in [C, min(C+L−1, 2^64−2)], returning the smallest such c', () => {
    fc.assert(
      fc.property(
        secret,
        counter,
        fc.integer({ min: 1, max: 30 }),
        algorithm,
        fc.oneof(
          fc.integer({ min: -3, max: 33 }).map((k) => ({ k })),
          fc.integer({ min: 0, max: 999_999 }).map((raw) => ({ raw })),
        ),
        (key, C, L, alg, pick) => {
          let token: string;
          if ('raw' in pick) token = String(pick.raw).padStart(6, '0');
          else {
            const c = C + BigInt(pick.k);
            token = generateHOTP(key, c < 0n ? 0n : c > MAX ? MAX : c, { algorithm: alg });
          }
          let expected: bigint | undefined;
          for (let c = C; c < C + BigInt(L) && c < MAX; c++) {
            if (refHOTP(alg, key, c, 6) === token) {
              expected = c;
              break;
            }
          }
          const r = verifyHOTP(key, token, { counter: C, lookAhead: L, algorithm: alg });
          if (expected === undefined) expect(r).toEqual({ ok: false, reason: 'invalid' });
          else expect(r).toEqual({ ok: true, counter: expected, next: expected + 1n });
          if (r.ok) expect(r.next <= MAX).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('generateHOTP(C+k) verifies with counter C+k′ where k′ ≤ k, for k < lookAhead', () => {
    fc.assert(
      fc.property(
        secret,
        fc.bigInt({ min: 0n, max: MAX - 200n }),
        fc.integer({ min: 1, max: 100 }),
        fc.nat(),
        digits,
        (key, C, L, kRaw, d) => {
          const k = BigInt(kRaw % L);
          const r = verifyHOTP(key, generateHOTP(key, C + k, { digits: d }), {
            counter: C,
            lookAhead: L,
            digits: d,
          });
          expect(r.ok).toBe(true);
          if (r.ok) {
            expect(r.counter >= C && r.counter <= C + k).toBe(true);
            expect(r.next).toBe(r.counter + 1n);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
