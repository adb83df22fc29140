/**
 * The ingest bench's baseline: the least a Node HTTP collector can do per request — read the
 * body, JSON.parse it, answer 200 `{"success":true}`. Ensemble's figures are reported as a
 * ratio to this server's, measured in the same run on the same machine, because the machines
 * we bench on are shared and noisy.
 *
 * It also answers `GET /healthz` and `GET /metrics` (`ensemble_events_accepted_total`,
 * `ensemble_log_lag_events 0`) so the orchestrator starts, checks and verifies both servers the
 * same way. Counting events costs one property read per request.
 *
 * `--mode fake-sut` (used by `run.js --sut baseline`) additionally plays the rest of Ensemble's
 * contract — admin API (bearer token), write-key Basic auth, minimal event validation — so the
 * whole harness can be tested end to end without the real server. A fake is still a baseline:
 * no storage, no group commit.
 *
 * @example
 *   node dist/bench/ingest/baseline-server.js --port 4100 --mode bare
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';

type Mode = 'bare' | 'fake-sut';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const port = Number(argValue('--port') ?? '0');
const modeArg = argValue('--mode') ?? 'bare';
if (modeArg !== 'bare' && modeArg !== 'fake-sut') throw new Error(`--mode must be bare or fake-sut, got ${modeArg}`);
const mode: Mode = modeArg;
const adminToken = process.env['ENSEMBLE_ADMIN_TOKEN'] ?? '';

const OK = Buffer.from('{"success":true}');
let accepted = 0;

function send(res: ServerResponse, status: number, body: Buffer | string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function eventCount(parsed: unknown): number {
  if (typeof parsed === 'object' && parsed !== null && 'batch' in parsed && Array.isArray(parsed.batch)) {
    return parsed.batch.length;
  }
  return 1;
}

// ---- fake-sut only --------------------------------------------------------------------------

const writeKeys = new Set<string>();
let nextId = 1;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The fields the bench promises to send (see the server's contract in bench/README.md). */
function validEvent(e: unknown): boolean {
  if (!isRecord(e)) return false;
  const ctx = e['context'];
  return (
    typeof e['messageId'] === 'string' && e['messageId'].length > 0 &&
    (typeof e['anonymousId'] === 'string' || typeof e['userId'] === 'string') &&
    typeof e['event'] === 'string' && isRecord(e['properties']) && typeof e['timestamp'] === 'string' &&
    isRecord(ctx) && typeof ctx['userAgent'] === 'string' && typeof ctx['ip'] === 'string'
  );
}

function basicUser(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (h === undefined || !h.startsWith('Basic ')) return null;
  const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(0, colon);
}

function fakeSut(req: IncomingMessage, res: ServerResponse, parsed: unknown): void {
  const url = req.url ?? '';
  if (url.startsWith('/api/')) {
    if (req.headers.authorization !== `Bearer ${adminToken}` || adminToken === '') return send(res, 401, '{"error":{"code":"UNAUTHORIZED"}}');
    const name = isRecord(parsed) && typeof parsed['name'] === 'string' ? parsed['name'] : 'unnamed';
    if (url === '/api/workspaces') return send(res, 200, JSON.stringify({ id: `ws_${nextId++}`, name }));
    if (/^\/api\/workspaces\/[^/]+\/sources$/.test(url)) {
      const writeKey = randomBytes(16).toString('hex');
      writeKeys.add(writeKey);
      return send(res, 200, JSON.stringify({ id: `src_${nextId++}`, name, writeKey }));
    }
    return send(res, 404, '{"error":{"code":"NOT_FOUND"}}');
  }
  if (url !== '/v1/track' && url !== '/v1/batch') return send(res, 404, '{"error":{"code":"NOT_FOUND"}}');
  const user = basicUser(req);
  if (user === null || !writeKeys.has(user)) return send(res, 401, '{"error":{"code":"BAD_WRITE_KEY"}}');
  const events = url === '/v1/batch' ? (isRecord(parsed) && Array.isArray(parsed['batch']) ? parsed['batch'] : null) : [parsed];
  if (events === null || !events.every(validEvent)) return send(res, 400, '{"error":{"code":"INVALID_EVENT"}}');
  accepted += events.length;
  send(res, 200, OK);
}

// ---- both modes -----------------------------------------------------------------------------

const server = createServer((req, res) => {
  if (req.method === 'POST') {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, 400, '{"success":false}');
      }
      if (mode === 'fake-sut') return fakeSut(req, res, parsed);
      accepted += eventCount(parsed);
      send(res, 200, OK);
    });
    return;
  }
  if (req.url === '/healthz') return send(res, 200, '{"ok":true}');
  if (req.url === '/metrics') {
    return send(
      res, 200,
      `# TYPE ensemble_events_accepted_total counter\nensemble_events_accepted_total ${accepted}\n` +
        `# TYPE ensemble_log_lag_events gauge\nensemble_log_lag_events 0\n`,
      'text/plain; version=0.0.4',
    );
  }
  send(res, 404, '{"success":false}');
});

server.listen(port, '127.0.0.1');

process.once('SIGTERM', () => {
  // Same contract as the real server: SIGTERM is a graceful stop that exits 0.
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});
