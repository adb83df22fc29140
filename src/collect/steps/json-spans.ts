/**
 * Where an ingest body's events, and a few of their members, sit in the JSON text they were
 * parsed from. Collection copies an event's untouched sub-objects (`properties`, `traits`,
 * `context`) into the log exactly as they arrived instead of re-serialising them:
 * `JSON.stringify` of a ~1 KB event costs ~4 µs, more than the whole per-event budget of a
 * collector taking 100 k events/s on one core.
 *
 * The text must already have been accepted by `JSON.parse`: the scanner only finds boundaries,
 * it does not validate. It walks the structure once, jumping over strings with `indexOf`.
 *
 * @example
 *   const text = '{"batch":[{"type":"track","properties":{"a":1}}]}';
 *   const spans = scanBatch(text);
 *   const e = spans?.events[0];
 *   text.slice(e.properties[0], e.properties[1]); // '{"a":1}'
 */

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;
const LOWER_E = 101;
const UPPER_E = 69;

/** [start, end) of a value in the text; null when the member is absent. */
export type Span = readonly [number, number];

/** The members of one event object the log copies verbatim. */
export interface EventSpans {
  properties: Span | null;
  traits: Span | null;
  context: Span | null;
  /** Members counted with duplicates: differs from `Object.keys` when a key repeats. */
  members: number;
  /** A key was written with an escape (`"propert\u0069es"`), so a member may be missed. */
  escapedKey: boolean;
}

export interface BatchSpans {
  /** One entry per element of `batch`; null for an element that is not an object. */
  events: Array<EventSpans | null>;
  /**
   * Some number in the body is written with an exponent and is an integer of 13 digits or more
   * (`4.111111111111111e15`): see `exponents` below.
   */
  exponents: boolean;
}

/**
 * Set by `skipValue` when it passes such a number. Forbidden-data masking (forbidden-data.ts)
 * must find card numbers sent as numbers whatever their notation, and every number of a body
 * passes here anyway; the scans are synchronous, so one module variable carries it out.
 */
let exponents = false;

/** The spans of a batch body's events (`{"batch":[…], …}`), or null when it has no `batch` array. */
export function scanBatch(text: string): BatchSpans | null {
  const i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== LBRACE) return null;
  exponents = false;
  let events: Array<EventSpans | null> | null = null;
  eachMember(text, i, (keyStart, keyEnd, valueStart) => {
    if (!keyIs(text, keyStart, keyEnd, 'batch')) return skipValue(text, valueStart);
    // A repeated key: JSON.parse keeps the last one, and so does this.
    if (text.charCodeAt(valueStart) !== LBRACKET) {
      events = null;
      return skipValue(text, valueStart);
    }
    events = [];
    return scanElements(text, valueStart, events);
  });
  return events === null ? null : { events, exponents };
}

/**
 * The spans of a single-event body (the whole text is the event object), or null; `exponents`
 * as in `BatchSpans`.
 */
export function scanEvent(text: string): (EventSpans & { exponents: boolean }) | null {
  const i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== LBRACE) return null;
  exponents = false;
  return { ...scanEventAt(text, i).spans, exponents };
}

/**
 * The value span of `key` in the object at `start` (the last one if it repeats), with the
 * object's member count and whether a key was written with an escape.
 */
export function memberSpan(text: string, start: number, key: string): { span: Span | null; members: number; escapedKey: boolean } {
  const out: { span: Span | null; members: number; escapedKey: boolean } = { span: null, members: 0, escapedKey: false };
  eachMember(text, start, (keyStart, keyEnd, valueStart) => {
    const valueEnd = skipValue(text, valueStart);
    if (hasBackslash(text, keyStart + 1, keyEnd - 1)) out.escapedKey = true;
    if (keyIs(text, keyStart, keyEnd, key)) out.span = [valueStart, valueEnd];
    out.members++;
    return valueEnd;
  });
  return out;
}

/**
 * Walks the members of the object whose `{` is at `start`: `visit` gets the key's quotes and
 * where the value starts, and returns where the value ends (it may scan it on the way).
 * Returns the index just past the closing `}`.
 */
