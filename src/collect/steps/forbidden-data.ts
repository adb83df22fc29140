/**
 * Forbidden data is masked at collection, before anything is written (GDPR art. 5(1)(c), data
 * minimisation; card numbers have no business in a CDP). Payment card numbers, and the patterns
 * the operator configures (`collect.forbiddenPatterns`), found in the string values of an event's
 * `properties`, `traits` and `context`, at any depth and in arrays, are replaced by
 * `[masked:<name>]` and counted per name. A card number sent as a JSON number becomes that string
 * too. Only values are scanned, not object keys, nor the event's other members (ids, names).
 *
 * A card number: 13–19 digits, in one run or in groups of at most 6 digits separated by single
 * spaces or dashes, starting with 2–9, passing the Luhn check. Beyond the pattern and the check:
 * - no leading 0 or 1: no payment network issues those (1 is airline UATP cards), while epoch
 *   times in ms, µs and ns (13, 16, 19 digits) start with 1 until 2033 and one in ten would pass
 *   the Luhn check;
 * - not glued to an ASCII letter (`a4111…`, `…1111b`): hex digests (hashed e-mails) and tokens
 *   hold long digit runs, and IBANs (`FR76 3000 …`) are groups after letters;
 * - not after `+`: a telephone number in international form.
 * Card numbers inside longer text are found (`paid with 4111-1111-1111-1111 yesterday`).
 *
 * Almost no event holds anything to mask, so the request's text is probed first
 * (`mayHoldForbidden`): when the text cannot hold a match, no event of the request is walked and
 * copies from the text stay possible. The probe may say yes for nothing (a hex digest, a key that
 * matches a pattern); it never says no for something.
 *
 * @example
 *   const rules = forbiddenRules({ maskCardNumbers: true, forbiddenPatterns: [{ name: 'iban', pattern: '\\bFR\\d{2}(?: ?\\d{4}){5}' }] });
 *   const counts: MaskCounts = {};
 *   maskValue({ note: 'card 4111 1111 1111 1111', n: 4111111111111111 }, rules, counts);
 *   // → { note: 'card [masked:card]', n: '[masked:card]' }; counts → { card: 2 }
 */

export interface ForbiddenPattern {
  name: string;
  /** JavaScript regular expression source; `g` is added. */
  pattern: string;
  /** Any of `i`, `m`, `s`, `u`. */
  flags?: string;
}

/** The collect settings this step reads; absent members take the configuration's defaults. */
export interface ForbiddenSettings {
  maskCardNumbers?: boolean;
  forbiddenPatterns?: readonly ForbiddenPattern[];
}

/** Values masked, per pattern name (`card` for card numbers). */
export type MaskCounts = Record<string, number>;

interface CompiledPattern {
  name: string;
  marker: string;
  /** Global: every match in a value is replaced. */
  all: RegExp;
  /** Non-global (no `lastIndex` state): whether a value holds a match. */
  any: RegExp;
  /**
   * Matches the request text wherever `any` matches a value parsed from it; null when no such
   * probe could be made, and then the text never rules the pattern out.
   */
  probe: RegExp | null;
}

export interface ForbiddenRules {
  readonly cards: boolean;
  readonly patterns: readonly CompiledPattern[];
  /** Nothing to look for: collection skips the step. */
  readonly off: boolean;
}

export const CARD = 'card';

/**
 * What replaces a card number: nothing of it is kept. PCI DSS would allow the first 6 and last 4
 * digits to be shown, but nothing Ensemble does needs any of them: no payment goes through a CDP,
 * a card number in an event is a mistake to find and fix, and the counter plus the marker's place
 * in the event say where it came from. The last 4 digits are what a caller quotes to be trusted
 * ("your card ending 1234"), and with a name and an issuer they narrow down who paid.
 */
export function marker(name: string): string {
  return `[masked:${name}]`;
}
const CARD_MARKER = marker(CARD);

const OFF: ForbiddenRules = { cards: false, patterns: [], off: true };
const CARDS_ONLY: ForbiddenRules = { cards: true, patterns: [], off: false };

/** Per settings object (the main thread passes the same one every time)... */
const bySettings = new WeakMap<object, ForbiddenRules>();
/** ...and per content (each worker task brings its own copy of the settings). */
const byContent = new Map<string, ForbiddenRules>();

