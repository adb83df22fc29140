/** Runs the `EventLog` contract against every adapter: one line per adapter (DESIGN.md §2). */
import { join } from 'node:path';
import { Database } from '../../src/storage/duckdb/database.js';
import { DuckDbEventLog } from '../../src/storage/duckdb/event-log.js';
import { SegmentLog } from '../../src/storage/file-log/segment-log.js';
import { eventLogContract, reopenable } from './event-log.contract.js';

eventLogContract('SegmentLog', reopenable(async (dir) => { const log = await SegmentLog.open(dir); return { log, close: () => log.close() }; }));
eventLogContract('DuckDbEventLog', reopenable(async (dir) => { const db = await Database.open(join(dir, 'db.duckdb')); const log = await DuckDbEventLog.open(db); return { log, close: async () => { await log.close(); await db.close(); } }; }));
