/**
 * Activation in the embedded store: destinations and triggers (config), the delivery queue with
 * its dead letters, what each platform audience holds, the fan-out cursors over the outboxes,
 * connectors' small state, and daily delivery counts.
 *
 * Two connections, each serialising its own statements (a DuckDB transaction belongs to its
 * connection): one for the fan-out, config and the admin views, one for the delivery loops
 * (`due`, `settle`, `nextDue`). With one, the loops queued behind every fan-out step and the
 * other way round (at 1,000 events/s it was busy 73 % of the time, see bench/README.md). The two
 * write mostly disjoint rows — the fan-out inserts new deliveries, the loops update or delete the
 * ones they fetched — and DuckDB's optimistic concurrency reports the rare overlap (an erasure or
 * a deleted destination under a batch being settled, one audience row forgotten by both) as a
 * conflict at once: the losing transaction rolled back whole and is run again (`CONFLICT_TRIES`).
 */
import { performance } from 'node:perf_hooks';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { Destination } from '../../protocol/activation.js';
import type { DeliveryKind } from '../../protocol/destination.js';
import type { Journey, JourneyState } from '../../protocol/journey.js';
import { all, inTransaction, jsonRows, type Database, type Row } from './database.js';
import { COUNT_SPEC, GONE_SPEC, MESSAGE_SPEC, OUTCOME_SPEC, RECEIPT_SPEC, settlementRows, type PendingSettlement, type SettlementRows } from './delivery-settlement.js';

/** A destination as stored: its config with secrets sealed (see activate/destinations.ts). */
export type StoredDestination = Omit<Destination, 'events'> & { events: unknown };

export interface NewDelivery {
  workspaceId: string;
  destinationId: string;
  key: string;
  kind: DeliveryKind;
  action?: 'add' | 'remove';
  profileId: string;
  segmentId?: string;
  payload?: unknown;
  /** The payload holds platform-ready identifiers: nothing is looked up at send time. */
  frozen?: boolean;
  createdAt: number;
}

export interface DeliveryRow extends NewDelivery {
  seq: bigint;
  attempts: number;
  nextAt: number;
  status: 'pending' | 'dead';
  error: string | null;
  failedAt: number | null;
}

export interface AudienceMember {
  workspaceId: string;
  destinationId: string;
  segmentId: string;
  profileId: string;
}

export interface Settlement {
  delivered: string[];
  dropped: string[];
  retried: Array<{ key: string; attempts: number; nextAt: number; error: string }>;
  dead: Array<{ key: string; attempts: number; error: string }>;
  /** Counts by (outcome, reason) for today's stats. */
  counts: Array<{ outcome: string; reason: string; count: number }>;
  /** Audience rows to forget (an add that was dropped never reached the platform). */
  forget: AudienceMember[];
  /** Profiles whose data this batch delivered (the receipts access requests show). */
  received: string[];
  /** Held back by the marketing-pressure policy: due again at `nextAt`, attempts unchanged. */
  deferred: Array<{ key: string; nextAt: number; reason: string }>;
  /** Messages sent (the pressure caps count them). */
  sent: Array<{ profileId: string; channel: string; at: number; priority: number; key: string }>;
}

/** Journey progress written with the deliveries it caused. */
export interface JourneyWrite {
  states: JourneyState[];
  counts: Array<{ workspaceId: string; journeyId: string; version: number; step: string; counter: string; count: number }>;
}

export interface ChangeRow { id: bigint; workspaceId: string; segmentId: string; profileId: string; entered: boolean; at: number; cause: string }
export interface EventRow {
  workspaceId: string; seq: bigint; messageId: string; type: string; event: string | null; name: string | null;
  profileId: string; sourceId: string; timestamp: number; receivedAt: number; properties: Record<string, unknown>; traits: Record<string, unknown>; context: Record<string, unknown>;
}

