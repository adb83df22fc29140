/**
 * One line of plain language for a segment condition (used by the explanation view and the
 * builder's summary), in the user's language.
 *
 * @example
 *   describe({ kind: 'event', event: 'Order Completed', within: '30d' }, t) // "Order Completed ≥ 1 time(s) in 30d"
 */
import type { TFunction } from 'i18next';

type Cond = Record<string, unknown> & { kind?: string };

const OPS: Record<string, string> = { eq: '=', neq: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤', in: '∈', contains: '∋', starts_with: '^', exists: '∃', between: '↔' };

function value(v: unknown): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v);
}

function cmp(op: unknown, v: unknown): string {
  const o = String(op ?? '');
  return o === 'exists' ? OPS.exists ?? o : `${OPS[o] ?? o} ${value(v)}`;
}

export function describe(c: unknown, t: TFunction, segmentName: (id: string) => string = (id) => id): string {
  const n = (c ?? {}) as Cond;
  switch (n.kind) {
    case 'and': return t('segment.kinds.and');
    case 'or': return t('segment.kinds.or');
    case 'not': return t('segment.kinds.not');
    case 'trait': return `${t('segment.kinds.trait')} ${String(n.trait)} ${cmp(n.op, n.value)}`;
    case 'computed': return `${t('segment.kinds.computed')} ${String(n.name)} ${cmp(n.op, n.value)}`;
    case 'event': {
      const count = (n.count as { op: string; value: number } | undefined) ?? { op: 'gte', value: 1 };
      const between = n.between as { from: string; to: string } | undefined;
      const window = n.within ? ` · ${t('segment.within')} ${String(n.within)}` : between ? ` · ${between.from} → ${between.to}` : '';
      const filters = Array.isArray(n.filters) && n.filters.length > 0 ? ` · ${(n.filters as Cond[]).map((f) => `${String(f.property)} ${cmp(f.op, f.value)}`).join(', ')}` : '';
      return `${t('segment.kinds.event')} ${String(n.event)} ${OPS[count.op] ?? count.op} ${count.value}${window}${filters}`;
    }
    case 'sequence': return `${t('segment.kinds.sequence')} ${(n.steps as Cond[] ?? []).map((s) => `${s.absent ? '¬' : ''}${String(s.event)}`).join(' → ')} · ${t('segment.within')} ${String(n.within)}`;
    case 'segment': return `${t('segment.kinds.segment')} ${segmentName(String(n.id))}`;
    case 'list': return `${t('segment.kinds.list')} ${String(n.id)}`;
    case 'consent': return `${t('segment.kinds.consent')} ${String(n.purpose)}`;
    case 'external': return `${t('segment.kinds.external')} ${String(n.source)}.${String(n.field)} (${String(n.key)}) ${cmp(n.op, n.value)}`;
    case 'geo': {
      const near = n.near as { latitude: number; longitude: number; radiusKm: number } | undefined;
      return near ? `${t('segment.kinds.geo')} ${near.latitude}, ${near.longitude} ≤ ${near.radiusKm} km` : `${t('segment.kinds.geo')} ${(n.country as string[] | undefined ?? []).join(', ')}`;
    }
    case 'score': {
      const decile = n.decile as { op: string; value: number } | undefined;
      return `${t('segment.kinds.score')} ${String(n.model)} ${decile ? `${t('segment.decile')} ${OPS[decile.op] ?? decile.op} ${decile.value}` : cmp(n.op, n.value)}`;
    }
    default: return JSON.stringify(c);
  }
}

/** The whole tree in one line: `all of (A; any of (B; C))`, for the builder's summary. */
export function describeTree(c: unknown, t: TFunction, segmentName?: (id: string) => string): string {
  const n = (c ?? {}) as Cond;
  if ((n.kind === 'and' || n.kind === 'or') && Array.isArray(n.of)) return `${describe(n, t)} (${(n.of as unknown[]).map((x) => describeTree(x, t, segmentName)).join('; ')})`;
  if (n.kind === 'not') return `${describe(n, t)} (${describeTree(n.of, t, segmentName)})`;
  return describe(n, t, segmentName);
}
