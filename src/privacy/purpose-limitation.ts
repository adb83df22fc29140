/**
 * Purpose limitation (GDPR art. 5(1)(b)) at configuration time: a segment that serves purposes
 * must have a source collecting for all of them, or it would be fed only by data collected for
 * something else. Refused with the sources and what each declares, so the fix is obvious. At
 * run time such a segment's event, sequence and consent conditions read only the events of those
 * sources, and its trait conditions only values those sources wrote (segments/engine.ts `feeds`
 * and `traitFor`, and the SQL compiler's `sources`).
 */
import { EnsembleError } from '../protocol/errors.js';
import type { Source } from '../protocol/workspace.js';

/**
 * A computed trait aggregates the events of every source unless it names its `sources`: a
 * segment serving purposes may read it only if each source it counts collects for all of them.
 * Refused with the sources that do not, so the fix (a computed trait limited to the right
 * sources) is obvious.
 */
export function requireComputedSourcesFor(sources: readonly Source[], purposes: readonly string[], traits: ReadonlyArray<{ name: string; sources?: readonly string[] }>): void {
  if (purposes.length === 0) return;
  for (const t of traits) {
    const counted = t.sources === undefined ? sources : sources.filter((s) => t.sources!.includes(s.id));
    const others = counted.filter((s) => !purposes.every((p) => s.purposes.includes(p)));
    if (others.length === 0) continue;
    throw new EnsembleError(
      'ENSEMBLE_ERR_PURPOSE_LIMITATION',
      `The computed trait "${t.name}" counts events of ${others.map((s) => `"${s.name}"`).join(', ')}, which ${others.length === 1 ? 'does' : 'do'} not collect for ${purposes.join(' and ')}: read a computed trait whose \`sources\` do.`,
      { computedTrait: t.name, sources: others.map((s) => ({ id: s.id, name: s.name, purposes: s.purposes })) },
    );
  }
}

export function requireSourceFor(sources: readonly Source[], purposes: readonly string[]): void {
  if (purposes.length === 0) return;
  if (sources.some((s) => purposes.every((p) => s.purposes.includes(p)))) return;
  throw new EnsembleError(
    'ENSEMBLE_ERR_PURPOSE_LIMITATION',
    `No source of this workspace collects for ${purposes.join(' and ')}: declare it on the sources whose data may serve it (PATCH .../sources/{id}).`,
    { purposes, sources: sources.map((s) => ({ id: s.id, name: s.name, purposes: s.purposes })) },
  );
}
