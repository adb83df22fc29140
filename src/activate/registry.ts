/**
 * The connectors Ensemble ships, by id. Adding a connector is a folder under `activate/` and one
 * line here; everything else (API forms, validation, delivery) reads the manifest.
 */
import type { DestinationManifest } from '../protocol/destination.js';
import { manifest as webhook } from './webhook/index.js';
import { manifest as googleAds } from './google-ads/index.js';
import { manifest as meta } from './meta/index.js';
import { manifest as theTradeDesk } from './the-trade-desk/index.js';
import { manifest as xandr } from './xandr/index.js';
import { manifest as email } from './email/index.js';
import { manifest as twilioSms } from './twilio-sms/index.js';
import { manifest as webPush } from './web-push/index.js';
import { manifest as fcm } from './fcm/index.js';
import { manifest as directMail } from './direct-mail/index.js';

// Each manifest is typed by its own config; the registry hands them out by id, and the engine
// validates an instance's config against `configSchema` before any `send` sees it.
const ALL = [webhook, googleAds, meta, theTradeDesk, xandr, email, twilioSms, webPush, fcm, directMail] as unknown as DestinationManifest[];

export const CONNECTORS: ReadonlyMap<string, DestinationManifest> = new Map(ALL.map((m) => [m.id, m]));

export function connector(id: string): DestinationManifest | undefined {
  return CONNECTORS.get(id);
}

/**
 * Where each platform processes the data it receives, and the transfer basis in force, for the
 * register of processing (GDPR art. 30(1)(d)-(e)); an instance may say otherwise (its own
 * endpoint, a regional account). Connectors sending to the customer's own systems default to the
 * workspace's country being unknown: `XX` until the DPO sets it.
 */
export const RECIPIENT_DEFAULTS: Readonly<Record<string, { country: string; transferSafeguard: string | null }>> = {
  'google-ads': { country: 'US', transferSafeguard: 'EU-US Data Privacy Framework (adequacy decision of 10 July 2023)' },
  meta: { country: 'US', transferSafeguard: 'EU-US Data Privacy Framework (adequacy decision of 10 July 2023)' },
  'the-trade-desk': { country: 'US', transferSafeguard: 'EU-US Data Privacy Framework (adequacy decision of 10 July 2023)' },
  xandr: { country: 'US', transferSafeguard: 'EU-US Data Privacy Framework (adequacy decision of 10 July 2023)' },
  'twilio-sms': { country: 'US', transferSafeguard: 'EU-US Data Privacy Framework (adequacy decision of 10 July 2023)' },
  fcm: { country: 'US', transferSafeguard: 'EU-US Data Privacy Framework (adequacy decision of 10 July 2023)' },
};

export function recipientDefault(connectorId: string): { country: string; transferSafeguard: string | null } {
  return RECIPIENT_DEFAULTS[connectorId] ?? { country: 'XX', transferSafeguard: null };
}
