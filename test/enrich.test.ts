import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { enrich } from '../src/collect/steps/enrich.js';
import { EVENT_TYPES, type CollectedEvent, type EventType } from '../src/protocol/event.js';

function event(
  type: EventType,
  context: Record<string, unknown> = {},
  properties: Record<string, unknown> = {},
  name?: string,
): CollectedEvent {
  return {
    type,
    messageId: 'msg_1',
    workspaceId: 'ws_1',
    sourceId: 'src_1',
    anonymousId: 'anon_1',
    userId: null,
    ...(name === undefined ? {} : { event: name }),
    properties,
    traits: {},
    context,
    originalTimestamp: '2025-01-01T00:00:00.000Z',
    timestamp: '2025-01-01T00:00:00.000Z',
    sentAt: null,
    receivedAt: '2025-01-01T00:00:00.000Z',
    country: null,
  };
}

const page = (url: string, referrer = '', extra: Record<string, unknown> = {}): CollectedEvent =>
  event('page', { page: { url, referrer }, ...extra });

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const CHROME_GALAXY_TAB =
  'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

const agent = (userAgent: unknown): Pick<ReturnType<typeof enrich>, 'browser' | 'browserVersion' | 'os' | 'deviceType'> => {
  const { browser, browserVersion, os, deviceType } = enrich(event('track', { userAgent }));
  return { browser, browserVersion, os, deviceType };
};

test('user agent: desktop Chrome, iPhone Safari, Android tablet', () => {
  assert.deepEqual(agent(CHROME_WINDOWS), { browser: 'Chrome', browserVersion: '124.0.0.0', os: 'Windows', deviceType: 'desktop' });
  assert.deepEqual(agent(SAFARI_IPHONE), { browser: 'Safari', browserVersion: '17.4', os: 'iOS', deviceType: 'mobile' });
  assert.deepEqual(agent(CHROME_GALAXY_TAB), { browser: 'Chrome', browserVersion: '123.0.0.0', os: 'Android', deviceType: 'tablet' });
  assert.equal(
    agent('Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36').deviceType,
    'tv',
  );
});

test('user agent: crawlers and scripts are bots', () => {
  assert.deepEqual(agent(GOOGLEBOT), { browser: 'Googlebot', browserVersion: '2.1', os: null, deviceType: 'bot' });
  for (const ua of [
    'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
    // bowser does not know these; the pattern catches them.
    'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
    'Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)',
    'Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)',
    'curl/8.4.0',
    'python-requests/2.31.0',
  ]) {
    assert.equal(agent(ua).deviceType, 'bot', ua);
  }
  // A Cubot phone is a person, not a bot.
  assert.equal(
    agent('Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36').deviceType,
    'mobile',
  );
});

test('user agent: missing, empty, non-string or huge gives nulls', () => {
  const none = { browser: null, browserVersion: null, os: null, deviceType: null };
  assert.deepEqual(agent(undefined), none);
  assert.deepEqual(agent(''), none);
  assert.deepEqual(agent(42), none);
  assert.deepEqual(agent({ ua: CHROME_WINDOWS }), none);
  assert.deepEqual(agent(CHROME_WINDOWS.repeat(1000)), none);
});

test('user agent: results stay right after the cache has evicted entries', () => {
  for (let i = 0; i < 6000; i++) agent(`${CHROME_WINDOWS} build/${i}`);
  assert.equal(agent(SAFARI_IPHONE).deviceType, 'mobile');
  assert.equal(agent(`${CHROME_WINDOWS} build/0`).browser, 'Chrome');
});

test('url and path come from context.page, else from a page call properties', () => {
  const fromContext = enrich(event('track', { page: { url: 'https://shop.example/cart?x=1', path: '/cart' } }));
  assert.equal(fromContext.url, 'https://shop.example/cart?x=1');
  assert.equal(fromContext.path, '/cart');

  const fromProperties = enrich(event('page', {}, { url: 'https://shop.example/a/b?c=d' }));
  assert.equal(fromProperties.url, 'https://shop.example/a/b?c=d');
  assert.equal(fromProperties.path, '/a/b', 'path derived from the url');

  // On a track call properties.url is the product's URL, not the page.
  const track = enrich(event('track', {}, { url: 'https://shop.example/p/1', path: '/p/1' }, 'Product Viewed'));
  assert.equal(track.url, null);
  assert.equal(track.path, null);
});

test('UTM from context.campaign, which wins over the url', () => {
  const e = enrich(
    page('https://shop.example/?utm_source=url-source&utm_term=shoes', '', {
      campaign: { name: 'spring', source: 'newsletter-42', medium: 'email', content: 'hero' },
    }),
  );
  assert.equal(e.utmCampaign, 'spring');
  assert.equal(e.utmSource, 'newsletter-42');
  assert.equal(e.utmMedium, 'email');
  assert.equal(e.utmContent, 'hero');
  assert.equal(e.utmTerm, 'shoes', 'fields the campaign lacks come from the url');
  assert.equal(e.channel, 'email');
});

