/**
 * End-to-end: the example web app (examples/webapp) run in-process with an injected clock. Over
 * plain HTTP: headers, cookies, CSRF, and sessions under a flood. In real Chromium (Debian's
 * /usr/bin/chromium through playwright-core; never a downloaded browser): every step of the flow,
 * the test playing the user and their authenticator apps (it reads each key from the page, as the
 * manual key, the otpauth:// link and the QR code itself, decoded with jsQR, and computes codes
 * with otpkit's generateTOTP).
 *
 * Full flow on the memory store, with a screenshot of each step in test-artifacts/e2e/; a shorter
 * flow on PostgreSQL and on Redis when OTPKIT_PG_URL / OTPKIT_REDIS_URL are set (.ci/run sets
 * both). A missing Chromium or server fails in CI and skips loudly elsewhere.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import jsQRModule from 'jsqr';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml, openStore, startServer, type OpenedStore, type RunningWebapp } from '../../examples/webapp/server.js';
import { decodeBase32, encodeBase32, generateTOTP } from '../../src/index.js';
import { parseOtpauthURI } from '../../src/uri/parse.js';
import { describeRequiring, describeWithEnv } from '../store/_servers.js';

// jsqr ships CommonJS with an ESM-style `export default` declaration (see test/qr.test.ts).
const jsQR = jsQRModule.default;

const root = fileURLToPath(new URL('../..', import.meta.url));
const ARTIFACTS = join(root, 'test-artifacts', 'e2e');
const CHROMIUM = process.env.OTPKIT_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PASSWORD = 'correct horse battery staple';
const RECOVERY_CODE = /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/;
const STEP = 30_000;
const SID = 'otpkit_demo_sid';
/** What the user reads for every refused code, whatever the reason. */
const FAILED = "That code didn't work. Try again, or use a recovery code.";
const SETUP_FAILED = "That code didn't work. Try again with the code your app shows now.";
const AGAIN = `${FAILED} Enter your password again first.`;
/** Cheaper password hashing than the app's default (17): many sign-ins stay quick on CI. */
const LOGN = 15;

/** The app's clock: moved by hand, so throttling and code steps are deterministic. */
class Clock {
  /** 5 s into a 30-second step. */
  t = Date.UTC(2031, 5, 1, 9, 0, 5);
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A 6-digit code that matches none of the steps within ±2 of `now`. */
function wrongCode(secret: Uint8Array, now: number): string {
  const near = new Set([-2, -1, 0, 1, 2].map((d) => generateTOTP(secret, { now: now + d * STEP })));
  for (let i = 1; ; i++) {
    const c = String((Number(generateTOTP(secret, { now })) + i * 7919) % 1_000_000).padStart(6, '0');
    if (!near.has(c)) return c;
  }
}

/** A client without a browser: a cookie jar, the last page's CSRF token, no redirect following. */
class Client {
  readonly jar = new Map<string, string>();
  csrf = '';
  constructor(readonly base: string) {}

  async send(method: 'GET' | 'POST', path: string, fields?: Record<string, string>): Promise<{ status: number; location: string | null; text: string; cookies: string[] }> {
    const res = await fetch(this.base + path, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(fields === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', origin: this.base }),
      },
      ...(fields === undefined ? {} : { body: new URLSearchParams(fields).toString() }),
    });
    const cookies = res.headers.getSetCookie();
    for (const c of cookies) {
      const [pair = ''] = c.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (/Max-Age=0/.test(c)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    this.csrf = /name="csrf" value="([^"]+)"/.exec(text)?.[1] ?? this.csrf;
    return { status: res.status, location: res.headers.get('location'), text, cookies };
  }
  get(path: string): ReturnType<Client['send']> {
    return this.send('GET', path);
  }
  /** Posts a form with the CSRF token of the last page read. */
  post(path: string, fields: Record<string, string> = {}): ReturnType<Client['send']> {
    return this.send('POST', path, { csrf: this.csrf, ...fields });
  }
  async signUp(username: string): Promise<void> {
    await this.get('/signup');
    expect((await this.post('/signup', { username, password: PASSWORD })).location).toBe('/');
    await this.get('/');
  }
  /** Password only: where the app sends us next. */
  async passwordStep(username: string): Promise<string | null> {
    await this.get('/login');
    return (await this.post('/login', { username, password: PASSWORD })).location;
  }
  /** Turns 2FA on with one device; returns its secret. */
  async enable(clock: Clock): Promise<Uint8Array> {
    await this.get('/');
    await this.post('/2fa/enable', { label: 'Phone' });
    const key = /id="manual-key">([A-Z2-7 ]+)</.exec((await this.get('/2fa/setup')).text)?.[1] ?? '';
    const secret = decodeBase32(key, { loose: true });
    expect((await this.post('/2fa/confirm', { code: generateTOTP(secret, { now: clock.t }) })).location).toBe('/recovery-codes/new');
    await this.get('/recovery-codes/new');
    await this.post('/recovery-codes/saved');
    clock.advance(STEP);
    return secret;
  }
  async signedInAs(): Promise<string | null> {
    const r = await this.get('/');
    return /Signed in as <strong>([^<]+)</.exec(r.text)?.[1] ?? null;
  }
}

