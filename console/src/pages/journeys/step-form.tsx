/**
 * The side panel of one step: every field of its kind, and where each outlet leads (a keyboard
 * alternative to drawing edges on the canvas). The server's problems for the step are listed on
 * top and repeated next to the field they point at.
 */
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { JourneyStep, Problem } from './types';
import { outlets, setOutlet } from './graph';
import { CheckField, Fieldset, NumberField, SelectField, TextArea, TextField } from './fields';
import { JsonField } from './json-field';
import { ConditionEditor } from '../segment/condition-editor';
import { ChoicesContext, EMPTY_CHOICES, type BuilderChoices } from '../segment/builder-context';
import type { Condition } from '../segment/conditions';

export interface Choice { id: string; name: string; kinds?: readonly string[] }

interface Props {
  id: string;
  step: JourneyStep;
  stepIds: string[];
  destinations: Choice[];
  segments: Choice[];
  problems: Problem[];
  /** What the condition builder offers (computed traits, segments, purposes). */
  builder?: BuilderChoices | undefined;
  onChange: (step: JourneyStep) => void;
  onDelete: () => void;
}

export function StepForm({ id, step, stepIds, destinations, segments, problems, builder, onChange, onDelete }: Props) {
  const { t } = useTranslation();
  const at = (suffix: string) => problems.filter((p) => p.path === `/steps/${id}/${suffix}` || p.path.startsWith(`/steps/${id}/${suffix}/`)).map((p) => p.message).join(' ') || undefined;
  const targets = stepIds.filter((s) => s !== id).map((s) => ({ value: s, label: s }));
  const dests = (kind: string) => destinations.filter((d) => !d.kinds || d.kinds.includes(kind)).map((d) => ({ value: d.id, label: d.name }));
  const segs = segments.map((s) => ({ value: s.id, label: s.name }));
  const set = (patch: Partial<JourneyStep>) => onChange({ ...step, ...patch } as JourneyStep);

  return (
    <section aria-label={t('journeys.stepPanel', { id })} className="journey-panel">
      <h3>{id} <span className="badge">{t(`journeys.kinds.${step.kind}`)}</span></h3>
      {problems.length > 0 && (
        <ul className="problems" role="alert" aria-label={t('journeys.problems')}>
          {problems.map((p, i) => <li key={i}><code>{p.path}</code> {p.message}</li>)}
        </ul>
      )}
      {step.kind === 'wait' && (
        <>
          <SelectField label={t('journeys.waitMode')} value={step.until !== undefined ? 'until' : 'for'}
            options={[{ value: 'for', label: t('journeys.waitFor') }, { value: 'until', label: t('journeys.waitUntil') }]}
            onChange={(v) => onChange(v === 'until' ? { kind: 'wait', until: '08:00', next: step.next } : { kind: 'wait', for: '1d', next: step.next })} />
          {step.until !== undefined
            ? <TextField label={t('journeys.timeOfDay')} type="time" value={step.until} error={at('until')} onChange={(v) => set({ until: v })} />
            : <TextField label={t('journeys.duration')} hint={t('journeys.durationHint')} value={step.for ?? ''} error={at('for')} onChange={(v) => set({ for: v })} />}
        </>
      )}
      {step.kind === 'wait_for' && (
        <>
          <SelectField label={t('journeys.waitForWhat')} value={step.segment ? 'segment' : 'event'}
            options={[{ value: 'event', label: t('journeys.anEvent') }, { value: 'segment', label: t('journeys.aSegmentChange') }]}
            onChange={(v) => onChange(v === 'segment'
              ? { kind: 'wait_for', segment: { segmentId: segs[0]?.value ?? '', on: 'entered' }, timeout: step.timeout, next: step.next, onTimeout: step.onTimeout }
              : { kind: 'wait_for', event: { event: '' }, timeout: step.timeout, next: step.next, onTimeout: step.onTimeout })} />
          {step.segment ? (
            <>
              <SelectField label={t('journeys.segment')} value={step.segment.segmentId} options={segs} empty={t('journeys.choose')} error={at('segment')}
                onChange={(v) => set({ segment: { segmentId: v, on: step.segment!.on } })} />
              <SelectField label={t('journeys.segmentOn')} value={step.segment.on}
                options={[{ value: 'entered', label: t('journeys.entered') }, { value: 'exited', label: t('journeys.exited') }]}
                onChange={(v) => set({ segment: { segmentId: step.segment!.segmentId, on: v as 'entered' | 'exited' } })} />
            </>
          ) : (
            <>
              <TextField label={t('journeys.eventName')} value={step.event?.event ?? ''} error={at('event')} onChange={(v) => set({ event: { ...step.event, event: v } })} />
              <JsonField label={t('journeys.eventFilters')} optional value={step.event?.filters} onChange={(v) => set({ event: { event: step.event?.event ?? '', ...(v === undefined ? {} : { filters: v as never }) } })} />
              <JsonField label={t('journeys.anyOfEvents')} optional value={step.events} onChange={(v) => { const { events: _e, ...rest } = step; onChange(v === undefined ? rest : { ...rest, events: v as never }); }} />
            </>
          )}
          <TextField label={t('journeys.timeout')} hint={t('journeys.durationHint')} value={step.timeout} error={at('timeout')} onChange={(v) => set({ timeout: v })} />
        </>
      )}
      {step.kind === 'branch' && (
        <Fieldset legend={t('journeys.condition')}>
          <p className="hint">{t('journeys.conditionHint')}</p>
          <ChoicesContext.Provider value={builder ?? { ...EMPTY_CHOICES, segments: segments.map((s) => ({ id: s.id, name: s.name })) }}>
            <ConditionEditor value={step.condition as Condition} path={`/steps/${id}/condition`} problems={problems} onChange={(c) => set({ condition: c })} />
          </ChoicesContext.Provider>
          <details>
            <summary>{t('journeys.conditionJson')}</summary>
            <JsonField label={t('journeys.conditionJson')} rows={6} value={step.condition} onChange={(v) => set({ condition: v })} />
          </details>
        </Fieldset>
      )}
      {step.kind === 'split' && (
        <Fieldset legend={t('journeys.splitBranches')}>
          {step.branches.map((b, i) => (
            <div key={i} className="split-row">
              <TextField label={t('journeys.branchName', { n: i + 1 })} value={b.name ?? ''} onChange={(v) => set({ branches: step.branches.map((x, j) => (j === i ? { ...x, name: v } : x)) })} />
              <NumberField label={t('journeys.branchPercent', { n: i + 1 })} min={0} max={100} value={b.percent} error={at(`branches/${i}`)}
                onChange={(v) => set({ branches: step.branches.map((x, j) => (j === i ? { ...x, percent: v ?? 0 } : x)) })} />
              <CheckField label={t('journeys.branchControl', { n: i + 1 })} checked={b.control === true}
                onChange={(v) => set({ branches: step.branches.map((x, j) => (j === i ? (v ? { percent: x.percent, control: true, ...(x.name ? { name: x.name } : {}) } : { percent: x.percent, next: '', ...(x.name ? { name: x.name } : {}) }) : x)) })} />
              {step.branches.length > 2 && <button type="button" onClick={() => set({ branches: step.branches.filter((_, j) => j !== i) })}>{t('journeys.removeBranch', { n: i + 1 })}</button>}
            </div>
          ))}
          {at('branches') && <p role="alert" className="field-error">{at('branches')}</p>}
          {step.branches.length < 10 && <button type="button" onClick={() => set({ branches: [...step.branches, { percent: 0, next: '' }] })}>{t('journeys.addBranch')}</button>}
        </Fieldset>
      )}
      {step.kind === 'send' && (
        <>
          <SelectField label={t('journeys.destination')} value={step.destinationId} options={dests('message')} empty={t('journeys.choose')} error={at('destinationId')} onChange={(v) => set({ destinationId: v })} />
          {(['subject', 'text', 'html', 'body', 'title', 'url'] as const).map((f) => (
            <TextArea key={f} label={t(`journeys.template.${f}`)} rows={f === 'html' || f === 'text' ? 4 : 1} value={step.template[f] ?? ''} error={at(`template/${f}`)}
              onChange={(v) => { const tpl = { ...step.template }; if (v === '') delete tpl[f]; else tpl[f] = v; set({ template: tpl }); }} />
          ))}
          {at('template') && <p role="alert" className="field-error">{at('template')}</p>}
        </>
      )}
      {step.kind === 'audience' && (
        <>
          <SelectField label={t('journeys.destination')} value={step.destinationId} options={dests('audience')} empty={t('journeys.choose')} error={at('destinationId')} onChange={(v) => set({ destinationId: v })} />
          <SelectField label={t('journeys.segment')} value={step.segmentId} options={segs} empty={t('journeys.choose')} error={at('segmentId')} onChange={(v) => set({ segmentId: v })} />
          <SelectField label={t('journeys.audienceAction')} value={step.action} options={[{ value: 'add', label: t('journeys.add') }, { value: 'remove', label: t('journeys.remove') }]} onChange={(v) => set({ action: v as 'add' | 'remove' })} />
        </>
      )}
      {step.kind === 'update_trait' && (
        <JsonField label={t('journeys.traits')} value={step.traits} onChange={(v) => set({ traits: (v ?? {}) as Record<string, string> })} />
      )}
      {step.kind === 'webhook' && (
        <SelectField label={t('journeys.destination')} value={step.destinationId} options={dests('event')} empty={t('journeys.choose')} error={at('destinationId')} onChange={(v) => set({ destinationId: v })} />
      )}
      {outlets(step).length > 0 && (
        <Fieldset legend={t('journeys.links')}>
          {outlets(step).map((o) => (
            <SelectField key={o.field} label={outletLabel(t, step, o.field)} value={o.target} options={targets} empty={t('journeys.choose')} error={at(o.field)}
              onChange={(v) => onChange(setOutlet(step, o.field, v))} />
          ))}
        </Fieldset>
      )}
      <button type="button" className="danger" onClick={onDelete}>{t('journeys.deleteStep', { id })}</button>
    </section>
  );
}

/** "Next step", "On timeout", "Then", "Else", "Branch A". */
export function outletLabel(t: TFunction, step: JourneyStep, field: string): string {
  const m = /^branches\/(\d+)\/next$/.exec(field);
  if (m && step.kind === 'split') {
    const i = Number(m[1]);
    return t('journeys.outlet.branch', { name: step.branches[i]?.name || String(i + 1) });
  }
  return t(`journeys.outlet.${field}`);
}