test('UTM from the url query', () => {
  const e = enrich(
    page('https://shop.example/sale?utm_source=google&utm_medium=cpc&utm_campaign=summer%20sale&utm_term=red+shoes&utm_content=ad-1'),
  );
  assert.deepEqual(
    [e.utmSource, e.utmMedium, e.utmCampaign, e.utmTerm, e.utmContent],
    ['google', 'cpc', 'summer sale', 'red shoes', 'ad-1'],
  );
  assert.equal(e.channel, 'paid');
});

test('referrerHost is lower-case without www.', () => {
  assert.equal(enrich(page('https://shop.example/', 'https://WWW.Example.ORG/path?q=1')).referrerHost, 'example.org');
  assert.equal(enrich(event('page', {}, { url: 'https://shop.example/', referrer: 'https://blog.example.net/' })).referrerHost, 'blog.example.net');
  assert.equal(enrich(page('https://shop.example/', '')).referrerHost, null);
});

test('channel: paid from utm_medium or an ad click id', () => {
  for (const medium of ['cpc', 'CPC', 'ppc', 'paid', 'paidsearch', 'paid_social', 'paidsocial', 'display', 'cpm', 'banner', 'retargeting', 'affiliate']) {
    assert.equal(enrich(page(`https://shop.example/?utm_medium=${medium}`)).channel, 'paid', medium);
  }
  assert.equal(enrich(page('https://shop.example/', '', { campaign: { medium: 'Cpc' } })).channel, 'paid');
  for (const id of ['gclid', 'msclkid', 'dclid', 'ttclid', 'wbraid', 'gbraid']) {
    // The click id beats the search-engine referrer.
    assert.equal(enrich(page(`https://shop.example/?${id}=abc123`, 'https://www.google.com/')).channel, 'paid', id);
  }
  // Facebook adds fbclid to organic links too: it alone does not make a visit paid.
  assert.equal(enrich(page('https://shop.example/?fbclid=abc123', 'https://l.facebook.com/')).channel, 'social');
});

test('channel: email from utm_medium or a webmail referrer', () => {
  assert.equal(enrich(page('https://shop.example/?utm_medium=newsletter')).channel, 'email');
  assert.equal(enrich(page('https://shop.example/?utm_medium=E-Mail')).channel, 'email');
  assert.equal(enrich(page('https://shop.example/', 'https://mail.google.com/mail/u/0/')).channel, 'email');
  assert.equal(enrich(page('https://shop.example/', 'https://outlook.live.com/')).channel, 'email');
  assert.equal(enrich(page('https://shop.example/', 'android-app://com.google.android.gm/')).channel, 'email');
});

test('channel: social from utm_medium or a social referrer', () => {
  assert.equal(enrich(page('https://shop.example/?utm_medium=social')).channel, 'social');
  assert.equal(enrich(page('https://shop.example/?utm_medium=sm')).channel, 'social');
  for (const referrer of [
    'https://l.facebook.com/', 'https://m.facebook.com/', 'https://t.co/abc', 'https://x.com/someone',
    'https://www.linkedin.com/feed/', 'https://lnkd.in/xyz', 'https://www.pinterest.co.uk/pin/1/',
    'https://old.reddit.com/r/x', 'https://www.youtube.com/watch?v=1', 'https://www.threads.net/',
  ]) {
    assert.equal(enrich(page('https://shop.example/', referrer)).channel, 'social', referrer);
  }
});

test('channel: search from utm_medium=organic or a search engine referrer', () => {
  assert.equal(enrich(page('https://shop.example/?utm_medium=organic')).channel, 'search');
  for (const referrer of [
    'https://www.google.com/', 'https://www.google.fr/', 'https://www.google.co.uk/', 'https://www.google.com.br/',
    'https://www.bing.com/search?q=x', 'https://duckduckgo.com/', 'https://search.yahoo.com/', 'https://yandex.ru/',
    'https://www.ecosia.org/', 'https://search.brave.com/', 'https://www.qwant.com/', 'https://www.baidu.com/',
  ]) {
    assert.equal(enrich(page('https://shop.example/', referrer)).channel, 'search', referrer);
  }
  // Other Google properties are not a search.
  assert.equal(enrich(page('https://shop.example/', 'https://docs.google.com/document/d/1')).channel, 'referral');
});

test('channel: referral from another host, direct otherwise', () => {
  assert.equal(enrich(page('https://shop.example/', 'https://blog.example.org/post')).channel, 'referral');
  assert.equal(enrich(page('https://shop.example/b', 'https://www.shop.example/a')).channel, 'direct', 'same site');
  assert.equal(enrich(page('https://shop.example/')).channel, 'direct');
  assert.equal(enrich(event('screen', {})).channel, 'direct');
});

