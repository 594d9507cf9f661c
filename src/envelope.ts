/**
 * Envelope encryption for shared secrets at rest (RFC 4226 §7.5 RECOMMENDs encrypting stored
 * secrets). AES-256-GCM through WebCrypto (`globalThis.crypto.subtle`), so it
 * runs in browsers, Node ≥ 20, Deno and workers with no dependency.
 *
 * The sealed form is one self-describing string, `otpkit-sealed:v1:<keyId>:<iv>:<ciphertext>`
 * (base64url), so keys can be rotated: keep old keys by id for opening, seal with the new one.
 * Bind each sealed secret to its owner with `associatedData` (for example the user id), so a
 * sealed secret copied into another user's row does not open there.
 *
 * One size rule for both directions: {@link sealSecret} seals exactly the secrets the rest of
 * otpkit accepts (16–256 bytes, 10–15 with `allowInsecureShortSecret`), and {@link openSecret}
 * refuses, before decrypting, any string longer or shorter than such a secret seals to.
 * @module
 */
import { nativeFunction } from './_native.js';
import {
  abool,
  aoptions,
  asecret,
  kind,
  KEY_ID,
  MAX_KEY_ID,
  MAX_SECRET_BYTES,
  MIN_INSECURE_SECRET_BYTES,
} from './_assert.js';
import { decodeBase64url, encodeBase64url } from './_encoding.js';
import { OtpkitError, rangeError, typeError } from './errors.js';
import { randomBytes } from './secret.js';

const PREFIX = 'otpkit-sealed';
const VERSION = 'v1';
/** AES-GCM: a 96-bit IV (NIST SP 800-38D §8.2) and a 128-bit tag appended to the ciphertext. */
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The longest string {@link sealSecret} makes, and so the longest {@link openSecret} reads (462):
 * `otpkit-sealed:v1:` (17) + the longest key id + `:` + the IV + `:` + the ciphertext of the
 * largest secret sealSecret accepts plus the tag, each in unpadded base64url (⌈4n/3⌉ characters
 * for n bytes, RFC 4648 §5). A function, not a module-level constant, so that bundles which never
 * open a sealed secret do not keep it.
 */
function maxSealedLength(): number {
  return (
    17 +
    MAX_KEY_ID +
    1 +
    (((IV_BYTES * 4 + 2) / 3) | 0) +
    1 +
    ((((MAX_SECRET_BYTES + TAG_BYTES) * 4 + 2) / 3) | 0)
  );
}

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
  /** Allow 10..15-byte secrets (the 80-bit legacy keys), as the other functions do. @defaultValue false */
  readonly allowInsecureShortSecret?: boolean | undefined;
}

/** Options of {@link openSecret}. */
export interface OpenSecretOptions {
  /** The key, or a map of key id → key for rotation. Required. */
  readonly keys: SealingKey | Readonly<Record<string, SealingKey>>;
  /** The same associated data given to {@link sealSecret}. @defaultValue '' */
  readonly associatedData?: string | undefined;
}

const SEAL_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  'key',
  'keyId',
  'associatedData',
  'allowInsecureShortSecret',
]);
const OPEN_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(['keys', 'associatedData']);

function subtle(): SubtleCrypto {
  const s = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (s === undefined)
    throw new OtpkitError(
      'ERR_OPTION_INVALID',
      'WebCrypto (globalThis.crypto.subtle) is unavailable',
    );
  return s;
}

interface NodeDecipher {
  setAAD(data: Uint8Array): unknown;
  setAuthTag(tag: Uint8Array): unknown;
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
}
type CreateDecipher = (
  algorithm: string,
  key: Uint8Array,
  iv: Uint8Array,
  options: { authTagLength: number },
) => NodeDecipher;

/**
 * `node:crypto`'s AES-GCM, where the runtime has it (not workerd, whose `node:crypto` is partial).
 * It opens a secret in a few microseconds on the calling thread; WebCrypto's `decrypt` hops to a
 * thread pool and back, which costs far more than the decryption itself. Same algorithm, same
 * bytes, the same refusal of a tampered string (tested against each other).
 */
function nativeDecipher(): CreateDecipher | undefined {
  return nativeFunction('createDecipheriv') as CreateDecipher | undefined;
}

