/**
 * A model card, as honest as the training was: data window, population, class balance, the
 * validation AUC (with its interval) of the chosen algorithm and of every candidate, precision
 * and recall at several thresholds, calibration (predicted vs observed per bin), top features,
 * and whether the model is better than chance. Plus the score distribution of the scored
 * population (GET …/models/:id/distribution).
 */
import { useTranslation } from 'react-i18next';
import { api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { BarChart, LineChart } from '../../components/Chart';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Panel } from '../../components/Page';
import { useApi } from '../../components/useApi';
import type { Distribution, ModelCard } from './types';

export function ModelCardView({ card }: { card: ModelCard }) {
  const { t, i18n } = useTranslation();
  const num = (x: number, digits = 3) => new Intl.NumberFormat(i18n.language, { maximumFractionDigits: digits }).format(x);
  const pct = (x: number) => new Intl.NumberFormat(i18n.language, { style: 'percent', maximumFractionDigits: 1 }).format(x);
  const date = (s: string | null) => (s ? new Date(s).toLocaleString(i18n.language) : '—');
  return (
    <Panel title={t('models.card')} className="model-card">
      <p role="status" className={card.status === 'active' ? 'ok' : 'error'} data-testid="model-status" data-status={card.status}>
        {t(`models.status.${card.status}`)}{card.statusReason ? ` — ${card.statusReason}` : ''}
      </p>
      <dl className="kpis">
        <div><dt>{t('models.auc')}</dt><dd data-testid="model-auc">{num(card.auc)}</dd></div>
        {card.aucInterval && card.aucInterval.length === 2 && <div><dt>{t('models.aucInterval')}</dt><dd>{num(card.aucInterval[0]!)} – {num(card.aucInterval[1]!)}</dd></div>}
        <div><dt>{t('models.algorithm')}</dt><dd>{t(`models.algorithms.${card.chosenAlgorithm}`, { defaultValue: card.chosenAlgorithm })}</dd></div>
        <div><dt>{t('models.positiveRate')}</dt><dd>{pct(card.classBalance.positiveRate)} ({card.classBalance.positives} / {card.classBalance.positives + card.classBalance.negatives})</dd></div>
        <div><dt>{t('models.trainedOn')}</dt><dd>{card.population.trainedOn}</dd></div>
        <div><dt>{t('models.validatedOn')}</dt><dd>{card.population.validatedOn}</dd></div>
        <div><dt>{t('models.eligible')}</dt><dd>{card.population.eligible}</dd></div>
        <div><dt>{t('models.withoutConsent')}</dt><dd>{card.population.withoutConsent}</dd></div>
      </dl>
      <p>{t('models.dataWindow', { cutoff: date(card.dataWindow.cutoff), from: date(card.dataWindow.labelFrom), to: date(card.dataWindow.labelTo), validation: card.dataWindow.validation })}</p>
      <table className="table">
        <caption>{t('models.candidates')}</caption>
        <thead><tr><th scope="col">{t('models.algorithm')}</th><th scope="col">{t('models.auc')}</th></tr></thead>
        <tbody>{card.candidates.map((c) => <tr key={c.algorithm}><th scope="row">{t(`models.algorithms.${c.algorithm}`, { defaultValue: c.algorithm })}{c.algorithm === card.chosenAlgorithm ? ` (${t('models.chosen')})` : ''}</th><td>{num(c.auc)}</td></tr>)}</tbody>
      </table>
      <table className="table" data-testid="model-thresholds">
        <caption>{t('models.thresholds')}</caption>
        <thead><tr><th scope="col">{t('models.threshold')}</th><th scope="col">{t('models.precision')}</th><th scope="col">{t('models.recall')}</th><th scope="col">{t('models.flagged')}</th></tr></thead>
        <tbody>{card.thresholds.map((r) => <tr key={r.threshold}><th scope="row">{num(r.threshold, 2)}</th><td>{r.precision === null ? '—' : pct(r.precision)}</td><td>{pct(r.recall)}</td><td>{r.flagged ?? '—'}</td></tr>)}</tbody>
      </table>
      {card.calibration.length > 0 && (<>
        <h3 className="chart-title">{t('models.calibration')}</h3>
        <LineChart label={t('models.calibration')} labels={card.calibration.map((c) => num(c.predicted, 2))}
          series={[{ label: t('models.observed'), data: card.calibration.map((c) => c.observed) }, { label: t('models.predicted'), data: card.calibration.map((c) => c.predicted) }]} />
      </>)}
      {card.topFeatures.length > 0 && (<>
        <h3 className="chart-title">{t('models.topFeatures')}</h3>
        <BarChart label={t('models.topFeatures')} labels={card.topFeatures.map((f) => f.feature)} series={[{ label: t('models.importance'), data: card.topFeatures.map((f) => f.importance) }]} />
      </>)}
      {card.notes && card.notes.length > 0 && <ul className="notes">{card.notes.map((n, i) => <li key={i}>{n}</li>)}</ul>}
    </Panel>
  );
}

export function ScoreDistribution({ modelId, tick }: { modelId: string; tick: number }) {
  const { t } = useTranslation();
  const { workspaceId } = useSession();
  const dist = useApi((signal) => api.get<Distribution>(ws(workspaceId, `/models/${encodeURIComponent(modelId)}/distribution`), undefined, signal), [workspaceId, modelId, tick]);
  const d = dist.data;
  return (
    <Panel title={t('models.distribution')}>
      <ErrorMessage error={dist.error} />
      {d && d.histogram.length > 0 && (<>
        <h3 className="chart-title">{t('models.histogram')}</h3>
        <BarChart label={t('models.histogram')} labels={d.histogram.map((h) => String(h.bin))} series={[{ label: t('models.profiles'), data: d.histogram.map((h) => h.count) }]} />
      </>)}
      {d && d.deciles.length > 0 && (
        <table className="table">
          <caption>{t('models.deciles')}</caption>
          <thead><tr><th scope="col">{t('models.decile')}</th><th scope="col">{t('models.profiles')}</th><th scope="col">{t('models.min')}</th><th scope="col">{t('models.max')}</th></tr></thead>
          <tbody>{d.deciles.map((x) => <tr key={x.decile}><th scope="row">{x.decile}</th><td>{x.count}</td><td>{x.min.toFixed(3)}</td><td>{x.max.toFixed(3)}</td></tr>)}</tbody>
        </table>
      )}
      {d && d.histogram.length === 0 && d.deciles.length === 0 && <p>{t('models.noScores')}</p>}
    </Panel>
  );
}
