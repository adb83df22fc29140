/**
 * One error shape for every API: `{ error: { code, message, details } }` with a catalogue code.
 * Internals (stack traces, SQL, file paths) never reach a response; unexpected errors are logged
 * with their name and message only and answered as ENSEMBLE_ERR_INTERNAL.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { EnsembleError } from '../protocol/errors.js';

export const ErrorResponse = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }),
});

function toEnsembleError(err: FastifyError): EnsembleError | null {
  if (err instanceof EnsembleError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new EnsembleError('ENSEMBLE_ERR_BODY_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return new EnsembleError('ENSEMBLE_ERR_BODY_INVALID_JSON');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new EnsembleError('ENSEMBLE_ERR_VALIDATION', 'Send the body as application/json.');
    default: break;
  }
  if (err instanceof SyntaxError || err.statusCode === 400) return new EnsembleError('ENSEMBLE_ERR_BODY_INVALID_JSON');
  return null;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const known = toEnsembleError(err);
    if (known) {
      if (known.code === 'ENSEMBLE_ERR_OVERLOADED') reply.header('retry-after', '1');
      if (known.code === 'ENSEMBLE_ERR_SHUTTING_DOWN' || known.code === 'ENSEMBLE_ERR_STORE_UNAVAILABLE') reply.header('retry-after', '5');
      return reply.code(known.status).send(known.toBody());
    }
    req.log.error({ err: { name: err.name, message: err.message, code: err.code }, route: req.routeOptions.url }, 'unhandled error');
    const internal = new EnsembleError('ENSEMBLE_ERR_INTERNAL');
    return reply.code(500).send(internal.toBody());
  });
  app.setNotFoundHandler((_req, reply) => {
    const err = new EnsembleError('ENSEMBLE_ERR_NOT_FOUND');
    return reply.code(404).send(err.toBody());
  });
}
