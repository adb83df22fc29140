/**
 * The identity step of the processor: attaches each event to a profile. A port, so the
 * processor does not depend on how identities are resolved (engine.ts is the implementation).
 */
import type { CollectedEvent } from '../protocol/event.js';
import type { ProfileTx } from '../profiles/profile-tx.js';
import type { Claim } from './engine.js';

export interface Resolution {
  profileId: string;
  /** The identifiers the event linked or pointed with (after blocking and conflict drops). */
  claims: Claim[];
  /** Identifier values refused as blocked or invalid. */
  rejected: number;
}

export interface IdentityResolver {
  /**
   * Returns the live profile for the event, creating, linking or merging as the rules say.
   * `reuseId` lets a rebuild give a profile created by the same event its old id back.
   */
  resolve(event: CollectedEvent, eventTime: number, tx: ProfileTx, seq: bigint, reuseId?: (messageId: string) => string | undefined): Resolution;
}
