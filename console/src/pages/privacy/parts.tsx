/**
 * Small pieces the privacy sections share: an error notice that says plainly when the server
 * refused (403: this role may not) rather than failed, and a loading line.
 *
 * @example
 *   <ErrorNotice error={load.error} />
 */
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api/client';
import { ErrorMessage } from '../../components';

/** The server's refusal for this role (not a CSRF failure, which is a stale page). */
export function isForbidden(error: unknown): boolean {
  return error instanceof ApiError && error.status === 403 && error.code !== 'ENSEMBLE_ERR_CSRF';
}

export function ErrorNotice({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  if (isForbidden(error)) {
    return (
      <div role="alert" className="error" data-testid="privacy-forbidden">
        {t('privacy.forbidden')} <code className="error-code" data-code={(error as ApiError).code}>{(error as ApiError).code}</code>
      </div>
    );
  }
  if (error instanceof ApiError) return <ErrorMessage error={error} />;
  // Errors made here (a field that is not valid JSON) carry only a message.
  return <ErrorMessage error={new Error(typeof error === 'object' && error !== null && 'message' in error ? String((error as { message: unknown }).message) : String(error))} />;
}

export function Loading({ when }: { when: boolean }) {
  const { t } = useTranslation();
  return when ? <p role="status" className="muted">{t('common.loading')}</p> : null;
}
