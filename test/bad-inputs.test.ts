/**
 * Every public function against every bad input: secrets, tokens, counters and times, options.
 * Misuse throws TypeError/RangeError with a stable `code` and a message that names the argument
 * and never contains the secret; malformed user tokens are results, not exceptions.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeBase32,
  encodeBase32,
  generateHOTP,
  generateSecret,
  generateTOTP,
  normalizeToken,
  resyncHOTP,
  timeStep,
  verifyHOTP,
  verifyTOTP,
} from '../src/index.js';
import {
  COUNTER_ROWS,
  LOOKAHEAD_ROWS,
  MALFORMED_TOKENS,
  NON_STRING_TOKENS,
  NOW_MS,
  notBytes,
  notNumeric,
  notString,
  OPTION_ROWS,
  SECRET_ROWS,
  TIME_OPTION_ROWS,
  TIME_ROWS,
  UNKNOWN_KEYS,
  WINDOW_ROWS,
  WRONG_TYPES,
  type ErrorClass,
} from './fixtures/bad-inputs.js';
import { fromHex, toHex } from './fixtures/reference-hotp.js';
import { expectMisuse as expectMisuseOf, thrown } from './_helpers.js';

/** A distinctive valid secret: its hex, base32 and byte list must never show up in a message. */
const SECRET = fromHex('0badc0de5ec2e7f00dfacade1337c0ffee15bad1');
const RFC_SEED = new TextEncoder().encode('12345678901234567890');
/** RFC seed, SHA1, 6 digits: HOTP(349495) = '000000' (found by search with Python hmac, re-checked below). */
const ZERO_COUNTER = 349_495;

/** Every fragment of secret material a message must not contain. */
function secretFragments(secret: Uint8Array): string[] {
  if (secret.length === 0) return [];
  const head = secret.subarray(0, Math.min(secret.length, 8));
  // A 5-byte-aligned prefix encodes to a prefix of the full encoding (base32 and base64 alike).
  const prefix = secret.subarray(0, Math.min(secret.length, 30));
  return [
    toHex(head),
    toHex(head).toUpperCase(),
    encodeBase32(prefix).slice(0, 8),
    encodeBase32(prefix).slice(0, 8).toLowerCase(),
    Array.from(head).join(','),
    Buffer.from(prefix).toString('base64').slice(0, 8),
  ];
}

interface MisuseExpectation {
  error: ErrorClass;
  code: string;
  /** The argument name the message must quote. */
  arg: string;
  /** Secrets involved in the call. */
  secrets?: Uint8Array[];
  /** Codes or tokens that must not appear. */
  forbidden?: string[];
}

/** Asserts the misuse contract on one call, and that the message leaks no secret or code. */
function expectMisuse(fn: () => unknown, x: MisuseExpectation): void {
  const msg = expectMisuseOf(
    fn,
    x.error === 'TypeError' ? TypeError : RangeError,
    x.code,
    x.arg,
  ).message;
  for (const s of [SECRET, ...(x.secrets ?? [])])
    for (const f of secretFragments(s)) expect(msg).not.toContain(f);
  for (const f of x.forbidden ?? []) expect(msg).not.toContain(f);
}

const CURRENT_CODES = [
  generateTOTP(SECRET, { now: NOW_MS }),
  generateTOTP(SECRET, { now: NOW_MS, digits: 8 }),
];

/** The functions that take a secret, each called with otherwise valid arguments. */
const SECRET_TAKERS: ReadonlyArray<
  readonly [name: string, call: (secret: unknown, extra?: object) => unknown]
> = [
  ['generateHOTP', (s, x) => generateHOTP(s as Uint8Array, 0, { ...x })],
  ['generateTOTP', (s, x) => generateTOTP(s as Uint8Array, { now: NOW_MS, ...x })],
  ['verifyTOTP', (s, x) => verifyTOTP(s as Uint8Array, '123456', { now: NOW_MS, ...x })],
  ['verifyHOTP', (s, x) => verifyHOTP(s as Uint8Array, '123456', { counter: 0, ...x })],
  ['resyncHOTP', (s, x) => resyncHOTP(s as Uint8Array, '123456', '654321', { counter: 0, ...x })],
];

