/** An identity service on an in-memory config store, for tests of the engine without a server. */
import { randomBytes } from 'node:crypto';
import { IdentityService } from '../../src/identity/identity-service.js';
import { KeyRing } from '../../src/privacy/key-ring.js';
import { ProfileMemory } from '../../src/profiles/profile-memory.js';
import type { CollectedEvent } from '../../src/protocol/event.js';
import { memoryConfigStore } from '../../src/storage/memory/config-store.js';

export function testIdentity(memory = new ProfileMemory(), master: Buffer = randomBytes(32)): { identity: IdentityService; memory: ProfileMemory; keys: KeyRing } {
  const keys = new KeyRing(master);
  return { identity: new IdentityService(memoryConfigStore(), keys, memory), memory, keys };
}

let n = 0;
/** A collected event with the fields resolution reads; `over` sets the rest. */
export function event(over: Partial<CollectedEvent> & { workspaceId?: string }): CollectedEvent {
  n++;
  const ts = new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
  return {
    type: 'track', event: 'E', messageId: `m${n}`, workspaceId: 'w', sourceId: 's', anonymousId: null, userId: null,
    properties: {}, traits: {}, context: {}, originalTimestamp: ts, timestamp: ts, sentAt: null, receivedAt: ts, country: null,
    ...over,
  } as CollectedEvent;
}
