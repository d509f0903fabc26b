/**
 * `npx tsx bench/tasks.ts`: task distribution side by side with the queues a user would otherwise
 * pick, in one run, on one machine. Prints ratios; writes bench/results/tasks.json.
 *
 * - memory: BENCH_MEMORY_TASKS (default 1 000 000) no-op tasks, concurrency 100, random priorities
 *   across 100 tenants — the memory queue + worker (fair policy, aging, leases) vs p-queue 9 at
 *   random priorities (time-boxed by BENCH_PQUEUE_BUDGET_MS, default 30 000, 0 = no box: its
 *   sorted-array insert is O(n), so the full million takes minutes) and at one priority; when
 *   p-queue was time-boxed, ours also runs the same number of tasks, so one ratio compares equal
 *   workloads; memory per queued task (BENCH_MEMORY_SAMPLE, default 200 000).
 * - redis: BENCH_REMOTE_TASKS (default 50 000) no-op jobs, concurrency 50, vs BullMQ 6, same server,
 *   BENCH_REDIS_ROUNDS rounds (default 3) alternating which goes first; the median ratio counts.
 * - postgres: the same count vs pg-boss 12 (batch 50 and batch 500, burst fetching) and
 *   graphile-worker 0.17 (local queue 500), same server; ours at claim 100 and at claim 500 (the
 *   others' fetch size), each with retention 1 h and 0. BENCH_GRAPHILE_CONCURRENCY (default 50)
 *   sets graphile-worker's concurrency (500 matches ours at claim 500; it fetches alike either way).
 *   After each enqueue the database is ANALYZEd, as autovacuum does on any real deployment: plans
 *   made without statistics can be faster or slower than a production server's (BENCH_PG_ANALYZE=0
 *   skips it).
 * - claim latency (enqueue → handler start), p50/p99, an idle worker, BENCH_LATENCY_JOBS (default
 *   500) jobs arriving at 100/s, per backend and for BullMQ, BENCH_LATENCY_ROUNDS (default 2)
 *   rounds alternating between systems, the best p99 of each kept (this machine is shared: one
 *   scheduling hiccup is a p99); storage bytes per task, queued and then completed (retained),
 *   with BullMQ's used_memory per job beside ours on Redis.
 *
 * - tenants: how a claim's cost grows with the tenants it serves: BENCH_TENANT_TASKS (default
 *   10 000) tasks spread over 10, 100, 500 and 2 000 tenants, claimed 500 at a time (each claim
 *   serves up to 500 tenants); the median claim time per backend. No peer runs this: none of them
 *   schedules fairly across tenants.
 *
 * - backlog: how a claim's cost grows with the tasks waiting: BENCH_BACKLOGS (default
 *   20 000,100 000,500 000) tasks over 10 tenants, the median of 20 claims of 500 per backend
 *   (PostgreSQL after VACUUM ANALYZE). A cost that follows the backlog is a regression: it found
 *   the PostgreSQL claim compiling with JIT past ~55 000 waiting tasks (schema version 10).
 *
 * Servers: DATABASE_URL / REDIS_URL, else throwaway ones from the installed binaries.
 * BENCH_SECTIONS=memory,redis,postgres,latency,storage,tenants,backlog picks sections (default: all).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import v8 from 'node:v8';
import pg from 'pg';
import { Redis } from 'ioredis';
import PQueue from 'p-queue';
import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import { PgBoss } from 'pg-boss';
import { run as runGraphile, makeWorkerUtils, Logger as GraphileLogger } from 'graphile-worker';
import type { EnqueueRequest, QueueAdapter } from '../src/adapters/queue.js';
import { createMemoryQueue } from '../src/adapters/memory/index.js';
import { createPostgresQueue, migratePostgres } from '../src/adapters/postgres/index.js';
import { createRedisQueue } from '../src/adapters/redis/index.js';
import { createWorker, percentilesOf } from '../src/tasks/index.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { startRedis } from '../test/support/redis-server.js';
import { deletePrefixKeys } from '../test/support/redis-harness.js';

const MEMORY_TASKS = Number(process.env.BENCH_MEMORY_TASKS ?? 1_000_000);
const PQUEUE_BUDGET_MS = Number(process.env.BENCH_PQUEUE_BUDGET_MS ?? 30_000);
const MEMORY_SAMPLE = Number(process.env.BENCH_MEMORY_SAMPLE ?? 200_000);
const REMOTE_TASKS = Number(process.env.BENCH_REMOTE_TASKS ?? 50_000);
const GRAPHILE_CONCURRENCY = Number(process.env.BENCH_GRAPHILE_CONCURRENCY ?? 50);
const REDIS_ROUNDS = Number(process.env.BENCH_REDIS_ROUNDS ?? 3);
const LATENCY_JOBS = Number(process.env.BENCH_LATENCY_JOBS ?? 500);
const LATENCY_ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 2);
const TENANT_TASKS = Number(process.env.BENCH_TENANT_TASKS ?? 10_000);
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'memory,redis,postgres,latency,storage,tenants,backlog').split(','));
const BACKLOGS = (process.env.BENCH_BACKLOGS ?? '20000,100000,500000').split(',').map(Number);

const results: Record<string, unknown> = {
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  at: new Date().toISOString(),
};
const gc = (globalThis as { gc?: () => void }).gc;
const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000);
const fmt = (n: number): string => n.toLocaleString('en-US');
const line = (label: string, value: string): void => console.log(`${label.padEnd(58)} ${value}`);
const heading = (text: string): void => console.log(`\n== ${text} ${'='.repeat(Math.max(0, 74 - text.length))}`);
const randomPriority = (): number => Math.floor(Math.random() * 2001) - 1000;

/** Heap growth per item after `fill` adds `n` items (GC'd before and after; needs --expose-gc for precision). */
async function bytesPer(n: number, fill: () => Promise<unknown>): Promise<number> {
  gc?.();
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const keep = await fill();
  gc?.();
  gc?.();
  const after = process.memoryUsage().heapUsed;
  void keep;
  return Math.round((after - before) / n);
}

