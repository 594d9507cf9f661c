/**
 * End-to-end: the example web app (examples/webapp) run in-process with an injected clock. Over
 * plain HTTP: headers, cookies and their attributes, CSRF, and sessions under a flood. In real
 * Chromium (Debian's /usr/bin/chromium through playwright-core; never a downloaded browser): every
 * step of the flow, the test playing the user, their authenticator apps (it reads each key from
 * the page, as the manual key, the otpauth:// link and the QR code itself, decoded with jsQR, and
 * computes codes with otpkit's generateTOTP) and their mailbox: email codes go through a real SMTP
 * server (aiosmtpd, started here with its Maildir handler; or the one OTPKIT_SMTP_URL names,
 * writing the Maildir OTPKIT_SMTP_MAILBOX), and the test reads each code from the stored message.
 *
 * Full flow on the memory store, with a screenshot of each step in test-artifacts/e2e/; a shorter
 * flow on PostgreSQL and on Redis when OTPKIT_PG_URL / OTPKIT_REDIS_URL are set (.ci/run sets
 * both). A missing Chromium, server or SMTP server fails in CI and skips loudly elsewhere.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import jsQRModule from 'jsqr';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Cookie,
  type Page,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  escapeHtml,
  openStore,
  startServer,
  type OpenedStore,
  type RunningWebapp,
} from '../../examples/webapp/server.js';
import { decodeBase32, encodeBase32, generateTOTP } from '../../src/index.js';
import { parseOtpauthURI } from '../../src/uri/parse.js';
import { describeRequiring, describeWithEnv } from '../store/_servers.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../_chromium.js';

// jsqr ships CommonJS with an ESM-style `export default` declaration (see test/qr.test.ts).
const jsQR = jsQRModule.default;

const root = fileURLToPath(new URL('../..', import.meta.url));
const ARTIFACTS = join(root, 'test-artifacts', 'e2e');
const PASSWORD = 'correct horse battery staple';
const RECOVERY_CODE = /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/;
const STEP = 30_000;
const SID = 'otpkit_demo_sid';
const DAY_S = 86_400;
/** What the user reads for every refused code, whatever the reason. */
const FAILED = "That code didn't work. Try again, or use a recovery code.";
const SETUP_FAILED = "That code didn't work. Try again with the code your app shows now.";
const AGAIN = `${FAILED} Enter your password again first.`;
/** Cheaper password hashing than the app's default (17): many sign-ins stay quick on CI. */
const LOGN = 15;

/** The app's clock: moved by hand, so throttling, cooldowns and code steps are deterministic. */
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
    const c = String((Number(generateTOTP(secret, { now })) + i * 7919) % 1_000_000).padStart(
      6,
      '0',
    );
    if (!near.has(c)) return c;
  }
}

/** The 6-digit code in a message's text. */
const codeIn = (text: string): string => /\b(\d{6})\b/.exec(text)?.[1] ?? '';

/** A client without a browser: a cookie jar, the last page's CSRF token, no redirect following. */
class Client {
  readonly jar = new Map<string, string>();
  csrf = '';
  constructor(readonly base: string) {}

