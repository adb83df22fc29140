/**
 * The register of processing activities (GDPR art. 30) and the controller details it opens
 * with. The register is built on each request from the configuration in force, so it is never
 * stale; its `version` tells whether it changed since a copy was filed. Setting the controller
 * is a configuration change: the audit hook records it like the other privacy routes.
 *
 * @example
 *   registerRegisterRoutes(scope, { catalog, settings, controller, recipients: () => [], facts: () => facts, now: () => clock.now() });
 *   // GET /api/workspaces/ws_1/privacy/register?format=html
 */
import type { FastifyInstance } from 'fastify';
import { HTML_CSP } from '../platform/html.js';
import { Type, type Static } from '@sinclair/typebox';
import type { PrivacySettings } from '../privacy/privacy-settings.js';
import { ControllerInput, ControllerView, type ControllerInputT, type ControllerSettings } from '../privacy/controller-settings.js';
import { buildRegister, RegisterView, renderHtml, renderMarkdown, type Recipient, type Register, type SecurityFacts } from '../privacy/register.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const FORMATS = ['json', 'markdown', 'html'] as const;
const RegisterQuery = Type.Object({ format: Type.Optional(Type.Union(FORMATS.map((f) => Type.Literal(f)), { default: 'json' })) });

const JSON_TYPE = 'application/json; charset=utf-8';
const MARKDOWN_TYPE = 'text/markdown; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';

export interface RegisterRouteDeps {
  catalog: Catalog;
  settings: PrivacySettings;
  controller: ControllerSettings;
  /** Who receives the workspace's data (destinations, processors); empty until destinations exist. */
  recipients: (workspaceId: string) => Recipient[];
  /** The running configuration's security facts; may depend on the workspace (its personal identifier types). */
  facts: (workspaceId: string) => SecurityFacts;
  now: () => number;
}

/** The register of one workspace as of now. */
export function workspaceRegister(deps: RegisterRouteDeps, workspaceId: string): Register {
  const ws = deps.catalog.workspace(workspaceId);
  return buildRegister({
    workspace: { id: ws.id, name: ws.name },
    controller: deps.controller.get(ws),
    purposes: deps.settings.purposes(ws.id),
    sources: deps.catalog.sources.list(ws.id),
    retention: deps.settings.retention(ws.id),
    recipients: deps.recipients(ws.id),
    facts: deps.facts(ws.id),
    generatedAt: deps.now(),
  });
}

export function registerRegisterRoutes(app: FastifyInstance, deps: RegisterRouteDeps): void {
  const { catalog, controller } = deps;

  app.get<{ Params: Static<typeof WsParams>; Querystring: Static<typeof RegisterQuery> }>('/api/workspaces/:ws/privacy/register', {
    schema: {
      tags: ['privacy'],
      summary: 'The register of processing activities (GDPR art. 30), generated from the configuration: JSON, Markdown or HTML',
      params: WsParams, querystring: RegisterQuery,
      response: {
        200: {
          description: 'The register; `version` (also the ETag) changes whenever the configuration behind it changes',
          content: {
            'application/json': { schema: RegisterView },
            'text/markdown': { schema: Type.String() },
            'text/html': { schema: Type.String() },
          },
        },
        ...errors,
      },
    },
  }, async (req, reply) => {
    const register = workspaceRegister(deps, req.params.ws);
    // Weak: the body also carries generatedAt, which the version leaves out on purpose.
    reply.header('etag', `W/"${register.version}"`);
    switch (req.query.format ?? 'json') {
      case 'markdown':
        return reply.type(MARKDOWN_TYPE).send(renderMarkdown(register));
      case 'html':
        return reply.type(HTML_TYPE).header('content-security-policy', HTML_CSP).header('x-content-type-options', 'nosniff').send(renderHtml(register));
      default:
        return reply.type(JSON_TYPE).send(register);
    }
  });

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/privacy/controller', {
    schema: {
      tags: ['privacy'], summary: 'The controller, its DPO and EU representative as the register names them (defaults: the workspace name; `missing` lists what is not set)',
      params: WsParams, response: { 200: ControllerView, ...errors },
    },
  }, async (req) => controller.get(catalog.workspace(req.params.ws)));

  app.put<{ Params: Static<typeof WsParams>; Body: ControllerInputT }>('/api/workspaces/:ws/privacy/controller', {
    schema: {
      tags: ['privacy'], summary: 'Set the controller details the register opens with (the whole record: fields left out are cleared)',
      params: WsParams, body: ControllerInput, response: { 200: ControllerView, ...errors },
    },
  }, async (req) => controller.set(catalog.workspace(req.params.ws), req.body));
}
