/**
 * Journeys benchmark (`npm run bench:journeys -- [--profiles 100000]`; see bench/README.md).
 * Target (issue 7): 100,000 profiles entering at once, steps and timers processed at ≥ 5,000
 * steps/s; memory per in-flight profile reported.
 *
 * Drives the real journey engine (journeys/journeys.ts) and the real activation store (DuckDB
 * file in a temporary directory) the way the fan-out does: segment changes arrive in pages of
 * 2,000, each page's entries walk the journey (split → wait 1 h) and are written in one
 * transaction with their states and counters; then the clock passes the hour and timers fire
 * (wait → update_trait → exit), written the same way. Memory per in-flight profile is the heap
 * growth after the entries, divided by the profiles. Baseline, same run: the same number of
 * state rows written to a bare DuckDB table in pages of 2,000 with the same statement shape —
 * the store's floor, so `ratio` says how much the engine adds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { Database, jsonRows } from '../../src/storage/duckdb/database.js';
import { DuckDbActivationStore } from '../../src/storage/duckdb/activation-store.js';
import { Journeys, journeyBatch, journeyWrite } from '../../src/journeys/journeys.js';
import type { JourneyInputT } from '../../src/protocol/journey.js';
import { intFlag } from '../profiles/args.js';
import { fmt, gitState, table, writeResults } from '../profiles/output.js';

const TARGET_STEPS_PER_SECOND = 5000;
const PAGE = 2000;

const { values } = parseArgs({ options: { profiles: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  process.stdout.write('Usage: npm run bench:journeys -- [--profiles 100000] [--out dir]\n');
  process.exit(0);
}
const PROFILES = intFlag('profiles', values.profiles, 100_000, 1);
const startedAt = new Date();
const git = gitState();
const dir = await mkdtemp(join(tmpdir(), 'ensemble-bench-journeys-'));

const definition: JourneyInputT = {
  name: 'Bench', entry: { kind: 'segment', segmentId: 'seg_bench' }, start: 'split',
  steps: {
    split: { kind: 'split', branches: [{ percent: 90, next: 'wait', name: 'treated' }, { percent: 10, control: true, name: 'control' }] },
    wait: { kind: 'wait', for: '1h', next: 'mark' },
    mark: { kind: 'update_trait', traits: { benched: true }, next: 'done' },
    done: { kind: 'exit' },
  },
};

async function engineRun(): Promise<{ enterMs: number; timerMs: number; steps: number; timerSteps: number; bytesPerProfile: number; inFlight: number }> {
  const db = await Database.open(join(dir, 'engine.duckdb'), { checkpointThreshold: '256MB' });
  const store = await DuckDbActivationStore.open(db);
  let now = Date.parse('2026-12-03T09:00:00Z');
  const journeys = new Journeys({
    store, now: () => now,
    validation: () => ({ segment: () => ({ kind: 'trait', trait: 'x', op: 'exists' }), computedTrait: () => false, personalTrait: () => false, destination: () => undefined, templateProblems: () => [] }),
    holds: () => true, timeZoneOf: () => 'Europe/Paris', defaultTimeZone: () => 'Europe/Paris', members: () => [],
  });
  await journeys.load();
  const j = await journeys.create('ws_bench', definition);
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let steps = 0;
  const t0 = performance.now();
  for (let from = 0; from < PROFILES; from += PAGE) {
    const b = journeyBatch();
    for (let i = from; i < Math.min(PROFILES, from + PAGE); i++) {
      journeys.onChange(b, { id: BigInt(i + 1), workspaceId: 'ws_bench', segmentId: 'seg_bench', profileId: `prof_${i}`, entered: true, at: now, cause: 'event' });
    }
    for (const c of b.counts.values()) if (c.counter === 'passed') steps += c.count;
    await store.journeyStep([], { add: [], remove: [] }, journeyWrite(b), new Map(), new Map([['changes', BigInt(from + PAGE)]]));
  }
  const enterMs = performance.now() - t0;
  global.gc?.();
  const inFlight = journeys.statesOf(j.id).filter((s) => s.step !== null).length;
  const bytesPerProfile = (process.memoryUsage().heapUsed - heapBefore) / PROFILES;

  now += 3_600_000 + 1000;
  const t1 = performance.now();
  const b = journeyBatch();
  journeys.tick(b, now);
  let timerSteps = 0;
  for (const c of b.counts.values()) if (c.counter === 'passed') timerSteps += c.count;
  // Written in pages, as a real tick's deliveries and states would be.
  const all = journeyWrite(b);
  for (let from = 0; from < all.states.length; from += PAGE) {
    await store.journeyStep([], { add: [], remove: [] }, { states: all.states.slice(from, from + PAGE), counts: from === 0 ? all.counts : [] }, new Map());
  }
  const timerMs = performance.now() - t1;
  await db.close();
  return { enterMs, timerMs, steps, timerSteps, bytesPerProfile, inFlight };
}

async function baselineRun(): Promise<number> {
  const instance = await DuckDBInstance.create(join(dir, 'baseline.duckdb'));
  const conn = await instance.connect();
  await conn.run(`CREATE TABLE states (w VARCHAR, j VARCHAR, p VARCHAR, v INTEGER, s VARCHAR, d BIGINT, e BIGINT, o VARCHAR, x BIGINT, b VARCHAR, n INTEGER, PRIMARY KEY (j, p))`);
  const spec = JSON.stringify({ w: 'VARCHAR', j: 'VARCHAR', p: 'VARCHAR', v: 'INTEGER', s: 'VARCHAR', d: 'BIGINT', e: 'BIGINT', o: 'VARCHAR', x: 'BIGINT', b: 'VARCHAR', n: 'INTEGER' });
  const t0 = performance.now();
  for (let from = 0; from < PROFILES; from += PAGE) {
    const rows: string[] = [];
    for (let i = from; i < Math.min(PROFILES, from + PAGE); i++) rows.push(JSON.stringify({ w: 'ws', j: 'jrn', p: `prof_${i}`, v: 1, s: 'wait', d: 1, e: 1, o: null, x: null, b: 'treated', n: 1 }));
    await conn.run('BEGIN TRANSACTION');
    await conn.run(`INSERT OR REPLACE INTO states SELECT * FROM ${jsonRows(spec)}`, [rows.join('\n')]);
    await conn.run('COMMIT');
  }
  const ms = performance.now() - t0;
  conn.closeSync();
  instance.closeSync();
  return ms;
}

try {
  const baselineMs = await baselineRun();
  const r = await engineRun();
  const enterRate = r.steps / (r.enterMs / 1000);
  const timerRate = r.timerSteps / (r.timerMs / 1000);
  const baselineRate = PROFILES / (baselineMs / 1000);
  process.stdout.write(table(['phase', 'steps', 'ms', 'steps/s', 'target'], [
    ['entries (split → wait)', String(r.steps), fmt.ms(r.enterMs), fmt.int(Math.round(enterRate)), enterRate >= TARGET_STEPS_PER_SECOND ? 'met' : 'not met'],
    ['timers (wait → update_trait → exit)', String(r.timerSteps), fmt.ms(r.timerMs), fmt.int(Math.round(timerRate)), timerRate >= TARGET_STEPS_PER_SECOND ? 'met' : 'not met'],
    ['baseline: bare state rows', String(PROFILES), fmt.ms(baselineMs), fmt.int(Math.round(baselineRate)), ''],
  ]));
  process.stdout.write(`\nin flight after the entries: ${r.inFlight}; heap per profile: ${fmt.int(Math.round(r.bytesPerProfile))} bytes; entries at ${fmt.ratio(enterRate / baselineRate)}× the bare write rate\n`);
  const file = writeResults('journeys', startedAt, git, {
    profiles: PROFILES, page: PAGE, target: { stepsPerSecond: TARGET_STEPS_PER_SECOND },
    entries: { steps: r.steps, ms: r.enterMs, stepsPerSecond: enterRate }, timers: { steps: r.timerSteps, ms: r.timerMs, stepsPerSecond: timerRate },
    baseline: { rows: PROFILES, ms: baselineMs, rowsPerSecond: baselineRate }, ratioToBaseline: enterRate / baselineRate,
    inFlight: r.inFlight, heapBytesPerProfile: r.bytesPerProfile,
  }, values.out ?? null);
  process.stdout.write(`results: ${file}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
