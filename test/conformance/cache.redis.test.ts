import { inject } from 'vitest';
import { describeCacheContract } from '../../src/adapters/testing/index.js';
import { createRedisCache } from '../../src/adapters/redis/index.js';
import { redisHarness } from '../support/redis-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('redisUrl');

if (url === '') {
  skipWithoutServer('CacheAdapter contract: redis', 'Redis server');
} else {
  // A random prefix for this file; each open() is a new client behind this file's TCP proxy.
  describeCacheContract(
    'redis',
    redisHarness(url, (client, prefix) => createRedisCache({ client, prefix })),
  );
}
