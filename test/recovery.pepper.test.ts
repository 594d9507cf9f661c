/**
 * The high-entropy recovery-code profile (src/recovery/pepper.ts): HMAC-SHA-256 under a
 * server-side pepper for codes of at least 112 bits, cross-checked against node:crypto; the
 * 112-bit floor; pepper validation; key rotation; tampered records; no scrypt anywhere on its
 * path; and the profile through createVerifier and createTwoFactor.
 */
import { createHmac, scryptSync as nodeScryptSync } from 'node:crypto';
import { scrypt, scryptAsync } from '@noble/hashes/scrypt';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createMemoryStore,
  createTwoFactor,
  createVerifier,
  decodeBase32,
  generateRecoveryCodes,
  generateTOTP,
  OtpkitError,
  type RecoveryPepper,
} from '../src/index.js';
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
import { codeOf, thrown } from './_helpers.js';

vi.mock('@noble/hashes/scrypt', async (importOriginal) => {
  const real = await importOriginal<typeof import('@noble/hashes/scrypt')>();
  return { ...real, scrypt: vi.fn(real.scrypt), scryptAsync: vi.fn(real.scryptAsync) };
});

const nodeCrypto = process.getBuiltinModule('node:crypto') as typeof import('node:crypto');
let nodeScrypt: { mock: { calls: unknown[][] } };
const scryptCalls = (): number =>
  vi.mocked(scrypt).mock.calls.length +
  vi.mocked(scryptAsync).mock.calls.length +
  nodeScrypt.mock.calls.length;
beforeEach(() => {
  vi.mocked(scrypt).mockClear();
  vi.mocked(scryptAsync).mockClear();
  nodeScrypt = vi.spyOn(nodeCrypto, 'scrypt') as unknown as { mock: { calls: unknown[][] } };
});
afterEach(() => vi.restoreAllMocks());

const K1 = new Uint8Array(32).fill(1);
const K2 = new Uint8Array(32).fill(2);
const PEPPER: RecoveryPepper = { current: 'p1', keys: { p1: K1 } };
/** A 120-bit code (24 characters), the profile's default length. */
const CODE = 'K7QM-4X2P-9D3R-TB8W-0A1B-2C3D';
const CANON = 'K7QM4X2P9D3RTB8W0A1B2C3D';

/** node:crypto's HMAC of a canonical code, as the profile defines it. */
const nodeDigest = (code: string, key: Uint8Array): Buffer =>
  createHmac('sha256', key).update(`otpkit-recovery:v1:${code}`, 'ascii').digest();

