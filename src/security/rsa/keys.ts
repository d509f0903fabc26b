/**
 * RSA key pairs for RSA-OAEP (RFC 8017 §7.1) on WebCrypto, which every runtime offers (Node runs it
 * on OpenSSL in its thread pool, measured as fast as `node:crypto` directly). A key is bound to
 * one OAEP hash for its lifetime, as in WebCrypto and JOSE (`alg: RSA-OAEP-256`): using one key
 * with several hashes invites cross-algorithm confusion.
 */
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { encodeBase64url, utf8 } from '../internal/bytes.js';
import { invalidInput, keyInvalid } from '../internal/errors.js';
import { subtleCrypto } from '../internal/node.js';
import { bytesSchema } from '../internal/schemas.js';
import { autoHashEngine, digestWith } from '../hash/algorithms.js';
import { decodePem, encodePem } from './pem.js';

/** OAEP hash (and MGF1 hash, always the same): SHA-256 by default. */
export type OaepHash = 'SHA-256' | 'SHA-384' | 'SHA-512';

/** Modulus sizes {@link generateRsaKeyPair} creates. Below 2048 bits is refused (NIST SP 800-131A Rev. 2). */
export type RsaModulusLength = 2048 | 3072 | 4096;

/** JOSE algorithm names (RFC 7518 §4.3, RFC 8017) per OAEP hash. */
export type RsaOaepJwkAlgorithm = 'RSA-OAEP-256' | 'RSA-OAEP-384' | 'RSA-OAEP-512';

/** An RSA public key as a JWK (RFC 7517, RFC 7518 §6.3.1). */
export interface RsaPublicJwk {
  /** Key type. */
  readonly kty: 'RSA';
  /** Modulus, base64url. */
  readonly n: string;
  /** Public exponent, base64url. */
  readonly e: string;
  /** OAEP algorithm the key is bound to. */
  readonly alg: RsaOaepJwkAlgorithm;
  /** RFC 7638 thumbprint. */
  readonly kid: string;
  /** Encryption key. */
  readonly use: 'enc';
}

/** An RSA private key as a JWK, CRT parameters included. SECRET. */
export interface RsaPrivateJwk extends RsaPublicJwk {
  /** Private exponent. */
  readonly d: string;
  /** First prime factor. */
  readonly p: string;
  /** Second prime factor. */
  readonly q: string;
  /** d mod (p − 1). */
  readonly dp: string;
  /** d mod (q − 1). */
  readonly dq: string;
  /** q⁻¹ mod p. */
  readonly qi: string;
}

/** Options of {@link generateRsaKeyPair}. */
export interface RsaKeyPairOptions {
  /** Modulus size in bits (default 4096). */
  readonly modulusLength?: RsaModulusLength;
  /** OAEP hash (default `'SHA-256'`). */
  readonly hash?: OaepHash;
}

/** Options of {@link importRsaPublicKey} and {@link importRsaPrivateKey}. */
export interface RsaImportOptions {
  /**
   * OAEP hash to bind the key to. Default: the JWK's `alg`, else SHA-256. A JWK whose `alg`
   * names another hash is refused with `CRYPTO_KEY_INVALID`.
   */
  readonly hash?: OaepHash;
}

/** Largest modulus accepted on import (OpenSSL's own ceiling for RSA operations). */
const MAX_MODULUS_BITS = 16_384;
const MIN_MODULUS_BITS = 2048;

const HASH_BY_ALG: Record<RsaOaepJwkAlgorithm, OaepHash> = { 'RSA-OAEP-256': 'SHA-256', 'RSA-OAEP-384': 'SHA-384', 'RSA-OAEP-512': 'SHA-512' };
const ALG_BY_HASH: Record<OaepHash, RsaOaepJwkAlgorithm> = { 'SHA-256': 'RSA-OAEP-256', 'SHA-384': 'RSA-OAEP-384', 'SHA-512': 'RSA-OAEP-512' };
/** @internal */
export const HASH_BYTES: Record<OaepHash, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

