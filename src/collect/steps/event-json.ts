/**
 * The log's JSON text of a collected event. The sub-objects an event carries unchanged from the
 * request (`properties`, `traits`, and `context` apart from its `ip`) are copied from the
 * request's text when that is safe (json-spans.ts says why); everything else is serialised.
 * Both ways give the same JSON value — a property test checks it — so no consumer of the log
 * can tell them apart.
 *
 * A copy is refused (and the member serialised) when the member was changed, when the text has
 * a raw tab or line break (the log's framing), a surrogate escape (DuckDB rejects lone ones;
 * see well-formed-json.ts), an escaped key, or a repeated `ip` key.
 *
 * @example
 *   const raw = rawEvents(text, scanBatch(text), parsed.batch)[0];
 *   eventJson(collected, raw); // same value as JSON.stringify(collected), mostly copied
 */
import type { CollectedEvent } from '../../protocol/event.js';
import { memberSpan, type EventSpans, type Span } from './json-spans.js';
import { ESCAPED_SURROGATE, toWellFormedJson } from './well-formed-json.js';

/** An event as it came in: its parsed value, the text it was parsed from and where its members are. */
export interface RawEvent {
  value: Record<string, unknown>;
  text: string;
  spans: EventSpans;
  /** The text has a `\u` escape somewhere, so copies are checked for surrogate escapes. */
  escapes: boolean;
}

/** `\uD800`–`\uDFFF` as an escape: paired or not, such a copy is left to `toWellFormedJson`. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * The raw form of each parsed event whose text can be copied from; null where it cannot (the
 * element is not an object, or has an escaped key). `spans` come from scanning `text`.
 */
export function rawEvents(text: string, spans: ReadonlyArray<EventSpans | null>, values: readonly unknown[]): Array<RawEvent | null> {
  // Once per body: a raw tab or line break anywhere rules copying out (rare: pretty-printed JSON).
  const framing = text.includes('\t') || text.includes('\n') || text.includes('\r');
  if (spans.length !== values.length || framing) return values.map(() => null);
  const escapes = text.includes('\\u');
  return values.map((value, i) => {
    const s = spans[i];
    if (s === null || s === undefined || s.escapedKey || !isObject(value)) return null;
    return { value, text, spans: s, escapes };
  });
}

export function eventJson(e: CollectedEvent, raw: RawEvent | null): string {
  if (raw === null) return toWellFormedJson(e);
  const properties = copied(raw, raw.spans.properties, raw.value.properties, e.properties);
  const traits = copied(raw, raw.spans.traits, raw.value.traits, e.traits);
  const context = copiedContext(raw, e.context);
  if (properties === null && traits === null && context === null) return toWellFormedJson(e);
  const head = headJson(e);
  if (head === null) return toWellFormedJson(e);
  return `${head}"properties":${properties ?? toWellFormedJson(e.properties)},"traits":${traits ?? toWellFormedJson(e.traits)},"context":${context ?? toWellFormedJson(e.context)}}`;
}

type HeadKey = Exclude<keyof CollectedEvent, 'properties' | 'traits' | 'context'>;

/**
 * Every other member of a CollectedEvent (the compiler checks the list is complete) and how it
 * is written: `own` values are made by the collector (event types, ids it issues, ISO times,
 * country codes) and need no escaping; `sent` ones come from the client and are serialised.
 */
const HEAD: Readonly<Record<HeadKey, 'own' | 'sent'>> = {
  type: 'own', messageId: 'sent', workspaceId: 'own', sourceId: 'own', anonymousId: 'sent', userId: 'sent',
  previousId: 'sent', groupId: 'sent', event: 'sent', name: 'sent', category: 'sent',
  originalTimestamp: 'own', timestamp: 'own', sentAt: 'own', receivedAt: 'own', country: 'own',
};
const HEAD_KEYS = Object.keys(HEAD) as HeadKey[];

/** `{"type":…,` up to the copied members; null when a value needs `toWellFormedJson`'s repair. */
function headJson(e: CollectedEvent): string | null {
  let head = '{';
  for (const k of HEAD_KEYS) {
    const v = e[k];
    if (v === undefined) continue;
    if (v === null) head += `"${k}":null,`;
    else head += HEAD[k] === 'own' ? `"${k}":"${v}",` : `"${k}":${JSON.stringify(v)},`;
  }
  return ESCAPED_SURROGATE.test(head) ? null : head;
}

function copied(raw: RawEvent, span: Span | null, sent: unknown, kept: unknown): string | null {
  if (span === null || kept !== sent || !isObject(kept)) return null;
  return checked(raw, raw.text.slice(span[0], span[1]));
}

/** The sent context's text, with the collector's `ip` written in: the one member it changes. */
function copiedContext(raw: RawEvent, context: Record<string, unknown>): string | null {
  const sent = raw.value.context;
  const span = raw.spans.context;
  if (span === null || !isObject(sent)) return null;
  let others = 0;
  let sentIp = false;
  for (const k in sent) {
    if (k === 'ip') sentIp = true;
    else if (context[k] !== sent[k]) return null;
    else others++;
  }
  let kept = 0;
  for (const k in context) if (k !== 'ip') kept++;
  if (kept !== others) return null;

  const [start, end] = span;
  const ip = context.ip;
  if (ip === sent.ip) return checked(raw, raw.text.slice(start, end));
  if (typeof ip !== 'string') return null;
  const ipJson = JSON.stringify(ip);
  if (!sentIp) return checked(raw, others === 0 ? `{"ip":${ipJson}}` : `${raw.text.slice(start, end - 1)},"ip":${ipJson}}`);
  const member = memberSpan(raw.text, start, 'ip');
  // A repeated `ip` would leave the full address in the copy beside the truncated one.
  if (member.span === null || member.escapedKey || member.members !== others + 1) return null;
  return checked(raw, raw.text.slice(start, member.span[0]) + ipJson + raw.text.slice(member.span[1], end));
}

function checked(raw: RawEvent, text: string): string | null {
  return raw.escapes && SURROGATE_ESCAPE.test(text) ? null : text;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
