/**
 * Authenticator-app compatibility check for otpauth:// enrollments: warns about settings that
 * popular apps ignore (and then silently show wrong codes for) or reject, naming the apps.
 *
 * Everything here is advisory: a warning never means the URI is invalid. The facts come from
 * public reports and sources listed in {@link AUTHENTICATOR_PROFILES}; apps change,
 * so messages say "may" and name older versions where the evidence is about them.
 * @module
 */
import type { HashAlgorithm } from './hotp.js';
import { MIN_SECRET_BYTES } from './_assert.js';
import { normalizeOtpauthParams } from './uri/build.js';
import type { OtpauthParams, OtpauthParamsInput } from './uri/params.js';
import { parseOtpauthURI } from './uri/parse.js';

/** What a {@link CompatibilityWarning} is about. */
export type CompatibilityWarningCode =
  'ALGORITHM' | 'DIGITS' | 'PERIOD' | 'SECRET_LENGTH' | 'LABEL_LENGTH' | 'ISSUER_MISSING' | 'HOTP';

/** One compatibility problem of an enrollment. */
export interface CompatibilityWarning {
  /** Stable machine-readable kind. */
  readonly code: CompatibilityWarningCode;
  /** A human explanation with the fix; never contains the secret. */
  readonly message: string;
  /** The apps concerned (names as in {@link AUTHENTICATOR_PROFILES}); empty for general advice. */
  readonly apps: readonly string[];
}

/**
 * What one authenticator app is known to honour. A field left out means "no evidence of a
 * limitation", never "known to work". `undefined` lists are therefore not checked.
 */
export interface AuthenticatorProfile {
  /** The app, with a version qualifier where the evidence is about some versions only. */
  readonly app: string;
  /** Hash algorithms it honours; others are reported ignored (SHA1 used) or rejected. */
  readonly algorithms?: readonly HashAlgorithm[] | undefined;
  /** Code lengths it honours. */
  readonly digits?: readonly number[] | undefined;
  /** TOTP periods (seconds) it honours. */
  readonly periods?: readonly number[] | undefined;
  /** `false` if it has no HOTP (counter-based) support. */
  readonly hotp?: boolean | undefined;
  /** Longest credential name (`issuer:account`, UTF-8 bytes) it stores. */
  readonly maxLabelBytes?: number | undefined;
  /** Where the facts come from. */
  readonly sources: readonly string[];
}

/**
 * The data behind {@link checkAuthenticatorCompatibility}: what popular authenticator apps are
 * documented or reported to honour. Apps reported to honour every otpkit setting (Aegis,
 * FreeOTP, and for TOTP the password managers Bitwarden and 1Password) appear only where a
 * limitation is reported. Sources (as stored in public repositories and trackers; re-check before relying
 * on them, apps change):
 * - Google Authenticator wiki, "Key Uri Format" (archived 2021): "Currently, the algorithm
 *   parameter is ignored by the Google Authenticator implementations"; digits "may have the
 *   values 6 or 8 … Currently, on Android and Blackberry the digits parameter is ignored";
 *   "Currently, the period parameter is ignored by the Google Authenticator implementations".
 * - Keycloak `GoogleAuthenticatorProvider` after keycloak/keycloak#27349 / PR #27351 (2024):
 *   current Google Authenticator handles SHA256/SHA512, 8 digits and HOTP, but TOTP only with a
 *   30 s period; google/google-authenticator#521 (Android ignores `period`).
 * - Keycloak `MicrosoftAuthenticatorOTPProvider`: Microsoft Authenticator only with TOTP, SHA1,
 *   6 digits, 30 s (PR #27351: "Microsoft Authenticator … still has the old limitations");
 *   kspearrin/Otp.NET#62 and BrandonPotter/GoogleAuthenticator#228 (SHA256/512 give wrong codes
 *   in Microsoft Authenticator and Authy).
 * - Authy: privacyidea/privacyidea#1156 and Yubico/yubioath-android#63 (30 s periods only),
 *   sec51/twofactor#11 (SHA512 and 8 digits not working), BrandonPotter/GoogleAuthenticator#228
 *   (SHA1 only); Authy has no HOTP for third-party accounts.
 * - Bitwarden: no HOTP ("the only type of one time passcodes that bitwarden supports are the
 *   TOTP variety", AChep/keyguard-app#378).
 * - Duo Mobile and LastPass Authenticator: reported not to honour SHA256
 *   (samdjstevens/java-totp#30, 2020–2021).
 * - YubiKey OATH (Yubico Authenticator): credential names are limited to 64 bytes
 *   (Yubico/yubikey-manager `ykman oath accounts add`: "Name must be between 1 and 64 bytes";
 *   the stored id is `[period/]issuer:account`).
 *
 * @example
 * ```ts
 * AUTHENTICATOR_PROFILES.filter((p) => p.hotp === false).map((p) => p.app);
 * // ['Microsoft Authenticator', 'Authy', 'Bitwarden']
 * ```
 * @see https://github.com/google/google-authenticator/wiki/Key-Uri-Format
 */
