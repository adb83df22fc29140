/**
 * Event trends: counts per hour, day or week for one event (or all), filtered by a JSON
 * `where` on property paths and broken down by one path (context.channel, properties.plan…),
 * from GET …/analytics/events/trend. The chart's numbers are also in a visible totals table.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { LineChart } from '../../components/Chart';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Panel } from '../../components/Page';
import { useApi } from '../../components/useApi';
import { SelectField, TextField } from '../journeys/fields';
import type { Range } from './range';

interface Trend { series: Array<{ key: string; points: Array<{ t: string; count: number }> }> }

const BREAKDOWNS = ['context.channel', 'context.device', 'context.page.path', 'utm.campaign', 'utm.source'];

export function TrendPanel({ range, names }: { range: Range; names: string[] }) {
  const { t, i18n } = useTranslation();
  const { workspaceId } = useSession();
  const [event, setEvent] = useState('');
  const [interval, setInterval] = useState<'hour' | 'day' | 'week'>('day');
  const [breakdown, setBreakdown] = useState('');
  const [where, setWhere] = useState('');
  const [applied, setApplied] = useState({ event: '', interval: 'day', breakdown: '', where: '' });
  const trend = useApi((signal) => api.get<Trend>(ws(workspaceId, '/analytics/events/trend'), { ...range, ...applied }, signal), [workspaceId, range.from, range.to, applied]);
  const series = trend.data?.series ?? [];
  const labels = series[0]?.points.map((p) => formatBucket(p.t, applied.interval, i18n.language)) ?? [];
  return (
    <Panel title={t('analytics.trend')}>
      <form className="inline-form" onSubmit={(e) => { e.preventDefault(); setApplied({ event, interval, breakdown, where }); }} aria-label={t('analytics.trendFilters')}>
        <TextField label={t('analytics.event')} value={event} placeholder={t('analytics.allEvents')} onChange={setEvent} name="event" list="analytics-event-names" />
        <datalist id="analytics-event-names">{names.map((n) => <option key={n} value={n} />)}</datalist>
        <SelectField label={t('analytics.interval')} value={interval} options={(['hour', 'day', 'week'] as const).map((v) => ({ value: v, label: t(`analytics.intervals.${v}`) }))} onChange={(v) => setInterval(v as 'hour' | 'day' | 'week')} />
        <TextField label={t('analytics.breakdown')} hint={t('analytics.breakdownHint', { examples: BREAKDOWNS.join(', ') })} value={breakdown} onChange={setBreakdown} name="breakdown" />
        <TextField label={t('analytics.where')} hint={t('analytics.whereHint')} value={where} placeholder='{"properties.plan": "pro"}' onChange={setWhere} name="where" />
        <button type="submit" className="primary">{t('analytics.apply')}</button>
      </form>
      <ErrorMessage error={trend.error} />
      {trend.data && (
        <>
          <LineChart label={t('analytics.trendChart', { event: applied.event || t('analytics.allEvents') })} labels={labels}
            series={series.map((s) => ({ label: s.key === 'all' && !applied.breakdown ? t('analytics.events') : s.key, data: s.points.map((p) => p.count) }))} height={280} />
          <table className="table" data-testid="trend-totals">
            <caption>{t('analytics.trendTotals')}</caption>
            <thead><tr><th scope="col">{t('analytics.series')}</th><th scope="col">{t('analytics.total')}</th><th scope="col">{t('analytics.peak')}</th></tr></thead>
            <tbody>
              {series.map((s) => (
                <tr key={s.key} data-series={s.key}>
                  <th scope="row">{s.key}</th>
                  <td data-testid={`trend-total-${s.key}`}>{s.points.reduce((n, p) => n + p.count, 0)}</td>
                  <td>{Math.max(0, ...s.points.map((p) => p.count))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Panel>
  );
}

function formatBucket(t: string, interval: string, lang: string): string {
  const d = new Date(t);
  return interval === 'hour'
    ? d.toLocaleString(lang, { month: 'short', day: 'numeric', hour: '2-digit', timeZone: 'UTC' })
    : d.toLocaleDateString(lang, { month: 'short', day: 'numeric', timeZone: 'UTC' });
}