const DELIVERY_SPEC = JSON.stringify({ w: 'VARCHAR', d: 'VARCHAR', k: 'VARCHAR', q: 'BIGINT', t: 'VARCHAR', a: 'VARCHAR', p: 'VARCHAR', s: 'VARCHAR', y: 'JSON', f: 'BOOLEAN', c: 'BIGINT' });
const MEMBER_SPEC = JSON.stringify({ w: 'VARCHAR', d: 'VARCHAR', s: 'VARCHAR', p: 'VARCHAR' });
/** How often a transaction that lost a write-write conflict is run again before the error goes up. */
const CONFLICT_TRIES = 5;
const STATE_SPEC = JSON.stringify({ w: 'VARCHAR', j: 'VARCHAR', p: 'VARCHAR', v: 'INTEGER', s: 'VARCHAR', d: 'BIGINT', e: 'BIGINT', o: 'VARCHAR', x: 'BIGINT', b: 'VARCHAR', n: 'INTEGER' });

export class DuckDbActivationStore {
  private lock: Promise<unknown> = Promise.resolve();
  /** The delivery loops' connection has its own queue: neither side waits for the other's statements. */
  private deliveryLock: Promise<unknown> = Promise.resolve();
  private nextSeq = 1n;
  /** Settlements waiting for the delivery connection's next transaction. */
  private readonly settling: PendingSettlement[] = [];

  private constructor(private readonly conn: DuckDBConnection, private readonly dconn: DuckDBConnection, private readonly spent: (ms: number) => void) {}

  /**
   * `spent`: told the main-thread time of the hot paths (results turned into rows, batches into
   * JSON), which is processing's, not collection's (processor/burst-policy.ts).
   */
  static async open(db: Database, opts: { spent?: (ms: number) => void } = {}): Promise<DuckDbActivationStore> {
    const s = new DuckDbActivationStore(await db.connect(), await db.connect(), opts.spent ?? (() => undefined));
    const rows = await all(s.conn, 'SELECT coalesce(max(seq), 0) AS q FROM deliveries');
    s.nextSeq = BigInt(rows[0]?.q as bigint | number) + 1n;
    return s;
  }

  /** Runs writes one at a time (and reads that must see them in order). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** A query of a hot path: the conversion of its result is reported as processing time. */
  private async read(conn: DuckDBConnection, sql: string, params: DuckDBValue[]): Promise<Row[]> {
    const reader = await conn.runAndReadAll(sql, params);
    const t = performance.now();
    const rows = reader.getRowObjectsJS() as Row[];
    this.spent(performance.now() - t);
    return rows;
  }

  /** Runs `fn` and reports its time as processing time. */
  private timed<T>(fn: () => T): T {
    const t = performance.now();
    try {
      return fn();
    } finally {
      this.spent(performance.now() - t);
    }
  }