/**
 * The flood (a worker thread, CommonJS): mostly cookieless GETs of every kind of page, one in ten
 * with a made-up session id, one in 25 a POST; 64 keep-alive connections.
 */
const FLOOD = `
const { parentPort, workerData: { hostname, port, total, sid } } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const paths = ['/', '/login', '/signup', '/devices', '/login/code', '/admin'];
const statuses = {};
let next = 0;
const one = (i) => new Promise((resolve, reject) => {
  const headers = i % 10 === 0 ? { cookie: sid + '=' + 'x'.repeat(43) } : {};
  const req = http.request({ hostname, port, path: paths[i % paths.length], method: i % 25 === 0 ? 'POST' : 'GET', agent, headers }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode));
  });
  req.on('error', reject);
  req.end();
});
Promise.all(Array.from({ length: 64 }, async () => {
  while (next < total) {
    const s = await one(next++);
    statuses[s] = (statuses[s] || 0) + 1;
  }
})).then(() => { agent.destroy(); parentPort.postMessage(statuses); });
`;

describe('webapp over HTTP: headers, cookies, CSRF', () => {
  let app!: RunningWebapp;
  beforeAll(async () => {
    app = await startServer({ scryptLogN: LOGN, log: () => {} });
  });
  afterAll(async () => {
    await app.close();
  });

  it('a cookieless GET creates no session; forms get a stateless token; strict CSP and no-store', async () => {
    const home = await fetch(`${app.url}/`);
    expect(home.headers.getSetCookie()).toEqual([]); // a page without a form sets nothing at all
    expect(home.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(home.headers.get('cache-control')).toBe('no-store');
    expect(home.headers.get('x-frame-options')).toBe('DENY');
    const login = await fetch(`${app.url}/login`);
    expect(login.headers.getSetCookie()).toEqual([expect.stringMatching(/^otpkit_demo_visitor=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/)]);
    expect(app.sessionCounts()).toEqual({ signedIn: 0, pending: 0 });
    expect(app.ephemeralKey).toBe(typeof process.env.OTPKIT_APP_KEY !== 'string' || process.env.OTPKIT_APP_KEY === '');
  });

  it('refuses POSTs without the CSRF token, from another origin, or not form-encoded; signing up sets an HttpOnly SameSite session cookie', async () => {
    const c = new Client(app.url);
    await c.get('/signup');
    const form = { username: 'mallory', password: PASSWORD };
    for (const csrf of ['', 'A'.repeat(43)]) {
      const r = await c.send('POST', '/signup', { ...form, csrf });
      expect([r.status, r.location]).toEqual([303, '/']);
      expect(r.cookies.some((k) => k.startsWith(`${SID}=`))).toBe(false);
    }
    expect((await c.get('/')).text).toContain('That form had expired');
    // Another visitor's token does not fit this visitor's cookie.
    const other = new Client(app.url);
    await other.get('/signup');
    expect((await c.send('POST', '/signup', { ...form, csrf: other.csrf })).location).toBe('/');
    const foreign = await fetch(`${app.url}/signup`, {
      method: 'POST',
      headers: { cookie: `otpkit_demo_visitor=${c.jar.get('otpkit_demo_visitor')}`, origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form, csrf: c.csrf }).toString(),
    });
    expect(foreign.status).toBe(403);
    const json = await fetch(`${app.url}/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    await c.get('/signup');
    const ok = await c.post('/signup', form);
    expect(ok.location).toBe('/');
    expect(ok.cookies).toContainEqual(expect.stringMatching(new RegExp(`^${SID}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Lax$`)));
    expect(await c.signedInAs()).toBe('mallory');
    // A signed-in session's POSTs need its own token; the visitor token is worth nothing now.
    expect((await c.send('POST', '/2fa/enable', { label: 'x', csrf: other.csrf })).location).toBe('/');
    expect((await c.get('/')).text).toContain('That form had expired');
  });

  it('escapes HTML', () => {
    expect(escapeHtml(`<script>alert("x")</script>&'`)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
  });
});

describe('webapp over HTTP: sessions', () => {
  it('100,000 cookieless requests store nothing and sign nobody out', { timeout: 300_000 }, async () => {
    const app = await startServer({ scryptLogN: LOGN, log: () => {} });
    try {
      const alice = new Client(app.url);
      await alice.signUp('alice');
      expect(app.sessionCounts()).toEqual({ signedIn: 1, pending: 0 });
      const total = 100_000;
      const started = Date.now();
      const { hostname, port } = new URL(app.url);
      // From another thread, so the flood runs as fast as the server answers.
      const statuses = await new Promise<Record<string, number>>((resolve, reject) => {
        const w = new Worker(FLOOD, { eval: true, workerData: { hostname, port, total, sid: SID } });
        w.once('message', resolve);
        w.once('error', reject);
      });
      const seconds = (Date.now() - started) / 1000;
      console.log(`flood: ${total} requests in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s): ${JSON.stringify(statuses)}`);
      expect(Object.values(statuses).reduce((a, b) => a + b, 0)).toBe(total);
      expect(Object.keys(statuses).every((s) => Number(s) < 500)).toBe(true);
      expect(app.sessionCounts()).toEqual({ signedIn: 1, pending: 0 });
      expect(await alice.signedInAs()).toBe('alice');
    } finally {
      await app.close();
    }
  });

  it('pending and signed-in sessions are bounded apart: a full pool refuses new ones and evicts no one', { timeout: 60_000 }, async () => {
    const clock = new Clock();
    const app = await startServer({ scryptLogN: LOGN, now: clock.now, log: () => {}, sessionLimits: { signedIn: 2, pending: 2 } });
    try {
      const alice = new Client(app.url);
      await alice.signUp('alice');
      const aliceSid = alice.jar.get(SID);
      await alice.enable(clock);
      expect(alice.jar.get(SID)).not.toBe(aliceSid); // a new session id once 2FA is on
      // Fill the pending pool with alice's password: two pending sessions, the third is refused.
      const [p1, p2, p3] = [new Client(app.url), new Client(app.url), new Client(app.url)];
      expect(await p1.passwordStep('alice')).toBe('/login/code');
      expect(await p2.passwordStep('alice')).toBe('/login/code');
      expect(await p3.passwordStep('alice')).toBe('/login');
      expect((await p3.get('/login')).text).toContain('The site is busy');
      expect(app.sessionCounts()).toEqual({ signedIn: 1, pending: 2 });
      expect(await alice.signedInAs()).toBe('alice');
      // Fill the signed-in pool: the pending sessions stay.
      const bob = new Client(app.url);
      await bob.signUp('bob');
      const carol = new Client(app.url);
      await carol.get('/signup');
      expect((await carol.post('/signup', { username: 'carol', password: PASSWORD })).location).toBe('/login');
      expect((await carol.get('/login')).text).toContain('The site is busy');
      expect(app.sessionCounts()).toEqual({ signedIn: 2, pending: 2 });
      expect((await p1.get('/login/code')).status).toBe(200);
      expect([await alice.signedInAs(), await bob.signedInAs()]).toEqual(['alice', 'bob']);
      // Pending sessions end with their challenge: then there is room again.
      clock.advance(5 * 60_000);
      expect(await p3.passwordStep('alice')).toBe('/login/code');
      expect(app.sessionCounts()).toEqual({ signedIn: 2, pending: 1 });
    } finally {
      await app.close();
    }
  });
});

/** Renders the SVG to a canvas on a blank page (no CSP there) and decodes it with jsQR. */
async function decodeQR(browser: Browser, svg: string): Promise<string | null> {
  const page = await browser.newPage();
  try {
    const img = await page.evaluate(async (markup) => {
      const image = new Image();
      image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(markup)}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
      ctx.drawImage(image, 0, 0);
      return { w: canvas.width, h: canvas.height, data: Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data) };
    }, svg);
    return jsQR(Uint8ClampedArray.from(img.data), img.w, img.h)?.data ?? null;
  } finally {
    await page.close();
  }
}