/** @internal Whether {@link openSecret} opens with raw 32-byte keys without WebCrypto here. */
export function opensNatively(): boolean {
  return nativeDecipher() !== undefined;
}

function openNatively(
  create: CreateDecipher,
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
): Uint8Array {
  const d = create('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  d.setAAD(aad);
  d.setAuthTag(ct.subarray(ct.length - TAG_BYTES));
  const head = d.update(ct.subarray(0, ct.length - TAG_BYTES));
  const tail = d.final(); // throws unless the tag authenticates
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  head.fill(0);
  return out;
}

function isCryptoKey(k: unknown): k is CryptoKey {
  return (
    typeof k === 'object' &&
    k !== null &&
    !(k instanceof Uint8Array) &&
    'algorithm' in k &&
    'type' in k
  );
}

async function importKey(
  key: unknown,
  title: string,
  usage: 'encrypt' | 'decrypt',
): Promise<CryptoKey> {
  if (isCryptoKey(key)) return key;
  if (!(key instanceof Uint8Array))
    throw typeError(
      'ERR_OPTION_TYPE',
      `"${title}" expected a 32-byte Uint8Array or CryptoKey, got ${kind(key)}`,
    );
  if (key.length !== 32)
    throw rangeError(
      'ERR_OPTION_INVALID',
      `"${title}" expected 32 bytes (AES-256), got ${key.length}`,
    );
  return subtle().importKey('raw', key as BufferSource, { name: 'AES-GCM' }, false, [usage]);
}

function astring(v: unknown, title: string): string {
  if (v === undefined) return '';
  if (typeof v !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"${title}" expected string, got ${kind(v)}`);
  return v;
}

/**
 * Encrypts a shared secret for storage with AES-256-GCM and a fresh random 96-bit IV.
 *
 * The secret must be one otpkit can use: 16–256 bytes, or 10–15 with `allowInsecureShortSecret`
 * (for legacy 80-bit secrets imported with the same opt-in). The result is at most 462 characters.
 *
 * @param secret - the secret bytes (from {@link generateSecret}).
 * @param options - {@link SealSecretOptions}: `key` (required), `keyId`, `associatedData`, `allowInsecureShortSecret`.
 * @returns the sealed string, safe to store in a text column.
 * @throws TypeError if the secret is not a `Uint8Array` (`ERR_SECRET_TYPE`) or an option has the wrong type.
 * @throws RangeError if the secret is empty (`ERR_SECRET_EMPTY`), too short (`ERR_SECRET_TOO_SHORT`)
 *   or over 256 bytes (`ERR_SECRET_TOO_LONG`), the key is not 32 bytes, the key id is malformed,
 *   or an option is unknown.
 * @example
 * ```ts
 * const kek = crypto.getRandomValues(new Uint8Array(32)); // keep it in your KMS or environment
 * const sealed = await sealSecret(generateSecret(), { key: kek, keyId: '2026-11', associatedData: 'user:42' });
 * const secret = await openSecret(sealed, { keys: { '2026-11': kek }, associatedData: 'user:42' });
 * ```
 */
export async function sealSecret(secret: Uint8Array, options: SealSecretOptions): Promise<string> {
  if (!(secret instanceof Uint8Array))
    throw typeError('ERR_SECRET_TYPE', `"secret" expected Uint8Array, got ${kind(secret)}`);
  if (options === undefined) throw typeError('ERR_OPTION_TYPE', '"options.key" is required');
  const o = aoptions<SealSecretOptions>(options, SEAL_KEYS);
  const allowShort =
    o.allowInsecureShortSecret === undefined
      ? false
      : abool(o.allowInsecureShortSecret, 'allowInsecureShortSecret');
  asecret(secret, allowShort);
  const keyId = o.keyId === undefined ? 'k1' : astring(o.keyId, 'keyId');
  if (!KEY_ID.test(keyId))
    throw rangeError('ERR_OPTION_INVALID', '"keyId" expected 1..64 characters of [A-Za-z0-9_.-]');
  const aad = new TextEncoder().encode(astring(o.associatedData, 'associatedData'));
  const key = await importKey(o.key, 'key', 'encrypt');
  const iv = randomBytes(IV_BYTES);
  const ct = new Uint8Array(
    await subtle().encrypt(
      { name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad },
      key,
      secret as BufferSource,
    ),
  );
  return `${PREFIX}:${VERSION}:${keyId}:${encodeBase64url(iv)}:${encodeBase64url(ct)}`;
}

/**
 * Decrypts a string made by {@link sealSecret}.
 *
 * @param sealed - the stored string.
 * @param options - {@link OpenSecretOptions}: `keys` (one key, or key id → key), `associatedData`.
 * @returns the secret bytes.
 * @throws OtpkitError `ERR_SECRET_SEALED` (distinct from storage codes: a key or data problem, not
 *   an outage) if the string is longer than {@link sealSecret} ever makes, malformed (including a
 *   ciphertext of a size no accepted secret seals to), names an unknown key id, or fails
 *   authentication (tampered, wrong key, wrong associated data). The message names the field at
 *   fault, never its content: the string comes from storage and may have been written by an attacker.
 * @throws TypeError / RangeError on bad arguments.
 * @example
 * ```ts
 * const secret = await openSecret(row.sealedSecret, { keys: { '2026-11': kek }, associatedData: `user:${row.id}` });
 * ```
 */
export async function openSecret(sealed: string, options: OpenSecretOptions): Promise<Uint8Array> {
  if (typeof sealed !== 'string')
    throw typeError('ERR_OPTION_TYPE', `"sealed" expected string, got ${kind(sealed)}`);
  if (options === undefined) throw typeError('ERR_OPTION_TYPE', '"options.keys" is required');
  const o = aoptions<OpenSecretOptions>(options, OPEN_KEYS);
  const aad = new TextEncoder().encode(astring(o.associatedData, 'associatedData'));
  const corrupt = (why: string): OtpkitError =>
    new OtpkitError('ERR_SECRET_SEALED', `sealed secret ${why}`);
  // Size first, before any splitting or decoding.
  if (sealed.length > maxSealedLength()) throw corrupt('is too long');
  const parts = sealed.split(':');
  if (parts.length !== 5 || parts[0] !== PREFIX || parts[1] !== VERSION)
    throw corrupt('has an unknown format');
  const keyId = parts[2] as string;
  if (!KEY_ID.test(keyId)) throw corrupt('has a malformed key id');
  // Canonical base64url only (zero pad bits, RFC 4648 §3.5), so one ciphertext has one spelling.
  const iv = decodeBase64url(parts[3] as string);
  if (iv === null || iv.length !== IV_BYTES) throw corrupt('has a malformed IV');
  const ct = decodeBase64url(parts[4] as string);
  // Only the sizes sealSecret makes: a 10..256-byte secret plus the tag.
  if (
    ct === null ||
    ct.length < MIN_INSECURE_SECRET_BYTES + TAG_BYTES ||
    ct.length > MAX_SECRET_BYTES + TAG_BYTES
  )
    throw corrupt('has a malformed ciphertext');
  const keys = o.keys;
  let raw: unknown;
  if (keys instanceof Uint8Array || isCryptoKey(keys)) raw = keys;
  else if (
    typeof keys === 'object' &&
    keys !== null &&
    Object.prototype.hasOwnProperty.call(keys, keyId)
  )
    raw = (keys as Record<string, SealingKey>)[keyId];
  // Never echo the key id: stored content in a message is a log-injection vector.
  else if (typeof keys === 'object' && keys !== null)
    throw corrupt('names a key id that is not among the keys given');
  else
    throw typeError('ERR_OPTION_TYPE', `"keys" expected a key or a map of keys, got ${kind(keys)}`);
  const failed = (e: unknown): OtpkitError =>
    new OtpkitError(
      'ERR_SECRET_SEALED',
      'sealed secret failed authentication (tampered, wrong key or wrong associatedData)',
      { cause: e },
    );
  const native = raw instanceof Uint8Array && raw.length === 32 ? nativeDecipher() : undefined;
  if (native !== undefined)
    try {
      return openNatively(native, raw as Uint8Array, iv, aad, ct);
    } catch (e) {
      throw failed(e);
    }
  const key = await importKey(raw, 'keys', 'decrypt');
  try {
    return new Uint8Array(
      await subtle().decrypt(
        { name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad },
        key,
        ct as BufferSource,
      ),
    );
  } catch (e) {
    throw failed(e);
  }
}
