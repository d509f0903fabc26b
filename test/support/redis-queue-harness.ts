import type { Redis } from 'ioredis';
import type { QueueHarness } from '../../src/adapters/testing/queue.js';
import { createRedisQueue } from '../../src/adapters/redis/index.js';
import { closeRedis, connectRedis, deletePrefixKeys, randomPrefix } from './redis-harness.js';

/** Queue harness on Redis: a random prefix per file; every handle gets its own client. */
export function redisQueueHarness(url: string): QueueHarness & { readonly prefix: string } {
  const prefix = randomPrefix('dfq');
  const clients = new Set<Redis>();
  return {
    prefix,
    async open(queue) {
      const client = connectRedis(url, { maxRetriesPerRequest: 3 });
      clients.add(client);
      return createRedisQueue({ client, prefix, queue });
    },
    async teardown() {
      await Promise.all([...clients].map(closeRedis));
      clients.clear();
      await deletePrefixKeys(url, prefix);
    },
  };
}
