/**
 * The key hierarchy in memory: per-workspace keys derived from the master key, and one data key
 * (DEK) per profile, kept wrapped by its workspace's KEK. Destroying a profile's wrapped DEK
 * (crypto-shredding) leaves every copy of its sealed values, backups included, unreadable; such
 * values then read as absent (`decrypt` → null), like data that was never there.
 *
 * Memory: there can be millions of profiles, so each keeps only its wrapped DEK (a ~83-character
 * string) and unwrapped DEKs live in a bounded LRU; a cache miss costs one AES-GCM open.
 *
 * A new profile's key is "pending" until the caller's transaction commits: usable at once by
 * the same batch, registered by `load` after the commit, dropped by `discardPending` if the
 * transaction failed, so memory never holds a key the store does not.
 *
 *   const ring = new KeyRing(master);
 *   const wrapped = ring.createProfileKey('ws', 'prof_1');     // persist with the profile
 *   const sealed = ring.encrypt('ws', 'prof_1', 'ada@example.com', 'email');
 *   ring.load('ws', 'prof_1', wrapped);                        // after the commit
 *   ring.decrypt('ws', 'prof_1', sealed, 'email');             // 'ada@example.com'
 */
import { deriveKey, lookupHash, newDataKey, open, seal } from '../platform/crypto.js';

interface WorkspaceKeys {
  kek: Buffer;
  lookup: Buffer;
  /** Suppression lists and pseudonyms in the audit log: keys of their own, so their hashes never equal a lookup hash. */
  suppress: Buffer;
  pseudonym: Buffer;
}

interface PendingKey {
  workspaceId: string;
  profileId: string;
  wrapped: string;
  dek: Buffer;
}

export class KeyRing {
  private readonly workspaces = new Map<string, WorkspaceKeys>();
  private readonly wrapped = new Map<string, string>();
  private readonly pending = new Map<string, PendingKey>();
  /** Unwrapped DEKs, least recently used first (a Map iterates in insertion order). */
  private readonly cache = new Map<string, Buffer>();
  private readonly cacheSize: number;

  constructor(private readonly master: Buffer, opts: { cacheSize?: number } = {}) {
    if (master.length !== 32) throw new Error('the master key must be 32 bytes');
    this.cacheSize = Math.max(0, Math.floor(opts.cacheSize ?? 10_000));
  }

  /** Keys loaded (committed); pending keys are not counted. */
  get size(): number {
    return this.wrapped.size;
  }

  /** Unwrapped DEKs currently held in memory (at most the cache size). */
  get cachedKeys(): number {
    return this.cache.size;
  }

  lookupHash(workspaceId: string, type: string, normalisedValue: string): string {
    return lookupHash(this.workspace(workspaceId).lookup, type, normalisedValue);
  }

  /** The keyed hash an erased identifier is suppressed under (privacy/suppressions.ts). */
  suppressionHash(workspaceId: string, type: string, normalisedValue: string): string {
    return lookupHash(this.workspace(workspaceId).suppress, type, normalisedValue);
  }

  /**
   * A stable pseudonym for an id that must appear in records outliving an erasure (the
   * hash-chained audit log cannot be edited): without the key, it cannot be linked back.
   */
  pseudonym(workspaceId: string, kind: string, id: string): string {
    return `${kind}~${lookupHash(this.workspace(workspaceId).pseudonym, kind, id).slice(0, 32)}`;
  }

  /** Seals a configuration secret (a destination's API token) under the workspace's secrets key. */
  sealSecret(workspaceId: string, plaintext: string, aad: string): string {
    return seal(deriveKey(this.master, 'secrets', workspaceId), plaintext, aad);
  }

  openSecret(workspaceId: string, token: string, aad: string): string {
    return open(deriveKey(this.master, 'secrets', workspaceId), token, aad).toString('utf8');
  }

  /** The key signing a workspace's message links (unsubscribe, open, click). */
  linkKey(workspaceId: string): Buffer {
    return deriveKey(this.master, 'links', workspaceId);
  }

  /**
   * A new DEK for a profile, wrapped for the caller to persist with the profile. Creating a
   * second key for a profile that has one is refused: values sealed under the first would be lost.
   */
  createProfileKey(workspaceId: string, profileId: string): string {
    const id = mapKey(workspaceId, profileId);
    if (this.wrapped.has(id) || this.pending.has(id)) throw new Error('this profile already has a data key');
    const dek = newDataKey();
    const wrapped = seal(this.workspace(workspaceId).kek, dek, wrapAad(workspaceId, profileId));
    this.pending.set(id, { workspaceId, profileId, wrapped, dek });
    return wrapped;
  }

