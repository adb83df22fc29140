/**
 * Every problem of a journey definition, each with a JSON pointer into it: the schema first,
 * then what the schema cannot say — steps that point nowhere, a loop that never waits, splits not
 * summing to 100 %, a wait with both or neither of `for`/`until`, conditions reading event history
 * (use a segment for that), destinations that cannot do what a step asks, unknown segments.
 */
import { Value } from '@sinclair/typebox/value';
import { JourneyInput, type JourneyInputT, type JourneyStepT } from '../protocol/journey.js';
import type { DefinitionProblem } from '../protocol/filter.js';
import { filterProblems } from '../protocol/filter.js';
import { validateSegmentDefinition, type SegmentCondition, type ValidationContext } from '../protocol/segment.js';
import type { DeliveryKind } from '../protocol/destination.js';

export interface JourneyValidationContext extends ValidationContext {
  /** What the destination accepts and the segments it mirrors; undefined when it does not exist. */
  destination(id: string): { kinds: readonly DeliveryKind[]; segments: readonly string[] } | undefined;
  templateProblems(template: Record<string, string>): DefinitionProblem[];
}

/** Conditions a branch can decide from what is known about the person now. */
const PROFILE_KINDS = new Set(['and', 'or', 'not', 'trait', 'computed', 'segment', 'consent']);

export function journeyProblems(input: unknown, ctx: JourneyValidationContext): DefinitionProblem[] {
  if (!Value.Check(JourneyInput, input)) {
    return [...Value.Errors(JourneyInput, input)].slice(0, 20).map((e) => ({ path: e.path, code: 'schema', message: e.message }));
  }
  const def = input as JourneyInputT;
  const problems: DefinitionProblem[] = [];
  const add = (path: string, code: string, message: string) => { problems.push({ path, code, message }); };
  const ids = new Set(Object.keys(def.steps));
  const ref = (path: string, id: string | undefined) => { if (id !== undefined && !ids.has(id)) add(path, 'unknown_step', `No step "${id}" in this journey.`); };
  const segment = (path: string, id: string) => { if (ctx.segment(id) === undefined) add(path, 'unknown_segment', `No segment "${id}" in this workspace.`); };
  const destination = (path: string, id: string, kind: DeliveryKind) => {
    const d = ctx.destination(id);
    if (!d) add(path, 'unknown_destination', `No destination "${id}" in this workspace.`);
    else if (!d.kinds.includes(kind)) add(path, 'destination_kind', `This destination takes no ${kind === 'audience' ? 'audiences' : `${kind}s`}.`);
    return d;
  };

  ref('/start', def.start);
  if (def.entry.kind === 'segment' || def.entry.kind === 'schedule') segment('/entry/segmentId', def.entry.segmentId);
  if (def.entry.kind === 'event') filterProblems(def.entry.filters, '/entry/filters', add);
  if (def.entry.kind === 'schedule' && def.entry.timeZone !== undefined && !validZone(def.entry.timeZone)) add('/entry/timeZone', 'time_zone', `Unknown time zone "${def.entry.timeZone}".`);
  if (def.goal) filterProblems(def.goal.filters, '/goal/filters', add);
  if (def.goal?.then !== undefined) {
    ref('/goal/then', def.goal.then);
    const waits = waitAfter(def, def.goal.then);
    if (waits) add('/goal/then', 'goal_then_waits', `Step "${waits}" waits: the steps run at the goal must all be instantaneous, as the person is leaving.`);
  }

  for (const id of Object.keys(def.steps)) {
    const step: JourneyStepT | undefined = def.steps[id];
    if (!step) continue;
    const at = `/steps/${id}`;
    for (const [field, target] of nextOf(step)) ref(`${at}/${field}`, target);
    switch (step.kind) {
      case 'wait':
        if ((step.for === undefined) === (step.until === undefined)) add(at, 'wait_form', 'A wait has either `for` (a duration) or `until` (a time of day).');
        break;
      case 'wait_for':
        if ([step.event, step.events, step.segment].filter((x) => x !== undefined).length !== 1) add(at, 'wait_for_form', 'A wait_for waits for one of: an `event`, any of several `events`, or a `segment` change.');
        if (step.event) filterProblems(step.event.filters, `${at}/event/filters`, add);
        step.events?.forEach((e, i) => filterProblems(e.filters, `${at}/events/${i}/filters`, add));
        if (step.segment) segment(`${at}/segment/segmentId`, step.segment.segmentId);
        break;
      case 'branch':
        conditionProblems(step.condition as SegmentCondition, `${at}/condition`, ctx, add);
        break;
      case 'split': {
        const sum = step.branches.reduce((n, b) => n + b.percent, 0);
        if (sum !== 100) add(`${at}/branches`, 'split_sum', `The percentages sum to ${sum}, not 100.`);
        step.branches.forEach((b, i) => { if (!b.control && b.next === undefined) add(`${at}/branches/${i}`, 'split_next', 'A branch that is not the control group needs `next`.'); });
        break;
      }
      case 'send':
        destination(`${at}/destinationId`, step.destinationId, 'message');
        for (const p of ctx.templateProblems(step.template as Record<string, string>)) add(`${at}/template${p.path.replace(/^\/then\/template/, '')}`, p.code, p.message);
        break;
      case 'audience': {
        const d = destination(`${at}/destinationId`, step.destinationId, 'audience');
        if (d && !d.segments.includes(step.segmentId)) add(`${at}/segmentId`, 'segment_not_connected', 'The destination does not mirror this segment: connect it first.');
        break;
      }
      case 'webhook':
        destination(`${at}/destinationId`, step.destinationId, 'event');
        break;
      case 'update_trait':
      case 'exit':
        break;
      default: {
        const unreachable: never = step;
        throw new Error(`unknown step ${JSON.stringify(unreachable)}`);
      }
    }
  }
  const loop = loopWithoutWait(def);
  if (loop) add(`/steps/${loop}`, 'loop_without_wait', `Step "${loop}" can be reached again without a wait: a person would loop forever.`);
  return problems;
}

