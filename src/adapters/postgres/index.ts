/**
 * PostgreSQL backends for storage, cache, pub/sub and the task queue. They take the host's pool — a `pg.Pool`, or
 * anything with the same `query()`/`connect()` shape, typed structurally so this package never
 * imports `pg` — and never end it.
 *
 * ```ts
 * import pg from 'pg';
 * import { migratePostgres, createPostgresStorage, createPostgresCache, createPostgresPubSub } from 'digital-fabrica/adapters/postgres';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgres({ pool });            // once per deploy; safe to run from every replica
 * const storage = createPostgresStorage({ pool });
 * ```
 *
 * Design, in short:
 * - Tables live in one schema (default `digital_fabrica`), created and upgraded by
 *   {@link migratePostgres} from the SQL in {@link POSTGRES_MIGRATIONS}, under an advisory lock.
 *   Adapters check the schema version on first use and fail with `ADAPTER_SCHEMA_MISMATCH` when
 *   the database is behind or ahead of the package (or migrate it themselves with `migrate: true`).
 * - Every storage operation is one round trip: reads are single SELECTs; writes call plpgsql
 *   functions that take per-document advisory locks (in sorted order for `txn`), so compares —
 *   also on absent documents — are atomic against every concurrent writer.
 * - Versions come from one sequence; expiry from the database clock; expired rows are invisible
 *   at once and removed by a background sweep.
 * - Pub/sub uses LISTEN/NOTIFY on one dedicated pooled connection per adapter, reconnecting with
 *   backoff; messages over NOTIFY's 8000-byte limit travel through a table.
 * - The task queue (`createPostgresQueue`) claims in one plpgsql function per call: the fair
 *   policy runs inside it under a per-queue advisory lock, task rows are taken `FOR UPDATE SKIP
 *   LOCKED`, tenant virtual times live in `queue_tenant_bands`, and idle workers wake on
 *   `LISTEN/NOTIFY` instead of polling.
 * - Driver errors never escape: connection loss becomes `ADAPTER_UNAVAILABLE` (retryable), write
 *   conflicts `CONFLICT`, missing schema objects `ADAPTER_SCHEMA_MISMATCH`, anything else
 *   `INTERNAL`, each with `cause`; messages never contain parameter values.
 *
 * Requirements on the host's side: PostgreSQL 11 or newer with UTF-8 encoding; the pool at READ
 * COMMITTED (PostgreSQL's default), since the write functions rely on each statement seeing what
 * committed before its lock was granted; a session-mode connection for pub/sub (`LISTEN` does not
 * work through PgBouncer's transaction pooling). Give the pool an `'error'` listener and a
 * `connectionTimeoutMillis`, as `pg` recommends, so outages surface as `ADAPTER_UNAVAILABLE`
 * instead of waiting for ever.
 *
 * @module
 */
export { createPostgresStorage, type PostgresStorageOptions } from './storage.js';
export { createPostgresCache, type PostgresCacheOptions } from './cache.js';
export { createPostgresPubSub, type PostgresPubSubOptions } from './pubsub.js';
export { createPostgresQueue, type PostgresQueueOptions } from './queue.js';
export { createPostgresRateLimitStore, type PostgresRateLimitStoreOptions } from './rate-limit.js';
export { createPostgresReservationStore, type PostgresReservationStoreOptions } from './reservations.js';
export { migratePostgres, type MigratePostgresOptions, type MigratePostgresResult } from './migrate.js';
export { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION, type PostgresMigration } from './migrations.js';
export { DEFAULT_SCHEMA as POSTGRES_DEFAULT_SCHEMA, type PostgresAdapterOptions } from './options.js';
export type { PgNotification, PgPool, PgPoolClient, PgQueryResult, PgQueryable } from './driver.js';