  async send(
    method: 'GET' | 'POST',
    path: string,
    fields?: Record<string, string>,
  ): Promise<{ status: number; location: string | null; text: string; cookies: string[] }> {
    const res = await fetch(this.base + path, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(fields === undefined
          ? {}
          : { 'content-type': 'application/x-www-form-urlencoded', origin: this.base }),
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
    const key =
      /id="manual-key">([A-Z2-7 ]+)</.exec((await this.get('/2fa/setup')).text)?.[1] ?? '';
    const secret = decodeBase32(key, { loose: true });
    expect(
      (await this.post('/2fa/confirm', { code: generateTOTP(secret, { now: clock.t }) })).location,
    ).toBe('/recovery-codes/new');
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
const paths = ['/', '/login', '/signup', '/devices/add', '/login/code', '/admin', '/recovery-codes/new'];
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
  const clock = new Clock();
  beforeAll(async () => {
    app = await startServer({ scryptLogN: LOGN, now: clock.now, log: () => {} });
  });
  afterAll(async () => {
    await app.close();
  });

  it('every link on the pages a signed-in administrator with 2FA on sees leads to a page', async () => {
    const admin = await startServer({
      scryptLogN: LOGN,
      now: clock.now,
      log: () => {},
      admins: ['links'],
    });
    try {
      const c = new Client(admin.url);
      await c.signUp('links');
      await c.enable(clock);
      const seen = new Set<string>();
      const queue = ['/'];
      while (queue.length > 0) {
        const path = queue.shift() as string;
        if (seen.has(path)) continue;
        seen.add(path);
        const r = await c.get(path);
        expect([path, r.status]).toEqual([path, r.status === 303 ? 303 : 200]);
        for (const [, href] of r.text.matchAll(/href="(\/[^"]*)"/g))
          queue.push((href as string).replace(/&amp;/g, '&'));
      }
      // The account page (devices, recovery codes, browsers), the admin page, the step-ups.
      expect([...seen]).toEqual(
        expect.arrayContaining([
          '/',
          '/admin',
          '/devices/add?kind=totp',
          '/2fa/disable',
          '/recovery-codes/regenerate',
        ]),
      );
    } finally {
      await admin.close();
    }
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
    expect(login.headers.getSetCookie()).toEqual([
      expect.stringMatching(
        /^otpkit_demo_visitor=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/,
      ),
    ]);
    // Void elements are written once, never "closed" (Prettier once turned `<input>` into
    // `<input …></input …>` inside the html`` templates).
    const markup = await login.text();
    expect(markup).toMatch(/<input type="text" id="login-username" name="username"[^<>]* \/>/);
    expect(markup).not.toMatch(/<\/(?:input|br|img|meta|link)\b/);
    expect(app.sessionCounts()).toEqual({ signedIn: 0 });
    expect(app.ephemeralKey).toBe(
      typeof process.env.OTPKIT_APP_KEY !== 'string' || process.env.OTPKIT_APP_KEY === '',
    );
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
    // Without a visitor cookie no token is right, whatever the form carries.
    for (const csrf of ['', '-']) {
      const cookieless = await fetch(`${app.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: 'nobody', password: PASSWORD, csrf }).toString(),
      });
      expect(cookieless.headers.get('location')).toBe('/');
    }
    // Another visitor's token does not fit this visitor's cookie.
    const other = new Client(app.url);
    await other.get('/signup');
    expect((await c.send('POST', '/signup', { ...form, csrf: other.csrf })).location).toBe('/');
    const foreign = await fetch(`${app.url}/signup`, {
      method: 'POST',
      headers: {
        cookie: `otpkit_demo_visitor=${c.jar.get('otpkit_demo_visitor')}`,
        origin: 'http://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ ...form, csrf: c.csrf }).toString(),
    });
    expect(foreign.status).toBe(403);
    const json = await fetch(`${app.url}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    // Each field has a bound, in a form and in a query alike, checked before anything else.
    const long = async (method: string, path: string, fields: Record<string, string>) => {
      const q = method === 'GET' ? `?${new URLSearchParams(fields)}` : '';
      const r = await fetch(`${app.url}${path}${q}`, {
        method,
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        ...(method === 'POST' && { body: new URLSearchParams(fields).toString() }),
      });
      return [r.status, await r.text()];
    };
    const tooLong = [400, 'A field is too long.'];
    expect(await long('POST', '/login', { username: 'u'.repeat(65), password: PASSWORD })).toEqual(
      tooLong,
    );
    expect(await long('POST', '/login', { username: 'u', password: 'p'.repeat(1025) })).toEqual(
      tooLong,
    );
    expect(await long('GET', '/devices/add', { kind: 'k'.repeat(257) })).toEqual(tooLong);
    expect((await long('GET', '/devices/add', { kind: 'k'.repeat(256) }))[0]).toBe(303);
    await c.get('/signup');
    const ok = await c.post('/signup', form);
    expect(ok.location).toBe('/');
    expect(ok.cookies).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${SID}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Lax$`),
      ),
    );
    expect(await c.signedInAs()).toBe('mallory');
    // A signed-in session's POSTs need its own token; the visitor token is worth nothing now.
    expect((await c.send('POST', '/2fa/enable', { label: 'x', csrf: other.csrf })).location).toBe(
      '/',
    );
    expect((await c.get('/')).text).toContain('That form had expired');
  });

  it('a pending sign-in is a sealed cookie, not a session; the device cookies are HttpOnly, SameSite=Lax, long-lived', async () => {
    const c = new Client(app.url);
    await c.signUp('dora');
    const secret = await c.enable(clock);
    await c.post('/logout');
    expect(await c.passwordStep('dora')).toBe('/login/code');
    expect(app.sessionCounts()).toEqual({ signedIn: 1 }); // mallory's; nothing for the pending sign-in
    const pending = c.jar.get('otpkit_demo_pending') ?? '';
    expect(pending).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    // A forged pending cookie (one character changed) is nobody's.
    const forged = new Client(app.url);
    forged.jar.set(
      'otpkit_demo_pending',
      `${pending.slice(0, 10)}${pending[10] === 'A' ? 'B' : 'A'}${pending.slice(11)}`,
    );
    expect((await forged.get('/login/code')).location).toBe('/login');
    await c.get('/login/code');
    const signedIn = await c.post('/login/code', {
      code: generateTOTP(secret, { now: clock.t }),
      remember: 'yes',
    });
    expect(signedIn.location).toBe('/');
    const attrs = (name: string): string =>
      signedIn.cookies.find((k) => k.startsWith(`otpkit_demo_${name}=`))?.replace(/^[^;]+; /, '') ??
      '';
    expect(attrs('known')).toBe(`Path=/; HttpOnly; SameSite=Lax; Max-Age=${365 * DAY_S}`);
    expect(attrs('trusted')).toBe(`Path=/; HttpOnly; SameSite=Lax; Max-Age=${30 * DAY_S}`);
    expect(attrs('pending')).toBe('Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
    // Behind HTTPS: Secure, and the __Host- prefix (this host only, no sub-domain can set them).
    const secure = await startServer({ scryptLogN: LOGN, log: () => {}, secureCookies: true });
    try {
      const visitor = (await fetch(`${secure.url}/login`)).headers.getSetCookie();
      expect(visitor).toEqual([
        expect.stringMatching(
          /^__Host-otpkit_demo_visitor=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/,
        ),
      ]);
    } finally {
      await secure.close();
    }
  });

  it('an SMTP server that is down: "couldn\'t send", the reason in the log, no device added', async () => {
    const logs: string[] = [];
    const free = createNetServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const { port } = free.address() as AddressInfo;
    await new Promise((resolve) => free.close(resolve)); // nothing listens there now
    const down = await startServer({
      ...{ scryptLogN: LOGN, now: clock.now, log: (l: string) => logs.push(l) },
      delivery: { smtpUrl: `smtp://127.0.0.1:${port}`, timeoutMs: 3000 },
    });
    try {
      const c = new Client(down.url);
      await c.signUp('erin');
      const secret = await c.enable(clock);
      await c.get('/devices/add?kind=email');
      const code = generateTOTP(secret, { now: clock.t });
      const fields = { kind: 'email', label: 'Email', destination: 'erin@example.com', code };
      expect((await c.post('/devices/add', fields)).location).toBe('/');
      const home = (await c.get('/')).text;
      expect(home).toContain('We couldn&#39;t send a code to erin@example.com.');
      expect(home).toContain('with 1 device.');
      expect(logs.filter((l) => l.startsWith('error: ') && l.includes('for email'))).toHaveLength(
        1,
      );
    } finally {
      await down.close();
    }
  });

  it('escapes HTML', () => {
    expect(escapeHtml(`<script>alert("x")</script>&'`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;',
    );
  });
});

describe('webapp over HTTP: sessions', () => {
  it(
    '100,000 cookieless requests store nothing and sign nobody out',
    { timeout: 300_000 },
    async () => {
      const app = await startServer({ scryptLogN: LOGN, log: () => {} });
      try {
        const alice = new Client(app.url);
        await alice.signUp('alice');
        expect(app.sessionCounts()).toEqual({ signedIn: 1 });
        const total = 100_000;
        const started = Date.now();
        const { hostname, port } = new URL(app.url);
        // From another thread, so the flood runs as fast as the server answers.
        const statuses = await new Promise<Record<string, number>>((resolve, reject) => {
          const w = new Worker(FLOOD, {
            eval: true,
            workerData: { hostname, port, total, sid: SID },
          });
          w.once('message', resolve);
          w.once('error', reject);
        });
        const seconds = (Date.now() - started) / 1000;
        console.log(
          `flood: ${total} requests in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s): ${JSON.stringify(statuses)}`,
        );
        expect(Object.values(statuses).reduce((a, b) => a + b, 0)).toBe(total);
        expect(Object.keys(statuses).every((s) => Number(s) < 500)).toBe(true);
        expect(app.sessionCounts()).toEqual({ signedIn: 1 });
        expect(await alice.signedInAs()).toBe('alice');
      } finally {
        await app.close();
      }
    },
  );

  it(
    'a full pool refuses new sign-ins and evicts no one; pending sign-ins store nothing',
    { timeout: 60_000 },
    async () => {
      const clock = new Clock();
      const app = await startServer({
        scryptLogN: LOGN,
        now: clock.now,
        log: () => {},
        maxSessions: 2,
      });
      try {
        const alice = new Client(app.url);
        await alice.signUp('alice');
        const aliceSid = alice.jar.get(SID);
        const secret = await alice.enable(clock);
        expect(alice.jar.get(SID)).not.toBe(aliceSid); // a new session id once 2FA is on
        // Any number of pending sign-ins (otpkit keeps 10 live challenges per user): nothing in the pool.
        const pending = [new Client(app.url), new Client(app.url), new Client(app.url)];
        for (const p of pending) expect(await p.passwordStep('alice')).toBe('/login/code');
        expect(app.sessionCounts()).toEqual({ signedIn: 1 });
        // Fill the pool: the third sign-up is refused, and nobody is signed out.
        const bob = new Client(app.url);
        await bob.signUp('bob');
        const carol = new Client(app.url);
        await carol.get('/signup');
        expect(
          (await carol.post('/signup', { username: 'carol', password: PASSWORD })).location,
        ).toBe('/login');
        expect((await carol.get('/login')).text).toContain('The site is busy');
        expect(app.sessionCounts()).toEqual({ signedIn: 2 });
        expect([await alice.signedInAs(), await bob.signedInAs()]).toEqual(['alice', 'bob']);
        // A pending sign-in that completes while the pool is full is refused too, and told why.
        const [p1] = pending as [Client];
        await p1.get('/login/code');
        expect(
          (await p1.post('/login/code', { code: generateTOTP(secret, { now: clock.t }) })).location,
        ).toBe('/login');
        expect((await p1.get('/login')).text).toContain('The site is busy');
        // Sessions end after 30 idle minutes: then there is room again.
        clock.advance(31 * 60_000);
        await carol.get('/signup');
        expect(
          (await carol.post('/signup', { username: 'carol2', password: PASSWORD })).location,
        ).toBe('/');
        expect(app.sessionCounts()).toEqual({ signedIn: 1 });
      } finally {
        await app.close();
      }
    },
  );
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
      return {
        w: canvas.width,
        h: canvas.height,
        data: Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data),
      };
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
  async submit(
    id: string,
    fields: Record<string, string> = {},
    check: readonly string[] = [],
  ): Promise<void> {
    for (const [name, value] of Object.entries(fields))
      await this.page.fill(`#${id} [name="${name}"]`, value);
    for (const name of check) await this.page.check(`#${id} [name="${name}"]`);
    await Promise.all([
      this.page.waitForNavigation({ waitUntil: 'load' }),
      this.page.click(`#${id} button[type=submit]`),
    ]);
  }

  async click(selector: string): Promise<void> {
    await Promise.all([
      this.page.waitForNavigation({ waitUntil: 'load' }),
      this.page.click(selector),
    ]);
  }

  path(): string {
    return new URL(this.page.url()).pathname;
  }

  /** The flash messages, joined. */
  async flash(): Promise<string> {
    return (await this.page.locator('.flash').allTextContents())
      .join('\n')
      .replace(/\s+/g, ' ')
      .trim();
  }

  async text(selector = 'main'): Promise<string> {
    return ((await this.page.textContent(selector)) ?? '').replace(/\s+/g, ' ').trim();
  }

  async cookie(name: string): Promise<Cookie | undefined> {
    return (await this.page.context().cookies()).find((c) => c.name === name);
  }

  async sid(): Promise<string | undefined> {
    return (await this.cookie(SID))?.value;
  }

  async shot(name: string): Promise<void> {
    const n = String(++this.shots).padStart(2, '0');
    await this.page.screenshot({
      path: join(ARTIFACTS, `${this.prefix}${n}-${name}.png`),
      fullPage: true,
    });
  }

  async signup(username: string): Promise<void> {
    await this.goto('/signup');
    await this.submit('signup', { username, password: PASSWORD });
    expect(await this.flash()).toContain(`Welcome, ${username}!`);
  }

  async login(username: string, password = PASSWORD): Promise<void> {
    await this.goto('/login');
    await this.submit('login', { username, password });
  }

  /** Password, then a code (or recovery code): signed in. */
  async loginWith(username: string, code: string, check: readonly string[] = []): Promise<void> {
    await this.login(username);
    expect(this.path()).toBe('/login/code');
    await this.submit('login-code', { code }, check);
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
    expect(parsed).toMatchObject({
      type: 'totp',
      account: username,
      issuer: 'otpkit demo',
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
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
  async enable(
    browser: Browser,
    clock: Clock,
    username: string,
    label = 'Phone',
  ): Promise<{ secret: Uint8Array; codes: string[] }> {
    await this.goto('/');
    await this.submit('enable-2fa', { label });
    const secret = await this.readSetup(browser, username);
    await this.submit('confirm', { code: generateTOTP(secret, { now: clock.t }) });
    return { secret, codes: await this.saveCodes() };
  }
}

/**
 * The SMTP server: the one .ci/run started (`OTPKIT_SMTP_URL`, writing the Maildir
 * `OTPKIT_SMTP_MAILBOX`), else aiosmtpd started here with its Maildir handler, by the first
 * Python that has it (`OTPKIT_PYTHON`, Debian's /usr/bin/python3 with python3-aiosmtpd, `python3`).
 */
const SMTP_ENV = process.env.OTPKIT_SMTP_URL || undefined;
const PYTHON =
  SMTP_ENV !== undefined
    ? undefined
    : [process.env.OTPKIT_PYTHON, '/usr/bin/python3', 'python3'].find(
        (p) => p !== undefined && p !== '' && spawnSync(p, ['-c', 'import aiosmtpd']).status === 0,
      );
const SMTP_SOURCE =
  SMTP_ENV !== undefined
    ? `OTPKIT_SMTP_URL (${SMTP_ENV})`
    : PYTHON !== undefined
      ? `aiosmtpd (${PYTHON})`
      : undefined;

async function startSmtpServer(): Promise<{ url: string; dir: string; close(): Promise<void> }> {
  if (SMTP_ENV !== undefined) {
    const dir = process.env.OTPKIT_SMTP_MAILBOX ?? '';
    expect(
      dir,
      'OTPKIT_SMTP_MAILBOX: the Maildir the SMTP server at OTPKIT_SMTP_URL writes',
    ).not.toBe('');
    return { url: SMTP_ENV, dir, close: async () => {} };
  }
  const parent = mkdtempSync(join(tmpdir(), 'otpkit-e2e-mail-'));
  const dir = join(parent, 'Maildir'); // Python's Maildir makes tmp/, new/ and cur/ only for a directory that does not exist
  const free = createNetServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const { port } = free.address() as AddressInfo;
  await new Promise((resolve) => free.close(resolve));
  const child = spawn(
    PYTHON as string,
    ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => void (stderr += d.toString('utf8')));
  const listening = (): Promise<boolean> =>
    new Promise((resolve) => {
      const sock = connect(port, '127.0.0.1', () => {
        sock.end();
        resolve(true);
      }).on('error', () => resolve(false));
    });
  const end = Date.now() + 10_000;
  while (!(await listening())) {
    if (child.exitCode !== null || Date.now() > end)
      throw new Error(`aiosmtpd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `smtp://127.0.0.1:${port}`,
    dir,
    close: async () => {
      if (child.exitCode === null)
        await new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM'));
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** The SMTP server's Maildir (aiosmtpd's Mailbox handler): the messages that arrived since the last look. */
class Mailbox {
  private readonly seen = new Set<string>();
  constructor(private readonly dir: string) {
    for (const f of this.files()) this.seen.add(f);
  }
  private files(): string[] {
    return existsSync(join(this.dir, 'new')) ? readdirSync(join(this.dir, 'new')) : [];
  }
  /** The one new message to `to` (the SMTP server stored it before it answered the app): its text. */
  take(to: string): string {
    const fresh = this.files().filter((f) => !this.seen.has(f));
    for (const f of fresh) this.seen.add(f);
    const mine = fresh
      .map((f) => readFileSync(join(this.dir, 'new', f), 'utf8'))
      .filter((m) => new RegExp(`^To: ${to}\\r?$`, 'm').test(m));
    expect(mine).toHaveLength(1);
    const [headers = '', ...body] = (mine[0] as string).split(/\r?\n\r?\n/);
    expect(headers).toMatch(/^Subject: Your otpkit demo code\r?$/m);
    return body.join('\n');
  }
}

describeRequiring(
  existsSync(CHROMIUM) ? CHROMIUM : undefined,
  `Chromium (${CHROMIUM})`,
  'webapp in Chromium',
  (executablePath) => {
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
      browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS] });
    });
    afterAll(async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await browser?.close();
    });

    describe('every step on the memory store', () => {
      const clock = new Clock();
      const logs: string[] = [];
      let app!: RunningWebapp;
      let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
      let tab!: Tab;
      let admin!: Tab;
      /** The two devices, the recovery codes of each set, the codes sent by email. */
      let phone!: Uint8Array;
      let tablet!: Uint8Array;
      const codeSets: string[][] = [];
      const sentCodes: string[] = [];
      const code = (secret: Uint8Array): string => generateTOTP(secret, { now: clock.t });

      beforeAll(async () => {
        if (SMTP_SOURCE !== undefined) smtp = await startSmtpServer();
        app = await startServer({
          now: clock.now,
          // Small numbers so that a few wrong codes throttle and then lock.
          throttle: { freeFailures: 3, baseDelayMs: 30_000, maxDelayMs: 60_000, maxFailures: 5 },
          scryptLogN: LOGN,
          admins: ['root'],
          log: (line) => logs.push(line),
          // 1 s was too short for a real SMTP exchange on a loaded 2-core machine: "couldn't
          // send" from a server that was merely slow.
          delivery: { smtpUrl: smtp?.url, timeoutMs: 3000 },
        });
        tab = await newTab(app, '');
      });
      afterAll(async () => {
        await app?.close();
        await smtp?.close();
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
        // The setup page again, from otpkit (getEnrollment): the same key.
        expect([tab.path(), await tab.flash(), await tab.text('#manual-key')]).toEqual([
          '/2fa/setup',
          SETUP_FAILED,
          key,
        ]);
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
        expect(tab.path()).toBe('/');
        expect(await tab.page.content()).not.toContain(codes[0]);
        await tab.goto('/');
        expect(await tab.text('#twofa-status')).toContain('on, with 1 device');
        expect(await tab.text('#recovery-status')).toContain('Recovery codes left: 10 of 10');
        await tab.shot('account-2fa-on');
      });

      it('sign in: password, then a code; the pending sign-in grants nothing else; a new session id; a known-device cookie', async () => {
        await tab.logout();
        await tab.login('alice');
        expect(tab.path()).toBe('/login/code');
        expect(await tab.text('h1')).toBe('Two-factor authentication');
        expect(await tab.cookie(SID)).toBeUndefined(); // a pending sign-in is no session
        await tab.shot('code-form');
        for (const path of [
          '/',
          '/devices/add',
          '/devices/remove',
          '/recovery-codes/new',
          '/recovery-codes/regenerate',
          '/2fa/setup',
          '/2fa/disable',
          '/admin',
        ]) {
          await tab.goto(path);
          expect(tab.path(), path).toBe('/login/code');
        }
        // Same-origin POSTs with the pending page's own token get nothing either (the CSP forbids
        // fetch() in the page, so these go through the browser context's request API, same cookies).
        const csrf = await tab.page.locator('#login-code input[name=csrf]').inputValue();
        for (const [action, extra] of [
          ['/2fa/enable', { label: 'Evil' }],
          ['/2fa/disable', { code: code(phone) }],
          ['/devices/add', { label: 'Evil', code: code(phone) }],
          ['/recovery-codes/regenerate', { code: code(phone) }],
          ['/browsers/forget', {}],
          ['/admin/unlock', { user: 'alice' }],
        ] as const) {
          const res = await tab.page.context().request.post(app.url + action, {
            form: { csrf, ...extra },
            headers: { origin: app.url },
          });
          expect(new URL(res.url()).pathname, action).toBe('/login/code');
        }
        // The confirmation used this step's code: it is not a sign-in code.
        await tab.goto('/login/code');
        await tab.submit('login-code', { code: code(phone) });
        expect([tab.path(), await tab.flash()]).toEqual(['/login/code', FAILED]);
        await tab.shot('code-refused');
        clock.advance(STEP);
        expect(await tab.cookie('otpkit_demo_known')).toBeUndefined();
        await tab.submit('login-code', { code: code(phone) });
        expect([tab.path(), await tab.flash()]).toEqual(['/', 'Signed in.']);
        expect(await tab.sid()).toMatch(/^[A-Za-z0-9_-]{43}$/);
        // This browser is known now: its own throttle bucket from the next sign-in on.
        const known = await tab.cookie('otpkit_demo_known');
        expect(known).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', secure: false });
        expect((known?.expires ?? 0) - Date.now() / 1000).toBeGreaterThan(364 * DAY_S);
        await tab.shot('signed-in');
      });

      it('remember this browser: the next sign-in skips the code; forgetting them asks again', async () => {
        await tab.logout();
        clock.advance(STEP);
        await tab.login('alice');
        await tab.page.check('#remember');
        await tab.shot('remember-this-browser');
        await tab.submit('login-code', { code: code(phone) });
        expect([tab.path(), await tab.flash()]).toEqual([
          '/',
          'Signed in. This browser is remembered for 30 days.',
        ]);
        const trusted = await tab.cookie('otpkit_demo_trusted');
        expect(trusted).toMatchObject({
          httpOnly: true,
          sameSite: 'Lax',
          path: '/',
          secure: false,
        });
        expect((trusted?.expires ?? 0) - Date.now() / 1000).toBeGreaterThan(29 * DAY_S);
        expect(await tab.text('#trusted-status')).toContain(
          '1 remembered browser signs in without a code',
        );

        await tab.logout();
        await tab.login('alice'); // no code: the trusted-device cookie, rotated
        expect([tab.path(), await tab.flash()]).toEqual([
          '/',
          'Signed in. This browser is remembered, so no code was needed.',
        ]);
        expect((await tab.cookie('otpkit_demo_trusted'))?.value).not.toBe(trusted?.value);
        await tab.shot('signed-in-without-code');
        await tab.goto('/');
        await tab.submit('revoke-all');
        expect(await tab.flash()).toBe('That browser is forgotten: it asks for a code again.');
        expect(await tab.text('#trusted-status')).toContain('0 remembered browsers');
        await tab.shot('browser-forgotten');
        await tab.logout();
        clock.advance(STEP);
        await tab.login('alice');
        expect(tab.path()).toBe('/login/code'); // asked again, and the dead cookie is dropped
        expect(await tab.cookie('otpkit_demo_trusted')).toBeUndefined();

        // Two browsers remembered (this one and a laptop), then "forget them all".
        await tab.submit('login-code', { code: code(phone) }, ['remember']);
        const laptop = await newTab(app, 'laptop-');
        clock.advance(STEP);
        await laptop.loginWith('alice', code(phone), ['remember']);
        await tab.goto('/');
        expect(await tab.text('#trusted-status')).toContain('2 remembered browsers');
        await tab.submit('revoke-all');
        expect(await tab.flash()).toBe('2 browsers are forgotten: they ask for a code again.');
        await laptop.logout();
        await laptop.login('alice');
        expect(laptop.path()).toBe('/login/code');
        await laptop.shot('asked-again-after-forget-all');
      });

      it('add a second device behind step-up; sign in with either', async () => {
        await tab.goto('/');
        expect(await tab.page.locator('#devices tbody tr').count()).toBe(1);
        await tab.click('#add-totp');
        expect([tab.path(), await tab.text('h1')]).toEqual([
          '/devices/add',
          'Add an authenticator app',
        ]);
        await tab.shot('step-up-add-device');
        await tab.submit('step-up', { label: 'Tablet', code: wrongCode(phone, clock.t) });
        expect([tab.path(), await tab.flash()]).toEqual(['/devices/add', FAILED]);
        clock.advance(STEP);
        await tab.submit('step-up', { label: 'Tablet', code: code(phone) });
        tablet = await tab.readSetup(browser, 'alice');
        expect(await tab.text('h1')).toBe('Set up “Tablet”');
        await tab.shot('setup-second-device');
        await tab.submit('confirm', { code: code(tablet) });
        expect([tab.path(), await tab.flash()]).toEqual([
          '/',
          '“Tablet” is added: a code from any of your devices signs you in.',
        ]);
        expect(await tab.page.locator('#devices tbody tr').count()).toBe(2);
        await tab.shot('two-devices');

        await tab.logout();
        clock.advance(STEP);
        await tab.loginWith('alice', code(tablet));
        await tab.logout();
        clock.advance(STEP);
        await tab.loginWith('alice', code(phone));
        for (const row of ['#device-0', '#device-1'])
          expect(await tab.text(`${row} .last-used`)).toMatch(/^2031-06-01 09:0\d UTC$/);
      });

      it('list devices with name, kind, added and last used', async () => {
        expect(await tab.page.locator('#devices th').allTextContents()).toEqual([
          'Name',
          'Kind',
          'Added',
          'Last used',
          '',
        ]);
        const [name, kind, added] = await tab.page.locator('#device-1 td').allTextContents();
        expect([name, kind, added]).toEqual(['Tablet', 'Authenticator app', added]);
        expect(added).toMatch(/^2031-06-01 09:0\d UTC$/);
        await tab.shot('devices');
      });

      it('recovery codes: status, sign in with one, regenerate behind step-up; old codes stop working', async () => {
        const [first] = codeSets as [string[]];
        await tab.goto('/');
        expect(await tab.text('#recovery-status')).toContain('Recovery codes left: 10 of 10');
        await tab.logout();
        await tab.loginWith('alice', (first[0] as string).toLowerCase().replace(/-/g, ' ')); // typed loosely
        expect(await tab.flash()).toBe(
          'Signed in with a recovery code, which is now used up. You have 9 left.',
        );
        await tab.shot('signed-in-with-recovery-code');
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
        await tab.goto('/');
        expect(await tab.text('#recovery-status')).toContain('Recovery codes left: 10 of 10');

        await tab.logout();
        await tab.login('alice');
        await tab.submit('login-code', { code: first[1] as string });
        expect(await tab.flash()).toBe(FAILED);
        await tab.submit('login-code', { code: fresh[0] as string });
        expect([tab.path(), await tab.flash()]).toEqual([
          '/',
          'Signed in with a recovery code, which is now used up. You have 9 left.',
        ]);
      });

      describeRequiring(
        SMTP_SOURCE,
        'an SMTP server (OTPKIT_SMTP_URL, or python3-aiosmtpd)',
        'email codes through a real SMTP server',
        () => {
          it('add an email address (the code comes by SMTP); sign in with an emailed code; a second send within the cooldown waits', async () => {
            const mail = new Mailbox((smtp as { dir: string }).dir);
            await tab.goto('/');
            await tab.click('#add-email');
            expect(await tab.text('h1')).toBe('Add an email address');
            clock.advance(STEP);
            await tab.submit('step-up', {
              label: 'Email',
              destination: 'alice@localhost',
              code: code(phone),
            }); // the browser's check passes it; otpkit's (a dot in the domain) does not
            expect([tab.path(), await tab.flash()]).toEqual([
              '/devices/add',
              'Enter an email address.',
            ]);
            await tab.submit('step-up', {
              label: 'Email',
              destination: 'alice@example.com',
              code: code(phone),
            });
            expect([tab.path(), await tab.text('h1'), await tab.flash()]).toEqual([
              '/2fa/setup',
              'Confirm “Email”',
              '',
            ]);
            expect(await tab.text('main p')).toContain('We sent a code to a•••@example.com.');
            const verify = mail.take('alice@example.com');
            expect(verify).toContain('to confirm this address');
            await tab.shot('email-code-sent');
            sentCodes.push(codeIn(verify));
            await tab.submit('confirm', { code: codeIn(verify) });
            expect([tab.path(), await tab.flash()]).toEqual([
              '/',
              '“Email” is added: we can send a code to a•••@example.com when you sign in.',
            ]);
            expect(await tab.text('#device-2')).toContain('Email');
            await tab.shot('email-added');

            await tab.logout();
            clock.advance(60_000); // the send cooldown since the verification code
            await tab.login('alice');
            await tab.shot('code-form-with-email');
            await tab.click('form[id^=send-email] button');
            expect([tab.path(), await tab.flash()]).toEqual([
              '/login/code',
              'We sent a code to a•••@example.com. Enter it here.',
            ]);
            const signIn = codeIn(mail.take('alice@example.com'));
            sentCodes.push(signIn);
            await tab.click('form[id^=send-email] button');
            expect(await tab.flash()).toBe(
              'Please wait 60 seconds before asking for another code.',
            );
            await tab.shot('send-cooldown');
            clock.advance(15_000);
            await tab.click('form[id^=send-email] button');
            expect(await tab.flash()).toBe(
              'Please wait 45 seconds before asking for another code.',
            );
            expect(mail.take.bind(mail, 'alice@example.com')).toThrow(); // nothing was sent
            await tab.submit('login-code', { code: signIn });
            expect([tab.path(), await tab.flash()]).toEqual(['/', 'Signed in.']);
            expect(
              logs.some(
                (l) => l.includes('"type":"challenge-succeeded"') && l.includes('"method":"email"'),
              ),
            ).toBe(true);
          });
        },
      );

      it('every refused code reads as one message: invalid, replayed, malformed, throttled, exhausted, locked, expired (a browser without the known-device cookie)', async () => {
        // Someone else with alice's password, in a browser of their own: its failures count in the
        // account's shared bucket, not in the bucket of alice's known browser.
        clock.advance(STEP);
        await tab.logout();
        await tab.loginWith('alice', code(phone)); // this step's code is used now
        const attacker = await newTab(app, 'attacker-');
        const seen: string[] = [];
        const attempt = async (c: string): Promise<void> => {
          await attacker.submit('login-code', { code: c });
          seen.push(await attacker.flash());
        };
        await attacker.login('alice');
        await attempt(code(phone)); // replayed: alice's sign-in used this step
        await attempt('12 34 5'); // malformed
        await attempt(wrongCode(phone, clock.t)); // invalid: 3 failures, the free ones
        await attempt(wrongCode(phone, clock.t)); // throttled
        await attacker.shot('code-throttled');
        clock.advance(30_000);
        await attempt(wrongCode(phone, clock.t)); // invalid
        await attempt(code(tablet)); // throttled, even a right code
        clock.advance(60_000);
        await attempt(wrongCode(phone, clock.t)); // invalid: 5 failures, the lock; and 5 attempts at this challenge
        expect(seen).toEqual([
          FAILED,
          FAILED,
          FAILED,
          `${FAILED} Wait 30 seconds before trying again.`,
          FAILED,
          `${FAILED} Wait 60 seconds before trying again.`,
          FAILED,
        ]);
        await attacker.submit('login-code', { code: code(phone) }); // exhausted: back to the password
        expect([attacker.path(), await attacker.flash()]).toEqual(['/login', AGAIN]);
        await attacker.shot('challenge-exhausted');
        await attacker.login('alice');
        await attacker.submit('login-code', { code: code(phone) }); // locked
        expect([attacker.path(), await attacker.flash()]).toEqual(['/login/code', FAILED]);
        await attacker.shot('code-locked');
        // Ten newer sign-ins of alice elsewhere: otpkit drops this browser's challenge (10 live at most).
        for (let i = 0; i < 10; i++)
          expect(await new Client(app.url).passwordStep('alice')).toBe('/login/code');
        await attacker.submit('login-code', { code: code(phone) }); // expired
        expect([attacker.path(), await attacker.flash()]).toEqual(['/login', AGAIN]);
        // The reasons went to the audit log only.
        const failures = logs
          .filter((l) => l.startsWith('audit ') && l.includes('"type":"failure"'))
          .join('\n');
        for (const reason of [
          'invalid',
          'replayed',
          'malformed',
          'throttled',
          'exhausted',
          'locked',
          'expired',
        ])
          expect(failures).toContain(`"reason":"${reason}"`);
        expect(logs.some((l) => l.includes('"type":"locked"'))).toBe(true);
      });

      it("known device vs attacker: the account is locked for strangers, yet alice's browser (with its cookie) signs in with a valid code", async () => {
        clock.advance(STEP);
        await tab.logout();
        await tab.loginWith('alice', code(phone));
        expect(await tab.flash()).toBe('Signed in.');
        await tab.shot('known-device-signs-in-despite-lock');
        // A browser without the cookie (a new laptop of alice's) shares the locked bucket.
        const fresh = await newTab(app, 'new-browser-');
        await fresh.login('alice');
        clock.advance(STEP);
        await fresh.submit('login-code', { code: code(phone) });
        expect([fresh.path(), await fresh.flash()]).toEqual(['/login/code', FAILED]);
        await fresh.shot('new-browser-locked-out');
      });

      it('the administrator sees the lock and lifts it', async () => {
        admin = await newTab(app, 'admin-');
        await admin.signup('root');
        await admin.goto('/admin');
        expect([admin.path(), await admin.flash()]).toEqual([
          '/',
          'The administrator page needs an administrator with two-factor authentication on.',
        ]);
        await admin.shot('admin-needs-2fa');
        await admin.enable(browser, clock, 'root');
        await admin.goto('/admin?user=alice');
        expect(await admin.text('#throttle-otp .status')).toBe('locked after 5 failures');
        expect(await admin.text('#throttle-recovery .status')).toBe('no failures');
        await admin.shot('admin-locked');
        await admin.submit('unlock');
        expect(await admin.flash()).toBe('alice is unlocked.');
        expect(await admin.text('#throttle-otp .status')).toBe('no failures');
        await admin.shot('admin-unlocked');
        expect(
          logs.some((l) => l.includes('"type":"unlocked"') && l.includes('"administrator":"root"')),
        ).toBe(true);

        clock.advance(STEP);
        await tab.logout();
        await tab.loginWith('alice', code(phone));
        await tab.goto('/admin'); // alice is no administrator
        expect(tab.path()).toBe('/');
        expect(await tab.page.locator('header nav').textContent()).not.toContain('Admin');
      });

      it('remove a device and turn 2FA off, each behind step-up', async () => {
        await tab.goto('/');
        await tab.click('#device-1 a.remove');
        expect([tab.path(), await tab.text('h1')]).toEqual(['/devices/remove', 'Remove “Tablet”']);
        await tab.shot('step-up-remove-device');
        await tab.submit('step-up', { code: wrongCode(phone, clock.t) });
        expect([tab.path(), await tab.flash(), await tab.text('h1')]).toEqual([
          '/devices/remove',
          FAILED,
          'Remove “Tablet”',
        ]);
        clock.advance(STEP);
        await tab.submit('step-up', { code: code(phone) });
        expect([tab.path(), await tab.flash()]).toEqual(['/', 'Device removed.']);
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
        expect([other.path(), await other.flash()]).toEqual([
          '/login',
          'Your sign-in took too long. Enter your password again.',
        ]);
        await other.shot('sign-in-expired');
        // A signed-in session ends after 30 idle minutes.
        clock.advance(30 * 60_000);
        await admin.goto('/admin');
        expect([admin.path(), await admin.flash()]).toEqual([
          '/login',
          'Your session expired. Please sign in again.',
        ]);
      });

      it('no secret, code, token or password in any log line', () => {
        const all = logs.join('\n');
        for (const c of codeSets.flat()) {
          expect(all).not.toContain(c);
          expect(all).not.toContain(c.replace(/-/g, ''));
        }
        expect(sentCodes.length).toBeGreaterThanOrEqual(SMTP_SOURCE === undefined ? 0 : 2);
        for (const c of sentCodes) expect(all).not.toMatch(new RegExp(`\\b${c}\\b`));
        for (const s of [phone, tablet]) expect(all).not.toContain(encodeBase32(s));
        expect(all).not.toContain(PASSWORD);
        expect(all).not.toMatch(/[A-Za-z0-9_-]{43}/); // no session id, CSRF token or device token
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
        app = await startServer({
          now: clock.now,
          store: opened.store,
          storeName: opened.name,
          scryptLogN: LOGN,
          log,
        });
      });
      afterAll(async () => {
        await app?.close();
        await opened?.close();
      });

      it(
        `${kind}: enable → sign in with a code → replay refused → recovery code once`,
        { timeout: 180_000 },
        async () => {
          const tab = await newTab(app, `${kind}-`);
          // The app's user ids are random UUIDs (and keep otpkit's records of every run apart): the name can be fixed.
          const user = `e2e-${kind}`;
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
        },
      );
    };

    describeWithEnv('OTPKIT_PG_URL', 'short flow on the PostgreSQL store', (url) =>
      shortFlow('pg', url),
    );
    describeWithEnv('OTPKIT_REDIS_URL', 'short flow on the Redis store', (url) =>
      shortFlow('redis', url),
    );
  },
);
