import { afterAll, describe, expect, inject, it } from 'vitest';
import { FabricaEventBus, type TaskEvent } from '../../src/core/events.js';
import type { Logger, LogFields } from '../../src/core/logger.js';
import { hasErrorCode } from '../../src/core/errors.js';
import { createMemoryQueue, MemoryQueueState } from '../../src/adapters/memory/index.js';
import type { EnqueueRequest, QueueAdapter, Task } from '../../src/adapters/queue.js';
import type { QueueHarness } from '../../src/adapters/testing/queue.js';
import { mulberry32 } from '../../src/adapters/testing/random.js';
import { sequenceSeeds, sequenceSteps, uniqueName, waitFor } from '../../src/adapters/testing/support.js';
import { z } from 'zod';
import { createTaskService, createWorker, defineTaskType, handle, type AbortReason, type TaskContext, type TaskHandler, type TaskType, type Worker } from '../../src/tasks/index.js';
import { postgresQueueHarness } from '../support/postgres-queue-harness.js';
import { redisQueueHarness } from '../support/redis-queue-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

/**
 * Random runs of real workers against each backend, checked against what the rules say must come
 * out. The queue's own random sequences (src/adapters/testing/queue-sequences.ts) compare single
 * calls with the memory reference; this drives the worker around them: handlers that succeed,
 * fail and retry, fail for good, outlive their timeout or run across heartbeats, tasks of a type
 * nobody handles, and meanwhile cancels, deletes, explicit assignments, workers closed (drained
 * or not) and replaced, and on PostgreSQL and Redis the server going away for less than a lease,
 * under a global and per-tenant caps drawn per seed.
 *
 * What must hold at the end, for every seed:
 * - every task ends where its rules lead: its kind fixes its final state, attempt, result or
 *   error (a hand-back on shutdown gives its attempt back, so closing workers changes none of
 *   that); a successful cancel ends it cancelled, a delete removes it;
 * - a completed task's result comes from exactly one handler run, the one at its final attempt,
 *   and no run succeeded for a task that did not complete (a cancelled one excepted: its run may
 *   have finished as the cancel landed);
 * - no two runs of a task overlap unless the first was told to stop, no lease is ever lost, and
 *   no run sees an attempt past its task's maximum;
 * - the caps hold for the handlers themselves;
 * - one terminal event per finished task, matching its state, and the workers' completion counts
 *   add up to the completion events.
 *
 * `FABRICA_WORKER_SEQUENCE_SEED=7` replays a seed (`=1..50` explores), and
 * `FABRICA_WORKER_SEQUENCE_STEPS` lengthens the runs.
 */

/**
 * Leases that outlast an outage and the reconnection after it with room to spare (a short outage
 * must make no task run twice), heart-beaten often so that slow tasks extend theirs several times.
 */
const LEASE_MS = 5_000;
const HEARTBEAT_MS = 300;
/** No worker is closed this long after an outage: a claim the outage cut off is taken back by its worker's next claim. */
const SETTLE_AFTER_OUTAGE_MS = 3_000;
/**
 * The server stays up at least this long after an outage, so every backoff (claims: a quarter
 * lease; resent outcomes: up to 1.6 s) gets a try before the next one. Outages back to back add
 * up past the lease (a 200-step run once had the server down ~6 s out of 6.1, in a dozen pieces),
 * and then a task may rightly run again: delivery is at-least-once.
 */
const OUTAGE_SPACING_MS = 4_000;
const STEPS = sequenceSteps('WORKER', 60);
const TENANTS = ['t1', 't2', 't3'] as const;

const payloadSchema = z.strictObject({ i: z.number().int(), failures: z.number().int().optional(), ms: z.number().int().optional() });
type Payload = z.infer<typeof payloadSchema>;
const KINDS = ['ok', 'flaky', 'final', 'slow', 'stuck', 'ghost'] as const;
type Kind = (typeof KINDS)[number];
/** One type per kind; workers handle all but `ghost`. */
const TYPES = Object.fromEntries(KINDS.map((kind) => [kind, defineTaskType(kind, payloadSchema)])) as Record<Kind, TaskType<Payload>>;

