/**
 * Collection copies untouched event members from the request's text into the log instead of
 * re-serialising them (steps/event-json.ts). Whatever the request looks like — spacing, escapes,
 * lone surrogates, repeated keys, an envelope context, consent strings, odd IPs — the log must
 * hold the same JSON values as the plain serialising path, well-formed and on one line. The
 * hand-written shortcuts beside it (shape check, ISO times) must agree with what they replace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { IncomingEventSchema } from '../src/protocol/event.js';
import { prepareBody, prepareEvents, type Prepared, type PrepareSettings } from '../src/collect/prepare.js';
import { openIpLookup } from '../src/collect/steps/ip.js';
import { isIncomingEvent } from '../src/collect/steps/event-shape.js';
import { scanBatch } from '../src/collect/steps/json-spans.js';
import { isoTime } from '../src/platform/iso-time.js';

const settings: PrepareSettings = { truncateIp: true, maxEventBytes: 32 * 1024, maxBatchBytes: 500 * 1024 };
const source = { id: 'src_1', workspaceId: 'ws_1' };

const text = fc.string({ unit: fc.constantFrom('a', 'Z', '1', ' ', '"', '\\', '/', 'é', '€', '😀', '\ud800', '\udc00', '\n', '\t', '\u0000', 'ip'), maxLength: 8 });
const scalar = fc.oneof(text, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const member = fc.oneof(scalar, fc.dictionary(text, scalar, { maxKeys: 3 }), fc.array(scalar, { maxLength: 3 }));
const object = fc.dictionary(text, member, { maxKeys: 5 });
const ip = fc.constantFrom('81.2.69.160', '2a01:cb00:1234:5678::1', 'not-an-ip', '', ' 81.2.69.160 ', '10.1.2.3', 7);
const context = fc.tuple(object, fc.record({
  ip, consent: fc.oneof(fc.record({ tcString: fc.constantFrom('CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA', '') }), fc.constant('yes')),
  gdpr_consent: fc.constantFrom('CO-tcf', ''), userAgent: text,
}, { requiredKeys: [] })).map(([extra, known]) => ({ ...extra, ...known }));
const event = fc.record({
  type: fc.constantFrom('track', 'identify', 'page', 'Track', 'bogus'),
  userId: fc.oneof(text, fc.integer(), fc.constant(null)),
  anonymousId: fc.constantFrom('anon-1', ' anon-2 ', 'null'),
  event: fc.oneof(text, fc.constant('Order Completed')),
  name: fc.oneof(text, fc.constant(null)),
  properties: fc.oneof(object, fc.record({ sku: fc.constantFrom('sku-1', 'sku-2'), price: fc.integer() }), fc.constant(null), fc.constant([])),
  traits: fc.oneof(object, fc.constant(null)),
  // Plain SDK contexts too, so that copies with an IP to truncate are frequent.
  context: fc.oneof(context, fc.record({ ip, locale: fc.constantFrom('fr-FR', 'en-US'), page: fc.record({ path: fc.constantFrom('/', '/p/1') }) }), fc.constant(null)),
  timestamp: fc.oneof(fc.constant('2026-11-30T10:00:00.000Z'), fc.constant('2026-11-30T10:00:00+02:00'), fc.integer({ min: 1, max: 2e12 }), fc.constant('soon')),
  sentAt: fc.constant('2026-11-30T10:00:05.000Z'),
}, { requiredKeys: ['type'] });
/** How the body is written: compact, indented (line breaks rule copying out), or with escaped keys and spaces. */
const layout = fc.constantFrom('compact', 'indented', 'escaped-keys', 'spaced');

function write(body: unknown, how: string): string {
  const compact = JSON.stringify(body);
  if (how === 'indented') return JSON.stringify(body, null, 2);
  if (how === 'escaped-keys') return compact.replaceAll('"properties":', '"\\u0070roperties":').replaceAll('"ip":', '"\\u0069p":');
  if (how === 'spaced') return compact.replaceAll('":', '" : ').replaceAll(',"', ' , "');
  return compact;
}

function logged(p: Prepared): unknown {
  return { records: p.records.map((r) => ({ messageId: r.messageId, value: JSON.parse(r.payload) as unknown })), rejected: p.rejected };
}