/** The compiled rules for some settings; patterns are validated by the configuration already. */
export function forbiddenRules(settings: ForbiddenSettings): ForbiddenRules {
  const cards = settings.maskCardNumbers ?? true;
  const patterns = settings.forbiddenPatterns ?? [];
  if (patterns.length === 0) return cards ? CARDS_ONLY : OFF;
  let rules = bySettings.get(settings);
  if (rules !== undefined) return rules;
  const key = JSON.stringify([cards, patterns]);
  rules = byContent.get(key);
  if (rules === undefined) {
    rules = { cards, patterns: patterns.map(compile), off: false };
    if (byContent.size >= 16) byContent.clear();
    byContent.set(key, rules);
  }
  bySettings.set(settings, rules);
  return rules;
}

function compile(p: ForbiddenPattern): CompiledPattern {
  const flags = p.flags ?? '';
  const probe = probeSource(p.pattern);
  let probeRe: RegExp | null = null;
  if (probe !== null) {
    try {
      probeRe = new RegExp(probe, flags);
    } catch {
      probeRe = null;
    }
  }
  return { name: p.name, marker: marker(p.name), all: new RegExp(p.pattern, `${flags}g`), any: new RegExp(p.pattern, flags), probe: probeRe };
}

/**
 * The pattern without its anchors (`^`, `$`) and lookarounds, which look at what surrounds a
 * match: in the request text a value is surrounded by quotes, not by the start and end of a
 * string. Removing assertions only widens what matches, so the probe finds at least every match.
 * Null when that is not true: backreferences (groups would be renumbered) or a quantified
 * assertion (`(?=a)*`: the quantifier would apply to what precedes it).
 */
