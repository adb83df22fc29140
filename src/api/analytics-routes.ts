/**
 * The analytics API under /api/workspaces/{ws}/analytics/ (console Home, Analytics and Privacy
 * pages): overview, event trends and names, funnels, campaigns, last-touch attribution and
 * consent rates. Every query is validated here (TypeBox) and every value reaches DuckDB as a
 * bound parameter (src/analytics/property-path.ts). Answers are counts and sums: no profile id
 * or identifier leaves these routes.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { overview, type OverviewDeps } from '../analytics/overview.js';
import { eventNames, eventTrend, type TrendDeps } from '../analytics/event-trend.js';
import { funnel } from '../analytics/funnel.js';
import { campaigns } from '../analytics/campaigns.js';
import { ATTRIBUTION_MODELS, attribution } from '../analytics/attribution.js';
import { consentRates } from '../analytics/consent-rates.js';
import { INTERVALS } from '../analytics/time-range.js';
import { EnsembleError } from '../protocol/errors.js';
import type { Catalog } from './catalog.js';
import { canSeePersonalData } from './admin-auth.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const Iso = Type.String({ maxLength: 40, description: 'ISO date (2026-11-01: the whole day) or date-time, UTC' });
const Range = { from: Type.Optional(Iso), to: Type.Optional(Iso) };
const Interval = Type.Union(INTERVALS.map((i) => Type.Literal(i)));
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 500 }));
const Cursor = Type.Optional(Type.String({ maxLength: 500 }));
const EventName = Type.String({ minLength: 1, maxLength: 200 });

const OverviewView = Type.Object({
  eventsPerDay: Type.Array(Type.Object({ day: Type.String(), count: Type.Integer() })),
  profiles: Type.Integer(), activeProfiles: Type.Integer(), identifiedShare: Type.Number(),
  sources: Type.Array(Type.Object({
    id: Type.String(), name: Type.String(), kind: Type.String(), lastEventAt: Type.Union([Type.String(), Type.Null()]),
    eventsToday: Type.Integer(), rejectedToday: Type.Integer(),
  })),
  processingLagMs: Type.Number(),
});
const TrendQuery = Type.Object({
  ...Range,
  event: Type.Optional(EventName),
  interval: Type.Optional(Interval),
  breakdown: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'A property path: properties.<key>, traits.<key>, context.channel, context.device, utm.campaign...' })),
  where: Type.Optional(Type.String({ maxLength: 4000, description: 'JSON filter: {"<path>": value} or {"<path>": {"gte": 10}}; ops eq ne gt gte lt lte in exists' })),
}, { additionalProperties: false });
const Points = Type.Array(Type.Object({ t: Type.String(), count: Type.Integer() }));
const TrendView = Type.Object({ series: Type.Array(Type.Object({ key: Type.String(), points: Points })) });
const NamesQuery = Type.Object({ ...Range, limit: Limit, cursor: Cursor }, { additionalProperties: false });
const NamesView = Type.Object({ names: Type.Array(Type.Object({ name: Type.String(), count: Type.Integer() })), nextCursor: Type.Union([Type.String(), Type.Null()]) });
const FunnelInput = Type.Object({
  steps: Type.Array(Type.Object({ event: EventName, where: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false }), { minItems: 2, maxItems: 10 }),
  within: Type.String({ pattern: '^\\d{1,4}[mhd]$', default: '7d', description: 'How long after step 1 the last step may happen: 30m, 12h, 7d' }),
  ...Range,
}, { additionalProperties: false });
const FunnelView = Type.Object({ steps: Type.Array(Type.Object({ event: Type.String(), count: Type.Integer(), conversion: Type.Number() })) });
const CampaignQuery = Type.Object({ ...Range, conversion: Type.Optional(EventName), limit: Limit, cursor: Cursor }, { additionalProperties: false });
const CampaignView = Type.Object({
  rows: Type.Array(Type.Object({
    channel: Type.String(), destinationId: Type.String(), journeyId: Type.Union([Type.String(), Type.Null()]),
    sent: Type.Integer(), delivered: Type.Integer(), opened: Type.Integer(), clicked: Type.Integer(), converted: Type.Integer(),
  })),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
const AttributionQuery = Type.Object({ ...Range, conversion: EventName, model: Type.Optional(Type.Union(ATTRIBUTION_MODELS.map((m) => Type.Literal(m)), { description: 'last_non_direct (default): direct visits do not replace an earlier channel; last_touch: the last touch of any channel' })), limit: Limit, cursor: Cursor }, { additionalProperties: false });
const AttributionView = Type.Object({
  rows: Type.Array(Type.Object({ channel: Type.String(), campaign: Type.Union([Type.String(), Type.Null()]), conversions: Type.Integer(), revenue: Type.Number() })),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
const ConsentQuery = Type.Object({ ...Range, interval: Type.Optional(Interval) }, { additionalProperties: false });
const ConsentView = Type.Object({
  series: Type.Array(Type.Object({
    purpose: Type.String(),
    points: Type.Array(Type.Object({ t: Type.String(), granted: Type.Integer(), denied: Type.Integer(), withdrawn: Type.Integer(), rate: Type.Union([Type.Number(), Type.Null()]) })),
  })),
});

export interface AnalyticsRouteDeps extends OverviewDeps, TrendDeps {
  catalog: Catalog;
  purposes: (workspaceId: string) => string[];
}

/**
 * A page of an aggregate's rows (a few hundred at most: one per channel and campaign): the cursor
 * is the index after the last row given, checked against the rows' count.
 */
