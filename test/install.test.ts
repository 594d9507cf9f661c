/**
 * The README's install steps, for real: `npm pack` this repository, install the tarball into an
 * empty project, and use the package from there as an app would, through the ESM and CommonJS
 * builds, every subpath and the `otpkit` command. Needs the built dist/ (`npm run build`, which
 * `npm test` runs first); the pack itself runs without scripts so that it never rebuilds dist/
 * while other test files use it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
const TARBALL = `${pkg.name}-${pkg.version}.tgz`;
/** Runs npm and returns what it printed on stderr (its warnings); throws if it fails. */
function npm(args: string[], cwd: string): string {
  const run = spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  if (run.status !== 0) throw new Error(`npm ${args[0]} failed:\n${run.stderr}`);
  return run.stderr;
}

describe('installing the packed tarball into an empty project (README "Install")', () => {
  let work = '';
  let app = '';
  let installWarnings = '';

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist/index.js')))
      throw new Error('dist/ is missing: run `npm run build` first');
    work = mkdtempSync(join(tmpdir(), 'otpkit-install-'));
    npm(['pack', '--ignore-scripts', '--pack-destination', work], ROOT);
    app = join(work, 'your-app');
    execFileSync('mkdir', [app]);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'your-app', version: '1.0.0', private: true }),
    );
    // --prefer-offline: @noble/hashes normally comes from npm's cache, filled by `npm ci`.
    installWarnings = npm(
      ['install', `../${TARBALL}`, '--prefer-offline', '--no-audit', '--no-fund'],
      app,
    );
  }, 180_000);

  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('the README names the tarball this repository packs', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npm pack');
    expect(readme).toContain(`npm install ../otpkit/${TARBALL}`);
  });

  it('ships no install-time script, so npm has nothing to warn about or to approve', () => {
    const installed = JSON.parse(
      readFileSync(join(app, 'node_modules/otpkit/package.json'), 'utf8'),
    ) as { scripts?: Record<string, string> };
    // npm runs these when a package is installed (`prepare` too, for a tarball or git dependency).
    const lifecycle = ['preinstall', 'install', 'postinstall', 'prepare'];
    expect(Object.keys(installed.scripts ?? {}).filter((k) => lifecycle.includes(k))).toEqual([]);
    expect(installWarnings).not.toContain('install-scripts');
  });

  it('works from ESM, with every subpath', () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      `import { generateTOTP, OtpkitError, decodeBase32 } from 'otpkit';
import { renderQRCodeSVG } from 'otpkit/qr';
import { createRedisStore } from 'otpkit/redis';
import { createPostgresStore } from 'otpkit/postgres';
import { createSqliteStore } from 'otpkit/sqlite';
import { createD1Store } from 'otpkit/d1';
import { storeContract } from 'otpkit/testing';
const secret = new TextEncoder().encode('12345678901234567890');
let code = 'none';
try { decodeBase32('MZXW6YR='); } catch (e) { code = e instanceof OtpkitError ? e.code : 'not an OtpkitError'; }
console.log(JSON.stringify([generateTOTP(secret, { now: 59_000, digits: 8 }), code, renderQRCodeSVG('x').startsWith('<svg'),
  typeof createRedisStore, typeof createPostgresStore, typeof createSqliteStore, typeof createD1Store, typeof storeContract]));
`,
    );
    const out = execFileSync('node', ['esm.mjs'], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([
      '94287082',
      'ERR_BASE32_NONCANONICAL',
      true,
      'function',
      'function',
      'function',
      'function',
      'function',
    ]);
  });

  it('works from CommonJS', () => {
    writeFileSync(
      join(app, 'cjs.cjs'),
      `const { generateHOTP } = require('otpkit');
const { createQRCode } = require('otpkit/qr');
const { createSqliteStore } = require('otpkit/sqlite');
const { createD1Store } = require('otpkit/d1');
console.log(JSON.stringify([generateHOTP(new TextEncoder().encode('12345678901234567890'), 0), typeof createQRCode, typeof createSqliteStore, typeof createD1Store]));
`,
    );
    const out = execFileSync('node', ['cjs.cjs'], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['755224', 'function', 'function', 'function']);
  });

  it('installs the otpkit command', () => {
    const out = execFileSync(
      join(app, 'node_modules/.bin/otpkit'),
      ['code', '--hex', '-N', '@59', '-d', '8', '-'],
      {
        cwd: app,
        encoding: 'utf8',
        input: '3132333435363738393031323334353637383930\n',
      },
    );
    expect(out.trim()).toBe('94287082');
  });

  it('ships the README, licence, security policy and changelog, and no source, test or benchmark files', () => {
    const listing = execFileSync('tar', ['-tzf', join(work, TARBALL)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    expect(listing).toContain('package/package.json');
    for (const doc of ['README.md', 'LICENSE', 'SECURITY.md', 'CHANGELOG.md'])
      expect(listing).toContain(`package/${doc}`);
    expect(listing.filter((f) => /^package\/(src|test|bench|examples|scripts)\//.test(f))).toEqual(
      [],
    );
  });
});
