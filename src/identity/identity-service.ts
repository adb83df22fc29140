/**
 * Identity as the rest of Ensemble sees it: each workspace's rules (stored per workspace,
 * defaults otherwise), the key ring, the split barriers and the engine; the processor's policy
 * (resolve, seal, pseudonymise), lookups by clear value, and clear values for callers allowed
 * to see personal data.
 */
import type { CollectedEvent } from '../protocol/event.js';
import type { IdentityRecord, MergeRecord, ProfileState } from '../protocol/profile.js';
import type { CommittedEvent, ProcessingPolicy } from '../processor/processor.js';
import { identityKey, type ProfileMemory } from '../profiles/profile-memory.js';
import { parsePseudonym } from './pseudonym.js';
import type { StrategyOf } from '../profiles/traits.js';
import type { KeyRing } from '../privacy/key-ring.js';
import type { ConfigStore, NewProfileKey, StoredProfile } from '../storage/ports.js';
import { EnsembleError } from '../protocol/errors.js';
import { Barriers } from './barriers.js';
import { IdentityEngine, sealAad } from './engine.js';
import { DEFAULT_IDENTITY_CONFIG, parseIdentityConfig, type IdentityConfig } from './identity-config.js';
import { IdentityRules } from './normalise.js';
import { encodeProfile, pseudonymiseEvent } from './personal-data.js';

const SETTING = 'identity';

/** Something that follows committed events and merges (computed traits, later segments). */
export interface ProfileObserver {
  committed(merges: readonly MergeRecord[], events: readonly CommittedEvent[]): void;
}

export class IdentityService implements ProcessingPolicy {
  readonly barriers = new Barriers();
  readonly engine: IdentityEngine;
  private readonly rulesByWs = new Map<string, IdentityRules>();
  private readonly defaults = new IdentityRules(DEFAULT_IDENTITY_CONFIG);
  private readonly observers: ProfileObserver[] = [];
  private readonly opened = new WeakMap<IdentityRecord, string>();

  constructor(private readonly store: ConfigStore, readonly keys: KeyRing, private readonly memory: ProfileMemory) {
    this.engine = new IdentityEngine({ rules: (ws) => this.rules(ws), keys, barriers: this.barriers });
  }

  get resolver(): IdentityEngine {
    return this.engine;
  }

  async load(): Promise<void> {
    for (const [ws, json] of await this.store.workspaceSettings(SETTING)) {
      this.rulesByWs.set(ws, new IdentityRules(parseIdentityConfig(JSON.parse(json))));
    }
  }

  observe(o: ProfileObserver): void {
    this.observers.push(o);
  }

  rules(workspaceId: string): IdentityRules {
    return this.rulesByWs.get(workspaceId) ?? this.defaults;
  }

  config(workspaceId: string): IdentityConfig {
    return this.rules(workspaceId).config;
  }

  /** Validates, stores, then applies: later events resolve with the new rules; past links stay. */
  async setConfig(workspaceId: string, input: unknown): Promise<IdentityConfig> {
    const cfg = parseIdentityConfig(input);
    await this.store.setWorkspaceSetting(workspaceId, SETTING, JSON.stringify(cfg));
    this.rulesByWs.set(workspaceId, new IdentityRules(cfg));
    return cfg;
  }

  strategyOf(workspaceId: string): StrategyOf {
    const rules = this.rules(workspaceId);
    return (t) => rules.traitStrategy(t);
  }

  encode(p: ProfileState): StoredProfile {
    return encodeProfile(p, this.rules(p.workspaceId), this.keys);
  }

  pseudonymise(e: CollectedEvent): CollectedEvent | undefined {
    return pseudonymiseEvent(e, this.rules(e.workspaceId), this.keys);
  }

  newKeys(): NewProfileKey[] {
    return this.keys.pendingKeys();
  }

  committed(merges: readonly MergeRecord[], events: readonly CommittedEvent[]): void {
    this.keys.loadPending();
    for (const o of this.observers) o.committed(merges, events);
  }

  aborted(): void {
    this.keys.discardPending();
  }

  /** The keyed hash of a clear identifier value, or an error saying why it cannot be one. */
  hashOf(workspaceId: string, type: string, value: string): string {
    const rules = this.rules(workspaceId);
    if (!rules.rule(type)) {
      throw new EnsembleError('ENSEMBLE_ERR_IDENTIFIER_TYPE', `Unknown identifier type "${type}"; this workspace has ${[...rules.byType.keys()].join(', ')}.`);
    }
    const n = rules.normalise(type, value);
    // A blocked or malformed value can belong to no one: answer as for an unknown identifier.
    if (!n.ok) throw new EnsembleError('ENSEMBLE_ERR_PROFILE_NOT_FOUND');
    return this.keys.lookupHash(workspaceId, type, n.value);
  }

  lookup(workspaceId: string, type: string, value: string): ProfileState | undefined {
    return this.memory.lookup(workspaceId, type, this.hashOf(workspaceId, type, value));
  }

  /** Replaces the pseudonyms in stored event data by clear values (for callers allowed to see them). */
  revealPseudonyms(workspaceId: string, value: unknown): unknown {
    if (typeof value === 'string') {
      const p = parsePseudonym(value);
      const rec = p && this.memory.identities.get(identityKey(workspaceId, p.type, p.hash));
      return rec ? (this.clearValue(rec) ?? value) : value;
    }
    if (Array.isArray(value)) return value.map((v) => this.revealPseudonyms(workspaceId, v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.revealPseudonyms(workspaceId, v)]));
    }
    return value;
  }

  /**
   * How events that Ensemble itself records about a person (message opens, journey traits) name
   * them: their user id, else an anonymous id, else a stable alias of the profile id (which the
   * resolver links like any anonymous id). Undefined once the profile is gone.
   */
  eventIdentity(profileId: string): { userId: string } | { anonymousId: string } | undefined {
    const live = this.memory.live(profileId);
    if (!live) return undefined;
    const records = this.memory.lineage(live.id).flatMap((id) => this.memory.recordsOf(id));
    for (const type of ['user_id', 'anonymous_id'] as const) {
      const r = records.find((x) => x.type === type);
      const v = r ? this.clearValue(r) : null;
      if (v !== null) return type === 'user_id' ? { userId: v } : { anonymousId: v };
    }
    return { anonymousId: `profile:${live.id}` };
  }

  /**
   * The clear value of an identifier (null once its profile's key was destroyed). Opened values
   * are remembered per record object (records are replaced, never edited), so a profile read
   * often (personalisation, lookups) costs one AES-GCM open, not one per read.
   */
  clearValue(rec: IdentityRecord): string | null {
    if (rec.value !== null) return rec.value;
    if (rec.sealed === null || rec.keyOwner === null) return null;
    const known = this.opened.get(rec);
    if (known !== undefined) return known;
    const clear = this.keys.decrypt(rec.workspaceId, rec.keyOwner, rec.sealed, sealAad(rec.type, rec.hash));
    if (clear !== null) this.opened.set(rec, clear);
    return clear;
  }
}
