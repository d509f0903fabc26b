import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { JsonValue } from '../../src/adapters/storage.js';
import { createRedisPubSub, createRedisStorage } from '../../src/adapters/redis/index.js';
import { waitFor } from '../../src/adapters/testing/index.js';
import { closeRedis, connectRedis, randomPrefix } from '../support/redis-harness.js';
import { startRedisServer, type RedisServerProcess } from '../support/redis-server.js';
import { skipWithoutServer } from '../support/missing-server.js';
import { recordingLogger } from '../support/recording-logger.js';

// The shared server is empty when the binary is missing (the global setup already fails under CI).
const haveServer = inject('redisUrl') !== '';

if (!haveServer) {
  skipWithoutServer('redis pub/sub across a server restart', 'redis-server');
} else {
  describe('redis pub/sub across a server restart', () => {
    // A private server: stopping the shared one would break every other test file.
    let server: RedisServerProcess | undefined;
    const clients: Redis[] = [];
    afterAll(async () => {
      await Promise.all(clients.map(closeRedis));
      await server?.stop();
    });

    it('re-subscribes by itself after the real server restarts, and storage recovers too', async () => {
      server = await startRedisServer();
      const port = server.port;
      const prefix = randomPrefix('dfrestart');
      const logger = recordingLogger();
      const publisherClient = connectRedis(server.url);
      const subscriberHost = connectRedis(server.url);
      clients.push(publisherClient, subscriberHost);
      const publisher = createRedisPubSub({ client: publisherClient, prefix });
      const subscriber = createRedisPubSub({ client: subscriberHost, prefix, logger });
      const storage = createRedisStorage({ client: publisherClient, prefix });

      const received: JsonValue[] = [];
      await subscriber.subscribe('events', (message) => void received.push(message));
      await publisher.publish('events', 'before');
      await waitFor(() => received.includes('before'), { what: 'delivery before the restart' });

      await server.stop();
      // While the server is down, commands fail fast with a retryable code instead of hanging.
      const down = await storage.get('ns', 'k').then(
        () => 'ok',
        (err: { code?: string }) => err.code,
      );
      expect(down).toBe('ADAPTER_UNAVAILABLE');
      server = await startRedisServer({ port });

      // The new server knows no subscriptions: a delivery proves ioredis re-subscribed
      // (autoResubscribe). Messages sent before that are lost (at most once), so keep publishing.
      let sent = 0;
      await waitFor(
        async () => {
          sent += 1;
          await publisher.publish('events', `after-${sent}`).catch(() => undefined);
          return received.some((m) => typeof m === 'string' && m.startsWith('after-'));
        },
        { timeoutMs: 20_000, intervalMs: 50, what: 'delivery after the restart' },
      );
      // Delivery goes on in order once re-subscribed.
      await publisher.publish('events', 'final');
      await waitFor(() => received.includes('final'), { what: 'the final message' });
      expect(received.indexOf('final')).toBe(received.length - 1);

      // New subscriptions on the recovered connection work, and so does storage on the host client.
      const late: JsonValue[] = [];
      await subscriber.subscribe('late', (message) => void late.push(message));
      await publisher.publish('late', { ok: true });
      await waitFor(() => late.length === 1, { what: 'delivery on a new channel' });
      expect((await storage.put('ns', 'k', 1)).version).toBeGreaterThan(0);

      // The connection loss was logged, by error name/code only.
      const warnings = logger.lines.filter((l) => l.level === 'warn');
      expect(warnings.length).toBeGreaterThan(0);
      for (const w of warnings) expect(Object.keys(w.fields ?? {}).sort()).toEqual(['code', 'error']);

      await Promise.all([publisher.close(), subscriber.close(), storage.close()]);
    });
  });
}