/** The functions that take the shared OTP options (algorithm, digits, allowInsecureShortSecret). */
const OPTION_TAKERS: ReadonlyArray<
  readonly [name: string, call: (o: Record<string, unknown>) => unknown]
> = [
  ['generateHOTP', (o) => generateHOTP(SECRET, 0, o)],
  ['generateTOTP', (o) => generateTOTP(SECRET, { now: NOW_MS, ...o })],
  ['verifyTOTP', (o) => verifyTOTP(SECRET, '123456', { now: NOW_MS, ...o })],
  ['verifyHOTP', (o) => verifyHOTP(SECRET, '123456', { counter: 0, ...o } as never)],
  ['resyncHOTP', (o) => resyncHOTP(SECRET, '123456', '654321', { counter: 0, ...o } as never)],
];

/** TOTP-only option takers (period, t0, now, window). */
const TIME_TAKERS: ReadonlyArray<
  readonly [name: string, call: (o: Record<string, unknown>) => unknown]
> = [
  ['generateTOTP', (o) => generateTOTP(SECRET, { now: NOW_MS, ...o })],
  ['verifyTOTP', (o) => verifyTOTP(SECRET, '123456', { now: NOW_MS, ...o })],
];

describe('Secrets on every secret-taking function', () => {
  for (const [name, call] of SECRET_TAKERS) {
    describe(name, () => {
      for (const row of SECRET_ROWS) {
        it(`${row.kind}: ${row.label} → ${row.error} ${row.code}`, () => {
          const secrets = row.value instanceof Uint8Array ? [row.value] : [];
          expectMisuse(() => call(row.value), {
            ...row,
            arg: `"${row.arg}"`,
            secrets,
            forbidden: CURRENT_CODES,
          });
          // The opt-in never rescues an empty, a 1–9-byte, a wrongly typed or an oversized secret;
          // it does accept 10–15 bytes.
          const rescued =
            row.value instanceof Uint8Array && row.value.length >= 10 && row.value.length < 16;
          if (rescued)
            expect(() => call(row.value, { allowInsecureShortSecret: true })).not.toThrow();
          else
            expectMisuse(() => call(row.value, { allowInsecureShortSecret: true }), {
              ...row,
              arg: `"${row.arg}"`,
              secrets,
            });
        });
      }

      it('every wrong type in the corpus → TypeError ERR_SECRET_TYPE', () => {
        for (const w of WRONG_TYPES.filter((x) => notBytes(x.value)))
          expectMisuse(() => call(w.value), {
            error: 'TypeError',
            code: 'ERR_SECRET_TYPE',
            arg: '"secret"',
          });
      });

      it('empty via base32: decodeBase32("") gives 0 bytes → ERR_SECRET_EMPTY', () => {
        expectMisuse(() => call(decodeBase32('')), {
          error: 'RangeError',
          code: 'ERR_SECRET_EMPTY',
          arg: '"secret"',
        });
      });

      it('80-bit JBSWY3DPEHPK3PXP (80 bits) → ERR_SECRET_TOO_SHORT naming allowInsecureShortSecret', () => {
        const short = decodeBase32('JBSWY3DPEHPK3PXP');
        expect(short).toHaveLength(10);
        expectMisuse(() => call(short), {
          error: 'RangeError',
          code: 'ERR_SECRET_TOO_SHORT',
          arg: 'allowInsecureShortSecret',
          secrets: [short],
          forbidden: ['JBSWY3DP', 'jbswy3dp', '48656c6c', 'Hello'],
        });
        expectMisuse(() => call(short, { allowInsecureShortSecret: false }), {
          error: 'RangeError',
          code: 'ERR_SECRET_TOO_SHORT',
          arg: '"secret"',
          secrets: [short],
        });
        // With the opt-in, 10..15 bytes work.
        expect(() => call(short, { allowInsecureShortSecret: true })).not.toThrow();
        expect(() =>
          call(new Uint8Array(15).fill(7), { allowInsecureShortSecret: true }),
        ).not.toThrow();
        // 9 bytes are refused even with it.
        expectMisuse(() => call(short.subarray(0, 9), { allowInsecureShortSecret: true }), {
          error: 'RangeError',
          code: 'ERR_SECRET_TOO_SHORT',
          arg: '"secret"',
          secrets: [short],
        });
      });

      it('16 and 256 bytes are accepted without the opt-in', () => {
        expect(() => call(new Uint8Array(16).fill(1))).not.toThrow();
        expect(() => call(new Uint8Array(256).fill(1))).not.toThrow();
      });

      it('allowInsecureShortSecret must be a boolean', () => {
        for (const w of WRONG_TYPES.filter(
          (x) => typeof x.value !== 'boolean' && x.value !== undefined,
        ))
          expectMisuse(() => call(SECRET, { allowInsecureShortSecret: w.value }), {
            error: 'TypeError',
            code: 'ERR_OPTION_TYPE',
            arg: '"allowInsecureShortSecret"',
          });
      });
    });
  }

  it('with the opt-in, a 10-byte secret generates and verifies end to end', () => {
    const short = decodeBase32('JBSWY3DPEHPK3PXP');
    const o = { allowInsecureShortSecret: true } as const;
    const totp = generateTOTP(short, { ...o, now: NOW_MS });
    expect(verifyTOTP(short, totp, { ...o, now: NOW_MS })).toEqual({
      ok: true,
      delta: 0,
      step: Math.floor(NOW_MS / 30_000),
    });
    const hotp = generateHOTP(short, 5, o);
    expect(verifyHOTP(short, hotp, { ...o, counter: 0 })).toEqual({
      ok: true,
      counter: 5n,
      next: 6n,
    });
    expect(
      resyncHOTP(short, generateHOTP(short, 40, o), generateHOTP(short, 41, o), {
        ...o,
        counter: 0,
      }),
    ).toEqual({
      ok: true,
      counter: 41n,
      next: 42n,
    });
  });
});

