/**
 * The lookup bench's baseline: a bare `node:http` server that answers
 * `GET /api/workspaces/:ws/profiles/lookup?type=…&value=…` from a `Map`, with a profile of the
 * same shape and about the same size as Ensemble's answer (JSON.stringify per request), after
 * checking the bearer token. It derives the same people from the same seed (protocol.ts), so the
 * load generator sends both servers the same requests. It is the floor for "answer a lookup
 * over HTTP" on this machine at this moment: no framework, no schema, no hashing, no decryption.
 *
 * @example
 *   BENCH_TOKEN=… node dist/bench/lookup/baseline-server.js --port 4200 --people 100000 --seed 1
 */
import { createServer, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { LOOKUP_TYPES, identifierOf, lookupPerson, lookupTraits } from './protocol.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const port = Number(arg('--port', '0'));
const people = Number(arg('--people', '100000'));
const seed = Number(arg('--seed', '1'));
const expected = `Bearer ${process.env['BENCH_TOKEN'] ?? ''}`;
const at = new Date(Date.UTC(2026, 0, 1)).toISOString();

const profiles = new Map<string, object>();
for (let i = 0; i < people; i++) {
  const p = lookupPerson(i, seed);
  const traits = lookupTraits(p);
  const id = `prof_${createHash('sha256').update(`${seed}:${i}`).digest('base64url').slice(0, 16)}`;
  const identifiers = LOOKUP_TYPES.map((type) => {
    const value = type === 'email' ? identifierOf(p, type).toLowerCase() : identifierOf(p, type);
    return { type, value, hash: createHash('sha256').update(`${type}:${value}`).digest('base64url') };
  });
  const view = {
    id, identifiers, traits, computed: {},
    traitSources: Object.fromEntries(Object.keys(traits).map((k) => [k, { sourceId: 'src_baseline0000000000', messageId: `bl-${i}`, at }])),
    mergedFrom: [], firstSeen: at, lastSeen: at, eventCount: 1,
  };
  for (const x of identifiers) profiles.set(`${x.type}\u0000${x.value}`, view);
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const url = req.url ?? '';
  if (url === '/healthz') return send(res, 200, '{"status":"ok","logLag":0}');
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (req.method !== 'GET' || !path.startsWith('/api/workspaces/') || !path.endsWith('/profiles/lookup')) return send(res, 404, '{"error":{"code":"NOT_FOUND"}}');
  if (req.headers.authorization !== expected) return send(res, 401, '{"error":{"code":"UNAUTHORIZED"}}');
  const params = new URLSearchParams(url.slice(q + 1));
  const type = params.get('type') ?? '';
  const raw = params.get('value') ?? '';
  const value = type === 'email' ? raw.trim().toLowerCase() : raw.trim();
  const view = profiles.get(`${type}\u0000${value}`);
  if (view === undefined) return send(res, 404, '{"error":{"code":"ENSEMBLE_ERR_PROFILE_NOT_FOUND"}}');
  send(res, 200, JSON.stringify(view));
});

server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});
