/**
 * The journey state machine, pure: from where a person is and what just happened (they entered,
 * a timer fired, an event or a segment change arrived), where they are next and what that asks
 * for (messages, audience changes, trait updates, webhooks). Instantaneous steps (branch, split,
 * send, ...) run one after another until a waiting step or the end; the engine persists the new
 * state and queues the effects in one transaction, so a restart neither loses nor repeats a step.
 *
 * @example
 *   const r = walk(def, null, { kind: 'enter' }, facts);
 *   // r.state.step === 'wait', r.state.dueAt === now + 2 days, r.effects = [{ kind: 'send', ... }]
 */
import { durationMs } from '../protocol/segment.js';
import type { JourneyInputT, JourneyState, JourneyStepT } from '../protocol/journey.js';
import type { SegmentCondition } from '../protocol/segment.js';
import { compileMatcher } from '../profiles/computed-trait-match.js';

export type WalkInput =
  | { kind: 'enter' }
  | { kind: 'timer' }
  | { kind: 'event'; event: { type: string; event: string | null; properties: Record<string, unknown> } }
  | { kind: 'segment'; segmentId: string; entered: boolean };

export type Effect =
  | { kind: 'send'; step: string; destinationId: string; template: Record<string, string> }
  | { kind: 'audience'; step: string; destinationId: string; segmentId: string; action: 'add' | 'remove' }
  | { kind: 'update_trait'; step: string; traits: Record<string, unknown> }
  | { kind: 'webhook'; step: string; destinationId: string };

export interface WalkFacts {
  now: number;
  /** The branch condition holds for the person now. */
  holds(condition: SegmentCondition): boolean;
  /** A stable draw in [0, 100) for this person in this journey. */
  draw(): number;
  /** The next instant (> now) when it is `hh:mm` in the person's time zone. */
  nextTimeOfDay(hhmm: string): number;
}

export interface WalkResult {
  /** The state after (`step` null once the person left). */
  state: Pick<JourneyState, 'step' | 'dueAt' | 'outcome' | 'branch'>;
  effects: Effect[];
  /** The steps passed through, in order (for stats and the dry run). */
  path: string[];
  /** Whether anything changed (an event that concerns no waiting step changes nothing). */
  changed: boolean;
}

/** Steps run in one walk at most: a definition whose steps loop without waiting stops here. */
export const MAX_STEPS_PER_WALK = 100;

type Position = Pick<JourneyState, 'step' | 'dueAt' | 'outcome' | 'branch'>;

export function walk(def: JourneyInputT, current: Position | null, input: WalkInput, facts: WalkFacts): WalkResult {
  const unchanged = (s: Position): WalkResult => ({ state: s, effects: [], path: [], changed: false });
  if (input.kind === 'enter') return run(def, def.start, { step: null, dueAt: null, outcome: null, branch: null }, facts);
  if (!current || current.step === null) return unchanged(current ?? { step: null, dueAt: null, outcome: null, branch: null });
  if (input.kind === 'event' && def.goal && compileMatcher({ event: def.goal.event, filters: def.goal.filters ?? [] })(input.event)) {
    if (def.goal.then === undefined) return { state: { step: null, dueAt: null, outcome: 'goal', branch: current.branch }, effects: [], path: [], changed: true };
    // The goal's own steps are instantaneous (validated), so the walk ends; it ends as a goal whatever its last step.
    const out = run(def, def.goal.then, current, facts);
    return { ...out, state: { step: null, dueAt: null, outcome: 'goal', branch: out.state.branch } };
  }
  const step = def.steps[current.step];
  if (!step) return { state: { step: null, dueAt: null, outcome: 'dropped', branch: current.branch }, effects: [], path: [], changed: true };
  switch (input.kind) {
    case 'timer':
      if (current.dueAt === null || current.dueAt > facts.now) return unchanged(current);
      if (step.kind === 'wait') return run(def, step.next, current, facts);
      if (step.kind === 'wait_for') return run(def, step.onTimeout, current, facts);
      return unchanged(current);
    case 'event':
      if (step.kind === 'wait_for' && [...(step.event ? [step.event] : []), ...(step.events ?? [])].some((m) => compileMatcher({ event: m.event, filters: m.filters ?? [] })(input.event))) {
        return run(def, step.next, current, facts);
      }
      return unchanged(current);
    case 'segment':
      if (step.kind === 'wait_for' && step.segment && step.segment.segmentId === input.segmentId && (step.segment.on === 'entered') === input.entered) return run(def, step.next, current, facts);
      return unchanged(current);
    default: {
      const unreachable: never = input;
      throw new Error(`unknown walk input ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Runs from `from` through instantaneous steps until one waits or the person leaves. */
function run(def: JourneyInputT, from: string, before: Position, facts: WalkFacts): WalkResult {
  const effects: Effect[] = [];
  const path: string[] = [];
  let branch = before.branch;
  let id = from;
  for (let i = 0; i < MAX_STEPS_PER_WALK; i++) {
    const step: JourneyStepT | undefined = def.steps[id];
    if (!step) return done('dropped');
    path.push(id);
    switch (step.kind) {
      case 'wait': {
        const due = step.until !== undefined ? facts.nextTimeOfDay(step.until) : facts.now + (durationMs(step.for ?? '1m') ?? 60_000);
        return { state: { step: id, dueAt: due, outcome: null, branch }, effects, path, changed: true };
      }
      case 'wait_for':
        return { state: { step: id, dueAt: facts.now + (durationMs(step.timeout) ?? 0), outcome: null, branch }, effects, path, changed: true };
      case 'branch':
        id = facts.holds(step.condition as SegmentCondition) ? step.then : step.else;
        continue;
      case 'split': {
        const r = facts.draw();
        let acc = 0;
        const chosen = step.branches.find((b) => { acc += b.percent; return r < acc; }) ?? step.branches[step.branches.length - 1]!;
        branch = chosen.name ?? (chosen.control ? 'control' : `${id}:${step.branches.indexOf(chosen)}`);
        if (chosen.control || chosen.next === undefined) return done('control');
        id = chosen.next;
        continue;
      }
      case 'send':
        effects.push({ kind: 'send', step: id, destinationId: step.destinationId, template: step.template as Record<string, string> });
        id = step.next;
        continue;
      case 'audience':
        effects.push({ kind: 'audience', step: id, destinationId: step.destinationId, segmentId: step.segmentId, action: step.action });
        id = step.next;
        continue;
      case 'update_trait':
        effects.push({ kind: 'update_trait', step: id, traits: step.traits });
        id = step.next;
        continue;
      case 'webhook':
        effects.push({ kind: 'webhook', step: id, destinationId: step.destinationId });
        id = step.next;
        continue;
      case 'exit':
        return done('exit');
      default: {
        const unreachable: never = step;
        throw new Error(`unknown step ${JSON.stringify(unreachable)}`);
      }
    }
  }
  return done('dropped');

  function done(outcome: 'exit' | 'goal' | 'control' | 'dropped'): WalkResult {
    return { state: { step: null, dueAt: null, outcome, branch }, effects, path, changed: true };
  }
}
