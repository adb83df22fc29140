/**
 * tag.js, consent first, in a real Chromium: for a strict source nothing is stored on the
 * device and nothing is sent before consent (observed on the network and in the storage APIs);
 * a grant sends what happened since the page loaded; a withdrawal stops tracking, clears the
 * device and is recorded in the server's consent ledger. A stub IAB TCF CMP is read; the
 * optional banner accepts or refuses in one click.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { TestServer } from './helpers/server.js';
import { tcString } from './helpers/tcf.js';
import {
  anonymousId, deviceState, flush, html, openTab, skip, snippet, startTagEnvironment, storedEvents, type Site, type TagEnvironment, type Tab,
} from './helpers/tag-browser.js';

let env: TagEnvironment;
let s: TestServer;
let site: Site;
let browser: Browser;
let strictKey = '';

before(async () => {
  if (skip) return;
  env = await startTagEnvironment();
  ({ s, site, browser } = env);
  // The consent mode comes from the source: the snippet says nothing about it.
  strictKey = (await s.api('POST', `/api/workspaces/${s.workspaceId}/sources`, { name: 'Strict site', kind: 'website', consentMode: 'strict' })).body.writeKey;
});

after(async () => {
  if (!skip) await env.close();
});

const BODY = '<button id="cta">Subscribe</button><div style="height:3000px"></div>';
const FAST = { flushInterval: 50 };

async function assertNothingOnDevice(tab: Tab, when: string): Promise<void> {
  assert.deepEqual(await deviceState(tab), { cookies: [], local: [], session: [] }, `nothing stored on the device ${when}`);
}

/** Lets the tag's timers run (its flush interval is 50 ms here) before checking that nothing went out. */
async function idle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 600)));
}

