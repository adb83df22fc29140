/**
 * The Batch Segment Service's legacy text format: one line per Xandr user id,
 * `UID <SEP1> SEG <SEP2> SEG ...`, each SEG block being the seat's configured fields joined by
 * <SEP3> (here `SEG_ID:EXPIRATION` or `SEG_ID:EXPIRATION:VALUE`). EXPIRATION is in minutes,
 * `0` = the 180-day maximum, `-1` = remove the user from the segment.
 *
 * @example
 *   bssLines([{ uid: '123', segment: 10000, expiration: 1440 }, { uid: '123', segment: 10002, expiration: -1 }], DEFAULT_FORMAT)
 *   // → ['123,10000:1440:0;10002:-1:0']
 */

export interface BssFormat {
  separator1: string;
  separator2: string;
  separator3: string;
  segmentFields: 'SEG_ID,EXPIRATION' | 'SEG_ID,EXPIRATION,VALUE';
}

/** The separators of the documented example and the fields of the documented seat config. */
export const DEFAULT_FORMAT: BssFormat = { separator1: ',', separator2: ';', separator3: ':', segmentFields: 'SEG_ID,EXPIRATION,VALUE' };

/** The documented limit of segments on one line; longer lists are split over several lines. */
export const MAX_SEGMENTS_PER_LINE = 1800;

/** Characters the service refuses as separators (and digits, which would be ambiguous here). */
const DISALLOWED = new Set([...'[](){}$\\/|?*+-0123456789']);

/** Null when the separators are usable: one character each, allowed, distinct (1 and 3 may match). */
export function formatProblem(f: BssFormat): string | null {
  const seps = [f.separator1, f.separator2, f.separator3];
  if (seps.some((s) => s.length !== 1 || DISALLOWED.has(s) || s === '\n' || s === '\r')) return 'separators are single allowed characters';
  if (f.separator1 === f.separator2 || f.separator2 === f.separator3) return 'separator 2 must differ from separators 1 and 3';
  return null;
}

export interface Membership {
  uid: string;
  segment: number;
  /** Minutes; 0 = maximum (180 days); -1 = removal. */
  expiration: number;
}

/**
 * Lines for a batch of memberships, users in first-seen order. When one user appears twice for
 * the same segment, the last operation wins (the order in which the engine queued them).
 */
export function bssLines(memberships: readonly Membership[], f: BssFormat): string[] {
  const byUser = new Map<string, Map<number, number>>();
  for (const m of memberships) {
    const segs = byUser.get(m.uid) ?? new Map<number, number>();
    segs.delete(m.segment); // re-insert so the block order follows the latest operation
    segs.set(m.segment, m.expiration);
    byUser.set(m.uid, segs);
  }
  const block = (seg: number, exp: number) => f.segmentFields === 'SEG_ID,EXPIRATION'
    ? `${seg}${f.separator3}${exp}`
    : `${seg}${f.separator3}${exp}${f.separator3}0`;
  const lines: string[] = [];
  for (const [uid, segs] of byUser) {
    const blocks = [...segs].map(([seg, exp]) => block(seg, exp));
    for (let i = 0; i < blocks.length; i += MAX_SEGMENTS_PER_LINE) {
      lines.push(`${uid}${f.separator1}${blocks.slice(i, i + MAX_SEGMENTS_PER_LINE).join(f.separator2)}`);
    }
  }
  return lines;
}

/** Xandr user ids (`user_id_64`): unsigned 64-bit decimals; `0` means no usable cookie. */
export function isXandrId(id: string): boolean {
  if (!/^[1-9][0-9]{0,19}$/.test(id)) return false;
  return BigInt(id) <= 18_446_744_073_709_551_615n;
}
