/**
 * Create or edit a destination: the connector (on create), name, the generated config form,
 * the segments it mirrors (audience connectors), the events it forwards (event connectors), and
 * delivery and transfer settings. The server validates everything; its problems are shown at
 * the field they name.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { ErrorMessage } from '../../components/ErrorMessage';
import { CheckField, Fieldset, NumberField, SelectField, TextField } from '../journeys/fields';
import { SchemaForm, type Problem } from './schema-form';
import type { DestinationType, DestinationView } from './types';

interface Props {
  types: DestinationType[];
  segments: Array<{ id: string; name: string }>;
  existing?: DestinationView | undefined;
  onSaved: (d: DestinationView) => void;
}

export function DestinationForm({ types, segments, existing, onSaved }: Props) {
  const { t } = useTranslation();
  const { workspaceId, can } = useSession();
  const [type, setType] = useState(existing?.type ?? types[0]?.id ?? '');
  const [name, setName] = useState(existing?.name ?? '');
  const [config, setConfig] = useState<Record<string, unknown>>(existing?.config ?? {});
  const [purpose, setPurpose] = useState(existing?.purpose ?? '');
  const [chosen, setChosen] = useState<string[]>(existing?.segments ?? []);
  const [forward, setForward] = useState(existing?.events !== undefined);
  const [names, setNames] = useState((existing?.events?.names ?? []).join(', '));
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);
  const [maxAttempts, setMaxAttempts] = useState<number | undefined>(existing?.maxAttempts);
  const [rate, setRate] = useState<number | undefined>(existing?.ratePerSecond);
  const [country, setCountry] = useState(existing?.recipient.country ?? '');
  const [safeguard, setSafeguard] = useState(existing?.recipient.transferSafeguard ?? '');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const connector = types.find((x) => x.id === type);

  const submit = async () => {
    if (!connector) return;
    setSaving(true); setError(null); setProblems([]);
    const names_ = names.split(',').map((s) => s.trim()).filter(Boolean);
    const body: Record<string, unknown> = {
      name, config, enabled,
      ...(purpose ? { purpose } : {}),
      ...(connector.kinds.includes('audience') ? { segments: chosen } : {}),
      ...(connector.kinds.includes('event') && forward ? { events: names_.length > 0 ? { ...existing?.events, names: names_ } : { ...existing?.events } } : {}),
      ...(maxAttempts !== undefined ? { maxAttempts } : {}),
      ...(rate !== undefined ? { ratePerSecond: rate } : {}),
      ...(country ? { country } : {}),
      ...(safeguard ? { transferSafeguard: safeguard } : {}),
    };
    try {
      const d = existing
        ? await api.put<DestinationView>(ws(workspaceId, `/destinations/${encodeURIComponent(existing.id)}`), body)
        : await api.post<DestinationView>(ws(workspaceId, '/destinations'), { type, ...body });
      onSaved(d);
    } catch (e) {
      setError(e);
      if (e instanceof ApiError) setProblems(((e.details as { problems?: Problem[] } | undefined)?.problems) ?? []);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="destination-form" onSubmit={(e) => { e.preventDefault(); void submit(); }} aria-label={existing ? t('destinations.edit') : t('destinations.create')}>
      <fieldset disabled={!can('destinations.write')}>
        {!existing && (
          <SelectField label={t('destinations.connector')} value={type} hint={connector?.description}
            options={types.map((x) => ({ value: x.id, label: x.name }))} onChange={(v) => { setType(v); setConfig({}); }} />
        )}
        <TextField label={t('destinations.name')} value={name} required onChange={setName} />
        {connector && (
          <>
            <Fieldset legend={t('destinations.config', { name: connector.name })}>
              <SchemaForm schema={connector.configSchema} secrets={connector.secrets} value={config} onChange={setConfig} problems={problems} />
            </Fieldset>
            <TextField label={t('destinations.purpose')} hint={t('destinations.purposeHint', { purpose: connector.purpose })} value={purpose} placeholder={connector.purpose} onChange={setPurpose} />
            {connector.kinds.includes('audience') && (
              <Fieldset legend={t('destinations.segments')}>
                {segments.length === 0 && <p>{t('destinations.noSegments')}</p>}
                {segments.map((s) => (
                  <CheckField key={s.id} label={s.name} checked={chosen.includes(s.id)} onChange={(v) => setChosen(v ? [...chosen, s.id] : chosen.filter((x) => x !== s.id))} />
                ))}
              </Fieldset>
            )}
            {connector.kinds.includes('event') && (
              <Fieldset legend={t('destinations.events')}>
                <CheckField label={t('destinations.forwardEvents')} checked={forward} onChange={setForward} />
                {forward && <TextField label={t('destinations.eventNames')} hint={t('destinations.eventNamesHint')} value={names} onChange={setNames} />}
              </Fieldset>
            )}
            <Fieldset legend={t('destinations.delivery')}>
              <CheckField label={t('destinations.enabled')} checked={enabled} onChange={setEnabled} />
              <NumberField label={t('destinations.maxAttempts')} min={1} max={50} value={maxAttempts} onChange={setMaxAttempts} />
              <NumberField label={t('destinations.ratePerSecond')} hint={t('destinations.rateHint', { rate: connector.ratePerSecond })} min={0} step="any" value={rate} onChange={setRate} />
              <TextField label={t('destinations.country')} hint={t('destinations.countryHint')} value={country} onChange={(v) => setCountry(v.toUpperCase())} />
              <TextField label={t('destinations.safeguard')} hint={t('destinations.safeguardHint')} value={safeguard} onChange={setSafeguard} />
            </Fieldset>
          </>
        )}
        <button type="submit" className="primary" disabled={saving}>{existing ? t('destinations.save') : t('destinations.createButton')}</button>
      </fieldset>
      <ErrorMessage error={error} />
    </form>
  );
}
