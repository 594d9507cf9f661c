import { describe, expect, it } from 'vitest';
import { generateSecret, openSecret, OtpkitError, sealSecret } from '../src/index.js';

const kek = new Uint8Array(32).map((_, i) => i);
const kek2 = new Uint8Array(32).map((_, i) => 100 + i);

describe('sealSecret / openSecret (AES-256-GCM envelope)', () => {
  it('round-trips and never contains the secret', async () => {
    const secret = generateSecret();
    const sealed = await sealSecret(secret, { key: kek, associatedData: 'user:1' });
    expect(sealed).toMatch(/^otpkit-sealed:v1:k1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(Buffer.from(secret).toString('base64url'));
    expect(await openSecret(sealed, { keys: kek, associatedData: 'user:1' })).toEqual(secret);
  });

  it('uses a fresh IV each time', async () => {
    const secret = generateSecret();
    expect(await sealSecret(secret, { key: kek })).not.toBe(await sealSecret(secret, { key: kek }));
  });

  it('rotates keys by id', async () => {
    const secret = generateSecret();
    const old = await sealSecret(secret, { key: kek, keyId: '2025' });
    const fresh = await sealSecret(secret, { key: kek2, keyId: '2026' });
    const keys = { '2025': kek, '2026': kek2 };
    expect(await openSecret(old, { keys })).toEqual(secret);
    expect(await openSecret(fresh, { keys })).toEqual(secret);
    await expect(openSecret(fresh, { keys: { '2025': kek } })).rejects.toMatchObject({ code: 'ERR_SECRET_SEALED' });
  });

  it('fails closed on tampering, the wrong key or the wrong owner', async () => {
    const sealed = await sealSecret(generateSecret(), { key: kek, associatedData: 'user:1' });
    const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'B' : 'A') + sealed.slice(-1);
    for (const [s, o] of [
      [sealed, { keys: kek, associatedData: 'user:2' }],
      [sealed, { keys: kek2, associatedData: 'user:1' }],
      [flipped, { keys: kek, associatedData: 'user:1' }],
      ['otpkit-sealed:v2:k1:AAAA:AAAA', { keys: kek }],
      ['garbage', { keys: kek }],
      ['otpkit-sealed:v1:k1:!!!:AAAA', { keys: kek }],
    ] as const) {
      const err = await openSecret(s, o).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OtpkitError);
      expect((err as OtpkitError).code).toBe('ERR_SECRET_SEALED');
    }
  });

  it('throws for misuse', async () => {
    await expect(sealSecret(generateSecret(), { key: new Uint8Array(16) })).rejects.toThrow(RangeError);
    await expect(sealSecret('x' as unknown as Uint8Array, { key: kek })).rejects.toThrow(TypeError);
    await expect(sealSecret(generateSecret(), { key: kek, keyId: 'a:b' })).rejects.toThrow(RangeError);
    await expect(sealSecret(generateSecret(), { key: kek, kid: 'x' } as never)).rejects.toThrow(RangeError);
  });

  it('accepts a WebCrypto CryptoKey', async () => {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const secret = generateSecret();
    expect(await openSecret(await sealSecret(secret, { key }), { keys: key })).toEqual(secret);
  });
});
