/**
 * What a model predicts, as a 0/1 label per profile:
 *
 * - `label`: a trait (boolean, or categorical with `positive`), as now; profiles without it are
 *   not labelled (they are scored, not trained on);
 * - `lookalike`: membership of a segment, now;
 * - `propensity`: performed the event (with its filters) in the N days after a cut-off;
 * - `churn`: performed no event (or not the given one) in the N days after a cut-off, among
 *   profiles that had at least one event before it.
 *
 * Time-based targets get two windows: fitted on features as of `now - 2N` days with labels from
 * the N days after, validated on features as of `now - N` with labels from the last N days.
 *
 * @example
 *   trainingWindows({ kind: 'churn', withinDays: 30 }, now);
 *   // { train: { cutoff: now - 60 d, to: now - 30 d }, valid: { cutoff: now - 30 d, to: now } }
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ProfileState } from '../protocol/profile.js';
import { ANY_EVENT } from '../protocol/segment.js';
import { performedBetween, type ProfileEvents } from './event-aggregates.js';
import { DAY_MS } from './features.js';
import type { ModelTargetT } from './model-types.js';

/** Fewer profiles of a class than this and no AUC means anything. */
export const MIN_PER_CLASS = 20;

export interface Window { cutoff: number; to: number }

export function trainingWindows(target: ModelTargetT, now: number): { train: Window; valid: Window } | null {
  if (target.kind === 'label' || target.kind === 'lookalike') return null;
  const n = target.withinDays * DAY_MS;
  return { train: { cutoff: now - 2 * n, to: now - n }, valid: { cutoff: now - n, to: now } };
}

const TRUE_TEXT = new Set(['true', 'yes', '1', 'y']);

/** Whether a label trait's value is the positive class (undefined: not labelled). */
export function labelOf(value: unknown, positive: unknown): 0 | 1 | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (positive !== undefined) return value === positive || (typeof value !== 'object' && typeof positive !== 'object' && String(value) === String(positive)) ? 1 : 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value === 1 ? 1 : value === 0 ? 0 : undefined;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    return TRUE_TEXT.has(v) ? 1 : ['false', 'no', '0', 'n'].includes(v) ? 0 : undefined;
  }
  return undefined;
}

export interface TimeContext {
  conn: DuckDBConnection;
  workspaceId: string;
  window: Window;
  live(id: string): string | undefined;
  /** The sources whose events may serve the model's purpose. */
  sources: readonly string[];
  /** Features' event aggregates as of the window's cut-off (churn needs prior activity). */
  aggregates: ReadonlyMap<string, ProfileEvents>;
}

/**
 * `fromSource`: whether a trait written by that source may serve the model's purpose (a label
 * trait from another source counts as absent).
 */
export async function labelled(
  target: ModelTargetT, profiles: readonly ProfileState[], isMember?: (profileId: string) => boolean, time?: TimeContext,
  fromSource: (sourceId: string) => boolean = () => true,
): Promise<Array<{ profile: ProfileState; label: 0 | 1 }>> {
  switch (target.kind) {
    case 'label': {
      const out: Array<{ profile: ProfileState; label: 0 | 1 }> = [];
      for (const p of profiles) {
        const tv = p.traits[target.trait];
        const label = tv !== undefined && fromSource(tv.sourceId) ? labelOf(tv.value, target.positive) : undefined;
        if (label !== undefined) out.push({ profile: p, label });
      }
      return out;
    }
    case 'lookalike':
      return profiles.map((p) => ({ profile: p, label: isMember?.(p.id) ? 1 : 0 }));
    case 'propensity': {
      if (!time) throw new Error('a propensity target needs a time window');
      const did = await performedBetween(time.conn, time.workspaceId, target.event, target.filters, time.window.cutoff, time.window.to, time.live, time.sources);
      return profiles.map((p) => ({ profile: p, label: did.has(p.id) ? 1 : 0 }));
    }
    case 'churn': {
      if (!time) throw new Error('a churn target needs a time window');
      const did = await performedBetween(time.conn, time.workspaceId, target.event ?? ANY_EVENT, undefined, time.window.cutoff, time.window.to, time.live, time.sources);
      // Only someone active before can churn.
      return profiles.filter((p) => (time.aggregates.get(p.id)?.total ?? 0) > 0).map((p) => ({ profile: p, label: did.has(p.id) ? 0 : 1 }));
    }
  }
}
