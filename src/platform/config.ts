/**
 * The one configuration schema. Parsed once in `main/` (from flags and environment) and handed
 * down in slices; nothing else reads the environment.
 */
import { availableParallelism } from 'node:os';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const ConfigSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  host: Type.String({ default: '127.0.0.1' }),
  /** Take the client IP from X-Forwarded-For (only behind a trusted reverse proxy). */
  trustProxy: Type.Boolean({ default: false }),
  dataPath: Type.String({ default: './data/ensemble.duckdb' }),
  /** If absent, one is generated on first start, stored hashed, and printed once. */
  adminToken: Type.Optional(Type.String({ minLength: 16 })),
  /**
   * A read-only API token (ENSEMBLE_READER_TOKEN): GET routes only, and never personal data in
   * clear (identifiers masked). For dashboards and analysts until users and roles exist.
   */
  readerToken: Type.Optional(Type.String({ minLength: 16 })),
  /**
   * The master key (ENSEMBLE_MASTER_KEY: 32 bytes as hex or base64) from which every workspace's
   * encryption and lookup keys derive. If absent, one is generated into `<data file>.key` (0600).
   */
  masterKey: Type.Optional(Type.String({ minLength: 32 })),
  logLevel: Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('silent')], { default: 'info' }),
  storage: Type.Object({
    /** The durable log: append-only segment files (default, fastest) or a DuckDB table. */
    log: Type.Union([Type.Literal('file'), Type.Literal('duckdb')], { default: 'file' }),
    /** Folder of the log's segment files; default: `<dataPath without extension>-log` beside the data file. */
    logDir: Type.Optional(Type.String()),
    /** DuckDB WAL size that triggers a checkpoint (see storage/duckdb/database.ts for the measurement). */
    checkpointThreshold: Type.String({ pattern: '^[0-9]+(KB|MB|GB)$', default: '256MB' }),
  }, { default: {} }),
  collect: Type.Object({
    /** Truncate IPs (IPv4 /24, IPv6 /48) before anything is stored. */
    truncateIp: Type.Boolean({ default: true }),
    maxEventBytes: Type.Integer({ default: 32 * 1024 }),
    maxBatchBytes: Type.Integer({ default: 500 * 1024 }),
    /** The largest file an import upload may stream to disk (bytes); beyond, 413 and nothing is kept. */
    maxImportBytes: Type.Integer({ minimum: 1, default: 10 * 1024 ** 3 }),
    /** Events waiting for a commit beyond which the collector answers 429. */
    maxPendingEvents: Type.Integer({ minimum: 1, default: 100_000 }),
    /** Unprocessed log events beyond which the collector answers 429 (the processor is far behind). */
    maxLogLag: Type.Integer({ minimum: 1, default: 5_000_000 }),
    /** How long a messageId is remembered for deduplication (seconds). */
    dedupeWindowSeconds: Type.Integer({ minimum: 1, default: 24 * 3600 }),
    maxGroupEvents: Type.Integer({ minimum: 1, default: 10_000 }),
    /**
     * Worker threads that parse and normalise batches (0: all on the main thread). On 2 cores a
     * worker only competes with the processor and DuckDB (measured: no gain), so the default
     * starts using them from 4 cores: cores − 2.
     */
    prepareThreads: Type.Integer({ minimum: 0, maximum: 64, default: availableParallelism() >= 4 ? availableParallelism() - 2 : 0 }),
    /**
     * Payment card numbers (13–19 digits passing the Luhn check) in event values are replaced by
     * `[masked:card]` before anything is stored (collect/steps/forbidden-data.ts).
     */
    maskCardNumbers: Type.Boolean({ default: true }),
    /**
     * More values that must never be stored: every match of `pattern` (a JavaScript regular
     * expression; `g` is added) in a string value of `properties`, `traits` or `context` becomes
     * `[masked:<name>]`, counted under `name` in `ensemble_masked_values_total`.
     */
    forbiddenPatterns: Type.Array(Type.Object({
      name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,39}$' }),
      pattern: Type.String({ minLength: 1, maxLength: 1000 }),
      /** Any of `i`, `m`, `s`, `u`. */
      flags: Type.Optional(Type.String({ pattern: '^[imsu]{0,4}$' })),
    }, { additionalProperties: false }), { maxItems: 50, default: [] }),
  }, { default: {} }),
  processor: Type.Object({
    batchSize: Type.Integer({ minimum: 1, default: 5_000 }),
    /**
     * After a partial batch (caught up), wait this long for events to gather. It bounds how soon an
     * event reaches profiles and segments (target: visible ≤ 100 ms after its ack); a small batch's
     * commit already takes tens of ms, during which the next batch gathers, so a short wait costs
     * few extra transactions (bench/segments: 50 ms gave p99 133 ms from ack to membership).
     */
    idleMs: Type.Integer({ minimum: 1, default: 10 }),
    /**
     * Processed log records are kept this long, then deleted (seconds). Short on purpose: the log
     * holds events as received, personal values in clear, and processed events are in the store.
     */
    logRetentionSeconds: Type.Integer({ minimum: 0, default: 3600 }),
    /**
     * While collection alone keeps the event loop busy (a burst), processing steps back to
     * `burstShare` of the time so the collector accepts what arrives, until the backlog reaches
     * this many events (processor/burst-policy.ts). 0: processing never steps back.
     */
    burstLagBudget: Type.Integer({ minimum: 0, default: 1_000_000 }),
    burstShare: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.1 }),
  }, { default: {} }),
  segments: Type.Object({
    /**
     * Every this many seconds each segment's in-memory members are compared with its SQL result
     * at the same instant (the processor waits meanwhile); the difference is a metric. 0: never.
     */
    reconcileSeconds: Type.Integer({ minimum: 0, default: 900 }),
    /** Membership changes are written to the store (and announced) in groups gathered this long. */
    flushMs: Type.Integer({ minimum: 1, maximum: 10_000, default: 20 }),
  }, { default: {} }),
  /**
   * Security monitoring (privacy/security-monitor.ts): what counts as a security event worth
   * examining as a possible breach (GDPR art. 33). Each is "more than `threshold` within
   * `windowSeconds`", recorded once per window.
   */
  activation: Type.Object({
    /**
     * The public base URL of this server (ENSEMBLE_PUBLIC_URL), for links in messages
     * (unsubscribe, open pixel, click redirect) and status callbacks; default: the listening address.
     */
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://\\S+$' })),
    /** First retry delay; each further attempt doubles it (with jitter) up to `retryMaxMs`. */
    retryBaseMs: Type.Integer({ minimum: 1, default: 1000 }),
    retryMaxMs: Type.Integer({ minimum: 1, default: 3_600_000 }),
    /** A connector's `send` that takes longer is abandoned and its items retried. */
    sendTimeoutMs: Type.Integer({ minimum: 100, default: 30_000 }),
    /**
     * Cookie-sync partners by name: the partner's user-sync URL with `{callback}` where Ensemble's
     * return URL goes, the macro the partner replaces with its user id, and the identifier type
     * the id is stored as (default `<name>_id`).
     */
    syncPartners: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{0,30}$' }), Type.Object({
      url: Type.String({ pattern: '^https?://\\S+$' }),
      macro: Type.String({ minLength: 1, maxLength: 40, default: '$UID' }),
      type: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{0,40}$' })),
    }), { default: {} }),
  }, { default: {} }),
  /** External data sources (src/external): how their HTTP pulls behave. */
  external: Type.Object({
    /** A fetch (headers and body) that takes longer is abandoned and retried. */
    timeoutMs: Type.Integer({ minimum: 100, maximum: 300_000, default: 10_000 }),
    /** A larger answer is refused (the pull fails, previous values kept). */
    maxBodyBytes: Type.Integer({ minimum: 1024, maximum: 100 * 1024 * 1024, default: 5 * 1024 * 1024 }),
    /** Retries of one fetch after a network error, a timeout, 408, 429 or 5xx (exponential backoff with jitter). */
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 3 }),
    retryBaseMs: Type.Integer({ minimum: 1, default: 1000 }),
    /** Longest wait between retries; a Retry-After asking for more ends the pull and delays the next one. */
    retryMaxMs: Type.Integer({ minimum: 1, default: 60_000 }),
    /** How often the scheduler checks which sources are due. */
    tickMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000 }),
    /** Sources pulled at once, and keys fetched at once within a per-key source. */
    concurrency: Type.Integer({ minimum: 1, maximum: 32, default: 2 }),
    keyConcurrency: Type.Integer({ minimum: 1, maximum: 32, default: 4 }),
  }, { default: {} }),
  /** File imports (src/collect/import): a watched folder whose files are imported once. */
  imports: Type.Object({
    /** `x.csv` + `x.mapping.json` ({source, workspace?, format?, delimiter?, encoding?, mapping}) dropped here are imported, then moved to done/ or failed/ with a report. */
    watchDir: Type.Optional(Type.String({ minLength: 1 })),
    watchIntervalMs: Type.Integer({ minimum: 50, maximum: 3_600_000, default: 5000 }),
  }, { default: {} }),
  security: Type.Object({
    /** Refused API tokens (401), from anyone: a guessing attack or a leaked, revoked token in use. */
    authFailureThreshold: Type.Integer({ minimum: 1, maximum: 100_000, default: 20 }),
    authFailureWindowSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 60 }),
    /** Successful reads of personal data (profiles, lookups, bundles, member lists) by one token in one workspace. */
    exportReadThreshold: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000 }),
    exportWindowSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 600 }),
  }, { default: {} }),
  /** Console users and sessions (src/auth/, docs/users-and-roles.md). */
  auth: Type.Object({
    /** A session ends this long after login, however active. */
    sessionMaxAgeSeconds: Type.Integer({ minimum: 60, maximum: 30 * 86_400, default: 12 * 3600 }),
    /** ... or after this long without a request. */
    sessionIdleSeconds: Type.Integer({ minimum: 60, maximum: 30 * 86_400, default: 30 * 60 }),
    /** Mark the session cookie Secure even when the request came over http (ENSEMBLE_COOKIE_SECURE; behind a TLS proxy). */
    cookieSecure: Type.Boolean({ default: false }),
    /** Failed logins per email and client IP within the window before 429. */
    loginAttempts: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
    loginWindowSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 15 * 60 }),
  }, { default: {} }),
});