const hashSchema = z.enum(['SHA-256', 'SHA-384', 'SHA-512']);
const generateSchema = z
  .strictObject({
    modulusLength: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]).optional(),
    hash: hashSchema.optional(),
  })
  .optional();
const importOptionsSchema = z.strictObject({ hash: hashSchema.optional() }).optional();
const b64u = z.string().regex(/^[A-Za-z0-9_-]+$/, { message: 'expected base64url' });
const publicJwkSchema = z.looseObject({
  kty: z.literal('RSA'),
  n: b64u,
  e: b64u,
  alg: z.enum(['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512']).optional(),
  use: z.literal('enc').optional(),
  kid: z.string().optional(),
});
const privateJwkSchema = publicJwkSchema.extend({ d: b64u, p: b64u, q: b64u, dp: b64u, dq: b64u, qi: b64u });
const keyInputSchema = z.union([z.string(), bytesSchema, z.record(z.string(), z.unknown())]);

function subtle(): SubtleCrypto {
  const s = subtleCrypto();
  if (!s) throw invalidInput('RSA-OAEP needs WebCrypto (globalThis.crypto.subtle), which this runtime lacks');
  return s;
}

/** RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order. */
function thumbprint(n: string, e: string): string {
  return encodeBase64url(digestWith(autoHashEngine('SHA-256'), 'SHA-256', utf8(`{"e":"${e}","kty":"RSA","n":"${n}"}`)));
}

const handles = new WeakMap<object, CryptoKey>();

/** The WebCrypto key behind an RSA key object. @internal */
export function cryptoKeyOf(key: RsaPublicKey | RsaPrivateKey): CryptoKey {
  const handle = handles.get(key);
  if (!handle) throw invalidInput('expected an RSA key created by this package');
  return handle;
}

/**
 * An RSA public key bound to one OAEP hash. Encrypts with {@link rsaOaepEncrypt} and
 * {@link hybridEncrypt}.
 *
 * @example
 * ```ts
 * import { generateRsaKeyPair } from 'digital-fabrica/security';
 * const { publicKey } = await generateRsaKeyPair({ modulusLength: 2048 });
 * console.log(publicKey.modulusLength, publicKey.hash, publicKey.maxPlaintextBytes); // 2048 'SHA-256' 190
 * ```
 */
export class RsaPublicKey {
  /** RFC 7638 JWK thumbprint: stable, derived from the key, written into hybrid envelopes. */
  readonly id: string;
  /** Modulus size in bits. */
  readonly modulusLength: number;
  /** OAEP hash this key is bound to. */
  readonly hash: OaepHash;

  private constructor(id: string, modulusLength: number, hash: OaepHash) {
    this.id = id;
    this.modulusLength = modulusLength;
    this.hash = hash;
  }

  /** @internal */
  static _create(handle: CryptoKey, id: string, hash: OaepHash): RsaPublicKey {
    const key = new RsaPublicKey(id, (handle.algorithm as RsaHashedKeyAlgorithm).modulusLength, hash);
    handles.set(key, handle);
    return key;
  }

  /** Largest plaintext one OAEP block holds: k − 2·hLen − 2 bytes (RFC 8017 §7.1.1). */
  get maxPlaintextBytes(): number {
    return Math.ceil(this.modulusLength / 8) - 2 * HASH_BYTES[this.hash] - 2;
  }

  /**
   * Exports the key as a JWK with `alg`, `kid` and `use`.
   * @example
   * ```ts
   * import { generateRsaKeyPair } from 'digital-fabrica/security';
   * const { publicKey } = await generateRsaKeyPair({ modulusLength: 2048 });
   * const jwk = await publicKey.exportJwk(); // { kty: 'RSA', n, e, alg: 'RSA-OAEP-256', kid, use: 'enc' }
   * ```
   */
  async exportJwk(): Promise<RsaPublicJwk> {
    const jwk = await subtle().exportKey('jwk', cryptoKeyOf(this));
    return { kty: 'RSA', n: jwk.n!, e: jwk.e!, alg: ALG_BY_HASH[this.hash], kid: this.id, use: 'enc' };
  }