export const AUTHENTICATOR_PROFILES: readonly AuthenticatorProfile[] =
  /* @__PURE__ */ Object.freeze([
    /* @__PURE__ */ Object.freeze({
      app: 'Google Authenticator',
      digits: /* @__PURE__ */ Object.freeze([6, 8]),
      periods: /* @__PURE__ */ Object.freeze([30]),
      sources: /* @__PURE__ */ Object.freeze([
        'https://github.com/google/google-authenticator/wiki/Key-Uri-Format',
        'https://github.com/keycloak/keycloak/pull/27351',
        'https://github.com/google/google-authenticator/issues/521',
      ]),
    }),
    /* @__PURE__ */ Object.freeze({
      app: 'Google Authenticator (older versions)',
      algorithms: /* @__PURE__ */ Object.freeze(['SHA1'] as const),
      digits: /* @__PURE__ */ Object.freeze([6]),
      periods: /* @__PURE__ */ Object.freeze([30]),
      sources: /* @__PURE__ */ Object.freeze([
        'https://github.com/google/google-authenticator/wiki/Key-Uri-Format',
        'https://github.com/google/google-authenticator-android/issues/29',
      ]),
    }),
    /* @__PURE__ */ Object.freeze({
      app: 'Microsoft Authenticator',
      algorithms: /* @__PURE__ */ Object.freeze(['SHA1'] as const),
      digits: /* @__PURE__ */ Object.freeze([6]),
      periods: /* @__PURE__ */ Object.freeze([30]),
      hotp: false,
      sources: /* @__PURE__ */ Object.freeze([
        'https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/authentication/otp/MicrosoftAuthenticatorOTPProvider.java',
        'https://github.com/kspearrin/Otp.NET/issues/62',
        'https://github.com/BrandonPotter/GoogleAuthenticator/issues/228',
      ]),
    }),
    /* @__PURE__ */ Object.freeze({
      app: 'Authy',
      algorithms: /* @__PURE__ */ Object.freeze(['SHA1'] as const),
      digits: /* @__PURE__ */ Object.freeze([6]),
      periods: /* @__PURE__ */ Object.freeze([30]),
      hotp: false,
      sources: /* @__PURE__ */ Object.freeze([
        'https://github.com/privacyidea/privacyidea/issues/1156',
        'https://github.com/sec51/twofactor/issues/11',
        'https://github.com/BrandonPotter/GoogleAuthenticator/issues/228',
      ]),
    }),
    /* @__PURE__ */ Object.freeze({
      app: 'Duo Mobile',
      algorithms: /* @__PURE__ */ Object.freeze(['SHA1'] as const),
      sources: /* @__PURE__ */ Object.freeze([
        'https://github.com/samdjstevens/java-totp/issues/30',
      ]),
    }),
    /* @__PURE__ */ Object.freeze({
      app: 'LastPass Authenticator',
      algorithms: /* @__PURE__ */ Object.freeze(['SHA1'] as const),
      sources: /* @__PURE__ */ Object.freeze([
        'https://github.com/samdjstevens/java-totp/issues/30',
      ]),
    }),
    /* @__PURE__ */ Object.freeze({
      app: 'Bitwarden',
      hotp: false,
      sources: /* @__PURE__ */ Object.freeze(['https://github.com/AChep/keyguard-app/issues/378']),
    }),
    /* @__PURE__ */ Object.freeze({
      app: 'Yubico Authenticator (YubiKey OATH)',
      maxLabelBytes: 64,
      sources: /* @__PURE__ */ Object.freeze([
        'https://github.com/Yubico/yubikey-manager/blob/main/ykman/_cli/oath.py',
      ]),
    }),
  ]);

