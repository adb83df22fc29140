/** Real IAB TCF v2 strings for tests, encoded with the IAB's library against a minimal vendor list. */
import { GVL, TCModel, TCString } from '@iabtechlabtcf/core';

const purposes: Record<string, { id: number; name: string; description: string; illustrations: string[] }> = {};
for (let i = 1; i <= 11; i++) purposes[String(i)] = { id: i, name: `Purpose ${i}`, description: '', illustrations: [] };

const gvl = new GVL({
  gvlSpecificationVersion: 3, vendorListVersion: 100, tcfPolicyVersion: 5, lastUpdated: '2026-01-01T00:00:00Z',
  purposes, specialPurposes: {}, features: {}, specialFeatures: {}, vendors: {}, stacks: {}, dataCategories: {},
} as unknown as ConstructorParameters<typeof GVL>[0]);

/** A TC string in which the person consented to exactly these TCF purposes. */
export function tcString(purposeConsents: number[], cmpId = 10): string {
  const m = new TCModel(gvl);
  m.cmpId = cmpId;
  m.cmpVersion = 2;
  m.consentScreen = 1;
  m.publisherCountryCode = 'FR';
  m.purposeConsents.set(purposeConsents);
  return TCString.encode(m);
}
