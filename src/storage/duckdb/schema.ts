/**
 * The embedded store's tables. Every table carries `workspace_id`. Hot event properties used by
 * segments (revenue, price, currency, url) get typed columns, because JSON extraction is the
 * dominant cost of segment SQL otherwise.
 *
 * Migrations are append-only: a new schema version adds a statement list at the end.
 */
export const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE IF NOT EXISTS settings (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS workspaces (id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, created_at BIGINT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS sources (
       id VARCHAR PRIMARY KEY, workspace_id VARCHAR NOT NULL, name VARCHAR NOT NULL, kind VARCHAR NOT NULL,
       write_key VARCHAR NOT NULL, previous_write_key VARCHAR, previous_key_expires_at BIGINT, created_at BIGINT NOT NULL)`,
    // The durable log: appended by the collector (group commit), consumed by the processor.
    `CREATE TABLE IF NOT EXISTS event_log (
       seq BIGINT NOT NULL, workspace_id VARCHAR NOT NULL, message_id VARCHAR NOT NULL,
       received_at BIGINT NOT NULL, payload VARCHAR NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS processor_cursor (name VARCHAR PRIMARY KEY, seq BIGINT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS events (
       workspace_id VARCHAR NOT NULL, seq BIGINT NOT NULL, message_id VARCHAR NOT NULL, type VARCHAR NOT NULL,
       event VARCHAR, name VARCHAR, profile_id VARCHAR NOT NULL, anonymous_id VARCHAR, user_id VARCHAR,
       source_id VARCHAR NOT NULL, timestamp TIMESTAMP NOT NULL, original_timestamp TIMESTAMP NOT NULL,
       sent_at TIMESTAMP, received_at TIMESTAMP NOT NULL, country VARCHAR,
       browser VARCHAR, browser_version VARCHAR, os VARCHAR, device_type VARCHAR, channel VARCHAR,
       referrer_host VARCHAR, utm_source VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR, utm_term VARCHAR,
       utm_content VARCHAR, url VARCHAR, path VARCHAR, revenue DOUBLE, price DOUBLE, currency VARCHAR,
       consent JSON, properties JSON, traits JSON, context JSON)`,
    `CREATE TABLE IF NOT EXISTS profiles (
       id VARCHAR PRIMARY KEY, workspace_id VARCHAR NOT NULL, traits JSON NOT NULL,
       first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, event_count BIGINT NOT NULL, merged_into VARCHAR)`,
    `CREATE TABLE IF NOT EXISTS identities (
       workspace_id VARCHAR NOT NULL, type VARCHAR NOT NULL, value VARCHAR NOT NULL, profile_id VARCHAR NOT NULL,
       first_seen BIGINT NOT NULL, PRIMARY KEY (workspace_id, type, value))`,
    `CREATE TABLE IF NOT EXISTS profile_merges (
       workspace_id VARCHAR NOT NULL, from_profile VARCHAR NOT NULL, into_profile VARCHAR NOT NULL,
       merged_at BIGINT NOT NULL, message_id VARCHAR NOT NULL, rule VARCHAR NOT NULL)`,
    // Log records the processor could not handle, kept whole for inspection and replay.
    `CREATE TABLE IF NOT EXISTS dead_letter (
       seq BIGINT NOT NULL, workspace_id VARCHAR NOT NULL, message_id VARCHAR NOT NULL, failed_at BIGINT NOT NULL,
       reason VARCHAR NOT NULL, payload VARCHAR NOT NULL)`,
  ],
  // 2: the identity engine. Identifiers are stored by keyed hash, personal ones sealed (never in
  // clear); the identity log and merge log explain every link; splits leave barriers; each profile
  // has its own data key. Profiles and identities of version 1 (clear values) are dropped here and
  // rebuilt from the stored events at the next start (identity/rebuild.ts).
  [
    `DROP TABLE identities`,
    `DELETE FROM profiles`,
    `DELETE FROM profile_merges`,
    `CREATE TABLE identities (
       workspace_id VARCHAR NOT NULL, type VARCHAR NOT NULL, hash VARCHAR NOT NULL, value VARCHAR, sealed VARCHAR,
       key_owner VARCHAR, profile_id VARCHAR NOT NULL, first_seen BIGINT NOT NULL, PRIMARY KEY (workspace_id, type, hash))`,
    `CREATE TABLE identity_log (
       workspace_id VARCHAR NOT NULL, seq BIGINT NOT NULL, message_id VARCHAR NOT NULL, logged_at BIGINT NOT NULL,
       action VARCHAR NOT NULL, type VARCHAR NOT NULL, hash VARCHAR NOT NULL, profile_id VARCHAR, rule VARCHAR NOT NULL,
       detail VARCHAR NOT NULL)`,
    `ALTER TABLE profile_merges ADD COLUMN seq BIGINT`,
    `ALTER TABLE profile_merges ADD COLUMN via JSON`,
    `ALTER TABLE events ADD COLUMN previous_id VARCHAR`,
    `CREATE TABLE identity_barriers (
       workspace_id VARCHAR NOT NULL, a_type VARCHAR NOT NULL, a_hash VARCHAR NOT NULL, b_type VARCHAR NOT NULL,
       b_hash VARCHAR NOT NULL, created_at BIGINT NOT NULL)`,
    `CREATE TABLE profile_keys (
       workspace_id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL, wrapped VARCHAR NOT NULL, created_at BIGINT NOT NULL,
       PRIMARY KEY (workspace_id, profile_id))`,
    `CREATE TABLE workspace_settings (workspace_id VARCHAR NOT NULL, key VARCHAR NOT NULL, value JSON NOT NULL, PRIMARY KEY (workspace_id, key))`,
    `CREATE TABLE computed_traits (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, name VARCHAR NOT NULL, definition JSON NOT NULL,
       created_at BIGINT NOT NULL, PRIMARY KEY (workspace_id, id))`,
  ],
  // 3: segments. Memberships are derived (rebuilt in memory at start-up); `segment_members` is
  // what was last announced, so a restart announces only the differences. `segment_changes` is
  // the outbox of Segment Entered / Exited, read by journeys and destinations by id.
  [
    `CREATE TABLE segments (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, name VARCHAR NOT NULL, description VARCHAR, definition JSON NOT NULL,
       created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (workspace_id, id))`,
    `CREATE TABLE segment_members (
       workspace_id VARCHAR NOT NULL, segment_id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL, entered_at BIGINT NOT NULL,
       PRIMARY KEY (workspace_id, segment_id, profile_id))`,
    `CREATE TABLE segment_changes (
       id BIGINT NOT NULL, workspace_id VARCHAR NOT NULL, segment_id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL,
       entered BOOLEAN NOT NULL, changed_at BIGINT NOT NULL, cause VARCHAR NOT NULL)`,
    `CREATE TABLE segment_sizes (
       workspace_id VARCHAR NOT NULL, segment_id VARCHAR NOT NULL, day DATE NOT NULL, size BIGINT NOT NULL,
       entered BIGINT NOT NULL, exited BIGINT NOT NULL, PRIMARY KEY (workspace_id, segment_id, day))`,
    `CREATE TABLE segment_list_items (
       workspace_id VARCHAR NOT NULL, list_id VARCHAR NOT NULL, type VARCHAR NOT NULL, hash VARCHAR NOT NULL)`,
  ],
  // 4: privacy (`at` is a DuckDB keyword: times are `logged_at`, `decided_at`). The audit log is a hash chain per workspace (each entry holds the previous
  // entry's hash; privacy/audit-log.ts). Consent records are an immutable history per profile and
  // purpose; sources declare their purposes, data categories and consent mode; strict sources
  // keep only anonymous counts for visitors without analytics consent.
  [
    `CREATE TABLE audit_log (
       workspace_id VARCHAR NOT NULL, seq BIGINT NOT NULL, logged_at BIGINT NOT NULL, actor VARCHAR NOT NULL,
       action VARCHAR NOT NULL, resource VARCHAR NOT NULL, detail JSON NOT NULL, prev_hash VARCHAR NOT NULL,
       hash VARCHAR NOT NULL, PRIMARY KEY (workspace_id, seq))`,
    `CREATE TABLE consent_records (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL, purpose VARCHAR NOT NULL,
       status VARCHAR NOT NULL, decided_at BIGINT NOT NULL, recorded_at BIGINT NOT NULL, source VARCHAR NOT NULL,
       seq BIGINT, message_id VARCHAR, proof JSON NOT NULL, PRIMARY KEY (workspace_id, id))`,
    `ALTER TABLE sources ADD COLUMN purposes JSON`,
    `ALTER TABLE sources ADD COLUMN data_categories JSON`,
    `ALTER TABLE sources ADD COLUMN consent_mode VARCHAR`,
    `ALTER TABLE segments ADD COLUMN purposes JSON`,
    `CREATE TABLE anonymous_counts (
       workspace_id VARCHAR NOT NULL, source_id VARCHAR NOT NULL, day DATE NOT NULL, type VARCHAR NOT NULL,
       name VARCHAR NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (workspace_id, source_id, day, type, name))`,
  ],
  // 5: data-subject rights. Requests keep the identifier's type, never its value. Suppressions
  // hold keyed hashes (under a key of their own, not the lookup key) of an erased person's
  // identifiers, so re-collected events do not bring them back; restrictions hold processing.
  [
    `CREATE TABLE rights_requests (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, type VARCHAR NOT NULL, identifier_type VARCHAR NOT NULL,
       status VARCHAR NOT NULL, received_at BIGINT NOT NULL, due_at BIGINT NOT NULL, completed_at BIGINT,
       profile_id VARCHAR, result JSON NOT NULL, trail JSON NOT NULL, PRIMARY KEY (workspace_id, id))`,
    `CREATE TABLE suppressions (
       workspace_id VARCHAR NOT NULL, type VARCHAR NOT NULL, hash VARCHAR NOT NULL, created_at BIGINT NOT NULL,
       request_id VARCHAR NOT NULL, PRIMARY KEY (workspace_id, type, hash))`,
    `CREATE TABLE restrictions (
       workspace_id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL, since BIGINT NOT NULL, request_id VARCHAR NOT NULL,
       PRIMARY KEY (workspace_id, profile_id))`,
  ],
  // 6: breach support (GDPR arts. 33–34). Security events are what the monitor detected (counts
  // only, never ids of the people concerned); auth-failure spikes belong to the system chain `*`.
  // A breach record tracks the 72-hour deadline from `aware_at` and keeps its own history.
  [
    `CREATE TABLE security_events (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, kind VARCHAR NOT NULL, detected_at BIGINT NOT NULL,
       detail JSON NOT NULL, PRIMARY KEY (workspace_id, id))`,
    `CREATE TABLE breaches (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, status VARCHAR NOT NULL, detected_at BIGINT NOT NULL,
       aware_at BIGINT NOT NULL, notify_by BIGINT NOT NULL, nature VARCHAR NOT NULL, categories JSON NOT NULL,
       data_subjects JSON NOT NULL, approx_people BIGINT, people_estimated BOOLEAN NOT NULL, approx_records BIGINT,
       records_estimated BOOLEAN NOT NULL, consequences VARCHAR, measures VARCHAR NOT NULL, high_risk BOOLEAN,
       delay_reason VARCHAR, security_event_ids JSON NOT NULL, notified_at BIGINT, closed_at BIGINT,
       history JSON NOT NULL, PRIMARY KEY (workspace_id, id))`,
  ],
  // 7: activation. Deliveries are the queue of the delivery engine, filled from the outboxes
  // (segment_changes, the events) by one fan-out whose cursors move in the same transaction, so
  // each change becomes its deliveries exactly once. A delivery holds references (profile,
  // segment) and is materialised just before it is sent; only a removal that must outlive an
  // erasure is frozen with the platform-ready (hashed) identifiers. `audience_members` is what
  // each platform audience holds, so adds and removes are exact diffs. Secrets of a destination's
  // config are sealed. `delivery_receipts` says which destination received whose data and when
  // (access requests, art. 15(1)(c)); erasure deletes a person's rows.
  [
    `CREATE TABLE destinations (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, type VARCHAR NOT NULL, name VARCHAR NOT NULL, config JSON NOT NULL,
       purpose VARCHAR NOT NULL, segments JSON NOT NULL, events JSON, rate_per_second DOUBLE NOT NULL, max_attempts INTEGER NOT NULL,
       enabled BOOLEAN NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, recipient JSON NOT NULL, PRIMARY KEY (workspace_id, id))`,
    `CREATE TABLE delivery_receipts (
       workspace_id VARCHAR NOT NULL, destination_id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL, first_at BIGINT NOT NULL,
       last_at BIGINT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (destination_id, profile_id))`,
    `CREATE TABLE deliveries (
       workspace_id VARCHAR NOT NULL, destination_id VARCHAR NOT NULL, key VARCHAR NOT NULL, seq BIGINT NOT NULL, kind VARCHAR NOT NULL,
       action VARCHAR, profile_id VARCHAR NOT NULL, segment_id VARCHAR, payload JSON, frozen BOOLEAN NOT NULL, attempts INTEGER NOT NULL,
       next_at BIGINT NOT NULL, status VARCHAR NOT NULL, error VARCHAR, created_at BIGINT NOT NULL, failed_at BIGINT,
       PRIMARY KEY (destination_id, key))`,
    `CREATE TABLE audience_members (
       workspace_id VARCHAR NOT NULL, destination_id VARCHAR NOT NULL, segment_id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL,
       PRIMARY KEY (destination_id, segment_id, profile_id))`,
    `CREATE TABLE activation_cursors (stream VARCHAR PRIMARY KEY, position BIGINT NOT NULL)`,
    `CREATE TABLE destination_state (destination_id VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR NOT NULL, PRIMARY KEY (destination_id, key))`,
    `CREATE TABLE delivery_stats (
       workspace_id VARCHAR NOT NULL, destination_id VARCHAR NOT NULL, day DATE NOT NULL, outcome VARCHAR NOT NULL, reason VARCHAR NOT NULL,
       count BIGINT NOT NULL, PRIMARY KEY (destination_id, day, outcome, reason))`,
    `CREATE TABLE triggers (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, definition JSON NOT NULL, enabled BOOLEAN NOT NULL, created_at BIGINT NOT NULL,
       PRIMARY KEY (workspace_id, id))`,
  ],
  // 8: journeys. A journey keeps every version of its definition (people finish on theirs);
  // `journey_states` is where each person is, written in the same transaction as the deliveries
  // the step queued and the cursors of what caused it; `journey_stats` counts passes and outcomes
  // per step; `message_log` what each person was sent, for the marketing-pressure caps.
  [
    `CREATE TABLE journeys (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, status VARCHAR NOT NULL, version INTEGER NOT NULL, versions JSON NOT NULL,
       created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, last_run_at BIGINT, PRIMARY KEY (workspace_id, id))`,
    `CREATE TABLE journey_states (
       workspace_id VARCHAR NOT NULL, journey_id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL, version INTEGER NOT NULL, step VARCHAR,
       due_at BIGINT, entered_at BIGINT NOT NULL, outcome VARCHAR, ended_at BIGINT, branch VARCHAR, entries INTEGER NOT NULL,
       PRIMARY KEY (journey_id, profile_id))`,
    `CREATE TABLE journey_stats (
       workspace_id VARCHAR NOT NULL, journey_id VARCHAR NOT NULL, version INTEGER NOT NULL, step VARCHAR NOT NULL, counter VARCHAR NOT NULL,
       count BIGINT NOT NULL, PRIMARY KEY (journey_id, version, step, counter))`,
    // Messages sent per person and channel, for the marketing-pressure caps (kept for the longest cap window).
    `CREATE TABLE message_log (
       workspace_id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL, channel VARCHAR NOT NULL, sent_at BIGINT NOT NULL,
       priority INTEGER NOT NULL, key VARCHAR NOT NULL)`,
  ],
  // External data sources (HTTP JSON pulled on a schedule; not personal data): definitions with
  // their header values sealed and the status of the last pull; `external_values` the latest
  // value of each field per key (keys normalised: trimmed, lower-cased, NFC), replaced in one
  // transaction per successful pull, joined by segment SQL.
  [
    `CREATE TABLE external_sources (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, definition JSON NOT NULL, status JSON NOT NULL,
       created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (workspace_id, id))`,
    `CREATE TABLE external_values (
       workspace_id VARCHAR NOT NULL, source_id VARCHAR NOT NULL, key VARCHAR NOT NULL, field VARCHAR NOT NULL, value JSON,
       fetched_at BIGINT NOT NULL, PRIMARY KEY (workspace_id, source_id, key, field))`,
  ],
  // File imports and inbound webhooks: `import_jobs` is a durable job (the uploaded file's path,
  // its mapping, progress and a capped list of row errors) that resumes after a restart;
  // `import_ledger` holds one keyed digest per imported row and source (no personal data in
  // clear), so re-importing a file adds nothing even after the dedupe window; `hooks` maps any
  // JSON body posted to /v1/hooks/{id} to events of a source (secret stored as a hash).
  [
    `CREATE TABLE import_jobs (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, source_id VARCHAR NOT NULL, spec JSON NOT NULL, file VARCHAR NOT NULL,
       status VARCHAR NOT NULL, progress JSON NOT NULL, errors JSON NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
       PRIMARY KEY (workspace_id, id))`,
    `CREATE TABLE import_ledger (workspace_id VARCHAR NOT NULL, source_id VARCHAR NOT NULL, digest VARCHAR NOT NULL, job_id VARCHAR NOT NULL,
       PRIMARY KEY (workspace_id, source_id, digest))`,
    `CREATE TABLE hooks (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, source_id VARCHAR NOT NULL, secret_hash VARCHAR NOT NULL, mapping JSON NOT NULL,
       created_at BIGINT NOT NULL, PRIMARY KEY (id))`,
  ],
  // Predictive models (src/predict/): definitions; one row per trained version with its model card
  // (aggregates only, no personal data) and the fitted parameters; `model_scores` the latest score,
  // decile and top feature contributions of each scored profile, replaced whole at each scoring run
  // (segment `score` conditions join it; an erasure deletes the person's rows).
  [
    `CREATE TABLE models (
       workspace_id VARCHAR NOT NULL, id VARCHAR NOT NULL, key VARCHAR NOT NULL, definition JSON NOT NULL,
       created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (workspace_id, id))`,
    `CREATE TABLE model_versions (
       workspace_id VARCHAR NOT NULL, model_id VARCHAR NOT NULL, version INTEGER NOT NULL, trained_at BIGINT NOT NULL,
       status VARCHAR NOT NULL, card JSON NOT NULL, artifact JSON NOT NULL, PRIMARY KEY (workspace_id, model_id, version))`,
    `CREATE TABLE model_scores (
       workspace_id VARCHAR NOT NULL, model_id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL, score DOUBLE NOT NULL,
       decile INTEGER NOT NULL, explanation JSON NOT NULL, scored_at BIGINT NOT NULL)`,
  ],
  // Console users, their sessions and API keys (src/auth/). Instance-wide, like `settings`: a user
  // works across workspaces. Passwords are scrypt hashes; sessions and API keys are kept as SHA-256
  // digests of their tokens (the file alone opens no session); deleting a user deletes their sessions.
  [
    `CREATE TABLE users (
       id VARCHAR PRIMARY KEY, email VARCHAR NOT NULL UNIQUE, name VARCHAR NOT NULL, role VARCHAR NOT NULL, locale VARCHAR NOT NULL,
       password_hash VARCHAR NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
    `CREATE TABLE user_sessions (
       token_hash VARCHAR PRIMARY KEY, user_id VARCHAR NOT NULL, created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL,
       expires_at BIGINT NOT NULL)`,
    `CREATE TABLE api_keys (
       id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, role VARCHAR NOT NULL, token_hash VARCHAR NOT NULL UNIQUE,
       created_at BIGINT NOT NULL, created_by VARCHAR NOT NULL)`,
  ],
];
