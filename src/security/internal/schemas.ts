/**
 * zod schemas shared by the security entry points. Checks that only look at a value's type or
 * length, so validating a 1 GiB buffer costs the same as validating a 1-byte one.
 * @internal
 */
import { z } from 'zod';

/** Any Uint8Array (Node's Buffer included). */
export const bytesSchema = z.custom<Uint8Array>((value) => value instanceof Uint8Array, { message: 'expected a Uint8Array' });

/**
 * A string that survives UTF-8 encoding unchanged: a lone surrogate would be replaced by U+FFFD
 * and the caller would encrypt or hash something other than what they passed.
 */
export const wellFormedText = z.string().refine((text) => text.isWellFormed(), { message: 'string contains a lone surrogate' });

/** Bytes, or text encoded as UTF-8. */
export const bytesOrText = z.union([bytesSchema, wellFormedText]);

/**
 * Key ids travel inside envelopes and storage keys: printable, URL-safe ASCII, 1–128 characters
 * (a UUID, a JWK thumbprint and a date-stamped name all fit).
 */
export const keyIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._~-]+$/, { message: 'key id may only contain A-Z a-z 0-9 . _ ~ -' });