/** One user's browser tab on the app, with helpers that submit forms and read the page. */
class Tab {
  private shots = 0;
  constructor(
    readonly page: Page,
    readonly base: string,
    private readonly prefix: string,
  ) {}

  async goto(path: string): Promise<void> {
    await this.page.goto(this.base + path);
  }

  /** Fills the named fields of form `#id` and submits it, waiting for the resulting page. */
  async submit(id: string, fields: Record<string, string> = {}): Promise<void> {
    for (const [name, value] of Object.entries(fields)) await this.page.fill(`#${id} [name="${name}"]`, value);
    await Promise.all([this.page.waitForNavigation({ waitUntil: 'load' }), this.page.click(`#${id} button[type=submit]`)]);
  }

  async click(selector: string): Promise<void> {
    await Promise.all([this.page.waitForNavigation({ waitUntil: 'load' }), this.page.click(selector)]);
  }

  path(): string {
    return new URL(this.page.url()).pathname;
  }

  /** The flash messages, joined. */
  async flash(): Promise<string> {
    return (await this.page.locator('.flash').allTextContents()).join('\n').replace(/\s+/g, ' ').trim();
  }

  async text(selector = 'main'): Promise<string> {
    return ((await this.page.textContent(selector)) ?? '').replace(/\s+/g, ' ').trim();
  }

