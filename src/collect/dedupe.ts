/**
 * messageId deduplication per workspace. SDKs retry with the same messageId, so a retry after a
 * lost response must not create a second event.
 *
 * Two generations of sets rotate every `windowMs`: an id is remembered for at least one window
 * and at most two, with no per-entry timestamps (memory is the constraint at tens of millions
 * of ids a day).
 */
/** The key of a messageId within its workspace (also the collector's in-flight key). */
export function dedupeKey(workspaceId: string, messageId: string): string {
  return `${workspaceId}\u0000${messageId}`;
}

export class DedupeIndex {
  private current = new Set<string>();
  private previous = new Set<string>();
  private rotatedAt: number;

  constructor(private readonly windowMs: number, now: number) {
    this.rotatedAt = now;
  }

  /** True if the key (see `dedupeKey`) was seen; otherwise records it and returns false. */
  seen(key: string, now: number): boolean {
    this.maybeRotate(now);
    if (this.current.has(key) || this.previous.has(key)) return true;
    this.current.add(key);
    return false;
  }

  /** Forgets ids whose commit failed, so the client's retry is accepted. */
  forget(key: string): void {
    this.current.delete(key);
    this.previous.delete(key);
  }

  /** Loads ids known from storage at start-up. */
  remember(key: string): void {
    this.current.add(key);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  private maybeRotate(now: number): void {
    if (now - this.rotatedAt < this.windowMs) return;
    this.previous = now - this.rotatedAt < 2 * this.windowMs ? this.current : new Set();
    this.current = new Set();
    this.rotatedAt = now;
  }
}
