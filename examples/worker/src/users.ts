/**
 * The app's own users and passwords, in a D1 table of their own. Passwords are hashed with
 * PBKDF2-HMAC-SHA-256 from WebCrypto (`crypto.subtle.deriveBits`), which runs natively in
 * workerd: scrypt or Argon2 in JavaScript would blow a Worker's CPU budget.
 * @module
 */
import type { D1Database } from './env.js';

/**
 * 100,000 iterations: the most Cloudflare's WebCrypto accepts for PBKDF2 (workerd run locally
 * takes more; the deployed runtime refuses them). OWASP asks for 600,000 with SHA-256, so this is
 * a stand-in: a real app on Workers delegates passwords to an identity provider or uses passkeys.
 * The count is stored with each hash, so it can be changed later.
 */
export const PBKDF2_ITERATIONS = 100_000;

/** The table this example adds next to otpkit's. */
export const USERS_SCHEMA = `CREATE TABLE IF NOT EXISTS example_users (
  name TEXT PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  salt TEXT NOT NULL,
  hash TEXT NOT NULL,
  iterations INTEGER NOT NULL
)`;

export interface User {
  readonly id: string;
  readonly name: string;
}

const hex = (b: ArrayBuffer | Uint8Array): string =>
  Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');

async function pbkdf2(password: string, salt: string, iterations: number): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(password),
    'PBKDF2',
    false,
    ['deriveBits'],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: new TextEncoder().encode(salt), iterations },
    key,
    256,
  );
  return hex(bits);
}

/** Compares two hex strings of equal length without an early exit. */
function sameHex(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Creates a user; `null` if the name is taken. */
export async function createUser(
  db: D1Database,
  name: string,
  password: string,
): Promise<User | null> {
  const id = crypto.randomUUID();
  const salt = hex(crypto.getRandomValues(new Uint8Array(16)));
  const hash = await pbkdf2(password, salt, PBKDF2_ITERATIONS);
  const { meta } = await db
    .prepare(
      'INSERT INTO example_users (name, id, salt, hash, iterations) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING',
    )
    .bind(name, id, salt, hash, PBKDF2_ITERATIONS)
    .run();
  return meta.changes === 1 ? { id, name } : null;
}

/** The user if the password is right; an unknown name costs the same hash, so timing tells nothing. */
export async function checkPassword(
  db: D1Database,
  name: string,
  password: string,
): Promise<User | null> {
  const row = await db
    .prepare('SELECT id, salt, hash, iterations FROM example_users WHERE name = ?1')
    .bind(name)
    .first<{ id: string; salt: string; hash: string; iterations: number }>();
  const hash = await pbkdf2(
    password,
    row?.salt ?? 'no such user',
    row?.iterations ?? PBKDF2_ITERATIONS,
  );
  return row !== null && sameHex(hash, row.hash) ? { id: row.id, name } : null;
}
