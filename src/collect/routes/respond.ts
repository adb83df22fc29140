/** What every ingest route does first (authenticate) and last (answer). */
import type { FastifyReply } from 'fastify';
import { EnsembleError } from '../../protocol/errors.js';
import type { Source } from '../../protocol/workspace.js';
import type { IngestResult } from '../collector.js';
import type { SourceRegistry } from '../source-registry.js';

/** Resolves the source for a write key, or throws 401. */
export function authenticate(sources: SourceRegistry, key: string | null, now: number): Source {
  if (!key) throw new EnsembleError('ENSEMBLE_ERR_WRITE_KEY_MISSING');
  const source = sources.byWriteKey(key, now);
  if (!source) throw new EnsembleError('ENSEMBLE_ERR_WRITE_KEY_INVALID');
  return source;
}

/** Sends the ingest result: 200 unless nothing at all was accepted. */
export function sendResult(reply: FastifyReply, result: IngestResult, single: boolean): FastifyReply {
  if (result.accepted === 0 && result.duplicates === 0 && result.rejected.length > 0) {
    const first = result.rejected[0];
    const err = single && first
      ? new EnsembleError(first.code, first.message, { rejected: result.rejected })
      : new EnsembleError('ENSEMBLE_ERR_BATCH_REJECTED', undefined, { rejected: result.rejected });
    return reply.code(err.status).send(err.toBody());
  }
  return reply.code(200).send({ success: true, ...result });
}

