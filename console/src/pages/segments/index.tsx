/** Segments: the list with sizes, a link to build a new one, and the overlap between the ones ticked. */
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useTranslation } from 'react-i18next';
import { api, ws } from '../../api/client';
import type { SegmentView } from '../../api/types';
import { useSession } from '../../auth';
import { ErrorMessage, Page, Panel, formatDate, formatNumber, useApi } from '../../components';

interface Overlap { sizes: Record<string, number>; pairs: Array<{ a: string; b: string; both: number }>; all: number }

export default function Segments() {
  const { t } = useTranslation();
  const { workspaceId, can } = useSession();
  const navigate = useNavigate();
  const { data, error } = useApi((s) => api.get<{ segments: SegmentView[] }>(ws(workspaceId, '/segments'), undefined, s), [workspaceId]);
  const [ticked, setTicked] = useState<string[]>([]);
  const [overlap, setOverlap] = useState<Overlap | null>(null);
  const [overlapError, setOverlapError] = useState<unknown>(null);
  const segments = data?.segments ?? [];
  const nameOf = (id: string) => segments.find((s) => s.id === id)?.name ?? id;

  const compare = async () => {
    setOverlapError(null);
    try {
      setOverlap(await api.get<Overlap>(ws(workspaceId, '/segments/overlap'), { ids: ticked.join(',') }));
    } catch (e) {
      setOverlap(null);
      setOverlapError(e);
    }
  };
  const toggle = (id: string) => setTicked((x) => (x.includes(id) ? x.filter((y) => y !== id) : x.length >= 10 ? x : [...x, id]));

  return (
    <Page title={t('segments.title')} actions={can('segments.write') ? <Link className="button primary" to="/segments/new">{t('segments.new')}</Link> : undefined}>
      <ErrorMessage error={error} />
      <Panel>
        <div className="table-wrap">
          <table className="table" data-testid="segments">
            <caption>{t('segments.list')}</caption>
            <thead><tr><th scope="col">{t('segments.compare')}</th><th scope="col">{t('segments.name')}</th><th scope="col">{t('segments.size')}</th><th scope="col">{t('segments.kind')}</th><th scope="col">{t('segments.updated')}</th></tr></thead>
            <tbody>
              {segments.map((s) => (
                <tr key={s.id}>
                  <td data-label={t('segments.compare')}>
                    <input type="checkbox" id={`cmp-${s.id}`} checked={ticked.includes(s.id)} onChange={() => toggle(s.id)} aria-label={t('segments.compareNamed', { name: s.name })} />
                  </td>
                  <td data-label={t('segments.name')}>
                    <a href={`/segments/${encodeURIComponent(s.id)}`} onClick={(e) => { e.preventDefault(); navigate(`/segments/${encodeURIComponent(s.id)}`); }}>{s.name}</a>
                    {s.sensitive.length > 0 && <span className="badge rejected"> {s.approvedAt ? t('segments.sensitiveApproved') : t('segments.sensitivePending')}</span>}
                  </td>
                  <td data-label={t('segments.size')}>{formatNumber(s.size)}</td>
                  <td data-label={t('segments.kind')}>{t(`segments.kinds.${s.kind}`)}</td>
                  <td data-label={t('segments.updated')}>{formatDate(s.updatedAt)}</td>
                </tr>
              ))}
              {segments.length === 0 && <tr><td colSpan={5} className="empty">{t('segments.none')}</td></tr>}
            </tbody>
          </table>
        </div>
        <button type="button" disabled={ticked.length < 2} onClick={() => void compare()}>{t('segments.showOverlap', { count: ticked.length })}</button>
      </Panel>
      <ErrorMessage error={overlapError} />
      {overlap && (
        <Panel title={t('segments.overlap')}>
          <div className="table-wrap">
            <table className="table" data-testid="overlap">
              <caption className="visually-hidden">{t('segments.overlap')}</caption>
              <thead><tr><th scope="col">{t('segments.pair')}</th><th scope="col">{t('segments.both')}</th><th scope="col">{t('segments.shareOfSmaller')}</th></tr></thead>
              <tbody>
                {overlap.pairs.map((p) => {
                  const smaller = Math.min(overlap.sizes[p.a] ?? 0, overlap.sizes[p.b] ?? 0);
                  return (
                    <tr key={`${p.a}-${p.b}`}>
                      <td data-label={t('segments.pair')}>{nameOf(p.a)} ({formatNumber(overlap.sizes[p.a])}) ∩ {nameOf(p.b)} ({formatNumber(overlap.sizes[p.b])})</td>
                      <td data-label={t('segments.both')}>{formatNumber(p.both)}</td>
                      <td data-label={t('segments.shareOfSmaller')}>{smaller === 0 ? '—' : `${Math.round((100 * p.both) / smaller)} %`}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <p>{t('segments.inAll', { count: overlap.all })}</p>
        </Panel>
      )}
    </Page>
  );
}
