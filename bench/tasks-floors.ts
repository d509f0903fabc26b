/**
 * bench/tasks-floors: what the two unmet speed goals of bench/tasks run into, measured beside the
 * peers they are set against, in one run.
 *
 * - memory: p-queue 9 at one priority (the goal: the memory queue + worker at least as fast) next
 *   to two parts of ours that no implementation of the issue can skip: validating each enqueue
 *   request with zod (every public entry point does), and the pure fair policy (tasks/policy:
 *   heaps by band and virtual time) adding, claiming and finishing the same million tasks, with
 *   no records, ids, leases, retention or worker. Their combined rate is a ceiling for the whole
 *   queue; the printed ratio is how far below p-queue that ceiling already sits.
 * - postgres: pg-boss 12 at batch 500 (the goal: 3x) next to the least a durable lease costs on our
 *   task table: a claim and a completion as two plain `UPDATE … WHERE id = ANY($1)` of 500 rows,
 *   no fair selection, no counters, from one connection and from two in parallel. Our claims run
 *   one at a time per queue (the fair policy's virtual times are per queue), so the
 *   one-connection figure is the relevant ceiling; two connections show the table's own limit.
 *
 * Run: `node --expose-gc --import tsx bench/tasks-floors.ts` (starts PostgreSQL from the local
 * binaries unless DATABASE_URL is set). Sizes: BENCH_MEMORY_TASKS (1,000,000), BENCH_REMOTE_TASKS
 * (50,000). Results in bench/results/tasks-floors.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import pg from 'pg';
import PQueue from 'p-queue';
import { PgBoss } from 'pg-boss';
import type { EnqueueRequest } from '../src/adapters/queue.js';
import { createTaskIdGenerator, parseEnqueueMany } from '../src/adapters/internal/queue-requests.js';
import { systemClock } from '../src/core/clock.js';
import { createPostgresQueue, migratePostgres } from '../src/adapters/postgres/index.js';
import { FairQueue, PLACE, type FairTask } from '../src/tasks/policy/fair-queue.js';
import { startPostgres } from '../test/support/postgres-server.js';

const MEMORY_TASKS = Number(process.env.BENCH_MEMORY_TASKS ?? 1_000_000);
const REMOTE_TASKS = Number(process.env.BENCH_REMOTE_TASKS ?? 50_000);
const BATCH = 500;

const results: Record<string, unknown> = {
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version },
  at: new Date().toISOString(),
};
const gc = (globalThis as { gc?: () => void }).gc;
const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000);
const fmt = (n: number): string => n.toLocaleString('en-US');
const line = (label: string, value: string): void => console.log(`${label.padEnd(62)} ${value}`);
const heading = (text: string): void => console.log(`\n== ${text} ${'='.repeat(Math.max(0, 74 - text.length))}`);
const randomPriority = (): number => Math.floor(Math.random() * 2001) - 1000;

async function memoryFloor(): Promise<void> {
  heading(`memory: ${fmt(MEMORY_TASKS)} no-op tasks, 100 tenants, random priorities for ours`);
  const noop = (): void => undefined;
  gc?.();
  let started = performance.now();
  const pq = new PQueue({ concurrency: 100 });
  for (let i = 0; i < MEMORY_TASKS; i++) void pq.add(noop);
  await pq.onIdle();
  const pqueue = rate(MEMORY_TASKS, performance.now() - started);
  line('p-queue 9, one priority (enqueue and run)', `${fmt(pqueue)} tasks/s`);

  const requests: EnqueueRequest[] = Array.from({ length: MEMORY_TASKS }, (_, i) => ({ type: 'noop', tenantId: `t${i % 100}`, payload: null, priority: randomPriority() }));
  gc?.();
  started = performance.now();
  for (let i = 0; i < MEMORY_TASKS; i += 10_000) parseEnqueueMany(requests.slice(i, i + 10_000));
  const validation = rate(MEMORY_TASKS, performance.now() - started);
  line('zod validation of the enqueue requests alone', `${fmt(validation)} tasks/s`);

  const tasks: FairTask[] = requests.map((r, i) => ({
    id: `id${i}`, tenantId: r.tenantId, priority: r.priority!, seq: i, cost: 1, originalBand: 2, band: 2, readyAt: 0, promoteAt: Infinity, place: PLACE.none, qpos: -1,
  }));
  requests.length = 0;
  gc?.();
  started = performance.now();
  const fair = new FairQueue<FairTask>({ agingMs: 60_000, maxConcurrency: null });
  for (const task of tasks) fair.add(task, 0);
  for (;;) {
    const picked = fair.claim(100, 0);
    if (picked.length === 0) break;
    for (const task of picked) fair.finish(task.tenantId);
  }
  const policy = rate(MEMORY_TASKS, performance.now() - started);
  line('pure fair policy alone: add, claim (100 at a time), finish', `${fmt(policy)} tasks/s`);

  // Every task gets an id (UUIDv7, the contract's task ids), from the queue's own generator.
  const nextId = createTaskIdGenerator(systemClock);
  gc?.();
  started = performance.now();
  let chars = 0; // used below, so the calls cannot be optimised away
  for (let i = 0; i < MEMORY_TASKS; i++) chars += nextId().length;
  const ids = rate(MEMORY_TASKS, performance.now() - started);
  if (chars !== MEMORY_TASKS * 36) throw new Error('task ids are not 36-character UUIDs');
  line('task ids alone (UUIDv7)', `${fmt(ids)} tasks/s`);

  // They run once per task, one after the other: their times add up.
  const ceiling = Math.round(1 / (1 / validation + 1 / policy + 1 / ids));
  line('ceiling of the three together', `${fmt(ceiling)} tasks/s: ${(ceiling / pqueue).toFixed(2)}x p-queue`);
  line(
    '  left per task for the rest at 1.0x p-queue',
    `${(1e6 / pqueue - 1e6 / ceiling).toFixed(2)} µs (p-queue's whole task: ${(1e6 / pqueue).toFixed(2)} µs): records, leases, the worker, GC`,
  );
  results.memory = { tasks: MEMORY_TASKS, pqueueSinglePriority: pqueue, validationOnly: validation, policyOnly: policy, idsOnly: ids, ceiling, ceilingVsPqueue: ceiling / pqueue };
}

async function pgBoss500(url: string): Promise<number> {
  const schema = `floor_pgboss_${Date.now()}`;
  const boss = new PgBoss({ connectionString: url, schema, supervise: false, schedule: false, migrate: true });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.createQueue('noop');
  for (let i = 0; i < REMOTE_TASKS; i += 1_000) {
    await boss.insert('noop', Array.from({ length: Math.min(1_000, REMOTE_TASKS - i) }, (_, k) => ({ data: { i: i + k } })));
  }
  await analyze(url);
  let completed = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const started = performance.now();
  await boss.work('noop', { batchSize: BATCH, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, async (jobs) => {
    completed += jobs.length;
    if (completed >= REMOTE_TASKS) setImmediate(resolveDone);
  });
  await done;
  const perSec = rate(REMOTE_TASKS, performance.now() - started);
  await boss.stop({ graceful: true, timeout: 10_000 });
  await dropSchema(url, schema);
  return perSec;
}

/** Claim and complete every task of a fresh schema as plain batched updates, over `lanes` connections. */
async function plainUpdates(url: string, lanes: number): Promise<number> {
  const schema = `floor_plain_${Date.now()}`;
  const pool = new pg.Pool({ connectionString: url, max: lanes + 1 });
  pool.on('error', () => undefined);
  await migratePostgres({ pool, schema });
  const queue = createPostgresQueue({ pool, schema, queue: 'noop', sweepIntervalMs: 0 });
  for (let i = 0; i < REMOTE_TASKS; i += 1_000) {
    await queue.enqueueMany(Array.from({ length: Math.min(1_000, REMOTE_TASKS - i) }, (_, k) => ({ type: 'noop', tenantId: `t${(i + k) % 10}`, payload: null })));
  }
  await queue.close();
  await pool.query('ANALYZE');
  const ids = (await pool.query<{ id: string }>(`SELECT id FROM "${schema}".queue_tasks ORDER BY seq`)).rows.map((r) => r.id);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < ids.length) {
        const batch = ids.slice(next, next + BATCH);
        next += batch.length;
        const { rows } = await pool.query<{ id: string }>(
          `UPDATE "${schema}".queue_tasks SET state = 'running', token = 'x', worker = 'w', lease_expires_at = 1e12, attempt = attempt + 1, updated_at = 1
            WHERE id = ANY($1::uuid[]) RETURNING id, tenant, type, payload, token, attempt`,
          [batch],
        );
        await pool.query(`UPDATE "${schema}".queue_tasks SET state = 'completed', finished_at = 2, updated_at = 2, token = NULL WHERE id = ANY($1::uuid[]) AND token = 'x'`, [rows.map((r) => r.id)]);
      }
    }),
  );
  const perSec = rate(ids.length, performance.now() - started);
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  await pool.end();
  return perSec;
}

