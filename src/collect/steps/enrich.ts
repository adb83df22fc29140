/**
 * The processor's enrichment step: derives the `Enrichment` columns (device, page, campaign,
 * channel, money) from a collected event. Pure and synchronous; the only state is a bounded
 * cache of parsed user agents, because UA parsing is the one costly part and a site's traffic
 * repeats a few hundred distinct user agents.
 *
 * Every field is null when the event does not say; odd input (wrong types, malformed or huge
 * strings) yields nulls, never an exception, because one bad event must not stall the processor.
 */
import Bowser from 'bowser';
import type { CollectedEvent, Enrichment } from '../../protocol/event.js';

/** Longest URL or referrer we read; longer ones are junk or attacks, and would bloat the store. */
const MAX_URL_LENGTH = 8192;
/** Real user agents stay under ~600 characters; longer ones are not parsed (regex cost). */
const MAX_UA_LENGTH = 2048;
/** Longest campaign value, path or other short text we keep. */
const MAX_TEXT_LENGTH = 2048;
/** Bounds the UA cache: ~5,000 short strings and small objects is a few MB at most. */
const UA_CACHE_LIMIT = 5000;

/**
 * Derive the enrichment columns of one event.
 *
 * @example
 *   enrich({ ...collected, type: 'page', context: {
 *     userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) ... Safari/604.1',
 *     page: { url: 'https://shop.example/sale?utm_medium=cpc&utm_source=google', referrer: '' },
 *   } });
 *   // → { browser: 'Safari', os: 'iOS', deviceType: 'mobile', channel: 'paid',
 *   //     utmSource: 'google', utmMedium: 'cpc', path: '/sale', ... }
 */
