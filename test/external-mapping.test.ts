/**
 * The pure parts of external sources: JSON pointers (RFC 6901), key normalisation, the mapping
 * from an answer to keyed values, the changed-key computation listeners rely on, and the pull's
 * promise that a failed fetch never wipes what was held (properties over random answers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatPointer, parsePointer, resolvePointer, resolveTokens } from '../src/external/json-pointer.js';
import { changedKeys, externalKey, ExternalValues } from '../src/external/external-values.js';
import { applyMapping } from '../src/external/mapping.js';
import { pullSource, type HeldValue } from '../src/external/pull.js';
import type { FetchResult } from '../src/external/fetch-json.js';

test('JSON pointers: the RFC 6901 examples, escapes, and invalid pointers', () => {
  const doc = { foo: ['bar', 'baz'], '': 0, 'a/b': 1, 'c%d': 2, 'e^f': 3, 'g|h': 4, 'i\\j': 5, 'k"l': 6, ' ': 7, 'm~n': 8 };
  const cases: [string, unknown][] = [
    ['', doc], ['/foo', ['bar', 'baz']], ['/foo/0', 'bar'], ['/', 0], ['/a~1b', 1], ['/c%d', 2], ['/e^f', 3],
    ['/g|h', 4], ['/i\\j', 5], ['/k"l', 6], ['/ ', 7], ['/m~0n', 8],
  ];
  for (const [p, expected] of cases) assert.deepEqual(resolvePointer(doc, p), expected, p);
  for (const bad of ['foo', '/a~2', '/~', 'a/b']) assert.equal(parsePointer(bad), null, bad);
  assert.equal(resolvePointer(doc, '/foo/01'), undefined, 'no leading zeros in an index');
  assert.equal(resolvePointer(doc, '/foo/-'), undefined);
  assert.equal(resolvePointer({}, '/constructor'), undefined, 'only own properties are reached');
  assert.equal(resolvePointer({ a: 1 }, '/a/b'), undefined);
});

test('property: formatting then parsing a pointer gives its tokens back, and it leads to what was put there', () => {
  fc.assert(fc.property(fc.array(fc.string(), { maxLength: 6 }), fc.jsonValue(), (tokens, leaf) => {
    const pointer = formatPointer(tokens);
    assert.deepEqual(parsePointer(pointer), tokens);
    let doc: unknown = leaf;
    for (const t of [...tokens].reverse()) doc = { [t]: doc };
    // Objects built with computed keys: '__proto__' is an own property here as JSON.parse would make it.
    const viaJson = JSON.parse(JSON.stringify(doc)) as unknown;
    assert.deepEqual(resolveTokens(viaJson, tokens), JSON.parse(JSON.stringify(leaf)));
  }));
});

test('property: keys compare trimmed and lower-cased, and normalising is idempotent', () => {
  fc.assert(fc.property(fc.string(), (s) => {
    assert.equal(externalKey(externalKey(s)), externalKey(s));
  }));
  fc.assert(fc.property(fc.stringMatching(/^[A-Za-z][A-Za-z -]{0,20}$/), fc.stringMatching(/^[ \t]{0,3}$/), (s, pad) => {
    assert.equal(externalKey(`${pad}${s.toUpperCase()}${pad}`), externalKey(s.toLowerCase()));
  }));
  assert.equal(externalKey('Zu\u0308rich'), externalKey('Z\u00fcrich'), 'composed and decomposed forms are one key');
});

test('the mapping: per-key bodies, lists, numeric keys, repeats, missing fields, and a body of the wrong shape', () => {
  const whole = applyMapping({ main: { temp: 21.5 }, weather: [{ main: 'Rain' }] }, { fields: { t: '/main/temp', c: '/weather/0/main', h: '/main/humidity' } }, ' Paris ');
  assert.deepEqual([...whole.values].map(([k, v]) => [k, Object.fromEntries(v)]), [['paris', { t: 21.5, c: 'Rain' }]], 'a field leading nowhere is absent');

  const list = applyMapping([{ id: 75, v: 1 }, { id: 'Lyon', v: 2 }, { id: 'LYON', v: 3 }, { id: null, v: 4 }, { id: 'Nice' }], { items: '', key: '/id', fields: { v: '/v' } });
  assert.deepEqual([...list.values].map(([k, v]) => [k, v.get('v')]), [['75', 1], ['lyon', 2]], 'the first of a repeated key is kept');
  assert.equal(list.skipped, 3, 'a repeat, a null key and an item with none of the fields');
  assert.equal(list.items, 5);
  assert.match(applyMapping({ list: {} }, { items: '/list', key: '/id', fields: { v: '/v' } }).error ?? '', /no array at \/list/);
});

test('property: changedKeys is exactly the keys added, removed or with a different field; listeners hear exactly those', () => {
  const fields = fc.dictionary(fc.constantFrom('t', 'c', 'h'), fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('a', 'b'), fc.constant(null)), { maxKeys: 3 });
  const keyed = fc.dictionary(fc.constantFrom('paris', 'lyon', 'nice', 'lille'), fields, { maxKeys: 4 });
  const toMap = (o: Record<string, Record<string, unknown>>) => new Map(Object.entries(o).map(([k, f]) => [k, new Map(Object.entries(f))]));
  fc.assert(fc.property(keyed, keyed, (a, b) => {
    const expected = new Set<string>();
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const x = a[k]; const y = b[k];
      const same = x !== undefined && y !== undefined && Object.keys(x).length === Object.keys(y).length && Object.keys(x).every((f) => f in y && x[f] === y[f]);
      if (!same) expected.add(k);
    }
    assert.deepEqual([...changedKeys(toMap(a), toMap(b))].sort(), [...expected].sort());

    const values = new ExternalValues();
    const heard: string[][] = [];
    values.replace('ws', 'src', toMap(a), false);
    values.onChange((_w, _s, keys) => heard.push([...keys].sort()));
    values.replace('ws', 'src', toMap(b));
    assert.deepEqual(heard, expected.size === 0 ? [] : [[...expected].sort()], 'nothing is reported when nothing changed');
    for (const [k, f] of Object.entries(b)) for (const [name, v] of Object.entries(f)) assert.equal(values.value('ws', 'src', k.toUpperCase(), name), v);
  }));
});

test('property: a pull never wipes held values — failed keys keep theirs, a failed pull keeps everything', async () => {
  const city = fc.constantFrom('Paris', 'Lyon', 'Nice', 'Lille', 'Brest');
  await fc.assert(fc.asyncProperty(
    fc.uniqueArray(city, { minLength: 1, maxLength: 5 }),
    fc.func(fc.oneof(fc.integer({ min: -10, max: 40 }).map((t) => ({ ok: true as const, t })), fc.constant({ ok: false as const }))),
    fc.dictionary(city.map((c) => c.toLowerCase()), fc.integer({ min: -10, max: 40 }), { maxKeys: 5 }),
    async (keys, answer, held) => {
      const previous = new Map<string, HeldValue>(Object.entries(held).map(([k, t]) => [k, { fields: new Map([['t', t]]), fetchedAt: 1 }]));
      const answers = new Map<string, { ok: true; t: number } | { ok: false }>(keys.map((k) => [k, answer(k)]));
      const fetchOne = async (url: string): Promise<FetchResult> => {
        const k = decodeURIComponent(url.split('q=')[1] ?? '');
        const a = answers.get(k);
        return a?.ok ? { kind: 'ok', body: { main: { temp: a.t } } } : { kind: 'fail', reason: 'http_404' };
      };
      const r = await pullSource({ url: 'http://127.0.0.1:1/w?q={key}', keys, mapping: { fields: { t: '/main/temp' } } }, previous, {
        fetchOne, retries: 0, retryBaseMs: 1, retryMaxMs: 1, concurrency: 2, now: () => 2, random: () => 0.5, signal: new AbortController().signal,
      });
      const failed = keys.filter((k) => !answers.get(k)?.ok);
      const succeeded = keys.filter((k) => answers.get(k)?.ok);
      assert.equal(r.outcome, failed.length === 0 ? 'ok' : succeeded.length === 0 ? 'failed' : 'partial');
      for (const k of succeeded) {
        const a = answers.get(k);
        assert.equal(r.values.get(k.toLowerCase())?.fields.get('t'), a?.ok ? a.t : undefined, 'a fetched key is fresh');
      }
      if (failed.length > 0) {
        for (const [k, v] of previous) if (!succeeded.some((s) => s.toLowerCase() === k)) assert.deepEqual(r.values.get(k), v, 'what was not refreshed is kept');
      } else {
        assert.deepEqual([...r.values.keys()].sort(), keys.map((k) => k.toLowerCase()).sort(), 'a full success holds exactly the configured keys');
      }
      assert.equal(r.errors.length, failed.length);
    },
  ));
});
