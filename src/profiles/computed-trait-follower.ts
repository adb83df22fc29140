/**
 * Keeps computed traits in step with profiles: each committed batch's merges move state to the
 * survivor, then its events are folded in under their live profile; a split forgets the rebuilt
 * profiles and folds their replayed events back in.
 */
import type { IdentityService } from '../identity/identity-service.js';
import type { ProfileRebuilder } from '../identity/split.js';
import type { CommittedEvent } from '../processor/processor.js';
import type { ComputedTraitEngine, TraitEvent } from './computed-traits.js';
import type { ProfileMemory } from './profile-memory.js';

function traitEvent(c: CommittedEvent): TraitEvent {
  const e = c.event;
  return { type: e.type, event: e.event ?? null, name: e.name ?? null, properties: e.properties, at: c.at, messageId: e.messageId, seq: c.seq, sourceId: e.sourceId };
}

export function followComputedTraits(engine: ComputedTraitEngine, identity: IdentityService, rebuilder: ProfileRebuilder, memory: ProfileMemory): void {
  const live = (id: string) => memory.live(id)?.id ?? id;
  identity.observe({
    committed(merges, events) {
      for (const m of merges) engine.merge(m.workspaceId, m.fromProfile, m.intoProfile);
      for (const c of events) engine.observe(c.event.workspaceId, live(c.profileId), traitEvent(c));
    },
  });
  rebuilder.observe({
    rebuilt(workspaceId, replaced, events) {
      for (const id of replaced) engine.forget(workspaceId, id);
      for (const c of events) engine.replay(workspaceId, live(c.profileId), traitEvent(c));
    },
  });
}
