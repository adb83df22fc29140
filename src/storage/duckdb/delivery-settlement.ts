/**
 * The delivery loops' settlements as the rows of the statements that apply them: several
 * batches (of several destinations) become one JSON text per kind of write, so a transaction
 * costs the same few statements whatever it carries (activation-store.ts runs them).
 *
 * @example
 *   const rows = settlementRows([{ workspaceId, destinationId, s, day: '2026-12-03', now, resolve, reject }]);
 *   // rows.gone: '{"d":"dst_1","k":"dst_1:e:7"}\n…' for DELETE … USING
 */
import type { AudienceMember, Settlement } from './activation-store.js';

export const GONE_SPEC = JSON.stringify({ d: 'VARCHAR', k: 'VARCHAR' });
export const OUTCOME_SPEC = JSON.stringify({ d: 'VARCHAR', k: 'VARCHAR', a: 'INTEGER', n: 'BIGINT', e: 'VARCHAR', s: 'VARCHAR', f: 'BIGINT' });
export const RECEIPT_SPEC = JSON.stringify({ w: 'VARCHAR', d: 'VARCHAR', p: 'VARCHAR', a: 'BIGINT', n: 'BIGINT' });
export const COUNT_SPEC = JSON.stringify({ w: 'VARCHAR', d: 'VARCHAR', y: 'VARCHAR', o: 'VARCHAR', r: 'VARCHAR', n: 'BIGINT' });
export const MESSAGE_SPEC = JSON.stringify({ w: 'VARCHAR', p: 'VARCHAR', c: 'VARCHAR', a: 'BIGINT', r: 'INTEGER', k: 'VARCHAR' });

/** A batch's outcomes waiting for the delivery connection's next transaction. */
export interface PendingSettlement {
  workspaceId: string;
  destinationId: string;
  s: Settlement;
  day: string;
  now: number;
  resolve(): void;
  reject(err: unknown): void;
}

/** The JSON lines of each statement (null: nothing of that kind). */
export interface SettlementRows {
  gone: string | null;
  changed: string | null;
  sent: string | null;
  forget: AudienceMember[];
  receipts: string | null;
  counts: string | null;
}

/** A group of settlements as the rows of its statements (JSON lines; null: nothing of that kind). */
export function settlementRows(group: readonly PendingSettlement[]): SettlementRows {
  const json = (rows: readonly object[]) => (rows.length === 0 ? null : rows.map((r) => JSON.stringify(r)).join('\n'));
  const gone = group.flatMap((g) => [...g.s.delivered, ...g.s.dropped].map((k) => ({ d: g.destinationId, k })));
  const changed = group.flatMap((g) => [
    ...g.s.retried.map((r) => ({ d: g.destinationId, k: r.key, a: r.attempts, n: r.nextAt, e: r.error, s: 'pending', f: null })),
    ...g.s.deferred.map((r) => ({ d: g.destinationId, k: r.key, a: null, n: r.nextAt, e: r.reason, s: 'pending', f: null })),
    ...g.s.dead.map((r) => ({ d: g.destinationId, k: r.key, a: r.attempts, n: null, e: r.error, s: 'dead', f: g.now })),
  ]);
  const sent = group.flatMap((g) => g.s.sent.map((m) => ({ w: g.workspaceId, p: m.profileId, c: m.channel, a: m.at, r: m.priority, k: m.key })));
  // One row per key in an upsert: a statement may not update the same row twice.
  const receipts = new Map<string, { w: string; d: string; p: string; a: number; n: number }>();
  const counts = new Map<string, { w: string; d: string; y: string; o: string; r: string; n: number }>();
  for (const g of group) {
    for (const p of g.s.received) {
      const k = `${g.destinationId}\u0000${p}`;
      const r = receipts.get(k);
      if (r) { r.n++; r.a = Math.max(r.a, g.now); } else receipts.set(k, { w: g.workspaceId, d: g.destinationId, p, a: g.now, n: 1 });
    }
    for (const x of g.s.counts) {
      const k = `${g.destinationId}\u0000${g.day}\u0000${x.outcome}\u0000${x.reason}`;
      const r = counts.get(k);
      if (r) r.n += x.count; else counts.set(k, { w: g.workspaceId, d: g.destinationId, y: g.day, o: x.outcome, r: x.reason, n: x.count });
    }
  }
  return {
    gone: json(gone), changed: json(changed), sent: json(sent), forget: group.flatMap((g) => g.s.forget),
    receipts: json([...receipts.values()]), counts: json([...counts.values()]),
  };
}
