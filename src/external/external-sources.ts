/**
 * External source definitions of every workspace: checked (validate.ts), kept in memory with
 * their header values in clear for the puller, and stored with those values sealed under the
 * workspace's secrets key. Header values are never shown: views answer `••••`, and an update
 * that sends `••••` (or leaves `headers` out) keeps the stored values.
 *
 * @example
 *   const src = await sources.create('ws_1', { id: 'weather', name: 'Weather', url: 'https://…?q={key}', keys: ['Paris'], everySeconds: 900, mapping });
 *   sources.view(src).headers   // { 'x-api-key': '••••' }
 */
import { EnsembleError } from '../protocol/errors.js';
import { HEADER_MASK, type ExternalSourceInputT, type ExternalSourceUpdateT } from '../protocol/external.js';
import type { DuckDbExternalStore, ExternalStatus, StoredExternalSource } from '../storage/duckdb/external-store.js';
import { definitionProblems } from './validate.js';

/** A definition as the service holds it: the stored one without its status, header values in clear. */
export type ExternalSource = Omit<StoredExternalSource, 'status'>;

export interface DefinitionDeps {
  store: DuckDbExternalStore;
  seal(workspaceId: string, plaintext: string, aad: string): string;
  open(workspaceId: string, token: string, aad: string): string;
  now(): number;
}

export const EMPTY_STATUS: ExternalStatus = { lastPullAt: null, lastSuccessAt: null, lastOutcome: null, lastError: null };

const slot = (workspaceId: string, id: string) => `${workspaceId}\u0000${id}`;
/** The associated data binds a sealed value to its source and header: it cannot be moved to another. */
const headerAad = (workspaceId: string, id: string, name: string) => `external:${workspaceId}:${id}:header:${name.toLowerCase()}`;

export class ExternalDefinitions {
  private readonly byId = new Map<string, ExternalSource>();

  constructor(private readonly deps: DefinitionDeps) {}

  /** Loads the stored definitions; returns each with its stored status. */
  async load(): Promise<{ source: ExternalSource; status: ExternalStatus }[]> {
    const loaded: { source: ExternalSource; status: ExternalStatus }[] = [];
    for (const stored of await this.deps.store.sources()) {
      const { status, ...rest } = stored;
      const headers: Record<string, string> = {};
      for (const [name, token] of Object.entries(rest.headers)) headers[name] = this.deps.open(rest.workspaceId, token, headerAad(rest.workspaceId, rest.id, name));
      const source: ExternalSource = { ...rest, headers };
      this.byId.set(slot(source.workspaceId, source.id), source);
      loaded.push({ source, status });
    }
    return loaded;
  }

  list(workspaceId?: string): ExternalSource[] {
    return [...this.byId.values()].filter((s) => workspaceId === undefined || s.workspaceId === workspaceId);
  }

  find(workspaceId: string, id: string): ExternalSource | undefined {
    return this.byId.get(slot(workspaceId, id));
  }

  get(workspaceId: string, id: string): ExternalSource {
    const s = this.find(workspaceId, id);
    if (!s) throw new EnsembleError('ENSEMBLE_ERR_EXTERNAL_SOURCE_NOT_FOUND', `No external source "${id}" in this workspace.`);
    return s;
  }

  async create(workspaceId: string, input: ExternalSourceInputT): Promise<ExternalSource> {
    if (this.find(workspaceId, input.id)) throw new EnsembleError('ENSEMBLE_ERR_EXTERNAL_SOURCE_EXISTS', `The workspace already has an external source "${input.id}".`);
    const now = this.deps.now();
    const s = checked({
      workspaceId, id: input.id, name: input.name, url: input.url, ...(input.keys ? { keys: input.keys } : {}), everySeconds: input.everySeconds,
      headers: input.headers ?? {}, mapping: input.mapping, enabled: input.enabled ?? true, createdAt: now, updatedAt: now,
    });
    await this.save(s);
    return s;
  }

  /** What is given replaces; `keys: []` removes them. Returns the new definition. */
  async update(workspaceId: string, id: string, patch: ExternalSourceUpdateT): Promise<ExternalSource> {
    const before = this.get(workspaceId, id);
    let headers = before.headers;
    if (patch.headers !== undefined) {
      headers = {};
      const stored = new Map(Object.entries(before.headers).map(([k, v]) => [k.toLowerCase(), v]));
      for (const [name, value] of Object.entries(patch.headers)) {
        const kept = stored.get(name.toLowerCase());
        if (value === HEADER_MASK && kept === undefined) {
          const problem = { path: `/headers/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`, code: 'header_masked', message: `"${name}" has no stored value to keep: send its value.` };
          throw new EnsembleError('ENSEMBLE_ERR_EXTERNAL_SOURCE_INVALID', `The external source is not valid: ${problem.path} ${problem.message}`, { problems: [problem] });
        }
        headers[name] = value === HEADER_MASK && kept !== undefined ? kept : value;
      }
    }
    const keys = patch.keys === undefined ? before.keys : patch.keys.length === 0 ? undefined : patch.keys;
    const { keys: _k, ...rest } = before;
    const s = checked({
      ...rest, ...(keys ? { keys } : {}), name: patch.name ?? before.name, url: patch.url ?? before.url, everySeconds: patch.everySeconds ?? before.everySeconds,
      headers, mapping: patch.mapping ?? before.mapping, enabled: patch.enabled ?? before.enabled, updatedAt: this.deps.now(),
    });
    await this.save(s);
    return s;
  }

  /** Removes the definition and every value it held (one transaction). */
  async delete(workspaceId: string, id: string): Promise<void> {
    this.get(workspaceId, id);
    await this.deps.store.deleteSource(workspaceId, id);
    this.byId.delete(slot(workspaceId, id));
  }

  /** The API view: header values masked, times as ISO text. */
  view(s: ExternalSource): Omit<ExternalSource, 'workspaceId' | 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string } {
    const { workspaceId: _w, ...rest } = s;
    return {
      ...rest, headers: Object.fromEntries(Object.keys(s.headers).map((k) => [k, HEADER_MASK])),
      createdAt: new Date(s.createdAt).toISOString(), updatedAt: new Date(s.updatedAt).toISOString(),
    };
  }

  /** A new definition starts with an empty status; a changed one keeps what the pulls stored. */
  private async save(s: ExternalSource): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(s.headers)) headers[name] = this.deps.seal(s.workspaceId, value, headerAad(s.workspaceId, s.id, name));
    const stored: StoredExternalSource = { ...s, headers, status: EMPTY_STATUS };
    await this.deps.store.saveSource(stored);
    this.byId.set(slot(s.workspaceId, s.id), s);
  }
}

function checked(s: ExternalSource): ExternalSource {
  const problems = definitionProblems(s);
  if (problems.length > 0) {
    const first = problems[0];
    throw new EnsembleError('ENSEMBLE_ERR_EXTERNAL_SOURCE_INVALID', `The external source is not valid: ${first?.path} ${first?.message}`, { problems });
  }
  return s;
}
