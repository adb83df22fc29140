/**
 * PushSubscriptions as browsers hand them out (`PushSubscription.toJSON()`): an endpoint URL on
 * the browser's push service and the keys of RFC 8291 message encryption. Parsing is strict,
 * because the endpoint is where the connector will POST: only https endpoints are accepted,
 * except loopback http when an instance explicitly allows it (local tests).
 */

export interface PushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

const B64URL = /^[A-Za-z0-9_-]+={0,2}$/;

function bytesOf(b64url: string): Buffer | null {
  if (!B64URL.test(b64url)) return null;
  return Buffer.from(b64url.replace(/=+$/, ''), 'base64url');
}

function endpointAllowed(endpoint: string, allowInsecure: boolean): boolean {
  let u: URL;
  try { u = new URL(endpoint); } catch { return false; }
  if (u.username !== '' || u.password !== '') return false;
  if (u.protocol === 'https:') return true;
  return allowInsecure && u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === 'localhost');
}

/** The subscription in a JSON string, or null when it is not a usable one. */
export function parseSubscription(json: string, allowInsecure: boolean): PushSubscription | null {
  let v: unknown;
  try { v = JSON.parse(json); } catch { return null; }
  if (typeof v !== 'object' || v === null) return null;
  const { endpoint, keys } = v as { endpoint?: unknown; keys?: unknown };
  if (typeof endpoint !== 'string' || endpoint.length > 2048 || !endpointAllowed(endpoint, allowInsecure)) return null;
  if (typeof keys !== 'object' || keys === null) return null;
  const { p256dh, auth } = keys as { p256dh?: unknown; auth?: unknown };
  if (typeof p256dh !== 'string' || typeof auth !== 'string') return null;
  const pub = bytesOf(p256dh);
  const secret = bytesOf(auth);
  // RFC 8291 §3: an uncompressed P-256 point (65 bytes, 0x04 first) and a 16-byte auth secret.
  if (pub === null || pub.length !== 65 || pub[0] !== 0x04) return null;
  if (secret === null || secret.length !== 16) return null;
  return { endpoint, keys: { p256dh: pub.toString('base64url'), auth: secret.toString('base64url') } };
}
