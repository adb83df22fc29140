/**
 * Forbidden data is masked at collection, before anything is written (GDPR art. 5(1)(c), data
 * minimisation; card numbers have no business in a CDP). Payment card numbers, and the patterns
 * the operator configures (`collect.forbiddenPatterns`), found in the string values of an event's
 * `properties`, `traits` and `context`, at any depth and in arrays, are replaced by
 * `[masked:<name>]` and counted per name. A card number sent as a JSON number becomes that string
 * too. Only values are scanned, not object keys, nor the event's other members (ids, names),
 * nor the ids declared in `context.externalIds`.
 *
 * A card number: 13–19 digits, in one run or in groups of at most 6 digits separated by single
 * spaces or dashes, starting with 2–9, passing the Luhn check. Beyond the pattern and the check:
 * - no leading 0 or 1: no payment network issues those (1 is airline UATP cards), while epoch
 *   times in ms, µs and ns (13, 16, 19 digits) start with 1 until 2033 and one in ten would pass
 *   the Luhn check;
 * - not glued to an ASCII letter (`a4111…`, `…1111b`): hex digests (hashed e-mails) and tokens
 *   hold long digit runs, and IBANs (`FR76 3000 …`) are groups after letters;
 * - not after `+`: a telephone number in international form;
 * - not part of a decimal number (`48.856614023456789`, `…1111.50`): coordinates and computed
 *   values have long fractions.
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
import { setOwn } from '../../platform/own-property.js';

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
      const end = parenEnd(source, i);
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
function parenEnd(source: string, start: number): number {
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

/** A digit, a space or a dash written as a `\u` escape, which the probe would not see as such. */
const DIGIT_ESCAPE = /\\u00(?:3\d|2[0dD])/;

/**
 * Whether a value parsed from this JSON text could hold something to mask. `text` is a whole
 * request or a member of one (`{"a":1}`); it must have been accepted by `JSON.parse`.
 * `exponents`: whether a number in it is written with an exponent (json-spans.ts notes it while
 * scanning); searched for when unknown.
 *
 * Card numbers: every group of 13 digits or more (with single separators) is checked as a value
 * would be, with the boundary rules only where the text surely shows them; a number token that
 * parsing could turn into an integer the text does not show says yes (an exponent giving an
 * integer of 13 digits or more, a fraction after 13 digits, 17 digits or more, or 16 from 9:
 * beyond 2^53). Patterns: each probe runs on the text, its escapes decoded if it has any.
 *
 * @example
 *   mayHoldForbidden('{"a":"4111111111111111"}', rules); // true
 *   mayHoldForbidden('{"ts":1764496800000}', rules);     // false: it starts with 1
 */
export function mayHoldForbidden(text: string, rules: ForbiddenRules, exponents?: boolean): boolean {
  if (rules.off) return false;
  if (rules.cards) {
    if (exponents ?? exponentIn(text)) return true;
    if (text.includes('\\u') && DIGIT_ESCAPE.test(text)) return true;
    if (longGroupIn(text)) return true;
  }
  if (rules.patterns.length === 0) return false;
  const plain = text.includes('\\') ? unescapeAll(text) : text;
  for (const p of rules.patterns) if (p.probe === null || p.probe.test(plain)) return true;
  return false;
}

/**
 * Runs of 13 characters that are digits, spaces or dashes, found by looking at every 13th
 * character only (the idea of Boyer-Moore's skip): a character outside the set rules out the 13
 * windows that hold it. Each run found is then checked group by group.
 */
function longGroupIn(text: string): boolean {
  const n = text.length;
  let i = 12;
  while (i < n) {
    if (!isRunChar(text.charCodeAt(i))) {
      i += 13;
      continue;
    }
    let k = i - 1;
    const stop = i - 13;
    while (k > stop && isRunChar(text.charCodeAt(k))) k--;
    if (k > stop) {
      i = k + 13;
      continue;
    }
    // [stop + 1, i] is in the set and the character before it is not (or it is the start).
    let end = i + 1;
    while (end < n && isRunChar(text.charCodeAt(end))) end++;
    for (let g = stop + 1; g < end; g++) {
      if (!isDigit(text.charCodeAt(g))) continue;
      const ge = groupEndAt(text, g);
      if (numberMayChange(text, g, ge)) return true;
      // `\uab12` + digits: the escape's last digits joined the group, so its blocks are not the value's.
      if (escapeJoins(text, g)) {
        if (digitsIn(text, g, ge) >= 13) return true;
      } else if (!surelyGlued(text, g, ge) && anyCard(text, g, ge)) return true;
      g = ge;
    }
    i = end + 13;
  }
  return false;
}

/**
 * Whether a value's group at [start, end) is glued to its surroundings (so it is not a card
 * number, see the header), judging from the text. It is sure only with no escape just before the
 * group: `\n4111…` has a letter before the digits in the text but a line break in the value, and
 * the digits of `\u0034…` belong to the escape. What follows the digits is the same in the value.
 * (UUIDs and fractions make most groups of the probe, and theirs are glued.)
 */
function surelyGlued(text: string, start: number, end: number): boolean {
  const before = text.charCodeAt(start - 1);
  const after = text.charCodeAt(end);
  if (isLetter(after) || (after === 46 && isDigit(text.charCodeAt(end + 1)))) return true;
  if ((isLetter(before) || before === 43) && literalAt(text, start - 1)) return true;
  return before === 46 && isDigit(text.charCodeAt(start - 2)) && literalAt(text, start - 2);
}

