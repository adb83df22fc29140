/**
 * A branch condition decided for one person now, from memory: traits, computed traits, segment
 * membership and consent, combined with and/or/not (the validator refuses the rest: event
 * history belongs in a segment, whose membership a branch can test). Same comparison rules as
 * segments (profiles/computed-trait-match.ts).
 *
 * @example
 *   holds({ kind: 'and', of: [{ kind: 'trait', trait: 'tier', op: 'eq', value: 'gold' }, { kind: 'consent', purpose: 'sms_marketing' }] }, facts)
 */
import type { SegmentCondition } from '../protocol/segment.js';
import { compileComparison, readPath, segmentsOf } from '../profiles/computed-trait-match.js';

export interface ConditionFacts {
  traits(): Record<string, unknown>;
  computed(name: string): unknown;
  member(segmentId: string): boolean;
  permitted(purpose: string): boolean;
}

export function holds(c: SegmentCondition, f: ConditionFacts): boolean {
  switch (c.kind) {
    case 'and': return c.of.every((x) => holds(x, f));
    case 'or': return c.of.some((x) => holds(x, f));
    case 'not': return !holds(c.of, f);
    case 'trait': return compileComparison(c)(readPath(f.traits(), segmentsOf(c.trait)));
    case 'computed': {
      const v = f.computed(c.name);
      return compileComparison(c)(v === null ? undefined : v);
    }
    case 'segment': return f.member(c.id);
    case 'consent': return f.permitted(c.purpose);
    // Refused by the validator: history is read through a segment.
    default: return false;
  }
}
