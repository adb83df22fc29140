/**
 * The answer to an access request (GDPR art. 15) — and, trimmed to what the person provided, to
 * a portability request (art. 20). Everything Ensemble holds about the person, in clear, with
 * where it came from: identifiers, traits with their source and time, computed traits, every
 * event, each segment they are in with its logic and why they match it (art. 15(1)(h): "the
 * logic involved"), consent history, recipients, and until when each kind of data is kept.
 *
 * Built on demand from the live data (never stored: a stored copy would be one more copy to
 * erase), as JSON for machines and as one self-contained HTML page for the person.
 */
import type { IdentityService } from '../identity/identity-service.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import type { ProfileState } from '../protocol/profile.js';
import type { ConsentRecord, RetentionPolicyT } from '../protocol/privacy.js';
import type { Source } from '../protocol/workspace.js';
import type { StoredEventView, EventStore } from '../storage/ports.js';
import type { SegmentEngine } from '../segments/engine.js';
import { escapeHtml } from '../platform/html.js';

const DAY_MS = 86_400_000;

export interface AccessBundleDeps {
  memory: ProfileMemory;
  identity: IdentityService;
  events: EventStore;
  segments: SegmentEngine;
  computed(workspaceId: string, profileId: string, now: number): Record<string, unknown>;
  consents(workspaceId: string, profileId: string): Promise<{ current: Map<string, ConsentRecord>; history: ConsentRecord[] }>;
  sources(workspaceId: string): Source[];
  retention(workspaceId: string): RetentionPolicyT;
  /** Recipients that received the person's data (destinations), with the last time. */
  recipients(workspaceId: string, profileId: string): Promise<Array<{ destination: string; at: string }>>;
}

