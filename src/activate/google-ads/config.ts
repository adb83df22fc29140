/**
 * Instance configuration of the Google Ads Customer Match destination, and its defaults (the
 * engine validates a config against the schema but does not fill defaults, so code reads them
 * through `settings`).
 */
import { Type, type Static } from '@sinclair/typebox';

/** Google Ads API version followed (latest active version when this connector was written). */
export const API_VERSION = 'v26';
export const API_BASE = 'https://googleads.googleapis.com';
export const TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** Customer Match lists keep members at most 540 days (Google Ads API, since April 2025). */
export const MAX_LIFE_SPAN_DAYS = 540;

const customerId = (description: string) => Type.String({ pattern: '^[0-9]{10}$', description });
const url = (description: string) => Type.String({ pattern: '^https?://\\S+$', maxLength: 2048, description });

export const GoogleAdsConfig = Type.Object({
  customerId: customerId('Google Ads account that owns the Customer Match lists (ten digits, no dashes).'),
  loginCustomerId: Type.Optional(customerId('Manager account to act through (the login-customer-id header), ten digits.')),
  developerToken: Type.String({ minLength: 1, description: 'Google Ads API developer token.' }),
  accessToken: Type.Optional(Type.String({ minLength: 1, description: 'OAuth access token (short-lived); used only when no refresh token is configured.' })),
  clientId: Type.Optional(Type.String({ minLength: 1, description: 'OAuth client id, for the refresh-token exchange.' })),
  clientSecret: Type.Optional(Type.String({ minLength: 1, description: 'OAuth client secret, for the refresh-token exchange.' })),
  refreshToken: Type.Optional(Type.String({ minLength: 1, description: 'OAuth refresh token (scope https://www.googleapis.com/auth/adwords).' })),
  tokenUrl: Type.Optional(url(`OAuth token endpoint (default ${TOKEN_URL}).`)),
  apiBase: Type.Optional(url(`Google Ads API base URL (default ${API_BASE}).`)),
  apiVersion: Type.Optional(Type.String({ pattern: '^v[0-9]{2,3}$', description: `Google Ads API version (default ${API_VERSION}).` })),
  membershipLifeSpanDays: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIFE_SPAN_DAYS, description: `Days a member stays on a list created by Ensemble (default ${MAX_LIFE_SPAN_DAYS}).` })),
}, { additionalProperties: false });
export type GoogleAdsConfigT = Static<typeof GoogleAdsConfig>;

export interface Settings {
  apiRoot: string;
  tokenUrl: string;
  lifeSpanDays: number;
}

export function settings(c: GoogleAdsConfigT): Settings {
  const base = (c.apiBase ?? API_BASE).replace(/\/+$/, '');
  return { apiRoot: `${base}/${c.apiVersion ?? API_VERSION}`, tokenUrl: c.tokenUrl ?? TOKEN_URL, lifeSpanDays: c.membershipLifeSpanDays ?? MAX_LIFE_SPAN_DAYS };
}
