import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { Page } from '../../components/Page';

export default function NotFound() {
  const { t } = useTranslation();
  return <Page title={t('common.notFound')}><p><Link to="/">{t('home.title')}</Link></p></Page>;
}
