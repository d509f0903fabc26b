import { afterAll, describe, expect } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import type { ClaimedTask, EnqueueRequest, QueueAdapter, TaskLease, TaskListPage, TaskListQuery } from '../queue.js';
import { FairQueue, PLACE, type FairTask } from '../../tasks/policy/fair-queue.js';
import { jainIndex, shareErrors } from '../../tasks/policy/fairness.js';
import type { ContractOptions, OutageControl } from './harness.js';
import { caught, contractTest, runConcurrently, scaled, sequenceSeeds, sequenceSteps, uniqueName, waitFor } from './support.js';
import { runQueueSequence } from './queue-sequences.js';

/**
 * What a queue backend supplies to {@link describeQueueContract}: handles on named queues. Every
 * test opens its own queue name, so one backend instance serves the whole file.
 *
 * @example
 * ```ts
 * import type { QueueHarness } from 'digital-fabrica/adapters/testing';
 * import { createMemoryQueue, MemoryQueueState } from 'digital-fabrica/adapters/memory';
 * const state = new MemoryQueueState();
 * const harness: QueueHarness = { open: async (queue) => createMemoryQueue({ state, queue }) };
 * ```
 */
export interface QueueHarness {
  /**
   * Opens a handle on queue `queue`. Handles opened with one name share tasks; each should use
   * its own connection(s), so "concurrent claimers" are really concurrent. The suite closes
   * every handle it opens.
   */
  open(queue: string): Promise<QueueAdapter>;
  /** Releases what the harness holds (pools, clients), after the suite closed its handles. */
  teardown?(): Promise<void>;
  /** The manual clock of backends that take time from the caller (memory); absent: real time, short waits. */
  readonly clock?: ManualClock;
  /** Present when the backend has a server to lose; absent: the outage test is skipped with a reason. */
  readonly outage?: OutageControl;
}

const job = (tenantId: string, extra: Partial<EnqueueRequest> = {}): EnqueueRequest => ({ type: 'job', tenantId, payload: null, ...extra });
const batch = (tenantId: string, n: number, extra: Partial<EnqueueRequest> = {}): EnqueueRequest[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'job', tenantId, payload: i, ...extra }));

/**
 * The QueueAdapter conformance suite: every backend (memory, PostgreSQL, Redis, or a third-party
 * one) must pass it. It checks the lifecycle, leases and fencing, retries and dead letters, the
 * fair policy (weighted shares, flooding, aging, caps) and concurrent claimers. Call it at the top
 * level of a vitest file.
 *
 * @example
 * ```ts
 * import { ManualClock } from 'digital-fabrica';
 * import { describeQueueContract } from 'digital-fabrica/adapters/testing';
 * import { createMemoryQueue, MemoryQueueState } from 'digital-fabrica/adapters/memory';
 * const clock = new ManualClock(Date.UTC(2026, 0, 1));
 * const state = new MemoryQueueState();
 * describeQueueContract('memory', { clock, open: async (queue) => createMemoryQueue({ state, queue, clock }) });
 * ```
 */