  /**
   * Exports the key as PEM (`PUBLIC KEY`, X.509 SubjectPublicKeyInfo, RFC 5280 §4.1).
   * @example
   * ```ts
   * import { generateRsaKeyPair } from 'digital-fabrica/security';
   * const { publicKey } = await generateRsaKeyPair({ modulusLength: 2048 });
   * console.log((await publicKey.exportPem()).startsWith('-----BEGIN PUBLIC KEY-----')); // true
   * ```
   */
  async exportPem(): Promise<string> {
    return encodePem('PUBLIC KEY', new Uint8Array(await subtle().exportKey('spki', cryptoKeyOf(this))));
  }

  /** Public facts only. */
  toJSON(): { id: string; modulusLength: number; hash: OaepHash } {
    return { id: this.id, modulusLength: this.modulusLength, hash: this.hash };
  }
}

/**
 * An RSA private key bound to one OAEP hash. Decrypts with {@link rsaOaepDecrypt} and
 * {@link hybridDecrypt}; its {@link RsaPrivateKey.publicKey} encrypts.
 *
 * @example
 * ```ts
 * import { generateRsaKeyPair } from 'digital-fabrica/security';
 * const { privateKey } = await generateRsaKeyPair({ modulusLength: 2048 });
 * console.log(privateKey.id === privateKey.publicKey.id); // true
 * ```
 */
export class RsaPrivateKey {
  /** Thumbprint of the public half (RFC 7638). */
  readonly id: string;
  /** Modulus size in bits. */
  readonly modulusLength: number;
  /** OAEP hash this key is bound to. */
  readonly hash: OaepHash;
  /** The matching public key. */
  readonly publicKey: RsaPublicKey;

  private constructor(publicKey: RsaPublicKey) {
    this.id = publicKey.id;
    this.modulusLength = publicKey.modulusLength;
    this.hash = publicKey.hash;
    this.publicKey = publicKey;
  }

  /** @internal */
  static _create(handle: CryptoKey, publicKey: RsaPublicKey): RsaPrivateKey {
    const key = new RsaPrivateKey(publicKey);
    handles.set(key, handle);
    return key;
  }

  /**
   * Exports the key as a JWK with CRT parameters. SECRET: store it like a password.
   * @example
   * ```ts
   * import { generateRsaKeyPair } from 'digital-fabrica/security';
   * const { privateKey } = await generateRsaKeyPair({ modulusLength: 2048 });
   * const jwk = await privateKey.exportJwk();
   * ```
   */
  async exportJwk(): Promise<RsaPrivateJwk> {
    const jwk = await subtle().exportKey('jwk', cryptoKeyOf(this));
    return {
      kty: 'RSA',
      n: jwk.n!,
      e: jwk.e!,
      d: jwk.d!,
      p: jwk.p!,
      q: jwk.q!,
      dp: jwk.dp!,
      dq: jwk.dq!,
      qi: jwk.qi!,
      alg: ALG_BY_HASH[this.hash],
      kid: this.id,
      use: 'enc',
    };
  }

  /**
   * Exports the key as unencrypted PKCS#8 PEM (`PRIVATE KEY`, RFC 5208). SECRET.
   * @example
   * ```ts
   * import { generateRsaKeyPair } from 'digital-fabrica/security';
   * const { privateKey } = await generateRsaKeyPair({ modulusLength: 2048 });
   * const pem = await privateKey.exportPem(); // '-----BEGIN PRIVATE KEY-----\n…'
   * ```
   */
  async exportPem(): Promise<string> {
    return encodePem('PRIVATE KEY', new Uint8Array(await subtle().exportKey('pkcs8', cryptoKeyOf(this))));
  }

  /** Public facts only: never the key material. */
  toJSON(): { id: string; modulusLength: number; hash: OaepHash } {
    return { id: this.id, modulusLength: this.modulusLength, hash: this.hash };
  }
}

/** A generated key pair. */
export interface RsaKeyPair {
  /** Encrypts; share freely. */
  readonly publicKey: RsaPublicKey;
  /** Decrypts; keep secret. */
  readonly privateKey: RsaPrivateKey;
}

