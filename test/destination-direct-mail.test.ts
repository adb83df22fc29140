/**
 * The direct-mail connector: the destination contract against a stand-in upload endpoint that
 * parses the CSV (RFC 4180) and checks the columns, the bearer token and the Idempotency-Key;
 * plus the address rules, formula escaping and `no_address` drops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { destinationContract } from './contract/destination.contract.js';
import { manifest, directMailCsv, postalAddress, ADDRESS_COLUMNS, type DirectMailConfigT } from '../src/activate/direct-mail/index.js';
import type { DeliveryItem, DestinationContext, MessageItem } from '../src/protocol/destination.js';
import { startPlatform, type RecordedRequest } from './helpers/platform-server.js';
import { testContext } from './helpers/destination-context.js';

const TOKEN = 'mailhouse-upload-token-0123456789';
const config = (base: string): DirectMailConfigT => ({ uploadUrl: `${base}/v1/jobs/upload`, uploadToken: TOKEN });

function letter(key: string, traits: Record<string, unknown>, content: Record<string, string> = { headline: 'Spring sale', offer: '-20% with code SPRING' }): MessageItem {
  return {
    kind: 'message', key, profileId: `prf_${key}`,
    identifiers: manifest.identify({ user_id: [`u-${key}`] }, config('')),
    content, traits,
    links: { unsubscribe: 'https://cdp.example/u', open: 'https://cdp.example/o', click: (u) => u, status: 'https://cdp.example/s' },
  };
}

const ANA = { firstName: 'Ana', lastName: 'Lima', address: { street: '12 rue de la Paix', street2: 'Bât. B', postalCode: '75002', city: 'Paris', country: 'FR' } };
const BOB = { name: 'Bob "Bobby" Smith', address: { street: '1 Main St, Apt 4', postal_code: '94105', city: 'San Francisco', state: 'CA', country: 'US' } };

const items = (): DeliveryItem[] => [
  letter('dst_1:m:1', ANA),
  letter('dst_1:m:2', BOB, { headline: 'Hello Bob', offer: 'Free shipping' }),
];

function rowsOf(req: RecordedRequest): string[][] {
  return parse(req.body, { relax_column_count: false }) as string[][];
}

function validate(req: RecordedRequest): string | null {
  if (req.method !== 'POST' || req.url !== '/v1/jobs/upload') return 'POST to the configured upload URL';
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return 'Authorization: Bearer <uploadToken>';
  if (!/^text\/csv; charset=utf-8/.test(String(req.headers['content-type']))) return 'content-type text/csv; charset=utf-8';
  if (!/\r\n$/.test(req.body) || /[^\r]\n/.test(req.body.replace(/"[^"]*"/g, ''))) return 'records end with CRLF (RFC 4180)';
  let rows: string[][];
  try { rows = rowsOf(req); } catch (err) { return `not RFC 4180 CSV: ${String(err)}`; }
  const [header, ...data] = rows;
  if (!header || data.length === 0) return 'a header and at least one row';
  if (header.slice(0, ADDRESS_COLUMNS.length).join(',') !== ADDRESS_COLUMNS.join(',')) return `columns start with ${ADDRESS_COLUMNS.join(',')}`;
  if (!header.slice(ADDRESS_COLUMNS.length).every((h) => /^content_\w+$/.test(h))) return 'other columns are content_<field>';
  for (const r of data) {
    if (r[0] === '' || r[2] === '' || r[5] === '' || r[7] === '') return 'every row has a key, a street, a city and a country';
  }
  const key = createHash('sha256').update(data.map((r) => r[0]).join('\n')).digest('hex');
  if (req.headers['idempotency-key'] !== key) return 'Idempotency-Key is the SHA-256 hex of the message keys';
  return null;
}

destinationContract<DirectMailConfigT>({
  manifest,
  config,
  items,
  validate,
  respond: () => ({ status: 201, body: { jobId: 'job_1' } }),
  idempotency: (req) => [...rowsOf(req).slice(1).map((r) => r[0]!), String(req.headers['idempotency-key'])],
});

function ctx(c: DirectMailConfigT): DestinationContext<DirectMailConfigT> & { logs: string[] } {
  return testContext(c);
}

test('direct-mail: the file has one row per letter with the Segment address traits', () => {
  const f = directMailCsv(items() as MessageItem[]);
  const rows = parse(f.csv) as string[][];
  assert.deepEqual(rows[0], [...ADDRESS_COLUMNS, 'content_headline', 'content_offer']);
  assert.deepEqual(rows[1], ['dst_1:m:1', 'Ana Lima', '12 rue de la Paix', 'Bât. B', '75002', 'Paris', '', 'FR', 'Spring sale', '-20% with code SPRING'], 'rendered content is kept as rendered');
  assert.deepEqual(rows[2], ['dst_1:m:2', 'Bob "Bobby" Smith', '1 Main St, Apt 4', '', '94105', 'San Francisco', 'CA', 'US', 'Hello Bob', 'Free shipping']);
  assert.ok(f.csv.includes('"Bob ""Bobby"" Smith"'), 'quotes doubled inside a quoted field');
  assert.deepEqual(f.keys, ['dst_1:m:1', 'dst_1:m:2']);
  assert.deepEqual(f.skipped, []);
});

test('direct-mail: formulas typed into names and addresses are neutralised, lines collapsed', () => {
  const f = directMailCsv([letter('k', { name: '=HYPERLINK("http://evil")', address: { street: '1 High St\nFlat 2', city: '@SUM(A1)', country: 'GB' } }, { body: '-10% today' })]);
  const rows = parse(f.csv) as string[][];
  assert.equal(rows[1]![1], `'=HYPERLINK("http://evil")`);
  assert.equal(rows[1]![2], '1 High St Flat 2');
  assert.equal(rows[1]![5], "'@SUM(A1)");
  assert.equal(rows[1]![8], '-10% today');
});

test('direct-mail: an address needs a street, a city and a country', () => {
  assert.equal(postalAddress({}), null);
  assert.equal(postalAddress({ address: 'Paris' }), null);
  assert.equal(postalAddress({ address: { street: '1 rue X', city: 'Paris' } }), null, 'no country');
  assert.equal(postalAddress({ address: { city: 'Paris', country: 'FR' } }), null, 'no street');
  assert.deepEqual(postalAddress({ first_name: 'Jo', address: { street: 'Main Road 1', city: 'Hong Kong', country: 'HK' } }),
    { name: 'Jo', line1: 'Main Road 1', line2: '', postalCode: '', city: 'Hong Kong', region: '', country: 'HK' }, 'no postal code is fine');
});

test('direct-mail: items without an address are dropped, in order; the rest is one upload', async () => {
  const p = await startPlatform((req) => validate(req) === null ? { status: 201, body: {} } : { status: 422, body: { error: validate(req) } });
  try {
    const c = ctx(config(p.url));
    const out = await manifest.send([letter('k1', { name: 'No Address' }), letter('k2', ANA), letter('k3', { address: { city: 'Paris' } }), letter('k4', BOB)], c);
    assert.deepEqual(out, [{ kind: 'drop', reason: 'no_address' }, { kind: 'ok' }, { kind: 'drop', reason: 'no_address' }, { kind: 'ok' }]);
    assert.equal(p.requests.length, 1);
    assert.deepEqual(rowsOf(p.requests[0]!).slice(1).map((r) => r[0]), ['k2', 'k4']);
    assert.ok(!c.logs.join('\n').includes('Paris') && !c.logs.join('\n').includes('Lima'), 'no address or name in logs');
    const none = await manifest.send([letter('k5', {})], c);
    assert.deepEqual(none, [{ kind: 'drop', reason: 'no_address' }]);
    assert.equal(p.requests.length, 1, 'nothing uploaded when no letter can be posted');
  } finally { await p.close(); }
});

test('direct-mail: plain http upload URLs are refused except loopback', async () => {
  const { Value } = await import('@sinclair/typebox/value');
  assert.equal(Value.Check(manifest.configSchema, { uploadUrl: 'http://mailhouse.example/upload', uploadToken: TOKEN }), false);
  assert.equal(Value.Check(manifest.configSchema, { uploadUrl: 'https://mailhouse.example/upload', uploadToken: TOKEN }), true);
});
