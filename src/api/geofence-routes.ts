/**
 * Admin routes of geofences: named circles whose crossings produce `Geofence Entered` /
 * `Geofence Exited` events for located people.
 *
 * @example
 *   POST /api/workspaces/ws_1/geofences { "name": "Louvre store", "latitude": 48.8606, "longitude": 2.3376, "radiusMeters": 150, "properties": { "storeId": "FR-75-001" } }
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { GeofenceInput, GeofenceView, type Geofence } from '../protocol/geofence.js';
import type { Geofences } from '../geo/geofences.js';
import type { Catalog } from './catalog.js';
import { ErrorResponse } from './error-handler.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const WsParams = Type.Object({ ws: Type.String() });
const IdParams = Type.Object({ ws: Type.String(), id: Type.String() });

function view(g: Geofence): Static<typeof GeofenceView> {
  return { ...g, createdAt: new Date(g.createdAt).toISOString(), updatedAt: new Date(g.updatedAt).toISOString() };
}

export function registerGeofenceRoutes(app: FastifyInstance, deps: { catalog: Pick<Catalog, 'workspace'>; fences: Geofences }): void {
  const { catalog, fences } = deps;
  app.get<{ Params: Static<typeof WsParams> }>('/api/workspaces/:ws/geofences', {
    schema: { tags: ['geo'], summary: 'The workspace\'s geofences', params: WsParams, response: { 200: Type.Array(GeofenceView), ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return fences.list(req.params.ws).map(view);
  });

  app.post<{ Params: Static<typeof WsParams>; Body: GeofenceInput }>('/api/workspaces/:ws/geofences', {
    schema: { tags: ['geo'], summary: 'Create a geofence: located people crossing it produce Geofence Entered / Exited events', params: WsParams, body: GeofenceInput, response: { 201: GeofenceView, ...errors } },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    return reply.code(201).send(view(await fences.create(req.params.ws, req.body)));
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/geofences/:id', {
    schema: { tags: ['geo'], summary: 'One geofence', params: IdParams, response: { 200: GeofenceView, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return view(fences.get(req.params.ws, req.params.id));
  });

  app.put<{ Params: Static<typeof IdParams>; Body: GeofenceInput }>('/api/workspaces/:ws/geofences/:id', {
    schema: { tags: ['geo'], summary: 'Replace a geofence (people are tested against the new circle from their next location)', params: IdParams, body: GeofenceInput, response: { 200: GeofenceView, ...errors } },
  }, async (req) => {
    catalog.workspace(req.params.ws);
    return view(await fences.update(req.params.ws, req.params.id, req.body));
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/api/workspaces/:ws/geofences/:id', {
    schema: { tags: ['geo'], summary: 'Delete a geofence (no Exited events follow for it)', params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (req, reply) => {
    catalog.workspace(req.params.ws);
    await fences.delete(req.params.ws, req.params.id);
    return reply.code(204).send();
  });
}
