/**
 * Consent: the rate of granted consent per purpose over time (from the analytics API), the
 * registry of purposes with their legal basis, and the mapping from CMP categories and IAB TCF
 * purposes to those purposes.
 */
import { useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { LEGAL_BASES, type ConsentMapping, type LegalBasis, type PrivacyApi, type Purpose } from './api';
import i18n from '../../i18n';
import { LineChart, Panel, SelectField, TextAreaField, TextField, formatNumber, formatPercent, useApi } from '../../components';
import { ErrorNotice, Loading } from './parts';
import { isoDay } from './clock';

const DAY_MS = 86_400_000;

export function ConsentSection({ api }: { api: PrivacyApi }) {
  return (
    <div className="privacy-section">
      <ConsentRates api={api} />
      <Purposes api={api} />
      <Mapping api={api} />
    </div>
  );
}

function ConsentRates({ api }: { api: PrivacyApi }) {
  const { t } = useTranslation();
  const [range, setRange] = useState(() => ({ from: isoDay(Date.now() - 29 * DAY_MS), to: isoDay(Date.now()) }));
  const rates = useApi(() => api.consentRates(range.from, range.to), [api, range.from, range.to]);
  const series = rates.data?.series ?? [];
  const days = useMemo(() => [...new Set(series.flatMap((s) => s.points.map((p) => p.t)))].sort(), [series]);
  // Rates as percentages; a day without decisions for a purpose is a gap (NaN), not 0 %.
  const lines = useMemo(() => series.map((s) => {
    const byDay = new Map(s.points.map((p) => [p.t, p.rate]));
    return { label: s.purpose, data: days.map((d) => { const r = byDay.get(d); return r === undefined || r === null ? Number.NaN : Math.round(r * 1000) / 10; }) };
  }), [series, days]);
  const totals = useMemo(() => series.map((s) => {
    const sum = s.points.reduce((a, p) => ({ granted: a.granted + p.granted, denied: a.denied + p.denied, withdrawn: a.withdrawn + p.withdrawn }), { granted: 0, denied: 0, withdrawn: 0 });
    const all = sum.granted + sum.denied + sum.withdrawn;
    return { purpose: s.purpose, ...sum, rate: all === 0 ? null : sum.granted / all };
  }), [series]);
  const any = totals.some((x) => x.rate !== null);
  return (
    <Panel title={t('privacy.consent.rates')}>
      <div className="row">
        <TextField label={t('privacy.consent.from')} type="date" value={range.from} onChange={(v) => v && setRange({ ...range, from: v })} />
        <TextField label={t('privacy.consent.to')} type="date" value={range.to} onChange={(v) => v && setRange({ ...range, to: v })} />
      </div>
      <Loading when={rates.loading} />
      <ErrorNotice error={rates.error} />
      {rates.data && !any ? <p>{t('privacy.consent.noRates')}</p> : null}
      {any ? (
        <>
          <LineChart label={t('privacy.consent.chartLabel')} labels={days.map((d) => formatDay(d))} series={lines} />
          <div className="table-wrap">
            <table className="table" data-testid="consent-rates-table">
              <caption>{t('privacy.consent.totals')}</caption>
              <thead><tr><th scope="col">{t('privacy.consent.purpose')}</th><th scope="col">{t('privacy.consent.granted')}</th><th scope="col">{t('privacy.consent.denied')}</th><th scope="col">{t('privacy.consent.withdrawn')}</th><th scope="col">{t('privacy.consent.rate')}</th></tr></thead>
              <tbody>
                {totals.map((x) => (
                  <tr key={x.purpose} data-purpose={x.purpose} data-granted={x.granted}>
                    <th scope="row">{x.purpose}</th><td>{formatNumber(x.granted)}</td><td>{formatNumber(x.denied)}</td><td>{formatNumber(x.withdrawn)}</td><td>{formatPercent(x.rate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </Panel>
  );
}

/** A day label in the user's language (the API's days are UTC dates). */
function formatDay(day: string): string {
  const d = new Date(day.length === 10 ? `${day}T00:00:00Z` : day);
  return Number.isNaN(d.getTime()) ? day : new Intl.DateTimeFormat(i18n.language, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(d);
}

const EMPTY_PURPOSE = { id: '', name: '', legalBasis: 'consent' as LegalBasis, description: '' };

function Purposes({ api }: { api: PrivacyApi }) {
  const { t } = useTranslation();
  const purposes = useApi(() => api.purposes(), [api]);
  const [editing, setEditing] = useState<typeof EMPTY_PURPOSE & { isNew: boolean } | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    setError(undefined);
    try {
      await api.putPurpose(editing.id, { name: editing.name, legalBasis: editing.legalBasis, description: editing.description });
      setEditing(null);
      purposes.reload();
    } catch (err) { setError(err); }
  };
  const edit = (p: Purpose) => setEditing({ id: p.id, name: p.name, legalBasis: p.legalBasis, description: p.description, isNew: false });
  return (
    <section aria-labelledby="purposes-title" className="panel">
      <h2 id="purposes-title">{t('privacy.purposes.title')}</h2>
      <Loading when={purposes.loading} />
      <ErrorNotice error={purposes.error} />
      {purposes.data ? (
        <table className="table" data-testid="purposes-table">
          <thead><tr><th scope="col">{t('privacy.purposes.id')}</th><th scope="col">{t('privacy.purposes.name')}</th><th scope="col">{t('privacy.purposes.legalBasis')}</th><th scope="col">{t('privacy.purposes.description')}</th><th scope="col"><span className="visually-hidden">{t('privacy.actions')}</span></th></tr></thead>
          <tbody>
            {purposes.data.purposes.map((p) => (
              <tr key={p.id}>
                <td><code>{p.id}</code>{p.builtIn ? <> <span className="badge">{t('privacy.purposes.builtIn')}</span></> : null}</td>
                <td>{p.name}</td>
                <td>{t(`privacy.legalBasis.${p.legalBasis}`)}</td>
                <td>{p.description}</td>
                <td><button type="button" onClick={() => edit(p)} aria-label={t('privacy.purposes.editOne', { name: p.name })}>{t('privacy.edit')}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {editing ? (
        <form onSubmit={save} className="privacy-form" aria-label={editing.isNew ? t('privacy.purposes.add') : t('privacy.purposes.editOne', { name: editing.name })}>
          <TextField label={t('privacy.purposes.id')} name="purposeId" required readOnly={!editing.isNew} value={editing.id} hint={t('privacy.purposes.idHint')} onChange={(v) => setEditing({ ...editing, id: v })} />
          <TextField label={t('privacy.purposes.name')} name="purposeName" required value={editing.name} onChange={(v) => setEditing({ ...editing, name: v })} />
          <SelectField
            label={t('privacy.purposes.legalBasis')} name="legalBasis" value={editing.legalBasis} onChange={(v) => setEditing({ ...editing, legalBasis: v as LegalBasis })}
            options={LEGAL_BASES.map((b) => ({ value: b, label: t(`privacy.legalBasis.${b}`) }))}
          />
          <TextAreaField label={t('privacy.purposes.description')} name="purposeDescription" value={editing.description} onChange={(v) => setEditing({ ...editing, description: v })} />
          <ErrorNotice error={error} />
          <div className="privacy-buttons"><button type="submit">{t('common.save')}</button><button type="button" onClick={() => setEditing(null)}>{t('common.cancel')}</button></div>
        </form>
      ) : (
        <button type="button" onClick={() => setEditing({ ...EMPTY_PURPOSE, isNew: true })}>{t('privacy.purposes.add')}</button>
      )}
    </section>
  );
}

function Mapping({ api }: { api: PrivacyApi }) {
  const { t } = useTranslation();
  const mapping = useApi(() => api.mapping(), [api]);
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState(false);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (text === null) return;
    setError(undefined);
    setSaved(false);
    let parsed: ConsentMapping;
    try { parsed = JSON.parse(text) as ConsentMapping; } catch { setError({ message: t('privacy.mapping.badJson') }); return; }
    try {
      await api.putMapping(parsed);
      setText(null);
      setSaved(true);
      mapping.reload();
    } catch (err) { setError(err); }
  };
  const m = mapping.data;
  return (
    <section aria-labelledby="mapping-title" className="panel">
      <h2 id="mapping-title">{t('privacy.mapping.title')}</h2>
      <p>{t('privacy.mapping.intro')}</p>
      <Loading when={mapping.loading} />
      <ErrorNotice error={mapping.error} />
      {m && text === null ? (
        <div className="privacy-columns">
          <table className="table">
            <caption>{t('privacy.mapping.categories')}</caption>
            <thead><tr><th scope="col">{t('privacy.mapping.category')}</th><th scope="col">{t('privacy.mapping.purposes')}</th></tr></thead>
            <tbody>{Object.entries(m.categories).map(([c, ps]) => <tr key={c}><td>{c}</td><td>{ps.join(', ')}</td></tr>)}</tbody>
          </table>
          <table className="table">
            <caption>{t('privacy.mapping.tcf')}</caption>
            <thead><tr><th scope="col">{t('privacy.mapping.purpose')}</th><th scope="col">{t('privacy.mapping.tcfPurposes')}</th></tr></thead>
            <tbody>{Object.entries(m.tcf).map(([p, ns]) => <tr key={p}><td>{p}</td><td>{ns.join(', ')}</td></tr>)}</tbody>
          </table>
        </div>
      ) : null}
      {saved ? <p role="status">{t('privacy.saved')}</p> : null}
      {m && text === null ? <button type="button" onClick={() => { setSaved(false); setText(JSON.stringify(m, null, 2)); }}>{t('privacy.mapping.edit')}</button> : null}
      {text !== null ? (
        <form onSubmit={save} className="privacy-form">
          <TextAreaField label={t('privacy.mapping.json')} rows={14} value={text} onChange={setText} />
          <ErrorNotice error={error} />
          <div className="privacy-buttons"><button type="submit">{t('common.save')}</button><button type="button" onClick={() => setText(null)}>{t('common.cancel')}</button></div>
        </form>
      ) : null}
    </section>
  );
}
