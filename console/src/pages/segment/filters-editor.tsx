/** Property filters of an event or a sequence step: all must match. */
import { useTranslation } from 'react-i18next';
import { SelectField, TextField } from '../../components';
import { FILTER_OPS } from './conditions';
import { ValueInput } from './value-input';

export interface Filter { property: string; op: string; value?: unknown }

export function FiltersEditor({ filters, onChange }: { filters: Filter[]; onChange(f: Filter[]): void }) {
  const { t } = useTranslation();
  const set = (i: number, f: Filter) => onChange(filters.map((x, j) => (j === i ? f : x)));
  return (
    <div className="filters">
      {filters.map((f, i) => (
        <div className="row filter" key={i} role="group" aria-label={t('segment.filterN', { n: i + 1 })}>
          <TextField label={t('segment.property')} value={f.property} onChange={(property) => set(i, { ...f, property })} placeholder="product.category" />
          <SelectField label={t('segment.op')} value={f.op} onChange={(op) => set(i, { ...f, op })} options={FILTER_OPS.map((o) => ({ value: o, label: t(`segment.ops.${o}`) }))} />
          <ValueInput op={f.op} value={f.value} label={t('segment.value')} onChange={(value) => set(i, value === undefined ? { property: f.property, op: f.op } : { ...f, value })} />
          <div className="field"><button type="button" className="danger" onClick={() => onChange(filters.filter((_, j) => j !== i))}>{t('segment.removeFilter')}</button></div>
        </div>
      ))}
      {filters.length < 10 && <button type="button" onClick={() => onChange([...filters, { property: '', op: 'eq', value: '' }])}>{t('segment.addFilter')}</button>}
    </div>
  );
}