export interface AccessBundle {
  generatedAt: string;
  requestId: string;
  profile: { id: string; mergedFrom: string[]; firstSeen: string; lastSeen: string; eventCount: number };
  identifiers: Array<{ type: string; value: string | null; firstSeen: string }>;
  traits: Array<{ name: string; value: unknown; source: string; sourceName: string | null; at: string }>;
  computedTraits: Record<string, unknown>;
  segments: Array<{ id: string; name: string; description: string | null; purposes: string[]; logic: unknown; whyYouMatch: unknown }>;
  consents: { current: Record<string, { status: string; at: string; source: string }>; history: Array<{ purpose: string; status: string; at: string; source: string; proof: unknown }> };
  recipients: Array<{ destination: string; at: string }>;
  sources: Array<{ id: string; name: string; kind: string; purposes: string[] }>;
  retention: Record<string, string>;
  events: Array<Omit<StoredEventView, 'profileId'>>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export async function accessBundle(deps: AccessBundleDeps, p: ProfileState, requestId: string, now: number): Promise<AccessBundle> {
  const ws = p.workspaceId;
  const ids = deps.memory.lineage(p.id);
  const sources = deps.sources(ws);
  const sourceName = (id: string) => sources.find((s) => s.id === id)?.name ?? null;
  const events: AccessBundle['events'] = [];
  let cursor: string | null = null;
  do {
    const page = await deps.events.eventsOfProfiles(ws, ids, 1000, cursor);
    for (const { profileId: _p, ...e } of page.events) {
      events.push({ ...e, traits: deps.identity.revealPseudonyms(ws, e.traits), context: deps.identity.revealPseudonyms(ws, e.context) });
    }
    cursor = page.nextCursor;
  } while (cursor !== null);
  const { current, history } = await deps.consents(ws, p.id);
  const retention = deps.retention(ws);
  const lastEvent = p.lastSeen;
  return {
    generatedAt: iso(now),
    requestId,
    profile: { id: p.id, mergedFrom: ids.slice(1), firstSeen: iso(p.firstSeen), lastSeen: iso(p.lastSeen), eventCount: p.eventCount },
    identifiers: ids.flatMap((id) => deps.memory.recordsOf(id)).map((r) => ({ type: r.type, value: deps.identity.clearValue(r), firstSeen: iso(r.firstSeen) })),
    traits: Object.entries(p.traits).map(([name, t]) => ({ name, value: t.value, source: t.sourceId, sourceName: sourceName(t.sourceId), at: iso(t.at) })),
    computedTraits: deps.computed(ws, p.id, now),
    segments: deps.segments.segmentsOf(ws, p.id).flatMap((id) => {
      const s = deps.segments.segment(ws, id);
      if (!s) return [];
      return [{ id, name: s.name, description: s.description ?? null, purposes: s.purposes ?? [], logic: s.definition, whyYouMatch: deps.segments.explain(ws, id, p.id) ?? null }];
    }),
    consents: {
      current: Object.fromEntries([...current].map(([purpose, r]) => [purpose, { status: r.status, at: iso(r.at), source: r.source }])),
      history: history.map((r) => ({ purpose: r.purpose, status: r.status, at: iso(r.at), source: r.source, proof: r.proof })),
    },
    recipients: await deps.recipients(ws, p.id),
    sources: sources.map((s) => ({ id: s.id, name: s.name, kind: s.kind, purposes: s.purposes })),
    retention: {
      events: `each event is deleted ${retention.eventsDays} days after it happened`,
      profile: `the profile is deleted if no event arrives before ${iso(lastEvent + retention.inactiveProfileDays * DAY_MS)}`,
      consentProofs: `consent records are kept ${retention.consentProofDays} days after the profile is deleted, as proof`,
    },
    events,
  };
}

/** Portability (art. 20): what the person provided, machine-readable: identifiers, traits, consents, events. */
export function portabilityBundle(b: AccessBundle): Pick<AccessBundle, 'generatedAt' | 'requestId' | 'identifiers' | 'traits' | 'consents' | 'events'> {
  return { generatedAt: b.generatedAt, requestId: b.requestId, identifiers: b.identifiers, traits: b.traits, consents: b.consents, events: b.events };
}

/** The bundle as one HTML page a person can read; every value escaped. */
export function accessBundleHtml(b: AccessBundle): string {
  const e = escapeHtml;
  const json = (v: unknown) => `<pre>${e(JSON.stringify(v, null, 2))}</pre>`;
  const table = (head: string[], rows: string[][]) =>
    `<table><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your data</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem;text-align:left;vertical-align:top}pre{white-space:pre-wrap;margin:0}</style></head>
<body>
<h1>The data we hold about you</h1>
<p>Generated ${e(b.generatedAt)} for request ${e(b.requestId)}. Profile ${e(b.profile.id)}, first seen ${e(b.profile.firstSeen)}, last seen ${e(b.profile.lastSeen)}, ${b.profile.eventCount} events.</p>
<h2>Your identifiers</h2>
${table(['type', 'value', 'first seen'], b.identifiers.map((i) => [e(i.type), e(i.value ?? '(no longer readable)'), e(i.firstSeen)]))}
<h2>What we know about you, and where it came from</h2>
${table(['trait', 'value', 'source', 'when'], b.traits.map((t) => [e(t.name), json(t.value), e(t.sourceName ?? t.source), e(t.at)]))}
<h2>What we computed from your activity</h2>
${json(b.computedTraits)}
<h2>The audiences you are in, and why</h2>
${b.segments.length === 0 ? '<p>None.</p>' : table(['audience', 'used for', 'the rule', 'why you match'], b.segments.map((s) => [e(s.name) + (s.description ? `<br>${e(s.description)}` : ''), e(s.purposes.join(', ') || '—'), json(s.logic), json(s.whyYouMatch)]))}
<h2>Your consent</h2>
${table(['purpose', 'decision', 'when', 'how'], b.consents.history.map((c) => [e(c.purpose), e(c.status), e(c.at), e(c.source)]))}
<h2>Who received your data</h2>
${b.recipients.length === 0 ? '<p>No one: your data was not sent to any destination.</p>' : table(['recipient', 'when'], b.recipients.map((r) => [e(r.destination), e(r.at)]))}
<h2>Where your data comes from</h2>
${table(['source', 'kind', 'purposes'], b.sources.map((s) => [e(s.name), e(s.kind), e(s.purposes.join(', '))]))}
<h2>How long we keep it</h2>
<ul>${Object.values(b.retention).map((r) => `<li>${e(r)}</li>`).join('')}</ul>
<h2>Your events (${b.events.length})</h2>
${table(['when', 'what', 'details'], b.events.map((ev) => [e(ev.timestamp), e(`${ev.type} ${ev.event ?? ev.name ?? ''}`), json({ properties: ev.properties, context: ev.context })]))}
</body></html>
`;
}
