/**
 * Types of the parts of `http_ece` (Encrypted Content-Encoding for HTTP, RFC 8188, with the
 * Web Push key derivation of RFC 8291) this connector and its tests use. The package ships none.
 */
declare module 'http_ece' {
  import type { ECDH } from 'node:crypto';

  interface EceParams {
    /** `aes128gcm` (RFC 8188/8291) or the legacy `aesgcm`. */
    version?: 'aes128gcm' | 'aesgcm';
    /** Encrypt: the sender's ECDH key pair. Decrypt: the receiver's. */
    privateKey?: ECDH;
    /** Encrypt: the receiver's public key (base64url or bytes). */
    dh?: string | Buffer;
    /** The subscription's 16-byte auth secret (base64url or bytes). */
    authSecret?: string | Buffer;
    /** 16 random bytes; generated when absent. */
    salt?: string | Buffer;
    /** Record size; 4096 by default. */
    rs?: number;
    /** An explicit 16-byte key instead of ECDH. */
    key?: string | Buffer;
    keyid?: string | Buffer;
    pad?: number;
  }

  interface Ece {
    encrypt(buffer: Buffer, params: EceParams): Buffer;
    decrypt(buffer: Buffer, params: EceParams): Buffer;
  }

  const ece: Ece;
  export = ece;
}
