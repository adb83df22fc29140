/**
 * The identity step of the processor: attaches each event to a profile. It is a port so the full
 * identity engine (configurable identifier types, priorities, limits, unmerge) can replace the
 * simple rules below without touching the processor.
 */
import type { CollectedEvent } from '../protocol/event.js';
import type { ProfileTx } from '../profiles/profile-tx.js';

export interface IdentityResolver {
  /** Returns the live profile id for the event, creating, linking or merging as its rules say. */
  resolve(event: CollectedEvent, eventTime: number, tx: ProfileTx): string;
}
