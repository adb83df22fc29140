/**
 * What the geofence tracker reads at start-up (geo/geofence-tracker.ts): each person's latest
 * stored location, and the fences their latest Entered/Exited events left them inside.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { GEOFENCE_ENTERED, GEOFENCE_EXITED } from '../../protocol/geofence.js';
import { locationOf } from '../../protocol/geo.js';
import type { GeofenceHistory, StoredLocation } from '../../geo/geofence-tracker.js';
import { all, type Database } from './database.js';

export class DuckDbGeofenceHistory implements GeofenceHistory {
  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<DuckDbGeofenceHistory> {
    return new DuckDbGeofenceHistory(await db.connect());
  }

  async latestLocations(): Promise<StoredLocation[]> {
    const rows = await all(this.conn, `SELECT workspace_id, profile_id, source_id, message_id, at_ms, seq, location FROM (
        SELECT e.workspace_id, e.profile_id, e.source_id, e.message_id, epoch_ms(e.timestamp) AS at_ms, e.seq, json_extract(context, '$.location')::VARCHAR AS location,
               row_number() OVER (PARTITION BY workspace_id, profile_id ORDER BY e.timestamp DESC, e.seq DESC) AS n
        FROM events e WHERE json_type(context, '$.location') = 'OBJECT' AND json_type(context, '$.location.latitude') IN ('BIGINT', 'UBIGINT', 'DOUBLE'))
      WHERE n = 1`);
    const out: StoredLocation[] = [];
    for (const r of rows) {
      const location = locationOf({ location: JSON.parse(r.location as string) as unknown });
      if (location === null) continue;
      out.push({
        workspaceId: r.workspace_id as string, profileId: r.profile_id as string, sourceId: r.source_id as string,
        messageId: r.message_id as string, at: Number(r.at_ms), seq: BigInt(r.seq as bigint), location,
      });
    }
    return out;
  }

  async announcedInside(): Promise<Array<{ workspaceId: string; profileId: string; fenceId: string }>> {
    const rows = await all(this.conn, `SELECT workspace_id, profile_id, fence FROM (
        SELECT e.workspace_id, e.profile_id, json_extract_string(e.properties, '$.geofenceId') AS fence, arg_max(e.event, {'t': e.timestamp, 's': e.seq}) AS last
        FROM events e WHERE e.type = 'track' AND e.event IN ($1, $2) GROUP BY ALL)
      WHERE last = $1 AND fence IS NOT NULL`, [GEOFENCE_ENTERED, GEOFENCE_EXITED]);
    return rows.map((r) => ({ workspaceId: r.workspace_id as string, profileId: r.profile_id as string, fenceId: r.fence as string }));
  }
}