/**
 * Longer keys add nothing: HMAC hashes a key longer than the hash's block size first (RFC 2104
 * §2; 64 bytes for SHA-1/SHA-256), and some apps may reject or mishandle long secrets.
 */
const LONG_SECRET_BYTES = 64;

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

/** Apps of the table whose `pick` list exists and does not contain `value`. */
function appsNotHonouring<T>(
  pick: (p: AuthenticatorProfile) => readonly T[] | undefined,
  value: T,
): string[] {
  return AUTHENTICATOR_PROFILES.filter((p) => {
    const list = pick(p);
    return list !== undefined && !list.includes(value);
  }).map((p) => p.app);
}

/**
 * Lists the settings of an enrollment that popular authenticator apps ignore or reject, so an
 * enrollment page can warn or stick to the defaults. A default enrollment (TOTP, SHA1, 6 digits,
 * 30 s, a 16–64-byte secret, an issuer and a label of at most 64 UTF-8 bytes) gives none.
 *
 * Warnings: `ALGORITHM` (not SHA1), `DIGITS` (not 6; 7 is outside the Key Uri Format's 6 or 8),
 * `PERIOD` (not 30 s), `HOTP` (apps without counter-based codes), `SECRET_LENGTH` (under 128 bits,
 * or over 64 bytes), `LABEL_LENGTH` (`issuer:account` over 64 UTF-8 bytes: YubiKey OATH rejects
 * it and phone lists truncate it), `ISSUER_MISSING` (no issuer: the Key Uri Format strongly
 * recommends one, and apps group, name and pick icons by it). Apps that silently ignore a
 * parameter keep generating codes, just wrong ones, which users report as "2FA does not work".
 *
 * @param params - the enrollment ({@link OtpauthParamsInput}, e.g. what you pass to
 *   {@link buildOtpauthURI}), or an otpauth:// URI, parsed with {@link parseOtpauthURI} (with
 *   short secrets allowed, so that they are reported rather than thrown).
 * @returns the warnings, in a stable order, frozen; empty when nothing is known to go wrong.
 * @throws OtpkitError if `params` is a string that is not a valid otpauth:// URI.
 * @throws TypeError / RangeError if `params` is an object that {@link buildOtpauthURI} would reject
 *   (short secrets of 10–15 bytes are accepted and reported instead).
 * @example
 * ```ts
 * checkAuthenticatorCompatibility({ type: 'totp', secret: generateSecret(), issuer: 'ACME', account: 'alice' }); // []
 * checkAuthenticatorCompatibility(
 *   'otpauth://totp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME&algorithm=SHA256&digits=8',
 * );
 * // [{ code: 'ALGORITHM', apps: ['Google Authenticator (older versions)', 'Microsoft Authenticator', …], message: … },
 * //  { code: 'DIGITS', apps: [...], message: … }]
 * ```
 * @see https://github.com/google/google-authenticator/wiki/Key-Uri-Format
 * @see {@link AUTHENTICATOR_PROFILES} for the data and its sources.
 */
