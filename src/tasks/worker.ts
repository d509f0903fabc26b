import { z } from 'zod';
import type { FabricaEventBus } from '../core/events.js';
import { hasErrorCode, isFabricaError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { parseInput } from '../core/validation.js';
import type { JsonValue } from '../adapters/storage.js';
import type { ClaimedTask, QueueAdapter, Task, TaskError, TaskLease, TaskUpdate } from '../adapters/queue.js';
import { tenantIdSchema } from '../adapters/internal/queue-requests.js';
import { retryDelay } from './policy/backoff.js';
import { emitUpdate } from './events.js';
import type { TaskType } from './types.js';
import type { TaskSample } from './metrics/samples.js';

/**
 * Why a handler's signal aborted.
 *
 * @example
 * ```ts
 * import type { AbortReason, TaskHandler } from 'digital-fabrica/tasks';
 * const handler: TaskHandler = async (_payload, { signal }) => {
 *   signal.addEventListener('abort', () => console.log('stopping:', signal.reason as AbortReason));
 * };
 * ```
 */
export type AbortReason = 'cancelled' | 'lease-lost' | 'timeout' | 'shutdown';

/**
 * What a handler receives besides its payload.
 *
 * @example
 * ```ts
 * import type { TaskContext } from 'digital-fabrica/tasks';
 * async function step(context: TaskContext, pct: number): Promise<void> {
 *   context.signal.throwIfAborted();
 *   context.progress({ pct, attempt: context.task.attempt });
 * }
 * ```
 */
export interface TaskContext {
  /** The claimed task (ids, tenant, attempt, lease). */
  readonly task: ClaimedTask;
  /**
   * Aborts when the task is cancelled (or deleted), its lease is lost, its `timeoutMs` passes or the worker
   * shuts down without draining; `signal.reason` is an {@link AbortReason}. Stop promptly: the
   * outcome of an aborted handler is ignored.
   */
  readonly signal: AbortSignal;
  /**
   * Reports progress; stored on the task with the next heartbeat (sent again after an outage
   * cuts it off). A bound function: `{ signal, progress }` may be destructured.
   */
  readonly progress: (value: JsonValue) => void;
}

/**
 * Runs one task. The resolved value (JSON, or undefined) is stored as the result. Throwing fails
 * the delivery: retried with the task's backoff while attempts remain, unless the error says
 * `retryable: false` (e.g. a non-retryable FabricaError), which fails the task for good.
 *
 * @example
 * ```ts
 * import { ValidationError } from 'digital-fabrica/errors';
 * import type { TaskHandler } from 'digital-fabrica/tasks';
 * const double: TaskHandler = (payload) => {
 *   if (typeof payload !== 'number') throw new ValidationError('not a number', []); // final
 *   return payload * 2;
 * };
 * ```
 */
export type TaskHandler<P = JsonValue> = (payload: P, context: TaskContext) => unknown;

/**
 * Binds a handler to a task type: the payload is parsed with the type's schema first (a payload
 * the schema rejects fails the task for good with `VALIDATION_FAILED`), and typed accordingly.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { defineTaskType, handle } from 'digital-fabrica/tasks';
 * const resize = defineTaskType('resize', z.object({ url: z.string(), width: z.number() }));
 * const handler = handle(resize, async ({ url, width }, { signal }) => {
 *   signal.throwIfAborted();
 *   return { url, width };
 * });
 * ```
 */
export function handle<P>(type: TaskType<P>, fn: TaskHandler<P>): TaskHandler {
  return (payload, context) => fn(parseInput(type.schema, payload, `${type.name} payload`), context);
}

/**
 * Counts a worker keeps.
 *
 * @example
 * ```ts
 * import type { WorkerCounts } from 'digital-fabrica/tasks';
 * const healthy = (c: WorkerCounts) => c.lost === 0 && c.failed <= c.completed / 10;
 * ```
 */
export interface WorkerCounts {
  readonly claimed: number;
  readonly completed: number;
  /** Failed deliveries (retried, dead or failed for good). */
  readonly failed: number;
  /** Deliveries whose lease was lost (cancelled, expired, redelivered) before they settled. */
  readonly lost: number;
}

/**
 * Options of {@link createWorker}.
 *
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * import type { WorkerOptions } from 'digital-fabrica/tasks';
 * const options: WorkerOptions = { queue: createMemoryQueue(), concurrency: 4, leaseMs: 10_000, handlers: { ping: () => 'pong' } };
 * ```
 */
export interface WorkerOptions {
  /** The queue to claim from. */
  readonly queue: QueueAdapter;
  /** Handlers by task type. A task of another type fails for good (`TASK_TYPE_UNKNOWN`). */
  readonly handlers: Readonly<Record<string, TaskHandler>>;
  /**
   * Tasks run at once by this worker (default 1, at most 10 000). The queue's caps apply on top.
   * A finished handler frees its slot at once, while its completion is still being recorded, so
   * the next claim overlaps that write: the worker holds at most 2 × concurrency leases.
   */
  readonly concurrency?: number;
  /** Worker id (default `worker-<random>`), the target of explicit assignments. */
  readonly id?: string;
  /**
   * Lease per claim, ms (default 30 000). A worker that stops heart-beating loses its tasks after
   * this. A completion or failure cut off by an outage (`ADAPTER_UNAVAILABLE`) is sent again, backing
   * off, for as long as the lease lasts, so a short outage makes no task run twice.
   */
  readonly leaseMs?: number;
  /**
   * Heartbeat interval, ms (default leaseMs / 3; at most leaseMs / 2, else `VALIDATION_FAILED`:
   * a lease is extended up to 1.5 heartbeats after the last extension, so a longer interval lets
   * leases run out under running tasks, which are then delivered again and again).
   */
  readonly heartbeatMs?: number;
  /** Most tasks per claim (default min(concurrency, 100)). */
  readonly claimBatch?: number;
  /** Longest idle sleep without a wake-up, ms (default 5 000): a safety net, not polling. */
  readonly idlePollMs?: number;
  /** How often the worker reaps expired leases when idle, ms (default 30 000; 0: never). */
  readonly maintenanceIntervalMs?: number;
  /** Receives `task:*` events (default: none). */
  readonly events?: FabricaEventBus;
  /** Receives one sample per settled delivery (e.g. `createTaskMetrics`). */
  readonly metrics?: { record(sample: TaskSample): void };
  /** Randomness of retry jitter (default `Math.random`). */
  readonly random?: () => number;
  /** Diagnostics (ids and codes, never payloads). Default: silent. */
  readonly logger?: Logger;
  /** Start claiming at once (default true). */
  readonly autostart?: boolean;
}

/**
 * A running worker.
 *
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * import { createWorker, type Worker } from 'digital-fabrica/tasks';
 * const worker: Worker = createWorker({ queue: createMemoryQueue(), autostart: false, handlers: {} });
 * worker.start();
 * await worker.close({ drain: false });
 * ```
 */
export interface Worker {
  readonly id: string;
  /** Tasks running now. */
  readonly active: number;
  /** Totals since start. */
  readonly counts: WorkerCounts;
  /** Starts claiming (when created with `autostart: false`). Idempotent. */
  start(): void;
  /** Resolves the next time the queue had nothing for this worker and no task is running. */
  idle(): Promise<void>;
  /**
   * Stops claiming. With `drain` (default) running tasks may finish for up to `timeoutMs`
   * (default 30 000); what still runs then — or everything, without `drain` — is aborted
   * (`shutdown`) and handed back to the queue without spending an attempt.
   */
  close(options?: { readonly drain?: boolean; readonly timeoutMs?: number }): Promise<void>;
}

/** Lease per claim unless the options say otherwise, ms. */
const DEFAULT_LEASE_MS = 30_000;
/** First pause before an outcome cut off by an outage is sent again (doubling, up to 32x, never past the lease). */
const RESEND_PAUSE_MS = 50;
/** Shortest pause between failed claims, whatever the lease (see `#run`). */
const CLAIM_RETRY_MIN_MS = 100;
/** Reads of a task whose completion or failure an outage left in doubt (see `#readBack`). */
const RECONCILE_TRIES = 24;

const optionsSchema = z.strictObject({
  queue: z.custom<QueueAdapter>((v) => typeof (v as QueueAdapter | undefined)?.claim === 'function', 'queue must be a QueueAdapter'),
  handlers: z.record(z.string(), z.custom<TaskHandler>((v) => typeof v === 'function', 'handlers must be functions')),
  concurrency: z.number().int().min(1).max(10_000).optional(),
  id: tenantIdSchema.optional(),
  leaseMs: z.number().int().min(10).max(24 * 3600 * 1000).optional(),
  heartbeatMs: z.number().int().min(5).optional(),
  claimBatch: z.number().int().min(1).max(1000).optional(),
  idlePollMs: z.number().int().min(1).max(3_600_000).optional(),
  maintenanceIntervalMs: z.number().int().min(0).optional(),
  events: z.custom<FabricaEventBus>((v) => typeof (v as FabricaEventBus | undefined)?.emit === 'function', 'events must be a FabricaEventBus').optional(),
  metrics: z.custom<{ record(sample: TaskSample): void }>((v) => typeof (v as { record?: unknown } | undefined)?.record === 'function').optional(),
  random: z.custom<() => number>((v) => typeof v === 'function').optional(),
  logger: z.custom<Logger>((v) => typeof (v as Logger | undefined)?.warn === 'function').optional(),
  autostart: z.boolean().optional(),
}).superRefine((o, ctx) => {
  // An extension can come half a heartbeat late: a longer heartbeat lets leases run out.
  const leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
  if (o.heartbeatMs !== undefined && o.heartbeatMs > leaseMs / 2) {
    ctx.addIssue({ code: 'custom', path: ['heartbeatMs'], message: `must be at most half of leaseMs (${leaseMs}), or leases run out between heartbeats` });
  }
});

/**
 * Creates a worker: claims tasks from `queue` in the policy's order, runs up to `concurrency`
 * handlers at once, heart-beats their leases, completes or fails them, and shuts down gracefully.
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * import { createWorker } from 'digital-fabrica/tasks';
 * const queue = createMemoryQueue();
 * const worker = createWorker({
 *   queue,
 *   concurrency: 8,
 *   handlers: {
 *     email: async (payload, { signal, progress }) => {
 *       progress({ step: 'sending' });
 *       signal.throwIfAborted();
 *       return { sent: true };
 *     },
 *   },
 * });
 * await queue.enqueue({ type: 'email', tenantId: 'acme', payload: { to: 'ada@example.com' } });
 * await worker.idle();
 * await worker.close();
 * ```
 */
export function createWorker(options: WorkerOptions): Worker {
  const o = parseInput(optionsSchema, options, 'worker options') as WorkerOptions;
  const worker = new TaskWorker(o);
  if (o.autostart ?? true) worker.start();
  return worker;
}

/**
 * One delivery in flight; it is also the handler's {@link TaskContext}, so a delivery costs one
 * object. The AbortController is made on first use of `signal`: most handlers never look at it,
 * and it is the costliest object of a delivery.
 */
class Delivery implements TaskContext {
  lease: TaskLease;
  readonly startedAt: number;
  extendedAt: number;
  extending = false;
  controller: AbortController | undefined = undefined;
  abortReason: AbortReason | undefined = undefined;
  /** When the handler was told to stop (its signal aborted); 0 while it was not. */
  abortedAt = 0;
  /** A handler still running long after its abort was reported once. */
  overrunReported = false;
  /** The delivery was settled with the queue (or its lease is gone): the handler's outcome is ignored. */
  settled = false;
  pendingProgress: JsonValue | undefined = undefined;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Index in the worker's list of active deliveries. */
  slot = -1;

  constructor(
    readonly task: ClaimedTask,
    now: number,
  ) {
    this.lease = task.lease;
    this.startedAt = now;
    this.extendedAt = now;
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.abortReason !== undefined && !this.controller.signal.aborted) this.controller.abort(this.abortReason);
    return this.controller.signal;
  }

  /**
   * Bound, so handlers may destructure it (`async (payload, { signal, progress }) => …`, as the
   * guide does); made on first use, like the signal. A prototype method lost its `this` when
   * destructured and threw, failing the task at its first progress report.
   */
  get progress(): (value: JsonValue) => void {
    return (this.#progress ??= (value: JsonValue): void => {
      this.pendingProgress = value;
    });
  }

  #progress: ((value: JsonValue) => void) | undefined = undefined;

  abort(reason: AbortReason): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.abortedAt = Date.now();
    this.controller?.abort(reason);
  }
}

