/**
 * One segment: build or edit its definition visually, with a live count of the profiles it
 * selects now (debounced POST .../segments/preview), save it, and see its size over time.
 * `/segments/new` starts a new one.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useTranslation } from 'react-i18next';
import { ApiError, api, ws } from '../../api/client';
import type { SegmentView } from '../../api/types';
import { useSession } from '../../auth';
import { ErrorMessage, LineChart, Page, Panel, TextAreaField, TextField, formatNumber, useApi } from '../../components';
import { ChoicesContext, EMPTY_CHOICES, type BuilderChoices } from './builder-context';
import { ConditionEditor } from './condition-editor';
import { fresh, type Condition } from './conditions';
import { describeTree } from './describe';

const PREVIEW_DELAY_MS = 400;

interface Problem { path: string; code: string; message: string }

function problemsOf(e: unknown): Problem[] {
  return e instanceof ApiError && Array.isArray(e.details) ? (e.details as Problem[]) : [];
}

/** The pickers' options; each list is optional (a role may not read it, a feature may be absent). */
function useChoicesFor(workspaceId: string, self?: string): BuilderChoices {
  const { data } = useApi(async (signal) => {
    const opt = <T,>(p: Promise<T>, fallback: T) => p.catch(() => fallback);
    const [events, computed, segments, purposes, external, models] = await Promise.all([
      opt(api.get<{ names: Array<{ name: string }> }>(ws(workspaceId, '/analytics/events/names'), undefined, signal), { names: [] }),
      opt(api.get<{ computedTraits: Array<{ name: string }> }>(ws(workspaceId, '/computed-traits'), undefined, signal), { computedTraits: [] }),
      opt(api.get<{ segments: SegmentView[] }>(ws(workspaceId, '/segments'), undefined, signal), { segments: [] }),
      opt(api.get<{ purposes: Array<{ id: string }> }>(ws(workspaceId, '/privacy/purposes'), undefined, signal), { purposes: [] }),
      opt(api.get<{ externalSources: Array<{ id: string; mapping: { fields: Record<string, string> } }> }>(ws(workspaceId, '/external-sources'), undefined, signal), { externalSources: [] }),
      opt(api.get<{ models?: Array<{ id: string; key?: string; name?: string }> } | Array<{ id: string; key?: string; name?: string }>>(ws(workspaceId, '/models'), undefined, signal), []),
    ]);
    const modelList = Array.isArray(models) ? models : models.models ?? [];
    return {
      events: events.names.map((n) => n.name),
      computed: computed.computedTraits.map((c) => c.name),
      segments: segments.segments.map((s) => ({ id: s.id, name: s.name })),
      purposes: purposes.purposes.map((p) => p.id),
      external: external.externalSources.map((e) => ({ id: e.id, fields: Object.keys(e.mapping?.fields ?? {}) })),
      models: modelList.map((m) => ({ id: m.key ?? m.id, name: m.name ?? m.key ?? m.id })),
      ...(self ? { self } : {}),
    } satisfies BuilderChoices;
  }, [workspaceId, self]);
  return data ?? EMPTY_CHOICES;
}

