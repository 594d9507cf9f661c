/** TOTP generation (RFC 6238) and timeStep boundaries; `now` is always injected except in the default-clock test. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateHOTP, generateTOTP, timeStep, type HashAlgorithm } from '../src/index.js';
import { refHOTP, refTOTP } from './fixtures/reference-hotp.js';
import { thrown as thrownAny } from './_helpers.js';
const thrown = (fn: () => unknown): Error & { code?: string } =>
  thrownAny(fn) as Error & { code?: string };

const SEED = new TextEncoder().encode('12345678901234567890');
const ALGS: HashAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];
const YEAR_9999_MS = 253402300799000; // 9999-12-31T23:59:59Z

describe('time-step boundaries', () => {
  it('t=59 s is step 1, t=60 s is step 2', () => {
    expect(timeStep(59_000)).toBe(1);
    expect(timeStep(59_999)).toBe(1);
    expect(timeStep(60_000)).toBe(2);
    expect(timeStep(0)).toBe(0);
    expect(timeStep(29_999)).toBe(0);
    expect(timeStep(30_000)).toBe(1);
  });

  it('codes change exactly at the step edge', () => {
    const at59 = generateTOTP(SEED, { now: 59_999, digits: 8 });
    const at60 = generateTOTP(SEED, { now: 60_000, digits: 8 });
    expect(at59).toBe('94287082');
    expect(at59).toBe(generateHOTP(SEED, 1, { digits: 8 }));
    expect(at60).toBe(generateHOTP(SEED, 2, { digits: 8 }));
    expect(generateTOTP(SEED, { now: 30_000, digits: 8 })).toBe(at59);
  });

  it('milliseconds are floored, never rounded', () => {
    expect(timeStep(59_999.999)).toBe(1);
    expect(generateTOTP(SEED, { now: 59_999.9 })).toBe(generateHOTP(SEED, 1));
  });

  it('T0 ≠ 0 shifts the step boundary', () => {
    const t0 = 100;
    expect(timeStep(129_999, 30, t0)).toBe(0);
    expect(timeStep(130_000, 30, t0)).toBe(1);
    expect(timeStep(100_000, 30, t0)).toBe(0);
    expect(generateTOTP(SEED, { t0, now: 129_999 })).toBe(generateHOTP(SEED, 0));
    expect(generateTOTP(SEED, { t0, now: 130_000 })).toBe(generateHOTP(SEED, 1));
    expect(generateTOTP(SEED, { t0, now: 130_000 })).toBe(refTOTP('SHA1', SEED, 130, 6, 30, t0));
    // A t0 equal to now is allowed; after now it is not.
    expect(generateTOTP(SEED, { t0: 1_700_000_000, now: 1_700_000_000_000 })).toBe(
      generateHOTP(SEED, 0),
    );
    expect(
      thrown(() => generateTOTP(SEED, { t0: 1_700_000_001, now: 1_700_000_000_999 })).code,
    ).toBe('ERR_OPTION_T0');
  });

  it('other periods: 15, 60, 90, 120 s and 1 s', () => {
    for (const period of [1, 15, 60, 90, 120]) {
      const now = 1_234_567_890_123;
      const step = Math.floor(1_234_567_890 / period);
      expect(timeStep(now, period)).toBe(step);
      for (const algorithm of ALGS)
        expect(generateTOTP(SEED, { now, period, algorithm, digits: 8 })).toBe(
          refHOTP(algorithm, SEED, step, 8),
        );
    }
  });
});

describe('large times (RFC 6238 §4.2: beyond 2038)', () => {
  it.each([
    ['2^31−1 s', 2 ** 31 - 1],
    ['2^31 s (2038)', 2 ** 31],
    ['2^32−1 s', 2 ** 32 - 1],
    ['2^32 s (2106)', 2 ** 32],
    ['20000000000 s (2603)', 20_000_000_000],
  ])('%s matches node:crypto for every algorithm', (_name, seconds) => {
    const step = Math.floor(seconds / 30);
    expect(timeStep(seconds * 1000)).toBe(step);
    for (const algorithm of ALGS)
      for (const digits of [6, 8])
        expect(generateTOTP(SEED, { now: seconds * 1000, algorithm, digits })).toBe(
          refHOTP(algorithm, SEED, step, digits),
        );
  });

  it('20000000000 s (year 2603) gives 65353130 (SHA1, 8 digits) and T = 0x27BC86AA (RFC 6238 App. B)', () => {
    expect(generateTOTP(SEED, { now: 20_000_000_000_000, digits: 8 })).toBe('65353130');
    expect(timeStep(20_000_000_000_000)).toBe(0x27bc86aa);
  });

  it('year 9999 (253402300799000 ms) works', () => {
    const step = Math.floor(253402300799 / 30);
    expect(timeStep(YEAR_9999_MS)).toBe(step);
    expect(timeStep(new Date('9999-12-31T23:59:59Z'))).toBe(step);
    for (const algorithm of ALGS)
      expect(generateTOTP(SEED, { now: YEAR_9999_MS, algorithm, digits: 8 })).toBe(
        refHOTP(algorithm, SEED, step, 8),
      );
  });

  it('with period 1 the step exceeds 2^32 and is still exact', () => {
    const step = 253402300799;
    expect(step).toBeGreaterThan(2 ** 32);
    expect(timeStep(YEAR_9999_MS, 1)).toBe(step);
    expect(generateTOTP(SEED, { now: YEAR_9999_MS, period: 1, digits: 8 })).toBe(
      refHOTP('SHA1', SEED, step, 8),
    );
  });

  it('the largest Date (8.64e15 ms) works and beyond it is a RangeError', () => {
    expect(generateTOTP(SEED, { now: 8.64e15, digits: 8 })).toBe(
      refHOTP('SHA1', SEED, Math.floor(8.64e12 / 30), 8),
    );
    const e = thrown(() => generateTOTP(SEED, { now: 8.64e15 + 1000 }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.code).toBe('ERR_TIME_RANGE');
  });
});

describe('now', () => {
  it('Date and number agree', () => {
    for (const ms of [
      0,
      59_000,
      1_111_111_109_000,
      1_700_000_000_123,
      2 ** 32 * 1000,
      YEAR_9999_MS,
    ]) {
      for (const algorithm of ALGS)
        expect(generateTOTP(SEED, { now: new Date(ms), algorithm })).toBe(
          generateTOTP(SEED, { now: ms, algorithm }),
        );
      expect(timeStep(new Date(ms))).toBe(timeStep(ms));
    }
  });

  it('does not mutate a Date', () => {
    const d = new Date(1_700_000_000_000);
    generateTOTP(SEED, { now: d });
    expect(d.getTime()).toBe(1_700_000_000_000);
  });

  describe('default clock', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('uses Date.now() when now is omitted', () => {
      // The only test that fakes timers: everywhere else time is injected.
      vi.useFakeTimers({ toFake: ['Date'] });
      for (const ms of [59_000, 1_111_111_109_000, 20_000_000_000_000]) {
        vi.setSystemTime(ms);
        expect(Date.now()).toBe(ms);
        expect(generateTOTP(SEED, { digits: 8 })).toBe(generateTOTP(SEED, { digits: 8, now: ms }));
        expect(generateTOTP(SEED, { digits: 8, now: undefined })).toBe(
          generateTOTP(SEED, { digits: 8, now: ms }),
        );
      }
      vi.setSystemTime(20_000_000_000_000);
      expect(generateTOTP(SEED, { digits: 8 })).toBe('65353130');
      vi.setSystemTime(1_111_111_109_000);
      expect(generateTOTP(SEED, { digits: 8 })).toBe('07081804');
    });
  });
});

describe('generateTOTP equals HOTP at the step', () => {
  it('for a spread of times, t0, periods, digits and algorithms', () => {
    for (const algorithm of ALGS)
      for (const digits of [6, 7, 8])
        for (const [seconds, period, t0] of [
          [1_700_000_000, 30, 0],
          [1_700_000_000, 60, 1_000_000_000],
          [4_102_444_800, 90, 12345],
          [253_402_300_799, 15, 2 ** 32],
        ] as const) {
          const step = Math.floor((seconds - t0) / period);
          const code = generateTOTP(SEED, { now: seconds * 1000, algorithm, digits, period, t0 });
          expect(code).toBe(generateHOTP(SEED, step, { algorithm, digits }));
          expect(code).toBe(refHOTP(algorithm, SEED, step, digits));
        }
  });

  it('leading zeros are kept: 07081804 at 1111111109 s', () => {
    expect(generateTOTP(SEED, { now: 1_111_111_109_000, digits: 8 })).toBe('07081804');
    expect(generateTOTP(SEED, { now: 1_111_111_109_000, digits: 7 })).toBe('7081804');
    expect(generateTOTP(SEED, { now: 1_111_111_109_000 })).toBe('081804');
  });
});

describe('timeStep misuse', () => {
  it('rejects bad now, period and t0 like generateTOTP', () => {
    expect(thrown(() => timeStep(-1)).code).toBe('ERR_TIME_RANGE');
    expect(thrown(() => timeStep(Number.NaN)).code).toBe('ERR_TIME_TYPE');
    expect(thrown(() => timeStep(new Date('x'))).code).toBe('ERR_TIME_TYPE');
    expect(thrown(() => timeStep('59000' as never)).code).toBe('ERR_TIME_TYPE');
    expect(thrown(() => timeStep(59_000, 0)).code).toBe('ERR_OPTION_PERIOD');
    expect(thrown(() => timeStep(59_000, 121)).code).toBe('ERR_OPTION_PERIOD');
    expect(thrown(() => timeStep(59_000, 30, 60)).code).toBe('ERR_OPTION_T0');
    expect(thrown(() => timeStep(59_000, 30, -1)).code).toBe('ERR_OPTION_T0');
  });
});
