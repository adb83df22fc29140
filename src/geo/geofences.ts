/**
 * The workspace's geofences, held in memory (every located event is tested against them) and
 * kept in the config store as one JSON list per workspace: they are configuration, a few dozen
 * to a few thousand circles, not data about people.
 *
 * @example
 *   const fences = new Geofences(configStore, clock);
 *   await fences.load();
 *   await fences.create('ws_1', { name: 'Paris Louvre store', latitude: 48.8606, longitude: 2.3376, radiusMeters: 150 });
 *   fences.containing('ws_1', { latitude: 48.861, longitude: 2.338 });  // → [that geofence]
 */
import { EnsembleError } from '../protocol/errors.js';
import { distanceKm, type GeoPoint } from '../protocol/geo.js';
import type { Geofence, GeofenceInput } from '../protocol/geofence.js';
import { newId } from '../platform/ids.js';
import type { Clock } from '../platform/clock.js';
import type { DuckDbConfigStore } from '../storage/duckdb/config-store.js';

const SETTING = 'geofences';
/** Testing each located event against every fence stays cheap up to here (a linear scan). */
export const MAX_GEOFENCES = 5_000;

export class Geofences {
  private readonly byWorkspace = new Map<string, Geofence[]>();
  /** Changes run one at a time: each reads the list the previous one wrote. */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: DuckDbConfigStore, private readonly clock: Clock) {}

  async load(): Promise<void> {
    for (const [ws, json] of await this.store.workspaceSettings(SETTING)) this.byWorkspace.set(ws, JSON.parse(json) as Geofence[]);
  }

  /** Whether any workspace has a geofence. */
  any(): boolean {
    for (const list of this.byWorkspace.values()) if (list.length > 0) return true;
    return false;
  }

  list(workspaceId: string): readonly Geofence[] {
    return this.byWorkspace.get(workspaceId) ?? [];
  }

  get(workspaceId: string, id: string): Geofence {
    const g = this.list(workspaceId).find((x) => x.id === id);
    if (!g) throw new EnsembleError('ENSEMBLE_ERR_GEOFENCE_NOT_FOUND');
    return g;
  }

  /** The geofences a point lies in (edge included). */
  containing(workspaceId: string, point: GeoPoint): Geofence[] {
    return this.list(workspaceId).filter((g) => distanceKm(point, g) * 1000 <= g.radiusMeters);
  }

  create(workspaceId: string, input: GeofenceInput): Promise<Geofence> {
    return this.serial(async () => {
      const list = this.list(workspaceId);
      if (list.length >= MAX_GEOFENCES) throw new EnsembleError('ENSEMBLE_ERR_VALIDATION', `A workspace has at most ${MAX_GEOFENCES} geofences.`);
      const now = this.clock.now();
      const g: Geofence = { id: newId('geo'), workspaceId, ...input, properties: input.properties ?? {}, createdAt: now, updatedAt: now };
      await this.save(workspaceId, [...list, g]);
      return g;
    });
  }

  update(workspaceId: string, id: string, input: GeofenceInput): Promise<Geofence> {
    return this.serial(async () => {
      const old = this.get(workspaceId, id);
      const g: Geofence = { ...old, ...input, properties: input.properties ?? {}, updatedAt: this.clock.now() };
      await this.save(workspaceId, this.list(workspaceId).map((x) => (x.id === id ? g : x)));
      return g;
    });
  }

  delete(workspaceId: string, id: string): Promise<void> {
    return this.serial(async () => {
      this.get(workspaceId, id);
      await this.save(workspaceId, this.list(workspaceId).filter((x) => x.id !== id));
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writing.then(fn, fn);
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** Stored first: memory changes only once the list is durable. */
  private async save(workspaceId: string, list: Geofence[]): Promise<void> {
    await this.store.setWorkspaceSetting(workspaceId, SETTING, JSON.stringify(list));
    this.byWorkspace.set(workspaceId, list);
  }
}
