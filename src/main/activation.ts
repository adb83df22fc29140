/**
 * Wires activation: destinations and triggers (config), the fan-out that follows the outboxes,
 * the per-destination delivery loops, and the facts they read from identity, segments and
 * privacy. Consent decides through `purposePermitted` (privacy/purpose-permitted.ts), as for segments.
 */
import type { Config } from '../platform/config.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { Identifiers } from '../protocol/destination.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { KeyRing } from '../privacy/key-ring.js';
import { Database } from '../storage/duckdb/database.js';
import { DuckDbActivationStore } from '../storage/duckdb/activation-store.js';
import { Destinations } from '../activate/destinations.js';
import { Triggers } from '../activate/triggers.js';
import { Fanout } from '../activate/fanout.js';
import { Dispatcher } from '../activate/dispatcher.js';
import type { AdmissionFacts } from '../activate/admission.js';
import { Messages } from '../activate/messages.js';
import { createSmtpSender } from '../activate/smtp.js';
import { Journeys } from '../journeys/journeys.js';
import { holds } from '../journeys/conditions.js';
import { validZone } from '../journeys/validate.js';
import { traitValues } from '../profiles/traits.js';

import { purposePermitted } from '../privacy/purpose-permitted.js';
import { requireSourceFor } from '../privacy/purpose-limitation.js';
import type { Source } from '../protocol/workspace.js';
import type { ConfigStore } from '../storage/ports.js';
import { PressureSettings } from '../activate/pressure-settings.js';
import type { PrivacyWiring } from './privacy.js';
import type { SegmentsWiring } from './segments.js';