/** Whether the character at `p` stands for itself in the value: it is not part of an escape. */
function literalAt(text: string, p: number): boolean {
  if (text.charCodeAt(p - 1) === 92) return false;
  for (let q = p - 5; q <= p - 2; q++) if (text.charCodeAt(q) === 92 && text.charCodeAt(q + 1) === 117) return false;
  return true;
}

/** Whether a `\u` escape's hex digits run into the group that starts at `g`. */
function escapeJoins(text: string, g: number): boolean {
  for (let q = g - 5; q <= g - 2; q++) if (text.charCodeAt(q) === 92 && text.charCodeAt(q + 1) === 117) return true;
  return false;
}

function digitsIn(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (isDigit(text.charCodeAt(i))) n++;
  return n;
}

/** A letter or `+` before the group, a letter after it, or a decimal point between it and a digit. */
function glued(s: string, start: number, end: number): boolean {
  const before = s.charCodeAt(start - 1);
  const after = s.charCodeAt(end);
  return isLetter(before) || before === 43 || isLetter(after)
    || (before === 46 && isDigit(s.charCodeAt(start - 2))) || (after === 46 && isDigit(s.charCodeAt(end + 1)));
}

function isRunChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 32 || c === 45;
}

/**
 * A block of the group [start, end) that, as the integer part of a number token, parsing could
 * turn into an integer the text does not show: beyond 2^53, or before a fraction that rounds
 * (`4111111111111110.9999999`). Exponents are `exponents`' business; a block after a `.` is a
 * fraction, not an integer part.
 */
function numberMayChange(text: string, start: number, end: number): boolean {
  for (let bs = start; bs < end;) {
    const be = digitsEnd(text, bs);
    const len = be - bs;
    if (text.charCodeAt(bs - 1) !== 46) {
      if (len >= 17 || (len === 16 && text.charCodeAt(bs) === 57)) return true;
      if (len >= 13 && text.charCodeAt(be) === 46) return true;
    }
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

const EXPONENT = /\d[eE][-+]?\d/g;

/**
 * A number token written with an exponent whose value is an integer of 13 digits or more
 * (`4.111111111111111e15`); not `15E148` in a user agent, nor `5e-324`.
 */
function exponentIn(text: string): boolean {
  EXPONENT.lastIndex = 0;
  for (let m = EXPONENT.exec(text); m !== null; m = EXPONENT.exec(text)) {
    // The exponent's digits may start a group of their own: look at them again.
    EXPONENT.lastIndex = m.index + 2;
    const start = numberStart(text, m.index);
    const end = numberEnd(text, m.index + 2);
    if (start < 0 || end < 0) continue;
    const v = Math.abs(Number(text.slice(start, end)));
    if (v >= 1e12 && Number.isInteger(v)) return true;
  }
  return false;
}

/** Where the number token holding the digit at `i` starts, if it starts where a JSON value may; else -1. */
function numberStart(text: string, i: number): number {
  let j = i;
  for (let c = text.charCodeAt(j); isDigit(c) || c === 46; c = text.charCodeAt(--j));
  if (text.charCodeAt(j) === 45) j--;
  const start = j + 1;
  for (let c = text.charCodeAt(j); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(--j));
  const c = text.charCodeAt(j);
  return j < 0 || c === 58 || c === 44 || c === 91 ? start : -1;
}

/** Where the number token ends whose exponent's sign or first digit is at `i`, if a delimiter follows; else -1. */
function numberEnd(text: string, i: number): number {
  let j = i;
  const sign = text.charCodeAt(j);
  if (sign === 43 || sign === 45) j++;
  while (isDigit(text.charCodeAt(j))) j++;
  const c = text.charCodeAt(j);
  return c === 44 || c === 125 || c === 93 || c === 32 || c === 9 || c === 10 || c === 13 || Number.isNaN(c) ? j : -1;
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
    setOwn(out, k, m);
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
  // Through maskValue: a client may have sent an array where an object belongs.
  const properties = maskValue(event.properties, rules, counts) as E['properties'];
  const traits = maskValue(event.traits, rules, counts) as E['traits'];
  const context = maskContext(event.context, rules, counts) as E['context'];
  if (properties === event.properties && traits === event.traits && context === event.context) return event;
  return { ...event, properties, traits, context };
}

/**
 * The context, but the ids of `context.externalIds` are declared identifiers (a partner's
 * numeric user id is 19 digits and one in ten passes the Luhn check): their `id` is kept.
 */
function maskContext(context: unknown, rules: ForbiddenRules, counts: MaskCounts): unknown {
  if (context === null || typeof context !== 'object' || Array.isArray(context)) return maskValue(context, rules, counts);
  const c = context as Record<string, unknown>;
  if (!Array.isArray(c.externalIds)) return maskValue(c, rules, counts);
  const { externalIds, ...rest } = c;
  const masked = maskValue(rest, rules, counts) as Record<string, unknown>;
  const ids = externalIds.map((x: unknown) => {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) return maskValue(x, rules, counts);
    const { id, ...others } = x as Record<string, unknown>;
    const m = maskValue(others, rules, counts);
    return m === others ? x : { ...(m as Record<string, unknown>), ...(id === undefined ? {} : { id }) };
  });
  if (masked === rest && ids.every((x, i) => x === externalIds[i])) return context;
  return { ...masked, externalIds: ids };
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
    const end = groupEndAt(s, start);
    GROUP.lastIndex = end;
    if (glued(s, start, end)) continue;
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
function groupEndAt(s: string, start: number): number {
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
