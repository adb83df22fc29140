/**
 * The personalize bench's baseline: a bare `node:http` server that answers
 * `GET /v1/personalize?anonymousId=…&writeKey=…` from a `Map` with the same JSON as Ensemble
 * (`{consent, segments, traits}`, JSON.stringify per request) and the same CORS and cache
 * headers, after checking the write key. It derives the same people, consents and segment
 * memberships from the same seed (protocol.ts), so the load generator sends both servers the same
 * requests. It is the floor for "answer a personalisation request over HTTP" on this machine at
 * this moment: no framework, no schema, no identifier hashing, no consent ledger.
 *
 * @example
 *   BENCH_WRITE_KEY=… node dist/bench/personalize/baseline-server.js --port 4200 --people 100000 --seed 1 \
 *     --consent-share 0.9 --segments seg_a,seg_b,seg_c
 */
import { createServer, type ServerResponse } from 'node:http';
import { expectedAnswer, personalizePerson, type PersonalizationAnswer } from './protocol.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const port = Number(arg('--port', '0'));
const people = Number(arg('--people', '100000'));
const seed = Number(arg('--seed', '1'));
const consentShare = Number(arg('--consent-share', '0.9'));
const segmentIds = arg('--segments', '').split(',').filter((s) => s !== '');
const writeKey = process.env['BENCH_WRITE_KEY'] ?? '';
const NOTHING: PersonalizationAnswer = { consent: false, segments: [], traits: {} };

const answers = new Map<string, PersonalizationAnswer>();
for (let i = 0; i < people; i++) answers.set(personalizePerson(i, seed).anonymousIds[0] as string, expectedAnswer(i, seed, consentShare, segmentIds));

function send(res: ServerResponse, status: number, body: string, origin: string | undefined): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body),
    'access-control-allow-origin': origin ? origin : '*', vary: 'Origin', 'cache-control': 'no-store',
  });
  res.end(body);
}

const server = createServer((req, res) => {
  const url = req.url ?? '';
  if (url === '/healthz') return send(res, 200, '{"status":"ok","logLag":0}', undefined);
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const origin = req.headers.origin;
  if (req.method !== 'GET' || path !== '/v1/personalize') return send(res, 404, '{"error":{"code":"NOT_FOUND"}}', origin);
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  if (params.get('writeKey') !== writeKey) return send(res, 401, '{"error":{"code":"ENSEMBLE_ERR_WRITE_KEY_INVALID"}}', origin);
  const anonymousId = params.get('anonymousId') ?? '';
  send(res, 200, JSON.stringify(answers.get(anonymousId) ?? NOTHING), origin);
});

server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});
