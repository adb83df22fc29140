/**
 * VAPID (RFC 8292): the application server proves who it is to a push service with an ES256 JWT
 * whose `aud` is the push service's origin, `exp` at most 24 hours ahead and `sub` a contact
 * (mailto: or https:), sent as `Authorization: vapid t=<jwt>, k=<public key>`. Keys are the
 * usual base64url encodings: the public key a 65-byte uncompressed P-256 point, the private key
 * its 32-byte scalar (what `web-push generate-vapid-keys` and most tools print).
 */
import { SignJWT, importJWK, type CryptoKey } from 'jose';

/** Twelve hours: well under RFC 8292's 24-hour ceiling, so clock skew never makes it too long. */
export const VAPID_LIFETIME_S = 12 * 3600;

export interface VapidKeys { publicKey: string; privateKey: string }

function b64url(value: string): Buffer {
  return Buffer.from(value.replace(/=+$/, ''), 'base64url');
}

/** The signing key from the configured pair; throws (caught by the caller) if they are malformed. */
export async function vapidSigningKey(keys: VapidKeys): Promise<CryptoKey> {
  const pub = b64url(keys.publicKey);
  const d = b64url(keys.privateKey);
  if (pub.length !== 65 || pub[0] !== 0x04 || d.length !== 32) throw new Error('vapid keys are not a P-256 pair');
  const jwk = {
    kty: 'EC', crv: 'P-256',
    x: pub.subarray(1, 33).toString('base64url'),
    y: pub.subarray(33, 65).toString('base64url'),
    d: d.toString('base64url'),
  };
  const key = await importJWK(jwk, 'ES256');
  if (key instanceof Uint8Array) throw new Error('vapid key is not asymmetric');
  return key;
}

/** The Authorization header value for one push service origin. */
export async function vapidAuthorization(key: CryptoKey, publicKey: string, origin: string, subject: string, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const jwt = await new SignJWT({ sub: subject })
    .setProtectedHeader({ typ: 'JWT', alg: 'ES256' })
    .setAudience(origin)
    .setExpirationTime(iat + VAPID_LIFETIME_S)
    .sign(key);
  return `vapid t=${jwt}, k=${b64url(publicKey).toString('base64url')}`;
}