export type Config = Static<typeof ConfigSchema>;
export type CollectConfig = Config['collect'];
export type ProcessorConfig = Config['processor'];
export type SegmentsConfig = Config['segments'];
export type SecurityConfig = Config['security'];
export type ExternalConfig = Config['external'];

/** Fills defaults and validates; throws a readable error listing every problem. */
export function parseConfig(input: unknown): Config {
  const withDefaults = Value.Default(ConfigSchema, Value.Clone(input ?? {}));
  const converted = Value.Convert(ConfigSchema, withDefaults);
  const errors = [...Value.Errors(ConfigSchema, converted)].map((e) => `${e.path || '/'} ${e.message}`);
  if (errors.length === 0) errors.push(...forbiddenPatternProblems((converted as Config).collect.forbiddenPatterns));
  if (errors.length > 0) throw new Error(`Invalid configuration: ${errors.join('; ')}`);
  return converted as Config;
}

/** Masking must not fail per event at run time: every pattern is compiled once here. */
function forbiddenPatternProblems(patterns: CollectConfig['forbiddenPatterns']): string[] {
  const problems: string[] = [];
  const names = new Set<string>(['card']);
  patterns.forEach((p, i) => {
    const at = `/collect/forbiddenPatterns/${i}`;
    if (names.has(p.name)) problems.push(`${at}/name "${p.name}" is ${p.name === 'card' ? 'reserved for card numbers' : 'used twice'}`);
    names.add(p.name);
    if (new Set(p.flags ?? '').size !== (p.flags ?? '').length) problems.push(`${at}/flags repeats a flag`);
    let re: RegExp;
    try {
      re = new RegExp(p.pattern, p.flags ?? '');
    } catch (err) {
      problems.push(`${at}/pattern is not a valid regular expression: ${(err as Error).message}`);
      return;
    }
    // It would match between any two characters of every value: almost surely a mistake.
    if (re.test('')) problems.push(`${at}/pattern matches the empty string`);
  });
  return problems;
}
