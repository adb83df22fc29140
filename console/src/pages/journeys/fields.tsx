/**
 * Small labelled inputs the journey, destination, model and analytics pages share: every input
 * has a visible label tied to it (for screen readers and tests) and an optional error line.
 */
import { useId, type ReactNode } from 'react';
import './pages.css';

interface Base { label: string; error?: string | undefined; hint?: string | undefined }

function Described(props: { id: string; error?: string | undefined; hint?: string | undefined }) {
  return (
    <>
      {props.hint && <small id={`${props.id}-hint`} className="hint">{props.hint}</small>}
      {props.error && <p id={`${props.id}-err`} role="alert" className="field-error">{props.error}</p>}
    </>
  );
}

function describedBy(id: string, p: Base): string | undefined {
  const ids = [p.hint ? `${id}-hint` : '', p.error ? `${id}-err` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

export function TextField(p: Base & { value: string; onChange: (v: string) => void; type?: string; placeholder?: string; required?: boolean; pattern?: string; name?: string; list?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{p.label}</label>
      <input id={id} name={p.name} type={p.type ?? 'text'} value={p.value} placeholder={p.placeholder} required={p.required} list={p.list}
        aria-invalid={p.error ? true : undefined} aria-describedby={describedBy(id, p)}
        onChange={(e) => p.onChange(e.target.value)} />
      <Described id={id} error={p.error} hint={p.hint} />
    </div>
  );
}

export function NumberField(p: Base & { value: number | undefined; onChange: (v: number | undefined) => void; min?: number; max?: number; step?: number | 'any'; required?: boolean }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{p.label}</label>
      <input id={id} type="number" value={p.value ?? ''} min={p.min} max={p.max} step={p.step} required={p.required}
        aria-invalid={p.error ? true : undefined} aria-describedby={describedBy(id, p)}
        onChange={(e) => p.onChange(e.target.value === '' ? undefined : Number(e.target.value))} />
      <Described id={id} error={p.error} hint={p.hint} />
    </div>
  );
}

export function TextArea(p: Base & { value: string; onChange: (v: string) => void; rows?: number }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{p.label}</label>
      <textarea id={id} rows={p.rows ?? 3} value={p.value} aria-invalid={p.error ? true : undefined} aria-describedby={describedBy(id, p)}
        onChange={(e) => p.onChange(e.target.value)} />
      <Described id={id} error={p.error} hint={p.hint} />
    </div>
  );
}

export function SelectField(p: Base & { value: string; onChange: (v: string) => void; options: Array<{ value: string; label: string }>; required?: boolean; empty?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{p.label}</label>
      <select id={id} value={p.value} required={p.required} aria-invalid={p.error ? true : undefined} aria-describedby={describedBy(id, p)}
        onChange={(e) => p.onChange(e.target.value)}>
        {p.empty !== undefined && <option value="">{p.empty}</option>}
        {p.options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
      <Described id={id} error={p.error} hint={p.hint} />
    </div>
  );
}

export function CheckField(p: Base & { checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId();
  return (
    <div className="field field-check">
      <input id={id} type="checkbox" checked={p.checked} aria-describedby={describedBy(id, p)} onChange={(e) => p.onChange(e.target.checked)} />
      <label htmlFor={id}>{p.label}</label>
      <Described id={id} error={p.error} hint={p.hint} />
    </div>
  );
}

/** A titled group of fields. */
export function Fieldset(p: { legend: string; children: ReactNode }) {
  return <fieldset className="fieldset"><legend>{p.legend}</legend>{p.children}</fieldset>;
}
