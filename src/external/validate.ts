/**
 * What an external source definition must mean, beyond its JSON shape: an http(s) URL whose
 * `{key}` placeholder (path or query only) goes with an explicit list of keys, valid JSON
 * pointers, where the items and their keys are. Every problem is reported at once, each with a
 * JSON pointer into the definition and a stable code, so a form can show them all.
 *
 * @example
 *   definitionProblems({ id: 'weather', url: 'ftp://x', everySeconds: 60, mapping: { fields: {} }, ... })
 *   // [{ path: '/url', code: 'url_scheme', ... }, { path: '/mapping/fields', code: 'fields_empty', ... }]
 */
import { EXTERNAL_FIELD_NAME, EXTERNAL_SOURCE_ID, MAX_FIELDS, type ExternalMappingT } from '../protocol/external.js';
import { formatPointer, parsePointer } from './json-pointer.js';
import { externalKey } from './external-values.js';

export interface DefinitionProblem {
  path: string;
  code: string;
  message: string;
}

export interface DefinitionToCheck {
  id: string;
  url: string;
  keys?: readonly string[] | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  mapping: ExternalMappingT;
}

export const KEY_PLACEHOLDER = '{key}';
/** Headers the HTTP client sets itself, or that would change what is fetched. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect', 'te', 'trailer', 'keep-alive', 'proxy-authorization', 'proxy-connection']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const MAX_HEADERS = 20;

export function definitionProblems(d: DefinitionToCheck): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const add = (path: string, code: string, message: string) => { problems.push({ path, code, message }); };

  if (!new RegExp(EXTERNAL_SOURCE_ID).test(d.id)) add('/id', 'id_invalid', 'An id is a lower-case letter then up to 63 lower-case letters, digits or underscores (e.g. "weather").');

  const perKey = d.url.includes(KEY_PLACEHOLDER);
  checkUrl(d.url, add);
  if (perKey && (d.keys === undefined || d.keys.length === 0)) add('/keys', 'keys_missing', 'The URL holds {key}: list the keys to pull it for (e.g. ["Paris", "Lyon"]).');
  if (!perKey && d.keys !== undefined) add('/keys', 'keys_without_placeholder', 'Keys are only used with a URL holding {key}; leave them out for a URL that returns a list.');
  const seen = new Map<string, number>();
  d.keys?.forEach((k, i) => {
    const n = externalKey(k);
    if (n === '') add(`/keys/${i}`, 'key_empty', 'A key cannot be empty.');
    else if (seen.has(n)) add(`/keys/${i}`, 'key_duplicate', `"${k}" is the same key as /keys/${seen.get(n)} (keys are compared trimmed and lower-cased).`);
    else seen.set(n, i);
  });

  const headers = Object.entries(d.headers ?? {});
  if (headers.length > MAX_HEADERS) add('/headers', 'headers_too_many', `At most ${MAX_HEADERS} headers.`);
  const headerNames = new Set<string>();
  for (const [name, value] of headers) {
    const at = `/headers${formatPointer([name])}`;
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) add(at, 'header_name', 'A header name is a token of letters, digits and !#$%&\'*+.^_`|~- .');
    else if (RESERVED_HEADERS.has(lower)) add(at, 'header_reserved', `"${name}" is set by the HTTP client; it cannot be configured.`);
    else if (headerNames.has(lower)) add(at, 'header_duplicate', `"${name}" is given twice (header names ignore case).`);
    headerNames.add(lower);
    if (/[\r\n\0]/.test(value)) add(at, 'header_value', 'A header value cannot hold line breaks or NUL.');
  }

  checkMapping(d.mapping, perKey, add);
  return problems;
}

function checkUrl(url: string, add: (path: string, code: string, message: string) => void): void {
  let parsed: URL;
  try {
    // The placeholder is replaced by a harmless word to read the rest of the URL.
    parsed = new URL(url.split(KEY_PLACEHOLDER).join('k'));
  } catch {
    add('/url', 'url_invalid', 'The URL is not a valid absolute URL.');
    return;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') { add('/url', 'url_scheme', 'Only http and https URLs can be pulled.'); return; }
  if (parsed.username !== '' || parsed.password !== '') add('/url', 'url_credentials', 'Put credentials in a header (sealed at rest), not in the URL.');
  if (parsed.hash !== '') add('/url', 'url_fragment', 'A URL fragment is never sent to the server: leave it out.');
  const authority = url.replace(/^[a-z]+:\/\//i, '').split(/[/?#]/)[0] ?? '';
  if (authority.includes(KEY_PLACEHOLDER)) add('/url', 'key_in_host', '{key} may appear in the path or the query only: the host stays the configured one.');
}

function checkMapping(m: ExternalMappingT, perKey: boolean, add: (path: string, code: string, message: string) => void): void {
  const pointer = (path: string, value: string | undefined): boolean => {
    if (value === undefined) return false;
    if (parsePointer(value) === null) { add(path, 'pointer_invalid', `"${value}" is not a JSON pointer (RFC 6901): "" or "/name/0/…", with ~0 for ~ and ~1 for /.`); return false; }
    return true;
  };
  pointer('/mapping/items', m.items);
  pointer('/mapping/key', m.key);
  if (!perKey && m.items === undefined) add('/mapping/items', 'items_missing', 'The URL returns a list: give the JSON pointer to the array of items ("" when the body is the array).');
  if (m.items !== undefined && m.key === undefined) add('/mapping/key', 'key_missing', 'Items come from a list: give the JSON pointer to each item\'s key (e.g. "/city").');
  if (perKey && m.items === undefined && m.key !== undefined) add('/mapping/key', 'key_without_items', 'The whole body is one item, keyed by the {key} it was pulled for: leave the key pointer out, or give items.');
  if (m.key !== undefined && parsePointer(m.key)?.length === 0) add('/mapping/key', 'key_whole_item', 'An item\'s key must be inside the item, not the item itself.');

  const fields = Object.entries(m.fields);
  if (fields.length === 0) add('/mapping/fields', 'fields_empty', 'Name at least one field to keep, e.g. { "temperature": "/main/temp" }.');
  if (fields.length > MAX_FIELDS) add('/mapping/fields', 'fields_too_many', `At most ${MAX_FIELDS} fields.`);
  const nameRe = new RegExp(EXTERNAL_FIELD_NAME);
  for (const [name, p] of fields) {
    const at = `/mapping/fields${formatPointer([name])}`;
    if (!nameRe.test(name)) add(at, 'field_name', 'A field name is a letter or _ then up to 63 letters, digits or underscores.');
    pointer(at, p);
  }
}
