/**
 * The values external sources hold, in memory, for the segment engine: it asks for one value per
 * profile evaluation, so a lookup is a few map reads. Written only by the pull scheduler after a
 * pull was stored (so memory never runs ahead of the store), and rebuilt from `external_values`
 * at start-up.
 *
 * Keys are compared normalised (trimmed, lower-cased, Unicode NFC): "Paris", " paris" and
 * "PARIS" are the same city, as a profile's `city` trait and an API's answer spell it.
 *
 * @example
 *   const values = new ExternalValues();
 *   values.defineFields('ws_1', 'weather', ['temperature']);
 *   values.replace('ws_1', 'weather', new Map([['paris', new Map([['temperature', 27]])]]));
 *   values.value('ws_1', 'weather', ' Paris ', 'temperature')   // 27
 */
import { canonicalJson, type JsonValue } from '../privacy/audit-log.js';

/** Keys are compared normalised: trimmed, lower-cased (Unicode NFC). */
export function externalKey(text: string): string {
  return text.normalize('NFC').trim().toLowerCase().normalize('NFC');
}

/** One source's values: normalised key → field → value. */
export type KeyedValues = ReadonlyMap<string, ReadonlyMap<string, unknown>>;

export type ExternalChangeListener = (workspaceId: string, sourceId: string, changedKeys: ReadonlySet<string>) => void;

interface Held {
  fields: ReadonlySet<string>;
  values: Map<string, ReadonlyMap<string, unknown>>;
}

const slot = (workspaceId: string, sourceId: string) => `${workspaceId}\u0000${sourceId}`;

export class ExternalValues {
  private readonly held = new Map<string, Held>();
  private readonly listeners: ExternalChangeListener[] = [];

  /** The value of `field` for `key` (any case/spacing) in source `sourceId`, or undefined. */
  value(workspaceId: string, sourceId: string, key: string, field: string): unknown {
    return this.held.get(slot(workspaceId, sourceId))?.values.get(externalKey(key))?.get(field);
  }

  /** Whether the workspace has this external source with this field in its mapping. */
  hasField(workspaceId: string, sourceId: string, field: string): boolean {
    return this.held.get(slot(workspaceId, sourceId))?.fields.has(field) ?? false;
  }

  /** Called after each successful pull (and after a delete) with the keys whose values changed (normalised). */
  onChange(listener: (workspaceId: string, sourceId: string, changedKeys: ReadonlySet<string>) => void): void {
    this.listeners.push(listener);
  }

  /** The keys a source holds now (normalised), for the admin API. */
  keys(workspaceId: string, sourceId: string): string[] {
    return [...(this.held.get(slot(workspaceId, sourceId))?.values.keys() ?? [])];
  }

  /** Declares (or changes) a source's mapping fields; its values stay. */
  defineFields(workspaceId: string, sourceId: string, fields: readonly string[]): void {
    const h = this.held.get(slot(workspaceId, sourceId));
    if (h) h.fields = new Set(fields);
    else this.held.set(slot(workspaceId, sourceId), { fields: new Set(fields), values: new Map() });
  }

  /**
   * Replaces everything a source holds with `next` (keys already normalised); tells the listeners
   * which keys changed (added, removed, or any field different). Returns those keys.
   */
  replace(workspaceId: string, sourceId: string, next: KeyedValues, notify = true): ReadonlySet<string> {
    const id = slot(workspaceId, sourceId);
    const h = this.held.get(id) ?? { fields: new Set<string>(), values: new Map() };
    this.held.set(id, h);
    const changed = changedKeys(h.values, next);
    h.values = new Map(next);
    if (notify && changed.size > 0) this.emit(workspaceId, sourceId, changed);
    return changed;
  }

  /** The source is gone: its fields and values too; every key it held is reported changed. */
  remove(workspaceId: string, sourceId: string): ReadonlySet<string> {
    const id = slot(workspaceId, sourceId);
    const h = this.held.get(id);
    this.held.delete(id);
    const changed: ReadonlySet<string> = new Set(h?.values.keys() ?? []);
    this.emit(workspaceId, sourceId, changed);
    return changed;
  }

  private emit(workspaceId: string, sourceId: string, changed: ReadonlySet<string>): void {
    for (const l of this.listeners) l(workspaceId, sourceId, changed);
  }
}

/** Keys added, removed, or with any field added, removed or different (compared as canonical JSON). */
export function changedKeys(before: KeyedValues, after: KeyedValues): Set<string> {
  const changed = new Set<string>();
  for (const [key, fields] of after) {
    const old = before.get(key);
    if (!old || !sameFields(old, fields)) changed.add(key);
  }
  for (const key of before.keys()) if (!after.has(key)) changed.add(key);
  return changed;
}

function sameFields(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const [f, v] of a) {
    if (!b.has(f) || canonicalJson(v as JsonValue) !== canonicalJson(b.get(f) as JsonValue)) return false;
  }
  return true;
}
