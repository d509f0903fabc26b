import { afterAll, beforeAll } from 'vitest';
import type { QueueAdapter } from '../../src/adapters/queue.js';
import type { QueueHarness } from '../../src/adapters/testing/queue.js';
import { createPostgresQueue } from '../../src/adapters/postgres/index.js';
import { createTestPool, dropSchema, randomSchema, withPool } from './postgres-harness.js';
import { migratePostgres } from '../../src/adapters/postgres/index.js';
import type pg from 'pg';

/**
 * Queue harness on PostgreSQL: one fresh schema per file, migrated once; every handle gets its
 * own small pool, so concurrent claimers really use separate connections.
 */
export function postgresQueueHarness(url: string): QueueHarness & { readonly schema: string } {
  const schema = randomSchema('dfq');
  const pools = new Set<pg.Pool>();
  let migrated: Promise<unknown> | undefined;
  return {
    schema,
    async open(queue) {
      await (migrated ??= withPool(url, (pool) => migratePostgres({ pool, schema })));
      const pool = createTestPool(url, { max: 4, idleTimeoutMillis: 1_000 });
      pools.add(pool);
      return createPostgresQueue({ pool, schema, queue });
    },
    async teardown() {
      await Promise.all([...pools].map((pool) => pool.end()));
      pools.clear();
      await dropSchema(url, schema);
    },
  };
}


/**
 * For a describe block: one schema migrated before its tests and one pool (`beforeAll`), queue
 * handles on that pool, and everything closed and dropped after (`afterAll`).
 */
export function useQueueSchema(
  url: string,
  base: string,
  queueOptions: { readonly sweepIntervalMs?: number } = {},
): { readonly schema: string; readonly pool: pg.Pool; open(queue: string): QueueAdapter } {
  const schema = randomSchema(base);
  let pool: pg.Pool | undefined;
  const queues: QueueAdapter[] = [];
  beforeAll(async () => {
    pool = createTestPool(url, { max: 8 });
    await migratePostgres({ pool, schema });
  });
  afterAll(async () => {
    for (const q of queues) await q.close();
    await pool?.end();
    await dropSchema(url, schema);
  });
  return {
    schema,
    get pool() {
      if (pool === undefined) throw new Error('useQueueSchema: the pool exists from beforeAll on');
      return pool;
    },
    open(queue) {
      const handle = createPostgresQueue({ pool: this.pool, schema, queue, ...queueOptions });
      queues.push(handle);
      return handle;
    },
  };
}
