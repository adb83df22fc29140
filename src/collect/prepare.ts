/**
 * The stateless, CPU-heavy half of collection: decode the body, check the envelope, then for each
 * event validate/normalise → IP (country, truncation) → consent gate → forbidden data masked
 * (`steps/forbidden-data.ts`) → the log's JSON text (copied from the request where the event is
 * unchanged: `steps/event-json.ts`) → size.
 * It needs no shared state, so it runs on the request's thread for small bodies and on a worker
 * thread (`prepare-pool.ts`) for batches (from 4 cores), which moves that work off the
 * thread that answers HTTP and commits the log. Errors come back as values because class
 * identity does not survive the trip between threads.
 */
import type { CollectedEvent, EventType } from '../protocol/event.js';
import type { ErrorCode } from '../protocol/errors.js';
import { EnsembleError } from '../protocol/errors.js';
import type { Source } from '../protocol/workspace.js';
import type { CollectConfig } from '../platform/config.js';
import { parseBody } from './routes/body.js';
import { keepConsent } from './steps/consent-gate.js';
import { eventJson, rawEvents, type RawEvent } from './steps/event-json.js';
import { forbiddenRules, maskEvent, matchesPattern, mayHoldForbidden, type ForbiddenRules, type MaskCounts } from './steps/forbidden-data.js';
import { applyIp, type IpLookup } from './steps/ip.js';
import { normalise, type Envelope } from './steps/normalise.js';
import { scanBatch, scanEvent } from './steps/json-spans.js';

/** The part of a source collection needs (a plain object: it crosses threads). */
export type SourceRef = Pick<Source, 'id' | 'workspaceId'>;

export interface Rejection {
  index: number;
  code: ErrorCode;
  message: string;
}

export interface PreparedRecord {
  messageId: string;
  /** JSON of the CollectedEvent, as the log stores it. */
  payload: string;
}

export interface Prepared {
  kind: 'prepared';
  source: SourceRef;
  /** Events the request carried (valid or not). */
  received: number;
  records: PreparedRecord[];
  rejected: Rejection[];
  receivedAt: number;
  /**
   * Values masked in the records, per pattern name (`card` for card numbers), for the metric the
   * collector keeps on the main thread. Absent: none.
   */
  masked?: MaskCounts;
}

