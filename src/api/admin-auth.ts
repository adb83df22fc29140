/**
 * The admin token: configured (ENSEMBLE_ADMIN_TOKEN) or generated on first start, stored only as
 * a SHA-256 digest, and printed once. Every /api route except the OpenAPI document needs it.
 */
import type { FastifyInstance } from 'fastify';
import { EnsembleError } from '../protocol/errors.js';
import { newSecret } from '../platform/ids.js';
import { hashSecret, secretMatches } from '../platform/secret-hash.js';
import type { ConfigStore } from '../storage/ports.js';

const SETTING = 'admin_token_sha256';

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

export function requireAdminToken(app: FastifyInstance, tokenHash: string, publicPaths: ReadonlySet<string>): void {
  app.addHook('onRequest', async (req) => {
    if (publicPaths.has(req.url.split('?')[0] ?? '')) return;
    const auth = req.headers.authorization;
    const token = typeof auth === 'string' && auth.slice(0, 7).toLowerCase() === 'bearer ' ? auth.slice(7).trim() : '';
    if (!token || !secretMatches(token, tokenHash)) throw new EnsembleError('ENSEMBLE_ERR_ADMIN_TOKEN_INVALID');
  });
}
