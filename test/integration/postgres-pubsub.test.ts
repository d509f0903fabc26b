import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JsonValue, PubSub } from '../../src/adapters/index.js';
import { createPostgresPubSub, migratePostgres } from '../../src/adapters/postgres/index.js';
import { caught, waitFor } from '../../src/adapters/testing/support.js';
import { createTestPool, dropSchema, randomSchema } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';
import { recordingLogger } from '../support/recording-logger.js';

const url = inject('databaseUrl');

if (url === '') {
  skipWithoutServer('postgres pub/sub', 'PostgreSQL server');
} else {
  describe('postgres pub/sub', () => {
    const schema = randomSchema('dfps');
    const pools: pg.Pool[] = [];
    const adapters: PubSub[] = [];
    let admin: pg.Pool;
    const newPool = (overrides: pg.PoolConfig = {}): pg.Pool => {
      const pool = createTestPool(url, overrides);
      pools.push(pool);
      return pool;
    };
    const open = (pool: pg.Pool, extra: Partial<Parameters<typeof createPostgresPubSub>[0]> = {}): PubSub => {
      const adapter = createPostgresPubSub({ pool, schema, ...extra });
      adapters.push(adapter);
      return adapter;
    };
    const collector = () => {
      const received: JsonValue[] = [];
      return { received, handler: (message: JsonValue) => void received.push(message) };
    };

    beforeAll(async () => {
      admin = createTestPool(url);
      await migratePostgres({ pool: admin, schema });
    });
    afterAll(async () => {
      for (const adapter of adapters) await adapter.close();
      await Promise.all(pools.map((p) => p.end()));
      await admin.end();
      await dropSchema(url, schema);
    });

    it('carries messages of every size intact to a subscriber on another pool, around the 8000-byte NOTIFY limit and far past it', async () => {
      const publisher = open(newPool());
      const subscriber = open(newPool());
      const sink = collector();
      await subscriber.subscribe('big', sink.handler);
      // JSON of a string of n ASCII characters is n + 2 bytes; the inline payload adds a 1-byte tag.
      const sizes = [7_990, 7_995, 7_996, 7_997, 7_998, 8_000, 8_001, 20_000];
      const messages: JsonValue[] = sizes.map((n, i) => String(i % 10).repeat(n));
      messages.push({ blob: 'ü'.repeat(3_000) }, { blob: '🙂'.repeat(512 * 1024) }, 'x'.repeat(3 * 1024 * 1024));
      for (const message of messages) await publisher.publish('big', message);
      await waitFor(() => sink.received.length === messages.length, { timeoutMs: 15_000, what: 'every message' });
      expect(sink.received.length).toBe(messages.length);
      for (const [i, message] of messages.entries()) expect(sink.received[i], `message #${i}`).toEqual(message);
    });

    it('sweeps stored large payloads after their retention', async () => {
      const publisher = open(newPool(), { sweepIntervalMs: 50, payloadRetentionMs: 1_000 });
      await publisher.publish('sweep', 'y'.repeat(10_000));
      const count = async () => (await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".pubsub_payloads`)).rows[0]!.n;
      expect(await count()).toBeGreaterThan(0);
      await waitFor(async () => (await count()) === 0, { timeoutMs: 10_000, what: 'payload sweep' });
    });

    it('reconnects after its LISTEN backend is killed with pg_terminate_backend, and receives again', async () => {
      const logger = recordingLogger();
      const publisher = open(newPool());
      const subscriber = open(newPool({ application_name: 'df-listen-kill' }), { logger });
      const sink = collector();
      await subscriber.subscribe('survivor', sink.handler);
      await subscriber.subscribe('survivor.two', sink.handler);
      await publisher.publish('survivor', 'before');
      await waitFor(() => sink.received.includes('before'), { what: 'first delivery' });

      const { rows } = await admin.query<{ killed: boolean }>(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'df-listen-kill'`,
      );
      expect(rows.length).toBeGreaterThan(0);
      await waitFor(() => logger.lines.some((l) => l.message.includes('reconnected')), { timeoutMs: 15_000, what: 'reconnect' });
      // Both channels are listened to again on the new connection.
      await publisher.publish('survivor', 'after');
      await publisher.publish('survivor.two', 'after two');
      await waitFor(() => sink.received.includes('after') && sink.received.includes('after two'), { timeoutMs: 10_000, what: 'delivery after reconnect' });
      expect(logger.lines.some((l) => l.level === 'warn' && l.fields?.code === 'ADAPTER_UNAVAILABLE')).toBe(true);
    });

    it('a resolved subscribe() means LISTEN has completed: a message published right after it arrives', async () => {
      const publisher = open(newPool());
      const subscriber = open(newPool());
      for (let i = 0; i < 20; i++) {
        const sink = collector();
        const unsubscribe = await subscriber.subscribe(`fresh.${i}`, sink.handler);
        await publisher.publish(`fresh.${i}`, i);
        await waitFor(() => sink.received.length === 1, { what: `message on fresh.${i}` });
        await unsubscribe();
      }
    });

    it('close() is idempotent, gives the LISTEN connection back and never ends the host pool', async () => {
      const pool = newPool({ max: 2 });
      const pubsub = createPostgresPubSub({ pool, schema });
      await pubsub.subscribe('closing', () => undefined);
      expect(pool.totalCount - pool.idleCount).toBe(1); // the LISTEN connection is checked out
      await pubsub.close();
      await pubsub.close();
      expect(pool.totalCount - pool.idleCount).toBe(0);
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
      expect((await caught(() => pubsub.subscribe('closing', () => undefined))).code).toBe('ADAPTER_CLOSED');
      // The connection went back clean: whoever gets it next is not listening to anything.
      const clients = await Promise.all([pool.connect(), pool.connect()]);
      try {
        for (const client of clients) {
          const { rows } = await client.query<{ channel: string }>('SELECT pg_listening_channels() AS channel');
          expect(rows).toEqual([]);
        }
      } finally {
        for (const client of clients) client.release();
      }
    });

    it('logs handler errors without their messages and keeps delivering', async () => {
      const logger = recordingLogger();
      const publisher = open(newPool());
      const subscriber = open(newPool(), { logger });
      const sink = collector();
      const secret = 'token=hunter2';
      await subscriber.subscribe('faulty', () => {
        throw new Error(secret);
      });
      await subscriber.subscribe('faulty', sink.handler);
      await publisher.publish('faulty', 1);
      await waitFor(() => sink.received.length === 1 && logger.lines.some((l) => l.level === 'error'), { what: 'delivery and log line' });
      expect(JSON.stringify(logger.lines)).not.toContain('hunter2');
    });

    it('keeps two schemas apart even on equal channel names', async () => {
      const otherSchema = randomSchema('dfps2');
      await migratePostgres({ pool: admin, schema: otherSchema });
      try {
        const here = open(newPool());
        const there = createPostgresPubSub({ pool: newPool(), schema: otherSchema });
        adapters.push(there);
        const sinkHere = collector();
        const sinkThere = collector();
        await here.subscribe('same', sinkHere.handler);
        await there.subscribe('same', sinkThere.handler);
        await there.publish('same', 'for there');
        await here.publish('same', 'for here');
        await waitFor(() => sinkHere.received.length === 1 && sinkThere.received.length === 1, { what: 'both schemas' });
        expect(sinkHere.received).toEqual(['for here']);
        expect(sinkThere.received).toEqual(['for there']);
      } finally {
        await dropSchema(url, otherSchema);
      }
    });

    it('keeps publish order when one publisher fires without awaiting', async () => {
      const publisher = open(newPool({ max: 5 }));
      const subscriber = open(newPool());
      const sink = collector();
      await subscriber.subscribe('burst', sink.handler);
      // Mixed sizes: inline and stored messages must still arrive in order.
      const messages: { i: number; pad?: string }[] = Array.from({ length: 60 }, (_, i) => (i % 7 === 0 ? { i, pad: 'p'.repeat(9_000) } : { i }));
      const json = (m: { i: number; pad?: string }): JsonValue => (m.pad === undefined ? { i: m.i } : { i: m.i, pad: m.pad });
      await Promise.all(messages.map((m) => publisher.publish('burst', json(m))));
      await waitFor(() => sink.received.length === messages.length, { timeoutMs: 10_000, what: 'burst' });
      expect(sink.received.map((m) => (m as { i: number }).i)).toEqual(messages.map((m) => m.i));
    });
  });
}
