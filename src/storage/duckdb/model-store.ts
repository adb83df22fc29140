/**
 * Predictive models in the embedded store: definitions, trained versions (model card + fitted
 * parameters, no personal data) and the latest scores (`model_scores`, one row per scored
 * profile, replaced whole by each scoring run in one transaction, so segment SQL reads the old
 * run or the new one, never a mix). One connection; its statements are serialised here.
 *
 * @example
 *   await store.saveModel(def);
 *   await store.addVersion(def.workspaceId, def.id, { version: 1, trainedAt, status: 'active', card, artifact });
 *   await store.replaceScores(def.workspaceId, def.id, rows, Date.now());
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ModelCardT, ModelDefinition } from '../../predict/model-types.js';
import { all, inTransaction, jsonRows, type Database } from './database.js';

export interface StoredVersion {
  version: number;
  trainedAt: number;
  status: 'active' | 'not_better_than_chance';
  card: ModelCardT;
}

export interface ScoreRow {
  profileId: string;
  score: number;
  decile: number;
  explanation: Array<{ feature: string; contribution: number }>;
}

const SCORE_SPEC = JSON.stringify({ w: 'VARCHAR', m: 'VARCHAR', p: 'VARCHAR', s: 'DOUBLE', d: 'INTEGER', e: 'JSON', t: 'BIGINT' });
const CHUNK = 50_000;

export class DuckDbModelStore {
  private lock: Promise<unknown> = Promise.resolve();

  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<DuckDbModelStore> {
    return new DuckDbModelStore(await db.connect());
  }

  async models(): Promise<ModelDefinition[]> {
    const rows = await this.serial(() => all(this.conn, 'SELECT definition::VARCHAR AS d FROM models ORDER BY created_at, id'));
    return rows.map((r) => JSON.parse(r.d as string) as ModelDefinition);
  }

  async saveModel(def: ModelDefinition): Promise<void> {
    await this.serial(() => this.conn.run(`INSERT INTO models VALUES ($1, $2, $3, $4::JSON, $5, $6)
      ON CONFLICT (workspace_id, id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`, [
      def.workspaceId, def.id, def.key, JSON.stringify(def), BigInt(def.createdAt), BigInt(def.updatedAt),
    ]));
  }

  /** The definition, its versions and its scores, in one transaction. */
  async deleteModel(workspaceId: string, id: string): Promise<void> {
    await this.serial(() => inTransaction(this.conn, async () => {
      for (const table of ['model_scores', 'model_versions']) await this.conn.run(`DELETE FROM ${table} WHERE workspace_id = $1 AND model_id = $2`, [workspaceId, id]);
      await this.conn.run('DELETE FROM models WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    }));
  }

  async addVersion(workspaceId: string, id: string, v: StoredVersion, artifact: unknown): Promise<void> {
    await this.serial(() => this.conn.run('INSERT INTO model_versions VALUES ($1, $2, $3, $4, $5, $6::JSON, $7::JSON)', [
      workspaceId, id, v.version, BigInt(v.trainedAt), v.status, JSON.stringify(v.card), JSON.stringify(artifact),
    ]));
  }

  async versions(workspaceId: string, id: string): Promise<StoredVersion[]> {
    const rows = await this.serial(() => all(this.conn, `SELECT version, trained_at, status, card::VARCHAR AS card FROM model_versions
      WHERE workspace_id = $1 AND model_id = $2 ORDER BY version`, [workspaceId, id]));
    return rows.map((r) => ({ version: Number(r.version), trainedAt: Number(r.trained_at), status: r.status as StoredVersion['status'], card: JSON.parse(r.card as string) as ModelCardT }));
  }

  async artifact(workspaceId: string, id: string, version: number): Promise<unknown> {
    const rows = await this.serial(() => all(this.conn, 'SELECT artifact::VARCHAR AS a FROM model_versions WHERE workspace_id = $1 AND model_id = $2 AND version = $3', [workspaceId, id, version]));
    return rows.length === 0 ? undefined : JSON.parse(rows[0]?.a as string);
  }

  async replaceScores(workspaceId: string, id: string, rows: readonly ScoreRow[], at: number): Promise<void> {
    await this.serial(() => inTransaction(this.conn, async () => {
      await this.conn.run('DELETE FROM model_scores WHERE workspace_id = $1 AND model_id = $2', [workspaceId, id]);
      for (let i = 0; i < rows.length; i += CHUNK) {
        const text = rows.slice(i, i + CHUNK).map((r) => JSON.stringify({ w: workspaceId, m: id, p: r.profileId, s: r.score, d: r.decile, e: r.explanation, t: at })).join('\n');
        await this.conn.run(`INSERT INTO model_scores SELECT w, m, p, s, d, e, t FROM ${jsonRows(SCORE_SPEC)}`, [text]);
      }
    }));
  }

  async scores(workspaceId: string, id: string): Promise<{ rows: ScoreRow[]; scoredAt: number | null }> {
    const rows = await this.serial(() => all(this.conn, `SELECT profile_id, score, decile, explanation::VARCHAR AS e, scored_at FROM model_scores
      WHERE workspace_id = $1 AND model_id = $2`, [workspaceId, id]));
    let scoredAt: number | null = null;
    return {
      rows: rows.map((r) => {
        scoredAt = Number(r.scored_at);
        return { profileId: r.profile_id as string, score: Number(r.score), decile: Number(r.decile), explanation: JSON.parse(r.e as string) as ScoreRow['explanation'] };
      }),
      scoredAt,
    };
  }

  /** Erasure, or a purpose no longer in force: the profiles' scores of every model (or of one). */
  async forget(workspaceId: string, profileIds: readonly string[], modelId?: string): Promise<void> {
    if (profileIds.length === 0) return;
    await this.serial(() => this.conn.run(`DELETE FROM model_scores WHERE workspace_id = $1 ${modelId === undefined ? '' : 'AND model_id = $3 '}AND list_contains($2::VARCHAR[], profile_id)`,
      modelId === undefined ? [workspaceId, listOf(profileIds)] : [workspaceId, listOf(profileIds), modelId]));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

/** A VARCHAR[] literal bound as one text parameter (ids are generated, but quotes are escaped anyway). */
function listOf(ids: readonly string[]): string {
  return `[${ids.map((id) => `'${id.replace(/'/g, "''")}'`).join(', ')}]`;
}
