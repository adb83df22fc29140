/**
 * The Google Ads Customer Match connector: the destination contract against a stand-in of the
 * Google Ads API (REST, v26) and its OAuth token endpoint that checks the documented request
 * formats — paths with the version, auth and developer-token headers, UserListService and
 * OfflineUserDataJobService bodies, SHA-256 hex identifiers, create operations only in consented
 * add jobs and remove operations only in remove jobs — plus Customer Match specific rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { destinationContract } from './contract/destination.contract.js';
import { IDENTIFIERS_PER_REQUEST, manifest, type GoogleAdsConfigT } from '../src/activate/google-ads/index.js';
import { sha256Hex } from '../src/activate/hashing.js';
import type { AudienceItem, DeliveryOutcome, DestinationContext } from '../src/protocol/destination.js';
import { startPlatform, type PlatformAnswer, type RecordedRequest } from './helpers/platform-server.js';
import { testContext } from './helpers/destination-context.js';

const CUSTOMER = '1234567890';
const LOGIN = '9876543210';
const DEV_TOKEN = 'devtoken-contract-0123456789';
const ACCESS_TOKEN = 'ya29.static-access-token-0123456789';
const CLIENT_ID = 'client-123.apps.googleusercontent.com';
const CLIENT_SECRET = 'GOCSPX-client-secret-0123456789';
const REFRESH_TOKEN = '1//refresh-token-0123456789';
const ISSUED_TOKEN = 'ya29.issued-by-the-stand-in';
const HEX64 = /^[0-9a-f]{64}$/;
const V = 'v26';

const idOf = (s: string) => BigInt(`0x${createHash('sha256').update(s).digest('hex').slice(0, 12)}`).toString();

interface Job { consent: boolean; state: 'pending' | 'running'; operations: number }

/**
 * A stand-in Google Ads API. Ids are derived from request content so a replay gets the same
 * resource names (the contract replays against the same server).
 */
class GoogleAds {
  lists = new Map<string, string>(); // resource name -> list name
  jobs = new Map<string, Job>();
  /** Hashes that may only be added / only be removed (empty: not checked). */
  constructor(public expectedToken: string, public addHashes = new Set<string>(), public removeHashes = new Set<string>()) {}
  /** Extra answer for addOperations (e.g. a partial failure), by request. */
  onAdd: ((body: any) => PlatformAnswer | undefined) | undefined;
  onCreateList: ((body: any) => PlatformAnswer | undefined) | undefined;

