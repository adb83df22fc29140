/**
 * Serves the web console (console/dist, built by `npm run build:console`) at `/`: its files as
 * they are, and index.html for every other GET path so the console's own router handles deep
 * links (/profiles/prf_…). Paths that belong to the server (/api, /v1, /tag*, /health*,
 * /metrics) are never answered with the console: an unknown one there stays a JSON 404.
 *
 * Caching: files under assets/ have content-hashed names, so they are cached for a year
 * (immutable); index.html is `no-cache`, so a new build is picked up at the next load.
 * When the console was not built, `/` answers a short page saying how to build it.
 *
 * @example
 *   await http.register(async (scope) => registerConsoleStatic(scope));
 */
import { stat } from 'node:fs/promises';
import { posix, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/** console/dist beside the compiled server (three folders up from the compiled src/api). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

/** First path segments the server owns: never shadowed by the console. */
const RESERVED = /^\/(api|v1|tag|tag\.js|health|healthz|metrics)(\/|\?|$)/;

/** What the browser may load for the console: its own scripts only, no framing. Inline styles: charts and the graph canvas set them. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ensemble console not built</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>The Ensemble console has not been built</h1>
<p>The server is running and its API answers under <code>/api</code> and <code>/v1</code>, but the web console's files are missing.</p>
<p>Build them with <code>npm run build:console</code> (also done by <code>npm ci</code> and <code>npm run build</code>), then reload this page.</p>
</body></html>`;

export interface ConsoleStaticOptions {
  /** The built console's folder (default console/dist). */
  dir?: string;
}

export function isReservedPath(url: string): boolean {
  return RESERVED.test(url);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'same-origin');
}

export async function registerConsoleStatic(app: FastifyInstance, opts: ConsoleStaticOptions = {}): Promise<void> {
  const root = resolve(opts.dir ?? CONSOLE_DIST);
  // serve:false: only reply.sendFile (safe path resolution, ETag, ranges); the routing is ours.
  await app.register(fastifyStatic, { root, serve: false, decorateReply: true, cacheControl: false, dotfiles: 'deny' });

  const index = async (reply: FastifyReply) => {
    if (!(await isFile(resolve(root, 'index.html')))) {
      return securityHeaders(reply).code(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(NOT_BUILT);
    }
    return securityHeaders(reply).header('cache-control', 'no-cache').sendFile('index.html');
  };

  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    const raw = req.url.split('?')[0] ?? '/';
    let path: string;
    try {
      // Decoded and normalised (`/./api`, `/x/%2e%2e/api` are `/api`): reserved as sent or once normalised.
      path = posix.normalize(`/${decodeURIComponent(raw)}`);
    } catch {
      return reply.callNotFound();
    }
    if (isReservedPath(raw) || isReservedPath(path)) return reply.callNotFound();
    const relative = path.replace(/^\/+/, '');
    const file = resolve(root, relative);
    if (relative !== '' && file.startsWith(root + sep) && (await isFile(file))) {
      // The file checked is the file sent (`robots.txt/` resolves to `robots.txt`).
      const name = file.slice(root.length + 1).split(sep).join('/');
      const hashed = name.startsWith('assets/');
      reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : name === 'index.html' ? 'no-cache' : 'public, max-age=3600');
      return securityHeaders(reply).sendFile(name);
    }
    // A missing asset is a 404, not the console (a stale page asking for an old chunk must fail visibly).
    if (relative.startsWith('assets/')) return reply.callNotFound();
    return index(reply);
  });
}
