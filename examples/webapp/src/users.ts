/**
 * The app's own accounts and first factor: users in memory, passwords hashed with scrypt
 * (RFC 7914) from node:crypto. Nothing of the second factor lives here: that is otpkit's.
 * @module
 */
import { randomBytes, randomUUID, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface User {
  /** Random and never reused: otpkit keys everything on it, so a re-registered name inherits nothing. */
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
  readonly admin: boolean;
}

export const USERNAME: RegExp = /^[a-z0-9][a-z0-9._-]{2,31}$/;
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 1024;
const MAX_USERS = 100_000;

const options = (logN: number): ScryptOptions => ({ N: 2 ** logN, r: 8, p: 1, maxmem: 2 ** logN * 1024 * 2 });
const derive = (password: string, salt: Buffer, len: number, logN: number): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    // NFKC first, so the same password typed on another keyboard matches (NIST SP 800-63B §5.1.1.2).
    scrypt(password.normalize('NFKC'), salt, len, options(logN), (e, key) => (e ? reject(e) : resolve(key))),
  );

/** `scrypt$<logN>$<salt b64>$<hash b64>`. */
async function hashPassword(password: string, logN: number): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${logN}$${salt.toString('base64')}$${(await derive(password, salt, 32, logN)).toString('base64')}`;
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [alg, logN, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64');
  return timingSafeEqual(await derive(password, Buffer.from(salt, 'base64'), expected.length, Number(logN)), expected);
}

export interface Users {
  byId(id: string): User | undefined;
  byName(username: string): User | undefined;
  /** The new user, or why not. */
  create(username: string, password: string): Promise<User | 'taken' | 'full'>;
  /** The user whose password this is; `undefined` for a wrong name or password, in the same time. */
  authenticate(username: string, password: string): Promise<User | undefined>;
}

/** @param admins - usernames that are administrators once they exist. */
export function createUsers(logN: number, admins: readonly string[]): Users {
  const byId = new Map<string, User>();
  const byName = new Map<string, User>();
  // An unknown name costs one scrypt too, so response times do not tell which names exist.
  const dummy = hashPassword(randomBytes(16).toString('hex'), logN);
  return {
    byId: (id) => byId.get(id),
    byName: (name) => byName.get(name),
    async create(username, password) {
      if (byName.has(username)) return 'taken';
      if (byId.size >= MAX_USERS) return 'full';
      const passwordHash = await hashPassword(password, logN);
      if (byName.has(username)) return 'taken'; // lost a race while hashing
      const user: User = { id: randomUUID(), username, passwordHash, admin: admins.includes(username) };
      byId.set(user.id, user);
      byName.set(username, user);
      return user;
    },
    async authenticate(username, password) {
      const user = byName.get(username);
      const ok = await passwordMatches(password, user?.passwordHash ?? (await dummy));
      return ok ? user : undefined;
    },
  };
}
