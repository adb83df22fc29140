/**
 * The Xandr connector: the destination contract against a stand-in of the Digital Platform API
 * (`POST /auth`, `POST /batch-segment?member_id=`) and of the upload host (`POST <upload_url>`,
 * legacy BSS text file), plus the platform rules: file lines, token reuse, re-login on NOAUTH.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationContract } from './contract/destination.contract.js';
import { manifest, type XandrConfigT } from '../src/activate/xandr/index.js';
import { bssLines, DEFAULT_FORMAT, MAX_SEGMENTS_PER_LINE } from '../src/activate/xandr/bss-file.js';
import type { AudienceItem, DestinationContext } from '../src/protocol/destination.js';
import { startPlatform, type PlatformAnswer, type RecordedRequest } from './helpers/platform-server.js';
import { testContext } from './helpers/destination-context.js';

const MEMBER = 958;
const USER = 'ensemble-api';
const PASSWORD = 'Xandr-Contract-P4ss!';
const SEGMENTS = { seg_buyers: 1001, seg_vip: 1002 };

/** A line of the default format: `UID,SEG_ID:EXPIRATION:VALUE;...` (expiration -1 removes). */
const LINE = /^([1-9][0-9]{0,19}),([0-9]+:(?:-1|[0-9]+):0(?:;[0-9]+:(?:-1|[0-9]+):0)*)$/;

// ---- stand-in state: tokens it issued and jobs it opened ----
let counter = 0;
const issued = new Set<string>();
/** Live sessions; a test clears it to expire them on Xandr's side. */
const tokens = new Set<string>();
const jobs = new Set<string>();

function validate(req: RecordedRequest): string | null {
  if (req.method !== 'POST') return 'method must be POST';
  const path = req.url.split('?')[0];
  if (path === '/auth') {
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return 'auth body is JSON';
    let b: unknown;
    try { b = JSON.parse(req.body); } catch { return 'auth body is not JSON'; }
    const a = (b as { auth?: Record<string, unknown> }).auth;
    if (!a || Object.keys(b as object).length !== 1 || a.username !== USER || a.password !== PASSWORD) return '{"auth":{"username","password"}} required';
    return null;
  }
  if (path === '/batch-segment') {
    if (req.url !== `/batch-segment?member_id=${MEMBER}`) return 'member_id query parameter required';
    if (!issued.has(String(req.headers.authorization ?? ''))) return 'Authorization: <token from /auth> required';
    if (req.body !== '') return 'the job request has an empty body';
    return null;
  }
  const job = /^\/segment-upload\/([A-Za-z0-9]+)$/.exec(req.url)?.[1];
  if (job !== undefined) {
    if (!jobs.has(job)) return 'upload to the URL of an open job';
    if (req.headers['content-type'] !== 'application/octet-stream') return 'Content-Type: application/octet-stream required';
    if (!/^[\x20-\x7e\n]*$/.test(req.body)) return 'the file is Latin1 text';
    if (!req.body.endsWith('\n')) return 'lines end with a newline';
    for (const line of req.body.slice(0, -1).split('\n')) {
      const m = LINE.exec(line);
      if (!m) return `line does not follow UID,SEG_ID:EXPIRATION:VALUE;...: ${line}`;
      const blocks = m[2]!.split(';');
      if (blocks.length > 1800) return 'at most 1800 segments per line';
      for (const b of blocks) {
        const [seg, exp] = b.split(':').map(Number);
        if (!Object.values(SEGMENTS).includes(seg!)) return 'segment ids are the mapped Xandr ids';
        if (exp! > 259_200) return 'expiration is at most 180 days';
      }
    }
    return null;
  }
  return `unexpected path ${req.url}`;
}

function respond(req: RecordedRequest): PlatformAnswer {
  const path = req.url.split('?')[0];
  if (path === '/auth') {
    const token = `hbtptiv${++counter}x`;
    tokens.add(token);
    issued.add(token);
    return { status: 200, body: { response: { status: 'OK', token } } };
  }
  if (path === '/batch-segment') {
    if (!tokens.has(String(req.headers.authorization))) return { status: 401, body: { response: { error_id: 'NOAUTH', error: 'Authentication failed - not logged in' } } };
    const jobId = `JFY8l6iMOFAFJIWCMPcy${++counter}`;
    jobs.add(jobId);
    return { status: 200, body: { response: { status: 'OK', id: counter, batch_segment_upload_job: { job_id: jobId, member_id: MEMBER, upload_url: `http://${req.headers.host}/segment-upload/${jobId}` } } } };
  }
  const jobId = req.url.split('/').pop()!;
  return { status: 200, body: { response: { segment_upload: { job_id: jobId }, status: 'OK' } } };
}

const config = (base: string, over: Partial<XandrConfigT> = {}): XandrConfigT => ({ memberId: MEMBER, username: USER, password: PASSWORD, apiBase: base, segments: SEGMENTS, ...over });
const cfg = config('http://127.0.0.1:9');