export function describeQueueContract(name: string, harness: QueueHarness, options?: ContractOptions): void {
  const test = contractTest(options);
  const slowTest = contractTest(options, 180_000);
  const handles = new Set<QueueAdapter>();
  const manual = harness.clock !== undefined;
  // Leases and delays: logical time on a manual clock, short real ones elsewhere.
  const shortMs = manual ? 1_000 : 300;

  const open = async (queue = uniqueName('q')): Promise<QueueAdapter> => {
    const handle = await harness.open(queue);
    await handle.init();
    handles.add(handle);
    return handle;
  };
  /** Lets `ms` of queue time pass: advances the manual clock, or waits on a real one. */
  const pass = async (ms: number): Promise<void> => {
    if (harness.clock) harness.clock.advance(ms);
    else await new Promise((resolve) => setTimeout(resolve, ms));
  };
  const claimAll = async (q: QueueAdapter, worker: string, limit: number, leaseMs = 60_000): Promise<ClaimedTask[]> =>
    [...(await q.claim(worker, limit, leaseMs)).tasks];

  describe(`QueueAdapter contract: ${name}`, () => {
    if ((options?.scale ?? 1) < 1) console.warn(`[${name}] queue contract running at scale ${options?.scale}: not a full conformance run`);
    afterAll(async () => {
      for (const handle of handles) await handle.close();
      handles.clear();
      await harness.teardown?.();
    });

    describe('lifecycle', () => {
      test('enqueues a task and claims it with its payload and a lease', async () => {
        const q = await open();
        const { task, created } = await q.enqueue({ type: 'render', tenantId: 'acme', payload: { scene: 'intro', n: [1, 2] }, ownerId: 'ada' });
        expect(created).toBe(true);
        expect(task).toMatchObject({ tenantId: 'acme', type: 'render', state: 'queued', attempt: 0 });
        const { tasks } = await q.claim('w1', 10, 60_000);
        expect(tasks).toHaveLength(1);
        const [t] = tasks;
        expect(t).toMatchObject({ id: task.taskId, type: 'render', tenantId: 'acme', ownerId: 'ada', payload: { scene: 'intro', n: [1, 2] }, attempt: 1, band: 'normal' });
        expect(t!.lease).toMatchObject({ taskId: task.taskId, workerId: 'w1', attempt: 1 });
        expect(t!.lease.expiresAt).toBeGreaterThan(t!.createdAt);
        expect((await q.get(task.taskId))?.state).toBe('running');
        expect((await q.claim('w2', 10, 60_000)).tasks).toHaveLength(0);
      });

      test('completes a task: result, timestamps and the state history are stored', async () => {
        const q = await open();
        const { task } = await q.enqueue(job('acme'));
        const [t] = await claimAll(q, 'w1', 1);
        const update = await q.complete(t!.lease, { frames: 24 });
        expect(update).toMatchObject({ taskId: task.taskId, state: 'completed', attempt: 1 });
        const stored = await q.get(task.taskId);
        expect(stored).toMatchObject({ state: 'completed', result: { frames: 24 }, workerId: null, leaseExpiresAt: null, attempt: 1 });
        expect(stored!.history.map((h) => h.state)).toEqual(['queued', 'running', 'completed']);
        expect(stored!.history[1]).toMatchObject({ workerId: 'w1', attempt: 1 });
        expect(stored!.updatedAt).toBeGreaterThanOrEqual(stored!.createdAt);
      });

      test('payloads and results keep control characters and separators exactly, through claim, complete and get', async () => {
        const q = await open();
        // \x1f is the field separator of the Redis backend's replies; the others are its neighbours.
        const text = 'a\x1fb\x1ec\x00d\ne\u2028f|g';
        const { task } = await q.enqueue({ type: 'job', tenantId: 'acme', ownerId: 'ada', payload: { text, [text]: [text] } });
        const [t] = await claimAll(q, 'w1', 1);
        expect(t).toMatchObject({ id: task.taskId, ownerId: 'ada', payload: { text, [text]: [text] } });
        await q.complete(t!.lease, { echo: text });
        expect(await q.get(task.taskId)).toMatchObject({ payload: { text, [text]: [text] }, result: { echo: text }, ownerId: 'ada' });
      });

      test('every time it reports is epoch milliseconds of its clock: updates, leases, tasks, history and stats', async () => {
        const q = await open();
        // Server clocks (PostgreSQL, Redis) may differ from this process's by a little.
        const slack = manual ? 0 : 5_000;
        const clockNow = (): number => harness.clock?.now() ?? Date.now();
        const near = (value: number | null | undefined, from: number, to: number): void => {
          expect(value).toBeGreaterThanOrEqual(from - slack);
          expect(value).toBeLessThanOrEqual(to + slack);
        };
        const from = clockNow();
        const runAt = from + 3_600_000;
        const later = await q.enqueue(job('acme', { runAt }));
        expect(later.task.readyAt).toBe(runAt);
        const { task } = await q.enqueue(job('acme'));
        near(task.at, from, clockNow());
        near(task.readyAt, from, clockNow());
        const stats = await q.stats();
        near(stats.at, from, clockNow());
        near(stats.oldestReadyAt, from, clockNow());
        const [claimed] = await claimAll(q, 'w1', 1, 60_000);
        near(claimed!.createdAt, from, clockNow());
        near(claimed!.lease.expiresAt - 60_000, from, clockNow());
        const done = await q.complete(claimed!.lease);
        near(done.at, from, clockNow());
        const stored = (await q.get(task.taskId))!;
        near(stored.createdAt, from, clockNow());
        near(stored.updatedAt, from, clockNow());
        for (const entry of stored.history) near(entry.at, from, clockNow());
        expect((await q.get(later.task.taskId))!.readyAt).toBe(runAt);
      });

      test('returns copies: mutating a claimed payload never changes the stored task', async () => {
        const q = await open();
        const { task } = await q.enqueue({ type: 'job', tenantId: 'acme', payload: { list: [1] } });
        const [t] = await claimAll(q, 'w1', 1);
        (t!.payload as { list: number[] }).list.push(2);
        expect((await q.get(task.taskId))!.payload).toEqual({ list: [1] });
      });

      test('orders by band, then priority (higher first), then FIFO within a tenant', async () => {
        const q = await open();
        await q.configure({ agingMs: null });
        const order = ['low', 'normal-p0-a', 'high', 'normal-p5', 'critical', 'normal-p0-b'];
        await q.enqueueMany([
          { type: 'job', tenantId: 'acme', payload: 'low', band: 'low' },
          { type: 'job', tenantId: 'acme', payload: 'normal-p0-a' },
          { type: 'job', tenantId: 'acme', payload: 'high', band: 'high' },
          { type: 'job', tenantId: 'acme', payload: 'normal-p5', priority: 5 },
          { type: 'job', tenantId: 'acme', payload: 'critical', band: 'critical' },
          { type: 'job', tenantId: 'acme', payload: 'normal-p0-b' },
        ]);
        expect(order).toHaveLength(6);
        const seen: unknown[] = [];
        for (let i = 0; i < 6; i++) seen.push((await claimAll(q, 'w1', 1))[0]!.payload);
        expect(seen).toEqual(['critical', 'high', 'normal-p5', 'normal-p0-a', 'normal-p0-b', 'low']);
      });

      test('rejects malformed input with VALIDATION_FAILED before touching the queue', async () => {
        const q = await open();
        const bad: unknown[] = [
          { type: 'job', tenantId: '', payload: null },
          { type: 'job', tenantId: 'a b', payload: null },
          { type: 'bad type!', tenantId: 'acme', payload: null },
          { type: 'job', tenantId: 'acme', payload: null, priority: 1001 },
          { type: 'job', tenantId: 'acme', payload: null, priority: 1.5 },
          { type: 'job', tenantId: 'acme', payload: null, cost: 0 },
          { type: 'job', tenantId: 'acme', payload: null, band: 'urgent' },
          { type: 'job', tenantId: 'acme', payload: null, runAt: 1, delayMs: 1 },
          { type: 'job', tenantId: 'acme', payload: null, maxAttempts: 0 },
          { type: 'job', tenantId: 'acme', payload: null, unknownOption: true },
          { type: 'job', tenantId: 'acme', payload: Number.NaN },
          { type: 'job', tenantId: 'acme', payload: { when: new Date(0) } },
          { type: 'job', tenantId: 'acme', payload: null, idempotencyKey: 'a\u0000b' },
        ];
        for (const request of bad) expect((await caught(() => q.enqueue(request as EnqueueRequest))).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => q.enqueueMany([job('acme'), bad[0] as EnqueueRequest]))).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => q.claim('w1', 0, 1000))).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => q.claim('w1', 1001, 1000))).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => q.claim('w 1', 1, 1000))).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => q.claim('w1', 1, 0))).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => q.complete({ taskId: 'nope' } as TaskLease))).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => q.get('not-a-uuid'))).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => q.setTenant('acme', { weight: 0 }))).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => q.configure({ maxConcurrency: 0 }))).code).toBe('VALIDATION_FAILED');
        expect((await q.stats()).counts.queued).toBe(0);
      });

      test('refuses a payload over the size limit with PAYLOAD_TOO_LARGE', async () => {
        const q = await open();
        const err = await caught(() => q.enqueue(job('acme', { payload: 'x'.repeat(1024 * 1024 + 1) })));
        expect(err.code).toBe('PAYLOAD_TOO_LARGE');
      });

      test('a duplicate idempotency key returns the existing task and changes nothing', async () => {
        const q = await open();
        const first = await q.enqueue(job('acme', { idempotencyKey: 'order-42', payload: 1 }));
        const again = await q.enqueue(job('acme', { idempotencyKey: 'order-42', payload: 2 }));
        expect(again.created).toBe(false);
        expect(again.task.taskId).toBe(first.task.taskId);
        const other = await q.enqueue(job('globex', { idempotencyKey: 'order-42' }));
        expect(other.created).toBe(true);
        const inBatch = await q.enqueueMany([job('acme', { idempotencyKey: 'k2' }), job('acme', { idempotencyKey: 'k2' }), job('acme', { idempotencyKey: 'order-42' })]);
        expect(inBatch.map((r) => r.created)).toEqual([true, false, false]);
        expect(inBatch[1]!.task.taskId).toBe(inBatch[0]!.task.taskId);
        expect(inBatch[2]!.task.taskId).toBe(first.task.taskId);
        expect((await q.get(first.task.taskId))!.payload).toBe(1);
        expect((await q.stats()).counts.queued).toBe(3);
        // Still deduplicated while running and after completion (within retention).
        const claimed = await claimAll(q, 'w1', 10);
        for (const t of claimed) await q.complete(t.lease);
        expect((await q.enqueue(job('acme', { idempotencyKey: 'order-42' }))).created).toBe(false);
      });

      test('concurrent enqueues with one idempotency key create exactly one task', async () => {
        const name = uniqueName('q');
        const qs = await Promise.all([1, 2, 3, 4].map(() => open(name)));
        const results = await Promise.all(qs.flatMap((q) => [1, 2, 3].map(() => q.enqueue(job('acme', { idempotencyKey: 'once' })))));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.task.taskId)).size).toBe(1);
      });

      test('a delayed task is not claimable before its time, then is', async () => {
        const q = await open();
        const { task } = await q.enqueue(job('acme', { delayMs: shortMs }));
        const first = await q.claim('w1', 1, 60_000);
        expect(first.tasks).toHaveLength(0);
        expect(first.nextInMs).not.toBeNull();
        expect(first.nextInMs!).toBeLessThanOrEqual(shortMs);
        expect((await q.stats()).counts).toMatchObject({ queued: 1, delayed: 1 });
        await pass(shortMs);
        const got = await waitFor(async () => (await q.claim('w1', 1, 60_000)).tasks[0], { timeoutMs: 5_000, what: 'the delayed task' });
        expect(got.id).toBe(task.taskId);
        expect(got.readyAt).toBeGreaterThanOrEqual(got.createdAt + shortMs);
      });

      test('cancels: a queued task never runs; a running one loses its lease; twice is fine; finished is CONFLICT', async () => {
        const q = await open();
        const a = await q.enqueue(job('acme'));
        expect((await q.cancel(a.task.taskId)).state).toBe('cancelled');
        expect((await q.cancel(a.task.taskId)).state).toBe('cancelled');
        expect((await q.claim('w1', 5, 60_000)).tasks).toHaveLength(0);
        const b = await q.enqueue(job('acme'));
        const [running] = await claimAll(q, 'w1', 1);
        await q.cancel(b.task.taskId);
        expect((await caught(() => q.complete(running!.lease))).code).toBe('TASK_LEASE_LOST');
        expect((await caught(() => q.extend(running!.lease, 1000))).code).toBe('TASK_LEASE_LOST');
        const c = await q.enqueue(job('acme'));
        const [done] = await claimAll(q, 'w1', 1);
        await q.complete(done!.lease);
        expect((await caught(() => q.cancel(c.task.taskId))).code).toBe('CONFLICT');
        expect((await caught(() => q.cancel('00000000-0000-7000-8000-000000000000'))).code).toBe('NOT_FOUND');
        expect((await q.get(b.task.taskId))!.history.map((h) => h.state)).toEqual(['queued', 'running', 'cancelled']);
      });

      test('deletes a task in any state; its lease is lost and its idempotency key freed', async () => {
        const q = await open();
        const a = await q.enqueue(job('acme', { idempotencyKey: 'd1' }));
        const [t] = await claimAll(q, 'w1', 1);
        expect(await q.delete(a.task.taskId)).toBe(true);
        expect(await q.delete(a.task.taskId)).toBe(false);
        expect(await q.get(a.task.taskId)).toBeNull();
        expect((await caught(() => q.complete(t!.lease))).code).toBe('TASK_LEASE_LOST');
        expect((await q.enqueue(job('acme', { idempotencyKey: 'd1' }))).created).toBe(true);
        const stats = await q.stats();
        expect(stats.counts).toMatchObject({ queued: 1, running: 0, cancelled: 0 });
      });

      test('assign hands a queued task to a named worker, whose next claim starts it with the same lease', async () => {
        const q = await open();
        const a = await q.enqueue(job('acme', { payload: 'for-w7' }));
        await q.enqueue(job('acme', { payload: 'other' }));
        const { update, lease } = await q.assign(a.task.taskId, 'w7', 60_000);
        expect(update).toMatchObject({ state: 'assigned', attempt: 1 });
        expect((await q.get(a.task.taskId))).toMatchObject({ state: 'assigned', workerId: 'w7' });
        // Another worker does not get it.
        const other = await claimAll(q, 'w1', 10);
        expect(other.map((t) => t.payload)).toEqual(['other']);
        const mine = await claimAll(q, 'w7', 10);
        expect(mine.map((t) => t.payload)).toEqual(['for-w7']);
        expect(mine[0]!.lease.token).toBe(lease.token);
        expect(mine[0]!.attempt).toBe(1);
        await q.complete(lease, 'ok');
        expect((await q.get(a.task.taskId))!.history.map((h) => h.state)).toEqual(['queued', 'assigned', 'running', 'completed']);
        expect((await caught(() => q.assign(a.task.taskId, 'w7', 1000))).code).toBe('CONFLICT');
        expect((await caught(() => q.assign('00000000-0000-7000-8000-000000000000', 'w7', 1000))).code).toBe('NOT_FOUND');
      });

      test('an assigned task can be completed with its lease without being claimed (REST workers)', async () => {
        const q = await open();
        const a = await q.enqueue(job('acme'));
        const { lease } = await q.assign(a.task.taskId, 'rest-client', 60_000);
        expect((await q.complete(lease, { via: 'rest' })).state).toBe('completed');
        expect((await q.get(a.task.taskId))!.result).toEqual({ via: 'rest' });
      });
    });

    describe('leases, retries and dead letters', () => {
      test('rejects a stale lease with TASK_LEASE_LOST', async () => {
        const q = await open();
        await q.enqueue(job('acme'));
        const [t] = await claimAll(q, 'w1', 1);
        await q.complete(t!.lease);
        expect((await caught(() => q.complete(t!.lease))).code).toBe('TASK_LEASE_LOST');
        expect((await caught(() => q.fail(t!.lease, { error: { code: 'E', message: 'x' } }))).code).toBe('TASK_LEASE_LOST');
        expect((await caught(() => q.release(t!.lease))).code).toBe('TASK_LEASE_LOST');
        const forged = { ...t!.lease, token: 'forged-token' };
        await q.enqueue(job('acme'));
        const [u] = await claimAll(q, 'w1', 1);
        expect((await caught(() => q.complete({ ...forged, taskId: u!.id }))).code).toBe('TASK_LEASE_LOST');
        // A lease that crossed a process boundary as JSON still works.
        const copy = JSON.parse(JSON.stringify(u!.lease)) as TaskLease;
        expect((await q.complete(copy)).state).toBe('completed');
      });

      test('extend moves the expiry and stores progress', async () => {
        const q = await open();
        const { task } = await q.enqueue(job('acme'));
        const [t] = await claimAll(q, 'w1', 1, shortMs);
        const extended = await q.extend(t!.lease, 60_000, { pct: 50 });
        expect(extended.token).toBe(t!.lease.token);
        expect(extended.expiresAt).toBeGreaterThan(t!.lease.expiresAt);
        expect((await q.get(task.taskId))!.progress).toEqual({ pct: 50 });
        await pass(shortMs * 2);
        // Still held: the extension outlived the original lease.
        expect((await q.claim('w2', 1, 60_000)).tasks).toHaveLength(0);
        expect((await q.complete(extended)).state).toBe('completed');
      });

      test('an expired lease is reaped: the task is delivered again with the next attempt, the old lease is dead', async () => {
        const q = await open();
        const { task } = await q.enqueue(job('acme', { maxAttempts: 3 }));
        const [first] = await claimAll(q, 'w1', 1, shortMs);
        await pass(shortMs);
        // The claim reaps first and reports what it reaped (no sweeper runs this early).
        const claimed = await waitFor(async () => {
          const result = await q.claim('w2', 1, 60_000);
          return result.tasks.length > 0 ? result : undefined;
        }, { timeoutMs: 5_000, what: 'redelivery' });
        expect(claimed.reaped).toEqual([expect.objectContaining({ taskId: task.taskId, state: 'queued', attempt: 1, reason: 'lease-expired' })]);
        expect(claimed.reaped[0]!.readyAt).toEqual(expect.any(Number));
        const again = claimed.tasks[0]!;
        expect(again.id).toBe(task.taskId);
        expect(again.attempt).toBe(2);
        expect(again.lease.token).not.toBe(first!.lease.token);
        expect((await caught(() => q.complete(first!.lease))).code).toBe('TASK_LEASE_LOST');
        expect((await caught(() => q.extend(first!.lease, 60_000))).code).toBe('TASK_LEASE_LOST');
        await q.complete(again.lease);
        const history = (await q.get(task.taskId))!.history;
        expect(history.map((h) => [h.state, h.reason ?? null])).toEqual([
          ['queued', null],
          ['running', null],
          ['queued', 'lease-expired'],
          ['running', null],
          ['completed', null],
        ]);
      });

      test('an expired lease past the last attempt is dead-lettered, not lost; reapExpired does it without a claim', async () => {
        const q = await open();
        const { task } = await q.enqueue(job('acme', { maxAttempts: 1 }));
        await claimAll(q, 'w1', 1, shortMs);
        await pass(shortMs);
        const reaped = await waitFor(async () => {
          const r = await q.reapExpired();
          return r.updates.length > 0 ? r.updates : undefined;
        }, { timeoutMs: 5_000, what: 'the reaper' });
        expect(reaped[0]).toMatchObject({ taskId: task.taskId, state: 'dead', attempt: 1 });
        expect((await q.get(task.taskId))!.state).toBe('dead');
        expect((await q.stats()).counts.dead).toBe(1);
      });

      test('fail re-queues after retryInMs while attempts remain, then dead-letters', async () => {
        const q = await open();
        const { task } = await q.enqueue(job('acme', { maxAttempts: 2 }));
        const [t1] = await claimAll(q, 'w1', 1);
        const retry = await q.fail(t1!.lease, { error: { code: 'BOOM', message: 'first' }, retryInMs: shortMs });
        expect(retry).toMatchObject({ state: 'queued', attempt: 1, reason: 'retry' });
        expect(retry.readyAt).toBeGreaterThanOrEqual(retry.at + shortMs);
        expect((await q.claim('w1', 1, 60_000)).tasks).toHaveLength(0);
        await pass(shortMs);
        const t2 = await waitFor(async () => (await q.claim('w1', 1, 60_000)).tasks[0], { timeoutMs: 5_000, what: 'the retry' });
        expect(t2.attempt).toBe(2);
        const dead = await q.fail(t2.lease, { error: { code: 'BOOM', message: 'second' } });
        expect(dead).toMatchObject({ state: 'dead', attempt: 2, reason: 'attempts-exhausted' });
        const stored = await q.get(task.taskId);
        expect(stored).toMatchObject({ state: 'dead', error: { code: 'BOOM', message: 'second' } });
      });

      test('the history records every delivery: worker, attempt and reason of each hand-back, retry and completion, in time order', async () => {
        const q = await open();
        const { task } = await q.enqueue(job('acme', { maxAttempts: 3 }));
        const [t1] = await claimAll(q, 'w1', 1);
        await q.release(t1!.lease);
        const [t2] = await claimAll(q, 'w2', 1);
        await q.fail(t2!.lease, { error: { code: 'BOOM', message: 'once' }, retryInMs: 0 });
        const [t3] = await claimAll(q, 'w3', 1);
        // The completion's update has no reason, whatever the earlier transitions had.
        expect(await q.complete(t3!.lease)).not.toHaveProperty('reason');
        const history = (await q.get(task.taskId))!.history;
        expect(history.map((h) => [h.state, h.attempt, h.workerId ?? null, h.reason ?? null])).toEqual([
          ['queued', 0, null, null],
          ['running', 1, 'w1', null],
          ['queued', 0, null, 'released'],
          ['running', 1, 'w2', null],
          ['queued', 1, null, 'retry'],
          ['running', 2, 'w3', null],
          ['completed', 2, null, null],
        ]);
        for (let i = 1; i < history.length; i++) expect(history[i]!.at).toBeGreaterThanOrEqual(history[i - 1]!.at);
      });

      test('a final failure ends the task failed without retry', async () => {
        const q = await open();
        const { task } = await q.enqueue(job('acme', { maxAttempts: 5 }));
        const [t] = await claimAll(q, 'w1', 1);
        expect(await q.fail(t!.lease, { error: { code: 'BAD_INPUT', message: 'no' }, final: true })).toMatchObject({ state: 'failed', reason: 'final-failure' });
        expect((await q.get(task.taskId))!.state).toBe('failed');
      });

      test('release hands a task back without spending an attempt', async () => {
        const q = await open();
        const { task } = await q.enqueue(job('acme', { maxAttempts: 1 }));
        const [t] = await claimAll(q, 'w1', 1);
        expect(await q.release(t!.lease)).toMatchObject({ state: 'queued', attempt: 0, reason: 'released' });
        const [again] = await claimAll(q, 'w2', 1);
        expect(again).toMatchObject({ id: task.taskId, attempt: 1 });
        await q.complete(again!.lease);
      });

      test('keeps completed tasks for retentionMs (0: removed at once) and failed ones until deleted', async () => {
        const q = await open();
        await q.configure({ retentionMs: 0 });
        const a = await q.enqueue(job('acme'));
        const b = await q.enqueue(job('acme', { maxAttempts: 1 }));
        const claimed = await claimAll(q, 'w1', 2);
        const byId = new Map(claimed.map((t) => [t.id, t]));
        await q.complete(byId.get(a.task.taskId)!.lease);
        await q.fail(byId.get(b.task.taskId)!.lease, { error: { code: 'E', message: 'x' } });
        expect(await q.get(a.task.taskId)).toBeNull();
        expect((await q.get(b.task.taskId))!.state).toBe('dead');
        expect((await q.stats()).counts).toMatchObject({ completed: 0, dead: 1 });
      });

      test('removes tasks past their retention as later completions settle, without a maintenance call', async () => {
        // A saturated worker never calls reapExpired(): its completions alone must keep what is
        // retained bounded. Ten single completions may remove up to twenty expired tasks.
        const q = await open();
        // Long enough on a real clock that the first wave cannot expire while it is being settled.
        const retentionMs = manual ? shortMs : 1_000;
        await q.configure({ retentionMs, failedRetentionMs: retentionMs });
        const done = await q.enqueueMany(batch('acme', 10));
        const failing = await q.enqueueMany(batch('globex', 2, { maxAttempts: 1 }));
        const failingIds = new Set(failing.map((r) => r.task.taskId));
        for (const t of await claimAll(q, 'w1', 12)) {
          if (failingIds.has(t.id)) await q.fail(t.lease, { error: { code: 'E', message: 'x' } });
          else await q.complete(t.lease);
        }
        expect((await q.stats()).counts).toMatchObject({ completed: 10, dead: 2 });
        // The next wave is claimed before the first one expires, so nothing but its completions
        // runs after that.
        const next = await q.enqueueMany(batch('acme', 10));
        const claimed = await claimAll(q, 'w1', 10);
        expect(claimed).toHaveLength(10);
        await pass(retentionMs + 200);
        for (const t of claimed) await q.complete(t.lease);
        for (const r of [...done, ...failing]) expect(await q.get(r.task.taskId)).toBeNull();
        for (const r of next) expect((await q.get(r.task.taskId))?.state).toBe('completed');
        expect((await q.stats()).counts).toMatchObject({ completed: 10, dead: 0 });
        expect(await q.list({ tenantId: 'globex', limit: 10 })).toMatchObject({ items: [] });
      });
    });

    describe('fair policy', () => {
      test('shares service 1:2:4 between backlogged tenants within ±5% (Jain >= 0.99)', async () => {
        const q = await open();
        const weights = { light: 1, medium: 2, heavy: 4 };
        for (const [tenant, weight] of Object.entries(weights)) await q.setTenant(tenant, { weight });
        const per = scaled(options, 1_500);
        for (const tenant of Object.keys(weights)) await q.enqueueMany(batch(tenant, per));
        const served: Record<string, number> = { light: 0, medium: 0, heavy: 0 };
        const total = scaled(options, 1_400);
        for (let done = 0; done < total; ) {
          const tasks = await claimAll(q, 'w1', Math.min(20, total - done));
          for (const t of tasks) served[t.tenantId]! += 1;
          done += tasks.length;
          await Promise.all(tasks.map((t) => q.complete(t.lease)));
        }
        const names = Object.keys(weights) as (keyof typeof weights)[];
        const errors = shareErrors(names.map((n) => served[n]!), names.map((n) => weights[n]));
        for (const e of errors) expect(Math.abs(e)).toBeLessThanOrEqual(0.05);
        expect(jainIndex(names.map((n) => served[n]! / weights[n]))).toBeGreaterThanOrEqual(0.99);
      });

      test('over many tenants, each claim serves the tenants the pure policy would serve', async () => {
        // 40 backlogged tenants with weights 1, 2 and 4 and costs 1 and 2 (binary fractions, so
        // every backend's virtual times are exact and ties break alike), claimed in batches of 64.
        const q = await open();
        const tenants = Array.from({ length: 40 }, (_, i) => `t${String(i).padStart(2, '0')}`);
        const weightOf = (i: number): number => [1, 2, 4][i % 3]!;
        const costOf = (i: number): number => [1, 2][i % 2]!;
        const perTenant = scaled(options, 12);
        const reference = new FairQueue<FairTask>({ agingMs: null, maxConcurrency: null });
        let seq = 0;
        for (const [i, tenant] of tenants.entries()) {
          await q.setTenant(tenant, { weight: weightOf(i) });
          reference.setTenant(tenant, { weight: weightOf(i), maxConcurrency: null, ratePerSecond: null, burst: 1 });
        }
        // Round-robin enqueue order, as one stream of arrivals.
        for (let k = 0; k < perTenant; k++) {
          await q.enqueueMany(tenants.map((tenant, i) => job(tenant, { cost: costOf(i) })));
          for (const [i, tenant] of tenants.entries()) {
            reference.add({ id: `r${seq}`, tenantId: tenant, priority: 0, seq: seq++, cost: costOf(i), originalBand: 2, band: 2, readyAt: 0, promoteAt: Infinity, place: PLACE.none, qpos: -1 }, 0);
          }
        }
        const tally = (ids: readonly string[]): string => {
          const counts = new Map<string, number>();
          for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
          return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, n]) => `${t}:${n}`).join(' ');
        };
        for (let round = 0; ; round++) {
          const tasks = await claimAll(q, 'w1', 64);
          const expected = reference.claim(64, 0);
          expect({ round, served: tally(tasks.map((t) => t.tenantId)) }).toEqual({ round, served: tally(expected.map((t) => t.tenantId)) });
          if (tasks.length === 0) break;
          await Promise.all(tasks.map((t) => q.complete(t.lease)));
          for (const t of expected) reference.finish(t.tenantId);
        }
      });

      slowTest('a tenant flooding 100,000 tasks delays another tenant\'s single task by at most one round', async () => {
        const q = await open();
        const flood = scaled(options, 100_000);
        for (let i = 0; i < flood; i += 10_000) await q.enqueueMany(batch('noisy', Math.min(10_000, flood - i)));
        for (let i = 0; i < 5; i++) for (const t of await claimAll(q, 'w1', 10)) await q.complete(t.lease);
        const { task } = await q.enqueue(job('quiet'));
        // One round = every backlogged tenant served once: 2 tenants here.
        const next = await claimAll(q, 'w1', 2);
        expect(next.map((t) => t.id)).toContain(task.taskId);
        expect(next[0]!.id).toBe(task.taskId);
      });

      test('a tenant returning from idle re-enters at the band\'s virtual time (no burst)', async () => {
        const q = await open();
        await q.enqueueMany(batch('busy', 200));
        for (let i = 0; i < 10; i++) for (const t of await claimAll(q, 'w1', 10)) await q.complete(t.lease);
        // 'idle' was idle while 'busy' got 100 tasks; it must not be owed 100 in a row now.
        await q.enqueueMany(batch('idle', 50));
        const next = await claimAll(q, 'w1', 20);
        const idle = next.filter((t) => t.tenantId === 'idle').length;
        expect(idle).toBeGreaterThanOrEqual(9);
        expect(idle).toBeLessThanOrEqual(11);
      });

      test('tenants re-entering at the band\'s virtual time go by tenant id, however long each was away', async () => {
        const q = await open();
        // 'a' is served once (its virtual time becomes 1), then 'z' three times (the band's
        // virtual time reaches 2); 'b' was never served (virtual time 0). Back together, 'a' and
        // 'b' both start at 2: a tie, which the id breaks, not the time each spent away.
        await q.enqueue(job('a'));
        for (const t of await claimAll(q, 'w1', 1)) await q.complete(t.lease);
        await q.enqueueMany(batch('z', 3));
        for (const t of await claimAll(q, 'w1', 3)) await q.complete(t.lease);
        await q.enqueueMany([job('b'), job('a'), job('z')]);
        const order: string[] = [];
        // One at a time: each claim must pick the right tenant on its own, not only sort a batch.
        for (let i = 0; i < 3; i++) for (const t of await claimAll(q, 'w1', 1)) order.push(t.tenantId);
        expect(order).toEqual(['a', 'b', 'z']);
      });

      test('ages a low-band task past a stream of normal ones: it waits a bounded time', async () => {
        const q = await open();
        const agingMs = manual ? 4_000 : 400;
        await q.configure({ agingMs });
        const { task: low } = await q.enqueue(job('acme', { band: 'low', payload: 'low' }));
        // A standing backlog of normal tasks with new ones arriving as fast as they are served:
        // without aging, the low task would never run.
        await q.enqueueMany(batch('acme', 100));
        const claimedLow = await waitFor(
          async () => {
            await q.enqueueMany(batch('acme', 2));
            const tasks = await claimAll(q, 'w1', 2);
            await Promise.all(tasks.map((t) => q.complete(t.lease)));
            if (manual) await pass(agingMs / 4);
            return tasks.find((t) => t.id === low.taskId);
          },
          { timeoutMs: 20_000, intervalMs: 10, what: 'the aged low-band task' },
        );
        expect(claimedLow.band).toBe('low');
        // Promoted by aging (how far depends on how fast the backlog moved relative to agingMs).
        expect(['critical', 'high', 'normal']).toContain(claimedLow.effectiveBand);
        // It ran while normal work was still waiting: aging, not an empty queue, let it through.
        expect((await q.stats()).counts.queued).toBeGreaterThanOrEqual(90);
      });

      test('a tenant at its concurrency cap is skipped, never blocking others, across handles', async () => {
        const q = await open();
        const peer = await open(q.name);
        await q.setTenant('capped', { maxConcurrency: 2 });
        expect(await peer.getTenant('capped')).toMatchObject({ maxConcurrency: 2 });
        await q.enqueueMany(batch('capped', 10));
        await q.enqueueMany(batch('free', 10));
        const a = await claimAll(q, 'w1', 6);
        const b = await claimAll(peer, 'w2', 6);
        const capped = [...a, ...b].filter((t) => t.tenantId === 'capped');
        expect(capped).toHaveLength(2);
        expect([...a, ...b]).toHaveLength(12);
        // Capacity freed by a completion goes to the capped tenant again.
        await q.complete(capped[0]!.lease);
        const c = await claimAll(peer, 'w2', 5);
        expect(c.filter((t) => t.tenantId === 'capped')).toHaveLength(1);
      });

      test('the global maxConcurrency holds across handles', async () => {
        const q = await open();
        const peers = [q, await open(q.name), await open(q.name)];
        await q.configure({ maxConcurrency: 5 });
        await q.enqueueMany(batch('acme', 30));
        const got = (await Promise.all(peers.map((p, i) => claimAll(p, `w${i}`, 4)))).flat();
        expect(got).toHaveLength(5);
        expect((await q.stats()).counts.running).toBe(5);
        await q.complete(got[0]!.lease);
        expect(await claimAll(peers[1]!, 'w1', 4)).toHaveLength(1);
        await q.configure({ maxConcurrency: null });
        expect(await claimAll(peers[2]!, 'w2', 4)).toHaveLength(4);
      });

      test('a rate cap bounds claims per second by the token bucket', async () => {
        const q = await open();
        await q.setTenant('metered', { ratePerSecond: 5, burst: 2 });
        expect(await q.getTenant('metered')).toMatchObject({ ratePerSecond: 5, burst: 2 });
        await q.enqueueMany(batch('metered', 50));
        await q.enqueueMany(batch('free', 50));
        const start = (await q.stats()).at;
        let metered = 0;
        let total = 0;
        for (let i = 0; i < 10; i++) {
          const tasks = await claimAll(q, 'w1', 5);
          metered += tasks.filter((t) => t.tenantId === 'metered').length;
          total += tasks.length;
        }
        const elapsedMs = (await q.stats()).at - start;
        // Work-conserving: the free tenant filled the remaining slots.
        expect(total).toBe(50);
        expect(metered).toBeGreaterThanOrEqual(2);
        expect(metered).toBeLessThanOrEqual(2 + Math.ceil((elapsedMs * 5) / 1000) + 1);
        if (manual) {
          await pass(1_000);
          const later = await claimAll(q, 'w1', 20);
          expect(later.filter((t) => t.tenantId === 'metered')).toHaveLength(2);
        }
      });

      test('nextInMs names a rate token only when the token alone holds a tenant back', async () => {
        const q = await open();
        // One token a second, one task at a time: the claim takes the token and fills the cap.
        await q.setTenant('metered', { ratePerSecond: 1, burst: 1, maxConcurrency: 1 });
        await q.enqueueMany(batch('metered', 3));
        const first = await q.claim('w1', 5, 60_000);
        expect(first.tasks).toHaveLength(1);
        // At its cap, the tenant waits for that task, not for a token: the next thing due is the
        // lease's expiry, a minute away (the completion wakes workers before then anyway).
        expect(first.nextInMs).not.toBeNull();
        expect(first.nextInMs!).toBeGreaterThan(30_000);
        await q.complete(first.tasks[0]!.lease);
        // Under its cap again, only the token is missing: it is due within a second.
        const second = await q.claim('w1', 5, 60_000);
        expect(second.tasks).toHaveLength(0);
        expect(second.nextInMs).not.toBeNull();
        expect(second.nextInMs!).toBeLessThanOrEqual(1_000);
      });
    });

    describe('concurrency', () => {
      slowTest('no two workers ever hold the same task at the same time (concurrent claimers)', async () => {
        const name = uniqueName('q');
        const workers = await Promise.all(Array.from({ length: 4 }, () => open(name)));
        const total = scaled(options, 2_000);
        await workers[0]!.enqueueMany([...batch('a', Math.floor(total / 2)), ...batch('b', total - Math.floor(total / 2))]);
        const held = new Set<string>();
        const delivered = new Map<string, number>();
        let overlaps = 0;
        let completed = 0;
        await Promise.all(
          workers.map(async (q, w) => {
            for (let idle = 0; completed < total && idle < 200; ) {
              const { tasks } = await q.claim(`w${w}`, 5, 60_000);
              if (tasks.length === 0) {
                idle += 1;
                await q.waitForWork(20);
                continue;
              }
              for (const t of tasks) {
                if (held.has(t.id)) overlaps += 1;
                held.add(t.id);
                delivered.set(t.id, (delivered.get(t.id) ?? 0) + 1);
              }
              await runConcurrently(tasks.length, tasks.length, async (i) => {
                const t = tasks[i]!;
                held.delete(t.id);
                await q.complete(t.lease);
                completed += 1;
              });
            }
          }),
        );
        expect(overlaps).toBe(0);
        expect(completed).toBe(total);
        expect(delivered.size).toBe(total);
        expect([...delivered.values()].every((n) => n === 1)).toBe(true);
        expect((await workers[0]!.stats()).counts).toMatchObject({ queued: 0, running: 0, completed: total });
      });

      test('waitForWork wakes an idle handle when another handle enqueues', async () => {
        const q = await open();
        const peer = await open(q.name);
        expect((await q.claim('w1', 1, 60_000)).tasks).toHaveLength(0);
        // Ten minutes: only the wake-up can end this wait within the test's timeout.
        const waiting = q.waitForWork(600_000);
        await peer.enqueue(job('acme'));
        await waiting;
        expect((await q.claim('w1', 1, 60_000)).tasks).toHaveLength(1);
        // Without news it waits out its timeout, and an abort ends it at once.
        const controller = new AbortController();
        const aborted = q.waitForWork(20_000, controller.signal);
        controller.abort();
        await aborted;
      });
    });

    describe('listing', () => {
      const listAll = async (q: QueueAdapter, query: TaskListQuery): Promise<{ ids: string[]; pages: number }> => {
        const ids: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page: TaskListPage = await q.list(cursor === null ? query : { ...query, cursor });
          expect(page.items.length).toBeLessThanOrEqual(query.limit ?? 100);
          ids.push(...page.items.map((t) => t.id));
          cursor = page.cursor;
          pages += 1;
        } while (cursor !== null && pages < 1000);
        return { ids, pages };
      };

      test("lists a tenant's tasks in creation order across pages, each exactly once", async () => {
        const q = await open();
        const mine: string[] = [];
        for (let i = 0; i < 5; i++) {
          const results = await q.enqueueMany([...batch('acme', 50), ...batch('globex', 3)]);
          for (const r of results) if (r.task.tenantId === 'acme') mine.push(r.task.taskId);
        }
        const { ids, pages } = await listAll(q, { tenantId: 'acme', limit: 100 });
        expect(ids).toEqual(mine);
        expect(new Set(ids).size).toBe(250);
        expect([...ids].sort()).toEqual(ids);
        expect(pages).toBeGreaterThanOrEqual(3);
        expect(pages).toBeLessThanOrEqual(4);
        const first = await q.list({ tenantId: 'acme' });
        expect(first.items).toHaveLength(100);
        expect(first.items[0]).toMatchObject({ id: mine[0], tenantId: 'acme', type: 'job', state: 'queued', payload: 0 });
        expect((await q.list({ tenantId: 'nobody' })).items).toEqual([]);
        const all = await q.list({ tenantId: 'globex', limit: 1000 });
        expect(all.items).toHaveLength(15);
        expect(all.cursor).toBeNull();
        expect(all.items.every((t) => t.tenantId === 'globex')).toBe(true);
      });

      test('filters by state, type and owner', async () => {
        const q = await open();
        await q.configure({ agingMs: null });
        const results = await q.enqueueMany([
          job('acme', { ownerId: 'ada' }),
          job('acme', { ownerId: 'bob' }),
          { type: 'render', tenantId: 'acme', payload: null, ownerId: 'ada' },
          job('acme', { ownerId: 'ada' }),
          { type: 'render', tenantId: 'globex', payload: null, ownerId: 'ada' },
        ]);
        const id = (i: number) => results[i]!.task.taskId;
        const [t] = await claimAll(q, 'w1', 1);
        expect(t!.id).toBe(id(0));
        await q.complete(t!.lease);
        const ids = async (query: TaskListQuery) => (await listAll(q, { limit: 1, ...query })).ids;
        expect(await ids({ tenantId: 'acme', state: 'completed' })).toEqual([id(0)]);
        expect(await ids({ tenantId: 'acme', state: 'queued' })).toEqual([id(1), id(2), id(3)]);
        expect(await ids({ tenantId: 'acme', state: 'dead' })).toEqual([]);
        expect(await ids({ tenantId: 'acme', type: 'render' })).toEqual([id(2)]);
        expect(await ids({ tenantId: 'acme', ownerId: 'ada' })).toEqual([id(0), id(2), id(3)]);
        expect(await ids({ tenantId: 'acme', ownerId: 'ada', type: 'job', state: 'queued' })).toEqual([id(3)]);
        expect(await ids({ tenantId: 'globex', ownerId: 'bob' })).toEqual([]);
        const page = await q.list({ tenantId: 'acme', ownerId: 'ada', limit: 2 });
        expect(page.items.map((x) => x.id)).toEqual([id(0), id(2)]);
        expect(page.items[0]).toMatchObject({ state: 'completed', ownerId: 'ada' });
        expect(page.cursor).not.toBeNull();
        const rest = await q.list({ tenantId: 'acme', ownerId: 'ada', limit: 2, cursor: page.cursor! });
        expect(rest.items.map((x) => x.id)).toEqual([id(3)]);
        expect(rest.cursor).toBeNull();
      });

      test('never lists deleted or purged tasks', async () => {
        const q = await open();
        const results = await q.enqueueMany(batch('acme', 6));
        const id = (i: number) => results[i]!.task.taskId;
        expect(await q.delete(id(1))).toBe(true);
        const page = await q.list({ tenantId: 'acme', limit: 2 });
        expect(page.items.map((t) => t.id)).toEqual([id(0), id(2)]);
        // Deleted while paging: the next page resumes after the cursor and skips it.
        expect(await q.delete(id(3))).toBe(true);
        const next = await q.list({ tenantId: 'acme', limit: 10, cursor: page.cursor! });
        expect(next.items.map((t) => t.id)).toEqual([id(4), id(5)]);
        // Retention 0: completing removes the task at once.
        await q.configure({ retentionMs: 0 });
        const [t] = await claimAll(q, 'w1', 1);
        await q.complete(t!.lease);
        const left = (await listAll(q, { tenantId: 'acme' })).ids;
        expect(left).toHaveLength(3);
        expect(left).not.toContain(t!.id);
        expect(left).toEqual([id(0), id(2), id(4), id(5)].filter((x) => x !== t!.id));
      });

      test('refuses bad queries and forged cursors with VALIDATION_FAILED', async () => {
        const q = await open();
        await q.enqueueMany(batch('acme', 3));
        const page = await q.list({ tenantId: 'acme', limit: 1 });
        expect(page.cursor).not.toBeNull();
        const bad: unknown[] = [
          undefined,
          {},
          { tenantId: '' },
          { tenantId: 'a b' },
          { tenantId: 'acme', limit: 0 },
          { tenantId: 'acme', limit: 1001 },
          { tenantId: 'acme', limit: 1.5 },
          { tenantId: 'acme', state: 'done' },
          { tenantId: 'acme', type: 'bad type' },
          { tenantId: 'acme', ownerId: '' },
          { tenantId: 'acme', cursor: '' },
          { tenantId: 'acme', cursor: 'garbage' },
          { tenantId: 'acme', cursor: page.cursor!.slice(0, -2) },
          { tenantId: 'acme', cursor: `${page.cursor!}x` },
          { tenantId: 'acme', cursor: '00000000-0000-7000-8000-000000000000' },
          { tenantId: 'acme', extra: true },
        ];
        for (const query of bad) expect((await caught(() => q.list(query as TaskListQuery))).code).toBe('VALIDATION_FAILED');
        expect((await q.list({ tenantId: 'acme', limit: 1000 })).items).toHaveLength(3);
      });
    });

    describe('outage', () => {
      const outageName = 'the server going away mid-operation surfaces ADAPTER_UNAVAILABLE; once it returns the queue recovers, and an enqueue retried by idempotency key never duplicates';
      if (!harness.outage) {
        contractTest({ skip: [{ test: outageName, reason: 'the backend has no server to lose' }] })(outageName, async () => undefined);
      } else {
        const outage = harness.outage;
        slowTest(outageName, async () => {
          const q = await open();
          const before = await q.enqueueMany(batch('acme', 5));
          const [running] = await claimAll(q, 'w1', 1);
          // Enqueues in flight when the connection drops may or may not have been applied: the
          // caller cannot tell, which is what idempotency keys are for.
          const keyed = (i: number): EnqueueRequest => job('acme', { idempotencyKey: `outage-${i}`, payload: { keyed: i } });
          const inFlight = Array.from({ length: 10 }, (_, i) => q.enqueue(keyed(i)).then(() => 'ok', (err: { code?: string }) => err.code));
          await outage.interrupt();
          for (const outcome of await Promise.all(inFlight)) expect(['ok', 'ADAPTER_UNAVAILABLE']).toContain(outcome);
          expect((await caught(() => q.get(before[0]!.task.taskId))).code).toBe('ADAPTER_UNAVAILABLE');
          expect((await caught(() => q.claim('w1', 10, 60_000))).code).toBe('ADAPTER_UNAVAILABLE');
          expect((await caught(() => q.complete(running!.lease))).code).toBe('ADAPTER_UNAVAILABLE');
          expect((await caught(() => q.stats())).code).toBe('ADAPTER_UNAVAILABLE');
          await outage.restore();

          // The same handle recovers on its own.
          const held = await waitFor(async () => q.get(running!.id).catch(() => null), { timeoutMs: 20_000, what: 'recovery' });
          expect(held?.state).toBe('running');
          // Retried with their keys, the ten requests name ten tasks, whatever the outage did to them.
          const retried = await q.enqueueMany(Array.from({ length: 10 }, (_, i) => keyed(i)));
          expect(new Set(retried.map((r) => r.task.taskId)).size).toBe(10);
          // The lease taken before the outage still completes, and every other task is claimable once.
          await q.complete(running!.lease);
          const rest = await claimAll(q, 'w2', 100);
          expect(rest).toHaveLength(14);
          expect(new Set(rest.map((t) => t.id)).size).toBe(14);
          const keyedPayloads = rest.map((t) => t.payload).filter((p): p is { keyed: number } => typeof p === 'object' && p !== null && 'keyed' in p);
          expect(keyedPayloads.map((p) => p.keyed).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
          for (const t of rest) await q.complete(t.lease);
          expect((await q.stats()).counts).toMatchObject({ queued: 0, running: 0, completed: 15 });
        });
      }

      const lostClaimName = 'a claim whose reply was lost is recovered by the same worker\'s next claim: its tasks come back at once, not after the lease';
      if (!harness.outage?.swallowReplies) {
        contractTest({ skip: [{ test: lostClaimName, reason: 'the backend has no server whose replies can be lost' }] })(lostClaimName, async () => undefined);
      } else {
        const outage = harness.outage;
        const swallowReplies = harness.outage.swallowReplies.bind(harness.outage);
        slowTest(lostClaimName, async () => {
          const q = await open();
          // A first claim (of nothing) sets up what a claim needs once (subscriptions, scripts),
          // so the claim below is a single request.
          expect((await q.claim('w1', 3, 60_000)).tasks).toHaveLength(0);
          const [toAssign] = await q.enqueueMany([job('acme', { payload: 'assigned' }), ...batch('acme', 3)]);
          // The lost claim starts a task an operator assigned to w1 too: it runs under the
          // assignment's lease token, not one the claim sent, and comes back all the same.
          const assigned = await q.assign(toAssign!.task.taskId, 'w1', 60_000);
          await swallowReplies();
          const lost = q.claim('w1', 3, 60_000).then(() => 'ok', (err: { code?: string }) => err.code);
          // The claim reaches the server and takes effect; only its reply is dropped.
          await new Promise((resolve) => setTimeout(resolve, 500));
          await outage.interrupt();
          expect(await lost).toBe('ADAPTER_UNAVAILABLE');
          await outage.restore();
          // Another worker cannot see them: they are leased to w1.
          const other = (await waitFor(async () => q.claim('w2', 10, 60_000).catch(() => null), { timeoutMs: 20_000, what: 'recovery' }))!;
          expect(other.tasks).toHaveLength(1);
          // w1's next claim returns the three tasks of the lost claim (lease renewed) before any new pick.
          const again = await q.claim('w1', 10, 60_000);
          expect(again.tasks).toHaveLength(3);
          for (const t of again.tasks) {
            expect(t.attempt).toBe(1);
            expect(t.lease.workerId).toBe('w1');
            expect(t.lease.expiresAt).toBeGreaterThan(Date.now() + 50_000);
          }
          expect(again.tasks.find((t) => t.id === toAssign!.task.taskId)?.lease.token).toBe(assigned.lease.token);
          expect(new Set([...other.tasks, ...again.tasks].map((t) => t.id)).size).toBe(4);
          // Recovered once: a later claim does not return them again, and their leases are good.
          expect((await q.claim('w1', 10, 60_000)).tasks).toHaveLength(0);
          for (const t of [...other.tasks, ...again.tasks]) await q.complete(t.lease);
          expect((await q.stats()).counts).toMatchObject({ queued: 0, running: 0, completed: 4 });
        });
      }
    });

    describe('stats', () => {
      test('counts tasks per state and per (tenant, type), and reports waits and unserved tenants', async () => {
        const q = await open();
        await q.enqueueMany([...batch('acme', 3), { type: 'other', tenantId: 'acme', payload: null }, ...batch('globex', 2), job('globex', { delayMs: 60_000 })]);
        const [t] = await claimAll(q, 'w1', 1);
        await q.complete(t!.lease);
        const stats = await q.stats();
        expect(stats.counts).toMatchObject({ queued: 6, delayed: 1, running: 0, completed: 1 });
        const groups = Object.fromEntries(stats.groups.map((g) => [`${g.tenantId}/${g.type}`, g]));
        expect(groups['acme/other']).toMatchObject({ queued: 1 });
        expect(groups['globex/job']).toMatchObject({ queued: 3, delayed: 1 });
        // Equal virtual times tie-break by tenant id: acme's first task ran.
        expect(groups['acme/job']).toMatchObject({ queued: 2, completed: 1 });
        expect(stats.oldestReadyAt).not.toBeNull();
        expect(stats.oldestReadyAt!).toBeLessThanOrEqual(stats.at);
        const tenants = Object.fromEntries(stats.tenants.map((s) => [s.tenantId, s]));
        expect(tenants.acme!.ready + tenants.globex!.ready).toBe(5);
        expect(tenants.acme!.unservedMs).not.toBeNull();
        expect(stats.policy).toMatchObject({ maxConcurrency: null });
      });
    });

    describe('random operation sequences', () => {
      for (const seed of sequenceSeeds('QUEUE')) {
        slowTest(`seed ${seed}: every outcome matches the memory reference (claims, states, errors, counts, histories)`, async () => {
          const queue = uniqueName('seq');
          const pair = [await open(queue), await open(queue)];
          try {
            await runQueueSequence(pair, { seed, steps: sequenceSteps('QUEUE', scaled(options, 400)) });
          } finally {
            // Closed now, not with the suite: exploring hundreds of seeds would hold a pool each.
            for (const handle of pair) {
              handles.delete(handle);
              await handle.close();
            }
          }
        });
      }
    });
  });
}
