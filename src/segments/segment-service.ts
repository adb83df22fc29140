/**
 * Segments as a service: definitions in the store, memberships in the incremental engine, the
 * batch SQL for previews and reconciliation. Creating or editing a segment fills it from the
 * stored events (one scan, folded by the same code as live events), then it follows live events.
 * Start-up fills every segment in one scan and announces only what changed while it was down.
 */
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { ComputedTraitDefinition } from '../protocol/computed-trait.js';
import { EnsembleError } from '../protocol/errors.js';
import {
  awaitsApproval, durationMs, leaves, requiredPurposes, segmentRefs, validateSegmentDefinition, type SegmentCondition, type StoredSegment,
} from '../protocol/segment.js';
import type { DuckDbSegmentStore, BackfillFilter } from '../storage/duckdb/segment-store.js';
import type { ChangeCause, SegmentEngine } from './engine.js';
import { compileSegment } from './sql/compile.js';

/** A split racing a backfill makes it start over; more than this many in a row is not a race. */
const MAX_FILL_ATTEMPTS = 5;

export interface SegmentServiceDeps {
  store: DuckDbSegmentStore;
  engine: SegmentEngine;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** The processor's cursor (see computed-trait-routes.ts: events up to it are stored, later ones observed). */
  cursor: () => bigint;
  live: (profileId: string) => string;
  computedTrait: (workspaceId: string, name: string) => ComputedTraitDefinition | undefined;
  personalTrait: (workspaceId: string, key: string) => boolean;
  /** Whether the workspace has this external source with this field (external data conditions). */
  externalField?: (workspaceId: string, source: string, field: string) => boolean;
  /** Whether the workspace has a predictive model with this id or key (score conditions). */
  model?: (workspaceId: string, ref: string) => boolean;
  /** Runs `fn` while the processor holds still (the reconciliation compares at one instant). */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Resolves once every processed batch has reached the engine (segment-feed.ts). */
  settled: () => Promise<void>;
  /** Whether a profile's consent for a purpose is in force: segments that serve purposes admit only those. */
  consented: (profileId: string, purpose: string) => boolean;
  /** The segment with what privacy derives for it: the special categories its rule reads, its approval. */
  classify: (segment: StoredSegment) => StoredSegment;
  /** The sources collecting for every one of these purposes (purpose limitation). */
  sourcesFor: (workspaceId: string, purposes: readonly string[]) => string[];
}

export interface Reconciliation {
  segmentId: string;
  at: string;
  sql: number;
  incremental: number;
  /** In the SQL result, not in memory / in memory, not in the SQL result. */
  missing: string[];
  extra: string[];
}

export class SegmentService {
  private readonly removedListeners: Array<(workspaceId: string, id: string) => Promise<void>> = [];
  constructor(private readonly deps: SegmentServiceDeps) {}

  async start(): Promise<void> {
    const { store, engine } = this.deps;
    const lists = new Map<string, Set<string>>();
    for (const i of await store.listItems()) {
      const set = lists.get(i.listId) ?? new Set<string>();
      set.add(`${i.workspaceId}\u0000${i.type}\u0000${i.hash}`);
      lists.set(i.listId, set);
    }
    for (const [id, keys] of lists) engine.setList(id, keys);
    const byWs = new Map<string, StoredSegment[]>();
    for (const stored of await store.list()) {
      const s = this.deps.classify(stored);
      byWs.set(s.workspaceId, [...(byWs.get(s.workspaceId) ?? []), s]);
    }
    for (const [ws, segments] of byWs) {
      const announced = new Map<string, Set<string>>();
      for (const s of segments) announced.set(s.id, await store.announced(ws, s.id));
      await this.fill(segments, 'reconciled', announced);
    }
  }

  validate(workspaceId: string, definition: unknown, self?: string): SegmentCondition {
    const problems = validateSegmentDefinition(definition, {
      segment: (id) => this.deps.engine.segment(workspaceId, id)?.definition,
      computedTrait: (name) => this.deps.computedTrait(workspaceId, name) !== undefined,
      personalTrait: (key) => this.deps.personalTrait(workspaceId, key),
      externalField: (source, field) => this.deps.externalField?.(workspaceId, source, field) ?? false,
      model: (ref) => this.deps.model?.(workspaceId, ref) ?? false,
      ...(self === undefined ? {} : { self }),
    });
    if (problems.length > 0) throw new EnsembleError('ENSEMBLE_ERR_SEGMENT_INVALID', undefined, problems);
    return definition as SegmentCondition;
  }

