/**
 * Request bodies for the ingest bench: realistic Segment track events, each with a unique
 * `messageId` (the server dedupes on it, so a repeated id would be silently dropped and the
 * durable-count check would fail).
 *
 * The generator shares the machine's cores with the server, so bodies are cheap to make: a pool
 * of pre-serialised templates with fixed-width slots for `messageId` and `sentAt`; each request
 * copies one template and overwrites the slots. No JSON.stringify per request.
 *
 * @example
 *   const bodies = new PayloadFactory({ eventsPerRequest: 100, seed: 1 });
 *   const buf = bodies.next(); // {"sentAt":"…","batch":[{"messageId":"bench-1a2b3c4d-00000000001",…},…]}
 */
import { randomBytes } from 'node:crypto';
import { Rng } from '../../src/platform/random.js';

/** `bench-` + 8 hex (per process) + `-` + 11 base-36 digits (per event): 26 characters. */
const ID_PREFIX_LENGTH = 15;
const ID_COUNTER_DIGITS = 11;
const ID_LENGTH = ID_PREFIX_LENGTH + ID_COUNTER_DIGITS;
/** `new Date().toISOString()` is always 24 characters for years 1970–9999. */
const SENT_AT_LENGTH = 24;

const TEMPLATE_POOL = 64;
const EVENT_POOL = 1024;
const USERS = 5000;

interface Template {
  buf: Buffer;
  idOffsets: number[];
  sentAtOffset: number;
}

export interface PayloadOptions {
  eventsPerRequest: number;
  seed: number;
  /**
   * When given, `next()` returns a whole HTTP/1.1 request: this head (request line + headers,
   * ending in a blank line) for a body of `contentLength` bytes, then the body. Bodies have a
   * fixed length per template, so the head is built once per template.
   */
  httpHead?: (contentLength: number) => string;
}


function pick<T>(rand: () => number, items: readonly T[]): T {
  const item = items[Math.floor(rand() * items.length)];
  if (item === undefined) throw new Error('pick() from an empty list');
  return item;
}

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.97',
] as const;

const LOCALES = [
  ['en-US', 'America/New_York'], ['en-GB', 'Europe/London'], ['de-DE', 'Europe/Berlin'],
  ['fr-FR', 'Europe/Paris'], ['es-ES', 'Europe/Madrid'], ['nl-NL', 'Europe/Amsterdam'],
] as const;

/** First octets of publicly routed ranges, so geo enrichment has something real to look up. */
const IP_FIRST_OCTETS = [2, 5, 31, 37, 46, 62, 77, 81, 84, 86, 91, 92, 176, 178, 185, 212, 213, 217] as const;

const PRODUCTS = [
  ['sku-1042', 'Merino Crew Sweater', 'Apparel', 'Nordwool', 89.0],
  ['sku-2210', 'Trail Running Shoe', 'Footwear', 'Alpina', 129.95],
  ['sku-3307', 'Insulated Bottle 750ml', 'Outdoor', 'Hydra', 24.5],
  ['sku-4471', 'Rain Shell Jacket', 'Apparel', 'Nordwool', 199.0],
  ['sku-5120', 'Wool Beanie', 'Accessories', 'Nordwool', 19.99],
  ['sku-6618', 'Day Pack 22L', 'Bags', 'Alpina', 74.0],
  ['sku-7002', 'Headlamp 400lm', 'Outdoor', 'Lumen', 39.9],
  ['sku-8150', 'Hiking Socks (3 pairs)', 'Footwear', 'Alpina', 21.0],
] as const;

/** Weighted like a shop's funnel: many views, few orders. */
const EVENT_NAMES = [
  'Product Viewed', 'Product Viewed', 'Product Viewed', 'Product Viewed', 'Products Searched',
  'Product Added', 'Product Added', 'Cart Viewed', 'Checkout Started', 'Order Completed',
] as const;

