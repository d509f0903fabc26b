import { describe, inject, it } from 'vitest';
import { describeReservationContract } from '../../src/adapters/testing/index.js';
import { createPostgresReservationStore } from '../../src/adapters/postgres/index.js';
import { postgresHarness } from '../support/postgres-harness.js';

const url = inject('databaseUrl');

if (url === '') {
  console.warn(`\n!!! ReservationStore contract: postgres SKIPPED — no PostgreSQL server: ${inject('serverNotes')}\n`);
  describe.skip('ReservationStore contract: postgres', () => {
    it('needs a PostgreSQL server (install postgresql or set DATABASE_URL)', () => undefined);
  });
} else {
  // A fresh schema for this file, migrated once; each open() is a new pool behind this file's TCP proxy.
  describeReservationContract(
    'postgres',
    postgresHarness(url, (pool, schema) => createPostgresReservationStore({ pool, schema })),
  );
}
