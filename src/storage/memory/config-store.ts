/**
 * An in-memory `ConfigStore`: settings and per-workspace settings in Maps, no workspaces or
 * sources. For running the identity engine without a database (tests, benchmarks).
 */
import type { ConfigStore } from '../ports.js';

export function memoryConfigStore(): ConfigStore {
  const settings = new Map<string, string>();
  const wsSettings = new Map<string, Map<string, string>>();
  return {
    getSetting: async (k) => settings.get(k) ?? null,
    setSetting: async (k, v) => { settings.set(k, v); },
    deleteSetting: async (k) => { settings.delete(k); },
    listWorkspaces: async () => [],
    insertWorkspace: async () => undefined,
    listSources: async () => [],
    insertSource: async () => undefined,
    updateSourceKeys: async () => undefined,
    updateSourceDeclaration: async () => undefined,
    workspaceSettings: async (key) => wsSettings.get(key) ?? new Map(),
    setWorkspaceSetting: async (ws, key, value) => {
      const m = wsSettings.get(key) ?? new Map<string, string>();
      m.set(ws, value);
      wsSettings.set(key, m);
    },
  };
}