export default function Segment() {
  const { t } = useTranslation();
  const { workspaceId, can } = useSession();
  const navigate = useNavigate();
  const { segmentId = 'new' } = useParams();
  const isNew = segmentId === 'new';
  const base = ws(workspaceId, '/segments');
  const existing = useApi((s) => (isNew ? Promise.resolve(null) : api.get<SegmentView>(`${base}/${encodeURIComponent(segmentId)}`, undefined, s)), [base, segmentId]);
  const sizes = useApi((s) => (isNew ? Promise.resolve({ sizes: [] }) : api.get<{ sizes: Array<{ day: string; size: number; entered: number; exited: number }> }>(`${base}/${encodeURIComponent(segmentId)}/sizes`, { days: 90 }, s)), [base, segmentId]);
  const choices = useChoicesFor(workspaceId, isNew ? undefined : segmentId);

  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [purposes, setPurposes] = useState('');
  const [definition, setDefinition] = useState<Condition>(() => ({ kind: 'and', of: [fresh('event')] }));
  const [loaded, setLoaded] = useState(isNew);
  const [preview, setPreview] = useState<{ count: number; sample: string[] } | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [previewing, setPreviewing] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const seq = useRef(0);
  const editable = can('segments.write') && existing.data?.kind !== 'list';

  useEffect(() => {
    const s = existing.data;
    if (!s) return;
    setName(s.name);
    setDescription(s.description ?? '');
    setPurposes(s.purposes.join(', '));
    setDefinition(s.definition as Condition);
    setLoaded(true);
  }, [existing.data]);

  const purposeList = useMemo(() => purposes.split(',').map((p) => p.trim()).filter(Boolean), [purposes]);

  // Live count: each edit restarts the timer; an answer to an older edit is dropped.
  useEffect(() => {
    if (!loaded || definition.kind === 'list') return;
    const mine = ++seq.current;
    const timer = setTimeout(() => {
      setPreviewing(true);
      api.post<{ count: number; sample: string[] }>(`${base}/preview`, { definition, ...(purposeList.length ? { purposes: purposeList } : {}) })
        .then((r) => { if (seq.current === mine) { setPreview(r); setPreviewError(null); } })
        .catch((e) => { if (seq.current === mine) { setPreview(null); setPreviewError(e); } })
        .finally(() => { if (seq.current === mine) setPreviewing(false); });
    }, PREVIEW_DELAY_MS);
    return () => clearTimeout(timer);
  }, [definition, purposeList, loaded, base]);

  const save = async () => {
    setSaveError(null);
    setSaved(false);
    const body = { name, ...(description ? { description } : {}), definition, ...(purposeList.length ? { purposes: purposeList } : {}) };
    try {
      if (isNew) {
        const created = await api.post<SegmentView>(base, body);
        navigate(`/segments/${encodeURIComponent(created.id)}`, { replace: true });
      } else {
        await api.put<SegmentView>(`${base}/${encodeURIComponent(segmentId)}`, body);
        existing.reload();
        sizes.reload();
        setSaved(true);
      }
    } catch (e) {
      setSaveError(e);
    }
  };

  const remove = async () => {
    if (!window.confirm(t('segment.confirmDelete', { name }))) return;
    try {
      await api.delete(`${base}/${encodeURIComponent(segmentId)}`);
      navigate('/segments');
    } catch (e) {
      setSaveError(e);
    }
  };

  const problems = problemsOf(previewError);
  const s = existing.data;
  return (
    <Page title={isNew ? t('segment.newTitle') : t('segment.titleNamed', { name: s?.name ?? '' })} actions={<Link to="/segments">{t('segment.back')}</Link>}>
      <ErrorMessage error={existing.error} />
      {loaded && (
        <>
          <Panel title={t('segment.about')}>
            <div className="row">
              <TextField label={t('segment.name')} name="segment-name" value={name} onChange={setName} required readOnly={!editable} />
              <TextField label={t('segment.purposes')} name="segment-purposes" hint={t('segment.purposesHint')} value={purposes} onChange={setPurposes} readOnly={!editable} />
            </div>
            <TextAreaField label={t('segment.description')} value={description} onChange={setDescription} rows={2} readOnly={!editable} />
            {s && s.sensitive.length > 0 && <p className="error">{t('segment.sensitive', { categories: s.sensitive.join(', ') })} {s.approvedAt ? t('segment.approved') : t('segment.awaitingApproval')}</p>}
          </Panel>
          <div className="builder-layout">
            <Panel title={t('segment.definition')} className="builder">
              {definition.kind === 'list' ? <p>{t('segment.staticList')}</p> : (
                <ChoicesContext.Provider value={choices}>
                  <ConditionEditor value={definition} onChange={setDefinition} problems={problems} />
                </ChoicesContext.Provider>
              )}
              <details>
                <summary>{t('segment.json')}</summary>
                <pre data-testid="definition-json">{JSON.stringify(definition, null, 2)}</pre>
              </details>
            </Panel>
            <Panel title={t('segment.preview')} className="preview">
              <div aria-live="polite" aria-busy={previewing}>
                {preview && <p className="stat" data-testid="preview-count">{formatNumber(preview.count)}</p>}
                {preview && <p className="muted">{t('segment.previewHint')}</p>}
                {previewing && <p className="muted" role="status">{t('segment.counting')}</p>}
              </div>
              {problems.length > 0 ? (
                <div className="error" role="alert">
                  <strong>{t('segment.problems')}</strong>
                  <ul>{problems.map((p) => <li key={p.path + p.code}><code>{p.path}</code> {p.message}</li>)}</ul>
                </div>
              ) : <ErrorMessage error={previewError} />}
              <p className="muted" data-testid="definition-summary">{describeTree(definition, t, (id) => choices.segments.find((x) => x.id === id)?.name ?? id)}</p>
              {editable && (
                <div className="row">
                  <button type="button" className="primary" onClick={() => void save()} disabled={!name.trim()}>{isNew ? t('segment.create') : t('common.save')}</button>
                  {!isNew && <button type="button" className="danger" onClick={() => void remove()}>{t('common.delete')}</button>}
                </div>
              )}
              {saved && <p className="ok" role="status">{t('segment.saved')}</p>}
              <ErrorMessage error={saveError} />
              {problemsOf(saveError).length > 0 && <ul>{problemsOf(saveError).map((p) => <li key={p.path + p.code}><code>{p.path}</code> {p.message}</li>)}</ul>}
            </Panel>
          </div>
          {s && (
            <Panel title={t('segment.sizeOverTime')}>
              <p>{t('segment.membersNow')}: <strong data-testid="segment-size">{formatNumber(s.size)}</strong></p>
              <ErrorMessage error={sizes.error} />
              {sizes.data && sizes.data.sizes.length > 0 ? (
                <LineChart label={t('segment.sizeOverTime')} labels={sizes.data.sizes.map((d) => d.day)}
                  series={[{ label: t('segment.size'), data: sizes.data.sizes.map((d) => d.size) }, { label: t('segment.entered'), data: sizes.data.sizes.map((d) => d.entered) }, { label: t('segment.exited'), data: sizes.data.sizes.map((d) => d.exited) }]} />
              ) : <p className="muted">{t('segment.noSizes')}</p>}
            </Panel>
          )}
        </>
      )}
    </Page>
  );
}
