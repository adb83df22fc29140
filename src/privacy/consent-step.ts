/**
 * Consent in the processor, for each event of a micro-batch:
 * - the decisions it carries (CMP categories, TCF string: consent-mapping.ts) become consent
 *   records of its profile when they change what is in force — not every event of a visit
 *   repeats a record;
 * - from a source in **strict** mode, an event is kept at profile level only when analytics
 *   consent is in force (given in the event itself, or before by the profile its identifiers
 *   point to). Otherwise it only adds to anonymous daily counts: no profile, identity or event
 *   row is written for it. A withdrawal carried by such an event is still recorded on the
 *   existing profile, so it takes effect at once.
 * - an event carrying an identifier of an erased person (privacy/suppressions.ts) is dropped,
 *   unless it carries a consent grant decided after the erasure was asked for (its `decidedAt`,
 *   from the TC string or `context.consent.decidedAt`): then the person is back by their own
 *   choice, and those identifiers leave the suppression list. A grant without a decision time,
 *   or an older one, is what a device relays from its storage on every event: it brings no one back.
 * The records, counts and lifted suppressions commit in the batch's transaction; memory learns them after.
 */
import type { CollectedEvent } from '../protocol/event.js';
import type { ConsentRecord, ConsentStatus } from '../protocol/privacy.js';
import type { Source } from '../protocol/workspace.js';
import type { ConsentLedger } from './consent-ledger.js';
import { later } from './consent-ledger.js';
import type { ConsentDecision } from './consent-mapping.js';
import type { PrivacySettings } from './privacy-settings.js';
import type { SuppressionEntry, Suppressions } from './suppressions.js';

/** One anonymous count: events of a strict source kept without any profile-level data. */
export interface AnonymousCount {
  workspaceId: string;
  sourceId: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  type: string;
  name: string;
  count: number;
}

export interface ConsentStepDeps {
  ledger: ConsentLedger;
  settings: PrivacySettings;
  source(id: string): Source | undefined;
  /** The live profile an event's identifiers already point to, without creating anything. */
  existingProfile(e: CollectedEvent): string | undefined;
  suppressions: Suppressions;
  /** Whether any source is strict (else a batch need not remember which profiles it reached). */
  anyStrict(): boolean;
  now(): number;
}

export type LiftedSuppression = SuppressionEntry & { workspaceId: string };

export class ConsentStep {
  constructor(private readonly deps: ConsentStepDeps) {}

  begin(): ConsentBatch {
    return new ConsentBatch(this.deps);
  }

  /** After the batch's transaction committed. */
  committed(batch: ConsentBatch): void {
    for (const l of batch.lifted) this.deps.suppressions.remove(l.workspaceId, [l]);
    this.deps.ledger.apply(batch.records);
  }
}

export class ConsentBatch {
  readonly records: ConsentRecord[] = [];
  readonly lifted: LiftedSuppression[] = [];
  /** Events dropped because they carried an erased person's identifier. */
  suppressed = 0;
  private readonly pending = new Map<string, Map<string, ConsentRecord>>();
  private readonly counts = new Map<string, AnonymousCount>();
  /** Profiles this batch's events reached, by identifier: not in the profile memory before the commit. */
  private readonly reached = new Map<string, string>();
  private readonly now: number;
  private readonly strict: boolean;

  constructor(private readonly deps: ConsentStepDeps) {
    this.now = deps.now();
    this.strict = deps.anyStrict();
  }

  get anonymous(): AnonymousCount[] {
    return [...this.counts.values()];
  }

