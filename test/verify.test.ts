/** Pure verification (verify.ts): windows, deltas, look-ahead, resync. Time is always injected. */
import { describe, expect, it } from 'vitest';
import {
  generateHOTP,
  generateTOTP,
  MAX_LOOK_AHEAD,
  MAX_RESYNC_LOOK_AHEAD,
  MAX_WINDOW,
  resyncHOTP,
  timeStep,
  verifyHOTP,
  verifyTOTP,
  type HashAlgorithm,
} from '../src/index.js';
import { refHOTP } from './fixtures/reference-hotp.js';

const SEED = new TextEncoder().encode('12345678901234567890');
const SECRET = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
const ALGS: HashAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];
const NOW = 1_700_000_015_000;
const STEP = Math.floor(NOW / 30_000);
const MAX = 2n ** 64n - 1n;
const INVALID = { ok: false, reason: 'invalid' };

/**
 * Collisions in HOTP(SEED, ·), SHA1, 6 digits, found by scanning counters 0..400000 with Python
 * hmac (re-checked in the tests): equal codes at nearby steps.
 */
const PAIR_8 = { a: 2386, b: 2394, code: '709847' } as const;
const PAIR_2 = { a: 153_567, b: 153_569, code: '468457' } as const;

const codeAtStep = (step: number, o: { algorithm?: HashAlgorithm; digits?: number } = {}): string =>
  generateHOTP(SECRET, step, o);
const nowAtStep = (step: number): number => step * 30_000 + 12_345;