interface Planned {
  readonly id: string;
  readonly i: number;
  readonly kind: Kind;
  readonly tenantId: string;
  readonly maxAttempts: number;
  /** flaky: the attempts that throw before one succeeds. */
  readonly failures: number;
  /** A cancel that went through, and when it was asked for (the backend frees the slot from then on). */
  cancelledAt: number | null;
  deleted: boolean;
  /** Attempts an operator assigned: those deliveries run outside the caps, by contract. */
  readonly assigned: Set<number>;
}
interface Run {
  readonly i: number;
  readonly workerId: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly tenantId: string;
  readonly start: number;
  /** When the handler returned or threw, or stopped at its abort; null while running. */
  end: number | null;
  /** When its signal aborted, and why. */
  abortedAt: number | null;
  reason: AbortReason | null;
  /** Returned a value before any abort: the worker sends that completion. */
  succeeded: boolean;
}
const now = (): number => performance.now();

function suite(name: string, harness: QueueHarness): void {
  describe(`workers in random runs: ${name}`, () => {
    const opened: QueueAdapter[] = [];
    const open = async (queue: string): Promise<QueueAdapter> => {
      const q = await harness.open(queue);
      opened.push(q);
      return q;
    };
    afterAll(async () => {
      for (const q of opened) await q.close().catch(() => undefined);
      await harness.teardown?.();
    });

    for (const seed of sequenceSeeds('WORKER')) {
      it(`seed ${seed}: every task ends where its rules lead, once, within the caps`, async () => {
        const random = mulberry32(seed);
        const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
        const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));

        const queueName = uniqueName('wseq');
        const control = await open(queueName);
        const events = new FabricaEventBus();
        const service = createTaskService({ queue: control, events, types: Object.values(TYPES) });
        const globalCap = random() < 0.5 ? null : int(2, 6);
        const tenantCaps = new Map<string, number>();
        await control.configure({ maxConcurrency: globalCap, retentionMs: 3_600_000, failedRetentionMs: null });
        for (const t of TENANTS) {
          if (random() < 0.4) {
            tenantCaps.set(t, int(1, 2));
            await service.setTenant(t, { maxConcurrency: tenantCaps.get(t)! });
          }
        }
        const terminal = new Map<string, TaskEvent[]>();
        for (const name of ['task:completed', 'task:failed', 'task:dead'] as const) {
          events.on(name, (e) => {
            const list = terminal.get(e.taskId) ?? [];
            list.push(e);
            terminal.set(e.taskId, list);
          });
        }

        // Handlers record every run; each stops at once when its signal aborts.
        const runs = new Map<number, Run[]>();
        const track = (payload: Payload, ctx: TaskContext): Run => {
          const run: Run = { i: payload.i, workerId: ctx.task.lease.workerId, attempt: ctx.task.attempt, maxAttempts: ctx.task.maxAttempts, tenantId: ctx.task.tenantId, start: now(), end: null, abortedAt: null, reason: null, succeeded: false };
          const list = runs.get(payload.i) ?? [];
          list.push(run);
          runs.set(payload.i, list);
          return run;
        };
        const waitOrAbort = (run: Run, ctx: TaskContext, ms: number, beat?: () => void) =>
          new Promise<void>((resolve, reject) => {
            const ticker = beat === undefined ? undefined : setInterval(beat, 100);
            const timer = ms === Infinity ? undefined : setTimeout(finish, ms);
            function finish(): void {
              clearTimeout(timer);
              clearInterval(ticker);
              ctx.signal.removeEventListener('abort', onAbort);
              resolve();
            }
            function onAbort(): void {
              clearTimeout(timer);
              clearInterval(ticker);
              run.abortedAt = now();
              run.reason = ctx.signal.reason as AbortReason;
              run.end = run.abortedAt;
              reject(new Error('aborted'));
            }
            if (ctx.signal.aborted) return onAbort();
            ctx.signal.addEventListener('abort', onAbort, { once: true });
          });
        const succeed = (run: Run) => {
          run.end = now();
          run.succeeded = true;
          return { i: run.i, attempt: run.attempt };
        };
        const handlers: Record<string, TaskHandler> = {
          ok: handle(TYPES.ok, (payload, ctx) => {
            const run = track(payload, ctx);
            if (payload.ms === 0) return succeed(run);
            return waitOrAbort(run, ctx, payload.ms ?? 1).then(() => succeed(run));
          }),
          flaky: handle(TYPES.flaky, async (payload, ctx) => {
            const run = track(payload, ctx);
            await waitOrAbort(run, ctx, 1);
            run.end = now();
            if (ctx.task.attempt <= payload.failures!) throw new Error('flaky');
            return succeed(run);
          }),
          final: handle(TYPES.final, (payload, ctx) => {
            const run = track(payload, ctx);
            run.end = now();
            throw Object.assign(new Error('no'), { retryable: false });
          }),
          slow: handle(TYPES.slow, (payload, ctx) => {
            const run = track(payload, ctx);
            return waitOrAbort(run, ctx, payload.ms!, () => ctx.progress({ at: Math.round(now() - run.start) })).then(() => succeed(run));
          }),
          // Runs until stopped: its timeout does that.
          stuck: handle(TYPES.stuck, (payload, ctx) => waitOrAbort(track(payload, ctx), ctx, Infinity)),
        };

        // What the workers log, to explain a failing task (its lines are printed with it).
        const logged: string[] = [];
        const log = (level: string) => (message: string, fields?: LogFields) => void logged.push(`${Math.round(now())} ${level} ${message} ${JSON.stringify(fields ?? {})}`);
        const logger: Logger = { debug: () => undefined, info: log('info'), warn: log('warn'), error: log('error') };

        // One worker that is never closed (the target of assignments), two that come and go.
        // Each worker on a handle of its own (its own connections), all closed when the seed ends:
        // kept to the end of the file, a long run's replacements ran the server out of connections.
        // (Not at once with their worker: a claim that close() stopped waiting for hands its tasks
        // back when it returns, through that handle.)
        const workers: Worker[] = [];
        const handles: QueueAdapter[] = [];
        const startWorker = async (id: string, concurrency: number): Promise<Worker> => {
          const queue = await open(queueName);
          const worker = createWorker({ queue, id, concurrency, claimBatch: int(1, concurrency), leaseMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS, idlePollMs: 250, maintenanceIntervalMs: 500, events, handlers, logger });
          workers.push(worker);
          handles.push(queue);
          return worker;
        };

        const stable = await startWorker(`stable-${seed}`, int(1, 4));
        const churning = [await startWorker(`churn-${seed}-0`, int(1, 4)), await startWorker(`churn-${seed}-1`, int(1, 4))];
        let generation = 2;

        const planned: Planned[] = [];
        const byId = new Map<string, Planned>();
        const enqueue = async (count: number) => {
          const requests: EnqueueRequest[] = [];
          const drafts: Omit<Planned, 'id'>[] = [];
          for (let k = 0; k < count; k++) {
            const i = planned.length + drafts.length;
            const kind = pick<Kind>(['ok', 'ok', 'ok', 'flaky', 'flaky', 'final', 'slow', 'stuck', 'ghost']);
            const tenantId = pick(TENANTS);
            const maxAttempts = kind === 'stuck' ? int(1, 2) : int(1, 4);
            const failures = kind === 'flaky' ? int(1, 4) : 0;
            const payload: Payload =
              kind === 'ok' ? { i, ms: pick([0, 1, 3]) } : kind === 'slow' ? { i, ms: int(200, 1_500) } : kind === 'flaky' ? { i, failures } : { i };
            requests.push({
              type: kind,
              tenantId,
              payload: payload as unknown as EnqueueRequest['payload'],
              priority: int(-3, 3),
              maxAttempts,
              backoff: { delayMs: 5, maxDelayMs: 20, jitter: 0.5 },
              ...(kind === 'stuck' ? { timeoutMs: int(20, 60) } : {}),
            });
            drafts.push({ i, kind, tenantId, maxAttempts, failures, cancelledAt: null, deleted: false, assigned: new Set() });
          }
          const results = await service.createMany(requests);
          results.forEach((r, k) => {
            const p: Planned = { ...drafts[k]!, id: r.task.taskId };
            planned.push(p);
            byId.set(p.id, p);
          });
        };

        let lastOutage = -Infinity;
        await enqueue(20);
        for (let step = 0; step < STEPS; step++) {
          await new Promise((resolve) => setTimeout(resolve, int(0, 15)));
          const roll = random();
          const target = planned.length === 0 ? undefined : pick(planned);
          if (roll < 0.35) {
            await enqueue(int(1, 5));
          } else if (roll < 0.5 && target !== undefined) {
            const asked = now();
            try {
              const update = await service.cancel(target.id);
              expect(update.state).toBe('cancelled');
              target.cancelledAt ??= asked;
            } catch (err) {
              // Already finished (or deleted): the cancel changes nothing.
              if (!hasErrorCode(err, 'CONFLICT') && !hasErrorCode(err, 'NOT_FOUND')) throw err;
            }
          } else if (roll < 0.58 && target !== undefined) {
            const asked = now();
            try {
              await service.delete(target.id);
              target.deleted = true;
              target.cancelledAt ??= asked;
            } catch (err) {
              if (!hasErrorCode(err, 'NOT_FOUND')) throw err;
            }
          } else if (roll < 0.7 && target !== undefined) {
            try {
              const { update } = await service.assign(target.id, stable.id);
              target.assigned.add(update.attempt);
            } catch (err) {
              // Only a queued task can be assigned.
              if (!hasErrorCode(err, 'CONFLICT') && !hasErrorCode(err, 'NOT_FOUND')) throw err;
            }
          } else if (roll < 0.74 && harness.outage !== undefined && now() - lastOutage > OUTAGE_SPACING_MS) {
            // The server goes away for less than a lease; no control call is in flight meanwhile,
            // and the control handle answers again before the next step.
            logged.push(`${Math.round(now())} test outage begins`);
            await harness.outage.interrupt();
            await new Promise((resolve) => setTimeout(resolve, int(50, 600)));
            await harness.outage.restore();
            lastOutage = now();
            logged.push(`${Math.round(now())} test outage ends`);
            await waitFor(async () => (await control.stats().then(() => true)), { timeoutMs: 20_000, intervalMs: 50, what: 'the control handle after the outage' });
          } else if (roll < 0.8 && now() - lastOutage > SETTLE_AFTER_OUTAGE_MS) {
            // Close a worker, drained or not (what still runs is handed back), and start another.
            const slot = int(0, 1);
            const leaving = churning[slot]!;
            const replacement = await startWorker(`churn-${seed}-${generation++}`, int(1, 4));
            churning[slot] = replacement;
            logged.push(`${Math.round(now())} test closes ${leaving.id}`);
            await leaving.close(random() < 0.5 ? { drain: false } : { drain: true, timeoutMs: int(0, 100) });
          }
        }

        // Everything runs out: nothing queued, assigned or running.
        await waitFor(
          async () => {
            const { counts } = await control.stats();
            return counts.queued + counts.assigned + counts.running === 0;
          },
          { timeoutMs: 60_000, intervalMs: 50, what: `seed ${seed}: every task settled` },
        );
        await Promise.all(workers.map((w) => w.close()));
        for (const queue of handles) await queue.close();

        const failures: string[] = [];
        const fail = (p: Planned, what: string) => {
          const lines = [
            ...(runs.get(p.i) ?? []).map((r) => `${Math.round(r.start)} run of attempt ${r.attempt} on ${r.workerId} until ${r.end === null ? '-' : Math.round(r.end)}${r.reason === null ? '' : ` (${r.reason})`}${r.succeeded ? ' succeeded' : ''}`),
            ...logged.filter((l) => l.includes(p.id) || l.includes(' test ')),
          ].sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
          failures.push(`task #${p.i} ${p.id} (${p.kind}, max ${p.maxAttempts}, failures ${p.failures}): ${what}\n  ${lines.join('\n  ')}`);
        };
        let completedEvents = 0;
        for (const p of planned) {
          const stored: Task | null = await control.get(p.id);
          const mine = runs.get(p.i) ?? [];
          const events = terminal.get(p.id) ?? [];
          completedEvents += events.filter((e) => e.state === 'completed').length;
          if (events.length > 1) fail(p, `${events.length} terminal events (${events.map((e) => e.state).join(', ')})`);
          for (const run of mine) if (run.attempt > run.maxAttempts) fail(p, `ran at attempt ${run.attempt} of ${run.maxAttempts}`);
          for (const run of mine) if (run.reason === 'lease-lost') fail(p, `lost its lease under a running handler (deleted ${p.deleted}, cancel ${p.cancelledAt !== null})`);
          // No run begins while another of the same task runs and has not been told to stop.
          for (const a of mine) {
            for (const b of mine) {
              if (a !== b && b.start >= a.start && b.start < (a.abortedAt ?? a.end ?? Infinity)) fail(p, `runs at attempts ${a.attempt} and ${b.attempt} overlap`);
            }
          }
          const won = mine.filter((r) => r.succeeded);
          if (p.deleted) {
            if (stored !== null) fail(p, `still stored after its delete (${stored.state})`);
            continue;
          }
          if (stored === null) {
            fail(p, 'missing');
            continue;
          }
          if (events.length === 1 && events[0]!.state !== stored.state) fail(p, `terminal event ${events[0]!.state} but stored ${stored.state}`);
          if (p.cancelledAt !== null) {
            if (stored.state !== 'cancelled') fail(p, `cancelled, stored ${stored.state}`);
            if (won.length > 1) fail(p, `${won.length} successful runs`);
            continue;
          }
          const expected = expectedEnd(p);
          if (stored.state !== expected.state || stored.attempt !== expected.attempt) {
            fail(p, `ended ${stored.state} at attempt ${stored.attempt}, expected ${expected.state} at ${expected.attempt}; history ${historyText(stored)}`);
          }
          if (expected.errorCode !== undefined && stored.error?.code !== expected.errorCode) fail(p, `error ${stored.error?.code}, expected ${expected.errorCode}; history ${historyText(stored)}`);
          if (events.length !== 1) fail(p, `${events.length} terminal events`);
          if (stored.state === 'completed') {
            if (won.length !== 1 || won[0]!.attempt !== stored.attempt) fail(p, `completed at ${stored.attempt} by ${won.length} successful runs (${won.map((r) => r.attempt).join(', ')})`);
            expect(stored.result).toEqual({ i: p.i, attempt: stored.attempt });
          } else if (won.length > 0) {
            fail(p, `${won.length} successful runs, yet ${stored.state}`);
          }
        }

        // The caps, as the handlers saw them: a run holds its slot until it ends, is told to stop,
        // or its task's cancel is asked for (the backend frees the slot then; the handler hears at
        // its next heartbeat). Deliveries an operator assigned are outside the caps.
        const intervals = [...runs.entries()].flatMap(([i, list]) => {
          const p = planned[i]!;
          return list
            .filter((r) => !p.assigned.has(r.attempt))
            .map((r) => ({ tenantId: r.tenantId, from: r.start, to: Math.min(r.abortedAt ?? Infinity, r.end ?? Infinity, p.cancelledAt ?? Infinity) }));
        });
        const peak = (of: typeof intervals): number => {
          const edges = of.flatMap((x) => (x.to > x.from ? [[x.from, 1] as const, [x.to, -1] as const] : []));
          edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
          let running = 0;
          let most = 0;
          for (const [, d] of edges) most = Math.max(most, (running += d));
          return most;
        };
        if (globalCap !== null && peak(intervals) > globalCap) failures.push(`global cap ${globalCap}: ${peak(intervals)} handlers at once`);
        for (const [tenantId, cap] of tenantCaps) {
          const most = peak(intervals.filter((x) => x.tenantId === tenantId));
          if (most > cap) failures.push(`tenant ${tenantId} cap ${cap}: ${most} handlers at once`);
        }
        const counted = workers.reduce((sum, w) => sum + w.counts.completed, 0);
        if (counted !== completedEvents) failures.push(`workers counted ${counted} completions, ${completedEvents} completion events`);

        expect(failures, `seed ${seed} (replay: FABRICA_WORKER_SEQUENCE_SEED=${seed})`).toEqual([]);
        expect(planned.length).toBeGreaterThan(20);
      }, 120_000);
    }
  });
}

