/**
 * The console's Journeys, Destinations, Models and Analytics pages in a real Chromium, on a real
 * server: a journey built in the canvas editor (steps added from the palette, an edge drawn on the
 * canvas) is refused with the server's problem shown on the right node, then saved and read back
 * through the API, paused, dry-run for a real profile; the marketing-pressure policy is saved from
 * its form; a webhook destination is created from the form generated from the connector's schema
 * and its test delivery reaches a local webhook server, signed; a dead letter is inspected and
 * replayed from the page; the analytics trend shows exactly the events sent, broken down by a
 * property; the models page shows a card once trained (or says the feature is not available).
 * Every page is saved as a screenshot.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { eventually, skip, startConsole, type ConsoleTest } from './helpers/console-browser.js';
import { sendEvents, settleAll, until } from './helpers/activation.js';
import { startPlatform, type PlatformServer } from './helpers/platform-server.js';
import { startSmtpServer } from './helpers/smtp-server.js';

let c: ConsoleTest;
let hook: PlatformServer;
before(async () => {
  if (skip) return;
  c = await startConsole();
  hook = await startPlatform();
});
after(async () => {
  if (hook) await hook.close();
  if (c) await c.close();
});

const uid = () => randomUUID().slice(0, 8);
const ws = () => `/api/workspaces/${c.s.workspaceId}`;
const SECRET = 'console-webhook-secret-0123456789';

/** Draws an edge on the canvas: from a node's outlet handle to another node's input handle. */
async function drawEdge(page: Page, from: string, handle: string, to: string): Promise<void> {
  const source = page.locator(`.react-flow__handle.source[data-nodeid="${from}"][data-handleid="${handle}"]`);
  const target = page.locator(`.react-flow__handle.target[data-nodeid="${to}"]`);
  const a = await source.boundingBox();
  const b = await target.boundingBox();
  assert.ok(a && b, 'both handles are on screen');
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
  await page.mouse.up();
}