export interface PrepareFailure {
  kind: 'error';
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/**
 * Collection settings a preparation needs (a plain object: it crosses threads). Without the
 * forbidden-data settings, the configuration's defaults apply (card numbers masked, no patterns).
 */
export type PrepareSettings = Pick<CollectConfig, 'truncateIp' | 'maxEventBytes' | 'maxBatchBytes'>
  & Partial<Pick<CollectConfig, 'maskCardNumbers' | 'forbiddenPatterns'>>;

export interface EventsInput {
  source: SourceRef;
  events: readonly unknown[];
  /** Forced type for single-event routes; null for batches. */
  type: EventType | null;
  envelope: Envelope;
  requestIp: string | undefined;
  receivedAt: number;
  /** The events as they came in, where their text can be copied into the log (same order as `events`). */
  raw?: ReadonlyArray<RawEvent | null>;
  /**
   * The request's JSON text the events were parsed from: when it cannot hold anything to mask,
   * no event is searched for forbidden data. Without it, every event is.
   */
  text?: string;
  /** Whether `text` has a number written with an exponent, when the scan of it found out. */
  exponents?: boolean;
}

/** Prepares already-parsed events (importers, the demo loader, the body path below). */
export function prepareEvents(input: EventsInput, settings: PrepareSettings, ip: IpLookup): Prepared {
  const rejected: Rejection[] = [];
  const records: PreparedRecord[] = [];
  const forbidden = forbiddenRules(settings);
  // One probe of the whole request: in the common case it rules out every event at once.
  const suspect = !forbidden.off && (input.text === undefined || mayHoldForbidden(input.text, forbidden, input.exponents));
  let masked: MaskCounts | undefined;
  for (let index = 0; index < input.events.length; index++) {
    const n = normalise(input.events[index], { type: input.type, envelope: input.envelope, receivedAt: input.receivedAt, source: input.source });
    if (n.kind !== 'ok') {
      if (n.kind === 'drop') rejected.push({ index, code: n.code, message: n.reason });
      continue;
    }
    const { context, country } = applyIp(n.value.context, input.requestIp, ip, { truncate: settings.truncateIp });
    // normalise() built this object for us alone: completing it in place saves a copy per event.
    const event: CollectedEvent = Object.assign(n.value, { context, country });
    const gated = keepConsent(event);
    if (gated.kind !== 'ok') {
      if (gated.kind === 'drop') rejected.push({ index, code: gated.code, message: gated.reason });
      continue;
    }
    let kept = gated.value;
    let raw = input.raw?.[index] ?? null;
    let counts: MaskCounts | null = null;
    // The IP may be the collector's (from the connection, or truncated): not in the request text.
    if (suspect || (forbidden.patterns.length > 0 && matchesPattern(kept.context.ip, forbidden))) {
      counts = {};
      kept = maskEvent(kept, forbidden, counts);
      // Masked members are serialised from the masked value, never copied from the text. An
      // unmasked event is copied only if its members' text holds nothing either: a repeated key
      // (`{"a":"<card>","a":"x"}`) hides a value from the parsed object but not from the copy.
      if (kept !== gated.value || (raw !== null && rawMayHold(raw, forbidden))) raw = null;
    }
    const payload = eventJson(kept, raw);
    // A UTF-8 byte is at most 3 per UTF-16 unit here: most events need no byte count.
    if (payload.length * 3 > settings.maxEventBytes && Buffer.byteLength(payload) > settings.maxEventBytes) {
      rejected.push({ index, code: 'ENSEMBLE_ERR_EVENT_TOO_LARGE', message: `The event is larger than ${settings.maxEventBytes} bytes.` });
      continue;
    }
    records.push({ messageId: kept.messageId, payload });
    if (counts !== null) masked = addCounts(masked, counts);
  }
  const prepared: Prepared = { kind: 'prepared', source: input.source, received: input.events.length, records, rejected, receivedAt: input.receivedAt };
  if (masked !== undefined) prepared.masked = masked;
  return prepared;
}

/** Whether a member the log would copy from the request text holds something to mask there. */
function rawMayHold(raw: RawEvent, rules: ForbiddenRules): boolean {
  const { properties, traits, context } = raw.spans;
  for (const span of [properties, traits, context]) {
    if (span !== null && mayHoldForbidden(raw.text.slice(span[0], span[1]), rules)) return true;
  }
  return false;
}

function addCounts(total: MaskCounts | undefined, counts: MaskCounts): MaskCounts | undefined {
  let out = total;
  for (const [name, n] of Object.entries(counts)) {
    out ??= {};
    out[name] = (Object.hasOwn(out, name) ? (out[name] ?? 0) : 0) + n;
  }
  return out;
}

export interface BodyInput {
  body: Uint8Array;
  contentEncoding: string | undefined;
  /** The route's event type, or 'batch'. */
  route: EventType | 'batch';
  /** The source when the write key came in a header; otherwise it is read from the body. */
  source: SourceRef | null;
  requestIp: string | undefined;
  receivedAt: number;
}

/**
 * Prepares a raw ingest body. `resolve` maps a write key found in the body to its source
 * (only called when `input.source` is null) and throws EnsembleError when it is unknown.
 */
export async function prepareBody(
  input: BodyInput,
  settings: PrepareSettings,
  ip: IpLookup,
  resolve: (writeKey: string | null) => SourceRef,
): Promise<Prepared | PrepareFailure> {
  try {
    const { value: body, text } = await parseBody(Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength), input.contentEncoding, settings.maxBatchBytes);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new EnsembleError('ENSEMBLE_ERR_BATCH_INVALID', 'The body must be a JSON object.');
    const envelope = body as Record<string, unknown>;
    const source = input.source ?? resolve(typeof envelope.writeKey === 'string' && envelope.writeKey ? envelope.writeKey : null);
    if (input.route !== 'batch') {
      const spans = scanEvent(text);
      return prepareEvents({
        source, events: [body], type: input.route, envelope: {}, requestIp: input.requestIp, receivedAt: input.receivedAt,
        raw: spans === null ? undefined : rawEvents(text, [spans], [body]), text, exponents: spans?.exponents,
      }, settings, ip);
    }
    if (!Array.isArray(envelope.batch)) throw new EnsembleError('ENSEMBLE_ERR_BATCH_INVALID');
    const spans = scanBatch(text);
    return prepareEvents({
      source, events: envelope.batch, type: null, requestIp: input.requestIp, receivedAt: input.receivedAt,
      envelope: { sentAt: envelope.sentAt, context: envelope.context, integrations: envelope.integrations },
      raw: spans === null ? undefined : rawEvents(text, spans.events, envelope.batch), text, exponents: spans?.exponents,
    }, settings, ip);
  } catch (err) {
    if (err instanceof EnsembleError) return { kind: 'error', code: err.code, message: err.message, details: err.details };
    throw err;
  }
}
