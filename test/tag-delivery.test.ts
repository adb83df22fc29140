/**
 * tag.js delivery in a real Chromium: events tracked while offline are sent once the browser is
 * back online, each stored once with the messageId it was given (every attempt reuses it);
 * when the collector answers 500 and 429 for a while, the tag retries with backoff until the
 * events are stored, once each.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import type { TestServer } from './helpers/server.js';
import { anonymousId, eventually, flush, html, openTab, sentMessageIds, skip, snippet, startTagEnvironment, storedEvents, type Site, type TagEnvironment } from './helpers/tag-browser.js';

let env: TagEnvironment;
let s: TestServer;
let site: Site;
let browser: Browser;

before(async () => {
  if (skip) return;
  env = await startTagEnvironment();
  ({ s, site, browser } = env);
});

after(async () => {
  if (!skip) await env.close();
});

const FAST = { flushInterval: 50, retryDelay: 100, retryMaxDelay: 800, autocapture: false };

test('offline, then back online: queued events arrive once, under their first messageIds', { skip, timeout: 120_000 }, async () => {
  site.set('/offline', html({ snippet: snippet(s.url, s.writeKey, FAST) }));
  const tab = await openTab(browser, `${site.origin}/offline`, s.url);
  const { page, context } = tab;
  await page.evaluate(() => (window as any).ensemble.track('Online Before'));
  await flush(page);
  await context.setOffline(true);
  await page.evaluate(() => { const e = (window as any).ensemble; e.track('Offline 1'); e.track('Offline 2', { n: 2 }); });
  // Give the tag time to try (and fail) while offline.
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 1000)));
  const aid = await anonymousId(page);
  const during = (await storedEvents(s, 'anonymous_id', aid)).events.map((e) => e.event);
  assert.deepEqual(during, ['Online Before'], 'nothing arrived while offline');
  await context.setOffline(false);
  await flush(page);
  const { events } = await storedEvents(s, 'anonymous_id', aid);
  assert.deepEqual(events.map((e) => e.event).sort(), ['Offline 1', 'Offline 2', 'Online Before']);
  const ids = sentMessageIds(tab.collector);
  for (const e of events) assert.ok(ids.includes(e.messageId), 'the stored event has the messageId the page sent');
  // Every attempt (failed or not) carried one of these three ids: nothing was renamed.
  assert.deepEqual([...new Set(ids)].sort(), events.map((e) => e.messageId).sort());
  await tab.context.close();
});

/** In front of the collector: answers `failures` (in order) to the first batch posts, then forwards. */
async function flakyCollector(target: string, failures: number[]): Promise<{ origin: string; attempts: string[][]; close(): Promise<void> }> {
  const attempts: string[][] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const cors = { 'access-control-allow-origin': req.headers.origin ?? '*' };
      if (req.url === '/v1/batch') attempts.push((JSON.parse(body.toString()).batch as { messageId: string }[]).map((m) => m.messageId));
      const failure = req.url === '/v1/batch' ? failures[attempts.length - 1] : undefined;
      if (failure !== undefined) {
        res.writeHead(failure, { ...cors, 'content-type': 'application/json', ...(failure === 429 ? { 'retry-after': '0' } : {}) })
          .end(JSON.stringify({ error: { code: failure === 429 ? 'ENSEMBLE_ERR_OVERLOADED' : 'ENSEMBLE_ERR_STORE_UNAVAILABLE', message: 'test' } }));
        return;
      }
      const answer = await fetch(target + (req.url ?? '/'), { method: req.method, headers: { 'content-type': 'text/plain' }, body });
      res.writeHead(answer.status, { ...cors, 'content-type': 'application/json' }).end(await answer.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, attempts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('the collector answers 500 and 429 for a while: the tag retries with backoff, and each event is stored once', { skip, timeout: 120_000 }, async () => {
  const failures = [500, 503, 500, 429, 429];
  const proxy = await flakyCollector(s.url, failures);
  try {
    site.set('/flaky', html({ snippet: snippet(s.url, s.writeKey, { ...FAST, apiHost: proxy.origin }) }));
    const tab = await openTab(browser, `${site.origin}/flaky`, s.url);
    const { page } = tab;
    await page.evaluate(() => { const e = (window as any).ensemble; e.track('Retried 1'); e.track('Retried 2'); });
    await flush(page);
    assert.equal(proxy.attempts.length, failures.length + 1, 'one attempt per failure, then the one that succeeded');
    for (const a of proxy.attempts) assert.deepEqual(a, proxy.attempts[0], 'every retry sends the same events under the same messageIds');
    const { events } = await storedEvents(s, 'anonymous_id', await anonymousId(page));
    assert.deepEqual(events.map((e) => e.event).sort(), ['Retried 1', 'Retried 2']);
    assert.deepEqual(events.map((e) => e.messageId).sort(), [...proxy.attempts[0]!].sort());
    await tab.context.close();
  } finally {
    await proxy.close();
  }
});

test('a 4xx that can never succeed is not retried', { skip, timeout: 120_000 }, async () => {
  const proxy = await flakyCollector(s.url, [400]);
  try {
    site.set('/bad', html({ snippet: snippet(s.url, s.writeKey, { ...FAST, apiHost: proxy.origin }) }));
    const tab = await openTab(browser, `${site.origin}/bad`, s.url);
    await tab.page.evaluate(() => (window as any).ensemble.track('Refused'));
    await flush(tab.page);
    await tab.page.evaluate(() => (window as any).ensemble.track('Next'));
    await flush(tab.page);
    assert.equal(proxy.attempts.length, 2, 'the refused batch was dropped, the next one sent');
    assert.equal(proxy.attempts.flat().length, 2);
    const { events } = await storedEvents(s, 'anonymous_id', await anonymousId(tab.page));
    assert.deepEqual(events.map((e) => e.event), ['Next']);
    await tab.context.close();
  } finally {
    await proxy.close();
  }
});

test('leaving the page sends what is still queued with sendBeacon', { skip, timeout: 120_000 }, async () => {
  // A long flush interval: only the beacon can deliver before the page goes away.
  site.set('/leave', html({ snippet: snippet(s.url, s.writeKey, { ...FAST, flushInterval: 600_000 }) }));
  site.set('/gone', '<!doctype html><title>No tag here</title>');
  const tab = await openTab(browser, `${site.origin}/leave`, s.url);
  const aid = await anonymousId(tab.page);
  await tab.page.evaluate(() => (window as any).ensemble.track('Left The Page'));
  await tab.page.goto(`${site.origin}/gone`);
  const events = await eventually('the beaconed event is stored', async () => {
    const { events } = await storedEvents(s, 'anonymous_id', aid);
    return events.length > 0 && events;
  });
  // Ten minutes of flush interval had not passed: only the page's way out can have sent it.
  assert.deepEqual(events.map((e) => e.event), ['Left The Page']);
  await tab.context.close();
});

test('events not yet acknowledged survive a reload: the next page sends them', { skip, timeout: 120_000 }, async () => {
  const failures = new Array<number>(10_000).fill(503);
  const proxy = await flakyCollector(s.url, failures);
  try {
    site.set('/persist', html({ snippet: snippet(s.url, s.writeKey, { ...FAST, apiHost: proxy.origin }) }));
    const tab = await openTab(browser, `${site.origin}/persist`, s.url);
    const aid = await anonymousId(tab.page);
    await tab.page.evaluate(() => (window as any).ensemble.track('Survives Reload'));
    await eventually('a first (failed) attempt', async () => proxy.attempts.length > 0);
    await tab.page.reload();
    await tab.page.waitForFunction(() => (window as any).ensemble?.initialized === true);
    assert.equal(await anonymousId(tab.page), aid, 'the same visitor');
    failures.length = 0; // the collector recovers
    await flush(tab.page);
    const { events } = await storedEvents(s, 'anonymous_id', aid);
    assert.deepEqual(events.map((e) => e.event), ['Survives Reload']);
    assert.equal(await tab.page.evaluate(() => localStorage.getItem('ensemble_queue')), null, 'the queue is empty once acknowledged');
    await tab.context.close();
  } finally {
    await proxy.close();
  }
});
