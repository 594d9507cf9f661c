/**
 * The built ESM bundles in a real browser (headless Chromium through playwright-core).
 *
 * A tiny node:http server on 127.0.0.1 serves `dist/*.js` as built (no bundler in between), the
 * vendored vectors, and the dependencies the bundles import by bare specifier, resolved for the
 * browser (esbuild's resolver, `browser` condition) into an import map. A module script in the
 * page runs the RFC 4226 / RFC 6238 / RFC 4648 vectors, verification (including malformed tokens),
 * the store-backed verifier, WebCrypto sealing and QR rendering (decoded in the page with jsQR),
 * and reports back to Node, which also compares the QR SVG with the same call in Node.
 *
 * Needs `npm run build` (dist/) and Chromium at /usr/bin/chromium (or $OTPKIT_CHROMIUM). Without
 * Chromium the browser tests are skipped loudly, except under CI, where that is a failure.
 * Never downloads a browser.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { builtinModules } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from './_chromium.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const IN_CI = !!process.env['CI'] && process.env['CI'] !== 'false' && process.env['CI'] !== '0';
const ENTRIES = ['index.js', 'qr.js'] as const;

const missingDist = ENTRIES.filter((f) => !existsSync(join(DIST, f)));
const haveChromium = existsSync(CHROMIUM);

const NEED_BUILD = `dist/${missingDist.join(', dist/')} missing: run \`npm run build\` before the browser tests`;

if (!haveChromium && !IN_CI) {
  const bar = '!'.repeat(100);
  console.warn(
    `\n${bar}\n!! SKIPPING the browser tests (test/browser.test.ts): no Chromium at ${CHROMIUM}.\n` +
      `!! Install it (Debian: apt-get install chromium) or set OTPKIT_CHROMIUM. Under CI this is a failure.\n${bar}\n`,
  );
}

// ---------------------------------------------------------------------------------------------
// Static checks on the built core and qr graphs: nothing a browser lacks.

/** The entry file and every dist file it reaches through static or dynamic relative imports. */
function distClosure(entry: string): string[] {
  const seen = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of moduleSpecifiers(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('./') || spec.startsWith('../')) walk(resolve(dirname(file), spec));
    }
  };
  walk(join(DIST, entry));
  return [...seen];
}

