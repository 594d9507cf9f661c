/**
 * sealSecret / openSecret: round trips, rotation, fail-closed opening, one size rule for both
 * directions, and messages that never carry stored content.
 *
 * Deterministic: every secret and key is fixed (or drawn by fast-check from a fixed seed), and the strings openSecret must refuse are either
 * derived from a sealed string by a change that always alters it, or sealed here with WebCrypto
 * directly under a fixed IV. Only the IV inside sealSecret is random, and no assertion depends on
 * its value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64url, encodeBase64url } from '../src/_encoding.js';
import { opensNatively } from '../src/envelope.js';
import {
  generateSecret,
  openSecret,
  OtpkitError,
  sealSecret,
  type OpenSecretOptions,
} from '../src/index.js';

/**
 * The longest sealed string: 'otpkit-sealed:v1:' (17) + key id (64) + ':' + IV (16) + ':' +
 * base64url of the largest secret plus the tag, 256 + 16 bytes (363).
 */
const MAX_SEALED_LENGTH = 462;

const kek = new Uint8Array(32).map((_, i) => i);
const kek2 = new Uint8Array(32).map((_, i) => 100 + i);
/** A fixed 20-byte secret (what generateSecret() returns by default, but reproducible). */
const SECRET = new Uint8Array(20).map((_, i) => (i * 37 + 11) & 0xff);
const bytes = (n: number, seed = 1): Uint8Array =>
  new Uint8Array(n).map((_, i) => (i * 131 + seed * 29 + 7) & 0xff);

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// atob/btoa rather than Buffer: the file also runs in a Worker without Node.js compatibility.
const b64url = (b: Uint8Array): string =>
  btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
/** Lenient base64url decoding, as atob does it: pad bits are ignored. */
const fromB64url = (s: string): Uint8Array =>
  Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

/** Replaces the character at `i` with the next base64url character: always a different, valid one. */
function tamper(s: string, i: number): string {
  const at = B64URL.indexOf(s[i] as string);
  expect(at, `position ${i} holds a base64url character`).toBeGreaterThanOrEqual(0);
  const t = s.slice(0, i) + B64URL[(at + 1) % 64] + s.slice(i + 1);
  expect(t).not.toBe(s);
  expect(t).toHaveLength(s.length);
  return t;
}

/** A v1 sealed string made with WebCrypto directly (fixed IV), for sizes sealSecret refuses. */
async function sealRaw(plaintext: Uint8Array, keyId = 'k1', key = kek, aad = ''): Promise<string> {
  const iv = new Uint8Array(12).fill(7);
  const k = await crypto.subtle.importKey('raw', key as BufferSource, { name: 'AES-GCM' }, false, [
    'encrypt',
  ]);
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(aad) },
      k,
      plaintext as BufferSource,
    ),
  );
  return `otpkit-sealed:v1:${keyId}:${b64url(iv)}:${b64url(ct)}`;
}

