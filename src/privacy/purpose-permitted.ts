/**
 * Whether a purpose may serve a profile now — the one rule segments, destinations and
 * personalisation share. A purpose resting on consent needs consent in force; one resting on
 * another legal basis (contract, legitimate interest, legal obligation) serves unless the person
 * objected (denied or withdrew it, art. 21); nothing serves a restricted profile (art. 18).
 *
 * @example
 *   purposePermitted(ledger, settings, ws, profileId, 'advertising')  // false without a grant
 *   purposePermitted(ledger, settings, ws, profileId, 'necessary')    // true unless objected
 */
import type { ConsentLedger } from './consent-ledger.js';
import type { PrivacySettings } from './privacy-settings.js';

export function purposePermitted(ledger: ConsentLedger, settings: PrivacySettings, workspaceId: string, profileId: string, purpose: string): boolean {
  if (ledger.restricted(profileId)) return false;
  const basis = settings.purpose(workspaceId, purpose)?.legalBasis ?? 'consent';
  if (basis === 'consent') return ledger.granted(profileId, purpose);
  const d = ledger.decision(profileId, purpose);
  return d === undefined || d.status === 'granted';
}
