/**
 * Digests and normalisations shared by connectors. Each platform publishes its own rules (which
 * email normalisation, phone with or without `+`, hex or base64): a connector composes these
 * helpers as its platform's documentation says, and its README names the version followed.
 */
import { createHash } from 'node:crypto';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export function sha256Base64(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64');
}

/** Trimmed and lower-cased: the common base of every platform's email rule. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Gmail addresses ignore dots and anything after `+` in the local part; some platforms (UID2,
 * Google Ads) ask for that to be removed before hashing so the same inbox matches.
 */
export function canonicalGmail(email: string): string {
  const e = normaliseEmail(email);
  const at = e.lastIndexOf('@');
  if (at < 0) return e;
  const domain = e.slice(at + 1);
  if (domain !== 'gmail.com' && domain !== 'googlemail.com') return e;
  const local = e.slice(0, at).split('+')[0]!.replaceAll('.', '');
  return `${local}@${domain}`;
}

/** E.164 without the leading `+` (digits only), as Meta asks. */
export function phoneDigits(e164: string): string {
  return e164.replace(/[^0-9]/g, '');
}
