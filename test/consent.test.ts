/**
 * Purposes and consent end to end, over HTTP on a real server and DuckDB file: the purposes
 * registry, sources' declarations, consent read from events (CMP categories and real IAB TCF v2
 * strings) and recorded only when it changes, the consent API with its immutable history,
 * strict sources that keep nothing at profile level without analytics consent, and the ledger
 * surviving a restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ADMIN_TOKEN, basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';
import { tcString } from './helpers/tcf.js';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

const uid = () => randomUUID().slice(0, 8);
const wsPath = () => `/api/workspaces/${s.workspaceId}`;

async function send(batch: unknown[], writeKey = s.writeKey): Promise<any> {
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(writeKey) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await s.settle();
  return r.body;
}

async function profileOf(anonymousId: string): Promise<any> {
  const r = await s.api('GET', `${wsPath()}/profiles/lookup?type=anonymous_id&value=${encodeURIComponent(anonymousId)}`);
  return r.status === 200 ? r.body : null;
}

async function consents(profileId: string): Promise<any> {
  const r = await s.api('GET', `${wsPath()}/profiles/${profileId}/consents`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

const at = (iso: string) => ({ timestamp: iso });

test('every workspace has the built-in purposes; custom ones get a legal basis; unknown purposes are refused', async () => {
  const list = await s.api('GET', `${wsPath()}/privacy/purposes`);
  assert.equal(list.status, 200);
  const ids = list.body.purposes.map((p: any) => p.id);
  for (const id of ['necessary', 'analytics', 'personalization', 'advertising', 'email_marketing', 'sms_marketing', 'push_marketing']) assert.ok(ids.includes(id), id);

  const put = await s.api('PUT', `${wsPath()}/privacy/purposes/loyalty`, { name: 'Loyalty programme', legalBasis: 'contract', description: 'Points and rewards.' });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.builtIn, false);
  const redescribed = await s.api('PUT', `${wsPath()}/privacy/purposes/analytics`, { name: 'Measurement', legalBasis: 'legitimate_interest', description: 'Exempted audience measurement.' });
  assert.equal(redescribed.body.builtIn, true);
  assert.equal((await s.api('PUT', `${wsPath()}/privacy/purposes/Bad-Id`, { name: 'x', legalBasis: 'consent', description: '' })).status, 400);
  await s.api('PUT', `${wsPath()}/privacy/purposes/analytics`, { name: 'Audience measurement', legalBasis: 'consent', description: 'Measuring visits.' });

  const src = await s.api('POST', `${wsPath()}/sources`, { name: 'Shop', kind: 'website', purposes: ['analytics', 'loyalty'] });
  assert.equal(src.status, 201, JSON.stringify(src.body));
  assert.deepEqual(src.body.purposes, ['analytics', 'loyalty']);
  assert.equal(src.body.consentMode, 'standard');
  assert.ok(src.body.dataCategories.includes('behaviour'));
  const bad = await s.api('POST', `${wsPath()}/sources`, { name: 'Bad', kind: 'website', purposes: ['analytics', 'mind_reading'] });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_PURPOSE_UNKNOWN');
  assert.deepEqual(bad.body.error.details.unknown, ['mind_reading']);
  const patched = await s.api('PATCH', `${wsPath()}/sources/${src.body.id}`, { consentMode: 'strict', dataCategories: ['identifiers'] });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.consentMode, 'strict');
  assert.deepEqual(patched.body.purposes, ['analytics', 'loyalty'], 'fields left out stay');
});

test('consent from CMP categories is recorded when it changes, a withdrawal is a withdrawal, and a late old event does not undo it', async () => {
  const anon = `a-${uid()}`;
  const prefs = (p: Record<string, boolean>) => ({ consent: { categoryPreferences: p, version: 'v3' } });
  await send([
    { type: 'page', anonymousId: anon, name: 'Home', context: prefs({ Analytics: true, Advertising: true, C0003: false }), ...at('2026-11-01T10:00:00Z') },
    { type: 'page', anonymousId: anon, name: 'Shoes', context: prefs({ Analytics: true, Advertising: true, C0003: false }), ...at('2026-11-01T10:01:00Z') },
    { type: 'track', anonymousId: anon, event: 'Viewed', context: prefs({ Analytics: true, Advertising: false }), ...at('2026-11-01T10:05:00Z') },
  ]);
  const p = await profileOf(anon);
  assert.ok(p);
  const c = await consents(p.id);
  const ofPurpose = (purpose: string) => c.history.filter((r: any) => r.purpose === purpose).map((r: any) => r.status);
  assert.deepEqual(ofPurpose('analytics'), ['granted'], 'the same consent repeated by every event is one record');
  assert.deepEqual(ofPurpose('advertising'), ['granted', 'withdrawn']);
  assert.deepEqual(ofPurpose('personalization'), ['denied'], 'OneTrust C0003 maps to personalisation');
  assert.equal(c.current.advertising.status, 'withdrawn');
  assert.equal(c.current.analytics.proof.textVersion, 'v3');
  assert.equal(c.current.analytics.proof.category, 'Analytics');
  assert.match(c.current.analytics.source, /^event:/);

  // An offline device delivers an older event that still says "granted": history keeps it, the withdrawal stays in force.
  await send([{ type: 'track', anonymousId: anon, event: 'Old', context: prefs({ Advertising: true }), ...at('2026-11-01T09:00:00Z') }]);
  const after = await consents(p.id);
  assert.equal(after.current.advertising.status, 'withdrawn');
  assert.equal(after.history.filter((r: any) => r.purpose === 'advertising').length, 3);
});

test('a TCF v2 string is decoded with the IAB library and mapped to purposes; an invalid one refuses only its event', async () => {
  const anon = `t-${uid()}`;
  const adsOnly = tcString([1, 2, 3, 4, 7]);
  const body = await send([
    { type: 'page', anonymousId: anon, name: 'Home', context: { consent: { tcString: adsOnly } } },
    { type: 'page', anonymousId: anon, name: 'Bad', context: { gdpr_consent: 'CPXxRfAPXxRfAAfKABENB-not-a-real-string' } },
    { type: 'page', anonymousId: anon, name: 'V1', properties: { gdpr_consent: 'BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA' } },
    { type: 'page', anonymousId: anon, name: 'After' },
  ]);
  assert.equal(body.accepted, 2);
  assert.deepEqual(body.rejected.map((r: any) => [r.index, r.code]), [[1, 'ENSEMBLE_ERR_CONSENT_TCF_INVALID'], [2, 'ENSEMBLE_ERR_CONSENT_TCF_INVALID']]);
  const p = await profileOf(anon);
  const c = await consents(p.id);
  assert.equal(c.current.advertising.status, 'granted');
  assert.equal(c.current.analytics.status, 'denied', 'TCF purposes 8 and 9 were not given');
  assert.equal(c.current.personalization.status, 'denied');
  assert.equal(c.current.advertising.proof.tcString, adsOnly);
  assert.equal(c.current.advertising.proof.cmpId, 10);
  assert.match(c.current.advertising.source, /^tcf:/);
});

test('the consent mapping is per workspace, checked, and applies to later events', async () => {
  const bad = await s.api('PUT', `${wsPath()}/privacy/consent-mapping`, { categories: { Stats: ['nope'] }, tcf: {} });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_PURPOSE_UNKNOWN');
  const mapping = { categories: { Stats: ['analytics'], Mailings: ['email_marketing'] }, tcf: { advertising: [1, 4] } };
  assert.equal((await s.api('PUT', `${wsPath()}/privacy/consent-mapping`, mapping)).status, 200);
  assert.deepEqual((await s.api('GET', `${wsPath()}/privacy/consent-mapping`)).body, mapping);
  const anon = `m-${uid()}`;
  await send([{ type: 'page', anonymousId: anon, name: 'Home', context: { consent: { categoryPreferences: { Stats: true, Mailings: false }, tcString: tcString([1, 4]) } } }]);
  const c = await consents((await profileOf(anon)).id);
  assert.equal(c.current.analytics.status, 'granted');
  assert.equal(c.current.email_marketing.status, 'denied');
  assert.equal(c.current.advertising.status, 'granted', 'the workspace mapping needs only TCF purposes 1 and 4');
  const { DEFAULT_CONSENT_MAPPING } = await import('../src/privacy/consent-mapping.js');
  await s.api('PUT', `${wsPath()}/privacy/consent-mapping`, DEFAULT_CONSENT_MAPPING);
});

test('the consent API records decisions with proof, never rewrites history, and refuses bad input whole', async () => {
  const anon = `api-${uid()}`;
  await send([{ type: 'page', anonymousId: anon, name: 'Home', context: { consent: { categoryPreferences: { email_marketing: true } } } }]);
  const p = await profileOf(anon);
  const put = await s.api('PUT', `${wsPath()}/profiles/${p.id}/consents`, {
    consents: [{ purpose: 'email_marketing', status: 'withdrawn' }, { purpose: 'sms_marketing', status: 'granted' }],
    reference: 'preference-centre-42', textVersion: '2026-10',
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.current.email_marketing.status, 'withdrawn');
  assert.equal(put.body.current.email_marketing.source, 'api');
  assert.equal(put.body.current.email_marketing.proof.messageId, 'preference-centre-42');
  assert.deepEqual(put.body.history.filter((r: any) => r.purpose === 'email_marketing').map((r: any) => r.status), ['granted', 'withdrawn']);

  const before = (await consents(p.id)).history.length;
  const refused = [
    [{ consents: [{ purpose: 'sms_marketing', status: 'denied' }, { purpose: 'telepathy', status: 'granted' }] }, 'ENSEMBLE_ERR_PURPOSE_UNKNOWN'],
    [{ consents: [{ purpose: 'sms_marketing', status: 'denied' }], at: new Date(Date.now() + 3_600_000).toISOString() }, 'ENSEMBLE_ERR_CONSENT_TIME'],
    [{ consents: [{ purpose: 'advertising', status: 'granted' }], tcString: 'garbage' }, 'ENSEMBLE_ERR_CONSENT_TCF_INVALID'],
    [{ consents: [{ purpose: 'sms_marketing', status: 'maybe' }] }, 'ENSEMBLE_ERR_VALIDATION'],
  ] as const;
  for (const [body, code] of refused) {
    const r = await s.api('PUT', `${wsPath()}/profiles/${p.id}/consents`, body);
    assert.equal(r.status, 400, code);
    assert.equal(r.body.error.code, code);
  }
  assert.equal((await consents(p.id)).history.length, before, 'a refused request records nothing');
  assert.equal((await s.api('GET', `${wsPath()}/profiles/prf_nobody/consents`)).status, 404);
});

test('a strict source keeps no profile-level data without analytics consent, and a withdrawal stops collection at once', async () => {
  const src = await s.api('POST', `${wsPath()}/sources`, { name: 'Strict site', kind: 'website', consentMode: 'strict' });
  const key = src.body.writeKey as string;
  const [stranger, fan] = [`s-${uid()}`, `f-${uid()}`];
  const yes = { consent: { categoryPreferences: { analytics: true } } };
  const no = { consent: { categoryPreferences: { analytics: false } } };
  await send([
    { type: 'page', anonymousId: stranger, name: 'Home', ...at('2026-11-02T08:00:00Z') },
    { type: 'track', anonymousId: stranger, event: 'Clicked', ...at('2026-11-02T08:01:00Z') },
    { type: 'page', anonymousId: fan, name: 'Home', context: yes, ...at('2026-11-02T08:00:00Z') },
    { type: 'page', anonymousId: fan, name: 'Shoes', ...at('2026-11-02T08:02:00Z') },
  ], key);
  assert.equal(await profileOf(stranger), null, 'no profile for a visitor without consent');
  const p = await profileOf(fan);
  assert.equal(p.eventCount, 2, 'consent given earlier covers later events without a consent object');

  await send([
    { type: 'track', anonymousId: fan, event: 'Opted out', context: no, ...at('2026-11-02T08:05:00Z') },
    { type: 'page', anonymousId: fan, name: 'Socks', ...at('2026-11-02T08:06:00Z') },
  ], key);
  const after = await profileOf(fan);
  assert.equal(after.eventCount, 2, 'nothing after the withdrawal reached the profile');
  assert.equal((await consents(p.id)).current.analytics.status, 'withdrawn');

  const stored = await s.ensemble.events.eventsOfProfiles(s.workspaceId, [p.id], 100, null);
  assert.deepEqual(stored.events.map((e: any) => e.name ?? e.event).sort(), ['Home', 'Shoes']);
  // The counts are the only trace of the strict source's visitors without consent.
  const counts = await s.api('GET', `${wsPath()}/privacy/anonymous-counts?sourceId=${src.body.id}`);
  assert.equal(counts.status, 200, JSON.stringify(counts.body));
  const byName = Object.fromEntries(counts.body.counts.map((c: any) => [`${c.day} ${c.type} ${c.name}`, c.count]));
  assert.deepEqual(byName, {
    '2026-11-02 page Home': 1, '2026-11-02 track Clicked': 1, '2026-11-02 track Opted out': 1, '2026-11-02 page Socks': 1,
  });
});

test('consent in force survives a restart', async () => {
  const anon = `r-${uid()}`;
  await send([{ type: 'page', anonymousId: anon, name: 'Home', context: { consent: { categoryPreferences: { advertising: true, analytics: false } } } }]);
  const p = await profileOf(anon);
  const beforeRestart = await consents(p.id);
  await s.close();
  s = await startServer({}, s.dir);
  const afterRestart = await consents(p.id);
  assert.deepEqual(afterRestart.current, beforeRestart.current);
  assert.equal(s.ensemble.privacy.ledger.granted(p.id, 'advertising'), true);
  assert.equal(s.ensemble.privacy.ledger.granted(p.id, 'analytics'), false);
});

test('a segment that serves a purpose holds only people whose consent for it is in force, and a withdrawal makes them leave at once', async () => {
  const [yes, no] = [`sy-${uid()}`, `sn-${uid()}`];
  const grant = (v: boolean) => ({ consent: { categoryPreferences: { advertising: v } } });
  await send([
    { type: 'track', anonymousId: yes, event: 'Cart Viewed', context: grant(true) },
    { type: 'track', anonymousId: no, event: 'Cart Viewed', context: grant(false) },
  ]);
  const definition = { kind: 'event', event: 'Cart Viewed', within: '30d' };
  const bad = await s.api('POST', `${wsPath()}/segments`, { name: 'Retarget', definition, purposes: ['advertising', 'nope'] });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'ENSEMBLE_ERR_PURPOSE_UNKNOWN');
  const seg = await s.api('POST', `${wsPath()}/segments`, { name: 'Retarget', definition, purposes: ['advertising'] });
  assert.equal(seg.status, 201, JSON.stringify(seg.body));
  assert.deepEqual(seg.body.purposes, ['advertising']);
  const [py, pn] = [await profileOf(yes), await profileOf(no)];
  const members = async () => {
    await s.settle();
    await s.ensemble.segments.writer.drain();
    return s.ensemble.segments.engine.members(s.workspaceId, seg.body.id) ?? new Set();
  };
  assert.ok((await members()).has(py.id));
  assert.ok(!(await members()).has(pn.id), 'no advertising consent, no membership');
  const preview = await s.api('POST', `${wsPath()}/segments/preview`, { definition, purposes: ['advertising'] });
  const ungated = await s.api('POST', `${wsPath()}/segments/preview`, { definition });
  assert.equal(preview.status, 200, JSON.stringify(preview.body));
  assert.ok(preview.body.sample.includes(py.id) && !preview.body.sample.includes(pn.id));
  assert.ok(ungated.body.sample.includes(pn.id), 'without purposes the preview is the definition alone');

  await s.api('PUT', `${wsPath()}/profiles/${py.id}/consents`, { consents: [{ purpose: 'advertising', status: 'withdrawn' }] });
  assert.ok(!(await members()).has(py.id), 'withdrawn through the API: out');
  await send([{ type: 'page', anonymousId: no, name: 'Home', context: grant(true) }]);
  assert.ok((await members()).has(pn.id), 'granted in an event: in');
  const changes = await s.api('GET', `${wsPath()}/segments/${seg.body.id}/changes`);
  const causes = changes.body.changes.map((c: any) => `${c.type}:${c.profileId === py.id ? 'yes' : 'no'}:${c.cause}`);
  assert.ok(causes.includes('Segment Exited:yes:consent'), causes.join(', '));
  const rec = await s.api('POST', `${wsPath()}/segments/${seg.body.id}/reconcile`);
  assert.deepEqual([rec.body.missing, rec.body.extra], [[], []], 'the SQL side applies the same gate');
});

test('the register of processing is served by the real server and follows the configuration', async () => {
  const json = await s.api('GET', `${wsPath()}/privacy/register`);
  assert.equal(json.status, 200, JSON.stringify(json.body));
  const before = json.body.version as string;
  const md = await fetch(`${s.url}${wsPath()}/privacy/register?format=markdown`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.match(md.headers.get('content-type') ?? '', /text\/markdown/);
  const text = await md.text();
  assert.ok(text.includes('Loyalty programme'), 'a custom purpose is in the register');
  await s.api('PUT', `${wsPath()}/privacy/purposes/loyalty`, { name: 'Loyalty programme', legalBasis: 'contract', description: 'Points, rewards and the yearly gift.' });
  const after = await s.api('GET', `${wsPath()}/privacy/register`);
  assert.notEqual(after.body.version, before, 'the version changes with the configuration');
});

test('purpose limitation: a segment cannot serve purposes no source collects for', async () => {
  const definition = { kind: 'event', event: 'Cart Viewed', within: '30d' };
  const r = await s.api('POST', `${wsPath()}/segments`, { name: 'Loyal ads', definition, purposes: ['loyalty', 'advertising'] });
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.error.code, 'ENSEMBLE_ERR_PURPOSE_LIMITATION');
  assert.ok(r.body.error.details.sources.some((x: any) => x.name === 'Shop' && x.purposes.includes('loyalty')));
  const shop = r.body.error.details.sources.find((x: any) => x.name === 'Shop');
  assert.equal((await s.api('PATCH', `${wsPath()}/sources/${shop.id}`, { purposes: ['analytics', 'loyalty', 'advertising'] })).status, 200);
  const ok = await s.api('POST', `${wsPath()}/segments`, { name: 'Loyal ads', definition, purposes: ['loyalty', 'advertising'] });
  assert.equal(ok.status, 201, 'once a source declares both');

  // Only events of sources collecting for both purposes feed it.
  const [web, shopper] = [`lw-${uid()}`, `ls-${uid()}`];
  const consent = { consent: { categoryPreferences: { loyalty: true, advertising: true, analytics: true } } }; // the shop is a strict source
  await send([{ type: 'track', anonymousId: web, event: 'Cart Viewed', context: consent }]);
  const shopKey = (await s.api('GET', `${wsPath()}/sources`)).body.sources.find((x: any) => x.id === shop.id).writeKey as string;
  await send([{ type: 'track', anonymousId: shopper, event: 'Cart Viewed', context: consent }], shopKey);
  await s.ensemble.segments.writer.drain();
  const members = s.ensemble.segments.engine.members(s.workspaceId, ok.body.id) ?? new Set();
  assert.ok(members.has((await profileOf(shopper)).id), 'fed by the shop, which collects for loyalty and advertising');
  assert.ok(!members.has((await profileOf(web)).id), 'not by the web source, which does not collect for loyalty');
  const rec = await s.api('POST', `${wsPath()}/segments/${ok.body.id}/reconcile`);
  assert.deepEqual([rec.body.missing, rec.body.extra], [[], []], 'the SQL side reads the same sources');
});

test('purpose limitation reaches traits: a value set by a source not collecting for the segment\'s purposes is not there for it', async () => {
  const shop = (await s.api('GET', `${wsPath()}/sources`)).body.sources.find((x: any) => x.name === 'Shop');
  const shopKey = shop.writeKey as string;
  const definition = { kind: 'trait', trait: 'tier', op: 'eq', value: 'gold' };
  const seg = await s.api('POST', `${wsPath()}/segments`, { name: 'Gold, loyalty ads', definition, purposes: ['loyalty', 'advertising'] });
  assert.equal(seg.status, 201, JSON.stringify(seg.body));
  const anon = `pt-${uid()}`;
  const consent = { consent: { categoryPreferences: { loyalty: true, advertising: true, analytics: true } } };
  // The web source does not collect for loyalty: its trait does not feed the segment.
  await send([{ type: 'identify', anonymousId: anon, traits: { tier: 'gold' }, context: consent }]);
  await s.ensemble.segments.writer.drain();
  const p = await profileOf(anon);
  assert.equal(s.ensemble.segments.engine.isMember(s.workspaceId, seg.body.id, p.id), false, 'the web source\'s tier is not for loyalty ads');
  let rec = await s.api('POST', `${wsPath()}/segments/${seg.body.id}/reconcile`);
  assert.deepEqual([rec.body.missing, rec.body.extra], [[], []], 'the SQL side agrees');
  // The shop, which collects for both, says the same: now it counts.
  await send([{ type: 'identify', anonymousId: anon, traits: { tier: 'gold' }, context: consent }], shopKey);
  await s.ensemble.segments.writer.drain();
  assert.equal(s.ensemble.segments.engine.isMember(s.workspaceId, seg.body.id, p.id), true, 'the shop\'s tier feeds it');
  rec = await s.api('POST', `${wsPath()}/segments/${seg.body.id}/reconcile`);
  assert.deepEqual([rec.body.missing, rec.body.extra, rec.body.sql], [[], [], 1]);
  // A later value from the web source replaces the shop's: the segment no longer sees one.
  await send([{ type: 'identify', anonymousId: anon, traits: { tier: 'gold' }, context: consent }]);
  await s.ensemble.segments.writer.drain();
  assert.equal(s.ensemble.segments.engine.isMember(s.workspaceId, seg.body.id, p.id), false);
  rec = await s.api('POST', `${wsPath()}/segments/${seg.body.id}/reconcile`);
  assert.deepEqual([rec.body.missing, rec.body.extra], [[], []]);
});

test('purpose limitation reaches computed traits: a segment reads only those that count sources collecting for its purposes', async () => {
  const shop = (await s.api('GET', `${wsPath()}/sources`)).body.sources.find((x: any) => x.name === 'Shop');
  const everywhere = await s.api('POST', `${wsPath()}/computed-traits`, { name: 'carts_all', op: 'count', event: 'Cart Kept' });
  assert.equal(everywhere.status, 201, JSON.stringify(everywhere.body));
  const refused = await s.api('POST', `${wsPath()}/segments`, { name: 'Cart keepers, loyalty ads', purposes: ['loyalty', 'advertising'], definition: { kind: 'computed', name: 'carts_all', op: 'gte', value: 1 } });
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, 'ENSEMBLE_ERR_PURPOSE_LIMITATION');
  assert.equal(refused.body.error.details.computedTrait, 'carts_all');
  assert.ok(refused.body.error.details.sources.every((x: any) => x.id !== shop.id), 'only the sources that do not collect for them are named');
  const unknown = await s.api('POST', `${wsPath()}/computed-traits`, { name: 'carts_nowhere', op: 'count', event: 'Cart Kept', sources: ['src_nope'] });
  assert.equal(unknown.status, 400);
  assert.deepEqual(unknown.body.error.details.map((d: any) => `${d.path} ${d.code}`), ['/sources/0 unknown_source']);

  const fromShop = await s.api('POST', `${wsPath()}/computed-traits`, { name: 'carts_shop', op: 'count', event: 'Cart Kept', sources: [shop.id] });
  assert.equal(fromShop.status, 201, JSON.stringify(fromShop.body));
  const seg = await s.api('POST', `${wsPath()}/segments`, { name: 'Cart keepers, loyalty ads', purposes: ['loyalty', 'advertising'], definition: { kind: 'computed', name: 'carts_shop', op: 'gte', value: 1 } });
  assert.equal(seg.status, 201, JSON.stringify(seg.body));
  const consent = { consent: { categoryPreferences: { loyalty: true, advertising: true, analytics: true } } };
  const [web, shopper] = [`cw-${uid()}`, `cs-${uid()}`];
  await send([{ type: 'track', anonymousId: web, event: 'Cart Kept', context: consent }]);
  await send([{ type: 'track', anonymousId: shopper, event: 'Cart Kept', context: consent }], shop.writeKey);
  await s.ensemble.segments.writer.drain();
  const members = s.ensemble.segments.engine.members(s.workspaceId, seg.body.id) ?? new Set();
  assert.deepEqual([members.has((await profileOf(shopper)).id), members.has((await profileOf(web)).id)], [true, false]);
  const rec = await s.api('POST', `${wsPath()}/segments/${seg.body.id}/reconcile`);
  assert.deepEqual([rec.body.missing, rec.body.extra, rec.body.sql], [[], [], 1]);
});

test('a segment serving a purpose on another legal basis holds people without consent until they object', async () => {
  const seg = await s.api('POST', `${wsPath()}/segments`, { name: 'Customers', purposes: ['necessary'], definition: { kind: 'event', event: 'Order Placed' } });
  assert.equal(seg.status, 201, JSON.stringify(seg.body));
  const anon = `lb-${uid()}`;
  await send([{ type: 'track', anonymousId: anon, event: 'Order Placed' }]);
  const p = await profileOf(anon);
  await s.ensemble.segments.writer.drain();
  assert.ok(s.ensemble.segments.engine.isMember(s.workspaceId, seg.body.id, p.id), 'a contract basis needs no consent');
  const objected = await s.api('PUT', `${wsPath()}/profiles/${p.id}/consents`, { consents: [{ purpose: 'necessary', status: 'denied' }] });
  assert.equal(objected.status, 200, JSON.stringify(objected.body));
  await s.settle();
  assert.ok(!s.ensemble.segments.engine.isMember(s.workspaceId, seg.body.id, p.id), 'an objection takes them out at once');
  await s.api('DELETE', `${wsPath()}/segments/${seg.body.id}`);
});
