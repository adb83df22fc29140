/**
 * The latest scores of every model, in memory: what segment `score` conditions and the profile
 * API read (the store's `model_scores` holds the same rows for segment SQL and restarts). A model
 * is named by its id or its key. A scoring run replaces a model's scores whole; an erasure or a
 * withdrawn consent removes a person's.
 *
 * Deciles rank the scored population: 10 is the tenth with the highest scores, 1 the lowest;
 * equal scores share the decile of the first of them in descending order.
 *
 * @example
 *   book.register('ws_1', 'mdl_1', 'churn_60d');
 *   book.replace('ws_1', 'mdl_1', new Map([['pr_1', { score: 0.8, decile: 10, explanation: [] }]]), Date.now());
 *   book.score('ws_1', 'churn_60d', 'pr_1');   // { score: 0.8, decile: 10, ... }
 */

export interface Contribution { feature: string; contribution: number }
export interface ScoreEntry { score: number; decile: number; explanation: Contribution[] }

interface Book {
  id: string;
  key: string;
  scores: Map<string, ScoreEntry>;
  scoredAt: number | null;
}

export class ScoreBook {
  private readonly workspaces = new Map<string, Map<string, Book>>();

  register(workspaceId: string, id: string, key: string): void {
    let ws = this.workspaces.get(workspaceId);
    if (!ws) { ws = new Map(); this.workspaces.set(workspaceId, ws); }
    if (!ws.has(id)) ws.set(id, { id, key, scores: new Map(), scoredAt: null });
  }

  unregister(workspaceId: string, id: string): void {
    this.workspaces.get(workspaceId)?.delete(id);
  }

  private find(workspaceId: string, ref: string): Book | undefined {
    const ws = this.workspaces.get(workspaceId);
    if (!ws) return undefined;
    return ws.get(ref) ?? [...ws.values()].find((b) => b.key === ref);
  }

  hasModel(workspaceId: string, ref: string): boolean {
    return this.find(workspaceId, ref) !== undefined;
  }

  /** The refs (id and key) a model is known by. */
  refs(workspaceId: string, id: string): Set<string> {
    const b = this.find(workspaceId, id);
    return new Set(b ? [b.id, b.key] : [id]);
  }

  score(workspaceId: string, ref: string, profileId: string): ScoreEntry | undefined {
    return this.find(workspaceId, ref)?.scores.get(profileId);
  }

  replace(workspaceId: string, id: string, scores: Map<string, ScoreEntry>, at: number): void {
    const b = this.find(workspaceId, id);
    if (!b) return;
    b.scores = scores;
    b.scoredAt = at;
  }

  /** Every model's entry for the profile. */
  scoresOf(workspaceId: string, profileId: string): Array<{ modelId: string; key: string } & ScoreEntry> {
    const out: Array<{ modelId: string; key: string } & ScoreEntry> = [];
    for (const b of this.workspaces.get(workspaceId)?.values() ?? []) {
      const s = b.scores.get(profileId);
      if (s) out.push({ modelId: b.id, key: b.key, ...s });
    }
    return out;
  }

  /** As computed traits: `score_<key>` and `score_<key>_decile` (what the profile API shows). */
  traitsOf(workspaceId: string, profileId: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.scoresOf(workspaceId, profileId)) {
      out[`score_${s.key}`] = s.score;
      out[`score_${s.key}_decile`] = s.decile;
    }
    return out;
  }

  entries(workspaceId: string, id: string): ReadonlyMap<string, ScoreEntry> {
    return this.find(workspaceId, id)?.scores ?? new Map();
  }

  scoredAt(workspaceId: string, id: string): number | null {
    return this.find(workspaceId, id)?.scoredAt ?? null;
  }

  /** Removes the profiles' scores from every model; answers the ids of the models that held some. */
  forget(workspaceId: string, profileIds: readonly string[]): string[] {
    const touched: string[] = [];
    for (const b of this.workspaces.get(workspaceId)?.values() ?? []) {
      let any = false;
      for (const id of profileIds) any = b.scores.delete(id) || any;
      if (any) touched.push(b.id);
    }
    return touched;
  }

  forgetIn(workspaceId: string, id: string, profileIds: readonly string[]): boolean {
    const b = this.find(workspaceId, id);
    let any = false;
    for (const pid of profileIds) any = (b?.scores.delete(pid) ?? false) || any;
    return any;
  }
}

/** Deciles (1..10, 10 the highest tenth) of scores ranked in descending order; ties share one. */
export function deciles(scores: Float64Array): Uint8Array {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  const out = new Uint8Array(n);
  let prev = Number.NaN, prevDecile = 10;
  order.forEach((i, rank) => {
    const s = scores[i] as number;
    const d = s === prev ? prevDecile : 10 - Math.floor((rank * 10) / n);
    out[i] = d;
    prev = s;
    prevDecile = d;
  });
  return out;
}