function eachMember(text: string, start: number, visit: (keyStart: number, keyEnd: number, valueStart: number) => number): number {
  let i = skipSpace(text, start + 1);
  if (text.charCodeAt(i) === RBRACE) return i + 1;
  for (;;) {
    const keyEnd = skipString(text, i);
    i = skipSpace(text, visit(i, keyEnd, skipSpace(text, skipSpace(text, keyEnd) + 1)));
    if (text.charCodeAt(i) !== COMMA) return i + 1;
    i = skipSpace(text, i + 1);
  }
}

function scanElements(text: string, start: number, out: Array<EventSpans | null>): number {
  let i = skipSpace(text, start + 1);
  if (text.charCodeAt(i) === RBRACKET) return i + 1;
  for (;;) {
    if (text.charCodeAt(i) === LBRACE) {
      const scanned = scanEventAt(text, i);
      out.push(scanned.spans);
      i = scanned.end;
    } else {
      out.push(null);
      i = skipValue(text, i);
    }
    i = skipSpace(text, i);
    if (text.charCodeAt(i) !== COMMA) return i + 1;
    i = skipSpace(text, i + 1);
  }
}

function scanEventAt(text: string, start: number): { spans: EventSpans; end: number } {
  const spans: EventSpans = { properties: null, traits: null, context: null, members: 0, escapedKey: false };
  const end = eachMember(text, start, (keyStart, keyEnd, valueStart) => {
    const valueEnd = skipValue(text, valueStart);
    if (hasBackslash(text, keyStart + 1, keyEnd - 1)) spans.escapedKey = true;
    const length = keyEnd - keyStart - 2;
    if (length === 10 && keyIs(text, keyStart, keyEnd, 'properties')) spans.properties = [valueStart, valueEnd];
    else if (length === 6 && keyIs(text, keyStart, keyEnd, 'traits')) spans.traits = [valueStart, valueEnd];
    else if (length === 7 && keyIs(text, keyStart, keyEnd, 'context')) spans.context = [valueStart, valueEnd];
    spans.members++;
    return valueEnd;
  });
  return { spans, end };
}

function keyIs(text: string, quoteStart: number, end: number, key: string): boolean {
  return end - quoteStart - 2 === key.length && text.startsWith(key, quoteStart + 1);
}

function hasBackslash(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === BACKSLASH) return true;
  return false;
}

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return i;
    i++;
  }
}

/** `i` is at an opening quote; returns the index just past the closing one. */
function skipString(text: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) throw new Error('unterminated JSON string');
    let b = q - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    // An even number of backslashes before the quote: it closes the string.
    if ((q - 1 - b) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return skipString(text, i);
  if (c === LBRACE || c === LBRACKET) {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === QUOTE) j = skipString(text, j) - 1;
      else if (d === LBRACE || d === LBRACKET) depth++;
      else if ((d === RBRACE || d === RBRACKET) && --depth === 0) return j + 1;
      // Outside strings, an `e` after a digit is an exponent (`true` and `false` have theirs after letters).
      else if ((d === LOWER_E || d === UPPER_E) && isDigit(text.charCodeAt(j - 1)) && !exponents) exponents = largeInteger(text, j);
    }
    throw new Error('unterminated JSON value');
  }
  // A number or a literal: it ends at the next delimiter.
  let j = i;
  for (;;) {
    const d = text.charCodeAt(j);
    if (Number.isNaN(d) || d === COMMA || d === RBRACE || d === RBRACKET || d === COLON || d === 32 || d === 10 || d === 13 || d === 9) return j;
    if ((d === LOWER_E || d === UPPER_E) && isDigit(text.charCodeAt(j - 1)) && !exponents) exponents = largeInteger(text, j);
    j++;
  }
}

/** Whether the number token around the exponent at `e` is an integer of 13 digits or more (rare: parsed). */
function largeInteger(text: string, e: number): boolean {
  let start = e;
  for (let c = text.charCodeAt(start - 1); isDigit(c) || c === 46 || c === 45; c = text.charCodeAt(--start - 1));
  let end = e + 1;
  for (let c = text.charCodeAt(end); isDigit(c) || c === 43 || c === 45; c = text.charCodeAt(++end));
  const v = Math.abs(Number(text.slice(start, end)));
  return v >= 1e12 && Number.isInteger(v);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