describe('verifyTOTP', () => {
  it('generate → verify gives delta 0 and the current step, for every algorithm and digit count', () => {
    for (const algorithm of ALGS)
      for (const digits of [6, 7, 8]) {
        const secret = SECRET.subarray(0, algorithm === 'SHA1' ? 20 : 32);
        const token = generateTOTP(secret, { now: NOW, algorithm, digits });
        expect(verifyTOTP(secret, token, { now: NOW, algorithm, digits })).toEqual({
          ok: true,
          delta: 0,
          step: STEP,
        });
        expect(verifyTOTP(secret, token, { now: new Date(NOW), algorithm, digits })).toEqual({
          ok: true,
          delta: 0,
          step: STEP,
        });
      }
  });

  it('the step in the result is timeStep(now) + delta', () => {
    const token = codeAtStep(STEP - 1);
    const r = verifyTOTP(SECRET, token, { now: NOW });
    expect(r).toEqual({ ok: true, delta: -1, step: timeStep(NOW) - 1 });
  });

  it('default window is ±1: deltas −1, 0, +1 accepted, ±2 rejected', () => {
    for (const d of [-1, 0, 1])
      expect(verifyTOTP(SECRET, codeAtStep(STEP + d), { now: NOW })).toEqual({
        ok: true,
        delta: d,
        step: STEP + d,
      });
    for (const d of [-2, 2, -3, 3])
      expect(verifyTOTP(SECRET, codeAtStep(STEP + d), { now: NOW })).toEqual(INVALID);
  });

  it('drift inside a symmetric window is accepted with the right delta; outside rejected', () => {
    for (const w of [0, 1, 2, 5, MAX_WINDOW]) {
      for (let d = -w - 2; d <= w + 2; d++) {
        const r = verifyTOTP(SECRET, codeAtStep(STEP + d, { digits: 8 }), {
          now: NOW,
          window: w,
          digits: 8,
        });
        if (Math.abs(d) <= w) expect(r).toEqual({ ok: true, delta: d, step: STEP + d });
        else expect(r).toEqual(INVALID);
      }
    }
  });

  it('asymmetric windows { past, future }', () => {
    const check = (
      window: { past?: number; future?: number },
      accepted: number[],
      rejected: number[],
    ): void => {
      for (const d of accepted)
        expect(verifyTOTP(SECRET, codeAtStep(STEP + d), { now: NOW, window })).toMatchObject({
          ok: true,
          delta: d,
        });
      for (const d of rejected)
        expect(verifyTOTP(SECRET, codeAtStep(STEP + d), { now: NOW, window })).toEqual(INVALID);
    };
    check({ past: 2, future: 0 }, [-2, -1, 0], [1, -3]);
    check({ past: 0, future: 3 }, [0, 1, 2, 3], [-1, 4]);
    check({ past: 1, future: 0 }, [-1, 0], [1, -2]); // the strict profile (ASVS 5.0 6.5.5)
    check({ past: 10, future: 10 }, [-10, 10], [-11, 11]);
    // A missing side defaults to 1.
    check({ past: 3 }, [-3, 1], [-4, 2]);
    check({ future: 0 }, [-1, 0], [1, -2]);
    check({}, [-1, 0, 1], [-2, 2]);
  });

  it('window 0 accepts only the current step and returns delta 0 (not −0)', () => {
    const r = verifyTOTP(SECRET, codeAtStep(STEP), { now: NOW, window: 0 });
    expect(r).toEqual({ ok: true, delta: 0, step: STEP });
    expect(Object.is((r as { delta: number }).delta, 0)).toBe(true);
    const r2 = verifyTOTP(SECRET, codeAtStep(STEP), { now: NOW, window: { past: 0, future: 0 } });
    expect(Object.is((r2 as { delta: number }).delta, 0)).toBe(true);
    expect(verifyTOTP(SECRET, codeAtStep(STEP - 1), { now: NOW, window: 0 })).toEqual(INVALID);
    expect(verifyTOTP(SECRET, codeAtStep(STEP + 1), { now: NOW, window: 0 })).toEqual(INVALID);
  });

  it('delta 0 at step 0 is +0 too', () => {
    const r = verifyTOTP(SECRET, codeAtStep(0), { now: 5_000 });
    expect(r).toEqual({ ok: true, delta: 0, step: 0 });
    expect(Object.is((r as { delta: number }).delta, 0)).toBe(true);
  });

  it('window caps: 10 accepted, 11 RangeError (number and each side)', () => {
    expect(verifyTOTP(SECRET, codeAtStep(STEP - 10), { now: NOW, window: 10 })).toMatchObject({
      ok: true,
      delta: -10,
    });
    for (const window of [11, { past: 11 }, { future: 11 }, 100])
      expect(() => verifyTOTP(SECRET, '123456', { now: NOW, window })).toThrow(
        expect.objectContaining({ name: 'RangeError', code: 'ERR_OPTION_WINDOW' }),
      );
  });

  it('near the epoch the past side is clamped at step 0 (no negative steps)', () => {
    expect(verifyTOTP(SECRET, codeAtStep(0), { now: 45_000, window: 10 })).toEqual({
      ok: true,
      delta: -1,
      step: 0,
    });
    expect(verifyTOTP(SECRET, codeAtStep(0), { now: 0, window: 10 })).toEqual({
      ok: true,
      delta: 0,
      step: 0,
    });
    expect(verifyTOTP(SECRET, codeAtStep(3), { now: 0, window: 3 })).toEqual({
      ok: true,
      delta: 3,
      step: 3,
    });
  });

  it('t0 and period move the window', () => {
    const t0 = 1_000_000_000;
    const period = 60;
    const step = Math.floor((NOW / 1000 - t0) / period);
    const token = generateHOTP(SECRET, step + 1);
    expect(verifyTOTP(SECRET, token, { now: NOW, t0, period })).toEqual({
      ok: true,
      delta: 1,
      step: step + 1,
    });
    expect(verifyTOTP(SECRET, token, { now: NOW })).toEqual(INVALID);
  });

  it('years 2038, 2106, 2603 and 9999', () => {
    for (const seconds of [2 ** 31, 2 ** 32, 20_000_000_000, 253_402_300_799]) {
      const now = seconds * 1000;
      const step = Math.floor(seconds / 30);
      expect(verifyTOTP(SEED, refHOTP('SHA1', SEED, step - 1, 8), { now, digits: 8 })).toEqual({
        ok: true,
        delta: -1,
        step: step - 1,
      });
    }
  });

  describe('smallest |delta| wins on a code collision', () => {
    it('the collision pairs really collide (node:crypto), with no third match in range', () => {
      for (const p of [PAIR_8, PAIR_2]) {
        expect(refHOTP('SHA1', SEED, p.a, 6)).toBe(p.code);
        expect(refHOTP('SHA1', SEED, p.b, 6)).toBe(p.code);
        const hits = [];
        for (let s = p.a - 10; s <= p.b + 10; s++)
          if (generateHOTP(SEED, s) === p.code) hits.push(s);
        expect(hits).toEqual([p.a, p.b]);
      }
    });

    it('past closer than future: −3 beats +5', () => {
      const step = PAIR_8.a + 3; // a = step−3, b = step+5
      expect(verifyTOTP(SEED, PAIR_8.code, { now: nowAtStep(step), window: 10 })).toEqual({
        ok: true,
        delta: -3,
        step: PAIR_8.a,
      });
    });

    it('future closer than past: +2 beats −6', () => {
      const step = PAIR_8.b - 2; // a = step−6, b = step+2
      expect(verifyTOTP(SEED, PAIR_8.code, { now: nowAtStep(step), window: 10 })).toEqual({
        ok: true,
        delta: 2,
        step: PAIR_8.b,
      });
    });

    it('a tie goes to the past step (deterministic)', () => {
      expect(verifyTOTP(SEED, PAIR_8.code, { now: nowAtStep(PAIR_8.a + 4), window: 10 })).toEqual({
        ok: true,
        delta: -4,
        step: PAIR_8.a,
      });
      expect(verifyTOTP(SEED, PAIR_2.code, { now: nowAtStep(PAIR_2.a + 1), window: 1 })).toEqual({
        ok: true,
        delta: -1,
        step: PAIR_2.a,
      });
    });

    it('a match outside the window does not count; the one inside does', () => {
      // step = a+3: b is at +5; with window {past: 2, future: 5} only b is in range.
      expect(
        verifyTOTP(SEED, PAIR_8.code, {
          now: nowAtStep(PAIR_8.a + 3),
          window: { past: 2, future: 5 },
        }),
      ).toEqual({
        ok: true,
        delta: 5,
        step: PAIR_8.b,
      });
      expect(
        verifyTOTP(SEED, PAIR_8.code, {
          now: nowAtStep(PAIR_8.a + 3),
          window: { past: 2, future: 4 },
        }),
      ).toEqual(INVALID);
    });
  });
});

