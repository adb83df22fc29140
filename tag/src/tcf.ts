/**
 * Reads an IAB TCF v2.2 CMP on the page (`window.__tcfapi`): each time the CMP has the person's
 * choice (`tcloaded`, `useractioncomplete`), analytics counts as granted when every TCF purpose
 * of `purposes` has consent (by default 1, 8 and 9: the server's default mapping), and the TC
 * string goes with events as `context.consent.tcString` for the server's own reading.
 * Where GDPR does not apply (`gdprApplies: false`) the CMP gives no decision: a standard source
 * then tracks, a strict one waits for `ensemble.consent.set()`.
 *
 * @example
 *   readTcf([1, 8, 9], (granted, tcString) => console.log(granted, tcString), () => console.log('no GDPR')); // true when a CMP is present
 */
interface TcData {
  tcString?: string;
  eventStatus?: string;
  gdprApplies?: boolean;
  purpose?: { consents?: Record<string, boolean> };
}
type TcfApi = (command: string, version: number, callback: (tcData: TcData, success: boolean) => void) => void;

export function readTcf(purposes: number[], decide: (granted: boolean, tcString: string) => void, notApplicable: () => void): boolean {
  const api = (window as unknown as { __tcfapi?: TcfApi }).__tcfapi;
  if (typeof api !== 'function') return false;
  api('addEventListener', 2, (tc, success) => {
    if (!success || !tc) return;
    if (tc.gdprApplies === false) return notApplicable();
    if (typeof tc.tcString !== 'string' || !tc.tcString) return;
    if (tc.eventStatus !== 'tcloaded' && tc.eventStatus !== 'useractioncomplete') return;
    const given = tc.purpose?.consents ?? {};
    decide(purposes.every((p) => given[p] === true), tc.tcString);
  });
  return true;
}
