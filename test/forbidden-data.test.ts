/**
 * Forbidden data at collection (steps/forbidden-data.ts): payment card numbers and configured
 * patterns are masked before anything is stored, and counted. What is checked: the card rules
 * (valid test numbers masked, near misses kept), configured patterns, the configuration's checks,
 * that the probe of the request text never rules out a value that would be masked, that a masked
 * value never reaches the log even where the member would have been copied from the request, that
 * requests without anything to mask give the same bytes as before, and end to end over HTTP: the
 * log files, every DuckDB table and /metrics, with batches prepared inline and on a worker thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { forbiddenRules, luhn, maskEvent, maskValue, mayHoldForbidden, probeSource, type MaskCounts } from '../src/collect/steps/forbidden-data.js';
import { scanEvent } from '../src/collect/steps/json-spans.js';
import { prepareBody, prepareEvents, type Prepared, type PrepareSettings } from '../src/collect/prepare.js';
import { openIpLookup } from '../src/collect/steps/ip.js';
import { parseConfig } from '../src/platform/config.js';
import { basic, post, removeDir, startServer } from './helpers/server.js';
import { storeContents } from './helpers/store-scan.js';

const IBAN = { name: 'iban', pattern: '\\bFR\\d{2}(?: ?[0-9A-Z]{4}){5} ?[0-9A-Z]{3}\\b' };
/** French social security number (NIR): sex, year, month, department (2A/2B for Corsica), commune, order, key. */
const NIR = { name: 'nir', pattern: '\\b[12] ?\\d{2} ?(?:0[1-9]|1[0-2]) ?(?:\\d{2}|2[AB]) ?\\d{3} ?\\d{3} ?\\d{2}\\b' };
const cardsOnly = forbiddenRules({});
const withPatterns = forbiddenRules({ forbiddenPatterns: [IBAN, NIR] });

/** Well-known test numbers of the networks (they pass the Luhn check and nothing else). */
const CARDS = ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117', '3530111333300000', '4012888888881881', '5105105105105100', '30569309025904', '4242424242424242428', '4222222222222'];

function mask(value: unknown, rules = cardsOnly): { value: unknown; counts: MaskCounts } {
  const counts: MaskCounts = {};
  return { value: maskValue(value, rules, counts), counts };
}

test('the Luhn check', () => {
  for (const c of CARDS) assert.ok(luhn(c), c);
  assert.ok(!luhn('4111111111111112'));
  assert.ok(!luhn('5555555555554445'));
  assert.ok(luhn('0'));
  // Every single-digit change breaks it, and so does swapping two different neighbours (the check's purpose).
  for (let i = 0; i < 16; i++) {
    const d = Number(CARDS[0]?.[i]);
    assert.ok(!luhn(`${CARDS[0]?.slice(0, i)}${(d + 1) % 10}${CARDS[0]?.slice(i + 1)}`));
  }
  assert.ok(!luhn('5555555555555444'), 'two neighbours swapped');
});

test('Visa, Mastercard and Amex test numbers are masked, spaced, dashed or plain, inside longer text too', () => {
  const { value, counts } = mask({
    a: '4111 1111 1111 1111',
    b: '5555-5555-5555-4444',
    c: '378282246310005',
    d: 'Amex 3782 822463 10005, exp 12/29',
    e: 'paid with 4111-1111-1111-1111 yesterday; refund to 5105 1051 0510 5100.',
    f: 'https://shop.example.com/checkout?cc=6011111111111117&step=2',
    g: '19 digits: 4242424242424242428',
    h: '4111 1111 1111 1111 123',
  });
  assert.deepEqual(value, {
    a: '[masked:card]', b: '[masked:card]', c: '[masked:card]', d: 'Amex [masked:card], exp 12/29',
    e: 'paid with [masked:card] yesterday; refund to [masked:card].',
    f: 'https://shop.example.com/checkout?cc=[masked:card]&step=2', g: '19 digits: [masked:card]',
    // The longest run of groups that is a card number: here the trailing CVV is not part of it.
    h: '[masked:card] 123',
  });
  assert.deepEqual(counts, { card: 9 });
});