function audience(key: string, action: 'add' | 'remove', segmentId: string, xandrIds: string[]): AudienceItem {
  return { kind: 'audience', key, profileId: `prf_${key}`, action, audience: { segmentId, name: segmentId }, identifiers: manifest.identify({ xandr_id: xandrIds }, cfg) };
}
const items = (): AudienceItem[] => [
  audience('dst_x:c:1', 'add', 'seg_buyers', ['7652266028043224430']),
  audience('dst_x:c:2', 'remove', 'seg_buyers', ['4013681496264948522']),
  audience('dst_x:c:3', 'add', 'seg_vip', ['7652266028043224430', '8802117132500293405']),
];

const uploads = (reqs: RecordedRequest[]) => reqs.filter((r) => r.url.startsWith('/segment-upload/'));

destinationContract<XandrConfigT>({
  manifest,
  config: (base) => config(base),
  items,
  validate,
  respond,
  // Each upload is a new job (new URL), so replays are compared on the memberships they carry.
  idempotency: (req) => {
    if (!req.url.startsWith('/segment-upload/')) return [];
    return req.body.trim().split('\n').flatMap((line) => {
      const [uid, segs] = line.split(',');
      return segs!.split(';').map((b) => {
        const seg = Number(b.split(':')[0]);
        const owner = items().find((it) => it.identifiers.xandr_id!.includes(uid!) && SEGMENTS[it.audience.segmentId as keyof typeof SEGMENTS] === seg);
        return `${owner?.key ?? '?'}|${uid}|${b}`;
      });
    });
  },
});

// ---- platform-specific rules ----

function ctxFor(c: XandrConfigT, store = new Map<string, string>(), logs: string[] = []): DestinationContext<XandrConfigT> {
  return testContext(c, { store, logs });
}

type Check = (req: RecordedRequest) => string | null;
async function withStandIn(fn: (base: string, requests: RecordedRequest[], set: (h: (r: RecordedRequest) => PlatformAnswer | null) => void) => Promise<void>, check: Check = validate): Promise<void> {
  let override: ((r: RecordedRequest) => PlatformAnswer | null) | null = null;
  const errors: string[] = [];
  const p = await startPlatform((req) => {
    const err = check(req);
    if (err) { errors.push(err); return { status: 401, body: { response: { error_id: 'NOAUTH', error: err } } }; }
    return override?.(req) ?? respond(req);
  });
  try {
    await fn(p.url, p.requests, (h) => { override = h; });
    assert.deepEqual(errors, [], 'every request follows the documented format');
  } finally { await p.close(); }
}

const count = (reqs: RecordedRequest[], path: string) => reqs.filter((r) => r.url.split('?')[0] === path).length;

test('xandr: the uploaded file has one line per user, additions and removals as expirations', async () => {
  await withStandIn(async (base, requests) => {
    const out = await manifest.send(items(), ctxFor(config(base)));
    assert.deepEqual(out.map((o) => o.kind), ['ok', 'ok', 'ok']);
    const [file] = uploads(requests);
    assert.equal(file!.body, [
      '7652266028043224430,1001:0:0;1002:0:0',
      '4013681496264948522,1001:-1:0',
      '8802117132500293405,1002:0:0',
    ].join('\n') + '\n');
    assert.equal(file!.headers.authorization, undefined, 'the session token is not sent to the upload host');
  });
});

test("xandr: the seat's file format and expiration are honoured", async () => {
  // A seat configured with separator_1 ';', separator_2 ',' and segment_fields [SEG_ID,EXPIRATION].
  const seat: Check = (req) => !req.url.startsWith('/segment-upload/') ? validate(req)
    : req.body.trim().split('\n').every((l) => /^[0-9]+;[0-9]+:(-1|[0-9]+)(,[0-9]+:(-1|[0-9]+))*$/.test(l)) ? null : 'line does not follow the seat format';
  await withStandIn(async (base, requests) => {
    const c = config(base, { expirationMinutes: 1440, fileFormat: { separator1: ';', separator2: ',', separator3: ':', segmentFields: 'SEG_ID,EXPIRATION' } });
    assert.deepEqual((await manifest.send(items(), ctxFor(c))).map((o) => o.kind), ['ok', 'ok', 'ok']);
    assert.equal(uploads(requests)[0]!.body, '7652266028043224430;1001:1440,1002:1440\n4013681496264948522;1001:-1\n8802117132500293405;1002:1440\n');
  }, seat);
  const bad = config('http://127.0.0.1:9', { fileFormat: { separator1: ',', separator2: ',', separator3: ':', segmentFields: 'SEG_ID,EXPIRATION' } });
  for (const o of await manifest.send(items(), ctxFor(bad))) assert.deepEqual(o, { kind: 'dead', error: 'xandr_invalid_file_format' });
});

