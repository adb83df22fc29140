/**
 * Configured destinations of every workspace, in memory (the delivery loops read them on every
 * batch) and in the store with their secrets sealed under the workspace's secrets key. Checks a
 * configuration before it is kept: the connector exists, the config matches its schema, the
 * purpose exists and some source collects for it, the segments exist, serve that purpose
 * (purpose limitation) and may go there (no special-category segment to an advertising
 * platform), the connector takes what it is given.
 */
import { Value } from '@sinclair/typebox/value';
import { SECRET_MASK, type Destination, type DestinationInputT, type DestinationUpdateT } from '../protocol/activation.js';
import type { DestinationManifest } from '../protocol/destination.js';
import { EnsembleError } from '../protocol/errors.js';
import { newId } from '../platform/ids.js';
import type { DuckDbActivationStore, StoredDestination } from '../storage/duckdb/activation-store.js';
import { connector, recipientDefault } from './registry.js';

export interface DestinationDeps {
  store: DuckDbActivationStore;
  seal(workspaceId: string, plaintext: string, aad: string): string;
  open(workspaceId: string, token: string, aad: string): string;
  requirePurposes(workspaceId: string, ids: readonly string[]): void;
  /** Purpose limitation: some source of the workspace collects for these purposes (throws otherwise). */
  requireSourceFor(workspaceId: string, purposes: readonly string[]): void;
  /** The segment's special-category status and purposes, undefined when it does not exist. */
  segment(workspaceId: string, id: string): { sensitive: boolean; purposes: readonly string[] } | undefined;
  now(): number;
}

export type DestinationListener = (next: Destination | null, before: Destination | null) => void | Promise<void>;

const DEFAULT_MAX_ATTEMPTS = 8;

export class Destinations {
  private readonly byId = new Map<string, Destination>();
  private readonly listeners: DestinationListener[] = [];

  constructor(private readonly deps: DestinationDeps) {}

  async load(): Promise<void> {
    for (const d of await this.deps.store.destinations()) this.byId.set(d.id, this.unseal(d));
  }

  /** Called after each change is stored; `next` null: deleted. */
  onChange(l: DestinationListener): void {
    this.listeners.push(l);
  }

  list(workspaceId?: string): Destination[] {
    return [...this.byId.values()].filter((d) => workspaceId === undefined || d.workspaceId === workspaceId);
  }

  get(workspaceId: string, id: string): Destination {
    const d = this.byId.get(id);
    if (!d || d.workspaceId !== workspaceId) throw new EnsembleError('ENSEMBLE_ERR_DESTINATION_NOT_FOUND');
    return d;
  }

  find(id: string): Destination | undefined {
    return this.byId.get(id);
  }

  manifestOf(d: Destination): DestinationManifest {
    const m = connector(d.type);
    // A stored destination whose connector was removed from this build: a programmer error.
    if (!m) throw new Error(`connector ${d.type} is not in the registry`);
    return m;
  }

  async create(workspaceId: string, input: DestinationInputT): Promise<Destination> {
    const m = connector(input.type);
    if (!m) throw new EnsembleError('ENSEMBLE_ERR_DESTINATION_TYPE_UNKNOWN', `No connector "${input.type}".`);
    const now = this.deps.now();
    const d = this.checked(m, {
      id: newId('dst'), workspaceId, type: m.id, name: input.name, config: input.config, purpose: input.purpose ?? m.purpose,
      segments: input.segments ?? [], ...(input.events ? { events: input.events } : {}),
      ratePerSecond: input.ratePerSecond ?? m.ratePerSecond ?? 10, maxAttempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      enabled: input.enabled ?? true, createdAt: now, updatedAt: now, recipient: recipientOf(m.id, input),
    });
    await this.save(d, null);
    return d;
  }

  async update(workspaceId: string, id: string, input: DestinationUpdateT): Promise<Destination> {
    const before = this.get(workspaceId, id);
    const m = this.manifestOf(before);
    // Secrets left out (or sent back masked) keep their stored values: the API never shows them.
    const config: Record<string, unknown> = { ...input.config };
    for (const s of m.secrets) if (!(s in config) || config[s] === SECRET_MASK) config[s] = before.config[s];
    const { events: _e, ...kept } = before;
    const d = this.checked(m, {
      ...kept, name: input.name, config, purpose: input.purpose ?? m.purpose, segments: input.segments ?? [],
      ...(input.events ? { events: input.events } : {}),
      ratePerSecond: input.ratePerSecond ?? m.ratePerSecond ?? 10, maxAttempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      enabled: input.enabled ?? true, updatedAt: this.deps.now(), recipient: recipientOf(m.id, input),
    });
    await this.save(d, before);
    return d;
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    const before = this.get(workspaceId, id);
    await this.deps.store.deleteDestination(workspaceId, id);
    this.byId.delete(id);
    for (const l of this.listeners) await l(null, before);
  }

