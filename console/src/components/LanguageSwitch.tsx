/** English / French. Logged in, the choice is saved on the user (PUT /api/auth/me); before, on this device. */
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession, type Locale } from '../auth';

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const id = useId();
  return (
    <span className="language-switch">
      <label htmlFor={id}>{t('layout.language')}</label>
      <select id={id} value={i18n.language.slice(0, 2)} onChange={(e) => void session.setLocale(e.target.value as Locale)}>
        <option value="en" lang="en">English</option>
        <option value="fr" lang="fr">Français</option>
      </select>
    </span>
  );
}