test('a journey built in the canvas editor: server problems at the right node, saved, read back, paused, dry-run; the pressure policy', { skip }, async () => {
  const page = await c.login('marketer');
  await page.getByRole('link', { name: 'Journeys' }).first().click();
  await page.getByRole('heading', { name: 'Journeys', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'New journey' }).click();

  const name = `Welcome ${uid()}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Entry event').fill('Signed Up');
  await page.getByLabel('Goal event (optional)').fill('Order Completed');

  await page.getByLabel('Kind of step to add').selectOption('wait');
  await page.getByRole('button', { name: 'Add step' }).click();
  await page.getByLabel('Duration').fill('3d');
  await page.getByLabel('Kind of step to add').selectOption('exit');
  await page.getByRole('button', { name: 'Add step' }).click();

  // Saved before the wait leads anywhere: the editor points at the missing link, nothing is sent.
  await page.getByRole('button', { name: 'Save journey' }).click();
  await page.locator('[data-testid="journey-node-wait_1"] .journey-node-problems').waitFor();
  assert.equal(await page.locator('[data-testid="journey-node-exit_1"] .journey-node-problems').count(), 0, 'the exit step has no problem');
  assert.match(await page.getByRole('region', { name: 'Step wait_1' }).getByRole('alert').first().innerText(), /Choose where this leads/);
  assert.equal((await c.s.api('GET', `${ws()}/journeys`)).body.journeys.length, 0, 'nothing was stored');
  await page.getByLabel('Duration').fill('3 days');
  await page.getByRole('button', { name: 'Save journey' }).click();
  await page.getByRole('region', { name: 'Step wait_1' }).getByText('Write a duration as a number and a unit').first().waitFor();
  await page.getByLabel('Duration').fill('3d');

  // A split with a control group, linked by drawing edges on the canvas; its shares sum to 90 %.
  await page.getByLabel('Kind of step to add').selectOption('split');
  await page.getByRole('button', { name: 'Add step' }).click();
  await page.getByLabel('Percentage of branch 1').fill('80');
  await drawEdge(page, 'wait_1', 'next', 'split_1');
  await drawEdge(page, 'split_1', 'branches/0/next', 'exit_1');
  await page.locator('[data-testid="rf__edge-wait_1:next"]').waitFor({ state: 'attached' });
  await page.locator('[data-testid="rf__edge-split_1:branches/0/next"]').waitFor({ state: 'attached' });

  // The server refuses it: its problem is shown on the split node and at the field it names.
  await page.getByRole('button', { name: 'Save journey' }).click();
  await page.locator('[data-code="ENSEMBLE_ERR_JOURNEY_INVALID"]').waitFor();
  await page.locator('[data-testid="journey-node-split_1"] .journey-node-problems').waitFor();
  for (const other of ['wait_1', 'exit_1']) assert.equal(await page.locator(`[data-testid="journey-node-${other}"] .journey-node-problems`).count(), 0, `${other} has no problem`);
  const panel = page.getByRole('region', { name: 'Step split_1' });
  assert.match(await panel.getByRole('alert').first().innerText(), /\/steps\/split_1\/branches.*90/);
  assert.equal((await c.s.api('GET', `${ws()}/journeys`)).body.journeys.length, 0, 'still nothing stored');

  await page.getByLabel('Percentage of branch 1').fill('90');
  await page.getByRole('button', { name: 'Save journey' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved: version 1.' }).waitFor();
  await page.waitForURL(/\/journeys\/[^/]+$/);
  await page.locator('.journey-node').first().waitFor();
  await c.screenshot(page, 'journey-editor');

  const list = (await c.s.api('GET', `${ws()}/journeys`)).body.journeys;
  assert.equal(list.length, 1);
  const j = list[0];
  assert.ok(page.url().endsWith(`/journeys/${encodeURIComponent(j.id)}`));
  assert.deepEqual(j.definition, {
    name, entry: { kind: 'event', event: 'Signed Up' }, goal: { event: 'Order Completed' }, reentry: { policy: 'once' }, priority: 5,
    start: 'wait_1', steps: {
      wait_1: { kind: 'wait', for: '3d', next: 'split_1' },
      split_1: { kind: 'split', branches: [{ percent: 90, next: 'exit_1', name: 'A' }, { percent: 10, control: true, name: 'control' }] },
      exit_1: { kind: 'exit' },
    },
  });

  // The side panel agrees with the canvas; editing the saved journey makes version 2.
  await page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: 'wait_1' }).click();
  assert.equal(await page.getByRole('region', { name: 'Step wait_1' }).getByLabel('Next step').inputValue(), 'split_1', 'the drawn edge is the step\'s next');
  await page.getByLabel('Duration').fill('2d');
  await page.getByRole('button', { name: 'Save journey' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved: version 2.' }).waitFor();
  const v2 = (await c.s.api('GET', `${ws()}/journeys/${j.id}`)).body;
  assert.equal(v2.version, 2);
  assert.deepEqual(v2.definition.steps.wait_1, { kind: 'wait', for: '2d', next: 'split_1' });

  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByTestId('journey-status').filter({ hasText: 'Paused' }).waitFor();
  assert.equal((await c.s.api('GET', `${ws()}/journeys/${j.id}`)).body.status, 'paused');

  // A dry run for a real person: the path walks the steps to the split and, drawn into A or the control group, ends.
  const anonymousId = `anon-${uid()}`;
  await sendEvents(c.s, [{ type: 'track', anonymousId, event: 'Page Seen' }]);
  const profileId = (await c.s.api('GET', `${ws()}/profiles/lookup?type=anonymous_id&value=${anonymousId}`)).body.id;
  await page.getByLabel('Profile id').fill(profileId);
  await page.getByRole('button', { name: 'Show the path' }).click();
  await page.getByTestId('dry-run-outcome').waitFor();
  const path = await page.locator('.journey-path li strong').allInnerTexts();
  const outcome = await page.getByTestId('dry-run-outcome').innerText();
  const sim = (await c.s.api('GET', `${ws()}/journeys/${j.id}/simulate?profileId=${profileId}`)).body;
  assert.deepEqual(path, sim.path.map((p: { step: string }) => p.step), 'the page shows the path the server walks');
  assert.equal(outcome, sim.outcome);
  assert.deepEqual(path.slice(0, 2), ['wait_1', 'split_1']);
  await c.screenshot(page, 'journey');

  // The marketing-pressure policy, from the list page.
  await page.getByRole('link', { name: 'All journeys' }).click();
  await page.getByRole('cell', { name }).waitFor();
  await page.getByRole('button', { name: 'Add a cap' }).click();
  await page.getByLabel('Channel of cap 1').selectOption('email');
  await page.getByLabel('At most (cap 1)').fill('2');
  await page.getByLabel('Within (cap 1)').fill('7d');
  await page.getByRole('button', { name: 'Save the policy' }).click();
  await page.getByRole('status').filter({ hasText: 'Policy saved.' }).waitFor();
  const policy = (await c.s.api('GET', `${ws()}/pressure-policy`)).body;
  assert.deepEqual(policy.caps, [{ channel: 'email', max: 2, within: '7d' }]);
  await c.screenshot(page, 'journeys');

  // On a phone the canvas and the side panel stack; a viewer reads the journey but cannot edit it.
  const phone = await c.login('viewer', { viewport: { width: 390, height: 844 } });
  await phone.goto(`${c.s.url}/journeys`);
  await phone.getByRole('heading', { name: 'Journeys', level: 1 }).waitFor();
  assert.equal(await phone.getByRole('link', { name: 'New journey' }).count(), 0, 'no create button for a viewer');
  await phone.goto(`${c.s.url}/journeys/${encodeURIComponent(j.id)}`);
  await phone.locator('[data-testid="journey-node-split_1"]').waitFor();
  assert.equal(await phone.getByRole('button', { name: 'Save journey' }).count(), 0, 'no save button for a viewer');
  assert.ok(await phone.getByLabel('Name', { exact: true }).isDisabled(), 'the settings are read-only');
  await c.screenshot(phone, 'journey-mobile');
});

test('a branch built with the condition builder and linked from the side panel with the keyboard alone', { skip }, async () => {
  const page = await c.login('marketer');
  await page.goto(`${c.s.url}/journeys/new`);
  const name = `VIP branch ${uid()}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Entry event').fill('Logged In');
  for (const kind of ['branch', 'exit', 'exit']) {
    await page.getByLabel('Kind of step to add').selectOption(kind);
    await page.getByRole('button', { name: 'Add step' }).click();
  }
  // The branch's panel: the segment builder's trait condition, then its two links, by keyboard.
  await page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: 'branch_1' }).click();
  const panel = page.getByRole('region', { name: 'Step branch_1' });
  await panel.getByRole('textbox', { name: 'Trait' }).fill('tier');
  await panel.getByRole('textbox', { name: 'Value' }).fill('gold');
  await panel.getByLabel('If true').focus();
  await page.keyboard.press('ArrowDown');
  await panel.getByLabel('Otherwise').selectOption('exit_2');
  assert.equal(await panel.getByLabel('If true').inputValue(), 'exit_1', 'chosen with the arrow key');
  await page.getByRole('button', { name: 'Save journey' }).click();
  await page.locator('.ok[role="status"], .error').first().waitFor();
  assert.equal(await page.locator('.error').count(), 0, (await page.locator('.error, .problems').allInnerTexts()).join(' '));
  await page.waitForURL(/\/journeys\/(?!new$)[^/]+$/);
  const saved = (await c.s.api('GET', `${ws()}/journeys`)).body.journeys.find((j: { definition: { name: string } }) => j.definition.name === name);
  assert.ok(saved, 'the journey is stored');
  assert.deepEqual(saved.definition.steps.branch_1, { kind: 'branch', condition: { kind: 'trait', trait: 'tier', op: 'eq', value: 'gold' }, then: 'exit_1', else: 'exit_2' });
  assert.equal(saved.definition.start, 'branch_1');
});

