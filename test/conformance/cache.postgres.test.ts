import { inject } from 'vitest';
import { describeCacheContract } from '../../src/adapters/testing/index.js';
import { createPostgresCache } from '../../src/adapters/postgres/index.js';
import { postgresHarness } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('databaseUrl');

if (url === '') {
  skipWithoutServer('CacheAdapter contract: postgres', 'PostgreSQL server');
} else {
  // A fresh schema for this file, migrated once; each open() is a new pool behind this file's TCP proxy.
  describeCacheContract(
    'postgres',
    postgresHarness(url, (pool, schema) => createPostgresCache({ pool, schema })),
  );
}
