/**
 * External data sources against a local HTTP server playing a weather API: definitions and their
 * validation, per-key and list pulls, retries (500, 429 with Retry-After), failures that keep the
 * previous values (404, timeout, oversized body, a redirect to another host), the schedule moved
 * by the clock, sealed headers (not in GET, logs or the store file), values kept across a
 * restart, and exactly the changed keys reported to listeners.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { removeDir, shiftedClock, startServer, tempDir, type TestServer } from './helpers/server.js';
import { storeContents } from './helpers/store-scan.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A weather API: `/weather?q=City` (one city) and `/list` (every city); `next` handlers answer first. */
interface WeatherApi {
  url: string;
  temps: Map<string, number>;
  requests: { path: string; headers: IncomingMessage['headers'] }[];
  next: Handler[];
  /** The key a test's handler refused. */
  failed?: string;
  close(): Promise<void>;
}

async function weatherApi(): Promise<WeatherApi> {
  const temps = new Map([['Paris', 27], ['Lyon', 22], ['Nice', 30]]);
  const requests: WeatherApi['requests'] = [];
  const next: Handler[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers });
    const override = next.shift();
    if (override) { override(req, res); return; }
    const u = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (u.pathname === '/weather') {
      const city = [...temps.keys()].find((c) => c.toLowerCase() === (u.searchParams.get('q') ?? '').toLowerCase());
      if (city === undefined) { json(404, { cod: '404', message: 'city not found' }); return; }
      json(200, { name: city, main: { temp: temps.get(city), humidity: 40 }, weather: [{ main: (temps.get(city) ?? 0) > 25 ? 'Clear' : 'Clouds' }] });
      return;
    }
    if (u.pathname === '/list') {
      json(200, { count: temps.size, list: [...temps].map(([name, temp]) => ({ name, main: { temp } })).concat([{ name: '', main: { temp: 0 } }]) });
      return;
    }
    json(404, { message: 'no route' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, temps, requests, next,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const SETTINGS = { external: { retries: 2, retryBaseMs: 5, retryMaxMs: 200, timeoutMs: 400, tickMs: 20, maxBodyBytes: 4096 } };
const API_KEY = 'sk-live-7f3a9c1e55b0d2aa';
const QUERY_SECRET = 'appid-91c2e7d4b8';

let api: WeatherApi;
let s: TestServer;
before(async () => {
  api = await weatherApi();
  s = await startServer(SETTINGS);
});
after(async () => {
  await s.close();
  removeDir(s.dir);
  await api.close();
});

const base = () => `/api/workspaces/${s.workspaceId}/external-sources`;
const perCity = (id: string, extra: Record<string, unknown> = {}) => ({
  id, name: 'Weather per city', url: `${api.url}/weather?q={key}`, keys: ['Paris', 'Lyon'], everySeconds: 900,
  headers: { 'X-Api-Key': API_KEY },
  mapping: { fields: { temperature: '/main/temp', condition: '/weather/0/main' } },
  ...extra,
});
const idle = (server = s) => server.ensemble.external.scheduler.idle();

test('a per-key source is pulled at creation, once per key, with its header; values are read normalised', async () => {
  const sent = api.requests.length;
  const created = await s.api('POST', base(), perCity('weather'));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(created.body.headers, { 'X-Api-Key': '••••' }, 'a header value is never shown');
  await idle();
  const seen = api.requests.slice(sent);
  assert.deepEqual(seen.map((r) => r.path).sort(), ['/weather?q=Lyon', '/weather?q=Paris']);
  assert.ok(seen.every((r) => r.headers['x-api-key'] === API_KEY), 'the header is sent');

  const ext = s.ensemble.external;
  assert.equal(ext.value(s.workspaceId, 'weather', '  PARIS ', 'temperature'), 27);
  assert.equal(ext.value(s.workspaceId, 'weather', 'lyon', 'condition'), 'Clouds');
  assert.equal(ext.value(s.workspaceId, 'weather', 'Nice', 'temperature'), undefined, 'a key not configured is not pulled');
  assert.equal(ext.hasField(s.workspaceId, 'weather', 'temperature'), true);
  assert.equal(ext.hasField(s.workspaceId, 'weather', 'humidity'), false, 'only mapped fields exist');
  assert.equal(ext.hasField(s.workspaceId, 'nothing', 'temperature'), false);

  const values = await s.api('GET', `${base()}/weather/values?key=${encodeURIComponent(' Paris')}`);
  assert.equal(values.status, 200);
  assert.deepEqual(values.body.values.map((v: any) => [v.key, v.fields]), [['paris', { temperature: 27, condition: 'Clear' }]]);
  const got = await s.api('GET', `${base()}/weather`);
  assert.equal(got.body.status.lastOutcome, 'ok');
  assert.equal(got.body.status.itemCount, 2);
  assert.equal(got.body.status.lastError, null);
  assert.equal(Date.parse(got.body.status.nextPullAt) - Date.parse(got.body.status.lastPullAt), 900_000, 'the next pull is a period after the last');
  assert.deepEqual((await s.api('GET', base())).body.externalSources.map((x: any) => x.id), ['weather']);
  assert.ok(!JSON.stringify(got.body).includes(API_KEY));
});

test('a list source maps items by a key pointer; items without a key are skipped; the query string stays out of the logs', async () => {
  const r = await s.api('POST', base(), {
    id: 'cities', name: 'All cities', url: `${api.url}/list?appid=${QUERY_SECRET}`, everySeconds: 3600,
    mapping: { items: '/list', key: '/name', fields: { temperature: '/main/temp' } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  await idle();
  const pulled = await s.api('POST', `${base()}/cities/pull`);
  assert.equal(pulled.status, 200);
  assert.equal(pulled.body.outcome, 'ok');
  assert.equal(pulled.body.itemCount, 3);
  assert.equal(pulled.body.skipped, 1, 'the item with an empty name');
  assert.equal(pulled.body.changed, 0, 'a second pull of the same answer changes nothing');
  assert.equal(s.ensemble.external.value(s.workspaceId, 'cities', 'nice', 'temperature'), 30);
  const logs = s.logs.join('');
  assert.ok(logs.includes('external source pulled'), 'pulls are logged');
  assert.ok(!logs.includes(QUERY_SECRET), 'a query string may carry an API key: never logged');
  assert.ok(!logs.includes(API_KEY));
});

test('definitions are validated with a JSON pointer and a code for every problem', async () => {
  const bad = await s.api('POST', base(), {
    id: 'Bad-Id', name: 'x', url: `ftp://example.test/{key}`, everySeconds: 60,
    headers: { 'Content-Length': '1', 'ok-header': 'line\r\nbreak' },
    mapping: { key: 'city', fields: { temperature: 'main/temp', 'bad name': '/x', fine: '/a~2b' } },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_EXTERNAL_SOURCE_INVALID');
  const got = bad.body.error.details.problems.map((p: any) => `${p.path} ${p.code}`).sort();
  assert.deepEqual(got, [
    '/headers/Content-Length header_reserved',
    '/headers/ok-header header_value',
    '/id id_invalid',
    '/keys keys_missing',
    '/mapping/fields/bad name field_name',
    '/mapping/fields/fine pointer_invalid',
    '/mapping/fields/temperature pointer_invalid',
    '/mapping/key key_without_items',
    '/mapping/key pointer_invalid',
    '/url url_scheme',
  ].sort());

  const cases: [Record<string, unknown>, string][] = [
    [{ url: `${api.url}/list`, keys: undefined, mapping: { fields: { t: '/t' } } }, '/mapping/items items_missing'],
    [{ url: `${api.url}/list`, keys: ['Paris'], mapping: { items: '', key: '/name', fields: { t: '/t' } } }, '/keys keys_without_placeholder'],
    [{ url: `${api.url}/list`, keys: undefined, mapping: { items: '', fields: { t: '/t' } } }, '/mapping/key key_missing'],
    [{ keys: ['Paris', ' paris '] }, '/keys/1 key_duplicate'],
    [{ url: 'http://{key}.example.test/w' }, '/url key_in_host'],
    [{ url: 'http://user:pw@example.test/w?q={key}' }, '/url url_credentials'],
    [{ url: 'not a url {key}' }, '/url url_invalid'],
    [{ mapping: { fields: {} } }, '/mapping/fields fields_empty'],
  ];
  for (const [change, expected] of cases) {
    const res = await s.api('POST', base(), { ...perCity('case'), ...change });
    assert.equal(res.status, 400, expected);
    assert.ok(res.body.error.details.problems.some((p: any) => `${p.path} ${p.code}` === expected), `${expected}: ${JSON.stringify(res.body.error.details.problems)}`);
  }
  const tooOften = await s.api('POST', base(), { ...perCity('often'), everySeconds: 59 });
  assert.equal(tooOften.body.error.code, 'ENSEMBLE_ERR_VALIDATION', 'the period is at least a minute');
  assert.equal((await s.api('GET', `${base()}/case`)).status, 404, 'nothing refused was stored');
  assert.equal((await s.api('GET', `${base()}/case`)).body.error.code, 'ENSEMBLE_ERR_EXTERNAL_SOURCE_NOT_FOUND');
  const twice = await s.api('POST', base(), perCity('weather'));
  assert.equal(twice.status, 409);
  assert.equal(twice.body.error.code, 'ENSEMBLE_ERR_EXTERNAL_SOURCE_EXISTS');
});

test('a 500 and a 429 with Retry-After are retried, and the pull succeeds', async () => {
  await s.api('POST', base(), perCity('retry', { keys: ['Nice'] }));
  await idle();
  const sent = api.requests.length;
  api.next.push((_q, res) => { res.writeHead(500); res.end('oops'); });
  api.next.push((_q, res) => { res.writeHead(429, { 'retry-after': '0' }); res.end(); });
  const r = await s.api('POST', `${base()}/retry/pull`);
  assert.equal(r.body.outcome, 'ok', JSON.stringify(r.body));
  assert.equal(api.requests.length - sent, 3, 'two retries then the answer');
  assert.equal(s.ensemble.external.value(s.workspaceId, 'retry', 'nice', 'temperature'), 30);
});

test('a 404 fails the pull without retrying, and the previous values are kept', async () => {
  await s.api('POST', base(), perCity('kept', { keys: ['Paris'] }));
  await idle();
  assert.equal(s.ensemble.external.value(s.workspaceId, 'kept', 'paris', 'temperature'), 27);
  const sent = api.requests.length;
  api.next.push((_q, res) => { res.writeHead(404, { 'content-type': 'application/json' }); res.end('{"message":"gone"}'); });
  const r = await s.api('POST', `${base()}/kept/pull`);
  assert.equal(r.body.outcome, 'failed');
  assert.equal(api.requests.length - sent, 1, 'a 404 is not retried');
  assert.match(r.body.errors[0].error, /http_404/);
  assert.equal(s.ensemble.external.value(s.workspaceId, 'kept', 'paris', 'temperature'), 27, 'the failed pull wiped nothing');
  const view = (await s.api('GET', `${base()}/kept`)).body;
  assert.equal(view.status.lastOutcome, 'failed');
  assert.match(view.status.lastError, /Paris: http_404/);
  assert.equal(view.status.itemCount, 1);
  assert.ok(Date.parse(view.status.lastSuccessAt) < Date.parse(view.status.lastPullAt));
  assert.equal((await s.api('GET', `${base()}/kept/values`)).body.values[0].fields.temperature, 27);
});

test('one failed key of several: the pull is partial, that key keeps its previous values, the others are refreshed', async () => {
  await s.api('POST', base(), perCity('partial', { keys: ['Paris', 'Lyon'] }));
  await idle();
  api.temps.set('Lyon', 18);
  // Keys are fetched four at a time: the first request answered gets the 404, whichever city it is.
  api.next.push((req, res) => { res.writeHead(404); res.end(); api.failed = new URL(req.url ?? '/', 'http://x').searchParams.get('q') ?? ''; });
  const r = await s.api('POST', `${base()}/partial/pull`);
  assert.equal(r.body.outcome, 'partial');
  const failed = api.failed as string;
  const other = failed === 'Paris' ? 'Lyon' : 'Paris';
  const ext = s.ensemble.external;
  assert.equal(ext.value(s.workspaceId, 'partial', failed, 'temperature'), failed === 'Paris' ? 27 : 22, 'the failed key kept its value');
  assert.equal(ext.value(s.workspaceId, 'partial', other, 'temperature'), other === 'Paris' ? 27 : 18, 'the other key was refreshed');
  api.temps.set('Lyon', 22);
});

test('a fetch that takes longer than the timeout fails the pull after its retries', async () => {
  await s.api('POST', base(), perCity('slow', { keys: ['Paris'] }));
  await idle();
  const sent = api.requests.length;
  // Never answered: the timeout abandons each attempt.
  for (let i = 0; i < 3; i++) api.next.push(() => undefined);
  const r = await s.api('POST', `${base()}/slow/pull`);
  assert.equal(r.body.outcome, 'failed');
  assert.match(r.body.errors[0].error, /timeout \(3 attempts\)/);
  assert.equal(api.requests.length - sent, 3);
  assert.equal(s.ensemble.external.value(s.workspaceId, 'slow', 'paris', 'temperature'), 27);
});

test('an oversized body and a redirect to another host are refused; a redirect on the same host is followed', async () => {
  await s.api('POST', base(), perCity('guarded', { keys: ['Paris'] }));
  await idle();
  api.next.push((_q, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ main: { temp: 1 }, pad: 'x'.repeat(10_000) })); });
  const big = await s.api('POST', `${base()}/guarded/pull`);
  assert.equal(big.body.outcome, 'failed');
  assert.match(big.body.errors[0].error, /larger than 4096 bytes/);
  const otherHost = api.url.replace('127.0.0.1', 'localhost');
  api.next.push((_q, res) => { res.writeHead(302, { location: `${otherHost}/weather?q=Nice` }); res.end(); });
  const away = await s.api('POST', `${base()}/guarded/pull`);
  assert.equal(away.body.outcome, 'failed');
  assert.match(away.body.errors[0].error, /redirect to another host refused/);
  assert.equal(s.ensemble.external.value(s.workspaceId, 'guarded', 'paris', 'temperature'), 27, 'neither changed anything');
  api.next.push((_q, res) => { res.writeHead(301, { location: '/weather?q=Nice' }); res.end(); });
  const moved = await s.api('POST', `${base()}/guarded/pull`);
  assert.equal(moved.body.outcome, 'ok');
  assert.equal(s.ensemble.external.value(s.workspaceId, 'guarded', 'paris', 'temperature'), 30, 'the same origin answered after the redirect');
});

test('onChange reports exactly the keys whose values changed, and every key at a delete', async () => {
  await s.api('POST', base(), perCity('watch', { keys: ['Paris', 'Lyon', 'Nice'] }));
  await idle();
  const heard: [string, string, string[]][] = [];
  s.ensemble.external.onChange((ws, id, keys) => { if (id === 'watch') heard.push([ws, id, [...keys].sort()]); });
  api.temps.set('Paris', 31);
  await s.api('POST', `${base()}/watch/pull`);
  assert.deepEqual(heard, [[s.workspaceId, 'watch', ['paris']]], 'only Paris changed');
  await s.api('POST', `${base()}/watch/pull`);
  assert.equal(heard.length, 1, 'an unchanged pull reports nothing');
  const patched = await s.api('PATCH', `${base()}/watch`, { keys: ['Paris', 'Lyon'], headers: { 'X-Api-Key': '••••' } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  await idle();
  assert.deepEqual(heard[1], [s.workspaceId, 'watch', ['nice']], 'a key no longer configured is dropped by the next pull');
  assert.equal(api.requests.at(-1)?.headers['x-api-key'], API_KEY, 'a masked header keeps its stored value');
  const del = await s.api('DELETE', `${base()}/watch`);
  assert.equal(del.status, 204);
  assert.deepEqual(heard[2], [s.workspaceId, 'watch', ['lyon', 'paris']]);
  assert.equal(s.ensemble.external.value(s.workspaceId, 'watch', 'paris', 'temperature'), undefined);
  assert.equal(s.ensemble.external.hasField(s.workspaceId, 'watch', 'temperature'), false);
  assert.equal((await s.api('GET', `${base()}/watch`)).status, 404);
  api.temps.set('Paris', 27);
});

test('the schedule pulls again once everySeconds have passed on the clock', async () => {
  const clock = shiftedClock();
  const dir = tempDir();
  const server = await startServer(SETTINGS, dir, clock);
  try {
    const created = await server.api('POST', `/api/workspaces/${server.workspaceId}/external-sources`, perCity('sched', { keys: ['Paris'], everySeconds: 120 }));
    assert.equal(created.status, 201);
    await idle(server);
    const count = () => api.requests.filter((r) => r.path === '/weather?q=Paris').length;
    const first = count();
    const status = () => server.ensemble.external.scheduler.status(server.workspaceId, 'sched');
    const pulledAt = status().lastPullAt ?? 0;
    assert.equal(status().nextPullAt, pulledAt + 120_000);
    api.temps.set('Paris', 12);
    clock.advance(121_000);
    // The scheduler's timer sees the clock moved; wait for its pull (no duration asserted).
    while (count() === first || server.ensemble.external.value(server.workspaceId, 'sched', 'paris', 'temperature') !== 12) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      await idle(server);
    }
    assert.ok((status().lastPullAt ?? 0) >= pulledAt + 120_000);
  } finally {
    api.temps.set('Paris', 27);
    await server.close();
    removeDir(dir);
  }
});

test('a restart keeps the values without pulling fresh ones again; header values are sealed in the store', async () => {
  const dir = tempDir();
  let server = await startServer(SETTINGS, dir);
  const ws = server.workspaceId;
  await server.api('POST', `/api/workspaces/${ws}/external-sources`, perCity('persist'));
  await idle(server);
  assert.equal(server.ensemble.external.value(ws, 'persist', 'paris', 'temperature'), 27);
  await server.close();

  const { files, tables } = await storeContents(dir);
  for (const [name, text] of files) assert.ok(!text.includes(API_KEY), `the API key is not in clear in ${name}`);
  for (const [name, text] of tables) assert.ok(!text.includes(API_KEY), `the API key is not in clear in table ${name}`);
  const rows = JSON.parse(tables.get('external_values') ?? '[]') as { key: string; field: string }[];
  assert.deepEqual(rows.map((r) => `${r.key}.${r.field}`).sort(), ['lyon.condition', 'lyon.temperature', 'paris.condition', 'paris.temperature'], 'keys are stored normalised');

  const sent = api.requests.length;
  server = await startServer(SETTINGS, dir);
  try {
    assert.equal(server.ensemble.external.value(ws, 'persist', 'PARIS', 'temperature'), 27, 'held values are back at start-up');
    await idle(server);
    assert.equal(api.requests.length, sent, 'values younger than the period are not pulled again');
    const pulled = await server.api('POST', `/api/workspaces/${ws}/external-sources/persist/pull`);
    assert.equal(pulled.body.outcome, 'ok');
    assert.equal(api.requests.at(-1)?.headers['x-api-key'], API_KEY, 'the sealed header opens after the restart');
  } finally {
    await server.close();
    removeDir(dir);
  }
});

test('stopping during a pull aborts its fetch, waits for it, and writes nothing after', async () => {
  const dir = tempDir();
  const server = await startServer({ external: { ...SETTINGS.external, timeoutMs: 60_000 } }, dir);
  try {
    const sent = api.requests.length;
    api.next.push(() => undefined); // the first pull's fetch is never answered
    const created = await server.api('POST', `/api/workspaces/${server.workspaceId}/external-sources`, perCity('stopping', { keys: ['Paris'] }));
    assert.equal(created.status, 201);
    while (api.requests.length === sent) await new Promise((resolve) => setTimeout(resolve, 5));
    const pull = server.ensemble.external.scheduler.pull(server.workspaceId, 'stopping');
    await server.close();
    assert.deepEqual((await pull).errors, [{ error: 'stopped' }], 'the pull in flight ended with the stop');
  } finally {
    await server.close();
  }
  const { tables } = await storeContents(dir);
  assert.deepEqual(JSON.parse(tables.get('external_values') ?? 'null'), [], 'no value was written');
  const [row] = JSON.parse(tables.get('external_sources') ?? '[]') as { status: string }[];
  assert.equal(JSON.parse(row?.status ?? '{}').lastPullAt, null, 'no status was written after the stop');
  removeDir(dir);
});
