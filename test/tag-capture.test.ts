/**
 * tag.js in a real Chromium on a page of its own origin: calls queued by the snippet before the
 * tag loads, page views on load and on single-page-app navigation, link/button clicks and form
 * submissions without input values, scroll depth, each auto-capture switch, and the
 * identify/group/alias/reset calls — all checked in the store through the admin API.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import type { TestServer } from './helpers/server.js';
import {
  anonymousId, deviceState, eventually, flush, html, openTab, scrollTo, skip, snippet, startTagEnvironment, storedEvents, type Site, type TagEnvironment,
} from './helpers/tag-browser.js';

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

const SHOP = `
<a id="buy" href="/product/42" onclick="event.preventDefault()">Buy  now</a>
<nav><button class="cta">Add <b>to cart</b></button></nav>
<input id="note" name="note">
<form id="signup" name="signup-form" onsubmit="event.preventDefault()">
  <input name="email" type="email"><input name="password" type="password">
  <select name="plan"><option>basic</option><option>pro</option></select>
  <input type="checkbox" name="newsletter" value="yes">
  <button id="send" type="submit">Sign up</button>
</form>
<div style="height:6000px"></div>`;

const byName = (events: any[], name: string) => events.filter((e) => e.type === 'track' && e.event === name);

test('queued calls, page views on load and on pushState/replaceState/popstate', { skip, timeout: 120_000 }, async () => {
  const early = `<script>ensemble.track('Early Call', { step: 1 }); ensemble.identify({ theme: 'dark' });</script>`;
  site.set('/spa', html({ snippet: snippet(s.url, s.writeKey) + early, title: 'Home' }));
  const tab = await openTab(browser, `${site.origin}/spa`, s.url);
  const { page } = tab;
  await page.evaluate(() => history.pushState({}, '', '/spa/products'));
  await page.evaluate(() => history.replaceState({}, '', '/spa/products?sort=price'));
  await page.evaluate(() => history.replaceState({}, '', '/spa/products?sort=price')); // same URL: no new view
  await page.evaluate(() => history.pushState({}, '', '/spa/cart'));
  await page.evaluate(() => new Promise((resolve) => { addEventListener('popstate', resolve, { once: true }); history.back(); }));
  await flush(page);
  const { events } = await storedEvents(s, 'anonymous_id', await anonymousId(page));
  const early1 = byName(events, 'Early Call');
  assert.equal(early1.length, 1, 'the call queued before the tag loaded was sent');
  assert.equal(early1[0].properties.step, 1);
  assert.ok(events.some((e) => e.type === 'identify'), 'the queued identify was sent');
  const pages = events.filter((e) => e.type === 'page').sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  assert.deepEqual(pages.map((p) => new URL(p.context.page.url).pathname + new URL(p.context.page.url).search),
    ['/spa', '/spa/products', '/spa/products?sort=price', '/spa/cart', '/spa/products?sort=price']);
  assert.equal(pages[0].properties.title, 'Home');
  assert.equal(pages[1].properties.referrer, `${site.origin}/spa`, 'an SPA view refers to the previous URL');
  assert.equal(pages[0].context.library.name, 'ensemble-tag');
  await tab.context.close();
});

test('clicks carry text, selector and href; forms carry field names, and values only when allow-listed (never a password)', { skip, timeout: 120_000 }, async () => {
  site.set('/shop', html({ snippet: snippet(s.url, s.writeKey, { autocapture: { formValues: ['plan', 'password'] } }), body: SHOP }));
  const tab = await openTab(browser, `${site.origin}/shop`, s.url);
  const { page } = tab;
  await page.fill('#note', 'TOP-SECRET-NOTE');
  await page.click('#buy');
  await page.click('button.cta');
  await page.fill('input[name=email]', 'ada@example.com');
  await page.fill('input[name=password]', 'hunter2-pass');
  await page.selectOption('select[name=plan]', 'pro');
  await page.click('#send');
  await flush(page);
  const { events } = await storedEvents(s, 'anonymous_id', await anonymousId(page));
  const [link] = byName(events, 'Link Clicked');
  assert.deepEqual({ text: link.properties.text, selector: link.properties.selector, href: link.properties.href }, { text: 'Buy now', selector: '#buy', href: `${site.origin}/product/42` });
  const buttons = byName(events, 'Button Clicked');
  assert.deepEqual(buttons.map((b) => b.properties.text).sort(), ['Add to cart', 'Sign up']);
  assert.equal(buttons.find((b) => b.properties.text === 'Add to cart').properties.selector, 'body > nav > button.cta');
  const [form] = byName(events, 'Form Submitted');
  assert.equal(form.properties.formId, 'signup');
  assert.equal(form.properties.formName, 'signup-form');
  assert.deepEqual(form.properties.fields, ['email', 'password', 'plan', 'newsletter']);
  assert.deepEqual(form.properties.values, { plan: 'pro' }, 'the allow-listed field only; a password never');
  const sent = tab.collector.map((r) => r.postData() ?? '').join('\n');
  for (const secret of ['TOP-SECRET-NOTE', 'ada@example.com', 'hunter2-pass']) {
    assert.ok(!sent.includes(secret), `an input value (${secret}) left the browser`);
  }
  await tab.context.close();
});

test('scroll depth: 25, 50, 75 and 100 % once each per page view', { skip, timeout: 120_000 }, async () => {
  site.set('/long', html({ snippet: snippet(s.url, s.writeKey, { flushInterval: 50 }), body: SHOP }));
  const tab = await openTab(browser, `${site.origin}/long`, s.url);
  const { page } = tab;
  const aid = await anonymousId(page);
  const { height, view } = await page.evaluate(() => ({ height: document.documentElement.scrollHeight, view: innerHeight }));
  const at = (percent: number) => Math.ceil((percent / 100) * height - view);
  const depths = async () => byName((await storedEvents(s, 'anonymous_id', aid)).events, 'Scroll Depth').map((e) => e.properties.percent).sort((a, b) => a - b);
  const reach = async (percent: number, expected: number[]) => {
    await scrollTo(page, at(percent));
    await flush(page);
    assert.deepEqual(await depths(), expected, `after scrolling to ${percent} %`);
  };
  await reach(30, [25]);
  await reach(60, [25, 50]);
  await reach(80, [25, 50, 75]);
  await reach(100, [25, 50, 75, 100]);
  await reach(10, [25, 50, 75, 100]);
  await reach(100, [25, 50, 75, 100]);
  // A new (SPA) page view measures again.
  await page.evaluate(() => history.pushState({}, '', '/long/next'));
  await scrollTo(page, 0);
  await reach(100, [25, 25, 50, 50, 75, 75, 100, 100]);
  await tab.context.close();
});

test('each auto-capture switch, turned off, stops its event and only that one', { skip, timeout: 180_000 }, async () => {
  const expected: Record<string, (events: any[]) => number> = {
    pageviews: (ev) => ev.filter((e) => e.type === 'page').length,
    clicks: (ev) => byName(ev, 'Link Clicked').length + byName(ev, 'Button Clicked').length,
    forms: (ev) => byName(ev, 'Form Submitted').length,
    scroll: (ev) => byName(ev, 'Scroll Depth').length,
  };
  for (const off of Object.keys(expected)) {
    site.set(`/off-${off}`, html({ snippet: snippet(s.url, s.writeKey, { autocapture: { [off]: false } }), body: SHOP }));
    const tab = await openTab(browser, `${site.origin}/off-${off}`, s.url);
    const { page } = tab;
    await page.evaluate(() => history.pushState({}, '', '/elsewhere'));
    await page.click('#buy');
    await page.click('#send');
    await scrollTo(page, 100_000);
    await page.evaluate(() => (window as any).ensemble.track('Marker'));
    await flush(page);
    const { events } = await storedEvents(s, 'anonymous_id', await anonymousId(page));
    assert.equal(byName(events, 'Marker').length, 1);
    for (const [kind, count] of Object.entries(expected)) {
      if (kind === off) assert.equal(count(events), 0, `${off} is off, yet its event was sent`);
      else assert.ok(count(events) > 0, `${kind} is on (only ${off} is off), yet nothing was captured`);
    }
    await tab.context.close();
  }
  // `autocapture: false` turns everything off.
  site.set('/off-all', html({ snippet: snippet(s.url, s.writeKey, { autocapture: false }), body: SHOP }));
  const tab = await openTab(browser, `${site.origin}/off-all`, s.url);
  await tab.page.click('#buy');
  await tab.page.evaluate(() => (window as any).ensemble.track('Marker'));
  await flush(tab.page);
  const { events } = await storedEvents(s, 'anonymous_id', await anonymousId(tab.page));
  assert.deepEqual(events.map((e) => e.event ?? e.type), ['Marker']);
  await tab.context.close();
});

test('identify, group and alias reach one profile; reset gives a new anonymous id', { skip, timeout: 120_000 }, async () => {
  site.set('/account', html({ snippet: snippet(s.url, s.writeKey, { autocapture: false }) }));
  const tab = await openTab(browser, `${site.origin}/account`, s.url);
  const { page } = tab;
  const first = await anonymousId(page);
  await page.evaluate(() => {
    const e = (window as any).ensemble;
    e.alias('tag-user-42'); // from the anonymous visitor, as at sign-up
    e.identify({ plan: 'pro' }); // the current user (set by alias)
    e.group('acme', { name: 'Acme' });
    e.track('After Alias');
  });
  await flush(page);
  const { profileId, events } = await storedEvents(s, 'user_id', 'tag-user-42');
  assert.ok(profileId);
  assert.equal((await storedEvents(s, 'anonymous_id', first)).profileId, profileId);
  // The events view holds no identifiers: the lookups above prove alias and identify linked them.
  assert.deepEqual(events.map((e) => e.event ?? e.type), ['alias', 'identify', 'group', 'After Alias']);
  assert.equal(events.find((e) => e.type === 'group').traits.name, 'Acme');
  const profile = (await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${profileId}`)).body;
  assert.equal(profile.traits.plan, 'pro');

  await page.evaluate(() => { const e = (window as any).ensemble; e.reset(); e.track('After Reset'); });
  const second = await anonymousId(page);
  assert.notEqual(second, first);
  await flush(page);
  const after = await storedEvents(s, 'anonymous_id', second);
  assert.notEqual(after.profileId, profileId, 'after reset, events go to a new visitor');
  assert.deepEqual(after.events.map((e) => e.event), ['After Reset']);
  assert.ok(!(await storedEvents(s, 'user_id', 'tag-user-42')).events.some((e) => e.event === 'After Reset'), 'no user id after reset');
  const device = await deviceState(tab);
  assert.ok(device.cookies.includes('ensemble_aid'));
  assert.equal(await page.evaluate(() => localStorage.getItem('ensemble_aid')), second);
  assert.ok(!device.local.includes('ensemble_uid'), 'no user id kept after reset');
  await tab.context.close();
});
