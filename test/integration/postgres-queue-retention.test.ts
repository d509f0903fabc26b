import { describe, expect, inject, it } from 'vitest';
import type { QueueAdapter } from '../../src/adapters/queue.js';
import { queueTaskReads } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';
import { useQueueSchema } from '../support/postgres-queue-harness.js';

const url = inject('databaseUrl');

/**
 * Schema version 11: purging tasks past their retention reads only what it removes, and
 * completions purge. (That completions alone keep the retained set bounded is a conformance test,
 * run on every backend.) Version 10 selected `finished_at + retention <= now`, which no index
 * answers: with nothing due, every maintenance call read every retained task, under the queue's
 * lock.
 */
if (url === '') {
  skipWithoutServer('postgres queue retention', 'PostgreSQL server');
} else {
  describe('postgres queue retention', () => {
    const db = useQueueSchema(url, 'dfretain', { sweepIntervalMs: 0 });
    const { schema } = db;
    const open = (name: string): QueueAdapter => db.open(name);

    const rowsRead = (sql: string) => queueTaskReads(url, schema, sql);

    async function completeAll(queue: QueueAdapter, n: number, extra: { maxAttempts?: number; fail?: boolean } = {}): Promise<void> {
      await queue.enqueueMany(Array.from({ length: n }, (_, i) => ({ type: 'job', tenantId: `t${i % 5}`, payload: null, maxAttempts: extra.maxAttempts ?? 3 })));
      for (;;) {
        const { tasks } = await queue.claim('w', 500, 60_000);
        if (tasks.length === 0) break;
        if (extra.fail) for (const t of tasks) await queue.fail(t.lease, { error: { code: 'E', message: 'x' }, final: true });
        else await Promise.all(tasks.map((t) => queue.complete(t.lease)));
      }
    }

    it('maintenance with nothing due reads none of the retained tasks', async () => {
      const queue = open('nothing-due');
      await queue.configure({ failedRetentionMs: 3_600_000 });
      await completeAll(queue, 2_000);
      await completeAll(queue, 300, { fail: true });
      await db.pool.query(`ANALYZE "${schema}".queue_tasks`);
      const { read, rows } = await rowsRead(`SELECT o_kind, o_attempt FROM "${schema}".queue_maintain('nothing-due', 'ch', 1000)`);
      expect(rows).toEqual([{ o_kind: 'p', o_attempt: 0 }]);
      // Version 10 read all 2,300 retained tasks to find that none was due.
      expect(read).toBeLessThan(50);
      expect((await queue.stats()).counts).toMatchObject({ completed: 2_000, failed: 300 });
    });

    it('maintenance with some due reads about what it removes, oldest first, and counts them', async () => {
      const queue = open('some-due');
      await completeAll(queue, 1_000);
      // Age the first 400 by an hour and a minute, as if they had finished then.
      await db.pool.query(
        `UPDATE "${schema}".queue_tasks SET finished_at = finished_at - 3660000
          WHERE id IN (SELECT id FROM "${schema}".queue_tasks WHERE queue = 'some-due' ORDER BY finished_at, id LIMIT 400)`,
      );
      await db.pool.query(`ANALYZE "${schema}".queue_tasks`);
      const { read, rows } = await rowsRead(`SELECT o_kind, o_attempt FROM "${schema}".queue_maintain('some-due', 'ch', 1000)`);
      expect(rows).toEqual([{ o_kind: 'p', o_attempt: 400 }]);
      expect(read).toBeLessThan(400 * 2 + 50);
      expect((await queue.stats()).counts).toMatchObject({ completed: 600 });
    });

    it('concurrent completions purge each expired task once, neither waiting for the other', async () => {
      const queue = open('concurrent');
      await completeAll(queue, 600);
      await db.pool.query(`UPDATE "${schema}".queue_tasks SET finished_at = finished_at - 3660000 WHERE queue = 'concurrent'`);
      await queue.enqueueMany(Array.from({ length: 400 }, (_, i) => ({ type: 'job', tenantId: `t${i % 5}`, payload: null })));
      const { tasks } = await queue.claim('w', 400, 60_000);
      // Four handles, each its own connections: four completion batches of 100 in parallel, each
      // allowed to purge 200 of the 600 expired tasks.
      const handles = [queue, open('concurrent'), open('concurrent'), open('concurrent')];
      await Promise.all(handles.map((h, i) => Promise.all(tasks.slice(i * 100, (i + 1) * 100).map((t) => h.complete(t.lease)))));
      const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".queue_tasks WHERE queue = 'concurrent'`);
      // Every batch purged what it could; a skipped row was purged by another batch.
      expect(Number(rows[0]!.n)).toBe(400);
      expect((await queue.stats()).counts).toMatchObject({ completed: 400 });
    });
  });
}
