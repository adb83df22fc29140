/**
 * Funnels: ordered steps (event names), each person counted at a step when they did it after the
 * previous one within the window of their first step (POST …/analytics/funnel).
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { BarChart } from '../../components/Chart';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Panel } from '../../components/Page';
import { TextField } from '../journeys/fields';
import type { Range } from './range';

interface Funnel { steps: Array<{ event: string; count: number; conversion: number }> }

export function FunnelPanel({ range }: { range: Range }) {
  const { t, i18n } = useTranslation();
  const { workspaceId } = useSession();
  const [steps, setSteps] = useState<string[]>(['', '']);
  const [within, setWithin] = useState('7d');
  const [result, setResult] = useState<Funnel | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setError(null);
    try { setResult(await api.post<Funnel>(ws(workspaceId, '/analytics/funnel'), { steps: steps.map((event) => ({ event })), within, ...range })); } catch (e) { setError(e); setResult(null); }
  };
  const pct = (x: number) => new Intl.NumberFormat(i18n.language, { style: 'percent', maximumFractionDigits: 1 }).format(x);
  return (
    <Panel title={t('analytics.funnel')}>
      <form onSubmit={(e) => { e.preventDefault(); void run(); }} aria-label={t('analytics.funnel')}>
        <ol className="funnel-steps">
          {steps.map((s, i) => (
            <li key={i} className="inline-form">
              <TextField label={t('analytics.funnelStep', { n: i + 1 })} value={s} required list="analytics-event-names" onChange={(v) => setSteps(steps.map((x, j) => (j === i ? v : x)))} />
              {steps.length > 2 && <button type="button" onClick={() => setSteps(steps.filter((_, j) => j !== i))}>{t('analytics.removeStep', { n: i + 1 })}</button>}
            </li>
          ))}
        </ol>
        <div className="inline-form">
          {steps.length < 10 && <button type="button" onClick={() => setSteps([...steps, ''])}>{t('analytics.addStep')}</button>}
          <TextField label={t('analytics.within')} hint={t('analytics.withinHint')} value={within} onChange={setWithin} />
          <button type="submit" className="primary">{t('analytics.runFunnel')}</button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {result && (
        <>
          <h3 className="chart-title">{t('analytics.funnelChart')}</h3>
          <BarChart label={t('analytics.funnelChart')} labels={result.steps.map((s, i) => `${i + 1}. ${s.event}`)} series={[{ label: t('analytics.people'), data: result.steps.map((s) => s.count) }]} />
          <table className="table">
            <caption>{t('analytics.funnelTable')}</caption>
            <thead><tr><th scope="col">{t('analytics.step')}</th><th scope="col">{t('analytics.people')}</th><th scope="col">{t('analytics.conversion')}</th></tr></thead>
            <tbody>{result.steps.map((s, i) => <tr key={i}><th scope="row">{i + 1}. {s.event}</th><td>{s.count}</td><td>{pct(s.conversion)}</td></tr>)}</tbody>
          </table>
        </>
      )}
    </Panel>
  );
}
