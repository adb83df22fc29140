/** Editors for each kind of leaf condition of the segment language (src/protocol/segment.ts). */
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { CheckboxField, NumberField, SelectField, TextField } from '../../components';
import { COUNT_OPS, FILTER_OPS, type Condition } from './conditions';
import { FiltersEditor, type Filter } from './filters-editor';
import { useChoices } from './builder-context';
import { ValueInput } from './value-input';

interface Props { value: Condition; onChange(c: Condition): void }

/** A text field with suggestions (a datalist): free text stays possible. */
function Suggest({ label, value, onChange, options, placeholder }: { label: string; value: string; onChange(v: string): void; options: string[]; placeholder?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} list={`${id}-list`} value={value} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} />
      <datalist id={`${id}-list`}>{options.map((o) => <option key={o} value={o} />)}</datalist>
    </div>
  );
}

function OpField({ value, onChange, ops = FILTER_OPS }: { value: string; onChange(v: string): void; ops?: readonly string[] }) {
  const { t } = useTranslation();
  return <SelectField label={t('segment.op')} value={value} onChange={onChange} options={ops.map((o) => ({ value: o, label: t(`segment.ops.${o}`) }))} />;
}

function withValue(c: Condition, value: unknown): Condition {
  const next = { ...c };
  if (value === undefined) delete next.value; else next.value = value;
  return next;
}

export function TraitEditor({ value: c, onChange }: Props) {
  const { t } = useTranslation();
  return (
    <div className="row">
      <TextField label={t('segment.traitName')} value={String(c.trait ?? '')} onChange={(trait) => onChange({ ...c, trait })} placeholder="plan" />
      <OpField value={String(c.op)} onChange={(op) => onChange({ ...c, op })} />
      <ValueInput op={String(c.op)} value={c.value} label={t('segment.value')} onChange={(v) => onChange(withValue(c, v))} />
    </div>
  );
}

export function ComputedEditor({ value: c, onChange }: Props) {
  const { t } = useTranslation();
  const { computed } = useChoices();
  return (
    <div className="row">
      <Suggest label={t('segment.computedName')} value={String(c.name ?? '')} onChange={(name) => onChange({ ...c, name })} options={computed} />
      <OpField value={String(c.op)} onChange={(op) => onChange({ ...c, op })} />
      <ValueInput op={String(c.op)} value={c.value} label={t('segment.value')} onChange={(v) => onChange(withValue(c, v))} />
    </div>
  );
}

type Window = 'within' | 'between' | 'ever';

export function EventEditor({ value: c, onChange }: Props) {
  const { t } = useTranslation();
  const { events } = useChoices();
  const count = (c.count as { op: string; value: number } | undefined) ?? { op: 'gte', value: 1 };
  const between = (c.between as { from: string; to: string } | undefined) ?? { from: '', to: '' };
  const windowKind: Window = c.within !== undefined ? 'within' : c.between !== undefined ? 'between' : 'ever';
  const setWindow = (w: Window) => {
    const next = { ...c };
    delete next.within;
    delete next.between;
    if (w === 'within') next.within = '30d';
    if (w === 'between') next.between = { from: '', to: '' };
    onChange(next);
  };
  return (
    <>
      <div className="row">
        <Suggest label={t('segment.eventName')} value={String(c.event ?? '')} onChange={(event) => onChange({ ...c, event })} options={['$page', '$any', ...events]} placeholder="Order Completed" />
        <SelectField label={t('segment.countOp')} value={count.op} onChange={(op) => onChange({ ...c, count: { ...count, op } })} options={COUNT_OPS.map((o) => ({ value: o, label: t(`segment.ops.${o}`) }))} />
        <NumberField label={t('segment.countValue')} min={0} max={1000} value={count.value} onChange={(v) => onChange({ ...c, count: { ...count, value: v === '' ? 0 : v } })} />
        <SelectField label={t('segment.window')} value={windowKind} onChange={(w) => setWindow(w as Window)} options={(['within', 'between', 'ever'] as const).map((w) => ({ value: w, label: t(`segment.windows.${w}`) }))} />
        {windowKind === 'within' && <TextField label={t('segment.duration')} hint={t('segment.durationHint')} value={String(c.within)} onChange={(within) => onChange({ ...c, within })} />}
        {windowKind === 'between' && (
          <>
            <TextField label={t('segment.from')} type="date" value={between.from} onChange={(from) => onChange({ ...c, between: { ...between, from } })} />
            <TextField label={t('segment.to')} type="date" value={between.to} onChange={(to) => onChange({ ...c, between: { ...between, to } })} />
          </>
        )}
      </div>
      <FiltersEditor filters={(c.filters as Filter[] | undefined) ?? []} onChange={(f) => { const next = { ...c }; if (f.length === 0) delete next.filters; else next.filters = f; onChange(next); }} />
    </>
  );
}

