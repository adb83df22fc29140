/**
 * Request bodies as real SDKs send them: JSON whatever the Content-Type says (analytics.js posts
 * `text/plain` to avoid CORS preflights), gzip whenever Content-Encoding says so, and the write
 * key in the Basic-auth username, an `X-Write-Key` header, or `writeKey` in the body (read by
 * `prepare.ts`).
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { EnsembleError } from '../../protocol/errors.js';

const gunzipAsync = promisify(gunzip);

/**
 * Decodes and parses a body; the limit applies to the decompressed size too (gzip bombs). The
 * text comes back with the value: collection copies untouched parts of events from it.
 */
export async function parseBody(raw: Buffer | undefined, contentEncoding: string | undefined, maxBytes: number): Promise<{ value: unknown; text: string }> {
  let buf = raw ?? Buffer.alloc(0);
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    try {
      buf = await gunzipAsync(buf, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new EnsembleError('ENSEMBLE_ERR_BODY_TOO_LARGE', `The decompressed body is larger than ${maxBytes} bytes.`);
      throw new EnsembleError('ENSEMBLE_ERR_BODY_ENCODING', 'The body is not valid gzip.');
    }
  } else if (encoding !== '' && encoding !== 'identity') {
    throw new EnsembleError('ENSEMBLE_ERR_BODY_ENCODING', `Unsupported Content-Encoding "${encoding}"; use gzip or none.`);
  }
  if (buf.length > maxBytes) throw new EnsembleError('ENSEMBLE_ERR_BODY_TOO_LARGE', `The body is larger than ${maxBytes} bytes.`);
  const text = buf.toString('utf8');
  try {
    return { value: JSON.parse(text) as unknown, text };
  } catch {
    throw new EnsembleError('ENSEMBLE_ERR_BODY_INVALID_JSON');
  }
}

/** The write key from the Basic-auth username or an `X-Write-Key` header, or null (it may be in the body). */
export function writeKeyFromHeaders(headers: Record<string, string | string[] | undefined>): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.slice(0, 6).toLowerCase() === 'basic ') {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
    if (user) return user;
  }
  const header = headers['x-write-key'];
  return typeof header === 'string' && header ? header : null;
}
