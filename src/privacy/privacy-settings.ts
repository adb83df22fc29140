/**
 * Each workspace's purposes (the built-in ones, re-described if the DPO wishes, plus custom
 * ones) and its consent mapping (CMP categories and TCF purposes → purposes). Stored as
 * workspace settings, held in memory: the processor reads them for every event that carries
 * consent.
 *
 * @example
 *   await settings.putPurpose(ws, 'loyalty', { name: 'Loyalty programme', legalBasis: 'contract', description: '…' });
 *   settings.reader(ws).decisions(event.context.consent, sourceId, messageId);
 */
import { checkValue } from '../platform/check-value.js';
import { EnsembleError } from '../protocol/errors.js';
import {
  DEFAULT_PURPOSES, DEFAULT_RETENTION, PURPOSE_ID, RetentionPolicy, SensitiveData, explicitPurpose,
  type Purpose, type PurposeInputT, type RetentionPolicyT, type SensitiveDataT,
} from '../protocol/privacy.js';
import type { ConfigStore } from '../storage/ports.js';
import { ConsentMapping, ConsentReader, DEFAULT_CONSENT_MAPPING, type ConsentMappingT } from './consent-mapping.js';

const PURPOSES = 'purposes';
const MAPPING = 'consent_mapping';
const RETENTION = 'retention';
const SENSITIVE = 'sensitive_data';
const APPROVALS = 'segment_approvals';

/** A DPO's approval of a segment that reads special-category data, for the rule it had then. */
export interface SegmentApproval {
  at: number;
  note: string;
  /** The rule approved (JSON): another rule needs another approval. */
  definition: string;
}
const PURPOSE_RE = new RegExp(PURPOSE_ID);

interface WorkspacePrivacy {
  purposes: Map<string, Purpose>;
  mapping: ConsentMappingT;
  reader: ConsentReader;
}

export class PrivacySettings {
  private readonly byWs = new Map<string, WorkspacePrivacy>();
  private readonly retentionByWs = new Map<string, RetentionPolicyT>();
  private readonly sensitiveByWs = new Map<string, SensitiveDataT>();
  private readonly approvalsByWs = new Map<string, Record<string, SegmentApproval>>();

  constructor(private readonly store: ConfigStore) {}

  async load(): Promise<void> {
    for (const [ws, json] of await this.store.workspaceSettings(RETENTION)) this.retentionByWs.set(ws, JSON.parse(json) as RetentionPolicyT);
    for (const [ws, json] of await this.store.workspaceSettings(SENSITIVE)) this.sensitiveByWs.set(ws, JSON.parse(json) as SensitiveDataT);
    for (const [ws, json] of await this.store.workspaceSettings(APPROVALS)) this.approvalsByWs.set(ws, JSON.parse(json) as Record<string, SegmentApproval>);
    const purposes = await this.store.workspaceSettings(PURPOSES);
    const mappings = await this.store.workspaceSettings(MAPPING);
    for (const ws of new Set([...purposes.keys(), ...mappings.keys()])) {
      const custom = JSON.parse(purposes.get(ws) ?? '[]') as Purpose[];
      const mapping = JSON.parse(mappings.get(ws) ?? 'null') as ConsentMappingT | null;
      this.byWs.set(ws, build(custom, mapping ?? DEFAULT_CONSENT_MAPPING));
    }
  }

  purposes(workspaceId: string): Purpose[] {
    return [...this.of(workspaceId).purposes.values()];
  }

  purpose(workspaceId: string, id: string): Purpose | undefined {
    return this.of(workspaceId).purposes.get(id);
  }

