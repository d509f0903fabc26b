import { describe, inject, it } from 'vitest';
import { describeQueueContract } from '../../src/adapters/testing/index.js';
import { postgresQueueHarness } from '../support/postgres-queue-harness.js';

const url = inject('databaseUrl');

if (url === '') {
  console.warn(`\n!!! QueueAdapter contract: postgres SKIPPED — no PostgreSQL server: ${inject('serverNotes')}\n`);
  describe.skip('QueueAdapter contract: postgres', () => {
    it('needs a PostgreSQL server (install postgresql or set DATABASE_URL)', () => undefined);
  });
} else {
  // A fresh schema for this file; every handle has its own pool.
  describeQueueContract('postgres', postgresQueueHarness(url));
}
