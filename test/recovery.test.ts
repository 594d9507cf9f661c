/**
 * Recovery-code primitives (src/recovery/): generation, normalisation of what users type (case,
 * separators, Crockford confusables, wrong lengths, huge inputs), scrypt hashing and its
 * self-describing format, tampered hashes, and one scrypt per redemption attempt. Single use,
 * throttling and regeneration are store-level: see verifier.test.ts.
 */
import { scryptSync } from 'node:crypto';
import { scrypt, scryptAsync } from '@noble/hashes/scrypt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OtpkitError } from '../src/errors.js';
import { generateRecoveryCodes, normalizeRecoveryCode } from '../src/recovery/codes.js';
import {
  hashRecoveryCode,
  recoveryHashNeedsRehash,
  verifyRecoveryCode,
} from '../src/recovery/hash.js';
import {
  hashRecoveryCodeSet,
  hashRecoveryCodeSetAsync,
  matchRecoveryCode,
  matchRecoveryCodeAsync,
} from '../src/recovery/set.js';
import { expectMisuse, thrown } from './_helpers.js';

// Wrap the real scrypt so tests can count evaluations (the module under test imports this path).
vi.mock('@noble/hashes/scrypt', async (importOriginal) => {
  const real = await importOriginal<typeof import('@noble/hashes/scrypt')>();
  return { ...real, scrypt: vi.fn(real.scrypt), scryptAsync: vi.fn(real.scryptAsync) };
});

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CHAR = `[${ALPHABET}]`;
/** Cheap parameters for tests that are not about cost. */
const FAST = { logN: 10 } as const;
const CODE = 'K7QM-4X2P-9D3R-TB8W';
const CANON = 'K7QM4X2P9D3RTB8W';

/** Node's own scrypt, which the async paths use off the event loop where the runtime has it. */
const nodeCrypto = process.getBuiltinModule('node:crypto') as typeof import('node:crypto');
let nodeScrypt: { mock: { calls: unknown[][] } };
const scryptCalls = (): number =>
  vi.mocked(scrypt).mock.calls.length +
  vi.mocked(scryptAsync).mock.calls.length +
  nodeScrypt.mock.calls.length;

function expectHashError(fn: () => unknown): void {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(OtpkitError);
  expect((e as OtpkitError).code).toBe('ERR_RECOVERY_HASH');
}

