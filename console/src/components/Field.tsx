/**
 * Labelled form fields: every input has a visible label bound with htmlFor/id, and an optional
 * hint bound with aria-describedby.
 *
 * @example
 *   <TextField label={t('sources.name')} value={name} onChange={setName} required />
 *   <SelectField label={t('sources.kind')} value={kind} onChange={setKind} options={[{ value: 'website', label: 'Website' }]} />
 */
import { useId, type ReactNode } from 'react';

interface Base {
  label: string;
  hint?: string;
  className?: string;
}

function Wrap({ id, label, hint, className, children }: Base & { id: string; children: ReactNode }) {
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && <small id={`${id}-hint`} className="hint">{hint}</small>}
    </div>
  );
}

export function TextField(props: Base & {
  value: string; onChange(value: string): void; type?: string; required?: boolean; placeholder?: string;
  autoComplete?: string; name?: string; readOnly?: boolean; min?: number; max?: number; step?: string;
}) {
  const id = useId();
  return (
    <Wrap id={id} {...props}>
      <input
        id={id} name={props.name} type={props.type ?? 'text'} value={props.value} required={props.required} placeholder={props.placeholder}
        autoComplete={props.autoComplete} readOnly={props.readOnly} min={props.min} max={props.max} step={props.step}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </Wrap>
  );
}

export function NumberField(props: Base & { value: number | ''; onChange(value: number | ''): void; min?: number; max?: number; step?: string; name?: string }) {
  const id = useId();
  return (
    <Wrap id={id} {...props}>
      <input
        id={id} name={props.name} type="number" value={props.value} min={props.min} max={props.max} step={props.step}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
        onChange={(e) => props.onChange(e.target.value === '' ? '' : Number(e.target.value))}
      />
    </Wrap>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField(props: Base & { value: string; onChange(value: string): void; options: Option[]; name?: string }) {
  const id = useId();
  return (
    <Wrap id={id} {...props}>
      <select id={id} name={props.name} value={props.value} aria-describedby={props.hint ? `${id}-hint` : undefined} onChange={(e) => props.onChange(e.target.value)}>
        {props.options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
    </Wrap>
  );
}

export function TextAreaField(props: Base & { value: string; onChange(value: string): void; rows?: number; readOnly?: boolean; name?: string }) {
  const id = useId();
  return (
    <Wrap id={id} {...props}>
      <textarea id={id} name={props.name} rows={props.rows ?? 4} value={props.value} readOnly={props.readOnly} onChange={(e) => props.onChange(e.target.value)} />
    </Wrap>
  );
}

export function CheckboxField(props: Base & { checked: boolean; onChange(checked: boolean): void; name?: string }) {
  const id = useId();
  return (
    <div className={`field field-check ${props.className ?? ''}`}>
      <input id={id} name={props.name} type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.target.checked)} />
      <label htmlFor={id}>{props.label}</label>
    </div>
  );
}
