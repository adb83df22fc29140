/**
 * Console benchmark (`npm run bench:console -- [flags]`; see bench/README.md, "Console").
 *
 * 1. Generates the shop of the segmentation benchmark (1 M profiles, 10 M events over 90 days,
 *    bench/segments/generate.ts) straight into a DuckDB file with the real schema, plus
 *    identifiers, consent decisions, messages and their opens and clicks (extras.ts).
 * 2. Baseline, same data, same run: a bare `SELECT count(*) FROM events` on the file.
 * 3. Starts a real Ensemble on that file in this process (1 M profiles loaded into memory, as
 *    in production), creates what the pages list (segments, a destination), sends a few people
 *    with e-mail addresses through /v1/batch (so a search by e-mail has a sealed identifier to
 *    find), then times each console page's API calls over HTTP: the calls of a page are issued
 *    together, as the console does; a page's time is until its last answer. One warm-up round,
 *    then `--rounds` timed rounds; median and max per page and per call.
 * Target: each page's data in ≤ 1 s. Results: bench/results/console-<time>.json and
 * console-latest.json (and console.json, the latest, for the README).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Writable } from 'node:stream';
import { all, Database } from '../../src/storage/duckdb/database.js';
import { openEnsemble, type Ensemble } from '../../src/main/app.js';
import { parseConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { generateMasterKeyText } from '../../src/platform/crypto.js';
import { generate, WS, type GenerateResult } from '../segments/generate.js';
import { fmt, gitState, median, table, writeResults, ROOT } from '../profiles/output.js';
import { addExtras, WRITE_KEY, type ExtrasResult } from './extras.js';

const TARGET_MS = 1000;
const TOKEN = 'console-bench-admin-token-0123456789';

const HELP = `Ensemble console benchmark

Usage: npm run bench:console -- [flags]

  --profiles <n>   profiles generated                 (default 1000000)
  --events <n>     events generated (90 days)          (default 10000000)
  --quick          smoke run: 20,000 profiles, 200,000 events
  --rounds <n>     timed rounds per page, after one warm-up (default 5)
  --data-dir <d>   parent of the temporary directory  (default os.tmpdir())
  --keep <dir>     generate into <dir> once and keep it; later runs with the same <dir> reuse it
  --out <dir>      results directory                  (default bench/results)
  -h, --help
`;

interface Call { name: string; method: 'GET' | 'POST'; path: string; body?: unknown }
interface Timed { name: string; medianMs: number; maxMs: number; status: number }

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    profiles: { type: 'string' }, events: { type: 'string' }, quick: { type: 'boolean' }, rounds: { type: 'string' },
    'data-dir': { type: 'string' }, keep: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  } });
  if (values.help) { process.stdout.write(HELP); return; }
  const profiles = Number(values.profiles ?? (values.quick ? 20_000 : 1_000_000));
  const events = Number(values.events ?? (values.quick ? 200_000 : 10_000_000));
  const rounds = Number(values.rounds ?? 5);
  const startedAt = new Date();
  const git = gitState();
  const keep = values.keep;
  if (keep) mkdirSync(keep, { recursive: true });
  const dir = keep ?? mkdtempSync(join(values['data-dir'] ?? tmpdir(), 'ensemble-console-bench-'));
  const file = join(dir, 'ensemble.duckdb');
  const keyFile = join(dir, 'bench-master.key');
  const reuse = keep !== undefined && existsSync(file) && existsSync(keyFile);
  const masterKey = reuse ? readFileSync(keyFile, 'utf8') : generateMasterKeyText();
  const now = reuse ? Number(readFileSync(join(dir, 'bench-now.txt'), 'utf8')) : Date.now();
  const say = (s: string) => process.stderr.write(`${s}\n`);
  let ensemble: Ensemble | null = null;
  const serverLogs: string[] = [];
  try {
    // 1. Data.
    let gen: GenerateResult | null = null;
    let extras: ExtrasResult | null = null;
    const db = await Database.open(file);
    const conn = await db.connect();
    if (reuse) {
      say(`reusing the data in ${dir}`);
      // Segments are created by each run (their creation is part of what is reported).
      for (const t of ['segments', 'segment_members', 'segment_changes', 'segment_sizes']) await conn.run(`DELETE FROM ${t}`);
    } else {
      say(`generating ${profiles.toLocaleString()} profiles and ${events.toLocaleString()} events in ${dir}`);
      gen = await generate(conn, { profiles, events, seed: 1, now }, say);
      extras = await addExtras(conn, { masterKey, now, dir });
      if (keep) { writeFileSync(keyFile, masterKey); writeFileSync(join(dir, 'bench-now.txt'), String(now)); }
      say(`generated in ${fmt.s(gen.seconds.total + extras.seconds)} (extras: ${JSON.stringify(extras)})`);
    }
    const sizes = await all(conn, `SELECT (SELECT count(*) FROM profiles) AS profiles, (SELECT count(*) FROM events) AS events`);
    // 2. Baselines on the same file: the bare count (DuckDB answers it from metadata), and the
    // least query that reads a month of one column (what every analytics question does at least).
    const baseline: number[] = [];
    const scan: number[] = [];
    for (let i = 0; i <= rounds; i++) {
      let t = performance.now();
      await all(conn, 'SELECT count(*) AS n FROM events');
      if (i > 0) baseline.push(performance.now() - t);
      t = performance.now();
      await all(conn, `SELECT event, count(*) AS n FROM events WHERE workspace_id = $1 AND timestamp >= epoch_ms($2::BIGINT) GROUP BY 1`, [WS, now - 30 * 86_400_000]);
      if (i > 0) scan.push(performance.now() - t);
    }
    say(`baseline month scan (event names): ${median(scan).toFixed(1)} ms`);
    await db.close();
    say(`baseline SELECT count(*) FROM events: ${median(baseline).toFixed(1)} ms`);

    // 3. The server on that file.
    const sink = new Writable({ write(chunk: Buffer, _e, done) { serverLogs.push(chunk.toString()); done(); } });
    const tStart = performance.now();
    ensemble = await openEnsemble(parseConfig({ port: 0, dataPath: file, adminToken: TOKEN, masterKey, logLevel: 'warn', storage: { logDir: join(dir, 'log') } }),
      { logger: createLogger('warn', sink) });
    const url = await ensemble.listen();
    const startSec = (performance.now() - tStart) / 1000;
    say(`server up in ${fmt.s(startSec)} with ${ensemble.memory.profiles.size.toLocaleString()} profiles in memory`);
    const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
      const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const w = `/api/workspaces/${WS}`;
    const must = (r: { status: number; body: any }, what: string) => { if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`); return r.body; };
    // People with e-mail addresses, through the collector like any identify.
    const batch = Array.from({ length: 20 }, (_, i) => ({ type: 'identify', anonymousId: `bench-anon-${i}`, userId: `bench-user-${i}`, traits: { email: `bench${i}@example.com`, plan: 'pro' } }));
    must(await fetch(`${url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` }, body: JSON.stringify({ batch }) })
      .then(async (r) => ({ status: r.status, body: await r.json() })), 'send identifies');
    await ensemble.processor.idle();
    const tSeg = performance.now();
    const existing = must(await api('GET', `${w}/segments`), 'segments').segments as Array<{ id: string; name: string }>;
    const segmentErrors: string[] = [];
    const seg = async (name: string, definition: unknown): Promise<string[]> => {
      const found = existing.find((x) => x.name === name);
      if (found) return [found.id];
      const r = await api('POST', `${w}/segments`, { name, definition });
      if (r.status === 201) return [r.body.id as string];
      // Recorded, not fatal: the other pages are still measured.
      segmentErrors.push(`${name}: ${r.status} ${JSON.stringify(r.body)}`);
      return [];
    };
    const segIds = [
      ...await seg('Cart adders (pro/team)', { kind: 'and', of: [{ kind: 'event', event: 'Product Added', count: { op: 'gte', value: 2 }, within: '30d' }, { kind: 'trait', trait: 'plan', op: 'in', value: ['pro', 'team'] }] }),
      ...await seg('French enterprise customers', { kind: 'and', of: [{ kind: 'trait', trait: 'country', op: 'eq', value: 'FR' }, { kind: 'trait', trait: 'plan', op: 'eq', value: 'enterprise' }] }),
      ...await seg('Buyers (30 days)', { kind: 'event', event: 'Order Completed', within: '30d' }),
      ...await seg('French visitors', { kind: 'trait', trait: 'country', op: 'eq', value: 'FR' }),
    ];
    for (const e of segmentErrors) say(`segment not created: ${e}`);
    const segmentsSec = (performance.now() - tSeg) / 1000;
    const dests = must(await api('GET', `${w}/destinations`), 'destinations').destinations as Array<{ id: string }>;
    const dest = dests[0] ?? must(await api('POST', `${w}/destinations`, { type: 'webhook', name: 'CRM hook', enabled: false, config: { url: 'http://127.0.0.1:9/hook', secret: 'bench-secret-0123456789abcdef' } }), 'destination');
    const someAnon = String((await ensemble.identity.eventIdentity([...ensemble.memory.profiles.keys()][1234] as string) as { anonymousId?: string } | undefined)?.anonymousId ?? 'nobody');
    const first = must(await api('GET', `${w}/profiles?limit=50`), 'profiles');
    const pages: Record<string, Call[]> = {
      home: [{ name: 'overview', method: 'GET', path: `${w}/analytics/overview` }],
      // What the Analytics page asks for when it opens (console/src/pages/analytics/): the
      // event names, the unfiltered daily trend, campaigns (with the names of destinations and
      // journeys) and attribution of orders. A funnel or a filtered trend runs when asked: each is
      // its own wait, measured below as an action on the page.
      analytics: [
        { name: 'events/names', method: 'GET', path: `${w}/analytics/events/names?limit=200` },
        { name: 'trend (day)', method: 'GET', path: `${w}/analytics/events/trend?interval=day` },
        { name: 'campaigns', method: 'GET', path: `${w}/analytics/campaigns?limit=500` },
        { name: 'destinations', method: 'GET', path: `${w}/destinations` },
        { name: 'journeys', method: 'GET', path: `${w}/journeys` },
        { name: 'attribution', method: 'GET', path: `${w}/analytics/attribution?conversion=Order%20Completed` },
      ],
      'analytics: trend of one event': [{ name: 'trend (day, Product Viewed)', method: 'GET', path: `${w}/analytics/events/trend?event=Product%20Viewed&interval=day` }],
      'analytics: filtered trend': [{ name: 'trend (week, by device, where)', method: 'GET', path: `${w}/analytics/events/trend?interval=week&breakdown=context.device&where=${encodeURIComponent(JSON.stringify({ 'properties.category': 'shoes' }))}` }],
      'analytics: funnel': [{ name: 'funnel (3 steps, 7d)', method: 'POST', path: `${w}/analytics/funnel`, body: { steps: [{ event: 'Product Viewed' }, { event: 'Product Added' }, { event: 'Order Completed' }], within: '7d' } }],
      'analytics: attribution, last touch': [{ name: 'attribution (last_touch)', method: 'GET', path: `${w}/analytics/attribution?conversion=Order%20Completed&model=last_touch` }],
      privacy: [{ name: 'consent-rates', method: 'GET', path: `${w}/analytics/consent-rates?interval=day` }],
      profiles: [{ name: 'list (first page)', method: 'GET', path: `${w}/profiles?limit=50` }],
      'profiles (next page)': [{ name: 'list (second page)', method: 'GET', path: `${w}/profiles?limit=50&cursor=${encodeURIComponent(String(first.nextCursor))}` }],
      'profiles (search e-mail)': [{ name: 'search e-mail', method: 'GET', path: `${w}/profiles?search=bench7%40example.com` }],
      'profiles (search anonymous id)': [{ name: 'search anonymous id', method: 'GET', path: `${w}/profiles?search=${encodeURIComponent(someAnon)}` }],
      segments: [
        { name: 'segment list', method: 'GET', path: `${w}/segments` },
        ...segIds.map((id, i) => ({ name: `sizes ${i + 1}`, method: 'GET' as const, path: `${w}/segments/${id}/sizes` })),
        { name: 'overlap', method: 'GET', path: `${w}/segments/overlap?ids=${segIds.join(',')}` },
      ],
      journeys: [{ name: 'journeys list', method: 'GET', path: `${w}/journeys` }],
      destinations: [{ name: 'destinations list', method: 'GET', path: `${w}/destinations` }, { name: 'destination stats', method: 'GET', path: `${w}/destinations/${dest.id}/stats` }],
    };
    const results: Array<{ page: string; medianMs: number; maxMs: number; withinTarget: boolean; calls: Timed[] }> = [];
    for (const [page, calls] of Object.entries(pages)) {
      const pageTimes: number[] = [];
      const callTimes = calls.map(() => [] as number[]);
      const statuses = calls.map(() => 0);
      for (let round = 0; round <= rounds; round++) {
        const t0 = performance.now();
        await Promise.all(calls.map(async (c, i) => {
          const t = performance.now();
          const r = await api(c.method, c.path, c.body);
          statuses[i] = r.status;
          if (r.status >= 300) throw new Error(`${page} / ${c.name}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
          if (round > 0) callTimes[i]!.push(performance.now() - t);
        }));
        if (round > 0) pageTimes.push(performance.now() - t0);
      }
      const m = median(pageTimes);
      results.push({
        page, medianMs: m, maxMs: Math.max(...pageTimes), withinTarget: Math.max(...pageTimes) <= TARGET_MS,
        calls: calls.map((c, i) => ({ name: c.name, medianMs: median(callTimes[i]!), maxMs: Math.max(...callTimes[i]!), status: statuses[i]! })),
      });
      say(`${page}: median ${m.toFixed(0)} ms`);
    }
    const baselineMs = median(baseline);
    const scanMs = median(scan);
    process.stdout.write(`\n${table(['page', 'call', 'median ms', 'max ms', '× month scan'],
      results.flatMap((r) => [[r.page, '(page)', r.medianMs.toFixed(1), r.maxMs.toFixed(1), (r.medianMs / scanMs).toFixed(1)],
        ...r.calls.map((c) => ['', c.name, c.medianMs.toFixed(1), c.maxMs.toFixed(1), (c.medianMs / scanMs).toFixed(1)])]), new Set([2, 3, 4]))}\n`);
    process.stdout.write(`baseline month scan: ${scanMs.toFixed(1)} ms\n`);
    process.stdout.write(`baseline SELECT count(*) FROM events: ${baselineMs.toFixed(1)} ms; target ${TARGET_MS} ms per page: ${results.every((r) => r.withinTarget) ? 'met' : 'NOT met'} (${results.filter((r) => !r.withinTarget).map((r) => r.page).join(', ') || 'all pages within'})\n`);
    const record = {
      options: { profiles, events, rounds, reused: reuse }, data: { profiles: Number(sizes[0]?.profiles), events: Number(sizes[0]?.events) }, generate: gen, extras, serverStartSeconds: startSec, segmentsCreateSeconds: segmentsSec,
      profilesInMemory: ensemble.memory.profiles.size,
      baseline: { query: 'SELECT count(*) FROM events', medianMs: baselineMs, samplesMs: baseline },
      scanBaseline: { query: 'SELECT event, count(*) FROM events WHERE workspace_id = $1 AND timestamp >= <30 days ago> GROUP BY 1', medianMs: median(scan), samplesMs: scan },
      segmentErrors,
      pages: results, targets: { pageMs: TARGET_MS, met: results.every((r) => r.withinTarget) },
    };
    const out = writeResults('console', startedAt, git, record, values.out ?? null);
    copyFileSync(out, join(values.out ?? join(ROOT, 'bench', 'results'), 'console.json'));
    say(`results: ${out}`);
  } catch (err) {
    // The server's own account of a failed call (errors are logged without personal data).
    for (const line of serverLogs) if (line.includes('"level":50')) say(line.trim().slice(0, 2000));
    throw err;
  } finally {
    await ensemble?.close().catch((err: Error) => say(`close: ${err.message}`));
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
