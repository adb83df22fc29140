/**
 * What the profile benchmarks share for their output: a plain text table, the machine and commit
 * they ran on, and the JSON record written to `bench/results/<name>-<UTC time>.json` and
 * `<name>-latest.json` (the same layout as the ingest bench).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/bench/profiles/). */
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const fmt = {
  int: (n: number): string => int.format(n),
  ms: (n: number): string => (n >= 100 ? int.format(n) : n.toFixed(n >= 10 ? 1 : 2)),
  s: (n: number): string => n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2),
  ratio: (n: number | null): string => (n === null || !Number.isFinite(n) ? '–' : n >= 10 ? n.toFixed(1) : n.toFixed(2)),
  bytes: (n: number): string => (Math.abs(n) >= 10 * 2 ** 20 ? `${(n / 2 ** 20).toFixed(0)} MiB` : Math.abs(n) >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${int.format(n)} B`),
};

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Columns listed in `right` are right-aligned (numbers). */
export function table(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function machine(): Record<string, unknown> {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? null,
    availableParallelism: availableParallelism(),
    totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: platform(), release: release(), arch: arch(),
    node: process.version,
    loadavg: loadavg(),
  };
}

/**
 * The commit the bench ran on, and whether src/ differed from it (uncommitted changes): take it
 * when the run starts, as the code under test is what was built then.
 */
export function gitState(): { commit: string | null; srcChanged: boolean | null } {
  const git = (args: string[]) => execFileSync('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  try {
    return { commit: git(['rev-parse', 'HEAD']), srcChanged: git(['status', '--porcelain', '--', 'src']) !== '' };
  } catch {
    return { commit: null, srcChanged: null };
  }
}

/** Writes the record as `<name>-<UTC time>.json` and `<name>-latest.json`; returns the first path. */
export function writeResults(name: string, startedAt: Date, git: ReturnType<typeof gitState>, record: Record<string, unknown>, outDir: string | null): string {
  const dir = outDir ?? join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const file = join(dir, `${name}-${stamp}.json`);
  const json = `${JSON.stringify({ bench: name, schemaVersion: 1, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine: machine(), gitCommit: git.commit, srcChangedSinceCommit: git.srcChanged, ...record }, replacer, 2)}\n`;
  writeFileSync(file, json);
  writeFileSync(join(dir, `${name}-latest.json`), json);
  return file;
}

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Heap figures after a full collection (needs `node --expose-gc`; without it, as they are). */
export function settledMemory(): { heapUsed: number; external: number; arrayBuffers: number; rss: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}
