import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import type { CacheAdapter, CacheSetOptions } from '../cache.js';
import { parseCacheKey, parseCacheKeys, parseCachePrefix, parseCacheSet } from '../internal/cache-requests.js';
import type { PgPool } from './driver.js';
import { mapPgError } from './errors.js';
import { prefixUpperBound } from './key-range.js';
import { Lifecycle, sweepInBatches } from './lifecycle.js';
import { quoteIdentifier } from './migrations.js';
import { adapterOptionsShape, resolveAdapterOptions, type PostgresAdapterOptions, type ResolvedAdapterOptions } from './options.js';
import { cacheStatements, type CacheStatements } from './sql/cache.js';

/** Options of {@link createPostgresCache}: see {@link PostgresAdapterOptions}. */
export type PostgresCacheOptions = PostgresAdapterOptions;

const optionsSchema = z.strictObject(adapterOptionsShape);

/**
 * A byte cache in an UNLOGGED PostgreSQL table (`<schema>.cache_entries`): shared by every process
 * on the database, cheap to write (no WAL), and allowed by the contract to lose entries on a
 * server crash. Expiry follows the database clock; expired entries are never returned and are
 * deleted by a background sweep every `sweepIntervalMs`. Nothing is evicted early.
 *
 * @throws `VALIDATION_FAILED` for bad options. Methods throw `ADAPTER_SCHEMA_MISMATCH` while the
 *   schema is not migrated, `ADAPTER_UNAVAILABLE` when the database cannot be reached,
 *   `ADAPTER_CLOSED` after `close()`.
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresCache } from 'digital-fabrica/adapters/postgres';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const cache = createPostgresCache({ pool, migrate: true });
 * await cache.set('etag:/api/tasks', new TextEncoder().encode('W/"1"'), { ttlMs: 60_000 });
 * const bytes = await cache.get('etag:/api/tasks');
 * ```
 */
export function createPostgresCache(options: PostgresCacheOptions): CacheAdapter {
  return new PostgresCache(resolveAdapterOptions(parseInput(optionsSchema, options, 'postgres cache options')));
}

class PostgresCache implements CacheAdapter {
  readonly #pool: PgPool;
  readonly #sql: CacheStatements;
  readonly #life: Lifecycle;

  constructor(options: ResolvedAdapterOptions) {
    this.#pool = options.pool;
    this.#sql = cacheStatements(quoteIdentifier(options.schema));
    this.#life = new Lifecycle('cache', options, () => sweepInBatches((limit) => this.#count('cache.sweep', this.#sql.sweep, [limit])));
  }

  async init(): Promise<void> {
    await this.#life.ready();
  }

  async get(key: string): Promise<Uint8Array | null> {
    const k = parseCacheKey(key);
    const [row] = await this.#query<{ value: Uint8Array }>('cache.get', this.#sql.get, [k]);
    return row === undefined ? null : toBytes(row.value);
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    const ks = parseCacheKeys(keys);
    if (ks.length === 0) {
      await this.#life.ready();
      return [];
    }
    const rows = await this.#query<{ key: string; value: Uint8Array }>('cache.getMany', this.#sql.getMany, [ks]);
    const byKey = new Map(rows.map((row) => [row.key, row.value]));
    return ks.map((k) => {
      const value = byKey.get(k);
      return value === undefined ? null : toBytes(value);
    });
  }

  async set(key: string, value: Uint8Array, options?: CacheSetOptions): Promise<void> {
    const req = parseCacheSet(key, value, options);
    // Buffer.from copies: the caller may reuse its array while the query waits for a connection.
    await this.#query('cache.set', this.#sql.set, [req.key, Buffer.from(req.value), req.ttlMs ?? null]);
  }

  async delete(key: string): Promise<boolean> {
    const k = parseCacheKey(key);
    const [row] = await this.#query<{ live: boolean }>('cache.delete', this.#sql.delete, [k]);
    return row?.live === true;
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    const p = parseCachePrefix(prefix);
    await this.#life.ready();
    return this.#count('cache.deleteByPrefix', this.#sql.deleteRange, [p, prefixUpperBound(p)]);
  }

  async close(): Promise<void> {
    this.#life.close();
  }

  async #query<R>(operation: string, text: string, values: readonly unknown[]): Promise<R[]> {
    await this.#life.ready();
    try {
      return (await this.#pool.query<R>(text, values)).rows;
    } catch (err) {
      throw mapPgError(err, operation);
    }
  }

  async #count(operation: string, text: string, values: readonly unknown[]): Promise<number> {
    try {
      const { rows } = await this.#pool.query<{ count: number }>(text, values);
      return Number(rows[0]?.count ?? 0);
    } catch (err) {
      throw mapPgError(err, operation);
    }
  }
}

// pg returns bytea as a Buffer, possibly a slice of a shared pool; hand out a plain, private copy.
function toBytes(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}