describe('verifyHOTP look-ahead', () => {
  const C = 1000;
  it('finds C+k for every k < lookAhead, returning counter and next', () => {
    for (const lookAhead of [1, 2, 10, 37, MAX_LOOK_AHEAD]) {
      for (const k of [0, 1, Math.floor(lookAhead / 2), lookAhead - 1].filter(
        (x) => x < lookAhead,
      )) {
        const r = verifyHOTP(SECRET, codeAtStep(C + k, { digits: 8 }), {
          counter: C,
          lookAhead,
          digits: 8,
        });
        expect(r).toEqual({ ok: true, counter: BigInt(C + k), next: BigInt(C + k + 1) });
      }
      // Never C−1 (a past counter), never C+lookAhead.
      expect(
        verifyHOTP(SECRET, codeAtStep(C - 1, { digits: 8 }), { counter: C, lookAhead, digits: 8 }),
      ).toEqual(INVALID);
      expect(
        verifyHOTP(SECRET, codeAtStep(C + lookAhead, { digits: 8 }), {
          counter: C,
          lookAhead,
          digits: 8,
        }),
      ).toEqual(INVALID);
    }
  });

  it('default look-ahead is 10', () => {
    expect(verifyHOTP(SECRET, codeAtStep(C + 9), { counter: C })).toMatchObject({
      ok: true,
      counter: BigInt(C + 9),
    });
    expect(
      verifyHOTP(SECRET, codeAtStep(C + 10, { digits: 8 }), { counter: C, digits: 8 }),
    ).toEqual(INVALID);
  });

  it('accepts number and bigint counters alike; counters past 2^53', () => {
    expect(verifyHOTP(SECRET, codeAtStep(C + 2), { counter: BigInt(C) })).toEqual({
      ok: true,
      counter: BigInt(C + 2),
      next: BigInt(C + 3),
    });
    const big = 2n ** 60n + 5n;
    expect(verifyHOTP(SECRET, generateHOTP(SECRET, big + 4n), { counter: big })).toEqual({
      ok: true,
      counter: big + 4n,
      next: big + 5n,
    });
  });

  it('the smallest matching counter wins on a collision', () => {
    expect(verifyHOTP(SEED, PAIR_8.code, { counter: PAIR_8.a, lookAhead: 20 })).toEqual({
      ok: true,
      counter: BigInt(PAIR_8.a),
      next: BigInt(PAIR_8.a + 1),
    });
    expect(verifyHOTP(SEED, PAIR_8.code, { counter: PAIR_8.a + 1, lookAhead: 20 })).toEqual({
      ok: true,
      counter: BigInt(PAIR_8.b),
      next: BigInt(PAIR_8.b + 1),
    });
  });

  it('from 2^64−3 with lookAhead 10 it clamps and `next` never exceeds 2^64−1', () => {
    const start = MAX - 2n;
    expect(
      verifyHOTP(SECRET, generateHOTP(SECRET, start), { counter: start, lookAhead: 10 }),
    ).toEqual({ ok: true, counter: start, next: start + 1n });
    expect(
      verifyHOTP(SECRET, generateHOTP(SECRET, MAX - 1n), { counter: start, lookAhead: 10 }),
    ).toEqual({ ok: true, counter: MAX - 1n, next: MAX });
    // Matching 2^64−1 would need next = 2^64: refused. No wrap to 0..6.
    const mx = generateHOTP(SECRET, MAX, { digits: 8 });
    expect(verifyHOTP(SECRET, mx, { counter: start, lookAhead: 10, digits: 8 })).toEqual(INVALID);
    expect(verifyHOTP(SECRET, mx, { counter: MAX, lookAhead: 10, digits: 8 })).toEqual(INVALID);
    for (let c = 0; c < 7; c++)
      expect(
        verifyHOTP(SECRET, generateHOTP(SECRET, c, { digits: 8 }), {
          counter: start,
          lookAhead: 10,
          digits: 8,
        }),
      ).toEqual(INVALID);
  });

  it('every successful result has next ≤ 2^64−1', () => {
    for (let back = 1n; back <= 12n; back++) {
      const start = MAX - back;
      for (let k = 0n; k < 10n && start + k <= MAX; k++) {
        const r = verifyHOTP(SECRET, generateHOTP(SECRET, start + k, { digits: 8 }), {
          counter: start,
          lookAhead: 10,
          digits: 8,
        });
        if (r.ok) expect(r.next <= MAX).toBe(true);
        expect(r.ok).toBe(start + k < MAX);
      }
    }
  });
});

