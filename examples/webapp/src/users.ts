/**
 * The app's own accounts and first factor: users in memory, passwords hashed with scrypt
 * (RFC 7914) from node:crypto. Nothing of the second factor lives here: that is otpkit's.
 * @module
 */
import { randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';

export interface User {
  /** Random and never reused: otpkit keys everything on it, so a re-registered name inherits nothing. */
  readonly id: string;
  readonly username: string;
  passwordHash: string;
  readonly admin: boolean;
}

export const USERNAME: RegExp = /^[a-z0-9][a-z0-9._-]{2,31}$/;
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 1024;
const MAX_USERS = 100_000;

const derive = (password: string, salt: Buffer, len: number, logN: number): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    // NFKC first, so the same password typed on another keyboard matches (NIST SP 800-63B §5.1.1.2).
    scrypt(
      password.normalize('NFKC'),
      salt,
      len,
      { N: 2 ** logN, r: 8, p: 1, maxmem: 2 ** logN * 2048 },
      (e, key) => (e ? reject(e) : resolve(key)),
    ),
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
  return timingSafeEqual(
    await derive(password, Buffer.from(salt, 'base64'), expected.length, Number(logN)),
    expected,
  );
}

export class Users {
  private readonly ids = new Map<string, User>();
  private readonly names = new Map<string, User>();
  // An unknown name costs one scrypt too, so response times do not tell which names exist.
  private readonly dummy: Promise<string>;

  /** @param admins - usernames that are administrators once they exist. */
  constructor(
    private readonly logN: number,
    private readonly admins: readonly string[],
  ) {
    this.dummy = hashPassword(randomBytes(16).toString('hex'), logN);
  }

  byId(id: string): User | undefined {
    return this.ids.get(id);
  }

  byName(username: string): User | undefined {
    return this.names.get(username);
  }

  /** The new user, or why not. */
  async create(username: string, password: string): Promise<User | 'taken' | 'full'> {
    if (this.names.has(username)) return 'taken';
    if (this.ids.size >= MAX_USERS) return 'full';
    const passwordHash = await hashPassword(password, this.logN);
    if (this.names.has(username)) return 'taken'; // lost a race while hashing
    const user: User = {
      id: randomUUID(),
      username,
      passwordHash,
      admin: this.admins.includes(username),
    };
    this.ids.set(user.id, user);
    this.names.set(username, user);
    return user;
  }

  /** The user whose password this is; `undefined` for a wrong name or password, in the same time. */
  async authenticate(username: string, password: string): Promise<User | undefined> {
    const user = this.names.get(username);
    return (await passwordMatches(password, user?.passwordHash ?? (await this.dummy)))
      ? user
      : undefined;
  }

  /** Sets a new password if `current` is right; whether it did. */
  async changePassword(user: User, current: string, next: string): Promise<boolean> {
    if (!(await passwordMatches(current, user.passwordHash))) return false;
    user.passwordHash = await hashPassword(next, this.logN);
    return true;
  }
}
