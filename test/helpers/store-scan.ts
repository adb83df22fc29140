/**
 * Everything a stopped server left on disk, to search for data that must not be there: every
 * file under the data folder (as latin1 text, so any byte sequence is searchable), and every row
 * of every table of the DuckDB store (as JSON text).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Database, all } from '../../src/storage/duckdb/database.js';

export async function storeContents(dir: string): Promise<{ files: Map<string, string>; tables: Map<string, string> }> {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(p, readFileSync(p).toString('latin1'));
    }
  };
  walk(dir);
  const db = await Database.open(join(dir, 'ensemble.duckdb'));
  const tables = new Map<string, string>();
  try {
    const conn = await db.connect();
    for (const t of await all(conn, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'`)) {
      const rows = await all(conn, `SELECT * FROM "${t.table_name as string}"`);
      tables.set(t.table_name as string, JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    }
  } finally {
    await db.close();
  }
  return { files, tables };
}