export function enrich(event: CollectedEvent): Enrichment {
  const context = asRecord(event.context);
  const properties = asRecord(event.properties);
  const page = asRecord(own(context, 'page'));
  // Only page calls put their own URL in properties; a track event's `properties.url` is often
  // something else (the Segment e-commerce spec uses it for a product's URL).
  const isPage = event.type === 'page';

  const rawUrl = text(own(page, 'url'), MAX_URL_LENGTH) ?? (isPage ? text(own(properties, 'url'), MAX_URL_LENGTH) : null);
  const pageUrl = parseUrl(rawUrl);
  const path =
    text(own(page, 'path'), MAX_TEXT_LENGTH) ??
    (isPage ? text(own(properties, 'path'), MAX_TEXT_LENGTH) : null) ??
    (pageUrl !== null && pageUrl.pathname !== '' ? pageUrl.pathname : null);

  const campaign = asRecord(own(context, 'campaign'));
  const utm = (field: string, param: string): string | null =>
    text(own(campaign, field), MAX_TEXT_LENGTH) ?? queryParam(pageUrl, param);
  const utmSource = utm('source', 'utm_source');
  const utmMedium = utm('medium', 'utm_medium');
  const utmCampaign = utm('name', 'utm_campaign');
  const utmTerm = utm('term', 'utm_term');
  const utmContent = utm('content', 'utm_content');

  const rawReferrer = text(own(page, 'referrer'), MAX_URL_LENGTH) ?? text(own(properties, 'referrer'), MAX_URL_LENGTH);
  const referrerUrl = parseUrl(rawReferrer);
  const referrerHost = referrerUrl === null ? null : bareHost(referrerUrl.hostname);

  const carriesSource =
    pageUrl !== null || rawReferrer !== null ||
    [utmSource, utmMedium, utmCampaign, utmTerm, utmContent].some((v) => v !== null);
  const channel =
    event.type === 'page' || event.type === 'screen' || carriesSource
      ? classifyChannel(utmMedium, pageUrl, referrerHost)
      : null;

  const agent = parseAgent(own(context, 'userAgent'));
  const revenue =
    amount(own(properties, 'revenue')) ??
    (typeof event.event === 'string' && event.event.toLowerCase() === 'order completed' ? amount(own(properties, 'total')) : null);
  const currency = text(own(properties, 'currency'), 16);

  return {
    browser: agent.browser,
    browserVersion: agent.browserVersion,
    os: agent.os,
    deviceType: agent.deviceType,
    channel,
    referrerHost,
    utmSource,
    utmMedium,
    utmCampaign,
    utmTerm,
    utmContent,
    url: pageUrl === null ? null : rawUrl,
    path,
    revenue,
    price: amount(own(properties, 'price')),
    currency: currency !== null && /^[A-Za-z]{3}$/.test(currency) ? currency.toUpperCase() : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Channel classification. First match wins: paid, email, social, search, referral, direct.

const PAID_MEDIA = new Set([
  'cpc', 'ppc', 'paid', 'paidsearch', 'paid_search', 'paid-search', 'paid_social', 'paidsocial',
  'paid-social', 'display', 'cpm', 'cpv', 'cpa', 'banner', 'retargeting', 'remarketing', 'affiliate',
]);
const EMAIL_MEDIA = new Set(['email', 'e-mail', 'e_mail', 'newsletter']);
const SOCIAL_MEDIA = new Set([
  'social', 'social-network', 'social-media', 'social_media', 'sm', 'social network', 'social media',
]);
/** Ad click ids that ad platforms append to landing URLs. */
// fbclid is not here: Facebook appends it to every outbound link, organic posts included.
const CLICK_IDS = ['gclid', 'msclkid', 'dclid', 'ttclid', 'wbraid', 'gbraid', 'twclid', 'li_fat_id'];

/**
 * Hosts match themselves and their subdomains. Android apps send `android-app://<package>`
 * referrers, so the common app packages are listed next to the web hosts.
 */
const WEBMAIL_HOSTS = new Set([
  'mail.google.com', 'inbox.google.com', 'outlook.live.com', 'outlook.office.com',
  'outlook.office365.com', 'mail.yahoo.com', 'mail.yahoo.co.jp', 'mail.aol.com', 'mail.proton.me',
  'mail.protonmail.com', 'mail.yandex.ru', 'mail.yandex.com', 'e.mail.ru', 'mail.zoho.com',
  'mail.zoho.eu', 'navigator.gmx.net', 'navigator.web.de', 'webmail.free.fr',
  'com.google.android.gm', 'com.microsoft.office.outlook',
]);
const SOCIAL_HOSTS = new Set([
  'facebook.com', 'fb.com', 'messenger.com', 'instagram.com', 'threads.net', 'threads.com', 't.co',
  'twitter.com', 'x.com', 'linkedin.com', 'lnkd.in', 'pin.it', 'reddit.com', 'tiktok.com',
  'youtube.com', 'youtu.be', 'snapchat.com', 'tumblr.com', 'bsky.app', 'mastodon.social', 'vk.com',
  'ok.ru', 'weibo.com', 'quora.com', 'discord.com', 't.me', 'whatsapp.com', 'line.me', 'xing.com',
  'com.facebook.katana', 'com.instagram.android', 'com.linkedin.android', 'com.twitter.android',
  'com.reddit.frontpage', 'com.zhiliaoapp.musically',
]);
const SEARCH_HOSTS = new Set([
  'bing.com', 'duckduckgo.com', 'search.yahoo.com', 'qwant.com', 'ecosia.org', 'baidu.com',
  'search.brave.com', 'startpage.com', 'ya.ru', 'kagi.com', 'naver.com', 'seznam.cz', 'sogou.com',
  'com.google.android.googlequicksearchbox',
]);
/** Brands that run one site per country TLD (google.fr, yahoo.co.jp, pinterest.co.uk). */
const SOCIAL_BRANDS = /(?:^|\.)pinterest(?:\.[a-z]{2,3}){1,2}$/;
// Google only without a subdomain: docs.google.com or accounts.google.com is not a search.
const SEARCH_BRANDS = /^google(?:\.[a-z]{2,3}){1,2}$|(?:^|\.)(?:yahoo|yandex)(?:\.[a-z]{2,3}){1,2}$/;

function classifyChannel(utmMedium: string | null, pageUrl: URL | null, referrerHost: string | null): string {
  const medium = utmMedium?.toLowerCase() ?? '';
  if (PAID_MEDIA.has(medium) || (pageUrl !== null && CLICK_IDS.some((id) => pageUrl.searchParams.has(id)))) {
    return 'paid';
  }
  if (EMAIL_MEDIA.has(medium) || hostIn(referrerHost, WEBMAIL_HOSTS)) return 'email';
  if (SOCIAL_MEDIA.has(medium) || hostIn(referrerHost, SOCIAL_HOSTS) || matches(referrerHost, SOCIAL_BRANDS)) {
    return 'social';
  }
  if (medium === 'organic' || hostIn(referrerHost, SEARCH_HOSTS) || matches(referrerHost, SEARCH_BRANDS)) {
    return 'search';
  }
  // Without a page URL we cannot tell a self-referral apart, so any referrer counts.
  const pageHost = pageUrl === null ? null : bareHost(pageUrl.hostname);
  if (referrerHost !== null && referrerHost !== pageHost) return 'referral';
  return 'direct';
}

/** True when `host` or one of its parent domains is in `hosts`. */
function hostIn(host: string | null, hosts: ReadonlySet<string>): boolean {
  for (let h = host; h !== null && h !== ''; ) {
    if (hosts.has(h)) return true;
    const dot = h.indexOf('.');
    h = dot === -1 ? null : h.slice(dot + 1);
  }
  return false;
}

function matches(host: string | null, pattern: RegExp): boolean {
  return host !== null && pattern.test(host);
}

/** Lower-case host without a leading "www." or trailing dot, or null when there is none. */
function bareHost(hostname: string): string | null {
  let host = hostname.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.startsWith('www.')) host = host.slice(4);
  return host === '' ? null : host;
}

// ---------------------------------------------------------------------------------------------
// User agent.

interface Agent {
  browser: string | null;
  browserVersion: string | null;
  os: string | null;
  deviceType: string | null;
}

const UNKNOWN_AGENT: Agent = Object.freeze({ browser: null, browserVersion: null, os: null, deviceType: null });
const DEVICE_TYPES = new Set(['desktop', 'mobile', 'tablet', 'tv', 'bot']);
/**
 * Automated clients bowser does not flag. "bot" must end a word ("Googlebot/2.1", "AdsBot-Google")
 * and not be the Cubot phone brand; HTTP libraries and headless browsers are scripts, not people.
 */
const BOT_PATTERN =
  /(?<!cu)bot\b|crawl|spider|slurp|mediapartners|headless|lighthouse|phantomjs|puppeteer|playwright|selenium|scrapy|facebookexternalhit|curl\/|wget\/|python-requests|python-urllib|go-http-client|node-fetch|axios\/|java\/|libwww-perl|apache-httpclient/i;

/** Insertion-ordered, so deleting the first key evicts the oldest entry. */
const agentCache = new Map<string, Agent>();

function parseAgent(value: unknown): Agent {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_UA_LENGTH) return UNKNOWN_AGENT;
  const cached = agentCache.get(value);
  if (cached !== undefined) return cached;
  const agent = parseAgentUncached(value);
  if (agentCache.size >= UA_CACHE_LIMIT) {
    const oldest = agentCache.keys().next();
    if (oldest.done !== true) agentCache.delete(oldest.value);
  }
  agentCache.set(value, agent);
  return agent;
}

