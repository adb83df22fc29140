/**
 * Serving tag.js: the size budget (≤ 12 KB gzipped), gzip only when accepted, the cache scheme
 * (current URL: short max-age + ETag/304; versioned URL: immutable), the source's settings
 * embedded with ?k=, and stable errors for an unknown version or write key.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { settingsLiteral } from '../src/collect/routes/tag.js';
import { removeDir, startServer, type TestServer } from './helpers/server.js';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

const get = (path: string, headers: Record<string, string> = {}) => fetch(s.url + path, { headers });
/** The bytes as sent (fetch would decompress them). */
const raw = (path: string, headers: Record<string, string>) => new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
  httpGet(s.url + path, { headers }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
  }).on('error', reject);
});

test('tag.js is at most 12 KB gzipped, and gzip is used only when accepted', async () => {
  const gz = await raw('/tag.js', { 'accept-encoding': 'gzip, deflate' });
  assert.equal(gz.status, 200);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.match(gz.headers['content-type'] ?? '', /^application\/javascript/);
  assert.equal(gz.headers.vary, 'Accept-Encoding');
  const bytes = gz.body;
  assert.ok(bytes.length <= 12 * 1024, `tag.js is ${bytes.length} bytes gzipped, over the 12 KB budget`);
  const plain = await raw('/tag.js', { 'accept-encoding': 'identity' });
  assert.equal(plain.headers['content-encoding'], undefined);
  const text = plain.body.toString();
  assert.equal(gunzipSync(bytes).toString(), text);
  assert.ok(text.includes('ensemble-tag'), 'the bundle names its library');
  const refused = await raw('/tag.js', { 'accept-encoding': 'gzip;q=0' });
  assert.equal(refused.headers['content-encoding'], undefined);
});

test('the current URL revalidates with its ETag; a versioned URL is immutable; another version is refused', async () => {
  const first = await get('/tag.js');
  const etag = first.headers.get('etag');
  assert.ok(etag);
  assert.equal(first.headers.get('cache-control'), 'public, max-age=300');
  const version = first.headers.get('x-ensemble-tag-version');
  const manifest = JSON.parse(readFileSync(new URL('../../tag/build/manifest.json', import.meta.url), 'utf8'));
  assert.equal(version, manifest.version);
  assert.equal((await get('/tag.js', { 'if-none-match': etag })).status, 304);
  assert.equal((await get('/tag.js', { 'if-none-match': '"other"' })).status, 200);
  const pinned = await get(`/tag/${version}/tag.js`);
  assert.equal(pinned.status, 200);
  assert.equal(pinned.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(await pinned.text(), await first.text(), 'the same bytes under both URLs');
  const other = await get('/tag/0.0.0-nope/tag.js');
  assert.equal(other.status, 404);
  assert.equal((await other.json()).error.code, 'ENSEMBLE_ERR_TAG_VERSION');
});

test('?k= embeds the source consent mode; an unknown key is refused', async () => {
  const standard = await (await get(`/tag.js?k=${s.writeKey}`)).text();
  assert.ok(standard.includes(JSON.stringify(JSON.stringify({ k: s.writeKey, consentMode: 'standard' }))));
  const strict = await s.api('POST', `/api/workspaces/${s.workspaceId}/sources`, { name: 'Strict site', kind: 'website', consentMode: 'strict' });
  const version = (await get('/tag.js')).headers.get('x-ensemble-tag-version');
  const res = await get(`/tag/${version}/tag.js?k=${strict.body.writeKey}`);
  assert.equal(res.headers.get('cache-control'), 'public, max-age=300', 'settings can change: never immutable');
  assert.ok((await res.text()).includes(JSON.stringify(JSON.stringify({ k: strict.body.writeKey, consentMode: 'strict' }))));
  const unknown = await get('/tag.js?k=not-a-key');
  assert.equal(unknown.status, 401);
  assert.equal((await unknown.json()).error.code, 'ENSEMBLE_ERR_WRITE_KEY_INVALID');
  const empty = await get('/tag.js?k=');
  assert.equal(empty.status, 400);
  assert.equal((await empty.json()).error.code, 'ENSEMBLE_ERR_VALIDATION');
});

test('the README shows the snippet the browser tests load the tag with', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const snippet = readFileSync(new URL('../../tag/snippet.html', import.meta.url), 'utf8');
  assert.ok(readme.includes(snippet), 'README.md and tag/snippet.html differ: copy the snippet into the README');
});

test('embedded settings survive any write key: the literal is valid JavaScript that parses back to them', () => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.constantFrom('standard', 'strict'), (k, consentMode) => {
    const code = settingsLiteral({ k, consentMode });
    assert.deepEqual(JSON.parse(runInNewContext(code) as string), { k, consentMode });
  }));
});
