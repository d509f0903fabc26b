/**
 * RSAES-OAEP (RFC 8017 §7.1) for small secrets (keys, tokens). For data of any size use
 * {@link hybridEncrypt}. Every decryption failure is one indistinguishable `CRYPTO_AUTH_FAILED`:
 * telling "bad padding" from "bad length" apart is exactly the oracle Manger's attack needs.
 */
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { toBytes } from '../internal/bytes.js';
import { authFailed, tooLarge } from '../internal/errors.js';
import { bytesOrText, bytesSchema } from '../internal/schemas.js';
import { subtleCrypto } from '../internal/node.js';
import { cryptoKeyOf, privateKeySchema, publicKeySchema, type RsaPrivateKey, type RsaPublicKey } from './keys.js';

/** Options of {@link rsaOaepEncrypt} and {@link rsaOaepDecrypt}. */
export interface RsaOaepOptions {
  /** OAEP label L (RFC 8017 §7.1.1): bound to the ciphertext, must match on decryption. Up to 64 KiB. */
  readonly label?: Uint8Array | string;
}

/** Largest accepted OAEP label. */
const MAX_LABEL_BYTES = 64 * 1024;

const optionsSchema = z.strictObject({ label: bytesOrText.optional() }).optional();

/** @internal */
export function oaepParams(label: Uint8Array | undefined): RsaOaepParams {
  return label === undefined || label.length === 0 ? { name: 'RSA-OAEP' } : { name: 'RSA-OAEP', label: label as BufferSource };
}

function parseLabel(options: unknown): Uint8Array | undefined {
  const parsed = parseInput(optionsSchema, options, 'RSA-OAEP options');
  if (parsed?.label === undefined) return undefined;
  const label = toBytes(parsed.label);
  if (label.length > MAX_LABEL_BYTES) throw tooLarge('OAEP label', MAX_LABEL_BYTES);
  return label;
}

/**
 * Encrypts up to `key.maxPlaintextBytes` bytes (190 for RSA-2048 with SHA-256, 446 for RSA-4096)
 * with RSA-OAEP, under the hash the key is bound to.
 * @throws `VALIDATION_FAILED` (not an {@link RsaPublicKey}, wrong types), `PAYLOAD_TOO_LARGE`
 *   (plaintext longer than one OAEP block, label above 64 KiB).
 * @example
 * ```ts
 * import { generateRsaKeyPair, rsaOaepEncrypt, rsaOaepDecrypt } from 'digital-fabrica/security';
 * const { publicKey, privateKey } = await generateRsaKeyPair({ modulusLength: 2048 });
 * const ciphertext = await rsaOaepEncrypt(publicKey, 'a short secret', { label: 'v1' });
 * const plain = await rsaOaepDecrypt(privateKey, ciphertext, { label: 'v1' });
 * ```
 */
export async function rsaOaepEncrypt(key: RsaPublicKey, plaintext: Uint8Array | string, options?: RsaOaepOptions): Promise<Uint8Array> {
  const publicKey = parseInput(publicKeySchema, key, 'RSA public key');
  const data = toBytes(parseInput(bytesOrText, plaintext, 'plaintext'));
  const label = parseLabel(options);
  if (data.length > publicKey.maxPlaintextBytes) throw tooLarge('RSA-OAEP plaintext', publicKey.maxPlaintextBytes);
  return new Uint8Array(await subtleCrypto()!.encrypt(oaepParams(label), cryptoKeyOf(publicKey), data as BufferSource));
}

/**
 * Decrypts an RSA-OAEP ciphertext.
 * @throws `VALIDATION_FAILED` (not an {@link RsaPrivateKey}, wrong types, label above 64 KiB is
 *   `PAYLOAD_TOO_LARGE`), `CRYPTO_AUTH_FAILED` for every failure of the ciphertext itself: wrong
 *   length, not reduced modulo n, bad padding, wrong label, wrong key (reason `decryption_failed`).
 * @example
 * ```ts
 * import { generateRsaKeyPair, rsaOaepEncrypt, rsaOaepDecrypt } from 'digital-fabrica/security';
 * const { publicKey, privateKey } = await generateRsaKeyPair({ modulusLength: 2048 });
 * const secret = await rsaOaepDecrypt(privateKey, await rsaOaepEncrypt(publicKey, new Uint8Array(32)));
 * console.log(secret.length); // 32
 * ```
 */
export async function rsaOaepDecrypt(key: RsaPrivateKey, ciphertext: Uint8Array, options?: RsaOaepOptions): Promise<Uint8Array> {
  const privateKey = parseInput(privateKeySchema, key, 'RSA private key');
  const data = parseInput(bytesSchema, ciphertext, 'ciphertext');
  const label = parseLabel(options);
  return oaepDecrypt(privateKey, data, label);
}

/** Decryption for validated arguments; any failure is the same error. @internal */
export async function oaepDecrypt(key: RsaPrivateKey, ciphertext: Uint8Array, label: Uint8Array | undefined, what = 'RSA-OAEP ciphertext'): Promise<Uint8Array> {
  // RFC 8017 §7.1.2 step 1: the length check is part of decryption and fails like the rest.
  if (ciphertext.length !== Math.ceil(key.modulusLength / 8)) throw authFailed(what, 'decryption_failed');
  try {
    return new Uint8Array(await subtleCrypto()!.decrypt(oaepParams(label), cryptoKeyOf(key), ciphertext as BufferSource));
  } catch {
    throw authFailed(what, 'decryption_failed');
  }
}
