/**
 * The two-factor flow on the memory store: the shipped contract suite, and the checks that need
 * the memory store's introspection.
 */
import { sha256 } from '@noble/hashes/sha2';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../src/_digest.js';
import { hex } from '../src/_encoding.js';
import { newToken, tokenHash } from '../src/twofactor/_context.js';
import { createMemoryStore } from '../src/index.js';
import { twoFactorContract } from '../src/testing.js';

describe('createTwoFactor on the memory store: the two-factor contract', () => {
  for (const c of twoFactorContract(() => ({ store: createMemoryStore() })))
    it(c.name, c.run, c.timeoutMs);
});

describe('createTwoFactor with the registry and the hot state in two memory stores', () => {
  for (const c of twoFactorContract(() => ({
    factors: createMemoryStore(),
    state: createMemoryStore(),
  })))
    it(c.name, c.run, c.timeoutMs);
});

describe('createTwoFactor: erasure on the memory store', () => {
  it('leaves no trace of the user in the store', async () => {
    const { createTwoFactor, generateTOTP, decodeBase32 } = await import('../src/index.js');
    const store = createMemoryStore();
    const now = Date.UTC(2031, 0, 1);
    const tf = createTwoFactor({
      store,
      issuer: 'ACME',
      keys: { current: 'k', keys: { k: new Uint8Array(32) } },
      now: () => now,
      recoveryCodes: { hash: { logN: 10 } },
    });
    const b = await tf.beginEnrollment({ userId: 'gone', account: 'g' });
    if (!b.ok) throw new Error('begin');
    await tf.confirmEnrollment({
      userId: 'gone',
      factorId: b.factorId,
      code: generateTOTP(decodeBase32(b.manualKey.replace(/ /g, '')), { now }),
    });
    await tf.startChallenge({ userId: 'gone' });
    expect(store.holds('gone')).toBe(true);
    await tf.eraseUser('gone');
    expect(store.holds('gone')).toBe(false);
  });
});

describe('createTwoFactor on the memory store: faults at every method fail closed', async () => {
  const { twoFactorFaultContract } = await import('../src/testing.js');
  for (const c of twoFactorFaultContract(() => ({ store: createMemoryStore() })))
    it(c.name, c.run, c.timeoutMs);
});

