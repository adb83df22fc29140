/**
 * Journeys: the list (`/journeys`), and one journey (`/journeys/:journeyId`, or `new`) with its
 * canvas editor, version and status actions (pause, resume, archive), per-step stats with the
 * uplift versus control, and a dry run for one profile. The marketing-pressure policy, which
 * applies to every journey, is edited on the list page.
 */
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Page, Panel } from '../../components/Page';
import { Table } from '../../components/Table';
import { useApi } from '../../components/useApi';
import type { JourneyStats, JourneyView } from './types';
import { emptyDefinition } from './graph';
import { JourneyEditor } from './editor';
import type { Choice } from './step-form';
import { DryRun, JourneyStatsPanel } from './stats';
import { PressurePolicyForm } from './pressure';
import { pageOfList } from './paging';
import { EMPTY_CHOICES, type BuilderChoices } from '../segment/builder-context';

export default function JourneysPage() {
  const { journeyId } = useParams();
  return journeyId ? <JourneyDetail id={journeyId === 'new' ? null : journeyId} /> : <JourneyList />;
}

function JourneyList() {
  const { t, i18n } = useTranslation();
  const { workspaceId, can } = useSession();
  const navigate = useNavigate();
  return (
    <Page title={t('journeys.title')} actions={can('journeys.write') ? <Link className="button primary" to="/journeys/new">{t('journeys.create')}</Link> : undefined}>
      <Table<JourneyView>
        caption={t('journeys.list')}
        rowKey={(j) => j.id}
        deps={[workspaceId]}
        fetchPage={async (cursor, limit, signal) => pageOfList((await api.get<{ journeys: JourneyView[] }>(ws(workspaceId, '/journeys'), undefined, signal)).journeys, cursor, limit)}
        onRowClick={(j) => navigate(`/journeys/${encodeURIComponent(j.id)}`)}
        empty={t('journeys.none')}
        columns={[
          { key: 'name', header: t('journeys.name'), cell: (j) => <Link to={`/journeys/${encodeURIComponent(j.id)}`}>{j.definition.name}</Link> },
          { key: 'status', header: t('journeys.status'), cell: (j) => <span className={`badge status-${j.status}`}>{t(`journeys.statuses.${j.status}`, { defaultValue: j.status })}</span> },
          { key: 'version', header: t('journeys.version'), cell: (j) => j.version },
          { key: 'entry', header: t('journeys.entry'), cell: (j) => t(`journeys.entryKinds.${j.definition.entry.kind}`) },
          { key: 'updated', header: t('journeys.updatedAt'), cell: (j) => new Date(j.updatedAt).toLocaleString(i18n.language) },
        ]}
      />
      <PressurePolicyForm />
    </Page>
  );
}

interface DestinationLite { id: string; name: string; type: string }
interface DestinationType { id: string; kinds: string[] }

