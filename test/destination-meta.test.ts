/**
 * The Meta Custom Audiences connector: the destination contract against a stand-in of the
 * Marketing API (Graph API v27.0) that checks the documented request formats — versioned paths,
 * the bearer token in the Authorization header and never in the URL, the customaudiences create
 * fields, `/{audience_id}/users` payload (multi-key EMAIL/PHONE rows of SHA-256 hex) and session,
 * additions POSTed and removals DELETEd — plus Meta specific rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { destinationContract } from './contract/destination.contract.js';
import { manifest, ROWS_PER_REQUEST, sessionId, type MetaConfigT } from '../src/activate/meta/index.js';
import { sha256Hex } from '../src/activate/hashing.js';
import type { AudienceItem, DestinationContext } from '../src/protocol/destination.js';
import { startPlatform, type PlatformAnswer, type RecordedRequest } from './helpers/platform-server.js';
import { testContext } from './helpers/destination-context.js';

const ACCOUNT = '123456789012345';
const TOKEN = 'EAAG-system-user-token-0123456789';
const V = 'v27.0';
const HEX64 = /^[0-9a-f]{64}$/;

const idOf = (s: string) => BigInt(`0x${createHash('sha256').update(s).digest('hex').slice(0, 14)}`).toString();

/** A stand-in Marketing API. Audience ids derive from the name so a replay meets the same ids. */
class Marketing {
  audiences = new Map<string, string>(); // id -> name
  sessions = new Map<number, { audience: string; method: string; seq: number; closed: boolean }>();
  onUsers: ((req: RecordedRequest, body: any) => PlatformAnswer | undefined) | undefined;
  constructor(public addHashes = new Set<string>(), public removeHashes = new Set<string>()) {}

  validate = (req: RecordedRequest): string | null => {
    const url = new URL(req.url, 'http://stand-in');
    if (url.search !== '') return 'no query string: the access token belongs in the Authorization header';
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return 'Authorization: Bearer <access token> required';
    if (req.headers['content-type'] !== 'application/json') return 'content-type must be application/json';
    let body: any;
    try { body = JSON.parse(req.body); } catch { return 'body is not JSON'; }
    if (url.pathname === `/${V}/act_${ACCOUNT}/customaudiences`) {
      if (req.method !== 'POST') return 'audiences are created with POST';
      const extra = Object.keys(body).filter((k) => !['name', 'subtype', 'description', 'customer_file_source'].includes(k));
      if (extra.length > 0) return `unknown fields ${extra.join()}`;
      if (typeof body.name !== 'string' || body.name.length === 0) return 'name required';
      if (body.subtype !== 'CUSTOM') return 'subtype CUSTOM for a customer file audience';
      if (body.customer_file_source !== 'USER_PROVIDED_ONLY') return 'customer_file_source USER_PROVIDED_ONLY expected';
      return null;
    }
    const m = new RegExp(`^/${V.replace('.', '\\.')}/([0-9]+)/users$`).exec(url.pathname);
    if (!m) return `unknown endpoint ${req.method} ${url.pathname}`;
    if (!this.audiences.has(m[1]!)) return 'no such audience';
    if (req.method !== 'POST' && req.method !== 'DELETE') return 'users are added with POST and removed with DELETE';
    if (Object.keys(body).sort().join() !== 'payload,session') return 'body is { payload, session }';
    const { payload, session } = body;
    if (JSON.stringify(payload.schema) !== '["EMAIL","PHONE"]') return 'schema ["EMAIL","PHONE"]';
    if (!Array.isArray(payload.data) || payload.data.length === 0 || payload.data.length > 10_000) return '1 to 10,000 rows a request';
    for (const row of payload.data) {
      if (!Array.isArray(row) || row.length !== 2) return 'each row has one value per schema key';
      if (row.every((v: unknown) => v === '')) return 'a row needs at least one key';
      for (const v of row) {
        if (v !== '' && !HEX64.test(v)) return 'values are SHA-256 lowercase hex';
        if (req.method === 'POST' && this.removeHashes.has(v)) return 'a removed person was POSTed (added)';
        if (req.method === 'DELETE' && this.addHashes.has(v)) return 'an added person was DELETEd (removed)';
      }
    }
    if (!Number.isSafeInteger(session?.session_id) || session.session_id <= 0) return 'session_id: positive integer';
    if (!Number.isInteger(session.batch_seq) || session.batch_seq < 1) return 'batch_seq starts at 1';
    if (typeof session.last_batch_flag !== 'boolean') return 'last_batch_flag boolean';
    if (!Number.isInteger(session.estimated_num_total) || session.estimated_num_total < payload.data.length) return 'estimated_num_total covers the rows';
    const known = this.sessions.get(session.session_id);
    if (session.batch_seq > 1) {
      if (!known || known.closed || known.seq !== session.batch_seq - 1) return 'batches of a session are sequential and end at last_batch_flag';
      if (known.audience !== m[1] || known.method !== req.method) return 'a session is one audience and one action';
    }
    return null;
  };