describe('resyncHOTP', () => {
  const C = 500;
  it('finds two consecutive codes ahead of the stored counter', () => {
    for (const k of [0, 1, 50, 98]) {
      const r = resyncHOTP(SECRET, codeAtStep(C + k), codeAtStep(C + k + 1), { counter: C });
      expect(r).toEqual({ ok: true, counter: BigInt(C + k + 1), next: BigInt(C + k + 2) });
    }
  });

  it('respects lookAhead (default 100, max 1000)', () => {
    expect(
      resyncHOTP(SECRET, codeAtStep(C + 100, { digits: 8 }), codeAtStep(C + 101, { digits: 8 }), {
        counter: C,
        digits: 8,
      }),
    ).toEqual(INVALID);
    expect(
      resyncHOTP(SECRET, codeAtStep(C + 100), codeAtStep(C + 101), { counter: C, lookAhead: 101 }),
    ).toMatchObject({
      ok: true,
      counter: BigInt(C + 101),
    });
    const far = MAX_RESYNC_LOOK_AHEAD - 1;
    expect(
      resyncHOTP(SECRET, codeAtStep(C + far), codeAtStep(C + far + 1), {
        counter: C,
        lookAhead: MAX_RESYNC_LOOK_AHEAD,
      }),
    ).toMatchObject({
      ok: true,
      counter: BigInt(C + far + 1),
    });
  });

  it('rejects non-consecutive, reversed, repeated or past pairs', () => {
    const o = { counter: C, digits: 8 } as const;
    const at = (c: number): string => codeAtStep(c, { digits: 8 });
    expect(resyncHOTP(SECRET, at(C + 5), at(C + 7), o)).toEqual(INVALID);
    expect(resyncHOTP(SECRET, at(C + 6), at(C + 5), o)).toEqual(INVALID);
    expect(resyncHOTP(SECRET, at(C + 5), at(C + 5), o)).toEqual(INVALID);
    expect(resyncHOTP(SECRET, at(C - 2), at(C - 1), o)).toEqual(INVALID);
    expect(resyncHOTP(SECRET, at(C - 1), at(C), o)).toEqual(INVALID);
  });

  it('malformed first or second code → malformed', () => {
    expect(resyncHOTP(SECRET, '12345', codeAtStep(C + 1), { counter: C })).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(resyncHOTP(SECRET, codeAtStep(C), ' 12345', { counter: C })).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('clamps at the top: the pair (2^64−3, 2^64−2) works; (2^64−2, 2^64−1) does not', () => {
    const o = { counter: MAX - 5n, digits: 8 } as const;
    const at = (c: bigint): string => generateHOTP(SECRET, c, { digits: 8 });
    expect(resyncHOTP(SECRET, at(MAX - 2n), at(MAX - 1n), o)).toEqual({
      ok: true,
      counter: MAX - 1n,
      next: MAX,
    });
    expect(resyncHOTP(SECRET, at(MAX - 1n), at(MAX), o)).toEqual(INVALID);
  });

  it('RFC 4226 Appendix D: 399871, 520489 from counter 0 → counter 9, next 10', () => {
    expect(resyncHOTP(SEED, '399871', '520489', { counter: 0 })).toEqual({
      ok: true,
      counter: 9n,
      next: 10n,
    });
  });
});
