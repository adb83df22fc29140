/**
 * Erasure (GDPR art. 17), "without undue delay": a person goes from everywhere Ensemble keeps
 * them, while the processor holds still so nothing about them is being written meanwhile.
 *
 * 1. The processor catches up (every acknowledged event of theirs is in the store) and pauses.
 * 2. The log loses their records (by messageId, and by identifier for events never attached to
 *    them, such as a strict source's), segment files rewritten atomically.
 * 3. Memory forgets them: profiles, identifiers, consent; derived state follows (computed traits,
 *    segment memberships: they leave every segment, announced with cause `erasure`).
 * 4. One transaction deletes them from every table, destroys their data keys (crypto-shredding:
 *    sealed copies anywhere, backups included, become unreadable), adds the suppression entries
 *    (keyed hashes under their own key) and completes the request with the counts as receipt.
 * 5. A checkpoint folds the write-ahead log into the store file.
 *
 * What stays: the audit log's entries name profiles only by keyed pseudonyms (never the id), the
 * anonymous counts never held a person, and the suppression hashes cannot be reversed.
 */
import type { IdentityService } from '../identity/identity-service.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { RightsRequest } from '../protocol/rights.js';
import type { DuckDbRightsStore, ErasureCounts } from '../storage/duckdb/rights-store.js';
import type { EventLog } from '../storage/ports.js';
import type { ConsentLedger } from './consent-ledger.js';
import type { SuppressionEntry, Suppressions } from './suppressions.js';

export interface ErasureDeps {
  store: DuckDbRightsStore;
  memory: ProfileMemory;
  identity: IdentityService;
  suppressions: Suppressions;
  ledger: ConsentLedger;
  log: EventLog;
  /** Runs `fn` once the processor has caught up, holding it until `fn` is done. */
  quiesce<T>(fn: () => Promise<T>): Promise<T>;
  /** Derived state forgets the profiles (memory already has); resolves once the segment store holds the exits. */
  forgetDerived(workspaceId: string, profileIds: readonly string[]): Promise<void>;
  /** Folds the store's write-ahead log into its file. */
  checkpoint(): Promise<void>;
  /**
   * Before memory forgets them (their identifiers are still readable): activation freezes the
   * removals that take them out of the platform audiences holding them.
   */
  beforeForget?(workspaceId: string, profileIds: readonly string[]): Promise<void>;
}

/**
 * Erases the person behind `profileId`; returns what was removed (the receipt). `request`: the
 * rights request to complete in the same transaction, and the identifiers are suppressed; none
 * (retention deleting an inactive profile): nothing is suppressed, the person may come back.
 */
export async function erase(deps: ErasureDeps, workspaceId: string, profileId: string, request: RightsRequest | null): Promise<ErasureCounts> {
  return deps.quiesce(() => eraseNow(deps, workspaceId, profileId, request));
}

/** The same, for a caller that already holds the processor (the retention job erases many). */
export async function eraseNow(deps: ErasureDeps, workspaceId: string, profileId: string, request: RightsRequest | null): Promise<ErasureCounts> {
  const { memory, identity, store } = deps;
  {
    const ws = workspaceId;
    const live = memory.live(profileId);
    if (!live) {
      // Erased meanwhile (two requests for one person): this one completes with nothing left to remove.
      if (request) await store.save(request);
      return {};
    }
    const ids = memory.lineage(live.id);
    const records = ids.flatMap((id) => memory.recordsOf(id));
    const suppress: SuppressionEntry[] = [];
    const needles = new Set<string>();
    for (const r of records) {
      const clear = identity.clearValue(r);
      if (clear === null) continue;
      needles.add(JSON.stringify(clear));
      const entry = request ? deps.suppressions.entryOf(ws, r.type, clear) : null;
      if (entry) suppress.push(entry);
    }
    const messageIds = await store.messageIdsOf(ws, ids);
    const logRecords = await deps.log.erase(ws, { messageIds, needles: [...needles] });

    await deps.beforeForget?.(ws, ids);
    memory.remove(ids);
    deps.ledger.remove(ids);
    await deps.forgetDerived(ws, ids);

    const target = { workspaceId: ws, profileIds: ids, hashes: records.map((r) => ({ type: r.type, hash: r.hash })), needles: [...needles], messageIds };
    const logged = { event_log: logRecords, suppressions: suppress.length };
    const receipt = request && { ...request, result: { ...request.result, deleted: logged } };
    const counts = { ...logged, ...(await store.erase(target, suppress, receipt)) };
    for (const id of ids) identity.keys.destroy(ws, id);
    // Since the request was received, as stored: a consent decided before it is no way back.
    if (request) deps.suppressions.add(ws, suppress, request.receivedAt);
    if (request) await deps.checkpoint();
    return counts;
  }
}
