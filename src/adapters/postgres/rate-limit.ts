import { z } from 'zod';
import { FabricaError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import type { RateLimitOutcome, RateLimitRequest, RateLimitStore } from '../rate-limit.js';
import { parseRateLimitKeys, parseRateLimitRequest } from '../internal/rate-limit-requests.js';
import type { PgPool } from './driver.js';
import { mapPgError } from './errors.js';
import { Lifecycle, sweepInBatches } from './lifecycle.js';
import { quoteIdentifier } from './migrations.js';
import { adapterOptionsShape, resolveAdapterOptions, type PostgresAdapterOptions } from './options.js';
import { rateLimitStatements, type RateLimitStatements } from './sql/resources.js';

/** Options of {@link createPostgresRateLimitStore}: see {@link PostgresAdapterOptions}. */
export type PostgresRateLimitStoreOptions = PostgresAdapterOptions;

const optionsSchema = z.strictObject(adapterOptionsShape);

/**
 * GCRA on PostgreSQL: every check — however many limits — is one call of the
 * `rate_limit_check` function (one round trip, one transaction) that locks the keys, decides on
 * the database clock and writes only when every limit admits. Rested rows are deleted by a
 * background sweep every `sweepIntervalMs`.
 *
 * @throws `VALIDATION_FAILED` for bad options. Methods throw `ADAPTER_SCHEMA_MISMATCH` while the
 *   schema is not migrated, `ADAPTER_UNAVAILABLE` when the database cannot be reached,
 *   `ADAPTER_CLOSED` after `close()`.
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresRateLimitStore, migratePostgres } from 'digital-fabrica/adapters/postgres';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgres({ pool });
 * const store = createPostgresRateLimitStore({ pool });
 * const outcome = await store.check({ cost: 1, limits: [{ key: 'ip:10.0.0.1', intervalUs: 100_000, burst: 10 }] });
 * console.log(outcome.allowed);
 * ```
 */
export function createPostgresRateLimitStore(options: PostgresRateLimitStoreOptions): RateLimitStore {
  return new PostgresRateLimitStore(resolveAdapterOptions(parseInput(optionsSchema, options, 'postgres rate limit store options')));
}

class PostgresRateLimitStore implements RateLimitStore {
  readonly #pool: PgPool;
  readonly #sql: RateLimitStatements;
  readonly #life: Lifecycle;

  constructor(options: ReturnType<typeof resolveAdapterOptions>) {
    this.#pool = options.pool;
    this.#sql = rateLimitStatements(quoteIdentifier(options.schema));
    this.#life = new Lifecycle('rate limit store', options, () => sweepInBatches((limit) => this.#sweepBatch(limit)), true);
  }

  async init(): Promise<void> {
    await this.#life.ready();
  }

  async check(request: RateLimitRequest): Promise<RateLimitOutcome> {
    const { limits, cost } = parseRateLimitRequest(request);
    const [row] = await this.#query<{ allowed: boolean; now_us: string | number; tats: (string | number)[] }>('rateLimit.check', this.#sql.check, [
      limits.map((l) => l.key),
      limits.map((l) => l.intervalUs),
      limits.map((l) => l.burst),
      cost,
    ]);
    if (row === undefined || !Array.isArray(row.tats) || row.tats.length !== limits.length) throw internal();
    return { allowed: row.allowed === true, nowUs: toInt(row.now_us), tatsUs: row.tats.map(toInt) };
  }

  async reset(keys: readonly string[]): Promise<void> {
    const valid = parseRateLimitKeys(keys);
    if (valid.length === 0) return;
    await this.#query('rateLimit.reset', this.#sql.reset, [valid]);
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

  async #sweepBatch(limit: number): Promise<number> {
    try {
      const { rows } = await this.#pool.query<{ count: number }>(this.#sql.sweep, [limit]);
      return Number(rows[0]?.count ?? 0);
    } catch (err) {
      throw mapPgError(err, 'rateLimit.sweep');
    }
  }
}

function internal(): FabricaError {
  return new FabricaError('INTERNAL', 'postgres rate limit store: unexpected result');
}

function toInt(value: string | number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw internal();
  return n;
}
