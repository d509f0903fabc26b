/**
 * QueueAdapter: a multi-tenant task queue with leases, whose claim applies the fair scheduling
 * policy atomically inside the backend (one synchronous step in memory, one plpgsql function in
 * PostgreSQL, Lua scripts in Redis).
 *
 * Semantics every backend must honour (checked by `describeQueueContract`):
 *
 * **States.** `queued → (assigned →) running → completed | failed | cancelled`, back to `queued`
 * on a retry, a hand-back or an expired lease, and `dead` once the last attempt is used up. A task
 * is never dropped: terminal tasks stay readable until their retention ends (`failed` and `dead`
 * by default until deleted).
 *
 * **Claim order** (see DESIGN "Fair scheduling"), restated by every backend:
 * 1. Expired leases are reaped first (`attempt < maxAttempts` → `queued` and claimable at once,
 *    else `dead`); due delayed tasks become ready; aged tasks are promoted one band per
 *    `agingMs` waited (from the time they became ready), so a low-band task waits a bounded time.
 * 2. Tasks an operator `assign`ed to this worker are handed out first, oldest (by enqueue) first.
 * 3. Then, up to the global `maxConcurrency` (leased tasks across every worker of the queue), the
 *    highest band with an eligible tenant is served; within the band, the tenant with the
 *    smallest virtual start tag `S = max(vtime, bandVirtualTime)` goes next (ties: tenant id in
 *    code point order), the band's virtual time becomes `S` and the tenant's vtime `S + cost /
 *    weight` (weighted start-time fair queueing: an idle tenant re-enters at the band's virtual
 *    time, so idleness earns no burst). Within the tenant: higher `priority` first, then FIFO.
 * 4. A tenant at its concurrency cap or out of rate tokens is skipped, never blocks others
 *    (work-conserving).
 *
 * **Leases and fencing.** A claim returns a lease `{ taskId, token, expiresAt }`; the token
 * changes on every delivery. `complete`, `fail`, `extend` and `release` succeed only while the
 * token matches AND the lease has not expired by the backend's clock — otherwise
 * `TASK_LEASE_LOST`. A task is redelivered only after its lease expired, so two valid leases on
 * one task never overlap in time: a worker whose lease lapsed cannot complete after someone else
 * got the task (the duplicate-execution-after-lock-expiry problem of lock-based queues).
 * Delivery is at-least-once; make handlers idempotent for the case a worker dies mid-task.
 *
 * **Time.** PostgreSQL and Redis use their server's clock; memory the injected clock. Every
 * timestamp is epoch milliseconds of that clock.
 */
import type { JsonValue } from './storage.js';

/**
 * Priority bands, highest first. A task in a higher band always goes before a lower band's, aging aside.
 *
 * @example
 * ```ts
 * import { TASK_BANDS } from 'digital-fabrica/adapters';
 * console.log(TASK_BANDS.indexOf('high') < TASK_BANDS.indexOf('low')); // true
 * ```
 */
export const TASK_BANDS = Object.freeze(['critical', 'high', 'normal', 'low'] as const);

/**
 * A priority band: `critical > high > normal > low`.
 *
 * @example
 * ```ts
 * import type { TaskBand } from 'digital-fabrica/adapters';
 * const band: TaskBand = 'high';
 * ```
 */
export type TaskBand = (typeof TASK_BANDS)[number];

/**
 * Every task state, in lifecycle order.
 *
 * @example
 * ```ts
 * import { TASK_STATES } from 'digital-fabrica/adapters';
 * console.log(TASK_STATES.join(' -> '));
 * ```
 */
export const TASK_STATES = Object.freeze(['queued', 'assigned', 'running', 'completed', 'failed', 'cancelled', 'dead'] as const);

/**
 * A task's state. `queued`, `assigned` and `running` are active; the others are terminal.
 * `failed` is a failure the handler declared final; `dead` means every attempt was used up.
 *
 * @example
 * ```ts
 * import type { TaskState } from 'digital-fabrica/adapters';
 * const done = (s: TaskState) => s === 'completed' || s === 'failed' || s === 'cancelled' || s === 'dead';
 * ```
 */