  /** Saves the segment, fills it from history, and announces its first members. */
  /** Saves and fills; returns the segment as classified. Special-category data is never used for advertising. */
  async save(input: StoredSegment, cause: ChangeCause): Promise<StoredSegment> {
    const segment = this.deps.classify(input);
    if ((segment.sensitive?.length ?? 0) > 0 && segment.purposes?.includes('advertising')) {
      throw new EnsembleError('ENSEMBLE_ERR_SENSITIVE_DATA_ADVERTISING', `The rule reads special-category data (${segment.sensitive?.join(', ')}), which is never used for advertising.`, { categories: segment.sensitive });
    }
    await this.deps.store.save(segment);
    await this.fill([segment], cause);
    return segment;
  }

  async remove(workspaceId: string, id: string): Promise<void> {
    const users = this.deps.engine.segments(workspaceId).filter((s) => s.id !== id && segmentRefs(s.definition).includes(id));
    if (users.length > 0) {
      throw new EnsembleError('ENSEMBLE_ERR_SEGMENT_IN_USE', undefined, { usedBy: users.map((s) => ({ id: s.id, name: s.name })) });
    }
    await this.deps.store.delete(workspaceId, id);
    await this.deps.store.deleteList(workspaceId, id);
    this.deps.engine.remove(workspaceId, id);
    for (const l of this.removedListeners) await l(workspaceId, id);
  }

  /** Called after a segment was deleted (destinations stop mirroring it). */
  onRemoved(listener: (workspaceId: string, id: string) => Promise<void>): void {
    this.removedListeners.push(listener);
  }

  /** A static list: the identity keys of its identifiers, then the segment reading it. */
  async saveList(segment: StoredSegment, items: ReadonlyArray<{ type: string; hash: string }>): Promise<void> {
    await this.deps.store.saveList(segment.workspaceId, segment.id, items);
    this.deps.engine.setList(segment.id, new Set(items.map((i) => `${segment.workspaceId}\u0000${i.type}\u0000${i.hash}`)));
    await this.save(segment, 'created');
  }

  /**
   * The SQL result of a definition now, among the profiles consenting to every purpose it would
   * require (`purposes`, and explicit consent for the special categories it reads): how many,
   * and the first profile ids. A preview needs no approval.
   */
  async preview(workspaceId: string, definition: SegmentCondition, sample: number, purposes: readonly string[] = []): Promise<{ count: number; sample: string[] }> {
    const { sql, params } = this.compile(workspaceId, definition, this.deps.clock.now(), purposes);
    const probe = this.deps.classify({ id: '', workspaceId, name: '', definition, purposes: [...purposes], createdAt: 0, updatedAt: 0 });
    const required = requiredPurposes(probe);
    if (required.length === 0) return this.deps.store.count(sql, params, sample);
    const ids = this.consenting(await this.deps.store.query(sql, params), required);
    return { count: ids.length, sample: ids.slice(0, sample) };
  }

  /**
   * The profiles of a SQL result that consent to every purpose: consent lives in the ledger (in
   * memory), so the batch side applies the same gate as the incremental engine.
   */
  private consenting(ids: readonly string[], purposes: readonly string[]): string[] {
    if (purposes.length === 0) return [...ids];
    return ids.filter((id) => purposes.every((p) => this.deps.consented(id, p)));
  }

  /**
   * Compares the incremental members with the SQL result at one instant, with the processor
   * holding still and the timers due by then fired; records the difference as a metric.
   */
  async reconcile(workspaceId: string, id: string): Promise<Reconciliation> {
    const { engine, exclusive, store, metrics } = this.deps;
    const segment = engine.segment(workspaceId, id);
    if (!segment) throw new EnsembleError('ENSEMBLE_ERR_SEGMENT_NOT_FOUND');
    return exclusive(async () => {
      await this.deps.settled();
      const now = this.deps.clock.now();
      engine.timers.runDue(now);
      const members = new Set(engine.members(workspaceId, id) ?? []);
      const { sql, params } = this.compile(workspaceId, segment.definition, now, segment.purposes);
      const expected = new Set(awaitsApproval(segment) ? [] : this.consenting(await store.query(sql, params), requiredPurposes(segment)));
      const missing = [...expected].filter((p) => !members.has(p));
      const extra = [...members].filter((p) => !expected.has(p));
      metrics.segmentMismatch.set({ segment: id }, missing.length + extra.length);
      return { segmentId: id, at: new Date(now).toISOString(), sql: expected.size, incremental: members.size, missing, extra };
    });
  }

