/**
 * Everything the segment compiler and the filter language say that differs between SQL engines.
 * The compilers (filter-sql.ts, compile.ts) write only portable SQL themselves — CTEs, joins,
 * `CASE`, `coalesce`, `count`/`sum`/`min`/`max`, window frames (`ROWS BETWEEN ...`) — and ask the
 * dialect for the rest: placeholders, JSON access, time, structs and "the value at the latest
 * row". DuckDB (duckdb-dialect.ts) is the embedded store; ClickHouse is the planned store for
 * large workspaces, and each method says what its dialect would write.
 *
 * ClickHouse would run the portable part as written — `WITH RECURSIVE` (24.4 and later), the
 * window frames — given `join_use_nulls = 1`, so that a LEFT JOIN without a match reads NULL (the
 * compilers test `IS NOT NULL` and coalesce) rather than the column type's default.
 *
 * Every fragment takes SQL expressions (strings) and returns one. Values from a definition never
 * reach a dialect as text: they go through `SqlParams.bind`, which returns a placeholder.
 */

/** What a compiler binds: every value of a definition, the workspace id, instants. */
export type SqlParam = string | number | bigint | boolean;

export interface SqlDialect {
  /**
   * The placeholder of the `index`-th bound value (1-based). A placeholder may be used more than
   * once in a statement (the workspace id is). DuckDB: `$1`. ClickHouse: a named, typed
   * parameter `{p1:String}` — the type from the JS value (string → String, integer → Int64,
   * other number → Float64, boolean → Bool, bigint → Int64), sent as `param_p1` with the query.
   */
  placeholder(index: number, value: SqlParam): string;

  // --- JSON. `json` is a JSON expression; a missing path gives SQL NULL, a JSON null a JSON null.
  // Type tests may answer NULL for a NULL input: the filter language wraps them in coalesce.

  /**
   * The JSON value at `path` (names of object keys, never array indices) inside `json`, or NULL.
   * DuckDB: `json_extract(json, $n)` with one bound JSONPath. ClickHouse (JSON kept as String):
   * `JSONExtractRaw(json, {p1:String}, {p2:String}, ...)`, one bound key per name — it answers
   * '' for a missing path, so its type tests below must treat '' as missing.
   */
  jsonExtract(json: string, path: readonly string[], params: SqlParams): string;
  /** Present: not missing and not JSON null. ClickHouse: `JSONType(x) NOT IN ('Null')` with '' as missing. */
  jsonIsPresent(x: string): string;
  /** A JSON string. ClickHouse: `JSONType(x) = 'String'`. */
  jsonIsString(x: string): string;
  /** A JSON number (integer or not). ClickHouse: `JSONType(x) IN ('Int64', 'UInt64', 'Double')`. */
  jsonIsNumber(x: string): string;
  /** A JSON boolean. ClickHouse: `JSONType(x) = 'Bool'`. */
  jsonIsBoolean(x: string): string;
  /** A JSON array. ClickHouse: `JSONType(x) = 'Array'`. */
  jsonIsArray(x: string): string;
  /** The text of a JSON string (unquoted). ClickHouse: `JSONExtractString(x)`. */
  jsonString(x: string): string;
  /** A JSON number as a double. ClickHouse: `JSONExtractFloat(x)`. */
  jsonNumber(x: string): string;
  /** A JSON boolean as a boolean. ClickHouse: `JSONExtractBool(x)`. */
  jsonBoolean(x: string): string;
  /**
   * Whether the JSON array `x` has a string element equal to `needle` (a VARCHAR expression).
   * ClickHouse: `has(JSONExtract(x, 'Array(Nullable(String))'), needle)` — which must not turn
   * numbers into strings, so it filters on `JSONExtractArrayRaw` element types first.
   */
  jsonArrayHasString(x: string, needle: string): string;
  /** The JSON text of `x`, as the engine writes it. ClickHouse: `x` itself (JSON kept as String). */
  jsonText(x: string): string;
  /**
   * The JSON text of `x` exactly as JavaScript's `JSON.stringify(JSON.parse(text))` writes it:
   * computed traits key and order values by that text (most_frequent breaks ties on it).
   * ClickHouse would need the same care for its number formatting.
   */
  jsonTextAsJavaScript(x: string): string;
  /** The JSON value written by `text`. ClickHouse: `text` (JSON kept as String). */
  parseJson(text: string): string;
  /** A JSON expression that is absent (SQL NULL). ClickHouse: `CAST(NULL AS Nullable(String))`. */
  readonly nullJson: string;

