import { z } from 'zod';
import type { FabricaEventBus } from '../core/events.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { parseInput } from '../core/validation.js';
import type { JsonValue } from '../adapters/storage.js';
import type {
  EnqueueRequest,
  EnqueueResult,
  QueueAdapter,
  QueuePolicy,
  QueueStats,
  Task,
  TaskError,
  TaskLease,
  TaskListPage,
  TaskListQuery,
  TaskState,
  TaskUpdate,
  TenantPolicy,
} from '../adapters/queue.js';
import { retryDelay } from './policy/backoff.js';
import { dominantShareCost, parseResourceCapacity, type ResourceCapacity } from './policy/drf.js';
import { emitUpdate } from './events.js';
import { TaskTypeRegistry, type TaskType } from './types.js';

/**
 * Options of {@link createTaskService}.
 *
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * import type { TaskServiceOptions } from 'digital-fabrica/tasks';
 * const options: TaskServiceOptions = { queue: createMemoryQueue(), weightForTier: (tier) => 2 ** tier };
 * ```
 */
export interface TaskServiceOptions {
  /** The queue backend. */
  readonly queue: QueueAdapter;
  /** Task types whose payload schemas gate creation; more can be registered later. */
  readonly types?: readonly TaskType<unknown>[];
  /** Receives `task:*` events (default: none). */
  readonly events?: FabricaEventBus;
  /** Maps a tenant's tier to its scheduling weight (default: the tier itself, DESIGN "weight from the tenant's tier"). */
  readonly weightForTier?: (tier: number) => number;
  /** Randomness of retry jitter (default `Math.random`). */
  readonly random?: () => number;
  /** Diagnostics (ids and codes only). Default: silent. */
  readonly logger?: Logger;
  /**
   * Multi-resource mode (DESIGN "Fair scheduling", point 5): a task that declares `resources`
   * and no explicit `cost` is charged its dominant share of `capacity` (see
   * {@link dominantShareCost}), so tenants are served equal weighted dominant shares (DRF in its
   * fair-queueing form). Off by default: every task then costs its `cost` (default 1).
   */
  readonly multiResource?: { readonly capacity: ResourceCapacity };
}

/**
 * A tenant's scheduling settings as the service takes them: a tier, or an explicit weight, and caps.
 *
 * @example
 * ```ts
 * import type { TenantSettings } from 'digital-fabrica/tasks';
 * const gold: TenantSettings = { tier: 3, maxConcurrency: 50, ratePerSecond: 100 };
 * ```
 */
export interface TenantSettings extends Partial<TenantPolicy> {
  /** Tier of the tenant (> 0); sets the weight through `weightForTier` unless `weight` is given. */
  readonly tier?: number;
}

/**
 * The task service: the spec's task lifecycle (create, assign, complete, delete) over a queue.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * import { createTaskService, defineTaskType, type TaskService } from 'digital-fabrica/tasks';
 * const service: TaskService = createTaskService({ queue: createMemoryQueue(), types: [defineTaskType('ping', z.object({}))] });
 * const { task } = await service.create({ type: 'ping', tenantId: 'acme', payload: {} });
 * await service.cancel(task.taskId);
 * ```
 */
