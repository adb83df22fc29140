/**
 * Data-subject rights requests, each carried out as soon as it is filed, with a status, a due
 * date one month after receipt (GDPR art. 12(3)) and a trail:
 * - access / portability: the bundle is built on demand from the live data (access-bundle.ts);
 * - rectification: corrected traits go through the log as an identify event of the person, so
 *   every derived state (segments, computed traits) follows as for any other event;
 * - erasure: erasure.ts; the request keeps only counts once done;
 * - restriction: the profile leaves every segment and no purpose counts as granted until lifted;
 * - objection: consent records `denied` for the purposes objected to, effective at once.
 * A request names the person by one identifier; the request keeps its type only.
 *
 * @example
 *   const r = await rights.file(ws, { type: 'erasure', identifier: { type: 'email', value: 'ada@example.com' } });
 *   r.status; // 'completed', r.result.deleted.events === 10000
 */
import { EnsembleError } from '../protocol/errors.js';
import type { ProfileState } from '../protocol/profile.js';
import type { RightsRequest, RightsRequestInputT } from '../protocol/rights.js';
import { newId } from '../platform/ids.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { DuckDbRightsStore } from '../storage/duckdb/rights-store.js';
import type { ConsentLedger } from './consent-ledger.js';
import type { ConsentService } from './consent-service.js';
import type { PrivacySettings } from './privacy-settings.js';
import { erase, type ErasureDeps } from './erasure.js';

/** One month (art. 12(3)), counted as 30 days. */
const DUE_MS = 30 * 86_400_000;

export interface RightsServiceDeps {
  store: DuckDbRightsStore;
  memory: ProfileMemory;
  identity: IdentityService;
  ledger: ConsentLedger;
  consents: ConsentService;
  settings: PrivacySettings;
  erasure: ErasureDeps;
  /** Sends corrected traits as an identify event of the person and resolves once it is processed. */
  rectify(workspaceId: string, identity: { userId: string | null; anonymousId: string | null }, traits: Record<string, unknown>, messageId: string): Promise<void>;
  now(): number;
}

export class RightsService {
  constructor(private readonly deps: RightsServiceDeps) {}

  async get(workspaceId: string, id: string): Promise<RightsRequest> {
    const r = await this.deps.store.get(workspaceId, id);
    if (!r) throw new EnsembleError('ENSEMBLE_ERR_RIGHTS_REQUEST_NOT_FOUND');
    return r;
  }

  list(workspaceId: string, limit: number): Promise<RightsRequest[]> {
    return this.deps.store.list(workspaceId, limit);
  }

  /** The live profile a completed access or portability request is about (its bundle is built from it). */
  async subject(workspaceId: string, id: string): Promise<{ request: RightsRequest; profile: ProfileState }> {
    const request = await this.get(workspaceId, id);
    const profile = request.profileId === null ? undefined : this.deps.memory.live(request.profileId);
    if ((request.type !== 'access' && request.type !== 'portability') || request.status !== 'completed' || !profile) {
      throw new EnsembleError('ENSEMBLE_ERR_RIGHTS_REQUEST_NOT_FOUND', 'This request has no bundle (not an access or portability request, or the person was erased since).');
    }
    return { request, profile };
  }