test('numbers that are not card numbers are left alone', () => {
  const kept = {
    luhnFails: '4111111111111112', luhnFailsDashed: '5555-5555-5555-4445', orderId: 'ORD-2026-000123456789',
    phoneFr: '+33 6 12 34 56 78', phoneIntl: '0033 6 12 34 56 78', phoneCn: '+86 138 0013 8000', phoneE164: '+8613800138000',
    epochMs: '1764496800000', epochMsNumber: 1764496800000, epochMicros: 1764496800000123, epochNanos: '1764496800000123456',
    shortNumber: 411111111111, tooLong: '41111111111111111111111', hexDigest: 'a4111111111111111f', glued: 'ref4111111111111111',
    iban: 'FR76 3000 6000 0112 3456 7890 189', date: '2026-12-03 2026-12-04', uuid: '4f1a2b3c-1234-4567-8910-123456789012',
    price: 4111111111111111.5, negativeSmall: -12, bool: true, nothing: null,
    latitude: '48.856614023456789', computed: -14.793913675373307, decimal: '4111111111111111.50',
  };
  const { value, counts } = mask(kept);
  assert.equal(value, kept, 'the same object: nothing was copied');
  assert.deepEqual(counts, {});
});

test('card numbers sent as JSON numbers become the masked string; nested arrays and objects are walked', () => {
  const input = { n: 4111111111111111, neg: -5555555555554444, list: [1, [2, { deep: [378282246310005, 'x 4012888888881881 y'] }]], ok: [1, 2] };
  const { value, counts } = mask(input);
  assert.deepEqual(value, { n: '[masked:card]', neg: '[masked:card]', list: [1, [2, { deep: ['[masked:card]', 'x [masked:card] y'] }]], ok: [1, 2] });
  assert.equal((value as { ok: unknown }).ok, input.ok, 'untouched branches are shared, not copied');
  assert.deepEqual(counts, { card: 4 });
  // Beyond 2^53 a number has lost its last digits in parsing: it cannot be checked, so it is masked.
  assert.deepEqual(mask({ big: 4111111111111111111 }).value, { big: '[masked:card]' });
  assert.deepEqual(mask({ big: 1234567890123456789 }).value, { big: 1234567890123456789 }, 'unless it starts with 1');
});

test('object keys are not scanned (values only), and a parsed __proto__ key stays an own property', () => {
  const parsed = JSON.parse('{"4111111111111111":"x","__proto__":"4111 1111 1111 1111"}') as Record<string, unknown>;
  const { value } = mask(parsed);
  assert.equal(JSON.stringify(value), '{"4111111111111111":"x","__proto__":"[masked:card]"}');
});

test('configured patterns: every match becomes [masked:<name>], counted under its name, before card numbers', () => {
  const { value, counts } = mask({
    iban: 'IBAN FR76 3000 6000 0112 3456 7890 189, thanks',
    ibanCompact: 'FR7630006000011234567890189',
    nir: 'NIR 1 85 05 78 006 084 36 / 285057800608436',
    corsica: '185052A00608436',
    card: '4111111111111111',
    notIban: 'DE89 3704 0044 0532 0130 00',
  }, withPatterns);
  assert.deepEqual(value, {
    iban: 'IBAN [masked:iban], thanks', ibanCompact: '[masked:iban]', nir: 'NIR [masked:nir] / [masked:nir]', corsica: '[masked:nir]',
    card: '[masked:card]', notIban: 'DE89 3704 0044 0532 0130 00',
  });
  assert.deepEqual(counts, { iban: 2, nir: 3, card: 1 });
  // Numbers are not strings: patterns apply to string values only.
  assert.deepEqual(mask({ n: 285057800608436 }, forbiddenRules({ maskCardNumbers: false, forbiddenPatterns: [NIR] })).value, { n: 285057800608436 });
  // With card numbers off, only the patterns apply.
  const off = forbiddenRules({ maskCardNumbers: false, forbiddenPatterns: [] });
  assert.ok(off.off);
  assert.deepEqual(mask({ c: '4111111111111111' }, off).value, { c: '4111111111111111' });
});