export interface TaskService {
  /** The queue the service writes to. */
  readonly queue: QueueAdapter;
  /** Registers (or replaces) a task type. */
  registerType(type: TaskType<unknown>): void;
  /**
   * Creates a task after validating its payload with the type's schema; the type's defaults fill
   * fields left out. A duplicate idempotency key returns the existing task (`created: false`).
   * Emits `task:created` for a new task.
   * @throws `VALIDATION_FAILED` (unknown type, payload rejected), `PAYLOAD_TOO_LARGE`, backend codes
   */
  create(request: EnqueueRequest): Promise<EnqueueResult>;
  /** {@link TaskService.create} for a batch, validated as a whole before anything is written. */
  createMany(requests: readonly EnqueueRequest[]): Promise<EnqueueResult[]>;
  /** Reads a task with its history. @throws `NOT_FOUND`, `VALIDATION_FAILED` */
  get(taskId: string): Promise<Task>;
  /**
   * `GET /api/tasks`: one page of a tenant's tasks by creation order, filtered by state, type and
   * owner; pass the returned `cursor` back for the next page (`null`: no more). Delegates to
   * {@link QueueAdapter.list}. `state` may be any string (as the HTTP layer passes it): one that
   * is not a {@link TaskState} is refused by the queue's validation.
   * @throws `VALIDATION_FAILED` (bad filters, limit or cursor)
   */
  list(query: Omit<TaskListQuery, 'state'> & { readonly state?: TaskState | (string & {}) }): Promise<TaskListPage>;
  /**
   * `PUT /api/tasks/:id/assign`: leases a queued task to a worker; returns the lease the worker
   * completes with. Emits `task:updated`.
   * @throws `NOT_FOUND`, `CONFLICT` (not queued)
   */
  assign(taskId: string, workerId: string, options?: { readonly leaseMs?: number }): Promise<{ readonly update: TaskUpdate; readonly lease: TaskLease }>;
  /**
   * `PUT /api/tasks/:id/complete`: completes with a lease. Emits `task:completed`.
   * @throws `TASK_LEASE_LOST`, `VALIDATION_FAILED`
   */
  complete(lease: TaskLease, result?: JsonValue): Promise<TaskUpdate>;
  /**
   * Records a failure for a lease: retried after the task's backoff while attempts remain, dead
   * after the last; failed at once when `final`. Emits the matching event.
   * @throws `TASK_LEASE_LOST`, `NOT_FOUND`, `VALIDATION_FAILED`
   */
  fail(lease: TaskLease, error: TaskError, options?: { readonly final?: boolean }): Promise<TaskUpdate>;
  /** Cancels an active task. Emits `task:updated`. @throws `NOT_FOUND`, `CONFLICT` */
  cancel(taskId: string): Promise<TaskUpdate>;
  /** `DELETE /api/tasks/:id`: removes a task in any state (cancelling it first). @throws `NOT_FOUND` */
  delete(taskId: string): Promise<void>;
  /** Queue-wide policy (global concurrency, aging, retention). */
  configure(policy: Partial<QueuePolicy>): Promise<QueuePolicy>;
  /** A tenant's weight (or tier) and caps. @throws `VALIDATION_FAILED` */
  setTenant(tenantId: string, settings: TenantSettings): Promise<TenantPolicy>;
  /** Counts, waits and tenant states. */
  stats(): Promise<QueueStats>;
  /** Reaps expired leases and purges old tasks now; emits events for the reaped. */
  maintain(): Promise<{ readonly reaped: number; readonly purged: number }>;
}

const tierSchema = z.number().positive().max(1_000_000);

/**
 * Creates the task service.
 *
 * @throws `VALIDATION_FAILED` for options without a queue.
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { FabricaEventBus } from 'digital-fabrica';
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * import { createTaskService, defineTaskType } from 'digital-fabrica/tasks';
 * const email = defineTaskType('email', z.object({ to: z.string().email() }));
 * const events = new FabricaEventBus();
 * const tasks = createTaskService({ queue: createMemoryQueue(), types: [email], events });
 * await tasks.setTenant('acme', { tier: 3, maxConcurrency: 10 });
 * const { task } = await tasks.create({ type: 'email', tenantId: 'acme', payload: { to: 'ada@example.com' } });
 * console.log((await tasks.get(task.taskId)).state); // 'queued'
 * ```
 */
