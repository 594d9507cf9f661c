/**
 * End-to-end: the example web app (examples/webapp/server.ts) run in-process with an injected
 * clock and driven in real Chromium (Debian's /usr/bin/chromium through playwright-core; never a
 * downloaded browser). The test plays the user and their authenticator app: it reads the key
 * from the page (manual-entry text, otpauth:// URI and the QR code itself, decoded with jsQR)
 * and computes codes with otpkit's generateTOTP.
 *
 * Full flow on the memory store, with screenshots in test-artifacts/e2e/NN-step.png; a shorter
 * flow on PostgreSQL and on Redis when OTPKIT_PG_URL / OTPKIT_REDIS_URL are set (.ci/run sets
 * both). A missing Chromium or server fails in CI and skips loudly elsewhere.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
const RECOVERY_CODE = /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/;
const STEP = 30_000;

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
    return (await this.page.locator('.flash').allTextContents()).join('\n').replace(/\s+/g, ' ');
  }

  async text(selector = 'main'): Promise<string> {
    return ((await this.page.textContent(selector)) ?? '').replace(/\s+/g, ' ');
  }

  async shot(name: string): Promise<void> {
    const n = String(++this.shots).padStart(2, '0');
    await this.page.screenshot({ path: join(ARTIFACTS, `${this.prefix}${n}-${name}.png`), fullPage: true });
  }

  async signup(username: string): Promise<void> {
    await this.goto('/signup');
    await this.submit('signup', { username, password: PASSWORD });
  }

  async loginPassword(username: string): Promise<void> {
    await this.goto('/login');
    await this.submit('login', { username, password: PASSWORD });
  }

  async logout(): Promise<void> {
    await this.click('#logout');
    expect(this.path()).toBe('/login');
    expect(await this.flash()).toContain('You are logged out.');
  }

  /**
   * On the setup page: reads the key three ways (manual entry, URI, QR code), confirms with a
   * code, and returns the key, the recovery codes and the confirmation code.
   */
  async confirmSetup(browser: Browser, clock: Clock, username: string): Promise<{ secret: Uint8Array; codes: string[]; confirmed: string }> {
    expect(this.path()).toBe('/2fa/setup');
    const manual = (await this.page.textContent('#manual-secret')) ?? '';
    expect(manual).toMatch(/^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/); // groups of four, for typing
    const secret = decodeBase32(manual, { loose: true });
    expect(secret.length).toBe(20);
    const uri = (await this.page.textContent('#otpauth-uri')) ?? '';
    const parsed = parseOtpauthURI(uri);
    expect(parsed).toMatchObject({ type: 'totp', account: username, issuer: 'otpkit demo', algorithm: 'SHA1', digits: 6, period: 30 });
    expect(parsed.secret).toEqual(secret);
    const svg = await this.page.locator('#qr svg').evaluate((e) => e.outerHTML);
    expect(await decodeQR(browser, svg)).toBe(uri); // what a phone camera reads
    expect(await this.text('#compat')).toContain('work with all common authenticator apps');
    const confirmed = generateTOTP(secret, { now: clock.t });
    await this.submit('confirm', { code: confirmed });
    expect(await this.text('h1')).toBe('Two-factor authentication is on');
    const codes = await this.page.locator('#recovery-codes li').allTextContents();
    expect(codes).toHaveLength(10);
    for (const c of codes) expect(c).toMatch(RECOVERY_CODE);
    expect(new Set(codes).size).toBe(10);
    return { secret, codes, confirmed };
  }
}

async function newTab(browser: Browser, contexts: BrowserContext[], app: RunningWebapp, prefix: string): Promise<Tab> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  contexts.push(context);
  return new Tab(await context.newPage(), app.url, prefix);
}

// ---------------------------------------------------------------------------------------------