test('anchors and lookarounds: the probe drops them (it only widens), or gives up', () => {
  assert.equal(probeSource('^\\d{3}$'), '\\d{3}');
  assert.equal(probeSource('(?<![A-Z])SECRET-\\d+(?=;)'), 'SECRET-\\d+');
  assert.equal(probeSource('[$^]x(?:^|\\s)'), '[$^]x(?:|\\s)');
  assert.equal(probeSource('(?<tag>k)-\\k<tag>'), null, 'backreferences');
  assert.equal(probeSource('a(?=b)*'), null, 'a quantified assertion');
  const rules = forbiddenRules({ maskCardNumbers: false, forbiddenPatterns: [{ name: 'code', pattern: '^SECRET-\\d+$' }] });
  assert.deepEqual(mask({ a: 'SECRET-42', b: 'a SECRET-42' }, rules).value, { a: '[masked:code]', b: 'a SECRET-42' });
  assert.ok(mayHoldForbidden('{"a":"SECRET-42"}', rules));
  assert.ok(!mayHoldForbidden('{"a":"SECRET"}', rules));
});

test('configuration: defaults, and invalid patterns fail at parse with a clear message', () => {
  const c = parseConfig({});
  assert.equal(c.collect.maskCardNumbers, true);
  assert.deepEqual(c.collect.forbiddenPatterns, []);
  assert.deepEqual(parseConfig({ collect: { forbiddenPatterns: [IBAN, { ...NIR, flags: 'i' }] } }).collect.forbiddenPatterns, [IBAN, { ...NIR, flags: 'i' }]);
  const fails = (patterns: unknown[], message: RegExp) => assert.throws(() => parseConfig({ collect: { forbiddenPatterns: patterns } }), message);
  fails([{ name: 'x', pattern: '(unclosed' }], /Invalid configuration: \/collect\/forbiddenPatterns\/0\/pattern is not a valid regular expression: .*Unterminated group/);
  fails([IBAN, { name: 'y', pattern: '[z-a]' }], /\/collect\/forbiddenPatterns\/1\/pattern is not a valid regular expression/);
  fails([{ name: 'x', pattern: 'a*' }], /\/collect\/forbiddenPatterns\/0\/pattern matches the empty string/);
  fails([{ name: 'card', pattern: 'x' }], /"card" is reserved for card numbers/);
  fails([{ name: 'x', pattern: 'a' }, { name: 'x', pattern: 'b' }], /\/collect\/forbiddenPatterns\/1\/name "x" is used twice/);
  fails([{ name: 'x', pattern: 'a', flags: 'g' }], /\/collect\/forbiddenPatterns\/0\/flags/);
  fails([{ name: 'Bad Name', pattern: 'a' }], /\/collect\/forbiddenPatterns\/0\/name/);
  fails([{ name: 'x', pattern: '' }], /\/collect\/forbiddenPatterns\/0\/pattern/);
});

// ——— The probe never rules out what masking would find ———

const digitish = fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '9', '4', ' ', '-', '-', 'a', 'e', 'F', 'R', '+', '.', '\n', '"', '\\', 'é'), maxLength: 40 });
const cardText = fc.tuple(fc.constantFrom(...CARDS), fc.constantFrom('', ' ', '-')).map(([c, sep]) => (sep === '' ? c : c.replace(/(\d{4})(?=\d)/g, `$1${sep}`)));
const probeString = fc.oneof(
  digitish, fc.tuple(digitish, cardText, digitish).map(([a, c, b]) => a + c + b),
  // Written as escapes, these end in hex digits that run into the card's in the text: \u1234, \uab12.
  fc.tuple(fc.constantFrom('é', '€', 'ሴ', 'ꬒ'), cardText).map(([a, c]) => a + c),
  fc.constant('FR76 3000 6000 0112 3456 7890 189'), fc.constant('1 85 05 78 006 084 36'));
const probeNumber = fc.oneof(
  fc.integer(), fc.constantFrom(...CARDS.map(Number)),
  fc.bigInt({ min: 10n ** 12n, max: 10n ** 19n }).map((b) => Number(b)),
  fc.double({ min: 1e11, max: 1e20, noNaN: true }),
);
const probeValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, probeString, probeNumber, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 3 }), tie('value'), { maxKeys: 3 })),
})).value;

