/**
 * The marketing-pressure policy of each workspace (activate/pressure.ts decides with it), stored
 * as the workspace setting `pressure` and held in memory: every message send reads it.
 *
 * @example
 *   await settings.set(ws, { caps: [{ channel: 'all', max: 3, within: '7d' }], quietHours: { from: '21:00', to: '08:00' }, defaultTimeZone: 'Europe/Paris' });
 */
import { EnsembleError } from '../protocol/errors.js';
import type { ConfigStore } from '../storage/ports.js';
import { DEFAULT_PRESSURE_POLICY, readPressurePolicy, type PressurePolicyT } from './pressure.js';

const SETTING = 'pressure';

export class PressureSettings {
  private readonly byWs = new Map<string, PressurePolicyT>();

  constructor(private readonly store: ConfigStore) {}

  async load(): Promise<void> {
    for (const [ws, json] of await this.store.workspaceSettings(SETTING)) this.byWs.set(ws, JSON.parse(json) as PressurePolicyT);
  }

  get(workspaceId: string): PressurePolicyT {
    return this.byWs.get(workspaceId) ?? DEFAULT_PRESSURE_POLICY;
  }

  async set(workspaceId: string, input: unknown): Promise<PressurePolicyT> {
    const r = readPressurePolicy(input);
    if (!r.ok) throw new EnsembleError('ENSEMBLE_ERR_PRESSURE_POLICY_INVALID', `${r.problems[0]?.path || '/'}: ${r.problems[0]?.message ?? ''}`, { problems: r.problems });
    await this.store.setWorkspaceSetting(workspaceId, SETTING, JSON.stringify(r.policy));
    this.byWs.set(workspaceId, r.policy);
    return r.policy;
  }

  /** The longest cap window of any workspace (how long sent messages must be remembered). */
  longestWindowMs(windowMs: (within: string) => number | null): number {
    let longest = 0;
    for (const p of this.byWs.values()) for (const c of p.caps) longest = Math.max(longest, windowMs(c.within) ?? 0);
    return longest;
  }
}
