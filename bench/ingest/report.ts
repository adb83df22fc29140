/**
 * The ingest bench's results: the record written to `bench/results/*.json`, the readable
 * table, and the targets (informative marks — the bench never fails on them).
 */
import type { LoadConfig, PhaseResult } from './protocol.js';

export type Target = 'baseline' | 'ensemble';
export type ScenarioName = 'single' | 'batch';

export interface DurabilityCheck {
  /** `ensemble_events_accepted_total` before the warm-up and after the measured phase. */
  before: number | null;
  after: number | null;
  delta: number | null;
  /** 2xx responses (warm-up + measured) × events per request. */
  expected: number;
  /** Requests with no seen outcome (timeouts, resets) × events per request: may or may not be in. */
  slack: number;
  /** null when the server exposes no counter. */
  ok: boolean | null;
}

export interface RunRecord {
  scenario: ScenarioName;
  target: Target;
  /** `max`: as fast as the connections go; `sustained`: at a fixed overall rate. */
  kind: 'max' | 'sustained';
  /** 1-based round of a max run (see --rounds); null for sustained runs. */
  round: number | null;
  config: Omit<LoadConfig, 'writeKey' | 'origin'>;
  warmup: PhaseResult | null;
  measured: PhaseResult;
  /** Server process CPU over warm-up + measured, % of one core (may exceed 100 with threads). */
  serverCpuPercent: number | null;
  /**
   * CPU the rest of the machine used meanwhile (all busy CPU minus server and generator),
   * % of one core: other tenants, the other server, the kernel's share of loopback traffic.
   * High values mean this run was disturbed.
   */
  otherCpuPercent: number | null;
  durability: DurabilityCheck;
  /** `ensemble_log_lag_events` right after the run, and how long it took to reach 0. */
  lag: { afterRun: number | null; drainSec: number | null; drained: boolean | null };
}

export interface TargetCheck {
  name: string;
  value: string;
  pass: boolean | null;
}

export interface ScenarioRecord {
  name: ScenarioName;
  path: string;
  eventsPerRequest: number;
  connections: number;
  runs: RunRecord[];
  /** Per round: Ensemble events/s ÷ baseline events/s at maximum throughput. */
  ratios: number[];
  /** Median of `ratios`. */
  ratio: number | null;
  /** Median over rounds of each side's maximum events/s. */
  medianEventsPerSec: { baseline: number; ensemble: number };
  /** The fixed rate of the sustained runs (requests/s), or null when skipped. */
  sustainedRate: number | null;
  sustainedNote: string | null;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? null) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const dec = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export const fmt = {
  int: (n: number): string => int.format(n),
  ms: (n: number): string => (n >= 100 ? int.format(n) : n.toFixed(n >= 10 ? 1 : 2)),
  pct: (n: number | null): string => (n === null ? '–' : `${int.format(n)} %`),
  ratio: (n: number | null): string => (n === null ? '–' : n.toFixed(2)),
  dec: (n: number): string => dec.format(n),
};

export function mark(pass: boolean | null): string {
  return pass === null ? '[ n/a ]' : pass ? '[ PASS ]' : '[ FAIL ]';
}

function durabilityText(d: DurabilityCheck): string {
  if (d.ok === null || d.delta === null) return 'no metric';
  return d.ok ? `ok ${fmt.int(d.delta)}` : `MISMATCH ${fmt.int(d.delta)}≠${fmt.int(d.expected)}${d.slack > 0 ? `+${fmt.int(d.slack)}` : ''}`;
}

function table(header: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function runRow(r: RunRecord, sutLabel: string, rounds: number): string[] {
  const m = r.measured;
  const rate = r.kind === 'max' ? (rounds > 1 ? `max #${r.round ?? 0}` : 'max') : `${fmt.int(m.targetRate ?? 0)}/s`;
  return [
    r.scenario === 'single' ? 'single /v1/track' : `batch /v1/batch ×${r.config.eventsPerRequest}`,
    r.target === 'baseline' ? 'baseline' : sutLabel,
    String(m.connections),
    rate,
    fmt.int(m.reqPerSec),
    fmt.int(m.eventsPerSec),
    fmt.ms(m.latencyMs.p50),
    fmt.ms(m.latencyMs.p99),
    m.scheduledLatencyMs === null ? '–' : fmt.ms(m.scheduledLatencyMs.p99),
    fmt.int(m.non2xx + m.errors),
    fmt.pct(r.serverCpuPercent),
    fmt.pct(m.loadgenCpuPercent),
    fmt.pct(r.otherCpuPercent),
    durabilityText(r.durability),
  ];
}

export function renderTable(scenarios: ScenarioRecord[], sutLabel: string, rounds: number): string {
  const header = ['scenario', 'server', 'conns', 'rate', 'req/s', 'events/s', 'p50 ms', 'p99 ms', 'p99 sched', 'non-2xx/err', 'srv CPU', 'gen CPU', 'other CPU', 'durable events'];
  const rows: string[][] = [];
  for (const s of scenarios) {
    for (const r of s.runs) rows.push(runRow(r, sutLabel, rounds));
  }
  return table(header, rows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
}

export function renderTargets(targets: TargetCheck[]): string {
  const width = Math.max(...targets.map((t) => t.name.length));
  return targets.map((t) => `  ${mark(t.pass)} ${t.name.padEnd(width)}  ${t.value}`).join('\n');
}
