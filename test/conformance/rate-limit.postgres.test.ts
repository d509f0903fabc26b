import { describe, inject, it } from 'vitest';
import { describeRateLimitContract } from '../../src/adapters/testing/index.js';
import { createPostgresRateLimitStore } from '../../src/adapters/postgres/index.js';
import { postgresHarness } from '../support/postgres-harness.js';

const url = inject('databaseUrl');

if (url === '') {
  console.warn(`\n!!! RateLimitStore contract: postgres SKIPPED — no PostgreSQL server: ${inject('serverNotes')}\n`);
  describe.skip('RateLimitStore contract: postgres', () => {
    it('needs a PostgreSQL server (install postgresql or set DATABASE_URL)', () => undefined);
  });
} else {
  // A fresh schema for this file, migrated once; each open() is a new pool behind this file's TCP proxy.
  describeRateLimitContract(
    'postgres',
    postgresHarness(url, (pool, schema) => createPostgresRateLimitStore({ pool, schema })),
  );
}
