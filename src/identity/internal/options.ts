/**
 * zod schemas for the dependencies every identity service receives (storage, clock, logger,
 * keyring, event bus), checked by shape so test doubles and other copies of the package fit.
 * @internal
 */
import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import type { StorageAdapter } from '../../adapters/storage.js';
import type { Clock } from '../../core/clock.js';
import type { FabricaEventBus } from '../../core/events.js';
import type { Logger } from '../../core/logger.js';
import type { Keyring } from '../../security/primitives.js';

const hasMethods = (value: unknown, methods: readonly string[]): boolean =>
  typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');

/** A StorageAdapter (checked by shape). */
export const storageSchema = z.custom<StorageAdapter>((v) => hasMethods(v, ['get', 'getMany', 'put', 'delete', 'list', 'txn', 'add']), {
  message: 'expected a StorageAdapter',
});

/** A Clock. */
export const clockSchema = z.custom<Clock>((v) => hasMethods(v, ['now']), { message: 'expected a Clock with now()' });

/** A Logger. */
export const loggerSchema = z.custom<Logger>((v) => hasMethods(v, ['debug', 'info', 'warn', 'error']), { message: 'expected a Logger' });

/** A security Keyring. */
export const keyringSchema = z.custom<Keyring>((v) => hasMethods(v, ['encryptToBase64url', 'decryptText']), { message: 'expected a Keyring' });

/** A FabricaEventBus. */
export const eventsSchema = z.custom<FabricaEventBus>((v) => hasMethods(v, ['emit', 'on']), { message: 'expected a FabricaEventBus' });

/** A storage namespace. */
export const namespaceSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/);

/** Ids we mint (UUIDv7) or accept from callers as user and session ids. */
export const idSchema = z.string().min(1).max(128).regex(/^[A-Za-z0-9._~-]+$/, { message: 'ids may only contain A-Z a-z 0-9 . _ ~ -' });

/** A positive duration in milliseconds, at most `max`. */
export const durationMs = (min: number, max: number) => z.number().int().min(min).max(max);

/** A `VALIDATION_FAILED` error for a check zod could not express; never echoes the value. */
export function invalidInput(what: string, message: string, cause?: unknown): ValidationError {
  return new ValidationError(`invalid ${what}: ${message}`, [{ path: [], message, code: 'custom' }], cause === undefined ? {} : { cause });
}