function parseAgentUncached(ua: string): Agent {
  let parsed: Bowser.Parser.ParsedResult;
  try {
    parsed = Bowser.parse(ua);
  } catch {
    // bowser throws on input it considers empty; anything it cannot read is simply unknown.
    return UNKNOWN_AGENT;
  }
  const platform = parsed.platform.type ?? '';
  return Object.freeze({
    browser: nonEmpty(parsed.browser.name),
    browserVersion: nonEmpty(parsed.browser.version),
    os: nonEmpty(parsed.os.name),
    deviceType: BOT_PATTERN.test(ua) ? 'bot' : DEVICE_TYPES.has(platform) ? platform : null,
  });
}

// ---------------------------------------------------------------------------------------------
// Reading untyped JSON safely.

const EMPTY: Record<string, unknown> = Object.freeze({});

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : EMPTY;
}

/** Own properties only, so keys such as "constructor" never resolve to Object.prototype. */
function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A trimmed, non-empty string no longer than `max`, else null. */
function text(value: unknown, max: number): string | null {
  if (typeof value !== 'string' || value.length > max) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

function parseUrl(value: string | null): URL | null {
  if (value === null) return null;
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

function queryParam(url: URL | null, name: string): string | null {
  return url === null ? null : text(url.searchParams.get(name), MAX_TEXT_LENGTH);
}

/** Plain decimal numbers only: Number('') is 0 and Number('0x10') is 16, neither is money. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A finite number, or a string holding one ("12.50"); anything else is null. */
function amount(value: unknown): number | null {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && value.length <= 64 && DECIMAL.test(value.trim())) n = Number(value.trim());
  else return null;
  return Number.isFinite(n) ? n : null;
}