describe('Counters', () => {
  const takers: ReadonlyArray<readonly [string, (c: unknown) => unknown]> = [
    ['generateHOTP', (c) => generateHOTP(SECRET, c as number)],
    ['verifyHOTP', (c) => verifyHOTP(SECRET, '123456', { counter: c as number })],
    ['resyncHOTP', (c) => resyncHOTP(SECRET, '123456', '654321', { counter: c as number })],
  ];
  for (const [name, call] of takers) {
    describe(name, () => {
      for (const row of COUNTER_ROWS) {
        it(`${row.kind}: ${row.label} → ${row.error} ${row.code}`, () => {
          expectMisuse(() => call(row.value), {
            ...row,
            arg: `"${row.arg}"`,
            forbidden: CURRENT_CODES,
          });
        });
      }
      it('every non-numeric value in the corpus → TypeError ERR_COUNTER_TYPE', () => {
        for (const w of WRONG_TYPES.filter((x) => notNumeric(x.value)))
          expectMisuse(() => call(w.value), {
            error: 'TypeError',
            code: 'ERR_COUNTER_TYPE',
            arg: '"counter"',
          });
      });
      it('boundary: 2n**64n-1n and 2**53-1 are accepted', () => {
        expect(() => call(2n ** 64n - 1n)).not.toThrow();
        expect(() => call(Number.MAX_SAFE_INTEGER)).not.toThrow();
        expect(() => call(0)).not.toThrow();
      });
    });
  }

  it('verifyHOTP without options or without counter → TypeError ERR_COUNTER_TYPE', () => {
    expectMisuse(() => verifyHOTP(SECRET, '123456', undefined as never), {
      error: 'TypeError',
      code: 'ERR_COUNTER_TYPE',
      arg: 'counter',
    });
    expectMisuse(() => verifyHOTP(SECRET, '123456', {} as never), {
      error: 'TypeError',
      code: 'ERR_COUNTER_TYPE',
      arg: '"counter"',
    });
    expectMisuse(() => resyncHOTP(SECRET, '123456', '654321', undefined as never), {
      error: 'TypeError',
      code: 'ERR_COUNTER_TYPE',
      arg: 'counter',
    });
  });

  it('look-ahead from 2n**64n-3n with s=10 clamps at 2^64−1 and never wraps to 0', () => {
    const start = 2n ** 64n - 3n;
    for (const c of [start, start + 1n]) {
      const r = verifyHOTP(SECRET, generateHOTP(SECRET, c), { counter: start, lookAhead: 10 });
      expect(r).toEqual({ ok: true, counter: c, next: c + 1n });
    }
    // Matching 2^64−1 would need next = 2^64; codes for wrapped counters 0..6 are never candidates.
    const wrapped = [0, 1, 2, 3, 4, 5, 6].map((c) => generateHOTP(SECRET, c));
    const nearTop = [start, start + 1n, start + 2n].map((c) => generateHOTP(SECRET, c));
    for (const code of wrapped.filter((w) => !nearTop.slice(0, 2).includes(w)))
      expect(verifyHOTP(SECRET, code, { counter: start, lookAhead: 10 })).toEqual({
        ok: false,
        reason: 'invalid',
      });
  });
});

