/**
 * Synthetic data for the segmentation benchmark, written straight into the real schema with
 * set-based SQL (`INSERT ... SELECT ... FROM range(n)`): a row-by-row load of 10M events through
 * JavaScript would take longer than the benchmark itself. Every random draw is a hash of (seed,
 * row, salt), so a seed always gives the same data.
 *
 * The shop: visits are sessions of 1–10 events that go down a funnel (landing page → product
 * views → adds to cart → checkout → order) and stop at a drawn stage; sessions are spread evenly
 * over 90 days ending at `now`, so `seq` (log order) follows time as it does in a real log.
 * Sessions pick their person with a skew (a few heavy users, a long tail; about a tenth of the
 * profiles have no event at all, as imported or identify-only profiles do).
 *
 * Profiles: traits `plan`, `country`, `age` in the stored shape (`{value, at, sourceId,
 * messageId}` per trait); ~1 % are merged into another profile (`merged_into`) and keep their
 * events under their own id, as after a real merge, so segment SQL must map events to the live
 * profile. Only odd-numbered people can be merged, always into an even-numbered one, so merges
 * are one level deep: the hand-written baseline relies on that (the compiler follows chains).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { all } from '../../src/storage/duckdb/database.js';

export const WS = 'ws_bench';
export const SOURCE = 'src_bench';
export const DAY_MS = 86_400_000;
export const SPAN_DAYS = 90;
export const CATEGORIES = ['shoes', 'shirts', 'bags', 'electronics', 'books', 'home', 'beauty', 'toys'] as const;

export interface GenerateOptions {
  profiles: number;
  events: number;
  seed: number;
  /** The end of the data (ms); every event is at or before it. */
  now: number;
}

export interface GenerateResult {
  seconds: { people: number; sessions: number; events: number; profiles: number; total: number };
  counts: {
    profiles: number; liveProfiles: number; mergedProfiles: number; profilesWithoutEvents: number;
    events: number; sessions: number; eventsWithConsent: number; eventsOfMergedProfiles: number;
    byEvent: Record<string, number>;
  };
  /** On-disk size of the DuckDB file after a checkpoint (bytes), when known. */
  fileBytes: number | null;
}

/** The draws of the generator, one hash salt each. */
const SALTS = ['user', 'plan', 'country', 'hasage', 'age', 'consent', 'traitat', 'merge', 'target', 'who', 'len', 'device', 'stage', 'cs', 'flip', 'cur', 'kind', 'time', 'sku'] as const;
/** Seeds are below this (the seed is the last digits of the hashed integer). */
export const SEED_LIMIT = 1_000_003;

/** Average events per session under the stage and length mix below (for the number of sessions to draw). */
const MEAN_SESSION_EVENTS = 3.4;

