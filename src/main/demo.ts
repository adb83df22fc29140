/**
 * `--demo`: a demo workspace and website source, filled with generated e-commerce data through
 * the real collection path (validation, IP step, group commit, processor), so what the demo
 * shows is what real traffic would produce. Idempotent: a second `--demo` start reuses the
 * workspace and does not add the data again.
 */
import type { Ensemble } from './app.js';
import { generateDemoHits } from './demo-data.js';
import type { Source, Workspace } from '../protocol/workspace.js';
import type { SegmentCondition } from '../protocol/segment.js';
import { newId } from '../platform/ids.js';
import { ROLES, type Role } from '../auth/roles.js';

/** Demo only: one console user per role with a known password, printed by `--demo`. Never use these outside a demo. */
export const DEMO_USERS: ReadonlyArray<{ email: string; role: Role; password: string }> = ROLES.map((role) => ({ email: `${role}@demo.local`, role, password: `demo-${role}-password` }));

async function ensureDemoUsers(ensemble: Ensemble): Promise<void> {
  for (const u of DEMO_USERS) {
    if (ensemble.auth.users.findByEmail(u.email)) continue;
    await ensemble.auth.users.create({ ...u, name: `Demo ${u.role}`, locale: 'en' });
  }
}

/** Segments a marketer would build first on a shop like the demo's; created once. */
export const DEMO_SEGMENTS: ReadonlyArray<{ name: string; description: string; definition: SegmentCondition }> = [
  {
    name: 'Cart abandoners (30 days)', description: 'Added to cart in the last 30 days and did not order in that time.',
    definition: { kind: 'and', of: [
      { kind: 'event', event: 'Product Added', within: '30d' },
      { kind: 'event', event: 'Order Completed', within: '30d', count: { op: 'eq', value: 0 } },
    ] },
  },
  {
    name: 'Repeat buyers', description: 'Two orders or more, ever.',
    definition: { kind: 'event', event: 'Order Completed', count: { op: 'gte', value: 2 } },
  },
  {
    name: 'Viewed, added, no order within a day', description: 'The abandoned-cart sequence: product viewed, then added to cart, then no order within 24 hours.',
    definition: { kind: 'sequence', within: '1d', steps: [{ event: 'Product Viewed' }, { event: 'Product Added' }, { event: 'Order Completed', absent: true }] },
  },
  {
    name: 'Retargetable', description: 'Cart abandoners who consented to advertising.',
    definition: { kind: 'and', of: [{ kind: 'consent', purpose: 'advertising' }, { kind: 'event', event: 'Product Added', within: '30d' }] },
  },
];

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
  await ensureDemoUsers(ensemble);
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
  const now = Date.now();
  for (const seg of DEMO_SEGMENTS) {
    await ensemble.segments.service.save({ id: newId('seg'), workspaceId: workspace.id, ...seg, createdAt: now, updatedAt: now }, 'created');
  }
  return { workspace, source, loaded, sampleUserId };
}

function firstUserId(ensemble: Ensemble): string | null {
  for (const rec of ensemble.memory.identities.values()) if (rec.type === 'user_id' && rec.value !== null) return rec.value;
  return null;
}