  /** Keys created and not yet loaded: what the caller's transaction must persist. */
  pendingKeys(): Array<{ workspaceId: string; profileId: string; wrapped: string }> {
    return [...this.pending.values()].map(({ workspaceId, profileId, wrapped }) => ({ workspaceId, profileId, wrapped }));
  }

  /** The caller's transaction persisted every pending key: they become ordinary loaded keys. */
  loadPending(): void {
    for (const p of [...this.pending.values()]) this.load(p.workspaceId, p.profileId, p.wrapped);
  }

  /** Registers a persisted wrapped key: at start-up, or for a pending key once its commit succeeded. */
  load(workspaceId: string, profileId: string, wrapped: string): void {
    const id = mapKey(workspaceId, profileId);
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.wrapped.get(id) !== wrapped) this.cache.delete(id);
    this.wrapped.set(id, wrapped);
    if (p && p.wrapped === wrapped) this.remember(id, p.dek);
  }

  /** Forgets every key created since the last loads: the transaction that held them failed. */
  discardPending(): void {
    this.pending.clear();
  }

  /** True for a loaded key and for a pending one (so a batch never creates two keys for a profile). */
  has(workspaceId: string, profileId: string): boolean {
    const id = mapKey(workspaceId, profileId);
    return this.wrapped.has(id) || this.pending.has(id);
  }

  /**
   * Seals a value with the profile's DEK; `aad` names what the value is (type, hash...). A profile
   * gets its key the first time it has something to seal (a pending key, see pendingKeys): most
   * profiles are anonymous visitors who never need one.
   */
  encrypt(workspaceId: string, profileId: string, plaintext: string, aad: string): string {
    if (!this.has(workspaceId, profileId)) this.createProfileKey(workspaceId, profileId);
    const dek = this.dek(workspaceId, profileId);
    if (!dek) throw new Error('this profile has no data key');
    return seal(dek, plaintext, aad);
  }

  /**
   * The clear value, or null when the profile's key was destroyed or never existed. A token that
   * does not open under an existing key (tampered, copied from elsewhere) throws.
   */
  decrypt(workspaceId: string, profileId: string, token: string, aad: string): string | null {
    const dek = this.dek(workspaceId, profileId);
    if (!dek) return null;
    return open(dek, token, aad).toString('utf8');
  }

  /** Crypto-shredding: forgets the key here; the caller deletes the stored wrapped key. */
  destroy(workspaceId: string, profileId: string): void {
    const id = mapKey(workspaceId, profileId);
    this.wrapped.delete(id);
    this.pending.delete(id);
    this.cache.delete(id);
  }

  private dek(workspaceId: string, profileId: string): Buffer | undefined {
    const id = mapKey(workspaceId, profileId);
    const p = this.pending.get(id);
    if (p) return p.dek;
    const cached = this.cache.get(id);
    if (cached) {
      this.cache.delete(id);
      this.cache.set(id, cached);
      return cached;
    }
    const wrapped = this.wrapped.get(id);
    if (wrapped === undefined) return undefined;
    let dek: Buffer;
    try {
      dek = open(this.workspace(workspaceId).kek, wrapped, wrapAad(workspaceId, profileId));
    } catch {
      throw new Error('a profile data key cannot be unwrapped: the master key is not the one it was written with, or the stored key is damaged');
    }
    this.remember(id, dek);
    return dek;
  }

  private remember(id: string, dek: Buffer): void {
    if (this.cacheSize === 0) return;
    this.cache.delete(id);
    this.cache.set(id, dek);
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.cache.delete(oldest.value);
    }
  }

  private workspace(workspaceId: string): WorkspaceKeys {
    let keys = this.workspaces.get(workspaceId);
    if (!keys) {
      keys = {
        kek: deriveKey(this.master, 'kek', workspaceId), lookup: deriveKey(this.master, 'lookup', workspaceId),
        suppress: deriveKey(this.master, 'suppress', workspaceId), pseudonym: deriveKey(this.master, 'pseudonym', workspaceId),
      };
      this.workspaces.set(workspaceId, keys);
    }
    return keys;
  }
}

function mapKey(workspaceId: string, profileId: string): string {
  return `${workspaceId}\u0000${profileId}`;
}

function wrapAad(workspaceId: string, profileId: string): string {
  return `dek:${workspaceId}:${profileId}`;
}
