/**
 * JSON text safe for every consumer. `JSON.parse` accepts lone UTF-16 surrogates (`"\ud800"`)
 * and `JSON.stringify` writes them back as escapes, but DuckDB's JSON reader rejects them — one
 * such event would fail its whole group commit and then stall the processor. Lone surrogates in
 * keys and strings become U+FFFD, the Unicode replacement character, at collection.
 *
 * @example
 *   toWellFormedJson({ name: 'a\ud800b' }); // '{"name":"a\uFFFDb"}' (the replacement character, raw)
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** How JSON.stringify writes a lone surrogate; a well-formed pair is written as raw characters. */
export const ESCAPED_SURROGATE = /\\ud[89a-f][0-9a-f]{2}/;

export function toWellFormedJson(value: unknown): string {
  const text = JSON.stringify(value);
  return ESCAPED_SURROGATE.test(text) ? JSON.stringify(repair(value)) : text;
}

function repair(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(LONE_SURROGATE, '\uFFFD');
  if (Array.isArray(value)) return value.map(repair);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(LONE_SURROGATE, '\uFFFD'), repair(v)]));
  }
  return value;
}
