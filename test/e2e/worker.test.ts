/**
 * End-to-end: the Worker example (examples/worker) bundled with esbuild and run in workerd by
 * miniflare on 127.0.0.1, with a local D1 whose tables are created first. Headless Chromium
 * (Debian's /usr/bin/chromium through playwright-core; never a downloaded browser) plays the user
 * and the test plays the authenticator app: it scans the QR code from a screenshot of the page
 * (jsQR), checks it against the manual key and the otpauth:// link, and computes codes with
 * otpkit's generateTOTP. Screenshots of each step go to test-artifacts/worker/.
 *
 * workerd reads the real clock, so no clock is injected: each code is chosen by its TOTP step
 * (the current one or the next, both inside the default window), never by waiting for time to
 * pass. Then D1 itself is read (sealed secret, used step, pepper HMACs, nothing in the clear).
 * Over plain HTTP: cross-origin POSTs and forged cookies, a restart on the same D1 (a used code
 * stays used), and the wall time and workerd's CPU time of the sign-in requests (printed only).
 * A missing Chromium or miniflare fails in CI and skips loudly elsewhere.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import jsQRModule from 'jsqr';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalWorker } from '../../examples/worker/local.js';
import { decodeBase32, encodeBase32, generateTOTP, parseOtpauthURI } from '../../src/index.js';
import { describeRequiring } from '../store/_servers.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../_chromium.js';

// jsqr ships CommonJS with an ESM-style `export default` declaration (see test/qr.test.ts).
const jsQR = jsQRModule.default;

const root = fileURLToPath(new URL('../..', import.meta.url));
// A directory of its own: webapp.test.ts empties test-artifacts/e2e/ when it starts, maybe meanwhile.
const ARTIFACTS = join(root, 'test-artifacts', 'worker');
const MINIFLARE = ((): string | undefined => {
  try {
    return createRequire(import.meta.url).resolve('miniflare');
  } catch {
    return undefined;
  }
})();
const PASSWORD = 'correct horse battery staple';
const STEP_MS = 30_000;
/** What the user reads for every refused code, whatever the reason. */
const FAILED = "That code didn't work. Try again, or use a recovery code.";
/** The pepper profile's codes: 120 bits, 24 Crockford base32 characters in six groups. */
const RECOVERY_CODE = /^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/;

/**
 * The authenticator app. `next()` gives the code of the earliest step after the last one used
 * that is not in the past: the current step, or the next one (the default window accepts it), so
 * even a step boundary between this call and the Worker's check keeps it in the window.
 */
class Authenticator {
  private last = -Infinity;
  constructor(readonly secret: Uint8Array) {}
  /** The TOTP step of the last code given out. */
  get lastStep(): number {
    return this.last;
  }
  next(): string {
    const now = Math.floor(Date.now() / STEP_MS);
    const step = Math.max(this.last + 1, now);
    if (step > now + 1) throw new Error('this flow uses at most one future step');
    this.last = step;
    return generateTOTP(this.secret, { now: step * STEP_MS });
  }
  /** The code just used, once more (a replay). */
  again(): string {
    return generateTOTP(this.secret, { now: this.last * STEP_MS });
  }
  /** A 6-digit code that matches none of the steps within ±2 of now. */
  wrong(): string {
    const now = Date.now();
    const near = new Set(
      [-2, -1, 0, 1, 2].map((d) => generateTOTP(this.secret, { now: now + d * STEP_MS })),
    );
    for (let i = 1; ; i++) {
      const c = String(
        (Number(generateTOTP(this.secret, { now })) + i * 7919) % 1_000_000,
      ).padStart(6, '0');
      if (!near.has(c)) return c;
    }
  }
}

async function start(logs: string[]): Promise<LocalWorker> {
  const { startLocalWorker } = await import('../../examples/worker/local.js');
  return startLocalWorker({ onLog: (line) => logs.push(line) });
}

/**
 * Scans a PNG screenshot as a phone camera would: the browser decodes the PNG on a blank page (no
 * CSP there) and hands over its pixels, which jsQR reads.
 */