describe('factorLabelProblem', async () => {
  const { factorLabelProblem, createTwoFactor } = await import('../src/index.js');
  const cases: [string, ReturnType<typeof factorLabelProblem>][] = [
    ['Work phone', undefined],
    ['  padded  ', undefined],
    ['x'.repeat(64), undefined],
    ['', 'empty'],
    ['   ', 'empty'],
    ['x'.repeat(65), 'too-long'],
    ['evil\u202Eexe', 'forbidden-character'],
    ['tab\there', 'forbidden-character'],
    ['lone \uD800', 'forbidden-character'],
  ];
  it.each(cases)('%j → %s, and renameFactor agrees', async (label, want) => {
    expect(factorLabelProblem(label)).toBe(want);
    const tf = createTwoFactor({
      store: createMemoryStore(),
      issuer: 'ACME',
      keys: { current: 'k', keys: { k: new Uint8Array(32) } },
    });
    const b = await tf.beginEnrollment({ userId: 'u', account: 'a' });
    if (!b.ok) throw new Error('begin');
    const renamed = tf.renameFactor({ userId: 'u', factorId: b.factorId, label });
    if (want === undefined) await expect(renamed).resolves.toBeDefined();
    else
      await expect(renamed).rejects.toMatchObject({
        name: 'RangeError',
        code: 'ERR_OPTION_INVALID',
      });
  });
  it('a non-string is a TypeError', () => {
    expect(() => factorLabelProblem(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('createTwoFactor: sealing keys', () => {
  it('imports each 32-byte key into WebCrypto once per flow, not once per seal or open', async () => {
    const { createTwoFactor, generateTOTP, decodeBase32 } = await import('../src/index.js');
    const { vi } = await import('vitest');
    const spy = vi.spyOn(globalThis.crypto.subtle, 'importKey');
    try {
      let now = Date.UTC(2031, 0, 1);
      const keys = {
        current: 'k2',
        keys: { k1: new Uint8Array(32).fill(1), k2: new Uint8Array(32).fill(2) },
      };
      const tf = createTwoFactor({
        store: createMemoryStore(),
        issuer: 'ACME',
        keys,
        now: () => now,
        recoveryCodes: { hash: { logN: 10 } },
      });
      const b = await tf.beginEnrollment({ userId: 'u', account: 'a' });
      if (!b.ok) throw new Error('begin');
      const secret = decodeBase32(b.manualKey.replace(/ /g, ''));
      expect(
        (
          await tf.confirmEnrollment({
            userId: 'u',
            factorId: b.factorId,
            code: generateTOTP(secret, { now }),
          })
        ).ok,
      ).toBe(true);
      for (let i = 0; i < 3; i++) {
        now += 30_000;
        const c = await tf.startChallenge({ userId: 'u' });
        if (!c.required) throw new Error('challenge');
        expect(
          (
            await tf.verifyChallenge({
              challengeId: c.challengeId,
              userId: 'u',
              code: generateTOTP(secret, { now }),
            })
          ).ok,
        ).toBe(true);
      }
      // One seal and four opens, two keys: two imports.
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });

  it('still refuses a key of the wrong size when it is first used, and keeps refusing it', async () => {
    const { createTwoFactor } = await import('../src/index.js');
    const tf = createTwoFactor({
      store: createMemoryStore(),
      issuer: 'ACME',
      keys: { current: 'k', keys: { k: new Uint8Array(31) } },
    });
    for (let i = 0; i < 2; i++)
      await expect(tf.beginEnrollment({ userId: 'u', account: 'a' })).rejects.toMatchObject({
        name: 'RangeError',
        code: 'ERR_OPTION_INVALID',
      });
  });
});

describe('destinationProblem', async () => {
  const { destinationProblem, createTwoFactor } = await import('../src/index.js');
  const cases: ['email' | 'sms', string, ReturnType<typeof destinationProblem>][] = [
    ['email', 'alice@example.com', undefined],
    ['email', 'alice@localhost', 'malformed'],
    ['email', 'alice example.com', 'malformed'],
    ['email', 'a@b@example.com', 'malformed'],
    ['email', `${'a'.repeat(64)}@${'b'.repeat(172)}.com`, 'malformed'],
    ['email', 'tab\t@example.com', 'malformed'],
    ['sms', '+15551234567', undefined],
    ['sms', '+1 555 123 4567', 'malformed'],
    ['sms', '15551234567', 'malformed'],
    ['sms', '+0551234567', 'malformed'],
    ['sms', '+1234567', 'malformed'],
    ['sms', '+1234567890123456', 'malformed'],
  ];
  it.each(cases)('%s %j → %s, and beginEnrollment agrees', async (channel, destination, want) => {
    expect(destinationProblem(channel, destination)).toBe(want);
    const tf = createTwoFactor({
      store: createMemoryStore(),
      issuer: 'ACME',
      keys: { current: 'k', keys: { k: new Uint8Array(32) } },
      delivery: { deliver: () => undefined },
    });
    const begun = tf.beginEnrollment({ userId: 'u', type: channel, destination });
    if (want === undefined) await expect(begun).resolves.toMatchObject({ ok: true });
    else
      await expect(begun).rejects.toMatchObject({ name: 'RangeError', code: 'ERR_OPTION_INVALID' });
  });
  it('refuses a non-string destination and an unknown channel as misuse', () => {
    expect(() => destinationProblem('sms', 15551234567 as unknown as string)).toThrow(TypeError);
    expect(() => destinationProblem('fax' as 'sms', '+15551234567')).toThrow(RangeError);
  });
});

describe('delivery: the hook gets an AbortSignal', async () => {
  const { createTwoFactor, OtpkitError } = await import('../src/index.js');
  const seen: AbortSignal[] = [];
  let hang = false;
  const outbox: string[] = [];
  const tf = createTwoFactor({
    store: createMemoryStore(),
    issuer: 'ACME',
    keys: { current: 'k', keys: { k: new Uint8Array(32) } },
    delivery: {
      timeoutMs: 1000,
      cooldownMs: 0,
      // A provider call that only ends when it is aborted, as fetch(url, { signal }) does.
      deliver: (d) => {
        seen.push(d.signal);
        if (!hang) return void outbox.push(d.code);
        return new Promise((_, reject) =>
          d.signal.addEventListener('abort', () => reject(d.signal.reason)),
        );
      },
    },
  });

  it('not aborted when the send succeeds; aborted with the ERR_DELIVERY error when otpkit stops waiting', async () => {
    const b = await tf.beginEnrollment({
      userId: 'u',
      type: 'email',
      destination: 'u@example.com',
    });
    if (!b.ok) throw new Error('begin');
    expect(seen.at(-1)?.aborted).toBe(false);
    await tf.confirmEnrollment({
      userId: 'u',
      factorId: b.factorId,
      code: outbox.at(-1) as string,
    });
    const st = await tf.startChallenge({ userId: 'u' });
    if (!st.required) throw new Error('start');
    hang = true;
    const started = performance.now();
    const e: unknown = await tf
      .sendCode({ challengeId: st.challengeId, userId: 'u', factorId: b.factorId })
      .then(
        () => null,
        (x: unknown) => x,
      );
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(e).toBeInstanceOf(OtpkitError);
    expect((e as InstanceType<typeof OtpkitError>).code).toBe('ERR_DELIVERY');
    const signal = seen.at(-1) as AbortSignal;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(e);
    expect(new Set(seen).size).toBe(seen.length); // one signal per send
  });
});

describe('opaque tokens (challenge ids, device and step-up tokens)', () => {
  it('are 128-bit base64url strings, each CSPRNG byte handed out once, drawn 4 KiB at a time', () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
    try {
      const tokens = Array.from({ length: 1000 }, () => newToken());
      for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{21}[AQgw]$/);
      expect(new Set(tokens).size).toBe(1000);
      // 1000 tokens × 16 bytes (16,000) from at most four 4096-byte draws.
      const draws = spy.mock.calls.map((c) => (c[0] as Uint8Array).byteLength);
      expect(draws.length).toBeLessThanOrEqual(4);
      for (const n of draws) expect(n).toBe(4096);
      expect(tokenHash(tokens[0] as string)).toBe(
        hex(sha256(new TextEncoder().encode(tokens[0] as string))),
      );
    } finally {
      spy.mockRestore();
    }
  });
});

describe('token and code hashes (SHA-256 of UTF-8, hex)', () => {
  it('node:crypto (where the runtime has it) and @noble/hashes give the same digest', () => {
    // FIPS 180-4 / NIST example "abc", then any string, lone surrogates included (both paths
    // encode them as U+FFFD).
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expect(sha256Hex(text)).toBe(hex(sha256(new TextEncoder().encode(text))));
      }),
      { numRuns: 500, seed: 0x5a256 },
    );
  });
});
