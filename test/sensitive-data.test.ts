/**
 * Special categories of data (GDPR art. 9) in segments, on a real server: tagged traits and
 * event properties make a segment "sensitive"; it is never for advertising, has no members
 * until a DPO approves its rule, and then holds only people with explicit consent for the
 * category — and tagging data later takes effect on segments that already read it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

const uid = () => randomUUID().slice(0, 8);
const ws = () => `/api/workspaces/${s.workspaceId}`;

async function send(batch: unknown[]): Promise<void> {
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.writeKey) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await s.settle();
}

async function members(segmentId: string): Promise<Set<string>> {
  await s.settle();
  await s.ensemble.segments.writer.drain();
  return new Set(s.ensemble.segments.engine.members(s.workspaceId, segmentId) ?? []);
}

async function profileId(userId: string): Promise<string> {
  return (await s.api('GET', `${ws()}/profiles/lookup?type=user_id&value=${userId}`)).body.id as string;
}

test('a segment reading health data needs a DPO approval and explicit consent, and never serves advertising', async () => {
  const tags = await s.api('PUT', `${ws()}/privacy/sensitive-data`, { traits: { health_condition: 'health' }, properties: { diagnosis: 'health' } });
  assert.equal(tags.status, 200, JSON.stringify(tags.body));
  const purposes = (await s.api('GET', `${ws()}/privacy/purposes`)).body.purposes.map((p: any) => p.id);
  assert.ok(purposes.includes('explicit_health'), 'the explicit-consent purpose exists');
  assert.equal((await s.api('PUT', `${ws()}/privacy/sensitive-data`, { traits: { x: 'astrology' }, properties: {} })).status, 400);

  const [yes, no] = [`hy-${uid()}`, `hn-${uid()}`];
  await send([
    { type: 'identify', userId: yes, traits: { health_condition: 'diabetes' } },
    { type: 'identify', userId: no, traits: { health_condition: 'diabetes' } },
  ]);
  const [py, pn] = [await profileId(yes), await profileId(no)];
  await s.api('PUT', `${ws()}/profiles/${py}/consents`, { consents: [{ purpose: 'explicit_health', status: 'granted' }], reference: 'signed form 12' });

  const rule = { kind: 'trait', trait: 'health_condition', op: 'eq', value: 'diabetes' };
  const ads = await s.api('POST', `${ws()}/segments`, { name: 'Diabetics for ads', definition: rule, purposes: ['advertising'] });
  assert.equal(ads.status, 400);
  assert.equal(ads.body.error.code, 'ENSEMBLE_ERR_SENSITIVE_DATA_ADVERTISING');

  const seg = await s.api('POST', `${ws()}/segments`, { name: 'Care programme', definition: rule });
  assert.equal(seg.status, 201, JSON.stringify(seg.body));
  assert.deepEqual(seg.body.sensitive, ['health']);
  assert.equal(seg.body.approvedAt, null);
  assert.equal((await members(seg.body.id)).size, 0, 'no members before the approval');

  const approved = await s.api('POST', `${ws()}/segments/${seg.body.id}/approve`, { note: 'Art. 9(2)(a), DPIA 2026-04' });
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  assert.ok(approved.body.approvedAt);
  assert.deepEqual([...(await members(seg.body.id))], [py], 'only the person with explicit consent');
  const rec = await s.api('POST', `${ws()}/segments/${seg.body.id}/reconcile`);
  assert.deepEqual([rec.body.missing, rec.body.extra], [[], []], 'the SQL side applies the same gates');

  await s.api('PUT', `${ws()}/profiles/${py}/consents`, { consents: [{ purpose: 'explicit_health', status: 'withdrawn' }] });
  assert.equal((await members(seg.body.id)).size, 0, 'a withdrawal takes them out');
  await s.api('PUT', `${ws()}/profiles/${py}/consents`, { consents: [{ purpose: 'explicit_health', status: 'granted' }] });
  assert.ok((await members(seg.body.id)).has(py));
  assert.ok(!(await members(seg.body.id)).has(pn));

  const edited = await s.api('PUT', `${ws()}/segments/${seg.body.id}`, { name: 'Care programme', definition: { ...rule, value: 'asthma' } });
  assert.equal(edited.body.approvedAt, null, 'a new rule needs a new approval');
  const events = await s.api('POST', `${ws()}/segments`, { name: 'Diagnosed', definition: { kind: 'event', event: 'Consultation', within: '30d', filters: [{ property: 'diagnosis', op: 'exists' }] } });
  assert.deepEqual(events.body.sensitive, ['health'], 'an event filter on a tagged property counts too');
  const plain = await s.api('POST', `${ws()}/segments`, { name: 'Everyone', definition: { kind: 'trait', trait: 'health_condition', op: 'exists' } });
  assert.equal((await s.api('POST', `${ws()}/segments/${plain.body.id}/approve`, { note: 'x' })).status, 200, 'exists reads the tagged trait too');
  const other = await s.api('POST', `${ws()}/segments`, { name: 'Gold', definition: { kind: 'trait', trait: 'tier', op: 'eq', value: 'gold' } });
  const notSensitive = await s.api('POST', `${ws()}/segments/${other.body.id}/approve`, { note: 'x' });
  assert.equal(notSensitive.status, 409);
  assert.equal(notSensitive.body.error.code, 'ENSEMBLE_ERR_SEGMENT_NOT_SENSITIVE');
});

test('tagging data later applies to the segments that already read it', async () => {
  const user = `r-${uid()}`;
  await send([{ type: 'identify', userId: user, traits: { faith: 'quaker' } }]);
  const seg = await s.api('POST', `${ws()}/segments`, { name: 'Quakers', definition: { kind: 'trait', trait: 'faith', op: 'eq', value: 'quaker' } });
  assert.ok((await members(seg.body.id)).has(await profileId(user)));
  const current = (await s.api('GET', `${ws()}/privacy/sensitive-data`)).body;
  await s.api('PUT', `${ws()}/privacy/sensitive-data`, { ...current, traits: { ...current.traits, faith: 'religion' } });
  const after = await s.api('GET', `${ws()}/segments/${seg.body.id}`);
  assert.deepEqual(after.body.sensitive, ['religion']);
  assert.equal((await members(seg.body.id)).size, 0, 'out until approved and consented');
});
