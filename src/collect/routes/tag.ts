/**
 * Serves the browser tag (tag/ → tag/build/tag.js, built by `npm run build:tag`):
 * - `GET /tag.js`: the current version, `Cache-Control: public, max-age=300` with an ETag, so
 *   sites get a new version within minutes and revalidate cheaply (304);
 * - `GET /tag/{version}/tag.js`: that version only, immutable for a year (pin it, e.g. with
 *   Subresource Integrity); another version answers ENSEMBLE_ERR_TAG_VERSION;
 * - either with `?k=<writeKey>`: the source's settings (its write key and consent mode) are
 *   embedded in the script, so a strict source is strict before anything runs or is sent.
 *   Such a response follows the source's settings, so it is never immutable.
 * Gzip when the browser accepts it. The built file is found relative to this module
 * (`<outDir>/src/collect/routes/` → the repository's `tag/build/`), whatever the output folder.
 *
 * @example
 *   await registerTagRoutes(app, { sources, clock });
 *   // <script async src="https://cdp.example.com/tag.js?k=WRITE_KEY"></script>
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { EnsembleError } from '../../protocol/errors.js';
import type { Clock } from '../../platform/clock.js';
import type { SourceRegistry } from '../source-registry.js';

export interface TagRouteDeps {
  sources: SourceRegistry;
  clock: Clock;
  /** Where tag.js and manifest.json are (default: the repository's tag/build/). */
  dir?: string;
}

interface Bundle {
  version: string;
  /** The script around its settings placeholder (a quoted string literal). */
  before: string;
  after: string;
}

const PLACEHOLDER = '%%ENSEMBLE_SETTINGS%%';
const DEFAULT_DIR = fileURLToPath(new URL('../../../../tag/build/', import.meta.url));
const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=300';
/** Gzipped bodies by ETag: one per source at most, so a bound only guards against churn. */
const MAX_GZIP_CACHE = 1000;

const Query = Type.Object({ k: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) });
const VersionParams = Type.Object({ version: Type.String({ pattern: '^[0-9A-Za-z.+-]{1,40}$' }) });

function loadBundle(dir: string): Bundle | null {
  try {
    const { version } = JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8')) as { version: string };
    const code = readFileSync(`${dir}tag.js`, 'utf8');
    const at = code.indexOf(PLACEHOLDER);
    if (at < 1 || typeof version !== 'string') return null;
    return { version, before: code.slice(0, at - 1), after: code.slice(at + PLACEHOLDER.length + 1) };
  } catch {
    return null; // not built: answered with ENSEMBLE_ERR_TAG_UNAVAILABLE
  }
}

/**
 * A JavaScript string literal of the settings' JSON (line separators escaped for old engines).
 *
 * @example
 *   settingsLiteral({ k: 'wk', consentMode: 'strict' }); // '"{\\"k\\":\\"wk\\",\\"consentMode\\":\\"strict\\"}"'
 */
export function settingsLiteral(settings: Record<string, string> | null): string {
  return JSON.stringify(settings ? JSON.stringify(settings) : PLACEHOLDER).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function acceptsGzip(req: FastifyRequest): boolean {
  const h = req.headers['accept-encoding'];
  if (typeof h !== 'string') return false;
  return h.split(',').some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return (name === 'gzip' || name === '*') && (q === undefined || Number(q.slice(2)) > 0);
  });
}

export async function registerTagRoutes(app: FastifyInstance, deps: TagRouteDeps): Promise<void> {
  const dir = deps.dir ?? DEFAULT_DIR;
  // Read once it exists: a server started before the build serves the tag once it is built.
  let bundle: Bundle | null = null;
  const gzipped = new Map<string, Buffer>();

  const serve = (version: string | null) => async (req: FastifyRequest<{ Querystring: Static<typeof Query> }>, reply: FastifyReply) => {
    bundle ??= loadBundle(dir);
    if (!bundle) throw new EnsembleError('ENSEMBLE_ERR_TAG_UNAVAILABLE');
    if (version !== null && version !== bundle.version) throw new EnsembleError('ENSEMBLE_ERR_TAG_VERSION', undefined, { version, current: bundle.version });
    const key = req.query.k;
    let settings: Record<string, string> | null = null;
    if (key !== undefined) {
      const source = deps.sources.byWriteKey(key, deps.clock.now());
      if (!source) throw new EnsembleError('ENSEMBLE_ERR_WRITE_KEY_INVALID');
      settings = { k: key, consentMode: source.consentMode };
    }
    const body = Buffer.from(bundle.before + settingsLiteral(settings) + bundle.after);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
    reply
      .header('content-type', 'application/javascript; charset=utf-8')
      .header('cache-control', version !== null && settings === null ? IMMUTABLE : SHORT)
      .header('etag', etag)
      .header('vary', 'Accept-Encoding')
      .header('x-content-type-options', 'nosniff')
      .header('x-ensemble-tag-version', bundle.version)
      // Any site may load it with `crossorigin` (Subresource Integrity needs CORS).
      .header('access-control-allow-origin', '*');
    const match = req.headers['if-none-match'];
    if (typeof match === 'string' && match.split(',').some((m) => m.trim().replace(/^W\//, '') === etag)) return reply.code(304).send();
    if (!acceptsGzip(req)) return reply.send(body);
    let gz = gzipped.get(etag);
    if (!gz) {
      gz = gzipSync(body, { level: 9 });
      if (gzipped.size >= MAX_GZIP_CACHE) gzipped.clear();
      gzipped.set(etag, gz);
    }
    return reply.header('content-encoding', 'gzip').send(gz);
  };

  // A static script, not an API: documented in docs/tag.md, left out of the OpenAPI document.
  const doc = (summary: string) => ({ hide: true, summary, security: [] });
  app.get('/tag.js', { schema: { ...doc('The browser tag, current version (short cache, ETag); ?k= embeds the source\'s settings'), querystring: Query } }, serve(null));
  app.get<{ Params: Static<typeof VersionParams>; Querystring: Static<typeof Query> }>('/tag/:version/tag.js', {
    schema: { ...doc('The browser tag, one version (immutable unless ?k= is given)'), params: VersionParams, querystring: Query },
  }, (req, reply) => serve(req.params.version)(req, reply));
}
