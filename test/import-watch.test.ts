/**
 * Scheduled imports from a watched folder, and imported events behaving like live ones: a file
 * with its sibling mapping is imported once and moved to done/ with its report (failed/ when
 * its mapping is wrong); an imported purchase makes its profile enter a segment.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, startServer, tempDir, type TestServer } from './helpers/server.js';

const watchDir = join(tempDir('ensemble-watch-'), 'in');
let s: TestServer;
before(async () => {
  mkdirSync(watchDir, { recursive: true });
  s = await startServer({ imports: { watchDir, watchIntervalMs: 3_600_000 } });
});
after(async () => { await s.close(); removeDir(s.dir); removeDir(join(watchDir, '..')); });

/** Scans until the file has moved (the first look records its size, the next one imports it). */
async function importFolder(stem: string): Promise<'done' | 'failed'> {
  const watcher = s.ensemble.imports.watcher;
  assert.ok(watcher);
  for (;;) {
    await watcher.scan();
    for (const outcome of ['done', 'failed'] as const) if (existsSync(join(watchDir, outcome, `${stem}.report.json`))) return outcome;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a watched file is imported once, moved to done/ with a report; an imported purchase enters a segment', async () => {
  const seg = await s.api('POST', `/api/workspaces/${s.workspaceId}/segments`, { name: 'Buyers', definition: { kind: 'event', event: 'Order Completed', within: '3650d' } });
  assert.equal(seg.status, 201, JSON.stringify(seg.body));
  writeFileSync(join(watchDir, 'pos.csv'), 'ticket;client;date;total\nT-1;pos-1;2026-06-01T10:00:00Z;19,90\nT-2;;2026-06-01T11:00:00Z;5\n');
  writeFileSync(join(watchDir, 'pos.mapping.json'), JSON.stringify({ source: s.sourceId, mapping: {
    kind: 'events', event: 'Order Completed', messageId: 'ticket', userId: 'client', timestamp: 'date', properties: { revenue: { field: 'total', type: 'number' } } } }));
  assert.equal(await importFolder('pos'), 'done');
  assert.ok(existsSync(join(watchDir, 'done', 'pos.csv')) && !existsSync(join(watchDir, 'pos.csv')));
  const report = JSON.parse(readFileSync(join(watchDir, 'done', 'pos.report.json'), 'utf8'));
  assert.deepEqual([report.progress.accepted, report.progress.rejected, report.errors[0].line, report.errors[0].column], [1, 1, 3, 'client']);
  await s.settle();
  await s.ensemble.segments.writer.drain();
  const p = await s.api('GET', `/api/workspaces/${s.workspaceId}/profiles/lookup?type=user_id&value=pos-1`);
  const members = await s.api('GET', `/api/workspaces/${s.workspaceId}/segments/${seg.body.id}/members`);
  assert.deepEqual(members.body.members.map((m: any) => m.profileId), [p.body.id]);

  writeFileSync(join(watchDir, 'bad.csv'), 'a,b\n1,2\n');
  writeFileSync(join(watchDir, 'bad.mapping.json'), JSON.stringify({ source: 'src_nope', mapping: { kind: 'events' } }));
  assert.equal(await importFolder('bad'), 'failed');
  assert.match(readFileSync(join(watchDir, 'failed', 'bad.report.json'), 'utf8'), /unknown source/);
});