export type TaskState = (typeof TASK_STATES)[number];

/**
 * Exponential backoff of retries: `min(maxDelayMs, delayMs * 2^(attempt-1))`, reduced by up to `jitter` (0–1) at random.
 *
 * @example
 * ```ts
 * import type { TaskBackoff } from 'digital-fabrica/adapters';
 * const gentle: TaskBackoff = { delayMs: 5_000, maxDelayMs: 600_000, jitter: 0.3 };
 * ```
 */
export interface TaskBackoff {
  /** Delay before the first retry, ms. */
  readonly delayMs: number;
  /** Upper bound of any retry delay, ms. */
  readonly maxDelayMs: number;
  /** Fraction of the delay drawn at random (0: exact delays; 1: anywhere between 0 and the delay). */
  readonly jitter: number;
}

/**
 * Resources a task declares it needs while it runs (stored and returned; not scheduled on).
 *
 * @example
 * ```ts
 * import type { TaskResources } from 'digital-fabrica/adapters';
 * const gpuJob: TaskResources = { cpu: 4, memoryMb: 16_384 };
 * ```
 */
export interface TaskResources {
  /** CPU cores. */
  readonly cpu?: number;
  /** Memory in MiB. */
  readonly memoryMb?: number;
}

/**
 * What a caller asks to enqueue. Only `type`, `tenantId` and `payload` are required.
 *
 * @example
 * ```ts
 * import type { EnqueueRequest } from 'digital-fabrica/adapters';
 * const request: EnqueueRequest = {
 *   type: 'render',
 *   tenantId: 'acme',
 *   payload: { scene: 'intro' },
 *   band: 'high',
 *   priority: 10,
 *   idempotencyKey: 'render-intro-v3',
 * };
 * ```
 */
export interface EnqueueRequest {
  /** Task type, 1–128 characters of `[A-Za-z0-9_.:/-]`; selects the handler. */
  readonly type: string;
  /** The tenant the task belongs to: the unit of fairness. 1–128 characters of `[A-Za-z0-9_.:/@-]`. */
  readonly tenantId: string;
  /** Handler input: plain JSON, at most {@link MAX_TASK_PAYLOAD_LENGTH} characters serialised. */
  readonly payload: JsonValue;
  /** The user who created the task (same characters as a tenant id). */
  readonly ownerId?: string;
  /** Priority band (default `normal`). */
  readonly band?: TaskBand;
  /** Order within the tenant and band: higher runs first (default 0, range ±1000). */
  readonly priority?: number;
  /** Scheduling cost charged to the tenant's virtual time (default 1, > 0). */
  readonly cost?: number;
  /** Declared resource needs. */
  readonly resources?: TaskResources;
  /** Not claimable before this time (epoch ms, backend clock). Exclusive with `delayMs`. */
  readonly runAt?: number;
  /** Not claimable for this many ms from now. Exclusive with `runAt`. */
  readonly delayMs?: number;
  /** The worker aborts the handler after this many ms (default: no timeout). */
  readonly timeoutMs?: number;
  /** Deliveries allowed before the task is dead-lettered (default 3, 1–1000). */
  readonly maxAttempts?: number;
  /** Retry backoff; missing fields take the defaults (1 s, 5 min, jitter 0.5). */
  readonly backoff?: Partial<TaskBackoff>;
  /**
   * Deduplicates within the tenant: while a task with this key is retained, enqueueing the key
   * again returns that task (`created: false`) and changes nothing. 1–256 characters, no controls.
   */
  readonly idempotencyKey?: string;
}

/**
 * A failure recorded on a task. Written by the worker from the handler's error; never logged by the SDK.
 *
 * @example
 * ```ts
 * import type { TaskError } from 'digital-fabrica/adapters';
 * const error: TaskError = { code: 'RENDER_FAILED', message: 'scene file missing' };
 * ```
 */
export interface TaskError {
  /** A stable code, e.g. the FabricaError code or the error's name (1–64 characters). */
  readonly code: string;
  /** Human-readable, at most 1024 characters. */
  readonly message: string;
}