  /** The API view: secrets masked. */
  view(d: Destination): Record<string, unknown> {
    const m = this.manifestOf(d);
    const config = { ...d.config };
    for (const s of m.secrets) if (config[s] !== undefined) config[s] = SECRET_MASK;
    return { ...d, config, createdAt: new Date(d.createdAt).toISOString(), updatedAt: new Date(d.updatedAt).toISOString() };
  }

  /** Segments that were removed from the workspace leave the destinations that mirrored them. */
  async segmentDeleted(workspaceId: string, segmentId: string): Promise<void> {
    for (const d of this.list(workspaceId)) {
      if (!d.segments.includes(segmentId)) continue;
      const next = { ...d, segments: d.segments.filter((s) => s !== segmentId), updatedAt: this.deps.now() };
      await this.save(next, d);
    }
  }

  private checked(m: DestinationManifest, d: Destination): Destination {
    if (!Value.Check(m.configSchema, d.config)) {
      const problems = [...Value.Errors(m.configSchema, d.config)].slice(0, 20).map((e) => ({ path: `/config${e.path}`, message: e.message }));
      throw new EnsembleError('ENSEMBLE_ERR_DESTINATION_CONFIG_INVALID', `The config of a ${m.name} destination is not valid: ${problems[0]?.path} ${problems[0]?.message}.`, { problems });
    }
    this.deps.requirePurposes(d.workspaceId, [d.purpose]);
    this.deps.requireSourceFor(d.workspaceId, [d.purpose]);
    if (d.segments.length > 0 && !m.kinds.includes('audience')) throw new EnsembleError('ENSEMBLE_ERR_DESTINATION_KIND', `${m.name} takes no audiences: leave segments out.`);
    if (d.events && !m.kinds.includes('event')) throw new EnsembleError('ENSEMBLE_ERR_DESTINATION_KIND', `${m.name} takes no events: leave events out.`);
    for (const id of d.segments) {
      const s = this.deps.segment(d.workspaceId, id);
      if (!s) throw new EnsembleError('ENSEMBLE_ERR_SEGMENT_NOT_FOUND', `No segment "${id}" in this workspace.`, { segmentId: id });
      if (s.sensitive && m.advertising) throw new EnsembleError('ENSEMBLE_ERR_SENSITIVE_DATA_ADVERTISING', `Segment "${id}" reads special-category data; ${m.name} is an advertising platform.`, { segmentId: id });
      // Purpose limitation: only a segment serving the destination's purpose reads nothing but data
      // collected for it, and holds only people the purpose may serve.
      if (!s.purposes.includes(d.purpose)) {
        throw new EnsembleError('ENSEMBLE_ERR_PURPOSE_LIMITATION', `Segment "${id}" does not serve ${d.purpose}: add "${d.purpose}" to the segment's purposes to send it to this destination.`, { segmentId: id, purpose: d.purpose, segmentPurposes: s.purposes });
      }
    }
    return d;
  }

  private async save(d: Destination, before: Destination | null): Promise<void> {
    await this.deps.store.saveDestination(this.sealed(d));
    this.byId.set(d.id, d);
    for (const l of this.listeners) await l(d, before);
  }

  private sealed(d: Destination): StoredDestination {
    const config = { ...d.config };
    for (const s of this.manifestOf(d).secrets) {
      const v = config[s];
      if (typeof v === 'string') config[s] = { sealed: this.deps.seal(d.workspaceId, v, aad(d.id, s)) };
    }
    return { ...d, config, events: d.events };
  }

  private unseal(s: StoredDestination): Destination {
    const config = { ...s.config };
    const m = connector(s.type);
    for (const k of m?.secrets ?? []) {
      const v = config[k] as { sealed?: string } | undefined;
      if (v && typeof v === 'object' && typeof v.sealed === 'string') config[k] = this.deps.open(s.workspaceId, v.sealed, aad(s.id, k));
    }
    const { events, ...rest } = s;
    return { ...rest, config, ...(events ? { events: events as Destination['events'] & object } : {}) };
  }
}

function recipientOf(connectorId: string, input: { country?: string; transferSafeguard?: string }): Destination['recipient'] {
  const d = recipientDefault(connectorId);
  if (input.country === undefined) return d;
  return { country: input.country, transferSafeguard: input.transferSafeguard ?? null };
}

function aad(destinationId: string, key: string): string {
  return `destination:${destinationId}:${key}`;
}