interface Step { event: string; filters?: Filter[]; absent?: boolean }

export function SequenceEditor({ value: c, onChange }: Props) {
  const { t } = useTranslation();
  const { events } = useChoices();
  const steps = (c.steps as Step[] | undefined) ?? [];
  const setStep = (i: number, s: Step) => onChange({ ...c, steps: steps.map((x, j) => (j === i ? s : x)) });
  return (
    <>
      <ol className="steps">
        {steps.map((s, i) => (
          <li key={i}>
            <div className="row" role="group" aria-label={t('segment.stepN', { n: i + 1 })}>
              <Suggest label={t('segment.stepEvent', { n: i + 1 })} value={s.event} onChange={(event) => setStep(i, { ...s, event })} options={['$page', '$any', ...events]} />
              {i > 0 && <CheckboxField label={t('segment.absent')} checked={s.absent === true} onChange={(absent) => { const next = { ...s }; if (absent) next.absent = true; else delete next.absent; setStep(i, next); }} />}
              {steps.length > 2 && <div className="field"><button type="button" className="danger" onClick={() => onChange({ ...c, steps: steps.filter((_, j) => j !== i) })}>{t('segment.removeStep')}</button></div>}
            </div>
            <FiltersEditor filters={s.filters ?? []} onChange={(f) => { const next = { ...s }; if (f.length === 0) delete next.filters; else next.filters = f; setStep(i, next); }} />
          </li>
        ))}
      </ol>
      <div className="row">
        {steps.length < 6 && <div className="field"><button type="button" onClick={() => onChange({ ...c, steps: [...steps, { event: '' }] })}>{t('segment.addStep')}</button></div>}
        <TextField label={t('segment.sequenceWithin')} hint={t('segment.durationHint')} value={String(c.within ?? '')} onChange={(within) => onChange({ ...c, within })} />
      </div>
    </>
  );
}

export function SegmentRefEditor({ value: c, onChange }: Props) {
  const { t } = useTranslation();
  const { segments, self } = useChoices();
  const options = [{ value: '', label: t('segment.pickSegment') }, ...segments.filter((s) => s.id !== self).map((s) => ({ value: s.id, label: s.name }))];
  return <div className="row"><SelectField label={t('segment.segmentRef')} value={String(c.id ?? '')} onChange={(id) => onChange({ ...c, id })} options={options} /></div>;
}

export function ConsentEditor({ value: c, onChange }: Props) {
  const { t } = useTranslation();
  const { purposes } = useChoices();
  return <div className="row"><Suggest label={t('segment.purpose')} value={String(c.purpose ?? '')} onChange={(purpose) => onChange({ ...c, purpose })} options={purposes} placeholder="email_marketing" /></div>;
}

