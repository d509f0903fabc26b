import { inject } from 'vitest';
import { describeRateLimitContract } from '../../src/adapters/testing/index.js';
import { createRedisRateLimitStore } from '../../src/adapters/redis/index.js';
import { redisHarness } from '../support/redis-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('redisUrl');

if (url === '') {
  skipWithoutServer('RateLimitStore contract: redis', 'Redis server');
} else {
  // A random prefix for this file; each open() is a new client behind this file's TCP proxy.
  describeRateLimitContract(
    'redis',
    redisHarness(url, (client, prefix) => createRedisRateLimitStore({ client, prefix })),
  );
}
