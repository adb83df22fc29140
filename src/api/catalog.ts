/**
 * Workspaces and sources: persisted in the config store, mirrored in memory (the collector looks
 * up every write key), changed only here.
 */
import { EnsembleError } from '../protocol/errors.js';
import { defaultDeclaration, type Source, type SourceInputT, type SourcePatchT, type Workspace } from '../protocol/workspace.js';
import type { PrivacySettings } from '../privacy/privacy-settings.js';
import type { Clock } from '../platform/clock.js';
import { newId, newWriteKey } from '../platform/ids.js';
import type { SourceRegistry } from '../collect/source-registry.js';
import type { ConfigStore } from '../storage/ports.js';

export class Catalog {
  private readonly workspaces = new Map<string, Workspace>();

  constructor(
    private readonly store: ConfigStore,
    readonly sources: SourceRegistry,
    private readonly clock: Clock,
    private readonly privacy: PrivacySettings,
  ) {}

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
    const d = defaultDeclaration(input.kind);
    const source: Source = {
      id: newId('src'), workspaceId, name: input.name, kind: input.kind, writeKey: newWriteKey(),
      previousWriteKey: null, previousKeyExpiresAt: null, createdAt: this.clock.now(),
      purposes: input.purposes ?? d.purposes, dataCategories: input.dataCategories ?? d.dataCategories, consentMode: input.consentMode ?? d.consentMode,
    };
    this.privacy.requirePurposes(workspaceId, source.purposes);
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

  /** Changes what a source declares; later events are processed under the new declaration. */
  async updateSource(workspaceId: string, sourceId: string, patch: SourcePatchT): Promise<Source> {
    const old = this.source(workspaceId, sourceId);
    const updated: Source = {
      ...old, name: patch.name ?? old.name, purposes: patch.purposes ?? old.purposes,
      dataCategories: patch.dataCategories ?? old.dataCategories, consentMode: patch.consentMode ?? old.consentMode,
    };
    this.privacy.requirePurposes(workspaceId, updated.purposes);
    await this.store.updateSourceDeclaration(updated);
    this.sources.put(updated);
    return updated;
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