describe('webapp: HTTP hardening (no browser)', () => {
  let app!: RunningWebapp;
  beforeAll(async () => {
    app = await startServer({ log: () => {} });
  });
  afterAll(async () => {
    await app.close();
  });

  it('sets an HttpOnly SameSite=Lax session cookie, CSP and no-store', async () => {
    const res = await fetch(`${app.url}/`);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^otpkit_demo_sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(app.ephemeralKey).toBe(typeof process.env.OTPKIT_APP_KEY !== 'string' || process.env.OTPKIT_APP_KEY === '');
  });

  it('refuses POSTs without the session CSRF token, from another origin, or not form-encoded', async () => {
    const first = await fetch(`${app.url}/signup`);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const csrf = /name="csrf" value="([^"]+)"/.exec(await first.text())?.[1] ?? '';
    expect(csrf).not.toBe('');
    const post = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${app.url}/signup`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    const noToken = await post(`username=mallory&password=${encodeURIComponent(PASSWORD)}`);
    expect(noToken.status).toBe(303);
    expect(noToken.headers.get('location')).toBe('/');
    const wrongToken = await post(`csrf=${'A'.repeat(43)}&username=mallory&password=${encodeURIComponent(PASSWORD)}`);
    expect(wrongToken.headers.get('location')).toBe('/');
    const home = await (await fetch(`${app.url}/`, { headers: { cookie } })).text();
    expect(home).toContain('That form had expired');
    expect(home).not.toContain('Welcome, mallory');
    const foreign = await post(`csrf=${csrf}&username=mallory&password=x`, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const json = await post(JSON.stringify({ csrf }), { 'content-type': 'application/json' });
    expect(json.status).toBe(415);
    // The same request with the right token goes through.
    const ok = await post(`csrf=${csrf}&username=mallory&password=${encodeURIComponent(PASSWORD)}`, { origin: app.url });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('set-cookie')).not.toContain(cookie.split('=')[1] as string); // rotated on sign-in
  });

  it('escapes HTML', () => {
    expect(escapeHtml(`<script>alert("x")</script>&'`)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
  });
});