  /** Files the request and carries it out; an unknown person completes it as "nothing held". */
  async file(workspaceId: string, input: RightsRequestInputT): Promise<RightsRequest> {
    const { identity, now } = { identity: this.deps.identity, now: this.deps.now() };
    const profile = this.find(workspaceId, input.identifier.type, input.identifier.value);
    const request: RightsRequest = {
      id: newId('dsr'), workspaceId, type: input.type, identifierType: input.identifier.type, status: 'received',
      receivedAt: now, dueAt: now + DUE_MS, completedAt: null, profileId: profile?.id ?? null, result: {},
      trail: [{ at: now, status: 'received', note: input.note ?? '' }],
    };
    this.check(request, input, profile);
    await this.deps.store.save(request);
    if (!profile) return this.complete(request, { found: false }, 'No profile holds this identifier: there is nothing to act on.');
    switch (input.type) {
      case 'access':
      case 'portability':
        return this.complete(request, { found: true }, 'The bundle is ready for download.');
      case 'erasure': {
        const done = this.completed(request, { found: true }, 'Erased from every store; data keys destroyed; identifiers suppressed.');
        const deleted = await erase(this.deps.erasure, workspaceId, profile.id, { ...done, profileId: null });
        return { ...done, profileId: null, result: { ...done.result, deleted } };
      }
      case 'restriction': {
        const on = input.lift !== true;
        await this.deps.store.setRestriction(workspaceId, profile.id, on, now, request.id);
        this.deps.ledger.restrict(workspaceId, profile.id, on);
        return this.complete(request, { found: true, restricted: on }, on ? 'Processing restricted: the profile is in no segment and no purpose counts as granted.' : 'Restriction lifted.');
      }
      case 'objection': {
        const purposes = input.purposes ?? this.deps.settings.purposes(workspaceId)
          .filter((p) => p.legalBasis === 'consent' || p.legalBasis === 'legitimate_interest').map((p) => p.id);
        await this.deps.consents.record(workspaceId, profile.id, { consents: purposes.map((purpose) => ({ purpose, status: 'denied' })), reference: request.id }, `objection:${request.id}`);
        return this.complete(request, { found: true, purposes }, `Objection recorded for ${purposes.join(', ')}.`);
      }
      case 'rectification': {
        const traits = input.traits ?? {};
        const ids = this.deps.memory.recordsOf(profile.id);
        const clearOf = (type: string) => {
          const rec = ids.find((r) => r.type === type);
          return rec ? identity.clearValue(rec) : null;
        };
        const who = { userId: clearOf('user_id'), anonymousId: clearOf('anonymous_id') };
        if (who.userId === null && who.anonymousId === null) {
          return this.reject(request, 'The profile has neither a user id nor an anonymous id to attach the correction to.');
        }
        await this.deps.rectify(workspaceId, who, traits, request.id);
        return this.complete(request, { found: true, traits: Object.keys(traits) }, `Rectified: ${Object.keys(traits).join(', ')}.`);
      }
    }
  }

  /** The profile an identifier belongs to; a blocked or malformed value belongs to no one (an unknown type is an error). */
  private find(workspaceId: string, type: string, value: string): ProfileState | undefined {
    try {
      return this.deps.identity.lookup(workspaceId, type, value);
    } catch (err) {
      if (err instanceof EnsembleError && err.code === 'ENSEMBLE_ERR_PROFILE_NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** Refuses an impossible request before anything is stored. */
  private check(request: RightsRequest, input: RightsRequestInputT, profile: ProfileState | undefined): void {
    const bad = (message: string) => new EnsembleError('ENSEMBLE_ERR_RIGHTS_REQUEST_INVALID', message);
    if (input.type === 'rectification' && (!input.traits || Object.keys(input.traits).length === 0)) throw bad('A rectification needs `traits`: the corrected values.');
    if (input.type !== 'rectification' && input.traits !== undefined) throw bad('`traits` belongs to rectification requests only.');
    if (input.type !== 'objection' && input.purposes !== undefined) throw bad('`purposes` belongs to objection requests only.');
    if (input.type !== 'restriction' && input.lift !== undefined) throw bad('`lift` belongs to restriction requests only.');
    if (input.purposes) this.deps.settings.requirePurposes(request.workspaceId, input.purposes);
    if (input.type === 'rectification' && profile && input.traits) {
      const personal = Object.keys(input.traits).filter((k) => this.deps.identity.rules(request.workspaceId).rule(k) !== undefined);
      if (personal.length > 0) throw bad(`${personal.join(', ')} ${personal.length > 1 ? 'are identifiers' : 'is an identifier'}: correct identifiers by splitting the profile, not by rectification.`);
    }
  }

  private completed(request: RightsRequest, result: Record<string, unknown>, note: string): RightsRequest {
    const at = this.deps.now();
    return { ...request, status: 'completed', completedAt: at, result, trail: [...request.trail, { at, status: 'completed', note }] };
  }

  private async complete(request: RightsRequest, result: Record<string, unknown>, note: string): Promise<RightsRequest> {
    const done = this.completed(request, result, note);
    await this.deps.store.save(done);
    return done;
  }

  private async reject(request: RightsRequest, note: string): Promise<RightsRequest> {
    const at = this.deps.now();
    const done: RightsRequest = { ...request, status: 'rejected', completedAt: at, trail: [...request.trail, { at, status: 'rejected', note }] };
    await this.deps.store.save(done);
    return done;
  }
}
