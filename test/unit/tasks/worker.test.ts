import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FabricaEventBus, type TaskEvent } from '../../../src/core/events.js';
import { AdapterUnavailableError, ValidationError } from '../../../src/core/errors.js';
import { createMemoryQueue } from '../../../src/adapters/memory/index.js';
import type { QueueAdapter } from '../../../src/adapters/queue.js';
import { waitFor } from '../../../src/adapters/testing/support.js';
import { createWorker, defineTaskType, handle, type TaskSample, type Worker } from '../../../src/tasks/index.js';
import { recordingLogger } from '../../support/recording-logger.js';

const workers: Worker[] = [];
const start = (options: Parameters<typeof createWorker>[0]): Worker => {
  const w = createWorker(options);
  workers.push(w);
  return w;
};
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close({ drain: false })));
});

/** A promise with its resolve function: handlers wait on these instead of sleeping. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function recordEvents(events: FabricaEventBus): TaskEvent[] {
  const seen: TaskEvent[] = [];
  for (const name of ['task:updated', 'task:completed', 'task:failed', 'task:dead'] as const) events.on(name, (e) => seen.push({ ...e, state: `${name}/${e.state}` }));
  return seen;
}

type Wrapper = (real: (...args: unknown[]) => Promise<unknown>, ...args: unknown[]) => Promise<unknown>;

/**
 * A memory queue with some methods wrapped: each wrapper gets the real method and the call's
 * arguments. The real methods are bound to the queue: they use private fields, which a proxy
 * receiver lacks.
 */
function wrappedQueue(wrappers: Partial<Record<keyof QueueAdapter, Wrapper>>): QueueAdapter {
  return new Proxy(createMemoryQueue(), {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const real = (value as (...a: unknown[]) => Promise<unknown>).bind(target);
      const wrap = wrappers[prop as keyof QueueAdapter];
      return wrap === undefined ? real : (...args: unknown[]) => wrap(real, ...args);
    },
  });
}

async function settled(queue: QueueAdapter, id: string, state: string): Promise<void> {
  await waitFor(async () => (await queue.get(id))?.state === state, { timeoutMs: 5_000, what: `task ${state}` });
}

