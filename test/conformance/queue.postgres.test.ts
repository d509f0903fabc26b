import { inject } from 'vitest';
import { describeQueueContract } from '../../src/adapters/testing/index.js';
import { postgresQueueHarness } from '../support/postgres-queue-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('databaseUrl');

if (url === '') {
  skipWithoutServer('QueueAdapter contract: postgres', 'PostgreSQL server');
} else {
  // A fresh schema for this file; every handle has its own pool.
  describeQueueContract('postgres', postgresQueueHarness(url));
}