beforeEach(() => {
  vi.mocked(scrypt).mockClear();
  vi.mocked(scryptAsync).mockClear();
  nodeScrypt = vi.spyOn(nodeCrypto, 'scrypt');
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('generateRecoveryCodes', () => {
  it('defaults: 10 distinct codes of 16 Crockford characters in 4 groups of 4', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    for (const c of codes)
      expect(c).toMatch(new RegExp(`^${CHAR}{4}-${CHAR}{4}-${CHAR}{4}-${CHAR}{4}$`));
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(normalizeRecoveryCode(c)).toBe(c.replaceAll('-', ''));
  });

  it.each([
    [64, 13],
    [65, 13],
    [66, 14],
    [80, 16],
    [128, 26],
    [160, 32],
  ])('bits %i → %i characters (ceil(bits / 5))', (bits, chars) => {
    const [c] = generateRecoveryCodes({ bits, count: 1, groupSize: 0 });
    expect(c).toMatch(new RegExp(`^${CHAR}{${chars}}$`));
    expect(normalizeRecoveryCode(c!, { bits })).toBe(c);
  });

  it('groupSize shapes the display form', () => {
    expect(generateRecoveryCodes({ count: 1, groupSize: 0 })[0]).toMatch(
      new RegExp(`^${CHAR}{16}$`),
    );
    expect(generateRecoveryCodes({ count: 1, groupSize: 2 })[0]).toMatch(
      new RegExp(`^${CHAR}{2}(-${CHAR}{2}){7}$`),
    );
    expect(generateRecoveryCodes({ count: 1, groupSize: 5 })[0]).toMatch(
      new RegExp(`^(${CHAR}{5}-){3}${CHAR}$`),
    );
    expect(generateRecoveryCodes({ count: 1, groupSize: 8 })[0]).toMatch(
      new RegExp(`^${CHAR}{8}-${CHAR}{8}$`),
    );
    expect(generateRecoveryCodes({ count: 1, bits: 64, groupSize: 4 })[0]).toMatch(
      new RegExp(`^(${CHAR}{4}-){3}${CHAR}$`),
    );
  });

  it('count bounds: 1 and 100 accepted', () => {
    expect(generateRecoveryCodes({ count: 1 })).toHaveLength(1);
    const many = generateRecoveryCodes({ count: 100 });
    expect(many).toHaveLength(100);
    expect(new Set(many).size).toBe(100);
  });

  it.each([
    ['count 0', { count: 0 }],
    ['count 1000', { count: 1000 }],
    ['bits 40', { bits: 40 }],
    ['count 101', { count: 101 }],
    ['count -1', { count: -1 }],
    ['count 1.5', { count: 1.5 }],
    ['count NaN', { count: Number.NaN }],
    ['bits 63', { bits: 63 }],
    ['bits 161', { bits: 161 }],
    ['bits Infinity', { bits: Number.POSITIVE_INFINITY }],
    ['groupSize 1', { groupSize: 1 }],
    ['groupSize 9', { groupSize: 9 }],
    ['groupSize -1', { groupSize: -1 }],
  ])('%s → RangeError ERR_OPTION_RECOVERY', (_label, options) => {
    expectMisuse(() => generateRecoveryCodes(options), RangeError, 'ERR_OPTION_RECOVERY');
  });

  it.each([
    ['count "10"', { count: '10' }],
    ['bits 80n', { bits: 80n }],
    ['groupSize null', { groupSize: null }],
  ])('%s → TypeError ERR_OPTION_RECOVERY', (_label, options) => {
    expectMisuse(() => generateRecoveryCodes(options as never), TypeError, 'ERR_OPTION_RECOVERY');
  });

  it('rejects unknown options (ERR_OPTION_UNKNOWN) and non-object options (ERR_OPTION_TYPE)', () => {
    expectMisuse(
      () => generateRecoveryCodes({ cout: 5 } as never),
      RangeError,
      'ERR_OPTION_UNKNOWN',
    );
    expectMisuse(() => generateRecoveryCodes(10 as never), TypeError, 'ERR_OPTION_TYPE');
    expectMisuse(() => generateRecoveryCodes(null as never), TypeError, 'ERR_OPTION_TYPE');
  });

  it('draws from crypto.getRandomValues, never Math.random', () => {
    const grv = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const rnd = vi.spyOn(Math, 'random');
    generateRecoveryCodes();
    expect(grv).toHaveBeenCalled();
    expect(rnd).not.toHaveBeenCalled();
  });

  it('redraws a code that collides with one already in the set', () => {
    const real = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
    let calls = 0;
    vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(
      <T extends ArrayBufferView | null>(a: T): T => {
        // The first two codes are both all-zero bytes ('0000…'); later draws are real.
        if (calls++ < 2) return a;
        return real(a as never) as T;
      },
    );
    const codes = generateRecoveryCodes({ count: 2, groupSize: 0 });
    expect(codes[0]).toBe('0'.repeat(16));
    expect(codes[1]).not.toBe('0'.repeat(16));
    expect(calls).toBe(3);
  });

  it('a CSPRNG stuck on one value is an error, not an endless loop', () => {
    vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(
      <T extends ArrayBufferView | null>(a: T): T => a,
    );
    const e = thrown(() => generateRecoveryCodes({ count: 3 }));
    expect(e).toBeInstanceOf(OtpkitError);
    expect((e as OtpkitError).code).toBe('ERR_OPTION_INVALID');
  });

  it('the character distribution is uniform (chi-squared, 31 df, p = 1e-6)', () => {
    const counts = new Map<string, number>([...ALPHABET].map((c) => [c, 0]));
    let n = 0;
    while (n < 20_000) {
      for (const code of generateRecoveryCodes({ count: 100, groupSize: 0 }))
        for (const ch of code) {
          counts.set(ch, (counts.get(ch) ?? 0) + 1);
          n++;
        }
    }
    expect(counts.size).toBe(32); // nothing outside the alphabet
    const expected = n / 32;
    let chi2 = 0;
    for (const c of counts.values()) chi2 += (c - expected) ** 2 / expected;
    // Upper 1e-6 quantile of chi-squared with 31 degrees of freedom: scipy.stats.chi2.isf(1e-6, 31) = 83.64.
    // A uniform generator exceeds it once in a million runs; a `% 32` slip on a 0..35 range would give ~700.
    expect(chi2).toBeLessThan(83.64);
  });
});

describe('normalizeRecoveryCode', () => {
  it('canonical codes are fixed points', () => {
    expect(normalizeRecoveryCode(CANON)).toBe(CANON);
    expect(normalizeRecoveryCode(CODE)).toBe(CANON);
  });

  it('lower case, hyphens, spaces and O/I/L confusables give the same code', () => {
    const canon = '0123456789ABCDEF';
    for (const typed of [
      '0123-4567-89ab-cdef',
      '0123 4567 89AB CDEF',
      'o123-4567-89ab-cdef',
      'O123-4567-89AB-CDEF',
      '0i23-4567-89ab-cdef',
      '0I23-4567-89ab-cdef',
      '0l23-4567-89ab-cdef',
      '0L23 4567 89AB CDEF',
      ' 0123--4567  89ab-cdef- ',
      'oL23456789aBcDeF',
    ])
      expect(normalizeRecoveryCode(typed), typed).toBe(canon);
  });

  it('the empty string is malformed (null)', () => {
    expect(normalizeRecoveryCode('')).toBeNull();
    expect(normalizeRecoveryCode('   ---  ')).toBeNull();
  });

  it.each([
    ['null', null],
    ['a number', 1234],
    ['undefined', undefined],
    ['a String object', new String(CANON)],
    ['an array', [CANON]],
  ])('%s → TypeError ERR_RECOVERY_TYPE', (_label, value) => {
    expectMisuse(() => normalizeRecoveryCode(value as never), TypeError, 'ERR_RECOVERY_TYPE');
  });

  it.each([
    ['15 characters', 'K7QM4X2P9D3RTB8'],
    ['17 characters', 'K7QM4X2P9D3RTB8WX'],
    ['13 characters (a 64-bit code, 80 expected)', 'K7QM4X2P9D3RT'],
    ['U (not Crockford)', 'K7QM4X2P9D3RTB8U'],
    ['lower-case u', 'k7qm4x2p9d3rtb8u'],
    ['punctuation', 'K7QM.4X2P.9D3R.TB8W'],
    ['underscore', 'K7QM_4X2P_9D3R_TB8W'],
    ['a tab', 'K7QM\t4X2P9D3RTB8W'],
    ['a newline', 'K7QM4X2P9D3RTB8W\n'],
    ['a NUL', 'K7QM4X2P9D3RTB8W\u0000'],
    ['a non-breaking space', 'K7QM\u00a04X2P9D3RTB8W'],
    ['an en dash', 'K7QM\u20134X2P9D3RTB8W'],
    ['full-width letters', 'Ｋ7QM4X2P9D3RTB8W'],
    ['dotless ı (upper-cases to I under Unicode rules)', 'K7QM4X2P9D3RTBıW'],
    ['Kelvin sign (lower-cases to k)', '\u212a7QM4X2P9D3RTB8W'],
    ['an emoji', 'K7QM4X2P9D3RTB8😀'],
    ['a lone surrogate', 'K7QM4X2P9D3RTB8\ud800'],
  ])('%s → null', (_label, input) => {
    expect(normalizeRecoveryCode(input)).toBeNull();
  });

  it('the length follows `bits`', () => {
    expect(normalizeRecoveryCode('K7QM4X2P9D3RT', { bits: 64 })).toBe('K7QM4X2P9D3RT');
    expect(normalizeRecoveryCode(CANON, { bits: 64 })).toBeNull();
    expect(normalizeRecoveryCode('0'.repeat(32), { bits: 160 })).toBe('0'.repeat(32));
    expectMisuse(
      () => normalizeRecoveryCode(CANON, { bits: 40 }),
      RangeError,
      'ERR_OPTION_RECOVERY',
    );
    expectMisuse(
      () => normalizeRecoveryCode(CANON, { bit: 80 } as never),
      RangeError,
      'ERR_OPTION_UNKNOWN',
    );
  });

  it('accepts up to 4·length + 16 raw characters, then rejects before looking at content', () => {
    // 16 characters + 64 separators = 80 = 4·16 + 16.
    const padded = `${' '.repeat(32)}${CANON}${'-'.repeat(32)}`;
    expect(padded).toHaveLength(80);
    expect(normalizeRecoveryCode(padded)).toBe(CANON);
    expect(normalizeRecoveryCode(`${padded} `)).toBeNull();
  });

  it('a 1 MB string is rejected by its length alone (O(1))', () => {
    const huge = CANON + ' '.repeat(1 << 20);
    const hugeCode = 'A'.repeat(1 << 20);
    expect(normalizeRecoveryCode(huge)).toBeNull();
    expect(normalizeRecoveryCode(hugeCode)).toBeNull();
    // Scanning 1 MB 2,000 times would take seconds; the length check takes microseconds.
    const t = performance.now();
    for (let i = 0; i < 1000; i++) {
      normalizeRecoveryCode(huge);
      normalizeRecoveryCode(hugeCode);
    }
    expect(performance.now() - t).toBeLessThan(250);
  });

  it('is idempotent on everything it accepts', () => {
    for (const s of [CODE, 'o1l1-o1l1-o1l1-o1l1', ' abcd efgh jkmn pqrs ']) {
      const once = normalizeRecoveryCode(s);
      expect(once).not.toBeNull();
      expect(normalizeRecoveryCode(once!)).toBe(once);
    }
  });
});

describe('hashRecoveryCode / verifyRecoveryCode', () => {
  const FORMAT =
    /^\$otpkit-scrypt\$v=1\$ln=(\d+),r=(\d+),p=(\d+),len=(\d+)\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;

  it('writes a self-describing string with the default parameters (logN 13, r 8, p 1)', () => {
    const h = hashRecoveryCode(CODE);
    const m = FORMAT.exec(h);
    expect(m).not.toBeNull();
    expect(m!.slice(1, 5)).toEqual(['13', '8', '1', '16']);
    expect(verifyRecoveryCode(CODE, h)).toBe(true);
  });

  it('round-trips custom parameters, which are parsed back to verify', () => {
    const h = hashRecoveryCode(CODE, { logN: 11, r: 4, p: 2 });
    expect(FORMAT.exec(h)!.slice(1, 5)).toEqual(['11', '4', '2', '16']);
    expect(verifyRecoveryCode(CODE, h)).toBe(true);
    expect(verifyRecoveryCode('K7QM-4X2P-9D3R-TB8X', h)).toBe(false);
  });

  it('is scrypt (RFC 7914) of the canonical ASCII code: cross-check with node:crypto', () => {
    const salt = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    const h = hashRecoveryCode('k7qm 4x2p 9d3r tb8w', { ...FAST, salt });
    const node = scryptSync(CANON, salt, 32, { N: 1024, r: 8, p: 1 });
    expect(h).toBe(
      `$otpkit-scrypt$v=1$ln=10,r=8,p=1,len=16$${Buffer.from(salt).toString('base64url')}$${node.toString('base64url')}`,
    );
  });

  it('uses a fresh random 128-bit salt each time', () => {
    const a = hashRecoveryCode(CODE, FAST);
    const b = hashRecoveryCode(CODE, FAST);
    expect(a).not.toBe(b);
    expect(FORMAT.exec(a)![5]).not.toBe(FORMAT.exec(b)![5]);
  });

  it('accepts the right code in any accepted typing', () => {
    const h = hashRecoveryCode('0123-4567-89AB-CDEF', FAST);
    for (const typed of [
      '0123456789abcdef',
      'O123 4567 89ab cdef',
      'o123-4567-89AB-CDEF',
      '0123-4567-89ab-cdef',
    ])
      expect(verifyRecoveryCode(typed, h), typed).toBe(true);
    const h1 = hashRecoveryCode('1111-1111-1111-1111', FAST);
    for (const typed of ['IiLl-1111-iiii-LLLL', 'llll llll llll llll'])
      expect(verifyRecoveryCode(typed, h1), typed).toBe(true);
  });

  it('rejects other codes', () => {
    const h = hashRecoveryCode(CODE, FAST);
    for (const other of ['K7QM-4X2P-9D3R-TB8X', '0000-0000-0000-0000', 'W8BT-R3D9-P2X4-MQ7K'])
      expect(verifyRecoveryCode(other, h)).toBe(false);
  });

  it('malformed codes are false without hashing; non-strings are TypeError ERR_RECOVERY_TYPE', () => {
    const h = hashRecoveryCode(CODE, FAST);
    vi.mocked(scrypt).mockClear();
    for (const bad of [
      '',
      'K7QM-4X2P-9D3R-TB8',
      'K7QM-4X2P-9D3R-TB8WX',
      'K7QM-4X2P-9D3R-TB8U',
      'A'.repeat(1 << 20),
    ])
      expect(verifyRecoveryCode(bad, h)).toBe(false);
    // A well-formed 13-character (64-bit) code does not fit this 16-character hash: also no hashing.
    expect(verifyRecoveryCode('K7QM-4X2P-9D3R-T', h)).toBe(false);
    expect(scryptCalls()).toBe(0);
    for (const bad of [null, undefined, 1234, 12345678901234567890n, ['x']])
      expectMisuse(() => verifyRecoveryCode(bad as never, h), TypeError, 'ERR_RECOVERY_TYPE');
    expectMisuse(() => verifyRecoveryCode(CODE, 42 as never), TypeError, 'ERR_RECOVERY_HASH');
  });

  it('hashes codes of any allowed length (13..32 characters)', () => {
    for (const code of ['K7QM4X2P9D3RT', '0'.repeat(32)]) {
      const h = hashRecoveryCode(code, FAST);
      expect(h).toContain(`len=${code.length}$`);
      expect(verifyRecoveryCode(code, h)).toBe(true);
    }
  });

  it('misuse: a non-code, a bad parameter or salt, or an unknown option throws', () => {
    expectMisuse(() => hashRecoveryCode(42 as never), TypeError, 'ERR_RECOVERY_TYPE');
    for (const bad of ['', 'K7QM', 'K7QM-4X2P-9D3R-TB8U', '0'.repeat(33), 'A'.repeat(1 << 20)])
      expectMisuse(() => hashRecoveryCode(bad), RangeError, 'ERR_OPTION_RECOVERY');
    for (const o of [
      { logN: 9 },
      { logN: 21 },
      { r: 0 },
      { r: 33 },
      { p: 0 },
      { p: 17 },
      { logN: 20, r: 8 },
      { logN: 16, r: 8, p: 16 },
    ])
      expectMisuse(() => hashRecoveryCode(CODE, o), RangeError, 'ERR_OPTION_RECOVERY');
    expectMisuse(
      () => hashRecoveryCode(CODE, { logN: '13' } as never),
      TypeError,
      'ERR_OPTION_RECOVERY',
    );
    expectMisuse(
      () => hashRecoveryCode(CODE, { salt: new Uint8Array(15) }),
      RangeError,
      'ERR_OPTION_RECOVERY',
    );
    expectMisuse(
      () => hashRecoveryCode(CODE, { salt: new Uint8Array(32) }),
      RangeError,
      'ERR_OPTION_RECOVERY',
    );
    expectMisuse(
      () => hashRecoveryCode(CODE, { salt: 'salt' } as never),
      TypeError,
      'ERR_OPTION_RECOVERY',
    );
    expectMisuse(
      () => hashRecoveryCode(CODE, { N: 8192 } as never),
      RangeError,
      'ERR_OPTION_UNKNOWN',
    );
  });

  it('messages never echo the code', () => {
    const e = thrown(() => hashRecoveryCode('SECRETCODEU12345')) as Error;
    expect(e.message).not.toContain('SECRETCODE');
  });
});

describe('tampered or corrupt hash strings → OtpkitError ERR_RECOVERY_HASH', () => {
  const good = hashRecoveryCode(CODE, { ...FAST, salt: new Uint8Array(16).fill(1) });
  const [, , , params, salt, hash] = good.split('$') as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const build = (p: string, s = salt, h = hash, head = '$otpkit-scrypt$v=1$'): string =>
    `${head}${p}$${s}$${h}`;

  const CASES: readonly (readonly [string, string])[] = [
    ['empty', ''],
    ['plain text', 'not a hash'],
    ['wrong prefix', good.replace('$otpkit-scrypt$', '$otpkit-bcrypt$')],
    ['argon2 string', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA'],
    ['future version', good.replace('$v=1$', '$v=2$')],
    ['missing version', good.replace('$v=1$', '$')],
    ['bad base64 in hash (+)', build(params, salt, `${hash.slice(0, -1)}+`)],
    ['bad base64 in salt (/)', build(params, `${salt.slice(0, -1)}/`)],
    ['padded hash', build(params, salt, `${hash}=`)],
    [
      'non-canonical last hash char',
      build(params, salt, hash.slice(0, -1) + (hash.endsWith('B') ? 'C' : 'B')),
    ],
    ['non-canonical last salt char', build(params, salt.slice(0, -1) + 'B')],
    ['truncated hash', good.slice(0, -4)],
    ['hash one byte short', build(params, salt, hash.slice(0, 42))],
    ['salt too short', build(params, salt.slice(0, 11))],
    ['missing hash', build(params, salt, '')],
    ['extra field', `${good}$AAAA`],
    ['huge logN', build('ln=40,r=8,p=1,len=16')],
    ['logN 21', build('ln=21,r=8,p=1,len=16')],
    ['logN 9', build('ln=9,r=8,p=1,len=16')],
    ['logN 3 digits', build('ln=100,r=8,p=1,len=16')],
    ['r 0', build('ln=10,r=0,p=1,len=16')],
    ['r 33', build('ln=10,r=33,p=1,len=16')],
    ['p 17', build('ln=10,r=8,p=17,len=16')],
    ['cost over 2^22', build('ln=20,r=8,p=1,len=16')],
    ['leading zero', build('ln=010,r=8,p=1,len=16')],
    ['len 12', build('ln=10,r=8,p=1,len=12')],
    ['len 33', build('ln=10,r=8,p=1,len=33')],
    ['parameters reordered', build('r=8,ln=10,p=1,len=16')],
    ['missing len', build('ln=10,r=8,p=1')],
    ['whitespace', ` ${good}`],
    ['trailing newline', `${good}\n`],
    ['very long', good + 'A'.repeat(10_000)],
  ];

  it('the untampered string verifies', () => {
    expect(verifyRecoveryCode(CODE, good)).toBe(true);
  });

  it.each(CASES)('%s: verify, match and needsRehash', (label, bad) => {
    expectHashError(() => verifyRecoveryCode(CODE, bad));
    expectHashError(() => verifyRecoveryCode('', bad)); // checked before the code
    expectHashError(() =>
      matchRecoveryCode(CODE, [
        { id: 'a', hash: good },
        { id: 'b', hash: bad },
      ]),
    );
    const foreign =
      label === 'wrong prefix' || label === 'argon2 string' || label === 'future version';
    if (foreign)
      expect(recoveryHashNeedsRehash(bad)).toBe(true); // another scheme: migrate
    else expectHashError(() => recoveryHashNeedsRehash(bad));
  });

  it('never computes scrypt for a tampered cost', () => {
    expectHashError(() => verifyRecoveryCode(CODE, build('ln=40,r=8,p=1,len=16')));
    expect(scryptCalls()).toBe(0);
  });

  it('a hash that is not a string is a TypeError ERR_RECOVERY_HASH', () => {
    expectMisuse(() => verifyRecoveryCode(CODE, null as never), TypeError, 'ERR_RECOVERY_HASH');
    expectMisuse(() => recoveryHashNeedsRehash(undefined as never), TypeError, 'ERR_RECOVERY_HASH');
  });
});

describe('recoveryHashNeedsRehash', () => {
  const at = (o: { logN?: number; r?: number; p?: number }): string =>
    hashRecoveryCode(CODE, { salt: new Uint8Array(16), ...o });

  it('is false at the current parameters and true when any is weaker', () => {
    const h = at({ logN: 10, r: 8, p: 1 });
    expect(recoveryHashNeedsRehash(h, { logN: 10 })).toBe(false);
    expect(recoveryHashNeedsRehash(h, { logN: 11 })).toBe(true);
    expect(recoveryHashNeedsRehash(h, { logN: 10, r: 16 })).toBe(true);
    expect(recoveryHashNeedsRehash(h, { logN: 10, p: 2 })).toBe(true);
    expect(recoveryHashNeedsRehash(h)).toBe(true); // default logN 13
  });

  it('is false when the stored parameters are stronger', () => {
    expect(recoveryHashNeedsRehash(at({ logN: 11, r: 8, p: 2 }), { logN: 10, r: 4, p: 1 })).toBe(
      false,
    );
  });

  it('validates options', () => {
    const h = at({ logN: 10 });
    expectMisuse(() => recoveryHashNeedsRehash(h, { logN: 30 }), RangeError, 'ERR_OPTION_RECOVERY');
    expectMisuse(
      () => recoveryHashNeedsRehash(h, { salt: new Uint8Array(16) } as never),
      RangeError,
      'ERR_OPTION_UNKNOWN',
    );
  });
});

describe('hashRecoveryCodeSet', () => {
  it('one shared random salt per set, one random 128-bit hex id per code', () => {
    const codes = generateRecoveryCodes();
    const a = hashRecoveryCodeSet(codes, FAST);
    const b = hashRecoveryCodeSet(codes, FAST);
    expect(a).toHaveLength(10);
    const salts = new Set(a.map((r) => r.hash.split('$')[4]));
    expect(salts.size).toBe(1);
    expect(salts.has(b[0]!.hash.split('$')[4])).toBe(false); // a new salt per set
    for (const r of [...a, ...b]) expect(r.id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set([...a, ...b].map((r) => r.id)).size).toBe(20);
    expect(new Set(a.map((r) => r.hash)).size).toBe(10);
    codes.forEach((c, i) => expect(verifyRecoveryCode(c, a[i]!.hash)).toBe(true));
  });

  it('misuse', () => {
    expectMisuse(() => hashRecoveryCodeSet('K7QM' as never), TypeError, 'ERR_RECOVERY_TYPE');
    expectMisuse(
      () => hashRecoveryCodeSet([CODE, 5] as never, FAST),
      TypeError,
      'ERR_RECOVERY_TYPE',
    );
    expectMisuse(() => hashRecoveryCodeSet([], FAST), RangeError, 'ERR_OPTION_RECOVERY');
    expectMisuse(
      () =>
        hashRecoveryCodeSet(
          Array.from({ length: 101 }, () => CODE),
          FAST,
        ),
      RangeError,
      'ERR_OPTION_RECOVERY',
    );
    expectMisuse(
      () => hashRecoveryCodeSet([CODE, 'nope'], FAST),
      RangeError,
      'ERR_OPTION_RECOVERY',
    );
    // Duplicates after normalisation would share one hash under the set's salt.
    expectMisuse(
      () => hashRecoveryCodeSet([CODE, CANON.toLowerCase()], FAST),
      RangeError,
      'ERR_OPTION_RECOVERY',
    );
    expectMisuse(
      () => hashRecoveryCodeSet([CODE], { salt: new Uint8Array(16) } as never),
      RangeError,
      'ERR_OPTION_UNKNOWN',
    );
    expect(scryptCalls()).toBe(0); // validation happens before any hashing
  });

  it('async twin: same format, verifies, and rejects (not throws) on misuse', async () => {
    const codes = generateRecoveryCodes({ count: 3 });
    const recs = await hashRecoveryCodeSetAsync(codes, FAST);
    expect(new Set(recs.map((r) => r.hash.split('$')[4])).size).toBe(1);
    codes.forEach((c, i) => expect(verifyRecoveryCode(c, recs[i]!.hash)).toBe(true));
    await expect(hashRecoveryCodeSetAsync([], FAST)).rejects.toMatchObject({
      code: 'ERR_OPTION_RECOVERY',
    });
  });
});

describe('matchRecoveryCode / matchRecoveryCodeAsync', () => {
  const codes = generateRecoveryCodes();
  const stored = hashRecoveryCodeSet(codes, FAST);

  it('returns the id of the matching record, in any accepted typing', () => {
    codes.forEach((c, i) => expect(matchRecoveryCode(c, stored)).toBe(stored[i]!.id));
    expect(matchRecoveryCode(codes[4]!.toLowerCase().replaceAll('-', ' '), stored)).toBe(
      stored[4]!.id,
    );
  });

  it('returns null for a wrong code', () => {
    const other = generateRecoveryCodes({ count: 1 })[0]!;
    expect(matchRecoveryCode(other, stored)).toBeNull();
  });

  it('the async match lets timers run while it hashes (a real event-loop yield)', async () => {
    const c = generateRecoveryCodes({ count: 2 });
    // The default cost (tens of ms): a 0 ms timer is due long before the hash ends, wherever it
    // runs. At logN 10 (~1 ms) a thread-pool completion can beat the timer (Bun, Deno under load).
    const s = await hashRecoveryCodeSetAsync(c);
    let timerRan = false;
    setTimeout(() => {
      timerRan = true;
    }, 0);
    const pending = matchRecoveryCodeAsync(c[1]!, s);
    const afterHash = pending.then(() => timerRan);
    expect(await afterHash).toBe(true);
  });

  it('computes scrypt exactly once per attempt for a 10-code set at the default parameters', async () => {
    const c = generateRecoveryCodes();
    const s = hashRecoveryCodeSet(c);
    expect(vi.mocked(scrypt)).toHaveBeenCalledTimes(10); // issuing: one per code
    vi.mocked(scrypt).mockClear();
    expect(matchRecoveryCode(c[9]!, s)).toBe(s[9]!.id);
    expect(scryptCalls()).toBe(1);
    expect(matchRecoveryCode(generateRecoveryCodes({ count: 1 })[0]!, s)).toBeNull();
    expect(scryptCalls()).toBe(2);
    const [, salt, opts] = vi.mocked(scrypt).mock.calls[1]!;
    expect(opts).toEqual({ N: 8192, r: 8, p: 1, dkLen: 32 });
    expect((salt as Uint8Array).length).toBe(16);
    // The async form hashes on Node's thread pool, with the same parameters.
    expect(await matchRecoveryCodeAsync(c[0]!, s)).toBe(s[0]!.id);
    expect(scryptCalls()).toBe(3);
    const [, nodeSalt, keylen, nodeOpts] = nodeScrypt.mock.calls[0]!;
    expect(keylen).toBe(32);
    expect(nodeOpts).toMatchObject({ N: 8192, r: 8, p: 1 });
    expect((nodeSalt as Uint8Array).length).toBe(16);
  });

  it('hashes once per (parameters, salt) group when records from several sets are mixed', () => {
    const c2 = generateRecoveryCodes({ count: 3 });
    const s2 = hashRecoveryCodeSet(c2, { logN: 11 });
    vi.mocked(scrypt).mockClear();
    expect(matchRecoveryCode(c2[1]!, [...stored, ...s2])).toBe(s2[1]!.id);
    expect(vi.mocked(scrypt)).toHaveBeenCalledTimes(2);
  });

  it('malformed, wrong-length and unmatched codes are null at the cost of exactly one hash; corrupt records fail closed', () => {
    const bads = [
      '',
      '   ',
      'K7QM-4X2P',
      codes[0]!.slice(0, -1),
      `${codes[0]!.slice(0, -1)}U`,
      'A'.repeat(1 << 20),
    ];
    for (const bad of bads) expect(matchRecoveryCode(bad, stored)).toBeNull();
    // A well-formed 64-bit code fits no 80-bit group, and a user may have no codes at all: one
    // stand-in hash each, so timing tells neither whether codes exist nor their length.
    expect(matchRecoveryCode('K7QM-4X2P-9D3R-T', stored)).toBeNull();
    expect(matchRecoveryCode(codes[0]!, [])).toBeNull();
    expect(scryptCalls()).toBe(bads.length + 2);
    // The stand-in uses the set's parameters when there is a set, the given ones otherwise.
    const calls = vi.mocked(scrypt).mock.calls;
    expect(calls[0]![2]).toMatchObject({ N: 2 ** FAST.logN });
    expect(calls[calls.length - 1]![2]).toMatchObject({ N: 2 ** 13 });
    vi.mocked(scrypt).mockClear();
    expect(matchRecoveryCode(codes[0]!, [], { logN: 11 })).toBeNull();
    expect(vi.mocked(scrypt).mock.calls[0]![2]).toMatchObject({ N: 2 ** 11 });
    for (const bad of [null, 1234, undefined])
      expectMisuse(() => matchRecoveryCode(bad as never, stored), TypeError, 'ERR_RECOVERY_TYPE');
    expectMisuse(() => matchRecoveryCode(codes[0]!, 'x' as never), TypeError, 'ERR_OPTION_TYPE');
    for (const rec of [
      null,
      { id: 1, hash: stored[0]!.hash },
      { id: 'x' },
      { id: 'x', hash: 'nope' },
    ])
      expectHashError(() => matchRecoveryCode('', [...stored, rec as never]));
  });

  it('async twin equals sync', async () => {
    const inputs = [
      ...codes,
      codes[2]!.toLowerCase(),
      generateRecoveryCodes({ count: 1 })[0]!,
      '',
      'K7QM',
    ];
    for (const input of inputs)
      expect(await matchRecoveryCodeAsync(input, stored)).toBe(matchRecoveryCode(input, stored));
    await expect(matchRecoveryCodeAsync(null as never, stored)).rejects.toMatchObject({
      code: 'ERR_RECOVERY_TYPE',
    });
    await expect(
      matchRecoveryCodeAsync(codes[0]!, [{ id: 'x', hash: 'nope' }]),
    ).rejects.toBeInstanceOf(OtpkitError);
  });
});
