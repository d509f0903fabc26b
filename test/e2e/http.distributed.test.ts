/**
 * The end-to-end suite on TWO example server processes sharing PostgreSQL (storage, queue,
 * reservations) and Redis (cache, pub/sub, rate limits): requests alternate between them, and
 * WebSocket clients of one receive events raised by the other.
 */
import { describe, inject, it } from 'vitest';
import { dropSchema, randomSchema } from '../support/postgres-harness.js';
import { deletePrefixKeys, randomPrefix } from '../support/redis-harness.js';
import { describeApi, SUITE_ENV } from './api-suite.js';
import { startServer } from './support.js';

const databaseUrl = inject('databaseUrl');
const redisUrl = inject('redisUrl');

if (!databaseUrl || !redisUrl) {
  describe('HTTP API end to end (PostgreSQL + Redis, two processes)', () => {
    // Local runs only: under CI=true the global setup fails the run when a server is missing.
    it.skip(`needs PostgreSQL and Redis: ${inject('serverNotes')}`, () => undefined);
  });
} else {
  describeApi('PostgreSQL + Redis, two processes', async () => {
    const schema = randomSchema('dfhttp');
    const prefix = randomPrefix('dfhttp');
    const env = { ...SUITE_ENV, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, FABRICA_SCHEMA: schema, FABRICA_REDIS_PREFIX: prefix };
    // The first process migrates the schema; the second starts against the migrated one.
    const a = await startServer(env);
    const b = await startServer(env);
    return {
      a: a.url,
      b: b.url,
      admin: { email: SUITE_ENV.FABRICA_ADMIN_EMAIL, password: SUITE_ENV.FABRICA_ADMIN_PASSWORD },
      async stop() {
        await Promise.all([a.stop(), b.stop()]);
        await dropSchema(databaseUrl, schema);
        await deletePrefixKeys(redisUrl, prefix);
      },
    };
  });
}