// ---------------------------------------------------------------------------------------------
async function memorySection(): Promise<void> {
  heading(`memory: ${fmt(MEMORY_TASKS)} no-op tasks, concurrency 100, 100 tenants`);
  const noop = (): void => undefined;

  // p-queue at one priority: its best case.
  {
    const q = new PQueue({ concurrency: 100 });
    const started = performance.now();
    for (let i = 0; i < MEMORY_TASKS; i++) void q.add(noop);
    await q.onIdle();
    const ms = performance.now() - started;
    results.pqueueSinglePriority = { tasks: MEMORY_TASKS, tasksPerSec: rate(MEMORY_TASKS, ms) };
    line('p-queue 9, one priority', `${fmt(rate(MEMORY_TASKS, ms))} tasks/s`);
  }
  // p-queue at random priorities: adds until the time box runs out (O(n) insert per add).
  {
    const q = new PQueue({ concurrency: 100 });
    const started = performance.now();
    let added = 0;
    for (; added < MEMORY_TASKS; added++) {
      void q.add(noop, { priority: randomPriority() });
      if (PQUEUE_BUDGET_MS > 0 && (added & 1023) === 0 && performance.now() - started > PQUEUE_BUDGET_MS) break;
    }
    const addMs = performance.now() - started;
    await q.onIdle();
    const ms = performance.now() - started;
    const capped = added < MEMORY_TASKS;
    results.pqueueRandomPriority = { tasks: added, timeBoxed: capped, addMs: Math.round(addMs), tasksPerSec: rate(added, ms) };
    line(`p-queue 9, random priorities${capped ? ` (time-boxed: ${fmt(added)} added in ${Math.round(addMs / 1000)} s)` : ''}`, `${fmt(rate(added, ms))} tasks/s`);
  }
  // Ours: memory queue + worker. Enqueue in batches, then drain with one worker.
  const ours = async (n: number) => {
    const queue = createMemoryQueue();
    const requests: EnqueueRequest[] = Array.from({ length: n }, (_, i) => ({ type: 'noop', tenantId: `t${i % 100}`, payload: null, priority: randomPriority() }));
    gc?.();
    const started = performance.now();
    for (let i = 0; i < n; i += 10_000) await queue.enqueueMany(requests.slice(i, i + 10_000));
    const enqueued = performance.now();
    const worker = createWorker({ queue, concurrency: 100, handlers: { noop } });
    await worker.idle();
    const done = performance.now();
    await worker.close();
    requests.length = 0;
    return { tasks: n, tasksPerSec: rate(n, done - started), enqueuePerSec: rate(n, enqueued - started), drainPerSec: rate(n, done - enqueued), completed: worker.counts.completed };
  };
  {
    const r = await ours(MEMORY_TASKS);
    const total = r.tasksPerSec;
    results.memoryQueue = r;
    line('digital-fabrica memory queue + worker (fair, random prio.)', `${fmt(total)} tasks/s (enqueue ${fmt(r.enqueuePerSec)}/s, drain ${fmt(r.drainPerSec)}/s)`);
    const single = (results.pqueueSinglePriority as { tasksPerSec: number }).tasksPerSec;
    const randomRun = results.pqueueRandomPriority as { tasksPerSec: number; tasks: number; timeBoxed: boolean };
    const random = randomRun.tasksPerSec;
    line(`  vs p-queue random priorities (goal >= 50x)${randomRun.timeBoxed ? ', p-queue on fewer tasks' : ''}`, `${(total / random).toFixed(1)}x`);
    line('  vs p-queue one priority (goal >= 1.0x)', `${(total / single).toFixed(2)}x`);
    Object.assign(results.memoryQueue as object, { vsPqueueRandom: total / random, vsPqueueSingle: total / single });
    if (randomRun.timeBoxed) {
      // The same workload p-queue got through: its backlog (and so its O(n) insert) was smaller than a million's.
      const same = await ours(randomRun.tasks);
      results.memoryQueueSameAsPqueueRandom = { ...same, vsPqueueRandom: same.tasksPerSec / random };
      line(`digital-fabrica memory queue, the same ${fmt(randomRun.tasks)} tasks`, `${fmt(same.tasksPerSec)} tasks/s: ${(same.tasksPerSec / random).toFixed(1)}x p-queue random priorities`);
    }
  }
  // Memory per queued task.
  {
    if (!gc) console.log('  (run with node --expose-gc for precise memory figures)');
    const n = MEMORY_SAMPLE;
    let pq: PQueue | undefined;
    const pqueueBytes = await bytesPer(n, async () => {
      pq = new PQueue({ concurrency: 100, autoStart: false });
      for (let i = 0; i < n; i++) void pq.add(noop, { priority: randomPriority() % 3 });
      return pq;
    });
    pq?.clear();
    const requests: EnqueueRequest[] = Array.from({ length: n }, (_, i) => ({ type: 'noop', tenantId: `t${i % 100}`, payload: null, priority: randomPriority() }));
    let queue: QueueAdapter | undefined;
    const oursBytes = await bytesPer(n, async () => {
      queue = createMemoryQueue();
      for (let i = 0; i < n; i += 10_000) await queue.enqueueMany(requests.slice(i, i + 10_000));
      return queue;
    });
    // The same tasks once completed and retained (default retention: one hour): history, result
    // and finish time added, the fair-queue entries gone. The first queue is dropped first, so both
    // figures grow from the same baseline.
    await queue?.close();
    queue = undefined;
    let completedQueue: QueueAdapter | undefined;
    const completedBytes = await bytesPer(n, async () => {
      completedQueue = createMemoryQueue();
      for (let i = 0; i < n; i += 10_000) await completedQueue.enqueueMany(requests.slice(i, i + 10_000));
      const worker = createWorker({ queue: completedQueue, concurrency: 100, handlers: { noop: () => ({ ok: true }) } });
      await worker.idle();
      await worker.close();
      return completedQueue;
    });
    await completedQueue?.close();
    results.memoryPerQueuedTask = { sample: n, pqueueBytes, oursBytes, oursCompletedBytes: completedBytes };
    line(`bytes per queued task (${fmt(n)} queued): p-queue`, `${fmt(pqueueBytes)} B`);
    line(`bytes per queued task (${fmt(n)} queued): memory queue`, `${fmt(oursBytes)} B (${(oursBytes / pqueueBytes).toFixed(2)}x of p-queue)`);
    line(`bytes per completed task, retained: memory queue`, `${fmt(completedBytes)} B`);
  }
}

