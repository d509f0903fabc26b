import { afterAll, describe, expect, inject, it } from 'vitest';
import { FabricaEventBus } from '../../src/core/events.js';
import { createMemoryQueue, MemoryQueueState } from '../../src/adapters/memory/index.js';
import type { QueueAdapter } from '../../src/adapters/queue.js';
import type { QueueHarness } from '../../src/adapters/testing/queue.js';
import { uniqueName, waitFor } from '../../src/adapters/testing/support.js';
import { createTaskMetrics, createTaskService, createWorker, defineTaskType, dominantShare, type Worker } from '../../src/tasks/index.js';
import { z } from 'zod';
import type { LogFields } from '../../src/core/logger.js';
import { postgresQueueHarness } from '../support/postgres-queue-harness.js';
import { redisQueueHarness } from '../support/redis-queue-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

/**
 * Workers, service and metrics together on each backend: three workers on separate handles
 * (separate connections) share one queue; the global and per-tenant caps hold across them; an
 * idle worker wakes on an enqueue without polling; cancelling a running task aborts its handler
 * in whichever worker runs it; the weighted shares hold through real workers.
 */
function suite(name: string, harness: QueueHarness): void {
  describe(`tasks end to end: ${name}`, () => {
    const opened: QueueAdapter[] = [];
    const workers: Worker[] = [];
    const open = async (queue: string) => {
      const q = await harness.open(queue);
      opened.push(q);
      return q;
    };
    afterAll(async () => {
      await Promise.all(workers.map((w) => w.close({ drain: false })));
      for (const q of opened) await q.close();
      await harness.teardown?.();
    });

    it('holds the global and per-tenant caps across three workers', async () => {
      const queueName = uniqueName('e2e');
      const producer = await open(queueName);
      await producer.configure({ maxConcurrency: 4 });
      await producer.setTenant('capped', { maxConcurrency: 1 });
      let running = 0;
      let peak = 0;
      let cappedRunning = 0;
      let cappedPeak = 0;
      const job = async (_p: unknown, ctx: { task: { tenantId: string } }) => {
        running += 1;
        peak = Math.max(peak, running);
        if (ctx.task.tenantId === 'capped') cappedPeak = Math.max(cappedPeak, ++cappedRunning);
        await new Promise((resolve) => setTimeout(resolve, 2));
        if (ctx.task.tenantId === 'capped') cappedRunning -= 1;
        running -= 1;
      };
      for (let i = 0; i < 3; i++) workers.push(createWorker({ queue: await open(queueName), concurrency: 4, idlePollMs: 200, handlers: { job } }));
      await producer.enqueueMany([
        ...Array.from({ length: 40 }, () => ({ type: 'job', tenantId: 'capped', payload: null })),
        ...Array.from({ length: 80 }, () => ({ type: 'job', tenantId: 'free', payload: null })),
      ]);
      await waitFor(async () => (await producer.stats()).counts.completed === 120, { timeoutMs: 60_000, what: 'all 120 tasks' });
      expect(peak).toBeLessThanOrEqual(4);
      expect(cappedPeak).toBe(1);
      await Promise.all(workers.splice(0).map((w) => w.close()));
    });

    it('wakes an idle worker on enqueue, cancels a running handler, and reports metrics', async () => {
      const queueName = uniqueName('e2e');
      const queue = await open(queueName);
      const events = new FabricaEventBus();
      const states: string[] = [];
      events.on('task:updated', (e) => states.push(e.state));
      const metrics = createTaskMetrics({ queue, events });
      const service = createTaskService({ queue, events, types: [defineTaskType('wait', z.object({ n: z.number() }))] });
      let aborted: unknown;
      const worker = createWorker({
        queue: await open(queueName),
        leaseMs: 400,
        // No polling to fall back on within the test: only a wake-up can start the task in time.
        idlePollMs: 120_000,
        metrics,
        events,
        handlers: {
          wait: (_p, ctx) =>
            new Promise<void>((resolve) => {
              ctx.signal.addEventListener('abort', () => {
                aborted = ctx.signal.reason;
                resolve();
              });
            }),
        },
      });
      workers.push(worker);
      await worker.idle();
      const { task } = await service.create({ type: 'wait', tenantId: 'acme', payload: { n: 1 } });
      await waitFor(() => worker.active === 1, { timeoutMs: 20_000, what: 'the wake-up' });
      await service.cancel(task.taskId);
      await waitFor(() => aborted !== undefined, { timeoutMs: 10_000, what: 'the abort' });
      expect(aborted).toBe('cancelled');
      expect(states).toContain('running');
      expect(states).toContain('cancelled');
      await waitFor(() => worker.counts.lost === 1, { what: 'the lost lease' });
      const snapshot = await metrics.snapshot();
      expect(snapshot.counts.cancelled).toBe(1);
      expect(snapshot.outcomes.lost).toBe(1);
    });

    if (harness.outage !== undefined) {
      const outage = harness.outage;
      /** 200 tasks through one worker (concurrency 4) while the connection drops for `outageMs`; returns runs per task and the log. */
      const rideOut = async (leaseMs: number, outageMs: number) => {
        const queueName = uniqueName('e2e');
        const queue = await open(queueName);
        const runs = new Map<number, number>();
        const logged: { level: string; message: string; fields: LogFields | undefined }[] = [];
        const log = (level: string) => (message: string, fields?: LogFields) => void logged.push({ level, message, fields });
        const worker = createWorker({
          queue: await open(queueName),
          concurrency: 4,
          leaseMs,
          // No polling to fall back on within the test: only a restored wake-up can start the last task in time.
          idlePollMs: 120_000,
          logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
          handlers: {
            job: async (payload) => {
              await new Promise((resolve) => setTimeout(resolve, 5));
              const { i } = payload as { i: number };
              runs.set(i, (runs.get(i) ?? 0) + 1);
            },
          },
        });
        workers.push(worker);
        await queue.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ type: 'job', tenantId: 'acme', payload: { i }, maxAttempts: 10 })));
        await waitFor(() => runs.size >= 40, { timeoutMs: 20_000, what: 'work before the outage' });
        await outage.interrupt();
        await new Promise((resolve) => setTimeout(resolve, outageMs));
        await outage.restore();
        await waitFor(() => runs.size === 200, { timeoutMs: 60_000, what: 'every task after the outage' });
        const stats = await waitFor(
          async () => {
            const s = await queue.stats().catch(() => null);
            return s !== null && s.counts.completed === 200 ? s : null;
          },
          { timeoutMs: 30_000, what: 'every task completed in the queue' },
        );
        expect(stats?.counts).toMatchObject({ queued: 0, running: 0, failed: 0, dead: 0 });
        // Idle again: the wake-up channel came back with the connection.
        await worker.idle();
        await queue.enqueue({ type: 'job', tenantId: 'acme', payload: { i: 200 } });
        await waitFor(() => runs.get(200) === 1, { timeoutMs: 15_000, what: 'the wake-up after the outage' });
        // Each of the 201 tasks is counted completed exactly once by this worker: recorded, or a
        // completion given up at lease end found stored once the queue answered again.
        await waitFor(() => worker.counts.completed === 201, { timeoutMs: 15_000, what: 'the last completion counted' });
        // The outage was noticed and logged by code only: no payloads, no messages of the driver.
        const trouble = logged.filter((l) => l.level === 'warn' || l.level === 'error');
        expect(trouble.length).toBeGreaterThan(0);
        for (const line of trouble) expect(JSON.stringify(line.fields ?? {})).not.toContain('"i"');
        expect(trouble.some((l) => l.fields?.code === 'ADAPTER_UNAVAILABLE')).toBe(true);
        return { runs, trouble, worker };
      };

      it('rides out an outage shorter than the lease: completions cut off are sent again, so no task runs twice', async () => {
        // The lease outlasts the outage and the reconnection with room to spare.
        const { runs, trouble, worker } = await rideOut(5_000, 1_000);
        expect([...runs.values()].every((n) => n === 1)).toBe(true);
        expect(worker.counts).toMatchObject({ completed: 201, lost: 0 });
        expect(trouble.filter((l) => l.message.includes('could not record'))).toEqual([]);
      });

      it('rides out an outage longer than the lease: the worker resumes by itself, and tasks whose completion was cut off run again', async () => {
        const { runs, worker } = await rideOut(1_000, 1_500);
        // At least once: a task ran twice only because its completion never landed within its lease.
        const twice = [...runs.values()].filter((n) => n > 1).length;
        expect(twice).toBeLessThanOrEqual(8);
      });
    }

    it('shares throughput by weight through real workers (1:3)', async () => {
      const queueName = uniqueName('e2e');
      const queue = await open(queueName);
      await queue.setTenant('small', { weight: 1 });
      await queue.setTenant('big', { weight: 3 });
      await queue.enqueueMany([
        ...Array.from({ length: 400 }, () => ({ type: 'job', tenantId: 'small', payload: null })),
        ...Array.from({ length: 400 }, () => ({ type: 'job', tenantId: 'big', payload: null })),
      ]);
      const order: string[] = [];
      const worker = createWorker({ queue: await open(queueName), concurrency: 4, claimBatch: 4, handlers: { job: (_p, ctx) => void order.push(ctx.task.tenantId) } });
      workers.push(worker);
      await waitFor(() => order.length >= 400, { timeoutMs: 60_000, what: '400 tasks' });
      await worker.close();
      // The first 400 served, while both tenants were still backlogged.
      const share = order.slice(0, 400).filter((t) => t === 'big').length / 400;
      // 3/4 of the service while both were backlogged; a claim batch of slack either way.
      expect(share).toBeGreaterThan(0.7);
      expect(share).toBeLessThan(0.8);
    });

    it('multi-resource mode: a CPU-heavy and a memory-heavy tenant get equal dominant shares (DRF)', async () => {
      const queue = await open(uniqueName('drf'));
      // Pool: 64 cores, 256 GiB. 'cruncher' asks 8 cores + 4 GiB (dominant: CPU, 1/8);
      // 'cacher' asks 1 core + 16 GiB (dominant: memory, 1/16). Equal dominant shares: two cacher
      // tasks per cruncher task.
      const capacity = { cpu: 64, memoryMb: 262_144 };
      const service = createTaskService({ queue, types: [defineTaskType('job', z.null())], multiResource: { capacity } });
      const cruncher = { cpu: 8, memoryMb: 4_096 };
      const cacher = { cpu: 1, memoryMb: 16_384 };
      await service.createMany(Array.from({ length: 300 }, () => ({ type: 'job', tenantId: 'cruncher', payload: null, resources: cruncher })));
      await service.createMany(Array.from({ length: 600 }, () => ({ type: 'job', tenantId: 'cacher', payload: null, resources: cacher })));
      const dominant: Record<string, number> = { cruncher: 0, cacher: 0 };
      const served: Record<string, number> = { cruncher: 0, cacher: 0 };
      for (let done = 0; done < 450; ) {
        const { tasks } = await queue.claim('drf-worker', 15, 60_000);
        for (const t of tasks) {
          served[t.tenantId]! += 1;
          dominant[t.tenantId]! += dominantShare(t.resources ?? {}, capacity);
        }
        done += tasks.length;
        await Promise.all(tasks.map((t) => queue.complete(t.lease)));
      }
      // While both are backlogged: equal dominant shares (±5%), so 1:2 in task counts.
      expect(Math.abs(dominant.cruncher! / dominant.cacher! - 1)).toBeLessThanOrEqual(0.05);
      expect(served.cacher! / served.cruncher!).toBeCloseTo(2, 1);
    });
  });
}

const memoryState = new MemoryQueueState();
suite('memory', { open: async (queue) => createMemoryQueue({ state: memoryState, queue }) });

const databaseUrl = inject('databaseUrl');
if (databaseUrl === '') {
  skipWithoutServer('tasks end to end: postgres', 'PostgreSQL server');
} else {
  suite('postgres', postgresQueueHarness(databaseUrl));
}

const redisUrl = inject('redisUrl');
if (redisUrl === '') {
  skipWithoutServer('tasks end to end: redis', 'Redis server');
} else {
  suite('redis', redisQueueHarness(redisUrl));
}
