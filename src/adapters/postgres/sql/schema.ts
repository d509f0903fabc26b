/**
 * Statements of `migratePostgres()` and of the schema version check. `s` is the quoted schema
 * identifier; each constant's comment names its `$n` parameters.
 */

/** Salt of the migration lock key, so it cannot collide with the per-document lock keys. */
export const MIGRATION_LOCK_SALT = 'digital-fabrica:migrate:';

/**
 * Serialises concurrent migrators of one schema until their transaction ends.
 * $1: lock name (`MIGRATION_LOCK_SALT` + schema name).
 */
export const LOCK_MIGRATIONS = 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))';

/** Creates the schema if needed (no parameters). */
export const createSchema = (s: string): string => `CREATE SCHEMA IF NOT EXISTS ${s}`;

/** Creates the table recording applied migrations (no parameters). */
export const createMigrationsTable = (s: string): string => `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** Lists applied migration versions in ascending order (no parameters). Rows: `version`. */
export const selectAppliedVersions = (s: string): string => `SELECT version FROM ${s}.schema_migrations ORDER BY version`;

/** Records one applied migration. $1: version, $2: name. */
export const insertMigration = (s: string): string => `INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`;

/**
 * The schema's current version: the highest applied migration, 0 when none; and the session's
 * isolation level, checked in the same round trip. Fails with 42P01 or 3F000 when the schema was
 * never migrated (no parameters). Rows: `version`, `isolation`.
 */
export const selectSchemaVersion = (s: string): string =>
  `SELECT coalesce(max(version), 0)::int AS version, current_setting('transaction_isolation') AS isolation FROM ${s}.schema_migrations`;
