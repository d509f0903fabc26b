import { inject } from 'vitest';
import { describePubSubContract } from '../../src/adapters/testing/index.js';
import { createRedisPubSub } from '../../src/adapters/redis/index.js';
import { redisHarness } from '../support/redis-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('redisUrl');

if (url === '') {
  skipWithoutServer('PubSub contract: redis', 'Redis server');
} else {
  // A random prefix for this file; each open() is a new client behind this file's TCP proxy.
  describePubSubContract(
    'redis',
    redisHarness(url, (client, prefix) => createRedisPubSub({ client, prefix })),
  );
}
