/**
 * The browser-facing activation endpoints on a real server: `GET /v1/personalize` (write key,
 * CORS, segments and exposed traits only with personalization consent, never personal
 * identifiers nor special-category segments), and cookie sync (`/v1/sync/{partner}`: redirect to
 * the partner, store its user id as an identifier of the visitor when advertising is permitted)
 * feeding the Xandr connector, whose items are keyed by that id.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';
import { startPlatform, type PlatformServer } from './helpers/platform-server.js';
import { sendEvents } from './helpers/activation.js';

let s: TestServer;
let xandr: PlatformServer;
const prefs = (p: Record<string, boolean>) => ({ consent: { categoryPreferences: p } });

before(async () => {
  s = await startServer({ activation: { syncPartners: { xandr: { url: 'https://ib.adnxs.example/getuid?{callback}', macro: '$UID' } } } });
  xandr = await startPlatform((req) => {
    if (req.url === '/auth') return { status: 200, body: { response: { status: 'OK', token: 'tok-1' } } };
    if (req.url.startsWith('/batch-segment')) return { status: 200, body: { response: { status: 'OK', batch_segment_upload_job: { upload_url: `${xandr.url}/upload/1`, job_id: 'job-1' } } } };
    return { status: 200, body: { response: { status: 'OK' } } };
  });
});
after(async () => {
  await s.close();
  await xandr.close();
  removeDir(s.dir);
});

const uid = () => randomUUID().slice(0, 8);
const ws = () => `/api/workspaces/${s.workspaceId}`;

const send = (batch: unknown[]) => sendEvents(s, batch);

test('personalize: segments and exposed traits with personalization consent only, CORS, never personal identifiers', async () => {
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Pro plan', definition: { kind: 'trait', trait: 'plan', op: 'eq', value: 'pro' } })).body;
  const refused = await s.api('PUT', `${ws()}/personalization`, { traits: ['plan', 'email'] });
  assert.equal(refused.status, 400, 'an email is never exposed to browsers');
  assert.equal((await s.api('PUT', `${ws()}/personalization`, { traits: ['plan', 'tier'] })).status, 200);

  const yes = `p-${uid()}`;
  const no = `p-${uid()}`;
  await send([
    { type: 'identify', anonymousId: yes, traits: { plan: 'pro', tier: 'gold', email: `${yes}@example.com`, shoe: 42 }, context: prefs({ personalization: true }) },
    { type: 'identify', anonymousId: no, traits: { plan: 'pro', tier: 'gold' }, context: prefs({ personalization: false }) },
  ]);
  const res = await fetch(`${s.url}/v1/personalize?anonymousId=${yes}&writeKey=${s.writeKey}`, { headers: { origin: 'https://shop.example' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.deepEqual(await res.json(), { consent: true, segments: [seg.id], traits: { plan: 'pro', tier: 'gold' } });

  const without = await (await fetch(`${s.url}/v1/personalize?anonymousId=${no}&writeKey=${s.writeKey}`)).json();
  assert.deepEqual(without, { consent: false, segments: [], traits: {} });
  const unknown = await (await fetch(`${s.url}/v1/personalize?anonymousId=nobody-${uid()}`, { headers: { authorization: basic(s.writeKey) } })).json();
  assert.deepEqual(unknown, { consent: false, segments: [], traits: {} });
  assert.equal((await fetch(`${s.url}/v1/personalize?anonymousId=${yes}`)).status, 401, 'the write key is required');
});

test('cookie sync: redirect to the partner, store its id as the visitor\'s identifier, and the Xandr connector uses it', async () => {
  const seg = (await s.api('POST', `${ws()}/segments`, { name: 'Shoppers', purposes: ['advertising'], definition: { kind: 'event', event: 'Shopped' } })).body;
  const d = await s.api('POST', `${ws()}/destinations`, {
    type: 'xandr', name: 'Xandr', segments: [seg.id],
    config: { memberId: 958, username: 'api-user', password: 'api-password-123', apiBase: xandr.url, segments: { [seg.id]: 4242 } },
  });
  assert.equal(d.status, 201, JSON.stringify(d.body));

  const anon = `x-${uid()}`;
  const noConsent = `x-${uid()}`;
  await send([
    { type: 'page', anonymousId: anon, name: 'Home', context: prefs({ advertising: true }) },
    { type: 'page', anonymousId: noConsent, name: 'Home', context: prefs({ advertising: false }) },
  ]);
  const refused = await fetch(`${s.url}/v1/sync/xandr?writeKey=${s.writeKey}&anonymousId=${noConsent}`, { redirect: 'manual' });
  assert.equal(refused.status, 200, 'no consent: a pixel, no redirect');
  assert.equal(refused.headers.get('content-type'), 'image/gif');
  assert.equal((await fetch(`${s.url}/v1/sync/nobody?writeKey=${s.writeKey}&anonymousId=${anon}`)).status, 404);

  const first = await fetch(`${s.url}/v1/sync/xandr?writeKey=${s.writeKey}&anonymousId=${anon}`, { redirect: 'manual' });
  assert.equal(first.status, 302);
  const location = first.headers.get('location')!;
  assert.ok(location.startsWith('https://ib.adnxs.example/getuid?'));
  const back = location.slice('https://ib.adnxs.example/getuid?'.length);
  assert.ok(back.endsWith('&uid=$UID'), back);
  // The partner replaces its macro with its user id and sends the visitor back.
  const second = await fetch(back.replace('$UID', '8823456789012345678'), { redirect: 'manual' });
  assert.equal(second.status, 200);
  await s.settle();
  const who = await s.api('GET', `${ws()}/profiles/lookup?type=xandr_id&value=8823456789012345678`);
  assert.equal(who.status, 200, JSON.stringify(who.body));
  const pid = (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon}`)).body.id;
  assert.equal(who.body.id, pid);

  await send([{ type: 'track', anonymousId: anon, event: 'Shopped' }, { type: 'track', anonymousId: noConsent, event: 'Shopped' }]);
  const end = Date.now() + 5000;
  while (!xandr.requests.some((r) => r.url.startsWith('/upload/')) && Date.now() < end) { await new Promise((r) => setTimeout(r, 20)); await s.ensemble.activation.idle(); }
  const upload = xandr.requests.find((r) => r.url.startsWith('/upload/'));
  assert.ok(upload, 'a segment file was uploaded');
  const lines = upload.body.trim().split(/\r?\n/);
  assert.equal(lines.length, 1, 'only the consenting visitor');
  assert.match(lines[0]!, /^8823456789012345678,4242:/);
  await s.api('DELETE', `${ws()}/destinations/${d.body.id}`);
});