  respond = (req: RecordedRequest): PlatformAnswer => {
    const body = JSON.parse(req.body);
    const p = new URL(req.url, 'http://stand-in').pathname;
    if (p.endsWith('/customaudiences')) {
      const id = idOf(body.name);
      this.audiences.set(id, body.name);
      return { status: 200, body: { id } };
    }
    const audience = /\/([0-9]+)\/users$/.exec(p)![1]!;
    const { session, payload } = body;
    this.sessions.set(session.session_id, { audience, method: req.method, seq: session.batch_seq, closed: session.last_batch_flag });
    return this.onUsers?.(req, body) ?? { status: 200, body: { audience_id: audience, session_id: session.session_id, num_received: payload.data.length, num_invalid_entries: 0, invalid_entry_samples: {} } };
  };
}

const segA = { segmentId: 'seg_buyers', name: 'Buyers' };
const segB = { segmentId: 'seg_vip', name: 'VIP' };
const ids = (email: string[], phone: string[] = []) => manifest.identify({ email, phone }, { adAccountId: ACCOUNT, accessToken: TOKEN });

function contractItems(): AudienceItem[] {
  return [
    { kind: 'audience', key: 'dst_m:c:1', profileId: 'prf_a', action: 'add', audience: segA, identifiers: ids(['mary@example.com'], ['+15559876543']) },
    { kind: 'audience', key: 'dst_m:c:2', profileId: 'prf_b', action: 'add', audience: segA, identifiers: ids(['bob@example.com']) },
    { kind: 'audience', key: 'dst_m:c:3', profileId: 'prf_c', action: 'remove', audience: segA, identifiers: ids([], ['+33612345678']) },
    { kind: 'audience', key: 'dst_m:c:4', profileId: 'prf_d', action: 'add', audience: segB, identifiers: ids(['dana@example.org', 'dana.w@example.net'], ['+4915112345678']) },
  ];
}

const hashesOf = (items: AudienceItem[], action: 'add' | 'remove') =>
  new Set(items.filter((i) => i.action === action).flatMap((i) => [...(i.identifiers.EMAIL ?? []), ...(i.identifiers.PHONE ?? [])]));

const contractStandIn = new Marketing(hashesOf(contractItems(), 'add'), hashesOf(contractItems(), 'remove'));
const config = (base: string): MetaConfigT => ({ adAccountId: ACCOUNT, accessToken: TOKEN, apiBase: base, apiVersion: V });

destinationContract({
  manifest,
  config,
  items: contractItems,
  validate: contractStandIn.validate,
  respond: contractStandIn.respond,
  // Adding a present member or removing an absent one changes nothing; the session id comes from
  // the items' keys, so a replay sends exactly the same requests.
  idempotency: 'natural',
});

// --- Meta specifics ------------------------------------------------------------------------

function context(c: MetaConfigT, store = new Map<string, string>(), logs: string[] = []): DestinationContext<MetaConfigT> {
  return testContext(c, { store, logs });
}

