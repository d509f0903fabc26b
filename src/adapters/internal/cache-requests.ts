import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { PayloadTooLargeError } from '../../core/errors.js';
import { keySchema, ttlSchema } from './names.js';
import { MAX_GET_MANY } from './requests.js';

/** Largest cache value any backend accepts. */
export const MAX_CACHE_VALUE_BYTES = 64 * 1024 * 1024;

const bytesSchema = z.instanceof(Uint8Array, { message: 'value must be a Uint8Array' });
const setOptionsSchema = z.strictObject({ ttlMs: ttlSchema.optional() }).optional();

/** @throws `VALIDATION_FAILED` */
export function parseCacheKey(key: unknown): string {
  return parseInput(keySchema, key, 'cache key');
}

/** @throws `VALIDATION_FAILED` */
export function parseCacheKeys(keys: unknown): string[] {
  return parseInput(z.array(keySchema).max(MAX_GET_MANY), keys, 'cache keys');
}

/** @throws `VALIDATION_FAILED` (prefix must not be empty: that would silently clear the whole cache) */
export function parseCachePrefix(prefix: unknown): string {
  return parseInput(keySchema, prefix, 'cache key prefix');
}

/** @throws `VALIDATION_FAILED`, `PAYLOAD_TOO_LARGE` */
export function parseCacheSet(key: unknown, value: unknown, options: unknown): { key: string; value: Uint8Array; ttlMs: number | undefined } {
  const k = parseCacheKey(key);
  const v = parseInput(bytesSchema, value, 'cache value');
  if (v.byteLength > MAX_CACHE_VALUE_BYTES) {
    throw new PayloadTooLargeError(`cache value is ${v.byteLength} bytes; the limit is ${MAX_CACHE_VALUE_BYTES}`, {
      details: { bytes: v.byteLength, limit: MAX_CACHE_VALUE_BYTES },
    });
  }
  const opts = parseInput(setOptionsSchema, options, 'cache options') ?? {};
  return { key: k, value: v, ttlMs: opts.ttlMs };
}
