/**
 * Destinations: the extension point of activation. A connector is one folder under
 * `src/activate/` exporting a `DestinationManifest`; a destination is a configured instance of a
 * connector in a workspace. The delivery engine (activate/delivery.ts) owns everything around
 * the call — batching, consent and sensitive-data filtering, retries with backoff, rate limits,
 * dead letters, metrics — so a connector only turns a batch of items into requests and says,
 * per item, what happened.
 *
 * Items never carry more than the connector needs: `identifiers` are already normalised and,
 * where the platform asks for it, hashed by the connector's own `identify` (called by the engine
 * just before `send`, or when a removal must outlive an erasure).
 *
 * @example
 *   export const manifest: DestinationManifest<MyConfig> = {
 *     id: 'my-platform', name: 'My platform', description: 'Audiences on My platform.',
 *     kinds: ['audience'], purpose: 'advertising', advertising: true, identifiers: ['email'],
 *     configSchema: MyConfigSchema, secrets: ['apiKey'], batchSize: 1000,
 *     identify: (ids) => ({ email_sha256: (ids.email ?? []).map(sha256Hex) }),
 *     async send(batch, ctx) {
 *       const res = await ctx.fetch(`${ctx.config.apiBase}/audiences`, { method: 'POST', body: JSON.stringify(...) });
 *       return batch.map(() => outcomeOfResponse(res, ctx.now()));
 *     },
 *   };
 */
import type { TSchema } from '@sinclair/typebox';

/** What a connector accepts: audience membership, forwarded events, or messages to a person. */
export type DeliveryKind = 'audience' | 'event' | 'message';

/** Identifier values by type, e.g. `{ email: ['ana@example.com'], phone: ['+33612345678'] }`. */
export type Identifiers = Readonly<Record<string, readonly string[]>>;

interface ItemBase {
  /** Stable per delivery: a retry sends the same key, so the platform can deduplicate. */
  key: string;
  profileId: string;
  /** Platform-ready identifiers (the connector's `identify` output). */
  identifiers: Record<string, string[]>;
}

/** Add the profile to, or remove it from, the platform audience that mirrors a segment. */
export interface AudienceItem extends ItemBase {
  kind: 'audience';
  action: 'add' | 'remove';
  audience: { segmentId: string; name: string };
}

/** A processed event forwarded (after the destination's field mapping). */
export interface EventItem extends ItemBase {
  kind: 'event';
  event: Record<string, unknown>;
}

/** A message to one person (email, SMS, push, print). */
export interface MessageItem extends ItemBase {
  kind: 'message';
  /** The template's fields (subject, body, ...), already rendered for this person. */
  content: Record<string, string>;
  /** Profile traits, for connectors that render or personalise further. */
  traits: Record<string, unknown>;
  /** Links the engine signed for this message (unsubscribe, open pixel, click redirect). */
  links: MessageLinks;
}

export interface MessageLinks {
  /** RFC 8058 one-click unsubscribe endpoint (POST) and its page (GET). */
  unsubscribe: string;
  /** 1×1 pixel that records `Email Opened`. */
  open: string;
  /** The signed redirect recording `Email Link Clicked` (`SMS Link Clicked` for text messages) for one target URL. */
  click(url: string): string;
  /** Where delivery status callbacks (e.g. SMS) come back as events. */
  status: string;
}

export type DeliveryItem = AudienceItem | EventItem | MessageItem;

/**
 * One per item. `ok`: delivered. `retry`: try again later (`afterMs` honours a Retry-After).
 * `drop`: will never succeed as sent (e.g. a 4xx, an invalid address); counted with its reason.
 * `dead`: failed in a way an operator must look at; kept as a dead letter for replay.
 */
export type DeliveryOutcome =
  | { kind: 'ok'; detail?: string }
  | { kind: 'retry'; reason: string; afterMs?: number }
  | { kind: 'drop'; reason: string }
  | { kind: 'dead'; error: string };

/** A sent message as the SMTP transport reports it. */
export interface SmtpMessage {
  from: string;
  to: string;
  subject: string;
  text?: string;
  html?: string;
  headers?: Record<string, string>;
  messageId?: string;
}

export interface SmtpOptions {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  /** Accept self-signed certificates (test relays only). */
  allowSelfSigned?: boolean;
}

export interface DestinationLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Everything a connector may touch. Tests hand in their own. */
export interface DestinationContext<C> {
  workspaceId: string;
  destinationId: string;
  config: C;
  /** WHATWG fetch with the engine's timeout; the only way to reach the network over HTTP. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** SMTP submission (for mail connectors). */
  smtp(options: SmtpOptions, message: SmtpMessage): Promise<{ messageId: string; response: string }>;
  /** Logs with secrets and personal data stripped: log ids and counts only. */
  log: DestinationLog;
  now(): number;
  /** Small durable key-value state of this destination (e.g. a platform audience id). */
  store: { get(key: string): Promise<string | null>; set(key: string, value: string): Promise<void> };
}

export interface DestinationManifest<C = Record<string, unknown>> {
  /** Connector id, e.g. `google-ads`; the folder name. */
  id: string;
  name: string;
  description: string;
  kinds: readonly DeliveryKind[];
  /** TypeBox schema of an instance's config (validated on create/update). */
  configSchema: TSchema;
  /** Config keys that are secrets: write-only in the API, never logged. */
  secrets: readonly string[];
  /** The purpose a delivery needs the person's consent (or other legal basis) for. */
  purpose: string;
  /** Advertising platforms never receive special-category (sensitive) segments. */
  advertising: boolean;
  /** Ensemble identifier types it reads, e.g. `['email', 'phone']`. */
  identifiers: readonly string[];
  /** Most items per `send` call. */
  batchSize: number;
  /** Default requests per second (an instance may lower it). */
  ratePerSecond?: number;
  /** Normalises (and hashes where the platform asks) the profile's identifiers. Pure. */
  identify(ids: Identifiers, config: C): Record<string, string[]>;
  /** Delivers a batch; resolves with one outcome per item, in order. Never throws for I/O errors. */
  send(batch: readonly DeliveryItem[], ctx: DestinationContext<C>): Promise<DeliveryOutcome[]>;
}
