/**
 * The journey editor: the canvas in the middle, a step palette, and the side panel of the
 * selected node. Saving sends the definition as it is; when the server finds problems
 * (ENSEMBLE_ERR_JOURNEY_INVALID with `details.problems`), each is shown on the node and field
 * its JSON pointer names, and the first node with a problem is selected.
 */
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api, ws } from '../../api/client';
import { useSession } from '../../auth';
import { ErrorMessage } from '../../components/ErrorMessage';
import type { JourneyDefinition, JourneyView, Problem, StepKind } from './types';
import { STEP_KINDS } from './types';
import { ENTRY_NODE, addStep, connect, freeStepId, layout, localProblems, problemsByNode, removeStep, toSubmit } from './graph';
import { JourneyCanvas } from './canvas';
import { StepForm, type Choice } from './step-form';
import { JourneyForm } from './journey-form';
import { SelectField } from './fields';
import type { BuilderChoices } from '../segment/builder-context';

interface Props {
  initial: JourneyDefinition;
  journeyId: string | null;
  destinations: Choice[];
  segments: Choice[];
  stepStats?: Record<string, string> | undefined;
  builder?: BuilderChoices | undefined;
  readOnly?: boolean;
  onSaved: (j: JourneyView) => void;
}

export function JourneyEditor({ initial, journeyId, destinations, segments, stepStats, builder, readOnly, onSaved }: Props) {
  const { t } = useTranslation();
  const { workspaceId } = useSession();
  const [def, setDef] = useState<JourneyDefinition>(initial);
  const [positions, setPositions] = useState(() => layout(initial));
  const [selected, setSelected] = useState<string | null>(ENTRY_NODE);
  const [kind, setKind] = useState<StepKind>('send');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<number | null>(null);
  useEffect(() => { setDef(initial); setPositions(layout(initial)); setProblems([]); }, [initial]);
  const byNode = useMemo(() => problemsByNode(problems), [problems]);

  const add = () => {
    const id = freeStepId(def, kind);
    const next = addStep(def, kind);
    const below = Object.values(positions).reduce((m, p) => Math.max(m, p.y), 0) + 140;
    setDef(next);
    setPositions({ ...positions, [id]: { x: 0, y: below } });
    setSelected(id);
  };

  const show = (list: Problem[]) => {
    setProblems(list);
    const first = [...problemsByNode(list).keys()][0];
    if (first) setSelected(first);
  };

  const save = async () => {
    setError(null); setSaved(null);
    const missing = localProblems(def).map((p) => ({ ...p, message: t(p.code === 'duration' ? 'journeys.badDuration' : p.code === 'time' ? 'journeys.badTime' : 'journeys.missingLink') }));
    if (missing.length > 0) { show(missing); return; }
    setSaving(true);
    try {
      const body = toSubmit(def);
      const j = journeyId
        ? await api.put<JourneyView>(ws(workspaceId, `/journeys/${encodeURIComponent(journeyId)}`), body)
        : await api.post<JourneyView>(ws(workspaceId, '/journeys'), body);
      setProblems([]);
      setSaved(j.version);
      onSaved(j);
    } catch (e) {
      const list = e instanceof ApiError && e.code === 'ENSEMBLE_ERR_JOURNEY_INVALID' ? (e.details as { problems?: Problem[] } | undefined)?.problems : undefined;
      if (list && list.length > 0) show(list.map((p) => (p.code === 'schema' && /union/i.test(p.message) ? { ...p, message: `${t('journeys.schemaProblem')} (${p.message})` } : p)));
      setError(e);
    } finally {
      setSaving(false);
    }
  };

  const step = selected && selected !== ENTRY_NODE ? def.steps[selected] : undefined;
  return (
    <div className="journey-editor">
      <div className="journey-toolbar" role="toolbar" aria-label={t('journeys.toolbar')}>
        {!readOnly && (
          <>
            <SelectField label={t('journeys.newStepKind')} value={kind} options={STEP_KINDS.map((k) => ({ value: k, label: t(`journeys.kinds.${k}`) }))} onChange={(v) => setKind(v as StepKind)} />
            <button type="button" onClick={add}>{t('journeys.addStep')}</button>
            <button type="button" className="primary" disabled={saving} onClick={() => void save()}>{saving ? t('journeys.saving') : t('journeys.save')}</button>
          </>
        )}
        {saved !== null && <span role="status" className="ok">{t('journeys.savedVersion', { version: saved })}</span>}
      </div>
      <ErrorMessage error={error} />
      <nav className="journey-steps" aria-label={t('journeys.stepList')}>
        <button type="button" aria-pressed={selected === ENTRY_NODE} onClick={() => setSelected(ENTRY_NODE)}>
          {t('journeys.settings')}{byNode.get(ENTRY_NODE) ? ` ⚠ ${byNode.get(ENTRY_NODE)!.length}` : ''}
        </button>
        {Object.keys(def.steps).map((id) => (
          <button type="button" key={id} aria-pressed={selected === id} onClick={() => setSelected(id)}>
            {id}{byNode.get(id) ? ` ⚠ ${byNode.get(id)!.length}` : ''}
          </button>
        ))}
      </nav>
      <div className="journey-workspace">
        <JourneyCanvas def={def} positions={positions} selected={selected} problems={byNode} stepStats={stepStats}
          onMove={(id, p) => setPositions((cur) => ({ ...cur, [id]: p }))}
          onSelect={setSelected}
          onConnect={(source, field, target) => { if (!readOnly) setDef((d) => connect(d, source, field, target)); }}
          onDisconnect={(source, field) => { if (!readOnly) setDef((d) => connect(d, source, field, '')); }} />
        <fieldset className="journey-side" disabled={readOnly}>
          {step && selected ? (
            <StepForm id={selected} step={step} stepIds={Object.keys(def.steps)} destinations={destinations} segments={segments} builder={builder}
              problems={byNode.get(selected) ?? []}
              onChange={(s) => setDef((d) => ({ ...d, steps: { ...d.steps, [selected]: s } }))}
              onDelete={() => { setDef((d) => removeStep(d, selected)); setSelected(ENTRY_NODE); }} />
          ) : (
            <JourneyForm def={def} segments={segments} problems={byNode.get(ENTRY_NODE) ?? []} onChange={setDef} />
          )}
        </fieldset>
      </div>
    </div>
  );
}
