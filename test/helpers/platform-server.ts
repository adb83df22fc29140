/**
 * A stand-in for an external platform: a real HTTP server on 127.0.0.1 that records every
 * request and answers with whatever the test's handler says (by default 200 `{}`). Connector
 * tests put the platform's documented request format in the handler and read the requests back.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface PlatformAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type PlatformHandler = (req: RecordedRequest) => PlatformAnswer | Promise<PlatformAnswer>;

export interface PlatformServer {
  url: string;
  requests: RecordedRequest[];
  handler: PlatformHandler;
  close(): Promise<void>;
}

export async function startPlatform(handler: PlatformHandler = () => ({ status: 200, body: {} })): Promise<PlatformServer> {
  const state: { handler: PlatformHandler } = { handler };
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(rec);
      void Promise.resolve()
        .then(() => state.handler(rec))
        .catch((err: unknown): PlatformAnswer => ({ status: 599, body: { error: err instanceof Error ? err.message : String(err) } }))
        .then((a) => {
          const body = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
          res.writeHead(a.status, { 'content-type': typeof a.body === 'string' ? 'text/plain' : 'application/json', ...a.headers });
          res.end(body);
        });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get handler() { return state.handler; },
    set handler(h: PlatformHandler) { state.handler = h; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A validation failure the platform would answer with 400: the message says what is wrong. */
export function invalid(message: string): PlatformAnswer {
  return { status: 400, body: { error: { message: `request format: ${message}` } } };
}