/**
 * FIPS 186-5 §A.1.1 bounds for e (odd, 2^16 < e < 2^256) plus the modulus-size policy.
 * A tiny exponent like e = 1 would make "encryption" the identity function.
 */
function checkKeyShape(handle: CryptoKey): void {
  const algorithm = handle.algorithm as RsaHashedKeyAlgorithm;
  if (algorithm.name !== 'RSA-OAEP') throw keyInvalid('not an RSA-OAEP key');
  if (algorithm.modulusLength < MIN_MODULUS_BITS) throw keyInvalid(`RSA modulus of ${algorithm.modulusLength} bits is below the ${MIN_MODULUS_BITS}-bit minimum`);
  if (algorithm.modulusLength > MAX_MODULUS_BITS) throw keyInvalid(`RSA modulus of ${algorithm.modulusLength} bits is above the ${MAX_MODULUS_BITS}-bit maximum`);
  const e = algorithm.publicExponent;
  let value = 0n;
  for (const byte of e) value = (value << 8n) | BigInt(byte);
  if ((value & 1n) === 0n || value <= 65_536n || value >= 1n << 256n) throw keyInvalid('RSA public exponent must be odd and between 2^16 and 2^256');
}

function pickHash(requested: OaepHash | undefined, alg: RsaOaepJwkAlgorithm | undefined): OaepHash {
  const pinned = alg === undefined ? undefined : HASH_BY_ALG[alg];
  if (requested !== undefined && pinned !== undefined && requested !== pinned) {
    throw keyInvalid(`the JWK is bound to ${alg}, not RSA-OAEP with ${requested}`);
  }
  return requested ?? pinned ?? 'SHA-256';
}

async function importHandle(format: 'spki' | 'pkcs8' | 'jwk', data: Uint8Array | JsonWebKey, hash: OaepHash, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  let handle: CryptoKey;
  try {
    handle =
      format === 'jwk'
        ? await subtle().importKey('jwk', data as JsonWebKey, { name: 'RSA-OAEP', hash }, true, [usage])
        : await subtle().importKey(format, data as BufferSource, { name: 'RSA-OAEP', hash }, true, [usage]);
  } catch (cause) {
    // WebCrypto's messages do not carry key bytes, but keep them out of `message` anyway.
    throw keyInvalid(`not a usable RSA ${usage === 'encrypt' ? 'public' : 'private'} key`, cause);
  }
  checkKeyShape(handle);
  return handle;
}

async function publicFromJwk(n: string, e: string, hash: OaepHash): Promise<RsaPublicKey> {
  const handle = await importHandle('jwk', { kty: 'RSA', n, e, ext: true }, hash, 'encrypt');
  return RsaPublicKey._create(handle, thumbprint(n, e), hash);
}

/**
 * Generates an RSA key pair for OAEP (4096 bits and SHA-256 by default; ~0.5 s for 4096 bits).
 * @throws `VALIDATION_FAILED` (modulus other than 2048/3072/4096, unknown hash, no WebCrypto).
 * @example
 * ```ts
 * import { generateRsaKeyPair } from 'digital-fabrica/security';
 * const { publicKey, privateKey } = await generateRsaKeyPair(); // RSA-4096, OAEP-SHA-256
 * ```
 */
export async function generateRsaKeyPair(options?: RsaKeyPairOptions): Promise<RsaKeyPair> {
  const parsed = parseInput(generateSchema, options, 'RSA key options');
  const hash = parsed?.hash ?? 'SHA-256';
  const pair = await subtle().generateKey(
    { name: 'RSA-OAEP', modulusLength: parsed?.modulusLength ?? 4096, publicExponent: new Uint8Array([1, 0, 1]), hash },
    true,
    ['encrypt', 'decrypt'],
  );
  const jwk = await subtle().exportKey('jwk', pair.publicKey);
  const publicKey = RsaPublicKey._create(pair.publicKey, thumbprint(jwk.n!, jwk.e!), hash);
  return { publicKey, privateKey: RsaPrivateKey._create(pair.privateKey, publicKey) };
}

