/**
 * The visual builder: one editor per node of the definition tree. Groups (all of / any of /
 * not) hold other conditions; leaves are the data conditions. Every control is a labelled
 * native input, so the whole builder works with the keyboard alone.
 *
 * @example
 *   <ConditionEditor value={definition} onChange={setDefinition} />
 */
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { SelectField } from '../../components';
import { GROUP_KINDS, LEAF_KINDS, fresh, type Condition } from './conditions';
import {
  ComputedEditor, ConsentEditor, EventEditor, ExternalEditor, GeoEditor, ScoreEditor, SegmentRefEditor, SequenceEditor, TraitEditor,
} from './leaf-editors';

const MAX_DEPTH = 8;

interface Props {
  value: Condition;
  onChange(c: Condition): void;
  onRemove?(): void;
  depth?: number;
  /** JSON pointer of this node (server problems point at it). */
  path?: string;
  problems?: Array<{ path: string; message: string }>;
}

function Leaf({ value, onChange }: { value: Condition; onChange(c: Condition): void }) {
  switch (value.kind) {
    case 'trait': return <TraitEditor value={value} onChange={onChange} />;
    case 'event': return <EventEditor value={value} onChange={onChange} />;
    case 'sequence': return <SequenceEditor value={value} onChange={onChange} />;
    case 'computed': return <ComputedEditor value={value} onChange={onChange} />;
    case 'segment': return <SegmentRefEditor value={value} onChange={onChange} />;
    case 'consent': return <ConsentEditor value={value} onChange={onChange} />;
    case 'geo': return <GeoEditor value={value} onChange={onChange} />;
    case 'external': return <ExternalEditor value={value} onChange={onChange} />;
    case 'score': return <ScoreEditor value={value} onChange={onChange} />;
    default: return <pre>{JSON.stringify(value, null, 2)}</pre>;
  }
}

function AddCondition({ onAdd, depth }: { onAdd(c: Condition): void; depth: number }) {
  const { t } = useTranslation();
  const [kind, setKind] = useState<string>('trait');
  const kinds = depth + 1 < MAX_DEPTH ? [...LEAF_KINDS, ...GROUP_KINDS] : [...LEAF_KINDS];
  return (
    <div className="row add-condition">
      <SelectField label={t('segment.newCondition')} value={kind} onChange={setKind} options={kinds.map((k) => ({ value: k, label: t(`segment.kinds.${k}`) }))} />
      <div className="field"><button type="button" onClick={() => onAdd(fresh(kind))}>{t('segment.add')}</button></div>
    </div>
  );
}

export function ConditionEditor({ value, onChange, onRemove, depth = 1, path = '', problems = [] }: Props) {
  const { t } = useTranslation();
  const legendId = useId();
  const mine = problems.filter((p) => p.path === path || (p.path.startsWith(`${path}/`) && !p.path.slice(path.length + 1).match(/^of\//)));
  const isGroup = value.kind === 'and' || value.kind === 'or';
  const children = isGroup ? ((value.of as Condition[] | undefined) ?? []) : [];

  return (
    <fieldset className={`condition condition-${value.kind}`} aria-labelledby={legendId} data-kind={value.kind}>
      <legend id={legendId}>{t(`segment.kinds.${value.kind}`, { defaultValue: value.kind })}</legend>
      <div className="condition-tools">
        {isGroup && (
          <SelectField label={t('segment.combine')} value={value.kind} onChange={(kind) => onChange({ ...value, kind })}
            options={[{ value: 'and', label: t('segment.kinds.and') }, { value: 'or', label: t('segment.kinds.or') }]} />
        )}
        {value.kind !== 'not' && depth < MAX_DEPTH && <button type="button" onClick={() => onChange({ kind: 'not', of: value })}>{t('segment.negate')}</button>}
        {value.kind === 'not' && <button type="button" onClick={() => onChange(value.of as Condition)}>{t('segment.unnegate')}</button>}
        {!isGroup && value.kind !== 'not' && depth < MAX_DEPTH && <button type="button" onClick={() => onChange({ kind: 'and', of: [value] })}>{t('segment.group')}</button>}
        {onRemove && <button type="button" className="danger" onClick={onRemove}>{t('segment.remove')}</button>}
      </div>
      {mine.map((p) => <p key={p.path + p.message} className="error" role="alert">{p.message}</p>)}
      {isGroup && (
        <>
          {children.map((child, i) => (
            <ConditionEditor
              key={i}
              value={child}
              depth={depth + 1}
              path={`${path}/of/${i}`}
              problems={problems}
              onChange={(c) => onChange({ ...value, of: children.map((x, j) => (j === i ? c : x)) })}
              onRemove={children.length > 1 ? () => onChange({ ...value, of: children.filter((_, j) => j !== i) }) : undefined}
            />
          ))}
          {children.length < 20 && <AddCondition depth={depth} onAdd={(c) => onChange({ ...value, of: [...children, c] })} />}
        </>
      )}
      {value.kind === 'not' && (
        <ConditionEditor value={value.of as Condition} depth={depth + 1} path={`${path}/of`} problems={problems} onChange={(c) => onChange({ ...value, of: c })} />
      )}
      {!isGroup && value.kind !== 'not' && <Leaf value={value} onChange={onChange} />}
    </fieldset>
  );
}
