/**
 * Deterministic demo data: a small French e-commerce shop ("Ensemble Shop", shop.example.com)
 * seen through the events its SDKs would send.
 *
 * A fresh install has nothing to show, so the demo loader needs data that exercises every part of
 * the pipeline: acquisition channels and UTM parameters for
 * enrichment, a purchase funnel for analytics, identify calls and cross-device users for identity
 * resolution, server-side email events for profiles, consent for destinations, and IPs for
 * geolocation. Everything is derived from one seed with an inline PRNG, so a seed always gives
 * byte-identical events (useful for screenshots, docs and tests).
 *
 * The simulation (people → devices → sessions → events) is here; the fixed pools it draws from
 * (catalogue, names, user agents, IP ranges) are in demo-pools.ts, the seeded PRNG in demo-random.ts.
 */
import type { IncomingEvent } from '../protocol/event.js';
import { fmix32, Rng } from '../platform/random.js';
import { DeviceKind, Channel, SHOP_NAME, SHOP_ORIGIN, Product, CATEGORIES, SEARCH_QUERIES, CAMPAIGNS, NEWSLETTERS, REFERRAL_BLOGS, EMAIL_DOMAINS, APP_BUILDS, LOCAL_HOUR_WEIGHTS, CountryPool, COUNTRIES, ESP_RANGES, COUNTRY_TABLE, CHANNEL_TABLE, USER_AGENT_TABLES, PRODUCT_TABLE, MAX_HOUR_WEIGHT } from './demo-pools.js';

/** One event as an SDK would send it, and the client IP the collector should see it from. */
export interface DemoHit {
  event: IncomingEvent;
  ip: string;
}

export interface DemoOptions {
  /** Number of people (each has 1–3 devices). */
  people: number;
  /** Length of the period, ending at `now`. */
  days: number;
  /** Any 32-bit integer; the same seed gives the same events. */
  seed: number;
  /** End of the period; no event is later than this. */
  now: Date;
}

/** The product spec's minimum: 5,000 people over 90 days, which gives ≈ 76k events. */
export const DEMO_DEFAULTS: Readonly<Omit<DemoOptions, 'now'>> = Object.freeze({
  people: 5000,
  days: 90,
  seed: 42,
});

// ---------------------------------------------------------------------------------------------
// Simulation model.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Funnel step probabilities per session; they give roughly 30% / 40% / 60% as the spec asks.
const P_ADD_TO_CART = 0.3;
const P_CHECKOUT = 0.4;
const P_ORDER = 0.6;
const P_IDENTIFIES = 0.4;
/** Of the people who identify; 0.375 × 0.4 = 15% of everyone. */
const P_MULTI_DEVICE_GIVEN_IDENTIFIED = 0.375;
const P_ACCEPTS_ADVERTISING = 0.7;
/** Session count is a discrete Pareto: P(n ≥ k) = k^-α. Most visit once, a few very often. */
const SESSION_PARETO_ALPHA = 1.9;
const MAX_SESSIONS = 40;

interface Device {
  kind: DeviceKind;
  anonymousId: string;
  ip: string;
  userAgent: string;
  /** Only for app devices: the SDK's device and OS context. */
  app?: { device: Record<string, unknown>; os: Record<string, unknown>; library: { name: string; version: string } };
  /** analytics.js keeps the userId in a cookie once identify ran on this device. */
  identified: boolean;
}

interface Person {
  index: number;
  rng: Rng;
  country: CountryPool;
  locale: string;
  devices: Device[];
  consent: { analytics: true; advertising: boolean; personalization: boolean };
  /** Present for the ~40% who create an account. */
  account?: { userId: string; traits: Record<string, unknown> };
  /** Probability of opening any one newsletter: engagement varies a lot between people. */
  openRate: number;
}

interface Pending {
  t: number;
  event: IncomingEvent;
  ip: string;
}

interface Run {
  seed: number;
  nowMs: number;
  startMs: number;
  deviceCounter: number;
  orderCounter: number;
  usedEmails: Set<string>;
}