/**
 * One transition in a task's history.
 *
 * @example
 * ```ts
 * import type { TaskHistoryEntry } from 'digital-fabrica/adapters';
 * const expired = (h: readonly TaskHistoryEntry[]) => h.some((e) => e.reason === 'lease-expired');
 * ```
 */
export interface TaskHistoryEntry {
  /** State entered. */
  readonly state: TaskState;
  /** When (backend clock, epoch ms). */
  readonly at: number;
  /** Deliveries so far at that moment. */
  readonly attempt: number;
  /** The worker involved (claims, assignments). */
  readonly workerId?: string;
  /** Why, for transitions that are not self-explanatory: see {@link TaskUpdateReason}. */
  readonly reason?: TaskUpdateReason;
}

/**
 * Why a task changed state, where the state alone does not say.
 *
 * @example
 * ```ts
 * import type { TaskUpdateReason } from 'digital-fabrica/adapters';
 * const redelivered = (r?: TaskUpdateReason) => r === 'lease-expired' || r === 'retry';
 * ```
 */
export type TaskUpdateReason =
  | 'retry'
  | 'lease-expired'
  | 'released'
  | 'assigned'
  | 'cancelled'
  | 'attempts-exhausted'
  | 'final-failure';

/**
 * A task as stored, read with {@link QueueAdapter.get}.
 *
 * @example
 * ```ts
 * import type { Task } from 'digital-fabrica/adapters';
 * const waitedMs = (task: Task, now: number) => (task.state === 'queued' ? now - task.readyAt : 0);
 * ```
 */
export interface Task {
  /** UUIDv7. */
  readonly id: string;
  readonly type: string;
  readonly tenantId: string;
  readonly ownerId: string | null;
  readonly payload: JsonValue;
  /** Band requested at enqueue. */
  readonly band: TaskBand;
  /** Band after aging (equal to `band` until promoted). */
  readonly effectiveBand: TaskBand;
  readonly priority: number;
  readonly cost: number;
  readonly resources: TaskResources | null;
  readonly state: TaskState;
  /** Deliveries so far (claims and assignments; a hand-back gives one back). */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly timeoutMs: number | null;
  readonly backoff: TaskBackoff;
  readonly idempotencyKey: string | null;
  readonly createdAt: number;
  /** When the task became (or becomes) claimable: enqueue, `runAt`, or the last re-queue. */
  readonly readyAt: number;
  readonly updatedAt: number;
  /** The worker holding or assigned the task, while active. */
  readonly workerId: string | null;
  /** Lease expiry while assigned or running. */
  readonly leaseExpiresAt: number | null;
  /** Last progress a worker reported (with a heartbeat). */
  readonly progress: JsonValue | null;
  /** What the handler returned, once completed. */
  readonly result: JsonValue | null;
  /** The last failure, if any. */
  readonly error: TaskError | null;
  /** Every transition, oldest first. */
  readonly history: readonly TaskHistoryEntry[];
}

/**
 * Proof of holding a task. Pass it to complete, fail, extend or release.
 *
 * @example
 * ```ts
 * import type { TaskLease } from 'digital-fabrica/adapters';
 * const remainingMs = (lease: TaskLease, now: number) => lease.expiresAt - now;
 * ```
 */
export interface TaskLease {
  readonly taskId: string;
  /** Opaque fencing token; a new one on every delivery. */
  readonly token: string;
  readonly workerId: string;
  /** The delivery this lease belongs to (1 = first). */
  readonly attempt: number;
  /** Backend clock, epoch ms. */
  readonly expiresAt: number;
}

/**
 * What a worker receives from a claim: everything needed to run the task, and its lease.
 *
 * @example
 * ```ts
 * import type { ClaimedTask } from 'digital-fabrica/adapters';
 * const lastTry = (t: ClaimedTask) => t.attempt === t.maxAttempts;
 * ```
 */
export interface ClaimedTask {
  readonly lease: TaskLease;
  readonly id: string;
  readonly type: string;
  readonly tenantId: string;
  readonly ownerId: string | null;
  readonly payload: JsonValue;
  readonly band: TaskBand;
  readonly effectiveBand: TaskBand;
  readonly priority: number;
  readonly cost: number;
  readonly resources: TaskResources | null;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly timeoutMs: number | null;
  readonly backoff: TaskBackoff;
  readonly createdAt: number;
  readonly readyAt: number;
}