  validate = (req: RecordedRequest): string | null => {
    const url = new URL(req.url, 'http://stand-in');
    if (url.search !== '') return 'no query string (credentials never go in URLs)';
    if (req.method !== 'POST') return 'every call is a POST';
    if (url.pathname === '/token') return this.validateToken(req);
    if (req.headers.authorization !== `Bearer ${this.expectedToken}`) return 'Authorization: Bearer <access token> required';
    if (req.headers['developer-token'] !== DEV_TOKEN) return 'developer-token header required';
    if (req.headers['login-customer-id'] !== LOGIN) return 'login-customer-id header (ten digits) expected';
    if (req.headers['content-type'] !== 'application/json') return 'content-type must be application/json';
    let body: any;
    try { body = JSON.parse(req.body); } catch { return 'body is not JSON'; }
    const p = url.pathname;
    const root = `/${V}/customers/${CUSTOMER}`;
    if (p === `${root}/userLists:mutate`) return this.validateList(body);
    if (p === `${root}/googleAds:search`) {
      return typeof body.query === 'string' && /^SELECT user_list\.resource_name FROM user_list WHERE user_list\.name = '[^'\\]+'$/.test(body.query) ? null : 'GAQL query for a list by name expected';
    }
    if (p === `${root}/offlineUserDataJobs:create`) return this.validateJob(body);
    const m = new RegExp(`^${root}/offlineUserDataJobs/([0-9]+):(addOperations|run)$`).exec(p);
    if (!m) return `unknown endpoint ${p}`;
    const job = this.jobs.get(m[1]!);
    if (!job) return 'no such job';
    if (job.state !== 'pending') return 'job already running: operations must be added before run';
    if (m[2] === 'run') return Object.keys(body).length === 0 ? (job.operations > 0 ? null : 'running an empty job') : 'run takes an empty body';
    return this.validateOperations(body, job);
  };

  private validateToken(req: RecordedRequest): string | null {
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return 'token request is form-encoded';
    if (req.headers.authorization !== undefined) return 'token request carries no bearer';
    const f = new URLSearchParams(req.body);
    if (f.get('grant_type') !== 'refresh_token') return 'grant_type=refresh_token';
    if (f.get('client_id') !== CLIENT_ID || f.get('client_secret') !== CLIENT_SECRET || f.get('refresh_token') !== REFRESH_TOKEN) return 'client id, secret and refresh token in the body';
    return null;
  }

  private validateList(body: any): string | null {
    if (!Array.isArray(body.operations) || body.operations.length !== 1) return 'one UserListOperation';
    const op = body.operations[0];
    if (Object.keys(op).join() !== 'create') return 'a create operation';
    const l = op.create;
    if (typeof l.name !== 'string' || l.name.length === 0 || l.name.length > 300) return 'UserList.name required';
    if (l.crmBasedUserList?.uploadKeyType !== 'CONTACT_INFO') return 'crmBasedUserList.uploadKeyType CONTACT_INFO';
    if (!Number.isInteger(l.membershipLifeSpan) || l.membershipLifeSpan < 0 || l.membershipLifeSpan > 540) return 'membershipLifeSpan between 0 and 540 days';
    return null;
  }

  private validateJob(body: any): string | null {
    const job = body.job;
    if (job?.type !== 'CUSTOMER_MATCH_USER_LIST') return 'job.type CUSTOMER_MATCH_USER_LIST';
    const meta = job.customerMatchUserListMetadata;
    if (!this.lists.has(meta?.userList)) return 'customerMatchUserListMetadata.userList must be a list of this customer';
    if (meta.consent !== undefined && JSON.stringify(meta.consent) !== JSON.stringify({ adUserData: 'GRANTED', adPersonalization: 'GRANTED' })) return 'consent: adUserData and adPersonalization';
    return null;
  }

  private validateOperations(body: any, job: Job): string | null {
    if (body.enablePartialFailure !== true) return 'enablePartialFailure expected (per-item outcomes)';
    if (!Array.isArray(body.operations) || body.operations.length === 0) return 'operations required';
    let identifiers = 0;
    for (const op of body.operations) {
      const keys = Object.keys(op);
      if (keys.length !== 1 || !['create', 'remove'].includes(keys[0]!)) return 'each operation is exactly one of create / remove';
      // Google: create jobs declare consent; a job mixing creates and removes fails (CONFLICTING_OPERATION).
      if (keys[0] === 'create' && !job.consent) return 'create operations belong in a job with consent';
      if (keys[0] === 'remove' && job.consent) return 'remove operations belong in a job without consent';
      const ids = op[keys[0]!].userIdentifiers;
      if (!Array.isArray(ids) || ids.length === 0) return 'userIdentifiers required';
      for (const id of ids) {
        const k = Object.keys(id);
        if (k.length !== 1 || !['hashedEmail', 'hashedPhoneNumber'].includes(k[0]!)) return 'one identifier per UserIdentifier (hashedEmail or hashedPhoneNumber)';
        const h = id[k[0]!];
        if (!HEX64.test(h)) return 'identifiers are SHA-256 hex';
        if (keys[0] === 'create' && this.removeHashes.has(h)) return 'a removed person was sent as a create';
        if (keys[0] === 'remove' && this.addHashes.has(h)) return 'an added person was sent as a remove';
      }
      identifiers += ids.length;
    }
    return identifiers <= 100_000 ? null : 'at most 100,000 identifiers per request';
  }

  respond = (req: RecordedRequest): PlatformAnswer => {
    const p = new URL(req.url, 'http://stand-in').pathname;
    if (p === '/token') return { status: 200, body: { access_token: ISSUED_TOKEN, expires_in: 3599, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/adwords' } };
    const body = JSON.parse(req.body);
    if (p.endsWith('/userLists:mutate')) {
      const special = this.onCreateList?.(body);
      if (special) return special;
      const name = body.operations[0].create.name as string;
      const rn = `customers/${CUSTOMER}/userLists/${idOf(name)}`;
      this.lists.set(rn, name);
      return { status: 200, body: { results: [{ resourceName: rn }] } };
    }
    if (p.endsWith('/googleAds:search')) {
      const name = /'(.*)'$/.exec(body.query)![1];
      const hit = [...this.lists].find(([, n]) => n === name);
      return { status: 200, body: { results: hit ? [{ userList: { resourceName: hit[0] } }] : [], fieldMask: 'userList.resourceName' } };
    }
    if (p.endsWith('/offlineUserDataJobs:create')) {
      const id = idOf(req.body);
      this.jobs.set(id, { consent: body.job.customerMatchUserListMetadata.consent !== undefined, state: 'pending', operations: 0 });
      return { status: 200, body: { resourceName: `customers/${CUSTOMER}/offlineUserDataJobs/${id}` } };
    }
    const id = /offlineUserDataJobs\/([0-9]+):/.exec(p)![1]!;
    const job = this.jobs.get(id)!;
    if (p.endsWith(':addOperations')) {
      job.operations += body.operations.length;
      return this.onAdd?.(body) ?? { status: 200, body: {} };
    }
    job.state = 'running';
    return { status: 200, body: { name: `customers/${CUSTOMER}/operations/${id}`, metadata: { '@type': `type.googleapis.com/google.ads.googleads.${V}.resources.OfflineUserDataJobMetadata` } } };
  };
}

const segA = { segmentId: 'seg_buyers', name: 'Buyers' };
const segB = { segmentId: 'seg_vip', name: "VIP 'gold' customers" };
const ids = (email: string[], phone: string[] = []) => manifest.identify({ email, phone }, { customerId: CUSTOMER, developerToken: DEV_TOKEN });

function contractItems(): AudienceItem[] {
  return [
    { kind: 'audience', key: 'dst_g:c:1', profileId: 'prf_a', action: 'add', audience: segA, identifiers: ids(['Ana.Lopez+ads@Gmail.com'], ['+33612345678']) },
    { kind: 'audience', key: 'dst_g:c:2', profileId: 'prf_b', action: 'add', audience: segA, identifiers: ids(['bob@example.com']) },
    { kind: 'audience', key: 'dst_g:c:3', profileId: 'prf_c', action: 'remove', audience: segA, identifiers: ids([], ['+4915112345678']) },
    { kind: 'audience', key: 'dst_g:c:4', profileId: 'prf_d', action: 'add', audience: segB, identifiers: ids(['dana@example.org']) },
  ];
}

const hashesOf = (items: AudienceItem[], action: 'add' | 'remove') =>
  new Set(items.filter((i) => i.action === action).flatMap((i) => [...(i.identifiers.hashedEmail ?? []), ...(i.identifiers.hashedPhoneNumber ?? [])]));

const contractStandIn = new GoogleAds(ISSUED_TOKEN, hashesOf(contractItems(), 'add'), hashesOf(contractItems(), 'remove'));

const fullConfig = (base: string): GoogleAdsConfigT => ({
  customerId: CUSTOMER, loginCustomerId: LOGIN, developerToken: DEV_TOKEN, accessToken: ACCESS_TOKEN,
  clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN,
  tokenUrl: `${base}/token`, apiBase: base,
});

destinationContract({
  manifest,
  config: fullConfig,
  items: contractItems,
  validate: contractStandIn.validate,
  respond: contractStandIn.respond,
  // Adding a member twice or removing an absent one changes nothing, and the requests (token,
  // list, job, operations, run) of a replay are identical: Google has no idempotency key here.
  idempotency: 'natural',
});

// --- Customer Match specifics -------------------------------------------------------------

function context(config: GoogleAdsConfigT, store = new Map<string, string>(), logs: string[] = []): DestinationContext<GoogleAdsConfigT> {
  return testContext(config, { store, logs });
}

async function withGoogle(g: GoogleAds, fn: (base: string, requests: RecordedRequest[], errors: string[]) => Promise<void>): Promise<void> {
  const errors: string[] = [];
  const p = await startPlatform((req) => {
    const err = g.validate(req);
    if (err !== null) { errors.push(err); return { status: 400, body: { error: { code: 400, message: err, status: 'INVALID_ARGUMENT' } } }; }
    return g.respond(req);
  });
  try { await fn(p.url, p.requests, errors); } finally { await p.close(); }
}

const paths = (requests: RecordedRequest[]) => requests.map((r) => new URL(r.url, 'http://x').pathname);
const bodies = (requests: RecordedRequest[], suffix: string) => requests.filter((r) => r.url.endsWith(suffix)).map((r) => JSON.parse(r.body));

test('google-ads: identifiers follow Google\'s documented normalisation (Gmail dots and +tags, E.164 with +)', () => {
  // The published examples: cloudy.sanfrancisco+shopping@gmail.com → cloudysanfrancisco@gmail.com;
  // other domains keep dots and plus tags; (800)555-0100 → +18005550100.
  assert.deepEqual(ids(['Cloudy.SanFrancisco+shopping@gmail.com']).hashedEmail, ['223ebda6f6889b1494551ba902d9d381daf2f642bae055888e96343d53e9f9c4']);
  assert.deepEqual(ids(['User.Name+NYC@Example.com']).hashedEmail, ['f109a2a632fbcea5fc82049f50beed3d8621bf9034399f437fb622222acccdac']);
  assert.deepEqual(ids([], ['+18005550100']).hashedPhoneNumber, ['fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30']);
  assert.deepEqual(ids(['j.doe+x@googlemail.com']).hashedEmail, [sha256Hex('jdoe@googlemail.com')]);
  // The same inbox written two ways is one identifier.
  assert.deepEqual(ids(['a.b@gmail.com', 'ab+promo@gmail.com']).hashedEmail, [sha256Hex('ab@gmail.com')]);
});

test('google-ads: the user list is created once across two sends sharing the store', async () => {
  const g = new GoogleAds(ISSUED_TOKEN);
  await withGoogle(g, async (base, requests, errors) => {
    const store = new Map<string, string>();
    const items = contractItems().filter((i) => i.audience.segmentId === segA.segmentId);
    const first = await manifest.send(items, context(fullConfig(base), store));
    const second = await manifest.send(items, context(fullConfig(base), store));
    assert.deepEqual(errors, []);
    assert.deepEqual([...first, ...second].map((o) => o.kind), [...items, ...items].map(() => 'ok'));
    assert.equal(paths(requests).filter((p) => p.endsWith('/userLists:mutate')).length, 1, 'one list creation');
    assert.equal(store.size, 1);
    const lists = new Set(bodies(requests, ':create').map((b) => b.job.customerMatchUserListMetadata.userList));
    assert.deepEqual([...lists], [...store.values()], 'both sends fill the remembered list');
  });
});

test('google-ads: additions and removals go to separate jobs, create vs remove, consent only on additions, each job run once', async () => {
  const g = new GoogleAds(ISSUED_TOKEN);
  await withGoogle(g, async (base, requests, errors) => {
    const items = contractItems().filter((i) => i.audience.segmentId === segA.segmentId);
    const outcomes = await manifest.send(items, context(fullConfig(base)));
    assert.deepEqual(errors, []);
    assert.deepEqual(outcomes.map((o) => o.kind), ['ok', 'ok', 'ok']);
    const jobs = bodies(requests, 'offlineUserDataJobs:create');
    assert.equal(jobs.length, 2);
    assert.deepEqual(jobs[0].job.customerMatchUserListMetadata.consent, { adUserData: 'GRANTED', adPersonalization: 'GRANTED' });
    assert.equal(jobs[1].job.customerMatchUserListMetadata.consent, undefined);
    const ops = bodies(requests, ':addOperations');
    assert.deepEqual(ops.map((b) => b.operations.map((o: object) => Object.keys(o)[0])), [['create', 'create'], ['remove']]);
    // Ana has an email and a phone: one UserData, two UserIdentifiers.
    assert.deepEqual(ops[0].operations[0].create.userIdentifiers, [{ hashedEmail: items[0]!.identifiers.hashedEmail![0] }, { hashedPhoneNumber: items[0]!.identifiers.hashedPhoneNumber![0] }]);
    assert.equal(paths(requests).filter((p) => p.endsWith(':run')).length, 2);
    assert.equal(paths(requests).filter((p) => p === '/token').length, 1, 'one token exchange per send');
  });
});

test('google-ads: a partial failure fails only the operations Google names, the job still runs', async () => {
  const g = new GoogleAds(ISSUED_TOKEN);
  g.onAdd = (body) => body.operations.length === 3 ? {
    status: 200,
    body: { partialFailureError: { code: 3, message: 'Multiple errors in ‘details’.', details: [{
      '@type': `type.googleapis.com/google.ads.googleads.${V}.errors.GoogleAdsFailure`,
      errors: [
        { errorCode: { offlineUserDataJobError: 'INVALID_SHA256_FORMAT' }, message: 'echo of a@b.c', location: { fieldPathElements: [{ fieldName: 'operations', index: 1 }, { fieldName: 'create' }, { fieldName: 'user_identifiers', index: 0 }] } },
        { errorCode: { databaseError: 'CONCURRENT_MODIFICATION' }, message: 'busy', location: { fieldPathElements: [{ fieldName: 'operations', index: 2 }] } },
      ],
    }] } },
  } : undefined;
  await withGoogle(g, async (base, requests, errors) => {
    const items: AudienceItem[] = ['a@x.io', 'b@x.io', 'c@x.io'].map((e, i) => ({ kind: 'audience', key: `k${i}`, profileId: `p${i}`, action: 'add', audience: segA, identifiers: ids([e]) }));
    const outcomes = await manifest.send(items, context(fullConfig(base)));
    assert.deepEqual(errors, []);
    assert.equal(outcomes[0]!.kind, 'ok');
    assert.deepEqual(outcomes[1], { kind: 'drop', reason: 'google_ads:INVALID_SHA256_FORMAT' });
    assert.deepEqual(outcomes[2], { kind: 'retry', reason: 'google_ads:CONCURRENT_MODIFICATION' });
    assert.ok(!JSON.stringify(outcomes).includes('a@b.c'), 'error messages never reach outcomes');
    assert.equal(paths(requests).filter((p) => p.endsWith(':run')).length, 1);
  });
});

test('google-ads: a list name already used (an unremembered earlier create) is found again by name', async () => {
  const g = new GoogleAds(ISSUED_TOKEN);
  const earlier = `customers/${CUSTOMER}/userLists/4242`;
  g.lists.set(earlier, "VIP gold customers (Ensemble seg_vip)");
  g.onCreateList = () => ({ status: 400, body: { error: { code: 400, status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure', errors: [{ errorCode: { userListError: 'NAME_ALREADY_USED' }, message: 'Name is already being used' }] }] } } });
  await withGoogle(g, async (base, requests, errors) => {
    const store = new Map<string, string>();
    const item = contractItems()[3]!;
    const outcomes = await manifest.send([item], context(fullConfig(base), store));
    assert.deepEqual(errors, []);
    assert.equal(outcomes[0]!.kind, 'ok');
    assert.deepEqual([...store.values()], [earlier]);
    assert.ok(paths(requests).some((p) => p.endsWith('/googleAds:search')));
  });
});

test('google-ads: Google errors map to outcomes (transient codes retried, others dropped with their code)', async () => {
  const failure = (status: number, code: Record<string, string>) => ({ status, body: { error: { code: status, status: 'INVALID_ARGUMENT', details: [{ errors: [{ errorCode: code, message: 'x' }] }] } } });
  const g = new GoogleAds(ISSUED_TOKEN);
  let answer = failure(409, { databaseError: 'CONCURRENT_MODIFICATION' });
  g.onCreateList = () => answer;
  await withGoogle(g, async (base) => {
    const item = contractItems()[1]!;
    assert.deepEqual(await manifest.send([item], context(fullConfig(base))), [{ kind: 'retry', reason: 'google_ads:CONCURRENT_MODIFICATION' }]);
    answer = failure(403, { notAllowlistedError: 'CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE' });
    assert.deepEqual(await manifest.send([item], context(fullConfig(base))), [{ kind: 'drop', reason: 'http_403:CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE' }]);
  });
});

test('google-ads: items without an email or phone are dropped without a request', async () => {
  const g = new GoogleAds(ISSUED_TOKEN);
  await withGoogle(g, async (base, requests) => {
    const item: AudienceItem = { kind: 'audience', key: 'k', profileId: 'p', action: 'add', audience: segA, identifiers: ids([]) };
    assert.deepEqual(await manifest.send([item], context(fullConfig(base))), [{ kind: 'drop', reason: 'no_identifier' }]);
    assert.equal(requests.length, 0);
  });
});

test('google-ads: a configured access token is used as is; no credentials at all is an operator matter', async () => {
  const g = new GoogleAds(ACCESS_TOKEN);
  await withGoogle(g, async (base, requests, errors) => {
    const config: GoogleAdsConfigT = { customerId: CUSTOMER, loginCustomerId: LOGIN, developerToken: DEV_TOKEN, accessToken: ACCESS_TOKEN, apiBase: base };
    const outcomes = await manifest.send([contractItems()[1]!], context(config));
    assert.deepEqual(errors, []);
    assert.equal(outcomes[0]!.kind, 'ok');
    assert.ok(!paths(requests).includes('/token'));
    const none: GoogleAdsConfigT = { customerId: CUSTOMER, developerToken: DEV_TOKEN, apiBase: base };
    assert.deepEqual(await manifest.send([contractItems()[1]!], context(none)), [{ kind: 'dead', error: 'config:no_credentials' }]);
  });
});

test('google-ads: more identifiers than one request takes are split over several addOperations of one job', async () => {
  const g = new GoogleAds(ISSUED_TOKEN);
  await withGoogle(g, async (base, requests, errors) => {
    const n = IDENTIFIERS_PER_REQUEST / 2 + 1; // two identifiers each: just over one request
    const items: AudienceItem[] = Array.from({ length: n }, (_, i) => ({
      kind: 'audience', key: `k${i}`, profileId: `p${i}`, action: 'add', audience: segA,
      identifiers: ids([`person${i}@example.com`], [`+3361${String(i).padStart(7, '0')}`]),
    }));
    const outcomes: DeliveryOutcome[] = await manifest.send(items, context(fullConfig(base)));
    assert.deepEqual(errors, []);
    assert.ok(outcomes.every((o) => o.kind === 'ok'));
    const adds = bodies(requests, ':addOperations');
    assert.deepEqual(adds.map((b) => b.operations.length), [n - 1, 1]);
    assert.equal(paths(requests).filter((p) => p.endsWith('offlineUserDataJobs:create')).length, 1);
    assert.equal(paths(requests).filter((p) => p.endsWith(':run')).length, 1);
  });
});
