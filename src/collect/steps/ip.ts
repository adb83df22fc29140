/**
 * The IP step, run at collection time: the country is looked up from the full address, then the
 * address is truncated, so a full IP never reaches the durable log (unless the operator turns
 * truncation off).
 *
 * Addresses are parsed here rather than handed straight to the mmdb reader because the reader is
 * lenient ("1.2.3" resolves to a country) and the bundled whois-derived data has bugs: it answers
 * countries for private ranges such as 192.168.0.0/16 and for documentation prefixes. Strict
 * parsing plus a special-purpose range check keeps those out of the profile.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Reader, type Response } from 'maxmind';

/** Country lookup over the IP database loaded in memory. */
export interface IpLookup {
  /**
   * ISO 3166-1 alpha-2 country (upper-case) of a full address, or null when the address is
   * invalid, private or special-purpose, or not in the database.
   */
  country(ip: string): string | null;
}

/** The CC0 whois/ASN-derived database shipped in the npm package: no account, no run-time download. */
const DATABASE_SPECIFIER = '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb';

/** One reader per file for the whole process: opening reads and parses ~20 MB. */
const opened = new Map<string, Promise<IpLookup>>();

/**
 * Load the IP→country database once and return a lookup over it. Later calls with the same file
 * share the first reader. `databasePath` lets an operator point at a fresher mmdb with the same
 * `country_code` record shape; by default the bundled one is used.
 *
 * @example
 *   const lookup = await openIpLookup();
 *   lookup.country('8.8.8.8');     // 'US'
 *   lookup.country('192.168.1.1'); // null (private)
 */
export async function openIpLookup(databasePath?: string): Promise<IpLookup> {
  const path = databasePath ?? createRequire(import.meta.url).resolve(DATABASE_SPECIFIER);
  let pending = opened.get(path);
  if (pending === undefined) {
    pending = load(path);
    opened.set(path, pending);
    // A failed open (missing file, corrupt data) must not poison later attempts.
    pending.catch(() => opened.delete(path));
  }
  return pending;
}

async function load(path: string): Promise<IpLookup> {
  // No decoder cache: `applyIp` keeps recent answers per address, which also skips the parsing.
  const reader = new Reader<Response>(await readFile(path));
  return {
    country(ip: string): string | null {
      const address = parseIp(ip);
      if (address === null || isSpecialPurpose(address)) return null;
      let record: unknown;
      try {
        record = reader.get(formatIp(address));
      } catch {
        return null;
      }
      return countryOf(record);
    },
  };
}

/** The bundled database stores `{ country_code: 'FR' }`; other shapes are treated as unknown. */
function countryOf(record: unknown): string | null {
  if (typeof record !== 'object' || record === null || !('country_code' in record)) return null;
  const code = record.country_code;
  if (typeof code !== 'string' || !/^[A-Za-z]{2}$/.test(code)) return null;
  const upper = code.toUpperCase();
  // 'ZZ' is the user-assigned "unknown" code some databases emit.
  return upper === 'ZZ' ? null : upper;
}

/**
 * Truncate an address so it no longer identifies a single host: IPv4 keeps 24 bits, IPv6 keeps
 * 48 bits (a site prefix), and IPv4-mapped IPv6 is treated as the IPv4 it carries. Invalid input
 * returns '' so callers can never store a full address by accident.
 *
 * @example
 *   truncateIp('203.0.113.42');                  // '203.0.113.0'
 *   truncateIp('2001:db8:85a3:8d3:1319:8a2e::7'); // '2001:db8:85a3::'
 *   truncateIp('::ffff:1.2.3.4');                // '1.2.3.0'
 *   truncateIp('not an ip');                     // ''
 */
export function truncateIp(ip: string): string {
  const address = parseIp(ip);
  if (address === null) return '';
  if (address.kind === 4) {
    const [a, b, c] = address.octets;
    return formatIp({ kind: 4, octets: [a, b, c, 0] });
  }
  const [g0, g1, g2] = address.groups;
  return formatIp({ kind: 6, groups: [g0, g1, g2, 0, 0, 0, 0, 0] });
}

/**
 * Resolve the event's IP the way Segment does (`context.ip` when it is a string, else the
 * request's address), look its country up from the full address, and return a copy of the
 * context whose `ip` is truncated (or left whole when `opts.truncate` is false). The input is not
 * mutated. When no usable address exists the copy has no `ip` key, so a non-address value sent
 * in `context.ip` is not carried into the log.
 *
 * @example
 *   applyIp({ ip: '90.1.2.3' }, '10.0.0.7', lookup, { truncate: true });
 *   // → { context: { ip: '90.1.2.0' }, country: 'FR' }
 */
export function applyIp(
  context: Record<string, unknown>,
  requestIp: string | undefined,
  lookup: IpLookup,
  opts: { truncate: boolean },
): { context: Record<string, unknown>; country: string | null } {
  const sent = context['ip'];
  const full = (typeof sent === 'string' && sent.trim() !== '' ? sent : requestIp ?? '').trim();
  const { country, truncated } = full === '' ? NO_ADDRESS : factsOf(lookup, full);
  const stored = opts.truncate ? truncated : full;
  if (stored !== '') return { context: { ...context, ip: stored }, country };
  const { ip: _unusable, ...rest } = context;
  return { context: rest, country };
}

interface IpFacts {
  country: string | null;
  truncated: string;
}

const NO_ADDRESS: IpFacts = { country: null, truncated: '' };
/**
 * Recent answers per lookup: parsing, the special-range check, the database walk and the
 * truncation cost ~4 µs per event, and a visitor's events come from one address. The memo is
 * emptied when full; it lives in memory only, like the requests it serves.
 */