describe('Times', () => {
  const takers: ReadonlyArray<readonly [string, (now: unknown) => unknown]> = [
    ['generateTOTP', (now) => generateTOTP(SECRET, { now: now as number })],
    ['verifyTOTP', (now) => verifyTOTP(SECRET, '123456', { now: now as number })],
    ['timeStep', (now) => timeStep(now as number)],
  ];
  for (const [name, call] of takers) {
    describe(name, () => {
      for (const row of TIME_ROWS) {
        it(`${row.kind}: ${row.label} → ${row.error} ${row.code}`, () => {
          expectMisuse(() => call(row.value), { ...row, arg: `"${row.arg}"` });
        });
      }
      it('every wrong type in the corpus → TypeError ERR_TIME_TYPE', () => {
        for (const w of WRONG_TYPES.filter(
          (x) => typeof x.value !== 'number' && !(x.value instanceof Date) && x.value !== undefined,
        ))
          expectMisuse(() => call(w.value), {
            error: 'TypeError',
            code: 'ERR_TIME_TYPE',
            arg: '"now"',
          });
      });
      it('20000000000 s, 2^31 s and 2^32 s are accepted', () => {
        for (const s of [20_000_000_000, 2 ** 31, 2 ** 32, 0])
          expect(() => call(s * 1000)).not.toThrow();
      });
    });
  }

  it('20000000000 s gives 65353130', () => {
    expect(generateTOTP(RFC_SEED, { now: 20_000_000_000_000, digits: 8 })).toBe('65353130');
  });
});

