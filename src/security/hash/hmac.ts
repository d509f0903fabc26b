import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { toBytes } from '../internal/bytes.js';
import { bytesOrText, bytesSchema } from '../internal/schemas.js';
import { autoHashEngine, hashAlgorithmSchema, hmacWith, outputBytes, type HashAlgorithm } from './algorithms.js';
import { equalBytes } from './compare.js';

/**
 * Shortest accepted HMAC key and tag: 16 bytes (128 bits). NIST SP 800-107 Rev. 1 §5.3.4 ties the
 * MAC's security to both; below 128 bits neither is a sound choice for new systems.
 */
export const HMAC_MIN_BYTES = 16;

const keySchema = bytesSchema.refine((k) => k.length >= HMAC_MIN_BYTES, { message: `HMAC keys must be at least ${HMAC_MIN_BYTES} bytes` });
const hmacArgs = z.tuple([hashAlgorithmSchema, keySchema, bytesOrText]);
const verifyArgs = z.tuple([hashAlgorithmSchema, keySchema, bytesOrText, bytesSchema]);

/**
 * Computes HMAC (RFC 2104, FIPS 198-1) with SHA-3 or SHA-2; full-length tag.
 * @throws `VALIDATION_FAILED` (unknown algorithm, key shorter than 16 bytes, wrong types).
 * @example
 * ```ts
 * import { hmac } from 'digital-fabrica/security';
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const tag = hmac('SHA3-256', key, 'message'); // 32 bytes
 * ```
 */
export function hmac(algorithm: HashAlgorithm, key: Uint8Array, data: Uint8Array | string): Uint8Array {
  const [name, k, input] = parseInput(hmacArgs, [algorithm, key, data], 'HMAC arguments');
  return hmacWith(autoHashEngine(name), name, k, toBytes(input));
}

/**
 * Verifies an HMAC tag in constant time. A tag shorter than the full output is compared with
 * the same number of leading bytes of the MAC (truncation, RFC 2104 §5), down to 16 bytes.
 * Returns `false` for a wrong tag or a tag of unusable length: a mismatch is an answer, not an error.
 * @throws `VALIDATION_FAILED` (unknown algorithm, key shorter than 16 bytes, wrong types).
 * @example
 * ```ts
 * import { hmac, verifyHmac } from 'digital-fabrica/security';
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const tag = hmac('SHA3-256', key, 'message');
 * console.log(verifyHmac('SHA3-256', key, 'message', tag)); // true
 * console.log(verifyHmac('SHA3-256', key, 'message', tag.subarray(0, 16))); // true (truncated)
 * ```
 */
export function verifyHmac(algorithm: HashAlgorithm, key: Uint8Array, data: Uint8Array | string, tag: Uint8Array): boolean {
  const [name, k, input, expected] = parseInput(verifyArgs, [algorithm, key, data, tag], 'HMAC arguments');
  if (expected.length < HMAC_MIN_BYTES || expected.length > outputBytes(name)) return false;
  const mac = hmacWith(autoHashEngine(name), name, k, toBytes(input));
  return equalBytes(mac.subarray(0, expected.length), expected);
}
