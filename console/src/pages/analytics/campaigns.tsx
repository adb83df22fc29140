/**
 * Campaign performance by channel (sent, delivered, opened, clicked, converted; GET
 * …/analytics/campaigns) and last-touch attribution (direct visits skipped, or not) of a
 * conversion event to channel and campaign (GET …/analytics/attribution). Both lists are paginated by the server.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { BarChart } from '../../components/Chart';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Panel } from '../../components/Page';
import { pageOfList } from '../journeys/paging';
import { Table } from '../../components/Table';
import { useApi } from '../../components/useApi';
import { SelectField, TextField } from '../journeys/fields';
import type { Range } from './range';

interface CampaignRow { channel: string; destinationId: string; journeyId: string | null; sent: number; delivered: number; opened: number; clicked: number; converted: number }
interface AttributionRow { channel: string; campaign: string | null; conversions: number; revenue: number }
interface Rows<T> { rows: T[]; nextCursor: string | null }

/** The server's attribution models (analytics/attribution.ts); the first is its default. */
const MODELS = ['last_non_direct', 'last_touch'] as const;
type Model = (typeof MODELS)[number];

const METRICS = ['sent', 'delivered', 'opened', 'clicked', 'converted'] as const;

export function CampaignsPanel({ range }: { range: Range }) {
  const { t } = useTranslation();
  const { workspaceId } = useSession();
  const [conversion, setConversion] = useState('');
  const [applied, setApplied] = useState('');
  // One query per range: rows are one per channel × destination × journey (a few hundred at most,
  // the API's page limit), so the chart and the table share them instead of asking twice.
  const chart = useApi((signal) => api.get<Rows<CampaignRow>>(ws(workspaceId, '/analytics/campaigns'), { ...range, conversion: applied, limit: 500 }, signal), [workspaceId, range.from, range.to, applied]);
  const byChannel = new Map<string, Record<(typeof METRICS)[number], number>>();
  for (const r of chart.data?.rows ?? []) {
    const c = byChannel.get(r.channel) ?? { sent: 0, delivered: 0, opened: 0, clicked: 0, converted: 0 };
    for (const m of METRICS) c[m] += r[m];
    byChannel.set(r.channel, c);
  }
  const channels = [...byChannel.keys()];
  // Names people recognise, for the ids the rows carry (ids stay as the cell's title).
  const names = useApi(async (signal) => {
    const [d, j] = await Promise.all([
      api.get<{ destinations: Array<{ id: string; name: string }> }>(ws(workspaceId, '/destinations'), undefined, signal).catch(() => ({ destinations: [] })),
      api.get<{ journeys: Array<{ id: string; definition: { name: string } }> }>(ws(workspaceId, '/journeys'), undefined, signal).catch(() => ({ journeys: [] })),
    ]);
    return new Map<string, string>([...d.destinations.map((x) => [x.id, x.name] as const), ...j.journeys.map((x) => [x.id, x.definition.name] as const)]);
  }, [workspaceId]);
  const named = (id: string) => <span title={id}>{names.data?.get(id) ?? <code>{id}</code>}</span>;
  return (
    <Panel title={t('analytics.campaigns')}>
      <form className="inline-form" onSubmit={(e) => { e.preventDefault(); setApplied(conversion); }}>
        <TextField label={t('analytics.conversionEvent')} hint={t('analytics.conversionHint')} value={conversion} list="analytics-event-names" onChange={setConversion} />
        <button type="submit">{t('analytics.apply')}</button>
      </form>
      {channels.length > 0 && (
        <BarChart label={t('analytics.campaignsChart')} labels={channels.map((c) => t(`analytics.channels.${c}`, { defaultValue: c }))}
          series={METRICS.map((m) => ({ label: t(`analytics.metrics.${m}`), data: channels.map((c) => byChannel.get(c)![m]) }))} />
      )}
      <ErrorMessage error={chart.error} />
      {chart.data?.nextCursor && <p className="hint">{t('analytics.campaignsTruncated')}</p>}
      {chart.data && <Table<CampaignRow>
        caption={t('analytics.campaignsTable')}
        rowKey={(r) => `${r.channel}:${r.destinationId}:${r.journeyId ?? ''}`}
        deps={[chart.data]}
        fetchPage={async (cursor, limit) => pageOfList(chart.data?.rows ?? [], cursor, limit)}
        empty={t('analytics.noCampaigns')}
        columns={[
          { key: 'channel', header: t('analytics.channel'), cell: (r) => t(`analytics.channels.${r.channel}`, { defaultValue: r.channel }) },
          { key: 'destination', header: t('analytics.destination'), cell: (r) => named(r.destinationId) },
          { key: 'journey', header: t('analytics.journey'), cell: (r) => (r.journeyId ? named(r.journeyId) : '—') },
          ...METRICS.map((m) => ({ key: m, header: t(`analytics.metrics.${m}`), cell: (r: CampaignRow) => r[m] })),
        ]}
      />}
    </Panel>
  );
}

export function AttributionPanel({ range }: { range: Range }) {
  const { t, i18n } = useTranslation();
  const { workspaceId } = useSession();
  const [conversion, setConversion] = useState('Order Completed');
  const [model, setModel] = useState<Model>('last_non_direct');
  const [applied, setApplied] = useState<{ conversion: string; model: Model }>({ conversion: 'Order Completed', model: 'last_non_direct' });
  const money = (x: number) => new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 2 }).format(x);
  return (
    <Panel title={t('analytics.attribution')}>
      <p>{t('analytics.attributionHelp')}</p>
      <form className="inline-form" onSubmit={(e) => { e.preventDefault(); setApplied({ conversion, model }); }}>
        <TextField label={t('analytics.conversionEvent')} value={conversion} required list="analytics-event-names" onChange={setConversion} />
        <SelectField label={t('analytics.attributionModel')} value={model} onChange={(v) => setModel(v as Model)}
          options={MODELS.map((m) => ({ value: m, label: t(`analytics.attributionModels.${m}`) }))} />
        <button type="submit">{t('analytics.apply')}</button>
      </form>
      {applied.conversion && (
        <Table<AttributionRow>
          caption={t('analytics.attributionTable', { event: applied.conversion })}
          rowKey={(r) => `${r.channel}:${r.campaign ?? ''}`}
          deps={[workspaceId, range.from, range.to, applied.conversion, applied.model]}
          fetchPage={async (cursor, limit, signal) => { const r = await api.get<Rows<AttributionRow>>(ws(workspaceId, '/analytics/attribution'), { ...range, ...applied, limit, cursor }, signal); return { items: r.rows, nextCursor: r.nextCursor }; }}
          empty={t('analytics.noConversions')}
          columns={[
            { key: 'channel', header: t('analytics.channel'), cell: (r) => t(`analytics.channels.${r.channel}`, { defaultValue: r.channel }) },
            { key: 'campaign', header: t('analytics.campaign'), cell: (r) => r.campaign ?? t('analytics.noCampaign') },
            { key: 'conversions', header: t('analytics.conversions'), cell: (r) => r.conversions },
            { key: 'revenue', header: t('analytics.revenue'), cell: (r) => money(r.revenue) },
          ]}
        />
      )}
    </Panel>
  );
}
