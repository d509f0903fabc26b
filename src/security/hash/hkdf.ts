import { extract, expand } from '@noble/hashes/hkdf.js';
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { toBytes } from '../internal/bytes.js';
import { invalidInput } from '../internal/errors.js';
import { bytesOrText, bytesSchema } from '../internal/schemas.js';
import { hashAlgorithmSchema, NOBLE_HASHES, outputBytes, type HashAlgorithm } from './algorithms.js';

/** Options of {@link hkdf}. */
export interface HkdfOptions {
  /** Non-secret random value (RFC 5869 §3.1); empty or omitted means HashLen zero bytes. */
  readonly salt?: Uint8Array;
  /** Context binding the output to its purpose (e.g. `'app v1 session key'`). */
  readonly info?: Uint8Array | string;
  /** Output bytes, 1 – 255 × the hash's output length (RFC 5869 §2.3). */
  readonly length: number;
}

const ikmSchema = bytesSchema.refine((b) => b.length >= 16, { message: 'input keying material must be at least 16 bytes' });
const optionsSchema = z.strictObject({
  salt: bytesSchema.optional(),
  info: bytesOrText.optional(),
  length: z.number().int().min(1),
});

/**
 * Derives key material with HKDF (RFC 5869: extract, then expand) over SHA-3 or SHA-2.
 * For high-entropy input (a random key, a Diffie-Hellman secret), not for passwords.
 * @throws `VALIDATION_FAILED` (unknown algorithm, IKM shorter than 16 bytes, `length` outside
 *   1 – 255 × HashLen, wrong types).
 * @example
 * ```ts
 * import { hkdf } from 'digital-fabrica/security';
 * const master = crypto.getRandomValues(new Uint8Array(32));
 * const key = hkdf('SHA-256', master, { info: 'tenant acme / files', length: 32 });
 * ```
 */
export function hkdf(algorithm: HashAlgorithm, ikm: Uint8Array, options: HkdfOptions): Uint8Array {
  const name = parseInput(hashAlgorithmSchema, algorithm, 'HKDF algorithm');
  const secret = parseInput(ikmSchema, ikm, 'HKDF input keying material');
  const { salt, info, length } = parseInput(optionsSchema, options, 'HKDF options');
  const max = 255 * outputBytes(name);
  if (length > max) throw invalidInput(`invalid HKDF options at length: ${name} yields at most ${max} bytes`, { max });
  const hash = NOBLE_HASHES[name];
  const prk = extract(hash, secret, salt !== undefined && salt.length > 0 ? salt : undefined);
  try {
    return expand(hash, prk, info === undefined ? undefined : toBytes(info), length);
  } finally {
    prk.fill(0);
  }
}
