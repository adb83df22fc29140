/**
 * Test helpers for tag.js in a real Chromium: a site on its own origin (`localhost`, while the
 * collector is on `127.0.0.1`, so the browser applies CORS as on a real site), pages that load
 * the tag with the README's snippet, and reads of what the store received.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { removeDir, startServer, type TestServer } from './server.js';

export const CHROMIUM = '/usr/bin/chromium';
// CI installs Chromium; elsewhere the tests say why they did not run.
export const skip = !existsSync(CHROMIUM) && !process.env.CI ? 'Chromium is not installed (apt-get install chromium)' : false;

/** The copy-paste snippet, exactly as the README shows it. */
export const SNIPPET = readFileSync(new URL('../../../tag/snippet.html', import.meta.url), 'utf8');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The snippet pointing at `host` (the collector's origin) with these `ensemble.load` options. */
export function snippet(host: string, writeKey: string, options: unknown = {}): string {
  return SNIPPET.replace('https://YOUR_ENSEMBLE_HOST', host).replace('"YOUR_WRITE_KEY",{}', `${JSON.stringify(writeKey)},${JSON.stringify(options)}`);
}

export interface Site {
  /** `http://localhost:<port>` */
  origin: string;
  /** Serves `html` at `path` (any later path without a page gets the last page set for `/`). */
  set(path: string, html: string): void;
  close(): Promise<void>;
}

export async function startSite(): Promise<Site> {
  const pages = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const html = pages.get(path) ?? pages.get('/') ?? '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://localhost:${(server.address() as AddressInfo).port}`,
    set: (path, html) => { pages.set(path, html); },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A page: `head` goes before the snippet (e.g. a stub CMP), `body` after it. */
export function html(opts: { snippet: string; head?: string; body?: string; title?: string }): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${opts.title ?? 'Shop'}</title>${opts.head ?? ''}${opts.snippet}</head><body>${opts.body ?? ''}</body></html>`;
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** Every request the page sent to the collector's /v1 routes. */
  collector: Request[];
}

/** A fresh context (its own cookies and storage) with a page at `url`, the tag loaded. */
export async function openTab(browser: Browser, url: string, collectorOrigin: string, waitForTag = true): Promise<Tab> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const collector: Request[] = [];
  page.on('request', (r) => { if (r.url().startsWith(`${collectorOrigin}/v1/`)) collector.push(r); });
  await page.goto(url);
  if (waitForTag) await tagLoaded(page);
  return { context, page, collector };
}

export async function tagLoaded(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as any).ensemble?.initialized === true);
}

/** Waits until the tag delivered everything it queued (the collector acknowledged it). */
export async function flush(page: Page): Promise<void> {
  await page.evaluate(() => (window as any).ensemble.flush());
}

export async function anonymousId(page: Page): Promise<string> {
  return page.evaluate(() => (window as any).ensemble.anonymousId() as string);
}

/** What the tag left on the device: cookies of the site and every localStorage/sessionStorage key. */
export async function deviceState(tab: Tab): Promise<{ cookies: string[]; local: string[]; session: string[] }> {
  const cookies = (await tab.context.cookies()).map((c) => c.name);
  const { local, session } = await tab.page.evaluate(() => ({ local: Object.keys(localStorage), session: Object.keys(sessionStorage) }));
  return { cookies, local, session };
}

/** The profile an identifier points to, and its events oldest first (empty when none). */
export async function storedEvents(s: TestServer, type: 'anonymous_id' | 'user_id', value: string): Promise<{ profileId: string | null; events: any[] }> {
  await s.settle();
  const found = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=${type}&value=${encodeURIComponent(value)}`);
  if (found.status !== 200) return { profileId: null, events: [] };
  const events = (await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${found.body.id}/events?limit=500`)).body.events as any[];
  return { profileId: found.body.id, events: events.reverse() };
}

/** The messageIds in the batches a page sent. */
export function sentMessageIds(requests: Request[]): string[] {
  return requests.flatMap((r) => {
    try { return (JSON.parse(r.postData() ?? '{}').batch ?? []).map((m: { messageId: string }) => m.messageId); } catch { return []; }
  });
}

/** Retries `check` until it returns a value (not undefined/false), for asynchronous outcomes. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, tries = 200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting: ${what}`);
}

/** Scrolls the page to `y` and returns once the page saw the scroll and the tag measured it. */
export async function scrollTo(page: Page, y: number): Promise<void> {
  await page.evaluate((top) => new Promise<void>((resolve) => {
    // Registered after the tag's listener, so its 100 ms measure timer is due before this one.
    addEventListener('scroll', () => setTimeout(resolve, 250), { once: true });
    window.scrollTo(0, top);
  }), y);
}

/** A server, the demo site and Chromium, as every tag test file uses them. */
export interface TagEnvironment {
  s: TestServer;
  site: Site;
  browser: Browser;
  close(): Promise<void>;
}

export async function startTagEnvironment(): Promise<TagEnvironment> {
  const s = await startServer();
  const site = await startSite();
  const browser = await launchChromium();
  return {
    s, site, browser,
    close: async () => {
      await browser.close();
      await site.close();
      await s.close();
      removeDir(s.dir);
    },
  };
}
