/**
 * Envelope encryption for shared secrets at rest (RFC 4226 §7.5 RECOMMENDs encrypting stored
 * secrets; REQUIREMENTS #12). AES-256-GCM through WebCrypto (`globalThis.crypto.subtle`), so it
 * runs in browsers, Node ≥ 20, Deno and workers with no dependency.
 *
 * The sealed form is one self-describing string, `otpkit-sealed:v1:<keyId>:<iv>:<ciphertext>`
 * (base64url), so keys can be rotated: keep old keys by id for opening, seal with the new one.
 * Bind each sealed secret to its owner with `associatedData` (for example the user id), so a
 * sealed secret copied into another user's row does not open there.
 * @module
 */
import { aoptions, kind } from './_assert.js';
import { OtpkitError, rangeError, typeError } from './errors.js';
import { randomBytes } from './secret.js';

const PREFIX = 'otpkit-sealed';
const VERSION = 'v1';
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_SEALED = 2048;

/** A 32-byte AES-256 key as raw bytes, or a WebCrypto AES-GCM `CryptoKey`. */
export type SealingKey = Uint8Array | CryptoKey;

/** Options of {@link sealSecret}. */
export interface SealSecretOptions {
  /** The key encryption key. Required. */
  readonly key: SealingKey;
  /** Names the key in the sealed string, for rotation (`[A-Za-z0-9_.-]`, 1–64). @defaultValue 'k1' */
  readonly keyId?: string | undefined;
  /** Bound to the ciphertext but not stored in it, e.g. the user id. Must be given again to open. @defaultValue '' */
  readonly associatedData?: string | undefined;
}

/** Options of {@link openSecret}. */
export interface OpenSecretOptions {
  /** The key, or a map of key id → key for rotation. Required. */
  readonly keys: SealingKey | Readonly<Record<string, SealingKey>>;
  /** The same associated data given to {@link sealSecret}. @defaultValue '' */
  readonly associatedData?: string | undefined;
}

const SEAL_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['key', 'keyId', 'associatedData']);
const OPEN_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['keys', 'associatedData']);

function subtle(): SubtleCrypto {
  const s = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (s === undefined) throw new OtpkitError('ERR_OPTION_INVALID', 'WebCrypto (globalThis.crypto.subtle) is unavailable');
  return s;
}

function b64url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i] as number);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function unb64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function isCryptoKey(k: unknown): k is CryptoKey {
  return typeof k === 'object' && k !== null && !(k instanceof Uint8Array) && 'algorithm' in k && 'type' in k;
}

async function importKey(key: unknown, title: string, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  if (isCryptoKey(key)) return key;
  if (!(key instanceof Uint8Array)) throw typeError('ERR_OPTION_TYPE', `"${title}" expected a 32-byte Uint8Array or CryptoKey, got ${kind(key)}`);
  if (key.length !== 32) throw rangeError('ERR_OPTION_INVALID', `"${title}" expected 32 bytes (AES-256), got ${key.length}`);
  return subtle().importKey('raw', key as BufferSource, { name: 'AES-GCM' }, false, [usage]);
}