describe('Options on every function', () => {
  for (const [name, call] of OPTION_TAKERS) {
    describe(name, () => {
      for (const row of OPTION_ROWS) {
        it(`${row.option}: ${row.label} → ${row.error} ${row.code}`, () => {
          expectMisuse(() => call({ [row.option]: row.value }), {
            ...row,
            arg: `"${row.arg}"`,
            forbidden: CURRENT_CODES,
          });
        });
      }
      it('wrong types for digits and algorithm → TypeError', () => {
        for (const w of WRONG_TYPES.filter(
          (x) => typeof x.value !== 'number' && x.value !== undefined,
        ))
          expectMisuse(() => call({ digits: w.value }), {
            error: 'TypeError',
            code: 'ERR_OPTION_DIGITS',
            arg: '"digits"',
          });
        for (const w of WRONG_TYPES.filter(
          (x) => typeof x.value !== 'string' && x.value !== undefined,
        ))
          expectMisuse(() => call({ algorithm: w.value }), {
            error: 'TypeError',
            code: 'ERR_OPTION_ALGORITHM',
            arg: '"algorithm"',
          });
      });
      it('unknown option keys → RangeError ERR_OPTION_UNKNOWN naming the key', () => {
        for (const key of UNKNOWN_KEYS)
          expectMisuse(() => call({ [key]: 1 }), {
            error: 'RangeError',
            code: 'ERR_OPTION_UNKNOWN',
            arg: `"${key}"`,
          });
      });
      it('explicit undefined means the default', () => {
        expect(() =>
          call({ digits: undefined, algorithm: undefined, allowInsecureShortSecret: undefined }),
        ).not.toThrow();
      });
    });
  }

  for (const [name, call] of TIME_TAKERS) {
    describe(`${name} (period, t0)`, () => {
      for (const row of TIME_OPTION_ROWS) {
        it(`${row.option}: ${row.label} → ${row.error} ${row.code}`, () => {
          expectMisuse(() => call({ [row.option]: row.value }), {
            ...row,
            arg: `"${row.arg}"`,
            forbidden: CURRENT_CODES,
          });
        });
      }
      it('wrong types for period and t0 → TypeError', () => {
        for (const w of WRONG_TYPES.filter(
          (x) => typeof x.value !== 'number' && x.value !== undefined,
        )) {
          expectMisuse(() => call({ period: w.value }), {
            error: 'TypeError',
            code: 'ERR_OPTION_PERIOD',
            arg: '"period"',
          });
          expectMisuse(() => call({ t0: w.value }), {
            error: 'TypeError',
            code: 'ERR_OPTION_T0',
            arg: '"t0"',
          });
        }
      });
      it('period boundaries 1 and 120 are accepted; t0 = now is accepted', () => {
        expect(() => call({ period: 1 })).not.toThrow();
        expect(() => call({ period: 120 })).not.toThrow();
        expect(() => call({ t0: NOW_MS / 1000 })).not.toThrow();
      });
    });
  }

  it('period and t0 are not HOTP options', () => {
    expectMisuse(() => generateHOTP(SECRET, 0, { period: 30 } as never), {
      error: 'RangeError',
      code: 'ERR_OPTION_UNKNOWN',
      arg: '"period"',
    });
    expectMisuse(() => verifyHOTP(SECRET, '123456', { counter: 0, window: 1 } as never), {
      error: 'RangeError',
      code: 'ERR_OPTION_UNKNOWN',
      arg: '"window"',
    });
    expectMisuse(() => generateTOTP(SECRET, { now: NOW_MS, window: 1 } as never), {
      error: 'RangeError',
      code: 'ERR_OPTION_UNKNOWN',
      arg: '"window"',
    });
    expectMisuse(() => verifyTOTP(SECRET, '123456', { now: NOW_MS, counter: 0 } as never), {
      error: 'RangeError',
      code: 'ERR_OPTION_UNKNOWN',
      arg: '"counter"',
    });
  });

  it('options that are not objects → TypeError ERR_OPTION_TYPE', () => {
    const notObjects = WRONG_TYPES.filter(
      (x) =>
        x.value !== undefined &&
        (typeof x.value !== 'object' || x.value === null || Array.isArray(x.value)),
    );
    for (const w of notObjects) {
      const o = w.value as never;
      const x = { error: 'TypeError', code: 'ERR_OPTION_TYPE', arg: 'options' } as const;
      expectMisuse(() => generateHOTP(SECRET, 0, o), x);
      expectMisuse(() => generateTOTP(SECRET, o), x);
      expectMisuse(() => verifyTOTP(SECRET, '123456', o), x);
      expectMisuse(() => verifyHOTP(SECRET, '123456', o), x);
      expectMisuse(() => resyncHOTP(SECRET, '123456', '654321', o), x);
      expectMisuse(() => generateSecret(o), x);
      expectMisuse(() => encodeBase32(SECRET, o), x);
      expectMisuse(() => decodeBase32('MZXW6YQ=', o), x);
    }
  });

  describe('generateSecret', () => {
    for (const row of OPTION_ROWS.filter((r) => r.option === 'algorithm')) {
      it(`algorithm: ${row.label} → ${row.error} ${row.code}`, () => {
        expectMisuse(() => generateSecret({ algorithm: row.value as never }), {
          ...row,
          arg: `"${row.arg}"`,
        });
      });
    }
    it('unknown keys, and digits is not a generateSecret option', () => {
      for (const key of [...UNKNOWN_KEYS, 'digits', 'lenght', 'size'])
        expectMisuse(() => generateSecret({ [key]: 20 } as never), {
          error: 'RangeError',
          code: 'ERR_OPTION_UNKNOWN',
          arg: `"${key}"`,
        });
    });
    it('length: wrong types are TypeError, out of range RangeError', () => {
      for (const w of WRONG_TYPES.filter(
        (x) => typeof x.value !== 'number' && x.value !== undefined,
      ))
        expect(thrown(() => generateSecret({ length: w.value as never }))).toBeInstanceOf(
          TypeError,
        );
      for (const n of [15, 257, 0, -16, 20.5, Number.NaN]) {
        const e = thrown(() => generateSecret({ length: n })) as Error;
        expect(e).toBeInstanceOf(RangeError);
        expect(e.message).toContain('"length"');
      }
    });
  });

  describe('base32 options', () => {
    it('unknown keys on encodeBase32 / decodeBase32', () => {
      for (const key of UNKNOWN_KEYS) {
        expectMisuse(() => encodeBase32(SECRET, { [key]: true } as never), {
          error: 'RangeError',
          code: 'ERR_OPTION_UNKNOWN',
          arg: `"${key}"`,
        });
        expectMisuse(() => decodeBase32('MY', { [key]: true } as never), {
          error: 'RangeError',
          code: 'ERR_OPTION_UNKNOWN',
          arg: `"${key}"`,
        });
      }
    });
  });
});

