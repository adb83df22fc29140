/**
 * The workspace's marketing-pressure policy (GET/PUT /api/workspaces/:ws/pressure-policy): caps
 * per channel (or across all) within a sliding window, quiet hours, the default time zone, and
 * whether a more important message may displace a less important one.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ws, ApiError } from '../../api/client';
import { useSession } from '../../auth';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Panel } from '../../components/Page';
import { useApi } from '../../components/useApi';
import type { PressureCap, PressurePolicy, Problem } from './types';
import { CheckField, NumberField, SelectField, TextField } from './fields';

const CHANNELS: PressureCap['channel'][] = ['all', 'email', 'sms', 'push', 'mail'];

export function PressurePolicyForm() {
  const { t } = useTranslation();
  const { workspaceId, can } = useSession();
  const loaded = useApi((signal) => api.get<PressurePolicy>(ws(workspaceId, '/pressure-policy'), undefined, signal), [workspaceId]);
  const [policy, setPolicy] = useState<PressurePolicy | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [saved, setSaved] = useState(false);
  useEffect(() => { if (loaded.data) setPolicy(loaded.data); }, [loaded.data]);
  if (!policy) return <Panel title={t('journeys.pressure')}><ErrorMessage error={loaded.error} /></Panel>;
  const at = (prefix: string) => problems.filter((p) => p.path.startsWith(prefix)).map((p) => p.message).join(' ') || undefined;
  const setCap = (i: number, patch: Partial<PressureCap>) => setPolicy({ ...policy, caps: policy.caps.map((c, j) => (j === i ? { ...c, ...patch } : c)) });
  const save = async () => {
    setError(null); setSaved(false); setProblems([]);
    try { setPolicy(await api.put<PressurePolicy>(ws(workspaceId, '/pressure-policy'), policy)); setSaved(true); } catch (e) {
      setError(e);
      if (e instanceof ApiError) setProblems(((e.details as { problems?: Problem[] } | undefined)?.problems) ?? []);
    }
  };
  return (
    <Panel title={t('journeys.pressure')}>
      <form onSubmit={(e) => { e.preventDefault(); void save(); }}>
        <fieldset disabled={!can('journeys.write')}>
          <p>{t('journeys.pressureHelp')}</p>
          {policy.caps.map((c, i) => (
            <div className="cap-row" key={i}>
              <SelectField label={t('journeys.capChannel', { n: i + 1 })} value={c.channel} options={CHANNELS.map((ch) => ({ value: ch, label: t(`journeys.channel.${ch}`) }))} onChange={(v) => setCap(i, { channel: v as PressureCap['channel'] })} />
              <NumberField label={t('journeys.capMax', { n: i + 1 })} min={0} value={c.max} error={at(`/caps/${i}/max`)} onChange={(v) => setCap(i, { max: v ?? 0 })} />
              <TextField label={t('journeys.capWithin', { n: i + 1 })} hint={t('journeys.durationHint')} value={c.within} error={at(`/caps/${i}/within`)} onChange={(v) => setCap(i, { within: v })} />
              <button type="button" onClick={() => setPolicy({ ...policy, caps: policy.caps.filter((_, j) => j !== i) })}>{t('journeys.removeCap', { n: i + 1 })}</button>
            </div>
          ))}
          {at('/caps') && !policy.caps.length && <p className="field-error" role="alert">{at('/caps')}</p>}
          <button type="button" onClick={() => setPolicy({ ...policy, caps: [...policy.caps, { channel: 'all', max: 3, within: '7d' }] })}>{t('journeys.addCap')}</button>
          <CheckField label={t('journeys.quietHours')} checked={policy.quietHours !== undefined}
            onChange={(v) => { const { quietHours: _q, ...rest } = policy; setPolicy(v ? { ...rest, quietHours: { from: '21:00', to: '08:00' } } : rest); }} />
          {policy.quietHours && (
            <div className="cap-row">
              <TextField label={t('journeys.quietFrom')} type="time" value={policy.quietHours.from} error={at('/quietHours/from') ?? at('/quietHours')} onChange={(v) => setPolicy({ ...policy, quietHours: { ...policy.quietHours!, from: v } })} />
              <TextField label={t('journeys.quietTo')} type="time" value={policy.quietHours.to} error={at('/quietHours/to')} onChange={(v) => setPolicy({ ...policy, quietHours: { ...policy.quietHours!, to: v } })} />
            </div>
          )}
          <TextField label={t('journeys.defaultTimeZone')} value={policy.defaultTimeZone} error={at('/defaultTimeZone')} onChange={(v) => setPolicy({ ...policy, defaultTimeZone: v })} />
          <CheckField label={t('journeys.displace')} checked={policy.displace === true} onChange={(v) => setPolicy({ ...policy, displace: v })} />
          <button type="submit" className="primary">{t('journeys.savePolicy')}</button>
          {saved && <span role="status" className="ok">{t('journeys.policySaved')}</span>}
        </fieldset>
      </form>
      <ErrorMessage error={error} />
    </Panel>
  );
}
