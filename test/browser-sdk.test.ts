/**
 * Segment's browser SDK (@segment/analytics-next, its published UMD build) in a real Chromium,
 * on a page served from another origin than the collector: CORS preflight, text/plain bodies,
 * the write key in the body and the short paths, as browsers really send them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { removeDir, startServer, type TestServer } from './helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
// CI installs Chromium (.ci/run); elsewhere the test says why it did not run.
const skip = !existsSync(CHROMIUM) && !process.env.CI ? 'Chromium is not installed (apt-get install chromium)' : false;

const UMD = join(dirname(createRequire(import.meta.url).resolve('@segment/analytics-next/package.json')), 'dist', 'umd');
const PAGE = `<!doctype html><html><head><title>Shop</title><script src="/umd/index.js"></script></head><body>
<script>
window.run = async (writeKey, apiHost) => {
  const [analytics] = await AnalyticsNext.AnalyticsBrowser.load(
    { writeKey, cdnSettings: { integrations: { 'Segment.io': { apiKey: writeKey, apiHost, protocol: 'http' } } } },
  );
  await analytics.page('Home');
  await analytics.track('Button Clicked', { label: 'Buy', price: 12.5 });
  await analytics.identify('browser-user-1', { email: 'Browser@Example.com' });
  return analytics.user().anonymousId();
};
</script></body></html>`;

let s: TestServer;
let site: Server;
let siteUrl = '';
let browser: Browser | null = null;

before(async () => {
  if (skip) return;
  s = await startServer();
  site = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/'));
    if (path.startsWith('/umd/') && existsSync(join(UMD, path.slice(5)))) {
      res.writeHead(200, { 'content-type': 'application/javascript' }).end(readFileSync(join(UMD, path.slice(5))));
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    }
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  // "localhost" vs "127.0.0.1": another origin than the collector, so the browser applies CORS.
  siteUrl = `http://localhost:${(site.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await new Promise((resolve) => site.close(resolve));
  await s.close();
  removeDir(s.dir);
});

test('analytics-next in Chromium: page, track and identify reach one profile', { skip, timeout: 60_000 }, async () => {
  const page = await (browser as Browser).newPage();
  const failed: string[] = [];
  page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
  await page.goto(siteUrl);
  const apiHost = `${new URL(s.url).host}/v1`;
  const anonymousId = await page.evaluate(async ([key, host]) => (window as unknown as { run: (k: string, h: string) => Promise<string> }).run(key as string, host as string), [s.writeKey, apiHost]);
  assert.deepEqual(failed.filter((f) => f.includes(new URL(s.url).host)), [], 'no request to the collector failed');
  await s.settle();
  const profile = (await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=anonymous_id&value=${anonymousId}`)).body;
  assert.equal((await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=user_id&value=browser-user-1`)).body.id, profile.id);
  assert.equal(profile.traits.email, 'Browser@Example.com');
  const events = (await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${profile.id}/events`)).body.events;
  assert.deepEqual(events.map((e: any) => e.type).sort(), ['identify', 'page', 'track']);
  const click = events.find((e: any) => e.type === 'track');
  assert.equal(click.context.library.name, 'analytics.js');
  assert.equal(click.enrichment.browser, 'Chrome');
  assert.equal(click.context.page.url, siteUrl);
  assert.equal(click.enrichment.price, 12.5);
  await page.close();
});
