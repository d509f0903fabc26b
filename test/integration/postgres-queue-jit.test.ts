import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPostgresQueue, migratePostgres } from '../../src/adapters/postgres/index.js';
import { QUEUE_ENTRY_FUNCTIONS } from '../../src/adapters/postgres/queue-no-jit-migration.js';
import { queueStatements } from '../../src/adapters/postgres/sql/queue.js';
import type { QueueAdapter } from '../../src/adapters/queue.js';
import { createTestPool, dropSchema, randomSchema } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('databaseUrl');
const ci = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Schema version 10: no queue function JIT-compiles. The claim's generic plan estimates rows in
 * proportion to the task table, so past ~55 000 waiting tasks its cost passed `jit_above_cost`
 * and every claim spent ~55 ms compiling a ~9 ms statement. Here the threshold is lowered to
 * 10 000 for the session, so 20 000 tasks stand in for that backlog, and auto_explain reports
 * every statement the functions run, with its JIT section when one was compiled.
 */
if (url === '') {
  skipWithoutServer('postgres queue without JIT', 'PostgreSQL server');
} else {
  describe('postgres queue without JIT', () => {
    const schema = randomSchema('dfjit');
    const quoted = `"${schema}"`;
    let pool: pg.Pool;
    let explained: pg.Pool;
    let queue: QueueAdapter;
    let observed: QueueAdapter;
    /** auto_explain's reports of the statements the observed pool ran (top level and nested). */
    const reports: string[] = [];
    let canObserve = false;

    beforeAll(async () => {
      pool = createTestPool(url, { max: 4 });
      await migratePostgres({ pool, schema });
      queue = createPostgresQueue({ pool, schema, queue: 'jit' });
      const { rows } = await pool.query<{ jit: boolean; superuser: boolean }>(
        'SELECT pg_jit_available() AS jit, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser',
      );
      // LOAD of auto_explain needs a superuser; JIT needs a server built with LLVM. The servers the
      // test setup starts have both; under CI that is required, elsewhere the check is skipped.
      canObserve = rows[0]!.jit && rows[0]!.superuser;
      const observe = canObserve
        ? ' -c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 -c auto_explain.log_nested_statements=on' +
          ' -c auto_explain.log_analyze=on -c auto_explain.log_level=notice -c client_min_messages=notice'
        : '';
      explained = createTestPool(url, { max: 4, options: `-c jit_above_cost=10000${observe}` });
      explained.on('connect', (client) => client.on('notice', (notice) => reports.push(notice.message ?? '')));
      observed = createPostgresQueue({ pool: explained, schema, queue: 'jit' });
    });
    afterAll(async () => {
      await observed?.close();
      await queue?.close();
      await explained?.end();
      await pool?.end();
      await dropSchema(url, schema);
    });

    it('turns JIT off for every queue function the adapter calls, and only there', async () => {
      const called = new Set<string>();
      for (const text of Object.values(queueStatements(quoted))) {
        for (const m of (text as string).matchAll(/\.(queue_[a-z_]+)\(/g)) called.add(m[1]!);
      }
      // queue_config is a primary-key lookup that every other function calls, and queue_now reads
      // the clock (the recovery of lost claims is a plain statement around it): helpers keep no setting.
      called.delete('queue_config');
      called.delete('queue_now');
      expect([...called].sort()).toEqual([...QUEUE_ENTRY_FUNCTIONS].sort());
      const { rows } = await pool.query<{ name: string; config: string[] | null }>(
        `SELECT p.proname AS name, p.proconfig AS config FROM pg_proc p WHERE p.pronamespace = $1::regnamespace`,
        [quoted],
      );
      const config = new Map(rows.map((r) => [r.name, r.config ?? []]));
      for (const name of QUEUE_ENTRY_FUNCTIONS) expect(config.get(name), name).toContain('jit=off');
      // The claim keeps migration 6's settings beside it.
      expect(config.get('queue_claim')).toEqual(expect.arrayContaining(['enable_hashjoin=off', 'enable_mergejoin=off', 'jit=off']));
      // Helpers run under their caller's setting; a SET of their own would cost every call.
      expect(config.get('queue_config')).toEqual([]);
      expect(config.get('queue_count_move')).toEqual([]);
    });

    it('compiles nothing on a backlog whose claim plan costs more than jit_above_cost; the claim did before', async (ctx) => {
      if (!canObserve) {
        if (ci) throw new Error('CI needs a PostgreSQL server with JIT and a superuser for auto_explain');
        ctx.skip();
      }
      for (let i = 0; i < 20_000; i += 1_000) {
        await queue.enqueueMany(Array.from({ length: 1_000 }, (_, k) => ({ type: 'noop', tenantId: `t${(i + k) % 10}`, payload: null })));
      }
      await pool.query(`VACUUM ANALYZE ${quoted}.queue_tasks`);

      reports.length = 0;
      const { tasks } = await observed.claim('w1', 100, 60_000);
      expect(tasks).toHaveLength(100);
      await observed.fail(tasks[0]!.lease, { error: { code: 'BOOM', message: 'on purpose' }, retryInMs: 0 });
      await observed.release(tasks[1]!.lease);
      await observed.extend(tasks[2]!.lease, 60_000, { pct: 50 });
      await Promise.all(tasks.slice(2).map((t) => observed.complete(t.lease)));
      const [created] = await observed.enqueueMany([{ type: 'noop', tenantId: 't0', payload: null }]);
      await observed.assign(created!.task.taskId, 'w2', 60_000);
      await observed.cancel(created!.task.taskId);
      await observed.stats();
      await observed.reapExpired();
      await observed.configure({ agingMs: 60_000 });
      await observed.setTenant('t1', { weight: 2 });
      // auto_explain saw the nested statements (the claim's band statement among them) …
      expect(reports.some((r) => r.includes('queue_tenant_bands tb') && r.includes('FOR UPDATE SKIP LOCKED'))).toBe(true);
      // … and none of them was compiled.
      expect(reports.filter((r) => r.includes('JIT:'))).toEqual([]);

      // The same claim with the function's setting taken away compiles: the backlog is big enough.
      await pool.query(`ALTER FUNCTION ${quoted}.queue_claim(text, text, integer, bigint, text[], text) RESET jit`);
      try {
        reports.length = 0;
        const again = await observed.claim('w1', 100, 60_000);
        expect(again.tasks).toHaveLength(100);
        expect(reports.some((r) => r.includes('JIT:'))).toBe(true);
      } finally {
        await pool.query(`ALTER FUNCTION ${quoted}.queue_claim(text, text, integer, bigint, text[], text) SET jit = off`);
      }
    });
  });
}
