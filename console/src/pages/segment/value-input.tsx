/**
 * The value of a comparison, as its operator needs it: nothing for `exists`, a list for `in`
 * (comma-separated), two bounds for `between`, else one value. Text that reads as a number or a
 * boolean is sent as one (`42`, `true`); quote it ("42") to keep it a string.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { TextField } from '../../components';

export function parseScalar(text: string): string | number | boolean {
  const s = text.trim();
  if (/^".*"$/.test(s)) return s.slice(1, -1);
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s !== '' && /^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  return s;
}

function formatScalar(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string' && /^(-?\d+(\.\d+)?|true|false)$/.test(v)) return `"${v}"`;
  return String(v);
}

export function ValueInput({ op, value, onChange, label }: { op: string; value: unknown; onChange(v: unknown): void; label: string }) {
  const { t } = useTranslation();
  const format = () => (op === 'in' && Array.isArray(value) ? value.map(formatScalar).join(', ') : formatScalar(value));
  const [raw, setRaw] = useState(format);
  const [low, setLow] = useState(() => (Array.isArray(value) ? formatScalar(value[0]) : ''));
  const [high, setHigh] = useState(() => (Array.isArray(value) ? formatScalar(value[1]) : ''));
  // A new operator reshapes the value (a list for `in`, a pair for `between`, nothing for `exists`).
  useEffect(() => {
    if (op === 'exists') onChange(undefined);
    else if (op === 'in') onChange(raw.split(',').map((x) => x.trim()).filter(Boolean).map(parseScalar));
    else if (op === 'between') onChange([parseScalar(low), parseScalar(high)]);
    else onChange(parseScalar(raw));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [op]);
  if (op === 'exists') return null;
  if (op === 'between') {
    return (
      <>
        <TextField label={t('segment.from')} value={low} onChange={(v) => { setLow(v); onChange([parseScalar(v), parseScalar(high)]); }} />
        <TextField label={t('segment.to')} value={high} onChange={(v) => { setHigh(v); onChange([parseScalar(low), parseScalar(v)]); }} />
      </>
    );
  }
  return (
    <TextField
      label={label}
      hint={op === 'in' ? t('segment.listHint') : undefined}
      value={raw}
      onChange={(v) => { setRaw(v); onChange(op === 'in' ? v.split(',').map((x) => x.trim()).filter(Boolean).map(parseScalar) : parseScalar(v)); }}
    />
  );
}
