/** Why a profile is (or is not) in a segment: each condition, whether it matched, and the profile's actual value. */
import { useTranslation } from 'react-i18next';
import type { Explanation } from '../../api/types';
import { describe } from '../segment/describe';

export function ExplanationTree({ node }: { node: Explanation }) {
  const { t } = useTranslation();
  return (
    <ul className="explanation">
      <li>
        <span className={node.matched ? 'ok' : 'error-text'} aria-label={node.matched ? t('profile.matched') : t('profile.notMatched')}>{node.matched ? '✓' : '✗'}</span>{' '}
        {describe(node.condition, t)}
        {node.actual !== undefined && <span className="muted"> — {t('profile.actual')}: <code>{JSON.stringify(node.actual)}</code></span>}
        {node.children?.map((c, i) => <ExplanationTree key={i} node={c} />)}
      </li>
    </ul>
  );
}