export function probeSource(source: string): string | null {
  if (/\\[1-9]|\\k</.test(source)) return null;
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') {
      out += source.slice(i, i + 2);
      i += 2;
    } else if (c === '[') {
      const end = classEnd(source, i);
      if (end < 0) return null;
      out += source.slice(i, end);
      i = end;
    } else if (c === '^' || c === '$') {
      if (isQuantifier(source[i + 1])) return null;
      i++;
    } else if (source.startsWith('(?=', i) || source.startsWith('(?!', i) || source.startsWith('(?<=', i) || source.startsWith('(?<!', i)) {
      const end = groupEnd(source, i);
      if (end < 0 || isQuantifier(source[end])) return null;
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function isQuantifier(c: string | undefined): boolean {
  return c === '*' || c === '+' || c === '?' || c === '{';
}

/** Index just past the `]` closing the class that opens at `start`; -1 if none. */
function classEnd(source: string, start: number): number {
  for (let j = start + 1; j < source.length; j++) {
    if (source[j] === '\\') j++;
    else if (source[j] === ']') return j + 1;
  }
  return -1;
}

/** Index just past the `)` closing the group that opens at `start`; -1 if none. */
function groupEnd(source: string, start: number): number {
  let depth = 0;
  for (let j = start; j < source.length; j++) {
    const c = source[j];
    if (c === '\\') j++;
    else if (c === '[') {
      const end = classEnd(source, j);
      if (end < 0) return -1;
      j = end - 1;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j + 1;
  }
  return -1;
}

// ——— The probe of the request text ———

/** A 13-digit group, or a digit before an exponent (a number written `4.1111e15`). */
const PROBE = /\d(?:[ -]?\d){12}|\d[eE][-+]?\d/g;
/** A digit, a space or a dash written as a `\u` escape, which the probe would not see as such. */
const DIGIT_ESCAPE = /\\u00(?:3\d|2[0dD])/;

/**
 * Whether a value parsed from this JSON text could hold something to mask. `text` is a whole
 * request or a member of one (`{"a":1}`); it must have been accepted by `JSON.parse`.
 *
 * Card numbers: every 13-digit group of the text is checked as a value would be, without the
 * boundary rules; and a number token that parsing may turn into another integer says yes: 17–19
 * digits or 16 starting with 9 (beyond 2^53), a fraction after 13 digits or an exponent.
 * Patterns: each probe runs on the text, with its escapes decoded when it has any.
 *
 * @example
 *   mayHoldForbidden('{"a":"4111111111111111"}', rules); // true
 *   mayHoldForbidden('{"ts":1764496800000}', rules);     // false: starts with 1
 */
export function mayHoldForbidden(text: string, rules: ForbiddenRules): boolean {
  if (rules.off) return false;
  const escaped = text.includes('\\');
  if (rules.cards && ((escaped && DIGIT_ESCAPE.test(text)) || cardsMayBeIn(text))) return true;
  if (rules.patterns.length === 0) return false;
  const plain = escaped ? unescapeAll(text) : text;
  for (const p of rules.patterns) if (p.probe === null || p.probe.test(plain)) return true;
  return false;
}

function cardsMayBeIn(text: string): boolean {
  PROBE.lastIndex = 0;
  for (let m = PROBE.exec(text); m !== null; m = PROBE.exec(text)) {
    const at = m.index;
    if (m[0].length < 13) {
      if (endsNumber(text, at + 2)) return true;
      // The exponent's digits may start a group of their own (`3e-5411…`): scan them again.
      PROBE.lastIndex = at + 2;
      continue;
    }
    const end = groupEnd13(text, at);
    if (numberMayChange(text, at, end) || anyCard(text, at, end)) return true;
    PROBE.lastIndex = end;
  }
  return false;
}

/** Whether the exponent whose sign or first digit is at `i` ends a JSON number token. */
function endsNumber(text: string, i: number): boolean {
  let j = i;
  const sign = text.charCodeAt(j);
  if (sign === 43 || sign === 45) j++;
  while (isDigit(text.charCodeAt(j))) j++;
  const c = text.charCodeAt(j);
  return c === 44 || c === 125 || c === 93 || c === 32 || c === 9 || c === 10 || c === 13 || Number.isNaN(c);
}

/** A block of the group [start, end) that parsing could make a card number the text does not show. */
function numberMayChange(text: string, start: number, end: number): boolean {
  for (let bs = start; bs < end;) {
    const be = digitsEnd(text, bs);
    const len = be - bs;
    if (len >= 17 || (len === 16 && text.charCodeAt(bs) === 57)) return true;
    const next = text.charCodeAt(be);
    if (len >= 13 && (next === 46 || next === 101 || next === 69)) return true;
    bs = be + 1;
  }
  return false;
}

function anyCard(text: string, start: number, end: number): boolean {
  let found = false;
  eachCard(text, start, end, () => {
    found = true;
  });
  return found;
}

/** `\n`, `\"`, `\u00e9`… decoded everywhere in the text (not only in strings: it is a probe). */
function unescapeAll(text: string): string {
  return text.replace(/\\(?:u([0-9a-fA-F]{4})|(.))/g, (_m, hex: string | undefined, c: string | undefined) => {
    if (hex !== undefined) return String.fromCharCode(parseInt(hex, 16));
    return c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c === 'b' ? '\b' : c === 'f' ? '\f' : c ?? '';
  });
}

// ——— Masking ———

/**
 * The value with what is forbidden masked; the same value (same object) when nothing was, so an
 * untouched event can still be copied from the request text. `counts` gets one per masked value.
 */
export function maskValue(value: unknown, rules: ForbiddenRules, counts: MaskCounts): unknown {
  if (typeof value === 'string') return maskString(value, rules, counts);
  if (typeof value === 'number') {
    if (!rules.cards || !isCardNumber(value)) return value;
    bump(counts, CARD);
    return CARD_MARKER;
  }
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const m = maskValue(v, rules, counts);
      if (m !== v) {
        out ??= value.slice();
        out[i] = m;
      }
    }
    return out ?? value;
  }
  return maskObject(value as Record<string, unknown>, rules, counts);
}

function maskObject(o: Record<string, unknown>, rules: ForbiddenRules, counts: MaskCounts): Record<string, unknown> {
  let out: Record<string, unknown> | null = null;
  for (const k of Object.keys(o)) {
    const v = o[k];
    const m = maskValue(v, rules, counts);
    if (m === v) continue;
    out ??= { ...o };
    // A `__proto__` key parsed from JSON is an own property: assigning it would set the prototype.
    Object.defineProperty(out, k, { value: m, writable: true, enumerable: true, configurable: true });
  }
  return out ?? o;
}

/** The members an event's senders fill; everything else is the collector's own. */
export interface MaskableEvent {
  properties: Record<string, unknown>;
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
}

/** The event with its properties, traits and context masked; the same object when nothing was. */
export function maskEvent<E extends MaskableEvent>(event: E, rules: ForbiddenRules, counts: MaskCounts): E {
  if (rules.off) return event;
  const properties = maskObject(event.properties, rules, counts);
  const traits = maskObject(event.traits, rules, counts);
  const context = maskObject(event.context, rules, counts);
  if (properties === event.properties && traits === event.traits && context === event.context) return event;
  return { ...event, properties, traits, context };
}