async function consentsOf(profileId: string): Promise<Record<string, string>> {
  await s.settle();
  const res = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${profileId}/consents`);
  assert.equal(res.status, 200);
  return Object.fromEntries(res.body.history.map((r: { purpose: string; status: string }) => [r.purpose, r.status]));
}

test('strict source: nothing stored or sent before consent; a grant sends the visit; a withdrawal stops, clears and is recorded', { skip, timeout: 120_000 }, async () => {
  const early = `<script>ensemble.track('Before Consent');</script>`;
  site.set('/strict', html({ snippet: snippet(s.url, strictKey, FAST) + early, body: BODY }));
  const tab = await openTab(browser, `${site.origin}/strict`, s.url);
  const { page } = tab;
  await page.click('#cta');
  await page.evaluate(() => history.pushState({}, '', '/strict/next'));
  await idle(page);
  assert.deepEqual(tab.collector.map((r) => r.url()), [], 'no request to the collector before consent');
  await assertNothingOnDevice(tab, 'before consent');
  assert.equal(await page.evaluate(() => (window as any).ensemble.consent.get().state), 'unknown');

  await page.evaluate(() => (window as any).ensemble.consent.set({ analytics: true }));
  await flush(page);
  const aid = await anonymousId(page);
  const granted = await storedEvents(s, 'anonymous_id', aid);
  assert.ok(granted.profileId, 'after the grant the visit reached a profile');
  assert.deepEqual(granted.events.map((e) => e.event ?? e.type),
    ['Before Consent', 'page', 'Button Clicked', 'page', 'Consent Preference Updated'], 'what happened before the grant is sent after it, in order');
  assert.equal(granted.events[0].context.consent.categoryPreferences.analytics, true);
  assert.ok(Math.abs(Date.parse(granted.events[0].context.consent.decidedAt) - Date.now()) < 600_000, 'the grant says when it was made');
  const device = await deviceState(tab);
  assert.ok(device.cookies.includes('ensemble_aid') && device.local.includes('ensemble_aid'), 'the anonymous id is stored once consent is given');
  assert.equal((await consentsOf(granted.profileId!)).analytics, 'granted');

  await page.evaluate(() => (window as any).ensemble.consent.set({ analytics: false }));
  await flush(page); // the withdrawal notice
  await assertNothingOnDevice(tab, 'after the withdrawal');
  const requests = tab.collector.length;
  await page.evaluate(() => { (window as any).ensemble.track('After Withdrawal'); history.pushState({}, '', '/strict/later'); });
  await page.click('#cta');
  await idle(page);
  assert.equal(tab.collector.length, requests, 'nothing is sent after the withdrawal');
  await assertNothingOnDevice(tab, 'after tracking calls that follow the withdrawal');
  const later = await storedEvents(s, 'anonymous_id', aid);
  assert.ok(!later.events.some((e) => e.event === 'After Withdrawal'));
  assert.equal((await consentsOf(granted.profileId!)).analytics, 'withdrawn', 'the server recorded the withdrawal');

  // The next page of the same visitor starts from nothing again.
  await page.goto(`${site.origin}/strict`);
  await page.waitForFunction(() => (window as any).ensemble?.initialized === true);
  await idle(page);
  assert.equal(tab.collector.length, requests);
  await assertNothingOnDevice(tab, 'on the next page after a withdrawal');
  await tab.context.close();
});

test('standard source: tracking starts at once; a withdrawal stops it, clears the id and keeps only the refusal', { skip, timeout: 120_000 }, async () => {
  site.set('/standard', html({ snippet: snippet(s.url, s.writeKey, FAST), body: BODY }));
  const tab = await openTab(browser, `${site.origin}/standard`, s.url);
  const { page } = tab;
  await flush(page);
  const aid = await anonymousId(page);
  const { profileId } = await storedEvents(s, 'anonymous_id', aid);
  assert.ok(profileId, 'a standard source tracks without waiting');
  await page.evaluate(() => (window as any).ensemble.consent.set({ analytics: false }));
  await flush(page);
  // No decision was recorded before (a standard source tracks without one): the ledger calls it a refusal.
  assert.equal((await consentsOf(profileId!)).analytics, 'denied');
  const device = await deviceState(tab);
  assert.deepEqual([device.cookies, device.local], [[], ['ensemble_consent']]);
  assert.ok(!(await page.evaluate(() => localStorage.getItem('ensemble_consent')))!.includes(aid), 'the refusal holds no identifier');
  const requests = tab.collector.length;
  await page.goto(`${site.origin}/standard`);
  await page.waitForFunction(() => (window as any).ensemble?.initialized === true);
  await page.click('#cta');
  await idle(page);
  assert.equal(tab.collector.length, requests, 'the refusal holds on the next page');
  await tab.context.close();
});

/** A stub IAB TCF v2 CMP that already has the person's choice (a real TC string). */
const cmp = (tc: string, consents: number[], gdprApplies = true) => `<script>
window.__tcfapi = function (command, version, callback) {
  if (command !== 'addEventListener') return;
  var c = {}; ${JSON.stringify(consents)}.forEach(function (p) { c[p] = true; });
  setTimeout(function () { callback({ tcString: ${JSON.stringify(tc)}, eventStatus: 'tcloaded', gdprApplies: ${gdprApplies}, purpose: { consents: c } }, true); }, 0);
};
</script>`;

test('a TCF CMP on the page is read: its consent lets events flow with the TC string; its refusal sends nothing', { skip, timeout: 120_000 }, async () => {
  const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  site.set('/tcf-yes', html({ head: cmp(tcString(all), all), snippet: snippet(s.url, strictKey, FAST), body: BODY }));
  const yes = await openTab(browser, `${site.origin}/tcf-yes`, s.url);
  await yes.page.click('#cta');
  await flush(yes.page);
  const { profileId, events } = await storedEvents(s, 'anonymous_id', await anonymousId(yes.page));
  assert.ok(profileId);
  assert.ok(events.some((e) => e.event === 'Button Clicked'));
  assert.equal(typeof events[0].context.consent.tcfString, 'string', 'the TC string travels with the events');
  const history = (await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/${profileId}/consents`)).body.history;
  const analytics = history.find((r: any) => r.purpose === 'analytics');
  assert.equal(analytics.status, 'granted');
  assert.match(analytics.source, /^tcf:/, 'the ledger keeps the TCF proof');
  await yes.context.close();

  // Purposes 8 and 9 (measurement, audience research) refused: no analytics.
  const some = [1, 2, 3, 4];
  site.set('/tcf-no', html({ head: cmp(tcString(some), some), snippet: snippet(s.url, strictKey, FAST), body: BODY }));
  const no = await openTab(browser, `${site.origin}/tcf-no`, s.url);
  await no.page.click('#cta');
  await idle(no.page);
  assert.deepEqual(no.collector.map((r) => r.url()), []);
  await assertNothingOnDevice(no, 'when the CMP says no');
  await no.context.close();
});