const recent = new WeakMap<IpLookup, Map<string, IpFacts>>();
const RECENT_MAX = 20_000;

function factsOf(lookup: IpLookup, full: string): IpFacts {
  let memo = recent.get(lookup);
  if (memo === undefined) {
    memo = new Map();
    recent.set(lookup, memo);
  }
  let facts = memo.get(full);
  if (facts === undefined) {
    if (memo.size >= RECENT_MAX) memo.clear();
    facts = { country: lookup.country(full), truncated: truncateIp(full) };
    memo.set(full, facts);
  }
  return facts;
}

// ---------------------------------------------------------------------------------------------
// Address parsing. Hand-written because node:net only validates; we need the bits to truncate,
// to recognise mapped and special-purpose addresses, and to print the RFC 5952 form.

type Octets = [number, number, number, number];
type Groups = [number, number, number, number, number, number, number, number];
type Address = { kind: 4; octets: Octets } | { kind: 6; groups: Groups };

/** The longest textual IPv6 address (with an embedded IPv4) is 45 characters. */
const MAX_ADDRESS_LENGTH = 45;

/** Parse dotted-quad IPv4 or IPv6 text; IPv4-mapped IPv6 comes back as IPv4. */
function parseIp(text: string): Address | null {
  let s = text.trim();
  // A zone ("fe80::1%eth0") names a local interface; it carries no location and is dropped.
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  if (s.length === 0 || s.length > MAX_ADDRESS_LENGTH) return null;
  if (!s.includes(':')) {
    const octets = parseIpv4(s);
    return octets === null ? null : { kind: 4, octets };
  }
  const groups = parseIpv6(s);
  if (groups === null) return null;
  if (isMapped(groups)) {
    return { kind: 4, octets: [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff] };
  }
  return { kind: 6, groups };
}

function parseIpv4(s: string): Octets | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const part of parts) {
    // Leading zeros are rejected: some stacks read "010" as octal, so its meaning is ambiguous.
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    octets.push(n);
  }
  return octets as Octets;
}

function parseIpv6(s: string): Groups | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const compressed = halves.length === 2;
  const head = parseGroups(halves[0] ?? '', !compressed);
  const tail = compressed ? parseGroups(halves[1] ?? '', true) : [];
  if (head === null || tail === null) return null;
  const present = head.length + tail.length;
  // "::" stands for at least one zero group; without it all eight must be written.
  if (compressed ? present > 7 : present !== 8) return null;
  const zeros = new Array<number>(8 - present).fill(0);
  return [...head, ...zeros, ...tail] as Groups;
}

/** Colon-separated hex groups; the last one may be a dotted IPv4 (two groups) when `last`. */
function parseGroups(s: string, last: boolean): number[] | null {
  if (s === '') return [];
  const parts = s.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (last && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === null) return null;
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

/** ::ffff:a.b.c.d — how dual-stack sockets report IPv4 peers. */
function isMapped(g: Groups): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

/** Dotted quad, or the RFC 5952 canonical IPv6 text (lower-case, longest zero run as "::"). */
function formatIp(address: Address): string {
  if (address.kind === 4) return address.octets.join('.');
  const g = address.groups;
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    // Only runs of two or more are compressed; the first wins a tie.
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (groups: number[]): string => groups.map((n) => n.toString(16)).join(':');
  if (bestStart === -1) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLength))}`;
}

/** [network, prefix length] of IPv4 ranges that never belong to a located end user (RFC 6890). */
const SPECIAL_IPV4: ReadonlyArray<readonly [number, number]> = [
  [ipv4Number([0, 0, 0, 0]), 8], // "this network"
  [ipv4Number([10, 0, 0, 0]), 8], // private
  [ipv4Number([100, 64, 0, 0]), 10], // carrier-grade NAT
  [ipv4Number([127, 0, 0, 0]), 8], // loopback
  [ipv4Number([169, 254, 0, 0]), 16], // link-local
  [ipv4Number([172, 16, 0, 0]), 12], // private
  [ipv4Number([192, 0, 0, 0]), 24], // IETF protocol assignments
  [ipv4Number([192, 0, 2, 0]), 24], // documentation
  [ipv4Number([192, 168, 0, 0]), 16], // private
  [ipv4Number([198, 18, 0, 0]), 15], // benchmarking
  [ipv4Number([198, 51, 100, 0]), 24], // documentation
  [ipv4Number([203, 0, 113, 0]), 24], // documentation
  [ipv4Number([224, 0, 0, 0]), 4], // multicast
  [ipv4Number([240, 0, 0, 0]), 4], // reserved and broadcast
];

function ipv4Number(o: Octets): number {
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

function isSpecialPurpose(address: Address): boolean {
  if (address.kind === 4) {
    const n = ipv4Number(address.octets);
    return SPECIAL_IPV4.some(([network, bits]) => n >>> (32 - bits) === network >>> (32 - bits));
  }
  const [g0, g1] = address.groups;
  // Only 2000::/3 is global unicast; that excludes loopback, ULA, link-local, multicast, NAT64.
  if (g0 < 0x2000 || g0 > 0x3fff) return true;
  if (g0 === 0x2001 && g1 === 0x0db8) return true; // documentation
  if (g0 === 0x2001 && g1 < 0x0200) return true; // 2001::/23 IETF protocol assignments (Teredo, ...)
  return g0 === 0x3fff && g1 < 0x1000; // 3fff::/20 documentation (RFC 9637)
}