async function scanQR(browser: Browser, png: Buffer): Promise<string | null> {
  const page = await browser.newPage();
  try {
    const img = await page.evaluate(async (b64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${b64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      [canvas.width, canvas.height] = [image.naturalWidth, image.naturalHeight];
      const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
      ctx.drawImage(image, 0, 0);
      // As a base64 string: an array of numbers this size crosses the protocol slowly.
      const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let bin = '';
      for (let i = 0; i < pixels.length; i += 0x8000)
        bin += String.fromCharCode(...pixels.subarray(i, i + 0x8000));
      return { w: canvas.width, h: canvas.height, data: btoa(bin) };
    }, png.toString('base64'));
    return jsQR(new Uint8ClampedArray(Buffer.from(img.data, 'base64')), img.w, img.h)?.data ?? null;
  } finally {
    await page.close();
  }
}

/** The browser tab, with helpers that submit forms, wait for the page they lead to, and read it. */
class Tab {
  private shots = 0;
  constructor(
    readonly page: Page,
    readonly base: string,
  ) {}
  async goto(path: string): Promise<void> {
    await this.page.goto(this.base + path);
  }
  async submit(id: string, fields: Record<string, string> = {}): Promise<void> {
    for (const [name, value] of Object.entries(fields))
      await this.page.fill(`#${id} [name="${name}"]`, value);
    await Promise.all([
      this.page.waitForNavigation({ waitUntil: 'load' }),
      this.page.click(`#${id} button`),
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
  async text(selector: string): Promise<string> {
    return ((await this.page.textContent(selector)) ?? '').replace(/\s+/g, ' ').trim();
  }
  async flash(): Promise<string> {
    return (await this.page.locator('#flash').count()) === 0 ? '' : this.text('#flash');
  }
  async shot(name: string): Promise<void> {
    const n = String(++this.shots).padStart(2, '0');
    await this.page.screenshot({
      path: join(ARTIFACTS, `worker-${n}-${name}.png`),
      fullPage: true,
    });
  }
  async login(name: string, password = PASSWORD): Promise<void> {
    await this.goto('/login');
    await this.submit('login', { username: name, password });
  }
  async logout(): Promise<void> {
    await this.click('#logout');
    expect([this.path(), await this.flash()]).toEqual(['/', 'Signed out.']);
  }
}

/** A client without a browser: a cookie jar, no redirect following. */
class Client {
  readonly jar = new Map<string, string>();
  constructor(readonly base: string) {}
  async send(
    method: 'GET' | 'POST',
    path: string,
    fields?: Record<string, string>,
    origin = this.base,
  ): Promise<{ status: number; headers: Headers; body: string }> {
    const res = await fetch(this.base + path, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(fields === undefined
          ? {}
          : { 'content-type': 'application/x-www-form-urlencoded', origin }),
      },
      ...(fields === undefined ? {} : { body: new URLSearchParams(fields).toString() }),
    });
    for (const c of res.headers.getSetCookie()) {
      const [, name = '', value = ''] = /^([^=]+)=([^;]*)/.exec(c) ?? [];
      if (/Max-Age=0\b/.test(c)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return { status: res.status, headers: res.headers, body: await res.text() };
  }
  /** Signs up, turns 2FA on; returns the app and the recovery codes. */
  async enroll(name: string): Promise<{ app: Authenticator; codes: string[] }> {
    expect(
      (await this.send('POST', '/signup', { username: name, password: PASSWORD })).headers.get(
        'location',
      ),
    ).toBe('/?m=signed-up');
    const setup = (await this.send('POST', '/2fa/enable', {})).body;
    const key = /id="manual-key">([A-Z2-7 ]+)</.exec(setup)?.[1] ?? '';
    const factor = /name="factor" value="([^"]+)"/.exec(setup)?.[1] ?? '';
    const app = new Authenticator(decodeBase32(key, { loose: true }));
    const saved = (await this.send('POST', '/2fa/confirm', { factor, code: app.next() })).body;
    const codes = [...saved.matchAll(/<li><code>([0-9A-Z-]+)<\/code><\/li>/g)].map(
      (m) => m[1] as string,
    );
    expect(codes).toHaveLength(10);
    await this.send('POST', '/logout', {});
    return { app, codes };
  }
  async passwordStep(name: string): Promise<void> {
    expect(
      (await this.send('POST', '/login', { username: name, password: PASSWORD })).headers.get(
        'location',
      ),
    ).toBe('/login/code');
  }
}

/** The workerd processes this test process started (miniflare's children). */
function workerdPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m?.[1] === 'workerd' && Number(m[2]) === process.pid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** On-CPU time of those processes, all threads, in ns (Linux schedstat); `undefined` elsewhere. */
function cpuNs(pids: readonly number[]): number | undefined {
  if (pids.length === 0 || !existsSync(`/proc/${pids[0]}/task`)) return undefined;
  let sum = 0;
  for (const pid of pids)
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        sum += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // a thread that ended
      }
    }
  return sum;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1
    ? (s[s.length >> 1] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

describeRequiring(
  MINIFLARE,
  'miniflare (npm ci installs it, with workerd)',
  'worker example in workerd',
  () => {
    describeRequiring(
      existsSync(CHROMIUM) ? CHROMIUM : undefined,
      `Chromium (${CHROMIUM})`,
      'worker example in Chromium',
      (executablePath) => {
        const logs: string[] = [];
        let worker!: LocalWorker;
        let browser!: Browser;
        let tab!: Tab;
        let app!: Authenticator;
        let codes: string[] = [];

        beforeAll(async () => {
          rmSync(ARTIFACTS, { recursive: true, force: true });
          mkdirSync(ARTIFACTS, { recursive: true });
          [worker, browser] = await Promise.all([
            start(logs),
            chromium.launch({ executablePath, args: [...CHROMIUM_ARGS] }),
          ]);
          const context = await browser.newContext({ viewport: { width: 900, height: 800 } });
          tab = new Tab(await context.newPage(), worker.url);
        });
        afterAll(async () => {
          await browser?.close();
          await worker?.close();
        });

        it('sign up: signed in, 2FA off', async () => {
          await tab.goto('/');
          expect(await tab.text('#who')).toBe('You are signed out.');
          await tab.goto('/signup');
          await tab.submit('signup', { username: 'alice', password: PASSWORD });
          expect([tab.path(), await tab.flash()]).toEqual(['/', 'Your account is ready.']);
          expect(await tab.text('#who')).toBe('Signed in as alice.');
          expect(await tab.text('#twofa-status')).toBe('Two-factor authentication is off.');
          await tab.shot('signed-up');
        });

        it('turn on 2FA: QR code, manual key and link agree; a wrong code is refused; the right one gives 10 recovery codes', async () => {
          await tab.click('#enable-2fa');
          expect(await tab.text('h1')).toBe('Set up your authenticator app');
          const manual = await tab.text('#manual-key');
          expect(manual).toMatch(/^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
          const secret = decodeBase32(manual, { loose: true });
          const uri = (await tab.page.getAttribute('#otpauth-link', 'href')) ?? '';
          const parsed = parseOtpauthURI(uri);
          expect(parsed).toMatchObject({
            type: 'totp',
            account: 'alice',
            issuer: 'otpkit Worker example',
            algorithm: 'SHA1',
            digits: 6,
            period: 30,
          });
          expect(parsed.secret).toEqual(secret);
          await tab.shot('setup');
          // The QR code as the page shows it (a screenshot of the element), scanned with jsQR.
          const qr = await tab.page
            .locator('#qr')
            .screenshot({ path: join(ARTIFACTS, 'worker-qr.png') });
          expect(await scanQR(browser, qr)).toBe(uri);
          app = new Authenticator(secret);

          await tab.submit('confirm', { code: app.wrong() });
          expect(await tab.flash()).toBe(
            "That code didn't work. Try again with the code your app shows now.",
          );
          await tab.shot('setup-wrong-code');
          await tab.submit('confirm', { code: app.next() });
          expect([await tab.text('h1'), await tab.flash()]).toEqual([
            'Save your recovery codes',
            'Two-factor authentication is on.',
          ]);
          codes = await tab.page.locator('#recovery-codes li').allTextContents();
          expect(codes).toHaveLength(10);
          for (const c of codes) expect(c).toMatch(RECOVERY_CODE);
          expect(new Set(codes).size).toBe(10);
          await tab.shot('recovery-codes');
          await tab.click('#saved');
          expect(await tab.text('#twofa-status')).toBe(
            'Two-factor authentication is on. Recovery codes left: 10 of 10.',
          );
          await tab.shot('2fa-on');
        });

        it('sign in: a wrong password is refused; the password alone grants nothing; the app code signs in', async () => {
          await tab.logout();
          await tab.login('alice', 'not the password');
          expect([tab.path(), await tab.flash()]).toEqual([
            '/login',
            'Wrong username or password.',
          ]);
          await tab.shot('wrong-password');
          await tab.login('alice');
          expect([tab.path(), await tab.text('h1')]).toEqual([
            '/login/code',
            'Two-factor authentication',
          ]);
          await tab.shot('code-form');
          await tab.goto('/');
          expect(await tab.text('#who')).toBe('You are signed out.');
          await tab.goto('/login/code');
          await tab.submit('login-code', { code: app.next() });
          expect([tab.path(), await tab.flash()]).toEqual(['/', 'Signed in.']);
          expect(await tab.text('#who')).toBe('Signed in as alice.');
          await tab.shot('signed-in-with-code');
        });

        it('the same code again is refused, and a wrong one, with one message; a recovery code works once', async () => {
          await tab.logout();
          await tab.login('alice');
          // The code that signed in a moment ago: its step is used.
          await tab.submit('login-code', { code: app.again() });
          expect([tab.path(), await tab.flash()]).toEqual(['/login/code', FAILED]);
          await tab.shot('replay-refused');
          await tab.submit('login-code', { code: app.wrong() });
          expect([tab.path(), await tab.flash()]).toEqual(['/login/code', FAILED]);
          // Typed loosely: lower case, spaces for hyphens.
          await tab.submit('login-code', {
            code: (codes[0] as string).toLowerCase().replace(/-/g, ' '),
          });
          expect([tab.path(), await tab.flash()]).toEqual([
            '/',
            'Signed in with a recovery code, which is now used up. You have 9 left.',
          ]);
          expect(await tab.text('#twofa-status')).toBe(
            'Two-factor authentication is on. Recovery codes left: 9 of 10.',
          );
          await tab.shot('signed-in-with-recovery-code');

          await tab.logout();
          await tab.login('alice');
          await tab.submit('login-code', { code: codes[0] as string });
          expect([tab.path(), await tab.flash()]).toEqual(['/login/code', FAILED]);
          await tab.shot('recovery-code-reused');
          await tab.submit('login-code', { code: codes[1] as string });
          expect([tab.path(), await tab.flash()]).toEqual([
            '/',
            'Signed in with a recovery code, which is now used up. You have 8 left.',
          ]);
        });

        it('the reasons went to the audit log, and no code or secret did', async () => {
          // workerd's stdout may arrive a little after the response: wait for the last request's line.
          await expect
            .poll(() => logs.filter((l) => l.includes('"type":"recovery-code-used"')).length)
            .toBe(2);
          const failures = logs
            .filter((l) => l.includes('"type":"failure"'))
            .map((l) => /"reason":"(\w+)"/.exec(l)?.[1]);
          expect(failures).toEqual(['invalid', 'replayed', 'invalid', 'invalid']);
          const all = logs.join('\n');
          for (const c of codes) expect(all).not.toContain(c);
          expect(all).not.toContain(PASSWORD);
          expect(logs.filter((l) => l.startsWith('error'))).toEqual([]);
        });
        it("otpkit's state is in D1: the factor with its secret sealed, the step used, recovery codes as pepper HMACs", async () => {
          const db = await worker.miniflare.getD1Database('DB');
          const rows = async (
            sql: string,
            ...params: unknown[]
          ): Promise<Record<string, unknown>[]> =>
            (
              (await db
                .prepare(sql)
                .bind(...params)
                .all()) as { results: Record<string, unknown>[] }
            ).results;
          const [user] = await rows('SELECT id FROM example_users WHERE name = ?1', 'alice');
          const uid = String(user?.id);
          const factors = await rows(
            'SELECT id, type, status, sealed_secret FROM otpkit_factors WHERE user_id = ?1',
            uid,
          );
          expect(factors).toEqual([
            {
              id: expect.any(String),
              type: 'totp',
              status: 'confirmed',
              sealed_secret: expect.stringMatching(/^otpkit-sealed:v1:k1:/),
            },
          ]);
          // The replay state: the step of the code that signed in, so a second isolate refuses it too.
          expect(
            await rows(
              'SELECT credential_id, last_step FROM otpkit_credentials WHERE user_id = ?1',
              uid,
            ),
          ).toEqual([{ credential_id: factors[0]?.id, last_step: app.lastStep }]);
          // Eight codes left, each one HMAC under the pepper "p1" (codes[0] and codes[1] are used up).
          const hashes = await rows(
            'SELECT seq, hash FROM otpkit_recovery_codes WHERE user_id = ?1 ORDER BY seq',
            uid,
          );
          expect(hashes.map((r) => r.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
          for (const r of hashes)
            expect(r.hash).toMatch(/^\$otpkit-hmac\$v=1\$k=p1,len=24\$[\w-]{43}$/);
          // No table holds the secret or a recovery code in the clear.
          const tables = await rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'",
          );
          expect(tables.map((t) => t.name)).toContain('otpkit_factors');
          let dump = '';
          for (const t of tables)
            dump += JSON.stringify(await rows(`SELECT * FROM "${String(t.name)}"`));
          const secretB32 = encodeBase32(app.secret, { padding: false });
          const secretHex = Buffer.from(app.secret).toString('hex');
          for (const needle of [
            secretB32,
            secretHex,
            ...codes,
            ...codes.map((c) => c.replace(/-/g, '')),
          ])
            expect(dump).not.toContain(needle);
        });
      },
    );

    describe('over HTTP', () => {
      const logs: string[] = [];
      let worker!: LocalWorker;
      beforeAll(async () => {
        worker = await start(logs);
      });
      afterAll(async () => {
        await worker?.close();
      });

      it('POSTs from another origin are refused; cookies are HttpOnly and SameSite; a forged session is no session', async () => {
        const c = new Client(worker.url);
        expect(
          (
            await c.send(
              'POST',
              '/signup',
              { username: 'mallory', password: PASSWORD },
              'http://evil.example',
            )
          ).status,
        ).toBe(403);
        const res = await c.send('POST', '/signup', { username: 'mallory', password: PASSWORD });
        expect(res.status).toBe(303);
        expect(res.headers.getSetCookie()).toEqual([
          expect.stringMatching(
            /^sid=[\w-]+\.[\w-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax$/,
          ),
        ]);
        expect((await c.send('GET', '/')).body).toContain('Signed in as <strong>mallory</strong>');
        const [body = '', mac = ''] = (c.jar.get('sid') ?? '').split('.');
        const forged = Buffer.from(
          JSON.stringify({
            ...JSON.parse(Buffer.from(body, 'base64url').toString()),
            name: 'root',
          }),
        ).toString('base64url');
        c.jar.set('sid', `${forged}.${mac}`);
        expect((await c.send('GET', '/')).body).toContain('You are signed out.');
        const home = await fetch(`${worker.url}/`);
        expect(home.headers.get('content-security-policy')).toContain("default-src 'none'");
        expect(home.headers.get('cache-control')).toBe('no-store');
      });

      it('a restart (a new workerd, the same D1 and secrets) keeps the account, the factor and the used step', async () => {
        const { randomSecrets, startLocalWorker } = await import('../../examples/worker/local.js');
        const persistDir = await mkdtemp(join(tmpdir(), 'otpkit-worker-restart-'));
        const secrets = randomSecrets();
        const own: string[] = [];
        try {
          let w = await startLocalWorker({ persistDir, secrets, onLog: (l) => own.push(l) });
          let c = new Client(w.url);
          let used: string;
          let recovery: string[];
          try {
            const { app, codes } = await c.enroll('restart');
            recovery = codes;
            await c.passwordStep('restart');
            used = app.next();
            expect(
              (await c.send('POST', '/login/code', { code: used })).headers.get('location'),
            ).toBe('/?m=signed-in');
          } finally {
            await w.close();
          }
          w = await startLocalWorker({ persistDir, secrets, onLog: (l) => own.push(l) });
          try {
            c = new Client(w.url);
            await c.passwordStep('restart');
            const replay = await c.send('POST', '/login/code', { code: used });
            expect([replay.status, replay.body.includes(FAILED.replace("'", '&#39;'))]).toEqual([
              401,
              true,
            ]);
            expect(
              (await c.send('POST', '/login/code', { code: recovery[0] as string })).headers.get(
                'location',
              ),
            ).toBe('/?m=recovery-9');
          } finally {
            await w.close();
          }
          await expect
            .poll(() => own.filter((l) => l.includes('"reason":"replayed"')).length)
            .toBe(1);
          expect(own.filter((l) => l.startsWith('error'))).toEqual([]);
        } finally {
          await rm(persistDir, { recursive: true, force: true });
        }
      });

      it('timings: sign-in with an app code and with a recovery code, wall time and workerd CPU time per request', async () => {
        const pids = workerdPids();
        const measure = async (
          run: () => Promise<unknown>,
        ): Promise<{ wallMs: number; cpuMs: number | undefined }> => {
          const cpu0 = cpuNs(pids);
          const t0 = performance.now();
          await run();
          const wallMs = performance.now() - t0;
          const cpu1 = cpuNs(pids);
          return {
            wallMs,
            cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / 1e6,
          };
        };
        const rows: Record<string, { wallMs: number; cpuMs: number | undefined }[]> = {
          'GET /style.css (baseline)': [],
          'POST /login (PBKDF2, startChallenge)': [],
          'POST /login/code, app code': [],
          'POST /login/code, recovery code': [],
        };
        const USERS = 6;
        for (let i = 0; i < USERS; i++) {
          const c = new Client(worker.url);
          const { app, codes } = await c.enroll(`timing-${i}`);
          rows['GET /style.css (baseline)']?.push(await measure(() => c.send('GET', '/style.css')));
          rows['POST /login (PBKDF2, startChallenge)']?.push(
            await measure(() => c.passwordStep(`timing-${i}`)),
          );
          const code = app.next();
          rows['POST /login/code, app code']?.push(
            await measure(async () =>
              expect((await c.send('POST', '/login/code', { code })).headers.get('location')).toBe(
                '/?m=signed-in',
              ),
            ),
          );
          await c.send('POST', '/logout', {});
          await c.passwordStep(`timing-${i}`);
          rows['POST /login/code, recovery code']?.push(
            await measure(async () =>
              expect(
                (await c.send('POST', '/login/code', { code: codes[0] as string })).headers.get(
                  'location',
                ),
              ).toBe('/?m=recovery-9'),
            ),
          );
        }
        const { bundleWorker } = await import('../../examples/worker/local.js');
        const min = await bundleWorker({ minify: true });
        const lines = Object.entries(rows).map(([name, xs]) => {
          const cpu = xs.map((x) => x.cpuMs).filter((x): x is number => x !== undefined);
          return `  ${name}: wall median ${median(xs.map((x) => x.wallMs)).toFixed(1)} ms, workerd CPU median ${cpu.length === 0 ? 'n/a' : `${median(cpu).toFixed(1)} ms`} (n=${xs.length})`;
        });
        console.log(
          `worker timings (${USERS} users; CPU = all threads of the workerd process, so miniflare's entry worker and the local D1 are included):\n${lines.join('\n')}\n` +
            `  bundle: ${(worker.bundleBytes / 1024).toFixed(1)} kB, minified ${(min.length / 1024).toFixed(1)} kB, min+gzip ${(gzipSync(min, { level: 9 }).length / 1024).toFixed(1)} kB`,
        );
        expect(logs.filter((l) => l.startsWith('error'))).toEqual([]);
      });
    });
  },
);