/**
 * Yields demo events person by person: each person's events are in chronological order, but the
 * stream as a whole is not globally sorted (person 2's first event may precede person 1's last).
 * Nothing is buffered beyond one person, so memory stays flat for any `people`.
 *
 * Events carry `timestamp` but deliberately no `sentAt`: the collector would otherwise "correct"
 * the historical timestamps towards the replay time.
 *
 * Server-side email events (`Email Opened`, `Email Link Clicked`) carry only `userId` and an IP of
 * the email provider's servers, as a webhook relay would.
 *
 * @example
 *   const hits = [...generateDemoHits({ ...DEMO_DEFAULTS, now: new Date() })];
 *   // hits.length ≈ 76_000; hits[0] is { event: { type: 'page', messageId: 'demo-42-1', ... }, ip: '2.12.…' }
 *   for (const { event, ip } of generateDemoHits({ people: 10, days: 7, seed: 1, now: new Date() })) {
 *     await collect(event, ip); // whatever feeds the collector
 *   }
 */
export function* generateDemoHits(opts: DemoOptions): Generator<DemoHit> {
  const { people, days, now } = opts;
  if (!Number.isInteger(people) || people < 0) throw new RangeError(`people must be a non-negative integer, got ${people}`);
  if (!Number.isFinite(days) || days <= 0) throw new RangeError(`days must be a positive number, got ${days}`);
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('now must be a valid date');
  const seed = opts.seed >>> 0;

  const run: Run = {
    seed,
    nowMs,
    startMs: nowMs - days * DAY,
    deviceCounter: 0,
    orderCounter: 0,
    usedEmails: new Set(),
  };
  const campaigns = emailCampaigns(run);
  let messageCounter = 0;
  const messagePrefix = `demo-${seed}-`;

  for (let i = 0; i < people; i++) {
    // A stream per person: person i does not change when `people` changes.
    const rng = new Rng(fmix32(seed ^ fmix32(i + 0x9e3779b9)));
    const pending = simulatePerson(run, createPerson(run, rng, i), campaigns);
    // Stable sort: events with equal times (clamped at `now`) keep their causal order.
    pending.sort((a, b) => a.t - b.t);
    for (const p of pending) {
      messageCounter++;
      p.event.messageId = messagePrefix + messageCounter;
      yield { event: p.event, ip: p.ip };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// People and devices.

function createPerson(run: Run, rng: Rng, index: number): Person {
  const country = COUNTRY_TABLE.pick(rng);
  const locale = rng.chance(0.06) ? 'en-US' : rng.pick(country.locales);
  const identifies = rng.chance(P_IDENTIFIES);
  const deviceCount = identifies && rng.chance(P_MULTI_DEVICE_GIVEN_IDENTIFIED) ? rng.weighted([[2, 0.75], [3, 0.25]] as const) : 1;

  const devices: Device[] = [];
  const kinds = new Set<DeviceKind>();
  while (devices.length < deviceCount) {
    const kind = rng.weighted<DeviceKind>([['desktop', 0.45], ['mobile', 0.36], ['tablet', 0.07], ['app', 0.12]]);
    // A second device of the same kind is unusual; retry so multi-device people look distinct.
    if (kinds.has(kind)) continue;
    kinds.add(kind);
    devices.push(createDevice(run, rng, kind, country));
  }

  const advertising = rng.chance(P_ACCEPTS_ADVERTISING);
  const person: Person = {
    index,
    rng,
    country,
    locale,
    devices,
    consent: { analytics: true, advertising, personalization: rng.chance(advertising ? 0.8 : 0.25) },
    openRate: rng.weighted([[0.05, 0.3], [0.2, 0.35], [0.45, 0.25], [0.75, 0.1]] as const),
  };
  if (identifies) {
    const userId = `cust-${String(index + 1).padStart(6, '0')}`;
    const firstName = rng.pick(country.firstNames);
    const lastName = rng.pick(country.lastNames);
    person.account = {
      userId,
      traits: {
        email: uniqueEmail(run, rng, firstName, lastName, index),
        firstName,
        lastName,
        city: rng.weighted(country.cities),
        country: country.code,
        loyaltyTier: rng.weighted([['bronze', 0.6], ['silver', 0.3], ['gold', 0.1]] as const),
      },
    };
  }
  return person;
}

function createDevice(run: Run, rng: Rng, kind: DeviceKind, country: CountryPool): Device {
  run.deviceCounter++;
  const ip = randomIp(rng, rng.chance(0.95) ? country.ipRanges : rng.pick(COUNTRIES).ipRanges);
  const device: Device = { kind, anonymousId: uuid(rng, run.seed, run.deviceCounter), ip, userAgent: '', identified: false };
  if (kind !== 'app') {
    device.userAgent = USER_AGENT_TABLES[kind].pick(rng);
    return device;
  }
  const build = rng.weighted(APP_BUILDS);
  device.userAgent = build.userAgent;
  device.app = {
    device: {
      // iOS reports an upper-case IDFV, Android a hex ANDROID_ID.
      id: build.os === 'iOS' ? uuid(rng, run.seed, run.deviceCounter + 0x40000000).toUpperCase() : rng.hex(16),
      manufacturer: build.manufacturer,
      model: build.model,
      type: build.os === 'iOS' ? 'ios' : 'android',
    },
    os: { name: build.os, version: build.osVersion },
    library: build.library,
  };
  return device;
}

/**
 * A v4-looking uuid that is unique within a run: one 32-bit word is a bijection of the device
 * counter, because four raw PRNG words carry only 32 bits of state and could collide.
 */
function uuid(rng: Rng, seed: number, counter: number): string {
  const unique = fmix32(counter ^ fmix32(seed)).toString(16).padStart(8, '0');
  const r = rng.hex(24);
  const variant = '89ab'[rng.int(0, 3)] ?? '8';
  return `${unique}-${r.slice(0, 4)}-4${r.slice(5, 8)}-${variant}${r.slice(9, 12)}-${r.slice(12, 24)}`;
}

function randomIp(rng: Rng, ranges: readonly (readonly [string, number])[]): string {
  const [base, prefix] = rng.pick(ranges);
  const octets = base.split('.').map(Number);
  const baseInt = ((octets[0] ?? 0) * 16777216) + ((octets[1] ?? 0) << 16) + ((octets[2] ?? 0) << 8);
  const host = Math.floor(rng.next() * 2 ** (32 - prefix));
  const ip = baseInt + host;
  // Avoid .0 and .255 so no address looks like a network or broadcast address.
  return `${Math.floor(ip / 16777216) % 256}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${rng.int(1, 254)}`;
}

function uniqueEmail(run: Run, rng: Rng, firstName: string, lastName: string, index: number): string {
  const first = asciiLower(firstName);
  const last = asciiLower(lastName);
  const local = rng.weighted([
    [`${first}.${last}`, 0.45],
    [`${first}${last}`, 0.15],
    [`${first[0] ?? 'x'}.${last}`, 0.15],
    [`${first}.${last}${rng.int(70, 99)}`, 0.15],
    [`${first}_${last}`, 0.1],
  ] as const);
  const domain = rng.weighted(EMAIL_DOMAINS);
  let email = `${local}@${domain}`;
  // Two customers sharing an email would be merged by identity resolution; keep them apart.
  if (run.usedEmails.has(email)) email = `${local}.${index + 1}@${domain}`;
  run.usedEmails.add(email);
  return email;
}

/** "Müller" → "muller": emails are plain lower-case ASCII. */
function asciiLower(name: string): string {
  return name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]/g, '');
}

// ---------------------------------------------------------------------------------------------
// Sessions.

interface SessionPlan {
  start: number;
  device: Device;
  channel: Channel;
  /** Set when the session follows an email click, so its utm_campaign matches the email. */
  emailCampaign?: EmailCampaign;
}

function simulatePerson(run: Run, person: Person, campaigns: readonly EmailCampaign[]): Pending[] {
  const { rng, devices } = person;
  const window = run.nowMs - run.startMs;
  const cap = Math.max(1, Math.min(MAX_SESSIONS, Math.ceil((window / DAY) * 2)));
  let count = Math.min(cap, Math.floor(Math.pow(1 - rng.next(), -1 / SESSION_PARETO_ALPHA)));
  // Multi-device people need one session per device after the account exists, or nothing links.
  count = Math.max(count, devices.length);

  const starts: number[] = [];
  for (let s = 0; s < count; s++) starts.push(sessionStart(run, rng, person.country.utcOffset));
  starts.sort((a, b) => a - b);

  const plans: SessionPlan[] = starts.map((start, s) => ({
    start,
    // Sessions 0..n-1 cover every device once (device 0 first, where the account is created).
    device: devices[s] ?? rng.weighted(devices.map((d, k) => [d, k === 0 ? 3 : 1] as const)),
    channel: CHANNEL_TABLE.pick(rng),
  }));
  // The account is created in one of the person's sessions, more often an early one. For
  // multi-device people it is the first, so every later device session can log in.
  const accountSession = person.account && devices.length === 1 ? (rng.chance(0.5) ? 0 : rng.int(0, count - 1)) : 0;

  const out: Pending[] = [];
  let lastT = run.startMs;
  let identifiedAt: number | undefined;
  plans.forEach((plan, s) => {
    // Sessions of one person do not overlap; clamping at `now` happens in SessionWriter.
    const w = new SessionWriter(run, person, plan, Math.max(plan.start, lastT + MINUTE), out);
    const accountStep = person.account === undefined ? 'none' : s === accountSession ? 'signup' : identifiedAt !== undefined && !plan.device.identified ? 'login' : 'none';
    runSession(run, w, accountStep);
    if (accountStep === 'signup') identifiedAt = w.identifiedAt;
    lastT = w.t;
  });

  if (person.account && identifiedAt !== undefined) emailEngagement(run, person, campaigns, identifiedAt, out);
  return out;
}

/** A uniform instant in the period, thinned so that local evenings are busier than nights. */
function sessionStart(run: Run, rng: Rng, utcOffset: number): number {
  const maxWeight = MAX_HOUR_WEIGHT;
  let t = run.startMs;
  for (let attempt = 0; attempt < 8; attempt++) {
    t = run.startMs + rng.next() * (run.nowMs - run.startMs);
    const localHour = (new Date(t).getUTCHours() + utcOffset) % 24;
    if (rng.next() * maxWeight < (LOCAL_HOUR_WEIGHTS[localHour] ?? maxWeight)) break;
  }
  return Math.floor(t);
}

type AccountStep = 'none' | 'signup' | 'login';

/** Landing page, browsing, then the purchase funnel; identify when the account is created or used. */
function runSession(run: Run, w: SessionWriter, accountStep: AccountStep): void {
  const rng = w.rng;
  w.landing();

  if (accountStep !== 'none') {
    w.view(accountStep === 'signup' ? '/account/register' : '/account/login', accountStep === 'signup' ? 'Create your account' : 'Sign in', 'Account');
    w.identify(accountStep === 'signup');
    w.track(accountStep === 'signup' ? 'Signed Up' : 'Signed In', { method: 'email' });
  }

  // 20% bounce after the landing page; the rest view a geometric number of products.
  let views = rng.chance(0.2) ? 0 : 1;
  while (views > 0 && views < 12 && rng.chance(0.45)) views++;
  const viewed: Product[] = [];
  for (let v = 0; v < views; v++) {
    if (rng.chance(0.1)) {
      const query = rng.pick(SEARCH_QUERIES);
      w.view(`/search?q=${encodeURIComponent(query)}`, `Search: ${query}`, 'Search');
      w.track('Products Searched', { query });
    } else if (rng.chance(0.35)) {
      const category = rng.pick(CATEGORIES);
      w.view(`/c/${category.slug}`, category.name, 'Category', category.name);
      w.track('Product List Viewed', { list_id: category.slug, category: category.name });
    }
    const product = pickProduct(rng);
    viewed.push(product);
    w.view(`/p/${product.slug}`, product.name, 'Product', product.category);
    w.track('Product Viewed', { ...productProps(product), currency: 'EUR', url: `${SHOP_ORIGIN}/p/${product.slug}` });
  }
  if (viewed.length === 0 || !rng.chance(P_ADD_TO_CART)) return;

  const cartId = `cart-${run.seed}-${w.person.index}-${Math.floor(w.t / 1000)}`;
  const cart: (Product & { quantity: number })[] = [];
  const adds = viewed.length > 1 && rng.chance(0.25) ? 2 : 1;
  // The last products viewed are the ones that end up in the cart.
  for (const product of viewed.slice(-adds)) {
    if (cart.some((c) => c.id === product.id)) continue;
    const quantity = rng.chance(0.85) ? 1 : 2;
    cart.push({ ...product, quantity });
    w.track('Product Added', { cart_id: cartId, ...productProps(product), currency: 'EUR', quantity });
  }
  w.view('/cart', 'Your cart', 'Cart');
  if (!rng.chance(P_CHECKOUT)) return;

  run.orderCounter++;
  const orderId = `ORD-${String(run.seed % 1000).padStart(3, '0')}-${String(run.orderCounter).padStart(6, '0')}`;
  const products = cart.map((c) => ({ ...productProps(c), quantity: c.quantity }));
  const subtotal = cents(cart.reduce((sum, c) => sum + c.price * c.quantity, 0));
  w.view('/checkout', 'Checkout', 'Checkout');
  w.track('Checkout Started', { order_id: orderId, value: subtotal, revenue: subtotal, currency: 'EUR', products });
  if (!rng.chance(P_ORDER)) return;

  // Segment spec: revenue excludes shipping and tax; total is what the customer paid.
  const coupon = rng.chance(0.12) ? rng.pick(['BIENVENUE10', 'NEWSLETTER10', 'SOLDES15'] as const) : undefined;
  const discount = coupon ? cents(subtotal * (coupon === 'SOLDES15' ? 0.15 : 0.1)) : 0;
  const revenue = cents(subtotal - discount);
  const shipping = revenue >= 60 ? 0 : 4.9;
  const properties: Record<string, unknown> = {
    order_id: orderId,
    checkout_id: `chk-${orderId}`,
    total: cents(revenue + shipping),
    revenue,
    // Prices include 20% VAT, as French shops display them.
    tax: cents(revenue - revenue / 1.2),
    shipping,
    discount,
    currency: 'EUR',
    products,
  };
  if (coupon) properties.coupon = coupon;
  w.view('/checkout/confirmation', 'Thank you for your order', 'Order Confirmation');
  w.track('Order Completed', properties);
}

function pickProduct(rng: Rng): Product {
  return PRODUCT_TABLE.pick(rng);
}

function productProps(p: Product): Record<string, unknown> {
  return { product_id: p.id, sku: p.sku, name: p.name, category: p.category, brand: p.brand, price: p.price };
}

const isoDayPrefixes = new Map<number, string>();

/**
 * `new Date(t).toISOString()` with the date part cached per day; it was a fifth of the run time.
 * isoTime(Date.UTC(2024, 4, 1, 9, 5, 7, 42)) === '2024-05-01T09:05:07.042Z'
 */
function isoTime(t: number): string {
  const day = Math.floor(t / DAY);
  let prefix = isoDayPrefixes.get(day);
  if (prefix === undefined) {
    if (isoDayPrefixes.size > 4096) isoDayPrefixes.clear();
    prefix = new Date(day * DAY).toISOString().slice(0, 11);
    isoDayPrefixes.set(day, prefix);
  }
  const ms = t - day * DAY;
  const h = Math.floor(ms / HOUR);
  const m = Math.floor((ms % HOUR) / MINUTE);
  const sec = Math.floor((ms % MINUTE) / 1000);
  const milli = ms % 1000;
  return `${prefix}${h < 10 ? '0' : ''}${h}:${m < 10 ? '0' : ''}${m}:${sec < 10 ? '0' : ''}${sec}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

function cents(x: number): number {
  return Math.round(x * 100) / 100;
}

interface PageInfo {
  url: string;
  path: string;
  search: string;
  referrer: string;
  title: string;
}

/** Appends one session's events to `out`, advancing a clock and tracking the current page. */
class SessionWriter {
  readonly rng: Rng;
  t: number;
  identifiedAt: number | undefined;
  private page: PageInfo | undefined;
  private readonly campaign: Record<string, string> | undefined;

  constructor(
    private readonly run: Run,
    readonly person: Person,
    private readonly plan: SessionPlan,
    start: number,
    private readonly out: Pending[],
  ) {
    this.rng = person.rng;
    this.t = Math.min(start, run.nowMs);
    this.campaign = campaignFor(plan);
  }

  /** The first page view; its URL and referrer tell enrichment which channel brought the visit. */
  landing(): void {
    const { rng } = this;
    const { channel } = this.plan;
    let path = '/';
    let title = 'Home and lifestyle';
    let name = 'Home';
    let category: string | undefined;
    const deepLink = channel === 'direct' ? rng.chance(0.3) : channel === 'email' ? rng.chance(0.4) : rng.chance(0.75);
    if (deepLink && this.plan.device.kind !== 'app') {
      if (rng.chance(0.6)) {
        const p = pickProduct(rng);
        [path, title, name, category] = [`/p/${p.slug}`, p.name, 'Product', p.category];
      } else {
        const c = rng.pick(CATEGORIES);
        [path, title, name, category] = [`/c/${c.slug}`, c.name, 'Category', c.name];
      }
    }
    const params: string[] = [];
    if (this.campaign) {
      params.push(`utm_source=${this.campaign.source}`, `utm_medium=${this.campaign.medium}`, `utm_campaign=${this.campaign.name}`);
      if (channel === 'cpc') params.push(`gclid=EAIaIQobChMI${rng.token(40)}`);
      if (channel === 'facebook' || channel === 'instagram') params.push(`fbclid=IwAR${rng.token(56)}`);
    }
    this.view(params.length > 0 ? `${path}?${params.join('&')}` : path, title, name, category, externalReferrer(rng, channel));
  }

  /** A page view on the web, a screen view in the app. */
  view(pathWithQuery: string, title: string, name: string, category?: string, referrer?: string): void {
    this.tick(this.page ? this.rng.exp(40_000) + 3_000 : 0);
    if (this.plan.device.kind === 'app') {
      this.push({ type: 'screen', name, properties: category ? { category } : {} });
      return;
    }
    const q = pathWithQuery.indexOf('?');
    const path = q < 0 ? pathWithQuery : pathWithQuery.slice(0, q);
    const search = q < 0 ? '' : pathWithQuery.slice(q);
    this.page = {
      url: `${SHOP_ORIGIN}${pathWithQuery}`,
      path,
      search,
      referrer: referrer ?? this.page?.url ?? '',
      title: `${title} | ${SHOP_NAME}`,
    };
    const properties: Record<string, unknown> = { ...this.page };
    if (category) properties.category = category;
    this.push({ type: 'page', name, properties });
  }

  track(event: string, properties: Record<string, unknown>): void {
    this.tick(this.rng.exp(2_000) + 300);
    this.push({ type: 'track', event, properties });
  }

  identify(full: boolean): void {
    this.tick(this.rng.exp(20_000) + 5_000);
    const account = this.person.account;
    if (!account) return;
    // Signup sends the whole profile; a later login on another device only the basics.
    const traits = full
      ? { ...account.traits, createdAt: isoTime(this.t) }
      : { email: account.traits.email, firstName: account.traits.firstName, lastName: account.traits.lastName };
    this.plan.device.identified = true;
    this.identifiedAt = this.t;
    this.push({ type: 'identify', traits });
  }

  private tick(ms: number): void {
    this.t = Math.min(this.t + Math.round(ms), this.run.nowMs);
  }

  private push(partial: IncomingEvent): void {
    const { device } = this.plan;
    const context: Record<string, unknown> = {
      userAgent: device.userAgent,
      locale: this.person.locale,
      timezone: this.person.country.timezone,
      consent: { categoryPreferences: { ...this.person.consent } },
    };
    if (device.app) {
      const build = device.app;
      context.app = { name: SHOP_NAME, version: '3.4.1', build: '341', namespace: 'com.example.ensembleshop' };
      context.device = { ...build.device };
      context.os = { ...build.os };
      context.library = { ...build.library };
    } else {
      context.library = { name: 'analytics.js', version: 'next-1.70.0' };
      if (this.page) context.page = { ...this.page };
      if (this.campaign) context.campaign = { ...this.campaign };
    }
    // One literal with `messageId` first: it is filled in after sorting, and assigning an existing
    // key keeps V8's object shapes stable (adding keys afterwards made generation 2× slower).
    const event: IncomingEvent = {
      messageId: '',
      type: partial.type,
      anonymousId: device.anonymousId,
      timestamp: isoTime(this.t),
      context,
    };
    if (device.identified && this.person.account) event.userId = this.person.account.userId;
    if (partial.event !== undefined) event.event = partial.event;
    if (partial.name !== undefined) event.name = partial.name;
    if (partial.properties !== undefined) event.properties = partial.properties;
    if (partial.traits !== undefined) event.traits = partial.traits;
    this.out.push({ t: this.t, event, ip: device.ip });
  }
}

function campaignFor(plan: SessionPlan): Record<string, string> | undefined {
  if (plan.device.kind === 'app') return undefined;
  if (plan.emailCampaign) return { source: 'newsletter', medium: 'email', name: plan.emailCampaign.utm };
  const campaigns = CAMPAIGNS[plan.channel];
  if (!campaigns) return undefined;
  // Deterministic from the start time so that one channel's campaigns rotate over the period.
  const name = campaigns.names[Math.floor(plan.start / (9 * DAY)) % campaigns.names.length] ?? 'always_on';
  return { source: campaigns.source, medium: campaigns.medium, name };
}

function externalReferrer(rng: Rng, channel: Channel): string {
  switch (channel) {
    case 'direct':
    case 'email':
      return '';
    case 'organic':
      return rng.weighted([['https://www.google.com/', 0.55], ['https://www.google.fr/', 0.3], ['https://www.bing.com/', 0.08], ['https://www.qwant.com/', 0.07]] as const);
    case 'cpc':
      return 'https://www.google.com/';
    case 'facebook':
      return rng.chance(0.7) ? 'https://l.facebook.com/' : 'https://m.facebook.com/';
    case 'instagram':
      return 'https://l.instagram.com/';
    case 'referral':
      return rng.pick(REFERRAL_BLOGS);
  }
}

// ---------------------------------------------------------------------------------------------
// Email campaigns, sent through an email provider whose webhooks reach us via analytics-node.

interface EmailCampaign {
  id: string;
  name: string;
  utm: string;
  sentAt: number;
}

/** Weekly newsletter on Tuesdays 08:00 UTC, aligned to the calendar so ids are stable across runs. */
function emailCampaigns(run: Run): EmailCampaign[] {
  const campaigns: EmailCampaign[] = [];
  const epochTuesday = 5 * DAY + 8 * HOUR; // 1970-01-06 was a Tuesday
  let t = epochTuesday + Math.ceil((run.startMs - epochTuesday) / (7 * DAY)) * 7 * DAY;
  for (; t <= run.nowMs; t += 7 * DAY) {
    const week = Math.floor((t - epochTuesday) / (7 * DAY));
    const newsletter = NEWSLETTERS[week % NEWSLETTERS.length] ?? NEWSLETTERS[0];
    const date = new Date(t).toISOString().slice(0, 10);
    campaigns.push({ id: `nl-${date}`, name: `${newsletter.name} (${date})`, utm: newsletter.utm, sentAt: t });
  }
  return campaigns;
}

function emailEngagement(run: Run, person: Person, campaigns: readonly EmailCampaign[], identifiedAt: number, out: Pending[]): void {
  const { rng } = person;
  const account = person.account;
  const home = person.devices[0];
  if (!account || !home) return;
  for (const campaign of campaigns) {
    // Only newsletters sent after the signup reach the person.
    if (campaign.sentAt < identifiedAt + HOUR || !rng.chance(person.openRate)) continue;
    const emailId = `${campaign.id}-${account.userId}`;
    const properties = { campaign_id: campaign.id, campaign_name: campaign.name, email_id: emailId };
    const openedAt = campaign.sentAt + Math.round(rng.exp(6 * HOUR));
    if (openedAt > run.nowMs) continue;
    out.push(emailEvent('Email Opened', account.userId, openedAt, properties, rng));
    if (!rng.chance(0.3)) continue;
    const clickedAt = openedAt + Math.round(rng.exp(60_000) + 5_000);
    if (clickedAt > run.nowMs) continue;
    const linkUrl = `${SHOP_ORIGIN}/?utm_source=newsletter&utm_medium=email&utm_campaign=${campaign.utm}`;
    out.push(emailEvent('Email Link Clicked', account.userId, clickedAt, { ...properties, link_url: linkUrl }, rng));
    // Most clicks open the shop on the device where the person reads email (their first one).
    if (!rng.chance(0.8)) continue;
    const plan: SessionPlan = { start: clickedAt + 2_000, device: home, channel: 'email', emailCampaign: campaign };
    const w = new SessionWriter(run, person, plan, plan.start, out);
    runSession(run, w, 'none');
  }
}

function emailEvent(event: string, userId: string, t: number, properties: Record<string, unknown>, rng: Rng): Pending {
  return {
    t,
    ip: randomIp(rng, ESP_RANGES),
    event: {
      messageId: '',
      type: 'track',
      event,
      userId,
      timestamp: isoTime(t),
      properties,
      context: { library: { name: 'analytics-node', version: '6.2.0' } },
    },
  };
}
