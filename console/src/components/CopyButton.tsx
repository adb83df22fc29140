/** Copies a text to the clipboard and says so (for screen readers too, via a live region). */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

export function CopyButton({ text, label }: { text: string; label: string }) {
  const { t } = useTranslation();
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard permission (plain http on another host): select-and-copy fallback.
      const area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 2000);
  };
  return (
    <>
      <button type="button" onClick={() => void copy()} aria-label={label}>{done ? t('common.copied') : t('common.copy')}</button>
      <span className="visually-hidden" aria-live="polite">{done ? t('common.copied') : ''}</span>
    </>
  );
}
