/**
 * Wires geofences: the registry, the tracker following processed batches, and how its derived
 * events reach the collector (with the person's identity, under the location's source).
 */
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Collector } from '../collect/collector.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { Database } from '../storage/duckdb/database.js';
import type { DuckDbConfigStore } from '../storage/duckdb/config-store.js';
import { DuckDbGeofenceHistory } from '../storage/duckdb/geofence-store.js';
import { Geofences } from '../geo/geofences.js';
import { GeofenceTracker, type GeofenceEvent } from '../geo/geofence-tracker.js';

export interface GeoWiring {
  fences: Geofences;
  tracker: GeofenceTracker;
  /** Catches up with the store; call before the processor starts. */
  start(): Promise<void>;
}

export async function wireGeo(deps: {
  db: Database; configStore: DuckDbConfigStore; clock: Clock; logger: Logger;
  memory: ProfileMemory; identity: IdentityService; collector: Collector;
}): Promise<GeoWiring> {
  const fences = new Geofences(deps.configStore, deps.clock);
  await fences.load();
  const send = async (events: GeofenceEvent[]): Promise<void> => {
    // One request per source, as a batch from that source would be.
    const bySource = new Map<string, { workspaceId: string; events: unknown[] }>();
    for (const e of events) {
      const who = deps.identity.eventIdentity(e.profileId);
      if (!who) continue; // erased meanwhile
      const key = `${e.workspaceId}\u0000${e.sourceId}`;
      const group = bySource.get(key) ?? { workspaceId: e.workspaceId, events: [] };
      group.events.push({ ...e.event, ...who });
      bySource.set(key, group);
    }
    for (const [key, group] of bySource) {
      const sourceId = key.slice(key.indexOf('\u0000') + 1);
      await deps.collector.ingest({ source: { id: sourceId, workspaceId: group.workspaceId }, type: null, envelope: {}, events: group.events });
    }
  };
  const tracker = new GeofenceTracker({ fences, memory: deps.memory, send, logger: deps.logger });
  deps.identity.observe(tracker);
  const history = await DuckDbGeofenceHistory.open(deps.db);
  return { fences, tracker, start: () => tracker.start(history) };
}
