/**
 * Synthetic people and event streams for the profile benchmarks (identity, lookup, memory).
 * Everything is derived from a seed and a person's index, so two processes (the lookup bench's
 * orchestrator and its baseline server) build the same identifiers without sharing a file, and
 * two runs resolve the same stream.
 *
 * A person has a user id, an email (as a person types it: mixed case), sometimes a phone (as
 * typed: national format with spaces), one anonymous id per device, and traits. The stream
 * generator turns people into what an online shop's SDKs send: anonymous page views and product
 * events, an `identify` on login (user id + email, phone for some), then logged-in events.
 *
 * @example
 *   const s = generateStream({ events: 200_000, seed: 1 });
 *   s.events[0]; // { type: 'page', messageId: 'bm-…', anonymousId: '…', properties: {…}, … }
 */
import type { CollectedEvent, EventType } from '../../src/protocol/event.js';

// ---- deterministic randomness -----------------------------------------------------------------

/** A 32-bit mix of integers (murmur3's finaliser over a running hash). */
export function mix(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A seeded generator of floats in [0, 1) (xorshift32 over a mixed seed). */
export function random(seed: number): () => number {
  let s = mix(seed, 0x5bd1e995) || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function pick<T>(items: readonly T[], n: number): T {
  return items[n % items.length] as T;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * A v4-shaped UUID derived from (seed, a, b): what analytics.js puts in `anonymousId`. Each
 * 32-bit word starts from its own state (word number first), so two inputs that collide in one
 * word do not collide in the others: ~122 random bits, no accidental shared ids at 10M people.
 */
export function uuidOf(seed: number, a: number, b: number): string {
  const w = [mix(1, seed, a, b), mix(2, seed, a, b), mix(3, seed, a, b), mix(4, seed, a, b)].map(hex8).join('');
  return `${w.slice(0, 8)}-${w.slice(8, 12)}-4${w.slice(13, 16)}-${'89ab'[mix(5, seed, a, b) % 4]}${w.slice(17, 20)}-${w.slice(20, 32)}`;
}

// ---- people -------------------------------------------------------------------------------------

const FIRST = ['Ada', 'Louis', 'Chloé', 'Hugo', 'Emma', 'Jules', 'Léa', 'Noah', 'Mia', 'Lucas', 'Anna', 'Paul', 'Inès', 'Tom', 'Zoé', 'Nils', 'Eva', 'Max', 'Lina', 'Sam'];
const LAST = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefebvre', 'Michel', 'Garcia', 'Schmidt', 'Müller', 'Rossi', 'Jansen', 'Novak'];
const DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.fr', 'orange.fr', 'free.fr', 'gmx.de', 'icloud.com', 'proton.me', 'hotmail.co.uk', 'web.de'];
const CITIES = ['Paris', 'Lyon', 'Berlin', 'Hamburg', 'Madrid', 'London', 'Amsterdam', 'Brussels', 'Milan', 'Vienna'];
const PLANS = ['free', 'basic', 'plus', 'pro', 'business'];
const LANGS = ['fr', 'en', 'de', 'es', 'nl', 'it'];
/** Digits after "06" that the phone metadata accepts as French mobiles. */
const MOBILE_SECOND = [0, 1, 2, 4, 5, 6, 7, 8];

export interface Person {
  index: number;
  userId: string;
  /** As typed (mixed case); the engine stores it lower-cased. */
  email: string;
  /** National format with spaces, or null (most people give none). */
  phone: string | null;
  /** One per device; the first is the person's main browser. */
  anonymousIds: string[];
  first: string;
  last: string;
}

export interface PersonOptions {
  seed: number;
  /** Share of people with a phone number. */
  phoneShare?: number;
  /** Share of people with more than one device (2 or 3). */
  multiDeviceShare?: number;
}

/** Person `i` of a population (the same for the same seed and index, in any process). */
export function personOf(i: number, opts: PersonOptions): Person {
  const { seed } = opts;
  const h = mix(seed, i, 17);
  const first = pick(FIRST, h);
  const last = pick(LAST, h >>> 8);
  const ascii = (s: string) => s.normalize('NFD').replace(/[^A-Za-z]/g, '');
  const email = `${ascii(first)}.${ascii(last)}${i}@${pick(DOMAINS, h >>> 16)}`;
  const phoneRoll = mix(seed, i, 23) / 4294967296;
  // "06 x" + 7 digits of the index: unique per person, a valid French mobile.
  const digits = `06${pick(MOBILE_SECOND, h >>> 3)}${String(i % 10_000_000).padStart(7, '0')}`;
  const phone = phoneRoll < (opts.phoneShare ?? 0) ? digits.replace(/(\d\d)(?=\d)/g, '$1 ') : null;
  const deviceRoll = mix(seed, i, 29) / 4294967296;
  const devices = deviceRoll < (opts.multiDeviceShare ?? 0) ? 2 + (mix(seed, i, 31) % 2) : 1;
  const anonymousIds = Array.from({ length: devices }, (_, d) => uuidOf(seed, i, d));
  return { index: i, userId: `usr_${i.toString(36).padStart(5, '0')}${(h & 0xffff).toString(36)}`, email, phone, anonymousIds, first, last };
}

/**
 * Up to 22 traits of mixed types (strings, numbers, booleans, dates), as a shop's identify call
 * sends them, plus the phone when the person has one; version `v` changes a few values.
 */
export function traitsOf(p: Person, v: number, count = 20): Record<string, unknown> {
  const h = mix(p.index, v, 41);
  const all: Record<string, unknown> = {
    email: p.email,
    first_name: p.first,
    last_name: p.last,
    name: `${p.first} ${p.last}`,
    plan: pick(PLANS, h + v),
    city: pick(CITIES, mix(p.index, 3)),
    country: pick(['FR', 'DE', 'ES', 'GB', 'NL', 'BE', 'IT', 'AT'], mix(p.index, 4)),
    language: pick(LANGS, mix(p.index, 5)),
    age: 18 + (mix(p.index, 6) % 60),
    orders_count: (mix(p.index, 7) % 20) + v,
    lifetime_value: Math.round((mix(p.index, 8) % 200_000) + v * 1234) / 100,
    newsletter: (h & 1) === 1,
    marketing_opt_in: (h & 2) === 2,
    vip: (mix(p.index, 9) % 10) === 0,
    loyalty_points: (mix(p.index, 10) % 5000) + v * 25,
    created_at: new Date(Date.UTC(2024, 0, 1) + (mix(p.index, 11) % 700) * 86_400_000).toISOString(),
    last_order_at: new Date(Date.UTC(2026, 0, 1) + v * 86_400_000 + (h % 86_400) * 1000).toISOString(),
    preferred_category: pick(['Apparel', 'Shoes', 'Home', 'Outdoor', 'Beauty'], h >>> 4),
    avg_basket: Math.round(mix(p.index, 12) % 30_000) / 100,
    title: pick(['', 'Mr', 'Ms', 'Dr'], mix(p.index, 13)),
    company: pick(['', 'Acme', 'Globex', 'Initech', 'Umbrella'], mix(p.index, 14)),
    timezone: pick(['Europe/Paris', 'Europe/Berlin', 'Europe/London', 'Europe/Madrid'], mix(p.index, 15)),
  };
  const out = Object.fromEntries(Object.keys(all).slice(0, count).map((k) => [k, all[k]]));
  if (p.phone !== null) out.phone = p.phone;
  return out;
}

// ---- event streams --------------------------------------------------------------------------------

/** A Segment-spec event as an SDK sends it (what `/v1/batch` and `collector.ingest` take). */
export interface IncomingEvent {
  type: EventType;
  messageId: string;
  anonymousId: string;
  userId?: string;
  event?: string;
  name?: string;
  properties: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context: Record<string, unknown>;
  timestamp: string;
}

export interface StreamOptions {
  /** Stop adding people once this many events were generated (the stream has about this many). */
  events: number;
  seed: number;
  /** Share of people who log in (identify with user id + email). */
  identifiedShare?: number;
  /** Share of people using several devices (an identify on each merges them). */
  multiDeviceShare?: number;
  /** Share of people whose identify carries a phone number. */
  phoneShare?: number;
  /** Traits per identify call (besides a phone). */
  traits?: number;
  /** Days the stream spans. */
  days?: number;
}

export interface Stream {
  events: IncomingEvent[];
  people: number;
  identified: number;
  multiDevice: number;
  withPhone: number;
  /** Per type of event, how many. */
  byType: Record<string, number>;
}

const PRODUCTS = ['sku-1042', 'sku-2210', 'sku-3307', 'sku-4415', 'sku-5521', 'sku-6630', 'sku-7745', 'sku-8859'];
const PAGES = ['/', '/women', '/men', '/sale', '/product', '/cart', '/checkout', '/account'];
const CONTEXT = { library: { name: 'analytics.js', version: '5.2.0' }, locale: 'fr-FR' };
const DAY = 86_400_000;

/**
 * A shop's event stream in time order: each person browses anonymously on each device; those
 * who log in identify on every device they use (so a second device merges into the first
 * profile) and keep sending their user id afterwards.
 */
export function generateStream(opts: StreamOptions): Stream {
  const rand = random(opts.seed);
  const identifiedShare = opts.identifiedShare ?? 0.4;
  const people = { n: 0, identified: 0, multi: 0, phone: 0 };
  const timed: Array<{ at: number; e: IncomingEvent }> = [];
  const start = Date.UTC(2026, 0, 1);
  const span = (opts.days ?? 30) * DAY;
  let msg = 0;
  const id = () => `bm-${opts.seed.toString(36)}-${(msg++).toString(36).padStart(7, '0')}`;
  while (timed.length < opts.events) {
    const i = people.n++;
    const p = personOf(i, { seed: opts.seed, phoneShare: opts.phoneShare ?? 0.3, multiDeviceShare: opts.multiDeviceShare ?? 0.15 });
    const logsIn = rand() < identifiedShare;
    if (logsIn) people.identified++;
    if (p.anonymousIds.length > 1) people.multi++;
    if (logsIn && p.phone !== null) people.phone++;
    let at = start + Math.floor(rand() * span * 0.8);
    p.anonymousIds.forEach((anonymousId, device) => {
      if (device > 0) at += DAY + Math.floor(rand() * 4 * DAY);
      const push = (e: Omit<IncomingEvent, 'messageId' | 'anonymousId' | 'context' | 'timestamp'>, userId: boolean) => {
        at += 5_000 + Math.floor(rand() * 120_000);
        timed.push({ at, e: { messageId: id(), anonymousId, ...(userId ? { userId: p.userId } : {}), context: CONTEXT, timestamp: new Date(at).toISOString(), ...e } });
      };
      const browse = (n: number, userId: boolean) => {
        for (let k = 0; k < n; k++) {
          if (rand() < 0.6) {
            const path = PAGES[Math.floor(rand() * PAGES.length)] as string;
            push({ type: 'page', name: path === '/' ? 'Home' : path.slice(1), properties: { path, url: `https://shop.example${path}`, title: 'Shop' } }, userId);
          } else {
            const sku = PRODUCTS[Math.floor(rand() * PRODUCTS.length)] as string;
            push({ type: 'track', event: rand() < 0.7 ? 'Product Viewed' : 'Product Added', properties: { product_id: sku, price: 19 + Math.floor(rand() * 80), currency: 'EUR' } }, userId);
          }
        }
      };
      browse(1 + Math.floor(rand() * 5), false);
      if (!logsIn) return;
      const traits = traitsOf(p, device, opts.traits ?? 8);
      push({ type: 'identify', properties: {}, traits }, true);
      browse(Math.floor(rand() * 5), true);
    });
  }
  timed.sort((a, b) => a.at - b.at);
  const events = timed.map((t) => t.e);
  const byType: Record<string, number> = {};
  for (const e of events) byType[e.type] = (byType[e.type] ?? 0) + 1;
  return { events, people: people.n, identified: people.identified, multiDevice: people.multi, withPhone: people.phone, byType };
}

/** The raw identifiers an event carries (type, value as sent), without duplicates. */
export function rawIdentifiers(e: { type: string; anonymousId?: string | null; userId?: string | null; traits?: Record<string, unknown> }): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (e.userId) out.push(['user_id', e.userId]);
  if (e.anonymousId) out.push(['anonymous_id', e.anonymousId]);
  if (e.type === 'identify' && e.traits) {
    if (typeof e.traits.email === 'string') out.push(['email', e.traits.email]);
    if (typeof e.traits.phone === 'string') out.push(['phone', e.traits.phone]);
  }
  return out;
}

/**
 * Edges an event asserts: an event carrying k identifiers says they belong together, which is
 * k − 1 links (a spanning tree over them), what a union-find does with k − 1 unions.
 */
export function edgesOf(e: Parameters<typeof rawIdentifiers>[0]): number {
  return Math.max(0, rawIdentifiers(e).length - 1);
}

/** The event as the collector would have logged it (what the processor resolves). */
export function toCollected(e: IncomingEvent, workspaceId: string, sourceId: string): CollectedEvent {
  const out: CollectedEvent = {
    type: e.type, messageId: e.messageId, workspaceId, sourceId, anonymousId: e.anonymousId, userId: e.userId ?? null,
    properties: e.properties, traits: e.traits ?? {}, context: { ...e.context },
    originalTimestamp: e.timestamp, timestamp: e.timestamp, sentAt: null, receivedAt: e.timestamp, country: null,
  };
  if (e.event !== undefined) out.event = e.event;
  if (e.name !== undefined) out.name = e.name;
  return out;
}
