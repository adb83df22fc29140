/**
 * The console's core pages in a real Chromium, logged in through the login page: a source is
 * created and its debugger shows an accepted and a rejected event as they arrive; a segment
 * built in the visual builder previews the count the API computes; a profile's 360° view shows
 * its identity links, traits, segments with their explanation; the language switches to French
 * and stays the user's. A screenshot of every page is saved under test-artifacts/console/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { basic, post } from './helpers/server.js';
import { ARTIFACTS, eventually, skip, startConsole, USERS, type ConsoleTest } from './helpers/console-browser.js';

let c: ConsoleTest;
let page: Page;

/** Three customers on the pro plan (two of them ordered), two on the free plan (one ordered). */
const PEOPLE = [
  { userId: 'cc-user-1', plan: 'pro', orders: 2 },
  { userId: 'cc-user-2', plan: 'pro', orders: 1 },
  { userId: 'cc-user-3', plan: 'pro', orders: 0 },
  { userId: 'cc-user-4', plan: 'free', orders: 1 },
  { userId: 'cc-user-5', plan: 'free', orders: 0 },
];

before(async () => {
  if (skip) return;
  c = await startConsole();
  const batch = PEOPLE.flatMap((p) => [
    { type: 'identify', userId: p.userId, ...(p.userId === 'cc-user-1' ? { anonymousId: 'cc-anon-1' } : {}), traits: { plan: p.plan, firstName: `Person ${p.userId.slice(-1)}` } },
    ...Array.from({ length: p.orders }, (_, i) => ({ type: 'track', userId: p.userId, event: 'Order Completed', properties: { total: 10 * (i + 1) } })),
  ]);
  const r = await post(`${c.s.url}/v1/batch`, { batch }, { authorization: basic(c.s.writeKey) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await c.s.settle();
});

after(async () => {
  if (c) await c.close();
});

async function text(p: Page, selector: string): Promise<string> {
  return (await p.locator(selector).first().textContent()) ?? '';
}

test('the login page logs a user in (and refuses a wrong password with its code)', { skip }, async () => {
  const login = await c.open('/login');
  await login.getByLabel('Email').fill(USERS.marketer.email);
  await login.getByLabel('Password').fill('not-the-password');
  await login.getByRole('button', { name: 'Log in' }).click();
  await login.locator('[data-code="ENSEMBLE_ERR_LOGIN_FAILED"]').waitFor();
  await c.screenshot(login, 'login');
  page = await c.login('marketer');
  assert.equal(new URL(page.url()).pathname, '/');
  await page.getByRole('heading', { name: 'Home' }).waitFor();
  await page.locator('[data-testid="profiles"]').waitFor();
  assert.equal(await text(page, '[data-testid="profiles"]'), String(PEOPLE.length));
  await c.screenshot(page, 'home');
});

test('Sources: create a source, copy its key and snippet, watch accepted and rejected events arrive', { skip }, async () => {
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Sources' }).click();
  await page.getByLabel('Name').fill('Console shop');
  await page.getByLabel('Kind').selectOption('website');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator('[data-testid="write-key"]').waitFor();
  const sources = (await c.s.api('GET', `/api/workspaces/${c.s.workspaceId}/sources`)).body.sources as Array<{ name: string; writeKey: string; id: string }>;
  const created = sources.find((s) => s.name === 'Console shop');
  assert.ok(created, 'the source exists on the server');
  assert.equal(await text(page, '[data-testid="write-key"]'), created.writeKey);
  const snippet = await text(page, '[data-testid="snippet"]');
  assert.ok(snippet.includes(`${c.s.url}/tag.js`), 'the snippet loads tag.js from this server');
  assert.ok(snippet.includes(JSON.stringify(created.writeKey)), 'the snippet carries the write key');
  await page.getByRole('button', { name: 'Copy the write key' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), created.writeKey, 'the copy button copied the write key');
  await page.getByRole('button', { name: 'Copy the snippet' }).click();
  assert.equal((await page.evaluate(() => navigator.clipboard.readText())).trim(), snippet.trim(), 'the copy button copied the snippet');
  await page.getByText('Live: new events appear here as they arrive.').waitFor();

  const ok = await post(`${c.s.url}/v1/track`, { event: 'Debugger Check', userId: 'cc-debug-1' }, { authorization: basic(created.writeKey) });
  assert.equal(ok.status, 200);
  const bad = await post(`${c.s.url}/v1/track`, { event: 'Nobody' }, { authorization: basic(created.writeKey) });
  assert.equal(bad.status, 400);
  const code = bad.body.error?.code as string;
  assert.match(code, /^ENSEMBLE_ERR_/);
  const accepted = page.locator('[data-testid="debugger"] tr[data-status="accepted"]', { hasText: 'Debugger Check' });
  await accepted.waitFor();
  const rejected = page.locator('[data-testid="debugger"] tr[data-status="rejected"]', { hasText: code });
  await rejected.waitFor();
  await c.screenshot(page, 'sources');
});

test('Segments: a segment built in the visual builder previews the API\'s count, and is saved with it', { skip }, async () => {
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Segments' }).click();
  await page.getByRole('link', { name: 'New segment' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Pro customers who ordered');
  const event = page.locator('fieldset[data-kind="event"]');
  await event.getByLabel('Event name').fill('Order Completed');
  const root = page.locator('fieldset[data-kind="and"]').first();
  await root.locator('.add-condition').getByLabel('New condition').selectOption('trait');
  await root.locator('.add-condition').getByRole('button', { name: 'Add' }).click();
  const trait = page.locator('fieldset[data-kind="trait"]');
  await trait.getByLabel('Trait').fill('plan');
  await trait.getByLabel('Value').fill('pro');

  const expected = PEOPLE.filter((p) => p.plan === 'pro' && p.orders > 0).length;
  const shown = await eventually('the preview shows the expected count', async () => {
    const n = await page.locator('[data-testid="preview-count"]').textContent().catch(() => null);
    return n === String(expected) ? n : undefined;
  });
  const definition = JSON.parse(await page.locator('[data-testid="definition-json"]').textContent() ?? '{}');
  const api = await c.s.api('POST', `/api/workspaces/${c.s.workspaceId}/segments/preview`, { definition });
  assert.equal(api.status, 200);
  assert.equal(String(api.body.count), shown, 'the builder shows what the API counts');
  assert.match(await text(page, '[data-testid="definition-summary"]'), /All of \(Event Order Completed ≥ 1 · within 30d; Trait plan = "pro"\)/);
  assert.deepEqual(definition, {
    kind: 'and', of: [
      { kind: 'event', event: 'Order Completed', count: { op: 'gte', value: 1 }, within: '30d' },
      { kind: 'trait', trait: 'plan', op: 'eq', value: 'pro' },
    ],
  });
  await c.screenshot(page, 'segment-builder');

  await page.getByRole('button', { name: 'Create the segment' }).click();
  await page.waitForURL(/\/segments\/seg_/);
  await page.locator('[data-testid="segment-size"]').waitFor();
  const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
  const saved = await c.s.api('GET', `/api/workspaces/${c.s.workspaceId}/segments/${id}`);
  assert.equal(saved.status, 200);
  assert.equal(saved.body.size, expected);
  assert.equal(await text(page, '[data-testid="segment-size"]'), String(expected));
  await c.screenshot(page, 'segment');

  // A second segment, through the API, to compare overlaps on the list page.
  const pro = await c.s.api('POST', `/api/workspaces/${c.s.workspaceId}/segments`, { name: 'Pro plan', definition: { kind: 'trait', trait: 'plan', op: 'eq', value: 'pro' } });
  assert.equal(pro.status, 201);
  await page.getByRole('link', { name: 'Back to segments' }).click();
  await page.getByLabel('Compare Pro customers who ordered').check();
  await page.getByLabel('Compare Pro plan').check();
  await page.getByRole('button', { name: /Show the overlap/ }).click();
  const overlap = await c.s.api('GET', `/api/workspaces/${c.s.workspaceId}/segments/overlap?ids=${id},${pro.body.id}`);
  await page.locator('[data-testid="overlap"] td', { hasText: new RegExp(`^${overlap.body.pairs[0].both}$`) }).waitFor();
  await c.screenshot(page, 'segments');
});

test('Segments: the builder writes every kind of condition, and shows the server\'s problems at the condition', { skip }, async () => {
  const ws = `/api/workspaces/${c.s.workspaceId}`;
  assert.equal((await c.s.api('POST', `${ws}/computed-traits`, { name: 'orders_count', op: 'count', event: 'Order Completed' })).status, 201);
  const ref = await c.s.api('POST', `${ws}/segments`, { name: 'Pro (referenced)', definition: { kind: 'trait', trait: 'plan', op: 'eq', value: 'pro' } });
  assert.equal(ref.status, 201);
  await c.s.settle();
  await page.goto(`${c.s.url}/segments/new`);
  await page.getByLabel('Name', { exact: true }).fill('Every kind');
  const root = page.locator('fieldset[data-kind="and"]').first();
  const addTo = async (group: ReturnType<Page['locator']>, kind: string) => {
    const add = group.locator(':scope > .add-condition');
    await add.getByLabel('New condition').selectOption(kind);
    await add.getByRole('button', { name: 'Add' }).click();
    return page.locator(`fieldset[data-kind="${kind}"]`).last();
  };
  // An event with a property filter.
  const event = page.locator('fieldset[data-kind="event"]').first();
  await event.getByLabel('Event name').fill('Order Completed');
  await event.getByRole('button', { name: 'Add a property filter' }).click();
  await event.getByLabel('Property').fill('total');
  await event.getByLabel('Operator').selectOption('gte');
  await event.getByLabel('Value').fill('10');
  // Any of: a trait in a list, a sequence with an absent last step, a consent, a location.
  const any = await addTo(root, 'or');
  await any.getByLabel('Combine').selectOption('or');
  const plan = any.locator('fieldset[data-kind="trait"]');
  await plan.getByLabel('Trait').fill('plan');
  await plan.getByLabel('Operator').selectOption('in');
  await plan.getByLabel('Value').fill('pro, team');
  const sequence = await addTo(any, 'sequence');
  await sequence.getByLabel('Step 1: event').fill('Order Completed');
  await sequence.getByLabel('Step 2: event').fill('Order Completed');
  await sequence.getByLabel('Did not happen').check();
  const consent = await addTo(any, 'consent');
  await consent.getByLabel('Purpose').fill('email_marketing');
  const geo = await addTo(any, 'geo');
  await geo.getByLabel('Where').selectOption('near');
  await geo.getByLabel('Radius (km)').fill('5');
  // A computed trait, another segment, and a negation.
  const computed = await addTo(root, 'computed');
  await computed.getByLabel('Computed trait').fill('orders_count');
  await computed.getByLabel('Value').fill('1');
  const segment = await addTo(root, 'segment');
  await segment.getByLabel('Segment', { exact: true }).selectOption({ label: 'Pro (referenced)' });
  const not = await addTo(root, 'not');
  const name = not.locator('fieldset[data-kind="trait"]');
  await name.getByLabel('Trait').fill('firstName');
  await name.getByLabel('Operator').selectOption('starts_with');
  await name.getByLabel('Value').fill('Person 5');

  const expected = PEOPLE.filter((p) => p.plan === 'pro' && p.orders > 0 && p.userId !== 'cc-user-5').length;
  const count = async () => eventually('the preview shows the expected count', async () => {
    const n = await page.locator('[data-testid="preview-count"]').textContent().catch(() => null);
    return n === String(expected) ? n : undefined;
  });
  await count();
  const definition = JSON.parse(await page.locator('[data-testid="definition-json"]').textContent() ?? '{}');
  assert.deepEqual(definition, {
    kind: 'and', of: [
      { kind: 'event', event: 'Order Completed', count: { op: 'gte', value: 1 }, within: '30d', filters: [{ property: 'total', op: 'gte', value: 10 }] },
      { kind: 'or', of: [
        { kind: 'trait', trait: 'plan', op: 'in', value: ['pro', 'team'] },
        { kind: 'sequence', steps: [{ event: 'Order Completed' }, { event: 'Order Completed', absent: true }], within: '7d' },
        { kind: 'consent', purpose: 'email_marketing' },
        { kind: 'geo', near: { latitude: 48.8566, longitude: 2.3522, radiusKm: 5 } },
      ] },
      { kind: 'computed', name: 'orders_count', op: 'gte', value: 1 },
      { kind: 'segment', id: ref.body.id },
      { kind: 'not', of: { kind: 'trait', trait: 'firstName', op: 'starts_with', value: 'Person 5' } },
    ],
  });
  const api = await c.s.api('POST', `${ws}/segments/preview`, { definition });
  assert.equal(api.status, 200);
  assert.equal(api.body.count, expected, 'the API counts what the builder shows');

  // A score of a model and an external value the workspace does not have: the server's problem appears at that condition.
  const score = await addTo(root, 'score');
  await score.getByLabel('Model').fill('no_such_model');
  await score.locator('.error', { hasText: 'no predictive model' }).waitFor();
  await c.screenshot(page, 'segment-builder-problems');
  await score.locator(':scope > .condition-tools').getByRole('button', { name: 'Remove', exact: true }).click();
  const external = await addTo(root, 'external');
  await external.getByLabel('External source').fill('weather');
  await external.getByLabel('Key trait').fill('city');
  await external.getByLabel('Field').fill('temperature');
  await external.locator('.error', { hasText: 'no external source' }).waitFor();
  await external.locator(':scope > .condition-tools').getByRole('button', { name: 'Remove', exact: true }).click();
  await count();
  await c.screenshot(page, 'segment-builder-all-kinds');
});

test('the console works from the keyboard: log in with Tab and Enter, skip to the content', { skip }, async () => {
  const login = await c.open('/login');
  await login.locator('input[name="email"]').waitFor();
  await login.keyboard.press('Tab');
  await login.keyboard.type(USERS.analyst.email);
  await login.keyboard.press('Tab');
  await login.keyboard.type(USERS.analyst.password);
  await login.keyboard.press('Enter');
  await login.locator('header.topbar').waitFor();
  await login.keyboard.press('Tab');
  assert.equal(await login.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await login.keyboard.press('Enter');
  assert.equal(await login.evaluate(() => document.activeElement?.id), 'main');
});

test('Profiles: search by an identifier and open the 360° view with links, traits and segment explanations', { skip }, async () => {
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Profiles' }).click();
  await page.locator('table.table tbody tr.clickable').first().waitFor();
  await c.screenshot(page, 'profiles');
  await page.getByLabel('Search by identifier').fill('cc-user-1');
  await page.getByRole('button', { name: 'Search' }).click();
  const lookup = await c.s.api('GET', `/api/workspaces/${c.s.workspaceId}/profiles/lookup?type=user_id&value=cc-user-1`);
  assert.equal(lookup.status, 200);
  // A consent decision and a journey the person waits in, for the 360° view.
  const ws = `/api/workspaces/${c.s.workspaceId}`;
  const consent = await c.s.api('PUT', `${ws}/profiles/${lookup.body.id}/consents`, { consents: [{ purpose: 'email_marketing', status: 'granted' }], reference: 'form-42' });
  assert.equal(consent.status, 200, JSON.stringify(consent.body));
  const journey = await c.s.api('POST', `${ws}/journeys`, {
    name: 'Welcome series', entry: { kind: 'event', event: 'Welcome Go' }, start: 'pause',
    steps: { pause: { kind: 'wait', for: '1d', next: 'done' }, done: { kind: 'exit' } },
  });
  assert.equal(journey.status, 201, JSON.stringify(journey.body));
  assert.equal((await post(`${c.s.url}/v1/track`, { event: 'Welcome Go', userId: 'cc-user-1' }, { authorization: basic(c.s.writeKey) })).status, 200);
  await c.s.settle();
  const inJourney = await eventually('the person is in the journey', async () => {
    const r = await c.s.api('GET', `${ws}/profiles/${lookup.body.id}/journeys`);
    return r.body.journeys?.find((j: { journeyId: string }) => j.journeyId === journey.body.id);
  });
  assert.equal(inJourney.step, 'pause');
  assert.equal(inJourney.name, 'Welcome series');
  assert.equal(inJourney.outcome, null);
  const row = page.locator('table.table tbody tr.clickable', { hasText: lookup.body.id });
  await row.waitFor();
  assert.equal(await page.locator('table.table tbody tr.clickable').count(), 1, 'the search finds exactly the one profile');
  await row.click();
  await page.waitForURL(new RegExp(`/profiles/${lookup.body.id}$`));
  await page.locator('[data-testid="identity-links"] td', { hasText: 'user_id' }).waitFor();
  // Why each link exists: both identifiers came with the same identify event.
  const graph = await c.s.api('GET', `/api/workspaces/${c.s.workspaceId}/profiles/${lookup.body.id}/identity`);
  assert.equal(graph.body.identifiers.length, 2);
  for (const id of graph.body.identifiers) {
    const link = page.locator('[data-testid="identity-links"] tr', { hasText: id.type });
    await link.filter({ hasText: id.linked.messageId }).filter({ hasText: id.linked.rule }).waitFor();
  }
  await page.locator('[data-testid="traits"] tr', { hasText: 'plan' }).filter({ hasText: 'pro' }).waitFor();
  const segment = page.locator('[data-testid="profile-segments"] li', { hasText: 'Pro customers who ordered' });
  await segment.waitFor();
  await segment.getByRole('button', { name: 'Why?' }).click();
  await segment.locator('.explanation').first().waitFor();
  assert.match(await segment.locator('.explanation').first().textContent() ?? '', /✓/);
  await page.getByRole('cell', { name: 'Order Completed' }).first().waitFor();
  await page.locator('[data-testid="consents"] li', { hasText: 'email_marketing' }).filter({ hasText: 'Granted' }).waitFor();
  await page.locator('[data-testid="profile-journeys"] li', { hasText: 'Welcome series' }).filter({ hasText: 'waiting at step pause' }).waitFor();
  await c.screenshot(page, 'profile');
});

test('French: the language switch translates the console and is saved on the user', { skip }, async () => {
  await page.getByLabel('Language').selectOption('fr');
  await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name: 'Accueil' }).waitFor();
  await page.getByRole('heading', { name: 'Profil 360°' }).waitFor();
  await c.screenshot(page, 'profile-fr');
  // A new session of the same user opens in French: the choice is the user's, not the browser's.
  const again = await c.login('marketer');
  await again.getByRole('heading', { name: 'Accueil' }).waitFor();
  await again.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name: 'Segments' }).click();
  await again.getByRole('link', { name: 'Nouveau segment' }).waitFor();
  await c.screenshot(again, 'segments-fr');
});

test('a viewer sees the pages but not the forms that change things; the home page folds on a phone', { skip }, async () => {
  const viewer = await c.login('viewer', { viewport: { width: 390, height: 844 } });
  await viewer.getByRole('button', { name: 'Menu' }).click();
  await viewer.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Sources' }).click();
  await viewer.getByRole('heading', { name: 'Sources', exact: true }).waitFor();
  assert.equal(await viewer.getByRole('button', { name: 'Create' }).count(), 0);
  await viewer.getByRole('button', { name: 'Menu' }).click();
  await viewer.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Home' }).click();
  await viewer.locator('[data-testid="profiles"]').waitFor();
  await c.screenshot(viewer, 'home-mobile');
  assert.ok(existsSync(`${ARTIFACTS}/home.png`));
});
