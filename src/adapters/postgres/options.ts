import { z } from 'zod';
import type { Logger } from '../../core/logger.js';
import type { PgPool } from './driver.js';

/**
 * The schema every PostgreSQL adapter uses unless told otherwise.
 *
 * @example
 * ```ts
 * import { POSTGRES_DEFAULT_SCHEMA } from 'digital-fabrica/adapters/postgres';
 * console.log(POSTGRES_DEFAULT_SCHEMA); // 'digital_fabrica'
 * ```
 */
export const DEFAULT_SCHEMA = 'digital_fabrica';

/**
 * Options every PostgreSQL adapter takes. Invalid options fail with `VALIDATION_FAILED` when the
 * adapter is created.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import type { PostgresAdapterOptions } from 'digital-fabrica/adapters/postgres';
 * const options: PostgresAdapterOptions = {
 *   pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }),
 *   schema: 'tenant_data',
 *   sweepIntervalMs: 30_000,
 *   logger: console,
 * };
 * ```
 */
export interface PostgresAdapterOptions {
  /** The host's pool (e.g. `new pg.Pool(...)`). The adapter never ends it. */
  readonly pool: PgPool;
  /**
   * Schema holding the adapter's tables, default `digital_fabrica`. 1–63 characters from
   * `[A-Za-z0-9_]`, not starting with a digit or `pg_`; always quoted, so case is kept.
   */
  readonly schema?: string;
  /** How often expired rows are deleted in the background, in ms (default 60 000; 0 disables). Reads never see them either way. */
  readonly sweepIntervalMs?: number;
  /** Receives sweep failures, reconnects and handler errors (default: silent). Fields never carry values. */
  readonly logger?: Logger;
  /**
   * `true`: `init()` applies missing migrations itself (under the migration advisory lock).
   * `false` (default): `init()` only checks the schema version and fails with
   * `ADAPTER_SCHEMA_MISMATCH` until the host has run `migratePostgres()` — schema changes are then
   * a deliberate deploy step, not a side effect of the first request.
   */
  readonly migrate?: boolean;
}

// Quoted everywhere, so this is not about injection; it keeps names portable (no case folding
// surprises when a DBA types them unquoted) and avoids the reserved `pg_` prefix.
/** Validates a schema name. */
export const schemaNameSchema = z
  .string()
  .min(1, 'schema must not be empty')
  .max(63, 'schema must be at most 63 characters (PostgreSQL identifier limit)')
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'schema may only contain A-Z a-z 0-9 _ and must not start with a digit')
  .refine((name) => !/^pg_/i.test(name), 'schema names starting with pg_ are reserved by PostgreSQL');

/** A pool-shaped object: checked structurally, since the package never imports `pg`. */
export const poolSchema = z.custom<PgPool>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<PgPool>).query === 'function' &&
    typeof (value as Partial<PgPool>).connect === 'function',
  'pool must be a pg.Pool-compatible object with query() and connect()',
);

/** A logger-shaped object. */
export const loggerSchema = z.custom<Logger>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    (['debug', 'info', 'warn', 'error'] as const).every((level) => typeof (value as Partial<Logger>)[level] === 'function'),
  'logger must have debug/info/warn/error methods',
);

/** setInterval's maximum delay; larger values would fire immediately. */
const MAX_TIMER_MS = 2_147_483_647;

/** The zod shape shared by every PostgreSQL adapter's options. */
export const adapterOptionsShape = {
  pool: poolSchema,
  schema: schemaNameSchema.optional(),
  sweepIntervalMs: z.number().int().min(0).max(MAX_TIMER_MS).optional(),
  logger: loggerSchema.optional(),
  migrate: z.boolean().optional(),
};

/** Options with every default applied. */
export interface ResolvedAdapterOptions {
  readonly pool: PgPool;
  readonly schema: string;
  readonly sweepIntervalMs: number;
  readonly logger: Logger | undefined;
  readonly migrate: boolean;
}

/** Applies the defaults of {@link PostgresAdapterOptions}. */
export function resolveAdapterOptions(parsed: {
  pool: PgPool;
  schema?: string | undefined;
  sweepIntervalMs?: number | undefined;
  logger?: Logger | undefined;
  migrate?: boolean | undefined;
}): ResolvedAdapterOptions {
  return {
    pool: parsed.pool,
    schema: parsed.schema ?? DEFAULT_SCHEMA,
    sweepIntervalMs: parsed.sweepIntervalMs ?? 60_000,
    logger: parsed.logger,
    migrate: parsed.migrate ?? false,
  };
}
