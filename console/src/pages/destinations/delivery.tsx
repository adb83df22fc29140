/**
 * A destination's delivery side: a test delivery (one synthetic item, no real person), the
 * delivery metrics, and the dead letters — each one inspectable (its last error, attempts,
 * dates) and replayable, one by one, the selected ones, or all.
 */
import { Fragment, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { BarChart } from '../../components/Chart';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Panel } from '../../components/Page';
import { useApi } from '../../components/useApi';
import type { DeadLetter, DestinationStats, Outcome } from './types';

const path = (workspaceId: string, id: string, rest: string) => ws(workspaceId, `/destinations/${encodeURIComponent(id)}${rest}`);

export function TestDelivery({ id }: { id: string }) {
  const { t } = useTranslation();
  const { workspaceId, can } = useSession();
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true); setError(null); setOutcome(null);
    try { setOutcome((await api.post<{ outcome: Outcome }>(path(workspaceId, id, '/test'))).outcome); } catch (e) { setError(e); } finally { setBusy(false); }
  };
  const detail = outcome ? (outcome.kind === 'ok' ? outcome.detail : outcome.kind === 'dead' ? outcome.error : outcome.reason) : undefined;
  return (
    <Panel title={t('destinations.test')}>
      <p>{t('destinations.testHelp')}</p>
      <button type="button" disabled={busy || !can('destinations.write')} onClick={() => void run()}>{t('destinations.sendTest')}</button>
      <ErrorMessage error={error} />
      {outcome && (
        <p role="status" className={outcome.kind === 'ok' ? 'ok' : 'error'} data-testid="test-outcome" data-outcome={outcome.kind}>
          {t(`destinations.outcome.${outcome.kind}`)}{detail ? ` — ${detail}` : ''}
        </p>
      )}
    </Panel>
  );
}

export function DeliveryStats({ id, tick }: { id: string; tick: number }) {
  const { t } = useTranslation();
  const { workspaceId } = useSession();
  const stats = useApi((signal) => api.get<DestinationStats>(path(workspaceId, id, '/stats'), undefined, signal), [workspaceId, id, tick]);
  const s = stats.data;
  return (
    <Panel title={t('destinations.metrics')}>
      <ErrorMessage error={stats.error} />
      {s && (
        <>
          <dl className="kpis">
            <div><dt>{t('destinations.delivered')}</dt><dd data-testid="stat-delivered">{s.delivered}</dd></div>
            <div><dt>{t('destinations.retried')}</dt><dd>{s.retried}</dd></div>
            <div><dt>{t('destinations.pending')}</dt><dd>{s.pending}</dd></div>
            <div><dt>{t('destinations.dead')}</dt><dd data-testid="stat-dead">{s.dead}</dd></div>
            <div><dt>{t('destinations.latencyP50')}</dt><dd>{s.latencyMs.p50 === null ? '—' : `${Math.round(s.latencyMs.p50)} ms`}</dd></div>
            <div><dt>{t('destinations.latencyP99')}</dt><dd>{s.latencyMs.p99 === null ? '—' : `${Math.round(s.latencyMs.p99)} ms`}</dd></div>
          </dl>
          <h3 className="chart-title">{t('destinations.outcomesChart')}</h3>
          <BarChart label={t('destinations.outcomesChart')}
            labels={[t('destinations.delivered'), t('destinations.retried'), t('destinations.dead'), ...Object.keys(s.dropped).map((r) => `${t('destinations.dropped')}: ${r}`)]}
            series={[{ label: t('destinations.deliveries'), data: [s.delivered, s.retried, s.dead, ...Object.values(s.dropped)] }]} />
          {Object.keys(s.audience).length > 0 && (
            <table className="table">
              <caption>{t('destinations.audienceSizes')}</caption>
              <thead><tr><th scope="col">{t('destinations.segment')}</th><th scope="col">{t('destinations.members')}</th></tr></thead>
              <tbody>{Object.entries(s.audience).map(([k, v]) => <tr key={k}><th scope="row">{k}</th><td>{v}</td></tr>)}</tbody>
            </table>
          )}
        </>
      )}
    </Panel>
  );
}

