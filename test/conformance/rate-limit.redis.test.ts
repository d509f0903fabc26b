import { describe, inject, it } from 'vitest';
import { describeRateLimitContract } from '../../src/adapters/testing/index.js';
import { createRedisRateLimitStore } from '../../src/adapters/redis/index.js';
import { redisHarness } from '../support/redis-harness.js';

const url = inject('redisUrl');

if (url === '') {
  console.warn(`\n!!! RateLimitStore contract: redis SKIPPED — no Redis server: ${inject('serverNotes')}\n`);
  describe.skip('RateLimitStore contract: redis', () => {
    it('needs a Redis server (install redis-server or set REDIS_URL)', () => undefined);
  });
} else {
  // A random prefix for this file; each open() is a new client behind this file's TCP proxy.
  describeRateLimitContract(
    'redis',
    redisHarness(url, (client, prefix) => createRedisRateLimitStore({ client, prefix })),
  );
}
