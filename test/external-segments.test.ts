/**
 * External data in segments, end to end: a local weather API pulled by an external source; a
 * segment "the temperature in the profile's city is above 25 °C" validated against the
 * source's fields, filled from what is held, moved by each new pull without any event of the
 * people in it (announced with cause `external`), and equal to its SQL at every step.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { removeDir, startServer, type TestServer } from './helpers/server.js';
import { sendEvents, settleAll, until as delivered } from './helpers/activation.js';
import { startPlatform, type PlatformServer } from './helpers/platform-server.js';

let s: TestServer;
let api: Server;
let apiUrl = '';
let weather: Record<string, number> = { Paris: 27, Lyon: 22 };
let hook: PlatformServer;

before(async () => {
  s = await startServer();
  api = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ list: Object.entries(weather).map(([name, temp]) => ({ name, main: { temp } })) }));
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/weather`;
  hook = await startPlatform();
});
after(async () => {
  await s.close();
  await new Promise((r) => api.close(r));
  await hook.close();
  removeDir(s.dir);
});

const ws = () => `/api/workspaces/${s.workspaceId}`;

test('a segment on the temperature in the profile\'s city follows each pull, with no event of theirs', async () => {
  const src = await s.api('POST', `${ws()}/external-sources`, {
    id: 'weather', name: 'City weather', url: apiUrl, everySeconds: 3600, mapping: { items: '/list', key: '/name', fields: { temperature: '/main/temp' } },
  });
  assert.equal(src.status, 201, JSON.stringify(src.body));
  await until(async () => (await s.api('GET', `${ws()}/external-sources/weather`)).body.status.itemCount === 2, 'the first pull');

  const unknownField = await s.api('POST', `${ws()}/segments`, { name: 'x', definition: { kind: 'external', source: 'weather', key: 'city', field: 'humidity', op: 'gt', value: 1 } });
  assert.equal(unknownField.status, 400);
  assert.match(JSON.stringify(unknownField.body), /unknown_external_field/);

  await sendEvents(s, [
    { type: 'identify', anonymousId: 'ext-ann', traits: { city: 'paris ' } },
    { type: 'identify', anonymousId: 'ext-bob', traits: { city: 'LYON' } },
    { type: 'identify', anonymousId: 'ext-cat', traits: { city: 'Brest' } },
  ]);
  const seg = await s.api('POST', `${ws()}/segments`, { name: 'Hot where they live', definition: { kind: 'external', source: 'weather', key: 'city', field: 'temperature', op: 'gt', value: 25 } });
  assert.equal(seg.status, 201, JSON.stringify(seg.body));
  const id = async (anon: string) => (await s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anon}`)).body.id as string;
  const [ann, bob] = [await id('ext-ann'), await id('ext-bob')];
  const members = async () => {
    await s.settle();
    return ((await s.api('GET', `${ws()}/segments/${seg.body.id}/members`)).body.members as any[]).map((m) => m.profileId ?? m.id ?? m).sort();
  };
  const agrees = async () => {
    const r = await s.api('POST', `${ws()}/segments/${seg.body.id}/reconcile`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.missing, r.body.extra], [[], []], `the engine agrees with SQL: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.sql, r.body.incremental);
  };
  assert.deepEqual(await members(), [ann]);
  await agrees();
  // A journey entered on the segment: the weather alone starts it.
  const d = await s.api('POST', `${ws()}/destinations`, { type: 'webhook', name: 'Ice-cream offer', purpose: 'necessary', config: { url: `${hook.url}/heat`, secret: 'whsec-external-test-0123456789' } });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  const j = await s.api('POST', `${ws()}/journeys`, {
    name: 'Heatwave offer', entry: { kind: 'segment', segmentId: seg.body.id }, start: 'offer',
    steps: { offer: { kind: 'webhook', destinationId: d.body.id, next: 'done' }, done: { kind: 'exit' } },
  });
  assert.equal(j.status, 201, JSON.stringify(j.body));
  const heatFor = () => hook.requests.filter((r) => r.url === '/heat').map((r) => r.body).join('\n');

  weather = { Paris: 19, Lyon: 29 };
  const pulled = await s.api('POST', `${ws()}/external-sources/weather/pull`);
  assert.equal(pulled.status, 200, JSON.stringify(pulled.body));
  assert.deepEqual(await members(), [bob].sort(), 'Ann left and Bob entered on the pull alone');
  await agrees();
  await settleAll(s);
  await delivered(s, () => heatFor().includes(bob), 'the journey\'s webhook for Bob');
  assert.ok(!heatFor().includes(ann), 'Ann, who was in the segment before the journey existed and then left, got nothing');
  const changes = (await s.api('GET', `${ws()}/segments/${seg.body.id}/changes`)).body;
  const causes = JSON.stringify(changes);
  assert.match(causes, /"external"/, causes);
});

async function until(done: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await done())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
