/**
 * Features as of a cut-off, on a real DuckDB: RFM, counts per event type and window, channel and
 * device mix, traits (numbers, booleans, one-hot categories), explicit missing indicators, no
 * personal identifier and no label among them. And the no-leakage invariant (fast-check): any
 * events dated at or after the cut-off, and any trait written after it, change no feature.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DuckDBConnection } from '@duckdb/node-api';
import { Database } from '../src/storage/duckdb/database.js';
import { eventAggregates } from '../src/predict/event-aggregates.js';
import { extractRaw, fitSpec, toMatrix, type FeatureProfile } from '../src/predict/features.js';

const WS = 'ws_feat';
const DAY = 86_400_000;
const CUTOFF = Date.UTC(2026, 5, 1);

let db: Database;
let conn: DuckDBConnection;
before(async () => { db = await Database.open(':memory:'); conn = await db.connect(); });
after(async () => { await db.close(); });

interface Ev { profile: string; event: string; at: number; revenue?: number; channel?: string; device?: string; source?: string }

async function writeEvents(events: readonly Ev[]): Promise<void> {
  await conn.run('DELETE FROM events');
  let seq = 0;
  for (const e of events) {
    seq++;
    await conn.run(`INSERT INTO events (workspace_id, seq, message_id, type, event, profile_id, source_id, timestamp, original_timestamp, received_at, revenue, channel, device_type, properties)
      VALUES ($1, $2, $3, $4, $5, $6, $11, make_timestamp($7 * 1000), make_timestamp($7 * 1000), make_timestamp($7 * 1000), $8, $9, $10, '{}')`,
    [WS, seq, `m${seq}`, e.event === '$page' ? 'page' : 'track', e.event === '$page' ? null : e.event, e.profile, e.at, e.revenue ?? null, e.channel ?? null, e.device ?? null, e.source ?? 'src']);
  }
}

const tv = (value: unknown, at: number) => ({ value, at, sourceId: 'src', messageId: 'm' });
const profiles: FeatureProfile[] = [
  { id: 'p1', firstSeen: CUTOFF - 100 * DAY, traits: { plan: tv('pro', CUTOFF - 50 * DAY), age: tv(41, CUTOFF - 50 * DAY), vip: tv(true, CUTOFF - DAY), email: tv('sealed', 0), churned: tv(true, 0) } },
  { id: 'p2', firstSeen: CUTOFF - 10 * DAY, traits: { plan: tv('free', CUTOFF - 5 * DAY), vip: tv(false, CUTOFF - DAY) } },
  { id: 'p3', firstSeen: CUTOFF - 3 * DAY, traits: { plan: tv('pro', CUTOFF + DAY), age: tv(30, CUTOFF - DAY) } },
];
const opts = { cutoff: CUTOFF, isPersonal: (k: string) => k === 'email', exclude: new Set(['churned']) };
const live = (id: string) => id;

async function matrixFor(events: readonly Ev[], ps = profiles): Promise<{ names: string[]; X: Float64Array; d: number }> {
  await writeEvents(events);
  const raw = extractRaw(ps, await eventAggregates(conn, WS, CUTOFF, live, ['src']), opts);
  const spec = fitSpec(raw);
  return { names: spec.columns.map((c) => c.name), X: toMatrix(spec, raw), d: spec.columns.length };
}

const BASE: Ev[] = [
  { profile: 'p1', event: 'Order Completed', at: CUTOFF - 2 * DAY, revenue: 30, channel: 'web', device: 'mobile' },
  { profile: 'p1', event: 'Order Completed', at: CUTOFF - 40 * DAY, revenue: 20, channel: 'web', device: 'desktop' },
  { profile: 'p1', event: '$page', at: CUTOFF - 200 * DAY, channel: 'email', device: 'desktop' },
  { profile: 'p2', event: '$page', at: CUTOFF - 5 * DAY, channel: 'web', device: 'mobile' },
];

test('RFM, counts per type and window, channel and device mix, traits and explicit missing values', async () => {
  const { names, X, d } = await matrixFor(BASE);
  const at = (row: number, name: string) => {
    const j = names.indexOf(name);
    assert.ok(j >= 0, `${name} in ${names.join(', ')}`);
    return X[row * d + j];
  };
  assert.equal(at(0, 'recency_days'), 2);
  assert.equal(at(0, 'frequency_all'), 3);
  assert.equal(at(0, 'frequency_90d'), 2);
  assert.equal(at(0, 'monetary_all'), 50);
  assert.equal(at(0, 'monetary_90d'), 50);
  assert.equal(at(0, 'events_7d:Order Completed'), 1);
  assert.equal(at(0, 'events_30d:Order Completed'), 1);
  assert.equal(at(0, 'events_90d:Order Completed'), 2);
  assert.equal(at(0, 'days_since_first_seen'), 100);
  close(at(0, 'channel_share:web') as number, 2 / 3);
  close(at(0, 'device_share:desktop') as number, 2 / 3);
  assert.equal(at(1, 'events_90d:Order Completed'), 0, 'no events of a type: zero, not missing');
  // p3 has no event: recency is missing, explicitly, and filled with the training mean.
  assert.equal(at(2, 'recency_days:missing'), 1);
  assert.equal(at(0, 'recency_days:missing'), 0);
  assert.equal(at(2, 'recency_days'), (2 + 5) / 2);
  assert.equal(at(0, 'trait:plan=pro'), 1);
  assert.equal(at(1, 'trait:plan=free'), 1);
  assert.equal(at(2, 'trait:plan=pro'), 0, 'written after the cut-off: unknown then');
  assert.equal(at(2, 'trait:plan:missing'), 1);
  assert.equal(at(0, 'trait:vip'), 1);
  assert.equal(at(1, 'trait:vip'), 0);
  assert.equal(at(1, 'trait:age:missing'), 1);
  assert.ok(!names.some((n) => n.startsWith('trait:email')), 'personal identifiers are never features');
  assert.ok(!names.some((n) => n.includes('churned')), 'the label is never a feature');
});

test('purpose limitation: events and traits from a source not collecting for the model\'s purpose are no features', async () => {
  await writeEvents([...BASE, { profile: 'p2', event: 'Order Completed', at: CUTOFF - DAY, revenue: 99, source: 'partner' }]);
  const only = (sources: string[]) => eventAggregates(conn, WS, CUTOFF, live, sources);
  assert.equal((await only(['src'])).get('p2')?.revenue ?? 0, 0, 'the partner\'s order is not read');
  assert.equal((await only(['src', 'partner'])).get('p2')?.revenue, 99);
  assert.equal((await only([])).size, 0, 'no source collects for it: no event is read');
  const fromPartner = [{ ...profiles[0]!, traits: { ...profiles[0]!.traits, plan: { ...tv('pro', CUTOFF - DAY), sourceId: 'partner' } } }, profiles[1]!];
  const raw = extractRaw(fromPartner, await only(['src']), { ...opts, fromSource: (id: string) => id === 'src' });
  assert.deepEqual(raw.categorical.get('trait:plan'), [null, 'free'], 'a trait the partner wrote is unknown to the model');
});

test('property: events at or after the cut-off and traits written after it change no feature', async () => {
  const before0 = await matrixFor(BASE);
  const later = fc.record({
    profile: fc.constantFrom('p1', 'p2', 'p3', 'p4'),
    event: fc.constantFrom('Order Completed', '$page', 'Signed Up'),
    at: fc.integer({ min: 0, max: 60 * DAY }).map((ms) => CUTOFF + ms),
    revenue: fc.option(fc.integer({ min: 1, max: 500 }), { nil: undefined }),
    channel: fc.option(fc.constantFrom('web', 'sms', 'app'), { nil: undefined }),
    device: fc.option(fc.constantFrom('mobile', 'tv'), { nil: undefined }),
  });
  const laterTraits = fc.record({ plan: fc.constantFrom('team', 'pro'), score: fc.integer() }, { requiredKeys: [] });
  await fc.assert(fc.asyncProperty(fc.array(later, { minLength: 1, maxLength: 8 }), laterTraits, async (extra, traits) => {
    // The same people, with traits changed after the cut-off: their later values must not show.
    const ps = profiles.map((p) => ({ ...p, traits: { ...p.traits } }));
    const p2 = ps[1] as FeatureProfile;
    for (const [k, v] of Object.entries(traits)) if (!(k in p2.traits)) p2.traits[k] = tv(v, CUTOFF + DAY);
    const after0 = await matrixFor([...BASE, ...extra.map((e) => e as Ev)], ps);
    assert.deepEqual(after0.names, before0.names);
    assert.deepEqual([...after0.X], [...before0.X]);
  }), { numRuns: 40 });
});

function close(a: number, b: number): void {
  assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);
}
