/**
 * The journey definition seen as a graph: steps are nodes, the fields that name a following
 * step (`next`, `onTimeout`, `then`, `else`, a split branch's `next`) are edges. Pure functions,
 * so the canvas, the side panel and the tests all edit the same definition the same way.
 *
 * @example
 *   const def = addStep(emptyDefinition('Welcome'), 'send');   // { start: 'send_1', steps: { send_1: … } }
 *   outlets(def.steps.send_1!)                                 // [{ field: 'next', target: '' }]
 */
import type { JourneyDefinition, JourneyStep, Problem, StepKind } from './types';
import { fresh } from '../segment/conditions';

/** The node that stands for the journey's entry; its only outlet sets `start`. */
export const ENTRY_NODE = '$entry';

export interface Outlet {
  /** JSON-pointer suffix under the step, e.g. `next` or `branches/1/next`. */
  field: string;
  /** The step it leads to ('' when not chosen yet). */
  target: string;
}

export function emptyDefinition(name: string): JourneyDefinition {
  return { name, entry: { kind: 'event', event: '' }, reentry: { policy: 'once' }, start: '', steps: {} };
}

/** The outlets of a step, in a stable order (the order of handles on its node). */
export function outlets(step: JourneyStep): Outlet[] {
  switch (step.kind) {
    case 'wait': case 'send': case 'audience': case 'update_trait': case 'webhook': return [{ field: 'next', target: step.next }];
    case 'wait_for': return [{ field: 'next', target: step.next }, { field: 'onTimeout', target: step.onTimeout }];
    case 'branch': return [{ field: 'then', target: step.then }, { field: 'else', target: step.else }];
    case 'split': return step.branches.map((b, i) => (b.control ? null : { field: `branches/${i}/next`, target: b.next ?? '' })).filter((o): o is Outlet => o !== null);
    case 'exit': return [];
  }
}

/** The step with one outlet pointed at `target` ('' clears it). */
export function setOutlet(step: JourneyStep, field: string, target: string): JourneyStep {
  const m = /^branches\/(\d+)\/next$/.exec(field);
  if (m && step.kind === 'split') {
    const i = Number(m[1]);
    return { ...step, branches: step.branches.map((b, j) => (j === i ? { ...b, next: target } : b)) };
  }
  if (field === 'next' || field === 'onTimeout' || field === 'then' || field === 'else') return { ...step, [field]: target } as JourneyStep;
  return step;
}

/** A new step of a kind with sensible defaults (the server still validates everything). */
export function defaultStep(kind: StepKind): JourneyStep {
  switch (kind) {
    case 'wait': return { kind, for: '1d', next: '' };
    case 'wait_for': return { kind, event: { event: '' }, timeout: '2d', next: '', onTimeout: '' };
    case 'branch': return { kind, condition: fresh('trait'), then: '', else: '' };
    case 'split': return { kind, branches: [{ percent: 90, next: '', name: 'A' }, { percent: 10, control: true, name: 'control' }] };
    case 'send': return { kind, destinationId: '', template: { subject: '', text: '' }, next: '' };
    case 'audience': return { kind, destinationId: '', segmentId: '', action: 'add', next: '' };
    case 'update_trait': return { kind, traits: {}, next: '' };
    case 'webhook': return { kind, destinationId: '', next: '' };
    case 'exit': return { kind };
  }
}

/** `send_1`, `send_2`…: the first free id for a kind (ids match the server's `^[A-Za-z][A-Za-z0-9_-]*$`). */
export function freeStepId(def: JourneyDefinition, kind: StepKind): string {
  for (let n = 1; ; n++) {
    const id = `${kind}_${n}`;
    if (!(id in def.steps)) return id;
  }
}

/** Adds a step; the first step added becomes the start. */
export function addStep(def: JourneyDefinition, kind: StepKind): JourneyDefinition {
  const id = freeStepId(def, kind);
  return { ...def, start: def.start === '' ? id : def.start, steps: { ...def.steps, [id]: defaultStep(kind) } };
}

/** Removes a step and clears every outlet (and the start) that pointed at it. */
export function removeStep(def: JourneyDefinition, id: string): JourneyDefinition {
  const steps: Record<string, JourneyStep> = {};
  for (const [sid, step] of Object.entries(def.steps)) {
    if (sid === id) continue;
    let s = step;
    for (const o of outlets(step)) if (o.target === id) s = setOutlet(s, o.field, '');
    steps[sid] = s;
  }
  const goal = def.goal && def.goal.then === id ? (({ then: _t, ...g }) => g)(def.goal) : def.goal;
  return { ...def, start: def.start === id ? '' : def.start, steps, ...(goal ? { goal } : {}) };
}

/** The entry node's outlets: the first step, and (with a goal) the steps run when it is reached. */
export function entryOutlets(def: JourneyDefinition): Outlet[] {
  return [{ field: 'start', target: def.start }, ...(def.goal ? [{ field: 'goal', target: def.goal.then ?? '' }] : [])];
}

