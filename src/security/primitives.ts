/**
 * Security primitives: AES-256-GCM envelopes, keyrings with rotation and a per-key message
 * budget, streaming encryption, RSA-OAEP and hybrid encryption, SHA-3/SHA-2 hashing, HMAC,
 * HKDF, constant-time comparison and password hashing (argon2id, scrypt, PBKDF2-HMAC-SHA3-256).
 *
 * Web APIs only (WebCrypto, `@noble/*`), with `node:crypto` fast paths chosen at run time, so
 * the same code runs on Node 20+, Bun, Deno and edge runtimes and produces the same bytes.
 *
 * ```ts
 * import { AesKey, encrypt, decrypt, Keyring, hashPassword } from 'digital-fabrica/security';
 * ```
 *
 * Errors: `VALIDATION_FAILED` for bad input, `CRYPTO_AUTH_FAILED` for anything that fails
 * authentication (no plaintext is ever released), `CRYPTO_KEY_INVALID` for unusable key material,
 * `CRYPTO_KEY_EXHAUSTED` when a key reached its message limit, `PAYLOAD_TOO_LARGE` above a size
 * limit. Messages never contain keys, plaintext or passwords.
 *
 * @module
 */
export { AesKey, AES_KEY_BYTES, type AesJwk, type AesKeyOptions, type AesKeyInput } from './cipher/key.js';
export { availableAesGcmEngines, type AesGcmEngineName, type AesGcmEngineChoice } from './cipher/engines.js';
export {
  encrypt,
  encryptToBase64url,
  decrypt,
  decryptText,
  AES_GCM_MAX_MESSAGE_BYTES,
  type EncryptOptions,
  type DecryptOptions,
} from './cipher/aes-gcm.js';
export { readEnvelopeHeader, ENVELOPE_VERSION, type EnvelopeAlgorithm, type EnvelopeInfo } from './cipher/envelope.js';
export {
  Keyring,
  GCM_RANDOM_NONCE_MESSAGE_LIMIT,
  type KeyringOptions,
  type KeyringJwks,
  type KeyUsage,
  type ReencryptOptions,
  type KeyringStreamOptions,
} from './cipher/keyring.js';
export {
  createEncryptStream,
  createDecryptStream,
  STREAM_DEFAULT_SEGMENT_BYTES,
  STREAM_MIN_SEGMENT_BYTES,
  STREAM_MAX_SEGMENT_BYTES,
  type EncryptStreamOptions,
  type DecryptStreamOptions,
} from './cipher/stream.js';
export {
  generateRsaKeyPair,
  importRsaPublicKey,
  importRsaPrivateKey,
  RsaPublicKey,
  RsaPrivateKey,
  type RsaKeyPair,
  type RsaKeyPairOptions,
  type RsaImportOptions,
  type RsaModulusLength,
  type OaepHash,
  type RsaOaepJwkAlgorithm,
  type RsaPublicJwk,
  type RsaPrivateJwk,
} from './rsa/keys.js';
export { rsaOaepEncrypt, rsaOaepDecrypt, type RsaOaepOptions } from './rsa/oaep.js';
export { hybridEncrypt, hybridEncryptToBase64url, hybridDecrypt, hybridDecryptText, type HybridOptions } from './rsa/hybrid.js';
export { digest, sha3_256, sha3_384, sha3_512 } from './hash/digest.js';
export type { HashAlgorithm, Sha3Algorithm } from './hash/algorithms.js';
export { hmac, verifyHmac, HMAC_MIN_BYTES } from './hash/hmac.js';
export { hkdf, type HkdfOptions } from './hash/hkdf.js';
export { constantTimeEqual } from './hash/compare.js';
export {
  hashPassword,
  verifyPassword,
  needsRehash,
  PASSWORD_DEFAULTS,
  PASSWORD_MAX_BYTES,
  type PasswordAlgorithm,
  type PasswordPolicy,
  type Argon2idParams,
  type ScryptParams,
  type Pbkdf2Params,
} from './password/password-hash.js';
