import { describe, inject, it } from 'vitest';
import { describeQueueContract } from '../../src/adapters/testing/index.js';
import { redisQueueHarness } from '../support/redis-queue-harness.js';

const url = inject('redisUrl');

if (url === '') {
  console.warn(`\n!!! QueueAdapter contract: redis SKIPPED — no Redis server: ${inject('serverNotes')}\n`);
  describe.skip('QueueAdapter contract: redis', () => {
    it('needs a Redis server (install redis-server or set REDIS_URL)', () => undefined);
  });
} else {
  // A random prefix for this file; every handle has its own client.
  describeQueueContract('redis', redisQueueHarness(url));
}
