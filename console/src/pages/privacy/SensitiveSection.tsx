/**
 * Special-category data (art. 9): which traits and event properties are tagged with a category,
 * and the segments that read them, each waiting for a DPO's approval (with the lawful ground)
 * before it has any member.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { SENSITIVE_CATEGORIES, type PrivacyApi, type Segment, type SensitiveData } from './api';
import { ErrorNotice, Loading } from './parts';
import { TextAreaField, formatDate, useApi } from '../../components';

type Kind = 'traits' | 'properties';
interface Row { kind: Kind; path: string; category: string }

function rowsOf(s: SensitiveData): Row[] {
  return [
    ...Object.entries(s.traits).map(([path, category]) => ({ kind: 'traits' as const, path, category })),
    ...Object.entries(s.properties).map(([path, category]) => ({ kind: 'properties' as const, path, category })),
  ];
}

export function SensitiveSection({ api }: { api: PrivacyApi }) {
  return (
    <div className="privacy-section">
      <Tags api={api} />
      <Approvals api={api} />
    </div>
  );
}

function Tags({ api }: { api: PrivacyApi }) {
  const { t } = useTranslation();
  const tags = useApi(() => api.sensitive(), [api]);
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState(false);
  useEffect(() => { if (tags.data) setRows(rowsOf(tags.data)); }, [tags.data]);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!rows) return;
    setError(undefined);
    setSaved(false);
    const body: SensitiveData = { traits: {}, properties: {} };
    for (const r of rows) if (r.path.trim()) body[r.kind][r.path.trim()] = r.category;
    try { setRows(rowsOf(await api.putSensitive(body))); setSaved(true); } catch (err) { setError(err); }
  };
  const update = (i: number, patch: Partial<Row>) => rows && setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <section aria-labelledby="tags-title" className="panel">
      <h2 id="tags-title">{t('privacy.sensitive.tags')}</h2>
      <p>{t('privacy.sensitive.intro')}</p>
      <Loading when={tags.loading} />
      <ErrorNotice error={tags.error} />
      {rows ? (
        <form onSubmit={save} className="privacy-form" data-testid="sensitive-form">
          <table className="table">
            <thead><tr><th scope="col">{t('privacy.sensitive.kind')}</th><th scope="col">{t('privacy.sensitive.path')}</th><th scope="col">{t('privacy.sensitive.category')}</th><th scope="col"><span className="visually-hidden">{t('privacy.actions')}</span></th></tr></thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i}>
                  <td>
                    <select aria-label={t('privacy.sensitive.kind')} value={r.kind} onChange={(e) => update(i, { kind: e.target.value as Kind })}>
                      <option value="traits">{t('privacy.sensitive.trait')}</option><option value="properties">{t('privacy.sensitive.property')}</option>
                    </select>
                  </td>
                  <td><input aria-label={t('privacy.sensitive.path')} required maxLength={200} value={r.path} onChange={(e) => update(i, { path: e.target.value })} /></td>
                  <td>
                    <select aria-label={t('privacy.sensitive.category')} value={r.category} onChange={(e) => update(i, { category: e.target.value })}>
                      {SENSITIVE_CATEGORIES.map((c) => <option key={c} value={c}>{t(`privacy.sensitive.categories.${c}`)}</option>)}
                    </select>
                  </td>
                  <td><button type="button" onClick={() => setRows(rows.filter((_, j) => j !== i))} aria-label={t('privacy.sensitive.removeOne', { path: r.path || '…' })}>{t('privacy.remove')}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 ? <p>{t('privacy.sensitive.none')}</p> : null}
          <ErrorNotice error={error} />
          {saved ? <p role="status">{t('privacy.saved')}</p> : null}
          <div className="privacy-buttons">
            <button type="button" onClick={() => setRows([...rows, { kind: 'traits', path: '', category: 'health' }])}>{t('privacy.sensitive.add')}</button>
            <button type="submit">{t('common.save')}</button>
          </div>
        </form>
      ) : null}
    </section>
  );
}

function Approvals({ api }: { api: PrivacyApi }) {
  const { t } = useTranslation();
  const segments = useApi(() => api.segments(), [api]);
  const sensitive = (segments.data?.segments ?? []).filter((s) => s.sensitive.length > 0);
  return (
    <section aria-labelledby="approvals-title" className="panel">
      <h2 id="approvals-title">{t('privacy.sensitive.approvals')}</h2>
      <Loading when={segments.loading} />
      <ErrorNotice error={segments.error} />
      {segments.data && sensitive.length === 0 ? <p>{t('privacy.sensitive.noSegments')}</p> : null}
      <ul className="privacy-approvals">
        {sensitive.map((s) => (
          <li key={s.id} data-segment-id={s.id}>
            <strong>{s.name}</strong> — {s.sensitive.map((c) => t(`privacy.sensitive.categories.${c}`, { defaultValue: c })).join(', ')}
            {s.approvedAt ? <p className="privacy-ok">{t('privacy.sensitive.approvedAt', { at: formatDate(s.approvedAt) })}</p> : <Approve api={api} segment={s} onDone={segments.reload} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Approve({ api, segment, onDone }: { api: PrivacyApi; segment: Segment; onDone(): void }) {
  const { t } = useTranslation();
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try { await api.approveSegment(segment.id, note); onDone(); } catch (err) { setError(err); }
  };
  return (
    <form onSubmit={submit} className="privacy-form">
      <p className="privacy-warning">{t('privacy.sensitive.awaiting')}</p>
      <TextAreaField label={t('privacy.sensitive.ground')} rows={2} value={note} onChange={setNote} />
      <ErrorNotice error={error} />
      <button type="submit" disabled={note.trim() === ''}>{t('privacy.sensitive.approve')}</button>
    </form>
  );
}
