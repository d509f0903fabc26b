import { describe, expectTypeOf, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../../src/adapters/redis/index.js';

describe('redis driver interface', () => {
  it('is satisfied by ioredis Redis and Cluster clients as they are (checked by the type checker)', () => {
    expectTypeOf<Redis>().toExtend<RedisClient>();
    expectTypeOf<Cluster>().toExtend<RedisClient>();
  });
});