describe('window (verifyTOTP)', () => {
  for (const row of WINDOW_ROWS) {
    it(`window: ${row.label} → ${row.error} ${row.code}`, () => {
      expectMisuse(
        () => verifyTOTP(SECRET, '123456', { now: NOW_MS, window: row.value as never }),
        {
          ...row,
          arg: `"${row.arg}"`,
          forbidden: CURRENT_CODES,
        },
      );
    });
  }
  it('wrong primitive types and arrays → TypeError ERR_OPTION_WINDOW', () => {
    const wrong = WRONG_TYPES.filter(
      (x) =>
        x.value !== undefined &&
        typeof x.value !== 'number' &&
        (typeof x.value !== 'object' || x.value === null || Array.isArray(x.value)),
    );
    for (const w of wrong)
      expectMisuse(() => verifyTOTP(SECRET, '123456', { now: NOW_MS, window: w.value as never }), {
        error: 'TypeError',
        code: 'ERR_OPTION_WINDOW',
        arg: '"window"',
      });
  });
  it('the caps 0 and 10 are accepted, each way', () => {
    for (const window of [
      0,
      10,
      { past: 0, future: 0 },
      { past: 10, future: 10 },
      { past: 10 },
      { future: 0 },
      {},
    ])
      expect(verifyTOTP(SECRET, '123456', { now: NOW_MS, window })).toHaveProperty('ok');
  });
});

describe('lookAhead (verifyHOTP 1..100, resyncHOTP 1..1000)', () => {
  for (const row of LOOKAHEAD_ROWS) {
    it(`verifyHOTP lookAhead: ${row.label} → ${row.error} ${row.code}`, () => {
      expectMisuse(
        () => verifyHOTP(SECRET, '123456', { counter: 0, lookAhead: row.value as never }),
        {
          ...row,
          arg: `"${row.arg}"`,
          forbidden: CURRENT_CODES,
        },
      );
    });
  }
  it('wrong types → TypeError', () => {
    for (const w of WRONG_TYPES.filter(
      (x) => typeof x.value !== 'number' && x.value !== undefined,
    )) {
      const x = { error: 'TypeError', code: 'ERR_OPTION_LOOKAHEAD', arg: '"lookAhead"' } as const;
      expectMisuse(
        () => verifyHOTP(SECRET, '123456', { counter: 0, lookAhead: w.value as never }),
        x,
      );
      expectMisuse(
        () => resyncHOTP(SECRET, '123456', '654321', { counter: 0, lookAhead: w.value as never }),
        x,
      );
    }
  });
  it('resyncHOTP: 0 and 1001 rejected, 1000 accepted; verifyHOTP: 1 and 100 accepted', () => {
    for (const lookAhead of [0, 1001, -1, 2.5])
      expectMisuse(() => resyncHOTP(SECRET, '123456', '654321', { counter: 0, lookAhead }), {
        error: 'RangeError',
        code: 'ERR_OPTION_LOOKAHEAD',
        arg: '"lookAhead"',
      });
    expect(() =>
      resyncHOTP(SECRET, '123456', '654321', { counter: 0, lookAhead: 1000 }),
    ).not.toThrow();
    expect(() => verifyHOTP(SECRET, '123456', { counter: 0, lookAhead: 1 })).not.toThrow();
    expect(() => verifyHOTP(SECRET, '123456', { counter: 0, lookAhead: 100 })).not.toThrow();
  });
});

