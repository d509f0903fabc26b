import net from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueAdapter } from '../../src/adapters/index.js';
import { createPostgresQueue } from '../../src/adapters/postgres/index.js';
import { createRedisQueue } from '../../src/adapters/redis/index.js';
import { createWorker } from '../../src/tasks/index.js';
import { recordingLogger } from '../support/recording-logger.js';

/**
 * A server that accepts connections and never answers: a database behind a network partition,
 * or a hung one. With the clients' defaults (pg: no connect timeout; ioredis: commands wait for
 * their replies) every call to it waits for ever. BullMQ's Worker.close() hangs in that state
 * (bullmq#4656, #2430); ours must not.
 */
describe('a queue whose server never answers', () => {
  let server: net.Server;
  let port = 0;
  const sockets = new Set<net.Socket>();
  beforeAll(async () => {
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const backends: { name: string; open: () => { queue: QueueAdapter; end: () => Promise<void> } }[] = [
    {
      name: 'redis',
      open: () => {
        const client = new Redis({ host: '127.0.0.1', port, lazyConnect: false });
        client.on('error', () => undefined);
        return { queue: createRedisQueue({ client, prefix: 'silent' }), end: async () => client.disconnect() };
      },
    },
    {
      name: 'postgres',
      open: () => {
        const pool = new pg.Pool({ connectionString: `postgres://x@127.0.0.1:${port}/x` });
        pool.on('error', () => undefined);
        return { queue: createPostgresQueue({ pool, schema: 'silent' }), end: async () => void pool.end().catch(() => undefined) };
      },
    },
  ];

  for (const backend of backends) {
    it(`${backend.name}: waitForWork keeps its timeout and its abort while the subscription cannot be set up`, async () => {
      const { queue, end } = backend.open();
      try {
        let started = Date.now();
        await queue.waitForWork(300).catch(() => undefined);
        expect(Date.now() - started).toBeLessThan(1_500);
        const abort = new AbortController();
        started = Date.now();
        const waiting = queue.waitForWork(60_000, abort.signal).catch(() => undefined);
        setTimeout(() => abort.abort(), 100);
        await waiting;
        expect(Date.now() - started).toBeLessThan(1_500);
      } finally {
        await queue.close();
        await end();
      }
    });

    it(`${backend.name}: a worker's close() returns within its timeout, with a claim still hanging`, async () => {
      const { queue, end } = backend.open();
      const logger = recordingLogger();
      try {
        const worker = createWorker({ queue, logger, handlers: { job: () => undefined } });
        await new Promise((resolve) => setTimeout(resolve, 200)); // the first claim is in flight by now
        const started = Date.now();
        await worker.close({ timeoutMs: 500 });
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(logger.lines.some((l) => l.message.includes('closing without waiting longer for a claim in flight'))).toBe(true);
      } finally {
        await queue.close();
        await end();
      }
    });
  }
});
