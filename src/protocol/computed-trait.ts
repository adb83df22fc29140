/**
 * Computed traits: a value per profile derived from its events, e.g. "revenue in the last 90
 * days" (`sum` of `revenue` over `Order Completed`, `windowDays: 90`) or "favourite category"
 * (`most_frequent` of `product.category`). The schema says what JSON can say; the rules that tie
 * fields together (an op that needs a property, a filter op that needs a value of some type) are
 * checked by `validateComputedTrait`, which names each problem by its JSON pointer.
 *
 * @example
 *   const problems = validateComputedTrait({ name: 'revenue_90d', op: 'sum', event: 'Order Completed', windowDays: 90 });
 *   // → [{ path: '/property', code: 'required_for_op', message: '...' }]
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { PropertyFilter, filterProblems, pathMessage, pathSegments, type DefinitionProblem } from './filter.js';

export { PropertyFilter, type DefinitionProblem } from './filter.js';

export const COMPUTED_TRAIT_OPS = ['count', 'sum', 'avg', 'min', 'max', 'first', 'last', 'most_frequent', 'distinct_count'] as const;
export type ComputedTraitOp = (typeof COMPUTED_TRAIT_OPS)[number];
export const NUMERIC_OPS: readonly ComputedTraitOp[] = ['sum', 'avg', 'min', 'max'];

/** `event` values that are not track event names. */
export const PAGE_EVENT = '$page';
export const ANY_EVENT = '$any';

const inputFields = {
  name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'The trait key on the profile.' }),
  op: Type.Union(COMPUTED_TRAIT_OPS.map((o) => Type.Literal(o))),
  event: Type.String({
    minLength: 1, maxLength: 512,
    description: 'A track event name; `$page` for page events, `$any` for every event.',
  }),
  property: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'Dotted path into the event properties; required by every op but `count`.' })),
  filters: Type.Optional(Type.Array(PropertyFilter, { maxItems: 10, description: 'All must match (AND).' })),
  windowDays: Type.Optional(Type.Integer({
    minimum: 1, maximum: 3650,
    description: 'Only events of the last N UTC days, today included (day granularity); absent for all time.',
  })),
  sources: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
    minItems: 1, maxItems: 50, uniqueItems: true,
    description: 'Only events of these sources count (default: every source). A segment serving purposes may read this trait only if every source it counts collects for them.',
  })),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
};

export const ComputedTraitInput = Type.Object(inputFields, { additionalProperties: false });
export type ComputedTraitInput = Static<typeof ComputedTraitInput>;

export const BackfillStats = Type.Object({
  events: Type.Integer({ description: 'Stored events folded in when the trait was created.' }),
  profiles: Type.Integer({ description: 'Profiles those events belong to.' }),
  ms: Type.Integer({ description: 'How long the backfill took.' }),
});
export type BackfillStats = Static<typeof BackfillStats>;

export const ComputedTraitView = Type.Object({
  id: Type.String(),
  workspaceId: Type.String(),
  ...inputFields,
  createdAt: Type.String({ format: 'date-time' }),
  backfill: BackfillStats,
});
export type ComputedTraitView = Static<typeof ComputedTraitView>;

/** What is stored and what the engine runs: the input plus identity and creation facts. */
export interface ComputedTraitDefinition extends ComputedTraitInput {
  id: string;
  workspaceId: string;
  /** ms since the epoch. */
  createdAt: number;
  /** The backfill run at creation (start-up backfills are not recorded here). */
  backfill: BackfillStats;
}

/**
 * Every problem of a definition: schema errors first (code `schema`); when the shape is right,
 * the rules between fields. An empty list means valid.
 */
export function validateComputedTrait(input: unknown): DefinitionProblem[] {
  const schemaProblems = [...Value.Errors(ComputedTraitInput, input)].slice(0, 20)
    .map((e) => ({ path: e.path || '/', code: 'schema', message: e.message }));
  if (schemaProblems.length > 0) return schemaProblems;
  const def = input as ComputedTraitInput;
  const problems: DefinitionProblem[] = [];
  const add = (path: string, code: string, message: string): void => { problems.push({ path, code, message }); };

  if (def.event.startsWith('$') && def.event !== PAGE_EVENT && def.event !== ANY_EVENT) {
    add('/event', 'unknown_special_event', `Event names starting with "$" are reserved; use "${PAGE_EVENT}" or "${ANY_EVENT}".`);
  }
  if (def.property === undefined) {
    if (def.op !== 'count') add('/property', 'required_for_op', `The op "${def.op}" needs a property to read.`);
  } else if (pathSegments(def.property) === null) {
    add('/property', 'invalid_path', pathMessage());
  }
  filterProblems(def.filters, '/filters', add);
  return problems;
}
