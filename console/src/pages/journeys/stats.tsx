/**
 * How a journey performs: people entered and inside, outcomes, who waits where, each step's
 * counters, and conversion per split branch with the uplift versus the control group
 * (GET …/journeys/:id/stats); plus a dry run for one profile (GET …/simulate).
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { BarChart } from '../../components/Chart';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Panel } from '../../components/Page';
import type { JourneyStats, SimulateResult } from './types';
import { TextField } from './fields';

const pct = (x: number, lang: string) => new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 }).format(x);
const points = (x: number, lang: string) => `${x >= 0 ? '+' : ''}${new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(x * 100)} pt`;

export function JourneyStatsPanel({ stats }: { stats: JourneyStats }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const stepIds = Object.keys(stats.steps);
  return (
    <Panel title={t('journeys.stats')}>
      <dl className="kpis">
        <div><dt>{t('journeys.entered')}</dt><dd data-testid="journey-entered">{stats.entered}</dd></div>
        <div><dt>{t('journeys.inside')}</dt><dd>{stats.inside}</dd></div>
        {Object.entries(stats.outcomes).map(([k, v]) => <div key={k}><dt>{t(`journeys.outcome.${k}`, { defaultValue: k })}</dt><dd>{v}</dd></div>)}
      </dl>
      {stepIds.length > 0 && (<>
        <h3 className="chart-title">{t('journeys.passedPerStep')}</h3>
        <BarChart label={t('journeys.passedPerStep')} labels={stepIds} series={[{ label: t('journeys.passed'), data: stepIds.map((s) => stats.steps[s]?.passed ?? 0) }]} />
      </>)}
      <table className="table">
        <caption>{t('journeys.stepCounters')}</caption>
        <thead><tr><th scope="col">{t('journeys.step')}</th><th scope="col">{t('journeys.waitingNow')}</th><th scope="col">{t('journeys.counters')}</th></tr></thead>
        <tbody>
          {[...new Set([...stepIds, ...Object.keys(stats.waiting)])].map((s) => (
            <tr key={s}>
              <th scope="row">{s}</th>
              <td>{stats.waiting[s] ?? 0}</td>
              <td>{Object.entries(stats.steps[s] ?? {}).map(([k, v]) => `${k}: ${v}`).join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {stats.branches.length > 0 && (
        <table className="table">
          <caption>{t('journeys.uplift')}</caption>
          <thead><tr><th scope="col">{t('journeys.branch')}</th><th scope="col">{t('journeys.entered')}</th><th scope="col">{t('journeys.goals')}</th><th scope="col">{t('journeys.conversion')}</th><th scope="col">{t('journeys.upliftVsControl')}</th></tr></thead>
          <tbody>
            {stats.branches.map((b) => (
              <tr key={b.branch}>
                <th scope="row">{b.branch}</th><td>{b.entered}</td><td>{b.goals}</td><td>{pct(b.conversion, lang)}</td>
                <td>{b.upliftVsControl === null ? '—' : points(b.upliftVsControl, lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

export function DryRun({ journeyId }: { journeyId: string }) {
  const { t } = useTranslation();
  const { workspaceId } = useSession();
  const [profileId, setProfileId] = useState('');
  const [result, setResult] = useState<SimulateResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setError(null); setResult(null);
    try { setResult(await api.get<SimulateResult>(ws(workspaceId, `/journeys/${encodeURIComponent(journeyId)}/simulate`), { profileId })); } catch (e) { setError(e); }
  };
  return (
    <Panel title={t('journeys.dryRun')}>
      <form className="inline-form" onSubmit={(e) => { e.preventDefault(); void run(); }}>
        <TextField label={t('journeys.profileId')} value={profileId} required onChange={setProfileId} />
        <button type="submit">{t('journeys.simulate')}</button>
      </form>
      <ErrorMessage error={error} />
      {result && (
        <div aria-live="polite">
          <ol className="journey-path">
            {result.path.map((p, i) => <li key={i}><strong>{p.step}</strong> <span className="badge">{t(`journeys.kinds.${p.kind}`, { defaultValue: p.kind })}</span>{p.note ? ` — ${p.note}` : ''}</li>)}
          </ol>
          <p>{t('journeys.simulatedOutcome')}: <strong data-testid="dry-run-outcome">{result.outcome}</strong></p>
        </div>
      )}
    </Panel>
  );
}