/** The steps a step leads to, by field. */
export function nextOf(step: JourneyStepT): Array<[string, string | undefined]> {
  switch (step.kind) {
    case 'wait': case 'send': case 'audience': case 'update_trait': case 'webhook': return [['next', step.next]];
    case 'wait_for': return [['next', step.next], ['onTimeout', step.onTimeout]];
    case 'branch': return [['then', step.then], ['else', step.else]];
    case 'split': return step.branches.map((b, i) => [`branches/${i}/next`, b.next]);
    case 'exit': return [];
    default: {
      const unreachable: never = step;
      throw new Error(`unknown step ${JSON.stringify(unreachable)}`);
    }
  }
}

function conditionProblems(c: SegmentCondition, at: string, ctx: ValidationContext, add: (p: string, code: string, m: string) => void): void {
  for (const p of validateSegmentDefinition(c, ctx)) add(`${at}${p.path}`, p.code, p.message);
  const visit = (n: SegmentCondition, path: string): void => {
    if (!PROFILE_KINDS.has(n.kind)) add(path, 'condition_kind', `A branch decides from what is known now (traits, computed traits, segments, consent); for "${n.kind}", make a segment and test membership.`);
    if (n.kind === 'and' || n.kind === 'or') n.of.forEach((x, i) => visit(x, `${path}/of/${i}`));
    if (n.kind === 'not') visit(n.of, `${path}/of`);
  };
  visit(c, at);
}

/** The first waiting step (wait, wait_for, or a split, whose draw belongs on the way in) reachable from `from`, or null. */
function waitAfter(def: JourneyInputT, from: string): string | null {
  const seen = new Set<string>();
  const todo = [from];
  for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
    const step = def.steps[id];
    if (!step || seen.has(id)) continue;
    seen.add(id);
    if (step.kind === 'wait' || step.kind === 'wait_for' || step.kind === 'split') return id;
    for (const [, next] of nextOf(step)) if (next !== undefined) todo.push(next);
  }
  return null;
}

/** A step on a cycle of instantaneous steps (no wait, no wait_for), or null. */
function loopWithoutWait(def: JourneyInputT): string | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const dfs = (id: string): string | null => {
    const step = def.steps[id];
    if (!step || step.kind === 'wait' || step.kind === 'wait_for') return null;
    if (state.get(id) === 'visiting') return id;
    if (state.get(id) === 'done') return null;
    state.set(id, 'visiting');
    for (const [, next] of nextOf(step)) {
      const found = next === undefined ? null : dfs(next);
      if (found) return found;
    }
    state.set(id, 'done');
    return null;
  };
  for (const id of Object.keys(def.steps)) {
    const found = dfs(id);
    if (found) return found;
  }
  return null;
}

export function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
