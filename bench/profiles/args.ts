/** Command-line parsing shared by the identity, lookup and memory benches. */

/** The integer value of flag `--name`, or `fallback` when absent; a clear error below `min`. */
export function intFlag(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}
