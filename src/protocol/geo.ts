/**
 * Where an event says a person is, and how far apart two places are. One definition for every
 * reader (segment engine, segment SQL, geofences), so "inside 500 m" means the same everywhere.
 *
 * A location is Segment's `context.location` with a finite `latitude` in [-90, 90] and a finite
 * `longitude` in [-180, 180]; anything else is no location (a device sending 0/0 by mistake still
 * counts: it is a valid point). Distances are great-circle (haversine) on a sphere of the mean
 * Earth radius: at most ~0.5 % off the ellipsoid, far below a phone's GPS error indoors.
 *
 * @example
 *   const here = locationOf({ location: { latitude: 48.8566, longitude: 2.3522 } });
 *   distanceKm(here!, { latitude: 48.8584, longitude: 2.2945 });  // ≈ 4.2
 */
export interface GeoPoint {
  latitude: number;
  longitude: number;
}

/** IUGG mean Earth radius, km. */
export const EARTH_RADIUS_KM = 6371.0088;

export function isLatitude(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= -90 && v <= 90;
}

export function isLongitude(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= -180 && v <= 180;
}

/** The location an event's context carries, or null. */
export function locationOf(context: unknown): GeoPoint | null {
  if (typeof context !== 'object' || context === null) return null;
  const loc = (context as { location?: unknown }).location;
  if (typeof loc !== 'object' || loc === null) return null;
  const { latitude, longitude } = loc as { latitude?: unknown; longitude?: unknown };
  return isLatitude(latitude) && isLongitude(longitude) ? { latitude, longitude } : null;
}

const RAD = Math.PI / 180;

/** Great-circle distance in km (the SQL dialects state the same formula). */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const sLat = Math.sin((b.latitude - a.latitude) * RAD / 2);
  const sLon = Math.sin((b.longitude - a.longitude) * RAD / 2);
  const h = sLat * sLat + Math.cos(a.latitude * RAD) * Math.cos(b.latitude * RAD) * sLon * sLon;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(Math.min(1, h)));
}
