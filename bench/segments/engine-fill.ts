/**
 * The incremental side of the segmentation benchmark: a `SegmentEngine` over a plain in-memory
 * map of the generated profiles, filled from the stored events exactly as `SegmentService.fill`
 * does (register every segment at the log position, one `DuckDbSegmentStore.backfill` stream for
 * the union of what they read, each row folded into the segments' conditions it concerns by `engine.backfill`, then
 * `engine.finish` in dependency order). `fill` itself is private to the service, whose other
 * dependencies (clock, metrics, the processor's lock) would only add noise here, so the steps are
 * repeated rather than reached into.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { TraitValue } from '../../src/protocol/profile.js';
import type { StoredSegment } from '../../src/protocol/segment.js';
import { SegmentEngine, type ProfileFacts } from '../../src/segments/engine.js';
import { backfillFilter } from '../../src/segments/segment-service.js';
import type { BackfillFilter, DuckDbSegmentStore } from '../../src/storage/duckdb/segment-store.js';
import { WS } from './generate.js';

/** A profile as the engine needs it: traits in their in-memory shape, and where it was merged. */
export interface PlainProfile {
  traits: Record<string, TraitValue>;
  mergedInto: string | null;
}

/** Every profile of the bench workspace, read from the store (streamed: 1M rows at once would double the peak). */
export async function loadProfiles(conn: DuckDBConnection): Promise<Map<string, PlainProfile>> {
  const map = new Map<string, PlainProfile>();
  const result = await conn.stream('SELECT id, traits::VARCHAR AS traits, merged_into FROM profiles WHERE workspace_id = $1', [WS]);
  for await (const rows of result.yieldRowObjectJs()) {
    for (const r of rows) {
      map.set(r.id as string, { traits: JSON.parse(r.traits as string) as Record<string, TraitValue>, mergedInto: (r.merged_into as string | null) ?? null });
    }
  }
  return map;
}

/** What `wireSegments` gives the engine, read from the plain map (no computed traits, no lists here). */
export function factsOf(profiles: ReadonlyMap<string, PlainProfile>): ProfileFacts {
  const live = (id: string): string | undefined => {
    let cur = id;
    for (let hops = 0; hops < 64; hops++) {
      const p = profiles.get(cur);
      if (p === undefined) return undefined;
      if (p.mergedInto === null) return cur;
      cur = p.mergedInto;
    }
    return undefined;
  };
  return {
    live,
    traits: (id) => profiles.get(id)?.traits,
    consented: () => true,
    consentDecision: () => undefined,
    restricted: () => false,
    sourceServes: () => true,
    computed: () => undefined,
    computedWindowed: () => false,
    identifierKeys: () => [],
    *liveProfiles(ws) {
      if (ws !== WS) return;
      for (const [id, p] of profiles) if (p.mergedInto === null) yield id;
    },
    eventCount: () => 0,
  };
}

export interface FillTiming {
  /** Reading the stored events (DuckDB, row objects, JSON.parse of properties and consent). */
  streamSec: number;
  /** engine.backfill of every row (into the conditions it concerns). */
  foldSec: number;
  /** engine.finish of every segment (evaluates every live profile). */
  finishSec: number;
  totalSec: number;
  rows: number;
  filter: BackfillFilter;
}

/**
 * Registers the segments at `upToSeq` and fills them (SegmentService.fill, one attempt: nothing
 * splits profiles here). The stream's time is what remains after the fold's, measured around
 * each chunk's handling.
 */
export async function fill(engine: SegmentEngine, store: DuckDbSegmentStore, segments: readonly StoredSegment[], upToSeq: bigint, now: number, live: (id: string) => string): Promise<FillTiming> {
  const t0 = performance.now();
  for (const s of segments) engine.add(s, upToSeq);
  const filter = backfillFilter(WS, segments.map((s) => s.definition), upToSeq, now);
  const liveOf = new Map<string, string>();
  const ids = new Set(segments.map((s) => s.id));
  let foldMs = 0;
  let rows = 0;
  for await (const chunk of store.backfill(filter)) {
    const f0 = performance.now();
    for (const r of chunk) {
      let pid = liveOf.get(r.profileId);
      if (pid === undefined) { pid = live(r.profileId); liveOf.set(r.profileId, pid); }
      engine.backfill(WS, ids, pid, r);
    }
    rows += chunk.length;
    foldMs += performance.now() - f0;
  }
  const t1 = performance.now();
  const order = engine.segments(WS).map((s) => s.id);
  const todo = [...segments].sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  for (const s of todo) {
    if (!engine.finish(WS, s.id, 'created')) throw new Error(`segment ${s.id}: the backfill went stale (nothing splits profiles here)`);
  }
  const t2 = performance.now();
  return { streamSec: (t1 - t0 - foldMs) / 1000, foldSec: foldMs / 1000, finishSec: (t2 - t1) / 1000, totalSec: (t2 - t0) / 1000, rows, filter };
}

export function newEngine(profiles: ReadonlyMap<string, PlainProfile>, now: number): SegmentEngine {
  // Timers not armed: time stands still at `now`, so memberships stay comparable with the SQL.
  return new SegmentEngine(factsOf(profiles), () => now, () => undefined, false);
}
