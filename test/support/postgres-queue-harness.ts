import { afterAll, beforeAll } from 'vitest';
import type { QueueAdapter } from '../../src/adapters/queue.js';
import type { QueueHarness } from '../../src/adapters/testing/queue.js';
import { createPostgresQueue } from '../../src/adapters/postgres/index.js';
import { createTestPool, dropSchema, postgresHarness, randomSchema } from './postgres-harness.js';
import { migratePostgres } from '../../src/adapters/postgres/index.js';
import type pg from 'pg';

/**
 * Queue harness on PostgreSQL: one fresh schema per file, migrated once; every handle gets its
 * own small pool, so concurrent claimers really use separate connections. The pools reach the
 * server through the harness's TCP proxy, so `outage` cuts and restores connectivity for these
 * handles only (their LISTEN connections included).
 */
export function postgresQueueHarness(url: string): QueueHarness & { readonly schema: string } {
  const pools = postgresHarness(url, (pool) => pool, { schemaBase: 'dfq', pool: { max: 4, idleTimeoutMillis: 1_000 } });
  return {
    schema: pools.schema,
    async open(queue) {
      return createPostgresQueue({ pool: await pools.open(), schema: pools.schema, queue });
    },
    outage: pools.outage,
    teardown: pools.teardown,
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