  /**
   * Before identity resolution: false when the event must not reach a profile (strict source,
   * no analytics consent). Such an event is counted, and its decisions recorded on the profile
   * it already belongs to, if any.
   */
  admit(e: CollectedEvent, seq: bigint, at: number): boolean {
    const matched = this.deps.suppressions.matches(e).filter((m) => !this.lifted.some((l) => l.workspaceId === e.workspaceId && l.type === m.type && l.hash === m.hash));
    if (matched.length > 0) {
      const since = Math.max(...matched.map((m) => m.since));
      if (!this.decisionsOf(e).some((d) => d.granted && d.decidedAt !== null && d.decidedAt > since)) {
        this.suppressed++;
        return false;
      }
      for (const m of matched) this.lifted.push({ workspaceId: e.workspaceId, type: m.type, hash: m.hash });
    }
    const source = this.deps.source(e.sourceId);
    if (source?.consentMode !== 'strict') return true;
    const decisions = this.decisionsOf(e);
    const own = decisions.find((d) => d.purpose === 'analytics');
    const existing = this.reachedBy(e) ?? this.deps.existingProfile(e);
    const granted = own ? own.granted : existing !== undefined && this.inForce(existing, 'analytics')?.status === 'granted';
    if (granted) return true;
    if (existing !== undefined) this.note(decisions, existing, e, seq, at);
    this.count(e, at);
    return false;
  }

  /** After resolution: records the event's decisions on its profile. */
  observe(e: CollectedEvent, seq: bigint, at: number, profileId: string): void {
    if (this.strict) for (const k of identifierKeys(e)) this.reached.set(k, profileId);
    const decisions = this.decisionsOf(e);
    if (decisions.length > 0) this.note(decisions, profileId, e, seq, at);
  }

  private reachedBy(e: CollectedEvent): string | undefined {
    for (const k of identifierKeys(e)) {
      const p = this.reached.get(k);
      if (p !== undefined) return p;
    }
    return undefined;
  }

  private decisionsOf(e: CollectedEvent): ConsentDecision[] {
    const consent = e.context.consent;
    if (consent === undefined || consent === null) return [];
    return this.deps.settings.reader(e.workspaceId).decisions(consent, e.sourceId, e.messageId);
  }

  private note(decisions: readonly ConsentDecision[], profileId: string, e: CollectedEvent, seq: bigint, at: number): void {
    for (const d of decisions) {
      const prior = this.inForce(profileId, d.purpose);
      const wasGranted = prior?.status === 'granted';
      // Only changes make history: a visit repeats the same consent with every event.
      if (prior && wasGranted === d.granted) continue;
      const status: ConsentStatus = d.granted ? 'granted' : wasGranted ? 'withdrawn' : 'denied';
      const rec: ConsentRecord = {
        // Derived from the log position: a replayed batch writes the same ids.
        id: `${seq}:${d.purpose}`, workspaceId: e.workspaceId, profileId, purpose: d.purpose, status, at,
        recordedAt: this.now, source: `${d.proof.tcString ? 'tcf' : 'event'}:${e.sourceId}`, seq, proof: d.proof,
      };
      this.records.push(rec);
      let m = this.pending.get(profileId);
      if (!m) {
        m = new Map();
        this.pending.set(profileId, m);
      }
      m.set(d.purpose, rec);
    }
  }

  /** In force for a profile: this batch's records first, then the ledger. */
  private inForce(profileId: string, purpose: string): ConsentRecord | undefined {
    const committed = this.deps.ledger.decision(profileId, purpose);
    const mine = this.pending.get(profileId)?.get(purpose);
    if (!mine) return committed;
    return !committed || later(mine, committed) ? mine : committed;
  }

  private count(e: CollectedEvent, at: number): void {
    const day = new Date(at).toISOString().slice(0, 10);
    const name = e.event ?? e.name ?? '';
    const key = `${e.workspaceId}\u0000${e.sourceId}\u0000${day}\u0000${e.type}\u0000${name}`;
    const c = this.counts.get(key);
    if (c) c.count++;
    else this.counts.set(key, { workspaceId: e.workspaceId, sourceId: e.sourceId, day, type: e.type, name, count: 1 });
  }
}

function identifierKeys(e: CollectedEvent): string[] {
  const keys: string[] = [];
  if (e.userId) keys.push(`u\u0000${e.workspaceId}\u0000${e.userId}`);
  if (e.anonymousId) keys.push(`a\u0000${e.workspaceId}\u0000${e.anonymousId}`);
  return keys;
}
