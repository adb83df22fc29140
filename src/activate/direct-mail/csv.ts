/**
 * The print-ready file of the direct-mail connector: one CSV row per letter, with the postal
 * address taken from the profile's traits as the Segment spec describes them (`name` or
 * `firstName` + `lastName`, and `address: {street, city, state, postalCode, country}`, plus
 * `street2` and `postal_code` as commonly sent) and the message's rendered content fields.
 * Pure: the export API and the connector share it.
 */
import { stringify } from 'csv-stringify/sync';
import type { MessageItem } from '../../protocol/destination.js';

export interface PostalAddress {
  name: string;
  line1: string;
  line2: string;
  postalCode: string;
  city: string;
  region: string;
  country: string;
}

/** Fixed leading columns; content columns follow as `content_<field>`, sorted. */
export const ADDRESS_COLUMNS = ['message_key', 'name', 'address_line1', 'address_line2', 'postal_code', 'city', 'region', 'country'] as const;

/** One printable line: trimmed, inner whitespace (including newlines) collapsed to one space. */
function line(v: unknown): string {
  return typeof v === 'string' ? v.replace(/\s+/g, ' ').trim() : typeof v === 'number' ? String(v) : '';
}

function first(o: Record<string, unknown>, ...keys: string[]): string {
  for (const k of keys) { const v = line(o[k]); if (v !== '') return v; }
  return '';
}

/**
 * The letter's address, or null when it cannot be posted: a street, a city and a country are
 * required (the postal code is not: several countries have none).
 */
export function postalAddress(traits: Record<string, unknown>): PostalAddress | null {
  const a = traits.address;
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return null;
  const addr = a as Record<string, unknown>;
  const line1 = first(addr, 'street', 'line1');
  const city = first(addr, 'city');
  const country = first(addr, 'country');
  if (line1 === '' || city === '' || country === '') return null;
  const name = first(traits, 'name') || [first(traits, 'firstName', 'first_name'), first(traits, 'lastName', 'last_name')].filter((s) => s !== '').join(' ');
  return {
    name, line1, city, country,
    line2: first(addr, 'street2', 'line2'),
    postalCode: first(addr, 'postalCode', 'postal_code', 'zip'),
    region: first(addr, 'state', 'region'),
  };
}

/**
 * Names and addresses are typed by people into forms; a mailing house opening the file in a
 * spreadsheet would run one starting with = + - @ as a formula (CSV injection), so those get a
 * leading apostrophe. Rendered content comes from the workspace's own templates and is left
 * exactly as rendered ("-20%" must print as is).
 */
function noFormula(v: string): string {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

export interface DirectMailFile {
  /** RFC 4180 CSV (CRLF, header row, UTF-8 without BOM); empty when no item has an address. */
  csv: string;
  /** Keys of the items in the file, in row order. */
  keys: string[];
  /** Keys of the items left out for lack of a usable address. */
  skipped: string[];
}

export function directMailCsv(items: readonly MessageItem[]): DirectMailFile {
  const rows: Array<{ item: MessageItem; address: PostalAddress }> = [];
  const skipped: string[] = [];
  for (const item of items) {
    const address = postalAddress(item.traits);
    if (address) rows.push({ item, address }); else skipped.push(item.key);
  }
  if (rows.length === 0) return { csv: '', keys: [], skipped };
  const fields = [...new Set(rows.flatMap((r) => Object.keys(r.item.content)))].sort();
  const columns = [...ADDRESS_COLUMNS, ...fields.map((f) => `content_${f}`)];
  const records = rows.map(({ item, address: a }) => [
    item.key,
    ...[a.name, a.line1, a.line2, a.postalCode, a.city, a.region, a.country].map(noFormula),
    ...fields.map((f) => item.content[f] ?? ''),
  ]);
  const csv = stringify([columns, ...records], { record_delimiter: 'windows' });
  return { csv, keys: rows.map((r) => r.item.key), skipped };
}