export function DeadLetters({ id, onReplayed }: { id: string; onReplayed: () => void }) {
  const { t, i18n } = useTranslation();
  const { workspaceId, can } = useSession();
  const [limit, setLimit] = useState(50);
  const list = useApi((signal) => api.get<{ deadLetters: DeadLetter[] }>(path(workspaceId, id, '/dead-letters'), { limit }, signal), [workspaceId, id, limit]);
  const [selected, setSelected] = useState<string[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const [replayed, setReplayed] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const replay = async (keys: string[] | null) => {
    setError(null); setReplayed(null);
    try {
      const r = await api.post<{ replayed: number }>(path(workspaceId, id, '/dead-letters'), keys ? { keys } : {});
      setReplayed(r.replayed); setSelected([]); list.reload(); onReplayed();
    } catch (e) { setError(e); }
  };
  const rows = list.data?.deadLetters ?? [];
  const writable = can('destinations.write');
  return (
    <Panel title={t('destinations.deadLetters')}>
      <ErrorMessage error={list.error ?? error} />
      {replayed !== null && <p role="status" className="ok">{t('destinations.replayedCount', { count: replayed })}</p>}
      <div className="toolbar">
        <button type="button" disabled={!writable || selected.length === 0} onClick={() => void replay(selected)}>{t('destinations.replaySelected', { count: selected.length })}</button>
        <button type="button" disabled={!writable || rows.length === 0} onClick={() => void replay(null)}>{t('destinations.replayAll')}</button>
      </div>
      <table className="table">
        <caption>{t('destinations.deadLetterList')}</caption>
        <thead><tr>
          <th scope="col"><span className="visually-hidden">{t('destinations.select')}</span></th>
          <th scope="col">{t('destinations.kind')}</th><th scope="col">{t('destinations.profile')}</th><th scope="col">{t('destinations.attempts')}</th>
          <th scope="col">{t('destinations.failedAt')}</th><th scope="col">{t('destinations.lastError')}</th><th scope="col">{t('destinations.actions')}</th>
        </tr></thead>
        <tbody>
          {rows.length === 0 && <tr><td colSpan={7} className="empty">{t('destinations.noDeadLetters')}</td></tr>}
          {rows.map((d) => (
            <Fragment key={d.key}>
              <tr>
                <td><input type="checkbox" aria-label={t('destinations.selectOne', { key: d.key })} checked={selected.includes(d.key)} onChange={(e) => setSelected(e.target.checked ? [...selected, d.key] : selected.filter((k) => k !== d.key))} /></td>
                <td data-label={t('destinations.kind')}>{d.kind}{d.action ? ` (${d.action})` : ''}</td>
                <td data-label={t('destinations.profile')}><code>{d.profileId}</code></td>
                <td data-label={t('destinations.attempts')}>{d.attempts}</td>
                <td data-label={t('destinations.failedAt')}>{new Date(d.failedAt).toLocaleString(i18n.language)}</td>
                <td data-label={t('destinations.lastError')} className="truncate">{d.error}</td>
                <td>
                  <button type="button" aria-expanded={open === d.key} onClick={() => setOpen(open === d.key ? null : d.key)}>{t('destinations.inspect')}</button>
                  <button type="button" disabled={!writable} onClick={() => void replay([d.key])}>{t('destinations.replay')}</button>
                </td>
              </tr>
              {open === d.key && (
                <tr><td colSpan={7}><pre className="code" aria-label={t('destinations.inspection')}>{JSON.stringify(d, null, 2)}</pre></td></tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      {rows.length >= limit && <button type="button" onClick={() => setLimit(limit + 50)}>{t('destinations.more')}</button>}
    </Panel>
  );
}
