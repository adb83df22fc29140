/** Admin routes for workspaces and sources. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import {
  RotateKeyInput, SourceInput, SourcePatch, SourceView, WorkspaceInput, WorkspaceView,
  type Source, type SourceInputT, type SourcePatchT, type Workspace, type WorkspaceInputT,
} from '../protocol/workspace.js';
import { ErrorResponse } from './error-handler.js';
import type { Catalog } from './catalog.js';

const WsParams = Type.Object({ ws: Type.String() });
const SourceParams = Type.Object({ ws: Type.String(), sourceId: Type.String() });
const errors = { 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse };

export function workspaceView(ws: Workspace): Static<typeof WorkspaceView> {
  return { id: ws.id, name: ws.name, createdAt: new Date(ws.createdAt).toISOString() };
}

export function sourceView(s: Source): Static<typeof SourceView> {
  return {
    id: s.id, workspaceId: s.workspaceId, name: s.name, kind: s.kind, writeKey: s.writeKey,
    previousKeyExpiresAt: s.previousKeyExpiresAt === null ? null : new Date(s.previousKeyExpiresAt).toISOString(),
    createdAt: new Date(s.createdAt).toISOString(),
    purposes: s.purposes, dataCategories: s.dataCategories, consentMode: s.consentMode,
  };
}

export function registerWorkspaceRoutes(app: FastifyInstance, catalog: Catalog): void {
  app.post<{ Body: WorkspaceInputT }>('/api/workspaces', {
    schema: { tags: ['workspaces'], summary: 'Create a workspace', body: WorkspaceInput, response: { 201: WorkspaceView, ...errors } },
  }, async (req, reply) => reply.code(201).send(workspaceView(await catalog.createWorkspace(req.body.name))));

  app.get('/api/workspaces', {
    schema: { tags: ['workspaces'], summary: 'List workspaces', response: { 200: Type.Object({ workspaces: Type.Array(WorkspaceView) }), ...errors } },
  }, async () => ({ workspaces: catalog.listWorkspaces().map(workspaceView) }));

  app.post<{ Params: Static<typeof WsParams>; Body: SourceInputT }>('/api/workspaces/:ws/sources', {
    schema: { tags: ['sources'], summary: 'Create a source and its write key', params: WsParams, body: SourceInput, response: { 201: SourceView, ...errors } },
  }, async (req, reply) => reply.code(201).send(sourceView(await catalog.createSource(req.params.ws, req.body))));

  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/sources', {
    schema: { tags: ['sources'], summary: 'List sources', params: WsParams, response: { 200: Type.Object({ sources: Type.Array(SourceView) }), ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return { sources: catalog.sources.list(req.params.ws).map(sourceView) };
  });

  app.patch<{ Params: Static<typeof SourceParams>; Body: SourcePatchT }>('/api/workspaces/:ws/sources/:sourceId', {
    schema: {
      tags: ['sources'], summary: 'Change a source\'s name, purposes, data categories or consent mode (strict: no profile data without analytics consent)',
      params: SourceParams, body: SourcePatch, response: { 200: SourceView, ...errors },
    },
  }, async (req) => sourceView(await catalog.updateSource(req.params.ws, req.params.sourceId, req.body)));

  app.post<{ Params: Static<typeof SourceParams>; Body: Static<typeof RotateKeyInput> | undefined }>('/api/workspaces/:ws/sources/:sourceId/rotate-key', {
    schema: {
      tags: ['sources'], summary: 'Rotate a source\'s write key (the old key may keep working for graceSeconds)',
      params: SourceParams, body: Type.Optional(RotateKeyInput), response: { 200: SourceView, ...errors },
    },
  }, async (req) => sourceView(await catalog.rotateKey(req.params.ws, req.params.sourceId, req.body?.graceSeconds ?? 0)));
}
