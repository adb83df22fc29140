/**
 * Geofences: named circles (a store, a stadium, an airport) per workspace. A located event that
 * brings a person inside or outside one produces `Geofence Entered` / `Geofence Exited` (geo/
 * geofence-tracker.ts), which segments, triggers and journeys read like any track event.
 */
import { Type, type Static } from '@sinclair/typebox';

export const GEOFENCE_ENTERED = 'Geofence Entered';
export const GEOFENCE_EXITED = 'Geofence Exited';

export const GeofenceInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  latitude: Type.Number({ minimum: -90, maximum: 90 }),
  longitude: Type.Number({ minimum: -180, maximum: 180 }),
  radiusMeters: Type.Number({ minimum: 10, maximum: 100_000, description: 'Below ~10 m a phone cannot tell inside from outside.' }),
  properties: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Union([Type.String({ maxLength: 500 }), Type.Number(), Type.Boolean()]), {
    description: 'Copied into the properties of its Entered/Exited events (e.g. a store id), beside geofenceId and geofenceName.',
  })),
}, { additionalProperties: false });
export type GeofenceInput = Static<typeof GeofenceInput>;

export const GeofenceView = Type.Object({
  id: Type.String(),
  workspaceId: Type.String(),
  ...GeofenceInput.properties,
  properties: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export interface Geofence {
  id: string;
  workspaceId: string;
  name: string;
  latitude: number;
  longitude: number;
  radiusMeters: number;
  properties: Record<string, string | number | boolean>;
  createdAt: number;
  updatedAt: number;
}
