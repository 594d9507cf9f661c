/** The app's own users and passwords (scrypt, RFC 7914, from node:crypto), in memory. @module */
import { randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';

export interface User {
  readonly id: string; // random, never reused: otpkit keys on it, so a new "alice" inherits nothing
  readonly username: string;
  readonly hash: string; // `scrypt$<logN>$<salt>$<hash>`, base64, r = 8, p = 1
  readonly admin: boolean;
}
export const USERNAME: RegExp = /^[a-z0-9][a-z0-9._-]{2,31}$/;
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 1024;

// NFKC first, so the same password typed on another keyboard matches (NIST SP 800-63B §5.1.1.2).
const derive = (password: string, salt: string, logN: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const options = { N: 2 ** logN, maxmem: 2 ** logN * 2048 };
    const s = Buffer.from(salt, 'base64');
    scrypt(password.normalize('NFKC'), s, 32, options, (e, k) => (e ? reject(e) : resolve(k)));
  });
async function hash(password: string, logN: number): Promise<string> {
  const salt = randomBytes(16).toString('base64');
  return `scrypt$${logN}$${salt}$${(await derive(password, salt, logN)).toString('base64')}`;
}
async function matches(password: string, stored: string): Promise<boolean> {
  const [, logN, salt = '', expected = ''] = stored.split('$');
  const got = await derive(password, salt, Number(logN));
  return timingSafeEqual(got, Buffer.from(expected, 'base64'));
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
    this.dummy = hash(randomBytes(16).toString('hex'), logN);
  }
  byId = (id: string): User | undefined => this.ids.get(id);
  byName = (username: string): User | undefined => this.names.get(username);

  /** The new user, or why not. */
  async create(username: string, password: string): Promise<User | 'taken' | 'full'> {
    if (this.ids.size >= 100_000) return 'full';
    if (this.names.has(username)) return 'taken';
    const [id, admin] = [randomUUID(), this.admins.includes(username)];
    const user = { id, username, hash: await hash(password, this.logN), admin };
    if (this.names.has(username)) return 'taken'; // lost a race while hashing
    this.ids.set(user.id, user);
    this.names.set(username, user);
    return user;
  }
  /** The user whose password this is; `undefined` for a wrong name or password, in the same time. */
  async authenticate(username: string, password: string): Promise<User | undefined> {
    const user = this.names.get(username);
    return (await matches(password, user?.hash ?? (await this.dummy))) ? user : undefined;
  }
}
