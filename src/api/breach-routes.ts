/**
 * Admin routes for personal data breaches (GDPR arts. 33–34) and the security events behind them:
 * record a breach, follow its 72-hour deadline, complete it, mark it notified or closed, and draft
 * the notification to the supervisory authority. None of these answers holds personal data (the
 * records hold counts and texts, the events counts), so the reader token may read them; every call
 * is in the audit log like any other.
 *
 * @example
 *   registerBreachRoutes(scope, { catalog, breaches, controller: controllerSettings, now: () => clock.now() });
 *   // GET /api/workspaces/ws_1/privacy/breaches/brc_x/notification?format=markdown
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import {
  BreachInput, BreachPatch, BreachView, SecurityEventView, breachView, securityEventView,
  type BreachInputT, type BreachPatchT, type BreachService,
} from '../privacy/breaches.js';
import { NotificationView, draftNotification, renderNotificationMarkdown } from '../privacy/breach-notification.js';
import type { ControllerSettings } from '../privacy/controller-settings.js';
import { SYSTEM_CHAIN } from '../privacy/audit-log.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const EventParams = Type.Object({ ws: Type.String({ description: 'A workspace id, or `*` for the events of the whole server (auth-failure spikes).' }) });
const BreachParams = Type.Object({ ws: Type.String(), id: Type.String() });
const ListQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) });
const NotificationQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('markdown')], { default: 'json' })) });

export interface BreachRouteDeps {
  catalog: Pick<Catalog, 'workspace'>;
  breaches: BreachService;
  controller: Pick<ControllerSettings, 'get'>;
  now: () => number;
}

export function registerBreachRoutes(app: FastifyInstance, deps: BreachRouteDeps): void {
  const { catalog, breaches, now } = deps;

  app.get<{ Params: Static<typeof EventParams>; Querystring: Static<typeof ListQuery> }>('/api/workspaces/:ws/privacy/security-events', {
    schema: {
      tags: ['privacy'], summary: 'Security events detected (auth-failure spikes, unusual export volumes), newest first: each may be a breach to assess',
      params: EventParams, querystring: ListQuery, response: { 200: Type.Object({ events: Type.Array(SecurityEventView) }), ...errors },
    },
  }, async (req) => {
    if (req.params.ws !== SYSTEM_CHAIN) catalog.workspace(req.params.ws);
    return { events: (await breaches.securityEvents(req.params.ws, req.query.limit ?? 100)).map(securityEventView) };
  });

  app.post<{ Params: Static<typeof WsParams>; Body: BreachInputT }>('/api/workspaces/:ws/privacy/breaches', {
    schema: {
      tags: ['privacy'], summary: 'Record a personal data breach: notifyBy is awareAt + 72 hours; numbers not given are estimated from the linked security events',
      params: WsParams, body: BreachInput, response: { 201: BreachView, ...errors },
    },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    return reply.code(201).send(breachView(await breaches.create(req.params.ws, req.body), now()));
  });

  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof ListQuery> }>('/api/workspaces/:ws/privacy/breaches', {
    schema: {
      tags: ['privacy'], summary: 'The workspace\'s breach records, most recent first, with hours left before the notification deadline',
      params: WsParams, querystring: ListQuery, response: { 200: Type.Object({ breaches: Type.Array(BreachView) }), ...errors },
    },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    const t = now();
    return { breaches: (await breaches.list(req.params.ws, req.query.limit ?? 100)).map((b) => breachView(b, t)) };
  });

  app.get<{ Params: Static<typeof BreachParams> }>('/api/workspaces/:ws/privacy/breaches/:id', {
    schema: { tags: ['privacy'], summary: 'One breach record: deadline, hours left, overdue, history', params: BreachParams, response: { 200: BreachView, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return breachView(await breaches.get(req.params.ws, req.params.id), now());
  });

  app.patch<{ Params: Static<typeof BreachParams>; Body: BreachPatchT }>('/api/workspaces/:ws/privacy/breaches/:id', {
    schema: {
      tags: ['privacy'], summary: 'Complete a breach record, mark it notified (notifiedAt) or close it (a breach never notified needs a note saying why)',
      params: BreachParams, body: BreachPatch, response: { 200: BreachView, ...errors },
    },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return breachView(await breaches.update(req.params.ws, req.params.id, req.body), now());
  });

  app.get<{ Params: Static<typeof BreachParams>; Querystring: Static<typeof NotificationQuery> }>('/api/workspaces/:ws/privacy/breaches/:id/notification', {
    schema: {
      tags: ['privacy'], summary: 'The draft notification to the supervisory authority (art. 33(3)) with the art. 34 assessment, as JSON or Markdown',
      params: BreachParams, querystring: NotificationQuery,
      response: {
        200: {
          description: 'The draft; `toComplete` lists what the record does not say yet',
          content: { 'application/json': { schema: NotificationView }, 'text/markdown': { schema: Type.String() } },
        },
        ...errors,
      },
    },
  }, async (req, reply) => {
    const workspace = catalog.workspace(req.params.ws);
    const breach = await breaches.get(req.params.ws, req.params.id);
    const draft = draftNotification({
      breach, workspace: { id: workspace.id, name: workspace.name }, controller: deps.controller.get(workspace),
      events: await breaches.linkedEvents(breach), now: now(),
    });
    if (req.query.format === 'markdown') {
      reply.header('content-disposition', `inline; filename="${breach.id}-notification.md"`);
      return reply.type('text/markdown; charset=utf-8').send(renderNotificationMarkdown(draft));
    }
    return reply.type('application/json; charset=utf-8').send(draft);
  });
}
