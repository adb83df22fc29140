/**
 * What the console benchmark needs beyond the segmentation benchmark's shop (generate.ts): the
 * workspace and source rows, identifiers (each person's anonymous id, and user id when they
 * have one) hashed with the workspace's lookup key exactly as the identity engine stores them,
 * consent decisions, messages sent by journeys and triggers, and their opens and clicks as the
 * message links record them. Set-based SQL, except the keyed hashes (computed in JS, loaded
 * from a CSV file by DuckDB).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { all } from '../../src/storage/duckdb/database.js';
import { KeyRing } from '../../src/privacy/key-ring.js';
import { parseMasterKey } from '../../src/platform/crypto.js';
import { SOURCE, WS, DAY_MS, SPAN_DAYS } from '../segments/generate.js';

export const WRITE_KEY = 'wk_console_bench_0123456789abcdef';

export interface ExtrasResult {
  seconds: number;
  identities: number;
  consents: number;
  messages: number;
  messageEvents: number;
}

export async function addExtras(conn: DuckDBConnection, o: { masterKey: string; now: number; dir: string }): Promise<ExtrasResult> {
  const t = performance.now();
  await conn.run(`INSERT INTO workspaces VALUES ('${WS}', 'Bench shop', ${o.now - SPAN_DAYS * DAY_MS})`);
  await conn.run(`INSERT INTO sources (id, workspace_id, name, kind, write_key, previous_write_key, previous_key_expires_at, created_at, purposes, data_categories, consent_mode)
    VALUES ('${SOURCE}', '${WS}', 'Web', 'website', '${WRITE_KEY}', NULL, NULL, ${o.now - SPAN_DAYS * DAY_MS}, '["analytics"]', '[]', 'standard')`);
  // Identifiers, hashed as the identity engine does (keyed HMAC of the normalised value).
  const keys = new KeyRing(parseMasterKey(o.masterKey));
  const people = await all(conn, `SELECT coalesce(p.merged_into, e.profile_id) AS owner, e.anonymous_id, max(e.user_id) AS user_id, min(p.first_seen) AS trait_at
    FROM (SELECT DISTINCT profile_id, anonymous_id, user_id FROM events WHERE workspace_id = '${WS}' AND anonymous_id IS NOT NULL) e
    JOIN profiles p ON p.id = e.profile_id GROUP BY ALL`);
  const lines: string[] = [];
  for (const p of people) {
    const owner = String(p.owner);
    lines.push(`anonymous_id,${keys.lookupHash(WS, 'anonymous_id', String(p.anonymous_id))},${String(p.anonymous_id)},${owner},${Number(p.trait_at)}`);
    if (p.user_id != null) lines.push(`user_id,${keys.lookupHash(WS, 'user_id', String(p.user_id))},${String(p.user_id)},${owner},${Number(p.trait_at)}`);
  }
  const csv = join(o.dir, 'identities.csv');
  writeFileSync(csv, lines.join('\n') + '\n');
  await conn.run(`INSERT OR IGNORE INTO identities SELECT '${WS}', type, hash, value, NULL, NULL, profile_id, first_seen
    FROM read_csv('${csv}', header = false, columns = {'type': 'VARCHAR', 'hash': 'VARCHAR', 'value': 'VARCHAR', 'profile_id': 'VARCHAR', 'first_seen': 'BIGINT'})`);
  // Consent: 60 % decided on analytics (a quarter denied), 30 % on e-mail marketing, 3 % withdrew it later.
  await conn.run(`INSERT INTO consent_records
    SELECT '${WS}', 'cr_a_' || id, id, 'analytics', CASE WHEN hash(id || 's') % 4 = 0 THEN 'denied' ELSE 'granted' END, first_seen, first_seen, 'event', NULL, NULL, '{}'
    FROM profiles WHERE workspace_id = '${WS}' AND merged_into IS NULL AND hash(id || 'c') % 10 < 6
    UNION ALL
    SELECT '${WS}', 'cr_e_' || id, id, 'email_marketing', 'granted', first_seen, first_seen, 'api', NULL, NULL, '{}'
    FROM profiles WHERE workspace_id = '${WS}' AND merged_into IS NULL AND hash(id || 'e') % 10 < 3
    UNION ALL
    SELECT '${WS}', 'cr_w_' || id, id, 'email_marketing', 'withdrawn', least(${o.now}, first_seen + (hash(id) % 20) * ${DAY_MS}), first_seen, 'unsubscribe', NULL, NULL, '{}'
    FROM profiles WHERE workspace_id = '${WS}' AND merged_into IS NULL AND hash(id || 'e') % 100 < 3`);
  // Messages: a third of the people got one (journey e-mails, trigger e-mails, journey SMS), over the period.
  await conn.run(`INSERT INTO message_log
    SELECT '${WS}', id, CASE WHEN h % 3 = 2 THEN 'sms' ELSE 'email' END,
      least(${o.now}, first_seen + (h % 5) * ${DAY_MS}), 0,
      CASE h % 3 WHEN 0 THEN 'dst_email:j:jrn_welcome:1:' || id || ':1:s1' WHEN 1 THEN 'dst_email:t:trg_cart:' || id || ':' || (h % 1000)
        ELSE 'dst_sms:j:jrn_winback:1:' || id || ':1:s2' END
    FROM (SELECT id, first_seen, hash(id || 'm') AS h FROM profiles WHERE workspace_id = '${WS}' AND merged_into IS NULL AND hash(id || 'm') % 3 = 0)`);
  const maxSeq = Number((await all(conn, `SELECT max(seq) AS s FROM events`))[0]?.s ?? 0);
  // Opens (40 % of e-mails) and clicks (10 %), as message-links.ts records them.
  await conn.run(`INSERT INTO events (workspace_id, seq, message_id, type, event, profile_id, source_id, timestamp, original_timestamp, received_at, properties)
    SELECT '${WS}', ${maxSeq} + row_number() OVER (), 'msg-open-' || key || ev, 'track', ev, profile_id, 'messaging',
      make_timestamp((sent_at + 3600000) * 1000), make_timestamp((sent_at + 3600000) * 1000), make_timestamp((sent_at + 3600000) * 1000),
      json_object('destinationId', split_part(key, ':', 1), 'messageKey', key)
    FROM (SELECT *, unnest(CASE WHEN hash(key) % 10 = 0 THEN ['Email Opened', 'Email Link Clicked'] WHEN hash(key) % 10 < 4 THEN ['Email Opened'] ELSE [] END) AS ev
      FROM message_log WHERE workspace_id = '${WS}' AND channel = 'email')`);
  const cursor = Number((await all(conn, `SELECT max(seq) AS s FROM events`))[0]?.s ?? 0);
  await conn.run(`INSERT OR REPLACE INTO processor_cursor VALUES ('main', ${cursor})`);
  const count = async (sql: string) => Number((await all(conn, sql))[0]?.n ?? 0);
  return {
    seconds: (performance.now() - t) / 1000,
    identities: await count(`SELECT count(*) AS n FROM identities`),
    consents: await count(`SELECT count(*) AS n FROM consent_records`),
    messages: await count(`SELECT count(*) AS n FROM message_log`),
    messageEvents: await count(`SELECT count(*) AS n FROM events WHERE source_id = 'messaging'`),
  };
}
