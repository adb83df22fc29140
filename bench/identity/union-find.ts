/**
 * The identity bench's baseline: a plain in-memory union-find (path compression, union by rank)
 * over integer ids mapped from the identifier strings of the same events. It is the least any
 * identity resolution must do per edge — find who an identifier belongs to, join two sets — with
 * no normalisation, hashing, limits, encryption, provenance or persistence.
 */
import type { CollectedEvent } from '../../src/protocol/event.js';

export class UnionFind {
  private parent = new Int32Array(1024);
  private rank = new Uint8Array(1024);
  private size = 0;

  /** A new singleton set; returns its id. */
  add(): number {
    const n = this.size++;
    if (n === this.parent.length) this.grow();
    this.parent[n] = n;
    return n;
  }

  find(x: number): number {
    const parent = this.parent;
    let root = x;
    while (parent[root] !== root) root = parent[root] as number;
    while (parent[x] !== root) {
      const next = parent[x] as number;
      parent[x] = root;
      x = next;
    }
    return root;
  }

  /** Joins the sets of a and b; false when they were already one. */
  union(a: number, b: number): boolean {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return false;
    const rank = this.rank;
    if ((rank[ra] as number) < (rank[rb] as number)) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    if (rank[ra] === rank[rb]) rank[ra] = (rank[ra] as number) + 1;
    return true;
  }

  get nodes(): number {
    return this.size;
  }

  /** Number of disjoint sets (people, as far as the edges tell). */
  components(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.parent[i] === i) n++;
    return n;
  }

  private grow(): void {
    const parent = new Int32Array(this.parent.length * 2);
    parent.set(this.parent);
    const rank = new Uint8Array(this.rank.length * 2);
    rank.set(this.rank);
    this.parent = parent;
    this.rank = rank;
  }
}

export interface UnionFindResult {
  seconds: number;
  edges: number;
  /** Unions that joined two sets (the union-find's "merges", new identifiers included). */
  joins: number;
  nodes: number;
  components: number;
}

/** Identifier values of one type → their integer ids (one Map per type: no key concatenation). */
class Ids {
  private readonly byType = new Map<string, Map<string, number>>();

  constructor(private readonly uf: UnionFind) {}

  of(type: string, value: string): number {
    let m = this.byType.get(type);
    if (m === undefined) {
      m = new Map();
      this.byType.set(type, m);
    }
    let n = m.get(value);
    if (n === undefined) {
      n = this.uf.add();
      m.set(value, n);
    }
    return n;
  }
}

/**
 * Every event's identifiers (user id, anonymous id, and for identify the email and phone trait,
 * as sent) are mapped to integers and the first is joined with each of the others: k − 1 edges
 * for k identifiers, the same count the engine's figures use.
 */
export function runUnionFind(events: readonly CollectedEvent[]): UnionFindResult {
  const uf = new UnionFind();
  const ids = new Ids(uf);
  let edges = 0;
  let joins = 0;
  let first = -1;
  const visit = (type: string, value: unknown): void => {
    if (typeof value !== 'string' || value === '') return;
    const n = ids.of(type, value);
    if (first < 0) first = n;
    else {
      edges++;
      if (uf.union(first, n)) joins++;
    }
  };
  const t0 = performance.now();
  for (const e of events) {
    first = -1;
    visit('user_id', e.userId);
    visit('anonymous_id', e.anonymousId);
    if (e.type === 'identify') {
      visit('email', e.traits.email);
      visit('phone', e.traits.phone);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, edges, joins, nodes: uf.nodes, components: uf.components() };
}
