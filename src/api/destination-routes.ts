/**
 * Admin routes of activation: the connector catalogue (schemas a UI builds forms from),
 * destinations (config validated by the connector's schema, secrets write-only), a test
 * delivery, delivery stats, dead letters with replay, and real-time triggers.
 *
 * @example
 *   POST /api/workspaces/ws_1/destinations { "type": "webhook", "name": "CRM", "config": {...}, "segments": ["seg_vip"] }
 *   POST /api/workspaces/ws_1/destinations/dst_x/dead-letters { "keys": ["dst_x:c:42"] }   // replay
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import {
  DeadLetterReplay, DeadLetterView, DestinationInput, DestinationStatsView, DestinationUpdate, DestinationView, TriggerInput, TriggerView,
  type DestinationInputT, type DestinationUpdateT, type Trigger, type TriggerInputT,
} from '../protocol/activation.js';
import type { DeliveryItem, DeliveryOutcome } from '../protocol/destination.js';
import { CONNECTORS } from '../activate/registry.js';
import type { ActivationWiring } from '../main/activation.js';
import type { DeliveryRow } from '../storage/duckdb/activation-store.js';
import { PersonalizationInput, type PersonalizationSettings } from '../activate/personalization.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const IdParams = Type.Object({ ws: Type.String(), id: Type.String() });
const Limit = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })) });

export interface DestinationRouteDeps {
  catalog: Pick<Catalog, 'workspace'>;
  activation: ActivationWiring;
  personalization: PersonalizationSettings;
  now: () => number;
}

export function registerDestinationRoutes(app: FastifyInstance, deps: DestinationRouteDeps): void {
  const { catalog, activation } = deps;
  const { destinations, store, dispatcher, triggers } = activation;

  app.get('/api/destination-types', {
    schema: { tags: ['activation'], summary: 'Connectors, with the config schema of each (secrets listed: write-only)', response: { 200: Type.Object({ types: Type.Array(Type.Unknown()) }) } },
  }, async () => ({
    types: [...CONNECTORS.values()].map((m) => ({
      id: m.id, name: m.name, description: m.description, kinds: m.kinds, purpose: m.purpose, advertising: m.advertising,
      identifiers: m.identifiers, batchSize: m.batchSize, ratePerSecond: m.ratePerSecond ?? 10, secrets: m.secrets, configSchema: m.configSchema,
    })),
  }));

  app.post<{ Params: Static<typeof WsParams>; Body: DestinationInputT }>('/api/workspaces/:ws/destinations', {
    schema: { tags: ['activation'], summary: 'Connect a destination; its segments are backfilled at once', params: WsParams, body: DestinationInput, response: { 201: DestinationView, ...errors } },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    return reply.code(201).send(destinations.view(await destinations.create(req.params.ws, req.body)));
  });

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/destinations', {
    schema: { tags: ['activation'], summary: 'Destinations of the workspace (secrets masked)', params: WsParams, response: { 200: Type.Object({ destinations: Type.Array(DestinationView) }), ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return { destinations: destinations.list(req.params.ws).map((d) => destinations.view(d)) };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/destinations/:id', {
    schema: { tags: ['activation'], summary: 'One destination (secrets masked)', params: IdParams, response: { 200: DestinationView, ...errors } },
  }, async (req) => destinations.view(destinations.get(req.params.ws, req.params.id)));

  app.put<{ Params: Static<typeof IdParams>; Body: DestinationUpdateT }>('/api/workspaces/:ws/destinations/:id', {
    schema: {
      tags: ['activation'], summary: 'Replace a destination\'s settings: secrets left out (or masked) are kept; new segments are backfilled, removed ones emptied',
      params: IdParams, body: DestinationUpdate, response: { 200: DestinationView, ...errors },
    },
  }, async (req) => destinations.view(await destinations.update(req.params.ws, req.params.id, req.body)));

  app.delete<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/destinations/:id', {
    schema: { tags: ['activation'], summary: 'Delete a destination and its queue (the platform audiences stay as they are: disconnect segments first to empty them)', params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (req, reply) => {
    await destinations.delete(req.params.ws, req.params.id);
    return reply.code(204).send();
  });

  app.post<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/destinations/:id/test', {
    schema: {
      tags: ['activation'], summary: 'A test delivery: one synthetic item (no real person) sent now through the connector; answers its outcome',
      params: IdParams, response: { 200: Type.Object({ outcome: Type.Unknown() }), ...errors },
    },
  }, async (req) => {
    const d = destinations.get(req.params.ws, req.params.id);
    const outcome = await testDelivery(activation, d.id, deps.now());
    return { outcome };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/destinations/:id/stats', {
    schema: { tags: ['activation'], summary: 'Delivered, retried, dropped by reason, dead, pending; latency; audience sizes', params: IdParams, response: { 200: DestinationStatsView, ...errors } },
  }, async (req) => {
    const d = destinations.get(req.params.ws, req.params.id);
    const s = await store.stats(d.id);
    const sum = (outcome: string) => s.counts.filter((c) => c.outcome === outcome).reduce((n, c) => n + c.count, 0);
    const dropped: Record<string, number> = {};
    for (const c of s.counts) if (c.outcome === 'dropped') dropped[c.reason] = c.count;
    const lat = [...dispatcher.latencies(d.id)].sort((a, b) => a - b);
    const q = (p: number) => (lat.length === 0 ? null : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!);
    return { delivered: sum('delivered'), retried: sum('retried'), dead: s.dead, pending: s.pending, dropped, latencyMs: { p50: q(0.5), p99: q(0.99) }, audience: s.audience };
  });

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof Limit> }>('/api/workspaces/:ws/destinations/:id/dead-letters', {
    schema: { tags: ['activation'], summary: 'Deliveries that failed for good, with their last error', params: IdParams, querystring: Limit, response: { 200: Type.Object({ deadLetters: Type.Array(DeadLetterView) }), ...errors } },
  }, async (req) => {
    const d = destinations.get(req.params.ws, req.params.id);
    return { deadLetters: (await store.deadLetters(d.id, req.query.limit ?? 100)).map(deadLetterView) };
  });

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof DeadLetterReplay> }>('/api/workspaces/:ws/destinations/:id/dead-letters', {
    schema: { tags: ['activation'], summary: 'Replay dead letters (all, or those named): queued again now with their attempts reset', params: IdParams, body: DeadLetterReplay, response: { 200: Type.Object({ replayed: Type.Integer() }), ...errors } },
  }, async (req) => {
    const d = destinations.get(req.params.ws, req.params.id);
    const replayed = await store.replay(d.id, req.body.keys ?? null, deps.now());
    dispatcher.wake(d.id);
    return { replayed };
  });

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/personalization', {
    schema: { tags: ['activation'], summary: 'What GET /v1/personalize exposes to browsers: which traits', params: WsParams, response: { 200: PersonalizationInput, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return deps.personalization.get(req.params.ws);
  });

  app.put<{ Params: Static<typeof WsParams>; Body: Static<typeof PersonalizationInput> }>('/api/workspaces/:ws/personalization', {
    schema: { tags: ['activation'], summary: 'Choose the traits GET /v1/personalize exposes (never personal identifiers)', params: WsParams, body: PersonalizationInput, response: { 200: PersonalizationInput, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return deps.personalization.set(req.params.ws, req.body);
  });

  app.post<{ Params: Static<typeof WsParams>; Body: TriggerInputT }>('/api/workspaces/:ws/triggers', {
    schema: { tags: ['activation'], summary: 'A real-time trigger: when an event happens or a profile enters/exits a segment, do something on a destination', params: WsParams, body: TriggerInput, response: { 201: TriggerView, ...errors } },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    return reply.code(201).send(triggerView(await triggers.create(req.params.ws, req.body)));
  });

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/triggers', {
    schema: { tags: ['activation'], summary: 'Triggers of the workspace', params: WsParams, response: { 200: Type.Object({ triggers: Type.Array(TriggerView) }), ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return { triggers: triggers.list(req.params.ws).map(triggerView) };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/triggers/:id', {
    schema: { tags: ['activation'], summary: 'One trigger', params: IdParams, response: { 200: TriggerView, ...errors } },
  }, async (req) => triggerView(triggers.get(req.params.ws, req.params.id)));

  app.put<{ Params: Static<typeof IdParams>; Body: TriggerInputT }>('/api/workspaces/:ws/triggers/:id', {
    schema: { tags: ['activation'], summary: 'Replace a trigger', params: IdParams, body: TriggerInput, response: { 200: TriggerView, ...errors } },
  }, async (req) => triggerView(await triggers.update(req.params.ws, req.params.id, req.body)));

  app.delete<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/triggers/:id', {
    schema: { tags: ['activation'], summary: 'Delete a trigger', params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (req, reply) => {
    await triggers.delete(req.params.ws, req.params.id);
    return reply.code(204).send();
  });
}

function triggerView(t: Trigger): Static<typeof TriggerView> {
  return { id: t.id, workspaceId: t.workspaceId, name: t.name, when: t.when, then: t.then, enabled: t.enabled, createdAt: new Date(t.createdAt).toISOString() };
}

function deadLetterView(r: DeliveryRow): Static<typeof DeadLetterView> {
  return {
    key: r.key, kind: r.kind, ...(r.action ? { action: r.action } : {}), profileId: r.profileId, ...(r.segmentId ? { segmentId: r.segmentId } : {}),
    attempts: r.attempts, error: r.error ?? '', createdAt: new Date(r.createdAt).toISOString(), failedAt: new Date(r.failedAt ?? r.createdAt).toISOString(),
  };
}

/**
 * A synthetic item of the connector's first kind, for a person that does not exist (identifiers
 * of the reserved example domain), sent directly: it never enters the queue or the stats.
 */
