import { inject } from 'vitest';
import { describeReservationContract } from '../../src/adapters/testing/index.js';
import { createRedisReservationStore } from '../../src/adapters/redis/index.js';
import { redisHarness } from '../support/redis-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('redisUrl');

if (url === '') {
  skipWithoutServer('ReservationStore contract: redis', 'Redis server');
} else {
  // A random prefix for this file; each open() is a new client behind this file's TCP proxy.
  describeReservationContract(
    'redis',
    redisHarness(url, (client, prefix) => createRedisReservationStore({ client, prefix })),
  );
}
