/**
 * Data-subject rights requests: file one (the server carries it out before answering), the queue
 * with due dates (one month, art. 12(3)), and for access/portability the bundle, shown in the
 * page and downloadable as JSON or as the HTML page meant for the person.
 *
 * The identifier typed in goes to the server once, in the request body; the page does not keep
 * it after filing (the server keeps only its type and a keyed hash).
 */
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { RIGHTS_TYPES, type AccessBundle, type PrivacyApi, type RightsRequest, type RightsRequestInput, type RightsType } from './api';
import { ErrorNotice, Loading } from './parts';
import { daysUntil } from './clock';
import { CheckboxField, SelectField, TextAreaField, TextField, formatDate, useApi } from '../../components';

const PAGE = 50;
const IDENTIFIER_TYPES = ['email', 'phone', 'user_id', 'anonymous_id', 'loyalty_id', 'crm_id'];

export function RequestsSection({ api }: { api: PrivacyApi }) {
  const { t } = useTranslation();
  const [limit, setLimit] = useState(PAGE);
  const list = useApi(() => api.requests(limit), [api, limit]);
  const [shown, setShown] = useState<string | null>(null);
  return (
    <div className="privacy-section">
      <NewRequest api={api} onFiled={(r) => { list.reload(); if (r.bundle) setShown(r.id); }} />
      <section aria-labelledby="queue-title" className="panel">
        <h2 id="queue-title">{t('privacy.requests.queue')}</h2>
        <Loading when={list.loading} />
        <ErrorNotice error={list.error} />
        {list.data ? <Queue requests={list.data.requests} api={api} onShow={setShown} /> : null}
        {list.data && list.data.requests.length >= limit ? <button type="button" onClick={() => setLimit(limit + PAGE)}>{t('privacy.showMore')}</button> : null}
      </section>
      {shown ? <Bundle api={api} id={shown} onClose={() => setShown(null)} /> : null}
    </div>
  );
}

