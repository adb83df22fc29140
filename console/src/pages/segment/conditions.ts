/** The kinds of condition the builder offers, and a fresh condition of each (valid as soon as its blanks are filled). */

export type Condition = Record<string, unknown> & { kind: string };

export const GROUP_KINDS = ['and', 'or', 'not'] as const;
export const LEAF_KINDS = ['trait', 'event', 'sequence', 'computed', 'segment', 'consent', 'geo', 'external', 'score'] as const;
export const FILTER_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'starts_with', 'exists', 'between'] as const;
export const COUNT_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'] as const;

export function fresh(kind: string): Condition {
  switch (kind) {
    case 'and': return { kind: 'and', of: [fresh('trait')] };
    case 'or': return { kind: 'or', of: [fresh('trait')] };
    case 'not': return { kind: 'not', of: fresh('trait') };
    case 'trait': return { kind: 'trait', trait: '', op: 'eq', value: '' };
    case 'event': return { kind: 'event', event: '', count: { op: 'gte', value: 1 }, within: '30d' };
    case 'sequence': return { kind: 'sequence', steps: [{ event: '' }, { event: '' }], within: '7d' };
    case 'computed': return { kind: 'computed', name: '', op: 'gte', value: 1 };
    case 'segment': return { kind: 'segment', id: '' };
    case 'consent': return { kind: 'consent', purpose: '' };
    case 'geo': return { kind: 'geo', country: ['FR'] };
    case 'external': return { kind: 'external', source: '', key: '', field: '', op: 'gt', value: 0 };
    case 'score': return { kind: 'score', model: '', decile: { op: 'gte', value: 8 } };
    default: return { kind };
  }
}