/** A task's history on one line, times relative to its creation. */
function historyText(task: Task): string {
  return task.history.map((e) => `${e.state}@${e.at - task.createdAt}ms/a${e.attempt}${e.workerId === undefined ? '' : `/${e.workerId}`}${e.reason === undefined ? '' : `/${e.reason}`}`).join(' ');
}

/** Where a task nobody cancelled or deleted must end. A hand-back gives its attempt back, so shutdowns change nothing here. */
function expectedEnd(p: Planned): { state: Task['state']; attempt: number; errorCode?: string } {
  switch (p.kind) {
    case 'ok':
    case 'slow':
      return { state: 'completed', attempt: 1 };
    case 'flaky':
      return p.failures >= p.maxAttempts ? { state: 'dead', attempt: p.maxAttempts, errorCode: 'Error' } : { state: 'completed', attempt: p.failures + 1 };
    case 'final':
      return { state: 'failed', attempt: 1, errorCode: 'Error' };
    case 'stuck':
      return { state: 'dead', attempt: p.maxAttempts, errorCode: 'TASK_TIMEOUT' };
    case 'ghost':
      return { state: 'failed', attempt: 1, errorCode: 'TASK_TYPE_UNKNOWN' };
  }
}

const memoryState = new MemoryQueueState();
suite('memory', { open: async (queue) => createMemoryQueue({ state: memoryState, queue }) });

const databaseUrl = inject('databaseUrl');
if (databaseUrl === '') {
  skipWithoutServer('workers in random runs: postgres', 'PostgreSQL server');
} else {
  suite('postgres', postgresQueueHarness(databaseUrl));
}

const redisUrl = inject('redisUrl');
if (redisUrl === '') {
  skipWithoutServer('workers in random runs: redis', 'Redis server');
} else {
  suite('redis', redisQueueHarness(redisUrl));
}
