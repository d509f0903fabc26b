import { inject } from 'vitest';
import { describeRateLimitContract } from '../../src/adapters/testing/index.js';
import { createPostgresRateLimitStore } from '../../src/adapters/postgres/index.js';
import { postgresHarness } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('databaseUrl');

if (url === '') {
  skipWithoutServer('RateLimitStore contract: postgres', 'PostgreSQL server');
} else {
  // A fresh schema for this file, migrated once; each open() is a new pool behind this file's TCP proxy.
  describeRateLimitContract(
    'postgres',
    postgresHarness(url, (pool, schema) => createPostgresRateLimitStore({ pool, schema })),
  );
}