async function testDelivery(activation: ActivationWiring, destinationId: string, now: number): Promise<DeliveryOutcome> {
  const d = activation.destinations.find(destinationId)!;
  const m = activation.destinations.manifestOf(d);
  const identifiers = m.identify({ email: ['ensemble-test@example.com'], phone: ['+33600000000'], user_id: ['ensemble-test'] }, d.config);
  const base = { key: `${d.id}:test:${now}`, profileId: 'prf_test', identifiers };
  const kind = m.kinds[0]!;
  const item: DeliveryItem = kind === 'audience'
    ? { ...base, kind, action: 'add', audience: { segmentId: d.segments[0] ?? 'seg_test', name: 'Ensemble test audience' } }
    : kind === 'event'
      ? { ...base, kind, event: { type: 'track', event: 'Ensemble Test', messageId: base.key, timestamp: new Date(now).toISOString(), properties: {} } }
      : { ...base, kind, content: { subject: 'Ensemble test message', text: 'This is a test message from Ensemble.', body: 'Ensemble test message', title: 'Ensemble test' }, traits: {}, links: activation.messages.testLinks(d) };
  const [outcome] = await activation.dispatcher.sendNow(d, [item]);
  return outcome ?? { kind: 'retry', reason: 'connector_missing_outcome' };
}