/** JSON as odd clients write it: digits, spaces and dashes as `\u` escapes, numbers with exponents or fractions. */
function writeJson(v: unknown, how: { escapes: false | 'digits' | 'letters' | 'all'; numbers: 'plain' | 'exponent' | 'fraction' }): string {
  if (typeof v === 'string') {
    // Chosen characters as \u escapes: just digits, spaces and dashes; letters and signs; or all of them.
    const escape = how.escapes === 'all' ? /^/ : how.escapes === 'letters' ? /[a-zA-Zé€ሴꬒ.+]/ : how.escapes === 'digits' ? /[0-9 -]/ : /$^/;
    let out = '"';
    for (let i = 0; i < v.length; i++) {
      const c = v[i] ?? '';
      out += escape.test(c) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(c).slice(1, -1);
    }
    return `${out}"`;
  }
  if (typeof v === 'number') {
    if (how.numbers === 'exponent') return v.toExponential();
    if (how.numbers === 'fraction' && Number.isInteger(v) && Math.abs(v) < 1e21) return `${JSON.stringify(v)}.0`;
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map((x) => writeJson(x, how)).join(',')}]`;
  if (typeof v === 'object' && v !== null) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${writeJson(x, how)}`).join(',')}}`;
  return JSON.stringify(v);
}

test('the probe of the request text says yes whenever masking the parsed value changes something', () => {
  fc.assert(fc.property(
    probeValue, fc.constantFrom(false, 'digits', 'letters', 'all') as fc.Arbitrary<false | 'digits' | 'letters' | 'all'>,
    fc.constantFrom('plain', 'exponent', 'fraction') as fc.Arbitrary<'plain' | 'exponent' | 'fraction'>, fc.boolean(),
    (value, escapes, numbers, patterns) => {
      const text = `{"properties":${writeJson(value, { escapes, numbers })}}`;
      const parsed = (JSON.parse(text) as { properties: unknown }).properties;
      const rules = patterns ? withPatterns : cardsOnly;
      const counts: MaskCounts = {};
      if (maskValue(parsed, rules, counts) === parsed) return;
      assert.ok(mayHoldForbidden(text, rules), `probe said no: ${text}`);
      assert.ok(mayHoldForbidden(text, rules, scanEvent(text)?.exponents), `probe with the scan's exponents said no: ${text}`);
    },
  ), { numRuns: 3000 });
});

// ——— Through prepare: never in the log, the copy path unchanged otherwise ———

const settings: PrepareSettings = { truncateIp: true, maxEventBytes: 32 * 1024, maxBatchBytes: 500 * 1024, maskCardNumbers: true, forbiddenPatterns: [IBAN] };
const before: PrepareSettings = { ...settings, maskCardNumbers: false, forbiddenPatterns: [] };
const source = { id: 'src_1', workspaceId: 'ws_1' };
const receivedAt = Date.parse('2026-11-30T10:00:07.000Z');

/** Values that hold nothing to mask: at most 8 digits in a row, small numbers. */
const text = fc.string({ unit: fc.constantFrom('a', 'Z', '1', '7', ' ', '-', '"', '\\', '/', 'é', '€', '😀', '\ud800', '\n', '\t', 'ip'), maxLength: 8 });
const scalar = fc.oneof(text, fc.integer(), fc.double({ min: -1e11, max: 1e11, noNaN: true }), fc.boolean(), fc.constant(null));
const member = fc.oneof(scalar, fc.dictionary(text, scalar, { maxKeys: 3 }), fc.array(scalar, { maxLength: 3 }));
const object = fc.dictionary(text, member, { maxKeys: 5 });
const cleanEvent = fc.record({
  type: fc.constantFrom('track', 'identify', 'page'),
  event: fc.constant('Order Completed'),
  anonymousId: fc.constantFrom('anon-1', 'anon-2'),
  properties: object,
  traits: object,
  context: fc.oneof(object, fc.record({ ip: fc.constantFrom('81.2.69.160', '2a01:cb00:1234:5678::1'), locale: fc.constantFrom('fr-FR', 'en-US'), page: fc.record({ url: fc.constantFrom('https://shop.example.com/p/1?x=2', 'https://a.example/') }) })),
  timestamp: fc.constant('2026-11-30T10:00:00.000Z'),
});
const layout = fc.constantFrom('compact', 'indented', 'escaped-keys', 'spaced');