describe('hashRecoveryCode / verifyRecoveryCode with a pepper', () => {
  it('is HMAC-SHA-256 of the canonical code, in a self-describing string (node:crypto agrees)', () => {
    const h = hashRecoveryCode(CODE, { pepper: PEPPER });
    expect(h).toBe(`$otpkit-hmac$v=1$k=p1,len=24$${nodeDigest(CANON, K1).toString('base64url')}`);
    expect(scryptCalls()).toBe(0);
  });

  it('verifies the code in any typed form, refuses others, and never runs scrypt', () => {
    const h = hashRecoveryCode(CODE, { pepper: PEPPER });
    expect(verifyRecoveryCode(CODE, h, { pepper: PEPPER })).toBe(true);
    expect(verifyRecoveryCode('k7qm 4x2p 9d3r tb8w 0a1b 2c3d', h, { pepper: PEPPER })).toBe(true);
    expect(verifyRecoveryCode('K7QM-4X2P-9D3R-TB8W-0A1B-2C3E', h, { pepper: PEPPER })).toBe(false);
    expect(verifyRecoveryCode('K7QM-4X2P', h, { pepper: PEPPER })).toBe(false);
    expect(verifyRecoveryCode(CODE, h, { pepper: { current: 'p1', keys: { p1: K2 } } })).toBe(
      false,
    );
    expect(scryptCalls()).toBe(0);
  });

  it('without the key the hash names, is ERR_RECOVERY_HASH (never a silent false)', () => {
    const h = hashRecoveryCode(CODE, { pepper: PEPPER });
    for (const options of [undefined, { pepper: { current: 'p2', keys: { p2: K2 } } }]) {
      const e = thrown(() => verifyRecoveryCode(CODE, h, options));
      expect(e).toBeInstanceOf(OtpkitError);
      expect(codeOf(e)).toBe('ERR_RECOVERY_HASH');
      expect((e as Error).message).toContain('"p1"');
      expect(codeOf(thrown(() => verifyRecoveryCode('bad', h, options)))).toBe('ERR_RECOVERY_HASH');
    }
  });

  it('needs codes of at least 112 bits: 23 characters pass, 22 are a RangeError', () => {
    const [c23] = generateRecoveryCodes({ count: 1, bits: 112 });
    expect(c23!.replace(/-/g, '')).toHaveLength(23);
    expect(
      verifyRecoveryCode(c23!, hashRecoveryCode(c23!, { pepper: PEPPER }), { pepper: PEPPER }),
    ).toBe(true);
    for (const bits of [64, 80, 110]) {
      const [c] = generateRecoveryCodes({ count: 1, bits });
      const e = thrown(() => hashRecoveryCode(c!, { pepper: PEPPER }));
      expect(e).toBeInstanceOf(RangeError);
      expect(codeOf(e)).toBe('ERR_OPTION_RECOVERY');
      expect((e as Error).message).toContain('112 bits');
      expect(codeOf(thrown(() => hashRecoveryCodeSet([c!], { pepper: PEPPER })))).toBe(
        'ERR_OPTION_RECOVERY',
      );
    }
  });

  it('refuses every malformed pepper with a RangeError or TypeError naming it', () => {
    const bad: [unknown, string][] = [
      [null, 'TypeError'],
      ['k', 'TypeError'],
      [{ current: 'p1' }, 'TypeError'],
      [{ current: 'p1', keys: null }, 'TypeError'],
      [{ current: 'p1', keys: { p1: 'x'.repeat(32) } }, 'TypeError'],
      [{ current: 'p1', keys: { p1: new Uint8Array(31) } }, 'RangeError'],
      [{ current: 'p2', keys: { p1: K1 } }, 'RangeError'],
      [{ current: '', keys: { '': K1 } }, 'RangeError'],
      [{ current: 'a b', keys: { 'a b': K1 } }, 'RangeError'],
      [{ current: 'p1', keys: { p1: K1, 'x/y': K2 } }, 'RangeError'],
      [{ current: 'p1', keys: { p1: K1 }, extra: 1 }, 'RangeError'],
    ];
    for (const [pepper, type] of bad) {
      const e = thrown(() => hashRecoveryCode(CODE, { pepper: pepper as RecoveryPepper }));
      expect((e as Error).constructor.name, JSON.stringify(pepper)).toBe(type);
      expect(codeOf(e)).toBe('ERR_OPTION_RECOVERY');
      expect((e as Error).message).toContain('pepper');
    }
  });

  it('is exclusive with the scrypt parameters and a salt', () => {
    for (const extra of [{ logN: 12 }, { r: 8 }, { p: 1 }])
      expect(codeOf(thrown(() => hashRecoveryCode(CODE, { pepper: PEPPER, ...extra })))).toBe(
        'ERR_OPTION_RECOVERY',
      );
    expect(
      codeOf(thrown(() => hashRecoveryCode(CODE, { pepper: PEPPER, salt: new Uint8Array(16) }))),
    ).toBe('ERR_OPTION_RECOVERY');
  });

  it('copies the keys: changing the caller’s key afterwards changes nothing', () => {
    const key = new Uint8Array(32).fill(7);
    const pepper = { current: 'p1', keys: { p1: key } };
    const verifier = createVerifier({ store: createMemoryStore(), recoveryHash: { pepper } });
    key.fill(0);
    return verifier.issueRecoveryCodes({ userId: 'u' }).then(async (codes) => {
      expect(await verifier.redeemRecoveryCode({ userId: 'u', code: codes[0]! })).toEqual({
        ok: true,
        remaining: codes.length - 1,
      });
      const h = hashRecoveryCode(CODE, {
        pepper: { current: 'p1', keys: { p1: new Uint8Array(32).fill(7) } },
      });
      expect(
        verifyRecoveryCode(CODE, h, {
          pepper: { current: 'p1', keys: { p1: new Uint8Array(32).fill(7) } },
        }),
      ).toBe(true);
    });
  });

  it('property: every ≥ 112-bit code verifies under its key and no other code does', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 64 }),
        fc.integer({ min: 112, max: 160 }),
        (key, bits) => {
          const pepper = { current: 'k', keys: { k: key } };
          const [a, b] = generateRecoveryCodes({ count: 2, bits });
          const h = hashRecoveryCode(a!, { pepper });
          return verifyRecoveryCode(a!, h, { pepper }) && !verifyRecoveryCode(b!, h, { pepper });
        },
      ),
      { seed: 0x5eed, numRuns: 200 },
    );
  });
});

