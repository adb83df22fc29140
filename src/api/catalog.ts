/**
 * Workspaces and sources: persisted in the config store, mirrored in memory (the collector looks
 * up every write key), changed only here.
 */
import { EnsembleError } from '../protocol/errors.js';
import type { Source, SourceInputT, Workspace } from '../protocol/workspace.js';
import type { Clock } from '../platform/clock.js';
import { newId, newWriteKey } from '../platform/ids.js';
import type { SourceRegistry } from '../collect/source-registry.js';
import type { ConfigStore } from '../storage/ports.js';

export class Catalog {
  private readonly workspaces = new Map<string, Workspace>();

  constructor(private readonly store: ConfigStore, readonly sources: SourceRegistry, private readonly clock: Clock) {}

  async load(): Promise<void> {
    for (const ws of await this.store.listWorkspaces()) this.workspaces.set(ws.id, ws);
    for (const s of await this.store.listSources()) this.sources.put(s);
  }

  listWorkspaces(): Workspace[] {
    return [...this.workspaces.values()];
  }

  workspace(id: string): Workspace {
    const ws = this.workspaces.get(id);
    if (!ws) throw new EnsembleError('ENSEMBLE_ERR_WORKSPACE_NOT_FOUND');
    return ws;
  }

  async createWorkspace(name: string): Promise<Workspace> {
    const ws: Workspace = { id: newId('ws'), name, createdAt: this.clock.now() };
    await this.store.insertWorkspace(ws);
    this.workspaces.set(ws.id, ws);
    return ws;
  }

  async createSource(workspaceId: string, input: SourceInputT): Promise<Source> {
    this.workspace(workspaceId);
    const source: Source = {
      id: newId('src'), workspaceId, name: input.name, kind: input.kind, writeKey: newWriteKey(),
      previousWriteKey: null, previousKeyExpiresAt: null, createdAt: this.clock.now(),
    };
    await this.store.insertSource(source);
    this.sources.put(source);
    return source;
  }

  source(workspaceId: string, sourceId: string): Source {
    this.workspace(workspaceId);
    const s = this.sources.get(sourceId);
    if (!s || s.workspaceId !== workspaceId) throw new EnsembleError('ENSEMBLE_ERR_SOURCE_NOT_FOUND');
    return s;
  }

  /** A new write key; the old one keeps working for `graceSeconds` (0: stops at once). */
  async rotateKey(workspaceId: string, sourceId: string, graceSeconds: number): Promise<Source> {
    const old = this.source(workspaceId, sourceId);
    const rotated: Source = {
      ...old,
      writeKey: newWriteKey(),
      previousWriteKey: graceSeconds > 0 ? old.writeKey : null,
      previousKeyExpiresAt: graceSeconds > 0 ? this.clock.now() + graceSeconds * 1000 : null,
    };
    await this.store.updateSourceKeys(rotated);
    this.sources.put(rotated);
    return rotated;
  }
}
