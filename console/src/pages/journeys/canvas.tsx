/**
 * The journey drawn on a graph canvas (@xyflow/react): one node per step plus the entry node,
 * one handle per outlet. Drawing an edge from a handle sets that outlet; deleting an edge
 * clears it; nodes are dragged freely (positions are the editor's, not part of the definition).
 * Nodes with problems from the server are outlined and say how many.
 */
import { useEffect, useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import {
  Background, Controls, Handle, MarkerType, Position, ReactFlow, useReactFlow, useUpdateNodeInternals,
  type Connection, type Edge, type EdgeChange, type Node, type NodeChange, type NodeProps,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import type { JourneyDefinition, JourneyStep, Problem } from './types';
import { ENTRY_NODE, entryOutlets, outlets } from './graph';
import { outletLabel } from './step-form';

interface StepData extends Record<string, unknown> {
  title: string;
  subtitle: string;
  problems: number;
  outlets: Array<{ field: string; label: string }>;
  entry: boolean;
  start: boolean;
  stats?: string | undefined;
}

function StepNode({ data, selected }: NodeProps<Node<StepData>>) {
  const { t } = useTranslation();
  const n = data.outlets.length;
  return (
    <div className={`journey-node${selected ? ' selected' : ''}${data.problems > 0 ? ' has-problems' : ''}${data.entry ? ' entry' : ''}`}
      data-testid={`journey-node-${data.entry ? 'entry' : data.title}`}>
      {!data.entry && <Handle type="target" position={Position.Top} />}
      <strong>{data.title}</strong>
      <div className="journey-node-kind">{data.subtitle}</div>
      {data.start && <div className="journey-node-start">{t('journeys.startBadge')}</div>}
      {data.stats && <div className="journey-node-stats">{data.stats}</div>}
      {data.problems > 0 && <div className="journey-node-problems" role="status">{t('journeys.nodeProblems', { count: data.problems })}</div>}
      {data.outlets.map((o, i) => (
        <Handle key={o.field} id={o.field} type="source" position={Position.Bottom} title={o.label} aria-label={o.label}
          style={{ left: `${((i + 1) / (n + 1)) * 100}%` }} />
      ))}
      {n > 1 && <div className="journey-node-outlets">{data.outlets.map((o) => <span key={o.field}>{o.label}</span>)}</div>}
    </div>
  );
}

const nodeTypes = { step: StepNode };

/** Keeps every node in view when steps are added or removed (not when the person pans or zooms). */
function FitOnChange({ count }: { count: number }) {
  const flow = useReactFlow();
  useEffect(() => {
    const id = requestAnimationFrame(() => { void flow.fitView({ maxZoom: 1, padding: 0.15 }); });
    return () => cancelAnimationFrame(id);
  }, [count, flow]);
  return null;
}

/**
 * Measures again the nodes that were rebuilt before React Flow reported their size. A node
 * handed over without `measured` loses its handles and is hidden until measured, but its
 * element keeps the same size, so the resize observer never fires again: without this a save
 * or a reload racing the first measurement could leave a step invisible for good.
 */
function MeasureUnsized({ ids }: { ids: string[] }) {
  const measure = useUpdateNodeInternals();
  useEffect(() => { if (ids.length > 0) measure(ids); }, [ids, measure]);
  return null;
}

interface Props {
  def: JourneyDefinition;
  positions: Record<string, { x: number; y: number }>;
  selected: string | null;
  problems: Map<string, Problem[]>;
  stepStats?: Record<string, string> | undefined;
  onMove: (id: string, pos: { x: number; y: number }) => void;
  onSelect: (id: string | null) => void;
  onConnect: (source: string, field: string, target: string) => void;
  onDisconnect: (source: string, field: string) => void;
}

export function JourneyCanvas({ def, positions, selected, problems, stepStats, onMove, onSelect, onConnect, onDisconnect }: Props) {
  const { t } = useTranslation();
  /*
   * The size React Flow last measured for each node, handed back when nodes are rebuilt from
   * the definition (a save, a reload, a drag) so they stay drawn; a real change of size is
   * still observed and reported. The initial size only keeps a node visible until it is first
   * measured; the nodes built without a known size are measured again (MeasureUnsized).
   */
  const sizes = useRef(new Map<string, { width: number; height: number }>());
  const { nodes, unsized } = useMemo(() => {
    const unsized: string[] = [];
    const measured = (id: string) => {
      const m = sizes.current.get(id);
      if (m) return { measured: m };
      unsized.push(id);
      return { initialWidth: 180, initialHeight: 64 };
    };
    const entryTitle = t('journeys.entryNode');
    const entrySub = def.entry.kind === 'event' ? def.entry.event || '…' : t(`journeys.entryKinds.${def.entry.kind}`);
    const list: Array<Node<StepData>> = [{
      id: ENTRY_NODE, type: 'step', position: positions[ENTRY_NODE] ?? { x: 0, y: 0 }, selected: selected === ENTRY_NODE, deletable: false, ...measured(ENTRY_NODE),
      data: { title: entryTitle, subtitle: entrySub, problems: problems.get(ENTRY_NODE)?.length ?? 0, outlets: entryOutlets(def).map((o) => ({ field: o.field, label: t(`journeys.outlet.${o.field}`) })), entry: true, start: false },
    }];
    for (const [id, step] of Object.entries(def.steps)) {
      list.push({
        id, type: 'step', position: positions[id] ?? { x: 0, y: 0 }, selected: selected === id, ...measured(id),
        data: {
          title: id, subtitle: summary(t, step), problems: problems.get(id)?.length ?? 0, entry: false, start: def.start === id,
          outlets: outlets(step).map((o) => ({ field: o.field, label: outletLabel(t, step, o.field) })), stats: stepStats?.[id],
        },
      });
    }
    return { nodes: list, unsized };
  }, [def, positions, selected, problems, stepStats, t]);

  const edges = useMemo<Edge[]>(() => {
    const list: Edge[] = [];
    for (const o of entryOutlets(def)) {
      if (o.target && def.steps[o.target]) list.push({ id: `${ENTRY_NODE}:${o.field}`, source: ENTRY_NODE, sourceHandle: o.field, target: o.target, markerEnd: { type: MarkerType.ArrowClosed }, ...(o.field === 'goal' ? { label: t('journeys.outlet.goal'), animated: true } : {}) });
    }
    for (const [id, step] of Object.entries(def.steps)) {
      for (const o of outlets(step)) {
        if (!o.target || !def.steps[o.target]) continue;
        const label = outlets(step).length > 1 ? outletLabel(t, step, o.field) : undefined;
        list.push({ id: `${id}:${o.field}`, source: id, sourceHandle: o.field, target: o.target, markerEnd: { type: MarkerType.ArrowClosed }, ...(label ? { label } : {}) });
      }
    }
    return list;
  }, [def, t]);

  const onNodesChange = (changes: Array<NodeChange<Node<StepData>>>) => {
    for (const c of changes) {
      if (c.type === 'position' && c.position) onMove(c.id, c.position);
      if (c.type === 'select' && c.selected) onSelect(c.id);
      if (c.type === 'dimensions' && c.dimensions) sizes.current.set(c.id, c.dimensions);
    }
  };
  const onEdgesChange = (changes: EdgeChange[]) => {
    for (const c of changes) {
      if (c.type !== 'remove') continue;
      const [source, ...rest] = c.id.split(':');
      onDisconnect(source!, rest.join(':'));
    }
  };
  const connect = (c: Connection) => { if (c.source && c.target && c.sourceHandle) onConnect(c.source, c.sourceHandle, c.target); };

  return (
    <div className="journey-canvas" role="application" aria-label={t('journeys.canvas')}>
      <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} onNodesChange={onNodesChange} onEdgesChange={onEdgesChange}
        onConnect={connect} onPaneClick={() => onSelect(null)} fitView fitViewOptions={{ maxZoom: 1, padding: 0.15 }} deleteKeyCode={null}>
        <FitOnChange count={nodes.length} />
        <MeasureUnsized ids={unsized} />
        <Background />
        <Controls />
      </ReactFlow>
    </div>
  );
}

function summary(t: TFunction, step: JourneyStep): string {
  const kind = t(`journeys.kinds.${step.kind}`);
  switch (step.kind) {
    case 'wait': return `${kind} ${step.for ?? step.until ?? ''}`;
    case 'wait_for': return `${kind} ${step.event?.event ?? step.segment?.segmentId ?? ''} (${step.timeout})`;
    case 'split': return `${kind} ${step.branches.map((b) => `${b.percent}%`).join(' / ')}`;
    case 'send': return `${kind} ${step.template.subject ?? ''}`.trim();
    default: return kind;
  }
}
