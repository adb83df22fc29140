/**
 * Compaction: the store file rewritten as a fresh copy (DuckDB's `COPY FROM DATABASE`). DuckDB
 * reclaims the space of deleted rows only partly at a checkpoint, so bytes of erased rows can
 * stay in free pages of the file, unreachable by any query, until reused. A fresh copy holds
 * only live rows: after an erasure it is what makes the deletion physical too. It runs while no
 * one has the file open (at start-up when an erasure asked for it, or `ensemble compact`).
 *
 * The copy is written beside the file, synced, and renamed over it: a crash leaves the old file
 * or the new one.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';

/** Settings key an erasure sets: the next start compacts the store before using it. */
export const PURGE_PENDING = 'store_purge_pending';

export async function compactStore(path: string): Promise<{ bytesBefore: number; bytesAfter: number }> {
  const tmp = `${path}.compact`;
  await fsp.rm(tmp, { force: true });
  await fsp.rm(`${tmp}.wal`, { force: true });
  const bytesBefore = (await fsp.stat(path)).size;
  const quote = (p: string) => `'${p.replace(/'/g, "''")}'`;
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH ${quote(path)} AS old_store`);
    await conn.run(`ATTACH ${quote(tmp)} AS fresh_store`);
    await conn.run('COPY FROM DATABASE old_store TO fresh_store');
    await conn.run('DETACH fresh_store');
    await conn.run('DETACH old_store');
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  const fh = await fsp.open(tmp, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path);
  // The old file's write-ahead log was folded in when it was detached; a stale one must not be replayed on the copy.
  await fsp.rm(`${path}.wal`, { force: true });
  const dir = await fsp.open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return { bytesBefore, bytesAfter: (await fsp.stat(path)).size };
}
