import { inject } from 'vitest';
import { describeQueueContract } from '../../src/adapters/testing/index.js';
import { redisQueueHarness } from '../support/redis-queue-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('redisUrl');

if (url === '') {
  skipWithoutServer('QueueAdapter contract: redis', 'Redis server');
} else {
  // A random prefix for this file; every handle has its own client.
  describeQueueContract('redis', redisQueueHarness(url));
}
