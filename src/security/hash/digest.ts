import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { toBytes } from '../internal/bytes.js';
import { bytesOrText } from '../internal/schemas.js';
import { autoHashEngine, digestWith, hashAlgorithmSchema, type HashAlgorithm } from './algorithms.js';

const digestArgs = z.tuple([hashAlgorithmSchema, bytesOrText]);

/**
 * Hashes bytes (or UTF-8 text) with SHA-3 (FIPS 202) or SHA-2 (FIPS 180-4). Uses `node:crypto`
 * where available, `@noble/hashes` elsewhere; both give identical output.
 *
 * A plain hash is not a password hash (use {@link hashPassword}) and not a MAC (use {@link hmac}).
 * @throws `VALIDATION_FAILED` (unknown algorithm, wrong type, text with a lone surrogate).
 * @example
 * ```ts
 * import { digest } from 'digital-fabrica/security';
 * const hash = digest('SHA3-256', 'abc'); // 3a985da7…11431532 (FIPS 202 example)
 * ```
 */
export function digest(algorithm: HashAlgorithm, data: Uint8Array | string): Uint8Array {
  const [name, input] = parseInput(digestArgs, [algorithm, data], 'digest arguments');
  return digestWith(autoHashEngine(name), name, toBytes(input));
}

/**
 * SHA3-256 of bytes or UTF-8 text.
 * @throws `VALIDATION_FAILED` (wrong type, lone surrogate).
 * @example
 * ```ts
 * import { sha3_256 } from 'digital-fabrica/security';
 * console.log(sha3_256('').length); // 32
 * ```
 */
export function sha3_256(data: Uint8Array | string): Uint8Array {
  return digest('SHA3-256', data);
}

/**
 * SHA3-384 of bytes or UTF-8 text.
 * @throws `VALIDATION_FAILED` (wrong type, lone surrogate).
 * @example
 * ```ts
 * import { sha3_384 } from 'digital-fabrica/security';
 * console.log(sha3_384('abc').length); // 48
 * ```
 */
export function sha3_384(data: Uint8Array | string): Uint8Array {
  return digest('SHA3-384', data);
}

/**
 * SHA3-512 of bytes or UTF-8 text.
 * @throws `VALIDATION_FAILED` (wrong type, lone surrogate).
 * @example
 * ```ts
 * import { sha3_512 } from 'digital-fabrica/security';
 * console.log(sha3_512('abc').length); // 64
 * ```
 */
export function sha3_512(data: Uint8Array | string): Uint8Array {
  return digest('SHA3-512', data);
}
