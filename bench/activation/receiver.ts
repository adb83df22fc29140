/**
 * The activation bench's webhook receiver: a bare `node:http` server on 127.0.0.1, in the bench's
 * own process (so arrival and acknowledgement times are read on one clock, `performance.now()`),
 * standing in for the customer's endpoint of both webhook destinations and for the baseline:
 *
 * - `POST /events`: the event-forwarding destination's batches; each item's `event.mid` is the
 *   forwarded event's messageId (the destination's mapping);
 * - `POST /audience`: the audience destination's batches; adds and removals by the person's user id
 *   (`identifiers.user_id`, sent in clear by the webhook connector), or by profile id via an add
 *   seen before;
 * - `POST /direct`: the baseline, the very `/v1/track` body the client sends Ensemble, posted here
 *   directly: the `messageId` in the body.
 *
 * A request's arrival time is when its body is complete (what it carries is known then). The
 * signature of every webhook request is checked (HMAC-SHA256 over `<t>.<body>`); it answers 200
 * at once.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export interface PathArrivals {
  /** Key (messageId or user id) → first arrival, performance.now() ms. */
  at: Map<string, number>;
  /** Keys that arrived again (a retry or a duplicate delivery). */
  duplicates: number;
  requests: number;
  items: number;
}

export interface Receiver {
  url: string;
  events: PathArrivals;
  adds: PathArrivals;
  removals: PathArrivals;
  direct: PathArrivals;
  problems: {
    /** Requests whose signature did not verify (counted, still answered 200). */
    badSignatures: number;
    /** Items (or bodies) of a kind or shape the bench does not expect. */
    unexpected: number;
  };
  close(): Promise<void>;
}

interface WireItem {
  type?: string;
  action?: string;
  profileId?: string;
  event?: { mid?: unknown };
  identifiers?: { user_id?: unknown };
}

function arrivals(): PathArrivals {
  return { at: new Map(), duplicates: 0, requests: 0, items: 0 };
}

function record(p: PathArrivals, key: string, t: number): void {
  p.items++;
  if (p.at.has(key)) p.duplicates++;
  else p.at.set(key, t);
}

export async function startReceiver(secret: string): Promise<Receiver> {
  const r: Omit<Receiver, 'url' | 'close'> = { events: arrivals(), adds: arrivals(), removals: arrivals(), direct: arrivals(), problems: { badSignatures: 0, unexpected: 0 } };
  /** Profile id → user id, learnt from additions (a removal without identifiers still names its person). */
  const userOf = new Map<string, string>();

  const verified = (req: IncomingMessage, body: Buffer): boolean => {
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['x-ensemble-signature'] ?? ''));
    if (!m) return false;
    const want = createHmac('sha256', secret).update(`${m[1]}.`).update(body).digest();
    return timingSafeEqual(want, Buffer.from(m[2] as string, 'hex'));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer, t: number): void => {
    const path = req.url ?? '';
    try {
      if (path === '/direct') {
        r.direct.requests++;
        const e = JSON.parse(body.toString('utf8')) as { messageId?: unknown };
        if (typeof e.messageId === 'string') record(r.direct, e.messageId, t);
        else r.problems.unexpected++;
      } else if (path === '/events' || path === '/audience') {
        if (!verified(req, body)) r.problems.badSignatures++;
        const batch = (JSON.parse(body.toString('utf8')) as { batch?: WireItem[] }).batch ?? [];
        if (path === '/events') r.events.requests++;
        else { r.adds.requests++; r.removals.requests++; }
        for (const item of batch) {
          if (path === '/events' && item.type === 'event' && typeof item.event?.mid === 'string') {
            record(r.events, item.event.mid, t);
            continue;
          }
          if (path === '/audience' && item.type === 'audience') {
            const ids = item.identifiers?.user_id;
            const user = Array.isArray(ids) && typeof ids[0] === 'string' ? ids[0] : (item.profileId ? userOf.get(item.profileId) : undefined);
            if (user !== undefined && item.action === 'add') {
              if (item.profileId) userOf.set(item.profileId, user);
              record(r.adds, user, t);
              continue;
            }
            if (user !== undefined && item.action === 'remove') {
              record(r.removals, user, t);
              continue;
            }
          }
          r.problems.unexpected++;
        }
      } else {
        res.writeHead(404).end();
        return;
      }
    } catch {
      r.problems.unexpected++;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 });
    res.end('{"ok":true}');
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks), performance.now()));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    ...r,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
