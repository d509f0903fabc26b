import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPostgresQueue, migratePostgres } from '../../src/adapters/postgres/index.js';
import type { QueueAdapter } from '../../src/adapters/queue.js';
import { caught } from '../../src/adapters/testing/support.js';
import { createTestPool, dropSchema, randomSchema } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('databaseUrl');

/**
 * `statsMaxAgeMs`: processes share one stats snapshot per queue in the database instead of each
 * counting every task. Each adapter here has its own pool, as separate processes would.
 */
if (url === '') {
  skipWithoutServer('postgres queue shared stats', 'PostgreSQL server');
} else {
  describe('postgres queue shared stats', () => {
    const schema = randomSchema('dfstats');
    const pools: pg.Pool[] = [];
    const queues: QueueAdapter[] = [];
    const open = (name: string, statsMaxAgeMs?: number): QueueAdapter => {
      const pool = createTestPool(url);
      pools.push(pool);
      const queue = createPostgresQueue({ pool, schema, queue: name, ...(statsMaxAgeMs === undefined ? {} : { statsMaxAgeMs }) });
      queues.push(queue);
      return queue;
    };
    const job = { type: 'noop', tenantId: 'acme', payload: null };

    beforeAll(async () => {
      const pool = createTestPool(url);
      pools.push(pool);
      await migratePostgres({ pool, schema });
    });
    afterAll(async () => {
      for (const q of queues) await q.close();
      for (const p of pools) await p.end();
      await dropSchema(url, schema);
    });

    it('serves one snapshot to every process within the age, while the default still counts each call', async () => {
      const a = open('shared', 60_000);
      const b = open('shared', 60_000);
      const exact = open('shared');
      await a.enqueueMany([job, job, job]);
      const first = await a.stats();
      expect(first.counts.queued).toBe(3);
      await exact.enqueue(job);
      const fromB = await b.stats();
      expect(fromB.counts.queued).toBe(3); // the snapshot a took
      expect(fromB.at).toBe(first.at);
      expect((await exact.stats()).counts.queued).toBe(4);
    });

    it('recounts once the snapshot is older than the age', async () => {
      const q = open('expiring', 20);
      await q.enqueue(job);
      const first = await q.stats();
      await q.enqueue(job);
      await new Promise((resolve) => setTimeout(resolve, 40));
      const second = await q.stats();
      expect(second.counts.queued).toBe(2);
      expect(second.at).toBeGreaterThan(first.at);
    });

    it('a process that finds the snapshot expired while another recounts waits for that recount instead of counting too', async () => {
      const q = open('stampede', 60_000);
      await q.enqueue(job);
      // Another process mid-recount: it holds the queue's stats lock.
      const other = await pools[0]!.connect();
      try {
        await other.query('BEGIN');
        await other.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`${schema}:#stats:stampede`]);
        let settled = false;
        const pending = q.stats().then((s) => {
          settled = true;
          return s;
        });
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(settled).toBe(false);
        // It stores its snapshot (recognisable: 999 queued) and commits; the waiter must read that.
        await other.query(
          `INSERT INTO "${schema}".queue_stats_snapshots (queue, taken_at, body)
           SELECT 'stampede', (b ->> 'at')::bigint, jsonb_set(b, '{groups,0,queued}', '999')::text
             FROM (SELECT "${schema}".queue_stats('stampede')::jsonb AS b) x
           ON CONFLICT (queue) DO UPDATE SET taken_at = excluded.taken_at, body = excluded.body`,
        );
        await other.query('COMMIT');
        expect((await pending).counts.queued).toBe(999);
      } finally {
        other.release();
      }
    });

    it('rejects a bad age with VALIDATION_FAILED', async () => {
      const pool = pools[0]!;
      for (const statsMaxAgeMs of [-1, 1.5, 3_600_001]) {
        expect((await caught(() => Promise.resolve().then(() => createPostgresQueue({ pool, schema, statsMaxAgeMs })))).code).toBe('VALIDATION_FAILED');
      }
    });
  });
}
