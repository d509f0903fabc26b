import { inject } from 'vitest';
import { describeStorageContract } from '../../src/adapters/testing/index.js';
import { createPostgresStorage } from '../../src/adapters/postgres/index.js';
import { postgresHarness } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('databaseUrl');

if (url === '') {
  skipWithoutServer('StorageAdapter contract: postgres', 'PostgreSQL server');
} else {
  // A fresh schema for this file, migrated once; each open() is a new pool behind this file's TCP proxy.
  describeStorageContract(
    'postgres',
    postgresHarness(url, (pool, schema) => createPostgresStorage({ pool, schema })),
  );
}
