/**
 * Instance configuration of the Meta Custom Audiences destination, and its defaults (the engine
 * validates a config against the schema but does not fill defaults, so code reads `settings`).
 */
import { Type, type Static } from '@sinclair/typebox';

/** Marketing API version followed (the latest released when this connector was written). */
export const API_VERSION = 'v27.0';
export const API_BASE = 'https://graph.facebook.com';

export const CustomerFileSource = Type.Union([
  Type.Literal('USER_PROVIDED_ONLY'),
  Type.Literal('PARTNER_PROVIDED_ONLY'),
  Type.Literal('BOTH_USER_AND_PARTNER_PROVIDED'),
], { description: 'How the customer information was collected (default USER_PROVIDED_ONLY: directly from your customers).' });

export const MetaConfig = Type.Object({
  adAccountId: Type.String({ pattern: '^[0-9]{1,20}$', description: 'Ad account id, digits only (without the act_ prefix).' }),
  accessToken: Type.String({ minLength: 1, description: 'System user access token with ads_management on the ad account.' }),
  apiVersion: Type.Optional(Type.String({ pattern: '^v[0-9]{2,3}\\.0$', description: `Marketing API version (default ${API_VERSION}).` })),
  apiBase: Type.Optional(Type.String({ pattern: '^https?://\\S+$', maxLength: 2048, description: `Graph API base URL (default ${API_BASE}).` })),
  customerFileSource: Type.Optional(CustomerFileSource),
}, { additionalProperties: false });
export type MetaConfigT = Static<typeof MetaConfig>;

export function settings(c: MetaConfigT): { apiRoot: string; customerFileSource: Static<typeof CustomerFileSource> } {
  const base = (c.apiBase ?? API_BASE).replace(/\/+$/, '');
  return { apiRoot: `${base}/${c.apiVersion ?? API_VERSION}`, customerFileSource: c.customerFileSource ?? 'USER_PROVIDED_ONLY' };
}
