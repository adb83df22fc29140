/**
 * Segment definitions: a plain, immutable JSON AST (`kind` on every node) that says which live
 * profiles of a workspace are members at an instant `now`. The same definition is compiled to
 * SQL for batch (segments/sql/) and evaluated incrementally per event (segments/engine.ts); the
 * two must agree at every instant, which a property test checks. The meaning of each node:
 *
 * - `and` / `or` / `not`: as in logic (`and` of nothing is impossible: `of` has 1..20 items).
 * - `trait`: the profile trait `trait` (a dotted path: the trait key, then a path inside its
 *   value) compared by `op`/`value` in the filter language of protocol/filter.ts.
 * - `event`: the number of the profile's events that match `event` (a track event name, `$page`
 *   or `$any`) and every property filter, counted over a window, compared by `count` (default
 *   `gte 1`). Windows: `within` a duration — events with `at > now - within` (no upper bound: an
 *   event dated in the future counts at once), so a count changes without new events when an
 *   event lapses; or `between` two ISO dates (`from <= at < to`); or none (all time). "Never" is
 *   `count: {op: 'eq', value: 0}`.
 * - `sequence`: the profile has events e1, e2, ... matching the positive steps in order
 *   (ordered by event time, then log sequence, each a different event), with
 *   `t_last - t_first <= within`; a step with `absent: true` between two positive steps means no
 *   matching event lies between their events; an absent step at the end means no matching event
 *   follows the last positive step's event within `within` of it (e.g. viewed a product → added to
 *   cart → no purchase within 7 days of the cart). A sequence does not depend on `now`.
 * - `computed`: the computed trait `name`'s current value compared by `op`/`value` (null: absent).
 * - `segment`: member of another segment of the workspace (cycles are rejected).
 * - `consent`: the purpose is granted: the latest event (by time, then sequence) of the profile
 *   whose `context.consent.categoryPreferences[purpose]` is a boolean says `true`.
 * - `list` (only in the definition of a static list, made by uploading identifiers): the profile
 *   owns one of the list's identifiers.
 * - `external`: a value from an external data source (weather, open data: protocol/external.ts)
 *   looked up by one of the profile's traits — the trait at `key` (a dotted path, as `trait`)
 *   must be a string; it is compared with the source's keys normalised (trimmed, lower-cased,
 *   NFC) — and its `field` compared by `op`/`value` (no such key, field or value: absent). E.g.
 *   "the temperature in the profile's city is above 25 °C". Pulling new values changes
 *   memberships without any event.
 * - `geo`: where the profile was last seen. `near`: the latest event (by time, then sequence)
 *   carrying a location (protocol/geo.ts) lies within `radiusKm` of the point (great-circle
 *   distance, edge included). `country`: the latest event with a country (looked up from its IP
 *   at collection) is in one of these ISO 3166-1 alpha-2 codes. A profile
 *   never located is in no `near` and no `country`.
 * - `score`: the profile's latest score from a predictive model (src/predict/), the model named
 *   by its id or key: `op`/`value` compare the score (0–1), `decile` compares its decile (1–10,
 *   10 the highest-scored tenth). A profile the model has not scored (outside its population,
 *   without consent for the model's purpose, or no active version) matches no score condition.
 *   Scoring runs change memberships without any event.
 *
 * Values are data, never SQL: compilers bind every value as a parameter.
 *
 * @example
 *   const def: SegmentCondition = { kind: 'and', of: [
 *     { kind: 'event', event: 'Product Added', count: { op: 'gte', value: 3 }, within: '30d' },
 *     { kind: 'event', event: 'Order Completed', within: '30d', count: { op: 'eq', value: 0 } },
 *     { kind: 'trait', trait: 'plan', op: 'in', value: ['pro', 'team'] },
 *   ] };
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { explicitPurpose } from './privacy.js';
import { Value } from '@sinclair/typebox/value';
import { ANY_EVENT, PAGE_EVENT } from './computed-trait.js';
import {
  FilterOpSchema, PropertyFilter, comparisonValueProblem, filterProblems, pathMessage, pathSegments,
  type AddProblem, type DefinitionProblem, type FilterOp,
} from './filter.js';

export { ANY_EVENT, PAGE_EVENT } from './computed-trait.js';

export const COUNT_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'] as const;
export type CountOp = (typeof COUNT_OPS)[number];

/** Counts are compared with at most this; the engine keeps at most value + 1 timestamps per condition. */
export const MAX_COUNT = 1000;
export const MAX_DEPTH = 8;
export const MAX_SEQUENCE_STEPS = 6;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^([1-9][0-9]{0,5})([smhdw])$/;
const MAX_DURATION_MS = 3650 * UNIT_MS.d;

