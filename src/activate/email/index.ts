/**
 * Email over SMTP: one message per person, submitted through the customer's own relay (their
 * mail server, or an ESP's SMTP endpoint) with the engine's `ctx.smtp` (pooled nodemailer).
 *
 * The engine renders the template (templates.ts) and instruments the HTML (`instrumentHtml`:
 * open pixel, click redirects) before an item gets here; the connector adds the headers bulk
 * mail needs — RFC 2369 `List-Unsubscribe` with the signed one-click URL, RFC 8058
 * `List-Unsubscribe-Post`, an RFC 2919 `List-Id`, a Message-ID derived from the item key (a retry carries the same one)
 * and `X-Ensemble-Message` — and maps SMTP replies to outcomes with `smtpFailure` (smtp.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { DeliveryItem, DeliveryOutcome, DestinationContext, DestinationManifest, MessageItem, SmtpMessage, SmtpOptions } from '../../protocol/destination.js';
import { normaliseEmail, sha256Hex } from '../hashing.js';
import { smtpFailure } from '../smtp.js';

export { instrumentHtml, openPixel } from './instrument.js';

/** A bare address: no spaces, brackets, commas or quotes (one recipient, no header injection). */
const ADDRESS = '[^\\s@<>(),;:"\\[\\]\\\\]+@[^\\s@<>(),;:"\\[\\]\\\\]+';
const ADDRESS_RE = new RegExp(`^${ADDRESS}$`);

export const EmailConfig = Type.Object({
  host: Type.String({ minLength: 1, maxLength: 255, description: 'SMTP relay host name.' }),
  port: Type.Integer({ minimum: 1, maximum: 65535, description: 'Submission port: 587 (STARTTLS) or 465 (implicit TLS).' }),
  secure: Type.Boolean({ description: 'TLS from the first byte (port 465). When false, STARTTLS is used if the relay offers it.' }),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 320, description: 'SMTP AUTH user name (AUTH PLAIN or LOGIN).' })),
  password: Type.Optional(Type.String({ maxLength: 1024, description: 'SMTP AUTH password (a secret).' })),
  from: Type.String({
    maxLength: 320,
    pattern: `^(?:${ADDRESS}|(?:"[^"\\r\\n]*"|[^"<>\\r\\n,;]*)\\s*<${ADDRESS}>)$`,
    description: 'Sender: `news@example.com` or `Example News <news@example.com>`.',
  }),
  replyTo: Type.Optional(Type.String({ maxLength: 320, pattern: `^${ADDRESS}$`, description: 'Reply-To address.' })),
  unsubscribeMailto: Type.Optional(Type.String({ maxLength: 320, pattern: `^${ADDRESS}$`, description: 'A mailbox that processes unsubscribe requests, added to List-Unsubscribe after the HTTPS URL.' })),
  allowSelfSigned: Type.Optional(Type.Boolean({ description: 'Accept a self-signed relay certificate (test relays only).' })),
}, { additionalProperties: false });
export type EmailConfigT = Static<typeof EmailConfig>;

/** Messages in flight at once: the size of the SMTP pool. */
const CONCURRENCY = 5;