function write(body: unknown, how: string): string {
  const compact = JSON.stringify(body);
  if (how === 'indented') return JSON.stringify(body, null, 2);
  if (how === 'escaped-keys') return compact.replaceAll('"properties":', '"\\u0070roperties":');
  if (how === 'spaced') return compact.replaceAll('":', '" : ').replaceAll(',"', ' , "');
  return compact;
}

async function prepared(bodyText: string, s: PrepareSettings): Promise<Prepared> {
  const lookup = await openIpLookup();
  const out = await prepareBody({ body: Buffer.from(bodyText), contentEncoding: undefined, route: 'batch', source, requestIp: '90.1.2.3', receivedAt }, s, lookup, () => source);
  assert.equal(out.kind, 'prepared');
  return out as Prepared;
}

/** The forms a card number may take in the stored text: digits alone, spaced, dashed. */
function forms(card: string): string[] {
  return [card, card.replace(/(\d{4})(?=\d)/g, '$1 '), card.replace(/(\d{4})(?=\d)/g, '$1-')];
}

test('a card number put anywhere never reaches the log: the stored event is the masked one, copied or not', async () => {
  const lookup = await openIpLookup();
  const insertion = fc.record({
    card: fc.constantFrom(...CARDS.slice(0, 8)),
    asNumber: fc.boolean(),
    format: fc.constantFrom('plain', 'spaced', 'dashed'),
    where: fc.constantFrom('properties', 'traits', 'context'),
    nested: fc.boolean(),
    left: text,
    right: text,
    /** How the card's text is written in the body. */
    spelling: fc.constantFrom('as is', 'escaped digits', 'exponent'),
  });
  await fc.assert(fc.asyncProperty(
    fc.array(fc.tuple(cleanEvent, fc.option(insertion, { nil: null })), { minLength: 1, maxLength: 5 }), layout,
    async (items, how) => {
      const cards: string[] = [];
      const batch = items.map(([e, ins], i) => {
        const event: Record<string, unknown> = { ...e, messageId: `m${i}` };
        if (ins === null) return event;
        cards.push(ins.card);
        const sep = ins.format === 'spaced' ? ' ' : ins.format === 'dashed' ? '-' : '';
        const written = sep === '' ? ins.card : ins.card.replace(/(\d{4})(?=\d)/g, `$1${sep}`);
        const value: unknown = ins.asNumber ? Number(ins.card) : `${ins.left}|${written}|${ins.right}`;
        const target = { ...(event[ins.where] as Record<string, unknown>) };
        target['card_here'] = ins.nested ? { n: [1, value] } : value;
        event[ins.where] = target;
        return event;
      });
      let bodyText = write({ batch }, how);
      for (const [, ins] of items) {
        if (ins === null) continue;
        if (ins.spelling === 'escaped digits' && !ins.asNumber) bodyText = bodyText.replace(/\|[0-9 -]+\|/, (m) => m.replace(/[0-9]/g, (d) => `\\u003${d}`));
        if (ins.spelling === 'exponent' && ins.asNumber) bodyText = bodyText.replace(`:${ins.card}`, `:${Number(ins.card).toExponential()}`).replace(`,${ins.card}]`, `,${Number(ins.card).toExponential()}]`);
      }
      const out = await prepared(bodyText, settings);
      const parsed = JSON.parse(bodyText) as { batch: unknown[] };
      const serialised = prepareEvents({ source, events: parsed.batch, type: null, requestIp: '90.1.2.3', receivedAt, envelope: {} }, settings, lookup);
      const values = (p: Prepared) => p.records.map((r) => JSON.parse(r.payload) as Record<string, Record<string, unknown>>);
      assert.deepEqual(values(out), values(serialised), 'copied or serialised, the same values');
      assert.equal(out.records.length, items.length);
      assert.deepEqual(out.masked ?? {}, cards.length === 0 ? {} : { card: cards.length });
      out.records.forEach((r, i) => {
        const ins = items[i]?.[1] ?? null;
        for (const card of CARDS) for (const f of forms(card)) assert.ok(!r.payload.includes(f), `${f} in ${r.payload}`);
        if (ins === null) return;
        const stored = (JSON.parse(r.payload) as Record<string, Record<string, unknown>>)[ins.where]?.card_here;
        const expected = ins.asNumber ? '[masked:card]' : `${ins.left}|[masked:card]|${ins.right}`.replace(/[\ud800-\udfff]/g, (c, at: number, s: string) => {
          // Lone surrogates are stored as U+FFFD (well-formed-json.ts); pairs stay.
          const pair = /[\ud800-\udbff]/.test(c) ? /[\udc00-\udfff]/.test(s[at + 1] ?? '') : /[\ud800-\udbff]/.test(s[at - 1] ?? '');
          return pair ? c : '\ufffd';
        });
        assert.deepEqual(stored, ins.nested ? { n: [1, expected] } : expected);
      });
    },
  ), { numRuns: 300 });
});