  /** The same, on the delivery loops' connection. */
  private deliverySerial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.deliveryLock.then(fn, fn);
    this.deliveryLock = run.catch(() => undefined);
    return run;
  }

  // ---- config ----

  async destinations(): Promise<StoredDestination[]> {
    const rows = await this.serial(() => all(this.conn, `SELECT workspace_id, id, type, name, config::VARCHAR AS config, purpose, segments::VARCHAR AS segments,
      events::VARCHAR AS events, rate_per_second, max_attempts, enabled, created_at, updated_at, recipient::VARCHAR AS recipient FROM destinations ORDER BY created_at, id`));
    return rows.map((r) => ({
      workspaceId: r.workspace_id as string, id: r.id as string, type: r.type as string, name: r.name as string,
      config: JSON.parse(r.config as string) as Record<string, unknown>, purpose: r.purpose as string,
      segments: JSON.parse(r.segments as string) as string[], events: r.events == null ? undefined : JSON.parse(r.events as string),
      ratePerSecond: Number(r.rate_per_second), maxAttempts: Number(r.max_attempts), enabled: r.enabled as boolean,
      createdAt: Number(r.created_at), updatedAt: Number(r.updated_at), recipient: JSON.parse(r.recipient as string) as StoredDestination['recipient'],
    }));
  }

  saveDestination(d: StoredDestination): Promise<void> {
    return this.serial(async () => {
      await this.conn.run(`INSERT OR REPLACE INTO destinations VALUES ($1, $2, $3, $4, $5::JSON, $6, $7::JSON, $8::JSON, $9, $10, $11, $12, $13, $14::JSON)`, [
        d.workspaceId, d.id, d.type, d.name, JSON.stringify(d.config), d.purpose, JSON.stringify(d.segments),
        d.events === undefined ? null : JSON.stringify(d.events), d.ratePerSecond, d.maxAttempts, d.enabled, BigInt(d.createdAt), BigInt(d.updatedAt), JSON.stringify(d.recipient),
      ]);
    });
  }

  /** The destination and everything queued or remembered for it. */
  deleteDestination(workspaceId: string, id: string): Promise<void> {
    return this.serial(() => transaction(this.conn, async () => {
      await this.conn.run('DELETE FROM destinations WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
      for (const t of ['deliveries', 'audience_members', 'delivery_stats', 'delivery_receipts']) await this.conn.run(`DELETE FROM ${t} WHERE workspace_id = $1 AND destination_id = $2`, [workspaceId, id]);
      await this.conn.run('DELETE FROM destination_state WHERE destination_id = $1', [id]);
    }));
  }

  async triggers(): Promise<Array<{ workspaceId: string; id: string; definition: unknown; enabled: boolean; createdAt: number }>> {
    const rows = await this.serial(() => all(this.conn, 'SELECT workspace_id, id, definition::VARCHAR AS definition, enabled, created_at FROM triggers ORDER BY created_at, id'));
    return rows.map((r) => ({ workspaceId: r.workspace_id as string, id: r.id as string, definition: JSON.parse(r.definition as string), enabled: r.enabled as boolean, createdAt: Number(r.created_at) }));
  }

  saveTrigger(t: { workspaceId: string; id: string; definition: unknown; enabled: boolean; createdAt: number }): Promise<void> {
    return this.serial(async () => {
      await this.conn.run('INSERT OR REPLACE INTO triggers VALUES ($1, $2, $3::JSON, $4, $5)', [t.workspaceId, t.id, JSON.stringify(t.definition), t.enabled, BigInt(t.createdAt)]);
    });
  }

  deleteTrigger(workspaceId: string, id: string): Promise<void> {
    return this.serial(async () => { await this.conn.run('DELETE FROM triggers WHERE workspace_id = $1 AND id = $2', [workspaceId, id]); });
  }

  // ---- the outboxes the fan-out follows ----

  async cursor(stream: string): Promise<bigint | null> {
    const rows = await this.serial(() => all(this.conn, 'SELECT position FROM activation_cursors WHERE stream = $1', [stream]));
    return rows.length === 0 ? null : BigInt(rows[0]!.position as bigint | number);
  }

  async lastChangeId(): Promise<bigint> {
    const rows = await this.serial(() => all(this.conn, 'SELECT coalesce(max(id), 0) AS id FROM segment_changes'));
    return BigInt(rows[0]?.id as bigint | number);
  }

  async lastEventSeq(): Promise<bigint> {
    const rows = await this.serial(() => all(this.conn, 'SELECT coalesce(max(seq), 0) AS seq FROM events'));
    return BigInt(rows[0]?.seq as bigint | number);
  }

  async changesAfter(after: bigint, limit: number): Promise<ChangeRow[]> {
    const rows = await this.serial(() => this.read(this.conn, `SELECT id, workspace_id, segment_id, profile_id, entered, changed_at, cause FROM segment_changes
      WHERE id > $1 ORDER BY id LIMIT $2`, [after, limit]));
    return this.timed(() => rows.map((r) => ({ id: BigInt(r.id as bigint), workspaceId: r.workspace_id as string, segmentId: r.segment_id as string, profileId: r.profile_id as string,
      entered: r.entered as boolean, at: Number(r.changed_at), cause: r.cause as string })));
  }

  async eventsAfter(after: bigint, limit: number): Promise<EventRow[]> {
    const rows = await this.serial(() => this.read(this.conn, `SELECT workspace_id, seq, message_id, type, event, name, profile_id, source_id, epoch_ms(timestamp) AS ts, epoch_ms(received_at) AS received,
      properties::VARCHAR AS properties, traits::VARCHAR AS traits, context::VARCHAR AS context FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, [after, limit]));
    return this.timed(() => rows.map((r) => ({
      workspaceId: r.workspace_id as string, seq: BigInt(r.seq as bigint), messageId: r.message_id as string, type: r.type as string,
      event: (r.event as string | null) ?? null, name: (r.name as string | null) ?? null, profileId: r.profile_id as string, sourceId: r.source_id as string,
      timestamp: Number(r.ts), receivedAt: Number(r.received), properties: parseObject(r.properties), traits: parseObject(r.traits), context: parseObject(r.context),
    })));
  }

  /** Current members of a segment as the segment store last announced them. */
  async segmentMembers(workspaceId: string, segmentId: string): Promise<string[]> {
    const rows = await this.serial(() => all(this.conn, 'SELECT profile_id FROM segment_members WHERE workspace_id = $1 AND segment_id = $2 ORDER BY profile_id', [workspaceId, segmentId]));
    return rows.map((r) => r.profile_id as string);
  }

  async audienceMembers(): Promise<AudienceMember[]> {
    const rows = await this.serial(() => all(this.conn, 'SELECT workspace_id, destination_id, segment_id, profile_id FROM audience_members'));
    return rows.map((r) => ({ workspaceId: r.workspace_id as string, destinationId: r.destination_id as string, segmentId: r.segment_id as string, profileId: r.profile_id as string }));
  }

  /**
   * One fan-out step, atomically: the new deliveries, the audience rows they imply, and the
   * cursors they were read up to. A crash before commit repeats the step; after, never. Returns
   * the deliveries it queued, as stored (a key already queued is left as it was and not returned),
   * so the delivery loops can take them without reading them back.
   */
  enqueue(deliveries: readonly NewDelivery[], members: { add: readonly AudienceMember[]; remove: readonly AudienceMember[] }, cursors: ReadonlyMap<string, bigint>, journeys?: JourneyWrite, lastRuns?: ReadonlyMap<string, number>): Promise<DeliveryRow[]> {
    return this.serial(() => transaction(this.conn, async () => {
      let queued: DeliveryRow[] = [];
      if (journeys) await this.journeyWrite(journeys);
      // A schedule's run is recorded with the entries it made: it fires once.
      for (const [id, at] of lastRuns ?? []) await this.conn.run('UPDATE journeys SET last_run_at = $2 WHERE id = $1', [id, BigInt(at)]);
      if (deliveries.length > 0) {
        const first = this.nextSeq;
        const rows = this.timed(() => deliveries.map((d) => JSON.stringify({
          w: d.workspaceId, d: d.destinationId, k: d.key, q: (this.nextSeq++).toString(), t: d.kind, a: d.action ?? null, p: d.profileId,
          s: d.segmentId ?? null, y: d.payload === undefined ? null : d.payload, f: d.frozen ?? false, c: d.createdAt,
        })).join('\n'));
        try {
          // A key already queued (a fan-out repeated after a crash between send and cursor) is kept as it is.
          const inserted = await all(this.conn, `INSERT OR IGNORE INTO deliveries SELECT w, d, k, q, t, a, p, s, y, f, 0, c, 'pending', NULL, c, NULL FROM ${jsonRows(DELIVERY_SPEC)}
            RETURNING destination_id, key, seq`, [rows]);
          const fresh = new Map(inserted.map((r) => [`${r.destination_id as string}\u0000${r.key as string}`, BigInt(r.seq as bigint)]));
          queued = deliveries.flatMap((d) => {
            const seq = fresh.get(`${d.destinationId}\u0000${d.key}`);
            return seq === undefined ? [] : [{ ...d, frozen: d.frozen ?? false, seq, attempts: 0, nextAt: d.createdAt, status: 'pending' as const, error: null, failedAt: null }];
          });
        } catch (err) {
          this.nextSeq = first;
          throw err;
        }
      }
      await this.members(this.conn, members.add, members.remove);
      for (const [stream, position] of cursors) {
        await this.conn.run('INSERT OR REPLACE INTO activation_cursors VALUES ($1, $2)', [stream, position]);
      }
      return queued;
    }));
  }

  private async members(conn: DuckDBConnection, add: readonly AudienceMember[], remove: readonly AudienceMember[]): Promise<void> {
    const json = (ms: readonly AudienceMember[]) => ms.map((m) => JSON.stringify({ w: m.workspaceId, d: m.destinationId, s: m.segmentId, p: m.profileId })).join('\n');
    if (remove.length > 0) {
      await conn.run(`DELETE FROM audience_members a USING ${jsonRows(MEMBER_SPEC)} m WHERE a.destination_id = m.d AND a.segment_id = m.s AND a.profile_id = m.p`, [json(remove)]);
    }
    if (add.length > 0) await conn.run(`INSERT OR IGNORE INTO audience_members SELECT w, d, s, p FROM ${jsonRows(MEMBER_SPEC)}`, [json(add)]);
  }

  // ---- the delivery loop ----

  /**
   * The due deliveries of a destination, oldest first, and when the next one that is not due yet
   * falls due (`later`, null: none): one statement, so a loop that drained its queue knows when
   * to look again without asking.
   */
  async due(destinationId: string, now: number, limit: number): Promise<{ rows: DeliveryRow[]; later: number | null }> {
    const rows = await this.deliverySerial(() => this.read(this.dconn, `WITH due AS (SELECT * EXCLUDE (payload), payload::VARCHAR AS payload FROM deliveries
        WHERE destination_id = $1 AND status = 'pending' AND next_at <= $2 ORDER BY seq LIMIT $3),
      later AS (SELECT min(next_at) AS later_at FROM deliveries WHERE destination_id = $1 AND status = 'pending' AND next_at > $2)
      SELECT due.*, later.later_at FROM later LEFT JOIN due ON true ORDER BY due.seq`, [destinationId, now, limit]));
    const later = rows[0]?.later_at;
    return { rows: this.timed(() => rows.filter((r) => r.key != null).map(toDelivery)), later: later == null ? null : Number(later) };
  }

  /** When the next pending delivery of a destination falls due (null: none pending). */
  async nextDue(destinationId: string): Promise<number | null> {
    const rows = await this.deliverySerial(() => all(this.dconn, `SELECT min(next_at) AS t FROM deliveries WHERE destination_id = $1 AND status = 'pending'`, [destinationId]));
    const t = rows[0]?.t;
    return t == null ? null : Number(t);
  }

  /**
   * Applies a batch's outcomes durably; resolves once they are committed. Batches settled while
   * a commit is running (the other destinations' loops) are applied together in the next
   * transaction — one statement per kind of write, not per item or per batch: the delivered and
   * dropped leave, the retried, deferred and dead are updated together, then the message log, the
   * forgotten audience rows, the receipts and the day's counts. A failed transaction fails every
   * batch in it (their items are still queued, and are sent again: at least once).
   */
  settle(workspaceId: string, destinationId: string, s: Settlement, day: string, now: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.settling.push({ workspaceId, destinationId, s, day, now, resolve, reject });
      if (this.settling.length === 1) void this.deliverySerial(() => this.settleAll());
    });
  }

  private async settleAll(): Promise<void> {
    const group = this.settling.splice(0);
    if (group.length === 0) return;
    try {
      await transaction(this.dconn, () => this.settleNow(this.timed(() => settlementRows(group))));
      for (const g of group) g.resolve();
    } catch (err) {
      for (const g of group) g.reject(err);
    }
  }

  private async settleNow(x: SettlementRows): Promise<void> {
    const c = this.dconn;
    if (x.gone) await c.run(`DELETE FROM deliveries d USING ${jsonRows(GONE_SPEC)} x WHERE d.destination_id = x.d AND d.key = x.k`, [x.gone]);
    if (x.changed) {
      await c.run(`UPDATE deliveries SET attempts = coalesce(x.a, deliveries.attempts), next_at = coalesce(x.n, deliveries.next_at), error = x.e,
          status = x.s, failed_at = coalesce(x.f, deliveries.failed_at) FROM ${jsonRows(OUTCOME_SPEC)} x WHERE deliveries.destination_id = x.d AND deliveries.key = x.k`, [x.changed]);
    }
    if (x.sent) await c.run(`INSERT INTO message_log SELECT w, p, c, a, r, k FROM ${jsonRows(MESSAGE_SPEC)}`, [x.sent]);
    await this.members(c, [], x.forget);
    if (x.receipts) {
      await c.run(`INSERT INTO delivery_receipts SELECT w, d, p, a, a, n FROM ${jsonRows(RECEIPT_SPEC)}
        ON CONFLICT (destination_id, profile_id) DO UPDATE SET last_at = excluded.last_at, count = delivery_receipts.count + excluded.count`, [x.receipts]);
    }
    if (x.counts) {
      await c.run(`INSERT INTO delivery_stats SELECT w, d, CAST(y AS DATE), o, r, n FROM ${jsonRows(COUNT_SPEC)}
        ON CONFLICT (destination_id, day, outcome, reason) DO UPDATE SET count = delivery_stats.count + excluded.count`, [x.counts]);
    }
  }

  async deadLetters(destinationId: string, limit: number): Promise<DeliveryRow[]> {
    const rows = await this.serial(() => all(this.conn, `SELECT * EXCLUDE (payload), payload::VARCHAR AS payload FROM deliveries
      WHERE destination_id = $1 AND status = 'dead' ORDER BY seq LIMIT $2`, [destinationId, limit]));
    return rows.map(toDelivery);
  }

  /** Puts dead letters back in the queue, due now, with their attempts reset; returns how many. */
  async replay(destinationId: string, keys: readonly string[] | null, now: number): Promise<number> {
    return this.serial(async () => {
      const params: DuckDBValue[] = [destinationId, BigInt(now)];
      let where = `destination_id = $1 AND status = 'dead'`;
      if (keys !== null) {
        params.push(JSON.stringify(keys));
        where += ` AND key IN (SELECT unnest(from_json($3::JSON, '["VARCHAR"]')))`;
      }
      const rows = await all(this.conn, `UPDATE deliveries SET status = 'pending', attempts = 0, next_at = $2, error = NULL, failed_at = NULL WHERE ${where} RETURNING key`, params);
      return rows.length;
    });
  }

  async stats(destinationId: string): Promise<{ counts: Array<{ outcome: string; reason: string; count: number }>; pending: number; dead: number; audience: Record<string, number> }> {
    return this.serial(async () => {
      const counts = await all(this.conn, 'SELECT outcome, reason, sum(count) AS n FROM delivery_stats WHERE destination_id = $1 GROUP BY ALL ORDER BY ALL', [destinationId]);
      const queue = await all(this.conn, `SELECT count(*) FILTER (WHERE status = 'pending') AS pending, count(*) FILTER (WHERE status = 'dead') AS dead FROM deliveries WHERE destination_id = $1`, [destinationId]);
      const audience = await all(this.conn, 'SELECT segment_id, count(*) AS n FROM audience_members WHERE destination_id = $1 GROUP BY ALL', [destinationId]);
      return {
        counts: counts.map((r) => ({ outcome: r.outcome as string, reason: r.reason as string, count: Number(r.n) })),
        pending: Number(queue[0]?.pending ?? 0), dead: Number(queue[0]?.dead ?? 0),
        audience: Object.fromEntries(audience.map((r) => [r.segment_id as string, Number(r.n)])),
      };
    });
  }

  /** The queued deliveries of some profiles (the access bundle shows where their data is going). */
  async deliveriesOf(workspaceId: string, profileIds: readonly string[]): Promise<DeliveryRow[]> {
    const rows = await this.serial(() => all(this.conn, `SELECT * EXCLUDE (payload), payload::VARCHAR AS payload FROM deliveries
      WHERE workspace_id = $1 AND profile_id IN (SELECT unnest(from_json($2::JSON, '["VARCHAR"]'))) ORDER BY seq`, [workspaceId, JSON.stringify(profileIds)]));
    return rows.map(toDelivery);
  }

  /**
   * Erasure: the profiles' queued deliveries and audience rows go; `removals` (frozen, keyed by
   * pseudonyms) take their place so the platforms that hold them let them go too.
   */
  forgetProfiles(workspaceId: string, profileIds: readonly string[], removals: readonly NewDelivery[]): Promise<void> {
    const ids = JSON.stringify(profileIds);
    return this.serial(() => transaction(this.conn, async () => {
      for (const t of ['deliveries', 'audience_members', 'delivery_receipts', 'journey_states', 'message_log']) {
        await this.conn.run(`DELETE FROM ${t} WHERE workspace_id = $1 AND profile_id IN (SELECT unnest(from_json($2::JSON, '["VARCHAR"]')))`, [workspaceId, ids]);
      }
      if (removals.length > 0) {
        const rows = removals.map((d) => JSON.stringify({
          w: d.workspaceId, d: d.destinationId, k: d.key, q: (this.nextSeq++).toString(), t: d.kind, a: d.action ?? null, p: d.profileId,
          s: d.segmentId ?? null, y: d.payload ?? null, f: true, c: d.createdAt,
        })).join('\n');
        await this.conn.run(`INSERT OR REPLACE INTO deliveries SELECT w, d, k, q, t, a, p, s, y, f, 0, c, 'pending', NULL, c, NULL FROM ${jsonRows(DELIVERY_SPEC)}`, [rows]);
      }
    }));
  }

  /** Which destinations received data of these profiles, first and last time. */
  async receiptsOf(workspaceId: string, profileIds: readonly string[]): Promise<Array<{ destinationId: string; firstAt: number; lastAt: number; count: number }>> {
    const rows = await this.serial(() => all(this.conn, `SELECT destination_id, min(first_at) AS f, max(last_at) AS l, sum(count) AS n FROM delivery_receipts
      WHERE workspace_id = $1 AND profile_id IN (SELECT unnest(from_json($2::JSON, '["VARCHAR"]'))) GROUP BY destination_id ORDER BY destination_id`, [workspaceId, JSON.stringify(profileIds)]));
    return rows.map((r) => ({ destinationId: r.destination_id as string, firstAt: Number(r.f), lastAt: Number(r.l), count: Number(r.n) }));
  }

  // ---- journeys ----

  async journeys(): Promise<Array<Journey & { lastRunAt: number | null }>> {
    const rows = await this.serial(() => all(this.conn, 'SELECT workspace_id, id, status, version, versions::VARCHAR AS versions, created_at, updated_at, last_run_at FROM journeys ORDER BY created_at, id'));
    return rows.map((r) => ({
      workspaceId: r.workspace_id as string, id: r.id as string, status: r.status as Journey['status'], version: Number(r.version),
      versions: JSON.parse(r.versions as string) as Journey['versions'], createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
      lastRunAt: r.last_run_at == null ? null : Number(r.last_run_at),
    }));
  }

  saveJourney(j: Journey, lastRunAt: number | null): Promise<void> {
    return this.serial(async () => {
      await this.conn.run('INSERT OR REPLACE INTO journeys VALUES ($1, $2, $3, $4, $5::JSON, $6, $7, $8)', [
        j.workspaceId, j.id, j.status, j.version, JSON.stringify(j.versions), BigInt(j.createdAt), BigInt(j.updatedAt), lastRunAt === null ? null : BigInt(lastRunAt),
      ]);
    });
  }

  async journeyStates(): Promise<JourneyState[]> {
    const rows = await this.serial(() => all(this.conn, 'SELECT * FROM journey_states'));
    return rows.map((r) => ({
      workspaceId: r.workspace_id as string, journeyId: r.journey_id as string, profileId: r.profile_id as string, version: Number(r.version),
      step: (r.step as string | null) ?? null, dueAt: r.due_at == null ? null : Number(r.due_at), enteredAt: Number(r.entered_at),
      outcome: (r.outcome as JourneyState['outcome']) ?? null, endedAt: r.ended_at == null ? null : Number(r.ended_at),
      branch: (r.branch as string | null) ?? null, entries: Number(r.entries),
    }));
  }

  async journeyStats(journeyId: string): Promise<Array<{ version: number; step: string; counter: string; count: number }>> {
    const rows = await this.serial(() => all(this.conn, 'SELECT version, step, counter, count FROM journey_stats WHERE journey_id = $1 ORDER BY ALL', [journeyId]));
    return rows.map((r) => ({ version: Number(r.version), step: r.step as string, counter: r.counter as string, count: Number(r.count) }));
  }

  /** Journey progress alone (timers, schedules), with the deliveries it caused. */
  journeyStep(deliveries: readonly NewDelivery[], members: { add: readonly AudienceMember[]; remove: readonly AudienceMember[] }, journeys: JourneyWrite, lastRuns: ReadonlyMap<string, number>, cursors: ReadonlyMap<string, bigint> = new Map()): Promise<DeliveryRow[]> {
    return this.enqueue(deliveries, members, cursors, journeys, lastRuns);
  }

  /** Message outcomes counted per journey step (sent, deferred, suppressed, dropped by reason). */
  journeyCounts(counts: JourneyWrite['counts']): Promise<void> {
    return this.serial(() => this.journeyCountsNow(counts));
  }

  private async journeyWrite(w: JourneyWrite): Promise<void> {
    if (w.states.length > 0) {
      const rows = w.states.map((x) => JSON.stringify({ w: x.workspaceId, j: x.journeyId, p: x.profileId, v: x.version, s: x.step, d: x.dueAt, e: x.enteredAt, o: x.outcome, x: x.endedAt, b: x.branch, n: x.entries })).join('\n');
      await this.conn.run(`INSERT OR REPLACE INTO journey_states SELECT w, j, p, v, s, d, e, o, x, b, n FROM ${jsonRows(STATE_SPEC)}`, [rows]);
    }
    await this.journeyCountsNow(w.counts);
  }

  private async journeyCountsNow(counts: JourneyWrite['counts']): Promise<void> {
    for (const c of counts) {
      await this.conn.run(`INSERT INTO journey_stats VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (journey_id, version, step, counter) DO UPDATE SET count = journey_stats.count + excluded.count`,
      [c.workspaceId, c.journeyId, c.version, c.step, c.counter, BigInt(c.count)]);
    }
  }

  /** Messages sent since `since` (the pressure caps' memory at start-up). */
  async messagesSince(since: number): Promise<Array<{ workspaceId: string; profileId: string; channel: string; at: number; priority: number; key: string }>> {
    const rows = await this.serial(() => all(this.conn, 'SELECT workspace_id, profile_id, channel, sent_at, priority, key FROM message_log WHERE sent_at > $1', [BigInt(since)]));
    return rows.map((r) => ({ workspaceId: r.workspace_id as string, profileId: r.profile_id as string, channel: r.channel as string, at: Number(r.sent_at), priority: Number(r.priority), key: r.key as string }));
  }

  /** Forgets messages older than the longest cap window. */
  pruneMessages(before: number): Promise<void> {
    return this.serial(async () => { await this.conn.run('DELETE FROM message_log WHERE sent_at <= $1', [BigInt(before)]); });
  }

  // ---- connectors' state ----

  async getState(destinationId: string, key: string): Promise<string | null> {
    const rows = await this.serial(() => all(this.conn, 'SELECT value FROM destination_state WHERE destination_id = $1 AND key = $2', [destinationId, key]));
    return rows.length === 0 ? null : (rows[0]!.value as string);
  }

  setState(destinationId: string, key: string, value: string): Promise<void> {
    return this.serial(async () => { await this.conn.run('INSERT OR REPLACE INTO destination_state VALUES ($1, $2, $3)', [destinationId, key, value]); });
  }
}

/**
 * One transaction that is run again, whole, when it loses a write-write conflict with the other
 * connection (DuckDB rolls the loser back at once; nothing of it was written).
 */
async function transaction<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(conn, fn);
    } catch (err) {
      if (attempt >= CONFLICT_TRIES || !isConflict(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, attempt * 5));
    }
  }
}

/** DuckDB's words for a transaction that touched rows another one changed meanwhile. */
export function isConflict(err: unknown): boolean {
  return err instanceof Error && /conflict/i.test(err.message) && !/constraint/i.test(err.message);
}

function parseObject(v: unknown): Record<string, unknown> {
  if (typeof v !== 'string') return {};
  const o = JSON.parse(v) as unknown;
  return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : {};
}

function toDelivery(r: Row): DeliveryRow {
  return {
    workspaceId: r.workspace_id as string, destinationId: r.destination_id as string, key: r.key as string, seq: BigInt(r.seq as bigint),
    kind: r.kind as DeliveryKind, ...(r.action == null ? {} : { action: r.action as 'add' | 'remove' }), profileId: r.profile_id as string,
    ...(r.segment_id == null ? {} : { segmentId: r.segment_id as string }), payload: r.payload == null ? undefined : JSON.parse(r.payload as string),
    frozen: r.frozen as boolean, attempts: Number(r.attempts), nextAt: Number(r.next_at), status: r.status as 'pending' | 'dead',
    error: (r.error as string | null) ?? null, createdAt: Number(r.created_at), failedAt: r.failed_at == null ? null : Number(r.failed_at),
  };
}
