/**
 * The links inside messages, each signed for one person and one message (activate/messages.ts):
 * - `GET /v1/m/u/{token}`: the unsubscribe page (a button: mail scanners that follow links must
 *   not unsubscribe anyone); `POST` the same URL is RFC 8058 one-click (`List-Unsubscribe=One-Click`)
 *   and the page's button: the objection is recorded as the destination's purpose withdrawn;
 * - `GET /v1/m/o/{token}.gif`: the open pixel → `Email Opened`;
 * - `GET /v1/m/c/{token}`: the click redirect → `Email Link Clicked` (`SMS Link Clicked`, `Push Link
 *   Clicked` for links of those channels), then 302 to the target;
 * - `POST /v1/m/s/{token}`: delivery status callbacks (Twilio's form) → `SMS <status>` events.
 * Events go through the collector like any other (durable, deduplicated), attributed to the
 * internal source `messaging`. A link that does not verify records nothing.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import { EnsembleError } from '../../protocol/errors.js';
import { escapeHtml, HTML_CSP } from '../../platform/html.js';
import type { Collector } from '../collector.js';
import type { LinkPayload } from '../../activate/message-links.js';
import { twilioStatusEvent } from '../../activate/twilio-sms/index.js';
import { TRANSPARENT_GIF } from './pixel.js';
import type { Channel } from '../../activate/pressure.js';

/** The source id message events are attributed to. */
export const MESSAGING_SOURCE = 'messaging';

export interface MessageLinkDeps {
  collector: Collector;
  clock: Clock;
  verify(token: string): LinkPayload | null;
  /** How the profile is named in an event (its user id or anonymous id), undefined once erased. */
  who(workspaceId: string, profileId: string): { userId?: string; anonymousId?: string } | undefined;
  /** Records the person's objection to the destination's purpose; answers the purpose's name. */
  unsubscribe(p: LinkPayload): Promise<string>;
  /** A status callback is the platform's own (e.g. X-Twilio-Signature over `url` and the form). */
  genuineStatus(p: LinkPayload, url: string, form: Record<string, string>, headers: Record<string, unknown>): boolean;
  /** The channel of the destination the link was made for (null when not a messaging one, or gone). */
  channel(p: LinkPayload): Channel | null;
  /** This server's public base URL (the callback URL the platform signed starts with it). */
  baseUrl(): string;
}

function page(reply: FastifyReply, title: string, body: string): FastifyReply {
  return reply.code(200).header('content-type', 'text/html; charset=utf-8').header('content-security-policy', HTML_CSP).header('cache-control', 'no-store')
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`);
}

export function registerMessageLinks(app: FastifyInstance, deps: MessageLinkDeps): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const verified = (token: string, kind: LinkPayload['k']): LinkPayload => {
    const p = deps.verify(token);
    if (!p || p.k !== kind) throw new EnsembleError('ENSEMBLE_ERR_LINK_INVALID');
    return p;
  };

  const track = async (p: LinkPayload, event: string, properties: Record<string, unknown>, dedupe: string): Promise<void> => {
    const who = deps.who(p.w, p.p);
    if (!who) return; // erased since the message was sent: nothing about them is recorded
    const messageId = `msg-${createHash('sha256').update(`${p.m}\u0000${event}\u0000${dedupe}`).digest('base64url').slice(0, 32)}`;
    await deps.collector.ingest({
      source: { id: MESSAGING_SOURCE, workspaceId: p.w }, type: null, envelope: {},
      events: [{ type: 'track', event, messageId, ...who, properties: { destinationId: p.d, messageKey: p.m, ...properties } }],
    });
  };

  app.get<{ Params: { token: string } }>('/v1/m/u/:token', { schema: { hide: true } }, async (req, reply) => {
    verified(req.params.token, 'u');
    return page(reply, 'Unsubscribe', `<p>Stop receiving these messages?</p><form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`);
  });

  app.post<{ Params: { token: string } }>('/v1/m/u/:token', { schema: { hide: true } }, async (req, reply) => {
    const p = verified(req.params.token, 'u');
    const purpose = await deps.unsubscribe(p);
    await track(p, 'Unsubscribed', { purpose }, 'unsubscribe');
    return page(reply, 'You are unsubscribed', `<p>You will not receive these messages any more (${escapeHtml(purpose)}).</p>`);
  });

  app.get<{ Params: { token: string } }>('/v1/m/o/:token', { schema: { hide: true } }, async (req, reply) => {
    const token = req.params.token.endsWith('.gif') ? req.params.token.slice(0, -4) : req.params.token;
    const p = verified(token, 'o');
    // One Email Opened per message and day: mail clients reload images.
    await track(p, 'Email Opened', {}, new Date(deps.clock.now()).toISOString().slice(0, 10));
    return reply.code(200).header('content-type', 'image/gif').header('cache-control', 'no-store, max-age=0').send(TRANSPARENT_GIF);
  });

  app.get<{ Params: { token: string } }>('/v1/m/c/:token', { schema: { hide: true } }, async (req, reply) => {
    const p = verified(req.params.token, 'c');
    if (!p.u || !/^https?:\/\//i.test(p.u)) throw new EnsembleError('ENSEMBLE_ERR_LINK_INVALID');
    const channel = deps.channel(p);
    const event = channel === 'sms' ? 'SMS Link Clicked' : channel === 'push' ? 'Push Link Clicked' : 'Email Link Clicked';
    await track(p, event, { url: p.u }, `${p.u}\u0000${Math.floor(deps.clock.now() / 60_000)}`);
    return reply.redirect(p.u, 302);
  });

  app.post<{ Params: { token: string }; Body: Record<string, string> }>('/v1/m/s/:token', { schema: { hide: true } }, async (req, reply) => {
    const p = verified(req.params.token, 's');
    const form = req.body && typeof req.body === 'object' ? req.body : {};
    if (!deps.genuineStatus(p, `${deps.baseUrl()}${req.url}`, form, req.headers)) throw new EnsembleError('ENSEMBLE_ERR_LINK_INVALID', 'The status callback is not signed by the platform.');
    const e = twilioStatusEvent(form);
    if (e) await track(p, e.event, e.properties, `${String(form.MessageStatus ?? '')}`);
    return reply.code(204).send();
  });
}