describe('Tokens', () => {
  const MALFORMED = { ok: false, reason: 'malformed' };
  const verifiers: ReadonlyArray<readonly [string, (token: unknown) => unknown]> = [
    ['verifyTOTP', (t) => verifyTOTP(SECRET, t as string, { now: NOW_MS, window: 10 })],
    ['verifyHOTP', (t) => verifyHOTP(SECRET, t as string, { counter: 0, lookAhead: 100 })],
    ['resyncHOTP (first)', (t) => resyncHOTP(SECRET, t as string, '123456', { counter: 0 })],
    ['resyncHOTP (second)', (t) => resyncHOTP(SECRET, '123456', t as string, { counter: 0 })],
  ];

  for (const [name, call] of verifiers) {
    describe(name, () => {
      for (const [kind, token] of MALFORMED_TOKENS) {
        it(`${kind}: ${JSON.stringify(token)} → malformed`, () => {
          expect(call(token)).toEqual(MALFORMED);
        });
      }
      for (const w of NON_STRING_TOKENS) {
        it(`${w.label} → TypeError ERR_TOKEN_TYPE`, () => {
          expectMisuse(() => call(w.value), {
            error: 'TypeError',
            code: 'ERR_TOKEN_TYPE',
            arg: '"token"',
            forbidden: ['123456', ...CURRENT_CODES],
          });
        });
      }
      it('every non-string in the corpus → TypeError ERR_TOKEN_TYPE', () => {
        for (const w of WRONG_TYPES.filter((x) => notString(x.value)))
          expectMisuse(() => call(w.value), {
            error: 'TypeError',
            code: 'ERR_TOKEN_TYPE',
            arg: '"token"',
          });
      });
    });
  }

  it('malformed tokens that are the right code with decoration are still malformed (no trimming: CVE-2025-6014)', () => {
    const code = generateTOTP(SECRET, { now: NOW_MS });
    expect(verifyTOTP(SECRET, code, { now: NOW_MS })).toMatchObject({ ok: true, delta: 0 });
    for (const t of [
      ` ${code}`,
      `${code} `,
      `${code}\n`,
      `\t${code}`,
      `${code.slice(0, 3)} ${code.slice(3)}`,
      `${code.slice(0, 3)}-${code.slice(3)}`,
      `+${code}`,
    ])
      expect(verifyTOTP(SECRET, t, { now: NOW_MS })).toEqual(MALFORMED);
    const fullWidth = Array.from(code, (d) => String.fromCharCode(0xff10 + Number(d))).join('');
    expect(verifyTOTP(SECRET, fullWidth, { now: NOW_MS })).toEqual(MALFORMED);
    // The number form of a code is a TypeError, not a match.
    expect(thrown(() => verifyTOTP(SECRET, Number(code) as never, { now: NOW_MS }))).toBeInstanceOf(
      TypeError,
    );
  });

  it('token length follows digits: 6 digits under digits 8 is malformed, and vice versa', () => {
    const code8 = generateTOTP(SECRET, { now: NOW_MS, digits: 8 });
    expect(verifyTOTP(SECRET, code8, { now: NOW_MS, digits: 8 })).toMatchObject({ ok: true });
    expect(verifyTOTP(SECRET, code8.slice(2), { now: NOW_MS, digits: 8 })).toEqual(MALFORMED);
    expect(verifyTOTP(SECRET, code8, { now: NOW_MS })).toEqual(MALFORMED);
    expect(verifyTOTP(SECRET, code8.slice(1), { now: NOW_MS, digits: 7 })).toMatchObject({
      ok: true,
    });
  });

  it('a 1 MB string returns malformed quickly, before any HMAC work', () => {
    const big = '1'.repeat(1 << 20);
    const bigCode = generateTOTP(SECRET, { now: NOW_MS }).repeat(200_000);
    const start = performance.now();
    for (let i = 0; i < 200; i++) {
      expect(verifyTOTP(SECRET, big, { now: NOW_MS, window: 10 })).toEqual(MALFORMED);
      expect(verifyTOTP(SECRET, bigCode, { now: NOW_MS, window: 10 })).toEqual(MALFORMED);
      expect(verifyHOTP(SECRET, big, { counter: 0, lookAhead: 100 })).toEqual(MALFORMED);
    }
    expect(performance.now() - start).toBeLessThan(1000);
    // The contrast: a well-formed wrong token reaches the HMAC comparison and comes back 'invalid',
    // so 'malformed' can only come from the syntax check that runs first.
    const codes = new Set(
      Array.from({ length: 21 }, (_, i) =>
        generateTOTP(SECRET, { now: NOW_MS + (i - 10) * 30_000 }),
      ),
    );
    let wrong = '000001';
    while (codes.has(wrong)) wrong = String(Number(wrong) + 1).padStart(6, '0');
    expect(verifyTOTP(SECRET, wrong, { now: NOW_MS, window: 10 })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(verifyTOTP(SECRET, `${wrong}\u0000`, { now: NOW_MS, window: 10 })).toEqual(MALFORMED);
  });

  it("'000000' is a valid format, compared normally, never special-cased", () => {
    // Independently: RFC seed, SHA1, counter 349495 really is 000000.
    expect(generateHOTP(RFC_SEED, ZERO_COUNTER)).toBe('000000');
    expect(verifyHOTP(RFC_SEED, '000000', { counter: ZERO_COUNTER, lookAhead: 1 })).toEqual({
      ok: true,
      counter: BigInt(ZERO_COUNTER),
      next: BigInt(ZERO_COUNTER + 1),
    });
    expect(verifyHOTP(RFC_SEED, '000000', { counter: 0, lookAhead: 100 })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(verifyHOTP(RFC_SEED, '000000', { counter: ZERO_COUNTER + 1 })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    const at = ZERO_COUNTER * 30_000;
    expect(verifyTOTP(RFC_SEED, '000000', { now: at + 29_999, window: 0 })).toEqual({
      ok: true,
      delta: 0,
      step: ZERO_COUNTER,
    });
    expect(verifyTOTP(RFC_SEED, '000000', { now: at + 60_000, window: 1 })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(verifyTOTP(SECRET, '000000', { now: NOW_MS })).toEqual({ ok: false, reason: 'invalid' });
    // '' is not '000000'.
    expect(verifyHOTP(RFC_SEED, '', { counter: ZERO_COUNTER })).toEqual(MALFORMED);
  });

  describe('normalizeToken strips only ASCII spaces and hyphens', () => {
    it.each([
      ['123 456', '123456'],
      ['123-456', '123456'],
      [' 12-34 56 ', '123456'],
      ['--1 2 3 4 5 6--', '123456'],
      ['', ''],
      ['123456', '123456'],
    ])('%j → %j', (input, out) => {
      expect(normalizeToken(input)).toBe(out);
    });
    it.each([
      ['tab', '123\t456'],
      ['newline', '123456\n'],
      ['NBSP', '123\u00A0456'],
      ['ideographic space', '123\u3000456'],
      ['en dash', '123\u2013456'],
      ['minus sign', '123\u2212456'],
      ['underscore', '1_23456'],
      ['dot', '123.456'],
      ['plus', '+123456'],
      ['full-width digits', '１２３４５６'],
      ['zero-width space', '123\u200B456'],
    ])('leaves %s untouched', (_name, input) => {
      expect(normalizeToken(input)).toBe(input);
      expect(verifyTOTP(SECRET, normalizeToken(input), { now: NOW_MS })).toEqual(MALFORMED);
    });
    it('an explicit normalizeToken before verify accepts grouped input', () => {
      const code = generateTOTP(SECRET, { now: NOW_MS });
      expect(
        verifyTOTP(SECRET, normalizeToken(`${code.slice(0, 3)} ${code.slice(3)}`), { now: NOW_MS }),
      ).toMatchObject({ ok: true, delta: 0 });
    });
    it('non-strings → TypeError ERR_TOKEN_TYPE', () => {
      for (const w of WRONG_TYPES.filter((x) => notString(x.value)))
        expectMisuse(() => normalizeToken(w.value as never), {
          error: 'TypeError',
          code: 'ERR_TOKEN_TYPE',
          arg: '"input"',
        });
    });
  });
});
