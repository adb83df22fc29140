/**
 * Real-time triggers: "when event X (with filters) happens, or a profile enters / exits segment
 * S, do Y on destination D" — add to or remove from an audience, send a message, forward the
 * event. The fan-out evaluates them on the same outboxes as audiences, so a trigger's delivery
 * is queued in the transaction that moves past its cause.
 */
import type { Trigger, TriggerInputT } from '../protocol/activation.js';
import { EnsembleError } from '../protocol/errors.js';
import { filterProblems, type DefinitionProblem } from '../protocol/filter.js';
import { compileMatcher, type EventMatcher } from '../profiles/computed-trait-match.js';
import { newId } from '../platform/ids.js';
import type { DuckDbActivationStore } from '../storage/duckdb/activation-store.js';
import type { Destinations } from './destinations.js';

export interface TriggerDeps {
  store: DuckDbActivationStore;
  destinations: Destinations;
  segmentExists(workspaceId: string, id: string): boolean;
  /** Problems of a message template (Liquid syntax), empty when valid. */
  templateProblems(template: Record<string, string>): DefinitionProblem[];
  now(): number;
}

export class Triggers {
  private readonly byId = new Map<string, { trigger: Trigger; matches: EventMatcher | null }>();

  constructor(private readonly deps: TriggerDeps) {}

  async load(): Promise<void> {
    for (const t of await this.deps.store.triggers()) {
      const def = t.definition as TriggerInputT;
      this.remember({ ...def, id: t.id, workspaceId: t.workspaceId, enabled: t.enabled, createdAt: t.createdAt });
    }
  }

  list(workspaceId: string): Trigger[] {
    return [...this.byId.values()].map((e) => e.trigger).filter((t) => t.workspaceId === workspaceId);
  }

  get(workspaceId: string, id: string): Trigger {
    const e = this.byId.get(id);
    if (!e || e.trigger.workspaceId !== workspaceId) throw new EnsembleError('ENSEMBLE_ERR_TRIGGER_NOT_FOUND');
    return e.trigger;
  }

  async create(workspaceId: string, input: TriggerInputT): Promise<Trigger> {
    this.check(workspaceId, input);
    const t: Trigger = { ...input, id: newId('trg'), workspaceId, enabled: input.enabled ?? true, createdAt: this.deps.now() };
    await this.save(t);
    return t;
  }

  async update(workspaceId: string, id: string, input: TriggerInputT): Promise<Trigger> {
    const before = this.get(workspaceId, id);
    this.check(workspaceId, input);
    const t: Trigger = { ...input, id, workspaceId, enabled: input.enabled ?? true, createdAt: before.createdAt };
    await this.save(t);
    return t;
  }

  async delete(workspaceId: string, id: string): Promise<void> {
    this.get(workspaceId, id);
    await this.deps.store.deleteTrigger(workspaceId, id);
    this.byId.delete(id);
  }

  /** Enabled triggers of a workspace fired by an event. */
  forEvent(workspaceId: string, e: { type: string; event: string | null; properties: Record<string, unknown> }): Trigger[] {
    const out: Trigger[] = [];
    for (const { trigger, matches } of this.byId.values()) {
      if (trigger.enabled && trigger.workspaceId === workspaceId && matches !== null && matches(e)) out.push(trigger);
    }
    return out;
  }

  /** Whether some enabled trigger fires on events. */
  listensToEvents(): boolean {
    for (const { trigger } of this.byId.values()) if (trigger.enabled && trigger.when.kind === 'event') return true;
    return false;
  }

  /** Enabled triggers fired by a membership change. */
  forChange(workspaceId: string, segmentId: string, entered: boolean): Trigger[] {
    return [...this.byId.values()].map((e) => e.trigger).filter((t) => t.enabled && t.workspaceId === workspaceId
      && t.when.kind === 'segment' && t.when.segmentId === segmentId && (t.when.on === 'entered') === entered);
  }

  private check(workspaceId: string, t: TriggerInputT): void {
    const problems: DefinitionProblem[] = [];
    const add = (path: string, code: string, message: string) => { problems.push({ path, code, message }); };
    if (t.when.kind === 'event') filterProblems(t.when.filters, '/when/filters', add);
    else if (!this.deps.segmentExists(workspaceId, t.when.segmentId)) add('/when/segmentId', 'unknown_segment', 'No such segment in this workspace.');
    const d = this.deps.destinations.list(workspaceId).find((x) => x.id === t.then.destinationId);
    if (!d) add('/then/destinationId', 'unknown_destination', 'No such destination in this workspace.');
    if (problems.length > 0) throw new EnsembleError('ENSEMBLE_ERR_TRIGGER_INVALID', problems[0]!.message, { problems });
    const m = this.deps.destinations.manifestOf(d!);
    const then = t.then;
    const need = then.action === 'send' ? 'message' : then.action === 'forward' ? 'event' : 'audience';
    if (!m.kinds.includes(need)) throw new EnsembleError('ENSEMBLE_ERR_DESTINATION_KIND', `${m.name} takes no ${need === 'audience' ? 'audiences' : need + 's'}.`);
    if ((then.action === 'add' || then.action === 'remove') && !d!.segments.includes(then.segmentId)) {
      throw new EnsembleError('ENSEMBLE_ERR_TRIGGER_INVALID', 'The destination does not mirror this segment: connect it first.', { problems: [{ path: '/then/segmentId', code: 'segment_not_connected', message: 'Not one of the destination\'s segments.' }] });
    }
    if (then.action === 'forward' && t.when.kind !== 'event') {
      throw new EnsembleError('ENSEMBLE_ERR_TRIGGER_INVALID', 'Only an event can be forwarded.', { problems: [{ path: '/then/action', code: 'forward_needs_event', message: 'Use an event trigger.' }] });
    }
    if (then.action === 'send') {
      const tp = this.deps.templateProblems(then.template);
      if (tp.length > 0) throw new EnsembleError('ENSEMBLE_ERR_TEMPLATE_INVALID', tp[0]!.message, { problems: tp });
    }
  }

  private async save(t: Trigger): Promise<void> {
    const { id, workspaceId, enabled, createdAt, ...definition } = t;
    await this.deps.store.saveTrigger({ workspaceId, id, definition, enabled, createdAt });
    this.remember(t);
  }

  private remember(t: Trigger): void {
    this.byId.set(t.id, { trigger: t, matches: t.when.kind === 'event' ? compileMatcher({ event: t.when.event, filters: t.when.filters ?? [] }) : null });
  }
}
