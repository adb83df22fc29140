/**
 * Consent as the API sees it: a profile's decisions in force and their whole history, and
 * decisions recorded by a caller (a preference centre, a call centre, a signed form). API
 * records are immutable like event-derived ones; each says where it came from (`api`) and
 * keeps the caller's reference and text version as proof.
 *
 * @example
 *   await consents.record(ws, profileId, { consents: [{ purpose: 'email_marketing', status: 'withdrawn' }], reference: 'ticket-42' });
 */
import { EnsembleError } from '../protocol/errors.js';
import type { ConsentProof, ConsentRecord, ConsentsInputT } from '../protocol/privacy.js';
import { newId } from '../platform/ids.js';
import type { DuckDbConsentStore } from '../storage/duckdb/consent-store.js';
import type { ConsentLedger } from './consent-ledger.js';
import type { PrivacySettings } from './privacy-settings.js';
import { decodeTcString } from './tcf.js';

/** Clocks differ a little between a caller and the server; more than this is a mistake. */
const FUTURE_TOLERANCE_MS = 60_000;

export interface ConsentServiceDeps {
  store: DuckDbConsentStore;
  ledger: ConsentLedger;
  settings: PrivacySettings;
  lineage(profileId: string): readonly string[];
  now(): number;
}

export class ConsentService {
  constructor(private readonly deps: ConsentServiceDeps) {}

  async history(workspaceId: string, profileId: string): Promise<{ current: Map<string, ConsentRecord>; history: ConsentRecord[] }> {
    const history = await this.deps.store.history(workspaceId, [...this.deps.lineage(profileId)]);
    return { current: this.deps.ledger.current(profileId), history };
  }

  /** Validates everything first: a refused request records nothing. */
  async record(workspaceId: string, profileId: string, input: ConsentsInputT, source = 'api'): Promise<ConsentRecord[]> {
    const now = this.deps.now();
    this.deps.settings.requirePurposes(workspaceId, input.consents.map((c) => c.purpose));
    const at = input.at === undefined ? now : Date.parse(input.at);
    if (!Number.isFinite(at)) throw new EnsembleError('ENSEMBLE_ERR_VALIDATION', '`at` is not a valid date.');
    if (at > now + FUTURE_TOLERANCE_MS) throw new EnsembleError('ENSEMBLE_ERR_CONSENT_TIME');
    const proof: ConsentProof = {};
    if (input.reference !== undefined) proof.messageId = input.reference;
    if (input.textVersion !== undefined) proof.textVersion = input.textVersion;
    if (input.tcString !== undefined) {
      const tcf = decodeTcString(input.tcString);
      if (!tcf.ok) throw new EnsembleError('ENSEMBLE_ERR_CONSENT_TCF_INVALID', `The TCF consent string could not be decoded (${tcf.reason}); nothing was recorded.`);
      Object.assign(proof, { tcString: input.tcString, cmpId: tcf.value.cmpId, cmpVersion: tcf.value.cmpVersion, policyVersion: tcf.value.policyVersion });
    }
    const records: ConsentRecord[] = input.consents.map((c) => ({
      id: newId('cr'), workspaceId, profileId, purpose: c.purpose, status: c.status, at, recordedAt: now, source, seq: null, proof,
    }));
    await this.deps.store.append(records);
    this.deps.ledger.apply(records);
    return records;
  }
}