/** Whether a value the collector wrote itself (the client IP in `context.ip`) matches a pattern. */
export function matchesPattern(value: unknown, rules: ForbiddenRules): boolean {
  if (typeof value !== 'string') return false;
  for (const p of rules.patterns) if (p.any.test(value)) return true;
  return false;
}

function maskString(s: string, rules: ForbiddenRules, counts: MaskCounts): string {
  let out = s;
  // Configured patterns first: an operator's pattern (an IBAN) names the value better than `card`.
  for (const p of rules.patterns) {
    if (!p.any.test(out)) continue;
    out = out.replace(p.all, (match: string) => {
      if (match === '') return match;
      bump(counts, p.name);
      return p.marker;
    });
  }
  return rules.cards && out.length >= 13 ? maskCards(out, counts) : out;
}

const GROUP = /\d(?:[ -]?\d){12}/g;

function maskCards(s: string, counts: MaskCounts): string {
  let out: string | null = null;
  let last = 0;
  GROUP.lastIndex = 0;
  for (let m = GROUP.exec(s); m !== null; m = GROUP.exec(s)) {
    const start = m.index;
    const end = groupEnd13(s, start);
    GROUP.lastIndex = end;
    const before = start === 0 ? NaN : s.charCodeAt(start - 1);
    if (isLetter(before) || before === 43 || isLetter(s.charCodeAt(end))) continue;
    eachCard(s, start, end, (from, to) => {
      out = (out ?? '') + s.slice(last, from) + CARD_MARKER;
      last = to;
      bump(counts, CARD);
    });
  }
  return out === null ? s : out + s.slice(last);
}

/** A JSON number that is a card number; beyond 2^53 its last digits are lost, so any of 16–19 digits. */
function isCardNumber(v: number): boolean {
  const a = Math.abs(v);
  if (!(a >= 1e12 && a < 1e19) || !Number.isInteger(a)) return false;
  const digits = String(a);
  const first = digits.charCodeAt(0);
  if (first < 50) return false;
  return a > Number.MAX_SAFE_INTEGER || luhn(digits);
}

/**
 * The card numbers of the digit group [start, end), left to right: from each block, the longest
 * run of blocks that is a card number (13–19 digits, one block or blocks of at most 6, first
 * digit 2–9, Luhn); `found` gets where it starts and ends.
 */
function eachCard(s: string, start: number, end: number, found: (from: number, to: number) => void): void {
  let a = start;
  while (a < end) {
    let best = -1;
    let digits = 0;
    let widest = 0;
    let blocks = 0;
    const first = s.charCodeAt(a);
    for (let bs = a; ;) {
      const be = digitsEnd(s, bs);
      digits += be - bs;
      widest = Math.max(widest, be - bs);
      blocks++;
      if (digits > 19 || (blocks > 1 && widest > 6)) break;
      if (digits >= 13 && first >= 50 && luhnAt(s, a, be)) best = be;
      if (be >= end) break;
      bs = be + 1;
    }
    if (best >= 0) {
      found(a, best);
      a = best + 1;
    } else {
      a = digitsEnd(s, a) + 1;
    }
  }
}

/** End of the group of digits and single separators that starts at `start`. */
function groupEnd13(s: string, start: number): number {
  let i = start;
  for (;;) {
    i = digitsEnd(s, i);
    const c = s.charCodeAt(i);
    if ((c === 32 || c === 45) && isDigit(s.charCodeAt(i + 1))) i++;
    else return i;
  }
}

function digitsEnd(s: string, i: number): number {
  while (isDigit(s.charCodeAt(i))) i++;
  return i;
}

/**
 * The Luhn check (ISO/IEC 7812-1 annex B): from the right, every second digit is doubled (minus
 * 9 past 9); the sum must end in 0.
 *
 * @example
 *   luhn('4111111111111111'); // true
 *   luhn('4111111111111112'); // false
 */
export function luhn(digits: string): boolean {
  return luhnAt(digits, 0, digits.length);
}

/** Luhn over the digits of s[from, to), separators skipped. */
function luhnAt(s: string, from: number, to: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = to - 1; i >= from; i--) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) continue;
    let d = c - 48;
    if (double && (d *= 2) > 9) d -= 9;
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function bump(counts: MaskCounts, name: string): void {
  counts[name] = (Object.hasOwn(counts, name) ? (counts[name] ?? 0) : 0) + 1;
}
