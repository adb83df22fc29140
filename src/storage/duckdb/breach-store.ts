/**
 * Security events and breach records on DuckDB. Both are rewritten whole (INSERT OR REPLACE): a
 * security event's counts grow while its window lasts, and a breach record changes as the
 * investigation goes, its history kept in the row.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AuditDetail } from '../../privacy/audit-log.js';
import type { SecurityEvent, SecurityEventKind } from '../../privacy/security-monitor.js';
import type { Breach, BreachStatus, BreachTrailEntry } from '../../privacy/breaches.js';
import type { DataCategory } from '../../protocol/privacy.js';
import type { DataSubject } from '../../privacy/register.js';
import { all, type Database, type Row } from './database.js';

const IDS = (n: number) => `(SELECT unnest(from_json($${n}::JSON, '["VARCHAR"]')))`;

export class DuckDbBreachStore {
  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<DuckDbBreachStore> {
    return new DuckDbBreachStore(await db.connect());
  }

  async saveEvent(e: SecurityEvent): Promise<void> {
    await this.conn.run('INSERT OR REPLACE INTO security_events VALUES ($1, $2, $3, $4, $5::JSON)', [
      e.workspaceId, e.id, e.kind, BigInt(e.detectedAt), JSON.stringify(e.detail),
    ]);
  }

  /** Newest first. */
  async events(workspaceId: string, limit: number): Promise<SecurityEvent[]> {
    const rows = await all(this.conn, 'SELECT * FROM security_events WHERE workspace_id = $1 ORDER BY detected_at DESC, id LIMIT $2', [workspaceId, limit]);
    return rows.map(eventOf);
  }

  /** The events among `ids` that belong to one of `workspaceIds`. */
  async eventsByIds(workspaceIds: readonly string[], ids: readonly string[]): Promise<SecurityEvent[]> {
    if (ids.length === 0) return [];
    const rows = await all(this.conn, `SELECT * FROM security_events WHERE workspace_id IN ${IDS(1)} AND id IN ${IDS(2)} ORDER BY detected_at, id`, [
      JSON.stringify(workspaceIds), JSON.stringify(ids),
    ]);
    return rows.map(eventOf);
  }

  async saveBreach(b: Breach): Promise<void> {
    const big = (n: number | null) => (n === null ? null : BigInt(n));
    await this.conn.run(
      `INSERT OR REPLACE INTO breaches VALUES ($1, $2, $3, $4, $5, $6, $7, $8::JSON, $9::JSON, $10, $11, $12, $13, $14, $15, $16, $17, $18::JSON, $19, $20, $21::JSON)`,
      [
        b.workspaceId, b.id, b.status, BigInt(b.detectedAt), BigInt(b.awareAt), BigInt(b.notifyBy), b.nature, JSON.stringify(b.categories),
        JSON.stringify(b.dataSubjects), big(b.approxPeople), b.peopleEstimated, big(b.approxRecords), b.recordsEstimated, b.consequences,
        b.measures, b.highRisk, b.delayReason, JSON.stringify(b.securityEventIds), big(b.notifiedAt), big(b.closedAt), JSON.stringify(b.history),
      ],
    );
  }

  async getBreach(workspaceId: string, id: string): Promise<Breach | undefined> {
    const rows = await all(this.conn, 'SELECT * FROM breaches WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return rows[0] === undefined ? undefined : breachOf(rows[0]);
  }

  /** Newest first (by when the controller became aware). */
  async listBreaches(workspaceId: string, limit: number): Promise<Breach[]> {
    const rows = await all(this.conn, 'SELECT * FROM breaches WHERE workspace_id = $1 ORDER BY aware_at DESC, id LIMIT $2', [workspaceId, limit]);
    return rows.map(breachOf);
  }
}

function eventOf(r: Row): SecurityEvent {
  return {
    workspaceId: r.workspace_id as string, id: r.id as string, kind: r.kind as SecurityEventKind, detectedAt: Number(r.detected_at),
    detail: JSON.parse(r.detail as string) as AuditDetail,
  };
}

function breachOf(r: Row): Breach {
  const num = (v: unknown) => (v == null ? null : Number(v));
  return {
    workspaceId: r.workspace_id as string, id: r.id as string, status: r.status as BreachStatus, detectedAt: Number(r.detected_at),
    awareAt: Number(r.aware_at), notifyBy: Number(r.notify_by), nature: r.nature as string,
    categories: JSON.parse(r.categories as string) as DataCategory[], dataSubjects: JSON.parse(r.data_subjects as string) as DataSubject[],
    approxPeople: num(r.approx_people), peopleEstimated: r.people_estimated === true, approxRecords: num(r.approx_records),
    recordsEstimated: r.records_estimated === true, consequences: (r.consequences as string | null) ?? null, measures: r.measures as string,
    highRisk: r.high_risk == null ? null : r.high_risk === true, delayReason: (r.delay_reason as string | null) ?? null,
    securityEventIds: JSON.parse(r.security_event_ids as string) as string[], notifiedAt: num(r.notified_at), closedAt: num(r.closed_at),
    history: JSON.parse(r.history as string) as BreachTrailEntry[],
  };
}