/**
 * A state change, as returned by the mutating operations and as events are built from.
 *
 * @example
 * ```ts
 * import type { TaskUpdate } from 'digital-fabrica/adapters';
 * const retried = (u: TaskUpdate) => u.state === 'queued' && u.reason === 'retry';
 * ```
 */
export interface TaskUpdate {
  readonly taskId: string;
  readonly tenantId: string;
  readonly type: string;
  readonly state: TaskState;
  readonly attempt: number;
  /** When the change happened (backend clock). */
  readonly at: number;
  /** For `queued`: when the task becomes claimable again. */
  readonly readyAt?: number;
  readonly reason?: TaskUpdateReason;
}

/**
 * Result of an enqueue: the task and whether this call created it (false: idempotency key hit).
 *
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * const queue = createMemoryQueue();
 * const { task, created } = await queue.enqueue({ type: 'email', tenantId: 'acme', payload: null, idempotencyKey: 'welcome-ada' });
 * console.log(task.taskId, created);
 * ```
 */
export interface EnqueueResult {
  readonly task: TaskUpdate;
  readonly created: boolean;
}

/**
 * Result of a claim.
 *
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * const queue = createMemoryQueue();
 * const { tasks, nextInMs } = await queue.claim('worker-1', 10, 30_000);
 * if (tasks.length === 0) await queue.waitForWork(nextInMs ?? 5_000);
 * ```
 */
export interface ClaimResult {
  /** Up to `limit` tasks, in the order the policy served them. */
  readonly tasks: readonly ClaimedTask[];
  /** Leases this call found expired and reaped (re-queued or dead-lettered), for events. */
  readonly reaped: readonly TaskUpdate[];
  /**
   * When fewer than `limit` tasks came back: ms until something claimable may appear without an
   * enqueue (a delayed task comes due, a rate-capped tenant refills, a lease expires); `null`
   * when nothing is scheduled. Workers sleep until then or until {@link QueueAdapter.waitForWork}.
   */
  readonly nextInMs: number | null;
}

/**
 * How a failure is recorded.
 *
 * @example
 * ```ts
 * import type { FailOptions } from 'digital-fabrica/adapters';
 * const retryLater: FailOptions = { error: { code: 'UPSTREAM_DOWN', message: 'HTTP 503' }, retryInMs: 10_000 };
 * const giveUp: FailOptions = { error: { code: 'BAD_INPUT', message: 'no such scene' }, final: true };
 * ```
 */
export interface FailOptions {
  /** The failure to store on the task. */
  readonly error: TaskError;
  /** Delay before the retry, ms (default 0); workers compute it from the task's backoff. */
  readonly retryInMs?: number;
  /** True: no retry, the task ends `failed`. */
  readonly final?: boolean;
}

/**
 * Queue-wide policy, stored in the backend so every worker sharing the queue obeys it.
 *
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * const policy = await createMemoryQueue().configure({ maxConcurrency: 100, agingMs: 30_000, retentionMs: 0 });
 * console.log(policy.failedRetentionMs); // null: dead letters are kept until deleted
 * ```
 */
export interface QueuePolicy {
  /** Max leased (assigned + running) tasks across every worker of the queue; `null`: unlimited. */
  readonly maxConcurrency: number | null;
  /** A ready task is promoted one band per `agingMs` waited; `null`: no aging. */
  readonly agingMs: number | null;
  /**
   * How long completed and cancelled tasks stay readable, ms (0: removed at once). Past it they
   * are removed by later completions and failures (up to two for each task settled, so removal
   * keeps pace with a busy queue), by claims on the memory backend, and by `reapExpired()`.
   */
  readonly retentionMs: number;
  /** How long failed and dead tasks stay readable, ms; `null`: until deleted. Removed as above. */
  readonly failedRetentionMs: number | null;
}