test('events with nothing to mask give the same bytes as without masking: the copy path is still taken', async () => {
  await fc.assert(fc.asyncProperty(fc.array(cleanEvent, { minLength: 1, maxLength: 5 }), layout, async (events, how) => {
    const bodyText = write({ batch: events.map((e, i) => ({ ...e, messageId: `m${i}` })) }, how);
    const masking = await prepared(bodyText, settings);
    const old = await prepared(bodyText, before);
    assert.deepEqual(masking.records, old.records);
    assert.equal(masking.masked, undefined);
  }), { numRuns: 300 });
  const spaced = '{"batch":[{"type":"track","messageId":"m1","anonymousId":"a1","event":"Viewed","properties":{"z":1, "a":[2,3], "phone":"+33 6 12 34 56 78"}}]}';
  const payload = (await prepared(spaced, settings)).records[0]?.payload ?? '';
  assert.ok(payload.includes('"properties":{"z":1, "a":[2,3], "phone":"+33 6 12 34 56 78"}'), payload);
});

test('a masked member is serialised, never copied; a repeated key cannot smuggle a card number into the copy', async () => {
  const body = '{"batch":[{"type":"track","messageId":"m1","anonymousId":"a1","event":"Paid","properties":{"a" : 1, "cc":"4111 1111 1111 1111"},"traits":{"kept" : true}},'
    + '{"type":"track","messageId":"m2","anonymousId":"a1","event":"Paid","properties":{"cc":"4111111111111111","cc":"none"}},'
    + '{"type":"track","messageId":"m3","anonymousId":"a1","event":"Paid","properties":{"n" : 1}}]}';
  const out = await prepared(body, settings);
  const [first, second, third] = out.records.map((r) => r.payload);
  assert.ok(first?.includes('"properties":{"a":1,"cc":"[masked:card]"}'), first);
  assert.ok(!second?.includes('4111'), second);
  assert.deepEqual((JSON.parse(second ?? '{}') as { properties: unknown }).properties, { cc: 'none' });
  assert.ok(third?.includes('"properties":{"n" : 1}'), `an untouched neighbour is still copied: ${third}`);
  assert.deepEqual(out.masked, { card: 1 });
});

test('the collector\'s own context.ip is checked against the patterns too', async () => {
  const lookup = await openIpLookup();
  const s: PrepareSettings = { ...settings, truncateIp: false, forbiddenPatterns: [{ name: 'office_ip', pattern: '^90\\.1\\.2\\.\\d+$' }] };
  const body = '{"batch":[{"type":"track","messageId":"m1","anonymousId":"a1","event":"A","properties":{}}]}';
  const out = await prepareBody({ body: Buffer.from(body), contentEncoding: undefined, route: 'batch', source, requestIp: '90.1.2.3', receivedAt }, s, lookup, () => source);
  assert.equal(out.kind, 'prepared');
  const payload = (out as Prepared).records[0]?.payload ?? '';
  assert.ok(payload.includes('"ip":"[masked:office_ip]"'), payload);
});

// ——— End to end ———

const SECRETS = ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117', '3530111333300000', '4242424242424242'];

