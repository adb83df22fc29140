/** Command-line flags of `npm run bench:ingest -- [flags]`. */
import { parseArgs } from 'node:util';
import { tmpdir } from 'node:os';
import type { Pacing } from './protocol.js';
import type { ScenarioName } from './report.js';

export interface Options {
  help: boolean;
  durationSec: number;
  warmupSec: number;
  singleConnections: number;
  batchConnections: number;
  /** Connections for the fixed-rate runs; null = twice the max run's (slack to hold the rate). */
  sustainedConnections: number | null;
  /** Baseline/Ensemble max-throughput pairs per scenario, alternating; the ratio is their median. */
  rounds: number;
  batchSize: number;
  sustainedFraction: number;
  pacing: Pacing;
  scenarios: ScenarioName[];
  timeoutSec: number;
  dataDir: string;
  outDir: string | null;
  seed: number;
  /** `baseline`: the "Ensemble" side is a copy of the baseline (harness self-test). */
  sut: 'ensemble' | 'baseline';
  drainTimeoutSec: number;
  startTimeoutSec: number;
}

export const HELP = `Ensemble ingest benchmark

Usage: npm run bench:ingest -- [flags]
       node dist/bench/ingest/run.js [flags]

Runs the baseline (bare node:http + JSON.parse) and Ensemble, each in its own process, under
load from a third process (autocannon), and reports Ensemble relative to the baseline.

  --duration <s>              measured seconds per run                    (default 10)
  --warmup <s>                warm-up seconds before each run, discarded  (default 2)
  --connections <n>           connections, single-event scenario          (default 50)
  --batch-connections <n>     connections, batch scenario                 (default 10)
  --sustained-connections <n> connections for the fixed-rate runs  (default: 2 × the above)
  --rounds <n>                baseline/Ensemble max pairs, alternating; ratio = median (default 1)
  --batch-size <n>            events per /v1/batch request                (default 100)
  --sustained <fraction>      fixed rate = fraction × Ensemble's max      (default 0.8)
  --pacing smooth|burst       how fixed-rate runs spread requests         (default smooth)
  --scenarios <list>          single,batch or one of them                 (default single,batch)
  --timeout <s>               per-request timeout                         (default 10)
  --data-dir <dir>            parent of the temp dir for the DuckDB file  (default os.tmpdir())
  --out <dir>                 results directory                     (default bench/results)
  --seed <n>                  event-mix seed                              (default 1)
  --drain-timeout <s>         max wait for ensemble_log_lag_events = 0    (default 120)
  --start-timeout <s>         max wait for /healthz                       (default 60)
  --sut ensemble|baseline     baseline = harness self-test: the "Ensemble" side is a second
                              copy of the baseline (with a fake admin API and write-key auth)
  -h, --help
`;

function num(name: string, raw: string | undefined, fallback: number, min: number, integer = true): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got "${raw}"`);
  }
  return n;
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'batch-connections': { type: 'string' },
      'sustained-connections': { type: 'string' },
      rounds: { type: 'string' },
      'batch-size': { type: 'string' },
      sustained: { type: 'string' },
      pacing: { type: 'string' },
      scenarios: { type: 'string' },
      timeout: { type: 'string' },
      'data-dir': { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      sut: { type: 'string' },
      'drain-timeout': { type: 'string' },
      'start-timeout': { type: 'string' },
    },
  });
  const pacing = values.pacing ?? 'smooth';
  if (pacing !== 'smooth' && pacing !== 'burst') throw new Error(`--pacing must be smooth or burst, got "${pacing}"`);
  const sut = values.sut ?? 'ensemble';
  if (sut !== 'ensemble' && sut !== 'baseline') throw new Error(`--sut must be ensemble or baseline, got "${sut}"`);
  const scenarios: ScenarioName[] = [];
  for (const s of (values.scenarios ?? 'single,batch').split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    if (s !== 'single' && s !== 'batch') throw new Error(`--scenarios takes single and/or batch, got "${s}"`);
    if (!scenarios.includes(s)) scenarios.push(s);
  }
  if (scenarios.length === 0) throw new Error('--scenarios is empty');
  const sustainedFraction = num('sustained', values.sustained, 0.8, 0, false);
  if (sustainedFraction > 1) throw new Error('--sustained is a fraction of the maximum rate (0–1)');
  return {
    help: values.help ?? false,
    durationSec: num('duration', values.duration, 10, 1),
    warmupSec: num('warmup', values.warmup, 2, 0),
    singleConnections: num('connections', values.connections, 50, 1),
    batchConnections: num('batch-connections', values['batch-connections'], 10, 1),
    sustainedConnections: values['sustained-connections'] === undefined ? null : num('sustained-connections', values['sustained-connections'], 1, 1),
    rounds: num('rounds', values.rounds, 1, 1),
    batchSize: num('batch-size', values['batch-size'], 100, 2),
    sustainedFraction,
    pacing,
    scenarios,
    timeoutSec: num('timeout', values.timeout, 10, 1),
    dataDir: values['data-dir'] ?? tmpdir(),
    outDir: values.out ?? null,
    seed: num('seed', values.seed, 1, 0),
    sut,
    drainTimeoutSec: num('drain-timeout', values['drain-timeout'], 120, 0),
    startTimeoutSec: num('start-timeout', values['start-timeout'], 60, 1),
  };
}
