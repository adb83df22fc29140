/**
 * Analytics: event trends with filters and breakdowns, funnels, campaign performance by channel
 * and last-touch attribution, over one time range (the last 30 days by default). Every number
 * comes from the analytics API; nothing here names a person.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { Page } from '../../components/Page';
import { useApi } from '../../components/useApi';
import { TextField } from '../journeys/fields';
import { lastDays, type Range } from './range';
import { TrendPanel } from './trend';
import { FunnelPanel } from './funnel';
import { AttributionPanel, CampaignsPanel } from './campaigns';

export default function AnalyticsPage() {
  const { t } = useTranslation();
  const { workspaceId } = useSession();
  const [range, setRange] = useState<Range>(() => lastDays(30));
  const names = useApi((signal) => api.get<{ names: Array<{ name: string; count: number }> }>(ws(workspaceId, '/analytics/events/names'), { ...range, limit: 200 }, signal), [workspaceId, range.from, range.to]);
  return (
    <Page title={t('analytics.title')}>
      <form className="inline-form range-form" aria-label={t('analytics.range')} onSubmit={(e) => e.preventDefault()}>
        <TextField label={t('analytics.from')} type="date" value={range.from} onChange={(v) => setRange({ ...range, from: v })} />
        <TextField label={t('analytics.to')} type="date" value={range.to} onChange={(v) => setRange({ ...range, to: v })} />
        {[7, 30, 90].map((d) => <button type="button" key={d} onClick={() => setRange(lastDays(d))}>{t('analytics.lastDays', { count: d })}</button>)}
      </form>
      <TrendPanel range={range} names={(names.data?.names ?? []).map((n) => n.name)} />
      <FunnelPanel range={range} />
      <CampaignsPanel range={range} />
      <AttributionPanel range={range} />
    </Page>
  );
}
