/**
 * Merge then split restores the profiles (fast-check, over HTTP on a real server and DuckDB):
 * for random histories of two people, an event that wrongly joins them, then a split of the
 * identifier it joined, every identifier is back on the profile it had before — same id, same
 * traits, same events (the joining event itself stays with one of them).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { basic, post, removeDir, startServer, type TestServer } from './helpers/server.js';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s.close(); removeDir(s.dir); });

interface Side { anon: string[]; emails: string[]; user: string | null }

const history = (side: 'a' | 'b') => fc.array(
  fc.record({ anon: fc.integer({ min: 0, max: 2 }), email: fc.option(fc.integer({ min: 0, max: 1 }), { nil: null }), user: fc.boolean(), plan: fc.constantFrom('free', 'gold', 'pro') }),
  { minLength: 1, maxLength: 5 },
).map((steps) => ({ side, steps }));

async function workspace(): Promise<{ ws: string; key: string }> {
  const ws = (await s.api('POST', '/api/workspaces', { name: 'prop' })).body.id as string;
  const key = (await s.api('POST', `/api/workspaces/${ws}/sources`, { name: 'web', kind: 'website' })).body.writeKey as string;
  return { ws, key };
}

async function snapshot(ws: string, ids: Array<[string, string]>): Promise<Map<string, any>> {
  const out = new Map<string, any>();
  for (const [type, value] of ids) {
    const r = await s.api('GET', `/api/workspaces/${ws}/profiles/lookup?type=${type}&value=${encodeURIComponent(value)}`);
    out.set(`${type}:${value}`, r.status === 200 ? { id: r.body.id, traits: r.body.traits, events: r.body.eventCount, ids: r.body.identifiers.map((i: any) => `${i.type}:${i.value}`).sort() } : null);
  }
  return out;
}

test('merge then split restores the original profiles', async () => {
  let run = 0;
  await fc.assert(fc.asyncProperty(history('a'), history('b'), fc.boolean(), async (ha, hb, bFirst) => {
    run++;
    const { ws, key } = await workspace();
    const sides: Record<'a' | 'b', Side> = {
      a: { anon: [0, 1, 2].map((i) => `a${run}-${i}`), emails: [`a${run}-0@x.example`, `a${run}-1@x.example`], user: `user-a${run}` },
      b: { anon: [0, 1, 2].map((i) => `b${run}-${i}`), emails: [`b${run}-0@x.example`, `b${run}-1@x.example`], user: null },
    };
    let t = Date.UTC(2026, 0, 1);
    const toEvents = (h: typeof ha) => h.steps.map((st) => {
      const side = sides[h.side];
      t += 60_000;
      return {
        type: 'identify', anonymousId: side.anon[st.anon], timestamp: new Date(t).toISOString(),
        ...(st.user && side.user ? { userId: side.user } : {}),
        traits: { plan: st.plan, ...(st.email === null ? {} : { email: side.emails[st.email] }) },
      };
    });
    const [first, second] = bFirst ? [hb, ha] : [ha, hb];
    for (const h of [first, second]) {
      const r = await post(`${s.url}/v1/batch`, { batch: toEvents(h) }, { authorization: basic(key) });
      assert.equal(r.status, 200);
    }
    await s.settle();
    const ids: Array<[string, string]> = (['a', 'b'] as const).flatMap((k) => [
      ...sides[k].anon.map((v): [string, string] => ['anonymous_id', v]),
      ...sides[k].emails.map((v): [string, string] => ['email', v]),
      ...(sides[k].user ? [['user_id', sides[k].user] as [string, string]] : []),
    ]);
    const beforeMerge = await snapshot(ws, ids);
    // The wrong join: a's first anonymous id and b's first anonymous id on one event.
    const joinA = toEvents(ha)[0]?.anonymousId as string;
    const joinB = toEvents(hb)[0]?.anonymousId as string;
    t += 60_000;
    await post(`${s.url}/v1/batch`, { batch: [{ type: 'track', event: 'Join', anonymousId: joinA, context: { externalIds: [{ id: joinB, type: 'anonymous_id', collection: 'users', encoding: 'none' }] }, timestamp: new Date(t).toISOString() }] }, { authorization: basic(key) });
    await s.settle();
    const merged = (await s.api('GET', `/api/workspaces/${ws}/profiles/lookup?type=anonymous_id&value=${joinB}`)).body;
    assert.equal(merged.identifiers.some((i: any) => i.value === joinA), true, 'the join merged the two');
    const split = await s.api('POST', `/api/workspaces/${ws}/profiles/${merged.id}/split`, { type: 'anonymous_id', value: joinB });
    assert.equal(split.status, 200, JSON.stringify(split.body));
    const afterSplit = await snapshot(ws, ids);
    for (const [k, was] of beforeMerge) {
      const now = afterSplit.get(k);
      if (was === null) { assert.equal(now, null, k); continue; }
      assert.equal(now.id, was.id, `${k}: same profile id`);
      assert.deepEqual(now.ids, was.ids, `${k}: same identifiers`);
      assert.deepEqual(now.traits, was.traits, `${k}: same traits`);
      // The join event itself stays with one of the two.
      assert.ok(now.events === was.events || now.events === was.events + 1, `${k}: events ${was.events} → ${now.events}`);
    }
  }), {
    numRuns: 25,
    // Found by the property: the joined identifier had itself caused an older merge inside its side.
    examples: [[
      { side: 'a', steps: [{ anon: 0, email: null, user: false, plan: 'free' }] },
      { side: 'b', steps: [{ anon: 1, email: null, user: false, plan: 'free' }, { anon: 0, email: 1, user: false, plan: 'free' }, { anon: 1, email: 1, user: false, plan: 'free' }] },
      true,
    ]],
  });
});
