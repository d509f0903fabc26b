/**
 * Task distribution: a fair, priority-based scheduler over a {@link QueueAdapter} (memory,
 * PostgreSQL or Redis), the task service (the spec's create / assign / complete / delete), workers
 * with leases and heartbeats, and metrics with alerts.
 *
 * ```ts
 * import { createTaskService, createWorker, createTaskMetrics, defineTaskType } from 'digital-fabrica/tasks';
 * ```
 *
 * - Scheduling (DESIGN "Fair scheduling"): priority bands with aging, weighted start-time fair
 *   queueing across tenants (weight from the tenant's tier), priority then FIFO within a tenant,
 *   global and per-tenant concurrency caps and per-tenant rate caps — applied inside the
 *   backend's atomic claim, so they hold across every worker sharing it. {@link FairQueue} is
 *   the policy as a pure data structure; the memory backend runs it as is. Optional
 *   multi-resource mode (`multiResource` of the task service): Dominant Resource Fairness over
 *   declared cpu/memory, by charging each task its dominant share ({@link dominantShareCost}).
 * - Delivery is at-least-once with fencing: a lease expires unless heart-beaten; a stale lease
 *   can never complete (`TASK_LEASE_LOST`); after the last attempt a task is dead-lettered.
 * - Events: `task:created`, `task:updated`, `task:completed`, `task:failed`, `task:dead`;
 *   `system:alerts` and `system:metrics` from the metrics.
 *
 * @module
 */
export type {
  QueueAdapter,
  EnqueueRequest,
  EnqueueResult,
  Task,
  TaskBand,
  TaskState,
  TaskLease,
  ClaimedTask,
  TaskUpdate,
  TaskError,
  QueuePolicy,
  TenantPolicy,
  QueueStats,
} from '../adapters/queue.js';
export { defineTaskType, TaskTypeRegistry, type TaskType, type TaskDefaults } from './types.js';
export { createTaskService, type TaskService, type TaskServiceOptions, type TenantSettings } from './service.js';
export {
  createWorker,
  handle,
  type Worker,
  type WorkerOptions,
  type WorkerCounts,
  type TaskHandler,
  type TaskContext,
  type AbortReason,
} from './worker.js';
export { createTaskMetrics, type TaskMetrics, type TaskMetricsOptions, type TaskMetricsSnapshot } from './metrics/metrics.js';
export { evaluateTaskAlerts, type TaskAlertThresholds, type AlertInputs } from './metrics/alerts.js';
export { percentile, percentilesOf, SampleWindow, type Percentiles, type TaskSample, type TaskOutcome } from './metrics/samples.js';
export { eventNameOf, taskEventOf, emitUpdate } from './events.js';
export { FairQueue, PLACE, BAND_COUNT, MAINTENANCE_BATCH, taskOrderKey, type FairTask, type FairQueueOptions, type FairQueueSnapshot } from './policy/fair-queue.js';
export { IndexedHeap, KeyedHeap, OrderedHeap, type HeapPositions, type HeapSlot, type OrderedHeapItem } from './policy/heap.js';
export { retryDelay } from './policy/backoff.js';
export { refillTokens, msUntilToken } from './policy/rate.js';
export { jainIndex, shareErrors } from './policy/fairness.js';
export { dominantShare, dominantShareCost, parseResourceCapacity, FULL_SHARE_COST, type ResourceCapacity } from './policy/drf.js';