/** The domain of the sender's address (Message-IDs are made under it, RFC 5322 §3.6.4). */
export function senderDomain(from: string): string {
  const m = /<([^<>]+)>\s*$/.exec(from);
  const address = m ? m[1]! : from.trim();
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** A stable Message-ID for an item: the same on every retry of the same delivery. */
export function messageIdOf(workspaceId: string, destinationId: string, itemKey: string, domain: string): string {
  return `<${sha256Hex(`${workspaceId}/${destinationId}/${itemKey}`).slice(0, 32)}@${domain}>`;
}

/** RFC 2919 List-Id: one list per destination, named under the sender's domain. */
export function listId(workspaceId: string, destinationId: string, domain: string): string {
  const atom = (v: string) => v.replace(/[^A-Za-z0-9_-]/g, '-');
  return `<${atom(destinationId)}.${atom(workspaceId)}.${domain}>`;
}

/** The RFC 2369 List-Unsubscribe value: the signed HTTPS URL first, then an optional mailto. */
export function listUnsubscribe(url: string, mailto?: string): string {
  return mailto === undefined ? `<${url}>` : `<${url}>, <mailto:${mailto}?subject=unsubscribe>`;
}

function optionsOf(c: EmailConfigT): SmtpOptions {
  return {
    host: c.host,
    port: c.port,
    secure: c.secure,
    ...(c.user !== undefined ? { user: c.user } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(c.allowSelfSigned !== undefined ? { allowSelfSigned: c.allowSelfSigned } : {}),
  };
}

/** The message of an item, or the drop that says why there is none. */
function compose(item: MessageItem, ctx: DestinationContext<EmailConfigT>): SmtpMessage | DeliveryOutcome {
  const to = item.identifiers.email?.[0];
  if (to === undefined) return { kind: 'drop', reason: 'no_identifier' };
  if (!ADDRESS_RE.test(to)) return { kind: 'drop', reason: 'invalid_address' };
  const { subject, html, text } = item.content;
  if (subject === undefined || subject.trim() === '') return { kind: 'drop', reason: 'no_subject' };
  if ((html === undefined || html === '') && (text === undefined || text === '')) return { kind: 'drop', reason: 'no_content' };
  const c = ctx.config;
  const domain = senderDomain(c.from);
  const headers: Record<string, string> = {
    'List-Unsubscribe': listUnsubscribe(item.links.unsubscribe, c.unsubscribeMailto),
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    'List-Id': listId(ctx.workspaceId, ctx.destinationId, domain),
    'X-Ensemble-Message': item.key,
    ...(c.replyTo !== undefined ? { 'Reply-To': c.replyTo } : {}),
  };
  return {
    from: c.from,
    to,
    // A rendered trait could hold a line break: a subject stays one header line.
    subject: subject.replace(/[\r\n]+/g, ' '),
    ...(html !== undefined && html !== '' ? { html } : {}),
    ...(text !== undefined && text !== '' ? { text } : {}),
    headers,
    messageId: messageIdOf(ctx.workspaceId, ctx.destinationId, item.key, domain),
  };
}

export const manifest: DestinationManifest<EmailConfigT> = {
  id: 'email',
  name: 'Email (SMTP)',
  description: 'Marketing email sent through your SMTP relay, with one-click unsubscribe and open/click tracking.',
  kinds: ['message'],
  configSchema: EmailConfig,
  secrets: ['password'],
  purpose: 'email_marketing',
  advertising: false,
  identifiers: ['email'],
  batchSize: 50,
  ratePerSecond: 20,
  // Addresses arrive trimmed and lower-cased; anything that is not one plain address is left out.
  identify: (ids) => ({ email: (ids.email ?? []).map(normaliseEmail).filter((e) => ADDRESS_RE.test(e)) }),
  async send(batch, ctx) {
    const options = optionsOf(ctx.config);
    const outcomes: DeliveryOutcome[] = new Array<DeliveryOutcome>(batch.length);
    // Set when the relay itself fails (down, refusing our login): the rest of the batch gets the
    // same outcome without being tried, rather than hammering a relay that will say the same.
    let halted: DeliveryOutcome | null = null;
    const deliver = async (item: DeliveryItem): Promise<DeliveryOutcome> => {
      if (halted) return halted;
      if (item.kind !== 'message') return { kind: 'drop', reason: 'unsupported_kind' };
      const message = compose(item, ctx);
      if (!('from' in message)) return message;
      try {
        const sent = await ctx.smtp(options, message);
        return { kind: 'ok', detail: sent.messageId };
      } catch (err) {
        const failure = smtpFailure(err);
        if (failure.scope === 'relay') halted = failure.outcome;
        const o = failure.outcome;
        ctx.log.warn({ destinationId: ctx.destinationId, key: item.key, outcome: o.kind, reason: o.kind === 'dead' ? o.error : o.kind === 'ok' ? '' : o.reason }, 'email not sent');
        return o;
      }
    };
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const i = next++;
        outcomes[i] = await deliver(batch[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, batch.length) }, worker));
    const sent = outcomes.filter((o) => o.kind === 'ok').length;
    ctx.log.info({ destinationId: ctx.destinationId, items: batch.length, sent, failed: batch.length - sent }, 'email batch sent');
    return outcomes;
  },
};