export async function generate(conn: DuckDBConnection, o: GenerateOptions, say: (s: string) => void): Promise<GenerateResult> {
  const seed = Math.trunc(o.seed);
  if (!(seed >= 0 && seed < SEED_LIMIT)) throw new Error(`--seed must be below ${SEED_LIMIT}`);
  // A uniform draw in [0, 1) from 53 bits of the hash of one integer made of (row, salt, seed).
  // Not DuckDB's variadic hash(a, b, c): it combines its arguments' hashes so that draws of one
  // row with two salts come out strongly correlated (measured: -0.99), e.g. no USD order ever.
  const u = (row: string, salt: string): string => {
    const i = (SALTS as readonly string[]).indexOf(salt);
    if (i < 0) throw new Error(`generator: unknown salt ${salt}`);
    return `((hash((CAST(${row} AS BIGINT) * ${SALTS.length} + ${i}) * ${SEED_LIMIT} + ${seed}) >> 11)::DOUBLE / 9007199254740992.0)`;
  };
  const spanMs = SPAN_DAYS * DAY_MS;
  const t0 = o.now - spanMs;
  const n = o.profiles;
  const sessions = Math.ceil((o.events / MEAN_SESSION_EVENTS) * 1.15);
  const cats = `[${CATEGORIES.map((c) => `'${c}'`).join(', ')}]`;
  const timed = async (sql: string): Promise<number> => {
    const t = performance.now();
    await conn.run(sql);
    return (performance.now() - t) / 1000;
  };
  const tAll = performance.now();

  // People: ids, identifiers, traits, merges. The ids look like real ones (`prof_` + 16
  // characters: 8 random hex, then the index, so they never collide).
  const people = await timed(`CREATE OR REPLACE TEMP TABLE gen_people AS
    SELECT p,
      printf('prof_%s%08d', substr(md5('${seed}-' || p), 1, 8), p) AS id,
      printf('%s-%08d', substr(md5('a${seed}-' || p), 1, 12), p) AS anonymous_id,
      CASE WHEN ${u('p', 'user')} < 0.4 THEN printf('user_%08d', p) END AS user_id,
      CASE WHEN up < 0.10 THEN NULL WHEN up < 0.55 THEN 'free' WHEN up < 0.77 THEN 'pro' WHEN up < 0.90 THEN 'team'
           WHEN up < 0.95 THEN 'enterprise' ELSE 'trial' END AS plan,
      CASE WHEN uc < 0.05 THEN NULL WHEN uc < 0.30 THEN 'FR' WHEN uc < 0.45 THEN 'DE' WHEN uc < 0.62 THEN 'US' WHEN uc < 0.72 THEN 'GB'
           WHEN uc < 0.80 THEN 'ES' WHEN uc < 0.86 THEN 'IT' WHEN uc < 0.90 THEN 'BE' WHEN uc < 0.94 THEN 'NL' WHEN uc < 0.97 THEN 'CA' ELSE 'SE' END AS country,
      CASE WHEN ${u('p', 'hasage')} < 0.7 THEN 18 + CAST(floor(${u('p', 'age')} * 62) AS INTEGER) END AS age,
      ${u('p', 'consent')} < 0.7 AS advertising,
      ${t0} + CAST(floor(${u('p', 'traitat')} * ${spanMs}) AS BIGINT) AS trait_at,
      p % 2 = 1 AND ${u('p', 'merge')} < 0.02 AS merged,
      2 * CAST(floor(${u('p', 'target')} * ((p + 1) // 2)) AS BIGINT) AS target
    FROM (SELECT p, ${u('p', 'plan')} AS up, ${u('p', 'country')} AS uc FROM range(${n}) t(p))`);

  // Sessions: who, how far down the funnel, how many events, when; `first_i` numbers the events.
  // A session starts at the time of its first event's place in the log, so the sessions kept
  // (those within the number of events wanted) span the whole 90 days up to `now`.
  const sessionsSec = await timed(`CREATE OR REPLACE TEMP TABLE gen_sessions AS
    SELECT *, ${t0} + CAST(floor(first_i * ${spanMs / o.events}) AS BIGINT) AS start_ms FROM (
    SELECT *, sum(len) OVER (ORDER BY s ROWS UNBOUNDED PRECEDING) - len AS first_i FROM (
      SELECT s, p, stage, udev,
        CAST(CASE stage WHEN 0 THEN 1 + floor(ul * 3) WHEN 1 THEN 2 + floor(ul * 4) WHEN 2 THEN 3 + floor(ul * 5)
                        WHEN 3 THEN 4 + floor(ul * 5) ELSE 5 + floor(ul * 6) END AS BIGINT) AS len
      FROM (
        SELECT s,
          least(${n - 1}, CAST(floor(${n} * pow(${u('s', 'who')}, 1.3)) AS BIGINT)) AS p,
          CASE WHEN us < 0.45 THEN 0 WHEN us < 0.75 THEN 1 WHEN us < 0.88 THEN 2 WHEN us < 0.93 THEN 3 ELSE 4 END AS stage,
          ${u('s', 'len')} AS ul, ${u('s', 'device')} AS udev
        FROM (SELECT s, ${u('s', 'stage')} AS us FROM range(${sessions}) t(s)))))
    WHERE first_i < ${o.events}`);
  const drawn = (await all(conn, 'SELECT coalesce(sum(len), 0) AS n, count(*) AS s FROM gen_sessions'))[0];
  const covered = Number(drawn?.n ?? 0);
  const sessionsKept = Number(drawn?.s ?? 0);
  if (covered < o.events) throw new Error(`generator: ${covered} session events for ${o.events} wanted (raise MEAN_SESSION_EVENTS margin)`);

  // Events: one row per (session, slot), cut at the number wanted. `k` counts slots from the
  // session's end: the funnel's last steps are its last events.
  const kind = `CASE
      WHEN j = 0 THEN 'page'
      WHEN stage = 4 AND k = 0 THEN 'Order Completed'
      WHEN stage >= 3 AND k = stage - 3 THEN 'Checkout Started'
      WHEN stage >= 2 AND k = stage - 2 THEN 'Product Added'
      WHEN stage >= 2 AND k = stage - 1 THEN CASE WHEN ue < 0.35 THEN 'Product Added' ELSE 'Product Viewed' END
      WHEN stage = 1 AND k = 0 THEN 'Product Viewed'
      WHEN j = 1 AND ue < 0.04 THEN 'identify'
      WHEN j = 1 AND ue < 0.08 THEN 'Signed In'
      WHEN ue < 0.15 THEN 'Product List Viewed'
      WHEN stage >= 1 AND ue < 0.60 THEN 'Product Viewed'
      ELSE 'page' END`;
  const eventsSec = await timed(`INSERT INTO events (
      workspace_id, seq, message_id, type, event, name, profile_id, anonymous_id, user_id, source_id,
      timestamp, original_timestamp, sent_at, received_at, country, browser, browser_version, os, device_type, channel,
      referrer_host, utm_source, utm_medium, utm_campaign, utm_term, utm_content, url, path, revenue, price, currency,
      consent, properties, traits, context)
    WITH slots AS (
      SELECT s.s, s.p, s.stage, s.udev, s.start_ms, s.len, s.first_i + j AS i, j, s.len - 1 - j AS k FROM (
        SELECT *, unnest(range(len)) AS j FROM gen_sessions) s
      WHERE s.first_i + j < ${o.events}
    ), typed AS (
      SELECT sl.*, ${kind} AS kind,
        least(${o.now}, sl.start_ms + j * 45000 + CAST(floor(ue2 * 30000) AS BIGINT)) AS at_ms,
        CAST(floor(usku * 5000) AS BIGINT) AS sku, usku, ue2,
        CASE WHEN j = 0 AND ${u('sl.s', 'cs')} < 0.6
          THEN json_object('categoryPreferences', json_object('advertising', CASE WHEN ${u('sl.s', 'flip')} < 0.05 THEN NOT g.advertising ELSE g.advertising END, 'analytics', true))
        END AS consent,
        CASE WHEN ${u('sl.s', 'cur')} < 0.85 THEN 'EUR' ELSE 'USD' END AS cur,
        g.id AS profile_id, g.anonymous_id, g.user_id, g.country, g.plan
      FROM (SELECT *, ${u('i', 'kind')} AS ue, ${u('i', 'time')} AS ue2, ${u('i', 'sku')} AS usku FROM slots) sl
      JOIN gen_people g ON g.p = sl.p
    ), priced AS (
      SELECT *, ${cats}[sku % 8 + 1] AS cat, round(5.99 + (sku * 37) % 200, 2) AS unit_price, round(20 + usku * 300, 2) AS order_value,
        CASE WHEN kind = 'page' THEN CASE WHEN j = 0 AND ue2 < 0.3 THEN '/' WHEN ue2 < 0.5 THEN '/c/' || ${cats}[sku % 8 + 1]
             WHEN ue2 < 0.85 THEN '/p/sku-' || sku WHEN ue2 < 0.95 THEN '/cart' ELSE '/search' END END AS page_path
      FROM typed
    )
    SELECT '${WS}', i + 1, printf('msg-${seed}-%d', i),
      CASE kind WHEN 'page' THEN 'page' WHEN 'identify' THEN 'identify' ELSE 'track' END,
      CASE WHEN kind NOT IN ('page', 'identify') THEN kind END,
      CASE WHEN kind = 'page' THEN CASE WHEN page_path = '/' THEN 'Home' WHEN page_path LIKE '/c/%' THEN 'Category'
        WHEN page_path LIKE '/p/%' THEN 'Product' WHEN page_path = '/cart' THEN 'Cart' ELSE 'Search' END END,
      profile_id, anonymous_id, CASE WHEN kind = 'identify' OR j > 1 THEN user_id END, '${SOURCE}',
      make_timestamp(at_ms * 1000), make_timestamp(at_ms * 1000), make_timestamp((at_ms + 40) * 1000), make_timestamp((at_ms + 95) * 1000),
      country,
      CASE WHEN udev < 0.55 THEN 'Chrome' WHEN udev < 0.75 THEN 'Safari' WHEN udev < 0.90 THEN 'Chrome' ELSE 'Firefox' END,
      CASE WHEN udev < 0.55 THEN '126.0' WHEN udev < 0.75 THEN '17.5' WHEN udev < 0.90 THEN '125.0' ELSE '127.0' END,
      CASE WHEN udev < 0.55 THEN 'Windows' WHEN udev < 0.75 THEN 'iOS' WHEN udev < 0.90 THEN 'Android' ELSE 'Linux' END,
      CASE WHEN udev < 0.55 OR udev >= 0.90 THEN 'desktop' ELSE 'mobile' END,
      -- The channel enrich.ts gives: the session's landing by its referrer or UTM medium, every
      -- later event of the session direct (its referrer is the shop).
      CASE WHEN j = 0 AND ue2 < 0.4 THEN 'search' WHEN j = 0 AND ue2 < 0.5 THEN 'social' WHEN j = 0 AND ue2 < 0.6 THEN 'email' ELSE 'direct' END,
      CASE WHEN j = 0 AND ue2 < 0.4 THEN 'www.google.com' WHEN j = 0 AND ue2 < 0.5 THEN 'www.facebook.com' END,
      CASE WHEN j = 0 AND ue2 >= 0.5 AND ue2 < 0.6 THEN 'newsletter' END, CASE WHEN j = 0 AND ue2 >= 0.5 AND ue2 < 0.6 THEN 'email' END,
      CASE WHEN j = 0 AND ue2 >= 0.5 AND ue2 < 0.6 THEN 'spring-sale' END, NULL, NULL,
      CASE WHEN kind = 'page' THEN 'https://shop.example' || page_path END, page_path,
      CASE WHEN kind = 'Order Completed' THEN order_value END,
      CASE WHEN kind IN ('Product Viewed', 'Product Added') THEN unit_price END,
      CASE WHEN kind IN ('Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed') THEN cur END,
      consent,
      CASE kind
        WHEN 'page' THEN json_object('path', page_path, 'url', 'https://shop.example' || page_path, 'title', 'Shop')
        WHEN 'Product Viewed' THEN json_object('product_id', 'sku-' || sku, 'category', cat, 'name', 'Product ' || sku, 'price', unit_price, 'currency', cur)
        WHEN 'Product Added' THEN json_object('product_id', 'sku-' || sku, 'category', cat, 'name', 'Product ' || sku, 'price', unit_price, 'currency', cur, 'quantity', 1 + CAST(floor(ue2 * 3) AS INTEGER))
        WHEN 'Checkout Started' THEN json_object('checkout_id', 'co-' || i, 'value', order_value, 'currency', cur)
        WHEN 'Order Completed' THEN json_object('order_id', 'ord-' || i, 'revenue', order_value, 'total', order_value, 'currency', cur, 'category', cat)
        WHEN 'Product List Viewed' THEN json_object('category', cat)
        WHEN 'Signed In' THEN json_object('method', 'password')
        ELSE '{}'::JSON END,
      CASE WHEN kind = 'identify' THEN json_object('plan', plan, 'country', country) END,
      CASE WHEN consent IS NULL THEN json_object('library', json_object('name', 'analytics.js', 'version', '5.2.0'), 'locale', 'en-US')
           ELSE json_object('library', json_object('name', 'analytics.js', 'version', '5.2.0'), 'locale', 'en-US', 'consent', consent) END
    FROM priced
    ORDER BY i`);

  // Profiles, with counts and first/last seen from their events; traits in the stored shape.
  const trait = (key: string, value: string): string => `CASE WHEN ${value} IS NOT NULL THEN '"${key}":{"value":' || to_json(${value})::VARCHAR
      || ',"at":' || g.trait_at || ',"sourceId":"${SOURCE}","messageId":"msg-trait-${seed}-' || g.p || '"}' END`;
  const profilesSec = await timed(`INSERT INTO profiles (id, workspace_id, traits, first_seen, last_seen, event_count, merged_into)
    SELECT g.id, '${WS}',
      ('{' || array_to_string(list_filter([${trait('plan', 'g.plan')}, ${trait('country', 'g.country')}, ${trait('age', 'g.age')}], x -> x IS NOT NULL), ',') || '}')::JSON,
      coalesce(a.first_ms, g.trait_at), coalesce(a.last_ms, g.trait_at), coalesce(a.n, 0),
      CASE WHEN g.merged THEN t.id END
    FROM gen_people g
    LEFT JOIN gen_people t ON t.p = g.target
    LEFT JOIN (SELECT profile_id, min(epoch_ms(timestamp)) AS first_ms, max(epoch_ms(timestamp)) AS last_ms, count(*) AS n FROM events GROUP BY profile_id) a
      ON a.profile_id = g.id
    ORDER BY g.p`);
  await conn.run('DROP TABLE gen_people');
  await conn.run('DROP TABLE gen_sessions');
  await conn.run('CHECKPOINT');
  const total = (performance.now() - tAll) / 1000;

  const stats = (await all(conn, `SELECT
      (SELECT count(*) FROM profiles) AS profiles,
      (SELECT count(*) FROM profiles WHERE merged_into IS NULL) AS live,
      (SELECT count(*) FROM profiles WHERE event_count = 0) AS no_events,
      (SELECT count(*) FROM events) AS events,
      (SELECT count(*) FROM events WHERE consent IS NOT NULL) AS with_consent,
      (SELECT count(*) FROM events e JOIN profiles p ON p.id = e.profile_id WHERE p.merged_into IS NOT NULL) AS of_merged`))[0] ?? {};
  const byEvent: Record<string, number> = {};
  for (const r of await all(conn, `SELECT coalesce(event, '(' || type || ')') AS k, count(*) AS n FROM events GROUP BY 1 ORDER BY 2 DESC`)) byEvent[r.k as string] = Number(r.n);
  const size = await all(conn, 'SELECT total_blocks * block_size AS bytes FROM pragma_database_size()').catch(() => []);
  const profiles = Number(stats.profiles);
  const live = Number(stats.live);
  const result: GenerateResult = {
    seconds: { people, sessions: sessionsSec, events: eventsSec, profiles: profilesSec, total },
    counts: {
      profiles, liveProfiles: live, mergedProfiles: profiles - live, profilesWithoutEvents: Number(stats.no_events),
      events: Number(stats.events), sessions: sessionsKept, eventsWithConsent: Number(stats.with_consent), eventsOfMergedProfiles: Number(stats.of_merged), byEvent,
    },
    fileBytes: size[0]?.bytes === undefined ? null : Number(size[0].bytes),
  };
  if (result.counts.events !== o.events) throw new Error(`generator: ${result.counts.events} events written, ${o.events} wanted`);
  if (profiles !== n) throw new Error(`generator: ${profiles} profiles written, ${n} wanted`);
  say(`  generated in ${total.toFixed(1)} s (people ${people.toFixed(1)} s, sessions ${sessionsSec.toFixed(1)} s, events ${eventsSec.toFixed(1)} s, profiles ${profilesSec.toFixed(1)} s)\n`);
  return result;
}