function Queue({ requests, api, onShow }: { requests: RightsRequest[]; api: PrivacyApi; onShow(id: string): void }) {
  const { t } = useTranslation();
  const now = Date.now();
  if (requests.length === 0) return <p>{t('privacy.requests.none')}</p>;
  return (
    <div className="table-wrap">
      <table className="table" data-testid="requests-table">
        <thead>
          <tr>
            <th scope="col">{t('privacy.requests.type')}</th><th scope="col">{t('privacy.requests.identifierType')}</th><th scope="col">{t('privacy.requests.status')}</th>
            <th scope="col">{t('privacy.requests.received')}</th><th scope="col">{t('privacy.requests.due')}</th><th scope="col">{t('privacy.requests.result')}</th>
            <th scope="col"><span className="visually-hidden">{t('privacy.actions')}</span></th>
          </tr>
        </thead>
        <tbody>
          {requests.map((r) => {
            const left = daysUntil(r.dueAt, now);
            const open = r.status === 'received';
            return (
              <tr key={r.id} data-request-id={r.id} data-status={r.status}>
                <td>{t(`privacy.rights.${r.type}`)}</td>
                <td>{r.identifierType}</td>
                <td><span className={`privacy-status privacy-status-${r.status}`}>{t(`privacy.requests.statuses.${r.status}`)}</span></td>
                <td>{formatDate(r.receivedAt)}</td>
                <td>
                  {formatDate(r.dueAt)}
                  {open ? <> <span className={left < 0 ? 'privacy-overdue' : ''}>({left < 0 ? t('privacy.requests.overdue', { count: -left }) : t('privacy.requests.daysLeft', { count: left })})</span></> : null}
                </td>
                <td><ResultSummary r={r} /></td>
                <td>
                  {r.bundle ? (
                    <div className="privacy-actions">
                      <button type="button" onClick={() => onShow(r.id)}>{t('privacy.requests.viewBundle')}</button>
                      <a href={api.bundleUrl(r.id, 'json')} download>{t('privacy.requests.downloadJson')}</a>
                      {r.type === 'access' ? <a href={api.bundleUrl(r.id, 'html')} download>{t('privacy.requests.downloadHtml')}</a> : null}
                    </div>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function ResultSummary({ r }: { r: RightsRequest }) {
  // The result is counts, purposes or trait names (never a personal value): one line per key,
  // nested objects (an erasure's `deleted` counts) flattened one level.
  const text = (v: unknown): string => {
    if (Array.isArray(v)) return v.map(text).join(', ');
    if (typeof v === 'object' && v !== null) return Object.entries(v).map(([k, x]) => `${k} ${text(x)}`).join(', ');
    return String(v);
  };
  const entries = Object.entries(r.result);
  if (entries.length === 0) return <>—</>;
  return <ul className="privacy-result">{entries.map(([k, v]) => <li key={k}>{k}: {text(v)}</li>)}</ul>;
}

function NewRequest({ api, onFiled }: { api: PrivacyApi; onFiled(r: RightsRequest): void }) {
  const { t } = useTranslation();
  const purposes = useApi(() => api.purposes(), [api]);
  const [type, setType] = useState<RightsType>('access');
  const [idType, setIdType] = useState('email');
  const [value, setValue] = useState('');
  const [note, setNote] = useState('');
  const [objected, setObjected] = useState<string[]>([]);
  const [traits, setTraits] = useState('{\n  \n}');
  const [lift, setLift] = useState(false);
  const [confirmed, setConfirmed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [filed, setFiled] = useState<RightsRequest | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setFiled(null);
    const body: RightsRequestInput = { type, identifier: { type: idType.trim(), value } };
    if (note.trim()) body.note = note.trim();
    if (type === 'objection' && objected.length > 0) body.purposes = objected;
    if (type === 'restriction' && lift) body.lift = true;
    if (type === 'rectification') {
      try { body.traits = JSON.parse(traits) as Record<string, unknown>; } catch { setError({ message: t('privacy.requests.badTraits') }); return; }
    }
    setBusy(true);
    try {
      const r = await api.fileRequest(body);
      setFiled(r);
      setValue('');
      setConfirmed(false);
      onFiled(r);
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return (
    <section aria-labelledby="new-request-title" className="panel">
      <h2 id="new-request-title">{t('privacy.requests.new')}</h2>
      <form onSubmit={submit} className="privacy-form" data-testid="new-request-form">
        <SelectField
          label={t('privacy.requests.type')} name="type" value={type} hint={t(`privacy.rights.hint.${type}`)}
          onChange={(v) => { setType(v as RightsType); setConfirmed(false); }}
          options={RIGHTS_TYPES.map((r) => ({ value: r, label: t(`privacy.rights.${r}`) }))}
        />
        <TextField label={t('privacy.requests.identifierType')} name="identifierType" required value={idType} onChange={setIdType} hint={t('privacy.requests.identifierTypeHint', { types: IDENTIFIER_TYPES.join(', ') })} />
        <TextField label={t('privacy.requests.identifierValue')} name="identifierValue" required autoComplete="off" value={value} onChange={setValue} />
        {type === 'objection' ? (
          <fieldset>
            <legend>{t('privacy.requests.objectTo')}</legend>
            {(purposes.data?.purposes ?? []).map((p) => (
              <CheckboxField key={p.id} label={`${p.name} (${p.id})`} checked={objected.includes(p.id)} onChange={(on) => setObjected(on ? [...objected, p.id] : objected.filter((x) => x !== p.id))} />
            ))}
            <small className="hint">{t('privacy.requests.objectDefault')}</small>
          </fieldset>
        ) : null}
        {type === 'rectification' ? <TextAreaField label={t('privacy.requests.traits')} rows={5} value={traits} onChange={setTraits} hint={t('privacy.requests.traitsHint')} /> : null}
        {type === 'restriction' ? <CheckboxField label={t('privacy.requests.lift')} checked={lift} onChange={setLift} /> : null}
        <TextAreaField label={t('privacy.requests.note')} name="note" rows={2} value={note} onChange={setNote} hint={t('privacy.requests.noteHint')} />
        {type === 'erasure' ? <CheckboxField className="privacy-warning" name="confirmErasure" label={t('privacy.requests.confirmErasure')} checked={confirmed} onChange={setConfirmed} /> : null}
        <ErrorNotice error={error} />
        <div className="privacy-buttons"><button type="submit" className="primary" disabled={busy || (type === 'erasure' && !confirmed)}>{t('privacy.requests.file')}</button></div>
      </form>
      {filed ? (
        <p role="status" data-testid="request-filed" data-status={filed.status}>
          {t('privacy.requests.filed', { type: t(`privacy.rights.${filed.type}`), status: t(`privacy.requests.statuses.${filed.status}`) })}
        </p>
      ) : null}
    </section>
  );
}

function Bundle({ api, id, onClose }: { api: PrivacyApi; id: string; onClose(): void }) {
  const { t } = useTranslation();
  const bundle = useApi<AccessBundle>(() => api.bundle(id), [api, id]);
  const b = bundle.data;
  return (
    <section aria-labelledby="bundle-title" className="panel" data-testid="bundle">
      <h2 id="bundle-title">{t('privacy.bundle.title', { id })}</h2>
      <button type="button" onClick={onClose}>{t('common.close')}</button>
      <Loading when={bundle.loading} />
      <ErrorNotice error={bundle.error} />
      {b ? (
        <>
          <p>{t('privacy.bundle.generated', { at: formatDate(b.generatedAt), events: b.events.length })}</p>
          <h3>{t('privacy.bundle.identifiers')}</h3>
          <table className="table" data-testid="bundle-identifiers">
            <thead><tr><th scope="col">{t('privacy.bundle.type')}</th><th scope="col">{t('privacy.bundle.value')}</th><th scope="col">{t('privacy.bundle.firstSeen')}</th></tr></thead>
            <tbody>{b.identifiers.map((x, i) => <tr key={i}><td>{x.type}</td><td>{x.value ?? t('privacy.bundle.unreadable')}</td><td>{formatDate(x.firstSeen)}</td></tr>)}</tbody>
          </table>
          <h3>{t('privacy.bundle.traits')}</h3>
          {b.traits.length === 0 ? <p>—</p> : (
            <table className="table" data-testid="bundle-traits">
              <thead><tr><th scope="col">{t('privacy.bundle.trait')}</th><th scope="col">{t('privacy.bundle.value')}</th><th scope="col">{t('privacy.bundle.source')}</th><th scope="col">{t('privacy.bundle.when')}</th></tr></thead>
              <tbody>{b.traits.map((x) => <tr key={x.name}><td>{x.name}</td><td><code>{JSON.stringify(x.value)}</code></td><td>{x.sourceName ?? x.source}</td><td>{formatDate(x.at)}</td></tr>)}</tbody>
            </table>
          )}
          <h3>{t('privacy.bundle.events', { count: b.events.length })}</h3>
          <ol className="privacy-events" data-testid="bundle-events">
            {b.events.slice(0, 100).map((e, i) => <li key={e.messageId ?? i}>{formatDate(e.timestamp)} — {e.type} {e.event ?? e.name ?? ''}</li>)}
          </ol>
          {b.events.length > 100 ? <p>{t('privacy.bundle.moreEvents', { count: b.events.length - 100 })}</p> : null}
        </>
      ) : null}
    </section>
  );
}
