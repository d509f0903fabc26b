import { describe, inject, it } from 'vitest';
import { describeCacheContract } from '../../src/adapters/testing/index.js';
import { createPostgresCache } from '../../src/adapters/postgres/index.js';
import { postgresHarness } from '../support/postgres-harness.js';

const url = inject('databaseUrl');

if (url === '') {
  console.warn(`\n!!! CacheAdapter contract: postgres SKIPPED — no PostgreSQL server: ${inject('serverNotes')}\n`);
  describe.skip('CacheAdapter contract: postgres', () => {
    it('needs a PostgreSQL server (install postgresql or set DATABASE_URL)', () => undefined);
  });
} else {
  // A fresh schema for this file, migrated once; each open() is a new pool behind this file's TCP proxy.
  describeCacheContract(
    'postgres',
    postgresHarness(url, (pool, schema) => createPostgresCache({ pool, schema })),
  );
}
