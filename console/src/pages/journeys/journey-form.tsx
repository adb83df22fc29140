/**
 * The journey's own settings, shown when the entry node is selected: name, how people enter
 * (a segment, an event, or a schedule), the goal, re-entry and priority, and the first step.
 */
import { useTranslation } from 'react-i18next';
import type { JourneyDefinition, JourneyEntry, Problem, Reentry } from './types';
import { Fieldset, NumberField, SelectField, TextField } from './fields';
import { JsonField } from './json-field';
import type { Choice } from './step-form';

interface Props {
  def: JourneyDefinition;
  segments: Choice[];
  problems: Problem[];
  onChange: (def: JourneyDefinition) => void;
}

const DAYS = [0, 1, 2, 3, 4, 5, 6];

export function JourneyForm({ def, segments, problems, onChange }: Props) {
  const { t } = useTranslation();
  const at = (prefix: string) => problems.filter((p) => p.path === prefix || p.path.startsWith(`${prefix}/`)).map((p) => p.message).join(' ') || undefined;
  const segs = segments.map((s) => ({ value: s.id, label: s.name }));
  const entry = def.entry;
  const setEntry = (e: JourneyEntry) => onChange({ ...def, entry: e });
  const reentry: Reentry = def.reentry ?? { policy: 'once' };
  const general = problems.filter((p) => !/^\/(name|entry|goal|reentry|priority|start)(\/|$)/.test(p.path));

  return (
    <section aria-label={t('journeys.settings')} className="journey-panel">
      <h3>{t('journeys.settings')}</h3>
      {general.length > 0 && (
        <ul className="problems" role="alert" aria-label={t('journeys.problems')}>
          {general.map((p, i) => <li key={i}><code>{p.path || '/'}</code> {p.message}</li>)}
        </ul>
      )}
      <TextField label={t('journeys.name')} value={def.name} required error={at('/name')} onChange={(v) => onChange({ ...def, name: v })} />
      <Fieldset legend={t('journeys.entry')}>
        <SelectField label={t('journeys.entryKind')} value={entry.kind}
          options={[{ value: 'event', label: t('journeys.entryEvent') }, { value: 'segment', label: t('journeys.entrySegment') }, { value: 'schedule', label: t('journeys.entrySchedule') }]}
          onChange={(v) => setEntry(v === 'segment' ? { kind: 'segment', segmentId: segs[0]?.value ?? '' } : v === 'schedule' ? { kind: 'schedule', segmentId: segs[0]?.value ?? '', at: '09:00' } : { kind: 'event', event: '' })} />
        {entry.kind === 'event' && (
          <>
            <TextField label={t('journeys.entryEventName')} value={entry.event} error={at('/entry/event')} onChange={(v) => setEntry({ ...entry, event: v })} />
            <JsonField label={t('journeys.eventFilters')} optional value={entry.filters} onChange={(v) => setEntry(v === undefined ? { kind: 'event', event: entry.event } : { ...entry, filters: v as never })} />
          </>
        )}
        {(entry.kind === 'segment' || entry.kind === 'schedule') && (
          <SelectField label={t('journeys.segment')} value={entry.segmentId} options={segs} empty={t('journeys.choose')} error={at('/entry/segmentId')} onChange={(v) => setEntry({ ...entry, segmentId: v })} />
        )}
        {entry.kind === 'schedule' && (
          <>
            <TextField label={t('journeys.scheduleAt')} type="time" value={entry.at} error={at('/entry/at')} onChange={(v) => setEntry({ ...entry, at: v })} />
            <Fieldset legend={t('journeys.scheduleDays')}>
              {DAYS.map((d) => (
                <label key={d} className="inline-check">
                  <input type="checkbox" checked={entry.days ? entry.days.includes(d) : true}
                    onChange={(e) => {
                      const cur = entry.days ?? DAYS;
                      const days = e.target.checked ? [...new Set([...cur, d])].sort() : cur.filter((x) => x !== d);
                      const { days: _old, ...rest } = entry;
                      setEntry(days.length === 7 || days.length === 0 ? rest : { ...rest, days });
                    }} />
                  {t(`journeys.day.${d}`)}
                </label>
              ))}
            </Fieldset>
            <TextField label={t('journeys.timeZone')} value={entry.timeZone ?? ''} placeholder="Europe/Paris" error={at('/entry/timeZone')}
              onChange={(v) => { const { timeZone: _z, ...rest } = entry; setEntry(v ? { ...rest, timeZone: v } : rest); }} />
          </>
        )}
      </Fieldset>
      <Fieldset legend={t('journeys.goal')}>
        <TextField label={t('journeys.goalEvent')} hint={t('journeys.goalHint')} value={def.goal?.event ?? ''} error={at('/goal')}
          onChange={(v) => { const { goal: _g, ...rest } = def; onChange(v ? { ...rest, goal: { ...def.goal, event: v } } : rest); }} />
        {def.goal && (
          <SelectField label={t('journeys.goalThen')} hint={t('journeys.goalThenHint')} value={def.goal.then ?? ''} options={Object.keys(def.steps).map((s) => ({ value: s, label: s }))} empty={t('journeys.none_')} error={at('/goal/then')}
            onChange={(v) => { const { then: _t, ...g } = def.goal!; onChange({ ...def, goal: v ? { ...g, then: v } : g }); }} />
        )}
      </Fieldset>
      <Fieldset legend={t('journeys.reentry')}>
        <SelectField label={t('journeys.reentryPolicy')} value={reentry.policy}
          options={[{ value: 'once', label: t('journeys.reentryOnce') }, { value: 'always', label: t('journeys.reentryAlways') }, { value: 'cooldown', label: t('journeys.reentryCooldown') }]}
          onChange={(v) => onChange({ ...def, reentry: v === 'cooldown' ? { policy: 'cooldown', after: '30d' } : { policy: v as 'once' | 'always' } })} />
        {reentry.policy === 'cooldown' && (
          <TextField label={t('journeys.cooldownAfter')} hint={t('journeys.durationHint')} value={reentry.after} error={at('/reentry')} onChange={(v) => onChange({ ...def, reentry: { policy: 'cooldown', after: v } })} />
        )}
      </Fieldset>
      <NumberField label={t('journeys.priority')} hint={t('journeys.priorityHint')} min={1} max={10} value={def.priority} error={at('/priority')}
        onChange={(v) => { const { priority: _p, ...rest } = def; onChange(v === undefined ? rest : { ...rest, priority: v }); }} />
      <SelectField label={t('journeys.start')} value={def.start} options={Object.keys(def.steps).map((s) => ({ value: s, label: s }))} empty={t('journeys.choose')} error={at('/start')}
        onChange={(v) => onChange({ ...def, start: v })} />
    </section>
  );
}
