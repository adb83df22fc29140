/**
 * The DuckDB dialect of the segment compiler and the filter language (the embedded store).
 * JSON columns are DuckDB `JSON`: `json_type` names a value's type (`VARCHAR`, `BIGINT`,
 * `UBIGINT`, `DOUBLE`, `BOOLEAN`, `ARRAY`, `OBJECT`, `NULL`) and is NULL for a missing path.
 */
import type { SqlDialect, SqlParams } from './dialect.js';
import { EARTH_RADIUS_KM } from '../../protocol/geo.js';

/**
 * `['product', 'category']` → `$."product"."category"`: each name quoted (so `$`, spaces, dots or
 * `*` are plain characters) with `"` and `\` escaped, as DuckDB's JSONPath reads them.
 */
export function jsonPath(path: readonly string[]): string {
  return '$' + path.map((s) => `."${s.replace(/["\\]/g, (c) => `\\${c}`)}"`).join('');
}

const NUMERIC_TYPES = `('BIGINT', 'UBIGINT', 'DOUBLE')`;

/**
 * A JSON string literal inside DuckDB's JSON text: a quote, then anything but quotes and
 * backslashes or an escaped character, then a quote. What is between them is not in a string.
 */
const JSON_STRING_OR_OTHER = `'"(?:[^"\\\\]|\\\\.)*"|[^"]+'`;

export const duckdb: SqlDialect = {
  placeholder: (index) => `$${index}`,

  jsonExtract: (json, path, params: SqlParams) => `json_extract(${json}, ${params.bind(jsonPath(path))})`,
  jsonIsPresent: (x) => `json_type(${x}) <> 'NULL'`,
  jsonIsString: (x) => `json_type(${x}) = 'VARCHAR'`,
  jsonIsNumber: (x) => `json_type(${x}) IN ${NUMERIC_TYPES}`,
  jsonIsBoolean: (x) => `json_type(${x}) = 'BOOLEAN'`,
  jsonIsArray: (x) => `json_type(${x}) = 'ARRAY'`,
  jsonString: (x) => `json_extract_string(${x}, '$')`,
  jsonNumber: (x) => `TRY_CAST(${x} AS DOUBLE)`,
  jsonBoolean: (x) => `TRY_CAST(${x} AS BOOLEAN)`,
  jsonArrayHasString: (x, needle) => `list_contains(list_transform(json_extract(${x}, '$[*]'),
              lambda item: CASE WHEN json_type(item) = 'VARCHAR' THEN json_extract_string(item, '$') END), ${needle})`,
  jsonText: (x) => `CAST(${x} AS VARCHAR)`,
  // DuckDB writes numbers as JavaScript does but for the sign of a positive exponent (1e21, not
  // 1e+21): add it outside string literals, where `e` and a digit only meet in an exponent.
  jsonTextAsJavaScript: (x) => `array_to_string(list_transform(regexp_extract_all(CAST(${x} AS VARCHAR), ${JSON_STRING_OR_OTHER}),
        lambda part: CASE WHEN starts_with(part, '"') THEN part ELSE regexp_replace(part, 'e([0-9])', 'e+\\1', 'g') END), '')`,
  parseJson: (text) => `CAST(${text} AS JSON)`,
  nullJson: 'NULL::JSON',

  // The Node client binds an integral number as an integer and rejects one beyond int64 (1e21):
  // that one travels as its text, which the cast reads back exactly.
  double: (value, params) => `CAST(${params.bind(Number.isInteger(value) && Math.abs(value) >= 2 ** 63 ? String(value) : value)} AS DOUBLE)`,
  startsWith: (s, prefix) => `starts_with(${s}, ${prefix})`,
  contains: (s, needle) => `contains(${s}, ${needle})`,
  epochMs: (timestamp) => `epoch_ms(${timestamp})`,
  // Stored timestamps have whole milliseconds, so `ts > make_timestamp(ms * 1000)` ⟺ `epoch_ms(ts) > ms`.
  timestampOfMs: (ms) => `make_timestamp(CAST(${ms} AS BIGINT) * 1000)`,

  distanceKm: (lat1, lon1, lat2, lon2) => {
    const half = (a: string, b: string): string => `sin(((${b}) - (${a})) * ${RAD} / 2)`;
    const h = `${half(lat1, lat2)} * ${half(lat1, lat2)} + cos((${lat1}) * ${RAD}) * cos((${lat2}) * ${RAD}) * ${half(lon1, lon2)} * ${half(lon1, lon2)}`;
    return `(CAST(2 AS DOUBLE) * CAST(${EARTH_RADIUS_KM} AS DOUBLE) * asin(sqrt(least(CAST(1 AS DOUBLE), ${h}))))`;
  },

  normalisedKey: (x, params) => `nfc_normalize(lower(trim(nfc_normalize(${x}), ${params.bind(JS_WHITESPACE)})))`,

  argMax: (value, orderBy) => `arg_max(${value}, ${keyStruct(orderBy)})`,
  argMin: (value, orderBy) => `arg_min(${value}, ${keyStruct(orderBy)})`,
  struct: (fields) => `{${fields.map(([name, sql]) => `'${name}': ${sql}`).join(', ')}}`,
  field: (struct, name) => `${struct}.${name}`,
};

/** Math.PI / 180 written out as JavaScript prints it, so both sides multiply by the same double. */
const RAD = `CAST(${Math.PI / 180} AS DOUBLE)`;

/** What String.prototype.trim removes: ECMAScript WhiteSpace and LineTerminator. */
const JS_WHITESPACE = '\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';

/** A single order key from several: a struct compares its fields in turn. */
function keyStruct(orderBy: readonly string[]): string {
  return orderBy.length === 1 ? (orderBy[0] as string) : `{${orderBy.map((sql, i) => `'k${i + 1}': ${sql}`).join(', ')}}`;
}
