/**
 * The server serves the built console at / with an SPA fallback, caches hashed assets for good
 * and index.html never, and never lets the console shadow its own paths.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import Fastify from 'fastify';
import fc from 'fast-check';
import { CONSOLE_DIST, registerConsoleStatic } from '../src/api/console-static.js';
import { registerErrorHandling } from '../src/api/error-handler.js';
import { ensureConsoleBuilt } from './helpers/console-browser.js';
import { startServer, removeDir, type TestServer } from './helpers/server.js';

let s: TestServer;
before(async () => {
  ensureConsoleBuilt();
  s = await startServer();
});
after(async () => {
  await s.close();
  removeDir(s.dir);
});

test('/ and deep links answer the console page, never cached', async () => {
  for (const path of ['/', '/profiles/prf_123', '/segments?x=1', '/login']) {
    const res = await fetch(s.url + path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.match(await res.text(), /<div id="root">/);
  }
});

test('hashed assets are cached as immutable; a missing asset is a 404', async () => {
  const asset = readdirSync(join(CONSOLE_DIST, 'assets')).find((f) => f.endsWith('.js'));
  assert.ok(asset);
  const res = await fetch(`${s.url}/assets/${asset}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /javascript/);
  assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const missing = await fetch(`${s.url}/assets/nope-123.js`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'ENSEMBLE_ERR_NOT_FOUND');
});

test('server paths are never shadowed by the console', async () => {
  for (const path of ['/api/nope', '/v1/nope', '/tag/9/nope', '/health', '/metrics/x']) {
    const res = await fetch(s.url + path);
    assert.equal(res.status, 404, path);
    assert.equal((await res.json()).error.code, 'ENSEMBLE_ERR_NOT_FOUND', path);
  }
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${s.url}/metrics`)).status, 200);
  assert.equal((await fetch(`${s.url}/api/workspaces`)).status, 401);
});

test('path traversal out of the console folder is refused', async () => {
  const res = await fetch(`${s.url}/..%2F..%2Fpackage.json`);
  const text = await res.text();
  assert.doesNotMatch(text, /"workspaces"/);
});

test('without a build, / explains how to build the console', async () => {
  const app = Fastify();
  registerErrorHandling(app);
  await app.register(async (scope) => registerConsoleStatic(scope, { dir: join(s.dir, 'no-console') }));
  const res = await app.inject({ method: 'GET', url: '/sources' });
  assert.equal(res.statusCode, 503);
  assert.match(res.body, /npm run build:console/);
  await app.close();
});

test('property: any path is the console page, one of its files, or the server\'s own JSON 404 — never a file outside the folder', async () => {
  // A console folder of its own, and a secret beside it that no path may reach.
  const root = join(s.dir, 'fixture-console');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><div id="root">INDEX</div>');
  writeFileSync(join(root, 'assets', 'app-1a2b3c.js'), 'ASSET');
  writeFileSync(join(root, 'robots.txt'), 'ROBOTS');
  writeFileSync(join(s.dir, 'secret.txt'), 'SECRET');
  const app = Fastify();
  registerErrorHandling(app);
  app.get('/api/known', async () => ({ ok: true }));
  await app.register(async (scope) => registerConsoleStatic(scope, { dir: root }));
  const segment = fc.oneof(
    fc.constantFrom('api', 'v1', 'tag', 'tag.js', 'health', 'healthz', 'metrics', 'assets', 'index.html', 'robots.txt', 'app-1a2b3c.js', 'secret.txt', '..', '%2e%2e', '%2F', '..%2F', 'profiles', 'prf_1'),
    fc.stringMatching(/^[a-zA-Z0-9._~-]{1,12}$/),
  );
  await fc.assert(fc.asyncProperty(fc.array(segment, { minLength: 0, maxLength: 5 }), fc.boolean(), async (parts, query) => {
    const path = `/${parts.join('/')}`;
    const res = await app.inject({ method: 'GET', url: query ? `${path}?q=1` : path });
    assert.doesNotMatch(res.body, /SECRET/, path);
    if (new URL(path, 'http://console.test').pathname === '/api/known') return assert.equal(res.statusCode, 200);
    // What a browser would request: the WHATWG URL parser's normalised path.
    const browserPath = new URL(path, 'http://console.test').pathname;
    if (/^\/(api|v1|tag|tag\.js|health|healthz|metrics)(\/|$)/.test(browserPath)) {
      assert.equal(res.statusCode, 404, path);
      assert.equal(res.json().error.code, 'ENSEMBLE_ERR_NOT_FOUND', path);
      return;
    }
    if (res.statusCode === 404) {
      // Only a missing asset, or a path that does not decode to something inside the folder, is a 404.
      // (`/./assets/x` is the missing asset `/assets/x`.)
      assert.ok(browserPath.startsWith('/assets/') || /%2e%2e|\.\./i.test(path) || /%2F/i.test(path), path);
      return;
    }
    assert.equal(res.statusCode, 200, path);
    // The server decodes `%2F` and resolves `..` and a trailing `/` inside the folder: a path that
    // resolves to one of its files is that file (still never one outside, checked above).
    let decoded = browserPath;
    try { decoded = posix.normalize(decodeURIComponent(browserPath)).replace(/(.)\/+$/, '$1'); } catch { /* not decodable: as given */ }
    if (browserPath === '/assets/app-1a2b3c.js' || decoded === '/assets/app-1a2b3c.js') assert.equal(res.body, 'ASSET');
    else if (browserPath === '/robots.txt' || decoded === '/robots.txt') assert.equal(res.body, 'ROBOTS');
    else assert.match(res.body, /INDEX/, path);
  }), { numRuns: 300, examples: [[['.', 'assets', 'api'], false]] });
  await app.close();
});

