import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JsonValue, PubSub } from '../../src/adapters/index.js';
import { createRedisPubSub, createRedisQueue } from '../../src/adapters/redis/index.js';
import { waitFor } from '../../src/adapters/testing/support.js';
import { closeRedis, connectRedis, deletePrefixKeys, randomPrefix } from '../support/redis-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';
import { recordingLogger } from '../support/recording-logger.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { CHURN_MS, churnSubscriptions, runsTaskEnqueuedDuringOutage, wakeAndDeliverThroughEach, wokenWithin } from '../support/shared-listening.js';

const url = inject('redisUrl');

// Every pub/sub adapter and queue handle made from one client subscribes over one shared
// connection. Before, each opened its own with client.duplicate(): six queues held six.
if (url === '') {
  skipWithoutServer('redis shared subscriber connection', 'redis-server');
} else {
  describe('redis shared subscriber connection', () => {
    const prefix = randomPrefix('dfss');
    const clients: Redis[] = [];
    let admin: Redis;
    /** A client whose connections (the duplicates too) carry `name` in CLIENT LIST. */
    const clientNamed = (name: string): Redis => {
      const client = connectRedis(url, { connectionName: name });
      clients.push(client);
      return client;
    };
    /** Connections named `name`: all of them, and those in subscriber mode. */
    const connections = async (name: string): Promise<{ all: number; subscribers: number }> => {
      const list = (await admin.call('CLIENT', 'LIST')) as string;
      const mine = list.split('\n').filter((line) => new RegExp(`(^| )name=${name}( |$)`).test(line));
      return { all: mine.length, subscribers: mine.filter((line) => / flags=\w*P/.test(line)).length };
    };

    beforeAll(() => {
      admin = connectRedis(url);
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => closeRedis(c)));
      await deletePrefixKeys(url, prefix);
      await closeRedis(admin);
    });

    it('six queue handles and two pub/sub adapters on one client all wake and deliver over one subscriber connection', async () => {
      const name = `dfss-six-${process.pid}`;
      const client = clientNamed(name);
      const queues = Array.from({ length: 6 }, (_, i) => createRedisQueue({ client, prefix, queue: `six-${i}` }));
      const pubsubs: PubSub[] = [createRedisPubSub({ client, prefix }), createRedisPubSub({ client, prefix })];
      try {
        await wakeAndDeliverThroughEach(queues, pubsubs);
        // The host's client and one subscriber connection.
        expect(await connections(name)).toEqual({ all: 2, subscribers: 1 });
      } finally {
        for (const adapter of [...queues, ...pubsubs]) await adapter.close();
      }
      await waitFor(async () => (await connections(name)).all === 1, { what: 'the subscriber connection to close with the last adapter' });
      expect(client.status).toBe('ready');
    });

    it('closing adapters one by one keeps the others subscribed; the last close closes the connection; a new adapter opens one again', async () => {
      const name = `dfss-close-${process.pid}`;
      const client = clientNamed(name);
      const first = createRedisPubSub({ client, prefix });
      const second = createRedisPubSub({ client, prefix });
      const queue = createRedisQueue({ client, prefix, queue: 'closing' });
      const a: JsonValue[] = [];
      const b: JsonValue[] = [];
      await first.subscribe('same', (m) => void a.push(m));
      await second.subscribe('same', (m) => void b.push(m));
      const own = await second.subscribe('own', (m) => void b.push(m));
      await queue.claim('w', 1, 10_000);
      expect((await connections(name)).subscribers).toBe(1);

      await first.close();
      await first.close(); // idempotent
      await second.publish('same', 'after first closed');
      await second.publish('own', 'own channel');
      await waitFor(() => b.length === 2, { what: 'the second adapter still receiving' });
      expect(a).toEqual([]);
      expect(await wokenWithin(queue, 20_000, () => queue.enqueue({ type: 'job', tenantId: 'acme', payload: null }))).toBe(true);

      // Unsubscribing keeps the connection (the adapter is still open); only UNSUBSCRIBE is sent.
      await own();
      const ownChannel = `${prefix}:ps:own`;
      await waitFor(async () => Number(((await admin.call('PUBSUB', 'NUMSUB', ownChannel)) as [string, number])[1]) === 0, { what: 'UNSUBSCRIBE' });
      expect((await connections(name)).subscribers).toBe(1);

      await second.close();
      expect(await wokenWithin(queue, 20_000, () => queue.enqueue({ type: 'job', tenantId: 'acme', payload: null }))).toBe(true);
      await queue.close();
      await waitFor(async () => (await connections(name)).all === 1, { what: 'the subscriber connection to close' });

      const third = createRedisPubSub({ client, prefix });
      const c: JsonValue[] = [];
      await third.subscribe('same', (m) => void c.push(m));
      await third.publish('same', 'again');
      await waitFor(() => c.length === 1, { what: 'delivery on a new connection' });
      expect(await connections(name)).toEqual({ all: 2, subscribers: 1 });
      await third.close();
    });

    it('survives churn: random subscribes, unsubscribes and closes of ten adapters while its connection is killed; all deliver after, none leaks', async () => {
      const name = `dfss-churn-${process.pid}`;
      const client = clientNamed(name);
      const open = (): PubSub => createRedisPubSub({ client, prefix });
      const kill = async () => {
        const list = (await admin.call('CLIENT', 'LIST')) as string;
        const ids = list.split('\n').filter((line) => line.includes(` name=${name} `) && / flags=\w*P/.test(line)).map((line) => /^id=(\d+)/.exec(line)![1]!);
        for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
      };
      const churned = await churnSubscriptions(Array.from({ length: 10 }, open), CHURN_MS, kill, open);
      try {
        expect(churned.failures).toBe(0);
        await churned.adapters[0]!.publish('final', 'after the churn');
        await waitFor(() => churned.received.every((n) => n === 1), { what: 'every adapter to receive' });
        expect(await connections(name)).toEqual({ all: 2, subscribers: 1 });
      } finally {
        for (const adapter of churned.adapters) await adapter.close();
      }
      await waitFor(async () => (await connections(name)).all === 1, { what: 'the subscriber connection to close' });
    });

    it('with one logger for every adapter on the client, each error of the shared connection is logged once', async () => {
      const target = new URL(url);
      const proxy = await startTcpProxy(target.hostname, Number(target.port));
      const client = connectRedis(`redis://127.0.0.1:${proxy.port}`, { retryStrategy: () => 100 });
      clients.push(client);
      const log = recordingLogger();
      const queues = Array.from({ length: 5 }, (_, i) => createRedisQueue({ client, prefix, queue: `onelog-${i}`, logger: log }));
      const pubsub = createRedisPubSub({ client, prefix, logger: log });
      try {
        await pubsub.subscribe('onelog', () => undefined);
        for (const queue of queues) await queue.claim('w', 1, 10_000);
        // One second without the server: the subscriber connection is reset, then refused on each
        // retry (every 100 ms), about ten errors.
        await proxy.interrupt();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await proxy.restore();
        const errors = log.lines.filter((l) => l.message === 'redis pubsub connection error');
        // Six adapters, one logger: a line per error (six per error before).
        expect(errors.length).toBeGreaterThanOrEqual(2);
        expect(errors.length).toBeLessThanOrEqual(15);
        // Once the connection is back and has subscribed again (messages sent before are lost,
        // as pub/sub goes), wake-ups arrive again.
        const numsub = async (): Promise<number> => Number(((await admin.call('PUBSUB', 'NUMSUB', `${prefix}:ps:onelog`)) as [string, number])[1]);
        await waitFor(async () => (await numsub()) === 1, { timeoutMs: 10_000, what: 'the subscriptions restored' });
        expect(await wokenWithin(queues[0]!, 20_000, () => queues[0]!.enqueue({ type: 'job', tenantId: 'acme', payload: null }))).toBe(true);
      } finally {
        for (const adapter of [...queues, pubsub]) await adapter.close();
        await proxy.close();
      }
    });

    it('a task enqueued while the subscriber connection is down runs soon after it is back, though the worker polls only every 120 s', async () => {
      const target = new URL(url);
      const proxy = await startTcpProxy(target.hostname, Number(target.port));
      const client = connectRedis(`redis://127.0.0.1:${proxy.port}`, { retryStrategy: () => 100 });
      clients.push(client);
      const direct = createRedisQueue({ client: admin, prefix, queue: 'missed-wake' });
      const queue = createRedisQueue({ client, prefix, queue: 'missed-wake' });
      try {
        await runsTaskEnqueuedDuringOutage(direct, queue, proxy);
      } finally {
        await queue.close();
        await direct.close();
        await proxy.close();
      }
    });

    it('two prefixes on one client share the connection and never hear each other', async () => {
      const name = `dfss-prefix-${process.pid}`;
      const client = clientNamed(name);
      const here = createRedisPubSub({ client, prefix });
      const there = createRedisPubSub({ client, prefix: `${prefix}x` });
      const gotHere: JsonValue[] = [];
      const gotThere: JsonValue[] = [];
      try {
        await here.subscribe('same', (m) => void gotHere.push(m));
        await there.subscribe('same', (m) => void gotThere.push(m));
        await there.publish('same', 'for there');
        await here.publish('same', 'for here');
        await waitFor(() => gotHere.length === 1 && gotThere.length === 1, { what: 'both prefixes' });
        expect(gotHere).toEqual(['for here']);
        expect(gotThere).toEqual(['for there']);
        expect((await connections(name)).subscribers).toBe(1);
      } finally {
        await here.close();
        await there.close();
      }
    });
  });
}
