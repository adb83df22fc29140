/**
 * A labelled textarea holding JSON (a branch condition, event filters, traits): the value is
 * only handed up once it parses, and a parse error is said next to the field.
 */
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';

export function JsonField(props: { label: string; value: unknown; onChange: (v: unknown) => void; rows?: number; optional?: boolean }) {
  const { t } = useTranslation();
  const id = useId();
  const shown = props.value === undefined ? '' : JSON.stringify(props.value, null, 2);
  const [text, setText] = useState(shown);
  const [bad, setBad] = useState(false);
  useEffect(() => { setText(shown); setBad(false); }, [shown]);
  const commit = (s: string) => {
    if (s.trim() === '' && props.optional) { setBad(false); props.onChange(undefined); return; }
    try { props.onChange(JSON.parse(s)); setBad(false); } catch { setBad(true); }
  };
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <textarea id={id} rows={props.rows ?? 4} value={text} spellCheck={false} aria-invalid={bad}
        aria-describedby={bad ? `${id}-err` : undefined}
        onChange={(e) => setText(e.target.value)} onBlur={(e) => commit(e.target.value)} />
      {bad && <p id={`${id}-err`} role="alert" className="field-error">{t('journeys.invalidJson')}</p>}
    </div>
  );
}
