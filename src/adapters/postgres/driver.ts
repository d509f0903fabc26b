/**
 * Structural driver types: only what the PostgreSQL backend calls, so the package never imports
 * `pg` (not even its types) and any compatible pool fits — `pg.Pool` does as is.
 */

/** Result of one query: the rows and, for writes, how many rows were affected. */
export interface PgQueryResult<R> {
  /** Rows as objects keyed by column name. */
  readonly rows: R[];
  /** Affected rows for INSERT/UPDATE/DELETE; `null` when the driver does not know. */
  readonly rowCount: number | null;
}

/**
 * Anything that runs a parameterised query (`$1`, `$2`, ...): a pool or a checked-out client.
 *
 * Values are passed as the driver serialises them: strings, numbers, booleans, `null`, arrays of
 * those (PostgreSQL arrays) and `Buffer`/`Uint8Array` (bytea).
 */
export interface PgQueryable {
  /** Runs one statement. The adapter reads `rows` (and `rowCount` for writes). */
  query<R = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<PgQueryResult<R>>;
}

/** A `NOTIFY` as delivered to a listening connection. */
export interface PgNotification {
  /** The channel identifier, as passed to `LISTEN`. */
  readonly channel: string;
  /** The payload string (empty when none was sent). */
  readonly payload?: string | undefined;
}

/**
 * A connection checked out of the pool. The pub/sub backend holds one per pool for `LISTEN`; it listens to
 * `notification` and `error` events and gives the connection back with `release()` — passing the
 * error when the connection broke, so the pool discards it instead of reusing it.
 */
export interface PgPoolClient extends PgQueryable {
  /** Returns the connection to the pool; a truthy argument makes the pool destroy it. */
  release(err?: Error | boolean): void;
  /** Subscribes to connection events (`pg.Client` is an EventEmitter). */
  on(event: 'notification', listener: (message: PgNotification) => void): unknown;
  /** Subscribes to connection events (`pg.Client` is an EventEmitter). */
  on(event: 'error', listener: (err: Error) => void): unknown;
  /** Removes a listener added with {@link PgPoolClient.on}. */
  removeListener(event: 'notification', listener: (message: PgNotification) => void): unknown;
  /** Removes a listener added with {@link PgPoolClient.on}. */
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * The host's connection pool, e.g. `new pg.Pool(...)`. The adapters run single statements on it
 * and, together, keep one connection checked out for `LISTEN` while any of them listens (so a
 * pool that serves listeners needs `max` >= 2). They never call
 * `end()`: the pool belongs to the host.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import type { PgPool } from 'digital-fabrica/adapters/postgres';
 * const pool: PgPool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * ```
 */
export interface PgPool extends PgQueryable {
  /** Checks a connection out; the adapter always gives it back with `release()`. */
  connect(): Promise<PgPoolClient>;
}