function makeEvent(rand: () => number, now: number): Record<string, unknown> {
  const user = Math.floor(rand() * USERS);
  const identified = user % 5 < 2; // 40 % of users are logged in
  const product = pick(rand, PRODUCTS);
  const [locale, timezone] = pick(rand, LOCALES);
  const name = pick(rand, EVENT_NAMES);
  const quantity = 1 + Math.floor(rand() * 3);
  const slug = product[1].toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const url = `https://shop.example.com/p/${slug}`;
  const properties: Record<string, unknown> =
    name === 'Order Completed'
      ? {
          order_id: `ord_${Math.floor(rand() * 1e9).toString(36)}`,
          revenue: Math.round(product[4] * quantity * 100) / 100,
          currency: 'EUR',
          products: [{ product_id: product[0], sku: product[0], name: product[1], price: product[4], quantity }],
        }
      : name === 'Products Searched'
        ? { query: pick(rand, ['wool', 'rain jacket', 'running shoes', 'headlamp', 'bottle']) }
        : {
            product_id: product[0], sku: product[0], name: product[1], category: product[2],
            brand: product[3], price: product[4], currency: 'EUR', quantity, url,
          };
  const event: Record<string, unknown> = {
    type: 'track',
    anonymousId: `anon-${(user * 2654435761 >>> 0).toString(16).padStart(8, '0')}-${user}`,
    event: name,
    properties,
    context: {
      ip: `${pick(rand, IP_FIRST_OCTETS)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`,
      userAgent: pick(rand, USER_AGENTS),
      locale,
      timezone,
      library: { name: '@segment/analytics-node', version: '2.1.2' },
      page: { path: new URL(url).pathname, referrer: 'https://www.google.com/', title: product[1], url },
    },
    timestamp: new Date(now - Math.floor(rand() * 2000)).toISOString(),
  };
  if (identified) event['userId'] = `user_${user}`;
  return event;
}

/** Serialises `{"messageId":"<slot>",…rest of the event}` and notes the slot's offset. */
class TemplateBuilder {
  private readonly parts: Buffer[] = [];
  private length = 0;
  readonly idOffsets: number[] = [];
  sentAtOffset = -1;

  text(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.parts.push(b);
    this.length += b.length;
  }

  private slot(width: number): number {
    const offset = this.length;
    this.text('0'.repeat(width));
    return offset;
  }

  /** `inObject`: the event's fields continue an object already opened (the single-event body). */
  event(json: string, inObject = false): void {
    this.text(inObject ? '"messageId":"' : '{"messageId":"');
    this.idOffsets.push(this.slot(ID_LENGTH));
    this.text(`",${json.slice(1)}`);
  }

  sentAt(): void {
    this.sentAtOffset = this.slot(SENT_AT_LENGTH);
  }

  build(httpHead?: (contentLength: number) => string): Template {
    const body = Buffer.concat(this.parts, this.length);
    if (httpHead === undefined) return { buf: body, idOffsets: this.idOffsets, sentAtOffset: this.sentAtOffset };
    const head = Buffer.from(httpHead(body.length), 'latin1');
    return {
      buf: Buffer.concat([head, body]),
      idOffsets: this.idOffsets.map((o) => o + head.length),
      sentAtOffset: this.sentAtOffset < 0 ? -1 : this.sentAtOffset + head.length,
    };
  }
}

export class PayloadFactory {
  readonly eventsPerRequest: number;
  /** Ids issued so far; also the counter part of the next id. */
  issued = 0;
  private readonly prefix: string;
  private readonly templates: Template[] = [];
  private nextTemplate = 0;

  constructor(options: PayloadOptions) {
    this.eventsPerRequest = options.eventsPerRequest;
    // Random per process, so warm-up, measured and sustained runs never reuse an id.
    this.prefix = `bench-${randomBytes(4).toString('hex')}-`;
    const seeded = new Rng(options.seed);
    const rand = () => seeded.next();
    const now = Date.now();
    const events: string[] = [];
    for (let i = 0; i < EVENT_POOL; i++) events.push(JSON.stringify(makeEvent(rand, now)));
    for (let t = 0; t < TEMPLATE_POOL; t++) {
      const b = new TemplateBuilder();
      if (options.eventsPerRequest === 1) {
        // /v1/track: the event itself, with sentAt inside it.
        b.text('{"sentAt":"');
        b.sentAt();
        b.text('",');
        b.event(pick(rand, events), true);
        this.templates.push(b.build(options.httpHead));
      } else {
        b.text('{"sentAt":"');
        b.sentAt();
        b.text('","batch":[');
        for (let e = 0; e < options.eventsPerRequest; e++) {
          if (e > 0) b.text(',');
          b.event(pick(rand, events));
        }
        b.text(']}');
        this.templates.push(b.build(options.httpHead));
      }
    }
  }

  /** A fresh body (or whole request): next template, new ids in every slot, `sentAt` = now. */
  next(): Buffer {
    const template = this.templates[this.nextTemplate];
    if (template === undefined) throw new Error('no templates');
    this.nextTemplate = (this.nextTemplate + 1) % this.templates.length;
    const out = Buffer.allocUnsafe(template.buf.length);
    template.buf.copy(out);
    for (const offset of template.idOffsets) {
      out.write(this.prefix, offset, 'latin1');
      out.write(this.issued.toString(36).padStart(ID_COUNTER_DIGITS, '0'), offset + ID_PREFIX_LENGTH, 'latin1');
      this.issued++;
    }
    if (template.sentAtOffset >= 0) out.write(new Date().toISOString(), template.sentAtOffset, 'latin1');
    return out;
  }
}