describeRequiring(existsSync(CHROMIUM) ? CHROMIUM : undefined, `Chromium (${CHROMIUM})`, 'webapp in Chromium', (executablePath) => {
  let browser!: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
  });

  describe('full flow on the memory store', () => {
    const clock = new Clock();
    const logs: string[] = [];
    let app!: RunningWebapp;
    beforeAll(async () => {
      app = await startServer({
        now: clock.now,
        // Small numbers so that a few wrong codes throttle and then lock.
        throttle: { freeFailures: 3, baseDelayMs: 30_000, maxDelayMs: 60_000, maxFailures: 5 },
        // Cheaper password hashing than the app's default (17): a dozen logins stay quick on CI.
        scryptLogN: 15,
        log: (line) => logs.push(line),
      });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('sign up → enable 2FA → codes, replay, throttle, lock → recovery codes → regenerate', { timeout: 240_000 }, async () => {
      const tab = await newTab(browser, contexts, app, '');
      const user = 'alice';

      // 1. Sign up; 2FA is off.
      await tab.goto('/');
      expect(await tab.text()).toContain('Create an account');
      await tab.shot('home');
      await tab.goto('/signup');
      await tab.page.fill('#signup-username', user);
      await tab.page.fill('#signup-password', PASSWORD);
      await tab.shot('signup');
      await tab.submit('signup');
      expect(tab.path()).toBe('/');
      expect(await tab.flash()).toContain('Welcome, alice!');
      expect(await tab.text('#twofa-status')).toContain('Two-factor authentication is off');
      expect(await tab.text('#who')).toContain('Signed in as alice');
      await tab.shot('signed-up');

      // 2. Enable 2FA: the setup page (QR, key, URI); a malformed code is explained and the
      // setup stays pending; then the right code.
      await tab.click('#enable-2fa');
      expect(tab.path()).toBe('/2fa/setup');
      await tab.shot('setup');
      const firstKey = await tab.text('#manual-secret');
      await tab.submit('confirm', { code: '12345' });
      expect(tab.path()).toBe('/2fa/setup');
      expect(await tab.flash()).toContain('That is not a 6-digit code');
      expect(await tab.text('#manual-secret')).toBe(firstKey); // same pending key
      await tab.shot('setup-malformed');
      const { secret, codes, confirmed } = await tab.confirmSetup(browser, clock, user);
      expect(await tab.flash()).toContain('Two-factor authentication is on');
      await tab.shot('recovery-codes');

      // The codes are shown once: not on the account page, not in the HTML anywhere later.
      await tab.click('#codes-saved');
      expect(await tab.text('#twofa-status')).toContain('Two-factor authentication is on');
      expect(await tab.text('#recovery-remaining')).toContain('Recovery codes left: 10 of 10');
      expect(await tab.page.content()).not.toContain(codes[0] as string);
      await tab.shot('account-2fa-on');

      // 3. Log out; password first: the pending state grants nothing but the second step.
      await tab.logout();
      await tab.loginPassword(user);
      expect(tab.path()).toBe('/login/2fa');
      expect(await tab.text('h1')).toBe('Two-factor authentication');
      await tab.shot('second-step');
      for (const path of ['/', '/2fa/setup', '/login']) {
        await tab.goto(path);
        expect(tab.path()).toBe('/login/2fa');
      }
      // Same-origin POSTs with the session's own CSRF token still get nothing (the page's CSP
      // forbids fetch(), so these go through the browser context's request API, same cookies).
      const csrf = await tab.page.locator('#login-code input[name=csrf]').inputValue();
      for (const [action, extra] of [
        ['/recovery-codes', { password: PASSWORD }],
        ['/2fa/unlock', {}],
        ['/2fa/setup', {}],
        ['/2fa/confirm', { code: '123456' }],
      ] as const) {
        const res = await tab.page.context().request.post(app.url + action, {
          form: { csrf, ...extra },
          headers: { origin: app.url },
        });
        expect(new URL(res.url()).pathname, action).toBe('/login/2fa');
        expect(await res.text(), action).not.toContain('recovery-codes');
      }
      await tab.goto('/login/2fa');
      expect(await tab.text('h1')).toBe('Two-factor authentication');

      // The setup code was consumed by the confirmation: it cannot be the first login code.
      await tab.submit('login-code', { code: confirmed });
      expect(await tab.flash()).toContain('That code was already used');
      // The next code works.
      clock.advance(STEP);
      await tab.submit('login-code', { code: generateTOTP(secret, { now: clock.t }) });
      expect(tab.path()).toBe('/');
      expect(await tab.flash()).toContain('Signed in with your authenticator app.');
      await tab.shot('signed-in-with-code');

      // 4. The same code again (same 30-second step) is refused as replayed.
      const used = generateTOTP(secret, { now: clock.t });
      await tab.logout();
      await tab.loginPassword(user);
      await tab.submit('login-code', { code: used });
      expect(tab.path()).toBe('/login/2fa');
      expect(await tab.flash()).toContain('That code was already used. Wait for your authenticator app to show a new code');
      await tab.shot('replayed');

      // 5. Malformed and wrong codes, then throttling with the wait, then the lock.
      await tab.submit('login-code', { code: '12 34 5' });
      expect(await tab.flash()).toContain('That is not a 6-digit code');
      await tab.submit('login-code', { code: wrongCode(secret, clock.t) });
      expect(await tab.flash()).toContain('That code is not correct');
      await tab.shot('invalid');
      // 3 failures (replayed, malformed, invalid) are free; the 4th attempt has to wait 30 s...
      await tab.submit('login-code', { code: wrongCode(secret, clock.t) });
      expect(await tab.flash()).toContain('Too many wrong codes. Wait 30 seconds before trying again (until 09:01:05 UTC)');
      await tab.shot('throttled');
      // ...even with a valid, unused code (the next step's, inside the window).
      await tab.submit('login-code', { code: generateTOTP(secret, { now: clock.t + STEP }) });
      expect(await tab.flash()).toContain('Too many wrong codes. Wait 30 seconds');
      clock.advance(10_000);
      await tab.submit('login-code', { code: wrongCode(secret, clock.t) });
      expect(await tab.flash()).toContain('Wait 20 seconds');
      clock.advance(20_000);
      await tab.submit('login-code', { code: wrongCode(secret, clock.t) });
      expect(await tab.flash()).toContain('That code is not correct');
      await tab.submit('login-code', { code: wrongCode(secret, clock.t) });
      expect(await tab.flash()).toContain('Wait 60 seconds');
      clock.advance(60_000);
      await tab.submit('login-code', { code: wrongCode(secret, clock.t) });
      expect(await tab.flash()).toContain('That code is not correct');
      // 5 failures: locked, whatever is entered, however long one waits.
      clock.advance(90_000);
      await tab.submit('login-code', { code: generateTOTP(secret, { now: clock.t }) });
      expect(await tab.flash()).toContain('Sign-in with authenticator codes is locked for this account');
      expect(tab.path()).toBe('/login/2fa');
      await tab.shot('locked');

      // 6. A recovery code signs in once; the account page shows what is left and the lock.
      await tab.submit('login-recovery', { code: codes[0] as string });
      expect(tab.path()).toBe('/');
      expect(await tab.flash()).toContain('Signed in with a recovery code. That code is now used up; you have 9 recovery codes left.');
      expect(await tab.text('#recovery-remaining')).toContain('Recovery codes left: 9 of 10');
      expect(await tab.text('#totp-locked')).toContain('Authenticator codes are locked after 5 wrong attempts');
      await tab.shot('recovery-login');
      await tab.click('#unlock');
      expect(await tab.flash()).toContain('Authenticator codes are unlocked.');
      expect(await tab.page.locator('#totp-locked').count()).toBe(0);

      // Unlocked: codes work again.
      await tab.logout();
      await tab.loginPassword(user);
      clock.advance(STEP);
      await tab.submit('login-code', { code: generateTOTP(secret, { now: clock.t }) });
      expect(await tab.flash()).toContain('Signed in with your authenticator app.');

      // 7. The used recovery code is refused; another one, typed loosely, works.
      await tab.logout();
      await tab.loginPassword(user);
      await tab.submit('login-recovery', { code: codes[0] as string });
      expect(tab.path()).toBe('/login/2fa');
      expect(await tab.flash()).toContain('That recovery code is not valid, or it was already used.');
      await tab.shot('recovery-reused');
      await tab.submit('login-recovery', { code: (codes[1] as string).toLowerCase().replace(/-/g, ' ') });
      expect(await tab.flash()).toContain('you have 8 recovery codes left');

      // 8. Regenerate: the password is required; the new set replaces the old one.
      await tab.submit('regenerate', { password: 'not my password' });
      expect(await tab.flash()).toContain('Wrong password: your recovery codes were not changed.');
      await tab.submit('regenerate', { password: PASSWORD });
      expect(await tab.text('h1')).toBe('Your new recovery codes');
      expect(await tab.flash()).toContain('Your old recovery codes no longer work.');
      const fresh = await tab.page.locator('#recovery-codes li').allTextContents();
      expect(fresh).toHaveLength(10);
      expect(fresh.filter((c) => codes.includes(c))).toEqual([]);
      await tab.shot('regenerated');
      await tab.click('#codes-saved');
      expect(await tab.text('#recovery-remaining')).toContain('Recovery codes left: 10 of 10');

      // 9. An old, never-used code no longer works; a new one does.
      await tab.logout();
      await tab.loginPassword(user);
      await tab.submit('login-recovery', { code: codes[2] as string });
      expect(await tab.flash()).toContain('That recovery code is not valid, or it was already used.');
      await tab.submit('login-recovery', { code: fresh[0] as string });
      expect(tab.path()).toBe('/');
      expect(await tab.flash()).toContain('you have 9 recovery codes left');
      expect(await tab.text('#recovery-remaining')).toContain('Recovery codes left: 9 of 10');
      await tab.shot('new-recovery-code');

      // Audit events went to the log, without codes or the key.
      const audit = logs.filter((l) => l.startsWith('audit ')).join('\n');
      for (const reason of ['"replayed"', '"malformed"', '"invalid"', '"throttled"', '"locked"', '"recovery-code-used"', '"recovery-codes-issued"'])
        expect(audit).toContain(reason);
      const all = logs.join('\n');
      for (const c of [...codes, ...fresh]) {
        expect(all).not.toContain(c);
        expect(all).not.toContain(c.replace(/-/g, ''));
      }
      expect(all).not.toContain(encodeBase32(secret));
    });

    it('a pending second step expires: the password has to be entered again', async () => {
      const tab = await newTab(browser, contexts, app, 'x-');
      await tab.loginPassword('alice');
      expect(tab.path()).toBe('/login/2fa');
      clock.advance(5 * 60_000 + 1);
      await tab.goto('/login/2fa');
      expect(tab.path()).toBe('/login');
      expect(await tab.flash()).toContain('Your sign-in took too long.');
    });
  });

  /** The short flow for the shared stores: enable, log in, replay refused, recovery code once. */
  const shortFlow = (kind: 'pg' | 'redis', url: string): void => {
    const clock = new Clock();
    let opened!: OpenedStore;
    let app!: RunningWebapp;
    beforeAll(async () => {
      opened = await openStore(kind === 'pg' ? { pg: url } : { redis: url });
      app = await startServer({ now: clock.now, store: opened.store, storeName: opened.name, scryptLogN: 15, log: () => {} });
    });
    afterAll(async () => {
      await app?.close();
      await opened?.close();
    });

    it(`${kind}: enable → log in with a code → replay refused → recovery code once`, { timeout: 180_000 }, async () => {
      const tab = await newTab(browser, contexts, app, `${kind}-`);
      const user = `e2e-${kind}-${Math.random().toString(36).slice(2, 8)}`;
      await tab.signup(user);
      expect(await tab.text('footer')).toContain(kind === 'pg' ? 'PostgreSQL (' : 'Redis (');
      await tab.click('#enable-2fa');
      const { secret, codes, confirmed } = await tab.confirmSetup(browser, clock, user);
      await tab.shot('recovery-codes');
      await tab.click('#codes-saved');
      await tab.logout();

      await tab.loginPassword(user);
      await tab.submit('login-code', { code: confirmed });
      expect(await tab.flash()).toContain('That code was already used');
      clock.advance(STEP);
      const code = generateTOTP(secret, { now: clock.t });
      await tab.submit('login-code', { code });
      expect(await tab.flash()).toContain('Signed in with your authenticator app.');
      await tab.logout();

      await tab.loginPassword(user);
      await tab.submit('login-code', { code });
      expect(await tab.flash()).toContain('That code was already used');
      await tab.shot('replayed');
      await tab.submit('login-recovery', { code: codes[3] as string });
      expect(await tab.flash()).toContain('you have 9 recovery codes left');
      await tab.logout();

      await tab.loginPassword(user);
      await tab.submit('login-recovery', { code: codes[3] as string });
      expect(await tab.flash()).toContain('That recovery code is not valid, or it was already used.');
      await tab.shot('recovery-reused');
    });
  };

  describeWithEnv('OTPKIT_PG_URL', 'short flow on the PostgreSQL store', (url) => shortFlow('pg', url));
  describeWithEnv('OTPKIT_REDIS_URL', 'short flow on the Redis store', (url) => shortFlow('redis', url));
});