test('a destination from the form generated from the connector schema; a signed test delivery reaches a local webhook; a dead letter replayed from the page', { skip }, async () => {
  const page = await c.login('marketer');
  await page.goto(`${c.s.url}/destinations/new`);
  const connector = page.getByLabel('Connector');
  await connector.waitFor();

  // The form follows the schema: the email connector's fields, then the webhook's.
  await connector.selectOption('email');
  for (const field of ['Host *', 'Port *', 'From *']) await page.getByLabel(field, { exact: true }).waitFor();
  assert.equal(await page.getByLabel('Secure *', { exact: true }).getAttribute('type'), 'checkbox');
  await connector.selectOption('webhook');
  assert.equal(await page.getByLabel('Host *', { exact: true }).count(), 0);
  assert.equal(await page.getByLabel('Secret *', { exact: true }).getAttribute('type'), 'password', 'secrets are typed in a password field');

  await page.getByLabel('Name', { exact: true }).fill('CRM hook');
  await page.getByLabel('Url *', { exact: true }).fill('ftp://nowhere');
  await page.getByLabel('Secret *', { exact: true }).fill(SECRET);
  await page.getByRole('button', { name: 'Create the destination' }).click();
  await page.locator('[data-code="ENSEMBLE_ERR_DESTINATION_CONFIG_INVALID"]').waitFor();
  assert.ok(await page.locator('.field:has(label:text-is("Url *")) [role="alert"]').count() > 0, 'the problem is shown at the url field');

  await page.getByLabel('Url *', { exact: true }).fill(`${hook.url}/crm`);
  await page.getByRole('button', { name: 'Create the destination' }).click();
  await page.waitForURL(/\/destinations\/dst_[^/]+$/);
  const id = decodeURIComponent(page.url().split('/').pop()!);
  const stored = (await c.s.api('GET', `${ws()}/destinations/${id}`)).body;
  assert.equal(stored.type, 'webhook');
  assert.equal(stored.name, 'CRM hook');
  assert.equal(stored.config.url, `${hook.url}/crm`);
  assert.notEqual(stored.config.secret, SECRET, 'the secret is never read back');

  const before = hook.requests.length;
  await page.getByRole('button', { name: 'Send a test' }).click();
  const outcome = page.getByTestId('test-outcome');
  await outcome.waitFor();
  assert.equal(await outcome.getAttribute('data-outcome'), 'ok');
  const received = hook.requests.slice(before);
  assert.equal(received.length, 1, 'one test request reached the webhook');
  const req = received[0]!;
  assert.equal(req.url, '/crm');
  const [t, v1] = String(req.headers['x-ensemble-signature']).split(',').map((p) => p.split('=')[1]);
  assert.equal(v1, createHmac('sha256', SECRET).update(`${t}.${req.body}`).digest('hex'), 'signed with the secret typed in the form');
  assert.equal(JSON.parse(req.body).batch[0].profileId, 'prf_test', 'a synthetic person, not a real one');
  await c.screenshot(page, 'destination');

  // Editing keeps the secret behind its mask: renamed, and the next test is signed the same way.
  await page.getByLabel('Name', { exact: true }).fill('CRM hook (renamed)');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('heading', { name: 'CRM hook (renamed)', level: 1 }).waitFor();
  assert.equal((await c.s.api('GET', `${ws()}/destinations/${id}`)).body.name, 'CRM hook (renamed)');
  const again = hook.requests.length;
  await page.getByRole('button', { name: 'Send a test' }).click();
  await page.getByTestId('test-outcome').waitFor();
  assert.equal(hook.requests.length, again + 1);
  const r2 = hook.requests[again]!;
  const [t2, s2] = String(r2.headers['x-ensemble-signature']).split(',').map((p) => p.split('=')[1]);
  assert.equal(s2, createHmac('sha256', SECRET).update(`${t2}.${r2.body}`).digest('hex'), 'the secret was kept, not replaced by its mask');

  // A dead letter: an audience delivery the receiver refuses (one attempt allowed), then replayed.
  const seg = (await c.s.api('POST', `${ws()}/segments`, { name: `Dead ${uid()}`, purposes: ['necessary'], definition: { kind: 'event', event: 'Dead Letter Me' } })).body;
  const down = await startPlatform(() => ({ status: 500, body: 'down' }));
  try {
    const d = (await c.s.api('POST', `${ws()}/destinations`, { type: 'webhook', name: 'Down hook', purpose: 'necessary', segments: [seg.id], maxAttempts: 1, config: { url: `${down.url}/in`, secret: SECRET } })).body;
    await sendEvents(c.s, [{ type: 'track', anonymousId: `d-${uid()}`, event: 'Dead Letter Me' }]);
    await eventually('the dead letter', async () => (await c.s.api('GET', `${ws()}/destinations/${d.id}/dead-letters`)).body.deadLetters.length === 1);
    await page.goto(`${c.s.url}/destinations/${d.id}`);
    await page.getByRole('button', { name: 'Inspect' }).click();
    assert.match(await page.getByLabel('Dead letter details').innerText(), /http_500/);
    await page.getByTestId('stat-dead').filter({ hasText: '1' }).waitFor();
    await c.screenshot(page, 'destination-dead-letters');
    down.handler = () => ({ status: 200, body: {} });
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await page.getByRole('status').filter({ hasText: '1 delivery queued again.' }).waitFor();
    await eventually('the replayed delivery', async () => { await settleAll(c.s); return (await c.s.api('GET', `${ws()}/destinations/${d.id}/stats`)).body.delivered === 1; });
    assert.equal((await c.s.api('GET', `${ws()}/destinations/${d.id}/dead-letters`)).body.deadLetters.length, 0);
  } finally {
    await down.close();
  }
  await page.goto(`${c.s.url}/destinations`);
  await page.getByRole('cell', { name: 'CRM hook (renamed)' }).waitFor();
  await c.screenshot(page, 'destinations');
});

