/**
 * The identity graph of a profile: the profile in the middle, each identifier around it, every
 * edge labelled with the rule that linked it; the table below says why each link exists (the
 * event, where in it, the merges that carried it here) and what was refused.
 */
import { useTranslation } from 'react-i18next';
import type { IdentityGraph } from '../../api/types';
import { formatDate } from '../../components';

export function IdentityGraphView({ graph }: { graph: IdentityGraph }) {
  const { t } = useTranslation();
  const n = graph.identifiers.length;
  const size = 420;
  const c = size / 2;
  const r = n <= 1 ? 120 : 150;
  const nodes = graph.identifiers.map((id, i) => {
    const a = (2 * Math.PI * i) / Math.max(n, 1) - Math.PI / 2;
    return { id, x: c + r * Math.cos(a), y: c + r * Math.sin(a) };
  });
  const shown = (v: string | null, hash: string) => v ?? `#${hash.slice(0, 8)}`;
  return (
    <div>
      <svg viewBox={`0 0 ${size} ${size}`} width="100%" style={{ maxWidth: size }} role="img" aria-label={t('profile.graphLabel', { count: n })}>
        {nodes.map(({ id, x, y }) => (
          <g key={`${id.type}:${id.hash}`}>
            <line x1={c} y1={c} x2={x} y2={y} stroke="#94a3b8" strokeWidth={2} strokeDasharray={id.merges.length > 0 ? '6 4' : undefined} />
            <text x={(c + x) / 2} y={(c + y) / 2 - 4} fontSize="10" textAnchor="middle" fill="#475569">{id.linked?.rule ?? ''}</text>
          </g>
        ))}
        <circle cx={c} cy={c} r={34} fill="#1d4ed8" />
        <text x={c} y={c + 4} fontSize="11" textAnchor="middle" fill="#fff">{t('profile.profile')}</text>
        {nodes.map(({ id, x, y }) => (
          <g key={`n:${id.type}:${id.hash}`}>
            <circle cx={x} cy={y} r={26} fill="#e0e7ff" stroke="#1d4ed8" />
            <text x={x} y={y - 2} fontSize="10" textAnchor="middle" fontWeight="bold">{id.type}</text>
            <text x={x} y={y + 11} fontSize="9" textAnchor="middle">{shown(id.value, id.hash).slice(0, 16)}</text>
          </g>
        ))}
      </svg>
      <div className="table-wrap">
        <table className="table" data-testid="identity-links">
          <caption>{t('profile.whyLinked')}</caption>
          <thead><tr><th scope="col">{t('profile.identifier')}</th><th scope="col">{t('profile.rule')}</th><th scope="col">{t('profile.linkedBy')}</th><th scope="col">{t('profile.merges')}</th></tr></thead>
          <tbody>
            {graph.identifiers.map((id) => (
              <tr key={`${id.type}:${id.hash}`}>
                <td data-label={t('profile.identifier')}><strong>{id.type}</strong> {shown(id.value, id.hash)}</td>
                <td data-label={t('profile.rule')}>{id.linked?.rule ?? '—'}</td>
                <td data-label={t('profile.linkedBy')}>
                  {id.linked ? t('profile.linkedDetail', { messageId: id.linked.messageId, at: formatDate(id.linked.at), from: id.linked.from }) : t('profile.noLinkRecord')}
                </td>
                <td data-label={t('profile.merges')}>
                  {id.merges.length === 0 ? '—' : id.merges.map((m) => (
                    <div key={m.seq}>{t('profile.mergeDetail', { from: m.fromProfile, into: m.intoProfile, rule: m.rule, at: formatDate(m.at), through: m.through.map((x) => `${x.type} ${shown(x.value, x.hash)}`).join(', ') })}</div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {graph.refused.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption>{t('profile.refused')}</caption>
            <thead><tr><th scope="col">{t('profile.identifier')}</th><th scope="col">{t('profile.rule')}</th><th scope="col">{t('profile.linkedBy')}</th></tr></thead>
            <tbody>
              {graph.refused.map((x) => (
                <tr key={x.seq + x.hash}>
                  <td data-label={t('profile.identifier')}><strong>{x.type}</strong> {shown(x.value, x.hash)}</td>
                  <td data-label={t('profile.rule')}>{x.rule}</td>
                  <td data-label={t('profile.linkedBy')}>{t('profile.linkedDetail', { messageId: x.messageId, at: formatDate(x.at), from: x.from })}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