function JourneyDetail({ id }: { id: string | null }) {
  const { t } = useTranslation();
  const { workspaceId, can } = useSession();
  const navigate = useNavigate();
  // A new journey's first save moves to its own address; the confirmation travels with it.
  const justCreated = (useLocation().state as { savedVersion?: number } | null)?.savedVersion;
  const [actionError, setActionError] = useState<unknown>(null);
  const journey = useApi((signal) => (id ? api.get<JourneyView>(ws(workspaceId, `/journeys/${encodeURIComponent(id)}`), undefined, signal) : Promise.resolve(null)), [workspaceId, id]);
  const stats = useApi((signal) => (id ? api.get<JourneyStats>(ws(workspaceId, `/journeys/${encodeURIComponent(id)}/stats`), undefined, signal) : Promise.resolve(null)), [workspaceId, id]);
  const choices = useApi(async (signal) => {
    const [d, types, s, computed, purposes] = await Promise.all([
      api.get<{ destinations: DestinationLite[] }>(ws(workspaceId, '/destinations'), undefined, signal).catch(() => ({ destinations: [] })),
      api.get<{ types: DestinationType[] }>('/api/destination-types', undefined, signal).catch(() => ({ types: [] })),
      api.get<{ segments: Array<{ id: string; name: string }> }>(ws(workspaceId, '/segments'), undefined, signal).catch(() => ({ segments: [] })),
      api.get<{ computedTraits: Array<{ name: string }> }>(ws(workspaceId, '/computed-traits'), undefined, signal).catch(() => ({ computedTraits: [] })),
      // Purposes are a privacy setting: roles without access get none listed (the field stays free text).
      api.get<{ purposes: Array<{ id: string }> }>(ws(workspaceId, '/privacy/purposes'), undefined, signal).catch(() => ({ purposes: [] })),
    ]);
    const kinds = new Map(types.types.map((x) => [x.id, x.kinds]));
    const destinations: Choice[] = d.destinations.map((x) => ({ id: x.id, name: `${x.name} (${x.type})`, kinds: kinds.get(x.type) ?? [] }));
    const segments: Choice[] = s.segments.map((x) => ({ id: x.id, name: x.name }));
    const builder: BuilderChoices = { ...EMPTY_CHOICES, segments, computed: computed.computedTraits.map((c) => c.name), purposes: purposes.purposes.map((p) => p.id) };
    return { destinations, segments, builder };
  }, [workspaceId]);
  const initial = useMemo(() => journey.data?.definition ?? emptyDefinition(t('journeys.untitled')), [journey.data, t]);
  const stepStats = useMemo(() => {
    if (!stats.data) return undefined;
    const out: Record<string, string> = {};
    for (const [s, c] of Object.entries(stats.data.steps)) out[s] = Object.entries(c).map(([k, v]) => `${k} ${v}`).join(' · ');
    for (const [s, n] of Object.entries(stats.data.waiting)) out[s] = `${out[s] ? `${out[s]} · ` : ''}${t('journeys.waitingCount', { count: n })}`;
    return out;
  }, [stats.data, t]);

  const act = async (action: 'pause' | 'resume' | 'archive') => {
    if (!id) return;
    setActionError(null);
    try { await api.post(ws(workspaceId, `/journeys/${encodeURIComponent(id)}/${action}`)); journey.reload(); } catch (e) { setActionError(e); }
  };
  const j = journey.data;
  const writable = can('journeys.write') && j?.status !== 'archived';
  const title = j ? j.definition.name : t('journeys.create');
  if (id && !j) return <Page title={t('journeys.title')}><ErrorMessage error={journey.error} />{journey.loading && <p>{t('common.loading')}</p>}</Page>;
  return (
    <Page title={title} actions={
      <>
        <Link to="/journeys">{t('journeys.back')}</Link>
        {j && writable && j.status === 'active' && <button type="button" onClick={() => void act('pause')}>{t('journeys.pause')}</button>}
        {j && writable && j.status === 'paused' && <button type="button" onClick={() => void act('resume')}>{t('journeys.resume')}</button>}
        {j && writable && <button type="button" className="danger" onClick={() => { if (window.confirm(t('journeys.archiveConfirm'))) void act('archive'); }}>{t('journeys.archive')}</button>}
      </>
    }>
      {j && (
        <p className="journey-meta">
          <span className={`badge status-${j.status}`} data-testid="journey-status">{t(`journeys.statuses.${j.status}`, { defaultValue: j.status })}</span>{' '}
          {t('journeys.versionInfo', { version: j.version })}
        </p>
      )}
      {justCreated !== undefined && <p role="status" className="ok">{t('journeys.savedVersion', { version: justCreated })}</p>}
      <ErrorMessage error={actionError} />
      <ErrorMessage error={choices.error} />
      <Panel title={t('journeys.editor')}>
        <JourneyEditor initial={initial} journeyId={id} destinations={choices.data?.destinations ?? []} segments={choices.data?.segments ?? []}
          stepStats={stepStats} builder={choices.data?.builder} readOnly={!writable}
          onSaved={(saved) => { if (!id) navigate(`/journeys/${encodeURIComponent(saved.id)}`, { replace: true, state: { savedVersion: saved.version } }); else { journey.reload(); stats.reload(); } }} />
      </Panel>
      {id && stats.data && <JourneyStatsPanel stats={stats.data} />}
      {id && <DryRun journeyId={id} />}
    </Page>
  );
}