  async sid(): Promise<string | undefined> {
    return (await this.page.context().cookies()).find((c) => c.name === SID)?.value;
  }

  async shot(name: string): Promise<void> {
    const n = String(++this.shots).padStart(2, '0');
    await this.page.screenshot({ path: join(ARTIFACTS, `${this.prefix}${n}-${name}.png`), fullPage: true });
  }

  async signup(username: string): Promise<void> {
    await this.goto('/signup');
    await this.submit('signup', { username, password: PASSWORD });
    expect(await this.flash()).toContain(`Welcome, ${username}!`);
  }

  async login(username: string): Promise<void> {
    await this.goto('/login');
    await this.submit('login', { username, password: PASSWORD });
  }

  /** Password, then a code (or recovery code): signed in. */
  async loginWith(username: string, code: string): Promise<void> {
    await this.login(username);
    expect(this.path()).toBe('/login/code');
    await this.submit('login-code', { code });
    expect(this.path()).toBe('/');
  }

  async logout(): Promise<void> {
    await this.click('#logout button');
    expect(this.path()).toBe('/login');
    expect(await this.flash()).toContain('You are signed out.');
  }

  /**
   * On the setup page: reads the key three ways (manual key, otpauth:// link, QR code), checks
   * they agree, and returns it.
   */
  async readSetup(browser: Browser, username: string): Promise<Uint8Array> {
    expect(this.path()).toBe('/2fa/setup');
    const manual = await this.text('#manual-key');
    expect(manual).toMatch(/^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/); // groups of four, for typing
    const secret = decodeBase32(manual, { loose: true });
    expect(secret.length).toBe(20);
    const uri = (await this.page.getAttribute('#otpauth-link', 'href')) ?? ''; // tappable on a phone
    const parsed = parseOtpauthURI(uri);
    expect(parsed).toMatchObject({ type: 'totp', account: username, issuer: 'otpkit demo', algorithm: 'SHA1', digits: 6, period: 30 });
    expect(parsed.secret).toEqual(secret);
    const svg = await this.page.locator('#qr svg').evaluate((e) => e.outerHTML);
    expect(await decodeQR(browser, svg)).toBe(uri); // what a phone camera reads
    return secret;
  }

  /** Reads the recovery codes shown once, and says they are saved. */
  async saveCodes(): Promise<string[]> {
    expect(this.path()).toBe('/recovery-codes/new');
    const codes = await this.page.locator('#recovery-codes li').allTextContents();
    expect(codes).toHaveLength(10);
    for (const c of codes) expect(c).toMatch(RECOVERY_CODE);
    expect(new Set(codes).size).toBe(10);
    await this.submit('codes-saved');
    expect(this.path()).toBe('/');
    return codes;
  }

  /** From the account page with 2FA off: turns it on with one device; returns its secret and the recovery codes. */
  async enable(browser: Browser, clock: Clock, username: string, label = 'Phone'): Promise<{ secret: Uint8Array; codes: string[] }> {
    await this.goto('/');
    await this.submit('enable-2fa', { label });
    const secret = await this.readSetup(browser, username);
    await this.submit('confirm', { code: generateTOTP(secret, { now: clock.t }) });
    return { secret, codes: await this.saveCodes() };
  }
}