async function withMeta(s: Marketing, fn: (base: string, requests: RecordedRequest[], errors: string[]) => Promise<void>): Promise<void> {
  const errors: string[] = [];
  const p = await startPlatform((req) => {
    const err = s.validate(req);
    if (err !== null) { errors.push(err); return { status: 400, body: { error: { message: err, type: 'OAuthException', code: 100 } } }; }
    return s.respond(req);
  });
  try { await fn(p.url, p.requests, errors); } finally { await p.close(); }
}

const users = (requests: RecordedRequest[]) => requests.filter((r) => r.url.endsWith('/users')).map((r) => ({ method: r.method, ...JSON.parse(r.body) }));

test('meta: identifiers follow Meta\'s documented normalisation and hashing examples', () => {
  // Meta's published examples: hash("sha256", "mary@example.com") and hash("sha256", "15559876543").
  const d = ids([' Mary@Example.com '], ['+15559876543']);
  assert.deepEqual(d.EMAIL, ['f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79']);
  assert.deepEqual(d.PHONE, ['1ef970831d7963307784fa8688e8fce101a15685d62aa765fed23f3a2c576a4e']);
  // Digits only with the country code, no '+'; dots and plus tags of emails are kept (Meta does not ask).
  assert.deepEqual(ids([], ['+33 6 12 34 56 78']).PHONE, [sha256Hex('33612345678')]);
  assert.deepEqual(ids(['a.b+c@gmail.com']).EMAIL, [sha256Hex('a.b+c@gmail.com')]);
});

test('meta: the audience is created once across two sends sharing the store', async () => {
  const s = new Marketing();
  await withMeta(s, async (base, requests, errors) => {
    const store = new Map<string, string>();
    const items = contractItems().filter((i) => i.audience.segmentId === segA.segmentId);
    const first = await manifest.send(items, context(config(base), store));
    const second = await manifest.send(items, context(config(base), store));
    assert.deepEqual(errors, []);
    assert.deepEqual([...first, ...second].map((o) => o.kind), [...items, ...items].map(() => 'ok'));
    assert.equal(requests.filter((r) => r.url.endsWith('/customaudiences')).length, 1, 'one audience creation');
    const audience = [...store.values()];
    assert.equal(audience.length, 1);
    assert.ok(requests.filter((r) => r.url.endsWith('/users')).every((r) => r.url === `/${V}/${audience[0]}/users`));
  });
});

test('meta: additions are POSTed and removals DELETEd as multi-key rows, each action its own session', async () => {
  const s = new Marketing();
  await withMeta(s, async (base, requests, errors) => {
    const items = contractItems();
    const outcomes = await manifest.send(items, context(config(base)));
    assert.deepEqual(errors, []);
    assert.deepEqual(outcomes.map((o) => o.kind), ['ok', 'ok', 'ok', 'ok']);
    const u = users(requests);
    assert.deepEqual(u.map((r) => r.method), ['POST', 'DELETE', 'POST']);
    const [a, b, c, d] = items.map((i) => i.identifiers);
    assert.deepEqual(u[0].payload.data, [[a!.EMAIL![0], a!.PHONE![0]], [b!.EMAIL![0], '']]);
    assert.deepEqual(u[1].payload.data, [['', c!.PHONE![0]]]);
    // Two emails and one phone: two rows of the same person.
    assert.deepEqual(u[2].payload.data, [[d!.EMAIL![0], d!.PHONE![0]], [d!.EMAIL![1], '']]);
    for (const r of u) assert.deepEqual({ seq: r.session.batch_seq, last: r.session.last_batch_flag }, { seq: 1, last: true });
    assert.equal(new Set(u.map((r) => r.session.session_id)).size, 3);
  });
});

