import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JsonValue, PubSub, QueueAdapter } from '../../src/adapters/index.js';
import type { Logger } from '../../src/core/logger.js';
import { createPostgresPubSub, createPostgresQueue, migratePostgres } from '../../src/adapters/postgres/index.js';
import { createWorker } from '../../src/tasks/index.js';
import { caught, waitFor } from '../../src/adapters/testing/support.js';
import { createTestPool, dropSchema, randomSchema } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';
import { CHURN_MS, churnSubscriptions, runsTaskEnqueuedDuringOutage, wakeAndDeliverThroughEach, wokenWithin } from '../support/shared-listening.js';
import { recordingLogger } from '../support/recording-logger.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const url = inject('databaseUrl');

// Every pub/sub adapter and queue handle on one pool listens on the pool's one shared LISTEN
// connection. Before, each checked out a connection of its own and kept it: `max` handles left no
// connection for queries, and every query then waited for one that never came back.
if (url === '') {
  skipWithoutServer('postgres shared LISTEN connection', 'PostgreSQL server');
} else {
  describe('postgres shared LISTEN connection', () => {
    const schema = randomSchema('dfsl');
    const pools: pg.Pool[] = [];
    const closers: { close(): Promise<void> }[] = [];
    let admin: pg.Pool;
    const newPool = (overrides: pg.PoolConfig = {}): pg.Pool => {
      const pool = createTestPool(url, overrides);
      pools.push(pool);
      return pool;
    };
    const queueOn = (pool: pg.Pool, name: string, logger?: Logger): QueueAdapter => {
      const queue = createPostgresQueue({ pool, schema, queue: name, ...(logger ? { logger } : {}) });
      closers.push(queue);
      return queue;
    };
    const pubsubOn = (pool: pg.Pool, logger?: Logger): PubSub => {
      const pubsub = createPostgresPubSub({ pool, schema, ...(logger ? { logger } : {}) });
      closers.push(pubsub);
      return pubsub;
    };
    const checkedOut = (pool: pg.Pool): number => pool.totalCount - pool.idleCount;
    const listeningBackends = async (application: string): Promise<number> => {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'`,
        [application],
      );
      return rows[0]!.n;
    };

    beforeAll(async () => {
      admin = createTestPool(url);
      await migratePostgres({ pool: admin, schema });
    });
    afterAll(async () => {
      for (const closer of closers) await closer.close();
      await Promise.all(pools.map((p) => p.end()));
      await admin.end();
      await dropSchema(url, schema);
    });

    it('six queue handles and two pub/sub adapters on a pool of two connections all claim, wake and deliver, on one LISTEN connection', async () => {
      const pool = newPool({ max: 2, application_name: 'df-shared-six' });
      const queues = Array.from({ length: 6 }, (_, i) => queueOn(pool, `shared-${i}`));
      const pubsubs = [pubsubOn(pool), pubsubOn(pool)];
      await wakeAndDeliverThroughEach(queues, pubsubs);
      // One connection is held for listening; the other serves the queries and is idle now.
      expect(checkedOut(pool)).toBe(1);
      expect(pool.totalCount).toBeLessThanOrEqual(2);
      expect(await listeningBackends('df-shared-six')).toBe(1);
    });

    it('a pool of one connection: listening fails at once with VALIDATION_FAILED instead of hanging; enqueue and publish still work', async () => {
      const pool = newPool({ max: 1, connectionTimeoutMillis: 0 }); // waits forever for a connection, as pg's default
      const queue = queueOn(pool, 'single');
      const pubsub = pubsubOn(pool);
      await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
      await pubsub.publish('solo', 1);
      const claimError = await caught(() => queue.claim('w', 1, 10_000));
      expect(claimError.code).toBe('VALIDATION_FAILED');
      expect(String((claimError as Error).message)).toContain('max >= 2');
      expect((await caught(() => pubsub.subscribe('solo', () => undefined))).code).toBe('VALIDATION_FAILED');
      expect((await caught(() => queue.waitForWork(1_000))).code).toBe('VALIDATION_FAILED');
      // Nothing was left checked out, and the queue still answers.
      expect(checkedOut(pool)).toBe(0);
      expect((await queue.stats()).counts.queued).toBe(1);
    });

    it('a worker on a pool of one connection reports the misconfiguration with backoff, not in a busy loop', async () => {
      const pool = newPool({ max: 1, connectionTimeoutMillis: 0 });
      const logger = recordingLogger();
      const queue = queueOn(pool, 'single-worker');
      const worker = createWorker({ queue, logger, handlers: { job: () => undefined } });
      await new Promise((resolve) => setTimeout(resolve, 800));
      await worker.close();
      const failed = logger.lines.filter((l) => l.message.includes('claim failed'));
      // Pauses of 100, 200 and 400 ms between claims (before: thousands of claims a second).
      expect(failed.length).toBeGreaterThanOrEqual(2);
      expect(failed.length).toBeLessThanOrEqual(6);
      expect(failed.every((l) => l.fields?.code === 'VALIDATION_FAILED')).toBe(true);
    });

    it('closing adapters one by one keeps the others listening; the last close gives the connection back clean', async () => {
      const pool = newPool({ max: 3 });
      const first = pubsubOn(pool);
      const second = pubsubOn(pool);
      const queue = queueOn(pool, 'closing');
      const a: JsonValue[] = [];
      const b: JsonValue[] = [];
      // Both adapters on the same channel, and one on a channel of its own.
      await first.subscribe('same', (m) => void a.push(m));
      await second.subscribe('same', (m) => void b.push(m));
      await second.subscribe('own', (m) => void b.push(m));
      await queue.claim('w', 1, 10_000);
      expect(checkedOut(pool)).toBe(1);

      await first.close();
      await first.close(); // idempotent
      await second.publish('same', 'after first closed');
      await second.publish('own', 'own channel');
      await waitFor(() => b.length === 2, { what: 'the second adapter still receiving' });
      expect(a).toEqual([]);
      expect(await wokenWithin(queue, 20_000, () => queue.enqueue({ type: 'job', tenantId: 'acme', payload: null }))).toBe(true);

      await second.close();
      expect(await wokenWithin(queue, 20_000, () => queue.enqueue({ type: 'job', tenantId: 'acme', payload: null }))).toBe(true);
      expect(checkedOut(pool)).toBe(1);

      await queue.close();
      expect(checkedOut(pool)).toBe(0);
      const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
      try {
        for (const client of clients) expect((await client.query('SELECT pg_listening_channels() AS channel')).rows).toEqual([]);
      } finally {
        for (const client of clients) client.release();
      }
    });

    it('two schemas on one pool share the connection and never hear each other', async () => {
      const otherSchema = randomSchema('dfsl2');
      await migratePostgres({ pool: admin, schema: otherSchema });
      try {
        const pool = newPool({ max: 2, application_name: 'df-shared-schemas' });
        const here = pubsubOn(pool);
        const there = createPostgresPubSub({ pool, schema: otherSchema });
        closers.push(there);
        const gotHere: JsonValue[] = [];
        const gotThere: JsonValue[] = [];
        await here.subscribe('same', (m) => void gotHere.push(m));
        await there.subscribe('same', (m) => void gotThere.push(m));
        await there.publish('same', 'for there');
        await here.publish('same', 'for here');
        await waitFor(() => gotHere.length === 1 && gotThere.length === 1, { what: 'both schemas' });
        expect(gotHere).toEqual(['for here']);
        expect(gotThere).toEqual(['for there']);
        expect(await listeningBackends('df-shared-schemas')).toBe(1);
        await there.close();
      } finally {
        await dropSchema(url, otherSchema);
      }
    });

    it('with one logger for every adapter on the pool, a lost connection and its reconnect are logged once, not once per adapter', async () => {
      const log = recordingLogger();
      const pool = newPool({ max: 3, application_name: 'df-shared-onelog' });
      const queues = Array.from({ length: 5 }, (_, i) => queueOn(pool, `onelog-${i}`, log));
      const pubsub = pubsubOn(pool, log);
      await pubsub.subscribe('onelog', () => undefined);
      for (const queue of queues) await queue.claim('w', 1, 10_000);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'df-shared-onelog' AND query ILIKE 'LISTEN%'`);
      await waitFor(() => log.lines.some((l) => l.message.includes('reconnected')), { timeoutMs: 15_000, what: 'reconnect logged' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(log.lines.filter((l) => l.message.includes('lost its LISTEN connection'))).toHaveLength(1);
      expect(log.lines.filter((l) => l.message.includes('reconnected'))).toEqual([
        { level: 'info', message: 'postgres pubsub reconnected', fields: { channels: 6 } },
      ]);
    });

    it('a task enqueued while the LISTEN connection is down runs soon after it is back, though the worker polls only every 120 s', async () => {
      const target = new URL(url);
      const proxy = await startTcpProxy(target.hostname, Number(target.port));
      try {
        const pool = newPool({ connectionString: `postgres://${target.username}@127.0.0.1:${proxy.port}${target.pathname}`, max: 3 });
        const direct = queueOn(newPool(), 'missed-wake');
        const queue = queueOn(pool, 'missed-wake');
        await runsTaskEnqueuedDuringOutage(direct, queue, proxy);
      } finally {
        await proxy.close();
      }
    });

    it('survives churn: random subscribes, unsubscribes and closes of ten adapters while its connection is killed; all deliver after, none leaks', async () => {
      const pool = newPool({ max: 3, application_name: 'df-shared-churn' });
      const open = (): PubSub => createPostgresPubSub({ pool, schema });
      const kill = () => admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'df-shared-churn' AND query ILIKE 'LISTEN%'`);
      const churned = await churnSubscriptions(Array.from({ length: 10 }, open), CHURN_MS, kill, open);
      try {
        expect(churned.failures).toBe(0);
        await churned.adapters[0]!.publish('final', 'after the churn');
        await waitFor(() => churned.received.every((n) => n === 1), { what: 'every adapter to receive' });
        expect(await listeningBackends('df-shared-churn')).toBe(1);
      } finally {
        for (const adapter of churned.adapters) await adapter.close();
      }
      expect(checkedOut(pool)).toBe(0);
    });

    it('after the shared connection is killed, every adapter on it is told, and queue wake-ups and messages come through again', async () => {
      const pubsubLog = recordingLogger();
      const queueLog = recordingLogger();
      const pool = newPool({ max: 3, application_name: 'df-shared-kill' });
      const pubsub = pubsubOn(pool, pubsubLog);
      const queue = queueOn(pool, 'killed', queueLog);
      const publisher = pubsubOn(newPool());
      const got: JsonValue[] = [];
      await pubsub.subscribe('after-kill', (m) => void got.push(m));
      await queue.claim('w', 1, 10_000);
      expect(await listeningBackends('df-shared-kill')).toBe(1);

      const { rows } = await admin.query<{ killed: boolean }>(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'df-shared-kill' AND query ILIKE 'LISTEN%'`,
      );
      expect(rows).toEqual([{ killed: true }]);
      for (const log of [pubsubLog, queueLog]) {
        await waitFor(() => log.lines.some((l) => l.message.includes('reconnected')), { timeoutMs: 15_000, what: 'reconnect logged' });
        expect(log.lines.some((l) => l.level === 'warn' && l.fields?.code === 'ADAPTER_UNAVAILABLE')).toBe(true);
      }
      await publisher.publish('after-kill', 'delivered');
      await waitFor(() => got.length === 1, { what: 'message after reconnect' });
      expect(await wokenWithin(queue, 20_000, () => queue.enqueue({ type: 'job', tenantId: 'acme', payload: null }))).toBe(true);
      expect(await listeningBackends('df-shared-kill')).toBe(1);
    });
  });
}
