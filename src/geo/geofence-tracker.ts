/**
 * Turns located events into `Geofence Entered` / `Geofence Exited` events. After each processed
 * batch, a person's latest location (by event time) is tested against the workspace's
 * geofences; each fence they came into or left gives one event, sent back through the collector
 * with the person's identity, under the source of the location (its purposes and consent rules
 * apply, as to the location itself). Older locations arriving late never move anyone.
 *
 * Exactly once, across crashes: a derived event's messageId is a digest of the location event's
 * messageId, the fence and the direction, so sending it again is a duplicate the collector drops.
 * At start-up, what the stored events announced (the latest Entered/Exited per person and fence)
 * is compared with where each person's latest stored location puts them, and the differences
 * are sent — a crash between a batch and its derived events loses nothing.
 *
 * Only the set of fences each located person is inside is kept in memory (no coordinates).
 *
 * @example
 *   const tracker = new GeofenceTracker({ fences, memory, identity, send, logger });
 *   identity.observe(tracker);
 *   await tracker.start(db);   // before the processor starts
 */
import { createHash } from 'node:crypto';
import { locationOf, type GeoPoint } from '../protocol/geo.js';
import { GEOFENCE_ENTERED, GEOFENCE_EXITED, type Geofence } from '../protocol/geofence.js';
import type { CommittedEvent } from '../processor/processor.js';
import type { MergeRecord } from '../protocol/profile.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { Geofences } from './geofences.js';
import type { Logger } from '../platform/logger.js';

/** A derived event, ready for the collector. */
export interface GeofenceEvent {
  workspaceId: string;
  sourceId: string;
  profileId: string;
  event: { type: 'track'; event: string; messageId: string; timestamp: string; properties: Record<string, unknown>; context: Record<string, unknown> };
}

interface Presence {
  at: number;
  seq: bigint;
  inside: Set<string>;
}

/** A person's latest stored location, as `start` reads it. */
export interface StoredLocation {
  workspaceId: string;
  profileId: string;
  sourceId: string;
  messageId: string;
  at: number;
  seq: bigint;
  location: GeoPoint;
}

/** What `start` needs from the store. */
export interface GeofenceHistory {
  latestLocations(): Promise<StoredLocation[]>;
  /** (workspace, stored profile id, fence id) of every fence whose latest announcement is an entry. */
  announcedInside(): Promise<Array<{ workspaceId: string; profileId: string; fenceId: string }>>;
}

export class GeofenceTracker {
  private readonly presence = new Map<string, Presence>();
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly deps: {
    fences: Geofences;
    memory: ProfileMemory;
    /** Sends derived events through the collector (the identity of the profile is added there). */
    send: (events: GeofenceEvent[]) => Promise<void>;
    logger: Logger;
  }) {}

  /** Catches up with what the store holds: differences between announced and actual presence are sent. */
  async start(history: GeofenceHistory): Promise<void> {
    if (!this.deps.fences.any()) return;
    const live = (id: string): string => this.deps.memory.live(id)?.id ?? id;
    const announced = new Map<string, Set<string>>();
    for (const a of await history.announcedInside()) {
      const pid = live(a.profileId);
      const set = announced.get(pid) ?? new Set();
      set.add(a.fenceId);
      announced.set(pid, set);
    }
    const latest = new Map<string, StoredLocation>();
    for (const l of await history.latestLocations()) {
      const pid = live(l.profileId);
      const known = latest.get(pid);
      if (!known || known.at < l.at || (known.at === l.at && known.seq < l.seq)) latest.set(pid, { ...l, profileId: pid });
    }
    const out: GeofenceEvent[] = [];
    for (const [pid, l] of latest) {
      const before = announced.get(pid) ?? new Set<string>();
      out.push(...this.move(pid, l, before));
    }
    // Someone announced inside with no location left (erased events) is left as is: nothing to compare with.
    this.enqueue(out);
    await this.sending;
  }

  committed(merges: readonly MergeRecord[], events: readonly CommittedEvent[]): void {
    for (const m of merges) {
      const from = this.presence.get(m.fromProfile);
      if (!from) continue;
      this.presence.delete(m.fromProfile);
      const into = this.presence.get(m.intoProfile);
      if (!into || into.at < from.at || (into.at === from.at && into.seq < from.seq)) this.presence.set(m.intoProfile, from);
    }
    const out: GeofenceEvent[] = [];
    for (const c of events) {
      const location = locationOf(c.event.context);
      if (location === null || (this.deps.fences.list(c.event.workspaceId).length === 0 && !this.presence.has(c.profileId))) continue;
      const pid = this.deps.memory.live(c.profileId)?.id ?? c.profileId;
      const prev = this.presence.get(pid);
      if (prev && (c.at < prev.at || (c.at === prev.at && c.seq < prev.seq))) continue;
      out.push(...this.move(pid, {
        workspaceId: c.event.workspaceId, profileId: pid, sourceId: c.event.sourceId, messageId: c.event.messageId, at: c.at, seq: c.seq, location,
      }, prev?.inside ?? new Set()));
    }
    this.enqueue(out);
  }

  /** The fences a located person is inside now (undefined: never located, or forgotten). */
  insideOf(profileId: string): ReadonlySet<string> | undefined {
    return this.presence.get(profileId)?.inside;
  }

  /** Forgets erased profiles. */
  forget(profileIds: Iterable<string>): void {
    for (const id of profileIds) this.presence.delete(id);
  }

  /** Resolves once every derived event so far is in the durable log. */
  flushed(): Promise<void> {
    return this.sending;
  }

  /** The person is now where `l` says: the events for each fence entered or left since `before`. */
  private move(pid: string, l: StoredLocation, before: ReadonlySet<string>): GeofenceEvent[] {
    const fences = this.deps.fences.list(l.workspaceId);
    const inside = new Set(this.deps.fences.containing(l.workspaceId, l.location).map((g) => g.id));
    this.presence.set(pid, { at: l.at, seq: l.seq, inside });
    const out: GeofenceEvent[] = [];
    for (const g of fences) {
      const was = before.has(g.id);
      const is = inside.has(g.id);
      if (was !== is) out.push(derived(l, pid, g, is));
    }
    return out;
  }

  private enqueue(events: GeofenceEvent[]): void {
    if (events.length === 0) return;
    this.sending = this.sending.then(() => this.deps.send(events)).catch((err: unknown) => {
      this.deps.logger.error({ err: err instanceof Error ? err.message : String(err), events: events.length }, 'geofence events not sent; they are sent at the next start');
    });
  }
}

function derived(l: StoredLocation, pid: string, g: Geofence, entered: boolean): GeofenceEvent {
  const name = entered ? GEOFENCE_ENTERED : GEOFENCE_EXITED;
  const messageId = `geo-${createHash('sha256').update(`${l.workspaceId}\u0000${l.messageId}\u0000${g.id}\u0000${name}`).digest('base64url').slice(0, 32)}`;
  return {
    workspaceId: l.workspaceId, sourceId: l.sourceId, profileId: pid,
    event: {
      type: 'track', event: name, messageId, timestamp: new Date(l.at).toISOString(),
      properties: { ...g.properties, geofenceId: g.id, geofenceName: g.name, radiusMeters: g.radiusMeters },
      context: { library: { name: 'ensemble-geofences', version: '1' } },
    },
  };
}
