/**
 * HMAC-SHA-1/256/512 for HOTP and TOTP. `node:crypto` when the runtime has it (about twice as
 * fast for these 8-byte messages), `@noble/hashes` everywhere else: same bytes either way (the
 * RFC vectors run through both). `node:crypto` is reached through `process.getBuiltinModule`, so
 * bundles for browsers and edge runtimes never see a `node:` import.
 * @internal
 */
import type * as NodeCrypto from 'node:crypto';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';

/** The HMAC hashes RFC 6238 §1.2 allows. */
export type OtpHash = 'SHA1' | 'SHA256' | 'SHA512';

/** An HMAC implementation. */
export type OtpHmac = (hash: OtpHash, key: Uint8Array, message: Uint8Array) => Uint8Array;

const NOBLE = { SHA1: sha1, SHA256: sha256, SHA512: sha512 } as const;
const NODE_NAMES = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' } as const;

/** Pure-JS HMAC (every runtime). */
export const nobleHmac: OtpHmac = (hash, key, message) => hmac(NOBLE[hash], key, message);

function loadNode(): typeof NodeCrypto | null {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const mod = proc?.getBuiltinModule?.('node:crypto') as typeof NodeCrypto | undefined;
    return mod && typeof mod.createHmac === 'function' ? mod : null;
  } catch {
    return null;
  }
}

const node = loadNode();

/** `node:crypto` HMAC, or `null` on runtimes without it. */
export const nodeHmac: OtpHmac | null = node
  ? (hash, key, message) => {
      const digest = node.createHmac(NODE_NAMES[hash], key).update(message).digest();
      return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
    }
  : null;

/** The fastest available implementation. */
export const otpHmac: OtpHmac = nodeHmac ?? nobleHmac;