/**
 * Per-tenant scheduling policy, stored in the backend.
 *
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * const policy = await createMemoryQueue().setTenant('acme', { weight: 3, maxConcurrency: 10, ratePerSecond: 5 });
 * console.log(policy.burst); // 5: the burst follows the rate unless given
 * ```
 */
export interface TenantPolicy {
  /** Share of service relative to other tenants (> 0, default 1): a weight-2 tenant gets twice a weight-1's. */
  readonly weight: number;
  /** Max leased tasks of this tenant across every worker; `null`: unlimited. */
  readonly maxConcurrency: number | null;
  /** Max claims per second (token bucket); `null`: unlimited. */
  readonly ratePerSecond: number | null;
  /** Bucket size of the rate cap (default: `max(1, ceil(ratePerSecond))`). */
  readonly burst: number;
}

/**
 * Task counts by state. `delayed` counts the queued tasks that are not claimable yet.
 *
 * @example
 * ```ts
 * import type { TaskCounts } from 'digital-fabrica/adapters';
 * const waiting = (c: TaskCounts) => c.queued - c.delayed;
 * ```
 */
export interface TaskCounts {
  readonly queued: number;
  readonly delayed: number;
  readonly assigned: number;
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly dead: number;
}

/**
 * Counts of one (tenant, type) pair; terminal counts cover the retained tasks.
 *
 * @example
 * ```ts
 * import type { TaskGroupCounts } from 'digital-fabrica/adapters';
 * const label = (g: TaskGroupCounts) => `${g.tenantId}/${g.type}: ${g.running} running`;
 * ```
 */
export interface TaskGroupCounts extends TaskCounts {
  readonly tenantId: string;
  readonly type: string;
}

/**
 * Scheduling state of one tenant.
 *
 * @example
 * ```ts
 * import type { TenantQueueState } from 'digital-fabrica/adapters';
 * const starving = (t: TenantQueueState) => (t.unservedMs ?? 0) > 60_000;
 * ```
 */
export interface TenantQueueState {
  readonly tenantId: string;
  /** Ready (claimable) tasks of the tenant, all bands. */
  readonly ready: number;
  /** Leased tasks of the tenant. */
  readonly leased: number;
  /**
   * How long the tenant has had ready work without being served, ms: `now - max(last claim,
   * became ready)` over its bands with ready tasks; `null` without ready tasks. The starvation signal.
   */
  readonly unservedMs: number | null;
}

/**
 * A snapshot of the queue.
 *
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * const stats = await createMemoryQueue().stats();
 * console.log(stats.counts.queued, stats.oldestReadyAt, stats.tenants.length);
 * ```
 */
export interface QueueStats {
  /** Backend time of the snapshot. */
  readonly at: number;
  readonly counts: TaskCounts;
  /** Counts per (tenant, type). */
  readonly groups: readonly TaskGroupCounts[];
  /** Tenants with ready or leased tasks. */
  readonly tenants: readonly TenantQueueState[];
  /** `readyAt` of the longest-waiting ready task, or `null`. */
  readonly oldestReadyAt: number | null;
  readonly policy: QueuePolicy;
}

/**
 * Filters and page of {@link QueueAdapter.list}. Only `tenantId` is required.
 *
 * @example
 * ```ts
 * import type { TaskListQuery } from 'digital-fabrica/adapters';
 * const failedRenders: TaskListQuery = { tenantId: 'acme', state: 'failed', type: 'render', limit: 50 };
 * ```
 */
export interface TaskListQuery {
  /** The tenant whose tasks are listed. */
  readonly tenantId: string;
  /** Only tasks in this state. */
  readonly state?: TaskState;
  /** Only tasks of this type. */
  readonly type?: string;
  /** Only tasks created by this user. */
  readonly ownerId?: string;
  /** Resume strictly after the last task of the page that returned this opaque cursor. */
  readonly cursor?: string;
  /** Most tasks in the page, 1–{@link MAX_TASK_LIST_LIMIT} (default 100). */
  readonly limit?: number;
}

/**
 * One page of {@link QueueAdapter.list}: tasks in id order (UUIDv7, so creation order).
 *
 * @example
 * ```ts
 * import type { TaskListPage } from 'digital-fabrica/adapters';
 * const more = (page: TaskListPage) => page.cursor !== null;
 * ```
 */
