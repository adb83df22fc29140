/**
 * Messages for one person, just before they are sent: the template rendered with the profile's
 * traits (Liquid), the signed links of this message (one-click unsubscribe, open pixel, click
 * redirects, status callbacks), and for email the HTML, for SMS the text, instrumented with them. Nothing is
 * rendered ahead of time: a trait corrected or erased meanwhile is what the message shows.
 */
import type { Destination } from '../protocol/activation.js';
import type { DeliveryOutcome, MessageItem, MessageLinks } from '../protocol/destination.js';
import type { DefinitionProblem } from '../protocol/filter.js';
import type { ProfileMemory } from '../profiles/profile-memory.js';
import { traitValues } from '../profiles/traits.js';
import type { KeyRing } from '../privacy/key-ring.js';
import type { DeliveryRow } from '../storage/duckdb/activation-store.js';
import { messageLinks, verifyLink, type LinkPayload } from './message-links.js';
import { renderTemplate, validateTemplate } from './templates.js';
import { instrumentHtml } from './email/instrument.js';
import { instrumentText } from './text-links.js';
import { SMS_MAX_BODY } from './twilio-sms/index.js';
import { channelOf } from './pressure.js';

export interface MessagesDeps {
  memory: ProfileMemory;
  keys: KeyRing;
  baseUrl(): string;
}

export class Messages {
  constructor(private readonly deps: MessagesDeps) {}

  problems(template: Record<string, string>): DefinitionProblem[] {
    return validateTemplate(template).map((p) => ({ path: `/then/template/${p.field}`, code: 'liquid', message: p.message }));
  }

  links(workspaceId: string, destinationId: string, profileId: string, messageKey: string): MessageLinks {
    return messageLinks(this.deps.baseUrl(), this.deps.keys.linkKey(workspaceId), { workspaceId, destinationId, profileId, messageKey });
  }

  testLinks(d: Destination): MessageLinks {
    return this.links(d.workspaceId, d.id, 'prf_test', `${d.id}:test`);
  }

  render(d: Destination, row: DeliveryRow, profileId: string): Pick<MessageItem, 'content' | 'traits' | 'links'> | DeliveryOutcome {
    const template = (row.payload as { template?: Record<string, string> } | undefined)?.template;
    if (!template) return { kind: 'drop', reason: 'no_template' };
    const profile = this.deps.memory.live(profileId);
    if (!profile) return { kind: 'drop', reason: 'profile_erased' };
    const traits = traitValues(profile);
    const links = this.links(d.workspaceId, d.id, profile.id, row.key);
    let content: Record<string, string>;
    try {
      content = renderTemplate(template, { traits, profile: { id: profile.id }, links: { unsubscribe: links.unsubscribe } });
    } catch {
      // A template that parsed when saved but fails on this person's data (a strict filter).
      return { kind: 'drop', reason: 'template_error' };
    }
    if (d.type === 'email' && content.html !== undefined) content = { ...content, html: instrumentHtml(content.html, links) };
    if (channelOf(d.type) === 'sms' && content.body !== undefined) content = { ...content, body: instrumentText(content.body, links, SMS_MAX_BODY) };
    return { content, traits, links };
  }

  /** The payload of a link this server signed for the workspace in it, or null. */
  verify(token: string): LinkPayload | null {
    const w = workspaceOf(token);
    if (w === null) return null;
    return verifyLink(this.deps.keys.linkKey(w), token);
  }
}

/** The (unverified) workspace of a token: the key to verify it with derives from it. */
function workspaceOf(token: string): string | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  try {
    const p = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as { w?: unknown };
    return typeof p.w === 'string' ? p.w : null;
  } catch {
    return null;
  }
}