/** `30d` → milliseconds; null when not a duration Ensemble accepts. */
export function durationMs(text: string): number | null {
  const m = DURATION.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms <= MAX_DURATION_MS ? ms : null;
}

/** A strict ISO-8601 UTC instant or date, as `between` accepts it. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z)?$/;

export function instantMs(text: string): number | null {
  if (!ISO_INSTANT.test(text)) return null;
  const ms = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
  return Number.isFinite(ms) ? ms : null;
}

const Duration = Type.String({ pattern: DURATION.source, description: 'A duration: a number and a unit among s, m, h, d, w (e.g. `30d`); at most 10 years.' });
const EventName = Type.String({ minLength: 1, maxLength: 512, description: 'A track event name; `$page` for page events, `$any` for every event.' });
const Filters = Type.Optional(Type.Array(PropertyFilter, { maxItems: 10, description: 'All must match (AND).' }));
const Value_ = Type.Optional(Type.Unknown({ description: 'As the op needs: a scalar, an array for `in`, `[low, high]` for `between`, nothing for `exists`.' }));

export interface TraitCondition { kind: 'trait'; trait: string; op: FilterOp; value?: unknown }
export interface EventCondition {
  kind: 'event';
  event: string;
  filters?: PropertyFilter[];
  count?: { op: CountOp; value: number };
  within?: string;
  between?: { from: string; to: string };
}
export interface SequenceStep { event: string; filters?: PropertyFilter[]; absent?: boolean }
export interface SequenceCondition { kind: 'sequence'; steps: SequenceStep[]; within: string }
export interface ComputedCondition { kind: 'computed'; name: string; op: FilterOp; value?: unknown }
export interface SegmentRef { kind: 'segment'; id: string }
export interface ConsentCondition { kind: 'consent'; purpose: string }
/** A static list's membership: the profile has an identifier of the list (made by a CSV upload, not written by hand). */
export interface ListCondition { kind: 'list'; id: string }
export interface ExternalCondition { kind: 'external'; source: string; key: string; field: string; op: FilterOp; value?: unknown }
/** A predictive model's score: give `op` and `value` (the score, 0–1), or `decile`. */
export interface ScoreCondition { kind: 'score'; model: string; op?: CountOp; value?: number; decile?: { op: CountOp; value: number } }
export type GeoCondition =
  | { kind: 'geo'; near: { latitude: number; longitude: number; radiusKm: number } }
  | { kind: 'geo'; country: string[] };
export interface AndCondition { kind: 'and'; of: SegmentCondition[] }
export interface OrCondition { kind: 'or'; of: SegmentCondition[] }
export interface NotCondition { kind: 'not'; of: SegmentCondition }

export type SegmentCondition =
  | AndCondition | OrCondition | NotCondition | TraitCondition | EventCondition | SequenceCondition
  | ComputedCondition | SegmentRef | ConsentCondition | ListCondition | GeoCondition | ExternalCondition | ScoreCondition;

/** The leaves: conditions that read data (everything but and/or/not). */
export type LeafCondition = Exclude<SegmentCondition, AndCondition | OrCondition | NotCondition>;

