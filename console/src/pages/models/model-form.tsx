/**
 * A new model: its key (what segment `score` conditions name), name, target — propensity (will
 * do an event within N days), churn (will not), lookalike (resembles a segment's members) or
 * label (a trait imported from a CRM) — and optionally a population segment, purpose and
 * rescoring period.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Fieldset, NumberField, SelectField, TextArea, TextField } from '../journeys/fields';
import type { ModelTarget, ModelView } from './types';

export function ModelForm({ segments, onCreated }: { segments: Array<{ id: string; name: string }>; onCreated: (m: ModelView) => void }) {
  const { t } = useTranslation();
  const { workspaceId } = useSession();
  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [kind, setKind] = useState<ModelTarget['kind']>('propensity');
  const [event, setEvent] = useState('');
  const [days, setDays] = useState<number | undefined>(30);
  const [segment, setSegment] = useState('');
  const [trait, setTrait] = useState('');
  const [positive, setPositive] = useState('');
  const [population, setPopulation] = useState('');
  const [purpose, setPurpose] = useState('');
  const [rescore, setRescore] = useState<number | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const segs = segments.map((s) => ({ value: s.id, label: s.name }));

  const target = (): ModelTarget => {
    switch (kind) {
      case 'propensity': return { kind, event, withinDays: days ?? 0 };
      case 'churn': return { kind, withinDays: days ?? 0, ...(event ? { event } : {}) };
      case 'lookalike': return { kind, segment };
      case 'label': return { kind, trait, ...(positive ? { positive: positive === 'true' ? true : positive === 'false' ? false : positive } : {}) };
    }
  };
  const submit = async () => {
    setError(null);
    try {
      onCreated(await api.post<ModelView>(ws(workspaceId, '/models'), {
        key, name, target: target(),
        ...(description ? { description } : {}), ...(population ? { population } : {}), ...(purpose ? { purpose } : {}), ...(rescore ? { rescoreHours: rescore } : {}),
      }));
    } catch (e) { setError(e); }
  };
  return (
    <form onSubmit={(e) => { e.preventDefault(); void submit(); }} aria-label={t('models.create')}>
      <TextField label={t('models.key')} hint={t('models.keyHint')} value={key} required onChange={setKey} />
      <TextField label={t('models.name')} value={name} required onChange={setName} />
      <TextArea label={t('models.description')} value={description} onChange={setDescription} rows={2} />
      <Fieldset legend={t('models.target')}>
        <SelectField label={t('models.targetKind')} value={kind} options={(['propensity', 'churn', 'lookalike', 'label'] as const).map((k) => ({ value: k, label: t(`models.kinds.${k}`) }))}
          onChange={(v) => setKind(v as ModelTarget['kind'])} hint={t(`models.kindHelp.${kind}`)} />
        {(kind === 'propensity' || kind === 'churn') && (
          <>
            <TextField label={kind === 'churn' ? t('models.churnEvent') : t('models.event')} value={event} required={kind === 'propensity'} onChange={setEvent} />
            <NumberField label={t('models.withinDays')} min={1} max={365} value={days} required onChange={setDays} />
          </>
        )}
        {kind === 'lookalike' && <SelectField label={t('models.segment')} value={segment} options={segs} empty={t('models.choose')} required onChange={setSegment} />}
        {kind === 'label' && (
          <>
            <TextField label={t('models.trait')} value={trait} required onChange={setTrait} />
            <TextField label={t('models.positive')} hint={t('models.positiveHint')} value={positive} onChange={setPositive} />
          </>
        )}
      </Fieldset>
      <SelectField label={t('models.population')} value={population} options={segs} empty={t('models.everyone')} onChange={setPopulation} />
      <TextField label={t('models.purpose')} hint={t('models.purposeHint')} value={purpose} placeholder="analytics" onChange={setPurpose} />
      <NumberField label={t('models.rescoreHours')} min={1} max={8760} value={rescore} onChange={setRescore} />
      <button type="submit" className="primary">{t('models.createButton')}</button>
      <ErrorMessage error={error} />
    </form>
  );
}