/**
 * Imports an RSA public key from PEM (`PUBLIC KEY`, SPKI), DER bytes (SPKI) or a JWK.
 * @throws `VALIDATION_FAILED` (wrong type, malformed PEM or JWK, a PKCS#1 or private PEM block),
 *   `CRYPTO_KEY_INVALID` (not an RSA key, modulus below 2048 bits, bad exponent, a private JWK,
 *   a JWK bound to another hash).
 * @example
 * ```ts
 * import { generateRsaKeyPair, importRsaPublicKey } from 'digital-fabrica/security';
 * const { publicKey } = await generateRsaKeyPair({ modulusLength: 2048 });
 * const again = await importRsaPublicKey(await publicKey.exportPem());
 * console.log(again.id === publicKey.id); // true
 * ```
 */
export async function importRsaPublicKey(key: string | Uint8Array | RsaPublicJwk | JsonWebKey, options?: RsaImportOptions): Promise<RsaPublicKey> {
  const input = parseInput(keyInputSchema, key, 'RSA public key');
  const requested = parseInput(importOptionsSchema, options, 'RSA import options')?.hash;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const der = typeof input === 'string' ? decodePem(input, 'PUBLIC KEY') : input;
    const hash = pickHash(requested, undefined);
    const handle = await importHandle('spki', der, hash, 'encrypt');
    const jwk = await subtle().exportKey('jwk', handle);
    return RsaPublicKey._create(handle, thumbprint(jwk.n!, jwk.e!), hash);
  }
  if ('d' in input) throw keyInvalid('expected a public key, got a private JWK (share only n and e)');
  const jwk = parseInput(publicJwkSchema, input, 'RSA public JWK');
  return publicFromJwk(jwk.n, jwk.e, pickHash(requested, jwk.alg));
}

/**
 * Imports an RSA private key from PEM (`PRIVATE KEY`, unencrypted PKCS#8), DER bytes (PKCS#8)
 * or a JWK with CRT parameters.
 * @throws `VALIDATION_FAILED` (wrong type, malformed PEM or JWK, PKCS#1 or encrypted PEM),
 *   `CRYPTO_KEY_INVALID` (not an RSA key, modulus below 2048 bits, bad exponent, a JWK bound to
 *   another hash).
 * @example
 * ```ts
 * import { generateRsaKeyPair, importRsaPrivateKey } from 'digital-fabrica/security';
 * const { privateKey } = await generateRsaKeyPair({ modulusLength: 2048 });
 * const again = await importRsaPrivateKey(await privateKey.exportJwk());
 * console.log(again.id === privateKey.id); // true
 * ```
 */
export async function importRsaPrivateKey(key: string | Uint8Array | RsaPrivateJwk | JsonWebKey, options?: RsaImportOptions): Promise<RsaPrivateKey> {
  const input = parseInput(keyInputSchema, key, 'RSA private key');
  const requested = parseInput(importOptionsSchema, options, 'RSA import options')?.hash;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const der = typeof input === 'string' ? decodePem(input, 'PRIVATE KEY') : input;
    const hash = pickHash(requested, undefined);
    const handle = await importHandle('pkcs8', der, hash, 'decrypt');
    const jwk = await subtle().exportKey('jwk', handle);
    return RsaPrivateKey._create(handle, await publicFromJwk(jwk.n!, jwk.e!, hash));
  }
  const jwk = parseInput(privateJwkSchema, input, 'RSA private JWK');
  const hash = pickHash(requested, jwk.alg);
  const { n, e, d, p, q, dp, dq, qi } = jwk;
  const handle = await importHandle('jwk', { kty: 'RSA', n, e, d, p, q, dp, dq, qi, ext: true }, hash, 'decrypt');
  return RsaPrivateKey._create(handle, await publicFromJwk(n, e, hash));
}

/** @internal */
export const publicKeySchema = z.custom<RsaPublicKey>((v) => v instanceof RsaPublicKey, { message: 'expected an RsaPublicKey' });
/** @internal */
export const privateKeySchema = z.custom<RsaPrivateKey>((v) => v instanceof RsaPrivateKey, { message: 'expected an RsaPrivateKey' });
