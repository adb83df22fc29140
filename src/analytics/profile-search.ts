/**
 * The profile list and search of the console. The list is keyset-paginated by profile id over
 * the stored profiles (`WHERE id > cursor ORDER BY id LIMIT n`: the same cost on page 1 and page
 * 20,000, unlike OFFSET) and each page is filled from memory, where the identifiers and traits
 * already are. A search takes any identifier value (e-mail, phone, user id, anonymous id...) or
 * a profile id and answers the profiles it names, from the in-memory index by keyed hash (the
 * value is normalised by the workspace's rules first, as /profiles/lookup does).
 *
 * Personal identifiers and traits named after them are masked (`•••@•••.com`) unless the caller
 * may see personal data; nothing is logged.
 *
 * @example
 *   await listProfiles(deps, 'ws_1', { limit: 50 }, false); // → { items: [...50], nextCursor: 'cHJvZl8...' }
 *   await listProfiles(deps, 'ws_1', { search: 'ada@example.com' }, true); // → { items: [{ id: 'prof_..', ... }], nextCursor: null }
 */
import { EnsembleError } from '../protocol/errors.js';
import type { IdentityRecord, ProfileState } from '../protocol/profile.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import { traitValues } from '../profiles/traits.js';
import type { AnalyticsReader } from './reader.js';

export interface ProfileListDeps {
  reader: AnalyticsReader;
  memory: ProfileMemory;
  identity: IdentityService;
}

export interface ProfileListItem {
  id: string;
  createdAt: string;
  updatedAt: string;
  identifiers: Array<{ type: string; value: string | null }>;
  traitsPreview: Record<string, unknown>;
}

const PREVIEW_TRAITS = 6;
const ID = /^[A-Za-z0-9_-]{1,128}$/;

export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!ID.test(id) || encodeCursor(id) !== cursor) throw new EnsembleError('ENSEMBLE_ERR_CURSOR_INVALID');
  return id;
}

/** A personal value with only its kind left: `ada@example.com` → `•••@•••.com`, `+33612345678` → `•••78`. */
export function maskValue(v: string): string {
  const at = v.indexOf('@');
  if (at > 0) {
    const dot = v.lastIndexOf('.');
    return `•••@•••${dot > at ? v.slice(dot) : ''}`;
  }
  return v.length <= 4 ? '•••' : `•••${v.slice(-2)}`;
}

export async function listProfiles(deps: ProfileListDeps, ws: string, q: { search?: string; limit?: number; cursor?: string }, reveal: boolean): Promise<{ items: ProfileListItem[]; nextCursor: string | null }> {
  const limit = q.limit ?? 50;
  if (q.search !== undefined && q.search.trim() !== '') {
    const found = search(deps, ws, q.search.trim());
    return { items: found.slice(0, limit).map((p) => item(deps, p, reveal)), nextCursor: null };
  }
  const after = q.cursor === undefined ? null : decodeCursor(q.cursor);
  const rows = await deps.reader.rows(`SELECT id FROM profiles WHERE workspace_id = $1 AND merged_into IS NULL AND ($2::VARCHAR IS NULL OR id > $2::VARCHAR)
    ORDER BY id LIMIT $3`, [ws, after, limit + 1]);
  const ids = rows.map((r) => String(r.id));
  const page = ids.slice(0, limit);
  const items: ProfileListItem[] = [];
  for (const id of page) {
    const p = deps.memory.profiles.get(id);
    // Stored a moment before memory has it, or erased meanwhile: the next page goes on from its id anyway.
    if (p && p.workspaceId === ws && !p.mergedInto) items.push(item(deps, p, reveal));
  }
  const last = page[page.length - 1];
  return { items, nextCursor: ids.length > limit && last !== undefined ? encodeCursor(last) : null };
}

/** The live profiles a search text names: as a profile id, then as a value of each identifier type. */
function search(deps: ProfileListDeps, ws: string, text: string): ProfileState[] {
  const out = new Map<string, ProfileState>();
  const byId = deps.memory.live(text);
  if (byId && byId.workspaceId === ws) out.set(byId.id, byId);
  for (const t of deps.identity.config(ws).types) {
    let p: ProfileState | undefined;
    try {
      p = deps.identity.lookup(ws, t.type, text);
    } catch {
      continue; // not a valid value of this type (an e-mail is not a phone number)
    }
    if (p) out.set(p.id, p);
  }
  return [...out.values()];
}

function item(deps: ProfileListDeps, p: ProfileState, reveal: boolean): ProfileListItem {
  const rules = deps.identity.rules(p.workspaceId);
  const clear = (r: IdentityRecord) => deps.identity.clearValue(r);
  const identifiers = deps.memory.recordsOf(p.id).map((r) => {
    const v = clear(r);
    return { type: r.type, value: v === null ? null : reveal || !rules.isPersonal(r.type) ? v : maskValue(v) };
  });
  const traits = traitValues(p);
  const traitsPreview: Record<string, unknown> = {};
  for (const k of Object.keys(traits).sort().slice(0, PREVIEW_TRAITS)) {
    const v = traits[k];
    traitsPreview[k] = reveal || !rules.isPersonal(k) ? v : typeof v === 'string' ? maskValue(v) : null;
  }
  return { id: p.id, createdAt: new Date(p.firstSeen).toISOString(), updatedAt: new Date(p.lastSeen).toISOString(), identifiers, traitsPreview };
}
