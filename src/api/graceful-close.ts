/**
 * Closing the HTTP server without hanging and without cutting an answer short.
 *
 * `server.close()` waits for every open connection, and Node counts a connection that was accepted
 * but has not sent a request yet as busy, not idle: a client that opened a spare keep-alive
 * connection just before shutdown would hold it open until the headers timeout (60 s). So we
 * count the requests actually being handled, and once none is left we close every connection:
 * anything still unanswered at that point had not been received, so nothing acknowledged is lost.
 */
import type { FastifyInstance } from 'fastify';

export function trackInFlight(http: FastifyInstance): { close: () => Promise<void> } {
  // A set, not a counter: each request must count once, however it ends.
  const inFlight = new Set<object>();
  let drained: (() => void) | null = null;
  const done = (req: object): void => {
    if (inFlight.delete(req) && inFlight.size === 0) drained?.();
  };
  // The response's 'close' comes once it is sent, or once its connection is gone and it never
  // can be: Fastify's onResponse/onRequestAbort missed clients that went away mid-commit.
  http.addHook('onRequest', async (req, reply) => {
    inFlight.add(req);
    reply.raw.once('close', () => done(req));
  });
  return {
    async close() {
      const closing = http.close();
      if (inFlight.size > 0) await new Promise<void>((resolve) => { drained = resolve; });
      http.server.closeAllConnections();
      await closing;
    },
  };
}
