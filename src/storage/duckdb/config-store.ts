/** Workspaces, sources and settings on DuckDB. Small tables, read into memory at start-up. */
import type { DuckDBConnection } from '@duckdb/node-api';
import { defaultDeclaration, type Source, type Workspace } from '../../protocol/workspace.js';
import type { ConfigStore } from '../ports.js';
import { all, type Database, type Row } from './database.js';

export class DuckDbConfigStore implements ConfigStore {
  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<DuckDbConfigStore> {
    return new DuckDbConfigStore(await db.connect());
  }

  async getSetting(key: string): Promise<string | null> {
    const rows = await all(this.conn, 'SELECT value FROM settings WHERE key = $1', [key]);
    return (rows[0]?.value as string | undefined) ?? null;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.conn.run('INSERT OR REPLACE INTO settings VALUES ($1, $2)', [key, value]);
  }

  async deleteSetting(key: string): Promise<void> {
    await this.conn.run('DELETE FROM settings WHERE key = $1', [key]);
  }

  async listWorkspaces(): Promise<Workspace[]> {
    const rows = await all(this.conn, 'SELECT id, name, created_at FROM workspaces ORDER BY created_at, id');
    return rows.map((r) => ({ id: r.id as string, name: r.name as string, createdAt: Number(r.created_at) }));
  }

  async insertWorkspace(ws: Workspace): Promise<void> {
    await this.conn.run('INSERT INTO workspaces VALUES ($1, $2, $3)', [ws.id, ws.name, BigInt(ws.createdAt)]);
  }

  async listSources(): Promise<Source[]> {
    const rows = await all(this.conn, 'SELECT * FROM sources ORDER BY created_at, id');
    return rows.map((r) => ({
      id: r.id as string,
      workspaceId: r.workspace_id as string,
      name: r.name as string,
      kind: r.kind as Source['kind'],
      writeKey: r.write_key as string,
      previousWriteKey: (r.previous_write_key as string | null) ?? null,
      previousKeyExpiresAt: r.previous_key_expires_at == null ? null : Number(r.previous_key_expires_at),
      createdAt: Number(r.created_at),
      // Sources created before declarations existed get the defaults of their kind.
      ...declarationOf(r),
    }));
  }

  async insertSource(s: Source): Promise<void> {
    await this.conn.run(`INSERT INTO sources (id, workspace_id, name, kind, write_key, previous_write_key, previous_key_expires_at,
        created_at, purposes, data_categories, consent_mode) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
      s.id, s.workspaceId, s.name, s.kind, s.writeKey, s.previousWriteKey,
      s.previousKeyExpiresAt == null ? null : BigInt(s.previousKeyExpiresAt), BigInt(s.createdAt),
      JSON.stringify(s.purposes), JSON.stringify(s.dataCategories), s.consentMode,
    ]);
  }

  async updateSourceDeclaration(s: Source): Promise<void> {
    await this.conn.run('UPDATE sources SET name = $2, purposes = $3, data_categories = $4, consent_mode = $5 WHERE id = $1', [
      s.id, s.name, JSON.stringify(s.purposes), JSON.stringify(s.dataCategories), s.consentMode,
    ]);
  }

  async updateSourceKeys(s: Source): Promise<void> {
    await this.conn.run('UPDATE sources SET write_key = $2, previous_write_key = $3, previous_key_expires_at = $4 WHERE id = $1', [
      s.id, s.writeKey, s.previousWriteKey, s.previousKeyExpiresAt == null ? null : BigInt(s.previousKeyExpiresAt),
    ]);
  }

  /** Every workspace's value of a per-workspace setting (JSON text), e.g. its identity rules. */
  async workspaceSettings(key: string): Promise<Map<string, string>> {
    const rows = await all(this.conn, 'SELECT workspace_id, value::VARCHAR AS value FROM workspace_settings WHERE key = $1', [key]);
    return new Map(rows.map((r) => [r.workspace_id as string, r.value as string]));
  }

  async setWorkspaceSetting(workspaceId: string, key: string, value: string): Promise<void> {
    await this.conn.run('INSERT OR REPLACE INTO workspace_settings VALUES ($1, $2, $3)', [workspaceId, key, value]);
  }
}

function declarationOf(r: Row): Pick<Source, 'purposes' | 'dataCategories' | 'consentMode'> {
  const d = defaultDeclaration(r.kind as Source['kind']);
  return {
    purposes: r.purposes == null ? d.purposes : JSON.parse(r.purposes as string) as string[],
    dataCategories: r.data_categories == null ? d.dataCategories : JSON.parse(r.data_categories as string) as Source['dataCategories'],
    consentMode: r.consent_mode == null ? d.consentMode : r.consent_mode as Source['consentMode'],
  };
}
