/** Home: events per day, profiles (active, identified share), sources' health and the processing lag. */
import { useTranslation } from 'react-i18next';
import { api, ws } from '../../api/client';
import type { Overview } from '../../api/types';
import { useSession } from '../../auth';
import { ErrorMessage, LineChart, Page, Panel, formatDate, formatNumber, formatPercent, useApi } from '../../components';

export default function Home() {
  const { t } = useTranslation();
  const { workspaceId } = useSession();
  const { data, error, loading } = useApi((signal) => api.get<Overview>(ws(workspaceId, '/analytics/overview'), undefined, signal), [workspaceId]);
  return (
    <Page title={t('home.title')}>
      <ErrorMessage error={error} />
      {loading && !data && <p role="status">{t('common.loading')}</p>}
      {data && (
        <>
          <div className="grid">
            <Panel title={t('home.profiles')}><p className="stat" data-testid="profiles">{formatNumber(data.profiles)}</p></Panel>
            <Panel title={t('home.activeProfiles')}><p className="stat" data-testid="active-profiles">{formatNumber(data.activeProfiles)}</p><small className="muted">{t('home.activeHint')}</small></Panel>
            <Panel title={t('home.identifiedShare')}><p className="stat" data-testid="identified-share">{formatPercent(data.identifiedShare)}</p></Panel>
            <Panel title={t('home.processingLag')}>
              <p className="stat" data-testid="processing-lag">{formatNumber(Math.round(data.processingLagMs))} ms</p>
              <small className="muted">{data.processingLagMs < 5000 ? t('home.lagOk') : t('home.lagHigh')}</small>
            </Panel>
          </div>
          <Panel title={t('home.eventsPerDay')}>
            <LineChart label={t('home.eventsPerDay')} labels={data.eventsPerDay.map((d) => d.day)} series={[{ label: t('home.events'), data: data.eventsPerDay.map((d) => d.count) }]} />
          </Panel>
          <Panel title={t('home.sourcesHealth')}>
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">{t('home.sourcesHealth')}</caption>
                <thead><tr><th scope="col">{t('home.source')}</th><th scope="col">{t('home.kind')}</th><th scope="col">{t('home.lastEvent')}</th><th scope="col">{t('home.eventsToday')}</th><th scope="col">{t('home.rejectedToday')}</th><th scope="col">{t('home.health')}</th></tr></thead>
                <tbody>
                  {data.sources.map((s) => {
                    const health = s.lastEventAt === null ? 'silent' : s.rejectedToday > 0 && s.rejectedToday >= s.eventsToday ? 'failing' : s.rejectedToday > 0 ? 'warning' : 'ok';
                    return (
                      <tr key={s.id}>
                        <td data-label={t('home.source')}>{s.name}</td>
                        <td data-label={t('home.kind')}>{t(`sources.kinds.${s.kind}`, { defaultValue: s.kind })}</td>
                        <td data-label={t('home.lastEvent')}>{formatDate(s.lastEventAt)}</td>
                        <td data-label={t('home.eventsToday')}>{formatNumber(s.eventsToday)}</td>
                        <td data-label={t('home.rejectedToday')}>{formatNumber(s.rejectedToday)}</td>
                        <td data-label={t('home.health')}><span className={`badge ${health === 'ok' ? 'accepted' : health === 'silent' ? '' : 'rejected'}`}>{t(`home.healthStates.${health}`)}</span></td>
                      </tr>
                    );
                  })}
                  {data.sources.length === 0 && <tr><td colSpan={6} className="empty">{t('home.noSources')}</td></tr>}
                </tbody>
              </table>
            </div>
          </Panel>
        </>
      )}
    </Page>
  );
}