describeRequiring(existsSync(CHROMIUM) ? CHROMIUM : undefined, `Chromium (${CHROMIUM})`, 'webapp in Chromium', (executablePath) => {
  let browser!: Browser;
  const contexts: BrowserContext[] = [];
  const newTab = async (app: RunningWebapp, prefix: string): Promise<Tab> => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    contexts.push(context);
    return new Tab(await context.newPage(), app.url, prefix);
  };

  beforeAll(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
  });

  describe('every step on the memory store', () => {
    const clock = new Clock();
    const logs: string[] = [];
    let app!: RunningWebapp;
    let tab!: Tab;
    let admin!: Tab;
    /** The two devices, the recovery codes of each set, the messages seen for refused codes. */
    let phone!: Uint8Array;
    let tablet!: Uint8Array;
    const codeSets: string[][] = [];
    const code = (secret: Uint8Array): string => generateTOTP(secret, { now: clock.t });

    beforeAll(async () => {
      app = await startServer({
        now: clock.now,
        // Small numbers so that a few wrong codes throttle and then lock.
        throttle: { freeFailures: 3, baseDelayMs: 30_000, maxDelayMs: 60_000, maxFailures: 5 },
        scryptLogN: LOGN,
        admins: ['root'],
        log: (line) => logs.push(line),
      });
      tab = await newTab(app, '');
    });
    afterAll(async () => {
      await app?.close();
    });

    it('sign up; turn on 2FA: QR code, key in groups of four, otpauth:// link; a new session id; recovery codes once', async () => {
      await tab.goto('/');
      expect(await tab.text()).toContain('Create an account');
      await tab.shot('welcome');
      await tab.goto('/signup');
      await tab.page.fill('#signup-username', 'alice');
      await tab.page.fill('#signup-password', PASSWORD);
      await tab.shot('sign-up');
      await tab.submit('signup');
      expect(await tab.flash()).toContain('Welcome, alice!');
      expect(await tab.text('#twofa-status')).toContain('Two-factor authentication is off');
      expect(await tab.text('#who')).toContain('Signed in as alice');
      await tab.shot('account-2fa-off');

      await tab.submit('enable-2fa', { label: 'Phone' });
      phone = await tab.readSetup(browser, 'alice');
      expect(await tab.text('h1')).toBe('Set up “Phone”');
      await tab.shot('setup');
      const key = await tab.text('#manual-key');
      await tab.submit('confirm', { code: wrongCode(phone, clock.t) });
      expect([tab.path(), await tab.flash(), await tab.text('#manual-key')]).toEqual(['/2fa/setup', SETUP_FAILED, key]);
      await tab.shot('setup-wrong-code');

      const before = await tab.sid();
      await tab.submit('confirm', { code: code(phone) });
      expect(tab.path()).toBe('/recovery-codes/new');
      expect(await tab.flash()).toBe('Two-factor authentication is on.');
      expect(await tab.sid()).not.toBe(before); // rotated when 2FA was turned on
      await tab.shot('recovery-codes');
      await tab.goto('/recovery-codes/new'); // shown until saved...
      const codes = await tab.saveCodes();
      codeSets.push(codes);
      await tab.goto('/recovery-codes/new'); // ...then never again
      expect(tab.path()).toBe('/recovery-codes');
      expect(await tab.page.content()).not.toContain(codes[0]);
      await tab.goto('/');
      expect(await tab.text('#twofa-status')).toContain('on, with 1 device');
      expect(await tab.text('#recovery-status')).toContain('Recovery codes left: 10 of 10');
      await tab.shot('account-2fa-on');
    });

    it('sign in: password, then a code; the pending session grants nothing else; a new session id', async () => {
      await tab.logout();
      await tab.login('alice');
      expect(tab.path()).toBe('/login/code');
      expect(await tab.text('h1')).toBe('Two-factor authentication');
      await tab.shot('code-form');
      for (const path of ['/', '/devices', '/devices/add', '/recovery-codes', '/recovery-codes/regenerate', '/2fa/setup', '/2fa/disable', '/admin', '/login', '/signup']) {
        await tab.goto(path);
        expect(tab.path(), path).toBe('/login/code');
      }
      // Same-origin POSTs with the pending session's own token get nothing either (the CSP forbids
      // fetch() in the page, so these go through the browser context's request API, same cookies).
      const csrf = await tab.page.locator('#login-code input[name=csrf]').inputValue();
      for (const [action, extra] of [
        ['/2fa/enable', { label: 'Evil' }],
        ['/2fa/disable', { code: code(phone) }],
        ['/devices/add', { label: 'Evil', code: code(phone) }],
        ['/recovery-codes/regenerate', { code: code(phone) }],
        ['/admin/unlock', { user: 'alice', scope: 'otp' }],
      ] as const) {
        const res = await tab.page.context().request.post(app.url + action, { form: { csrf, ...extra }, headers: { origin: app.url } });
        expect(new URL(res.url()).pathname, action).toBe('/login/code');
      }
      // The confirmation used this step's code: it is not a sign-in code.
      await tab.goto('/login/code');
      await tab.submit('login-code', { code: code(phone) });
      expect([tab.path(), await tab.flash()]).toEqual(['/login/code', FAILED]);
      await tab.shot('code-refused');
      clock.advance(STEP);
      const before = await tab.sid();
      await tab.submit('login-code', { code: code(phone) });
      expect([tab.path(), await tab.flash()]).toEqual(['/', 'Signed in.']);
      expect(await tab.sid()).not.toBe(before);
      await tab.shot('signed-in');
    });

    it('add a second device behind step-up; sign in with either', async () => {
      await tab.goto('/devices');
      expect(await tab.page.locator('#devices tbody tr').count()).toBe(1);
      await tab.click('#add-device');
      expect([tab.path(), await tab.text('h1')]).toEqual(['/devices/add', 'Add a device']);
      await tab.shot('step-up-add-device');
      await tab.submit('step-up', { label: 'Tablet', code: wrongCode(phone, clock.t) });
      expect([tab.path(), await tab.flash()]).toEqual(['/devices/add', FAILED]);
      clock.advance(STEP);
      await tab.submit('step-up', { label: 'Tablet', code: code(phone) });
      tablet = await tab.readSetup(browser, 'alice');
      expect(await tab.text('h1')).toBe('Set up “Tablet”');
      await tab.shot('setup-second-device');
      await tab.submit('confirm', { code: code(tablet) });
      expect([tab.path(), await tab.flash()]).toEqual(['/devices', '“Tablet” is added: a code from any of your devices signs you in.']);
      expect(await tab.page.locator('#devices tbody tr').count()).toBe(2);
      await tab.shot('two-devices');

      await tab.logout();
      clock.advance(STEP);
      await tab.loginWith('alice', code(tablet));
      await tab.logout();
      clock.advance(STEP);
      await tab.loginWith('alice', code(phone));
      await tab.goto('/devices');
      for (const row of ['#device-0', '#device-1']) expect(await tab.text(`${row} .last-used`)).toMatch(/^2031-06-01 09:0\d UTC$/);
    });

    it('list devices with label, added and last used; rename one', async () => {
      expect(await tab.page.locator('#device-1 input[name=label]').inputValue()).toBe('Tablet');
      await tab.page.fill('#device-1 input[name=label]', 'Work tablet');
      await tab.click('#device-1 button');
      expect(await tab.flash()).toBe('Renamed to “Work tablet”.');
      expect(await tab.page.locator('#device-1 input[name=label]').inputValue()).toBe('Work tablet');
      expect(await tab.page.locator('#devices th').allTextContents()).toEqual(['Name', 'Added', 'Last used', '']);
      await tab.shot('devices-renamed');
    });

    it('recovery codes: status, sign in with one, regenerate behind step-up; old codes stop working', async () => {
      const [first] = codeSets as [string[]];
      await tab.goto('/recovery-codes');
      expect(await tab.text('#recovery-status')).toContain('Recovery codes left: 10 of 10');
      await tab.logout();
      await tab.loginWith('alice', (first[0] as string).toLowerCase().replace(/-/g, ' ')); // typed loosely
      expect(await tab.flash()).toBe('Signed in with a recovery code, which is now used up. You have 9 left.');
      await tab.shot('signed-in-with-recovery-code');
      await tab.goto('/recovery-codes');
      expect(await tab.text('#recovery-status')).toContain('Recovery codes left: 9 of 10');
      await tab.shot('recovery-status');
      await tab.click('#regenerate');
      expect(tab.path()).toBe('/recovery-codes/regenerate');
      await tab.shot('step-up-regenerate');
      clock.advance(STEP);
      await tab.submit('step-up', { code: code(phone) });
      expect(await tab.flash()).toBe('New recovery codes: your old ones no longer work.');
      await tab.shot('recovery-codes-regenerated');
      const fresh = await tab.saveCodes();
      expect(fresh.filter((c) => first.includes(c))).toEqual([]);
      codeSets.push(fresh);
      await tab.goto('/recovery-codes');
      expect(await tab.text('#recovery-status')).toContain('Recovery codes left: 10 of 10');

      await tab.logout();
      await tab.login('alice');
      await tab.submit('login-code', { code: first[1] as string });
      expect(await tab.flash()).toBe(FAILED);
      await tab.submit('login-code', { code: fresh[0] as string });
      expect([tab.path(), await tab.flash()]).toEqual(['/', 'Signed in with a recovery code, which is now used up. You have 9 left.']);
    });

    it('every refused code reads as one message: invalid, replayed, malformed, throttled, exhausted, locked, expired', async () => {
      const seen: string[] = [];
      const attempt = async (c: string): Promise<void> => {
        await tab.submit('login-code', { code: c });
        seen.push(await tab.flash());
      };
      await tab.logout();
      await tab.login('alice');
      await attempt(code(phone)); // replayed: the step-up used this step
      await attempt('12 34 5'); // malformed
      await attempt(wrongCode(phone, clock.t)); // invalid: 3 failures, the free ones
      await attempt(wrongCode(phone, clock.t)); // throttled
      await tab.shot('code-throttled');
      clock.advance(30_000);
      await attempt(wrongCode(phone, clock.t)); // invalid
      await attempt(code(tablet)); // throttled, even a right code
      clock.advance(60_000);
      await attempt(wrongCode(phone, clock.t)); // invalid: 5 failures, the lock; and 5 attempts at this challenge
      expect(seen).toEqual([FAILED, FAILED, FAILED, `${FAILED} Wait 30 seconds before trying again.`, FAILED, `${FAILED} Wait 60 seconds before trying again.`, FAILED]);
      await tab.submit('login-code', { code: code(phone) }); // exhausted: back to the password
      expect([tab.path(), await tab.flash()]).toEqual(['/login', AGAIN]);
      await tab.shot('challenge-exhausted');
      await tab.login('alice');
      await tab.submit('login-code', { code: code(phone) }); // locked
      expect([tab.path(), await tab.flash()]).toEqual(['/login/code', FAILED]);
      await tab.shot('code-locked');
      // Ten newer sign-ins of alice elsewhere: otpkit drops this tab's challenge (10 live at most).
      for (let i = 0; i < 10; i++) expect(await new Client(app.url).passwordStep('alice')).toBe('/login/code');
      await tab.submit('login-code', { code: code(phone) }); // expired
      expect([tab.path(), await tab.flash()]).toEqual(['/login', AGAIN]);
      // The reasons went to the audit log only.
      const failures = logs.filter((l) => l.startsWith('audit ') && l.includes('"type":"failure"')).join('\n');
      for (const reason of ['invalid', 'replayed', 'malformed', 'throttled', 'exhausted', 'locked', 'expired'])
        expect(failures).toContain(`"reason":"${reason}"`);
      expect(logs.some((l) => l.includes('"type":"locked"'))).toBe(true);
    });

    it('the administrator sees the lock and lifts it', async () => {
      admin = await newTab(app, 'admin-');
      await admin.signup('root');
      await admin.goto('/admin');
      expect([admin.path(), await admin.flash()]).toEqual(['/', 'The administrator page needs an administrator with two-factor authentication on.']);
      await admin.shot('admin-needs-2fa');
      await admin.enable(browser, clock, 'root');
      await admin.goto('/admin?user=alice');
      expect(await admin.text('#throttle-otp .status')).toBe('locked after 5 failures');
      expect(await admin.text('#throttle-recovery .status')).toBe('no failures');
      await admin.shot('admin-locked');
      await admin.submit('unlock-otp');
      expect(await admin.flash()).toBe('Authenticator codes of alice are unlocked.');
      expect(await admin.text('#throttle-otp .status')).toBe('no failures');
      await admin.shot('admin-unlocked');
      expect(logs.some((l) => l.includes('"type":"unlocked"') && l.includes('"administrator":"root"'))).toBe(true);

      clock.advance(STEP);
      await tab.loginWith('alice', code(phone));
      await tab.goto('/admin'); // alice is no administrator
      expect(tab.path()).toBe('/');
      expect(await tab.page.locator('header nav').textContent()).not.toContain('Admin');
    });

    it('remove a device and turn 2FA off, each behind step-up', async () => {
      await tab.goto('/devices');
      await tab.click('#device-1 a.remove');
      expect([tab.path(), await tab.text('h1')]).toEqual(['/devices/remove', 'Remove “Work tablet”']);
      await tab.shot('step-up-remove-device');
      await tab.submit('step-up', { code: wrongCode(phone, clock.t) });
      expect([tab.path(), await tab.flash(), await tab.text('h1')]).toEqual(['/devices/remove', FAILED, 'Remove “Work tablet”']);
      clock.advance(STEP);
      await tab.submit('step-up', { code: code(phone) });
      expect([tab.path(), await tab.flash()]).toEqual(['/devices', 'Device removed.']);
      expect(await tab.page.locator('#devices tbody tr').count()).toBe(1);
      await tab.shot('device-removed');
      // The removed device's codes no longer sign in.
      await tab.logout();
      clock.advance(STEP);
      await tab.login('alice');
      await tab.submit('login-code', { code: code(tablet) });
      expect(await tab.flash()).toBe(FAILED);
      await tab.submit('login-code', { code: code(phone) });
      expect(tab.path()).toBe('/');

      await tab.click('#disable-2fa');
      await tab.shot('step-up-disable');
      clock.advance(STEP);
      await tab.submit('step-up', { code: code(phone) });
      expect([tab.path(), await tab.flash()]).toEqual(['/', 'Two-factor authentication is off.']);
      expect(await tab.text('#twofa-status')).toContain('Two-factor authentication is off');
      await tab.shot('2fa-off');
      await tab.logout();
      await tab.login('alice');
      expect([tab.path(), await tab.flash()]).toEqual(['/', 'Signed in.']);
      await tab.shot('signed-in-with-password-only');
    });

    it('a pending sign-in ends with its challenge, a signed-in one after 30 idle minutes', async () => {
      const other = await newTab(app, 'expiry-');
      await other.login('root');
      expect(other.path()).toBe('/login/code');
      clock.advance(5 * 60_000);
      await other.goto('/login/code');
      expect([other.path(), await other.flash()]).toEqual(['/login', 'Your sign-in took too long. Enter your password again.']);
      await other.shot('sign-in-expired');
      // A signed-in session ends after 30 idle minutes.
      clock.advance(30 * 60_000);
      await admin.goto('/admin');
      expect([admin.path(), await admin.flash()]).toEqual(['/login', 'Your session expired. Please sign in again.']);
    });

    it('no secret, code or token in any log line', () => {
      const all = logs.join('\n');
      for (const c of codeSets.flat()) {
        expect(all).not.toContain(c);
        expect(all).not.toContain(c.replace(/-/g, ''));
      }
      for (const s of [phone, tablet]) expect(all).not.toContain(encodeBase32(s));
      expect(all).not.toContain(PASSWORD);
      expect(all).not.toMatch(/[A-Za-z0-9_-]{43}/); // no session id or CSRF token
    });
  });

  /** The short flow for the shared stores: enable, sign in with a code, a replay refused, a recovery code once. */
  const shortFlow = (kind: 'pg' | 'redis', url: string): void => {
    const clock = new Clock();
    let opened!: OpenedStore;
    let app!: RunningWebapp;
    beforeAll(async () => {
      opened = await openStore(kind === 'pg' ? { pg: url } : { redis: url });
      // Errors only (a store failure is a 503 page: its cause is in this line).
      const log = (line: string): void => void (line.startsWith('error') && console.error(line));
      app = await startServer({ now: clock.now, store: opened.store, storeName: opened.name, scryptLogN: LOGN, log });
    });
    afterAll(async () => {
      await app?.close();
      await opened?.close();
    });

    it(`${kind}: enable → sign in with a code → replay refused → recovery code once`, { timeout: 180_000 }, async () => {
      const tab = await newTab(app, `${kind}-`);
      const user = `e2e-${kind}-${Math.random().toString(36).slice(2, 8)}`;
      await tab.signup(user);
      expect(await tab.text('footer')).toContain(kind === 'pg' ? 'PostgreSQL (' : 'Redis (');
      const { secret, codes } = await tab.enable(browser, clock, user);
      await tab.shot('enabled');
      await tab.logout();

      clock.advance(STEP);
      const c = generateTOTP(secret, { now: clock.t });
      await tab.loginWith(user, c);
      await tab.logout();
      await tab.login(user);
      await tab.submit('login-code', { code: c });
      expect(await tab.flash()).toBe(FAILED);
      await tab.shot('replayed');
      await tab.submit('login-code', { code: codes[3] as string });
      expect(await tab.flash()).toContain('You have 9 left.');
      await tab.logout();
      await tab.login(user);
      await tab.submit('login-code', { code: codes[3] as string });
      expect(await tab.flash()).toBe(FAILED);
      await tab.shot('recovery-reused');
    });
  };

  describeWithEnv('OTPKIT_PG_URL', 'short flow on the PostgreSQL store', (url) => shortFlow('pg', url));
  describeWithEnv('OTPKIT_REDIS_URL', 'short flow on the Redis store', (url) => shortFlow('redis', url));
});
