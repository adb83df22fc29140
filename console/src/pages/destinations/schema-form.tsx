/**
 * A form generated from a connector's config schema (the JSON Schema that
 * GET /api/destination-types returns for each connector): strings, numbers and integers,
 * booleans, choices (`anyOf` of constants), nested objects (optional ones behind a checkbox) and
 * maps (`patternProperties`, edited as key/value rows). Secrets are password inputs; on an
 * existing destination they show the server's mask and are kept unless retyped. Each field shows
 * its description and the server's problem at its path (`/config/<field>`).
 *
 * @example
 *   <SchemaForm schema={type.configSchema} secrets={type.secrets} value={config} onChange={setConfig} problems={problems} />
 */
import { useTranslation } from 'react-i18next';
import { CheckField, Fieldset, NumberField, SelectField, TextField } from '../journeys/fields';

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  const?: unknown;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

export interface Problem { path: string; message: string }

interface Props {
  schema: JsonSchema;
  secrets: readonly string[];
  value: Record<string, unknown>;
  onChange: (v: Record<string, unknown>) => void;
  problems: readonly Problem[];
  /** JSON pointer of this object in the request body (`/config`). */
  path?: string;
}

/** A readable label from a camelCase key: `apiBase` → `Api base`. */
export function humanize(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The constants of an `anyOf` of `const`s, or null when the schema is not a choice. */
function choices(s: JsonSchema): string[] | null {
  if (!s.anyOf || !s.anyOf.every((x) => x.const !== undefined)) return null;
  return s.anyOf.map((x) => String(x.const));
}

export function SchemaForm({ schema, secrets, value, onChange, problems, path = '/config' }: Props) {
  const { t } = useTranslation();
  const required = new Set(schema.required ?? []);
  const errorAt = (p: string) => problems.filter((x) => x.path === p).map((x) => x.message).join(' ') || undefined;
  const set = (key: string, v: unknown) => {
    const next = { ...value };
    if (v === undefined || v === '') delete next[key]; else next[key] = v;
    onChange(next);
  };
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([key, s]) => {
        const p = `${path}/${key}`;
        const label = `${humanize(key)}${required.has(key) ? ' *' : ''}`;
        const hint = [s.description, s.default !== undefined ? t('destinations.defaultValue', { value: String(s.default) }) : ''].filter(Boolean).join(' ');
        const error = errorAt(p);
        const cur = value[key];
        const options = choices(s);
        if (options) {
          return <SelectField key={key} label={label} hint={hint} error={error} value={cur === undefined ? '' : String(cur)} empty={required.has(key) ? undefined : t('destinations.unset')}
            options={options.map((o) => ({ value: o, label: o }))} onChange={(v) => set(key, v)} />;
        }
        switch (s.type) {
          case 'boolean':
            return <CheckField key={key} label={label} hint={hint} error={error} checked={cur === true} onChange={(v) => set(key, v ? true : required.has(key) ? false : undefined)} />;
          case 'integer':
          case 'number':
            return <NumberField key={key} label={label} hint={hint} error={error} required={required.has(key)} min={s.minimum} max={s.maximum} step={s.type === 'integer' ? 1 : 'any'}
              value={typeof cur === 'number' ? cur : undefined} onChange={(v) => set(key, v)} />;
          case 'object':
            if (s.patternProperties) {
              const valueSchema = Object.values(s.patternProperties)[0] ?? {};
              return <MapField key={key} label={label} hint={hint} error={errorAt(p) ?? (problems.filter((x) => x.path.startsWith(`${p}/`)).map((x) => x.message).join(' ') || undefined)}
                numeric={valueSchema.type === 'integer' || valueSchema.type === 'number'} value={(cur ?? {}) as Record<string, unknown>} onChange={(v) => set(key, Object.keys(v).length === 0 && !required.has(key) ? undefined : v)} />;
            }
            return (
              <Fieldset key={key} legend={label}>
                {hint && <p className="hint">{hint}</p>}
                {!required.has(key) && <CheckField label={t('destinations.include', { name: humanize(key) })} checked={cur !== undefined} onChange={(v) => set(key, v ? {} : undefined)} />}
                {(required.has(key) || cur !== undefined) && (
                  <SchemaForm schema={s} secrets={[]} value={(cur ?? {}) as Record<string, unknown>} onChange={(v) => set(key, v)} problems={problems} path={p} />
                )}
                {error && <p role="alert" className="field-error">{error}</p>}
              </Fieldset>
            );
          default: {
            const secret = path === '/config' && secrets.includes(key);
            return <TextField key={key} label={label} hint={secret ? `${hint} ${t('destinations.secretHint')}`.trim() : hint} error={error} required={required.has(key) && !secret}
              type={secret ? 'password' : s.pattern?.startsWith('^https?') ? 'url' : 'text'} value={typeof cur === 'string' ? cur : ''} onChange={(v) => set(key, v)} />;
          }
        }
      })}
    </>
  );
}

/** A map edited as rows of key and value. */
function MapField(p: { label: string; hint?: string; error?: string | undefined; numeric: boolean; value: Record<string, unknown>; onChange: (v: Record<string, unknown>) => void }) {
  const { t } = useTranslation();
  const rows = Object.entries(p.value);
  const put = (list: Array<[string, unknown]>) => p.onChange(Object.fromEntries(list));
  return (
    <Fieldset legend={p.label}>
      {p.hint && <p className="hint">{p.hint}</p>}
      {rows.map(([k, v], i) => (
        <div className="map-row" key={i}>
          <TextField label={t('destinations.mapKey', { n: i + 1 })} value={k} onChange={(nk) => put(rows.map((r, j) => (j === i ? [nk, r[1]] : r)))} />
          {p.numeric
            ? <NumberField label={t('destinations.mapValue', { n: i + 1 })} value={typeof v === 'number' ? v : undefined} onChange={(nv) => put(rows.map((r, j) => (j === i ? [r[0], nv ?? 0] : r)))} />
            : <TextField label={t('destinations.mapValue', { n: i + 1 })} value={String(v ?? '')} onChange={(nv) => put(rows.map((r, j) => (j === i ? [r[0], nv] : r)))} />}
          <button type="button" onClick={() => put(rows.filter((_, j) => j !== i))}>{t('destinations.mapRemove', { n: i + 1 })}</button>
        </div>
      ))}
      <button type="button" onClick={() => put([...rows, [`key${rows.length + 1}`, p.numeric ? 0 : '']])}>{t('destinations.mapAdd')}</button>
      {p.error && <p role="alert" className="field-error">{p.error}</p>}
    </Fieldset>
  );
}
