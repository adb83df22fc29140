/**
 * Event forwarding rules of a destination: which processed events go (type, name, property
 * filters — the filter language of segments) and how each is reshaped (output field → dotted
 * path into the event). Reading a path walks plain objects only, as everywhere else.
 *
 * @example
 *   const f = compileForwarding({ names: ['Order Completed'], mapping: { total: 'properties.revenue', at: 'timestamp' } });
 *   f.matches(event) && f.map(event)   // → { total: 42, at: '2026-12-03T12:00:00.000Z' }
 */
import type { EventForwardingT } from '../protocol/activation.js';
import { compileMatcher, readPath, segmentsOf } from '../profiles/computed-trait-match.js';

export interface ForwardedEvent {
  type: string;
  event: string | null;
  name: string | null;
  messageId: string;
  timestamp: string;
  properties: Record<string, unknown>;
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
}

export interface Forwarding {
  matches(e: ForwardedEvent): boolean;
  map(e: ForwardedEvent): Record<string, unknown>;
}

export function compileForwarding(f: EventForwardingT): Forwarding {
  const types = f.types && f.types.length > 0 ? new Set<string>(f.types) : null;
  const names = f.names && f.names.length > 0 ? new Set(f.names) : null;
  const filtered = f.filters && f.filters.length > 0 ? compileMatcher({ event: '$any', filters: f.filters }) : null;
  const mapping = f.mapping ? Object.entries(f.mapping).map(([out, path]) => [out, segmentsOf(path)] as const) : null;
  return {
    matches: (e) => (types === null || types.has(e.type))
      && (names === null || (e.type === 'track' && e.event !== null && names.has(e.event)))
      && (filtered === null || filtered(e)),
    map: (e) => {
      if (mapping === null) return { ...e };
      const out: Record<string, unknown> = {};
      for (const [field, path] of mapping) {
        const v = readPath(e as unknown as Record<string, unknown>, path);
        if (v !== undefined) out[field] = v;
      }
      return out;
    },
  };
}
