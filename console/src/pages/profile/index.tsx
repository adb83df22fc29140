/**
 * A profile's 360° view: identity graph (why each link exists), traits with their source and
 * time, event timeline (server-paginated), segments with their explanation, consents and their
 * history, journeys, and scores (shown only when predictive models exist). Identifiers and
 * personal traits come masked from the server unless the user's role may see them in clear.
 */
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useTranslation } from 'react-i18next';
import { ApiError, api, ws } from '../../api/client';
import type { ConsentRecordView, Explanation, IdentityGraph, ProfileView } from '../../api/types';
import { useSession } from '../../auth';
import { ErrorMessage, Page, Panel, Table, formatDate, formatNumber, useApi } from '../../components';
import { ExplanationTree } from './explanation';
import { IdentityGraphView } from './identity-graph';

interface EventRow { messageId: string; type: string; event: string | null; name: string | null; timestamp: string; sourceId: string; properties: unknown }
interface Score { modelId: string; score: number; decile: number; explanation: Array<{ feature: string; contribution: number }> }
interface JourneyOfProfile { journeyId: string; name: string; step: string | null; enteredAt: string; outcome: string | null; endedAt: string | null; branch: string | null }

function show(v: unknown): string {
  if (v === null) return '•••';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export default function Profile() {
  const { t } = useTranslation();
  const { workspaceId } = useSession();
  const { profileId = '' } = useParams();
  const base = ws(workspaceId, `/profiles/${encodeURIComponent(profileId)}`);
  const profile = useApi((s) => api.get<ProfileView>(base, undefined, s), [base]);
  const graph = useApi((s) => api.get<IdentityGraph>(`${base}/identity`, undefined, s), [base]);
  const segments = useApi((s) => api.get<{ segments: Array<{ id: string; name: string }>; history: Array<{ id: string; type: string; segmentId: string; timestamp: string; cause: string }> }>(`${base}/segments`, undefined, s), [base]);
  const consents = useApi((s) => api.get<{ current: Record<string, ConsentRecordView>; history: ConsentRecordView[] }>(`${base}/consents`, undefined, s), [base]);
  const journeys = useApi((s) => api.get<{ journeys: JourneyOfProfile[] }>(`${base}/journeys`, undefined, s), [base]);
  // Scores exist only where predictive models are set up: any failure means "nothing to show".
  const scores = useApi((s) => api.get<Score[] | { scores: Score[] }>(`${base}/scores`, undefined, s).catch(() => [] as Score[]), [base]);
  const sources = useApi((s) => api.get<{ sources: Array<{ id: string; name: string }> }>(ws(workspaceId, '/sources'), undefined, s).catch(() => ({ sources: [] })), [workspaceId]);
  const sourceName = (id: string | undefined) => (id === undefined ? '—' : sources.data?.sources.find((x) => x.id === id)?.name ?? id);
  const [why, setWhy] = useState<Record<string, Explanation | ApiError>>({});
  const p = profile.data;
  const scoreList = Array.isArray(scores.data) ? scores.data : scores.data?.scores ?? [];

  const explain = async (segmentId: string) => {
    try {
      const r = await api.get<{ explanation: Explanation }>(ws(workspaceId, `/segments/${encodeURIComponent(segmentId)}/explain`), { profileId });
      setWhy((w) => ({ ...w, [segmentId]: r.explanation }));
    } catch (e) {
      setWhy((w) => ({ ...w, [segmentId]: e as ApiError }));
    }
  };

  return (
    <Page title={t('profile.title')} actions={<Link to="/profiles">{t('profile.back')}</Link>}>
      <ErrorMessage error={profile.error} />
      {p && (
        <>
          <Panel title={t('profile.summary')}>
            <dl className="facts">
              <dt>{t('profiles.id')}</dt><dd><code data-testid="profile-id">{p.id}</code></dd>
              <dt>{t('profile.firstSeen')}</dt><dd>{formatDate(p.firstSeen)}</dd>
              <dt>{t('profile.lastSeen')}</dt><dd>{formatDate(p.lastSeen)}</dd>
              <dt>{t('profile.eventCount')}</dt><dd>{formatNumber(p.eventCount)}</dd>
              {p.mergedFrom.length > 0 && (<><dt>{t('profile.mergedFrom')}</dt><dd>{p.mergedFrom.join(', ')}</dd></>)}
            </dl>
          </Panel>
          <Panel title={t('profile.identityGraph')}>
            <ErrorMessage error={graph.error} />
            {graph.data && <IdentityGraphView graph={graph.data} />}
          </Panel>
          <Panel title={t('profile.traits')}>
            <div className="table-wrap">
              <table className="table" data-testid="traits">
                <caption className="visually-hidden">{t('profile.traits')}</caption>
                <thead><tr><th scope="col">{t('profile.trait')}</th><th scope="col">{t('profile.value')}</th><th scope="col">{t('profile.source')}</th><th scope="col">{t('profile.at')}</th></tr></thead>
                <tbody>
                  {Object.entries(p.traits).map(([k, v]) => (
                    <tr key={k}>
                      <td data-label={t('profile.trait')}>{k}</td>
                      <td data-label={t('profile.value')}>{show(v)}</td>
                      <td data-label={t('profile.source')}>{sourceName(p.traitSources[k]?.sourceId)}</td>
                      <td data-label={t('profile.at')}>{formatDate(p.traitSources[k]?.at)}</td>
                    </tr>
                  ))}
                  {Object.entries(p.computed).map(([k, v]) => (
                    <tr key={`computed:${k}`}>
                      <td data-label={t('profile.trait')}>{k} <span className="badge">{t('profile.computed')}</span></td>
                      <td data-label={t('profile.value')}>{show(v)}</td>
                      <td data-label={t('profile.source')}>{t('profile.computed')}</td>
                      <td data-label={t('profile.at')}>—</td>
                    </tr>
                  ))}
                  {Object.keys(p.traits).length + Object.keys(p.computed).length === 0 && <tr><td colSpan={4} className="empty">{t('common.empty')}</td></tr>}
                </tbody>
              </table>
            </div>
          </Panel>
          <Panel title={t('profile.segments')}>
            <ErrorMessage error={segments.error} />
            <ul className="plain" data-testid="profile-segments">
              {segments.data?.segments.map((s) => (
                <li key={s.id}>
                  <Link to={`/segments/${encodeURIComponent(s.id)}`}>{s.name}</Link>{' '}
                  <button type="button" onClick={() => void explain(s.id)} aria-expanded={why[s.id] !== undefined}>{t('profile.why')}</button>
                  {why[s.id] instanceof ApiError ? <ErrorMessage error={why[s.id]} /> : why[s.id] ? <ExplanationTree node={why[s.id] as Explanation} /> : null}
                </li>
              ))}
              {segments.data?.segments.length === 0 && <li className="muted">{t('profile.noSegments')}</li>}
            </ul>
            {segments.data && segments.data.history.length > 0 && (
              <details>
                <summary>{t('profile.segmentHistory')}</summary>
                <ul className="plain">{segments.data.history.slice(0, 50).map((h) => <li key={h.id}>{formatDate(h.timestamp)} · {h.type} · {h.segmentId} · {h.cause}</li>)}</ul>
              </details>
            )}
          </Panel>
          <Panel title={t('profile.consents')}>
            <ErrorMessage error={consents.error} />
            {consents.data && (
              <>
                <ul className="plain" data-testid="consents">
                  {Object.values(consents.data.current).map((c) => <li key={c.purpose}><strong>{c.purpose}</strong>: <span className={`badge ${c.status === 'granted' ? 'accepted' : 'rejected'}`}>{t(`profile.consentStatus.${c.status}`, { defaultValue: c.status })}</span> · {formatDate(c.at)} · {c.source}</li>)}
                  {Object.keys(consents.data.current).length === 0 && <li className="muted">{t('profile.noConsents')}</li>}
                </ul>
                {consents.data.history.length > 0 && (
                  <details>
                    <summary>{t('profile.consentHistory')}</summary>
                    <ul className="plain">{consents.data.history.map((c) => <li key={c.id}>{formatDate(c.at)} · {c.purpose} · {c.status} · {c.source}</li>)}</ul>
                  </details>
                )}
              </>
            )}
          </Panel>
          <Panel title={t('profile.journeys')}>
            <ErrorMessage error={journeys.error} />
            <ul className="plain" data-testid="profile-journeys">
              {journeys.data?.journeys.map((j) => (
                <li key={j.journeyId}><strong>{j.name}</strong> · {j.step ? t('profile.atStep', { step: j.step }) : t('profile.journeyEnded', { outcome: j.outcome ?? '—' })} · {formatDate(j.enteredAt)}{j.branch ? ` · ${j.branch}` : ''}</li>
              ))}
              {journeys.data?.journeys.length === 0 && <li className="muted">{t('profile.noJourneys')}</li>}
            </ul>
          </Panel>
          {scoreList.length > 0 && (
            <Panel title={t('profile.scores')}>
              <ul className="plain" data-testid="scores">
                {scoreList.map((s) => (
                  <li key={s.modelId}><strong>{s.modelId}</strong>: {s.score.toFixed(3)} · {t('segment.decile')} {s.decile}
                    {s.explanation.length > 0 && <span className="muted"> · {s.explanation.slice(0, 3).map((e) => `${e.feature} ${e.contribution >= 0 ? '+' : ''}${e.contribution.toFixed(2)}`).join(', ')}</span>}
                  </li>
                ))}
              </ul>
            </Panel>
          )}
          <Table<EventRow>
            caption={t('profile.timeline')}
            deps={[base]}
            rowKey={(e) => e.messageId}
            fetchPage={async (cursor, limit, signal) => {
              const r = await api.get<{ events: EventRow[]; nextCursor: string | null }>(`${base}/events`, { cursor, limit }, signal);
              return { items: r.events, nextCursor: r.nextCursor };
            }}
            pageSize={25}
            columns={[
              { key: 'at', header: t('profile.at'), cell: (e) => formatDate(e.timestamp) },
              { key: 'type', header: t('sources.type'), cell: (e) => e.type },
              { key: 'event', header: t('profile.event'), cell: (e) => e.event ?? e.name ?? '—' },
              { key: 'source', header: t('profile.source'), cell: (e) => sourceName(e.sourceId) },
              { key: 'props', header: t('profile.properties'), cell: (e) => <code>{JSON.stringify(e.properties ?? {}).slice(0, 120)}</code> },
            ]}
          />
        </>
      )}
    </Page>
  );
}
