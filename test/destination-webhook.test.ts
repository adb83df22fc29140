/**
 * The webhook connector: the destination contract against a local receiver that verifies the
 * signature and the batch format.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { destinationContract } from './contract/destination.contract.js';
import { manifest } from '../src/activate/webhook/index.js';
import type { RecordedRequest } from './helpers/platform-server.js';

const SECRET = 'whsec-contract-0123456789';

function validate(req: RecordedRequest): string | null {
  if (req.method !== 'POST') return 'method must be POST';
  if (req.headers['content-type'] !== 'application/json') return 'content-type must be application/json';
  const sig = String(req.headers['x-ensemble-signature'] ?? '');
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
  if (!m) return 'X-Ensemble-Signature missing or malformed';
  const expected = createHmac('sha256', SECRET).update(`${m[1]}.${req.body}`).digest();
  if (!timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'))) return 'signature does not match the body';
  if (Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return 'timestamp too old';
  let body: any;
  try { body = JSON.parse(req.body); } catch { return 'body is not JSON'; }
  if (!Array.isArray(body.batch) || body.batch.length === 0) return 'batch must be a non-empty array';
  for (const i of body.batch) {
    if (typeof i.id !== 'string' || typeof i.profileId !== 'string') return 'every item has id and profileId';
    if (i.type === 'audience' && !['add', 'remove'].includes(i.action)) return 'audience items have an action';
    if (i.type === 'event' && typeof i.event !== 'object') return 'event items carry the event';
    for (const h of [...(i.identifiers.email_sha256 ?? []), ...(i.identifiers.phone_sha256 ?? [])]) if (!/^[0-9a-f]{64}$/.test(h)) return 'hashed identifiers are SHA-256 hex';
  }
  return null;
}

destinationContract({
  manifest,
  config: (base) => ({ url: `${base}/hooks/ensemble`, secret: SECRET }),
  items: () => [
    { kind: 'audience', key: 'dst_1:c:1', profileId: 'prf_a', action: 'add', audience: { segmentId: 'seg_1', name: 'Buyers' },
      identifiers: manifest.identify({ email: ['Ana@Example.com'], user_id: ['u-1'] }, { url: '', secret: '' }) },
    { kind: 'audience', key: 'dst_1:c:2', profileId: 'prf_b', action: 'remove', audience: { segmentId: 'seg_1', name: 'Buyers' },
      identifiers: manifest.identify({ phone: ['+33612345678'] }, { url: '', secret: '' }) },
    { kind: 'event', key: 'dst_1:e:9', profileId: 'prf_a', event: { type: 'track', event: 'Order Completed', properties: { revenue: 42 } }, identifiers: {} },
  ],
  validate,
  idempotency: (req) => (JSON.parse(req.body).batch as Array<{ id: string }>).map((i) => i.id),
});
