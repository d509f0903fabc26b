import { inject } from 'vitest';
import { describeReservationContract } from '../../src/adapters/testing/index.js';
import { createPostgresReservationStore } from '../../src/adapters/postgres/index.js';
import { postgresHarness } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('databaseUrl');

if (url === '') {
  skipWithoutServer('ReservationStore contract: postgres', 'PostgreSQL server');
} else {
  // A fresh schema for this file, migrated once; each open() is a new pool behind this file's TCP proxy.
  describeReservationContract(
    'postgres',
    postgresHarness(url, (pool, schema) => createPostgresReservationStore({ pool, schema })),
  );
}