function paged<T>(rows: T[], limit: number | undefined, cursor: string | undefined): { rows: T[]; nextCursor: string | null } {
  const n = limit ?? 100;
  const start = cursor === undefined ? 0 : Number(Buffer.from(cursor, 'base64url').toString('utf8').replace(/^r/, ''));
  if (!Number.isInteger(start) || start < 0 || start > rows.length) throw new EnsembleError('ENSEMBLE_ERR_CURSOR_INVALID');
  const end = start + n;
  return { rows: rows.slice(start, end), nextCursor: end < rows.length ? Buffer.from(`r${end}`).toString('base64url') : null };
}

export function registerAnalyticsRoutes(app: FastifyInstance, deps: AnalyticsRouteDeps): void {
  const base = '/api/workspaces/:ws/analytics';
  const tags = ['analytics'];

  app.get<{ Params: Static<typeof WsParams>; Querystring: { from?: string; to?: string } }>(`${base}/overview`, {
    schema: { tags, summary: 'Home page numbers: events per day, profiles, active profiles, identified share, sources\' health, processing lag', params: WsParams,
      querystring: Type.Object(Range, { additionalProperties: false }), response: { 200: OverviewView, ...errors } },
  }, async (req) => {
    deps.catalog.workspace(req.params.ws);
    return overview(deps, req.params.ws, req.query);
  });

  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof TrendQuery> }>(`${base}/events/trend`, {
    schema: { tags, summary: 'Event counts per hour, day or week, filtered and broken down by a property path', params: WsParams, querystring: TrendQuery, response: { 200: TrendView, ...errors } },
  }, async (req) => {
    deps.catalog.workspace(req.params.ws);
    return eventTrend(deps, req.params.ws, req.query, canSeePersonalData(req));
  });

  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof NamesQuery> }>(`${base}/events/names`, {
    schema: { tags, summary: 'Event names seen in the range with their counts, most frequent first', params: WsParams, querystring: NamesQuery, response: { 200: NamesView, ...errors } },
  }, async (req) => {
    deps.catalog.workspace(req.params.ws);
    return eventNames(deps, req.params.ws, req.query);
  });

  app.post<{ Params: Static<typeof WsParams>; Body: Static<typeof FunnelInput> }>(`${base}/funnel`, {
    schema: { tags, summary: 'An ordered funnel: people who did each step after the previous one, within a window of their first step', params: WsParams, body: FunnelInput, response: { 200: FunnelView, ...errors } },
  }, async (req) => {
    deps.catalog.workspace(req.params.ws);
    return funnel(deps, req.params.ws, req.body, canSeePersonalData(req));
  });

  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof CampaignQuery> }>(`${base}/campaigns`, {
    schema: { tags, summary: 'Messages by channel, destination and journey: sent, delivered, opened, clicked, converted', params: WsParams, querystring: CampaignQuery, response: { 200: CampaignView, ...errors } },
  }, async (req) => {
    deps.catalog.workspace(req.params.ws);
    const { rows } = await campaigns(deps, req.params.ws, req.query);
    return paged(rows, req.query.limit, req.query.cursor);
  });

  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof AttributionQuery> }>(`${base}/attribution`, {
    schema: { tags, summary: 'Conversions and revenue credited to the last (non-direct, by default) touch\'s channel and campaign', params: WsParams, querystring: AttributionQuery, response: { 200: AttributionView, ...errors } },
  }, async (req) => {
    deps.catalog.workspace(req.params.ws);
    const { rows } = await attribution(deps, req.params.ws, req.query);
    return paged(rows, req.query.limit, req.query.cursor);
  });

  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof ConsentQuery> }>(`${base}/consent-rates`, {
    schema: { tags, summary: 'Consent decisions per purpose over time (granted, denied, withdrawn) and the granted rate', params: WsParams, querystring: ConsentQuery, response: { 200: ConsentView, ...errors } },
  }, async (req) => {
    deps.catalog.workspace(req.params.ws);
    return consentRates(deps, req.params.ws, req.query);
  });
}
