/**
 * The three password KDFs, each with a `node:crypto` fast path where Node has one (scrypt and
 * PBKDF2 run in libuv's thread pool, off the event loop) and `@noble/hashes` everywhere else
 * (async variants that yield to the event loop). Both engines produce identical bytes.
 * @internal
 */
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { pbkdf2Async } from '@noble/hashes/pbkdf2.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { NOBLE_HASHES, NODE_HASH_NAMES, nodeHasHash, type HashAlgorithm } from '../hash/algorithms.js';
import { nodeCrypto, plainView } from '../internal/node.js';

/** Which implementation derives. `'auto'` prefers node:crypto. */
export type KdfEngine = 'auto' | 'node' | 'noble';

/** argon2id (RFC 9106), version 0x13. Node 20 has no argon2, so this is noble on every runtime. */
export async function deriveArgon2id(password: Uint8Array, salt: Uint8Array, params: { m: number; t: number; p: number }, dkLen: number): Promise<Uint8Array> {
  return argon2idAsync(password, salt, { m: params.m, t: params.t, p: params.p, dkLen, version: 0x13, maxmem: 2 ** 31 });
}

/** scrypt (RFC 7914) with N = 2^logN. */
export async function deriveScrypt(
  password: Uint8Array,
  salt: Uint8Array,
  params: { logN: number; r: number; p: number },
  dkLen: number,
  engine: KdfEngine = 'auto',
): Promise<Uint8Array> {
  const N = 2 ** params.logN;
  // OpenSSL needs V (128·r·N bytes) plus B (128·r·p bytes); its default cap (32 MiB) is below
  // what N = 2^17, r = 8 takes (128 MiB).
  const maxmem = 128 * params.r * (N + 2) + 128 * params.r * params.p + 1024 * 1024;
  const crypto = engine === 'noble' ? null : nodeCrypto();
  if (crypto) {
    return new Promise((resolve, reject) => {
      crypto.scrypt(password, salt, dkLen, { N, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolve(plainView(key))));
    });
  }
  return scryptAsync(password, salt, { N, r: params.r, p: params.p, dkLen, maxmem });
}

/** PBKDF2 (RFC 8018 §5.2) with HMAC over `hash`. */
export async function derivePbkdf2(
  hash: HashAlgorithm,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  dkLen: number,
  engine: KdfEngine = 'auto',
): Promise<Uint8Array> {
  const crypto = engine === 'noble' || !nodeHasHash(hash) ? null : nodeCrypto();
  if (crypto) {
    return new Promise((resolve, reject) => {
      crypto.pbkdf2(password, salt, iterations, dkLen, NODE_HASH_NAMES[hash], (err, key) => (err ? reject(err) : resolve(plainView(key))));
    });
  }
  return pbkdf2Async(NOBLE_HASHES[hash], password, salt, { c: iterations, dkLen });
}
