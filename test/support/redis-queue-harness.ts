import type { QueueHarness } from '../../src/adapters/testing/queue.js';
import { createRedisQueue } from '../../src/adapters/redis/index.js';
import { redisHarness } from './redis-harness.js';

/**
 * Queue harness on Redis: a random prefix per file; every handle gets its own client, and reaches
 * the server through the harness's TCP proxy, so `outage` cuts and restores connectivity for
 * these handles only (their wake-up subscriptions included).
 */
export function redisQueueHarness(url: string): QueueHarness & { readonly prefix: string } {
  const clients = redisHarness(url, (client) => client, { prefixBase: 'dfq', client: { maxRetriesPerRequest: 3 } });
  return {
    prefix: clients.prefix,
    async open(queue) {
      return createRedisQueue({ client: await clients.open(), prefix: clients.prefix, queue });
    },
    outage: clients.outage,
    teardown: clients.teardown,
  };
}
