import { useTranslation } from 'react-i18next';
import { Page } from '../../components';

export default function Placeholder() {
  const { t } = useTranslation();
  return <Page title={t('segments.title')}><p>…</p></Page>;
}
