/**
 * Special categories of data (GDPR art. 9) in segments. A workspace tags traits and event
 * properties (`PUT .../privacy/sensitive-data`); a segment whose rule reads tagged data — a
 * trait, an event or sequence filter, or a computed trait over a tagged property — uses those
 * categories. Such a segment:
 * - is never for advertising (refused when it serves `advertising`);
 * - has no members until a DPO approved it (`POST .../segments/{id}/approve`); a new rule needs a
 *   new approval;
 * - holds only people with explicit consent (`explicit_<category>`) for each category it uses.
 */
import { leaves, type SegmentCondition } from '../protocol/segment.js';
import type { SensitiveDataT } from '../protocol/privacy.js';

/** The categories a rule reads, sorted. `computedProperties`: the event properties a computed trait reads (its property and filters). */
export function sensitiveCategoriesOf(definition: SegmentCondition, tags: SensitiveDataT, computedProperties: (name: string) => readonly string[]): string[] {
  const found = new Set<string>();
  const property = (path: string | undefined) => {
    const c = path === undefined ? undefined : tags.properties[path];
    if (c) found.add(c);
  };
  for (const leaf of leaves(definition)) {
    switch (leaf.kind) {
      case 'trait': {
        const c = tags.traits[leaf.trait];
        if (c) found.add(c);
        break;
      }
      case 'event':
        for (const f of leaf.filters ?? []) property(f.property);
        break;
      case 'sequence':
        for (const step of leaf.steps) for (const f of step.filters ?? []) property(f.property);
        break;
      case 'computed':
        for (const p of computedProperties(leaf.name)) property(p);
        break;
      default:
        break;
    }
  }
  return [...found].sort();
}
