/** Settings sent to the API, checked against their schema with every problem listed (up to 20), by JSON path. */
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { EnsembleError, type ErrorCode } from '../protocol/errors.js';

/**
 * @example
 *   checkValue(RetentionPolicy, body, 'ENSEMBLE_ERR_VALIDATION', 'The retention policy is not valid; see details.');
 */
export function checkValue<T extends TSchema>(schema: T, input: unknown, code: ErrorCode, message?: string): asserts input is Static<T> {
  if (Value.Check(schema, input)) return;
  const problems = [...Value.Errors(schema, input)].slice(0, 20).map((e) => ({ path: e.path, message: e.message }));
  throw new EnsembleError(code, message, problems);
}