function astring(v: unknown, title: string): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(v)}`);
  return v;
}

/**
 * Encrypts a shared secret for storage with AES-256-GCM and a fresh random 96-bit IV.
 *
 * @param secret - the secret bytes (from {@link generateSecret}).
 * @param options - {@link SealSecretOptions}: `key` (required), `keyId`, `associatedData`.
 * @returns the sealed string, safe to store in a text column.
 * @throws TypeError / RangeError on a bad secret, key (not 32 bytes) or key id.
 * @example
 * ```ts
 * const kek = crypto.getRandomValues(new Uint8Array(32)); // keep it in your KMS or environment
 * const sealed = await sealSecret(generateSecret(), { key: kek, keyId: '2026-11', associatedData: 'user:42' });
 * const secret = await openSecret(sealed, { keys: { '2026-11': kek }, associatedData: 'user:42' });
 * ```
 */
export async function sealSecret(secret: Uint8Array, options: SealSecretOptions): Promise<string> {
  if (!(secret instanceof Uint8Array)) throw typeError('ERR_SECRET_TYPE', `"secret" expected Uint8Array, got ${kind(secret)}`);
  if (options === undefined) throw typeError('ERR_OPTION_TYPE', '"options.key" is required');
  const o = aoptions<SealSecretOptions>(options, SEAL_KEYS);
  const keyId = o.keyId === undefined ? 'k1' : astring(o.keyId, 'keyId');
  if (!KEY_ID.test(keyId)) throw rangeError('ERR_OPTION_INVALID', '"keyId" expected 1..64 characters of [A-Za-z0-9_.-]');
  const aad = new TextEncoder().encode(astring(o.associatedData, 'associatedData'));
  const key = await importKey(o.key, 'key', 'encrypt');
  const iv = randomBytes(12);
  const ct = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad }, key, secret as BufferSource));
  return `${PREFIX}:${VERSION}:${keyId}:${b64url(iv)}:${b64url(ct)}`;
}

/**
 * Decrypts a string made by {@link sealSecret}.
 *
 * @param sealed - the stored string.
 * @param options - {@link OpenSecretOptions}: `keys` (one key, or key id → key), `associatedData`.
 * @returns the secret bytes.
 * @throws OtpkitError `ERR_SECRET_SEALED` (distinct from storage codes: a key or data problem, not an outage) if the string is malformed, names an unknown key id, or
 *   fails authentication (tampered, wrong key, wrong associated data). The message never includes it.
 * @throws TypeError / RangeError on bad arguments.
 * @example
 * ```ts
 * const secret = await openSecret(row.sealedSecret, { keys: { '2026-11': kek }, associatedData: `user:${row.id}` });
 * ```
 */
export async function openSecret(sealed: string, options: OpenSecretOptions): Promise<Uint8Array> {
  if (typeof sealed !== 'string') throw typeError('ERR_OPTION_TYPE', `"sealed" expected string, got ${kind(sealed)}`);
  if (options === undefined) throw typeError('ERR_OPTION_TYPE', '"options.keys" is required');
  const o = aoptions<OpenSecretOptions>(options, OPEN_KEYS);
  const aad = new TextEncoder().encode(astring(o.associatedData, 'associatedData'));
  const corrupt = (why: string): OtpkitError => new OtpkitError('ERR_SECRET_SEALED', `sealed secret ${why}`);
  if (sealed.length > MAX_SEALED) throw corrupt('is too long');
  const parts = sealed.split(':');
  if (parts.length !== 5 || parts[0] !== PREFIX || parts[1] !== VERSION) throw corrupt('has an unknown format');
  const keyId = parts[2] as string;
  const iv = unb64url(parts[3] as string);
  const ct = unb64url(parts[4] as string);
  if (iv === null || iv.length !== 12 || ct === null || ct.length < 16) throw corrupt('is malformed');
  const keys = o.keys;
  let raw: unknown;
  if (keys instanceof Uint8Array || isCryptoKey(keys)) raw = keys;
  else if (typeof keys === 'object' && keys !== null && Object.prototype.hasOwnProperty.call(keys, keyId)) raw = (keys as Record<string, SealingKey>)[keyId];
  else if (typeof keys === 'object' && keys !== null) throw corrupt(`names key id '${keyId}', which is not among the keys given`);
  else throw typeError('ERR_OPTION_TYPE', `"keys" expected a key or a map of keys, got ${kind(keys)}`);
  const key = await importKey(raw, 'keys', 'decrypt');
  try {
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad }, key, ct as BufferSource));
  } catch (e) {
    throw new OtpkitError('ERR_SECRET_SEALED', 'sealed secret failed authentication (tampered, wrong key or wrong associatedData)', { cause: e });
  }
}
