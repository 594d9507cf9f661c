/** The app's own users and passwords (scrypt, RFC 7914, from node:crypto), in memory. @module */
import { randomBytes, randomUUID, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { promisify } from 'node:util';

export interface User {
  readonly id: string; // random, never reused: otpkit keys on it, so a new "alice" inherits nothing
  readonly username: string;
  readonly hash: string; // `scrypt$<logN>$<salt>$<hash>`, base64, r = 8, p = 1
  readonly admin: boolean;
}
export type Refusal = 'invalid' | 'taken' | 'full';
export const MIN_PASSWORD = 8;
const canon = (username: string): string => username.trim().toLowerCase();
const derive: (p: string, s: Buffer, n: number, o: ScryptOptions) => Promise<Buffer> =
  promisify(scrypt);
async function hash(password: string, logN: number, salt = randomBytes(16).toString('base64')) {
  const cost = { N: 2 ** logN, maxmem: 2 ** logN * 2048 };
  // NFKC first, so the same password typed on another keyboard matches (NIST SP 800-63B §5.1.1.2).
  const key = await derive(password.normalize('NFKC'), Buffer.from(salt, 'base64'), 32, cost);
  return `scrypt$${logN}$${salt}$${key.toString('base64')}`;
}
export class Users {
  private readonly ids = new Map<string, User>();
  private readonly names = new Map<string, User>();
  // An unknown name costs one scrypt too, so response times do not tell which names exist.
  private readonly dummy: Promise<string>;
  constructor(
    private readonly logN = 17,
    private readonly admins: readonly string[] = [],
  ) {
    if (!Number.isInteger(logN) || logN < 15 || logN > 20)
      throw new RangeError('scryptLogN must be an integer 15..20');
    this.dummy = hash(randomBytes(16).toString('hex'), logN);
  }
  byId = (id: string): User | undefined => this.ids.get(id);
  byName = (username: string): User | undefined => this.names.get(canon(username));
  async create(name: string, password: string): Promise<User | Refusal> {
    const username = canon(name);
    if (!/^[a-z0-9][a-z0-9._-]{2,31}$/.test(username) || [...password].length < MIN_PASSWORD)
      return 'invalid';
    if (this.ids.size >= 100_000) return 'full';
    if (this.names.has(username)) return 'taken';
    const [id, admin] = [randomUUID(), this.admins.includes(username)];
    const user = { id, username, hash: await hash(password, this.logN), admin };
    if (this.names.has(username)) return 'taken'; // lost a race while hashing
    this.ids.set(id, user);
    this.names.set(username, user);
    return user;
  }
  /** The user whose password this is; `undefined` for a wrong name or password, in the same time. */
  async authenticate(username: string, password: string): Promise<User | undefined> {
    const user = this.byName(username);
    const stored = user?.hash ?? (await this.dummy);
    const [, logN, salt] = stored.split('$');
    const got = Buffer.from(await hash(password, Number(logN), salt));
    return timingSafeEqual(got, Buffer.from(stored)) ? user : undefined;
  }
}
