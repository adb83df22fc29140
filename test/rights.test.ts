/**
 * Data-subject rights end to end, on a real server, DuckDB file and event log: access (JSON and
 * HTML, with each segment's logic), portability, rectification, restriction, objection, and
 * erasure — after which every table and every file of the store is searched for the person's
 * identifiers, their lookup hashes and their profile ids, and the person's devices cannot bring
 * them back without new consent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { storeContents } from './helpers/store-scan.js';
import { ADMIN_TOKEN, basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

const READER = 'reader-token-rights-0123456789';
let s: TestServer;
before(async () => { s = await startServer({ readerToken: READER }); });
after(async () => { await s.close(); removeDir(s.dir); });

const uid = () => randomUUID().slice(0, 8);
const ws = () => `/api/workspaces/${s.workspaceId}`;

async function send(batch: unknown[]): Promise<any> {
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await s.settle();
  return r.body;
}

async function lookup(type: string, value: string): Promise<any> {
  const r = await s.api('GET', `${ws()}/profiles/lookup?type=${type}&value=${encodeURIComponent(value)}`);
  return r.status === 200 ? r.body : null;
}

async function request(body: unknown): Promise<any> {
  const r = await s.api('POST', `${ws()}/privacy/requests`, body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

async function members(segmentId: string): Promise<Set<string>> {
  await s.settle();
  await s.ensemble.segments.writer.drain();
  return new Set(s.ensemble.segments.engine.members(s.workspaceId, segmentId) ?? []);
}

/** Runs the `ensemble` command as a DPO would. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(import.meta.dirname, '..', 'src', 'main', 'cli.js'), ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A person with two devices merged by login, an email, consent, and some activity. */
async function person(events = 6): Promise<{ email: string; userId: string; anons: string[]; profile: any }> {
  const [email, userId, a1, a2] = [`p${uid()}@Example.com`, `u-${uid()}`, `a-${uid()}`, `a-${uid()}`];
  const batch: unknown[] = [
    { type: 'page', anonymousId: a1, name: 'Home', context: { consent: { categoryPreferences: { advertising: true, analytics: true } } } },
    { type: 'identify', anonymousId: a1, userId, traits: { email, firstName: 'Ada', tier: 'gold' } },
    { type: 'track', anonymousId: a2, event: 'App Opened' },
    { type: 'identify', anonymousId: a2, userId },
  ];
  for (let i = 0; i < events; i++) batch.push({ type: 'track', userId, event: 'Product Viewed', properties: { sku: `sku-${i}`, price: 10 + i } });
  await send(batch);
  const profile = await lookup('user_id', userId);
  assert.ok(profile, 'the person has a profile');
  assert.ok(profile.mergedFrom.length >= 1, 'two devices were merged');
  return { email, userId, anons: [a1, a2], profile };
}

test('a request is refused whole when its fields do not fit its type; ids and due dates are right', async () => {
  for (const [body, code] of [
    [{ type: 'erasure', identifier: { type: 'email', value: 'x@example.com' }, traits: { a: 1 } }, 'ENSEMBLE_ERR_RIGHTS_REQUEST_INVALID'],
    [{ type: 'rectification', identifier: { type: 'email', value: 'x@example.com' } }, 'ENSEMBLE_ERR_RIGHTS_REQUEST_INVALID'],
    [{ type: 'objection', identifier: { type: 'email', value: 'x@example.com' }, purposes: ['telepathy'] }, 'ENSEMBLE_ERR_PURPOSE_UNKNOWN'],
    [{ type: 'access', identifier: { type: 'shoe_size', value: '42' } }, 'ENSEMBLE_ERR_IDENTIFIER_TYPE'],
    [{ type: 'forget-me', identifier: { type: 'email', value: 'x@example.com' } }, 'ENSEMBLE_ERR_VALIDATION'],
  ] as const) {
    const r = await s.api('POST', `${ws()}/privacy/requests`, body);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error.code, code);
  }
  const unknown = await request({ type: 'access', identifier: { type: 'email', value: 'nobody@example.com' }, note: 'ticket 7' });
  assert.equal(unknown.status, 'completed');
  assert.equal(unknown.result.found, false);
  assert.equal(unknown.profileId, null);
  assert.equal(Date.parse(unknown.dueAt) - Date.parse(unknown.receivedAt), 30 * 86_400_000);
  assert.deepEqual(unknown.trail.map((t: any) => t.status), ['received', 'completed']);
  assert.equal(unknown.trail[0].note, 'ticket 7');
  assert.equal((await s.api('GET', `${ws()}/privacy/requests/${unknown.id}`)).body.id, unknown.id);
  assert.equal((await s.api('GET', `${ws()}/privacy/requests/dsr_nope`)).status, 404);
  const list = await s.api('GET', `${ws()}/privacy/requests`);
  assert.ok(list.body.requests.some((r: any) => r.id === unknown.id));
  const stored = JSON.stringify(list.body);
  assert.ok(!stored.includes('nobody@example.com'), 'a request never keeps the identifier value');
});

