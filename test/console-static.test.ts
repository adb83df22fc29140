/**
 * The server serves the built console at / with an SPA fallback, caches hashed assets for good
 * and index.html never, and never lets the console shadow its own paths.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
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