test('with a CMP on the page even a standard source waits for its answer; where GDPR does not apply it tracks', { skip, timeout: 120_000 }, async () => {
  site.set('/std-tcf-no', html({ head: cmp(tcString([1]), [1]), snippet: snippet(s.url, s.writeKey, FAST), body: BODY }));
  const no = await openTab(browser, `${site.origin}/std-tcf-no`, s.url);
  await no.page.click('#cta');
  await idle(no.page);
  assert.deepEqual(no.collector.map((r) => r.url()), [], 'not even the first page view went out before the CMP refused');
  const device = await deviceState(no);
  assert.deepEqual([device.cookies, device.local], [[], ['ensemble_consent']], 'only the refusal is kept (a standard source)');
  await no.context.close();

  site.set('/std-tcf-na', html({ head: cmp('', [], false), snippet: snippet(s.url, s.writeKey, FAST), body: BODY }));
  const na = await openTab(browser, `${site.origin}/std-tcf-na`, s.url);
  await na.page.click('#cta');
  await flush(na.page);
  const { events } = await storedEvents(s, 'anonymous_id', await anonymousId(na.page));
  assert.deepEqual(events.map((e) => e.event ?? e.type), ['page', 'Button Clicked']);
  await na.context.close();
});

test('the optional banner: accepting and refusing are one click each, with buttons alike', { skip, timeout: 120_000 }, async () => {
  site.set('/banner', html({ snippet: snippet(s.url, strictKey, { ...FAST, banner: true }), body: BODY }));
  const accept = await openTab(browser, `${site.origin}/banner`, s.url);
  const buttons = accept.page.locator('#ensemble-consent button');
  await buttons.first().waitFor();
  assert.equal(await buttons.count(), 2);
  const looks = await buttons.evaluateAll((bs) => bs.map((b) => { const st = getComputedStyle(b); return [st.fontSize, st.fontWeight, st.padding, st.backgroundColor, st.color, st.border].join('|'); }));
  assert.equal(looks[0], looks[1], 'refusing looks exactly like accepting');
  await accept.page.click('[data-ensemble-consent=accept]');
  assert.equal(await accept.page.locator('#ensemble-consent').count(), 0, 'the banner goes away');
  await flush(accept.page);
  const { events } = await storedEvents(s, 'anonymous_id', await anonymousId(accept.page));
  assert.deepEqual(events.map((e) => e.event ?? e.type), ['page', 'Consent Preference Updated']);
  // Accepted: the next page shows no banner and tracks at once.
  await accept.page.goto(`${site.origin}/banner`);
  await accept.page.waitForFunction(() => (window as any).ensemble?.initialized === true);
  assert.equal(await accept.page.locator('#ensemble-consent').count(), 0);
  await accept.context.close();

  const refuse = await openTab(browser, `${site.origin}/banner`, s.url);
  await refuse.page.click('[data-ensemble-consent=refuse]');
  assert.equal(await refuse.page.locator('#ensemble-consent').count(), 0);
  await refuse.page.click('#cta');
  await idle(refuse.page);
  assert.deepEqual(refuse.collector.map((r) => r.url()), [], 'a refusal sends nothing');
  await assertNothingOnDevice(refuse, 'after a refusal');
  await refuse.context.close();
});