test('the log holds the same values whether members are copied from the request or serialised', async () => {
  const lookup = await openIpLookup();
  await fc.assert(fc.asyncProperty(
    fc.array(event, { minLength: 1, maxLength: 6 }), fc.option(context, { nil: undefined }), layout,
    async (events, envelopeContext, how) => {
      const batch = events.map((e, i) => ({ ...e, messageId: `m${i}` }));
      const body = envelopeContext === undefined ? { batch } : { batch, context: envelopeContext, sentAt: '2026-11-30T10:00:06.000Z' };
      const bodyText = write(body, how);
      const receivedAt = Date.parse('2026-11-30T10:00:07.000Z');
      const copied = await prepareBody({ body: Buffer.from(bodyText), contentEncoding: undefined, route: 'batch', source, requestIp: '90.1.2.3', receivedAt }, settings, lookup, () => source);
      assert.equal(copied.kind, 'prepared');
      const parsed = JSON.parse(bodyText) as { batch: unknown[]; sentAt?: unknown; context?: unknown };
      const serialised = prepareEvents({
        source, events: parsed.batch, type: null, requestIp: '90.1.2.3', receivedAt,
        envelope: { sentAt: parsed.sentAt, context: parsed.context },
      }, settings, lookup);
      assert.deepEqual(logged(copied as Prepared), logged(serialised));
      for (const r of (copied as Prepared).records) {
        assert.doesNotMatch(r.payload, /[\n\r\t]/, 'one line, no tab: the log framing holds');
        assert.doesNotMatch(r.payload, /\\u[dD][89a-fA-F]/, 'no surrogate escapes: DuckDB reads it');
      }
    },
  ), { numRuns: 400 });
});

test('an untouched member is copied as sent (the fast path is really taken), and the IP is truncated in the copy', async () => {
  const lookup = await openIpLookup();
  const bodyText = '{"batch":[{"type":"track","messageId":"m1","anonymousId":"a1","event":"Viewed","properties":{"z":1, "a":[2,3]},"context":{"ip":"81.2.69.160","locale":"fr-FR"}}]}';
  const out = await prepareBody({ body: Buffer.from(bodyText), contentEncoding: undefined, route: 'batch', source, requestIp: undefined, receivedAt: Date.now() }, settings, lookup, () => source);
  assert.equal(out.kind, 'prepared');
  const payload = (out as Prepared).records[0]?.payload ?? '';
  assert.ok(payload.includes('"properties":{"z":1, "a":[2,3]}'), payload);
  assert.ok(payload.includes('"context":{"ip":"81.2.69.0","locale":"fr-FR"}'), payload);
  assert.ok(!payload.includes('81.2.69.160'), 'the full address never reaches the log');

  // A repeated key: readers that take the first one (DuckDB) must not find the full address either.
  const repeated = bodyText.replace('"ip":"81.2.69.160"', '"ip":"81.2.69.161","ip":"81.2.69.160"');
  const again = await prepareBody({ body: Buffer.from(repeated), contentEncoding: undefined, route: 'batch', source, requestIp: undefined, receivedAt: Date.now() }, settings, lookup, () => source);
  const text = (again as Prepared).records[0]?.payload ?? '';
  assert.ok(!text.includes('81.2.69.16'), text);
});

test('the scanner finds every event of a batch and its members, however the JSON is spaced', () => {
  fc.assert(fc.property(fc.array(event, { maxLength: 5 }), layout, (events, how) => {
    const bodyText = write({ sentAt: 1, batch: events, tail: { batch: 'not this one' } }, how);
    const spans = scanBatch(bodyText);
    assert.ok(spans !== null);
    assert.equal(spans.events.length, events.length);
    spans.events.forEach((s, i) => {
      assert.ok(s !== null);
      const e = events[i] as Record<string, unknown>;
      if (s.escapedKey) return;
      for (const key of ['properties', 'traits', 'context'] as const) {
        const span: readonly [number, number] | null = s[key];
        // Compared as JSON values (the generator may build objects without a prototype).
        if (e[key] === undefined) assert.equal(span, null);
        else assert.deepEqual(JSON.parse(bodyText.slice(span?.[0], span?.[1])), JSON.parse(JSON.stringify(e[key])));
      }
    });
  }), { numRuns: 300 });
});

test('the hand-written event shape check agrees with the compiled schema', () => {
  const compiled = TypeCompiler.Compile(IncomingEventSchema);
  const value = fc.oneof(
    fc.string({ maxLength: 3 }), fc.string({ minLength: 60, maxLength: 70 }), fc.string({ minLength: 510, maxLength: 515 }), fc.constant(''),
    fc.integer(), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 1.5), fc.constant(null), fc.boolean(),
    fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
    fc.constant(new Date(0)), fc.constant(new Uint8Array(2)),
  );
  const keys = ['type', 'messageId', 'anonymousId', 'userId', 'previousId', 'groupId', 'event', 'name', 'category', 'properties',
    'traits', 'context', 'integrations', 'timestamp', 'originalTimestamp', 'sentAt', 'writeKey', 'other'];
  const candidate = fc.oneof(
    fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 6 }),
    value,
  );
  fc.assert(fc.property(candidate, (v) => {
    assert.equal(isIncomingEvent(v), compiled.Check(v));
  }), { numRuns: 3000 });
});

test('isoTime writes what toISOString writes', () => {
  fc.assert(fc.property(fc.oneof(fc.integer({ min: -1e13, max: 2.6e14 }), fc.double({ min: -1e13, max: 3e14, noNaN: true })), (ms) => {
    assert.equal(isoTime(ms), new Date(ms).toISOString());
  }), { numRuns: 5000 });
});
