import { describe, inject, it } from 'vitest';
import { describeReservationContract } from '../../src/adapters/testing/index.js';
import { createRedisReservationStore } from '../../src/adapters/redis/index.js';
import { redisHarness } from '../support/redis-harness.js';

const url = inject('redisUrl');

if (url === '') {
  console.warn(`\n!!! ReservationStore contract: redis SKIPPED — no Redis server: ${inject('serverNotes')}\n`);
  describe.skip('ReservationStore contract: redis', () => {
    it('needs a Redis server (install redis-server or set REDIS_URL)', () => undefined);
  });
} else {
  // A random prefix for this file; each open() is a new client behind this file's TCP proxy.
  describeReservationContract(
    'redis',
    redisHarness(url, (client, prefix) => createRedisReservationStore({ client, prefix })),
  );
}
