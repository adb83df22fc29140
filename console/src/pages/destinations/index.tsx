/**
 * Destinations: the list (`/destinations`), a new one (`/destinations/new`) with a form
 * generated from the chosen connector's config schema, and one destination
 * (`/destinations/:destinationId`): its settings, a test delivery, delivery metrics and dead
 * letters with replay.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Page, Panel } from '../../components/Page';
import { Table } from '../../components/Table';
import { useApi } from '../../components/useApi';
import { pageOfList } from '../journeys/paging';
import { DestinationForm } from './destination-form';
import { DeadLetters, DeliveryStats, TestDelivery } from './delivery';
import type { DestinationType, DestinationView } from './types';

export default function DestinationsPage() {
  const { destinationId } = useParams();
  if (!destinationId) return <DestinationList />;
  return <DestinationDetail id={destinationId === 'new' ? null : destinationId} />;
}

function useCatalogue() {
  const { workspaceId } = useSession();
  return useApi(async (signal) => {
    const [types, segments] = await Promise.all([
      api.get<{ types: DestinationType[] }>('/api/destination-types', undefined, signal),
      api.get<{ segments: Array<{ id: string; name: string }> }>(ws(workspaceId, '/segments'), undefined, signal).catch(() => ({ segments: [] })),
    ]);
    return { types: types.types, segments: segments.segments.map((s) => ({ id: s.id, name: s.name })) };
  }, [workspaceId]);
}

function DestinationList() {
  const { t } = useTranslation();
  const { workspaceId, can } = useSession();
  const navigate = useNavigate();
  const cat = useCatalogue();
  const typeName = (id: string) => cat.data?.types.find((x) => x.id === id)?.name ?? id;
  return (
    <Page title={t('destinations.title')} actions={can('destinations.write') ? <Link className="button primary" to="/destinations/new">{t('destinations.create')}</Link> : undefined}>
      <Table<DestinationView>
        caption={t('destinations.list')}
        rowKey={(d) => d.id}
        deps={[workspaceId]}
        fetchPage={async (cursor, limit, signal) => pageOfList((await api.get<{ destinations: DestinationView[] }>(ws(workspaceId, '/destinations'), undefined, signal)).destinations, cursor, limit)}
        onRowClick={(d) => navigate(`/destinations/${encodeURIComponent(d.id)}`)}
        empty={t('destinations.none')}
        columns={[
          { key: 'name', header: t('destinations.name'), cell: (d) => <Link to={`/destinations/${encodeURIComponent(d.id)}`}>{d.name}</Link> },
          { key: 'type', header: t('destinations.connector'), cell: (d) => typeName(d.type) },
          { key: 'purpose', header: t('destinations.purpose'), cell: (d) => d.purpose },
          { key: 'segments', header: t('destinations.segments'), cell: (d) => d.segments.length },
          { key: 'enabled', header: t('destinations.enabled'), cell: (d) => (d.enabled ? t('common.yes') : t('common.no')) },
          { key: 'country', header: t('destinations.country'), cell: (d) => d.recipient.country },
        ]}
      />
      {cat.data && (
        <Panel title={t('destinations.connectors')}>
          <ul className="connector-list">
            {cat.data.types.map((c) => <li key={c.id}><strong>{c.name}</strong> — {c.description} <span className="badge">{c.kinds.map((k) => t(`destinations.kinds.${k}`)).join(', ')}</span></li>)}
          </ul>
        </Panel>
      )}
    </Page>
  );
}

function DestinationDetail({ id }: { id: string | null }) {
  const { t } = useTranslation();
  const { workspaceId, can } = useSession();
  const navigate = useNavigate();
  const cat = useCatalogue();
  const dest = useApi((signal) => (id ? api.get<DestinationView>(ws(workspaceId, `/destinations/${encodeURIComponent(id)}`), undefined, signal) : Promise.resolve(null)), [workspaceId, id]);
  const [tick, setTick] = useState(0);
  const [error, setError] = useState<unknown>(null);
  // The confirmation names the version saved, so it never outlives a later edit.
  const [saved, setSaved] = useState<string | null>(null);
  const remove = async () => {
    if (!id || !window.confirm(t('destinations.deleteConfirm'))) return;
    try { await api.delete(ws(workspaceId, `/destinations/${encodeURIComponent(id)}`)); navigate('/destinations'); } catch (e) { setError(e); }
  };
  const d = dest.data;
  if (!cat.data || (id && !d)) {
    return <Page title={t('destinations.title')}><ErrorMessage error={cat.error ?? dest.error} />{(cat.loading || dest.loading) && <p>{t('common.loading')}</p>}</Page>;
  }
  return (
    <Page title={d ? d.name : t('destinations.create')} actions={
      <>
        <Link to="/destinations">{t('destinations.back')}</Link>
        {d && can('destinations.write') && <button type="button" className="danger" onClick={() => void remove()}>{t('destinations.delete')}</button>}
      </>
    }>
      <ErrorMessage error={error} />
      {saved !== null && saved === d?.updatedAt && <p role="status" className="ok">{t('destinations.saved')}</p>}
      <Panel title={d ? t('destinations.settings') : t('destinations.create')}>
        <DestinationForm key={d?.updatedAt ?? 'new'} types={cat.data.types} segments={cat.data.segments} existing={d ?? undefined}
          onSaved={(x) => { setSaved(x.updatedAt); if (!id) navigate(`/destinations/${encodeURIComponent(x.id)}`, { replace: true }); else dest.reload(); }} />
      </Panel>
      {d && (
        <>
          <TestDelivery id={d.id} />
          <DeliveryStats id={d.id} tick={tick} />
          <DeadLetters id={d.id} onReplayed={() => setTick((n) => n + 1)} />
        </>
      )}
    </Page>
  );
}
