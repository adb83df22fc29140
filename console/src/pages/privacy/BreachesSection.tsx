/**
 * Personal data breaches (arts. 33–34): record one, watch the 72-hour clock that runs from the
 * moment the controller became aware, mark it notified or close it, and open the draft
 * notification to the supervisory authority.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { DATA_CATEGORIES, type Breach, type BreachInput, type PrivacyApi } from './api';
import { ErrorNotice, Loading } from './parts';
import { splitHours } from './clock';
import { CheckboxField, NumberField, SelectField, TextAreaField, TextField, formatDate, useApi } from '../../components';

const WINDOW_MS = 72 * 3_600_000;

/** The current time, moving every `ms` so a countdown stays current without a reload. */
function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

export function BreachesSection({ api }: { api: PrivacyApi }) {
  const { t } = useTranslation();
  const list = useApi(() => api.breaches(), [api]);
  // The security events a new record is about (chosen from the list below), if any.
  const [linked, setLinked] = useState<string[] | null>(null);
  return (
    <div className="privacy-section">
      <p>{t('privacy.breaches.intro')}</p>
      <NewBreach api={api} linked={linked} onClose={() => setLinked(null)} onCreated={() => { setLinked(null); list.reload(); }} />
      <section aria-labelledby="breach-list-title" className="panel">
        <h2 id="breach-list-title">{t('privacy.breaches.records')}</h2>
        <Loading when={list.loading} />
        <ErrorNotice error={list.error} />
        {list.data && list.data.breaches.length === 0 ? <p>{t('privacy.breaches.none')}</p> : null}
        <ul className="privacy-breaches">
          {(list.data?.breaches ?? []).map((b) => <li key={b.id}><BreachCard api={api} breach={b} onChanged={list.reload} /></li>)}
        </ul>
      </section>
      <SecurityEvents api={api} onRecord={(id) => setLinked([id])} />
    </div>
  );
}

