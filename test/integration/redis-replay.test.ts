import net from 'node:net';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisStorage } from '../../src/adapters/redis/index.js';
import { redisKeyLayout } from '../../src/adapters/redis/keys.js';
import { waitFor } from '../../src/adapters/testing/index.js';
import { closeRedis, connectRedis, deletePrefixKeys, randomPrefix } from '../support/redis-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('redisUrl');

/**
 * A forwarder that can lose the server's replies while still delivering requests: exactly the
 * window in which a client cannot know whether its command ran. `dropConnections()` then resets
 * every connection, so the client reconnects (through the same port) and resends.
 */
async function startLossyProxy(port: number): Promise<{ port: number; loseReplies(): void; dropConnections(): void; close(): Promise<void> }> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; losing: boolean }>();
  let losing = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    const pair = { client, upstream, losing: false };
    pairs.add(pair);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!pair.losing) client.write(chunk);
    });
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    if (losing) pair.losing = true;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    loseReplies() {
      losing = true;
      for (const p of pairs) p.losing = true;
    },
    dropConnections() {
      losing = false;
      for (const p of [...pairs]) {
        p.client.resetAndDestroy();
        p.upstream.destroy();
        pairs.delete(p);
      }
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (url === '') {
  skipWithoutServer('redis storage writes resent after a lost reply', 'Redis server');
} else {
  describe('redis storage writes resent after a lost reply', () => {
    const prefix = randomPrefix('dfreplay');
    const clients: Redis[] = [];
    afterAll(async () => {
      await Promise.all(clients.map(closeRedis));
      await deletePrefixKeys(url, prefix);
    });

    it('applies a counter add and a CAS exactly once when ioredis resends them after reconnecting', async () => {
      const proxy = await startLossyProxy(Number(new URL(url).port));
      try {
        // ioredis defaults: in-flight commands are resent after a reconnect. Generous retries, so
        // the resend (not a MaxRetriesPerRequestError) is what happens.
        const viaProxy = connectRedis(`redis://127.0.0.1:${proxy.port}`, { maxRetriesPerRequest: 20 });
        const direct = connectRedis(url);
        clients.push(viaProxy, direct);
        const storage = createRedisStorage({ client: viaProxy, prefix });
        const layout = redisKeyLayout(prefix);
        const ns = 'replay';
        const { version } = await storage.put(ns, 'doc', 'v1');
        // Warm the script cache: a NOSCRIPT answer lost with the replies would stall the test.
        await storage.add(ns, 'warm-up', 1);

        proxy.loseReplies();
        // Settled into values right away, so a failure never leaves an unhandled rejection.
        const settle = <T>(p: Promise<T>): Promise<T | Error> => p.catch((err: Error) => err);
        const add = settle(storage.add(ns, 'quota', 1, { max: 1 }));
        const cas = settle(storage.txn({
          compare: [{ namespace: ns, key: 'doc', version }],
          success: [{ type: 'put', namespace: ns, key: 'doc', value: 'v2' }],
          failure: [{ type: 'put', namespace: ns, key: 'lost', value: true }],
        }));
        // Both ran on the server (seen directly), but their replies never reached the client.
        await waitFor(async () => (await direct.hget(layout.document(ns, 'quota'), 'v')) === '1' && (await direct.hget(layout.document(ns, 'doc'), 'v')) === '"v2"', {
          what: 'the writes to run on the server',
        });
        proxy.dropConnections();

        // The resent calls get the first runs' replies: granted once, CAS reported as succeeded.
        expect(await add).toMatchObject({ applied: true, value: 1 });
        const result = await cas;
        if (result instanceof Error) throw result;
        expect(result.succeeded).toBe(true);
        expect((await storage.get(ns, 'quota'))!.value).toBe(1);
        expect((await storage.get(ns, 'doc'))!).toMatchObject({ value: 'v2', version: result.results[0]!.version });
        expect(await storage.get(ns, 'lost')).toBeNull();
        await storage.close();
      } finally {
        await proxy.close();
      }
    });
  });
}
