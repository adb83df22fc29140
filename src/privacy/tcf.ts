/**
 * IAB TCF v2 consent strings, decoded with the IAB Tech Lab's own library (@iabtechlabtcf/core),
 * so Ensemble reads them exactly as the ad ecosystem does. Only version 2 strings count: a v1
 * string, a truncated or garbled one is refused, never read as consent.
 *
 * @example
 *   const r = decodeTcString('CQupuoAQupuoAAKACBENBkFgAPMAAAAAAAqIAAAAAAAA.IAAA');
 *   if (r.ok) r.value.purposeConsents; // → [1, 2, 3, 4, 7, 8]
 */
import { TCString } from '@iabtechlabtcf/core';

export interface TcfConsent {
  /** TCF purposes (1–11) the person consented to. */
  purposeConsents: number[];
  /** TCF purposes allowed on legitimate interest (the person did not object). */
  purposeLegitimateInterests: number[];
  cmpId: number;
  cmpVersion: number;
  policyVersion: number;
  /** Last update of the string by the CMP (day precision, by the TCF spec), in ms. */
  lastUpdated: number | null;
}

export type TcfDecoding = { ok: true; value: TcfConsent } | { ok: false; reason: string };

/** Decoded strings by text: SDKs send the same string with every event of a visit. */
const memo = new Map<string, TcfDecoding>();
const MEMO_MAX = 10_000;

export function decodeTcString(text: string): TcfDecoding {
  const known = memo.get(text);
  if (known) return known;
  const result = decodeOnce(text);
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(text, result);
  return result;
}

function decodeOnce(text: string): TcfDecoding {
  if (text.length === 0 || text.length > 10_000) return { ok: false, reason: 'empty or longer than 10,000 characters' };
  try {
    const m = TCString.decode(text);
    if (m.version !== 2) return { ok: false, reason: `TCF version ${String(m.version)}; only version 2 strings are accepted` };
    const purposeConsents: number[] = [];
    const purposeLegitimateInterests: number[] = [];
    m.purposeConsents.forEach((set, id) => { if (set) purposeConsents.push(id); });
    m.purposeLegitimateInterests.forEach((set, id) => { if (set) purposeLegitimateInterests.push(id); });
    const updated = m.lastUpdated instanceof Date ? m.lastUpdated.getTime() : NaN;
    return {
      ok: true,
      value: {
        purposeConsents, purposeLegitimateInterests, cmpId: Number(m.cmpId), cmpVersion: Number(m.cmpVersion), policyVersion: Number(m.policyVersion),
        lastUpdated: Number.isFinite(updated) ? updated : null,
      },
    };
  } catch (err) {
    // The library throws DecodingError, but also TypeErrors on some garbled input: all mean "not a TC string".
    return { ok: false, reason: err instanceof Error ? err.message.slice(0, 200) : 'undecodable' };
  }
}
