/** An error as a person reads it: the server's message and its stable code (for support and docs/errors.md). */
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';

export function ErrorMessage({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : undefined;
  const message = error instanceof ApiError && error.status === 0 ? t('common.networkError') : error instanceof Error ? error.message : String(error);
  return (
    <div className="error" role="alert">
      <strong>{t('common.error')}</strong> {message}
      {code && <code className="error-code" data-code={code}> {code}</code>}
    </div>
  );
}
