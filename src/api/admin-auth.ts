/**
 * API tokens. The admin token (ENSEMBLE_ADMIN_TOKEN, or generated on first start, stored only as
 * a SHA-256 digest and printed once) can do everything, including reading personal data in
 * clear. The optional reader token (ENSEMBLE_READER_TOKEN) can only read, and sees personal
 * identifiers masked. Every /api route except the OpenAPI document needs one of them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EnsembleError } from '../protocol/errors.js';
import { newSecret } from '../platform/ids.js';
import { hashSecret, secretMatches } from '../platform/secret-hash.js';
import type { ConfigStore } from '../storage/ports.js';

const SETTING = 'admin_token_sha256';

/** Requests made with the admin token: the only ones allowed to see personal data in clear. */
const adminRequests = new WeakSet<FastifyRequest>();

export function canSeePersonalData(req: FastifyRequest): boolean {
  return adminRequests.has(req);
}

/**
 * Which token a request passed `requireApiToken` with, for the audit log. Only meaningful once
 * the request was let in: a refused one (401) never reaches a handler, and the audit hook records
 * it as `anonymous`.
 */
export function actorOf(req: FastifyRequest): 'admin' | 'reader' {
  return adminRequests.has(req) ? 'admin' : 'reader';
}

/** Returns the token to print when one was generated now, else null. */
export async function ensureAdminToken(store: ConfigStore, configured: string | undefined): Promise<{ hash: string; generated: string | null }> {
  if (configured) {
    const hash = hashSecret(configured);
    if ((await store.getSetting(SETTING)) !== hash) await store.setSetting(SETTING, hash);
    return { hash, generated: null };
  }
  const stored = await store.getSetting(SETTING);
  if (stored) return { hash: stored, generated: null };
  const token = newSecret();
  const hash = hashSecret(token);
  await store.setSetting(SETTING, hash);
  return { hash, generated: token };
}

export function requireApiToken(app: FastifyInstance, tokens: { admin: string; reader: string | null }, publicPaths: ReadonlySet<string>): void {
  app.addHook('onRequest', async (req) => {
    if (publicPaths.has(req.url.split('?')[0] ?? '')) return;
    const auth = req.headers.authorization;
    const token = typeof auth === 'string' && auth.slice(0, 7).toLowerCase() === 'bearer ' ? auth.slice(7).trim() : '';
    if (token && secretMatches(token, tokens.admin)) {
      adminRequests.add(req);
      return;
    }
    if (token && tokens.reader !== null && secretMatches(token, tokens.reader)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new EnsembleError('ENSEMBLE_ERR_FORBIDDEN', 'The reader token can only read.');
      return;
    }
    throw new EnsembleError('ENSEMBLE_ERR_ADMIN_TOKEN_INVALID');
  });
}