function moduleSpecifiers(code: string): string[] {
  const sf = ts.createSourceFile('m.js', code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.JS);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (
      (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) &&
      n.moduleSpecifier &&
      ts.isStringLiteral(n.moduleSpecifier)
    ) {
      out.push(n.moduleSpecifier.text);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const a = n.arguments[0];
      out.push(a && ts.isStringLiteral(a) ? a.text : '<dynamic import of a computed specifier>');
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const NODE_GLOBALS = new Set([
  'process',
  'Buffer',
  'require',
  'module',
  'exports',
  '__dirname',
  '__filename',
  'global',
  'setImmediate',
  'clearImmediate',
]);
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Node-only things a module references: builtin imports and free uses of Node globals. */
function nodeReferences(file: string): string[] {
  const code = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const spec of moduleSpecifiers(code)) {
    if (spec.startsWith('node:') || NODE_BUILTINS.has(spec.split('/')[0]!))
      found.push(`import '${spec}'`);
  }
  const sf = ts.createSourceFile('m.js', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n) && NODE_GLOBALS.has(n.text)) {
      const p = n.parent;
      const isPropertyName =
        (ts.isPropertyAccessExpression(p) && p.name === n) ||
        ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p)) &&
          p.name === n);
      if (!isPropertyName) {
        const { line } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
        found.push(`${n.text} (${relative(ROOT, file)}:${line + 1})`);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

describe('built bundles: browser-safe', () => {
  it('dist exists', () => {
    expect(missingDist, NEED_BUILD).toEqual([]);
  });

  for (const entry of ENTRIES) {
    it(`dist/${entry} and its chunks reference no Node built-in, process or Buffer`, () => {
      expect(missingDist, NEED_BUILD).toEqual([]);
      const files = distClosure(entry);
      expect(files.length).toBeGreaterThan(0);
      const refs = files.flatMap(nodeReferences);
      expect(refs, `Node-only references in the ${entry} graph`).toEqual([]);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The page.

const SAMPLE_URI =
  'otpauth://totp/ACME%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co';
const SVG_OPTIONS = { scale: 8, ecc: 'M' } as const;

/** Runs in the browser as a module script; reports through `window.__otpkit`. Plain JS. */
const PAGE_JS = String.raw`
import * as otp from '/dist/index.js';
import * as qr from '/dist/qr.js';

const results = [];
const check = (group, name, ok, detail) => results.push({ group, name, ok: !!ok, detail: ok ? undefined : String(detail) });
const hex = (h) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (u) => Array.from(u, (b) => b.toString(16).padStart(2, '0')).join('');
const json = async (p) => (await fetch(p)).json();
const codeOf = (f) => { try { f(); return 'no error'; } catch (e) { return e?.code ?? e?.name ?? String(e); } };
const same = (a, b) => JSON.stringify(a, (k, v) => typeof v === 'bigint' ? v.toString() + 'n' : v) ===
  JSON.stringify(b, (k, v) => typeof v === 'bigint' ? v.toString() + 'n' : v);

async function run() {
  check('env', 'no process/Buffer/require globals in the page', typeof process === 'undefined' && typeof Buffer === 'undefined' && typeof require === 'undefined', 'Node globals present');

  // RFC 4226 Appendix D and §5.4.
  const h = await json('/vectors/rfc4226.json');
  const hkey = hex(h.secretHex);
  for (const v of h.vectors) {
    const got = otp.generateHOTP(hkey, v.count, { digits: h.digits });
    check('rfc4226', 'HOTP count ' + v.count, got === v.hotp, got + ' != ' + v.hotp);
    const big = otp.generateHOTP(hkey, BigInt(v.count));
    check('rfc4226', 'HOTP count ' + v.count + 'n (bigint)', big === v.hotp, big);
    const r = otp.verifyHOTP(hkey, v.hotp, { counter: 0 });
    check('rfc4226', 'verifyHOTP count ' + v.count + ' from counter 0', r.ok && r.counter === BigInt(v.count) && r.next === BigInt(v.count + 1), JSON.stringify(r, (k, x) => typeof x === 'bigint' ? String(x) : x));
  }
  check('rfc4226', 'base32 of the seed', otp.encodeBase32(hkey) === h.secretBase32, otp.encodeBase32(hkey));
  const miss = otp.verifyHOTP(hkey, h.vectors[0].hotp, { counter: 1 });
  check('rfc4226', 'verifyHOTP never looks behind the counter', !miss.ok && miss.reason === 'invalid', JSON.stringify(miss));
  const rs = otp.resyncHOTP(hkey, '399871', '520489', { counter: 0 });
  check('rfc4226', 'resyncHOTP', rs.ok && rs.counter === 9n && rs.next === 10n, JSON.stringify(rs, (k, x) => typeof x === 'bigint' ? String(x) : x));
  const top = otp.generateHOTP(hkey, 2n ** 64n - 1n);
  check('rfc4226', 'counter 2^64-1 accepted', /^[0-9]{6}$/.test(top), top);
  check('rfc4226', 'counter 2^64 rejected', codeOf(() => otp.generateHOTP(hkey, 2n ** 64n)) === 'ERR_COUNTER_RANGE', codeOf(() => otp.generateHOTP(hkey, 2n ** 64n)));

  // RFC 6238 Appendix B (Erratum 2866 seeds) and the 20-byte-seed negative table.
  const t = await json('/vectors/rfc6238.json');
  for (const v of t.vectors) {
    const opts = { algorithm: v.algorithm, digits: t.digits, period: t.period, t0: t.t0, now: v.time * 1000 };
    const got = otp.generateTOTP(hex(v.secretHex), opts);
    check('rfc6238', v.algorithm + ' T=' + v.time, got === v.code, got + ' != ' + v.code);
    const ver = otp.verifyTOTP(hex(v.secretHex), v.code, { ...opts, window: 0 });
    check('rfc6238', 'verifyTOTP ' + v.algorithm + ' T=' + v.time, ver.ok && ver.delta === 0 && ver.step === Math.floor(v.time / 30), JSON.stringify(ver));
    check('rfc6238', 'timeStep T=' + v.time, otp.timeStep(v.time * 1000) === parseInt(v.tHex, 16), otp.timeStep(v.time * 1000));
  }
  for (const v of t.negative) {
    const opts = { algorithm: v.algorithm, digits: t.digits, now: v.time * 1000 };
    const got = otp.generateTOTP(hex(v.secretHex), opts);
    check('rfc6238', 'negative ' + v.algorithm + ' 20-byte key T=' + v.time, got === v.code, got + ' != ' + v.code);
    const proper = otp.generateTOTP(hex(t.seeds[v.algorithm].hex), opts);
    check('rfc6238', 'negative ' + v.algorithm + ' proper seed differs T=' + v.time, proper !== v.code, proper);
  }

  // RFC 4648 §10 base32.
  const b = await json('/vectors/base32.json');
  for (const v of b.vectors) {
    const bytes = hex(v.hex);
    check('base32', 'encode padded "' + v.ascii + '"', otp.encodeBase32(bytes, { padding: true }) === v.padded, otp.encodeBase32(bytes, { padding: true }));
    check('base32', 'encode unpadded "' + v.ascii + '"', otp.encodeBase32(bytes) === v.unpadded, otp.encodeBase32(bytes));
    check('base32', 'decode padded "' + v.padded + '"', toHex(otp.decodeBase32(v.padded)) === v.hex, toHex(otp.decodeBase32(v.padded)));
    check('base32', 'decode unpadded "' + v.unpadded + '"', toHex(otp.decodeBase32(v.unpadded)) === v.hex, toHex(otp.decodeBase32(v.unpadded)));
  }
  check('base32', 'key URI example', toHex(otp.decodeBase32(b.keyUriExample.base32)) === b.keyUriExample.hex, 'mismatch');
  for (const s of b.nonCanonical) {
    const c = codeOf(() => otp.decodeBase32(s));
    check('base32', 'rejects non-canonical ' + s, /^ERR_BASE32_/.test(c), c);
  }
  for (const s of ['mzxw6yq=', 'MZXW6Y1=', 'MZ=XW6YQ', 'MZXW6YQ==', 'GEZD GNBV', 'CPNMUOJ1', 'MZXW6Y\u0410=']) {
    const c = codeOf(() => otp.decodeBase32(s));
    check('base32', 'strict decoder rejects ' + JSON.stringify(s), /^ERR_BASE32_/.test(c), c);
  }
  check('base32', 'loose decoder accepts human input', toHex(otp.decodeBase32('mzxw-6ytb oi', { loose: true })) === '666f6f626172', 'mismatch');

  // Verification.
  const secret = otp.generateSecret();
  check('verify', 'generateSecret: 20 random bytes by default', secret instanceof Uint8Array && secret.length === 20 && toHex(secret) !== toHex(otp.generateSecret()), secret.length);
  check('verify', 'generateSecret SHA512: 64 bytes', otp.generateSecret({ algorithm: 'SHA512' }).length === 64, 'length');
  const now = Date.now();
  const token = otp.generateTOTP(secret, { now });
  const ok = otp.verifyTOTP(secret, token, { now });
  check('verify', 'generateTOTP -> verifyTOTP', ok.ok === true && ok.delta === 0, JSON.stringify(ok));
  const prev = otp.generateTOTP(secret, { now: now - 30000 });
  const okPrev = otp.verifyTOTP(secret, prev, { now });
  check('verify', 'previous step accepted with delta -1', okPrev.ok && okPrev.delta === -1, JSON.stringify(okPrev));
  const strict = otp.verifyTOTP(secret, prev, { now, window: 0 });
  check('verify', 'window 0 rejects the previous step', !strict.ok && strict.reason === 'invalid', JSON.stringify(strict));
  for (const alg of ['SHA1', 'SHA256', 'SHA512']) {
    const k = otp.generateSecret({ algorithm: alg });
    const c = otp.generateTOTP(k, { algorithm: alg, digits: 8, now });
    const r = otp.verifyTOTP(k, c, { algorithm: alg, digits: 8, now });
    check('verify', 'round trip ' + alg + ' 8 digits', r.ok && c.length === 8, JSON.stringify(r));
  }
  const wrong = token === '000000' ? '000001' : '000000';
  const bad = otp.verifyTOTP(secret, otp.verifyTOTP(secret, wrong, { now }).ok ? token : wrong, { now });
  check('verify', 'wrong code is invalid', bad.ok === false && bad.reason === 'invalid', JSON.stringify(bad));
  const malformed = ['', '   ', ' ' + token, token + ' ', token + '\n', '\t' + token, token.slice(0, 3) + ' ' + token.slice(3),
    token.slice(0, 3) + '-' + token.slice(3), '+' + token.slice(1), '-0', token.slice(1), token + '0', '0x1E240', '1.23456e5',
    '1_23456', '\uff11\uff12\uff13\uff14\uff15\uff16', '\u0661\u0662\u0663\u0664\u0665\u0666', '123456abc', '12345a', '9'.repeat(1 << 20)];
  for (const m of malformed) {
    const r = otp.verifyTOTP(secret, m, { now });
    check('verify', 'malformed ' + JSON.stringify(m.slice(0, 20)), r.ok === false && r.reason === 'malformed', JSON.stringify(r));
  }
  for (const m of [123456, null, undefined, [token], {}]) {
    let e; try { otp.verifyTOTP(secret, m, { now }); } catch (x) { e = x; }
    check('verify', 'non-string token throws TypeError: ' + JSON.stringify(m), e instanceof TypeError && e.code === 'ERR_TOKEN_TYPE', e && (e.code ?? e));
  }
  const shortKey = codeOf(() => otp.verifyTOTP(hex('48656c6c6f21deadbeef'), '123456'));
  check('verify', '80-bit secret refused by default', shortKey === 'ERR_SECRET_TOO_SHORT', shortKey);
  const unknown = codeOf(() => otp.verifyTOTP(secret, token, { windw: 1 }));
  check('verify', 'unknown option refused', unknown === 'ERR_OPTION_UNKNOWN', unknown);
  const bigWindow = codeOf(() => otp.verifyTOTP(secret, token, { window: 11 }));
  check('verify', 'window over 10 refused', bigWindow === 'ERR_OPTION_WINDOW', bigWindow);
  check('verify', 'normalizeToken', otp.normalizeToken(' 12-34 56 ') === '123456', otp.normalizeToken(' 12-34 56 '));
  // A fixed key: with a random one, HOTP(key, 5) could equal HOTP(key, 2..4) and move the match.
  const hk = new TextEncoder().encode('12345678901234567890');
  const h5 = otp.generateHOTP(hk, 5);
  const hv = otp.verifyHOTP(hk, h5, { counter: 2 });
  check('verify', 'verifyHOTP look-ahead', hv.ok && hv.counter === 5n && hv.next === 6n, JSON.stringify(hv, (k, x) => typeof x === 'bigint' ? String(x) : x));
  const hm = otp.verifyHOTP(hk, ' ' + h5, { counter: 2 });
  check('verify', 'verifyHOTP malformed', !hm.ok && hm.reason === 'malformed', JSON.stringify(hm));
  const hfar = otp.verifyHOTP(hk, otp.generateHOTP(hk, 20), { counter: 2, lookAhead: 10 });
  check('verify', 'verifyHOTP beyond look-ahead is invalid', !hfar.ok && hfar.reason === 'invalid', JSON.stringify(hfar));

  // The store-backed verifier with the in-memory store (replay protection, throttling, recovery codes).
  let clock = now;
  const events = [];
  const verifier = otp.createVerifier({ store: otp.createMemoryStore(), now: () => clock, onEvent: (e) => events.push(e) });
  const vs = otp.generateSecret();
  const vt = otp.generateTOTP(vs, { now: clock });
  const first = await verifier.verifyTOTP({ userId: 'alice', secret: vs, token: vt });
  check('verifier', 'first use accepted', first.ok, JSON.stringify(first));
  const again = await verifier.verifyTOTP({ userId: 'alice', secret: vs, token: vt });
  check('verifier', 'replay rejected', !again.ok && again.reason === 'replayed', JSON.stringify(again));
  const spaced = await verifier.verifyTOTP({ userId: 'alice', secret: vs, token: ' ' + vt });
  check('verifier', 'whitespace variant rejected as malformed', !spaced.ok && spaced.reason === 'malformed', JSON.stringify(spaced));
  check('verifier', 'events carry no secrets or tokens', !JSON.stringify(events).includes(vt) && events.length > 0, JSON.stringify(events));
  const codes = await verifier.issueRecoveryCodes({ userId: 'alice', count: 2 });
  check('verifier', 'recovery codes issued', Array.isArray(codes) && codes.length === 2, JSON.stringify(codes.length));
  const red = await verifier.redeemRecoveryCode({ userId: 'alice', code: codes[0].toLowerCase() });
  check('verifier', 'recovery code redeemed (normalised)', red.ok && red.remaining === 1, JSON.stringify(red));
  const red2 = await verifier.redeemRecoveryCode({ userId: 'alice', code: codes[0] });
  check('verifier', 'recovery code single use', !red2.ok && red2.reason === 'invalid', JSON.stringify(red2));

  // WebCrypto envelope.
  const kek = crypto.getRandomValues(new Uint8Array(32));
  const sealed = await otp.sealSecret(vs, { key: kek, associatedData: 'alice' });
  const opened = await otp.openSecret(sealed, { keys: kek, associatedData: 'alice' });
  check('envelope', 'sealSecret -> openSecret', toHex(opened) === toHex(vs) && !sealed.includes(otp.encodeBase32(vs)), sealed);
  let wrongAd; try { await otp.openSecret(sealed, { keys: kek, associatedData: 'bob' }); wrongAd = 'opened'; } catch (e) { wrongAd = e?.code ?? String(e); }
  check('envelope', 'wrong associated data refused', wrongAd !== 'opened', wrongAd);

  // QR: render, then decode the pixels in the page.
  const svg = qr.renderQRCodeSVG(${JSON.stringify(SAMPLE_URI)}, ${JSON.stringify(SVG_OPTIONS)});
  check('qr', 'SVG produced', typeof svg === 'string' && svg.startsWith('<svg') && svg.endsWith('</svg>'), svg.slice(0, 80));
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  check('qr', 'SVG parses as XML', !doc.querySelector('parsererror') && doc.documentElement.nodeName === 'svg', doc.documentElement.nodeName);
  const img = new Image();
  img.src = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(img, 0, 0);
  const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const decoded = window.jsQR(pixels.data, pixels.width, pixels.height, { inversionAttempts: 'dontInvert' });
  check('qr', 'jsQR decodes the rendered SVG to the URI', decoded && decoded.data === ${JSON.stringify(SAMPLE_URI)}, decoded ? decoded.data : 'not decoded');
  const code = qr.createQRCode(${JSON.stringify(SAMPLE_URI)});
  check('qr', 'createQRCode matrix', code.size === code.version * 4 + 17 && code.modules.length === code.size * code.size, JSON.stringify({ v: code.version, s: code.size }));
  const text = qr.renderQRCodeText('otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  check('qr', 'renderQRCodeText', typeof text === 'string' && text.split('\n').length > 10, text.length);
  return { svg };
}

window.__otpkit = run().then(
  (extra) => ({ results, extra }),
  (e) => ({ results, error: (e && e.stack) || String(e) }),
);
`;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};
/** The only folders the server reads from. */
const SERVED = ['dist', 'vectors', 'node_modules'].map((d) => join(ROOT, d) + sep);

/** The server URL of a file under dist/, vectors/ or node_modules/ (which may be a symlink). */
function urlOf(file: string): string {
  const real = realpathSync(file);
  for (const dir of ['dist', 'vectors', 'node_modules']) {
    const rel = relative(realpathSync(join(ROOT, dir)), real);
    if (!rel.startsWith('..') && !isAbsolute(rel)) return `/${dir}/${rel.split(sep).join('/')}`;
  }
  throw new Error(`${file} is outside the served folders`);
}

/** Bare specifiers of the dist graph → URLs of the files a browser bundler would pick. */
async function importMap(): Promise<Record<string, string>> {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES.map((e) => `dist/${e}`),
    bundle: true,
    write: false,
    outdir: 'unused',
    format: 'esm',
    platform: 'browser',
    splitting: true,
    metafile: true,
    logLevel: 'silent',
  });
  const imports: Record<string, string> = {};
  for (const input of Object.values(result.metafile.inputs)) {
    for (const imp of input.imports) {
      const spec = imp.original;
      if (spec === undefined || spec.startsWith('.') || spec.startsWith('/')) continue;
      const url = urlOf(resolve(ROOT, imp.path));
      if (imports[spec] !== undefined && imports[spec] !== url)
        throw new Error(`${spec} resolves to ${imports[spec]} and ${url}`);
      imports[spec] = url;
    }
  }
  return imports;
}

function page(map: Record<string, string>): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>otpkit in the browser</title>
<script type="importmap">${JSON.stringify({ imports: map })}</script>
<script src="/node_modules/jsqr/dist/jsQR.js"></script>
<script type="module" src="/page.js"
  onerror="window.__otpkit = Promise.resolve({ results: [], error: 'page.js or one of its imports failed to load' })"></script>
</head><body></body></html>`;
}

async function serve(
  html: string,
): Promise<{ server: Server; origin: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/' || path === '/index.html') return send(200, TYPES['.html']!, html);
    if (path === '/page.js') return send(200, TYPES['.js']!, PAGE_JS);
    if (path === '/favicon.ico') return send(204, 'text/plain', '');
    const file = resolve(ROOT, '.' + path);
    const type = TYPES[extname(file)];
    if (
      type === undefined ||
      !SERVED.some((d) => file.startsWith(d)) ||
      !existsSync(file) ||
      !statSync(file).isFile()
    ) {
      return send(404, 'text/plain', 'not found');
    }
    return send(200, type, readFileSync(file));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}`, requests };
}

interface Check {
  group: string;
  name: string;
  ok: boolean;
  detail?: string;
}
interface PageReport {
  results: Check[];
  extra?: { svg: string };
  error?: string;
}

const GROUPS = [
  'env',
  'rfc4226',
  'rfc6238',
  'base32',
  'verify',
  'verifier',
  'envelope',
  'qr',
] as const;

describe.skipIf(!haveChromium && !IN_CI)('built ESM bundles in headless Chromium', () => {
  let browser: Browser | undefined;
  let server: Server | undefined;
  let report: PageReport | undefined;
  let setupError: unknown;
  const pageErrors: string[] = [];
  const failedRequests: string[] = [];

  beforeAll(async () => {
    try {
      if (!haveChromium)
        throw new Error(
          `CI: Chromium is required for the browser tests but ${CHROMIUM} does not exist`,
        );
      if (missingDist.length) throw new Error(NEED_BUILD);
      const map = await importMap();
      const s = await serve(page(map));
      server = s.server;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [...CHROMIUM_ARGS],
      });
      const p: Page = await browser.newPage();
      p.on('pageerror', (e) => pageErrors.push(e.stack ?? e.message));
      p.on('console', (m) => {
        if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`);
      });
      p.on('response', (r) => {
        if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.url()}`);
      });
      p.on('requestfailed', (r) =>
        failedRequests.push(`${r.failure()?.errorText ?? 'failed'} ${r.url()}`),
      );
      await p.goto(`${s.origin}/`, { waitUntil: 'load' });
      await p.waitForFunction(
        () => (window as unknown as { __otpkit?: unknown }).__otpkit !== undefined,
        undefined,
        {
          timeout: 30_000,
        },
      );
      report = await p.evaluate(
        () => (window as unknown as { __otpkit: Promise<PageReport> }).__otpkit,
      );
    } catch (e) {
      setupError = e;
    }
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
  });

  it('loads the page: no page errors, no failed requests, no exception in the checks', () => {
    // One assertion, so that a setup failure is shown together with what the page reported.
    expect({
      setup:
        setupError === undefined ? undefined : String((setupError as Error).stack ?? setupError),
      pageErrors,
      failedRequests,
      exceptionInChecks: report?.error,
    }).toEqual({
      setup: undefined,
      pageErrors: [],
      failedRequests: [],
      exceptionInChecks: undefined,
    });
    expect(report?.results.length).toBeGreaterThan(100);
  });

  for (const group of GROUPS) {
    it(`${group}: every check passes in the browser`, () => {
      expect(setupError, 'setup failed: see the first test').toBeUndefined();
      const mine = report?.results.filter((r) => r.group === group) ?? [];
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    });
  }

  it('qr: the SVG is byte-identical to the same call in Node', async () => {
    expect(setupError, 'setup failed: see the first test').toBeUndefined();
    const mod = (await import(
      pathToFileURL(join(DIST, 'qr.js')).href
    )) as typeof import('../src/qr.js');
    expect(report?.extra?.svg).toBe(mod.renderQRCodeSVG(SAMPLE_URI, SVG_OPTIONS));
  });
});

if (!haveChromium && !IN_CI) {
  describe('built ESM bundles in headless Chromium', () => {
    it.skip(`SKIPPED: no Chromium at ${CHROMIUM} (install chromium or set OTPKIT_CHROMIUM)`, () => {});
  });
}