test('the analytics trend shows the events sent, in total and broken down by a property; a funnel; last-touch attribution', { skip }, async () => {
  const event = `Trend Check ${uid()}`;
  const pro = 2 + Math.floor(Math.random() * 6);
  const free = 1 + Math.floor(Math.random() * 4);
  const batch: unknown[] = [];
  for (let i = 0; i < pro; i++) batch.push({ type: 'track', anonymousId: `t-${uid()}`, event, properties: { plan: 'pro' } });
  for (let i = 0; i < free; i++) batch.push({ type: 'track', anonymousId: `t-${uid()}`, event, properties: { plan: 'free' } });
  batch.push({ type: 'track', anonymousId: `t-${uid()}`, event: 'Something Else', properties: { plan: 'pro' } });
  await sendEvents(c.s, batch);

  const page = await c.login('analyst');
  await page.getByRole('link', { name: 'Analytics' }).first().click();
  await page.getByRole('heading', { name: 'Analytics', level: 1 }).waitFor();
  const filters = page.getByRole('form', { name: 'Trend filters' });
  await filters.getByLabel('Event').fill(event);
  await filters.getByRole('button', { name: 'Apply' }).click();
  await page.getByTestId('trend-total-all').filter({ hasText: new RegExp(`^${pro + free}$`) }).waitFor();

  await filters.getByLabel('Break down by (property path)').fill('properties.plan');
  await filters.getByRole('button', { name: 'Apply' }).click();
  await page.getByTestId('trend-total-pro').filter({ hasText: new RegExp(`^${pro}$`) }).waitFor();
  assert.equal(await page.getByTestId('trend-total-free').innerText(), String(free));

  await filters.getByLabel('Filter (JSON)').fill('{"properties.plan": "free"}');
  await filters.getByLabel('Break down by (property path)').fill('');
  await filters.getByRole('button', { name: 'Apply' }).click();
  await page.getByTestId('trend-total-all').filter({ hasText: new RegExp(`^${free}$`) }).waitFor();

  const funnel = page.getByRole('form', { name: 'Funnel' });
  await funnel.getByLabel('Step 1 event').fill(event);
  await funnel.getByLabel('Step 2 event').fill('Something Else');
  await funnel.getByRole('button', { name: 'Show the funnel' }).click();
  const rows = page.getByRole('table', { name: 'Funnel steps' }).locator('tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.nth(0).locator('td').first().innerText(), String(pro + free), 'everyone did step 1');
  assert.equal(await rows.nth(1).locator('td').first().innerText(), '0', 'nobody who did step 1 did step 2 (another person sent it)');
  // Last-touch attribution: a landing from a newsletter link, a click inside the shop, then a purchase.
  const campaign = `spring_${uid()}`;
  const purchase = `Purchase ${uid()}`;
  const buyer = `b-${uid()}`;
  const revenue = 10 + Math.floor(Math.random() * 90);
  const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
  await sendEvents(c.s, [
    { type: 'page', anonymousId: buyer, name: 'Landing', timestamp: ago(120), context: { page: { url: `https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=${campaign}` }, campaign: { source: 'newsletter', medium: 'email', name: campaign } } },
    { type: 'page', anonymousId: buyer, name: 'Cart', timestamp: ago(60), context: { page: { url: 'https://shop.example/cart', referrer: 'https://shop.example/' } } },
    { type: 'track', anonymousId: buyer, event: purchase, timestamp: ago(30), properties: { revenue } },
  ]);
  const credited = (await c.s.api('GET', `${ws()}/analytics/attribution?conversion=${encodeURIComponent(purchase)}`)).body.rows;
  assert.equal(credited.length, 1, JSON.stringify(credited));
  assert.equal(credited[0].campaign, campaign);
  const attribution = page.locator('section.panel', { has: page.getByRole('heading', { name: 'Last-touch attribution' }) });
  await attribution.getByLabel('Conversion event').fill(purchase);
  await attribution.getByRole('button', { name: 'Apply' }).click();
  const arow = page.getByRole('table', { name: `Conversions (${purchase}) by last touch` }).locator('tbody tr').first();
  await arow.getByText(campaign).waitFor();
  const acells = await arow.locator('td').allInnerTexts();
  assert.deepEqual(acells.slice(1), [campaign, '1', new Intl.NumberFormat('en', { maximumFractionDigits: 2 }).format(revenue)]);
  assert.equal(acells[0]!.toLowerCase(), String(credited[0].channel).toLowerCase());
  // Counting direct visits too, the click inside the shop is the last touch.
  await attribution.getByLabel('Model').selectOption({ label: 'Last touch (direct visits included)' });
  await attribution.getByRole('button', { name: 'Apply' }).click();
  await arow.getByText('(none)').waitFor();
  assert.deepEqual(await arow.locator('td').allInnerTexts(), ['Direct', '(none)', '1', new Intl.NumberFormat('en', { maximumFractionDigits: 2 }).format(revenue)]);
  await c.screenshot(page, 'analytics');

  // In French, the same numbers.
  await page.getByLabel('Language').first().selectOption('fr');
  await page.getByRole('heading', { name: 'Analyses', level: 1 }).waitFor();
  assert.equal(await page.getByTestId('trend-total-all').innerText(), String(free));
  await c.screenshot(page, 'analytics-fr');
  // The choice is the user's (kept on the server): back to English for the next tests.
  await page.getByLabel('Langue').first().selectOption('en');
  await page.getByRole('heading', { name: 'Analytics', level: 1 }).waitFor();
});

test('campaign performance by channel: the page shows what the emails of a journey did (sent, delivered, opened, clicked)', { skip }, async () => {
  const smtp = await startSmtpServer({ authOptional: true });
  try {
    const mail = (await c.s.api('POST', `${ws()}/destinations`, { type: 'email', name: 'Campaign mail', config: { host: '127.0.0.1', port: smtp.port, secure: false, from: 'shop@shop.example' } })).body.id;
    const trigger = `Campaign Trigger ${uid()}`;
    const journey = await c.s.api('POST', `${ws()}/journeys`, {
      name: `Campaign ${uid()}`, entry: { kind: 'event', event: trigger }, start: 'mail',
      steps: { mail: { kind: 'send', destinationId: mail, template: { subject: 'Hello', text: 'Hi', html: '<p><a href="https://shop.example/new">New</a></p>' }, next: 'done' }, done: { kind: 'exit' } },
    });
    assert.equal(journey.status, 201, JSON.stringify(journey.body));
    const n = 2 + Math.floor(Math.random() * 3);
    const people = Array.from({ length: n }, () => ({ anon: `c-${uid()}`, email: `c.${uid()}@example.com` }));
    await sendEvents(c.s, people.map((p) => ({ type: 'identify', anonymousId: p.anon, traits: { email: p.email }, context: { consent: { categoryPreferences: { email_marketing: true } } } })));
    await sendEvents(c.s, people.map((p) => ({ type: 'track', anonymousId: p.anon, event: trigger })));
    await until(c.s, () => people.every((p) => smtp.messages.some((m) => m.to.includes(p.email))), 'the campaign emails');
    // One person opens the email, another clicks its link.
    const html = (email: string) => smtp.messages.find((m) => m.to.includes(email))!.html ?? '';
    assert.equal((await fetch(/src="([^"]+\/v1\/m\/o\/[^"]+\.gif)"/.exec(html(people[0]!.email))![1]!)).status, 200);
    assert.equal((await fetch(/href="([^"]+\/v1\/m\/c\/[^"]+)"/.exec(html(people[1]!.email))![1]!, { redirect: 'manual' })).status, 302);
    await settleAll(c.s);

    const api = (await c.s.api('GET', `${ws()}/analytics/campaigns?limit=500`)).body.rows.find((r: { journeyId: string | null }) => r.journeyId === journey.body.id);
    assert.ok(api, 'the API has the campaign');
    assert.equal(api.sent, n);
    const page = await c.login('marketer');
    await page.goto(`${c.s.url}/analytics`);
    const row = page.getByRole('table', { name: 'Campaigns' }).locator('tbody tr', { has: page.locator(`[title="${journey.body.id}"]`) });
    await row.getByText(journey.body.definition.name).waitFor();
    const cells = await row.locator('td').allInnerTexts();
    assert.deepEqual(cells, ['Email', 'Campaign mail', journey.body.definition.name, String(n), String(api.delivered), String(api.opened), String(api.clicked), String(api.converted)]);
    assert.ok(api.opened >= 1 && api.clicked >= 1, JSON.stringify(api));
    await page.getByRole('heading', { name: 'Campaign performance by channel' }).scrollIntoViewIfNeeded();
    await c.screenshot(page, 'analytics-campaigns');
  } finally {
    await smtp.close();
  }
});

test('the models page shows a model card once trained, or says the feature is not available', { skip }, async () => {
  const probe = await c.s.api('GET', `${ws()}/models`);
  const page = await c.login('analyst');
  await page.getByRole('link', { name: 'Models' }).first().click();
  if (probe.status === 404) {
    await page.getByTestId('models-unavailable').waitFor();
    await c.screenshot(page, 'models');
    return;
  }
  // People with a CRM churn flag that their order count predicts.
  const batch: unknown[] = [];
  for (let i = 0; i < 80; i++) {
    const churned = i % 2 === 0;
    batch.push({ type: 'identify', userId: `m-${uid()}`, traits: { churned, orders: churned ? i % 3 : 5 + (i % 7) }, context: { consent: { categoryPreferences: { analytics: true } } } });
  }
  await sendEvents(c.s, batch);
  await page.getByRole('button', { name: 'New model' }).click();
  await page.getByLabel('Key').fill(`crm_churn_${uid().replace(/[^a-z0-9]/g, '')}`);
  await page.getByLabel('Name', { exact: true }).fill('CRM churn flag');
  await page.getByLabel('Predict').selectOption('label');
  await page.getByLabel('Trait').fill('churned');
  await page.getByRole('button', { name: 'Create the model' }).click();
  await page.waitForURL(/\/models\/[^/]+$/);
  await page.getByRole('button', { name: 'Train' }).click();
  const status = page.getByTestId('model-status');
  // Training answers when the version is stored: the card, or the server's error.
  await page.locator('[data-testid="model-status"], .error').first().waitFor({ timeout: 120_000 });
  assert.equal(await page.locator('.error').count(), 0, await page.locator('.error').allInnerTexts().then((x) => x.join(' ')));
  const id = decodeURIComponent(page.url().split('/').pop()!);
  const model = (await c.s.api('GET', `${ws()}/models/${id}`)).body;
  assert.ok(model.card, 'the API has the card the page shows');
  assert.equal(await status.getAttribute('data-status'), model.card.status);
  assert.equal(await page.getByTestId('model-auc').innerText(), new Intl.NumberFormat('en', { maximumFractionDigits: 3 }).format(model.card.auc));
  assert.equal(await page.getByTestId('model-thresholds').locator('tbody tr').count(), model.card.thresholds.length);
  await c.screenshot(page, 'model');
  await page.getByRole('link', { name: 'All models' }).click();
  await page.getByRole('cell', { name: 'CRM churn flag' }).waitFor();
  await c.screenshot(page, 'models');
});
