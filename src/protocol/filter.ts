/**
 * The filter language shared by computed traits (event property filters) and segments (event
 * property filters, trait and computed-trait comparisons): a dotted path, an op and a value.
 * One set of rules, implemented twice — in JavaScript (profiles/computed-trait-match.ts) and in
 * SQL (segments/sql/filter-sql.ts) — and property tests check that the two agree.
 *
 * Semantics: a path walks plain objects only (never array indices or inherited keys); a value
 * that is missing or JSON null is absent; `eq`/`in` compare type and value (the string "5" is not
 * the number 5); `neq` also matches when the value is absent; `gt`..`lte` and `between`
 * (inclusive at both ends) compare numbers with numbers and strings with strings by code point,
 * so ISO-8601 dates written the same way (e.g. `2026-01-31` or `...Z` timestamps) compare as
 * dates; `contains` finds a substring of a string or a string element of an array;
 * `starts_with` is a prefix of a string.
 */
import { Type, type Static } from '@sinclair/typebox';

export const FILTER_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'starts_with', 'exists', 'between'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

/** A scalar a filter compares with; objects and arrays are compared by nothing. */
export type FilterScalar = string | number | boolean;

/**
 * One segment of a dotted path. Quotes, backslashes, dots, brackets and wildcards are excluded
 * so a path means the same in JavaScript and in the SQL JSONPath it becomes.
 */
const SEGMENT = /^[\p{L}\p{N}_\-$@: ]{1,100}$/u;
const MAX_PATH_SEGMENTS = 8;
export const MAX_IN_VALUES = 100;

export const FilterOpSchema = Type.Union(FILTER_OPS.map((o) => Type.Literal(o)));

export const PropertyFilter = Type.Object({
  property: Type.String({ minLength: 1, maxLength: 300, description: 'Dotted path into the event properties, e.g. `product.category`.' }),
  op: FilterOpSchema,
  value: Type.Optional(Type.Unknown({ description: 'A string, number or boolean; an array of them for `in`; `[low, high]` for `between`; absent for `exists`.' })),
}, { additionalProperties: false });
export type PropertyFilter = Static<typeof PropertyFilter>;

/** A comparison as the engines run it: the op and its (validated) value. */
export interface Comparison {
  op: FilterOp;
  value?: unknown;
}

export interface DefinitionProblem {
  /** JSON pointer into the input, e.g. `/filters/0/value`. */
  path: string;
  code: string;
  message: string;
}

export type AddProblem = (path: string, code: string, message: string) => void;

/** The segments of a dotted path, or null when the path is not one Ensemble can follow. */
export function pathSegments(dotted: string): string[] | null {
  const segments = dotted.split('.');
  if (segments.length > MAX_PATH_SEGMENTS || !segments.every((s) => SEGMENT.test(s))) return null;
  return segments;
}

export function pathMessage(): string {
  return `A path is up to ${MAX_PATH_SEGMENTS} dot-separated names of letters, digits, spaces and _ - $ @ : (no quotes, backslashes or brackets).`;
}

export function isFilterScalar(v: unknown): v is FilterScalar {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** Reports what is wrong with a comparison's value for its op (at `path`, a JSON pointer). */
export function comparisonValueProblem(c: Comparison, path: string, add: AddProblem): void {
  const v = c.value;
  if (c.op === 'exists') {
    if (v !== undefined) add(path, 'not_allowed_for_filter', '`exists` takes no value.');
    return;
  }
  if (v === undefined) return add(path, 'required_for_filter', `The op "${c.op}" needs a value.`);
  switch (c.op) {
    case 'eq':
    case 'neq':
      if (!isFilterScalar(v)) add(path, 'expected_scalar', `"${c.op}" compares with a string, number or boolean.`);
      return;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (!isOrdered(v)) add(path, 'expected_number_or_string', `"${c.op}" compares with a number (numeric values) or a string (text order, e.g. ISO dates).`);
      return;
    case 'between':
      if (!Array.isArray(v) || v.length !== 2 || !isOrdered(v[0]) || typeof v[0] !== typeof v[1]) {
        add(path, 'expected_range', '`between` takes `[low, high]`: two numbers or two strings (e.g. ISO dates), both ends included.');
      }
      return;
    case 'contains':
    case 'starts_with':
      if (typeof v !== 'string') add(path, 'expected_string', `\`${c.op}\` looks for a string inside a text${c.op === 'contains' ? ' or an array' : ''}.`);
      return;
    case 'in':
      if (!Array.isArray(v)) add(path, 'expected_array', '`in` takes an array of values.');
      else if (v.length === 0 || v.length > MAX_IN_VALUES) add(path, 'array_size', `\`in\` takes 1 to ${MAX_IN_VALUES} values.`);
      else v.forEach((x, i) => { if (!isFilterScalar(x)) add(`${path}/${i}`, 'expected_scalar', '`in` values are strings, numbers or booleans.'); });
      return;
    default: {
      const unreachable: never = c.op;
      throw new Error(`unknown filter op ${String(unreachable)}`);
    }
  }
}

function isOrdered(v: unknown): v is number | string {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** Problems of a list of property filters (at `/filters` of the input by default). */
export function filterProblems(filters: readonly PropertyFilter[] | undefined, at: string, add: AddProblem): void {
  (filters ?? []).forEach((f, i) => {
    if (pathSegments(f.property) === null) add(`${at}/${i}/property`, 'invalid_path', pathMessage());
    comparisonValueProblem(f, `${at}/${i}/value`, add);
  });
}