test('over HTTP, inline and on a worker thread: no card number in the log files or any table, masks counted in /metrics', async () => {
  const s = await startServer({ collect: { prepareThreads: 1, forbiddenPatterns: [IBAN] } });
  const h = { authorization: basic(s.writeKey) };
  try {
    const small = await post(`${s.url}/v1/batch`, { batch: [
      {
        type: 'track', event: 'Order Completed', userId: 'u-forbidden-1', messageId: 'fd-1',
        properties: {
          note: 'paid with 4111 1111 1111 1111 yesterday', cardNumber: '5555-5555-5555-4444', numeric: 378282246310005,
          iban: 'FR76 3000 6000 0112 3456 7890 189', orderId: '4111111111111112', phone: '+33 6 12 34 56 78',
        },
        context: { page: { url: 'https://shop.example.com/checkout?cc=6011111111111117&step=2', path: '/checkout' } },
      },
      { type: 'identify', userId: 'u-forbidden-1', messageId: 'fd-2', traits: { plan: 'pro', card: '3530-1113-3330-0000' } },
    ] }, h);
    assert.deepEqual([small.status, small.body.accepted], [200, 2]);
    // ≥ 16 KB with the write key in a header: prepared on the worker thread.
    const big = Array.from({ length: 60 }, (_, i) => ({
      type: 'track', event: 'Checkout Step', userId: 'u-forbidden-2', messageId: `fd-big-${i}`, properties: { cc: '4242 4242 4242 4242', pad: 'x'.repeat(300) },
    }));
    assert.ok(JSON.stringify({ batch: big }).length >= 16 * 1024);
    const large = await post(`${s.url}/v1/batch`, { batch: big }, h);
    assert.deepEqual([large.status, large.body.accepted], [200, 60]);
    await s.settle();

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /^ensemble_masked_values_total\{pattern="card"\} 65$/m);
    assert.match(metrics, /^ensemble_masked_values_total\{pattern="iban"\} 1$/m);
  } finally {
    await s.close();
  }
  try {
    const { files: stored, tables } = await storeContents(s.dir);
    const logs = [...stored].filter(([p]) => p.includes('ensemble-log') && p.endsWith('.seg'));
    assert.ok(logs.length > 0, 'the log files are there');
    for (const [where, content] of [...stored, ...tables]) {
      for (const secret of SECRETS) for (const f of forms(secret)) assert.ok(!content.includes(f), `${f} found in ${where}`);
      assert.ok(!content.includes('3000 6000 0112 3456'), `the IBAN in ${where}`);
    }
    const log = logs.map(([, c]) => c).join('\n');
    assert.equal(log.split('[masked:card]').length - 1, 65);
    assert.ok(log.includes('checkout?cc=[masked:card]&step=2'), 'the URL keeps everything but the number');
    assert.ok(log.includes('[masked:iban]'));
    assert.ok(log.includes('4111111111111112') && log.includes('+33 6 12 34 56 78'), 'what is not a card number is kept');
    const events = tables.get('events') ?? '';
    assert.ok(events.includes('[masked:card]') && events.includes('paid with [masked:card] yesterday'), 'the events table has the masked values');
    assert.ok(events.includes('4111111111111112'));
    assert.ok((tables.get('profiles') ?? '').includes('[masked:card]'), 'the profile trait is the masked one');
  } finally {
    removeDir(s.dir);
  }
});

test('ids declared in context.externalIds are identifiers, not card numbers: kept, while a card elsewhere in the context is masked', () => {
  const rules = forbiddenRules({ maskCardNumbers: true, forbiddenPatterns: [] });
  // 19 digits passing the Luhn check: a plausible partner (Xandr) user id.
  const partnerId = '4111111111111111110'.slice(0, 18);
  const id = [...'0123456789'].map((d) => partnerId + d).find((v) => luhn(v))!;
  const counts: MaskCounts = {};
  const e = { properties: {}, traits: {}, context: { externalIds: [{ type: 'xandr_id', id, collection: 'users', note: 'card 4111 1111 1111 1111' }], page: { search: '?cc=4111111111111111' } } };
  const masked = maskEvent(e, rules, counts);
  assert.equal(masked.context.externalIds[0]!.id, id);
  assert.equal(masked.context.externalIds[0]!.note, 'card [masked:card]');
  assert.equal((masked.context.page as { search: string }).search, '?cc=[masked:card]');
  assert.equal(counts.card, 2);
});