test('the CLI files and follows requests through the running server', async () => {
  const p = await person(1);
  const env = { ENSEMBLE_ADMIN_TOKEN: ADMIN_TOKEN, ENSEMBLE_URL: s.url };
  const filed = await cli(['privacy', 'request', '--workspace', s.workspaceId, '--type', 'objection', '--identifier', `user_id=${p.userId}`, '--purposes', 'advertising', '--note', 'phone call'], env);
  assert.equal(filed.code, 0, filed.stderr);
  const r = JSON.parse(filed.stdout);
  assert.equal(r.status, 'completed');
  assert.deepEqual(r.result.purposes, ['advertising']);
  const status = await cli(['privacy', 'status', '--workspace', s.workspaceId, '--id', r.id], env);
  assert.equal(JSON.parse(status.stdout).id, r.id);
  const bad = await cli(['privacy', 'request', '--workspace', s.workspaceId, '--type', 'erasure', '--identifier', 'shoe_size=42'], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /ENSEMBLE_ERR_IDENTIFIER_TYPE/);
  const noToken = await cli(['privacy', 'list', '--workspace', s.workspaceId], { ENSEMBLE_ADMIN_TOKEN: '', ENSEMBLE_URL: s.url });
  assert.equal(noToken.code, 2);
});

test('access: every identifier in clear, traits with their source, events, segments with their logic and why, consents; HTML for the person; portability is the machine-readable part', async () => {
  const p = await person(3);
  const seg = await s.api('POST', `${ws()}/segments`, { name: 'Gold <tier>', description: 'Loyal & frequent', definition: { kind: 'trait', trait: 'tier', op: 'eq', value: 'gold' } });
  assert.equal(seg.status, 201, JSON.stringify(seg.body));
  await members(seg.body.id);
  const r = await request({ type: 'access', identifier: { type: 'email', value: p.email.toLowerCase() } });
  assert.equal(r.status, 'completed');
  assert.equal(r.profileId, p.profile.id);
  const bundle = await fetch(`${s.url}${r.bundle}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(bundle.status, 200);
  const b = await bundle.json() as any;
  const idValues = b.identifiers.map((i: any) => `${i.type}:${i.value}`);
  for (const v of [`email:${p.email.toLowerCase()}`, `user_id:${p.userId}`, `anonymous_id:${p.anons[0]}`, `anonymous_id:${(p.anons[1] as string)}`]) assert.ok(idValues.includes(v), v);
  const tier = b.traits.find((t: any) => t.name === 'tier');
  assert.equal(tier.value, 'gold');
  assert.equal(tier.sourceName, 'Web');
  assert.equal(b.events.length, 7, 'every event of both devices');
  assert.ok(b.events.some((e: any) => JSON.stringify(e).includes(p.email.toLowerCase())), 'events show identifiers in clear, not as pseudonyms');
  const inSeg = b.segments.find((x: any) => x.id === seg.body.id);
  assert.deepEqual(inSeg.logic, { kind: 'trait', trait: 'tier', op: 'eq', value: 'gold' });
  assert.equal(inSeg.whyYouMatch.matched, true);
  assert.equal(b.consents.current.advertising.status, 'granted');
  assert.deepEqual(b.recipients, []);
  assert.match(b.retention.events, /396 days/);

  const html = await (await fetch(`${s.url}${r.bundle}?format=html`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
  assert.ok(html.includes('Gold &lt;tier&gt;') && !html.includes('Gold <tier>'), 'values are escaped');
  assert.ok(html.includes(p.email.toLowerCase()));
  const reader = await fetch(`${s.url}${r.bundle}`, { headers: { authorization: `Bearer ${READER}` } });
  assert.equal(reader.status, 403, 'the reader token never downloads personal data in clear');

  const port = await request({ type: 'portability', identifier: { type: 'user_id', value: p.userId } });
  const pb = await (await fetch(`${s.url}${port.bundle}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json() as any;
  assert.deepEqual(Object.keys(pb).sort(), ['consents', 'events', 'generatedAt', 'identifiers', 'requestId', 'traits']);
  assert.equal(pb.events.length, 7);
  await s.api('DELETE', `${ws()}/segments/${seg.body.id}`);
});

test('rectification corrects traits through the pipeline (segments follow); identifiers are not rectified', async () => {
  const p = await person(1);
  const seg = await s.api('POST', `${ws()}/segments`, { name: 'Silver', definition: { kind: 'trait', trait: 'tier', op: 'eq', value: 'silver' } });
  assert.ok(!(await members(seg.body.id)).has(p.profile.id));
  const r = await request({ type: 'rectification', identifier: { type: 'user_id', value: p.userId }, traits: { tier: 'silver', firstName: 'Augusta' } });
  assert.equal(r.status, 'completed', JSON.stringify(r));
  const after = await lookup('user_id', p.userId);
  assert.equal(after.traits.tier, 'silver');
  assert.equal(after.traits.firstName, 'Augusta');
  assert.equal(after.traitSources.tier.sourceId, 'privacy-rectification');
  assert.ok((await members(seg.body.id)).has(p.profile.id), 're-evaluated in segments');
  const bad = await s.api('POST', `${ws()}/privacy/requests`, { type: 'rectification', identifier: { type: 'user_id', value: p.userId }, traits: { email: 'new@example.com' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_RIGHTS_REQUEST_INVALID');
  await s.api('DELETE', `${ws()}/segments/${seg.body.id}`);
});

test('restriction takes the person out of every segment until lifted; objection denies the purposes at once', async () => {
  const p = await person(2);
  const all = await s.api('POST', `${ws()}/segments`, { name: 'Viewers', definition: { kind: 'event', event: 'Product Viewed', within: '30d' } });
  const ads = await s.api('POST', `${ws()}/segments`, { name: 'Ads', definition: { kind: 'event', event: 'Product Viewed', within: '30d' }, purposes: ['advertising'] });
  assert.ok((await members(all.body.id)).has(p.profile.id));
  assert.ok((await members(ads.body.id)).has(p.profile.id));

  const restrict = await request({ type: 'restriction', identifier: { type: 'user_id', value: p.userId } });
  assert.equal(restrict.result.restricted, true);
  assert.ok(!(await members(all.body.id)).has(p.profile.id), 'restricted: in no segment');
  await send([{ type: 'track', userId: p.userId, event: 'Product Viewed' }]);
  assert.ok(!(await members(all.body.id)).has(p.profile.id), 'new events do not bring a restricted person back');
  assert.equal((await lookup('user_id', p.userId)).eventCount, 7, 'the data is kept meanwhile');
  const lift = await request({ type: 'restriction', identifier: { type: 'user_id', value: p.userId }, lift: true });
  assert.equal(lift.result.restricted, false);
  assert.ok((await members(all.body.id)).has(p.profile.id), 'lifted: back');

  const obj = await request({ type: 'objection', identifier: { type: 'user_id', value: p.userId }, purposes: ['advertising'] });
  assert.deepEqual(obj.result.purposes, ['advertising']);
  assert.ok(!(await members(ads.body.id)).has(p.profile.id), 'objection to advertising: out of the advertising segment');
  assert.ok((await members(all.body.id)).has(p.profile.id), 'still in the others');
  const consents = await s.api('GET', `${ws()}/profiles/${p.profile.id}/consents`);
  assert.equal(consents.body.current.advertising.status, 'denied');
  assert.equal(consents.body.current.advertising.source, `objection:${obj.id}`);
  await s.api('DELETE', `${ws()}/segments/${all.body.id}`);
  await s.api('DELETE', `${ws()}/segments/${ads.body.id}`);
});

test('erasure removes the person from every table and file, destroys their keys, and their devices cannot bring them back without new consent', async () => {
  const p = await person(40);
  const other = await person(2);
  const seg = await s.api('POST', `${ws()}/segments`, { name: 'Viewers', definition: { kind: 'event', event: 'Product Viewed', within: '30d' } });
  assert.ok((await members(seg.body.id)).has(p.profile.id));
  await request({ type: 'access', identifier: { type: 'user_id', value: p.userId } });
  // Reads of the profile are audited: the audit log must not keep its id either.
  assert.equal((await s.api('GET', `${ws()}/profiles/${p.profile.id}`)).status, 200);
  const full = await lookup('user_id', p.userId);
  const secrets = [
    p.email, p.email.toLowerCase(), p.userId, ...p.anons, full.id, ...full.mergedFrom,
    ...full.identifiers.map((i: any) => i.hash as string),
  ];

  const r = await request({ type: 'erasure', identifier: { type: 'email', value: p.email } });
  assert.equal(r.status, 'completed', JSON.stringify(r));
  assert.equal(r.profileId, null, 'the receipt keeps no profile id');
  assert.equal(r.result.deleted.events, 44);
  assert.equal(r.result.deleted.profiles, 2);
  // A profile gets a data key when it first has a value to seal: one or both of the merged two.
  assert.ok(r.result.deleted.profile_keys >= 1, JSON.stringify(r.result.deleted));
  assert.ok(r.result.deleted.event_log >= 44, JSON.stringify(r.result.deleted));
  assert.equal(r.result.deleted.suppressions, 4);
  assert.equal(await lookup('user_id', p.userId), null);
  assert.equal((await s.api('GET', `${ws()}/profiles/${full.id}`)).status, 404);
  assert.ok(!(await members(seg.body.id)).has(full.id));
  const changes = await s.api('GET', `${ws()}/segments/${seg.body.id}/changes`);
  assert.ok(!JSON.stringify(changes.body).includes(full.id), 'no membership change names them any more');
  assert.ok(await lookup('user_id', other.userId), 'someone else is untouched');
  const earlier = await s.api('GET', `${ws()}/privacy/requests`);
  assert.ok(!JSON.stringify(earlier.body).includes(full.id), 'earlier requests about them no longer name the profile');

  await s.close();
  // The erasure asked for a compaction; a start does it before opening the store, and so does `ensemble compact` on a stopped server.
  const compact = await cli(['compact', '--data', join(s.dir, 'ensemble.duckdb')], {});
  assert.equal(compact.code, 0, compact.stderr);
  assert.match(compact.stderr, /Compacted .* → \d+ bytes/);
  const { files, tables } = await storeContents(s.dir);
  for (const secret of secrets) {
    for (const [name, text] of tables) assert.ok(!text.includes(secret), `table ${name} still holds ${secret}`);
    for (const [name, text] of files) assert.ok(!text.includes(secret), `file ${name} still holds ${secret}`);
  }
  assert.ok([...tables.values()].some((t) => t.includes(other.userId)), 'the scan does find what is there');
  assert.ok(JSON.parse(tables.get('audit_log') as string).length > 0);

  s = await startServer({ readerToken: READER }, s.dir);
  // The person's phone keeps sending events: they are dropped...
  await send([
    { type: 'track', anonymousId: (p.anons[1] as string), event: 'App Opened' },
    { type: 'identify', userId: p.userId, traits: { email: p.email } },
  ]);
  assert.equal(await lookup('user_id', p.userId), null, 'no resurrection');
  assert.equal(await lookup('anonymous_id', (p.anons[1] as string)), null);
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  assert.match(metrics, /ensemble_events_suppressed_total 2/);
  // ...even when they carry the grant the device stored before the erasure (no decision time, or an older one)...
  const before = new Date(Date.now() - 86_400_000).toISOString();
  await send([
    { type: 'page', anonymousId: (p.anons[1] as string), name: 'Home', context: { consent: { categoryPreferences: { analytics: true } } } },
    { type: 'page', anonymousId: (p.anons[1] as string), name: 'Home', context: { consent: { categoryPreferences: { analytics: true }, decidedAt: before } } },
  ]);
  assert.equal(await lookup('anonymous_id', (p.anons[1] as string)), null, 'a relayed old grant brings no one back');
  // ...until the person comes back and consents again.
  await send([{ type: 'page', anonymousId: (p.anons[1] as string), name: 'Home', context: { consent: { categoryPreferences: { analytics: true }, decidedAt: new Date().toISOString() } } }]);
  assert.ok(await lookup('anonymous_id', (p.anons[1] as string)), 'a new consent lifts the suppression');
  await send([{ type: 'track', anonymousId: (p.anons[1] as string), event: 'Later' }]);
  assert.equal((await lookup('anonymous_id', (p.anons[1] as string))).eventCount, 2);
});
