/**
 * Raw AES key bytes plus the per-engine handles derived from them, created once and reused:
 * importing a key (Node `KeyObject`, WebCrypto `CryptoKey`) costs more than sealing 1 KiB.
 * @internal
 */
import type { KeyObject } from 'node:crypto';

/** One AES key as the engines see it. Never exported from the package. */
export class KeyMaterial {
  /** 16, 24 or 32 bytes. Owned by this object: callers pass a copy. */
  readonly bytes: Uint8Array;
  /** Cached `node:crypto` secret key. */
  nodeKey: KeyObject | undefined;
  /** Cached WebCrypto key (a promise, so concurrent first uses import once). */
  webKey: Promise<CryptoKey> | undefined;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
}