/** What the server detected (auth-failure spikes, unusual export volumes): each may be a breach to assess. */
function SecurityEvents({ api, onRecord }: { api: PrivacyApi; onRecord(id: string): void }) {
  const { t } = useTranslation();
  const events = useApi(() => api.securityEvents(), [api]);
  const summary = (d: Record<string, unknown>) => Object.entries(d).filter(([, v]) => typeof v === 'number' || typeof v === 'string').map(([k, v]) => `${k}: ${String(v)}`).join(', ');
  return (
    <section aria-labelledby="security-events-title" className="panel" data-testid="security-events">
      <h2 id="security-events-title">{t('privacy.breaches.securityEvents')}</h2>
      <p className="muted">{t('privacy.breaches.securityIntro')}</p>
      <Loading when={events.loading} />
      <ErrorNotice error={events.error} />
      {events.data && events.data.events.length === 0 ? <p>{t('privacy.breaches.noSecurityEvents')}</p> : null}
      {events.data && events.data.events.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th scope="col">{t('privacy.breaches.detectedAt')}</th><th scope="col">{t('privacy.breaches.kind')}</th><th scope="col">{t('privacy.breaches.detail')}</th><th scope="col"><span className="visually-hidden">{t('privacy.actions')}</span></th></tr></thead>
            <tbody>
              {events.data.events.map((e) => (
                <tr key={e.id}>
                  <td>{formatDate(e.detectedAt)}</td><td>{e.kind}</td><td className="privacy-wrap">{summary(e.detail)}</td>
                  <td><button type="button" onClick={() => onRecord(e.id)}>{t('privacy.breaches.recordFor')}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function Clock({ breach }: { breach: Breach }) {
  const { t } = useTranslation();
  const now = useNow(30_000);
  if (breach.status !== 'open') {
    return <p className={breach.notifiedLate ? 'privacy-overdue' : ''}>{breach.notifiedAt ? (breach.notifiedLate ? t('privacy.breaches.notifiedLate') : t('privacy.breaches.notifiedInTime')) : t('privacy.breaches.closedUnnotified')}</p>;
  }
  const notifyBy = new Date(breach.notifyBy).getTime();
  const left = splitHours((notifyBy - now) / 3_600_000);
  const elapsed = Math.min(WINDOW_MS, Math.max(0, WINDOW_MS - (notifyBy - now)));
  return (
    <div className="privacy-clock" data-testid="breach-clock" data-overdue={String(left.overdue)}>
      <p id={`clock-${breach.id}`} className={left.overdue ? 'privacy-overdue' : ''}>
        {left.overdue ? t('privacy.breaches.overdueBy', { h: left.hours, m: left.minutes }) : t('privacy.breaches.timeLeft', { h: left.hours, m: left.minutes })}
      </p>
      <meter aria-labelledby={`clock-${breach.id}`} min={0} max={WINDOW_MS} low={WINDOW_MS * 0.5} high={WINDOW_MS * 0.8} optimum={0} value={elapsed} />
    </div>
  );
}

function BreachCard({ api, breach: b, onChanged }: { api: PrivacyApi; breach: Breach; onChanged(): void }) {
  const { t } = useTranslation();
  const [error, setError] = useState<unknown>(undefined);
  const [closeNote, setCloseNote] = useState('');
  const [delayReason, setDelayReason] = useState('');
  const act = async (patch: Parameters<PrivacyApi['patchBreach']>[1]) => {
    setError(undefined);
    try { await api.patchBreach(b.id, patch); onChanged(); } catch (err) { setError(err); }
  };
  return (
    <article aria-labelledby={`breach-${b.id}`} className={`panel privacy-breach privacy-status-${b.status}${b.overdue ? ' privacy-overdue-card' : ''}`} data-breach-id={b.id}>
      <h3 id={`breach-${b.id}`}>{t(`privacy.breaches.statuses.${b.status}`)} — {formatDate(b.awareAt)}</h3>
      <Clock breach={b} />
      <dl className="privacy-dl">
        <dt>{t('privacy.breaches.nature')}</dt><dd>{b.nature}</dd>
        <dt>{t('privacy.breaches.notifyBy')}</dt><dd>{formatDate(b.notifyBy)}</dd>
        <dt>{t('privacy.breaches.categories')}</dt><dd>{b.categories.join(', ')}</dd>
        <dt>{t('privacy.breaches.people')}</dt><dd>{b.approxPeople ?? '—'}</dd>
        <dt>{t('privacy.breaches.measures')}</dt><dd>{b.measures}</dd>
        <dt>{t('privacy.breaches.highRisk')}</dt><dd>{b.highRisk === null ? t('privacy.breaches.notAssessed') : b.highRisk ? t('common.yes') : t('common.no')}</dd>
        {b.notifiedAt ? <><dt>{t('privacy.breaches.notifiedAt')}</dt><dd>{formatDate(b.notifiedAt)}</dd></> : null}
      </dl>
      <div className="privacy-buttons">
        <a href={api.notificationUrl(b.id)} target="_blank" rel="noreferrer">{t('privacy.breaches.draft')}</a>
      </div>
      {b.status === 'open' ? (
        <div className="privacy-columns">
          <form onSubmit={(e) => { e.preventDefault(); void act(b.overdue && delayReason ? { status: 'notified', delayReason } : { status: 'notified' }); }} className="privacy-form">
            {b.overdue ? <TextAreaField label={t('privacy.breaches.delayReason')} rows={2} value={delayReason} onChange={setDelayReason} /> : null}
            <button type="submit">{t('privacy.breaches.markNotified')}</button>
          </form>
          <form onSubmit={(e) => { e.preventDefault(); void act({ status: 'closed', note: closeNote }); }} className="privacy-form">
            <TextAreaField label={t('privacy.breaches.closeNote')} rows={2} value={closeNote} onChange={setCloseNote} />
            <button type="submit" disabled={closeNote.trim() === ''}>{t('privacy.breaches.close')}</button>
          </form>
        </div>
      ) : null}
      {b.status === 'notified' ? <button type="button" onClick={() => void act({ status: 'closed' })}>{t('privacy.breaches.close')}</button> : null}
      <ErrorNotice error={error} />
    </article>
  );
}

function NewBreach({ api, linked, onCreated, onClose }: { api: PrivacyApi; linked: string[] | null; onCreated(): void; onClose(): void }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  useEffect(() => { if (linked) setOpen(true); }, [linked]);
  const [nature, setNature] = useState('');
  const [awareAt, setAwareAt] = useState('');
  const [categories, setCategories] = useState<string[]>([]);
  const [people, setPeople] = useState<number | ''>('');
  const [measures, setMeasures] = useState('');
  const [highRisk, setHighRisk] = useState<'' | 'yes' | 'no'>('');
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    if (!nature.trim() || !measures.trim()) { setError({ message: t('privacy.breaches.needText') }); return; }
    if (categories.length === 0) { setError({ message: t('privacy.breaches.needCategory') }); return; }
    const body: BreachInput = { nature, categories, measures };
    // datetime-local is local time without a zone: the browser's zone is the user's.
    if (awareAt) body.awareAt = new Date(awareAt).toISOString();
    if (people !== '') body.approxPeople = Number(people);
    if (highRisk) body.highRisk = highRisk === 'yes';
    if (linked) body.securityEventIds = linked;
    try {
      await api.createBreach(body);
      setOpen(false);
      setNature(''); setAwareAt(''); setCategories([]); setPeople(''); setMeasures(''); setHighRisk('');
      onCreated();
    } catch (err) { setError(err); }
  };
  if (!open) return <button type="button" onClick={() => setOpen(true)}>{t('privacy.breaches.record')}</button>;
  return (
    <section aria-labelledby="new-breach-title" className="panel">
      <h2 id="new-breach-title">{t('privacy.breaches.record')}</h2>
      {linked ? <p data-testid="breach-linked">{t('privacy.breaches.linkedTo', { ids: linked.join(', ') })}</p> : null}
      <form onSubmit={submit} className="privacy-form" data-testid="new-breach-form">
        <TextAreaField label={t('privacy.breaches.nature')} name="nature" rows={3} value={nature} onChange={setNature} />
        <TextField label={t('privacy.breaches.awareAt')} name="awareAt" type="datetime-local" value={awareAt} onChange={setAwareAt} hint={t('privacy.breaches.awareHint')} />
        <fieldset>
          <legend>{t('privacy.breaches.categories')}</legend>
          {DATA_CATEGORIES.map((c) => (
            <CheckboxField key={c} name="category" label={t(`privacy.dataCategories.${c}`)} checked={categories.includes(c)} onChange={(on) => setCategories(on ? [...categories, c] : categories.filter((x) => x !== c))} />
          ))}
        </fieldset>
        <NumberField label={t('privacy.breaches.people')} name="approxPeople" min={0} step="1" value={people} onChange={setPeople} />
        <TextAreaField label={t('privacy.breaches.measures')} name="measures" rows={3} value={measures} onChange={setMeasures} />
        <SelectField
          label={t('privacy.breaches.highRisk')} name="highRisk" value={highRisk} onChange={(v) => setHighRisk(v as '' | 'yes' | 'no')}
          options={[{ value: '', label: t('privacy.breaches.notAssessed') }, { value: 'yes', label: t('common.yes') }, { value: 'no', label: t('common.no') }]}
        />
        <ErrorNotice error={error} />
        <div className="privacy-buttons"><button type="submit">{t('common.save')}</button><button type="button" onClick={() => { setOpen(false); onClose(); }}>{t('common.cancel')}</button></div>
      </form>
    </section>
  );
}
