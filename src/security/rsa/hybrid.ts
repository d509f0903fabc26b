/**
 * Hybrid encryption for data of any size: a fresh AES-256-GCM content key per message, wrapped
 * with RSA-OAEP under the recipient's public key, all in the shared envelope format (algorithm
 * 0x11/0x12/0x13, see `cipher/envelope.ts`): version, algorithm, key id (the RSA key's RFC 7638
 * thumbprint), wrapped key, nonce, ciphertext, tag.
 *
 * The wrapped key uses the OAEP label `digital-fabrica/hybrid/v1`, so an RSA ciphertext made for
 * another purpose under the same key can never be passed off as a content key (domain separation).
 * The whole header, wrapped key included, is GCM associated data: changing any byte fails.
 */
import { parseInput } from '../../core/validation.js';
import { concatBytes, decodeUtf8, encodeBase64url, randomBytes, randomNonce, utf8, wipe } from '../internal/bytes.js';
import { authFailed } from '../internal/errors.js';
import { subtleCrypto } from '../internal/node.js';
import { messageBytes, openEnvelope, parseCipherOptions, type EncryptOptions } from '../cipher/aes-gcm.js';
import { encodeHeader, envelopeBytes, NONCE_BYTES, parseEnvelope, type EnvelopeAlgorithm } from '../cipher/envelope.js';
import { KeyMaterial } from '../cipher/key-material.js';
import { cryptoKeyOf, privateKeySchema, publicKeySchema, type OaepHash, type RsaPrivateKey, type RsaPublicKey } from './keys.js';
import { oaepDecrypt, oaepParams } from './oaep.js';

/** Options of the hybrid functions: AAD and AES-GCM engine, as for symmetric {@link encrypt}. */
export type HybridOptions = EncryptOptions;

const LABEL = utf8('digital-fabrica/hybrid/v1');
const CONTENT_KEY_BYTES = 32;
const ALGORITHM: Record<OaepHash, EnvelopeAlgorithm> = {
  'SHA-256': 'RSA-OAEP-256+A256GCM',
  'SHA-384': 'RSA-OAEP-384+A256GCM',
  'SHA-512': 'RSA-OAEP-512+A256GCM',
};

/**
 * Encrypts bytes or text of any size (up to 1 GiB per call) for the holder of the private key.
 * @throws `VALIDATION_FAILED` (not an {@link RsaPublicKey}, wrong types), `PAYLOAD_TOO_LARGE`
 *   (plaintext or AAD above 1 GiB).
 * @example
 * ```ts
 * import { generateRsaKeyPair, hybridEncrypt, hybridDecryptText } from 'digital-fabrica/security';
 * const { publicKey, privateKey } = await generateRsaKeyPair({ modulusLength: 2048 });
 * const envelope = await hybridEncrypt(publicKey, 'a long report…', { aad: 'report:17' });
 * console.log(await hybridDecryptText(privateKey, envelope, { aad: 'report:17' })); // 'a long report…'
 * ```
 */
export async function hybridEncrypt(key: RsaPublicKey, plaintext: Uint8Array | string, options?: HybridOptions): Promise<Uint8Array> {
  const publicKey = parseInput(publicKeySchema, key, 'RSA public key');
  const data = messageBytes(plaintext, 'plaintext');
  const { aad, engine } = parseCipherOptions(options);
  const contentKey = randomBytes(CONTENT_KEY_BYTES);
  try {
    const wrapped = new Uint8Array(await subtleCrypto()!.encrypt(oaepParams(LABEL), cryptoKeyOf(publicKey), contentKey as BufferSource));
    const nonce = randomNonce(NONCE_BYTES);
    const header = encodeHeader(ALGORITHM[publicKey.hash], publicKey.id, nonce, wrapped);
    const out = await engine.seal(new KeyMaterial(contentKey), nonce, data, aad.length > 0 ? concatBytes(header, aad) : header, header.length);
    out.set(header, 0);
    return out;
  } finally {
    wipe(contentKey);
  }
}

/**
 * Like {@link hybridEncrypt}, returning base64url text.
 * @throws as {@link hybridEncrypt}.
 * @example
 * ```ts
 * import { generateRsaKeyPair, hybridEncryptToBase64url } from 'digital-fabrica/security';
 * const { publicKey } = await generateRsaKeyPair({ modulusLength: 2048 });
 * const text = await hybridEncryptToBase64url(publicKey, 'hello');
 * ```
 */
export async function hybridEncryptToBase64url(key: RsaPublicKey, plaintext: Uint8Array | string, options?: HybridOptions): Promise<string> {
  return encodeBase64url(await hybridEncrypt(key, plaintext, options));
}

/**
 * Decrypts a hybrid envelope (bytes or base64url).
 * @throws `VALIDATION_FAILED` (not an {@link RsaPrivateKey}, wrong types, not an envelope),
 *   `CRYPTO_AUTH_FAILED` (envelope for another key — reason `key_id_mismatch` —, another OAEP
 *   hash, a corrupted wrapped key or ciphertext, wrong AAD; no plaintext is released).
 * @example
 * ```ts
 * import { generateRsaKeyPair, hybridEncrypt, hybridDecrypt } from 'digital-fabrica/security';
 * const { publicKey, privateKey } = await generateRsaKeyPair({ modulusLength: 2048 });
 * const plain = await hybridDecrypt(privateKey, await hybridEncrypt(publicKey, new Uint8Array(1_000_000)));
 * console.log(plain.length); // 1000000
 * ```
 */
export async function hybridDecrypt(key: RsaPrivateKey, envelope: Uint8Array | string, options?: HybridOptions): Promise<Uint8Array> {
  const privateKey = parseInput(privateKeySchema, key, 'RSA private key');
  const bytes = envelopeBytes(envelope, 'hybrid envelope');
  const { aad, engine } = parseCipherOptions(options);
  const parsed = parseEnvelope(bytes, 'hybrid envelope');
  if (parsed.algorithm !== ALGORITHM[privateKey.hash]) throw authFailed('hybrid envelope', 'unsupported_algorithm');
  if (parsed.keyId !== privateKey.id) throw authFailed('hybrid envelope', 'key_id_mismatch', { keyId: parsed.keyId });
  const contentKey = await oaepDecrypt(privateKey, parsed.wrappedKey!, LABEL, 'hybrid envelope');
  try {
    if (contentKey.length !== CONTENT_KEY_BYTES) throw authFailed('hybrid envelope', 'decryption_failed');
    return await openEnvelope(engine, new KeyMaterial(contentKey), parsed, aad, 'hybrid envelope');
  } finally {
    wipe(contentKey);
  }
}

/**
 * Decrypts a hybrid envelope and decodes the plaintext as UTF-8.
 * @throws as {@link hybridDecrypt}, plus `VALIDATION_FAILED` when the plaintext is not UTF-8.
 * @example
 * ```ts
 * import { generateRsaKeyPair, hybridEncrypt, hybridDecryptText } from 'digital-fabrica/security';
 * const { publicKey, privateKey } = await generateRsaKeyPair({ modulusLength: 2048 });
 * console.log(await hybridDecryptText(privateKey, await hybridEncrypt(publicKey, 'hi'))); // 'hi'
 * ```
 */
export async function hybridDecryptText(key: RsaPrivateKey, envelope: Uint8Array | string, options?: HybridOptions): Promise<string> {
  const plaintext = await hybridDecrypt(key, envelope, options);
  try {
    return decodeUtf8(plaintext, 'plaintext');
  } finally {
    wipe(plaintext);
  }
}
