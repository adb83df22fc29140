/**
 * Signed message links: tokens round-trip, are URL-safe, resist tampering (any single-character
 * change fails, a property over random payloads), are bound to their kind and key, and click
 * links only ever target http(s).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { isTrackableUrl, messageLinks, signLink, verifyLink, type LinkPayload } from '../src/activate/message-links.js';
import { instrumentText } from '../src/activate/text-links.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const IDS = { workspaceId: 'ws_1', destinationId: 'dst_mail', profileId: 'prf_a', messageKey: 'dst_mail:m:42' };
const TOKEN_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ %';

const id = fc.string({ minLength: 1, maxLength: 40 });
const payload: fc.Arbitrary<LinkPayload> = fc.oneof(
  fc.record({ w: id, d: id, p: id, m: id, k: fc.constantFrom('u' as const, 'o' as const, 's' as const) }),
  fc.record({ w: id, d: id, p: id, m: id, k: fc.constant('c' as const), u: fc.webUrl({ withQueryParameters: true, withFragments: true }) }),
);

test('a signed link verifies to its payload, and its token is URL-safe with a MAC of at least 128 bits', () => {
  const p: LinkPayload = { w: 'ws_1', d: 'dst_1', p: 'prf_1', m: 'm1', k: 'c', u: 'https://shop.example/a?b=1&c=é' };
  const token = signLink(KEY, p);
  assert.match(token, TOKEN_RE);
  assert.ok(Buffer.from(token.split('.')[1]!, 'base64url').length * 8 >= 128);
  assert.deepEqual(verifyLink(KEY, token), p);
  assert.deepEqual(verifyLink(KEY, token, 'c'), p);
  assert.equal(signLink(KEY, p), token, 'the same payload gives the same token');
});

test('a token is refused with another key, for another kind, or when malformed', () => {
  const token = signLink(KEY, { w: 'ws', d: 'd', p: 'p', m: 'm', k: 'u' });
  assert.equal(verifyLink(randomBytes(32), token), null);
  assert.equal(verifyLink(KEY, token, 'o'), null, 'an unsubscribe token is not an open token');
  for (const bad of ['', '.', 'abc', `${token}.x`, token.replace('.', ''), `.${token.split('.')[1]}`, `${token.split('.')[0]}.`, `${token}=`]) {
    assert.equal(verifyLink(KEY, bad), null, bad);
  }
});

test('click links only target http and https', () => {
  for (const u of ['javascript:alert(1)', 'data:text/html,x', 'mailto:a@b.c', '//evil.example', 'ftp://x.example/', 'not a url']) {
    assert.equal(isTrackableUrl(u), false, u);
    assert.throws(() => signLink(KEY, { w: 'w', d: 'd', p: 'p', m: 'm', k: 'c', u }), RangeError);
  }
  assert.throws(() => signLink(KEY, { w: 'w', d: 'd', p: 'p', m: 'm', k: 'c' }), RangeError, 'a click needs a target');
  assert.throws(() => signLink(KEY, { w: 'w', d: 'd', p: 'p', m: 'm', k: 'u', u: 'https://x.example/' }), RangeError);
  // Even correctly signed (a key holder's mistake, an older version), a non-http target is refused.
  const body = Buffer.from(JSON.stringify({ w: 'w', d: 'd', p: 'p', m: 'm', k: 'c', u: 'javascript:alert(1)' })).toString('base64url');
  const mac = createHmac('sha256', KEY).update(`ensemble-link/1.${body}`).digest().subarray(0, 18).toString('base64url');
  assert.equal(verifyLink(KEY, `${body}.${mac}`), null);
  // The same construction with an http target is accepted: the forged check above is meaningful.
  const ok = Buffer.from(JSON.stringify({ w: 'w', d: 'd', p: 'p', m: 'm', k: 'c', u: 'https://x.example/' })).toString('base64url');
  const okMac = createHmac('sha256', KEY).update(`ensemble-link/1.${ok}`).digest().subarray(0, 18).toString('base64url');
  assert.equal(verifyLink(KEY, `${ok}.${okMac}`)?.u, 'https://x.example/');
});

test('messageLinks builds the documented routes, each token bound to its kind', () => {
  const links = messageLinks('https://cdp.example.com/', KEY, IDS);
  const tokenOf = (url: string, re: RegExp) => { const m = re.exec(url); assert.ok(m, url); return m[1]!; };
  const u = tokenOf(links.unsubscribe, /^https:\/\/cdp\.example\.com\/v1\/m\/u\/([A-Za-z0-9_.-]+)$/);
  const o = tokenOf(links.open, /^https:\/\/cdp\.example\.com\/v1\/m\/o\/([A-Za-z0-9_.-]+)\.gif$/);
  const s = tokenOf(links.status, /^https:\/\/cdp\.example\.com\/v1\/m\/s\/([A-Za-z0-9_.-]+)$/);
  const c = tokenOf(links.click('https://shop.example/sale?x=1'), /^https:\/\/cdp\.example\.com\/v1\/m\/c\/([A-Za-z0-9_.-]+)$/);
  const base = { w: 'ws_1', d: 'dst_mail', p: 'prf_a', m: 'dst_mail:m:42' };
  assert.deepEqual(verifyLink(KEY, u, 'u'), { ...base, k: 'u' });
  assert.deepEqual(verifyLink(KEY, o, 'o'), { ...base, k: 'o' });
  assert.deepEqual(verifyLink(KEY, s, 's'), { ...base, k: 's' });
  assert.deepEqual(verifyLink(KEY, c, 'c'), { ...base, k: 'c', u: 'https://shop.example/sale?x=1' });
  assert.equal(verifyLink(KEY, u, 'c'), null);
  assert.throws(() => links.click('javascript:alert(1)'), RangeError);
});

test('text messages: each http(s) URL goes through the click redirect, trailing punctuation stays outside, and an over-long result is sent untracked', () => {
  const links = messageLinks('https://cdp.example.com', KEY, IDS);
  const text = 'Cart: https://shop.example/cart?x=1. Help (https://shop.example/help), call tel:+33100000000 or ftp://x.example';
  const out = instrumentText(text, links, 1600);
  const clicks = [...out.matchAll(/https:\/\/cdp\.example\.com\/v1\/m\/c\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/g)].map((m) => verifyLink(KEY, m[1]!, 'c')?.u);
  assert.deepEqual(clicks, ['https://shop.example/cart?x=1', 'https://shop.example/help']);
  assert.ok(out.startsWith('Cart: https://cdp.example.com/v1/m/c/'));
  assert.ok(out.includes('), call tel:+33100000000 or ftp://x.example'), out);
  assert.equal(instrumentText(text, links, text.length + 10), text, 'too long once tracked: sent as written');
  assert.equal(instrumentText('No link here.', links, 1600), 'No link here.');
});

test('property: verify(sign(x)) = x', () => {
  fc.assert(fc.property(payload, (p) => {
    const token = signLink(KEY, p);
    assert.match(token, TOKEN_RE);
    // fast-check builds records without a prototype: compare as plain objects.
    assert.deepEqual(verifyLink(KEY, token), { ...p });
  }), { numRuns: 300 });
});

test('property: any single-character change, insertion or deletion makes a token invalid', () => {
  const edit = fc.record({ at: fc.nat(), ch: fc.constantFrom(...ALPHABET.split('')), op: fc.constantFrom('replace', 'insert', 'delete') });
  fc.assert(fc.property(payload, edit, (p, e) => {
    const token = signLink(KEY, p);
    const i = e.at % token.length;
    let changed: string;
    if (e.op === 'replace') {
      fc.pre(token[i] !== e.ch);
      changed = token.slice(0, i) + e.ch + token.slice(i + 1);
    } else if (e.op === 'insert') {
      changed = token.slice(0, i) + e.ch + token.slice(i);
    } else {
      changed = token.slice(0, i) + token.slice(i + 1);
    }
    assert.equal(verifyLink(KEY, changed), null, `${e.op} at ${i}: ${changed}`);
  }), { numRuns: 2000 });
});
