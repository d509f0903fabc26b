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