export function GeoEditor({ value: c, onChange }: Props) {
  const { t } = useTranslation();
  const near = c.near as { latitude: number; longitude: number; radiusKm: number } | undefined;
  const mode = near ? 'near' : 'country';
  const num = (v: number | '') => (v === '' ? 0 : v);
  return (
    <div className="row">
      <SelectField label={t('segment.geoMode')} value={mode} onChange={(m) => onChange(m === 'near' ? { kind: 'geo', near: { latitude: 48.8566, longitude: 2.3522, radiusKm: 10 } } : { kind: 'geo', country: ['FR'] })}
        options={[{ value: 'country', label: t('segment.geoCountry') }, { value: 'near', label: t('segment.geoNear') }]} />
      {near ? (
        <>
          <NumberField label={t('segment.latitude')} step="any" min={-90} max={90} value={near.latitude} onChange={(v) => onChange({ ...c, near: { ...near, latitude: num(v) } })} />
          <NumberField label={t('segment.longitude')} step="any" min={-180} max={180} value={near.longitude} onChange={(v) => onChange({ ...c, near: { ...near, longitude: num(v) } })} />
          <NumberField label={t('segment.radiusKm')} step="any" min={0} value={near.radiusKm} onChange={(v) => onChange({ ...c, near: { ...near, radiusKm: num(v) } })} />
        </>
      ) : (
        <TextField label={t('segment.countries')} hint={t('segment.countriesHint')} value={((c.country as string[] | undefined) ?? []).join(', ')}
          onChange={(v) => onChange({ ...c, country: v.split(',').map((x) => x.trim().toUpperCase()).filter(Boolean) })} />
      )}
    </div>
  );
}

export function ExternalEditor({ value: c, onChange }: Props) {
  const { t } = useTranslation();
  const { external } = useChoices();
  const fields = external.find((e) => e.id === c.source)?.fields ?? [];
  return (
    <div className="row">
      <Suggest label={t('segment.externalSource')} value={String(c.source ?? '')} onChange={(source) => onChange({ ...c, source })} options={external.map((e) => e.id)} placeholder="weather" />
      <TextField label={t('segment.externalKey')} hint={t('segment.externalKeyHint')} value={String(c.key ?? '')} onChange={(key) => onChange({ ...c, key })} placeholder="city" />
      <Suggest label={t('segment.externalField')} value={String(c.field ?? '')} onChange={(field) => onChange({ ...c, field })} options={fields} placeholder="temperature" />
      <OpField value={String(c.op)} onChange={(op) => onChange({ ...c, op })} />
      <ValueInput op={String(c.op)} value={c.value} label={t('segment.value')} onChange={(v) => onChange(withValue(c, v))} />
    </div>
  );
}

export function ScoreEditor({ value: c, onChange }: Props) {
  const { t } = useTranslation();
  const { models } = useChoices();
  const decile = c.decile as { op: string; value: number } | undefined;
  const mode = decile ? 'decile' : 'score';
  const setMode = (m: string) => onChange(m === 'decile' ? { kind: 'score', model: c.model, decile: { op: 'gte', value: 8 } } : { kind: 'score', model: c.model, op: 'gte', value: 0.5 });
  const countOps = COUNT_OPS.map((o) => ({ value: o, label: t(`segment.ops.${o}`) }));
  return (
    <div className="row">
      <Suggest label={t('segment.model')} value={String(c.model ?? '')} onChange={(model) => onChange({ ...c, model })} options={models.map((m) => m.id)} placeholder="churn_60d" />
      <SelectField label={t('segment.scoreMode')} value={mode} onChange={setMode} options={[{ value: 'decile', label: t('segment.decile') }, { value: 'score', label: t('segment.scoreValue') }]} />
      {decile ? (
        <>
          <SelectField label={t('segment.op')} value={decile.op} onChange={(op) => onChange({ ...c, decile: { ...decile, op } })} options={countOps} />
          <NumberField label={t('segment.decile')} min={1} max={10} value={decile.value} onChange={(v) => onChange({ ...c, decile: { ...decile, value: v === '' ? 1 : v } })} />
        </>
      ) : (
        <>
          <SelectField label={t('segment.op')} value={String(c.op ?? 'gte')} onChange={(op) => onChange({ ...c, op })} options={countOps} />
          <NumberField label={t('segment.scoreValue')} min={0} max={1} step="0.01" value={typeof c.value === 'number' ? c.value : ''} onChange={(v) => onChange({ ...c, value: v === '' ? 0 : v })} />
        </>
      )}
    </div>
  );
}
