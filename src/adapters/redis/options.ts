import { z } from 'zod';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import { ValidationError } from '../../core/errors.js';
import { DEFAULT_REDIS_PREFIX, redisPrefixSchema } from './keys.js';

/**
 * Options every Redis adapter accepts besides its client.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisStorage, createRedisCache, type RedisCommonOptions } from 'digital-fabrica/adapters/redis';
 * const client = new Redis();
 * // One prefix per tenant group: each prefix is one hash slot, so groups spread over a cluster.
 * const common: RedisCommonOptions = { prefix: 'tenants-a', logger: console };
 * const storage = createRedisStorage({ client, ...common });
 * const cache = createRedisCache({ client, ...common });
 * ```
 */
export interface RedisCommonOptions {
  /**
   * Names this adapter's keyspace (default `'df'`): keys are `{<prefix>}:...`, all in one cluster
   * slot. 1–64 characters from `[A-Za-z0-9_.-]`. Adapters sharing a prefix share data.
   */
  readonly prefix?: string;
  /** Receives diagnostics (connection errors, handler failures); never values. Default: silent. */
  readonly logger?: Logger;
}

const loggerSchema = z.custom<Logger>(
  (v) => typeof v === 'object' && v !== null && ['debug', 'info', 'warn', 'error'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
  'logger must have debug(), info(), warn() and error()',
);

/** A zod check that `client` has every method in `methods`, named in the error when not. */
export function clientSchema<C>(methods: readonly string[]) {
  return z.custom<C>(
    (v) => typeof v === 'object' && v !== null && methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    `client must be a Redis client (e.g. ioredis) with ${methods.join(', ')}`,
  );
}

/**
 * Validates a Redis adapter's options: `client` against `methods`, `prefix`, `logger`, the
 * adapter's own `extra` fields, and no unknown keys (a misspelt option would otherwise be
 * silently ignored).
 * @throws `VALIDATION_FAILED`
 */
export function parseRedisOptions<C, E extends z.ZodRawShape = Record<never, never>>(
  options: unknown,
  methods: readonly string[],
  what: string,
  extra?: E,
): { client: C; prefix: string; logger: Logger; extra: z.output<z.ZodObject<E>> } {
  const schema = z.strictObject({
    client: clientSchema<C>(methods),
    prefix: redisPrefixSchema.optional(),
    logger: loggerSchema.optional(),
    ...(extra ?? ({} as E)),
  });
  const opts = parseInput(schema, options, what) as { client: C; prefix?: string; logger?: Logger } & Record<string, unknown>;
  const keyPrefix = (opts.client as { options?: { keyPrefix?: unknown } }).options?.keyPrefix;
  if (typeof keyPrefix === 'string' && keyPrefix !== '') {
    // ioredis prefixes declared KEYS but not the keys our scripts derive or SCAN returns: one
    // document would end up under two names. The adapter's own `prefix` does the same job safely.
    const message = 'client keyPrefix is not supported: use the adapter prefix option instead';
    throw new ValidationError(`invalid ${what}: ${message}`, [{ path: ['client', 'options', 'keyPrefix'], message, code: 'custom' }]);
  }
  const { client, prefix, logger, ...rest } = opts;
  return { client, prefix: prefix ?? DEFAULT_REDIS_PREFIX, logger: logger ?? silentLogger, extra: rest as z.output<z.ZodObject<E>> };
}