  /** Throws PURPOSE_UNKNOWN naming the first id the workspace does not have. */
  requirePurposes(workspaceId: string, ids: readonly string[]): void {
    const known = this.of(workspaceId).purposes;
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new EnsembleError('ENSEMBLE_ERR_PURPOSE_UNKNOWN', `Unknown purpose "${unknown[0]}"; this workspace has ${[...known.keys()].join(', ')}.`, { unknown });
    }
  }

  mapping(workspaceId: string): ConsentMappingT {
    return this.of(workspaceId).mapping;
  }

  reader(workspaceId: string): ConsentReader {
    return this.of(workspaceId).reader;
  }

  /** Creates or re-describes a purpose (a built-in one keeps its id and stays built in). */
  async putPurpose(workspaceId: string, id: string, input: PurposeInputT): Promise<Purpose> {
    if (!PURPOSE_RE.test(id)) throw new EnsembleError('ENSEMBLE_ERR_VALIDATION', `A purpose id is lower-case letters, digits and "_", starting with a letter (got "${id}").`);
    const current = this.of(workspaceId);
    const purpose: Purpose = { id, name: input.name, legalBasis: input.legalBasis, description: input.description, builtIn: DEFAULT_PURPOSES.some((p) => p.id === id) };
    const purposes = new Map(current.purposes).set(id, purpose);
    await this.store.setWorkspaceSetting(workspaceId, PURPOSES, JSON.stringify(changedFromDefaults(purposes)));
    this.byWs.set(workspaceId, build([...purposes.values()], current.mapping));
    return purpose;
  }

  /** Validates (shape, and every purpose named exists), stores, applies to later events. */
  async setMapping(workspaceId: string, input: unknown): Promise<ConsentMappingT> {
    checkValue(ConsentMapping, input, 'ENSEMBLE_ERR_CONSENT_MAPPING_INVALID');
    const named = [...Object.values(input.categories).flat(), ...Object.keys(input.tcf)];
    this.requirePurposes(workspaceId, named);
    const current = this.of(workspaceId);
    await this.store.setWorkspaceSetting(workspaceId, MAPPING, JSON.stringify(input));
    this.byWs.set(workspaceId, build([...current.purposes.values()], input));
    return input;
  }

  retention(workspaceId: string): RetentionPolicyT {
    return this.retentionByWs.get(workspaceId) ?? DEFAULT_RETENTION;
  }

  /** Replaces the workspace's retention periods (the next daily run applies them). */
  async setRetention(workspaceId: string, input: unknown): Promise<RetentionPolicyT> {
    checkValue(RetentionPolicy, input, 'ENSEMBLE_ERR_VALIDATION', 'The retention policy is not valid; see details.');
    await this.store.setWorkspaceSetting(workspaceId, RETENTION, JSON.stringify(input));
    this.retentionByWs.set(workspaceId, input);
    return input;
  }

  sensitive(workspaceId: string): SensitiveDataT {
    return this.sensitiveByWs.get(workspaceId) ?? { traits: {}, properties: {} };
  }

  /**
   * Replaces the workspace's special-category tags. Each category used gets its explicit-consent
   * purpose (`explicit_<category>`, legal basis consent) if the workspace has none yet.
   */
  async setSensitive(workspaceId: string, input: unknown): Promise<SensitiveDataT> {
    checkValue(SensitiveData, input, 'ENSEMBLE_ERR_VALIDATION', 'The special-category tags are not valid; see details.');
    for (const category of new Set([...Object.values(input.traits), ...Object.values(input.properties)])) {
      const id = explicitPurpose(category);
      if (this.purpose(workspaceId, id)) continue;
      await this.putPurpose(workspaceId, id, {
        name: `Explicit consent: ${category.replace(/_/g, ' ')}`, legalBasis: 'consent',
        description: `Explicit consent to use data revealing ${category.replace(/_/g, ' ')} (GDPR art. 9(2)(a)).`,
      });
    }
    await this.store.setWorkspaceSetting(workspaceId, SENSITIVE, JSON.stringify(input));
    this.sensitiveByWs.set(workspaceId, input);
    return input;
  }

  approval(workspaceId: string, segmentId: string): SegmentApproval | undefined {
    return this.approvalsByWs.get(workspaceId)?.[segmentId];
  }

  async setApproval(workspaceId: string, segmentId: string, approval: SegmentApproval | null): Promise<void> {
    const all = { ...(this.approvalsByWs.get(workspaceId) ?? {}) };
    if (approval) all[segmentId] = approval;
    else delete all[segmentId];
    await this.store.setWorkspaceSetting(workspaceId, APPROVALS, JSON.stringify(all));
    this.approvalsByWs.set(workspaceId, all);
  }

  private of(workspaceId: string): WorkspacePrivacy {
    let p = this.byWs.get(workspaceId);
    if (!p) {
      p = build([], DEFAULT_CONSENT_MAPPING);
      this.byWs.set(workspaceId, p);
    }
    return p;
  }
}

function build(stored: readonly Purpose[], mapping: ConsentMappingT): WorkspacePrivacy {
  const purposes = new Map<string, Purpose>(DEFAULT_PURPOSES.map((p) => [p.id, p]));
  for (const p of stored) purposes.set(p.id, p);
  return { purposes, mapping, reader: new ConsentReader(mapping, new Set(purposes.keys())) };
}

/** Only what differs from the built-in purposes is stored, so improved defaults reach everyone else. */
function changedFromDefaults(purposes: ReadonlyMap<string, Purpose>): Purpose[] {
  return [...purposes.values()].filter((p) => {
    const d = DEFAULT_PURPOSES.find((x) => x.id === p.id);
    return !d || d.name !== p.name || d.legalBasis !== p.legalBasis || d.description !== p.description;
  });
}
