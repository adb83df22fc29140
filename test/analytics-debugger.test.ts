/**
 * The live event debugger on a real server: the SSE stream of a source receives an accepted
 * event (message id, type, event name) and a rejected one with its error code, as the collector
 * decides; personal values never appear in it; the recent list keeps at most the last 100; other
 * sources' events do not leak into a stream; and a server with an open stream still shuts down.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

let s: TestServer;
const ws = () => `/api/workspaces/${s.workspaceId}`;

before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

/** Opens the stream and collects its `data:` entries until `count` arrived. */
async function openStream(sourceId: string): Promise<{ next(count: number): Promise<any[]>; close(): void; contentType: string | null }> {
  const ctrl = new AbortController();
  const res = await fetch(`${s.url}${ws()}/sources/${sourceId}/debugger`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: ctrl.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const entries: any[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  return {
    contentType: res.headers.get('content-type'),
    async next(count: number) {
      while (entries.length < count) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          for (const line of block.split('\n')) if (line.startsWith('data: ')) entries.push(JSON.parse(line.slice(6)));
        }
      }
      return entries.slice(0, count);
    },
    close: () => ctrl.abort(),
  };
}

test('the stream receives an accepted event and a rejected one with its error code; personal values stay out', async () => {
  const stream = await openStream(s.sourceId);
  assert.match(stream.contentType ?? '', /^text\/event-stream/);
  const r = await post(`${s.url}/v1/batch`, {
    batch: [
      { type: 'track', event: 'Signed Up', anonymousId: 'anon-dbg-1', messageId: 'dbg-accepted-1', properties: { email: 'ada@example.com' } },
      { type: 'track', event: 'No Identity', messageId: 'dbg-rejected-1', properties: { email: 'ada@example.com' } },
    ],
  }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const [first, second] = await stream.next(2);
  const accepted = [first, second].find((e) => e.status === 'accepted');
  const rejected = [first, second].find((e) => e.status === 'rejected');
  assert.deepEqual({ ...accepted, receivedAt: undefined }, { status: 'accepted', messageId: 'dbg-accepted-1', type: 'track', event: 'Signed Up', receivedAt: undefined });
  assert.equal(rejected.code, r.body.rejected?.[0]?.code ?? 'ENSEMBLE_ERR_EVENT_NO_IDENTITY');
  assert.equal(rejected.code, 'ENSEMBLE_ERR_EVENT_NO_IDENTITY');
  assert.equal(typeof rejected.message, 'string');
  assert.ok(!Number.isNaN(Date.parse(accepted.receivedAt)));
  // A body that cannot be read at all is shown too.
  const bad = await post(`${s.url}/v1/track`, '{"type": "track", ', { authorization: basic(s.writeKey) });
  assert.equal(bad.status, 400);
  const [, , third] = await stream.next(3);
  assert.equal(third.status, 'rejected');
  assert.equal(third.code, bad.body.error.code);
  stream.close();
  const recent = await s.api('GET', `${ws()}/sources/${s.sourceId}/debugger/recent`);
  assert.equal(recent.status, 200);
  // A refusal is known at once; an acceptance only once the event is durably in the log.
  assert.deepEqual(recent.body.items.map((e: any) => e.status), ['rejected', 'accepted', 'rejected']);
  assert.ok(!JSON.stringify(recent.body).includes('ada@example.com'));
});

test('recent keeps the last 100 of a source, oldest first, and nothing of another source', async () => {
  const other = await s.ensemble.catalog.createSource(s.workspaceId, { name: 'Other', kind: 'server' });
  await s.api('GET', `${ws()}/sources/${other.id}/debugger/recent`); // arms the tap for it
  const batch = Array.from({ length: 130 }, (_, i) => ({ type: 'track', event: `E${i}`, anonymousId: 'anon-dbg-2', messageId: `dbg-many-${i}` }));
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(other.writeKey) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const recent = await s.api('GET', `${ws()}/sources/${other.id}/debugger/recent`);
  assert.equal(recent.body.items.length, 100);
  assert.deepEqual(recent.body.items.map((e: any) => e.event), batch.slice(30).map((e) => e.event));
  const mine = await s.api('GET', `${ws()}/sources/${s.sourceId}/debugger/recent`);
  assert.ok(mine.body.items.every((e: any) => !String(e.messageId ?? '').startsWith('dbg-many-')));
  // The overview counts today's rejections per source.
  const o = await s.api('GET', `${ws()}/analytics/overview`);
  assert.equal(o.body.sources.find((x: any) => x.id === s.sourceId).rejectedToday, 2);
  assert.equal(o.body.sources.find((x: any) => x.id === other.id).rejectedToday, 0);
});

test('nothing is kept for a source nobody watches; unknown sources are a 404', async () => {
  const quiet = await s.ensemble.catalog.createSource(s.workspaceId, { name: 'Quiet', kind: 'server' });
  const r = await post(`${s.url}/v1/track`, { event: 'Unwatched', anonymousId: 'anon-dbg-3' }, { authorization: basic(quiet.writeKey) });
  assert.equal(r.status, 200);
  const recent = await s.api('GET', `${ws()}/sources/${quiet.id}/debugger/recent`);
  assert.deepEqual(recent.body.items, []);
  const nf = await s.api('GET', `${ws()}/sources/src_nope/debugger/recent`);
  assert.equal(nf.status, 404);
  assert.equal(nf.body.error.code, 'ENSEMBLE_ERR_SOURCE_NOT_FOUND');
  const nfStream = await s.api('GET', `${ws()}/sources/src_nope/debugger`);
  assert.equal(nfStream.body.error.code, 'ENSEMBLE_ERR_SOURCE_NOT_FOUND');
});

test('a server with an open debugger stream shuts down', async () => {
  const other = await startServer();
  try {
    const res = await fetch(`${other.url}/api/workspaces/${other.workspaceId}/sources/${other.sourceId}/debugger`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read();
    await other.close();
    const rest = await reader.read().catch(() => ({ done: true }));
    assert.equal(rest.done, true, 'the stream ended with the server');
  } finally {
    removeDir(other.dir);
  }
});
