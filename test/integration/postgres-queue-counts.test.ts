import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { createPostgresQueue, migratePostgres } from '../../src/adapters/postgres/index.js';
import { POSTGRES_MIGRATIONS, renderMigration } from '../../src/adapters/postgres/migrations.js';
import { CLAIM_TASK_FIELDS, queueStatements, type ClaimRow } from '../../src/adapters/postgres/sql/queue.js';
import { rowFields } from '../../src/adapters/internal/queue-records.js';
import { randomUUID } from 'node:crypto';
import type { QueueAdapter, TaskGroupCounts, TaskLease } from '../../src/adapters/queue.js';
import { createTestPool, dropSchema, queueTaskReads, randomSchema } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';
import { useQueueSchema } from '../support/postgres-queue-harness.js';
import { mulberry32 } from '../../src/adapters/testing/random.js';

const url = inject('databaseUrl');

/**
 * Schema version 8: `stats()` reads counts maintained by the queue functions (appended deltas)
 * instead of counting every task. These tests hold the maintained counts to a recount of the
 * table after every kind of change (the queue's own operations, retention purges, raw SQL), check
 * that a stats call no longer reads the retained tasks, and that a database migrated from version
 * 7 starts with counts equal to its tasks.
 */

type Group = { -readonly [K in keyof TaskGroupCounts]: TaskGroupCounts[K] };

