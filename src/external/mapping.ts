/**
 * Applies a declarative mapping to one fetched JSON body: where the items are, each item's key,
 * and the fields kept. Pure: the same body and mapping always give the same values, so a pull
 * can be explained from its answer alone.
 *
 * A key is a string or a finite number (written as text), normalised with `externalKey`. An item
 * without a usable key, or repeating a key already seen in this answer, is skipped (counted; the
 * first is kept), and so is an item holding none of the fields. A field whose pointer leads
 * nowhere is absent for that key.
 *
 * @example
 *   applyMapping({ list: [{ name: 'Paris', main: { temp: 27 } }] }, { items: '/list', key: '/name', fields: { temperature: '/main/temp' } })
 *   // { values: Map { 'paris' => Map { 'temperature' => 27 } }, items: 1, skipped: 0, error: null }
 */
import type { ExternalMappingT } from '../protocol/external.js';
import { externalKey } from './external-values.js';
import { parsePointer, resolveTokens } from './json-pointer.js';

export interface MappedValues {
  values: Map<string, Map<string, unknown>>;
  /** Items in the answer (the whole body counts as one). */
  items: number;
  skipped: number;
  /** Set when the body does not have the shape the mapping expects (no array at `items`). */
  error: string | null;
}

/** `pulledKey`: the `{key}` the URL was pulled for (per-key URLs). */
export function applyMapping(body: unknown, mapping: ExternalMappingT, pulledKey?: string): MappedValues {
  const values = new Map<string, Map<string, unknown>>();
  const fields = Object.entries(mapping.fields).map(([name, p]) => [name, parsePointer(p) ?? []] as const);
  const keyTokens = mapping.key === undefined ? null : parsePointer(mapping.key);
  let items: unknown[];
  if (mapping.items === undefined) {
    items = [body];
  } else {
    const at = resolveTokens(body, parsePointer(mapping.items) ?? []);
    if (!Array.isArray(at)) return { values, items: 0, skipped: 0, error: `no array at ${mapping.items === '' ? 'the body' : mapping.items}` };
    items = at;
  }
  let skipped = 0;
  for (const item of items) {
    const raw = keyTokens === null ? pulledKey : resolveTokens(item, keyTokens);
    const key = typeof raw === 'string' ? externalKey(raw) : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : '';
    if (key === '' || values.has(key)) { skipped++; continue; }
    const kept = new Map<string, unknown>();
    for (const [name, tokens] of fields) {
      const v = resolveTokens(item, tokens);
      if (v !== undefined) kept.set(name, v);
    }
    // An item with none of the fields is not data (an error object answered with a 200, say).
    if (kept.size === 0) { skipped++; continue; }
    values.set(key, kept);
  }
  return { values, items: items.length, skipped, error: null };
}
