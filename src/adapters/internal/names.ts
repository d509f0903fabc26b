import { z } from 'zod';
import { parseInput } from '../../core/validation.js';

/** Max characters in a namespace. */
export const MAX_NAMESPACE_LENGTH = 64;
/** Max characters in a document or cache key. */
export const MAX_KEY_LENGTH = 512;
/** Max characters in a pub/sub channel name. */
export const MAX_CHANNEL_LENGTH = 200;

// C0 and C1 control characters: they break logs, terminals and some drivers' wire formats.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Namespace names: short identifiers, safe in SQL comments, Redis key parts and URLs. */
export const namespaceSchema = z
  .string()
  .min(1, 'namespace must not be empty')
  .max(MAX_NAMESPACE_LENGTH, `namespace must be at most ${MAX_NAMESPACE_LENGTH} characters`)
  .regex(/^[A-Za-z0-9_.-]+$/, 'namespace may only contain A-Z a-z 0-9 _ . -');

/** Keys: any Unicode text without control characters or lone surrogates. */
export const keySchema = z
  .string()
  .min(1, 'key must not be empty')
  .max(MAX_KEY_LENGTH, `key must be at most ${MAX_KEY_LENGTH} characters`)
  .refine((key) => !CONTROL.test(key), 'key must not contain control characters')
  .refine((key) => key.isWellFormed(), 'key must be well-formed Unicode (no lone surrogates)');

/** A key prefix: like a key, but may be empty. */
export const prefixSchema = z
  .string()
  .max(MAX_KEY_LENGTH, `prefix must be at most ${MAX_KEY_LENGTH} characters`)
  .refine((key) => !CONTROL.test(key), 'prefix must not contain control characters')
  .refine((key) => key.isWellFormed(), 'prefix must be well-formed Unicode (no lone surrogates)');

/** Pub/sub channel names. */
export const channelSchema = z
  .string()
  .min(1, 'channel must not be empty')
  .max(MAX_CHANNEL_LENGTH, `channel must be at most ${MAX_CHANNEL_LENGTH} characters`)
  .regex(/^[A-Za-z0-9_.:/-]+$/, 'channel may only contain A-Z a-z 0-9 _ . : / -');

/** TTL in milliseconds: a positive integer up to ~100 years. */
export const ttlSchema = z.number().int().min(1).max(100 * 365 * 24 * 3600 * 1000);

/** @throws `VALIDATION_FAILED` */
export function checkNamespace(namespace: unknown): string {
  return parseInput(namespaceSchema, namespace, 'namespace');
}

/** @throws `VALIDATION_FAILED` */
export function checkKey(key: unknown): string {
  return parseInput(keySchema, key, 'key');
}

/** @throws `VALIDATION_FAILED` */
export function checkChannel(channel: unknown): string {
  return parseInput(channelSchema, channel, 'channel');
}

/** @throws `VALIDATION_FAILED` */
export function checkTtl(ttlMs: unknown): number | undefined {
  return ttlMs === undefined ? undefined : parseInput(ttlSchema, ttlMs, 'ttlMs');
}