/** The groups `stats()` must report, counted from the tasks themselves (what version 7 did). */
async function recount(pool: pg.Pool, schema: string, queue: string): Promise<Group[]> {
  const { rows } = await pool.query<{ tenant: string; type: string; state: string; ready: boolean; n: string }>(
    `SELECT tenant, type, state, ready, count(*) AS n FROM "${schema}".queue_tasks WHERE queue = $1 GROUP BY 1, 2, 3, 4`,
    [queue],
  );
  const groups = new Map<string, Group>();
  for (const r of rows) {
    const key = `${r.tenant}\u0000${r.type}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = { tenantId: r.tenant, type: r.type, queued: 0, delayed: 0, assigned: 0, running: 0, completed: 0, failed: 0, cancelled: 0, dead: 0 };
      groups.set(key, g);
    }
    const n = Number(r.n);
    const counts = g as unknown as Record<string, number>;
    counts[r.state] = (counts[r.state] ?? 0) + n;
    if (r.state === 'queued' && !r.ready) g.delayed += n;
  }
  return [...groups.values()].sort((a, b) => (a.tenantId + a.type < b.tenantId + b.type ? -1 : 1));
}

function reported(groups: readonly TaskGroupCounts[]): Group[] {
  return groups
    .map(({ tenantId, type, queued, delayed, assigned, running, completed, failed, cancelled, dead }) => ({ tenantId, type, queued, delayed, assigned, running, completed, failed, cancelled, dead }))
    .sort((a, b) => (a.tenantId + a.type < b.tenantId + b.type ? -1 : 1));
}

if (url === '') {
  skipWithoutServer('postgres queue maintained counts', 'PostgreSQL server');
} else {
  describe('postgres queue maintained counts', () => {
    const db = useQueueSchema(url, 'dfcounts');
    const { schema } = db;
    const open = (name: string): QueueAdapter => db.open(name);

    it('stats() equals a recount of the tasks after a random mix of every operation, through every retention', async () => {
      const queue = open('mix');
      await queue.configure({ retentionMs: 3_600_000, failedRetentionMs: null });
      const random = mulberry32(20261126);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const leases: TaskLease[] = [];
      const ids: string[] = [];
      const reached = new Set<string>();
      const tenants = ['acme', 'globex', 'initech'];
      const types = ['render', 'encode'];
      for (let step = 0; step < 300; step++) {
        const roll = random();
        if (roll < 0.3 || ids.length === 0) {
          const batch = Array.from({ length: 1 + Math.floor(random() * 5) }, () => ({
            type: pick(types),
            tenantId: pick(tenants),
            payload: null,
            // Some die at their first failure or expiry: dead tasks while failures are still kept.
            maxAttempts: random() < 0.3 ? 1 : 2,
            // Long delays stay delayed; short ones become ready at a later claim (activation).
            ...(random() < 0.2 ? { delayMs: random() < 0.5 ? 60_000 : 20 } : {}),
            ...(random() < 0.2 ? { idempotencyKey: `k${Math.floor(random() * 10)}` } : {}),
          }));
          for (const r of await queue.enqueueMany(batch)) ids.push(r.task.taskId);
        } else if (roll < 0.5) {
          // w3 is the assignee below: its claims deliver assigned tasks first.
          const { tasks } = await queue.claim(pick(['w1', 'w2', 'w3']), 1 + Math.floor(random() * 4), random() < 0.1 ? 1 : 60_000);
          for (const t of tasks) leases.push(t.lease);
        } else if (roll < 0.62 && leases.length > 0) {
          await queue.complete(leases.splice(Math.floor(random() * leases.length), 1)[0]!, { ok: true }).catch(() => undefined);
        } else if (roll < 0.7 && leases.length > 0) {
          const lease = leases.splice(Math.floor(random() * leases.length), 1)[0]!;
          const error = { code: 'BOOM', message: 'failed on purpose' };
          await queue.fail(lease, random() < 0.5 ? { error, final: true } : { error, retryInMs: random() < 0.5 ? 0 : 60_000 }).catch(() => undefined);
        } else if (roll < 0.76 && leases.length > 0) {
          await queue.release(leases.splice(Math.floor(random() * leases.length), 1)[0]!, random() < 0.5 ? undefined : { delayMs: 60_000 }).catch(() => undefined);
        } else if (roll < 0.82) {
          await queue.assign(pick(ids), 'w3', 60_000).then((a) => leases.push(a.lease), () => undefined);
        } else if (roll < 0.9) {
          await queue.cancel(pick(ids)).catch(() => undefined);
        } else if (roll < 0.95) {
          await queue.delete(pick(ids)).catch(() => undefined);
        } else {
          await queue.reapExpired();
        }
        if (step % 10 === 9) {
          const stats = await queue.stats();
          expect(reported(stats.groups)).toEqual(await recount(db.pool, schema, 'mix'));
          for (const [state, n] of Object.entries(stats.counts)) if (n > 0) reached.add(state);
        }
        // Retention phases: kept, then completions deleted at once, then purged by maintenance.
        if (step === 120) await queue.configure({ retentionMs: 0, failedRetentionMs: 0 });
        if (step === 200) await queue.configure({ retentionMs: 30, failedRetentionMs: 30 });
      }
      const stats = await queue.stats();
      const expected = await recount(db.pool, schema, 'mix');
      expect(reported(stats.groups)).toEqual(expected);
      // Every state was reached at some checkpoint (purges may have emptied some by the end).
      expect([...reached].sort()).toEqual(['assigned', 'cancelled', 'completed', 'dead', 'delayed', 'failed', 'queued', 'running']);
    });

    it('retention purges and TRUNCATE keep the counts exact; a rebuild recounts after raw SQL', async () => {
      const queue = open('purge');
      await queue.enqueueMany(Array.from({ length: 20 }, (_, i) => ({ type: 'job', tenantId: `t${i % 2}`, payload: i })));
      const { tasks } = await queue.claim('w', 20, 60_000);
      for (const t of tasks.slice(0, 15)) await queue.complete(t.lease);
      // Retention 0 purges every completed task on the next maintenance.
      await queue.configure({ retentionMs: 0 });
      await queue.reapExpired();
      expect((await queue.stats()).counts.completed).toBe(0);
      expect(reported((await queue.stats()).groups)).toEqual(await recount(db.pool, schema, 'purge'));
      // An operator's own statements bypass the counts; queue_counts_rebuild() recounts after them.
      await db.pool.query(`UPDATE "${schema}".queue_tasks SET type = 'renamed' WHERE queue = 'purge' AND tenant = 't0'`);
      await db.pool.query(`DELETE FROM "${schema}".queue_tasks WHERE queue = 'purge' AND tenant = 't1'`);
      expect(reported((await queue.stats()).groups)).not.toEqual(await recount(db.pool, schema, 'purge'));
      await db.pool.query(`SELECT "${schema}".queue_counts_rebuild()`);
      expect(reported((await queue.stats()).groups)).toEqual(await recount(db.pool, schema, 'purge'));
      await db.pool.query(`TRUNCATE "${schema}".queue_tasks`);
      expect((await queue.stats()).groups).toEqual([]);
      await queue.enqueue({ type: 'job', tenantId: 't0', payload: null });
      expect((await queue.stats()).counts.queued).toBe(1);
    });

    it('counts stay exact under concurrent claimers, completers and stats readers', async () => {
      const queue = open('concurrent');
      await queue.enqueueMany(Array.from({ length: 600 }, (_, i) => ({ type: 'job', tenantId: `t${i % 7}`, payload: i })));
      const worker = async (id: string) => {
        for (;;) {
          const { tasks } = await queue.claim(id, 25, 60_000);
          if (tasks.length === 0) return;
          await Promise.all(tasks.map((t) => queue.complete(t.lease)));
        }
      };
      const readers = async () => {
        for (let i = 0; i < 20; i++) {
          const s = await queue.stats();
          // Every task is in exactly one state in each snapshot, whatever is in flight.
          const c = s.counts;
          expect(c.queued + c.assigned + c.running + c.completed + c.failed + c.cancelled + c.dead).toBe(600);
        }
      };
      await Promise.all([worker('a'), worker('b'), worker('c'), readers(), readers()]);
      const stats = await queue.stats();
      expect(stats.counts.completed).toBe(600);
      expect(reported(stats.groups)).toEqual(await recount(db.pool, schema, 'concurrent'));
    });

    it('a stats call reads neither the retained tasks nor the waiting backlog', async () => {
      const queue = open('retained');
      await queue.enqueueMany(Array.from({ length: 2_000 }, (_, i) => ({ type: 'job', tenantId: `t${i % 5}`, payload: null })));
      for (;;) {
        const { tasks } = await queue.claim('w', 500, 60_000);
        if (tasks.length === 0) break;
        await Promise.all(tasks.map((t) => queue.complete(t.lease)));
      }
      await queue.enqueueMany(Array.from({ length: 1_000 }, (_, i) => ({ type: 'job', tenantId: `t${i % 5}`, payload: null })));
      await db.pool.query(`ANALYZE "${schema}".queue_tasks`);
      const { read, rows } = await queueTaskReads(url, schema, `SELECT "${schema}".queue_stats('retained') AS stats`);
      const stats = JSON.parse(rows[0]!.stats as string) as { groups: { completed: number; queued: number }[]; oldest: number | null };
      expect(stats.groups.reduce((n, g) => n + g.completed, 0)).toBe(2_000);
      expect(stats.groups.reduce((n, g) => n + g.queued, 0)).toBe(1_000);
      expect(stats.oldest).not.toBeNull();
      // Version 7 read all 2,000 completed tasks for the counts and all 1,000 waiting ones for the oldest.
      expect(read).toBeLessThan(50);
    });

    it('a database migrated from version 7 starts with counts equal to its tasks', async () => {
      // A real version-7 schema, filled through version 7's own functions.
      const old = randomSchema('dfcounts7');
      const s = `"${old}"`;
      const other = createTestPool(url);
      try {
        await other.query(`CREATE SCHEMA ${s}`);
        await other.query(`CREATE TABLE ${s}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        for (const m of POSTGRES_MIGRATIONS.filter((x) => x.version <= 7)) {
          await other.query(renderMigration(m.sql, old));
          await other.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        }
        const sql = queueStatements(s);
        const n = 30;
        const col = <T>(f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
        await other.query(sql.enqueue, [
          'up', 'ch', false, col(() => randomUUID()), col((i) => `t${i % 3}`), col((i) => (i % 2 ? 'a' : 'b')), col(() => null),
          col(() => 'null'), col(() => 2), col(() => 0), col(() => 1), col(() => '{}'), col(() => 3), col(() => null),
          col(() => null), col((i) => (i % 5 === 0 ? 60_000 : 0)),
        ]);
        const claimed = await other.query<ClaimRow>(sql.claim, ['up', 'w', 10, 60_000, col(() => randomUUID()), 'ch']);
        const done = claimed.rows.filter((r) => r.o_kind === 't').map((r) => rowFields(r.o_row)).slice(0, 6);
        await other.query(sql.complete, ['up', 'ch', done.map((f) => f[CLAIM_TASK_FIELDS.id]), done.map((f) => f[CLAIM_TASK_FIELDS.token]), done.map(() => null)]);

        const { applied } = await migratePostgres({ pool: other, schema: old });
        expect(applied).toEqual(POSTGRES_MIGRATIONS.filter((x) => x.version > 7).map((x) => x.version));
        const upgraded = createPostgresQueue({ pool: other, schema: old, queue: 'up' });
        const stats = await upgraded.stats();
        expect(stats.counts).toMatchObject({ queued: 20, delayed: 6, running: 4, completed: 6 });
        expect(reported(stats.groups)).toEqual(await recount(other, old, 'up'));
        // And the upgraded functions keep them: drain the rest.
        for (;;) {
          const { tasks } = await upgraded.claim('w', 50, 60_000);
          if (tasks.length === 0) break;
          for (const t of tasks) await upgraded.complete(t.lease);
        }
        expect(reported((await upgraded.stats()).groups)).toEqual(await recount(other, old, 'up'));
        await upgraded.close();
      } finally {
        await other.end();
        await dropSchema(url, old);
      }
    });
  });
}
