/**
 * Several "processes" on one storage backend, for integration tests of stateful services: each
 * handle has its own pool or client, all share one fresh schema or key prefix. Memory handles share
 * one MemoryStorageState (and the caller's clock).
 */
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { createMemoryStorage, MemoryStorageState } from '../../src/adapters/memory/index.js';
// Module files rather than the backends' index files: only storage is needed here.
import { migratePostgres } from '../../src/adapters/postgres/migrate.js';
import { createPostgresStorage } from '../../src/adapters/postgres/storage.js';
import { createRedisStorage } from '../../src/adapters/redis/storage.js';
import type { StorageAdapter } from '../../src/adapters/storage.js';
import type { Clock } from '../../src/core/clock.js';
import { createTestPool, dropSchema, randomSchema } from './postgres-harness.js';
import { closeRedis, connectRedis, deletePrefixKeys, randomPrefix } from './redis-harness.js';

/** A backend that hands out storage handles standing for separate processes. */
export interface StorageBackend {
  readonly name: string;
  /** False when the server is missing (the global setup already failed the run under CI). */
  readonly available: boolean;
  /** One storage handle per simulated process, all on the same data. */
  open(count: number): Promise<StorageAdapter[]>;
  /** Closes every handle's connection and removes the test's schema or keys. */
  teardown(): Promise<void>;
}

/** Memory handles sharing one state. */
export function memoryStorageBackend(clock?: Clock): StorageBackend {
  const state = new MemoryStorageState();
  return {
    name: 'memory',
    available: true,
    async open(count) {
      return Array.from({ length: count }, () => createMemoryStorage({ state, ...(clock ? { clock } : {}) }));
    },
    async teardown() {},
  };
}

/** PostgreSQL handles, one pool each, on a fresh migrated schema named after `tag`. */
export function postgresStorageBackend(url: string, tag: string): StorageBackend {
  const schema = randomSchema(tag);
  const pools: pg.Pool[] = [];
  let migrated = false;
  return {
    name: 'postgres',
    available: url !== '',
    async open(count) {
      if (!migrated) {
        const pool = createTestPool(url);
        try {
          await migratePostgres({ pool, schema });
        } finally {
          await pool.end();
        }
        migrated = true;
      }
      return Promise.all(
        Array.from({ length: count }, async () => {
          const pool = createTestPool(url);
          pools.push(pool);
          const storage = createPostgresStorage({ pool, schema });
          await storage.init();
          return storage;
        }),
      );
    },
    async teardown() {
      await Promise.all(pools.map((pool) => pool.end()));
      if (migrated) await dropSchema(url, schema);
    },
  };
}

/** Redis handles, one client each, under a fresh key prefix named after `tag`. */
export function redisStorageBackend(url: string, tag: string): StorageBackend {
  const prefix = randomPrefix(tag);
  const clients: Redis[] = [];
  return {
    name: 'redis',
    available: url !== '',
    async open(count) {
      return Promise.all(
        Array.from({ length: count }, async () => {
          const client = connectRedis(url);
          clients.push(client);
          const storage = createRedisStorage({ client, prefix });
          await storage.init();
          return storage;
        }),
      );
    },
    async teardown() {
      await Promise.all(clients.map(closeRedis));
      if (url !== '') await deletePrefixKeys(url, prefix);
    },
  };
}
