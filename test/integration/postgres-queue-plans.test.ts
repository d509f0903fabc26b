import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPostgresQueue, migratePostgres, POSTGRES_MIGRATIONS } from '../../src/adapters/postgres/index.js';
import { renderMigration } from '../../src/adapters/postgres/migrations.js';
import { queueStatements } from '../../src/adapters/postgres/sql/queue.js';
import type { QueueAdapter } from '../../src/adapters/queue.js';
import { createTestPool, dropSchema, randomSchema } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('databaseUrl');

/**
 * Once a queue's tables have planner statistics (autovacuum gathers them on every real
 * deployment), the claim must stay index-driven. A sequential scan of `queue_tasks` makes every
 * claim cost O(all tasks of all queues, retained ones included): before migration 6, a claim of
 * 500 took ~40 ms instead of ~10 ms at 50 000 tasks, and a drain ran at 11k instead of 40k tasks/s.
 * The check reads the transaction's own scan counters, so it is exact and needs no timing.
 */
if (url === '') {
  skipWithoutServer('postgres queue plans', 'PostgreSQL server');
} else {
  describe('postgres queue plans with statistics', () => {
    const schema = randomSchema('dfplan');
    const name = 'plans';
    let pool: pg.Pool;
    let queue: QueueAdapter;

    beforeAll(async () => {
      pool = createTestPool(url);
      await migratePostgres({ pool, schema });
      queue = createPostgresQueue({ pool, schema, queue: name });
      // 20 000 tasks over 10 tenants, one in ten delayed; 1 000 completed and retained.
      for (let i = 0; i < 20_000; i += 1_000) {
        await queue.enqueueMany(
          Array.from({ length: 1_000 }, (_, k) => ({
            type: 'noop',
            tenantId: `t${(i + k) % 10}`,
            payload: null,
            ...(k % 10 === 0 ? { delayMs: 3_600_000 } : {}),
          })),
        );
      }
      for (let i = 0; i < 2; i++) {
        const { tasks } = await queue.claim('setup', 500, 60_000);
        await Promise.all(tasks.map((t) => queue.complete(t.lease)));
      }
      await pool.query(`ANALYZE "${schema}".queue_tasks, "${schema}".queue_tenant_bands, "${schema}".queues`);
    }, 120_000);

    afterAll(async () => {
      await queue.close();
      await pool.end();
      await dropSchema(url, schema);
    });

    /** Runs `sql` in one transaction; returns its rows and the sequential scans of queue_tasks it made. */
    async function scansOf(sql: string, params: unknown[]): Promise<{ rows: number; seqScans: number }> {
      const client = await pool.connect();
      const counter = `SELECT coalesce(sum(seq_scan), 0)::integer AS n FROM pg_stat_xact_user_tables WHERE schemaname = $1 AND relname = 'queue_tasks'`;
      try {
        await client.query('BEGIN');
        const before = (await client.query<{ n: number }>(counter, [schema])).rows[0]!.n;
        const result = await client.query(sql, params);
        const after = (await client.query<{ n: number }>(counter, [schema])).rows[0]!.n;
        await client.query('COMMIT');
        return { rows: result.rowCount ?? 0, seqScans: after - before };
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      } finally {
        client.release();
      }
    }

    const claimSql = `SELECT * FROM "${schema}".queue_claim($1, $2, $3, $4::bigint, $5::text[], $6)`;
    const claimParams = (limit: number): unknown[] => [name, 'w', limit, 60_000, Array.from({ length: limit }, () => globalThis.crypto.randomUUID()), 'plans-channel'];

    it('a schema migrated before version 6 gets the index-driven claim from migratePostgres', async () => {
      // Put back migration 2's claim, as a database created before version 6 still has it.
      const v2 = POSTGRES_MIGRATIONS.find((m) => m.version === 2)!.sql;
      const start = v2.indexOf('CREATE FUNCTION {{schema}}.queue_claim(');
      const end = v2.indexOf('$fn$;', v2.indexOf('AS $fn$', start)) + '$fn$;'.length;
      const oldClaim = v2.slice(start, end).replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION');
      await pool.query(renderMigration(oldClaim, schema));
      await pool.query(`DELETE FROM "${schema}".schema_migrations WHERE version = 6`);
      expect((await scansOf(claimSql, claimParams(10))).seqScans).toBeGreaterThan(0);

      expect((await migratePostgres({ pool, schema })).applied).toEqual([6]);
      expect(await scansOf(claimSql, claimParams(10))).toEqual({ rows: 10, seqScans: 0 });
    });

    it('claims without scanning the task table', async () => {
      // Several calls: the first executions of a plpgsql statement may be planned differently.
      for (let i = 0; i < 3; i++) {
        const { rows, seqScans } = await scansOf(claimSql, claimParams(200));
        expect(rows).toBe(200);
        expect(seqScans).toBe(0);
      }
    });

    it('reaps expired leases, activates due delayed tasks and ages waiting ones without scanning the task table', async () => {
      const t = `"${schema}".queue_tasks`;
      // Make every phase of the claim find work: 100 expired leases, 100 due delayed tasks, 100 aged tasks.
      await pool.query(`UPDATE ${t} SET lease_expires_at = 0 WHERE id IN (SELECT id FROM ${t} WHERE queue = $1 AND state = 'running' LIMIT 100)`, [name]);
      await pool.query(`UPDATE ${t} SET ready_at = 0 WHERE id IN (SELECT id FROM ${t} WHERE queue = $1 AND state = 'queued' AND NOT ready LIMIT 100)`, [name]);
      await pool.query(`UPDATE ${t} SET promote_at = 0 WHERE id IN (SELECT id FROM ${t} WHERE queue = $1 AND state = 'queued' AND ready AND promote_at IS NOT NULL LIMIT 100)`, [name]);
      const { rows, seqScans } = await scansOf(claimSql, claimParams(50));
      expect(rows).toBeGreaterThan(100); // the reaped leases are reported beside the claimed tasks
      expect(seqScans).toBe(0);
      const left = await pool.query<{ expired: number; due: number; aged: number }>(
        `SELECT count(*) FILTER (WHERE state = 'running' AND lease_expires_at = 0)::integer AS expired,
                count(*) FILTER (WHERE state = 'queued' AND NOT ready AND ready_at = 0)::integer AS due,
                count(*) FILTER (WHERE state = 'queued' AND ready AND promote_at = 0)::integer AS aged
           FROM ${t} WHERE queue = $1`,
        [name],
      );
      expect(left.rows[0]).toEqual({ expired: 0, due: 0, aged: 0 });
    });

    it('settling and reading calls do not scan the task table either', async () => {
      const sql = queueStatements(`"${schema}"`);
      const claimed = await pool.query<{ o_kind: string; o_id: string; o_token: string }>(claimSql, claimParams(60));
      const leases = claimed.rows.filter((r) => r.o_kind === 't').map((r) => ({ id: r.o_id, token: r.o_token }));
      expect(leases).toHaveLength(60);
      const [a, b, c, d, ...rest] = leases as [typeof leases[0], typeof leases[0], typeof leases[0], typeof leases[0], ...typeof leases];
      const calls: [string, string, unknown[], number][] = [
        ['complete', sql.complete, [name, 'ch', rest.map((l) => l.id), rest.map((l) => l.token), rest.map(() => null)], rest.length],
        ['fail', sql.fail, [name, 'ch', a.id, a.token, '{"code":"X","message":"x"}', 0, false], 1],
        ['release', sql.release, [name, 'ch', b.id, b.token, 0], 1],
        ['extend', sql.extend, [name, c.id, c.token, 60_000, null], 1],
        ['cancel', sql.cancel, [name, 'ch', d.id, false], 1],
        ['get', sql.get, [name, d.id], 1],
        ['list', sql.list, [name, 't3', '00000000-0000-0000-0000-000000000000', 'queued', null, null, 50], 50],
      ];
      for (const [label, text, params, rows] of calls) {
        expect({ label, ...(await scansOf(text, params)) }).toEqual({ label, rows, seqScans: 0 });
      }
    });

    it('takes back the tasks of a lost claim without scanning the task table', async () => {
      const sql = queueStatements(`"${schema}"`);
      const params = claimParams(5);
      const tokens = params[4] as string[];
      await pool.query(claimSql, params);
      // Twice: the first execution may be planned differently; the second finds the renewed leases.
      for (let i = 0; i < 2; i++) expect(await scansOf(sql.recover, [name, 'w', tokens, 60_000, 10, [tokens[0]]])).toEqual({ rows: 5, seqScans: 0 });
      // Another worker asking with the same tokens takes back nothing.
      expect(await scansOf(sql.recover, [name, 'other', tokens, 60_000, 10, [tokens[0]]])).toEqual({ rows: 0, seqScans: 0 });
    });

    it('a claim that comes up short finds the next due time without scanning the task table', async () => {
      // Another queue of the same table with delayed tasks only: the claim returns no task, and
      // its last phase looks up when the next one becomes due.
      const later = createPostgresQueue({ pool, schema, queue: 'plans-later' });
      await later.enqueueMany(Array.from({ length: 2_000 }, (_, i) => ({ type: 'noop', tenantId: `t${i % 10}`, payload: null, delayMs: 60_000 + i })));
      await pool.query(`ANALYZE "${schema}".queue_tasks`);
      const params = ['plans-later', 'w', 10, 60_000, Array.from({ length: 10 }, () => globalThis.crypto.randomUUID()), 'plans-channel'];
      const result = await pool.query<{ o_kind: string; o_next_ms: string }>(claimSql, params);
      expect(result.rows.map((r) => r.o_kind)).toEqual(['n']);
      expect(Number(result.rows[0]!.o_next_ms)).toBeGreaterThan(50_000);
      expect(await scansOf(claimSql, params)).toEqual({ rows: 1, seqScans: 0 });
      await later.close();
    });

    it('maintenance reaps without scanning the task table', async () => {
      const t = `"${schema}".queue_tasks`;
      await pool.query(`UPDATE ${t} SET lease_expires_at = 0 WHERE id IN (SELECT id FROM ${t} WHERE queue = $1 AND state = 'running' LIMIT 100)`, [name]);
      const { rows, seqScans } = await scansOf(`SELECT * FROM "${schema}".queue_maintain($1, $2, $3)`, [name, 'plans-channel', 1000]);
      expect(rows).toBe(101); // 100 reaped, then the purge count
      expect(seqScans).toBe(0);
    });
  });
}