// ---------------------------------------------------------------------------------------------
/** Runs `worker` over `n` pre-enqueued no-op tasks of one queue adapter; returns tasks/s of the drain. */
async function drainOurs(
  queue: QueueAdapter,
  n: number,
  concurrency: number,
  claimBatch: number,
  afterEnqueue?: () => Promise<void>,
): Promise<{ tasksPerSec: number; enqueuePerSec: number }> {
  const started = performance.now();
  for (let i = 0; i < n; i += 1_000) {
    await queue.enqueueMany(Array.from({ length: Math.min(1_000, n - i) }, (_, k) => ({ type: 'noop', tenantId: `t${(i + k) % 10}`, payload: null })));
  }
  const enqueued = performance.now();
  if (afterEnqueue !== undefined) await afterEnqueue();
  const drainStarted = performance.now();
  let completed = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const worker = createWorker({
    queue,
    concurrency,
    claimBatch,
    handlers: {
      noop: () => {
        if (++completed === n) resolveDone();
      },
    },
  });
  await done;
  await worker.idle();
  const finished = performance.now();
  await worker.close();
  return { tasksPerSec: rate(n, finished - drainStarted), enqueuePerSec: rate(n, enqueued - started) };
}

/** ioredis connection options for BullMQ (it needs maxRetriesPerRequest: null) from a redis:// URL. */
function bullConnection(url: string): { host: string; port: number; maxRetriesPerRequest: null } {
  return { host: new URL(url).hostname, port: Number(new URL(url).port), maxRetriesPerRequest: null };
}