test('channel: only for page and screen calls and events that carry a source', () => {
  assert.equal(enrich(event('track', {}, { plan: 'pro' }, 'Signed Up')).channel, null);
  assert.equal(enrich(event('identify', {})).channel, null);
  // analytics.js puts context.page on every call, so browser track events are classified.
  assert.equal(enrich(event('track', { page: { url: 'https://shop.example/', referrer: 'https://t.co/x' } }, {}, 'Signed Up')).channel, 'social');
  assert.equal(enrich(event('track', { campaign: { medium: 'email' } }, {}, 'Signed Up')).channel, 'email');
});

test('a malformed or non-string url does not throw and gives nulls', () => {
  for (const url of ['http://', 'not a url', '::::', 'http://[::1', 'https://exa mple.com/', 42, { href: 'https://x.example/' }, null, 'x'.repeat(100_000)]) {
    const e = enrich(event('page', { page: { url, referrer: url } }, { url }));
    assert.equal(e.url, null, String(url).slice(0, 40));
    assert.equal(e.path, null);
    assert.equal(e.referrerHost, null);
    assert.equal(e.utmSource, null);
    assert.equal(e.channel, 'direct');
  }
});

test('revenue, price and currency', () => {
  const e = enrich(event('track', {}, { revenue: 42.5, price: '12.50', currency: 'eur' }, 'Order Completed'));
  assert.deepEqual([e.revenue, e.price, e.currency], [42.5, 12.5, 'EUR']);

  assert.equal(enrich(event('track', {}, { total: '99.90' }, 'Order Completed')).revenue, 99.9, 'total when no revenue');
  assert.equal(enrich(event('track', {}, { total: 99.9 }, 'Product Added')).revenue, null, 'total only for orders');

  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 'NaN', 'Infinity', '', ' ', 'abc', '12,50', '0x10', '1e400', true, null, [1], { v: 1 }]) {
    const odd = enrich(event('track', {}, { revenue: bad, price: bad }, 'Order Completed'));
    assert.equal(odd.revenue, null, String(bad));
    assert.equal(odd.price, null, String(bad));
  }
  for (const bad of ['euro', 'US', 'E1R', 12, null, '']) {
    assert.equal(enrich(event('track', {}, { currency: bad })).currency, null, String(bad));
  }
});

test('an event without any of this gives all nulls', () => {
  const e = enrich(event('identify', {}, {}));
  assert.ok(Object.values(e).every((v) => v === null));
  assert.equal(Object.keys(e).length, 16);
});

const CHANNELS = new Set(['search', 'social', 'email', 'paid', 'referral', 'direct', null]);

function assertWellFormed(e: ReturnType<typeof enrich>): void {
  for (const [key, value] of Object.entries(e)) {
    if (key === 'revenue' || key === 'price') assert.ok(value === null || Number.isFinite(value), key);
    else assert.ok(value === null || typeof value === 'string', key);
  }
  assert.ok(CHANNELS.has(e.channel), String(e.channel));
}

test('property: enrich never throws on arbitrary JSON contexts and properties', () => {
  const odd = fc.oneof(fc.jsonValue(), fc.string(), fc.webUrl({ withQueryParameters: true, withFragments: true }));
  const context = fc.oneof(
    fc.dictionary(fc.string(), fc.jsonValue()),
    fc.object(),
    fc.record(
      {
        userAgent: fc.oneof(fc.string(), fc.jsonValue(), fc.constantFrom(CHROME_WINDOWS, SAFARI_IPHONE, GOOGLEBOT)),
        page: fc.oneof(fc.jsonValue(), fc.record({ url: odd, path: odd, referrer: odd }, { requiredKeys: [] })),
        campaign: fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('name', 'source', 'medium', 'term', 'content'), fc.jsonValue())),
      },
      { requiredKeys: [] },
    ),
  );
  const properties = fc.oneof(
    fc.dictionary(fc.string(), fc.jsonValue()),
    fc.record({ revenue: fc.jsonValue(), total: fc.jsonValue(), price: fc.jsonValue(), currency: fc.jsonValue(), url: odd }, { requiredKeys: [] }),
  );
  fc.assert(
    fc.property(fc.constantFrom(...EVENT_TYPES), context, properties, fc.option(fc.string()), (type, ctx, props, name) => {
      assertWellFormed(enrich(event(type, ctx, props as Record<string, unknown>, name ?? undefined)));
    }),
    { numRuns: 500 },
  );
});

test('property: any web url is kept, with its path and utm parameters', () => {
  fc.assert(
    fc.property(fc.webUrl({ withQueryParameters: true }), fc.stringMatching(/^[a-z0-9-]{1,20}$/), (base, source) => {
      const url = `${base}${base.includes('?') ? '&' : '?'}utm_source=${source}`;
      const e = enrich(page(url));
      assert.equal(e.url, url);
      assert.equal(e.path, new URL(url).pathname);
      assert.equal(e.utmSource, new URL(url).searchParams.get('utm_source')?.trim() || null);
      assertWellFormed(e);
    }),
  );
});
