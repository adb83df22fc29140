/**
 * Write key → source, in memory (every ingest request looks it up). Rebuilt from the config
 * store at start-up and kept current by the admin API.
 */
import type { Source } from '../protocol/workspace.js';

export class SourceRegistry {
  private readonly byKey = new Map<string, Source>();
  private readonly byId = new Map<string, Source>();

  constructor(sources: readonly Source[] = []) {
    for (const s of sources) this.put(s);
  }

  put(source: Source): void {
    const old = this.byId.get(source.id);
    if (old) {
      this.byKey.delete(old.writeKey);
      if (old.previousWriteKey) this.byKey.delete(old.previousWriteKey);
    }
    this.byId.set(source.id, source);
    this.byKey.set(source.writeKey, source);
    if (source.previousWriteKey) this.byKey.set(source.previousWriteKey, source);
  }

  /** The source a write key belongs to; a rotated-out key works until its grace period ends. */
  byWriteKey(key: string, now: number): Source | undefined {
    const s = this.byKey.get(key);
    if (!s) return undefined;
    if (key === s.writeKey) return s;
    return s.previousKeyExpiresAt !== null && now < s.previousKeyExpiresAt ? s : undefined;
  }

  get(id: string): Source | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<Source> {
    return this.byId.values();
  }

  list(workspaceId: string): Source[] {
    return [...this.byId.values()].filter((s) => s.workspaceId === workspaceId);
  }
}