export interface TaskListPage {
  /** The matching tasks, by id ascending. */
  readonly items: readonly Task[];
  /** Pass it back to read the next page; `null` once the listing is exhausted. */
  readonly cursor: string | null;
}

/**
 * A fair, multi-tenant task queue with leases. See the module notes for the exact semantics.
 *
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * const queue = createMemoryQueue();
 * await queue.enqueue({ type: 'render', tenantId: 'acme', payload: { scene: 'intro' } });
 * const { tasks } = await queue.claim('worker-1', 10, 30_000);
 * for (const task of tasks) await queue.complete(task.lease, { ok: true });
 * ```
 */
export interface QueueAdapter {
  /** The queue's name: adapters with the same name on one backend share tasks. */
  readonly name: string;
  /** Prepares the backend (schema check for PostgreSQL). Idempotent; other methods call it. */
  init(): Promise<void>;
  /**
   * Adds a task, or returns the retained one with the same idempotency key (`created: false`).
   * @throws `VALIDATION_FAILED`, `PAYLOAD_TOO_LARGE`, `ADAPTER_UNAVAILABLE`, `ADAPTER_CLOSED`
   */
  enqueue(request: EnqueueRequest): Promise<EnqueueResult>;
  /**
   * Adds up to {@link MAX_ENQUEUE_BATCH} tasks atomically, results aligned with `requests`.
   * A key repeated within the batch yields one task.
   * @throws `VALIDATION_FAILED` (nothing enqueued), `PAYLOAD_TOO_LARGE`, `ADAPTER_UNAVAILABLE`
   */
  enqueueMany(requests: readonly EnqueueRequest[]): Promise<EnqueueResult[]>;
  /**
   * Leases up to `limit` (1–1000) tasks to `workerId` for `leaseMs`, in the policy's order (see
   * the module notes). Atomic: concurrent claimers never receive the same task.
   * @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`
   */
  claim(workerId: string, limit: number, leaseMs: number): Promise<ClaimResult>;
  /**
   * Heartbeat: moves the lease's expiry to `now + leaseMs`, storing `progress` when given.
   * @throws `TASK_LEASE_LOST` (expired, redelivered, cancelled), `VALIDATION_FAILED`
   */
  extend(lease: TaskLease, leaseMs: number, progress?: JsonValue): Promise<TaskLease>;
  /**
   * Marks the task completed with `result`.
   * @throws `TASK_LEASE_LOST`, `VALIDATION_FAILED`, `PAYLOAD_TOO_LARGE`
   */
  complete(lease: TaskLease, result?: JsonValue): Promise<TaskUpdate>;
  /**
   * Records a failure: `queued` again after `retryInMs` while attempts remain, else `dead`;
   * `failed` when `final`.
   * @throws `TASK_LEASE_LOST`, `VALIDATION_FAILED`
   */
  fail(lease: TaskLease, options: FailOptions): Promise<TaskUpdate>;
  /**
   * Hands the task back unfinished (graceful shutdown): `queued` after `delayMs` (default 0),
   * and the delivery does not count as an attempt.
   * @throws `TASK_LEASE_LOST`, `VALIDATION_FAILED`
   */
  release(lease: TaskLease, options?: { readonly delayMs?: number }): Promise<TaskUpdate>;
  /**
   * Operator override: leases a queued task to `workerId` (state `assigned`) outside the fair
   * order and caps; that worker's next claim starts it with the same lease token. Counts as a
   * delivery. An unclaimed assignment expires like any lease.
   * @throws `NOT_FOUND`, `CONFLICT` (not queued), `VALIDATION_FAILED`
   */
  assign(taskId: string, workerId: string, leaseMs: number): Promise<{ readonly update: TaskUpdate; readonly lease: TaskLease }>;
  /**
   * Cancels an active task (its lease, if any, is lost). Cancelling a cancelled task returns it again.
   * @throws `NOT_FOUND`, `CONFLICT` (already completed, failed or dead)
   */
  cancel(taskId: string): Promise<TaskUpdate>;
  /** Removes a task in any state (cancelling it first when active); true if it existed. @throws `VALIDATION_FAILED` */
  delete(taskId: string): Promise<boolean>;
  /** Reads one task with its history, or `null`. @throws `VALIDATION_FAILED` */
  get(taskId: string): Promise<Task | null>;
  /**
   * Lists a tenant's retained tasks by id ascending (UUIDv7: creation order), optionally filtered
   * by state, type and owner. Page with the returned opaque `cursor`: each task present throughout
   * the listing appears exactly once; deleted and purged tasks are never listed.
   * @throws `VALIDATION_FAILED` (including a cursor this method did not issue)
   * @example
   * ```ts
   * import type { TaskListPage } from 'digital-fabrica/adapters';
   * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
   * const queue = createMemoryQueue();
   * await queue.enqueue({ type: 'render', tenantId: 'acme', payload: null });
   * let cursor: string | null = null;
   * do {
   *   const page: TaskListPage = await queue.list({ tenantId: 'acme', state: 'queued', limit: 100, ...(cursor === null ? {} : { cursor }) });
   *   for (const task of page.items) console.log(task.id, task.type);
   *   cursor = page.cursor;
   * } while (cursor !== null);
   * ```
   */
  list(query: TaskListQuery): Promise<TaskListPage>;
  /**
   * Maintenance: reaps up to `limit` (default 1000) expired leases (re-queued or dead) and purges
   * terminal tasks past their retention. Claims also reap; call this when no worker claims.
   */
  reapExpired(limit?: number): Promise<{ readonly updates: readonly TaskUpdate[]; readonly purged: number }>;
  /** A snapshot of counts, tenants and waits. */
  stats(): Promise<QueueStats>;
  /** Changes the queue-wide policy (missing fields unchanged); returns the result. @throws `VALIDATION_FAILED` */
  configure(policy: Partial<QueuePolicy>): Promise<QueuePolicy>;
  /** Changes one tenant's policy (missing fields unchanged); returns the result. @throws `VALIDATION_FAILED` */
  setTenant(tenantId: string, policy: Partial<TenantPolicy>): Promise<TenantPolicy>;
  /** One tenant's policy (defaults when never set). @throws `VALIDATION_FAILED` */
  getTenant(tenantId: string): Promise<TenantPolicy>;
  /**
   * Resolves when work may have appeared since this handle's last claim began (an enqueue, or
   * capacity freed under a cap), after `timeoutMs`, or when `signal` aborts. Never rejects on abort.
   * The timeout and the abort hold even while the backend cannot be reached; rejects when setting
   * up its wake-up subscription fails before the wait ends.
   */
  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Stops background work and wake-up listeners; never closes a host's pool or client. Idempotent. */
  close(): Promise<void>;
}

