import { describe, inject, it } from 'vitest';
import { describePubSubContract } from '../../src/adapters/testing/index.js';
import { createRedisPubSub } from '../../src/adapters/redis/index.js';
import { redisHarness } from '../support/redis-harness.js';

const url = inject('redisUrl');

if (url === '') {
  console.warn(`\n!!! PubSub contract: redis SKIPPED — no Redis server: ${inject('serverNotes')}\n`);
  describe.skip('PubSub contract: redis', () => {
    it('needs a Redis server (install redis-server or set REDIS_URL)', () => undefined);
  });
} else {
  // A random prefix for this file; each open() is a new client behind this file's TCP proxy.
  describePubSubContract(
    'redis',
    redisHarness(url, (client, prefix) => createRedisPubSub({ client, prefix })),
  );
}