/** Connects `source`'s outlet `field` (or the entry's `start` / `goal`) to `target` ('' clears it). */
export function connect(def: JourneyDefinition, source: string, field: string, target: string): JourneyDefinition {
  if (source === ENTRY_NODE && field === 'goal') {
    if (!def.goal) return def;
    const { then: _then, ...goal } = def.goal;
    return { ...def, goal: target ? { ...goal, then: target } : goal };
  }
  if (source === ENTRY_NODE) return { ...def, start: target };
  const step = def.steps[source];
  if (!step) return def;
  return { ...def, steps: { ...def.steps, [source]: setOutlet(step, field, target) } };
}

/**
 * Positions for a top-down drawing: each step one row below the first step that reaches it
 * (breadth first from the start); unreachable steps go to a last row.
 */
export function layout(def: JourneyDefinition): Record<string, { x: number; y: number }> {
  const depth = new Map<string, number>();
  const queue: string[] = [];
  for (const o of entryOutlets(def)) if (o.target && def.steps[o.target] && !depth.has(o.target)) { depth.set(o.target, 1); queue.push(o.target); }
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const o of outlets(def.steps[id]!)) {
      if (o.target && def.steps[o.target] && !depth.has(o.target)) { depth.set(o.target, depth.get(id)! + 1); queue.push(o.target); }
    }
  }
  const maxDepth = Math.max(0, ...depth.values());
  for (const id of Object.keys(def.steps)) if (!depth.has(id)) depth.set(id, maxDepth + 1);
  const rows = new Map<number, string[]>();
  for (const [id, d] of depth) rows.set(d, [...(rows.get(d) ?? []), id]);
  const pos: Record<string, { x: number; y: number }> = { [ENTRY_NODE]: { x: 0, y: 0 } };
  for (const [d, ids] of rows) ids.forEach((id, i) => { pos[id] = { x: (i - (ids.length - 1) / 2) * 240, y: d * 140 }; });
  return pos;
}

/** Problems by node: `/steps/<id>/…` to that step, everything else to the entry node. */
export function problemsByNode(problems: readonly Problem[]): Map<string, Problem[]> {
  const out = new Map<string, Problem[]>();
  for (const p of problems) {
    const m = /^\/steps\/([^/]+)/.exec(p.path);
    const node = m ? decodePointer(m[1]!) : ENTRY_NODE;
    out.set(node, [...(out.get(node) ?? []), p]);
  }
  return out;
}

function decodePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * The definition to send: outlets left empty are dropped where the language allows it (a split
 * branch's `next`) and kept as '' elsewhere, so the server names the missing link precisely.
 */
export function toSubmit(def: JourneyDefinition): JourneyDefinition {
  const steps: Record<string, JourneyStep> = {};
  for (const [id, step] of Object.entries(def.steps)) {
    steps[id] = step.kind === 'split'
      ? { ...step, branches: step.branches.map((b) => { const { next, ...rest } = b; return b.control || !next ? rest : { ...rest, next }; }) }
      : step;
  }
  return { ...def, steps };
}

/**
 * What the editor can tell before asking the server: links not drawn yet (the first step, every
 * outlet). Other rules (split sums, unknown segments, loops…) are the server's, shown the same way.
 *
 * @example
 *   localProblems(addStep(emptyDefinition('x'), 'wait'))   // [{ path: '/steps/wait_1/next', code: 'missing_link', … }]
 */
export function localProblems(def: JourneyDefinition): Problem[] {
  const out: Problem[] = [];
  const duration = (path: string, v: string | undefined) => { if (v !== undefined && !DURATION.test(v)) out.push({ path, code: 'duration', message: '' }); };
  const time = (path: string, v: string | undefined) => { if (v !== undefined && !TIME.test(v)) out.push({ path, code: 'time', message: '' }); };
  if (!def.start) out.push({ path: '/start', code: 'missing_link', message: '' });
  if (def.reentry?.policy === 'cooldown') duration('/reentry/after', def.reentry.after);
  if (def.entry.kind === 'schedule') time('/entry/at', def.entry.at);
  for (const [id, step] of Object.entries(def.steps)) {
    for (const o of outlets(step)) if (!o.target) out.push({ path: `/steps/${id}/${o.field}`, code: 'missing_link', message: '' });
    if (step.kind === 'wait') { duration(`/steps/${id}/for`, step.for); time(`/steps/${id}/until`, step.until); }
    if (step.kind === 'wait_for') duration(`/steps/${id}/timeout`, step.timeout);
  }
  return out;
}

/** The server's duration and time-of-day forms (src/protocol/journey.ts). */
const DURATION = /^[1-9][0-9]{0,5}[smhdw]$/;
const TIME = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