const leafSchemas = (): TSchema[] => [
  Type.Object({ kind: Type.Literal('trait'), trait: Type.String({ minLength: 1, maxLength: 300, description: 'Trait key, then an optional dotted path inside its value.' }), op: FilterOpSchema, value: Value_ }, { additionalProperties: false }),
  Type.Object({
    kind: Type.Literal('event'), event: EventName, filters: Filters,
    count: Type.Optional(Type.Object({ op: Type.Union(COUNT_OPS.map((o) => Type.Literal(o))), value: Type.Integer({ minimum: 0, maximum: MAX_COUNT }) }, { additionalProperties: false, description: 'Default: at least one (`gte 1`). Never: `eq 0`.' })),
    within: Type.Optional(Duration),
    between: Type.Optional(Type.Object({ from: Type.String(), to: Type.String() }, { additionalProperties: false, description: 'ISO-8601 UTC dates or instants; from included, to excluded.' })),
  }, { additionalProperties: false }),
  Type.Object({
    kind: Type.Literal('sequence'),
    steps: Type.Array(Type.Object({ event: EventName, filters: Filters, absent: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), { minItems: 2, maxItems: MAX_SEQUENCE_STEPS }),
    within: Duration,
  }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('computed'), name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }), op: FilterOpSchema, value: Value_ }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('segment'), id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('consent'), purpose: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_ -]{0,63}$' }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('list'), id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
  Type.Object({
    kind: Type.Literal('external'),
    source: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'The external source id (e.g. `weather`).' }),
    key: Type.String({ minLength: 1, maxLength: 300, description: 'The trait whose value is the key (e.g. `city`), with an optional dotted path inside it.' }),
    field: Type.String({ minLength: 1, maxLength: 100, description: 'A field of the source\'s mapping (e.g. `temperature`).' }),
    op: FilterOpSchema, value: Value_,
  }, { additionalProperties: false }),
  Type.Object({
    kind: Type.Literal('geo'),
    near: Type.Optional(Type.Object({
      latitude: Type.Number({ minimum: -90, maximum: 90 }),
      longitude: Type.Number({ minimum: -180, maximum: 180 }),
      radiusKm: Type.Number({ exclusiveMinimum: 0, maximum: 20_000, description: 'Great-circle distance, km (0.5 = 500 m).' }),
    }, { additionalProperties: false, description: 'The last known location is within the radius of this point.' })),
    country: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }), { minItems: 1, maxItems: 250, uniqueItems: true, description: 'ISO 3166-1 alpha-2 codes: the last known country is one of them.' })),
  }, { additionalProperties: false, description: 'Where the profile was last seen: give `near` or `country`.' }),
  Type.Object({
    kind: Type.Literal('score'),
    model: Type.String({ minLength: 1, maxLength: 100, description: 'The predictive model\'s id or key (e.g. `churn_60d`).' }),
    op: Type.Optional(Type.Union(COUNT_OPS.map((o) => Type.Literal(o)), { description: 'Compares the score (with `value`).' })),
    value: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'A score between 0 and 1.' })),
    decile: Type.Optional(Type.Object({
      op: Type.Union(COUNT_OPS.map((o) => Type.Literal(o))), value: Type.Integer({ minimum: 1, maximum: 10 }),
    }, { additionalProperties: false, description: 'Compares the decile: 10 is the tenth of the population with the highest scores.' })),
  }, { additionalProperties: false, description: 'A predictive model\'s score: give `op` and `value`, or `decile`.' }),
];