export function checkAuthenticatorCompatibility(
  params: OtpauthParamsInput | string,
): readonly CompatibilityWarning[] {
  const p: OtpauthParams =
    typeof params === 'string'
      ? parseOtpauthURI(params, { allowInsecureShortSecret: true })
      : normalizeOtpauthParams(params, true);
  const out: CompatibilityWarning[] = [];
  const warn = (code: CompatibilityWarningCode, message: string, apps: readonly string[]): void => {
    out.push(
      /* @__PURE__ */ Object.freeze({
        code,
        message,
        apps: /* @__PURE__ */ Object.freeze([...apps]),
      }),
    );
  };

  if (p.algorithm !== 'SHA1') {
    const apps = appsNotHonouring((x) => x.algorithms, p.algorithm);
    warn(
      'ALGORITHM',
      `algorithm ${p.algorithm} may be ignored (codes computed with SHA1, so they never match) or rejected by some ` +
        'authenticator apps; use SHA1 for the widest compatibility',
      apps,
    );
  }
  if (p.digits !== 6) {
    const apps = appsNotHonouring((x) => x.digits, p.digits);
    warn(
      'DIGITS',
      `${p.digits}-digit codes may be shown as 6 digits or rejected by some authenticator apps` +
        `${p.digits === 7 ? ' (the Key Uri Format only defines 6 or 8)' : ''}; use 6 for the widest compatibility`,
      apps,
    );
  }
  if (p.type === 'totp' && p.period !== undefined && p.period !== 30) {
    const apps = appsNotHonouring((x) => x.periods, p.period);
    warn(
      'PERIOD',
      `a ${p.period} s period may be ignored by some authenticator apps, which then show 30 s codes that never match; ` +
        'use 30 for the widest compatibility',
      apps,
    );
  }
  if (p.type === 'hotp') {
    const apps = AUTHENTICATOR_PROFILES.filter((x) => x.hotp === false).map((x) => x.app);
    warn(
      'HOTP',
      'counter-based (HOTP) enrollments are not supported by some authenticator apps; prefer TOTP',
      apps,
    );
  }
  if (p.secret.length < MIN_SECRET_BYTES)
    warn(
      'SECRET_LENGTH',
      `the secret is ${p.secret.length * 8} bits, below the 128 bits RFC 4226 R6 requires; generate a new 20-byte secret`,
      [],
    );
  else if (p.secret.length > LONG_SECRET_BYTES)
    warn(
      'SECRET_LENGTH',
      `the secret is ${p.secret.length} bytes; some authenticator apps may reject or mishandle secrets over ` +
        `${LONG_SECRET_BYTES} bytes, and HMAC hashes keys longer than its block size anyway (RFC 2104), so they add no strength`,
      [],
    );
  // The name as an OATH credential id: `[period/]issuer:account` (YubiKey stores it so).
  const id =
    (p.type === 'totp' && p.period !== 30 ? `${p.period}/` : '') +
    (p.issuer === undefined ? '' : `${p.issuer}:`) +
    p.account;
  const idBytes = utf8Length(id);
  const longApps = AUTHENTICATOR_PROFILES.filter(
    (x) => x.maxLabelBytes !== undefined && idBytes > x.maxLabelBytes,
  );
  if (longApps.length > 0)
    warn(
      'LABEL_LENGTH',
      `the label "issuer:account" is ${idBytes} UTF-8 bytes; over 64 it is rejected by some apps and truncated in ` +
        'phone account lists, shorten the issuer or account name',
      longApps.map((x) => x.app),
    );
  if (p.issuer === undefined)
    warn(
      'ISSUER_MISSING',
      'no issuer: the Key Uri Format strongly recommends one; without it apps cannot tell apart accounts with the ' +
        'same name at different services, nor show the right name or icon',
      ['Google Authenticator'],
    );
  return /* @__PURE__ */ Object.freeze(out);
}
