/**
 * Retention periods per category of data (art. 5(1)(e)): view and change them, and apply them
 * now instead of waiting for the daily run (the answer says what was deleted).
 */
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { RETENTION_FIELDS, type PrivacyApi, type RetentionPolicy, type RetentionRun } from './api';
import { ErrorNotice, Loading } from './parts';
import { formatDate, formatNumber, useApi } from '../../components';

export function RetentionSection({ api }: { api: PrivacyApi }) {
  const { t } = useTranslation();
  const policy = useApi(() => api.retention(), [api]);
  const [form, setForm] = useState<RetentionPolicy | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState(false);
  const [run, setRun] = useState<RetentionRun | null>(null);
  const [running, setRunning] = useState(false);
  useEffect(() => { if (policy.data) setForm(policy.data); }, [policy.data]);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!form) return;
    setError(undefined);
    setSaved(false);
    try {
      setForm(await api.putRetention(form));
      setSaved(true);
    } catch (err) { setError(err); }
  };
  const runNow = async () => {
    setError(undefined);
    setRunning(true);
    try { setRun(await api.runRetention()); } catch (err) { setError(err); } finally { setRunning(false); }
  };
  return (
    <div className="privacy-section">
      <Loading when={policy.loading} />
      <ErrorNotice error={policy.error} />
      {form ? (
        <form onSubmit={save} className="privacy-form panel" data-testid="retention-form">
          {RETENTION_FIELDS.map((f) => (
            <div key={f} className="privacy-field">
              <label htmlFor={`retention-${f}`}>{t(`privacy.retention.fields.${f}`)}</label>
              <input
                id={`retention-${f}`} name={f} type="number" required min={1} max={36500} step={1} value={form[f]}
                aria-describedby={`retention-${f}-hint`}
                onChange={(e) => setForm({ ...form, [f]: Number(e.target.value) })}
              />
              <small id={`retention-${f}-hint`}>{t(`privacy.retention.hints.${f}`)}</small>
            </div>
          ))}
          {saved ? <p role="status">{t('privacy.saved')}</p> : null}
          <div className="privacy-buttons">
            <button type="submit">{t('common.save')}</button>
            <button type="button" onClick={runNow} disabled={running}>{t('privacy.retention.runNow')}</button>
          </div>
        </form>
      ) : null}
      <ErrorNotice error={error} />
      {run ? (
        <section aria-labelledby="retention-run-title" className="panel" role="status" data-testid="retention-run">
          <h2 id="retention-run-title">{t('privacy.retention.ran', { at: formatDate(run.at) })}</h2>
          <ul>
            {(['events', 'rawIps', 'profiles', 'consentProofs', 'anonymousCounts'] as const).map((k) => (
              <li key={k}>{t(`privacy.retention.deleted.${k}`, { count: run[k], n: formatNumber(run[k]) })}</li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