  /** Reconciles every segment of every workspace (the periodic job). */
  async reconcileAll(): Promise<number> {
    let mismatches = 0;
    for (const ws of this.deps.engine.workspaceIds()) {
      for (const s of this.deps.engine.segments(ws)) {
        if (this.deps.engine.loading(ws, s.id)) continue;
        const r = await this.reconcile(ws, s.id);
        const n = r.missing.length + r.extra.length;
        if (n > 0) this.deps.logger.warn({ workspaceId: ws, segmentId: s.id, missing: r.missing.length, extra: r.extra.length }, 'segment members differ from the SQL result');
        mismatches += n;
      }
    }
    return mismatches;
  }

  /** `purposes`: those the segment serves; its events then come only from the sources collecting for them all. */
  compile(workspaceId: string, definition: SegmentCondition, now: number, purposes: readonly string[] = []): { sql: string; params: ReturnType<typeof compileSegment>['params'] } {
    return compileSegment(definition, {
      workspaceId, now,
      ...(purposes.length > 0 ? { sources: this.deps.sourcesFor(workspaceId, purposes) } : {}),
      segment: (id) => this.deps.engine.segment(workspaceId, id)?.definition,
      computedTrait: (name) => this.deps.computedTrait(workspaceId, name),
    });
  }

  /**
   * Registers the segments and fills them from the stored events in one scan; the ones a split
   * made stale start over. `announced`: the members last written for each (start-up).
   */
  private async fill(segments: readonly StoredSegment[], cause: ChangeCause, announced?: ReadonlyMap<string, Set<string>>): Promise<void> {
    const { engine, store, live, cursor, clock } = this.deps;
    let todo = [...segments];
    for (let attempt = 1; todo.length > 0; attempt++) {
      if (attempt > MAX_FILL_ATTEMPTS) {
        for (const s of todo) engine.remove(s.workspaceId, s.id);
        throw new Error(`segment backfill went stale ${attempt - 1} times in a row`);
      }
      const workspaceId = (todo[0] as StoredSegment).workspaceId;
      // No await between reading the cursor and `add`: an event observed in between would be in neither half.
      const upTo = cursor();
      for (const s of todo) engine.add(s, upTo, announced?.get(s.id));
      const filter = backfillFilter(workspaceId, todo.map((s) => s.definition), upTo, clock.now());
      const liveOf = new Map<string, string>();
      const ids = new Set(todo.map((s) => s.id));
      for await (const rows of store.backfill(filter)) {
        for (const r of rows) {
          let pid = liveOf.get(r.profileId);
          if (pid === undefined) { pid = live(r.profileId); liveOf.set(r.profileId, pid); }
          engine.backfill(workspaceId, ids, pid, r);
        }
      }
      const order = engine.segments(workspaceId).map((s) => s.id);
      todo.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
      todo = todo.filter((s) => !engine.finish(workspaceId, s.id, cause));
    }
  }
}

/** The stored events a set of definitions needs: by event name, page, consent; no older than every window needs. */
export function backfillFilter(workspaceId: string, definitions: readonly SegmentCondition[], upToSeq: bigint, now: number): BackfillFilter {
  const f: BackfillFilter = { workspaceId, upToSeq, all: false, pages: false, withLocation: false, withCountry: false, names: [], after: null, properties: 'none' };
  const names = new Set<string>();
  const filtered = new Set<string>();
  let oldest: number | null = now;
  const onEvent = (name: string, filters: readonly unknown[] | undefined): void => {
    if (name === '$any') f.all = true;
    else if (name === '$page') f.pages = true;
    else names.add(name);
    if (filters !== undefined && filters.length > 0) filtered.add(name);
  };
  for (const def of definitions) {
    for (const leaf of leaves(def)) {
      if (leaf.kind === 'event') {
        onEvent(leaf.event, leaf.filters);
        const ms = leaf.within === undefined ? null : durationMs(leaf.within);
        oldest = ms === null || oldest === null ? null : Math.min(oldest, now - ms);
      } else if (leaf.kind === 'sequence') {
        for (const s of leaf.steps) onEvent(s.event, s.filters);
        oldest = null;
      } else if (leaf.kind === 'geo') {
        if ('near' in leaf) f.withLocation = true;
        else f.withCountry = true;
        oldest = null;
      }
    }
  }
  f.names = [...names];
  f.after = oldest;
  f.properties = filtered.has('$any') ? 'all' : filtered.size === 0 ? 'none' : [...filtered];
  return f;
}
