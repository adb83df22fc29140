/**
 * The consent in force, per profile and purpose, in memory: every enforcement point (strict
 * collection, segments, activation, personalisation) asks it, so it must answer in microseconds.
 * It holds the latest record per (profile, purpose) — by decision time, so an old event that
 * arrives late never overrides a newer withdrawal — and a merged profile answers with the
 * latest decision across every profile merged into it. The full history stays in the store.
 *
 * @example
 *   ledger.apply(records);
 *   ledger.granted(profileId, 'advertising'); // → false unless the latest decision is a grant
 */
import type { ConsentRecord } from '../protocol/privacy.js';

/** The profiles behind a live profile (itself first); the profile memory knows merges. */
export type LineageOf = (profileId: string) => readonly string[];

/** Told which profiles' consent changed; `restriction`: a restriction was applied or lifted (every segment cares). */
export type ConsentListener = (workspaceId: string, profileIds: string[], restriction: boolean) => void;

export class ConsentLedger {
  private readonly byProfile = new Map<string, Map<string, ConsentRecord>>();
  private readonly listeners: ConsentListener[] = [];
  /** Profiles whose processing is restricted (GDPR art. 18): no purpose is granted while it lasts. */
  private readonly restrictedIds = new Set<string>();

  constructor(private readonly lineage: LineageOf) {}

  /** Told which profiles' consent changed after each `apply` (segments re-evaluate them). */
  onChange(listener: ConsentListener): void {
    this.listeners.push(listener);
  }

  /** Takes records in any order; keeps the latest per profile and purpose. */
  apply(records: Iterable<ConsentRecord>): void {
    const changed = new Map<string, Set<string>>();
    for (const r of records) {
      let ids = changed.get(r.workspaceId);
      if (!ids) {
        ids = new Set();
        changed.set(r.workspaceId, ids);
      }
      ids.add(r.profileId);
      let m = this.byProfile.get(r.profileId);
      if (!m) {
        m = new Map();
        this.byProfile.set(r.profileId, m);
      }
      const prior = m.get(r.purpose);
      if (!prior || later(r, prior)) m.set(r.purpose, r);
    }
    for (const [ws, ids] of changed) for (const l of this.listeners) l(ws, [...ids], false);
  }

  /** Applies or lifts a restriction of processing. */
  restrict(workspaceId: string, profileId: string, on: boolean): void {
    if (on) this.restrictedIds.add(profileId);
    else this.restrictedIds.delete(profileId);
    for (const l of this.listeners) l(workspaceId, [profileId], true);
  }

  /** Whether processing is restricted for the profile (or any profile merged into it). */
  restricted(profileId: string): boolean {
    if (this.restrictedIds.size === 0) return false;
    return this.lineage(profileId).some((id) => this.restrictedIds.has(id));
  }

  /** The decision in force per purpose for a profile (following merges). */
  current(profileId: string): Map<string, ConsentRecord> {
    const out = new Map<string, ConsentRecord>();
    for (const id of this.lineage(profileId)) {
      for (const [purpose, r] of this.byProfile.get(id) ?? []) {
        const prior = out.get(purpose);
        if (!prior || later(r, prior)) out.set(purpose, r);
      }
    }
    return out;
  }

  /** The decision in force for one purpose, or undefined when the person never decided. */
  decision(profileId: string, purpose: string): ConsentRecord | undefined {
    let best: ConsentRecord | undefined;
    for (const id of this.lineage(profileId)) {
      const r = this.byProfile.get(id)?.get(purpose);
      if (r && (!best || later(r, best))) best = r;
    }
    return best;
  }

  /** Consent in force for the purpose, and processing not restricted. */
  granted(profileId: string, purpose: string): boolean {
    return this.decision(profileId, purpose)?.status === 'granted' && !this.restricted(profileId);
  }

  /** Forgets profiles (erasure). */
  remove(profileIds: Iterable<string>): void {
    for (const id of profileIds) {
      this.byProfile.delete(id);
      this.restrictedIds.delete(id);
    }
  }
}

/** Later decision time wins; at the same time, the later recording (and then the id) decides. */
export function later(a: ConsentRecord, b: ConsentRecord): boolean {
  if (a.at !== b.at) return a.at > b.at;
  if (a.recordedAt !== b.recordedAt) return a.recordedAt > b.recordedAt;
  return a.id > b.id;
}
