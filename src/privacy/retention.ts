/**
 * The retention job (GDPR art. 5(1)(e), storage limitation): once a day, for each workspace,
 * what is older than its policy goes — events after `eventsDays`, full IP addresses after
 * `rawIpDays` (only stored when truncation is off), profiles with no event for
 * `inactiveProfileDays` (erased like an erasure request, without suppression: the person may
 * come back), consent proofs of deleted profiles after `consentProofDays`, anonymous counts
 * after `anonymousCountsDays`. Each run is written to the audit log with its counts.
 *
 * Memberships and computed traits built from deleted events keep their current value until the
 * segment or trait is next filled from the store (a window longer than the retention period
 * cannot be honoured anyway).
 *
 * @example
 *   await retention.run(ws, Date.now()); // → { events: 1200, rawIps: 0, profiles: 3, consentProofs: 0, anonymousCounts: 0 }
 */
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { DuckDbRetentionStore } from '../storage/duckdb/retention-store.js';
import type { AuditLog } from './audit-log.js';
import { eraseNow, type ErasureDeps } from './erasure.js';
import type { PrivacySettings } from './privacy-settings.js';

const DAY_MS = 86_400_000;

export interface RetentionRun {
  workspaceId: string;
  at: string;
  events: number;
  rawIps: number;
  profiles: number;
  consentProofs: number;
  anonymousCounts: number;
}

export interface RetentionDeps {
  store: DuckDbRetentionStore;
  settings: PrivacySettings;
  memory: ProfileMemory;
  erasure: ErasureDeps;
  audit: AuditLog;
  /** Whether IP addresses are stored truncated (then there is no raw IP to drop). */
  truncateIp: boolean;
  workspaces(): string[];
  now(): number;
}

export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: RetentionDeps) {}

  /** Runs every `everyMs` (the first run after `firstAfterMs`); errors are reported, the schedule goes on. */
  start(everyMs: number, firstAfterMs: number, onError: (err: unknown) => void): void {
    const tick = () => void this.runAll().catch(onError);
    this.timer = setTimeout(() => {
      tick();
      this.timer = setInterval(tick, everyMs);
      this.timer.unref();
    }, firstAfterMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  async runAll(): Promise<RetentionRun[]> {
    const runs: RetentionRun[] = [];
    for (const ws of this.deps.workspaces()) runs.push(await this.run(ws, this.deps.now()));
    return runs;
  }

  runNow(workspaceId: string): Promise<RetentionRun> {
    return this.run(workspaceId, this.deps.now());
  }

  /** Applies the workspace's policy as of `now` (a parameter, so a test can move time). */
  async run(workspaceId: string, now: number): Promise<RetentionRun> {
    const { store, memory } = this.deps;
    const policy = this.deps.settings.retention(workspaceId);
    const cutoff = (days: number) => now - days * DAY_MS;
    const inactive = [...memory.profiles.values()]
      .filter((p) => p.workspaceId === workspaceId && !p.mergedInto && p.lastSeen < cutoff(policy.inactiveProfileDays))
      .map((p) => p.id);
    const run: RetentionRun = {
      workspaceId, at: new Date(now).toISOString(), events: 0, rawIps: 0, profiles: inactive.length, consentProofs: 0, anonymousCounts: 0,
    };
    await this.deps.erasure.quiesce(async () => {
      for (const id of inactive) await eraseNow(this.deps.erasure, workspaceId, id, null);
      run.events = await store.deleteEvents(workspaceId, cutoff(policy.eventsDays));
      if (!this.deps.truncateIp) run.rawIps = await store.dropIps(workspaceId, cutoff(policy.rawIpDays));
      run.consentProofs = await store.deleteConsentProofs(workspaceId, cutoff(policy.consentProofDays));
      run.anonymousCounts = await store.deleteAnonymousCounts(workspaceId, cutoff(policy.anonymousCountsDays));
    });
    await this.deps.audit.recordDurable({
      workspaceId, actor: 'system', action: 'privacy.retention', resource: `/api/workspaces/${workspaceId}/privacy/retention`,
      detail: { ...run, policy: { ...policy } },
    });
    return run;
  }
}
