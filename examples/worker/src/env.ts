/**
 * What the Worker is given: its bindings (wrangler.toml, or miniflare's options locally) and the
 * small part of the D1 API it uses, typed here so that the example needs no types package.
 * @module
 */

/** The subset of `@cloudflare/workers-types`' `D1Database` this example and otpkit's D1 store call. */
export interface D1Database {
  prepare(sql: string): D1PreparedStatement;
  batch(statements: D1PreparedStatement[]): Promise<unknown[]>;
}

export interface D1PreparedStatement {
  bind(...values: unknown[]): D1PreparedStatement;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  all(): Promise<unknown>;
  run(): Promise<{ readonly meta: { readonly changes: number } }>;
}

/** The bindings. The three secrets are `wrangler secret put …` in production. */
export interface Env {
  readonly DB: D1Database;
  /** Sealing keys of factor secrets: `id:hex64[,id:hex64…]`, the first is current (AES-256-GCM). */
  readonly OTPKIT_SEALING_KEYS: string;
  /** HMAC keys of recovery-code hashes, same syntax: at least 32 bytes each. */
  readonly OTPKIT_RECOVERY_PEPPER: string;
  /** HMAC-SHA-256 key of the session cookies, 64 hex characters. */
  readonly SESSION_KEY: string;
}

/**
 * Parses `id:hex[,id:hex…]` into otpkit's `{ current, keys }`: the first key is the one new
 * secrets use, the others still open what they sealed (rotation without a migration).
 */
export function parseKeys(
  name: string,
  text: string | undefined,
): { current: string; keys: Record<string, Uint8Array> } {
  const keys: Record<string, Uint8Array> = {};
  let current: string | undefined;
  for (const part of (text ?? '').split(',')) {
    const m = /^([A-Za-z0-9_.-]{1,64}):([0-9a-fA-F]{64,})$/.exec(part.trim());
    if (m === null) throw new Error(`${name} must be "id:<64+ hex characters>[,id:…]"`);
    const [, id = '', hex = ''] = m;
    keys[id] = hexBytes(hex);
    current ??= id;
  }
  return { current: current as string, keys };
}

/** Hex to bytes (the caller checked the syntax). */
export function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
