/**
 * Wires privacy: purposes and consent mapping (per workspace settings), the consent ledger
 * loaded from the stored records, the processor's consent step, and the consent API service.
 */
import type { Catalog } from '../api/catalog.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { CollectedEvent } from '../protocol/event.js';
import type { Clock } from '../platform/clock.js';
import { ConsentLedger } from '../privacy/consent-ledger.js';
import { ConsentService } from '../privacy/consent-service.js';
import { ConsentStep } from '../privacy/consent-step.js';
import { PrivacySettings } from '../privacy/privacy-settings.js';
import { DuckDbConsentStore } from '../storage/duckdb/consent-store.js';
import type { Database } from '../storage/duckdb/database.js';
import type { ConfigStore, EventLog } from '../storage/ports.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from '../platform/logger.js';
import type { Processor } from '../processor/processor.js';
import type { Collector } from '../collect/collector.js';
import type { ComputedTraitEngine } from '../profiles/computed-traits.js';
import type { SegmentsWiring } from './segments.js';
import { EnsembleError } from '../protocol/errors.js';
import { DuckDbRightsStore } from '../storage/duckdb/rights-store.js';
import { RightsService } from '../privacy/rights-service.js';
import { Suppressions } from '../privacy/suppressions.js';
import type { ErasureDeps } from '../privacy/erasure.js';
import { RetentionJob } from '../privacy/retention.js';
import { DuckDbRetentionStore } from '../storage/duckdb/retention-store.js';
import type { AuditLog } from '../privacy/audit-log.js';

export interface PrivacyWiring {
  settings: PrivacySettings;
  ledger: ConsentLedger;
  step: ConsentStep;
  consents: ConsentService;
  store: DuckDbConsentStore;
  suppressions: Suppressions;
  rightsStore: DuckDbRightsStore;
}

/** Settings first: the catalog checks source purposes against them while it loads. */
export async function loadPrivacySettings(configStore: ConfigStore): Promise<PrivacySettings> {
  const settings = new PrivacySettings(configStore);
  await settings.load();
  return settings;
}

export async function wirePrivacy(deps: {
  db: Database; settings: PrivacySettings; catalog: Catalog; memory: ProfileMemory; identity: IdentityService; clock: Clock;
}): Promise<PrivacyWiring> {
  const { memory, identity, catalog, settings } = deps;
  const store = await DuckDbConsentStore.open(deps.db);
  const lineage = (id: string): readonly string[] => memory.lineage(memory.live(id)?.id ?? id);
  const ledger = new ConsentLedger(lineage);
  ledger.apply(await store.latest());
  const rightsStore = await DuckDbRightsStore.open(deps.db);
  const suppressions = new Suppressions(identity.keys, (ws) => identity.rules(ws));
  for (const s of await rightsStore.suppressions()) suppressions.add(s.workspaceId, [s], s.since);
  for (const r of await rightsStore.restrictions()) ledger.restrict(r.workspaceId, r.profileId, true);
  const step = new ConsentStep({
    ledger, settings, suppressions, source: (id) => catalog.sources.get(id), now: () => deps.clock.now(),
    anyStrict: () => [...catalog.sources.all()].some((s) => s.consentMode === 'strict'),
    existingProfile: (e) => existingProfile(identity, e),
  });
  const consents = new ConsentService({ store, ledger, settings, lineage, now: () => deps.clock.now() });
  return { settings, ledger, step, consents, store, suppressions, rightsStore };
}

/** Rights requests and retention need the whole node: the processor to hold still, the log, derived state, the collector. */
export async function wireRights(privacy: PrivacyWiring, deps: {
  db: Database; memory: ProfileMemory; identity: IdentityService; clock: Clock; logger: Logger; audit: AuditLog; truncateIp: boolean;
  log: EventLog; processor: Processor; collector: Collector; computed: ComputedTraitEngine; segments: SegmentsWiring; workspaces: () => string[];
  /** Activation's part of an erasure (platform audiences, queued deliveries). */
  beforeForget(workspaceId: string, profileIds: readonly string[]): Promise<void>;
}): Promise<{ rights: RightsService; retention: RetentionJob }> {
  const { memory, identity, processor, segments } = deps;
  let checkpointer: Promise<DuckDBConnection> | null = null;
  const erasure: ErasureDeps = {
    store: privacy.rightsStore, memory, identity, suppressions: privacy.suppressions, ledger: privacy.ledger, log: deps.log,
    quiesce: async (fn) => {
      await processor.idle();
      return processor.exclusive(fn);
    },
    forgetDerived: async (ws, ids) => {
      for (const id of ids) deps.computed.forget(ws, id);
      segments.feed.rebuilt(ws, ids, [], 'erasure');
      await segments.feed.idle();
      await segments.writer.drain();
    },
    beforeForget: deps.beforeForget,
    checkpoint: async () => {
      checkpointer ??= deps.db.connect();
      try {
        await (await checkpointer).run('CHECKPOINT');
      } catch (err) {
        // Another transaction is open: DuckDB folds the WAL at its next automatic checkpoint.
        deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'checkpoint after an erasure postponed');
      }
    },
  };
  const retention = new RetentionJob({
    store: await DuckDbRetentionStore.open(deps.db), settings: privacy.settings, memory, erasure, audit: deps.audit,
    truncateIp: deps.truncateIp, workspaces: deps.workspaces, now: () => deps.clock.now(),
  });
  const rights = new RightsService({
    store: privacy.rightsStore, memory, identity, ledger: privacy.ledger, consents: privacy.consents, settings: privacy.settings,
    now: () => deps.clock.now(),
    erasure,
    rectify: async (ws, who, traits, messageId) => {
      const result = await deps.collector.ingest({
        source: { id: RECTIFICATION_SOURCE, workspaceId: ws },
        events: [{ type: 'identify', messageId: `rectify-${messageId}`, traits, ...(who.userId ? { userId: who.userId } : {}), ...(who.anonymousId ? { anonymousId: who.anonymousId } : {}) }],
      });
      if (result.rejected.length > 0) throw new EnsembleError('ENSEMBLE_ERR_RIGHTS_REQUEST_INVALID', `The correction was refused: ${result.rejected[0]?.message ?? ''}`);
      await processor.idle();
    },
  });
  return { rights, retention };
}

/** The source id traits rectified by a rights request are attributed to (access bundles show it). */
export const RECTIFICATION_SOURCE = 'privacy-rectification';

/** The live profile an event's user id or anonymous id already points to; creates nothing. */
function existingProfile(identity: IdentityService, e: CollectedEvent): string | undefined {
  for (const [type, value] of [['user_id', e.userId], ['anonymous_id', e.anonymousId]] as const) {
    if (value === null || value === '') continue;
    try {
      const p = identity.lookup(e.workspaceId, type, value);
      if (p) return p.id;
    } catch {
      // A blocked value or a workspace without this identifier type points to no one.
    }
  }
  return undefined;
}
