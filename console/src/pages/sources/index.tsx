/** Sources: create one, copy its write key and the tag.js snippet, watch its events live. */
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import snippetTemplate from '../../../../tag/snippet.html?raw';
import { api, ws } from '../../api/client';
import type { SourceView } from '../../api/types';
import { useSession } from '../../auth';
import { CopyButton, ErrorMessage, Page, Panel, SelectField, TextField, formatDate, useApi } from '../../components';
import { Debugger } from './debugger';

const KINDS = ['website', 'mobile', 'server', 'crm', 'pos', 'email', 'file', 'other'];

/** The README's snippet with this server's address and the source's write key. */
export function snippetFor(origin: string, writeKey: string): string {
  return snippetTemplate.trim().replace('https://YOUR_ENSEMBLE_HOST', origin).replace('"YOUR_WRITE_KEY"', JSON.stringify(writeKey));
}

export default function Sources() {
  const { t } = useTranslation();
  const { workspaceId, can } = useSession();
  const { data, error, reload } = useApi((signal) => api.get<{ sources: SourceView[] }>(ws(workspaceId, '/sources'), undefined, signal), [workspaceId]);
  const [selected, setSelected] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [kind, setKind] = useState('website');
  const [createError, setCreateError] = useState<unknown>(null);
  const sources = data?.sources ?? [];
  const current = sources.find((s) => s.id === selected) ?? null;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setCreateError(null);
    try {
      const created = await api.post<SourceView>(ws(workspaceId, '/sources'), { name, kind });
      setName('');
      setSelected(created.id);
      reload();
    } catch (err) {
      setCreateError(err);
    }
  };

  return (
    <Page title={t('sources.title')}>
      <ErrorMessage error={error} />
      {can('sources.write') && (
        <Panel title={t('sources.create')}>
          <form className="row" onSubmit={create} aria-label={t('sources.create')}>
            <TextField label={t('sources.name')} name="source-name" value={name} onChange={setName} required />
            <SelectField label={t('sources.kind')} name="source-kind" value={kind} onChange={setKind} options={KINDS.map((k) => ({ value: k, label: t(`sources.kinds.${k}`) }))} />
            <div className="field"><button type="submit" className="primary">{t('common.create')}</button></div>
          </form>
          <ErrorMessage error={createError} />
        </Panel>
      )}
      <Panel title={t('sources.list')}>
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{t('sources.list')}</caption>
            <thead><tr><th scope="col">{t('sources.name')}</th><th scope="col">{t('sources.kind')}</th><th scope="col">{t('sources.consentMode')}</th><th scope="col">{t('sources.created')}</th><th scope="col"><span className="visually-hidden">{t('sources.open')}</span></th></tr></thead>
            <tbody>
              {sources.map((s) => (
                <tr key={s.id} aria-selected={s.id === selected}>
                  <td data-label={t('sources.name')}>{s.name}</td>
                  <td data-label={t('sources.kind')}>{t(`sources.kinds.${s.kind}`, { defaultValue: s.kind })}</td>
                  <td data-label={t('sources.consentMode')}>{s.consentMode}</td>
                  <td data-label={t('sources.created')}>{formatDate(s.createdAt)}</td>
                  <td><button type="button" onClick={() => setSelected(s.id)} aria-pressed={s.id === selected} aria-label={t('sources.openNamed', { name: s.name })}>{t('sources.open')}</button></td>
                </tr>
              ))}
              {sources.length === 0 && <tr><td colSpan={5} className="empty">{t('common.empty')}</td></tr>}
            </tbody>
          </table>
        </div>
      </Panel>
      {current && (
        <Panel title={current.name} className="source-detail">
          <div className="field">
            <span id="write-key-label"><strong>{t('sources.writeKey')}</strong></span>
            <div className="row">
              <code data-testid="write-key" aria-labelledby="write-key-label">{current.writeKey}</code>
              <CopyButton text={current.writeKey} label={t('sources.copyWriteKey')} />
            </div>
            {current.previousKeyExpiresAt && <small className="muted">{t('sources.previousKey', { at: formatDate(current.previousKeyExpiresAt) })}</small>}
          </div>
          <div className="field">
            <span><strong>{t('sources.snippet')}</strong></span>
            <small className="muted">{t('sources.snippetHint')}</small>
            <pre data-testid="snippet">{snippetFor(window.location.origin, current.writeKey)}</pre>
            <div><CopyButton text={snippetFor(window.location.origin, current.writeKey)} label={t('sources.copySnippet')} /></div>
          </div>
          <h3>{t('sources.debugger')}</h3>
          <Debugger workspaceId={workspaceId} sourceId={current.id} />
        </Panel>
      )}
    </Page>
  );
}
