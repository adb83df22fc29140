/**
 * Request validation with TypeBox, the one schema library (the same schemas generate the OpenAPI
 * document). Query strings and path parameters arrive as text, so they are converted to the
 * schema's types first; JSON bodies are checked as sent: `{"name": 42}` is an error, not "42".
 */
import type { FastifyInstance } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { EnsembleError } from '../protocol/errors.js';

export function useTypeBoxValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const typed = schema as TSchema;
    const check = TypeCompiler.Compile(typed);
    const convert = httpPart !== 'body';
    return (data: unknown) => {
      const value = Value.Default(typed, convert ? Value.Convert(typed, data) : data);
      if (check.Check(value)) return { value };
      const errors = [...check.Errors(value)].slice(0, 10).map((e) => ({ path: e.path, message: e.message }));
      const first = errors[0];
      return { error: new EnsembleError('ENSEMBLE_ERR_VALIDATION', `${httpPart ?? 'request'}${first?.path ? ` ${first.path}` : ''}: ${first?.message ?? 'invalid'}`, { errors }) };
    };
  });
}
