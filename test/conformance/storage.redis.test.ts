import { describe, inject, it } from 'vitest';
import { describeStorageContract } from '../../src/adapters/testing/index.js';
import { createRedisStorage } from '../../src/adapters/redis/index.js';
import { redisHarness } from '../support/redis-harness.js';

const url = inject('redisUrl');

if (url === '') {
  console.warn(`\n!!! StorageAdapter contract: redis SKIPPED — no Redis server: ${inject('serverNotes')}\n`);
  describe.skip('StorageAdapter contract: redis', () => {
    it('needs a Redis server (install redis-server or set REDIS_URL)', () => undefined);
  });
} else {
  // A random prefix for this file; each open() is a new client behind this file's TCP proxy.
  describeStorageContract(
    'redis',
    redisHarness(url, (client, prefix) => createRedisStorage({ client, prefix })),
  );
}