describe('recoveryHashNeedsRehash across profiles', () => {
  const peppered = hashRecoveryCode(CODE, { pepper: PEPPER });
  const scrypted = hashRecoveryCode(CODE, { logN: 10 });
  it.each([
    ['same key', peppered, { pepper: PEPPER }, false],
    ['rotated key', peppered, { pepper: { current: 'p2', keys: { p1: K1, p2: K2 } } }, true],
    ['to scrypt', peppered, undefined, true],
    ['from scrypt', scrypted, { pepper: PEPPER }, true],
    ['a later version of ours', '$otpkit-hmac$v=2$anything', { pepper: PEPPER }, true],
  ] as const)('%s', (_name, hashed, options, want) => {
    expect(recoveryHashNeedsRehash(hashed, options)).toBe(want);
  });
  it('an unversioned identifier of ours is corrupt', () => {
    expect(
      codeOf(thrown(() => recoveryHashNeedsRehash('$otpkit-hmac$k=p1', { pepper: PEPPER }))),
    ).toBe('ERR_RECOVERY_HASH');
  });
});

describe('sets with a pepper', () => {
  const codes = generateRecoveryCodes({ bits: 120 });

  it('give each code the first 16 bytes of its HMAC as its id, and match with no scrypt', async () => {
    const records = hashRecoveryCodeSet(codes, { pepper: PEPPER });
    records.forEach((r, i) =>
      expect(r.id).toBe(
        nodeDigest(codes[i]!.replace(/-/g, ''), K1).subarray(0, 16).toString('hex'),
      ),
    );
    expect(await hashRecoveryCodeSetAsync(codes, { pepper: PEPPER })).toEqual(records);
    for (const [i, c] of codes.entries()) {
      expect(matchRecoveryCode(c, records, { pepper: PEPPER })).toBe(records[i]!.id);
      expect(await matchRecoveryCodeAsync(c.toLowerCase(), records, { pepper: PEPPER })).toBe(
        records[i]!.id,
      );
    }
    expect(
      matchRecoveryCode(generateRecoveryCodes({ count: 1, bits: 120 })[0]!, records, {
        pepper: PEPPER,
      }),
    ).toBeNull();
    expect(matchRecoveryCode('not a code', records, { pepper: PEPPER })).toBeNull();
    expect(matchRecoveryCode(CODE, [], { pepper: PEPPER })).toBeNull();
    expect(scryptCalls()).toBe(0);
  });

  it('still match after the pepper is rotated, while the old key is kept; without it they are ERR_RECOVERY_HASH', () => {
    const records = hashRecoveryCodeSet(codes, { pepper: PEPPER });
    const rotated = { current: 'p2', keys: { p1: K1, p2: K2 } };
    expect(matchRecoveryCode(codes[0]!, records, { pepper: rotated })).toBe(records[0]!.id);
    expect(hashRecoveryCodeSet(codes, { pepper: rotated })[0]!.hash).toContain('k=p2,');
    expect(
      codeOf(
        thrown(() =>
          matchRecoveryCode(codes[0]!, records, { pepper: { current: 'p2', keys: { p2: K2 } } }),
        ),
      ),
    ).toBe('ERR_RECOVERY_HASH');
    expect(codeOf(thrown(() => matchRecoveryCode('garbage', records)))).toBe('ERR_RECOVERY_HASH');
  });

  it('a scrypt set still matches once the app has switched to a pepper (migration)', () => {
    const old = hashRecoveryCodeSet(codes.slice(0, 2), { logN: 10 });
    expect(matchRecoveryCode(codes[1]!, old, { pepper: PEPPER })).toBe(old[1]!.id);
  });

  it('fail closed on tampered records', () => {
    const records = hashRecoveryCodeSet(codes.slice(0, 3), { pepper: PEPPER });
    const r0 = records[0]!;
    const digest = r0.hash.slice(r0.hash.lastIndexOf('$') + 1);
    const tampered: [string, { id: string; hash: string }][] = [
      ['id not derived from the hash', { id: records[1]!.id, hash: r0.hash }],
      ['id changed', { id: r0.id.replace(/^./, (c) => (c === '0' ? '1' : '0')), hash: r0.hash }],
      ['length below 112 bits', { id: r0.id, hash: r0.hash.replace('len=24', 'len=22') }],
      ['length with a leading zero', { id: r0.id, hash: r0.hash.replace('len=24', 'len=024') }],
      ['length above 160 bits', { id: r0.id, hash: r0.hash.replace('len=24', 'len=33') }],
      ['short digest', { id: r0.id, hash: r0.hash.slice(0, -2) }],
      [
        'digest not base64url',
        { id: r0.id, hash: r0.hash.replace(digest, `${digest.slice(0, -1)}+`) },
      ],
      ['bad key id', { id: r0.id, hash: r0.hash.replace('k=p1', 'k=p/1') }],
      ['unknown version', { id: r0.id, hash: r0.hash.replace('v=1', 'v=9') }],
    ];
    for (const [why, rec] of tampered) {
      const e = thrown(() =>
        matchRecoveryCode(codes[0]!, [rec, ...records.slice(1)], { pepper: PEPPER }),
      );
      expect(e, why).toBeInstanceOf(OtpkitError);
      expect(codeOf(e), why).toBe('ERR_RECOVERY_HASH');
      expect((e as Error).message, why).not.toContain(digest);
    }
  });
});

