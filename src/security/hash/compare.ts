import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { bytesSchema } from '../internal/schemas.js';

const pairSchema = z.tuple([bytesSchema, bytesSchema]);

/**
 * Compares two byte arrays in time that depends only on their lengths, never on where they
 * differ, so a MAC or password hash check leaks nothing to a timing attacker. Different lengths
 * return `false` (lengths are not secret: tags and hashes have fixed sizes).
 *
 * @throws `VALIDATION_FAILED` unless both arguments are Uint8Arrays.
 * @example
 * ```ts
 * import { constantTimeEqual } from 'digital-fabrica/security';
 * console.log(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))); // true
 * ```
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const [x, y] = parseInput(pairSchema, [a, b], 'comparison operands');
  return equalBytes(x, y);
}

/**
 * The comparison itself, for already-validated arguments: OR-accumulates XORs over every byte
 * (no early exit, no data-dependent branch).
 * @internal
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
