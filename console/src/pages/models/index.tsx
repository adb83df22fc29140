/**
 * Models: the list (`/models`) with a form to define a new one, and one model
 * (`/models/:modelId`): train it, its model card, versions and score distribution. When the
 * server has no model API (404 on the list), the page says the feature is not available rather
 * than showing an error.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError, api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Page, Panel } from '../../components/Page';
import { Table } from '../../components/Table';
import { useApi } from '../../components/useApi';
import { pageOfList } from '../journeys/paging';
import { ModelForm } from './model-form';
import { ModelCardView, ScoreDistribution } from './model-card';
import type { ModelView } from './types';

/** The server answers 404 ENSEMBLE_ERR_NOT_FOUND for a route it does not have. */
function unavailable(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && e.code === 'ENSEMBLE_ERR_NOT_FOUND';
}

function NotAvailable() {
  const { t } = useTranslation();
  return <Panel title={t('models.notAvailableTitle')}><p role="status" data-testid="models-unavailable">{t('models.notAvailable')}</p></Panel>;
}

export default function ModelsPage() {
  const { modelId } = useParams();
  return modelId ? <ModelDetail id={modelId} /> : <ModelList />;
}

function useSegments() {
  const { workspaceId } = useSession();
  return useApi((signal) => api.get<{ segments: Array<{ id: string; name: string }> }>(ws(workspaceId, '/segments'), undefined, signal).then((r) => r.segments).catch(() => []), [workspaceId]);
}

function ModelList() {
  const { t, i18n } = useTranslation();
  const { workspaceId, can } = useSession();
  const navigate = useNavigate();
  const probe = useApi((signal) => api.get<{ models: ModelView[] }>(ws(workspaceId, '/models'), undefined, signal), [workspaceId]);
  const segments = useSegments();
  const [creating, setCreating] = useState(false);
  if (probe.error && unavailable(probe.error)) return <Page title={t('models.title')}><NotAvailable /></Page>;
  return (
    <Page title={t('models.title')} actions={can('models.write') ? <button type="button" className="primary" aria-expanded={creating} onClick={() => setCreating(!creating)}>{t('models.create')}</button> : undefined}>
      <ErrorMessage error={probe.error} />
      {creating && (
        <Panel title={t('models.create')}>
          <ModelForm segments={segments.data ?? []} onCreated={(m) => navigate(`/models/${encodeURIComponent(m.id)}`)} />
        </Panel>
      )}
      {probe.data && (
        <Table<ModelView>
          caption={t('models.list')}
          rowKey={(m) => m.id}
          deps={[workspaceId, probe.data]}
          fetchPage={async (cursor, limit) => pageOfList(probe.data?.models ?? [], cursor, limit)}
          onRowClick={(m) => navigate(`/models/${encodeURIComponent(m.id)}`)}
          empty={t('models.none')}
          columns={[
            { key: 'name', header: t('models.name'), cell: (m) => <Link to={`/models/${encodeURIComponent(m.id)}`}>{m.name}</Link> },
            { key: 'key', header: t('models.key'), cell: (m) => <code>{m.key}</code> },
            { key: 'target', header: t('models.target'), cell: (m) => t(`models.kinds.${m.target.kind}`) },
            { key: 'status', header: t('models.statusHeader'), cell: (m) => <span className={`badge status-${m.status}`}>{t(`models.status.${m.status}`)}</span> },
            { key: 'auc', header: t('models.auc'), cell: (m) => (m.card ? m.card.auc.toFixed(3) : '—') },
            { key: 'scored', header: t('models.scoredProfiles'), cell: (m) => m.scoredProfiles },
            { key: 'lastScored', header: t('models.lastScoredAt'), cell: (m) => (m.lastScoredAt ? new Date(m.lastScoredAt).toLocaleString(i18n.language) : '—') },
          ]}
        />
      )}
    </Page>
  );
}

function ModelDetail({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const { workspaceId, can } = useSession();
  const model = useApi((signal) => api.get<ModelView>(ws(workspaceId, `/models/${encodeURIComponent(id)}`), undefined, signal), [workspaceId, id]);
  const [training, setTraining] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const train = async () => {
    setTraining(true); setError(null);
    try { await api.post(ws(workspaceId, `/models/${encodeURIComponent(id)}/train`)); model.reload(); setTick((n) => n + 1); } catch (e) { setError(e); } finally { setTraining(false); }
  };
  if (model.error && unavailable(model.error)) return <Page title={t('models.title')}><NotAvailable /></Page>;
  const m = model.data;
  if (!m) return <Page title={t('models.title')}><ErrorMessage error={model.error} />{model.loading && <p>{t('common.loading')}</p>}</Page>;
  return (
    <Page title={m.name} actions={
      <>
        <Link to="/models">{t('models.back')}</Link>
        {can('models.write') && <button type="button" className="primary" disabled={training} onClick={() => void train()}>{training ? t('models.training') : t('models.train')}</button>}
      </>
    }>
      <ErrorMessage error={error} />
      <p className="model-meta">
        <code>{m.key}</code> · {t(`models.kinds.${m.target.kind}`)} · {t('models.purposeIs', { purpose: m.purpose })} · {t('models.scoredCount', { count: m.scoredProfiles })}
        {m.description ? <><br />{m.description}</> : null}
      </p>
      {m.card ? <ModelCardView card={m.card} /> : <Panel title={t('models.card')}><p role="status">{t('models.untrained')}</p></Panel>}
      {m.versions.length > 0 && (
        <Panel title={t('models.versions')}>
          <table className="table">
            <caption>{t('models.versions')}</caption>
            <thead><tr><th scope="col">{t('models.version')}</th><th scope="col">{t('models.trainedAt')}</th><th scope="col">{t('models.statusHeader')}</th><th scope="col">{t('models.auc')}</th></tr></thead>
            <tbody>{m.versions.map((v) => <tr key={v.version}><th scope="row">{v.version}{v.version === m.activeVersion ? ` (${t('models.activeVersion')})` : ''}</th><td>{new Date(v.trainedAt).toLocaleString(i18n.language)}</td><td>{t(`models.status.${v.status}`, { defaultValue: v.status })}</td><td>{v.auc.toFixed(3)}</td></tr>)}</tbody>
          </table>
        </Panel>
      )}
      {m.card && <ScoreDistribution modelId={m.id} tick={tick} />}
    </Page>
  );
}