if (url !== '') {
  describe('postgres queue plans without statistics', () => {
    const schema = randomSchema('dfplan0');
    let pool: pg.Pool;
    beforeAll(async () => {
      pool = createTestPool(url);
      await migratePostgres({ pool, schema });
    });
    afterAll(async () => {
      await pool.end();
      await dropSchema(url, schema);
    });

    it('a claim that comes up short reads the first entries of the indexes, not all of them', async () => {
      // A fresh table, as right after deployment: no statistics, no visibility map, so every index
      // entry read costs a heap fetch, counted in the transaction's idx_tup_fetch. Computed as
      // min(), the next due time read all 3 000 delayed entries on every short claim.
      const later = createPostgresQueue({ pool, schema, queue: 'later' });
      await later.enqueueMany(Array.from({ length: 3_000 }, (_, i) => ({ type: 'noop', tenantId: `t${i % 10}`, payload: null, delayMs: 60_000 + i })));
      await later.close();
      const client = await pool.connect();
      const fetched = async (): Promise<number> =>
        (
          await client.query<{ n: number }>(
            `SELECT coalesce(sum(idx_tup_fetch), 0)::integer AS n FROM pg_stat_xact_user_tables WHERE schemaname = $1 AND relname = 'queue_tasks'`,
            [schema],
          )
        ).rows[0]!.n;
      try {
        await client.query('BEGIN');
        const before = await fetched();
        const tokens = Array.from({ length: 10 }, () => globalThis.crypto.randomUUID());
        const result = await client.query<{ o_kind: string }>(`SELECT * FROM "${schema}".queue_claim($1, $2, $3, $4::bigint, $5::text[], $6)`, [
          'later',
          'w',
          10,
          60_000,
          tokens,
          'later-channel',
        ]);
        const after = await fetched();
        await client.query('COMMIT');
        expect(result.rows.map((r) => r.o_kind)).toEqual(['n']);
        expect(after - before).toBeLessThan(50);
      } finally {
        client.release();
      }
    });
  });
}