class TaskWorker implements Worker {
  readonly id: string;
  readonly #queue: QueueAdapter;
  readonly #handlers: Readonly<Record<string, TaskHandler>>;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #heartbeatMs: number;
  readonly #claimBatch: number;
  readonly #refillAt: number;
  readonly #idlePollMs: number;
  readonly #maintenanceMs: number;
  readonly #events: FabricaEventBus | undefined;
  readonly #metrics: { record(sample: TaskSample): void } | undefined;
  readonly #random: () => number;
  readonly #logger: Logger;
  /** Active deliveries; each knows its slot, so removal swaps with the last (no map, no allocation). */
  readonly #active: Delivery[] = [];
  readonly #stop = new AbortController();
  /** Aborted when close() resolves: resends and reconciliation stop, so the host may close the queue. */
  readonly #closed = new AbortController();
  #started = false;
  #stopping = false;
  /** close() stopped waiting for the claim loop: a claim that returns after that hands its tasks back. */
  #abandoned = false;
  #loop: Promise<void> | undefined;
  #slotFreed: (() => void) | undefined;
  #drained: (() => void) | undefined;
  #idleWaiters: (() => void)[] = [];
  /** Completions sent to the queue and not yet acknowledged (their handlers' slots are free). */
  #completing = 0;
  #completionsDone: (() => void) | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #lastMaintenance = 0;
  /** The last claim came up short: the queue had nothing more for this worker then. */
  #short = false;
  #counts = { claimed: 0, completed: 0, failed: 0, lost: 0 };