/** Awaits `p`, expects an OtpkitError ERR_SECRET_SEALED, and returns it. */
async function sealedError(p: Promise<unknown>): Promise<OtpkitError> {
  const err = await p.then(
    () => new Error('expected ERR_SECRET_SEALED, but the string opened'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OtpkitError);
  expect((err as OtpkitError).code).toBe('ERR_SECRET_SEALED');
  return err as OtpkitError;
}

/** Awaits `p` and expects a misuse error of class `cls` with `code`. */
async function misuse(
  p: Promise<unknown>,
  cls: typeof TypeError | typeof RangeError,
  code: string,
): Promise<void> {
  const err = await p.then(
    () => new Error(`expected ${cls.name} ${code}, nothing was thrown`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(cls);
  expect(err).not.toBeInstanceOf(OtpkitError);
  expect((err as { code?: unknown }).code).toBe(code);
}

describe('sealSecret / openSecret (AES-256-GCM envelope)', () => {
  it('round-trips and never contains the secret', async () => {
    const sealed = await sealSecret(SECRET, { key: kek, associatedData: 'user:1' });
    expect(sealed).toMatch(/^otpkit-sealed:v1:k1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{48}$/);
    expect(sealed).not.toContain(b64url(SECRET).slice(0, 12));
    expect(await openSecret(sealed, { keys: kek, associatedData: 'user:1' })).toEqual(SECRET);
    // And for what generateSecret() returns.
    const fresh = generateSecret();
    expect(await openSecret(await sealSecret(fresh, { key: kek }), { keys: kek })).toEqual(fresh);
  });

  it('uses a fresh IV each time', async () => {
    // Two random 96-bit IVs collide with probability 2^-96.
    const a = (await sealSecret(SECRET, { key: kek })).split(':')[3];
    const b = (await sealSecret(SECRET, { key: kek })).split(':')[3];
    expect(a).not.toBe(b);
  });

  it('rotates keys by id', async () => {
    const old = await sealSecret(SECRET, { key: kek, keyId: '2025' });
    const fresh = await sealSecret(SECRET, { key: kek2, keyId: '2026' });
    const keys = { '2025': kek, '2026': kek2 };
    expect(await openSecret(old, { keys })).toEqual(SECRET);
    expect(await openSecret(fresh, { keys })).toEqual(SECRET);
    await sealedError(openSecret(fresh, { keys: { '2025': kek } }));
  });

  it('fails closed on the wrong key, the wrong owner and malformed strings', async () => {
    const sealed = await sealSecret(SECRET, { key: kek, associatedData: 'user:1' });
    for (const [s, o] of [
      [sealed, { keys: kek, associatedData: 'user:2' }],
      [sealed, { keys: kek }],
      [sealed, { keys: kek2, associatedData: 'user:1' }],
      ['otpkit-sealed:v2:k1:AAAA:AAAA', { keys: kek }],
      ['garbage', { keys: kek }],
      ['', { keys: kek }],
      ['otpkit-sealed:v1:k1:!!!:AAAA', { keys: kek }],
      [`${sealed}:extra`, { keys: kek, associatedData: 'user:1' }],
      [sealed.replace('otpkit-sealed', 'OTPKIT-SEALED'), { keys: kek, associatedData: 'user:1' }],
    ] as const) {
      await sealedError(openSecret(s, o));
    }
  });

  it('fails closed on tampering: every character of the IV and the ciphertext', async () => {
    const sealed = await sealSecret(SECRET, { key: kek, associatedData: 'user:1' });
    const opts = { keys: kek, associatedData: 'user:1' };
    const start = sealed.lastIndexOf(':', sealed.lastIndexOf(':') - 1) + 1; // first IV character
    let checked = 0;
    for (let i = start; i < sealed.length; i++) {
      if (sealed[i] === ':') continue;
      await sealedError(openSecret(tamper(sealed, i), opts));
      checked++;
    }
    expect(checked).toBe(16 + 48);
    expect(await openSecret(sealed, opts)).toEqual(SECRET); // the original still opens
  });

  it('refuses a ciphertext whose base64url has non-zero pad bits (one string per ciphertext)', async () => {
    // A 16-byte secret seals to 32 bytes = 43 base64url characters, with 2 pad bits in the last
    // one (RFC 4648 §3.5). atob ignores them, so flipping one used to open the same secret.
    const secret = bytes(16);
    const sealed = await sealSecret(secret, { key: kek });
    const last = B64URL.indexOf(sealed.at(-1) as string);
    expect(last & 3).toBe(0);
    const padded = sealed.slice(0, -1) + B64URL[last | 1];
    expect(padded).not.toBe(sealed);
    expect(fromB64url(padded.split(':')[4] as string)).toEqual(
      fromB64url(sealed.split(':')[4] as string),
    );
    const e = await sealedError(openSecret(padded, { keys: kek }));
    expect(e.message).toContain('ciphertext');
    expect(await openSecret(sealed, { keys: kek })).toEqual(secret);
  });

  it('throws for misuse', async () => {
    await misuse(sealSecret(SECRET, { key: new Uint8Array(16) }), RangeError, 'ERR_OPTION_INVALID');
    await misuse(
      sealSecret('x' as unknown as Uint8Array, { key: kek }),
      TypeError,
      'ERR_SECRET_TYPE',
    );
    await misuse(sealSecret(SECRET, { key: kek, keyId: 'a:b' }), RangeError, 'ERR_OPTION_INVALID');
    await misuse(
      sealSecret(SECRET, { key: kek, keyId: 'a'.repeat(65) }),
      RangeError,
      'ERR_OPTION_INVALID',
    );
    await misuse(
      sealSecret(SECRET, { key: kek, kid: 'x' } as never),
      RangeError,
      'ERR_OPTION_UNKNOWN',
    );
    await misuse(
      sealSecret(SECRET, { key: kek, allowInsecureShortSecret: 1 } as never),
      TypeError,
      'ERR_OPTION_TYPE',
    );
  });

  it('accepts a WebCrypto CryptoKey', async () => {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    expect(await openSecret(await sealSecret(SECRET, { key }), { keys: key })).toEqual(SECRET);
  });
});

describe('the secret-length rule of the rest of otpkit', () => {
  it('refuses an empty secret (ERR_SECRET_EMPTY)', async () => {
    await misuse(sealSecret(new Uint8Array(0), { key: kek }), RangeError, 'ERR_SECRET_EMPTY');
    await misuse(
      sealSecret(new Uint8Array(0), { key: kek, allowInsecureShortSecret: true }),
      RangeError,
      'ERR_SECRET_EMPTY',
    );
  });

  it('refuses secrets under 128 bits unless allowInsecureShortSecret, and under 80 bits always', async () => {
    await misuse(sealSecret(bytes(15), { key: kek }), RangeError, 'ERR_SECRET_TOO_SHORT');
    await misuse(sealSecret(bytes(1), { key: kek }), RangeError, 'ERR_SECRET_TOO_SHORT');
    await misuse(
      sealSecret(bytes(9), { key: kek, allowInsecureShortSecret: true }),
      RangeError,
      'ERR_SECRET_TOO_SHORT',
    );
    const legacy = bytes(10);
    const sealed = await sealSecret(legacy, { key: kek, allowInsecureShortSecret: true });
    expect(await openSecret(sealed, { keys: kek })).toEqual(legacy);
  });

  it('refuses secrets over 256 bytes (ERR_SECRET_TOO_LONG), such as 1,600 bytes', async () => {
    await misuse(sealSecret(bytes(257), { key: kek }), RangeError, 'ERR_SECRET_TOO_LONG');
    await misuse(sealSecret(bytes(1600), { key: kek }), RangeError, 'ERR_SECRET_TOO_LONG');
  });
});

describe('one size rule for sealing and opening', () => {
  const LONGEST_KEY_ID = 'K'.repeat(64);

  it('the cap is what the largest secret under the longest key id seals to', async () => {
    expect(17 + 64 + 1 + 16 + 1 + Math.ceil(((256 + 16) * 4) / 3)).toBe(MAX_SEALED_LENGTH);
    const sealed = await sealSecret(bytes(256), { key: kek, keyId: LONGEST_KEY_ID });
    expect(sealed).toHaveLength(MAX_SEALED_LENGTH);
    expect(await openSecret(sealed, { keys: { [LONGEST_KEY_ID]: kek } })).toEqual(bytes(256));
  });

  it('whatever sealSecret makes, openSecret opens: every length 10..256, longest key id', async () => {
    for (let n = 10; n <= 256; n++) {
      const secret = bytes(n, n);
      const sealed = await sealSecret(secret, {
        key: kek,
        keyId: LONGEST_KEY_ID,
        allowInsecureShortSecret: true,
      });
      expect(sealed.length).toBeLessThanOrEqual(MAX_SEALED_LENGTH);
      expect(await openSecret(sealed, { keys: kek })).toEqual(secret);
    }
  });

  it('what sealSecret refuses to make, openSecret refuses to open (authentic strings made by hand)', async () => {
    // One byte over: with the longest key id the string is over the cap.
    const over = await sealRaw(bytes(257), LONGEST_KEY_ID);
    expect(over).toHaveLength(MAX_SEALED_LENGTH + 1);
    expect((await sealedError(openSecret(over, { keys: kek }))).message).toContain('too long');
    // With a short key id it fits the cap, and the ciphertext size gives it away.
    for (const n of [257, 300, 0, 1, 9]) {
      const s = await sealRaw(bytes(n));
      expect(s.length).toBeLessThanOrEqual(MAX_SEALED_LENGTH);
      expect((await sealedError(openSecret(s, { keys: kek }))).message, `${n} bytes`).toContain(
        'ciphertext',
      );
    }
    // The same construction at sizes sealSecret accepts opens: the refusals above are the size rule.
    expect(await openSecret(await sealRaw(bytes(256), LONGEST_KEY_ID), { keys: kek })).toEqual(
      bytes(256),
    );
    expect(await openSecret(await sealRaw(bytes(10)), { keys: kek })).toEqual(bytes(10));
  });

  it('checks the length before anything else', async () => {
    const e = await sealedError(openSecret('x'.repeat(MAX_SEALED_LENGTH + 1), { keys: kek }));
    expect(e.message).toContain('too long');
    // A string the old 2048-character cap let through: a 1,600-byte secret sealed by hand.
    const legacy = await sealRaw(bytes(1600));
    expect(legacy).toHaveLength(2192);
    expect((await sealedError(openSecret(legacy, { keys: kek }))).message).toContain('too long');
  });
});

describe('messages name the field, never stored content', () => {
  /** Stored strings an attacker could have written, with the content that must not reach a log. */
  const hostileKeyIds = [
    'k1\nERROR admin login ok',
    'k1\r\n[INFO] forged entry',
    'k1\u0000x',
    '<script>alert(1)</script>',
    '${jndi.ldap//x}',
    'ünïcode-key-id',
    'k 1',
    '',
    'a'.repeat(65),
  ];
  const keys: OpenSecretOptions['keys'] = { k1: kek };

  it('a malformed key id (newline, markup, non-ASCII, too long) is refused without echoing it', async () => {
    const good = await sealSecret(SECRET, { key: kek });
    const [, , , iv, ct] = good.split(':') as [string, string, string, string, string];
    for (const keyId of hostileKeyIds) {
      const s = `otpkit-sealed:v1:${keyId}:${iv}:${ct}`;
      for (const k of [keys, kek]) {
        const e = await sealedError(openSecret(s, { keys: k }));
        expect(e.message, JSON.stringify(keyId)).toMatch(/^sealed secret [a-z ]+$/);
        expect(e.message).toContain('key id');
        if (keyId !== '') expect(e.message).not.toContain(keyId);
        expect(e.message).not.toContain(iv);
      }
    }
  });

  it('a well-formed but unknown key id is refused without echoing it', async () => {
    for (const keyId of ['attacker-chosen.id_1', '__proto__', 'constructor', 'toString', 'k2']) {
      const s = await sealSecret(SECRET, { key: kek, keyId });
      const e = await sealedError(openSecret(s, { keys }));
      expect(e.message).toBe('sealed secret names a key id that is not among the keys given');
      expect(e.message).not.toContain(keyId);
    }
  });

  it('no refusal repeats the IV, the ciphertext or the associated data', async () => {
    const sealed = await sealSecret(SECRET, { key: kek, associatedData: 'user:alice@example.com' });
    const [, , , iv, ct] = sealed.split(':') as [string, string, string, string, string];
    const cases: [string, Partial<OpenSecretOptions>][] = [
      [sealed, { associatedData: 'user:mallory@example.com' }],
      [tamper(sealed, sealed.length - 5), { associatedData: 'user:alice@example.com' }],
      [`otpkit-sealed:v1:k1:${iv}:${ct}!`, {}],
      [`otpkit-sealed:v1:k1:${iv.slice(1)}:${ct}`, {}],
      [`otpkit-sealed:v9:k1:${iv}:${ct}`, {}],
    ];
    for (const [s, o] of cases) {
      const e = await sealedError(openSecret(s, { keys: kek, ...o }));
      for (const content of [iv, ct, ct.slice(0, 12), 'alice', 'mallory', 'v9'])
        expect(e.message).not.toContain(content);
    }
  });
});

describe('the native opening (node:crypto) and WebCrypto agree', () => {
  // A raw 32-byte key opens through node:crypto where the runtime has it; a CryptoKey always
  // goes through WebCrypto: the same sealed strings must give the same bytes or the same refusal.
  const RUNS = { numRuns: 150, seed: 0x5ea1ed };
  const asKey = (k: Uint8Array): Promise<CryptoKey> =>
    crypto.subtle.importKey('raw', k as BufferSource, { name: 'AES-GCM' }, false, ['decrypt']);
  const refusal = async (p: Promise<unknown>): Promise<string> => {
    const e = await p.then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(OtpkitError);
    return (e as OtpkitError).code;
  };

  it('opens natively wherever process.getBuiltinModule offers node:crypto (not in workerd)', () => {
    const proc = (globalThis as { process?: { getBuiltinModule?: unknown } }).process;
    const workerd =
      (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent ===
      'Cloudflare-Workers';
    expect(opensNatively()).toBe(typeof proc?.getBuiltinModule === 'function' && !workerd);
  });

  it('same secret from both paths; a flipped ciphertext byte or other associated data fails on both', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 16, maxLength: 256 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({ maxLength: 40 }),
        fc.nat(),
        async (secret, key, associatedData, at) => {
          const sealed = await sealSecret(secret, { key, associatedData });
          const cryptoKey = await asKey(key);
          expect(await openSecret(sealed, { keys: key, associatedData })).toEqual(secret);
          expect(await openSecret(sealed, { keys: cryptoKey, associatedData })).toEqual(secret);
          // Flip one bit of one ciphertext or tag byte: always a different, canonical string.
          const parts = sealed.split(':');
          const ct = decodeBase64url(parts[4] as string) as Uint8Array;
          const i = at % ct.length;
          ct[i] = (ct[i] as number) ^ 1;
          const tampered = [...parts.slice(0, 4), encodeBase64url(ct)].join(':');
          expect(tampered).not.toBe(sealed);
          for (const keys of [key, cryptoKey]) {
            expect(await refusal(openSecret(tampered, { keys, associatedData }))).toBe(
              'ERR_SECRET_SEALED',
            );
            expect(
              await refusal(openSecret(sealed, { keys, associatedData: `${associatedData}x` })),
            ).toBe('ERR_SECRET_SEALED');
          }
        },
      ),
      RUNS,
    );
  });
});
