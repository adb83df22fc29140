/**
 * The DPO's pages: consent, rights requests, the register, retention, the audit log, breaches
 * and special-category data, one section per path (`/privacy/<section>`), reached by tabs.
 *
 * Only the `dpo` and `admin` roles are meant to be here: other roles see a refusal instead of
 * the sections. The guard that counts is the server's (403 `ENSEMBLE_ERR_FORBIDDEN` on every
 * privacy and audit route), which the sections also show if it answers so.
 */
import { useMemo, type ComponentType } from 'react';
import { NavLink, useParams } from 'react-router';
import { useTranslation } from 'react-i18next';
import { useSession } from '../../auth';
import { Page } from '../../components';
import { privacyApi, type PrivacyApi } from './api';
import { ConsentSection } from './ConsentSection';
import { RequestsSection } from './RequestsSection';
import { RegisterSection } from './RegisterSection';
import { RetentionSection } from './RetentionSection';
import { AuditSection } from './AuditSection';
import { BreachesSection } from './BreachesSection';
import { SensitiveSection } from './SensitiveSection';
import './privacy.css';

export const SECTIONS: ReadonlyArray<[string, ComponentType<{ api: PrivacyApi }>]> = [
  ['consent', ConsentSection],
  ['requests', RequestsSection],
  ['register', RegisterSection],
  ['retention', RetentionSection],
  ['audit', AuditSection],
  ['breaches', BreachesSection],
  ['sensitive', SensitiveSection],
];

export default function PrivacyPage() {
  const { t } = useTranslation();
  const { workspaceId, isPrivacyRole } = useSession();
  const { section = 'consent' } = useParams();
  const api = useMemo(() => privacyApi(workspaceId), [workspaceId]);
  const entry = SECTIONS.find(([name]) => name === section);
  if (!isPrivacyRole) {
    return (
      <Page title={t('privacy.title')}>
        <div role="alert" className="error" data-testid="privacy-refused">{t('privacy.refused')}</div>
      </Page>
    );
  }
  const Section = entry?.[1];
  return (
    <Page title={entry ? `${t('privacy.title')} · ${t(`privacy.${section}.title`)}` : t('privacy.title')}>
      <nav aria-label={t('privacy.sections')} className="privacy-tabs">
        <ul>
          {SECTIONS.map(([name]) => (
            <li key={name}>
              <NavLink to={`/privacy/${name}`} className={({ isActive }) => (isActive || (name === 'consent' && !entry) ? 'active' : '')}>
                {t(`privacy.${name}.title`)}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="privacy-section-body" data-section={section}>
        {Section ? <Section api={api} /> : <p role="alert">{t('privacy.noSection')}</p>}
      </div>
    </Page>
  );
}