/**
 * Largest serialised payload, result or progress value, in UTF-16 code units of its JSON.
 *
 * @example
 * ```ts
 * import { MAX_TASK_PAYLOAD_LENGTH } from 'digital-fabrica/adapters';
 * console.log(MAX_TASK_PAYLOAD_LENGTH);
 * ```
 */
export const MAX_TASK_PAYLOAD_LENGTH = 1024 * 1024;
/**
 * Most tasks one {@link QueueAdapter.enqueueMany} call accepts.
 *
 * @example
 * ```ts
 * import { MAX_ENQUEUE_BATCH } from 'digital-fabrica/adapters';
 * console.log(MAX_ENQUEUE_BATCH);
 * ```
 */
export const MAX_ENQUEUE_BATCH = 10_000;
/**
 * Most tasks one claim returns.
 *
 * @example
 * ```ts
 * import { MAX_CLAIM_LIMIT } from 'digital-fabrica/adapters';
 * console.log(MAX_CLAIM_LIMIT);
 * ```
 */
export const MAX_CLAIM_LIMIT = 1000;

/**
 * Most tasks one {@link QueueAdapter.list} page returns.
 *
 * @example
 * ```ts
 * import { MAX_TASK_LIST_LIMIT } from 'digital-fabrica/adapters';
 * console.log(MAX_TASK_LIST_LIMIT);
 * ```
 */
export const MAX_TASK_LIST_LIMIT = 1000;
