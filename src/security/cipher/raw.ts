/**
 * Low-level AES-GCM with caller-chosen key size (128/192/256) and nonce, for test vectors and
 * interoperability checks. Not part of the public API: reusing a nonce under one key destroys
 * GCM's confidentiality and authenticity (SP 800-38D Appendix A), and only the envelope API
 * guarantees fresh nonces.
 * @internal
 */
import { invalidInput } from '../internal/errors.js';
import { resolveAesGcmEngine, type AesGcmEngineChoice } from './engines.js';
import { KeyMaterial } from './key-material.js';

function check(key: Uint8Array, nonce: Uint8Array, engineChoice: AesGcmEngineChoice) {
  const engine = resolveAesGcmEngine(engineChoice);
  if (![16, 24, 32].includes(key.length)) throw invalidInput('AES keys are 16, 24 or 32 bytes');
  if (nonce.length < engine.nonceBytes.min || nonce.length > engine.nonceBytes.max) {
    throw invalidInput(`engine '${engine.name}' does not support ${nonce.length}-byte nonces`, { nonceBytes: nonce.length });
  }
  return engine;
}

/** Returns `ciphertext || tag`. @throws `VALIDATION_FAILED` for unsupported key or nonce sizes. */
export async function aesGcmSealRaw(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, engine: AesGcmEngineChoice = 'auto'): Promise<Uint8Array> {
  return check(key, nonce, engine).seal(new KeyMaterial(key.slice()), nonce, plaintext, aad, 0);
}

/** Returns the plaintext, or `null` when authentication fails. @throws `VALIDATION_FAILED` as above. */
export async function aesGcmOpenRaw(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array, engine: AesGcmEngineChoice = 'auto'): Promise<Uint8Array | null> {
  return check(key, nonce, engine).open(new KeyMaterial(key.slice()), nonce, sealed, aad);
}
