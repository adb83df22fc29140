/**
 * `--demo`: a demo workspace and website source, filled with generated e-commerce data through
 * the real collection path (validation, IP step, group commit, processor), so what the demo
 * shows is what real traffic would produce. Idempotent: a second `--demo` start reuses the
 * workspace and does not add the data again.
 */
import type { Ensemble } from './app.js';
import { generateDemoHits } from './demo-data.js';
import type { Source, Workspace } from '../protocol/workspace.js';

export const DEMO_WORKSPACE = 'Demo shop';

export interface DemoSetup {
  workspace: Workspace;
  source: Source;
  /** Events sent now (0 when the demo data was already there). */
  loaded: number;
  /** A user id that exists in the demo data, for the examples printed at start-up. */
  sampleUserId: string | null;
}

export async function setupDemo(ensemble: Ensemble, opts: { people?: number; days?: number; seed?: number } = {}): Promise<DemoSetup> {
  const { catalog, collector, events } = ensemble;
  const existing = catalog.listWorkspaces().find((w) => w.name === DEMO_WORKSPACE);
  const workspace = existing ?? (await catalog.createWorkspace(DEMO_WORKSPACE));
  const source = catalog.sources.list(workspace.id)[0] ?? (await catalog.createSource(workspace.id, { name: 'Website', kind: 'website' }));
  const sample = firstUserId(ensemble);
  if (existing && (await events.count(workspace.id)) > 0) return { workspace, source, loaded: 0, sampleUserId: sample };

  let batch: unknown[] = [];
  let loaded = 0;
  let sampleUserId: string | null = null;
  const flush = async (): Promise<void> => {
    const r = await collector.ingest({ source, events: batch, type: null, envelope: {} });
    loaded += r.accepted;
    batch = [];
  };
  for (const hit of generateDemoHits({ people: opts.people ?? 5000, days: opts.days ?? 90, seed: opts.seed ?? 42, now: new Date() })) {
    // The visitor's IP goes where an SDK would put it; the IP step truncates it before storage.
    if (sampleUserId === null && typeof hit.event.userId === 'string') sampleUserId = hit.event.userId;
    batch.push({ ...hit.event, context: { ...(hit.event.context ?? {}), ip: hit.ip } });
    if (batch.length >= 500) await flush();
  }
  if (batch.length > 0) await flush();
  await ensemble.processor.idle();
  return { workspace, source, loaded, sampleUserId };
}

function firstUserId(ensemble: Ensemble): string | null {
  for (const rec of ensemble.memory.identities.values()) if (rec.type === 'user_id' && rec.value !== null) return rec.value;
  return null;
}