describe('createWorker', () => {
  it('runs at most `concurrency` handlers at once and completes every task', async () => {
    const queue = createMemoryQueue();
    let running = 0;
    let peak = 0;
    const worker = start({
      queue,
      concurrency: 3,
      handlers: {
        job: async (payload) => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setImmediate(resolve));
          running -= 1;
          return { doubled: (payload as number) * 2 };
        },
      },
    });
    const results = await queue.enqueueMany(Array.from({ length: 20 }, (_, i) => ({ type: 'job', tenantId: 'acme', payload: i })));
    await waitFor(() => worker.counts.completed === 20, { what: 'all completions' });
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    expect((await queue.get(results[7]!.task.taskId))?.result).toEqual({ doubled: 14 });
    expect(worker.counts).toMatchObject({ claimed: 20, completed: 20, failed: 0, lost: 0 });
  });

  it('gives handlers the payload, the task, a signal and a progress callback stored with the heartbeat', async () => {
    const queue = createMemoryQueue();
    const release = gate();
    let seenAttempt = 0;
    start({
      queue,
      leaseMs: 300,
      handlers: {
        job: async (payload, ctx) => {
          seenAttempt = ctx.task.attempt;
          expect(payload).toEqual({ n: 1 });
          expect(ctx.signal.aborted).toBe(false);
          ctx.progress({ pct: 40 });
          await release.promise;
        },
      },
    });
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: { n: 1 } });
    await waitFor(async () => (await queue.get(task.taskId))?.progress !== null, { what: 'the progress' });
    expect((await queue.get(task.taskId))?.progress).toEqual({ pct: 40 });
    expect(seenAttempt).toBe(1);
    release.open();
    await settled(queue, task.taskId, 'completed');
  });

  it('lets handlers destructure { signal, progress }, as the guide does (progress used to lose its this and fail the task)', async () => {
    const queue = createMemoryQueue();
    const release = gate();
    const worker = start({
      queue,
      leaseMs: 300,
      handlers: {
        job: async (_payload, { signal, progress }) => {
          progress({ step: 'resizing' });
          signal.throwIfAborted();
          await release.promise;
          return { ok: true };
        },
      },
    });
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
    await waitFor(async () => (await queue.get(task.taskId))?.progress !== null, { what: 'the progress' });
    expect((await queue.get(task.taskId))?.progress).toEqual({ step: 'resizing' });
    release.open();
    await settled(queue, task.taskId, 'completed');
    expect(worker.counts).toMatchObject({ completed: 1, failed: 0 });
  });

  it('drops progress the queue refuses and keeps heart-beating, so the lease holds', async () => {
    const queue = createMemoryQueue();
    const release = gate();
    const logger = recordingLogger();
    const warned = (text: string): boolean => logger.lines.some((l) => l.level === 'warn' && l.message.includes(text));
    const worker = start({
      queue,
      logger,
      leaseMs: 150,
      handlers: {
        job: async (_payload, { progress }) => {
          progress({ big: 10n } as never); // not JSON: the queue refuses it
          await release.promise;
        },
      },
    });
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
    await waitFor(() => warned('heartbeat failed'), { what: 'the refused progress' });
    // Several lease times later the task is still this worker's: the heartbeats went on without it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await queue.get(task.taskId))).toMatchObject({ state: 'running', attempt: 1, progress: null });
    release.open();
    await settled(queue, task.taskId, 'completed');
    expect(worker.counts).toMatchObject({ completed: 1, lost: 0 });
  });

  it('keeps a task three leases long leased with a heartbeat of half the lease, the longest it accepts', async () => {
    const queue = createMemoryQueue();
    const worker = start({ queue, leaseMs: 200, heartbeatMs: 100, handlers: { job: () => new Promise((resolve) => setTimeout(resolve, 600)) } });
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
    await settled(queue, task.taskId, 'completed');
    // (With heartbeatMs 150 or more, which is now refused, it lost its lease three times in 900 ms.)
    expect(worker.counts).toMatchObject({ claimed: 1, completed: 1, lost: 0 });
    expect((await queue.get(task.taskId))?.attempt).toBe(1);
  });

  it('warns once when a handler ignores its abort: its slot stays taken until it returns', async () => {
    const queue = createMemoryQueue();
    const release = gate();
    const logger = recordingLogger();
    const worker = start({ queue, logger, concurrency: 2, leaseMs: 200, heartbeatMs: 40, handlers: { stubborn: () => release.promise, polite: (_p, { signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())) } });
    const { task } = await queue.enqueue({ type: 'stubborn', tenantId: 'acme', payload: null, timeoutMs: 50 });
    await queue.enqueue({ type: 'polite', tenantId: 'acme', payload: null, timeoutMs: 50 });
    await waitFor(() => logger.lines.some((l) => l.message.includes('still running after its abort')), { what: 'the overrun warning' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const overruns = logger.lines.filter((l) => l.message.includes('still running after its abort'));
    // Once, for the handler that ignored its signal; the one that stopped is not named.
    expect(overruns).toHaveLength(1);
    expect(overruns[0]!.fields).toMatchObject({ taskId: task.taskId, type: 'stubborn', reason: 'timeout' });
    expect(worker.active).toBe(1);
    release.open();
    await waitFor(() => worker.active === 0, { what: 'the slot back' });
  });

  it('keeps a long task leased with heartbeats: no other worker receives it', async () => {
    const queue = createMemoryQueue();
    const release = gate();
    const w = start({ queue, leaseMs: 100, handlers: { job: () => release.promise } });
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
    await waitFor(() => w.active === 1, { what: 'the task to start' });
    const started = Date.now();
    await waitFor(async () => (await queue.get(task.taskId))!.updatedAt - started >= 250, { what: 'a few heartbeats' });
    expect((await queue.claim('other', 5, 1_000)).tasks).toHaveLength(0);
    release.open();
    await settled(queue, task.taskId, 'completed');
    expect(w.counts.lost).toBe(0);
  });

  it('retries a failing handler with backoff, then dead-letters it, with events', async () => {
    const queue = createMemoryQueue();
    const events = new FabricaEventBus();
    const seen = recordEvents(events);
    start({ queue, events, handlers: { job: () => Promise.reject(new Error('flaky')) } });
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null, maxAttempts: 2, backoff: { delayMs: 5, jitter: 0 } });
    await settled(queue, task.taskId, 'dead');
    const stored = await queue.get(task.taskId);
    expect(stored?.error).toEqual({ code: 'Error', message: 'flaky' });
    expect(stored?.attempt).toBe(2);
    expect(seen.map((e) => e.state)).toEqual(['task:updated/running', 'task:updated/queued', 'task:updated/running', 'task:dead/dead']);
  });

  it('fails a task for good when the error is not retryable', async () => {
    const queue = createMemoryQueue();
    const events = new FabricaEventBus();
    const seen = recordEvents(events);
    start({ queue, events, handlers: { job: () => Promise.reject(new ValidationError('bad input', [])) } });
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null, maxAttempts: 5 });
    await settled(queue, task.taskId, 'failed');
    expect((await queue.get(task.taskId))?.error?.code).toBe('VALIDATION_FAILED');
    expect(seen.at(-1)?.state).toBe('task:failed/failed');
  });

  // Deleting an active task cancels it (the service announces it as cancelled); on a delete the
  // handler used to hear 'lease-lost', as if its lease had run out and the task could run elsewhere.
  for (const how of ['cancelled', 'deleted'] as const) {
    it(`aborts a handler whose task was ${how} with 'cancelled', at its next heartbeat, and ignores its outcome`, async () => {
      const queue = createMemoryQueue();
      let reason: unknown;
      const w = start({
        queue,
        leaseMs: 60,
        handlers: {
          job: (_p, ctx) =>
            new Promise((resolve) => {
              ctx.signal.addEventListener('abort', () => {
                reason = ctx.signal.reason;
                resolve('too late');
              });
            }),
        },
      });
      const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
      await waitFor(() => w.active === 1, { what: 'the task to start' });
      if (how === 'cancelled') await queue.cancel(task.taskId);
      else expect(await queue.delete(task.taskId)).toBe(true);
      await waitFor(() => reason !== undefined, { what: 'the abort' });
      expect(reason).toBe('cancelled');
      await waitFor(() => w.active === 0, { what: 'the slot to free' });
      expect((await queue.get(task.taskId))?.state ?? 'gone').toBe(how === 'cancelled' ? 'cancelled' : 'gone');
      expect(w.counts.lost).toBe(1);
    });
  }

  it('aborts a handler past its timeout and retries the task', async () => {
    const queue = createMemoryQueue();
    let reason: unknown;
    start({
      queue,
      handlers: {
        job: (_p, ctx) =>
          new Promise<void>((resolve) => {
            if (ctx.task.attempt > 1) return resolve();
            ctx.signal.addEventListener('abort', () => {
              reason = ctx.signal.reason;
              resolve();
            });
          }),
      },
    });
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null, timeoutMs: 30, backoff: { delayMs: 1, jitter: 0 } });
    await settled(queue, task.taskId, 'completed');
    expect(reason).toBe('timeout');
    const stored = await queue.get(task.taskId);
    expect(stored?.attempt).toBe(2);
    expect(stored?.history.some((h) => h.reason === 'retry')).toBe(true);
  });

  it('drains running tasks on close', async () => {
    const queue = createMemoryQueue();
    const release = gate();
    const w = start({ queue, handlers: { job: () => release.promise } });
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
    await waitFor(() => w.active === 1, { what: 'the task to start' });
    const closing = w.close();
    setImmediate(release.open);
    await closing;
    expect((await queue.get(task.taskId))?.state).toBe('completed');
  });

  it('hands running tasks back on close without drain, without spending an attempt', async () => {
    const queue = createMemoryQueue();
    let reason: unknown;
    const w = start({
      queue,
      handlers: {
        job: (_p, ctx) =>
          new Promise<void>((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              reason = ctx.signal.reason;
              resolve();
            });
          }),
      },
    });
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null, maxAttempts: 1 });
    await waitFor(() => w.active === 1, { what: 'the task to start' });
    await w.close({ drain: false });
    expect(reason).toBe('shutdown');
    expect(await queue.get(task.taskId)).toMatchObject({ state: 'queued', attempt: 0 });
  });

  it('fails a task of a type it has no handler for, for good', async () => {
    const queue = createMemoryQueue();
    start({ queue, handlers: { job: () => undefined } });
    const { task } = await queue.enqueue({ type: 'mystery', tenantId: 'acme', payload: null });
    await settled(queue, task.taskId, 'failed');
    expect((await queue.get(task.taskId))?.error?.code).toBe('TASK_TYPE_UNKNOWN');
  });

  it('validates payloads with handle(): a rejected payload fails for good', async () => {
    const queue = createMemoryQueue();
    const resize = defineTaskType('resize', z.object({ width: z.number().int() }));
    const widths: number[] = [];
    start({ queue, handlers: { resize: handle(resize, ({ width }) => void widths.push(width)) } });
    const good = await queue.enqueue({ type: 'resize', tenantId: 'acme', payload: { width: 640 } });
    const bad = await queue.enqueue({ type: 'resize', tenantId: 'acme', payload: { width: 'wide' } });
    await settled(queue, good.task.taskId, 'completed');
    await settled(queue, bad.task.taskId, 'failed');
    expect(widths).toEqual([640]);
    expect((await queue.get(bad.task.taskId))?.error?.code).toBe('VALIDATION_FAILED');
  });

  it('stores a result that is not JSON as a final failure', async () => {
    const queue = createMemoryQueue();
    start({ queue, handlers: { job: () => new Map() } });
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
    await settled(queue, task.taskId, 'failed');
  });

  it('runs a task assigned to it by id', async () => {
    const queue = createMemoryQueue();
    const ran: string[] = [];
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
    await queue.assign(task.taskId, 'gpu-7', 60_000);
    start({ queue, id: 'gpu-7', handlers: { job: (_p, ctx) => void ran.push(ctx.task.id) } });
    await settled(queue, task.taskId, 'completed');
    expect(ran).toEqual([task.taskId]);
  });

  it('reports a sample per delivery to its metrics', async () => {
    const queue = createMemoryQueue();
    const samples: TaskSample[] = [];
    const w = start({ queue, metrics: { record: (s) => samples.push(s) }, handlers: { ok: () => undefined, bad: () => Promise.reject(new Error('x')) } });
    await queue.enqueue({ type: 'ok', tenantId: 'acme', payload: null });
    await queue.enqueue({ type: 'bad', tenantId: 'globex', payload: null, maxAttempts: 1 });
    await waitFor(() => samples.length === 2, { what: 'two samples' });
    expect(samples.map((s) => `${s.tenantId}/${s.type}/${s.outcome}`).sort()).toEqual(['acme/ok/completed', 'globex/bad/dead']);
    for (const s of samples) expect(s.waitMs).toBeGreaterThanOrEqual(0);
    await w.idle();
  });

  describe('a completion cut off by an outage', () => {
    /**
     * A memory queue whose next `failures` calls of `method` throw ADAPTER_UNAVAILABLE; with
     * `stored`, the first `storedCalls` of them take effect before throwing (their replies are lost).
     */
    function flakyQueue(failures: number, stored: boolean, method: 'complete' | 'fail' = 'complete', storedCalls = Infinity): { queue: QueueAdapter; calls: () => number } {
      let calls = 0;
      const queue = wrappedQueue({
        [method]: async (real: (...args: unknown[]) => Promise<unknown>, ...args: unknown[]) => {
          calls += 1;
          if (calls > failures) return real(...args);
          if (stored && calls <= storedCalls) await real(...args);
          throw new AdapterUnavailableError('connection lost');
        },
      });
      return { queue, calls: () => calls };
    }

    it('stops resending once close() has given up on it: no queue call after close() resolves', async () => {
      const { queue, calls } = flakyQueue(Infinity, false);
      const logger = recordingLogger();
      const worker = start({ queue, logger, leaseMs: 30_000, handlers: { job: () => ({ ok: true }) } });
      await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
      await waitFor(() => calls() >= 2, { what: 'a resent completion' });
      await worker.close({ timeoutMs: 200 });
      const atClose = calls();
      // The resends backed off 50, 100, 200, 400 ms ... for the whole 30 s lease; now they stop.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(calls()).toBe(atClose);
      expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('closed while a completion was still being resent'))).toBe(true);
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    });

    it('is sent again within the lease: stored once, and the task does not run twice', async () => {
      const { queue, calls } = flakyQueue(2, false);
      const events = new FabricaEventBus();
      const seen = recordEvents(events);
      let runs = 0;
      const worker = start({ queue, events, leaseMs: 10_000, handlers: { job: () => ((runs += 1), { ok: true }) } });
      const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
      await settled(queue, task.taskId, 'completed');
      await worker.idle();
      expect(calls()).toBe(3);
      expect(runs).toBe(1);
      expect(worker.counts).toMatchObject({ completed: 1, lost: 0 });
      expect((await queue.get(task.taskId))?.result).toEqual({ ok: true });
      expect(seen.filter((e) => e.state === 'task:completed/completed')).toHaveLength(1);
    });

    it('counts as completed when the cut-off call had stored it (its reply was what got lost)', async () => {
      const { queue, calls } = flakyQueue(1, true);
      const events = new FabricaEventBus();
      const seen = recordEvents(events);
      const worker = start({ queue, events, leaseMs: 10_000, handlers: { job: () => ({ ok: true }) } });
      const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
      await waitFor(() => worker.counts.completed === 1, { timeoutMs: 5_000, what: 'the completion' });
      expect(calls()).toBe(2);
      expect(worker.counts.lost).toBe(0);
      expect(seen.filter((e) => e.state === 'task:completed/completed').map((e) => e.taskId)).toEqual([task.taskId]);
    });

    it('once the queue answers again after the lease ran out, a completion found stored at its attempt is counted after all', async () => {
      // The first call lands but its reply is lost; the outage then outlasts the 300 ms lease.
      const { queue } = flakyQueue(Infinity, true, 'complete', 1);
      const events = new FabricaEventBus();
      const seen = recordEvents(events);
      let runs = 0;
      const worker = start({ queue, events, leaseMs: 300, handlers: { job: () => ((runs += 1), { ok: true }) } });
      const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
      await waitFor(() => worker.counts.completed === 1, { timeoutMs: 5_000, what: 'the completion counted after all' });
      expect(runs).toBe(1);
      expect((await queue.get(task.taskId))?.state).toBe('completed');
      expect(seen.filter((e) => e.state === 'task:completed/completed').map((e) => e.taskId)).toEqual([task.taskId]);
    });

    it('a failure for good is sent again too: the task fails once and is not run again', async () => {
      const { queue, calls } = flakyQueue(2, false, 'fail');
      let runs = 0;
      const worker = start({
        queue,
        leaseMs: 10_000,
        handlers: {
          job: () => {
            runs += 1;
            throw Object.assign(new Error('bad input'), { retryable: false });
          },
        },
      });
      const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null, maxAttempts: 3 });
      await settled(queue, task.taskId, 'failed');
      await worker.idle();
      expect(calls()).toBe(3);
      expect(runs).toBe(1);
      expect(worker.counts).toMatchObject({ failed: 1, lost: 0 });
    });

    // A failure whose write landed while its reply was lost: the resend finds the lease gone. It
    // used to count as a lost lease, with no task:failed / task:dead event ever emitted (found
    // by test/integration/tasks-worker-sequences on PostgreSQL).
    it('a failure for good whose cut-off call had stored it is counted failed, with its event', async () => {
      const { queue, calls } = flakyQueue(1, true, 'fail');
      const events = new FabricaEventBus();
      const seen = recordEvents(events);
      const worker = start({ queue, events, leaseMs: 10_000, handlers: { job: () => Promise.reject(Object.assign(new Error('bad input'), { retryable: false })) } });
      const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null, maxAttempts: 3 });
      await waitFor(() => worker.counts.failed === 1, { what: 'the failure counted' });
      expect(calls()).toBe(2);
      expect(worker.counts.lost).toBe(0);
      expect(seen.filter((e) => e.state === 'task:failed/failed').map((e) => e.taskId)).toEqual([task.taskId]);
    });

    it('a retry or a dead letter whose cut-off call had stored it is counted and announced once', async () => {
      const { queue } = flakyQueue(2, true, 'fail');
      const events = new FabricaEventBus();
      const seen = recordEvents(events);
      const worker = start({ queue, events, leaseMs: 10_000, handlers: { job: () => Promise.reject(new Error('flaky')) } });
      const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null, maxAttempts: 2, backoff: { delayMs: 1, jitter: 0 } });
      await waitFor(() => worker.counts.failed === 2, { what: 'both failures counted' });
      expect(worker.counts.lost).toBe(0);
      expect((await queue.get(task.taskId))?.state).toBe('dead');
      expect(seen.filter((e) => e.state === 'task:updated/queued')).toHaveLength(1);
      expect(seen.filter((e) => e.state === 'task:dead/dead').map((e) => e.attempt)).toEqual([2]);
    });

    it('an outcome whose reply the client lost and resent by itself is reconciled too (the worker only sees the second answer)', async () => {
      // ioredis sends unanswered commands again once it reconnects: the first run stores the
      // outcome, the second answers TASK_LEASE_LOST, and no ADAPTER_UNAVAILABLE ever reaches the worker.
      const twice = async (real: (...args: unknown[]) => Promise<unknown>, ...args: unknown[]) => {
        await real(...args);
        return real(...args);
      };
      const queue = wrappedQueue({ complete: twice, fail: twice });
      const events = new FabricaEventBus();
      const seen = recordEvents(events);
      const worker = start({ queue, events, handlers: { ok: () => 'done', bad: () => Promise.reject(Object.assign(new Error('no'), { retryable: false })) } });
      const [ok, bad] = await queue.enqueueMany([
        { type: 'ok', tenantId: 'acme', payload: null },
        { type: 'bad', tenantId: 'acme', payload: null },
      ]);
      await waitFor(() => worker.counts.completed === 1 && worker.counts.failed === 1, { what: 'both outcomes counted' });
      expect(worker.counts.lost).toBe(0);
      expect(seen.filter((e) => e.state === 'task:completed/completed').map((e) => e.taskId)).toEqual([ok!.task.taskId]);
      expect(seen.filter((e) => e.state === 'task:failed/failed').map((e) => e.taskId)).toEqual([bad!.task.taskId]);
    });

    it('is given up once the lease has run out: the queue delivers the task again', async () => {
      const { queue } = flakyQueue(Infinity, false);
      let runs = 0;
      const worker = start({ queue, leaseMs: 300, handlers: { job: () => void (runs += 1) } });
      await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null, maxAttempts: 2 });
      await waitFor(() => runs === 2, { timeoutMs: 5_000, what: 'the second delivery after the lease ran out' });
      expect(worker.counts.completed).toBe(0);
    });
  });

  it('rejects bad options with VALIDATION_FAILED', () => {
    const queue = createMemoryQueue();
    expect(() => createWorker({ queue, handlers: {}, concurrency: 0 })).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => createWorker({ queue, handlers: { job: 'nope' as never } })).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => createWorker({ queue, handlers: {}, id: 'bad id' })).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    // A heartbeat longer than half the lease lets leases run out under running tasks.
    expect(() => createWorker({ queue, handlers: {}, leaseMs: 200, heartbeatMs: 150 })).toThrowError(
      expect.objectContaining({ code: 'VALIDATION_FAILED', issues: [expect.objectContaining({ path: ['heartbeatMs'] })] }),
    );
    expect(() => createWorker({ queue, handlers: {}, heartbeatMs: 20_000 })).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  describe('a queue that fails at once', () => {
    /**
     * A memory queue whose `waitForWork` always rejects at once (as a PostgreSQL queue does while
     * its server refuses connections, its schema is missing or its pool is too small to LISTEN),
     * and whose `claim` does too while `claimFails` is set; counts claims.
     */
    function failingQueue(claimFails: boolean): { queue: QueueAdapter; claims: () => number } {
      let claims = 0;
      const queue = wrappedQueue({
        waitForWork: async () => Promise.reject(new AdapterUnavailableError('connect ECONNREFUSED')),
        claim: async (real, ...args) => {
          claims += 1;
          if (claimFails) throw new AdapterUnavailableError('connect ECONNREFUSED');
          return real(...args);
        },
      });
      return { queue, claims: () => claims };
    }

    it('backs off between failed claims instead of spinning (it used to retry thousands of times a second)', async () => {
      const { queue, claims } = failingQueue(true);
      const logger = recordingLogger();
      const started = Date.now();
      const worker = start({ queue, logger, handlers: { job: () => undefined } });
      await new Promise((resolve) => setTimeout(resolve, 800));
      await worker.close();
      // Pauses of 100, 200 and 400 ms: four or five claims in 800 ms, not thousands.
      expect(claims()).toBeGreaterThanOrEqual(2);
      expect(claims()).toBeLessThanOrEqual(6);
      expect(logger.lines.filter((l) => l.message.includes('claim failed'))).toHaveLength(claims());
      // close() cuts the pause short.
      expect(Date.now() - started).toBeLessThan(1_500);
    });

    it('retries a failing claim at least every quarter lease, so a claim cut off by an outage is taken back before its leases run out', async () => {
      // The pauses used to double to 5 s whatever the lease: after a flapping outage a worker with
      // 5 s leases paused 3.2 s, and the tasks its cut-off claim had leased ran out and ran again
      // (found by test/integration/tasks-worker-sequences on PostgreSQL).
      const { queue } = failingQueue(true);
      const at: number[] = [];
      const counting = wrappedQueue({
        waitForWork: () => queue.waitForWork(0),
        claim: (_real, ...args) => (at.push(Date.now()), queue.claim(...(args as Parameters<QueueAdapter['claim']>))),
      });
      const worker = start({ queue: counting, leaseMs: 800, handlers: { job: () => undefined } });
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await worker.close();
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      // 100 ms, then 200 ms (a quarter of the lease) from then on; without the cap 400, 800 ms.
      expect(at.length).toBeGreaterThanOrEqual(6);
      expect(Math.max(...gaps)).toBeLessThan(400);
    });

    it('idles at idlePollMs between empty claims when it cannot wait for work, and still runs what arrives', async () => {
      const { queue, claims } = failingQueue(false);
      let ran = 0;
      const worker = start({ queue, idlePollMs: 100, handlers: { job: () => void (ran += 1) } });
      await new Promise((resolve) => setTimeout(resolve, 550));
      // About one claim per 100 ms (it used to claim in a busy loop).
      expect(claims()).toBeGreaterThanOrEqual(2);
      expect(claims()).toBeLessThanOrEqual(8);
      await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
      await waitFor(() => ran === 1, { timeoutMs: 2_000, what: 'the task found by the next poll' });
      await worker.close();
    });
  });

  it('close() stops waiting for a hanging claim after its timeout; tasks that claim returns later are handed back, not run', async () => {
    const claimGate = gate();
    let claims = 0;
    const queue = wrappedQueue({
      claim: async (real, ...args) => {
        claims += 1;
        await claimGate.promise; // the server does not answer yet
        return real(...args);
      },
    });
    let ran = 0;
    const logger = recordingLogger();
    const { task } = await queue.enqueue({ type: 'job', tenantId: 'acme', payload: null });
    const worker = start({ queue, logger, handlers: { job: () => void (ran += 1) } });
    await waitFor(() => claims === 1, { what: 'the claim in flight' });
    const started = Date.now();
    await worker.close({ timeoutMs: 150 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(logger.lines.some((l) => l.message.includes('closing without waiting longer for a claim in flight'))).toBe(true);
    claimGate.open(); // the answer arrives after all: its task goes back to the queue
    await waitFor(async () => (await queue.get(task.taskId))?.history.some((h) => h.reason === 'released'), { what: 'the hand-back' });
    expect(await queue.get(task.taskId)).toMatchObject({ state: 'queued', attempt: 0 });
    expect(ran).toBe(0);
  });

  it('during an outage logs one heartbeat warning per beat for all tasks, and sends progress cut off by it again afterwards', async () => {
    let extendFails = false;
    const queue = wrappedQueue({
      extend: async (real, ...args) => {
        if (extendFails) throw new AdapterUnavailableError('connection lost');
        return real(...args);
      },
    });
    const logger = recordingLogger();
    const release = gate();
    const reported = gate();
    const worker = start({
      queue,
      logger,
      concurrency: 5,
      leaseMs: 5_000,
      heartbeatMs: 40,
      handlers: {
        job: async (payload, { progress }) => {
          await reported.promise;
          if ((payload as { i: number }).i === 0) progress({ step: 'cut off' });
          await release.promise;
        },
      },
    });
    await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: 'job', tenantId: 'acme', payload: { i } })));
    await waitFor(() => worker.counts.claimed === 5, { what: 'five running tasks' });
    extendFails = true;
    reported.open();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const beats = logger.lines.filter((l) => l.message.includes('heartbeat failed'));
    // One line per failed beat, counting its tasks (before: a line per task and beat).
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(beats.every((w) => w.fields?.code === 'ADAPTER_UNAVAILABLE' && typeof w.fields.tasks === 'number')).toBe(true);
    expect(beats.some((w) => w.fields?.tasks === 5)).toBe(true);
    const first = (await queue.list({ tenantId: 'acme' })).items.find((t) => (t.payload as { i: number }).i === 0)!;
    expect(first.progress).toBeNull();
    extendFails = false;
    await waitFor(async () => (await queue.get(first.id))?.progress !== null, { what: 'the progress sent again after the outage' });
    expect((await queue.get(first.id))?.progress).toEqual({ step: 'cut off' });
    release.open();
    await worker.idle();
    expect(worker.counts).toMatchObject({ completed: 5, lost: 0 });
  });
});
