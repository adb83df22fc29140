/**
 * API keys: bearer tokens for scripts and integrations, each with one role (its scope), named,
 * shown once at creation and stored only as a SHA-256 digest. Revoking one takes effect at once.
 *
 * @example
 *   const { token } = await keys.create({ name: 'BI export', role: 'analyst' }, 'usr_1');
 *   keys.resolve(token)?.role; // 'analyst'
 */
import { randomBytes } from 'node:crypto';
import { EnsembleError } from '../protocol/errors.js';
import { newId } from '../platform/ids.js';
import { hashSecret } from '../platform/secret-hash.js';
import type { StoredApiKey, UserStore } from '../storage/duckdb/user-store.js';
import { isRole, type Role } from './roles.js';

export interface ApiKeyView {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  createdBy: string;
}

/** Every key starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const API_KEY_PREFIX = 'ens_key_';

export class ApiKeyService {
  private readonly byHash = new Map<string, StoredApiKey>();

  private constructor(private readonly store: Pick<UserStore, 'listApiKeys' | 'insertApiKey' | 'deleteApiKey'>, private readonly now: () => number) {}

  static async open(store: Pick<UserStore, 'listApiKeys' | 'insertApiKey' | 'deleteApiKey'>, now: () => number): Promise<ApiKeyService> {
    const s = new ApiKeyService(store, now);
    for (const k of await store.listApiKeys()) s.byHash.set(k.tokenHash, k);
    return s;
  }

  list(): ApiKeyView[] {
    return [...this.byHash.values()].sort((a, b) => a.createdAt - b.createdAt).map(view);
  }

  async create(input: { name: string; role: Role }, createdBy: string): Promise<ApiKeyView & { token: string }> {
    if (!isRole(input.role)) throw new EnsembleError('ENSEMBLE_ERR_VALIDATION', 'Unknown role.');
    const token = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const key: StoredApiKey = { id: newId('key'), name: input.name.trim(), role: input.role, tokenHash: hashSecret(token), createdAt: this.now(), createdBy };
    await this.store.insertApiKey(key);
    this.byHash.set(key.tokenHash, key);
    return { ...view(key), token };
  }

  /** The key `token` is, or undefined. The lookup is by digest: no comparison leaks timing. */
  resolve(token: string): StoredApiKey | undefined {
    if (!token.startsWith(API_KEY_PREFIX)) return undefined;
    return this.byHash.get(hashSecret(token));
  }

  async remove(id: string): Promise<void> {
    const key = [...this.byHash.values()].find((k) => k.id === id);
    if (!key) throw new EnsembleError('ENSEMBLE_ERR_API_KEY_NOT_FOUND');
    await this.store.deleteApiKey(id);
    this.byHash.delete(key.tokenHash);
  }
}

function view(k: StoredApiKey): ApiKeyView {
  return { id: k.id, name: k.name, role: k.role, createdAt: new Date(k.createdAt).toISOString(), createdBy: k.createdBy };
}