test('meta: the session id is deterministic from the items\' keys', () => {
  assert.equal(sessionId('42', 'add', ['k1', 'k2']), sessionId('42', 'add', ['k1', 'k2']));
  assert.notEqual(sessionId('42', 'add', ['k1', 'k2']), sessionId('42', 'add', ['k1', 'k3']));
  assert.notEqual(sessionId('42', 'add', ['k1']), sessionId('42', 'remove', ['k1']));
  assert.ok(Number.isSafeInteger(sessionId('42', 'add', ['k1'])) && sessionId('42', 'add', ['k1']) > 0);
});

test('meta: more rows than one request takes are sent as sequential batches of one session', async () => {
  const s = new Marketing();
  await withMeta(s, async (base, requests, errors) => {
    const n = ROWS_PER_REQUEST + 5;
    const items: AudienceItem[] = Array.from({ length: n }, (_, i) => ({ kind: 'audience', key: `k${i}`, profileId: `p${i}`, action: 'add', audience: segA, identifiers: ids([`person${i}@example.com`]) }));
    const outcomes = await manifest.send(items, context(config(base)));
    assert.deepEqual(errors, []);
    assert.ok(outcomes.every((o) => o.kind === 'ok'));
    const u = users(requests);
    assert.deepEqual(u.map((r) => [r.payload.data.length, r.session.batch_seq, r.session.last_batch_flag, r.session.estimated_num_total]), [[ROWS_PER_REQUEST, 1, false, n], [5, 2, true, n]]);
    assert.equal(u[0].session.session_id, u[1].session.session_id);
  });
});

test('meta: Graph rate limits (HTTP 400 with a throttling code) are retried after the advertised time; other errors dropped with their code', async () => {
  const s = new Marketing();
  let answer: PlatformAnswer = {
    status: 400,
    headers: { 'x-business-use-case-usage': JSON.stringify({ [ACCOUNT]: [{ type: 'custom_audience', call_count: 100, total_cputime: 20, total_time: 30, estimated_time_to_regain_access: 5 }] }) },
    body: { error: { message: 'There have been too many calls', type: 'OAuthException', code: 80003, error_subcode: 2446079, fbtrace_id: 'x' } },
  };
  s.onUsers = () => answer;
  await withMeta(s, async (base) => {
    const item = contractItems()[1]!;
    assert.deepEqual(await manifest.send([item], context(config(base))), [{ kind: 'retry', reason: 'meta:80003', afterMs: 300_000 }]);
    answer = { status: 400, body: { error: { message: 'Error validating access token', type: 'OAuthException', code: 190, error_subcode: 463 } } };
    assert.deepEqual(await manifest.send([item], context(config(base))), [{ kind: 'drop', reason: 'http_400:meta_190/463' }]);
    answer = { status: 500, body: { error: { message: 'temporary', code: 2, is_transient: true } } };
    assert.equal((await manifest.send([item], context(config(base))))[0]!.kind, 'retry');
  });
});

test('meta: a person all of whose entries Meta quotes as invalid is dropped, the others delivered', async () => {
  const s = new Marketing();
  const items = contractItems().slice(0, 2);
  s.onUsers = (_req, body) => ({ status: 200, body: { audience_id: '1', session_id: body.session.session_id, num_received: 2, num_invalid_entries: 1, invalid_entry_samples: [items[1]!.identifiers.EMAIL![0]] } });
  await withMeta(s, async (base, _requests, errors) => {
    const outcomes = await manifest.send(items, context(config(base)));
    assert.deepEqual(errors, []);
    assert.deepEqual(outcomes, [{ kind: 'ok' }, { kind: 'drop', reason: 'meta:invalid_entry' }]);
  });
});

test('meta: items without an email or phone are dropped without a request', async () => {
  const s = new Marketing();
  await withMeta(s, async (base, requests) => {
    const item: AudienceItem = { kind: 'audience', key: 'k', profileId: 'p', action: 'remove', audience: segA, identifiers: ids([]) };
    assert.deepEqual(await manifest.send([item], context(config(base))), [{ kind: 'drop', reason: 'no_identifier' }]);
    assert.equal(requests.length, 0);
  });
});