describe('the pepper profile in the store-backed layers', () => {
  it('createVerifier issues 120-bit codes by default, redeems each once, refuses bits under 112', async () => {
    const verifier = createVerifier({
      store: createMemoryStore(),
      recoveryHash: { pepper: PEPPER },
    });
    const codes = await verifier.issueRecoveryCodes({ userId: 'u' });
    expect(codes).toHaveLength(10);
    for (const c of codes) expect(c).toMatch(/^([0-9A-Z]{4}-){5}[0-9A-Z]{4}$/);
    expect(await verifier.redeemRecoveryCode({ userId: 'u', code: codes[4]! })).toEqual({
      ok: true,
      remaining: 9,
    });
    expect(await verifier.redeemRecoveryCode({ userId: 'u', code: codes[4]! })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect((await verifier.issueRecoveryCodes({ userId: 'v', bits: 160 }))[0]).toHaveLength(39);
    await expect(verifier.issueRecoveryCodes({ userId: 'u', bits: 111 })).rejects.toMatchObject({
      name: 'RangeError',
      code: 'ERR_OPTION_RECOVERY',
    });
    expect(() => createVerifier({ recoveryHash: { pepper: { current: 'x', keys: {} } } })).toThrow(
      RangeError,
    );
    expect(scryptCalls()).toBe(0);
  });

  it('createTwoFactor issues 120-bit codes with the first factor and signs in with one, without scrypt', async () => {
    let now = Date.UTC(2031, 0, 1);
    const tf = createTwoFactor({
      store: createMemoryStore(),
      issuer: 'ACME',
      keys: { current: 'k', keys: { k: new Uint8Array(32) } },
      now: () => now,
      recoveryCodes: { hash: { pepper: PEPPER } },
    });
    const begun = await tf.beginEnrollment({ userId: 'alice', account: 'alice@example.com' });
    if (!begun.ok) throw new Error('begin');
    const secret = decodeBase32(begun.manualKey.replace(/ /g, ''));
    const confirmed = await tf.confirmEnrollment({
      userId: 'alice',
      factorId: begun.factorId,
      code: generateTOTP(secret, { now }),
    });
    if (!confirmed.ok || confirmed.recoveryCodes === undefined) throw new Error('confirm');
    expect(confirmed.recoveryCodes[0]).toMatch(/^([0-9A-Z]{4}-){5}[0-9A-Z]{4}$/);
    now += 60_000;
    const c = await tf.startChallenge({ userId: 'alice' });
    if (!c.required) throw new Error('challenge');
    const r = await tf.verifyChallenge({
      challengeId: c.challengeId,
      userId: 'alice',
      code: confirmed.recoveryCodes[2]!,
    });
    expect(r).toMatchObject({ ok: true, method: 'recovery', recoveryCodesRemaining: 9 });
    expect(scryptCalls()).toBe(0);
    expect(() =>
      createTwoFactor({
        store: createMemoryStore(),
        issuer: 'ACME',
        keys: { current: 'k', keys: { k: new Uint8Array(32) } },
        recoveryCodes: { bits: 80, hash: { pepper: PEPPER } },
      }),
    ).toThrow(/at least 112/);
  });

  it('node:crypto scrypt is untouched by the profile (sanity: the spy does count scrypt)', () => {
    hashRecoveryCodeSet(['K7QM-4X2P-9D3R-TB8W'], { logN: 10 });
    expect(scryptCalls()).toBeGreaterThan(0);
    expect(nodeScryptSync).toBeTypeOf('function');
  });
});
