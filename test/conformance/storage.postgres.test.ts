import { describe, inject, it } from 'vitest';
import { describeStorageContract } from '../../src/adapters/testing/index.js';
import { createPostgresStorage } from '../../src/adapters/postgres/index.js';
import { postgresHarness } from '../support/postgres-harness.js';

const url = inject('databaseUrl');

if (url === '') {
  console.warn(`\n!!! StorageAdapter contract: postgres SKIPPED — no PostgreSQL server: ${inject('serverNotes')}\n`);
  describe.skip('StorageAdapter contract: postgres', () => {
    it('needs a PostgreSQL server (install postgresql or set DATABASE_URL)', () => undefined);
  });
} else {
  // A fresh schema for this file, migrated once; each open() is a new pool behind this file's TCP proxy.
  describeStorageContract(
    'postgres',
    postgresHarness(url, (pool, schema) => createPostgresStorage({ pool, schema })),
  );
}