export interface ActivationWiring {
  store: DuckDbActivationStore;
  destinations: Destinations;
  triggers: Triggers;
  fanout: Fanout;
  dispatcher: Dispatcher;
  messages: Messages;
  journeys: Journeys;
  pressure: PressureSettings;
  /** Whether the purpose may serve the profile now. */
  permitted(workspaceId: string, profileId: string, purpose: string): boolean;
  /** Destinations that received data of these profiles, with the last time (access requests). */
  receipts(workspaceId: string, profileIds: readonly string[]): Promise<Array<{ destination: string; at: string }>>;
  /** Activation's part of an erasure, before the identifiers are destroyed. */
  forget(workspaceId: string, profileIds: readonly string[]): Promise<void>;
  start(): Promise<void>;
  /** Everything written to the outboxes so far is queued and every due delivery attempted. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function wireActivation(deps: {
  db: Database; keys: KeyRing; memory: ProfileMemory; identity: IdentityService; segments: SegmentsWiring; privacy: PrivacyWiring;
  config: Config['activation']; metrics: Metrics; logger: Logger; clock: Clock; baseUrl: () => string;
  sources: (workspaceId: string) => Source[];
  source: (sourceId: string) => Source | undefined;
  computed: (workspaceId: string, profileId: string, name: string, at: number) => unknown;
  computedExists: (workspaceId: string, name: string) => boolean;
  configStore: ConfigStore;
  /** An identify through the collector (journeys' update_trait). */
  updateTraits: (workspaceId: string, profileId: string, traits: Record<string, unknown>, messageId: string) => Promise<void>;
  /** Activation's main-thread time is processing's, not collection's (processor/burst-policy.ts). */
  spent?: (ms: number) => void;
}): Promise<ActivationWiring> {
  const { memory, identity, segments, privacy, keys } = deps;
  const now = () => deps.clock.now();
  const spent = deps.spent ?? (() => undefined);
  const store = await DuckDbActivationStore.open(deps.db, { spent });
  const segmentOf = (ws: string, id: string) => segments.engine.segment(ws, id);

  const permitted = (ws: string, pid: string, purpose: string): boolean => purposePermitted(privacy.ledger, privacy.settings, ws, pid, purpose);
  const identifiersOf = (_ws: string, pid: string): Identifiers => {
    const out: Record<string, string[]> = {};
    for (const id of memory.lineage(pid)) {
      for (const r of memory.recordsOf(id)) {
        const v = identity.clearValue(r);
        if (v !== null) (out[r.type] ??= []).push(v);
      }
    }
    return out;
  };
  const destinations = new Destinations({
    store, now,
    seal: (ws, text, aad) => keys.sealSecret(ws, text, aad),
    open: (ws, token, aad) => keys.openSecret(ws, token, aad),
    requirePurposes: (ws, ids) => privacy.settings.requirePurposes(ws, ids),
    requireSourceFor: (ws, purposes) => requireSourceFor(deps.sources(ws), purposes),
    segment: (ws, id) => { const s = segmentOf(ws, id); return s ? { sensitive: (s.sensitive ?? []).length > 0, purposes: s.purposes ?? [] } : undefined; },
  });
  await destinations.load();
  const messages = new Messages({ memory, keys, baseUrl: () => deps.config.publicUrl ?? deps.baseUrl() });
  const triggers = new Triggers({ store, destinations, now, segmentExists: (ws, id) => segmentOf(ws, id) !== undefined, templateProblems: (t) => messages.problems(t) });
  await triggers.load();
  const pressure = new PressureSettings(deps.configStore);
  await pressure.load();
  // The person's zone (trait `timezone`, as the Segment spec's context.timezone is often copied), else the workspace's.
  const timeZoneOf = (ws: string, pid: string): string => {
    const p = memory.live(pid);
    const tz = p ? traitValues(p).timezone : undefined;
    return typeof tz === 'string' && validZone(tz) ? tz : pressure.get(ws).defaultTimeZone;
  };
  const journeys = new Journeys({
    store, now,
    validation: (ws) => ({
      segment: (id) => segmentOf(ws, id)?.definition,
      computedTrait: (name) => deps.computedExists(ws, name),
      personalTrait: (k) => identity.rules(ws).isPersonal(k),
      destination: (id) => {
        const d = destinations.find(id);
        return d && d.workspaceId === ws ? { kinds: destinations.manifestOf(d).kinds, segments: d.segments } : undefined;
      },
      templateProblems: (t) => messages.problems(t),
    }),
    holds: (ws, pid, c) => holds(c, {
      traits: () => { const p = memory.live(pid); return p ? traitValues(p) : {}; },
      computed: (name) => deps.computed(ws, pid, name, now()),
      member: (seg) => segments.engine.isMember(ws, seg, pid),
      permitted: (purpose) => permitted(ws, pid, purpose),
    }),
    timeZoneOf,
    defaultTimeZone: (ws) => pressure.get(ws).defaultTimeZone,
    members: (ws, seg) => segments.engine.members(ws, seg) ?? [],
  });
  await journeys.load();
  let dispatcher: Dispatcher | null = null;
  const fanout = new Fanout({
    store, destinations, triggers, now, identifiersOf, journeys, updateTraits: deps.updateTraits,
    permitted: (pid, purpose) => { const ws = memory.live(pid)?.workspaceId; return ws !== undefined && permitted(ws, pid, purpose); },
    isMember: (ws, seg, pid) => segments.engine.isMember(ws, seg, pid),
    sourceServes: (sourceId, purpose) => deps.source(sourceId)?.purposes.includes(purpose) ?? false,
    queued: (ids, rows) => {
      // The rows the commit returned go to the loops' memory; a destination touched without any
      // (its keys were already queued) reads its queue.
      const handed = new Set((rows ?? []).map((r) => r.destinationId));
      if (rows) dispatcher?.handoff(rows);
      for (const id of ids) if (!handed.has(id)) dispatcher?.wake(id);
    },
    erased: (ids) => dispatcher?.forgetProfiles(ids),
    spent,
    onError: (err) => deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'activation fan-out failed; retrying'),
  });
  const smtp = createSmtpSender();
  dispatcher = new Dispatcher({
    store, destinations, metrics: deps.metrics, logger: deps.logger, now, random: Math.random, spent,
    policy: { baseMs: deps.config.retryBaseMs, maxMs: deps.config.retryMaxMs, sendTimeoutMs: deps.config.sendTimeoutMs },
    pressure: (ws) => pressure.get(ws), timeZoneOf,
    facts: (ws): AdmissionFacts => ({
      permitted: (pid, purpose) => permitted(ws, pid, purpose),
      restricted: (pid) => privacy.ledger.restricted(pid),
      segment: (id) => {
        const s = segmentOf(ws, id);
        return s ? { sensitive: (s.sensitive ?? []).length > 0, approved: s.approvedAt !== undefined } : undefined;
      },
    }),
    live: (_ws, pid) => memory.live(pid)?.id,
    identifiersOf,
    segmentName: (ws, id) => segmentOf(ws, id)?.name ?? id,
    reveal: (ws, event) => (identity.revealPseudonyms(ws, event) ?? {}) as Record<string, unknown>,
    message: (d, row, pid) => messages.render(d, row, pid),
    smtp: (o, m) => smtp.send(o, m),
    fanoutForgot: (members) => fanout.forgotten(members),
    settled: async (_d, results) => {
      const counts = new Map<string, { workspaceId: string; journeyId: string; version: number; step: string; counter: string; count: number }>();
      for (const { row, outcome } of results) {
        const j = row.payload as { journeyId?: string; version?: number; step?: string } | undefined;
        if (!j?.journeyId) continue;
        if (outcome.kind === 'retry' && !outcome.reason.startsWith('deferred:')) continue;
        const counter = outcome.kind === 'ok' ? 'sent' : outcome.kind === 'drop' ? (outcome.reason.startsWith('suppressed:') ? outcome.reason : `dropped:${outcome.reason}`)
          : outcome.kind === 'retry' ? outcome.reason : 'dead';
        const k = `${j.journeyId}\u0000${j.version}\u0000${j.step}\u0000${counter}`;
        const c = counts.get(k) ?? { workspaceId: row.workspaceId, journeyId: j.journeyId, version: j.version ?? 1, step: j.step ?? '', counter, count: 0 };
        c.count++;
        counts.set(k, c);
      }
      if (counts.size > 0) await store.journeyCounts([...counts.values()]);
    },
  });
  destinations.onChange((next, before) => {
    if (next === null) dispatcher.forget(before!.id);
    else dispatcher.wake(next.id);
  });
  segments.writer.onWritten(() => fanout.wake());
  segments.service.onRemoved((ws, id) => destinations.segmentDeleted(ws, id));
  identity.observe({ committed: () => fanout.wake() });
  privacy.ledger.onChange((ws, ids) => fanout.consentChanged(ws, ids));

  return {
    store, destinations, triggers, fanout, dispatcher, messages, journeys, pressure,
    permitted,
    forget: (ws, ids) => fanout.forget(ws, ids, (id) => keys.pseudonym(ws, 'profile', id)),
    receipts: async (ws, ids) => (await store.receiptsOf(ws, ids)).map((r) => ({
      destination: destinations.find(r.destinationId)?.name ?? r.destinationId, at: new Date(r.lastAt).toISOString(),
    })),
    async start() {
      await fanout.start();
      dispatcher.start(await store.messagesSince(now() - 90 * 86_400_000));
    },
    async idle() {
      await segments.writer.drain();
      await fanout.idle();
      await dispatcher.idle();
    },
    async stop() {
      await fanout.stop();
      await dispatcher.stop();
      smtp.close();
    },
  };
}
