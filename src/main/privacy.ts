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
import type { ConfigStore } from '../storage/ports.js';

export interface PrivacyWiring {
  settings: PrivacySettings;
  ledger: ConsentLedger;
  step: ConsentStep;
  consents: ConsentService;
  store: DuckDbConsentStore;
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
  const step = new ConsentStep({
    ledger, settings, source: (id) => catalog.sources.get(id), now: () => deps.clock.now(),
    existingProfile: (e) => existingProfile(identity, e),
  });
  const consents = new ConsentService({ store, ledger, settings, lineage, now: () => deps.clock.now() });
  return { settings, ledger, step, consents, store };
}

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