test('xandr: a session token is reused across sends sharing a store, and replaced on NOAUTH', async () => {
  await withStandIn(async (base, requests, set) => {
    const store = new Map<string, string>();
    await manifest.send(items(), ctxFor(config(base), store));
    await manifest.send(items(), ctxFor(config(base), store));
    assert.equal(count(requests, '/auth'), 1, 'one login for two sends');
    assert.equal(count(requests, '/batch-segment'), 2);
    assert.ok(![...store.values()].join().includes(PASSWORD), 'the password is not stored');

    tokens.clear(); // the session expired on Xandr's side
    const out = await manifest.send(items(), ctxFor(config(base), store));
    assert.deepEqual(out.map((o) => o.kind), ['ok', 'ok', 'ok']);
    assert.equal(count(requests, '/auth'), 2, 'one new login after NOAUTH');

    // A 200 carrying error_id NOAUTH is a lost session too.
    let once = true;
    set((r) => {
      if (!r.url.startsWith('/batch-segment') || !once) return null;
      once = false;
      return { status: 200, body: { response: { error_id: 'NOAUTH', error: 'Authentication failed - not logged in' } } };
    });
    assert.deepEqual((await manifest.send(items(), ctxFor(config(base), store))).map((o) => o.kind), ['ok', 'ok', 'ok']);
    assert.equal(count(requests, '/auth'), 3);
  });
});

test('xandr: a session that keeps failing logs in once more, not in a loop', async () => {
  await withStandIn(async (base, requests, set) => {
    set((r) => r.url.startsWith('/batch-segment') ? { status: 401, body: { response: { error_id: 'NOAUTH' } } } : null);
    const store = new Map<string, string>();
    await manifest.send(items(), ctxFor(config(base), store));
    const out = await manifest.send(items(), ctxFor(config(base), store));
    for (const o of out) assert.deepEqual(o, { kind: 'drop', reason: 'http_401' });
    assert.equal(count(requests, '/auth'), 2, 'first send logs in; second retries with a fresh login once');
    assert.equal(count(requests, '/batch-segment'), 3);
  });
});

test('xandr: wrong credentials are dead letters; rate limits are retried after a minute', async () => {
  await withStandIn(async (base, _r, set) => {
    set((r) => r.url === '/auth' ? { status: 200, body: { response: { error_id: 'NOAUTH', error: 'No match found for user/pass' } } } : null);
    for (const o of await manifest.send(items(), ctxFor(config(base)))) assert.deepEqual(o, { kind: 'dead', error: 'xandr_auth_failed' });
    set((r) => r.url.startsWith('/segment-upload/') ? { status: 200, body: { response: { status: 'ERROR', error_code: 'RATE_LIMIT_EXCEEDED', errors: ['Member exceeds maximum allowed bytes per day'] } } } : null);
    for (const o of await manifest.send(items(), ctxFor(config(base)))) assert.deepEqual(o, { kind: 'retry', reason: 'xandr_RATE_LIMIT_EXCEEDED', afterMs: 60_000 });
    set((r) => r.url.startsWith('/batch-segment') ? { status: 200, body: { response: { status: 'OK', batch_segment_upload_job: {} } } } : null);
    for (const o of await manifest.send(items(), ctxFor(config(base)))) assert.equal(o.kind, 'retry', 'no upload URL');
  });
});

test('xandr: unmapped segments and items without a Xandr id are dropped without a request', async () => {
  await withStandIn(async (base, requests) => {
    const unmapped = audience('k:u', 'add', 'seg_unknown', ['7652266028043224430']);
    const noId = audience('k:n', 'add', 'seg_buyers', []);
    const event = { kind: 'event' as const, key: 'k:e', profileId: 'p', identifiers: {}, event: {} };
    assert.deepEqual(await manifest.send([unmapped, noId, event], ctxFor(config(base))), [
      { kind: 'drop', reason: 'segment_not_mapped' }, { kind: 'drop', reason: 'no_identifier' }, { kind: 'drop', reason: 'unsupported_kind' },
    ]);
    assert.equal(requests.length, 0);
    const out = await manifest.send([unmapped, items()[0]!], ctxFor(config(base)));
    assert.deepEqual(out.map((o) => o.kind), ['drop', 'ok']);
    assert.equal(uploads(requests)[0]!.body, '7652266028043224430,1001:0:0\n');
  });
});

test('xandr: identify passes digit ids through and refuses anything else', () => {
  const id = (...xs: string[]) => manifest.identify({ xandr_id: xs }, cfg).xandr_id;
  assert.deepEqual(id('5727816213491965430', ' 123 ', '18446744073709551615'), ['5727816213491965430', '123', '18446744073709551615']);
  assert.deepEqual(id('0', '-1', 'abc', '12a', '18446744073709551616', '', '0123'), []);
  assert.deepEqual(manifest.identify({ email: ['a@example.com'] }, cfg), { xandr_id: [] });
});

test('xandr: long segment lists are split at 1800 per line; the last operation on a pair wins', () => {
  const many = Array.from({ length: 1801 }, (_, i) => ({ uid: '42', segment: i + 1, expiration: 0 }));
  const lines = bssLines(many, DEFAULT_FORMAT);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.split(';').length, MAX_SEGMENTS_PER_LINE);
  assert.equal(lines[1], '42,1801:0:0');
  assert.deepEqual(bssLines([{ uid: '7', segment: 5, expiration: 0 }, { uid: '7', segment: 5, expiration: -1 }], DEFAULT_FORMAT), ['7,5:-1:0']);
});