  // --- Scalars.

  /** A number of the definition, bound, as a double. ClickHouse: `{p1:Float64}`. */
  double(value: number, params: SqlParams): string;
  /** Prefix test on strings. ClickHouse: `startsWith(s, prefix)`. */
  startsWith(s: string, prefix: string): string;
  /** Substring test on strings. ClickHouse: `position(s, needle) > 0`. */
  contains(s: string, needle: string): string;
  /** Milliseconds since the epoch of a timestamp column. ClickHouse: `toUnixTimestamp64Milli(ts)`. */
  epochMs(timestamp: string): string;
  /**
   * The timestamp of a bound number of ms since the epoch, to compare a timestamp column with as
   * it is (its min/max per block then skip whole blocks). ClickHouse: `fromUnixTimestamp64Milli(ms)`.
   */
  timestampOfMs(msParam: string): string;

  /**
   * Great-circle distance in km between two points given in degrees, by the formula of
   * protocol/geo.ts `distanceKm` (the engine's), term for term so both round alike.
   * ClickHouse: the same expression (its `greatCircleDistance` uses another approximation).
   */
  distanceKm(lat1: string, lon1: string, lat2: string, lon2: string): string;
  /**
   * A text normalised as external data keys are (external/external-values.ts `externalKey`):
   * NFC, JavaScript's whitespace trimmed, lower-cased. ClickHouse: `lower(trimBoth(normalizeUTF8NFC(x)))`
   * (its trim takes spaces only: the other whitespace needs a `replaceRegexpAll`).
   */
  normalisedKey(x: string, params: SqlParams): string;

  // --- Aggregates and structs.

  /**
   * The value of `value` at the row where `orderBy` (compared in turn) is the greatest, as an
   * aggregate. DuckDB: `arg_max(value, {'k1': a, 'k2': b})`. ClickHouse: `argMax(value, (a, b))`.
   */
  argMax(value: string, orderBy: readonly string[]): string;
  /** The same at the least `orderBy`. ClickHouse: `argMin(value, (a, b))`. */
  argMin(value: string, orderBy: readonly string[]): string;
  /**
   * A record of named fields that orders by its fields in turn (so `max` of records is the
   * lexicographic greatest). DuckDB: `{'a': x, 'b': y}`. ClickHouse: a named tuple
   * `CAST((x, y), 'Tuple(a Int64, b Int64)')`.
   */
  struct(fields: ReadonlyArray<readonly [name: string, sql: string]>): string;
  /** A field of a record built by `struct`. DuckDB: `s.name`. ClickHouse: `tupleElement(s, 'name')`. */
  field(struct: string, name: string): string;
}

/**
 * The bound values of one statement, in placeholder order.
 *
 * @example
 *   const p = new SqlParams(duckdb);
 *   const sql = `SELECT * FROM events WHERE workspace_id = ${p.bind('ws_1')}`;  // ... = $1
 *   await conn.runAndReadAll(sql, p.values);
 */
export class SqlParams {
  readonly values: SqlParam[] = [];

  constructor(readonly dialect: SqlDialect) {}

  /** Adds a value; returns its placeholder. */
  bind(value: SqlParam): string {
    this.values.push(value);
    return this.dialect.placeholder(this.values.length, value);
  }
}
