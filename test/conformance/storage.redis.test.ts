import { inject } from 'vitest';
import { describeStorageContract } from '../../src/adapters/testing/index.js';
import { createRedisStorage } from '../../src/adapters/redis/index.js';
import { redisHarness } from '../support/redis-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('redisUrl');

if (url === '') {
  skipWithoutServer('StorageAdapter contract: redis', 'Redis server');
} else {
  // A random prefix for this file; each open() is a new client behind this file's TCP proxy.
  describeStorageContract(
    'redis',
    redisHarness(url, (client, prefix) => createRedisStorage({ client, prefix })),
  );
}
