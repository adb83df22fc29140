/**
 * Inbound webhooks: a hook belongs to a source and holds a declarative mapping (mapping.ts)
 * from any JSON body to events — one per body, or one per item of the array at `items`.
 * Hooks are kept in memory (loaded from the store at start) so a call costs no query; the
 * secret is stored as a SHA-256 digest and shown once, at creation.
 *
 * @example
 *   const { hook, secret } = await hooks.create('ws_1', 'src_1', { kind: 'events', eventField: '/type', userId: '/customer/id' });
 *   // POST /v1/hooks/{hook.id} with header x-hook-secret: secret
 */
import { randomBytes } from 'node:crypto';
import { hashSecret, secretMatches } from '../../platform/secret-hash.js';
import { EnsembleError } from '../../protocol/errors.js';
import type { HookRow, ImportStore } from '../../storage/duckdb/import-store.js';
import { mapRow, parseMapping, readField, type Mapping } from './mapping.js';
import { rowDigest } from './import-jobs.js';

export interface HookView {
  id: string;
  sourceId: string;
  mapping: Mapping;
  createdAt: number;
}

export class HookRegistry {
  private readonly byId = new Map<string, HookRow>();

  constructor(private readonly store: ImportStore, private readonly now: () => number) {}

  async load(): Promise<void> {
    for (const h of await this.store.hooks()) this.byId.set(h.id, h);
  }

  async create(workspaceId: string, sourceId: string, mappingInput: unknown): Promise<{ hook: HookView; secret: string }> {
    const mapping = parseMapping(mappingInput);
    if (mapping.kind === 'third_party') throw new EnsembleError('ENSEMBLE_ERR_IMPORT_INVALID', 'A hook maps events or profiles.', [{ path: '/mapping/kind', code: 'kind', message: 'events or profiles' }]);
    const id = `hk_${randomBytes(10).toString('hex')}`;
    const secret = randomBytes(24).toString('base64url');
    const row: HookRow = { workspaceId, id, sourceId, secretHash: hashSecret(secret), mapping, createdAt: this.now() };
    await this.store.saveHook(row);
    this.byId.set(id, row);
    return { hook: view(row), secret };
  }

  list(workspaceId: string): HookView[] {
    return [...this.byId.values()].filter((h) => h.workspaceId === workspaceId).map(view);
  }

  async remove(workspaceId: string, id: string): Promise<void> {
    const h = this.byId.get(id);
    if (!h || h.workspaceId !== workspaceId) throw new EnsembleError('ENSEMBLE_ERR_HOOK_NOT_FOUND');
    await this.store.deleteHook(workspaceId, id);
    this.byId.delete(id);
  }

  /** The hook if `secret` is its secret; 404 / 401 otherwise. */
  authenticate(id: string, secret: string | undefined): HookRow {
    const h = this.byId.get(id);
    if (!h) throw new EnsembleError('ENSEMBLE_ERR_HOOK_NOT_FOUND');
    if (!secret || !secretMatches(secret, h.secretHash)) throw new EnsembleError('ENSEMBLE_ERR_HOOK_SECRET');
    return h;
  }
}

/**
 * A body → events and per-item problems. Without a mapped messageId, an item's id is a digest of
 * hook + item, so a sender's retry of the same body is deduped.
 */
export function hookEvents(hook: HookRow, body: unknown): { events: Array<Record<string, unknown>>; rejected: Array<{ index: number; column: string | null; reason: string }> } {
  const mapping = hook.mapping as Mapping;
  const items = mapping.items ? readField(body, mapping.items) : [body];
  if (!Array.isArray(items)) {
    return { events: [], rejected: [{ index: 0, column: mapping.items ?? null, reason: 'not an array' }] };
  }
  const events: Array<Record<string, unknown>> = [];
  const rejected: Array<{ index: number; column: string | null; reason: string }> = [];
  items.forEach((item: unknown, index) => {
    const r = mapRow(mapping, item);
    if (!r.ok) {
      rejected.push({ index, column: r.column, reason: r.reason });
      return;
    }
    if (r.event.messageId === undefined) r.event.messageId = `hk-${rowDigest(hook.id, { item })}`;
    events.push(r.event);
  });
  return { events, rejected };
}

function view(h: HookRow): HookView {
  return { id: h.id, sourceId: h.sourceId, mapping: h.mapping as Mapping, createdAt: h.createdAt };
}
