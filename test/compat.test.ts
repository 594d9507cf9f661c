/** checkAuthenticatorCompatibility: each warning fires exactly when it should, naming the apps. */
import { describe, expect, it } from 'vitest';
import {
  AUTHENTICATOR_PROFILES,
  checkAuthenticatorCompatibility,
  type CompatibilityWarningCode,
} from '../src/compat.js';
import { OtpkitError } from '../src/errors.js';
import { buildOtpauthURI } from '../src/uri/build.js';
import type { OtpauthParamsInput } from '../src/uri/params.js';

const SECRET = new Uint8Array(20).fill(0x5a);
const BASE: OtpauthParamsInput = {
  type: 'totp',
  secret: SECRET,
  issuer: 'ACME',
  account: 'alice@example.com',
};
const codes = (p: OtpauthParamsInput | string): CompatibilityWarningCode[] =>
  checkAuthenticatorCompatibility(p).map((w) => w.code);
const warning = (p: OtpauthParamsInput | string, code: CompatibilityWarningCode) =>
  checkAuthenticatorCompatibility(p).find((w) => w.code === code);

describe('checkAuthenticatorCompatibility', () => {
  it('gives no warnings for a default SHA1/6/30 enrollment with a 20-byte secret and a short label', () => {
    expect(checkAuthenticatorCompatibility(BASE)).toEqual([]);
    expect(
      checkAuthenticatorCompatibility({ ...BASE, algorithm: 'SHA1', digits: 6, period: 30 }),
    ).toEqual([]);
    expect(
      checkAuthenticatorCompatibility(buildOtpauthURI(BASE, { explicitDefaults: true })),
    ).toEqual([]);
  });

  it('ALGORITHM: only for SHA256/SHA512, naming apps that honour SHA1 only', () => {
    for (const algorithm of ['SHA256', 'SHA512'] as const) {
      expect(codes({ ...BASE, algorithm })).toEqual(['ALGORITHM']);
      const w = warning({ ...BASE, algorithm }, 'ALGORITHM');
      expect(w?.apps).toEqual(
        expect.arrayContaining([
          'Microsoft Authenticator',
          'Authy',
          'Google Authenticator (older versions)',
        ]),
      );
      expect(w?.apps).not.toContain('Google Authenticator');
      expect(w?.message).toContain(algorithm);
    }
  });

  it('DIGITS: only when not 6; 7 also concerns current Google Authenticator (KUF: 6 or 8)', () => {
    expect(codes({ ...BASE, digits: 6 })).toEqual([]);
    const eight = warning({ ...BASE, digits: 8 }, 'DIGITS');
    expect(codes({ ...BASE, digits: 8 })).toEqual(['DIGITS']);
    expect(eight?.apps).toEqual(
      expect.arrayContaining(['Microsoft Authenticator', 'Google Authenticator (older versions)']),
    );
    expect(eight?.apps).not.toContain('Google Authenticator');
    const seven = warning({ ...BASE, digits: 7 }, 'DIGITS');
    expect(seven?.apps).toContain('Google Authenticator');
    expect(seven?.message).toContain('6 or 8');
  });

  it('PERIOD: only for totp with a period other than 30', () => {
    for (const period of [15, 60, 120, 1]) {
      expect(codes({ ...BASE, period })).toEqual(['PERIOD']);
      expect(warning({ ...BASE, period }, 'PERIOD')?.apps).toEqual(
        expect.arrayContaining(['Google Authenticator', 'Microsoft Authenticator', 'Authy']),
      );
    }
    expect(codes({ ...BASE, period: 30 })).toEqual([]);
  });

  it('HOTP: for every hotp enrollment, naming the apps without counter-based codes; never PERIOD', () => {
    const hotp: OtpauthParamsInput = {
      type: 'hotp',
      secret: SECRET,
      issuer: 'ACME',
      account: 'a',
      counter: 0,
    };
    expect(codes(hotp)).toEqual(['HOTP']);
    const w = warning(hotp, 'HOTP');
    expect(w?.apps).toEqual(
      expect.arrayContaining(['Microsoft Authenticator', 'Authy', 'Bitwarden']),
    );
    expect(w?.apps).not.toContain('Google Authenticator');
  });

  it('SECRET_LENGTH: under 16 bytes or over 64 bytes only', () => {
    for (const n of [16, 20, 32, 64])
      expect(codes({ ...BASE, secret: new Uint8Array(n).fill(1) }), `${n}`).toEqual([]);
    for (const n of [10, 15]) {
      expect(codes({ ...BASE, secret: new Uint8Array(n).fill(1) }), `${n}`).toEqual([
        'SECRET_LENGTH',
      ]);
      expect(
        warning({ ...BASE, secret: new Uint8Array(n).fill(1) }, 'SECRET_LENGTH')?.message,
      ).toContain(`${n * 8} bits`);
    }
    for (const n of [65, 128, 256])
      expect(codes({ ...BASE, secret: new Uint8Array(n).fill(1) }), `${n}`).toEqual([
        'SECRET_LENGTH',
      ]);
  });

  it('SECRET_LENGTH: reports the KUF 80-bit example URI instead of throwing', () => {
    const uri = 'otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example';
    expect(codes(uri)).toEqual(['SECRET_LENGTH']);
  });

  it('LABEL_LENGTH: when "[period/]issuer:account" exceeds 64 UTF-8 bytes', () => {
    const issuer = 'I'.repeat(20);
    const at64 = { ...BASE, issuer, account: 'a'.repeat(64 - 21) };
    expect(codes(at64)).toEqual([]);
    expect(codes({ ...at64, account: `${at64.account}a` })).toEqual(['LABEL_LENGTH']);
    expect(warning({ ...at64, account: `${at64.account}a` }, 'LABEL_LENGTH')?.apps).toEqual([
      'Yubico Authenticator (YubiKey OATH)',
    ]);
    // Bytes, not characters: 22 three-byte characters are 66 bytes.
    expect(
      codes({ ...BASE, issuer: undefined, account: '例'.repeat(21) }).filter(
        (c) => c !== 'ISSUER_MISSING',
      ),
    ).toEqual([]);
    expect(codes({ ...BASE, issuer: undefined, account: '例'.repeat(22) })).toContain(
      'LABEL_LENGTH',
    );
    // A non-default period is part of the stored name ("60/…").
    expect(codes({ ...at64, period: 60 })).toEqual(['PERIOD', 'LABEL_LENGTH']);
  });

  it('ISSUER_MISSING: only when there is neither a label prefix nor an issuer parameter', () => {
    const { issuer: _issuer, ...noIssuer } = BASE;
    expect(codes(noIssuer)).toEqual(['ISSUER_MISSING']);
    expect(codes(`otpauth://totp/alice?secret=${'A'.repeat(32)}`)).toEqual(['ISSUER_MISSING']);
    expect(codes(`otpauth://totp/alice?secret=${'A'.repeat(32)}&issuer=ACME`)).toEqual([]);
    expect(codes(`otpauth://totp/ACME:alice?secret=${'A'.repeat(32)}`)).toEqual([]);
  });

  it('reports several problems at once, in a stable order, as frozen data', () => {
    const w = checkAuthenticatorCompatibility({
      type: 'totp',
      secret: new Uint8Array(10),
      account: 'x'.repeat(70),
      algorithm: 'SHA512',
      digits: 8,
      period: 60,
    });
    expect(w.map((x) => x.code)).toEqual([
      'ALGORITHM',
      'DIGITS',
      'PERIOD',
      'SECRET_LENGTH',
      'LABEL_LENGTH',
      'ISSUER_MISSING',
    ]);
    expect(Object.isFrozen(w)).toBe(true);
    for (const x of w) {
      expect(Object.isFrozen(x)).toBe(true);
      expect(Object.isFrozen(x.apps)).toBe(true);
      expect(x.message.length).toBeGreaterThan(20);
    }
  });

  it('names only apps that are in the table, and never the secret', () => {
    const names = new Set(AUTHENTICATOR_PROFILES.map((p) => p.app));
    const uri = buildOtpauthURI({
      type: 'hotp',
      secret: new Uint8Array(100).fill(7),
      account: 'a'.repeat(80),
      counter: 1,
      algorithm: 'SHA256',
      digits: 7,
    });
    const secretB32 = /secret=([A-Z2-7]+)/.exec(uri)?.[1] as string;
    for (const w of checkAuthenticatorCompatibility(uri)) {
      for (const app of w.apps) expect(names.has(app), app).toBe(true);
      expect(w.message).not.toContain(secretB32);
    }
  });

  it('throws the parser errors for a bad URI and the builder errors for bad params', () => {
    expect(() => checkAuthenticatorCompatibility('otpauth://totp/A:b?issuer=A')).toThrow(
      OtpkitError,
    );
    expect(() => checkAuthenticatorCompatibility({ ...BASE, account: 'a:b' })).toThrow(RangeError);
    expect(() => checkAuthenticatorCompatibility({ ...BASE, secret: new Uint8Array(9) })).toThrow(
      RangeError,
    );
  });

  it('keeps the table well-formed: sources for every app, frozen', () => {
    expect(Object.isFrozen(AUTHENTICATOR_PROFILES)).toBe(true);
    for (const p of AUTHENTICATOR_PROFILES) {
      expect(Object.isFrozen(p)).toBe(true);
      expect(p.sources.length).toBeGreaterThan(0);
      for (const s of p.sources) expect(s).toMatch(/^https:\/\//);
    }
  });
});
