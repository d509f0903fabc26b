/**
 * Error constructors of the security modules. Messages name the operation, never key material,
 * plaintext or passwords; `details.reason` is a stable, secret-free hint for operators.
 * @internal
 */
import { FabricaError } from '../../core/errors.js';

/**
 * Why authentication failed. Deliberately coarse: a decryption oracle must not tell an attacker
 * more than "no" (RSA-OAEP in particular: Manger's attack feeds on distinguishable failures).
 */
export type AuthFailureReason =
  | 'tag_mismatch'
  | 'malformed'
  | 'unsupported_version'
  | 'unsupported_algorithm'
  | 'unknown_key_id'
  | 'key_id_mismatch'
  | 'truncated'
  | 'decryption_failed';

/** `CRYPTO_AUTH_FAILED`: the data was not produced by the holder of the key, or was altered. */
export function authFailed(what: string, reason: AuthFailureReason, details: Readonly<Record<string, unknown>> = {}): FabricaError {
  return new FabricaError('CRYPTO_AUTH_FAILED', `${what} failed authentication`, { details: { reason, ...details } });
}

/** `CRYPTO_KEY_INVALID`: key material that parsed but cannot be used for this operation. */
export function keyInvalid(message: string, cause?: unknown): FabricaError {
  return new FabricaError('CRYPTO_KEY_INVALID', message, cause === undefined ? {} : { cause });
}

/** `VALIDATION_FAILED` without zod issues, for checks zod cannot express (decoded sizes, engine support). */
export function invalidInput(message: string, details: Readonly<Record<string, unknown>> = {}): FabricaError {
  return new FabricaError('VALIDATION_FAILED', message, { details });
}

/** `PAYLOAD_TOO_LARGE` with the limit that applied. */
export function tooLarge(what: string, limit: number): FabricaError {
  return new FabricaError('PAYLOAD_TOO_LARGE', `${what} exceeds ${limit} bytes`, { details: { limit } });
}