export const SegmentConditionSchema = Type.Recursive((Self) => Type.Union([
  Type.Object({ kind: Type.Literal('and'), of: Type.Array(Self, { minItems: 1, maxItems: 20 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('or'), of: Type.Array(Self, { minItems: 1, maxItems: 20 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('not'), of: Self }, { additionalProperties: false }),
  ...leafSchemas(),
]), { $id: 'SegmentCondition', description: 'A segment definition node (see docs/segments.md).' });

export const SegmentInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  definition: Type.Unknown({ description: 'The definition: a SegmentCondition tree (validated with JSON-pointer errors).' }),
  purposes: Type.Optional(Type.Array(Type.String(), {
    maxItems: 16, uniqueItems: true,
    description: 'Purposes this segment is used for: only profiles whose consent for every one of them is in force are members.',
  })),
}, { additionalProperties: false });
export type SegmentInput = Static<typeof SegmentInput>;

/** What the rest of a workspace looks like to the validator. */
export interface ValidationContext {
  /** The definition of another segment of the workspace, or undefined when there is none. */
  segment(id: string): SegmentCondition | undefined;
  /** Whether the workspace has a computed trait of this name. */
  computedTrait(name: string): boolean;
  /** Whether a trait holds a personal identifier (sealed in the store: only `exists` can test it). */
  personalTrait(key: string): boolean;
  /** Whether the workspace has this external source with this field in its mapping (absent: no external sources). */
  externalField?(source: string, field: string): boolean;
  /** Whether the workspace has a predictive model with this id or key (absent: no models). */
  model?(ref: string): boolean;
  /** The segment being edited (a reference to it, directly or not, is a cycle). */
  self?: string;
}

/**
 * Every problem of a definition, each with a JSON pointer into it: schema errors first (code
 * `schema`), then the rules the schema cannot state. An empty list means valid.
 */
export function validateSegmentDefinition(input: unknown, ctx: ValidationContext): DefinitionProblem[] {
  const schemaProblems = schemaErrors(input);
  if (schemaProblems.length > 0) return schemaProblems;
  const problems: DefinitionProblem[] = [];
  const add: AddProblem = (path, code, message) => { problems.push({ path, code, message }); };
  check(input as SegmentCondition, '', 1, ctx, add);
  return problems;
}

/**
 * The schema's errors, reported on the deepest node: a union reports "expected one of" at its
 * root, so for a node whose `kind` is known the errors of that kind's own schema are used.
 */
function schemaErrors(input: unknown, path = ''): DefinitionProblem[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return [{ path: path || '/', code: 'schema', message: 'A condition is an object with a `kind`.' }];
  }
  const node = input as Record<string, unknown>;
  const kind = node.kind;
  if (kind === 'and' || kind === 'or') {
    if (!Array.isArray(node.of) || node.of.length === 0 || node.of.length > 20) return [{ path: `${path}/of`, code: 'schema', message: '`of` is an array of 1 to 20 conditions.' }];
    const extra = Object.keys(node).filter((k) => k !== 'kind' && k !== 'of');
    if (extra.length > 0) return [{ path: `${path}/${extra[0]}`, code: 'schema', message: 'Unexpected property.' }];
    return node.of.flatMap((c, i) => schemaErrors(c, `${path}/of/${i}`));
  }
  if (kind === 'not') {
    const extra = Object.keys(node).filter((k) => k !== 'kind' && k !== 'of');
    if (extra.length > 0) return [{ path: `${path}/${extra[0]}`, code: 'schema', message: 'Unexpected property.' }];
    return schemaErrors(node.of, `${path}/of`);
  }
  const schema = leafSchemas().find((s) => (s.properties as { kind: { const: string } }).kind.const === kind);
  if (!schema) {
    return [{ path: `${path}/kind`, code: 'unknown_kind', message: 'kind is one of and, or, not, trait, event, sequence, computed, segment, consent, geo, external, score.' }];
  }
  return [...Value.Errors(schema, input)].slice(0, 10).map((e) => ({ path: `${path}${e.path}` || '/', code: 'schema', message: e.message }));
}

function check(c: SegmentCondition, at: string, depth: number, ctx: ValidationContext, add: AddProblem): void {
  if (depth > MAX_DEPTH) return add(at || '/', 'too_deep', `Conditions nest at most ${MAX_DEPTH} levels.`);
  switch (c.kind) {
    case 'and':
    case 'or':
      c.of.forEach((x, i) => check(x, `${at}/of/${i}`, depth + 1, ctx, add));
      return;
    case 'not':
      return check(c.of, `${at}/of`, depth + 1, ctx, add);
    case 'trait':
      if (pathSegments(c.trait) === null) add(`${at}/trait`, 'invalid_path', pathMessage());
      else if (c.op !== 'exists' && ctx.personalTrait(c.trait.split('.')[0] as string)) {
        add(`${at}/op`, 'personal_trait', `"${c.trait}" is a personal identifier, stored sealed: a segment can only test that it exists.`);
      }
      return comparisonValueProblem(c, `${at}/value`, add);
    case 'computed':
      if (!ctx.computedTrait(c.name)) add(`${at}/name`, 'unknown_computed_trait', `The workspace has no computed trait "${c.name}".`);
      return comparisonValueProblem(c, `${at}/value`, add);
    case 'event':
      eventNameProblem(c.event, `${at}/event`, add);
      filterProblems(c.filters, `${at}/filters`, add);
      if (c.within !== undefined && c.between !== undefined) add(`${at}/between`, 'one_window', 'Give `within` or `between`, not both.');
      if (c.within !== undefined && durationMs(c.within) === null) add(`${at}/within`, 'invalid_duration', 'A duration is at most 10 years.');
      if (c.between !== undefined) {
        const from = instantMs(c.between.from);
        const to = instantMs(c.between.to);
        if (from === null) add(`${at}/between/from`, 'invalid_date', 'Expected an ISO-8601 UTC date (2026-01-31) or instant (2026-01-31T08:00:00Z).');
        if (to === null) add(`${at}/between/to`, 'invalid_date', 'Expected an ISO-8601 UTC date (2026-01-31) or instant (2026-01-31T08:00:00Z).');
        if (from !== null && to !== null && from >= to) add(`${at}/between`, 'empty_range', '`from` must be before `to`.');
      }
      return;
    case 'sequence':
      if (durationMs(c.within) === null) add(`${at}/within`, 'invalid_duration', 'A duration is at most 10 years.');
      if (c.steps[0]?.absent) add(`${at}/steps/0/absent`, 'first_step_absent', 'A sequence starts with an event that happened.');
      c.steps.forEach((s, i) => {
        eventNameProblem(s.event, `${at}/steps/${i}/event`, add);
        filterProblems(s.filters, `${at}/steps/${i}/filters`, add);
      });
      return;
    case 'segment':
      return segmentRefProblem(c.id, `${at}/id`, ctx, add);
    case 'consent':
      return;
    case 'external':
      if (pathSegments(c.key) === null) add(`${at}/key`, 'invalid_path', pathMessage());
      else if (ctx.personalTrait(c.key.split('.')[0] as string)) add(`${at}/key`, 'personal_trait', `"${c.key}" is a personal identifier, stored sealed: it cannot key external data.`);
      if (!(ctx.externalField?.(c.source, c.field) ?? false)) add(`${at}/field`, 'unknown_external_field', `The workspace has no external source "${c.source}" with a field "${c.field}".`);
      return comparisonValueProblem(c, `${at}/value`, add);
    case 'geo':
      if (('near' in c) === ('country' in c)) add(at || '/', 'one_place', 'Give `near` or `country`, not both.');
      return;
    case 'score':
      if (!(ctx.model?.(c.model) ?? false)) add(`${at}/model`, 'unknown_model', `The workspace has no predictive model "${c.model}".`);
      if ((c.decile === undefined) === (c.op === undefined && c.value === undefined)) add(at || '/', 'one_score_test', 'Give `op` and `value` (the score), or `decile`, not both.');
      else if (c.decile === undefined && (c.op === undefined || c.value === undefined)) add(at || '/', 'score_value', 'A score comparison needs both `op` and `value`.');
      return;
    case 'list':
      return add(`${at}/kind`, 'list_by_upload', 'Static lists are created by uploading identifiers (POST .../segments/lists); refer to one with `{kind: "segment", id}`.');
    default: {
      const unreachable: never = c;
      throw new Error(`unknown condition ${JSON.stringify(unreachable)}`);
    }
  }
}

function eventNameProblem(name: string, at: string, add: AddProblem): void {
  if (name.startsWith('$') && name !== PAGE_EVENT && name !== ANY_EVENT) {
    add(at, 'unknown_special_event', `Event names starting with "$" are reserved; use "${PAGE_EVENT}" or "${ANY_EVENT}".`);
  }
}

function segmentRefProblem(id: string, at: string, ctx: ValidationContext, add: AddProblem): void {
  if (id === ctx.self) return add(at, 'segment_cycle', 'A segment cannot include itself.');
  const target = ctx.segment(id);
  if (target === undefined) return add(at, 'unknown_segment', `The workspace has no segment "${id}".`);
  // Walk what the target refers to: reaching the segment being edited closes a cycle.
  const seen = new Set<string>([id]);
  const stack = [target];
  while (stack.length > 0) {
    for (const ref of segmentRefs(stack.pop() as SegmentCondition)) {
      if (ref === ctx.self) return add(at, 'segment_cycle', `Segment "${id}" includes this segment, directly or through others.`);
      if (seen.has(ref)) continue;
      seen.add(ref);
      const next = ctx.segment(ref);
      if (next) stack.push(next);
    }
  }
}

/** The ids of the segments a definition refers to. */
export function segmentRefs(c: SegmentCondition): string[] {
  return leaves(c).flatMap((l) => (l.kind === 'segment' ? [l.id] : []));
}

/** The leaves of a definition, depth first, left to right (their index is their id in the engines). */
export function leaves(c: SegmentCondition): LeafCondition[] {
  switch (c.kind) {
    case 'and':
    case 'or': return c.of.flatMap(leaves);
    case 'not': return leaves(c.of);
    default: return [c];
  }
}

/** The count comparison of an event condition (default: at least one). */
export function countOf(c: EventCondition): { op: CountOp; value: number } {
  return c.count ?? { op: 'gte', value: 1 };
}

/** A segment as stored and as the engines run it. Times in ms. */
export interface StoredSegment {
  id: string;
  workspaceId: string;
  name: string;
  description?: string;
  definition: SegmentCondition;
  /** Purposes the segment serves: a profile is a member only with consent in force for each. */
  purposes?: string[];
  /** Special categories of data its rule reads (derived from the workspace's tags, not stored). */
  sensitive?: string[];
  /** When a DPO approved it (needed when `sensitive` is not empty; derived from the approvals). */
  approvedAt?: number;
  createdAt: number;
  updatedAt: number;
}

export const SegmentView = Type.Object({
  id: Type.String(),
  workspaceId: Type.String(),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  definition: Type.Unknown(),
  purposes: Type.Array(Type.String()),
  sensitive: Type.Array(Type.String(), { description: 'Special categories of data the rule reads: members need explicit consent for each, and a DPO approval.' }),
  approvedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When a DPO approved the use of special-category data (null: not approved).' }),
  kind: Type.Union([Type.Literal('rules'), Type.Literal('list')], { description: '`list`: a static list uploaded as identifiers.' }),
  size: Type.Integer({ description: 'Members now.' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type SegmentView = Static<typeof SegmentView>;

/**
 * Every purpose a segment's members must consent to: those it serves, and explicit consent for
 * each special category of data its rule reads (`explicit_<category>`, GDPR art. 9(2)(a)).
 */
export function requiredPurposes(segment: Pick<StoredSegment, 'purposes' | 'sensitive'>): string[] {
  return [...(segment.purposes ?? []), ...(segment.sensitive ?? []).map(explicitPurpose)];
}

/** A segment reading special-category data has no members until a DPO approved it. */
export function awaitsApproval(segment: Pick<StoredSegment, 'sensitive' | 'approvedAt'>): boolean {
  return (segment.sensitive?.length ?? 0) > 0 && segment.approvedAt === undefined;
}