async function analyze(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  await pool.query('ANALYZE');
  await pool.end();
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
}

async function postgresFloor(url: string): Promise<void> {
  heading(`postgres: ${fmt(REMOTE_TASKS)} no-op jobs, batches of ${BATCH}, same server`);
  const boss = await pgBoss500(url);
  line(`pg-boss 12 (batch ${BATCH}, burst)`, `${fmt(boss)} jobs/s; the goal, 3x: ${fmt(3 * boss)}`);
  const one = await plainUpdates(url, 1);
  line('our task table, claim + complete as 2 plain updates, 1 connection', `${fmt(one)} jobs/s: ${(one / boss).toFixed(2)}x pg-boss`);
  const two = await plainUpdates(url, 2);
  line('the same, 2 connections in parallel', `${fmt(two)} jobs/s: ${(two / boss).toFixed(2)}x pg-boss`);
  results.postgres = { tasks: REMOTE_TASKS, batch: BATCH, pgboss: boss, plainOneConnection: one, plainTwoConnections: two, oneVsPgboss: one / boss, twoVsPgboss: two / boss };
}

async function main(): Promise<void> {
  console.log(`bench/tasks-floors on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  if (!gc) console.log('(run with node --expose-gc for steadier memory figures)');
  await memoryFloor();
  const server = process.env.DATABASE_URL ? undefined : await startPostgres().catch((err: Error) => (console.log(`no PostgreSQL: ${err.message}`), undefined));
  const url = process.env.DATABASE_URL ?? server?.url;
  try {
    if (url) await postgresFloor(url);
  } finally {
    await server?.stop();
  }
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tasks-floors.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${join('bench', 'results', 'tasks-floors.json')}`);
}

await main();