  constructor(o: WorkerOptions) {
    this.#queue = o.queue;
    this.#handlers = o.handlers;
    this.#concurrency = o.concurrency ?? 1;
    this.id = o.id ?? `worker-${globalThis.crypto.randomUUID().slice(0, 8)}`;
    this.#leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    this.#heartbeatMs = o.heartbeatMs ?? Math.floor(this.#leaseMs / 3);
    this.#claimBatch = Math.min(o.claimBatch ?? 100, this.#concurrency);
    // Once saturated, claim again when half the slots are free: one round trip per many tasks,
    // while the other half keeps running.
    this.#refillAt = Math.max(1, Math.min(this.#claimBatch, Math.floor(this.#concurrency / 2)));
    this.#idlePollMs = o.idlePollMs ?? 5_000;
    this.#maintenanceMs = o.maintenanceIntervalMs ?? 30_000;
    this.#events = o.events;
    this.#metrics = o.metrics;
    this.#random = o.random ?? Math.random;
    this.#logger = o.logger ?? silentLogger;
  }

  get active(): number {
    return this.#active.length;
  }

  get counts(): WorkerCounts {
    return { ...this.#counts };
  }

  start(): void {
    if (this.#started || this.#stopping) return;
    this.#started = true;
    this.#heartbeat = setInterval(() => this.#beat(), Math.max(5, Math.floor(this.#heartbeatMs / 2)));
    (this.#heartbeat as { unref?: () => void }).unref?.();
    this.#loop = this.#run();
  }

  idle(): Promise<void> {
    if (this.#short && this.#quiet()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async close(options: { readonly drain?: boolean; readonly timeoutMs?: number } = {}): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#stop.abort();
    this.#slotFreed?.();
    // A claim still in flight (its server out of reach, its client retrying) is waited for up to
    // the timeout, not for ever; what it returns later is handed back, not run (see #run).
    if (this.#loop !== undefined && !(await settlesWithin(this.#loop, options.timeoutMs ?? 30_000))) {
      this.#abandoned = true;
      this.#logger.warn('tasks: closing without waiting longer for a claim in flight', { worker: this.id });
    }
    if ((options.drain ?? true) && !this.#quiet()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.timeoutMs ?? 30_000);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    // Hand back what is still running: another worker takes it without spending an attempt.
    await Promise.all(
      [...this.#active].map(async (r) => {
        if (r.settled) return;
        r.settled = true;
        r.abort('shutdown');
        await this.#handBack(r.lease, r.task.id);
      }),
    );
    // Completions already sent are let land (bounded by their own round trip), so the host can
    // close the queue right after this resolves.
    if (this.#completing > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.timeoutMs ?? 30_000);
        this.#completionsDone = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    // Outcomes still being resent past the timeout are given up: the queue delivers those tasks
    // again once their leases run out. After this the worker calls the queue no more (calls in
    // flight excepted), and logs no errors from a queue the host closes next.
    this.#closed.abort();
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** Gives a task back to the queue on shutdown, without spending an attempt. */
  async #handBack(lease: TaskLease, taskId: string): Promise<void> {
    try {
      emitUpdate(this.#events, await this.#queue.release(lease));
    } catch (err) {
      this.#logger.warn('tasks: could not hand a task back on shutdown', { taskId, code: codeOf(err) });
    }
  }

  /** No handler runs and no completion is in flight. */
  #quiet(): boolean {
    return this.#active.length === 0 && this.#completing === 0;
  }

  /** Once nothing runs or is being recorded: wakes a draining close() and, if the queue ran dry, idle() waiters. */
  #notifyIfQuiet(): void {
    if (!this.#quiet()) return;
    this.#drained?.();
    if (this.#short) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #run(): Promise<void> {
    let saturated = false;
    let errors = 0;
    while (!this.#stopping) {
      const free = this.#concurrency - this.#active.length;
      if (free < (saturated ? this.#refillAt : 1) || this.#completing > this.#concurrency) {
        await new Promise<void>((resolve) => (this.#slotFreed = resolve));
        this.#slotFreed = undefined;
        continue;
      }
      const requested = Math.min(free, this.#claimBatch);
      let tasks: readonly ClaimedTask[];
      let nextInMs: number | null;
      try {
        const result = await this.#queue.claim(this.id, requested, this.#leaseMs);
        for (const update of result.reaped) emitUpdate(this.#events, update);
        tasks = result.tasks;
        nextInMs = result.nextInMs;
        errors = 0;
      } catch (err) {
        if (this.#stopping) break;
        errors += 1;
        this.#logger.warn('tasks: claim failed; retrying', { worker: this.id, code: codeOf(err), attempt: errors });
        // Doubling up to 5 s, but never past a quarter of the lease: a claim the outage cut off may
        // have leased tasks to this worker, which its next claim takes back, and only while those
        // leases last (a 5 s lease used to run out in a 3.2 s pause after a flapping outage).
        await this.#pause(Math.max(CLAIM_RETRY_MIN_MS, Math.min(5_000, Math.floor(this.#leaseMs / 4), 50 * 2 ** Math.min(errors, 7))));
        continue;
      }
      if (this.#abandoned) {
        for (const task of tasks) void this.#handBack(task.lease, task.id);
        break;
      }
      saturated = tasks.length === requested;
      this.#short = !saturated;
      for (const task of tasks) this.#begin(task);
      if (!saturated) {
        if (this.#quiet()) for (const resolve of this.#idleWaiters.splice(0)) resolve();
        await this.#maintain();
        const wait = Math.min(nextInMs ?? this.#idlePollMs, this.#idlePollMs);
        if (!this.#stopping && wait > 0) await this.#pause(wait);
      }
    }
  }

  /**
   * Waits up to `ms` for work, or until shutdown. A queue that cannot even wait (its database is
   * unreachable, its schema missing, its pool too small to listen) fails `waitForWork` at once:
   * the rest of `ms` is then slept out anyway. Skipping it turned each worker into a busy loop
   * during a PostgreSQL outage (a refused connection fails in microseconds): ~19,000 failed claims
   * and log lines in 3 s, one core at 100%.
   */
  async #pause(ms: number): Promise<void> {
    const started = Date.now();
    try {
      await this.#queue.waitForWork(ms, this.#stop.signal);
      return;
    } catch {
      // The claim that follows reports the queue's state; this wait only has to last.
    }
    const left = ms - (Date.now() - started);
    if (left > 0) await sleep(left, this.#stop.signal);
  }

  async #maintain(): Promise<void> {
    if (this.#maintenanceMs === 0) return;
    const now = Date.now();
    if (now - this.#lastMaintenance < this.#maintenanceMs) return;
    this.#lastMaintenance = now;
    try {
      const { updates } = await this.#queue.reapExpired();
      for (const update of updates) emitUpdate(this.#events, update);
    } catch (err) {
      this.#logger.warn('tasks: maintenance failed', { worker: this.id, code: codeOf(err) });
    }
  }

  #begin(task: ClaimedTask): void {
    this.#counts.claimed += 1;
    const d = new Delivery(task, Date.now());
    d.slot = this.#active.length;
    this.#active.push(d);
    if (this.#events !== undefined) {
      this.#events.emit('task:updated', { taskId: task.id, tenantId: task.tenantId, type: task.type, state: 'running', attempt: task.attempt, at: task.lease.expiresAt - this.#leaseMs });
    }
    if (task.timeoutMs !== null) d.timer = setTimeout(() => this.#timeout(d), task.timeoutMs);
    const handler = this.#handlers[task.type];
    if (handler === undefined) {
      this.#settle(d, false, { code: 'TASK_TYPE_UNKNOWN', message: `no handler for task type ${task.type}`, retryable: false });
      return;
    }
    let value: unknown;
    try {
      value = handler(task.payload, d);
    } catch (error) {
      this.#settle(d, false, error);
      return;
    }
    // A synchronous handler settles without an extra turn of the event loop.
    if (typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function') {
      (value as PromiseLike<unknown>).then(
        (v) => this.#settle(d, true, v),
        (error: unknown) => this.#settle(d, false, error),
      );
    } else {
      this.#settle(d, true, value);
    }
  }

  /**
   * Records the handler's outcome (unless the delivery was already settled), then frees the slot.
   * Plain promise callbacks rather than async functions: a delivery is on the hot path, and each
   * async frame costs an allocation.
   */
  #settle(d: Delivery, ok: boolean, value: unknown): void {
    if (d.timer !== undefined) clearTimeout(d.timer);
    if (d.settled) return this.#release(d);
    d.settled = true;
    if (!ok) {
      void this.#fail(d, value, false).then(() => this.#release(d));
      return;
    }
    const result = value === undefined ? undefined : (value as JsonValue);
    let completion: Promise<TaskUpdate>;
    try {
      completion = this.#queue.complete(d.lease, result);
    } catch (err) {
      completion = Promise.reject(err);
    }
    // The handler is done: its slot goes to the next task while the completion is recorded.
    this.#completing += 1;
    this.#release(d);
    completion.then(
      (update) => {
        this.#recorded(d, update);
        this.#completed();
      },
      (err: unknown) => void this.#completeFailed(d, err, result).then(() => this.#completed()),
    );
  }

  /** The queue stored the completion. */
  #recorded(d: Delivery, update: TaskUpdate): void {
    this.#counts.completed += 1;
    if (this.#events !== undefined) emitUpdate(this.#events, update);
    if (this.#metrics !== undefined) this.#sample(d, 'completed');
  }

  /** A completion was acknowledged (or settled otherwise). */
  #completed(): void {
    this.#completing -= 1;
    this.#slotFreed?.();
    if (this.#completing === 0) this.#completionsDone?.();
    this.#notifyIfQuiet();
  }

  /** The delivery no longer holds a slot. */
  #release(d: Delivery): void {
    if (d.slot < 0) return;
    const last = this.#active.pop()!;
    if (last !== d) {
      this.#active[d.slot] = last;
      last.slot = d.slot;
    }
    d.slot = -1;
    this.#slotFreed?.();
    this.#notifyIfQuiet();
  }

  async #completeFailed(r: Delivery, err: unknown, result: JsonValue | undefined): Promise<void> {
    try {
      return this.#recorded(r, await this.#resend(r, err, () => this.#queue.complete(r.lease, result)));
    } catch (last) {
      err = last;
    }
    // Finding the task completed means an earlier send of this completion landed and only its
    // reply was lost: the worker's own call cut off by an outage, or a client that sent the
    // command again by itself once it reconnected (ioredis does), so that the worker only ever
    // saw the second answer. The stored task confirms it (and gives the backend's time).
    if (isFabricaError(err) && err.code === 'TASK_LEASE_LOST' && err.details?.reason === 'not-active' && err.details.state === 'completed') {
      return this.#reconcile(r, err);
    }
    if (hasErrorCode(err, 'TASK_LEASE_LOST')) return this.#lost(r, err);
    if (hasErrorCode(err, 'VALIDATION_FAILED') || hasErrorCode(err, 'PAYLOAD_TOO_LARGE')) {
      // The handler returned something that cannot be stored: that is the task's failure.
      return this.#fail(r, err, true);
    }
    if (this.#closed.signal.aborted && hasErrorCode(err, 'ADAPTER_UNAVAILABLE')) {
      this.#logger.warn('tasks: closed while a completion was still being resent; the task runs again after its lease', { taskId: r.task.id, code: codeOf(err) });
      return;
    }
    this.#logger.error('tasks: could not record a completion', { taskId: r.task.id, code: codeOf(err) });
    if (hasErrorCode(err, 'ADAPTER_UNAVAILABLE')) void this.#reconcile(r, undefined);
  }

  /**
   * Whether a completion whose reply was lost had been stored: a task completed at this
   * delivery's attempt was completed by this delivery (delivering it again would have raised the
   * attempt), so it is counted and its `task:completed` emitted after all. Otherwise the lease
   * was lost (`lostBy`), when the queue answered with that.
   */
  async #reconcile(r: Delivery, lostBy: unknown): Promise<void> {
    const stored = await this.#readBack(r);
    if (stored?.state === 'completed' && stored.attempt === r.lease.attempt) {
      const task = r.task;
      this.#logger.info('tasks: a completion whose reply was lost had been stored', { taskId: task.id });
      this.#recorded(r, { taskId: task.id, tenantId: task.tenantId, type: task.type, state: 'completed', attempt: stored.attempt, at: stored.updatedAt });
    } else if (lostBy !== undefined) {
      this.#lost(r, lostBy);
    }
  }

  /**
   * Whether a failure answered with `TASK_LEASE_LOST` had been stored by an earlier send whose
   * reply was lost (as for completions, see `#completeFailed`). The task's history tells: an
   * entry at this delivery's attempt that only a failure writes — re-queued for a retry, failed
   * for good, or dead with this failure's error (a lease running out at the last attempt also
   * ends dead, with `TASK_LEASE_LOST`). Then the failure is counted and announced after all.
   */
  async #reconcileFailure(r: Delivery, sent: TaskError, lostBy: unknown): Promise<void> {
    const stored = await this.#readBack(r);
    const entry = stored?.history.find(
      (e) =>
        e.attempt === r.lease.attempt &&
        ((e.state === 'queued' && e.reason === 'retry') ||
          (e.state === 'failed' && e.reason === 'final-failure') ||
          (e.state === 'dead' && e.reason === 'attempts-exhausted' && stored.error?.code === sent.code)),
    );
    if (entry === undefined) return this.#lost(r, lostBy);
    const task = r.task;
    this.#logger.info('tasks: a failure whose reply was lost had been stored', { taskId: task.id });
    this.#failureRecorded(r, { taskId: task.id, tenantId: task.tenantId, type: task.type, state: entry.state, attempt: entry.attempt, at: entry.at, ...(entry.reason === undefined ? {} : { reason: entry.reason }) });
  }

  /**
   * The task as stored, read once the queue answers (pauses of 100 ms doubling to 5 s, about
   * 1.5 min in all); undefined when it did not answer by then, or the worker closed.
   */
  async #readBack(r: Delivery): Promise<Task | null | undefined> {
    for (let retry = 0; retry < RECONCILE_TRIES && !this.#closed.signal.aborted; retry++) {
      try {
        return await this.#queue.get(r.task.id);
      } catch (err) {
        if (!hasErrorCode(err, 'ADAPTER_UNAVAILABLE')) return undefined;
        await sleep(Math.min(5_000, 2 * RESEND_PAUSE_MS * 2 ** retry), this.#closed.signal, true);
      }
    }
    return undefined;
  }

  /**
   * After `err`: while the backend is out of reach (ADAPTER_UNAVAILABLE) and the lease still
   * holds, sends the outcome again, backing off; resolves with the first answer, or rejects with
   * the last error. Dropping an outcome the outage cut off would make the queue deliver the task
   * again once the lease runs out, and run it twice (or run again a task that failed for good).
   */
  async #resend<T>(r: Delivery, err: unknown, send: () => Promise<T>): Promise<T> {
    for (let retry = 0; hasErrorCode(err, 'ADAPTER_UNAVAILABLE'); retry++) {
      const left = r.lease.expiresAt - Date.now();
      if (left <= 0) break;
      await sleep(Math.min(left, RESEND_PAUSE_MS * 2 ** Math.min(retry, 5)), this.#closed.signal, true);
      if (this.#closed.signal.aborted) break;
      try {
        return await send();
      } catch (next) {
        err = next;
      }
    }
    throw err;
  }

  async #fail(r: Delivery, error: unknown, forceFinal: boolean): Promise<void> {
    const final = forceFinal || (typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false);
    const taskError = toTaskError(error);
    const send = () =>
      this.#queue.fail(r.lease, {
        error: taskError,
        final,
        retryInMs: retryDelay(r.task.backoff, r.task.attempt, this.#random),
      });
    try {
      this.#failureRecorded(r, await send().catch((err: unknown) => this.#resend(r, err, send)));
    } catch (err) {
      // Not active any more (other than cancelled), or already delivered again: possibly because
      // an earlier send of this failure landed. A deleted task, an expired lease: lost for sure.
      const details = isFabricaError(err) ? err.details : undefined;
      if (hasErrorCode(err, 'TASK_LEASE_LOST') && ((details?.reason === 'not-active' && details.state !== 'cancelled') || details?.reason === 'superseded')) {
        return this.#reconcileFailure(r, taskError, err);
      }
      if (hasErrorCode(err, 'TASK_LEASE_LOST')) return this.#lost(r, err);
      if (this.#closed.signal.aborted && hasErrorCode(err, 'ADAPTER_UNAVAILABLE')) {
        this.#logger.warn('tasks: closed while a failure was still being resent; the task runs again after its lease', { taskId: r.task.id, code: codeOf(err) });
        return;
      }
      this.#logger.error('tasks: could not record a failure', { taskId: r.task.id, code: codeOf(err) });
    }
  }

  /** The queue stored a failure of this delivery (a retry, a failure for good, or dead). */
  #failureRecorded(r: Delivery, update: TaskUpdate): void {
    this.#counts.failed += 1;
    emitUpdate(this.#events, update);
    this.#sample(r, update.state === 'queued' ? 'retried' : update.state === 'dead' ? 'dead' : 'failed');
  }

  #lost(r: Delivery, err: unknown): void {
    this.#counts.lost += 1;
    this.#sample(r, 'lost');
    const reason = isFabricaError(err) ? err.details?.reason : undefined;
    this.#logger.warn('tasks: lease lost before the task settled', { taskId: r.task.id, reason: typeof reason === 'string' ? reason : 'unknown' });
  }

  #timeout(r: Delivery): void {
    if (r.settled) return;
    r.settled = true;
    r.abort('timeout');
    // The lease goes back at once (retry or dead-letter); the slot stays taken until the handler returns.
    void this.#fail(r, { code: 'TASK_TIMEOUT', message: `the handler ran longer than ${r.task.timeoutMs} ms` }, false);
  }

  #beat(): void {
    const now = Date.now();
    // Failures of this beat are logged once, with their count: during an outage every running
    // task's extend fails on every beat, a warning per task was a line per task every few seconds.
    const failed: string[] = [];
    const extending: Promise<void>[] = [];
    for (const r of this.#active) {
      // Two heartbeats to react to the abort, then a warning.
      if (r.abortedAt !== 0 && !r.overrunReported && now - r.abortedAt >= 2 * this.#heartbeatMs) this.#reportOverrun(r, now);
      if (r.settled || r.extending) continue;
      if (now - r.extendedAt < this.#heartbeatMs && r.pendingProgress === undefined) continue;
      r.extending = true;
      const progress = r.pendingProgress;
      r.pendingProgress = undefined;
      const extended = this.#queue.extend(r.lease, this.#leaseMs, progress).then(
        (lease) => {
          r.lease = lease;
          r.extendedAt = now;
          r.extending = false;
        },
        (err: unknown) => {
          r.extending = false;
          if (!hasErrorCode(err, 'TASK_LEASE_LOST')) {
            // Cut off by an outage: the next beat sends the progress again, unless the handler
            // reported newer progress. (Progress the queue refused is dropped, or every later
            // heartbeat would fail on it and the lease run out.)
            if (hasErrorCode(err, 'ADAPTER_UNAVAILABLE') && r.pendingProgress === undefined) r.pendingProgress = progress;
            failed.push(codeOf(err));
            return;
          }
          if (r.settled) return;
          r.settled = true;
          // A task gone from the queue ('not-found') was deleted: deleting an active task cancels it.
          const details = isFabricaError(err) ? err.details : undefined;
          r.abort(details?.state === 'cancelled' || details?.reason === 'not-found' ? 'cancelled' : 'lease-lost');
          this.#lost(r, err);
        },
      );
      extending.push(extended);
    }
    if (extending.length === 0) return;
    void Promise.all(extending).then(() => {
      if (failed.length > 0) this.#logger.warn('tasks: heartbeat failed; retrying', { worker: this.id, tasks: failed.length, code: failed[0]! });
    });
  }

  /**
   * A handler ignores its abort signal: it still holds its slot, and will until it returns (a
   * promise cannot be stopped from outside). Said once per delivery, since a worker whose slots
   * fill with such handlers otherwise just slows down, then stops, without a word.
   */
  #reportOverrun(r: Delivery, now: number): void {
    r.overrunReported = true;
    this.#logger.warn('tasks: a handler is still running after its abort; its slot stays taken until it returns', {
      worker: this.id,
      taskId: r.task.id,
      type: r.task.type,
      reason: r.abortReason ?? 'unknown',
      abortedForMs: now - r.abortedAt,
    });
  }

  #sample(r: Delivery, outcome: TaskSample['outcome']): void {
    if (this.#metrics === undefined) return;
    const claimedAt = r.task.lease.expiresAt - this.#leaseMs;
    this.#metrics.record({
      tenantId: r.task.tenantId,
      type: r.task.type,
      outcome,
      waitMs: Math.max(0, claimedAt - r.task.readyAt),
      runMs: Date.now() - r.startedAt,
    });
  }
}

/** Whether `promise` settles within `ms` (it is left to settle on its own either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    const settled = promise.then(
      () => true,
      () => true,
    );
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts; an `unref`'d timer does not keep the process alive. */
function sleep(ms: number, signal: AbortSignal, unref = false): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (unref) (timer as { unref?: () => void }).unref?.();
    signal.addEventListener('abort', done, { once: true });
  });
}

function codeOf(err: unknown): string {
  return isFabricaError(err) ? err.code : err instanceof Error ? err.name : 'UNKNOWN';
}

/** The failure stored on the task: a code and a bounded message (never logged by the SDK). */
function toTaskError(error: unknown): TaskError {
  if (isFabricaError(error)) return { code: error.code, message: error.message.slice(0, 1024) };
  if (error instanceof Error) return { code: (error.name || 'Error').slice(0, 64), message: error.message.slice(0, 1024) };
  if (typeof error === 'object' && error !== null && typeof (error as TaskError).code === 'string') {
    const e = error as TaskError;
    return { code: e.code.slice(0, 64) || 'Error', message: String(e.message ?? '').slice(0, 1024) };
  }
  return { code: 'Error', message: String(error).slice(0, 1024) };
}
