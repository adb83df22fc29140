/**
 * CORS for browsers posting events from the brand's sites: the origin is echoed (so credentials
 * are allowed), and the preflight allows the headers analytics.js and mobile SDKs send.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const ALLOWED_HEADERS = 'authorization, content-type, content-encoding, anonymousid, sentat, x-retry-count, x-write-key';

function allowOrigin(req: FastifyRequest, reply: FastifyReply): void {
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin) {
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('vary', 'Origin');
    // Browsers hide response headers from scripts unless listed: the tag backs off by Retry-After.
    reply.header('access-control-expose-headers', 'Retry-After');
  } else {
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', 'Retry-After');
  }
}

export function registerCors(app: FastifyInstance, prefix: string): void {
  app.addHook('onRequest', async (req, reply) => {
    allowOrigin(req, reply);
  });
  app.options(`${prefix}/*`, { schema: { hide: true } }, async (_req, reply) => {
    reply
      .header('access-control-allow-methods', 'POST, GET, OPTIONS')
      .header('access-control-allow-headers', ALLOWED_HEADERS)
      .header('access-control-max-age', '86400')
      .code(204)
      .send();
  });
}