/** Adds `n` no-op jobs to a BullMQ queue, 1,000 per addBulk. */
async function addBullJobs(queue: BullQueue, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1_000) {
    await queue.addBulk(Array.from({ length: Math.min(1_000, n - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
  }
}

/** Runs one BullMQ worker (concurrency 50) until `n` jobs have completed, then closes it. */
async function runBullWorker(name: string, url: string, n: number, processor: () => Promise<unknown>): Promise<void> {
  let completed = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const worker = new BullWorker(name, processor, { connection: bullConnection(url), concurrency: 50 });
  worker.on('completed', () => {
    if (++completed === n) resolveDone();
  });
  await done;
  await worker.close();
}

/** BullMQ: addBulk, then one worker at concurrency 50. */
async function drainBullmq(url: string, n: number): Promise<{ tasksPerSec: number; enqueuePerSec: number }> {
  const name = `bench-${Date.now()}`;
  const queue = new BullQueue(name, { connection: bullConnection(url) });
  const started = performance.now();
  await addBullJobs(queue, n);
  const enqueued = performance.now();
  await runBullWorker(name, url, n, async () => undefined);
  const finished = performance.now();
  await queue.obliterate({ force: true });
  await queue.close();
  return { tasksPerSec: rate(n, finished - enqueued), enqueuePerSec: rate(n, enqueued - started) };
}

/**
 * BENCH_REDIS_ROUNDS rounds (default 3), each draining BullMQ and ours back to back, the order
 * alternating: this machine is shared, and one run of each swung the ratio from 1.06x to 1.56x.
 * The ratio reported is the median of the per-round ratios.
 */
async function redisSection(url: string): Promise<void> {
  heading(`redis: ${fmt(REMOTE_TASKS)} no-op jobs, concurrency 50, same server, ${REDIS_ROUNDS} rounds`);
  const rounds: { bullmq: number; ours: number; ratio: number }[] = [];
  for (let round = 0; round < REDIS_ROUNDS; round++) {
    const ours = async () => {
      const client = new Redis(url);
      const queue = createRedisQueue({ client, prefix: `bench${Date.now()}`, queue: 'noop' });
      const r = await drainOurs(queue, REMOTE_TASKS, 50, 50);
      await queue.close();
      await client.quit();
      return r;
    };
    let b: { tasksPerSec: number; enqueuePerSec: number };
    let o: { tasksPerSec: number; enqueuePerSec: number };
    if (round % 2 === 0) {
      b = await drainBullmq(url, REMOTE_TASKS);
      o = await ours();
    } else {
      o = await ours();
      b = await drainBullmq(url, REMOTE_TASKS);
    }
    rounds.push({ bullmq: b.tasksPerSec, ours: o.tasksPerSec, ratio: o.tasksPerSec / b.tasksPerSec });
    line(`round ${round + 1}: BullMQ 6 / digital-fabrica (1 worker, conc. 50)`, `${fmt(b.tasksPerSec)} / ${fmt(o.tasksPerSec)} jobs/s: ${(o.tasksPerSec / b.tasksPerSec).toFixed(2)}x (enqueue ${fmt(b.enqueuePerSec)} / ${fmt(o.enqueuePerSec)}/s)`);
  }
  const sorted = rounds.map((r) => r.ratio).sort((a, b) => a - b);
  const median = sorted.length % 2 === 1 ? sorted[sorted.length >> 1]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  results.bullmq = { tasks: REMOTE_TASKS, rounds: rounds.map((r) => r.bullmq) };
  results.redisQueue = { tasks: REMOTE_TASKS, rounds: rounds.map((r) => r.ours), ratios: rounds.map((r) => r.ratio), vsBullmq: median };
  line('  vs BullMQ, median of the rounds (goal >= 1.5x)', `${median.toFixed(2)}x (rounds: ${sorted.map((r) => r.toFixed(2)).join(', ')})`);
}

/** ANALYZE the whole database (unless BENCH_PG_ANALYZE=0): what autovacuum does on a real server. */
async function analyze(url: string): Promise<void> {
  if (process.env.BENCH_PG_ANALYZE === '0') return;
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  await pool.query('ANALYZE');
  await pool.end();
}

async function postgresSection(url: string): Promise<void> {
  heading(`postgres: ${fmt(REMOTE_TASKS)} no-op jobs, same server${process.env.BENCH_PG_ANALYZE === '0' ? ', no statistics' : ', ANALYZEd after each enqueue'}`);
  // pg-boss 12 with batching (batch 50 and batch 500, burst fetching while batches come back full).
  for (const batchSize of [50, 500]) {
    const schema = `pgboss_${batchSize}_${Date.now()}`;
    const boss = new PgBoss({ connectionString: url, schema, supervise: false, schedule: false, migrate: true });
    boss.on('error', () => undefined);
    await boss.start();
    const name = 'noop';
    await boss.createQueue(name);
    const started = performance.now();
    for (let i = 0; i < REMOTE_TASKS; i += 1_000) {
      await boss.insert(name, Array.from({ length: Math.min(1_000, REMOTE_TASKS - i) }, (_, k) => ({ data: { i: i + k } })));
    }
    const enqueued = performance.now();
    await analyze(url);
    const drainStarted = performance.now();
    let completed = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    await boss.work(name, { batchSize, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      completed += jobs.length;
      if (completed >= REMOTE_TASKS) setImmediate(resolveDone);
    });
    await done;
    const finished = performance.now();
    await boss.stop({ graceful: true, timeout: 10_000 });
    const key = `pgboss${batchSize}`;
    results[key] = { tasks: REMOTE_TASKS, batchSize, tasksPerSec: rate(REMOTE_TASKS, finished - drainStarted), enqueuePerSec: rate(REMOTE_TASKS, enqueued - started) };
    line(`pg-boss 12 (batch ${batchSize}, burst)`, `${fmt(rate(REMOTE_TASKS, finished - drainStarted))} jobs/s (enqueue ${fmt(rate(REMOTE_TASKS, enqueued - started))}/s)`);
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    pool.on('error', () => undefined); // idle connections are cut when the throwaway server stops
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
  // graphile-worker 0.17 with its local queue (batched fetch) and batched completion.
  {
    const schema = `graphile_${Date.now()}`;
    const logger = new GraphileLogger(() => () => undefined);
    const utils = await makeWorkerUtils({ connectionString: url, schema, logger });
    await utils.migrate();
    const started = performance.now();
    for (let i = 0; i < REMOTE_TASKS; i += 1_000) {
      await utils.addJobs(Array.from({ length: Math.min(1_000, REMOTE_TASKS - i) }, (_, k) => ({ identifier: 'noop', payload: { i: i + k } })));
    }
    const enqueued = performance.now();
    await analyze(url);
    const drainStarted = performance.now();
    let completed = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const runner = await runGraphile({
      connectionString: url,
      schema,
      logger,
      concurrency: GRAPHILE_CONCURRENCY,
      noHandleSignals: true,
      pollInterval: 1_000,
      taskList: {
        noop: async () => {
          if (++completed === REMOTE_TASKS) setImmediate(resolveDone);
        },
      },
      preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0 } },
    });
    await done;
    const finished = performance.now();
    await runner.stop();
    await utils.release();
    results.graphileWorker = { tasks: REMOTE_TASKS, concurrency: GRAPHILE_CONCURRENCY, localQueue: 500, tasksPerSec: rate(REMOTE_TASKS, finished - drainStarted), enqueuePerSec: rate(REMOTE_TASKS, enqueued - started) };
    line(`graphile-worker 0.17 (concurrency ${GRAPHILE_CONCURRENCY}, local queue 500)`, `${fmt(rate(REMOTE_TASKS, finished - drainStarted))} jobs/s (enqueue ${fmt(rate(REMOTE_TASKS, enqueued - started))}/s)`);
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    pool.on('error', () => undefined); // idle connections are cut when the throwaway server stops
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
  // Ours: with the default retention (completed tasks kept an hour, as pg-boss keeps them) and
  // with retention 0 (completed tasks deleted at once, as graphile-worker does).
  // Ours at claim 100 (the worker's default batch) and at claim 500 — the fetch size of pg-boss's
  // batch 500 and of graphile-worker's local queue, so those two pairs fetch alike (our claim
  // batch is capped by the worker's concurrency, hence concurrency 500 there). Each with the
  // default retention (completed tasks kept an hour, as pg-boss keeps them) and with retention 0
  // (completed tasks deleted at once, as graphile-worker does).
  const boss50 = (results.pgboss50 as { tasksPerSec: number }).tasksPerSec;
  const boss500 = (results.pgboss500 as { tasksPerSec: number }).tasksPerSec;
  const graphile = (results.graphileWorker as { tasksPerSec: number }).tasksPerSec;
  for (const batch of [100, 500]) {
    for (const retentionMs of [3_600_000, 0]) {
      const schema = `dfbench_${Date.now()}`;
      const pool = new pg.Pool({ connectionString: url, max: 10 });
      pool.on('error', () => undefined); // idle connections are cut when the throwaway server stops
      await migratePostgres({ pool, schema });
      const queue = createPostgresQueue({ pool, schema, queue: 'noop' });
      await queue.configure({ retentionMs });
      const r = await drainOurs(queue, REMOTE_TASKS, batch, batch, () => analyze(url));
      await queue.close();
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await pool.end();
      const label = retentionMs === 0 ? 'retention 0' : 'retention 1 h';
      const key = `postgresQueue${batch === 100 ? '' : `Claim${batch}`}${retentionMs === 0 ? 'Retention0' : ''}`;
      results[key] = {
        tasks: REMOTE_TASKS,
        concurrency: batch,
        claimBatch: batch,
        retentionMs,
        ...r,
        vsPgboss50: r.tasksPerSec / boss50,
        vsPgboss500: r.tasksPerSec / boss500,
        vsGraphile: r.tasksPerSec / graphile,
      };
      line(`digital-fabrica PostgreSQL queue (conc. ${batch}, claim ${batch}, ${label})`, `${fmt(r.tasksPerSec)} jobs/s (enqueue ${fmt(r.enqueuePerSec)}/s)`);
      if (batch === 100) line('  vs pg-boss batch 50 (goal >= 3x)', `${(r.tasksPerSec / boss50).toFixed(2)}x`);
      else {
        line('  vs pg-boss batch 500 (goal >= 3x)', `${(r.tasksPerSec / boss500).toFixed(2)}x`);
        line('  vs graphile-worker, local queue 500 (goal >= 1.0x)', `${(r.tasksPerSec / graphile).toFixed(2)}x`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
/** Enqueue → handler start, for an idle worker with jobs arriving at 100/s. */
async function latency(label: string, start: (onStart: (i: number) => void) => Promise<{ add(i: number): Promise<unknown>; stop(): Promise<void> }>): Promise<void> {
  const addedAt: number[] = [];
  const waits: number[] = [];
  let seen = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const system = await start((i) => {
    waits.push(performance.now() - addedAt[i]!);
    if (++seen === LATENCY_JOBS) resolveDone();
  });
  // Let the idle worker settle into its wait first.
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let i = 0; i < LATENCY_JOBS; i++) {
    addedAt[i] = performance.now();
    await system.add(i);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await done;
  await system.stop();
  const p = percentilesOf(waits);
  const all = results.latency as Record<string, { p50Ms: number; p99Ms: number; maxMs: number; rounds: number }>;
  const previous = all[label];
  if (previous === undefined || p.p99! < previous.p99Ms) all[label] = { p50Ms: p.p50!, p99Ms: p.p99!, maxMs: p.max!, rounds: (previous?.rounds ?? 0) + 1 };
  else previous.rounds += 1;
  line(`${label}: enqueue -> start (round)`, `p50 ${p.p50!.toFixed(2)} ms, p99 ${p.p99!.toFixed(2)} ms, max ${p.max!.toFixed(2)} ms`);
}

async function oursLatency(queue: QueueAdapter, onStart: (i: number) => void) {
  const worker = createWorker({ queue, concurrency: 10, handlers: { job: (payload) => onStart(payload as number) } });
  await worker.idle();
  return {
    add: (i: number) => queue.enqueue({ type: 'job', tenantId: 'acme', payload: i }),
    stop: async () => {
      await worker.close();
      await queue.close();
    },
  };
}

async function latencySection(pgUrl: string | undefined, redisUrl: string | undefined): Promise<void> {
  heading(`claim latency: ${LATENCY_JOBS} jobs at ~100/s, idle worker, best p99 of ${LATENCY_ROUNDS} rounds`);
  results.latency = {};
  const schema = `dflat_${Date.now()}`;
  const pool = pgUrl ? new pg.Pool({ connectionString: pgUrl, max: 10 }) : undefined;
  pool?.on('error', () => undefined); // idle connections are cut when the throwaway server stops
  if (pool) await migratePostgres({ pool, schema });
  const client = redisUrl ? new Redis(redisUrl) : undefined;
  const connection = redisUrl ? bullConnection(redisUrl) : undefined;
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    await latency('memory', async (onStart) => oursLatency(createMemoryQueue(), onStart));
    if (client) await latency('redis', async (onStart) => oursLatency(createRedisQueue({ client, prefix: `lat${Date.now()}`, queue: 'lat' }), onStart));
    if (connection) {
      await latency('bullmq', async (onStart) => {
        const name = `lat-${Date.now()}`;
        const queue = new BullQueue(name, { connection });
        const worker = new BullWorker(name, async (job) => onStart((job.data as { i: number }).i), { connection, concurrency: 10 });
        await worker.waitUntilReady();
        return {
          add: (i: number) => queue.add('job', { i }),
          stop: async () => {
            await worker.close();
            await queue.obliterate({ force: true });
            await queue.close();
          },
        };
      });
    }
    if (pool) await latency('postgres', async (onStart) => oursLatency(createPostgresQueue({ pool, schema, queue: `lat${round}` }), onStart));
  }
  const all = results.latency as Record<string, { p50Ms: number; p99Ms: number }>;
  for (const [name, v] of Object.entries(all)) line(`${name}: best round`, `p50 ${v.p50Ms.toFixed(2)} ms, p99 ${v.p99Ms.toFixed(2)} ms`);
  if (all.redis && all.bullmq) line('  redis start-latency p99 vs BullMQ (goal: no worse)', `${all.redis.p99Ms.toFixed(2)} ms vs ${all.bullmq.p99Ms.toFixed(2)} ms`);
  await client?.quit();
  if (pool) {
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await pool.end();
  }
}

/** Runs one worker over every task of `queue` (each returning a small result) until it runs dry. */
async function completeAll(queue: QueueAdapter): Promise<void> {
  const worker = createWorker({ queue, concurrency: 50, claimBatch: 50, handlers: { noop: () => ({ ok: true }) } });
  await worker.idle();
  await worker.close();
}

/**
 * Bytes a backend holds per task, queued and then completed (kept for the default 1 h retention):
 * Redis used_memory, next to BullMQ's for the same jobs (it keeps completed jobs unless told to
 * remove them); PostgreSQL table + indexes.
 */
async function storageSection(pgUrl: string | undefined, redisUrl: string | undefined): Promise<void> {
  const n = 20_000;
  heading(`storage per task (${fmt(n)} tasks, small payloads): queued, then completed and retained`);
  const batch = (i: number) => Array.from({ length: 1_000 }, (_, k) => ({ type: 'noop', tenantId: `t${(i + k) % 100}`, payload: { i: i + k } }));
  if (redisUrl) {
    const client = new Redis(redisUrl);
    const used = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1] ?? 0);
    {
      const name = `mem-bull-${Date.now()}`;
      const before = await used();
      const bull = new BullQueue(name, { connection: bullConnection(redisUrl) });
      await addBullJobs(bull, n);
      const queued = Math.round(((await used()) - before) / n);
      await runBullWorker(name, redisUrl, n, async () => ({ ok: true }));
      const retained = Math.round(((await used()) - before) / n);
      results.bullmqBytesPerJob = { queued, completed: retained };
      line('BullMQ used_memory per job: queued / completed', `${fmt(queued)} B / ${fmt(retained)} B`);
      await bull.obliterate({ force: true });
      await bull.close();
    }
    const before = await used();
    const prefix = `mem${Date.now()}`;
    const queue = createRedisQueue({ client, prefix, queue: 'm' });
    for (let i = 0; i < n; i += 1_000) await queue.enqueueMany(batch(i));
    const bytes = Math.round(((await used()) - before) / n);
    await completeAll(queue);
    const retained = Math.round(((await used()) - before) / n);
    results.redisBytesPerTask = bytes;
    results.redisBytesPerCompletedTask = retained;
    line('redis used_memory per task: queued / completed', `${fmt(bytes)} B / ${fmt(retained)} B`);
    await queue.close();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 1000);
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    await client.quit();
  }
  if (pgUrl) {
    const schema = `dfmem_${Date.now()}`;
    const pool = new pg.Pool({ connectionString: pgUrl, max: 4 });
    pool.on('error', () => undefined); // idle connections are cut when the throwaway server stops
    await migratePostgres({ pool, schema });
    const queue = createPostgresQueue({ pool, schema, queue: 'm' });
    for (let i = 0; i < n; i += 1_000) await queue.enqueueMany(batch(i));
    await pool.query(`VACUUM ANALYZE "${schema}".queue_tasks`);
    const size = async () => Number((await pool.query<{ bytes: string }>(`SELECT pg_total_relation_size('"${schema}".queue_tasks') AS bytes`)).rows[0]!.bytes);
    const bytes = Math.round((await size()) / n);
    await completeAll(queue);
    await pool.query(`VACUUM ANALYZE "${schema}".queue_tasks`);
    const retained = Math.round((await size()) / n);
    results.postgresBytesPerTask = bytes;
    results.postgresBytesPerCompletedTask = retained;
    line('postgres table + indexes per task: queued / completed', `${fmt(bytes)} B / ${fmt(retained)} B`);
    await queue.close();
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await pool.end();
  }
}

// ---------------------------------------------------------------------------------------------
/**
 * Median time of a full claim of 500 once `tasks` tasks wait over `tenants` tenants, over up to
 * `maxClaims` claims. Each claim is timed alone (its tasks are completed untimed before the next),
 * so it is the claim's own cost.
 */
async function medianClaim(queue: QueueAdapter, tasks: number, tenants: number, maxClaims: number, afterEnqueue?: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < tasks; i += 1_000) {
    await queue.enqueueMany(Array.from({ length: Math.min(1_000, tasks - i) }, (_, k) => ({ type: 'noop', tenantId: `t${(i + k) % tenants}`, payload: null })));
  }
  await afterEnqueue?.();
  const times: number[] = [];
  while (times.length < maxClaims) {
    const started = performance.now();
    const claimed = await queue.claim('w', 500, 60_000);
    const ms = performance.now() - started;
    if (claimed.tasks.length < 500) break;
    times.push(ms);
    await Promise.all(claimed.tasks.map((t) => queue.complete(t.lease)));
  }
  return percentilesOf(times).p50!;
}

/**
 * Runs `measure` on a fresh queue of each backend (memory, then Redis and PostgreSQL when there)
 * for each of `points`, prints one line per result and returns them by backend and point.
 * PostgreSQL queues get statistics after their enqueue (`VACUUM ANALYZE`), as autovacuum gives
 * any real server: plan costs follow the tables.
 */
async function claimTable(
  pgUrl: string | undefined,
  redisUrl: string | undefined,
  points: readonly number[],
  label: (point: number) => string,
  measure: (queue: QueueAdapter, point: number, afterEnqueue?: () => Promise<unknown>) => Promise<number>,
): Promise<Record<string, Record<string, number>>> {
  const table: Record<string, Record<string, number>> = {};
  const report = (backend: string, point: number, ms: number): void => {
    (table[backend] ??= {})[point] = ms;
    line(`${backend}, ${label(point)}`, `${ms.toFixed(2)} ms per claim of 500`);
  };
  for (const point of points) report('memory', point, await measure(createMemoryQueue(), point));
  if (redisUrl) {
    const client = new Redis(redisUrl);
    for (const point of points) {
      const prefix = `dfclaims${Date.now()}`;
      const queue = createRedisQueue({ client, prefix, queue: 'q' });
      report('redis', point, await measure(queue, point));
      await queue.close();
      await deletePrefixKeys(redisUrl, prefix);
    }
    await client.quit();
  }
  if (pgUrl) {
    for (const point of points) {
      const schema = `dfclaims_${Date.now()}`;
      const pool = new pg.Pool({ connectionString: pgUrl, max: 10 });
      pool.on('error', () => undefined);
      await migratePostgres({ pool, schema });
      const queue = createPostgresQueue({ pool, schema, queue: 'q' });
      report('postgres', point, await measure(queue, point, () => pool.query('VACUUM ANALYZE')));
      await queue.close();
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await pool.end();
    }
  }
  return table;
}

async function tenantsSection(pgUrl: string | undefined, redisUrl: string | undefined): Promise<void> {
  heading(`tenants: claims of 500 over ${fmt(TENANT_TASKS)} waiting tasks, median ms per claim`);
  const table = await claimTable(pgUrl, redisUrl, [10, 100, 500, 2_000], (tenants) => `${fmt(tenants)} tenants`, (queue, tenants, analyze) =>
    medianClaim(queue, TENANT_TASKS, tenants, Infinity, analyze),
  );
  results.claimAcrossTenants = { tasks: TENANT_TASKS, claim: 500, medianMs: table };
}

async function backlogSection(pgUrl: string | undefined, redisUrl: string | undefined): Promise<void> {
  heading(`backlog: claims of 500 with ${BACKLOGS.map(fmt).join(' / ')} tasks waiting, median ms per claim`);
  const table = await claimTable(pgUrl, redisUrl, BACKLOGS, (n) => `${fmt(n)} waiting`, (queue, n, analyze) => medianClaim(queue, n, 10, 20, analyze));
  results.claimAtBacklog = { claim: 500, tenants: 10, medianMs: table };
}

// ---------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  console.log(`bench/tasks on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, heap limit ${Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20)} MiB`);
  const needServers = ['redis', 'postgres', 'latency', 'storage', 'tenants', 'backlog'].some((section) => SECTIONS.has(section));
  const pgServer = needServers && !process.env.DATABASE_URL ? await startPostgres().catch((err: Error) => (console.log(`no PostgreSQL: ${err.message}`), undefined)) : undefined;
  const redisServer = needServers && !process.env.REDIS_URL ? await startRedis().catch((err: Error) => (console.log(`no Redis: ${err.message}`), undefined)) : undefined;
  const pgUrl = process.env.DATABASE_URL ?? pgServer?.url;
  const redisUrl = process.env.REDIS_URL ?? redisServer?.url;
  try {
    // Latency first, while this process's heap is small: a later major GC of the million-task
    // run would show up as everybody's p99. The in-process race comes next, before the server
    // sections leave their clients and timers behind: run after them, p-queue's one-priority
    // rate was 278k tasks/s in one full run, against 450k in this order the same day.
    if (SECTIONS.has('latency')) await latencySection(pgUrl, redisUrl);
    if (SECTIONS.has('memory')) await memorySection();
    if (SECTIONS.has('redis') && redisUrl) await redisSection(redisUrl);
    if (SECTIONS.has('postgres') && pgUrl) await postgresSection(pgUrl);
    if (SECTIONS.has('storage')) await storageSection(pgUrl, redisUrl);
    if (SECTIONS.has('tenants')) await tenantsSection(pgUrl, redisUrl);
    if (SECTIONS.has('backlog')) await backlogSection(pgUrl, redisUrl);
  } finally {
    await pgServer?.stop();
    await redisServer?.stop();
  }
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tasks.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${join('bench', 'results', 'tasks.json')}`);
}

await main();