export function createTaskService(options: TaskServiceOptions): TaskService {
  const queue = parseInput(
    z.custom<QueueAdapter>((v) => typeof (v as QueueAdapter | undefined)?.enqueue === 'function' && typeof (v as QueueAdapter).claim === 'function', 'queue must be a QueueAdapter'),
    options?.queue,
    'task service queue',
  );
  const registry = new TaskTypeRegistry(options.types ?? []);
  const events = options.events;
  const weightForTier = options.weightForTier ?? ((tier: number) => tier);
  const random = options.random ?? Math.random;
  const logger = options.logger ?? silentLogger;
  const capacity = options.multiResource === undefined ? undefined : parseResourceCapacity(options.multiResource?.capacity);

  const prepare = (request: EnqueueRequest): EnqueueRequest => {
    if (typeof request !== 'object' || request === null) return request;
    const payload = registry.parse(String(request.type), request.payload) as JsonValue;
    const defaults = registry.get(request.type)!.defaults;
    const prepared = { ...defaults, ...request, payload };
    if (capacity === undefined || prepared.cost !== undefined || typeof prepared.resources !== 'object' || prepared.resources === null) return prepared;
    // Resource values are validated by the queue; a non-number here yields NaN and no cost.
    const cost = dominantShareCost(prepared.resources, capacity);
    return cost === undefined ? prepared : { ...prepared, cost };
  };
  const announceCreated = (results: readonly EnqueueResult[]): void => {
    for (const r of results) if (r.created && events) events.emit('task:created', { ...eventOf(r.task) });
  };

  return {
    queue,
    registerType(type) {
      registry.register(type);
    },
    async create(request) {
      const result = await queue.enqueue(prepare(request));
      announceCreated([result]);
      return result;
    },
    async createMany(requests) {
      const results = await queue.enqueueMany(requests.map(prepare));
      announceCreated(results);
      return results;
    },
    async list(query) {
      // The queue validates `state` (and everything else) with zod.
      return queue.list(query as TaskListQuery);
    },
    async get(taskId) {
      const task = await queue.get(taskId);
      if (task === null) throw new NotFoundError(`task ${taskId} does not exist`, { details: { taskId } });
      return task;
    },
    async assign(taskId, workerId, opts = {}) {
      const result = await queue.assign(taskId, workerId, opts.leaseMs ?? 300_000);
      emitUpdate(events, result.update);
      return result;
    },
    async complete(lease, result) {
      const update = await queue.complete(lease, result);
      emitUpdate(events, update);
      return update;
    },
    async fail(lease, error, opts = {}) {
      const task = await queue.get(lease.taskId);
      if (task === null) throw new NotFoundError(`task ${lease.taskId} does not exist`, { details: { taskId: lease.taskId } });
      const update = await queue.fail(lease, { error, final: opts.final ?? false, retryInMs: retryDelay(task.backoff, task.attempt, random) });
      emitUpdate(events, update);
      return update;
    },
    async cancel(taskId) {
      const update = await queue.cancel(taskId);
      emitUpdate(events, update);
      return update;
    },
    async delete(taskId) {
      const task = await queue.get(taskId);
      if (task === null || !(await queue.delete(taskId))) throw new NotFoundError(`task ${taskId} does not exist`, { details: { taskId } });
      if (task.state === 'queued' || task.state === 'assigned' || task.state === 'running') {
        emitUpdate(events, { taskId, tenantId: task.tenantId, type: task.type, state: 'cancelled', attempt: task.attempt, at: Date.now(), reason: 'cancelled' });
      }
    },
    configure(policy) {
      return queue.configure(policy);
    },
    async setTenant(tenantId, settings) {
      const { tier, ...policy } = settings ?? {};
      if (tier !== undefined && policy.weight === undefined) {
        const weight = weightForTier(parseInput(tierSchema, tier, 'tenant tier'));
        if (!(weight > 0) || !Number.isFinite(weight)) {
          throw new ValidationError('invalid tenant tier: weightForTier returned no positive weight', [{ path: ['tier'], message: 'no positive weight', code: 'custom' }]);
        }
        return queue.setTenant(tenantId, { ...policy, weight });
      }
      return queue.setTenant(tenantId, policy);
    },
    stats() {
      return queue.stats();
    },
    async maintain() {
      const { updates, purged } = await queue.reapExpired();
      for (const update of updates) emitUpdate(events, update);
      if (updates.length > 0) logger.info('tasks: expired leases reaped', { queue: queue.name, reaped: updates.length });
      return { reaped: updates.length, purged };
    },
  };
}

function eventOf(update: TaskUpdate): { taskId: string; tenantId: string; type: string; state: string; attempt: number; at: number } {
  return { taskId: update.taskId, tenantId: update.tenantId, type: update.type, state: update.state, attempt: update.attempt, at: update.at };
}
