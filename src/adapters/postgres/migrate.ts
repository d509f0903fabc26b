import { z } from 'zod';
import { SchemaMismatchError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import type { PgPool, PgPoolClient, PgQueryable } from './driver.js';
import { mapPgError } from './errors.js';
import { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION, quoteIdentifier, renderMigration } from './migrations.js';
import { DEFAULT_SCHEMA, loggerSchema, poolSchema, schemaNameSchema } from './options.js';
import {
  LOCK_MIGRATIONS,
  MIGRATION_LOCK_SALT,
  createMigrationsTable,
  createSchema,
  insertMigration,
  selectAppliedVersions,
  selectSchemaVersion,
} from './sql/schema.js';

/** Options of {@link migratePostgres}. */
export interface MigratePostgresOptions {
  /** The host's pool; one connection is checked out for the migration transaction and given back. */
  readonly pool: PgPool;
  /** Schema to create and migrate (default `digital_fabrica`); same rules as the adapters' `schema`. */
  readonly schema?: string;
  /** Receives one line per applied migration (default: silent). */
  readonly logger?: Logger;
}

/** What {@link migratePostgres} did. */
export interface MigratePostgresResult {
  /** The schema migrated. */
  readonly schema: string;
  /** Versions applied by this call, ascending; empty when the schema was already current. */
  readonly applied: readonly number[];
  /** The schema's version afterwards (always the package's latest). */
  readonly version: number;
}

const optionsSchema = z.strictObject({
  pool: poolSchema,
  schema: schemaNameSchema.optional(),
  logger: loggerSchema.optional(),
});

/**
 * Creates the schema if needed and applies the missing {@link POSTGRES_MIGRATIONS}, all in one
 * transaction under an advisory lock derived from the schema name: any number of processes may
 * call it at once (e.g. every replica at start-up); one applies, the others wait and find nothing
 * left to do. Idempotent.
 *
 * @throws `VALIDATION_FAILED` for bad options; `ADAPTER_SCHEMA_MISMATCH` when the database was
 *   migrated by a newer version of this package (nothing is changed); `ADAPTER_UNAVAILABLE` when
 *   the database cannot be reached; `INTERNAL` for other database errors (e.g. missing privileges).
 * @example
 * ```ts
 * import pg from 'pg';
 * import { migratePostgres } from 'digital-fabrica/adapters/postgres';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const { applied } = await migratePostgres({ pool, schema: 'digital_fabrica' });
 * console.log(`applied migrations: ${applied.join(', ') || 'none'}`);
 * ```
 */
export async function migratePostgres(options: MigratePostgresOptions): Promise<MigratePostgresResult> {
  const opts = parseInput(optionsSchema, options, 'migratePostgres options');
  const schema = opts.schema ?? DEFAULT_SCHEMA;
  const logger = opts.logger ?? silentLogger;
  const s = quoteIdentifier(schema);

  let client: PgPoolClient;
  try {
    client = await opts.pool.connect();
  } catch (err) {
    throw mapPgError(err, 'migrate');
  }
  // Set when ROLLBACK itself failed: the connection is broken or mid-transaction, so the pool must
  // destroy it rather than hand it to the next caller.
  let discard: Error | undefined;
  try {
    await client.query('BEGIN');
    // Taken before CREATE SCHEMA: two first-time migrators would otherwise race on the catalog
    // (unique violation on pg_namespace) instead of queueing.
    await client.query(LOCK_MIGRATIONS, [MIGRATION_LOCK_SALT + schema]);
    await client.query(createSchema(s));
    await client.query(createMigrationsTable(s));
    const { rows } = await client.query<{ version: number }>(selectAppliedVersions(s));
    const done = new Set(rows.map((r) => Number(r.version)));
    const newest = Math.max(0, ...done);
    if (newest > POSTGRES_SCHEMA_VERSION) throw aheadError(schema, newest);
    const applied: number[] = [];
    for (const migration of POSTGRES_MIGRATIONS) {
      if (done.has(migration.version)) continue;
      // No parameters: the simple query protocol runs a multi-statement script in one call.
      await client.query(renderMigration(migration.sql, schema));
      await client.query(insertMigration(s), [migration.version, migration.name]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    for (const version of applied) logger.info('postgres migration applied', { schema, version });
    return { schema, applied, version: POSTGRES_SCHEMA_VERSION };
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
      discard = rollbackErr instanceof Error ? rollbackErr : new Error('ROLLBACK failed');
    });
    throw mapPgError(err, 'migrate');
  } finally {
    client.release(discard);
  }
}

/**
 * Fails unless `schema` is at exactly the version this package requires; returns the isolation
 * level a pooled connection runs at (e.g. `'read committed'`).
 * @throws `ADAPTER_SCHEMA_MISMATCH` (never migrated, behind, or ahead), `ADAPTER_UNAVAILABLE`, `INTERNAL`
 */
export async function checkSchemaVersion(db: PgQueryable, schema: string): Promise<{ isolation: string }> {
  let version: number;
  let isolation: string;
  try {
    const { rows } = await db.query<{ version: number; isolation: string }>(selectSchemaVersion(quoteIdentifier(schema)));
    version = Number(rows[0]?.version ?? 0);
    isolation = String(rows[0]?.isolation ?? '');
  } catch (err) {
    const mapped = mapPgError(err, 'schema check');
    if (mapped.code !== 'ADAPTER_SCHEMA_MISMATCH') throw mapped;
    throw new SchemaMismatchError(
      `PostgreSQL schema "${schema}" has not been migrated: call migratePostgres({ pool, schema: '${schema}' }) before using the adapters, or create them with migrate: true`,
      { cause: err, details: { backend: 'postgres', schema, found: 0, expected: POSTGRES_SCHEMA_VERSION } },
    );
  }
  if (version > POSTGRES_SCHEMA_VERSION) throw aheadError(schema, version);
  if (version < POSTGRES_SCHEMA_VERSION) {
    throw new SchemaMismatchError(
      `PostgreSQL schema "${schema}" is at version ${version}, behind this package (version ${POSTGRES_SCHEMA_VERSION}): call migratePostgres({ pool, schema: '${schema}' })`,
      { details: { backend: 'postgres', schema, found: version, expected: POSTGRES_SCHEMA_VERSION } },
    );
  }
  return { isolation };
}

function aheadError(schema: string, found: number): SchemaMismatchError {
  return new SchemaMismatchError(
    `PostgreSQL schema "${schema}" is at version ${found}, ahead of this package (version ${POSTGRES_SCHEMA_VERSION}): upgrade digital-fabrica; nothing was changed`,
    { details: { backend: 'postgres', schema, found, expected: POSTGRES_SCHEMA_VERSION } },
  );
}
